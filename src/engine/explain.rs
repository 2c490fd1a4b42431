//! Explaining an unplaced task: how many agents each reason rejected.
//!
//! Counts live in arrays sized by the class (one slot per asked resource, specific port and hard
//! constraint); nothing is formatted or allocated per agent.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::class::TaskClass;
use super::evaluate::{first_failing, fits, Miss};
use super::state::PassState;
use crate::plan::{Plan, Reason, ReasonCount, Unplaced};
use crate::plugins::{AgentView, PassView, TaskView};
use crate::resources::Quantity;
use crate::spec::TaskSpec;
use crate::tables::{Dim, GroupIx, RoleIx};

/// What an explanation depends on: the asks, and the group only when something group-dependent
/// (a hard constraint, an agent held exclusively) can reject. Classes that differ only by group
/// share one explanation.
#[derive(PartialEq, Eq, Hash)]
struct ExplainKey<'a> {
    ask: &'a [(Dim, i64)],
    ports: &'a crate::model::PortRequest,
    roles: &'a [RoleIx],
    hard: Vec<usize>,
    group: Option<GroupIx>,
    executor: Option<&'a str>,
}

/// Explains every unplaced task (positions in `pending`) against the state the pass ended in,
/// once per kind of task: later placements only take resources and add tasks, so a task that
/// found no agent at its turn finds none now, for the reasons counted. (Constraints that loosen
/// as tasks are placed — [`HardConstraint::loosens_as_tasks_are_placed`], as hard `GROUP_BY` and
/// `BALANCE` do — are the exception: agents they would now admit are counted under
/// [`Reason::BlockedAtItsTurn`]. For a class without one, that count is zero unless the pass
/// overlooked an agent; the test kit's checker holds the engine to it.)
///
/// [`HardConstraint::loosens_as_tasks_are_placed`]: crate::plugins::HardConstraint::loosens_as_tasks_are_placed
pub(crate) fn explain_all(
    state: &PassState,
    classes: &[TaskClass],
    class_of: &[u32],
    pending: &[TaskSpec],
    unplaced: &[usize],
    plan: &mut Plan,
) {
    let mut by_key: FxHashMap<ExplainKey<'_>, Arc<[ReasonCount]>> = FxHashMap::default();
    // The reasons of each class already explained (most unplaced tasks repeat their class).
    let mut by_class: FxHashMap<u32, Arc<[ReasonCount]>> = FxHashMap::default();
    let agents_considered = state.n_agents() as u32;
    if unplaced.is_empty() {
        return;
    }
    let any_claimed = state.any_claimed();
    plan.unplaced.reserve(unplaced.len());
    for &t in unplaced {
        let task = &pending[t];
        if let Some(reasons) = by_class.get(&class_of[t]) {
            let reasons = reasons.clone();
            plan.unplaced.push(Unplaced { task_id: task.id.clone(), reasons, agents_considered, parked: false });
            continue;
        }
        let class = &classes[class_of[t] as usize];
        let key = ExplainKey {
            ask: &class.ask,
            ports: &class.ports,
            roles: &class.roles,
            hard: class.hard.iter().map(|c| Arc::as_ptr(c) as *const () as usize).collect(),
            group: (any_claimed || !class.hard.is_empty()).then_some(class.group),
            executor: class.executor.as_ref().map(|e| &*e.id),
        };
        let reasons = by_key.entry(key).or_insert_with(|| explain(state, class, &class.view(task)).into()).clone();
        by_class.insert(class_of[t], reasons.clone());
        plan.unplaced.push(Unplaced { task_id: task.id.clone(), reasons, agents_considered, parked: false });
    }
}

/// Every agent's first failing stage for the task, counted per reason. Agents without offers (a
/// [`Scheduler`](super::Scheduler) keeps them compiled between passes) are not considered.
pub(crate) fn explain(state: &PassState, class: &TaskClass, task: &TaskView<'_>) -> Vec<ReasonCount> {
    let pass = PassView::new(state);
    // (agents, best available) per asked resource; per-port and per-constraint counts.
    // Executor asks for resources the task does not ask for come after the task's.
    let executor_asks = class.executor.as_ref().map_or(0, |e| e.ask.len());
    let mut short = vec![(0u32, 0i64, 0i64); class.ask.len() + executor_asks];
    let mut ports = (0u32, 0u32);
    let mut taken = vec![0u32; class.ports.specific.len()];
    let mut claimed = 0u32;
    let mut constraint = vec![0u32; class.hard.len()];
    let mut blocked = 0u32;
    for agent in state.agent_ixs() {
        if state.identity(agent).offer_ids.is_empty() {
            continue;
        }
        match fits(state, class, agent) {
            Err(Miss::Resource { index, asked, available }) => {
                short[index].0 += 1;
                short[index].1 = short[index].1.max(available);
                short[index].2 = short[index].2.max(asked);
            }
            Err(Miss::Ports { available }) => {
                ports.0 += 1;
                ports.1 = ports.1.max(available);
            }
            Err(Miss::PortTaken { index }) => taken[index] += 1,
            Err(Miss::Claimed) => claimed += 1,
            Ok(()) => {
                let view = AgentView::new(state, agent);
                match first_failing(class, &class.stages.all_hard, task, &view, &pass) {
                    Some(i) => constraint[i] += 1,
                    None => blocked += 1,
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, &(agents, best, asked)) in short.iter().enumerate() {
        if agents > 0 {
            let resource = match (class.ask_names.get(i), &class.executor) {
                (Some(name), _) => name.clone(),
                (None, Some(executor)) => executor.ask_names[i - class.ask.len()].clone(),
                (None, None) => continue,
            };
            let reason = Reason::Shortfall {
                resource,
                asked: Quantity::from_milli(asked.max(0) as u64),
                best_available: Quantity::from_milli(best.max(0) as u64),
            };
            out.push(ReasonCount { reason, agents });
        }
    }
    if ports.0 > 0 {
        let reason = Reason::Ports { asked: class.ports.total(), best_available: ports.1 };
        out.push(ReasonCount { reason, agents: ports.0 });
    }
    for (i, &agents) in taken.iter().enumerate() {
        if agents > 0 {
            out.push(ReasonCount { reason: Reason::PortTaken { port: class.ports.specific[i] }, agents });
        }
    }
    if claimed > 0 {
        out.push(ReasonCount { reason: Reason::ClaimedByOtherGroup, agents: claimed });
    }
    for (index, &agents) in constraint.iter().enumerate() {
        if agents > 0 {
            let name = class.hard[index].name().into();
            out.push(ReasonCount { reason: Reason::Constraint { index, name }, agents });
        }
    }
    if blocked > 0 {
        out.push(ReasonCount { reason: Reason::BlockedAtItsTurn, agents: blocked });
    }
    out
}
