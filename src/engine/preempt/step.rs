//! The preemption step of a pass: victims for the tasks placement left unplaced.

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::budget::Ledger;
use super::index::RunningIndex;
use super::search::{cheapest, standing, Agent, Candidate, Cost, Outcome};
use super::PreemptionInput;
use crate::engine::state::PassState;
use crate::model::{RunningTask, TaskId};
use crate::plan::{Plan, Preemption, PreemptionRefusal, Reason, ReasonCount};
use crate::plugins::{AgentView, PassView, TaskView};
use crate::queue::QueuePlace;
use crate::spec::TaskSpec;
use crate::tables::{AgentIx, Dim, GroupIx, RoleIx};

/// What the step reads besides the state, the running tasks and the plan.
#[derive(Clone, Copy)]
pub(crate) struct Step<'a> {
    pub pending: &'a [TaskSpec],
    /// Each pending task's queue place, index for index, in queued passes.
    pub places: Option<&'a [QueuePlace]>,
    pub input: PreemptionInput<'a>,
    pub now: Duration,
}

/// Amounts per resource name, in thousandths.
type Amounts = SmallVec<[(Arc<str>, i64); 4]>;

/// One task's asks: by name (to read victims' resources) and by dimension (for plugin views).
struct Asks {
    names: Amounts,
    /// Per entry of `names`: its dimension in the state, if offered anywhere.
    dim_of: SmallVec<[Option<Dim>; 4]>,
    dims: SmallVec<[(Dim, i64); 4]>,
    /// The roles the task accepts, as the state numbers them (`None`: every role).
    roles: Option<SmallVec<[RoleIx; 2]>>,
}

/// Scratch buffers reused from agent to agent.
#[derive(Default)]
struct Scratch<'a> {
    order: Vec<u32>,
    candidates: Vec<Candidate<'a>>,
    freed: Vec<i64>,
    need: Vec<i64>,
}

/// Refusals counted over the agents of one task.
#[derive(Default)]
struct Refusals {
    no_lower: u32,
    not_allowed: u32,
    budget: Vec<u32>,
}

/// The best preemption found so far for a task.
struct Best<'a> {
    cost: Cost<'a>,
    agent: usize,
    victims: SmallVec<[u32; 8]>,
}

/// Finds victims for every unplaced task the queue did not hold back, in queue or priority
/// order, moving the tasks it preempts for from `plan.unplaced` to `plan.preemptions`. The
/// state's counts are as they were when it returns.
pub(crate) fn run<'a>(
    state: &mut PassState,
    running: impl Iterator<Item = &'a RunningTask>,
    step: Step<'_>,
    plan: &mut Plan,
) {
    if plan.unplaced.is_empty() {
        return;
    }
    let Step { pending, places, input, now } = step;
    let position: FxHashMap<&TaskId, usize> = pending.iter().enumerate().map(|(i, t)| (&t.id, i)).collect();
    let held_back = |u: &crate::plan::Unplaced| {
        !u.reasons.is_empty() && u.reasons.iter().all(|r| matches!(r.reason, Reason::Queue(_)))
    };
    let mut order: Vec<(usize, usize)> = plan
        .unplaced
        .iter()
        .enumerate()
        .filter(|(_, u)| !held_back(u))
        .filter_map(|(i, u)| position.get(&u.task_id).map(|&t| (t, i)))
        .collect();
    if order.is_empty() {
        return;
    }
    let tier_of = |t: usize| places.and_then(|p| p.get(t)).map_or(0, |p| p.tier);
    order.sort_by_key(|&(t, _)| (tier_of(t), std::cmp::Reverse(pending[t].priority), t));
    let mut ledger = Ledger::new(input.budgets);
    let mut index = RunningIndex::build(running, state, &input, &mut ledger);
    let mut deltas: FxHashMap<usize, Amounts> = FxHashMap::default();
    let mut placed_here: Vec<RunningTask> = Vec::new();
    let mut scratch = Scratch::default();
    let mut preempted: Vec<usize> = Vec::new();
    for (t, u) in order {
        let task = &pending[t];
        let (tier, priority) = (tier_of(t), task.priority);
        let asks = asks_of(state, task);
        let group = state.tables_mut().group(&task.group);
        let mut refusals = Refusals { budget: vec![0; ledger.len()], ..Refusals::default() };
        let mut best: Option<Best<'_>> = None;
        for (a, agent) in index.agents.iter().enumerate() {
            let tasks = agent.start as usize..agent.end as usize;
            scratch.order.clear();
            let yields = |p: &usize| !index.gone[*p] && index.tasks[*p].yields_to(tier, priority);
            scratch.order.extend(tasks.clone().filter(yields).map(|p| p as u32));
            if scratch.order.is_empty() {
                refusals.no_lower += 1;
                continue;
            }
            if !allowed_before(state, &index, agent.ix, tasks, task, group) {
                refusals.not_allowed += 1;
                continue;
            }
            fill_need(&mut scratch.need, state, agent.ix, &asks, deltas.get(&a));
            if scratch.need.iter().all(|&n| n <= 0) {
                // Room enough without victims: something else kept the task off.
                refusals.not_allowed += 1;
                continue;
            }
            let most = best.as_ref().map_or(usize::MAX, |b| b.cost.count);
            // One victim is the cheapest there can be: looked for without sorting or costing
            // every candidate, and only when none will do is every set of two and more tried.
            let outcome = match single_victim(&scratch, &index, &asks, &ledger, now) {
                Some((cost, p)) => Outcome::Found(cost, smallvec::smallvec![p]),
                None if most < 2 => Outcome::TooMany,
                None => {
                    fill_candidates(&mut scratch, &index, &asks, now);
                    let question =
                        Agent { need: &scratch.need, candidates: &scratch.candidates, freed: &scratch.freed };
                    match cheapest(&question, &ledger, most) {
                        Outcome::Found(cost, set) => {
                            Outcome::Found(cost, set.iter().map(|&c| scratch.order[c as usize]).collect())
                        }
                        other => other,
                    }
                }
            };
            match outcome {
                Outcome::Found(cost, victims) => {
                    let beats = best.as_ref().is_none_or(|b| (&cost, agent.id) < (&b.cost, index.agents[b.agent].id));
                    if !beats {
                        continue;
                    }
                    if agent.ix.is_none_or(|ix| constraints_pass(state, &index, ix, &victims, task, &asks, group)) {
                        best = Some(Best { cost, agent: a, victims });
                    } else {
                        refusals.not_allowed += 1;
                    }
                }
                Outcome::NotEnough => refusals.no_lower += 1,
                Outcome::Budget(slot) => refusals.budget[slot as usize] += 1,
                Outcome::TooMany => {}
            }
        }
        match best {
            Some(best) => {
                let entry = &index.agents[best.agent];
                let mut victims: Vec<TaskId> =
                    best.victims.iter().map(|&p| index.tasks[p as usize].id.clone()).collect();
                victims.sort();
                let delta = deltas.entry(best.agent).or_default();
                for &p in &best.victims {
                    index.gone[p as usize] = true;
                    if let Some(slot) = index.slots[p as usize] {
                        ledger.charge(slot);
                    }
                    for (name, q) in &index.tasks[p as usize].resources {
                        add_delta(delta, name, q.milli());
                    }
                }
                for (name, amount) in &asks.names {
                    add_delta(delta, name, -amount);
                }
                let host = index.tasks[entry.start as usize].host.clone();
                let mut counted = RunningTask::new(task.id.clone(), task.group.clone(), entry.id.clone());
                counted.host = host;
                state.tables_mut().add_running(std::slice::from_ref(&counted));
                placed_here.push(counted);
                let why = plan.unplaced[u].reasons.clone();
                plan.preemptions.push(Preemption {
                    task_id: task.id.clone(),
                    group: task.group.clone(),
                    agent_id: entry.id.clone(),
                    victims,
                    why,
                });
                preempted.push(u);
            }
            None => explain(&mut plan.unplaced[u], &refusals, &ledger),
        }
    }
    for counted in &placed_here {
        state.tables_mut().remove_running(counted);
    }
    if !preempted.is_empty() {
        preempted.sort_unstable();
        let mut i = 0;
        plan.unplaced.retain(|_| {
            let keep = preempted.binary_search(&i).is_err();
            i += 1;
            keep
        });
        plan.stats.tasks_unplaced = plan.stats.tasks_unplaced.saturating_sub(preempted.len() as u32);
    }
}

/// The task's asks (its executor's merged in), by name and by the state's dimensions.
fn asks_of(state: &PassState, task: &TaskSpec) -> Asks {
    let mut names: Amounts = task.resources.iter().map(|(n, q)| (n.clone(), q.milli())).collect();
    if let Some(executor) = &task.executor {
        for (name, q) in &executor.resources {
            add_delta(&mut names, name, q.milli());
        }
    }
    let dim_of = names.iter().map(|(n, _)| state.dims().get_shared(n)).collect();
    let dims = task
        .resources
        .iter()
        .filter_map(|(n, q)| state.dims().get_shared(n).map(|d| (d, q.milli())))
        .filter(|&(_, m)| m > 0)
        .collect();
    let roles =
        task.roles.as_ref().map(|roles| roles.iter().filter_map(|r| state.names().roles.get(r.as_str())).collect());
    Asks { names, dim_of, dims, roles }
}

/// Adds `amount` to `name` in `delta`.
fn add_delta(delta: &mut Amounts, name: &Arc<str>, amount: i64) {
    match delta.iter_mut().find(|(n, _)| n == name) {
        Some((_, q)) => *q += amount,
        None => delta.push((name.clone(), amount)),
    }
}

/// The checks that do not depend on the victims: an agent known only through its tasks takes
/// only tasks without hard constraints or ports, and no other group's exclusive claim; an
/// agent of the tables must not be held by another group and must have the task's ports free.
fn allowed_before(
    state: &PassState,
    index: &RunningIndex<'_>,
    ix: Option<AgentIx>,
    tasks: std::ops::Range<usize>,
    task: &TaskSpec,
    group: GroupIx,
) -> bool {
    let Some(ix) = ix else {
        let claimed = index.tasks[tasks].iter().any(|r| r.claims_agent && r.group != task.group);
        return task.hard.is_empty() && task.ports.total() == 0 && !claimed;
    };
    let slot = state.slot(ix);
    if slot.owner().is_some_and(|owner| owner != group) {
        return false;
    }
    if task.ports.total() == 0 {
        return true;
    }
    slot.free_ports() >= task.ports.total()
        && task.ports.specific.iter().all(|&p| slot.ports().iter().any(|(_, set)| set.contains(p)))
}

/// What the task needs beyond the agent's room, per asked resource: its ask less the free
/// amount in the roles it accepts, less what earlier preemptions of the pass left there.
fn fill_need(need: &mut Vec<i64>, state: &PassState, ix: Option<AgentIx>, asks: &Asks, delta: Option<&Amounts>) {
    need.clear();
    for ((name, amount), dim) in asks.names.iter().zip(&asks.dim_of) {
        let free = match (ix, dim) {
            (Some(ix), Some(dim)) => match &asks.roles {
                None => state.free_all_roles(ix, *dim),
                Some(roles) => roles.iter().map(|&r| state.free_in_role(ix, *dim, r)).sum(),
            },
            _ => 0,
        };
        let earlier = delta.and_then(|d| d.iter().find(|(n, _)| n == name)).map_or(0, |(_, q)| *q);
        need.push(amount - free - earlier);
    }
}

/// The agent's candidates (positions in `scratch.order`, sorted by standing, youngest first,
/// then id) with what each frees per asked resource.
fn fill_candidates<'a>(scratch: &mut Scratch<'a>, index: &RunningIndex<'a>, asks: &Asks, now: Duration) {
    let tasks = &index.tasks;
    let key = |p: u32| {
        let r = tasks[p as usize];
        (standing(r.tier, r.priority), std::cmp::Reverse(r.started), &r.id)
    };
    scratch.order.sort_by(|&a, &b| key(a).cmp(&key(b)));
    scratch.candidates.clear();
    scratch.freed.clear();
    for &p in &scratch.order {
        let r = tasks[p as usize];
        scratch.candidates.push(Candidate {
            id: &r.id,
            standing: standing(r.tier, r.priority),
            work: now.saturating_sub(r.started).as_nanos(),
            total: r.resources.iter().map(|(_, q)| q.milli()).sum(),
            budget: index.slots[p as usize],
        });
        for (name, _) in &asks.names {
            let held = r.resources.iter().filter(|(n, _)| n == name).map(|(_, q)| q.milli()).sum();
            scratch.freed.push(held);
        }
    }
}

/// The cheapest single victim among the agent's candidates (`scratch.order`, index positions)
/// that frees enough alone within its budget, costed as the full search costs it; the victim
/// as an index position.
fn single_victim<'a>(
    scratch: &Scratch<'a>,
    index: &RunningIndex<'a>,
    asks: &Asks,
    ledger: &Ledger<'_>,
    now: Duration,
) -> Option<(Cost<'a>, u32)> {
    let needed: i64 = scratch.need.iter().map(|&n| n.max(0)).sum();
    let mut best: Option<(u64, u128, i64, &'a TaskId, u32)> = None;
    for &p in &scratch.order {
        let r: &'a RunningTask = index.tasks[p as usize];
        let enough = asks.names.iter().zip(&scratch.need).all(|((name, _), &need)| {
            need <= 0 || r.resources.iter().filter(|(n, _)| n == name).map(|(_, q)| q.milli()).sum::<i64>() >= need
        });
        if !enough || index.slots[p as usize].is_some_and(|slot| ledger.room(slot) == 0) {
            continue;
        }
        let total: i64 = r.resources.iter().map(|(_, q)| q.milli()).sum();
        let key = (standing(r.tier, r.priority), now.saturating_sub(r.started).as_nanos(), total - needed, &r.id, p);
        if best.as_ref().is_none_or(|b| (key.0, key.1, key.2, key.3) < (b.0, b.1, b.2, b.3)) {
            best = Some(key);
        }
    }
    let (standing, work, waste, id, p) = best?;
    let cost = Cost { count: 1, standings: smallvec::smallvec![standing], work, waste, ids: smallvec::smallvec![id] };
    Some((cost, p))
}

/// Whether the task's hard constraints pass on agent `ix` with `victims` (index positions)
/// gone; the state is as it was when this returns.
fn constraints_pass(
    state: &mut PassState,
    index: &RunningIndex<'_>,
    ix: AgentIx,
    victims: &[u32],
    task: &TaskSpec,
    asks: &Asks,
    group: GroupIx,
) -> bool {
    if task.hard.is_empty() {
        return true;
    }
    for &p in victims {
        state.tables_mut().remove_running(index.tasks[p as usize]);
    }
    let view = TaskView::new(&task.id, &task.group, group, &asks.dims, &task.ports);
    let tables: &crate::tables::Tables = state;
    let (agent, pass) = (AgentView::new(tables, ix), PassView::new(tables));
    let passes = task.hard.iter().all(|c| c.allows(&view, &agent, &pass));
    for &p in victims {
        state.tables_mut().add_running(std::slice::from_ref(index.tasks[p as usize]));
    }
    passes
}

/// Adds the task's preemption refusals to its reasons.
fn explain(unplaced: &mut crate::plan::Unplaced, refusals: &Refusals, ledger: &Ledger<'_>) {
    let mut reasons: Vec<ReasonCount> = unplaced.reasons.to_vec();
    let mut add = |refusal: PreemptionRefusal, agents: u32| {
        if agents > 0 {
            reasons.push(ReasonCount { reason: Reason::Preemption(refusal), agents });
        }
    };
    add(PreemptionRefusal::NoLowerPriority, refusals.no_lower);
    for (slot, &agents) in refusals.budget.iter().enumerate() {
        add(PreemptionRefusal::Budget { group: ledger.group(slot as u32).clone() }, agents);
    }
    add(PreemptionRefusal::NotAllowed, refusals.not_allowed);
    unplaced.reasons = Arc::from(reasons);
}
