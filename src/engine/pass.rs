//! One scheduling pass: order the tasks, place them tier by tier (constrained tasks one by one,
//! then the rest by filling agents), explain what is left.

use std::time::Duration;

use rustc_hash::FxHashSet;

use super::class::{assign_indexes, compile};
use super::commit::commit;
use super::explain::explain_all;
use super::fill::{self, FillInput};
use super::select::{IndexCache, Selector};
use super::state::PassState;
use super::{Engine, Packing, PlanError, Strategy};
use crate::model::{RunningTask, TaskSpec};
use crate::plan::{Plan, PlanStats, Unplaced};

/// A tier fills agents when its fillable tasks times this reach the number of agents.
const FILL_RATIO: usize = 16;
use crate::pool::OfferPool;

/// Runs one pass; see [`Engine::plan`].
pub(crate) fn run(
    engine: &Engine,
    pool: &OfferPool,
    pending: &[TaskSpec],
    running: &[RunningTask],
    now: Duration,
) -> Result<Plan, PlanError> {
    check_ids(pending, running)?;
    let mut state = PassState::build(pool, now, running);
    let (mut plan, used) = place(engine, &mut state, pending, None, &mut Vec::new());
    if engine.config.decline_unused {
        decline_unused(&state, &used, &mut plan);
    }
    plan.expired = pool.expired_ids(now);
    Ok(plan)
}

/// Places `pending` into `state`, committing each placement; returns the plan's launches,
/// unplaced tasks and stats. `log` lists the agents touched since the indexes in `cache` (if
/// any) were built; placements are appended to it.
pub(crate) fn place(
    engine: &Engine,
    state: &mut PassState,
    pending: &[TaskSpec],
    cache: Option<&mut IndexCache>,
    log: &mut Vec<u32>,
) -> (Plan, Vec<u32>) {
    let fitness = &*engine.config.fitness;
    let log_start = log.len();
    state.allocation_memo.clear();
    let (mut classes, class_of) = compile(state, pending, engine.config.fitness_weight);
    let keys = assign_indexes(&mut classes);
    if cache.is_none() {
        // One-shot pass: per-value counts of a group no constraint reads are not kept.
        let mut constrained = vec![false; state.groups.len()];
        for class in &classes {
            constrained[class.group as usize] |= !class.hard.is_empty() || !class.soft.is_empty();
        }
        state.uncounted = constrained.into_iter().map(|c| !c).collect();
    }
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(pending[t].priority));
    let packs = match engine.config.packing {
        Packing::FillAgents => fitness.packs(),
        Packing::TaskByTask => None,
    };
    let fills: Vec<bool> = classes.iter().map(|class| packs.is_some() && fill::eligible(class, state)).collect();
    let indexed = engine.config.strategy == Strategy::Indexed;
    // Priority tiers, highest first; in each, tasks with constraints go one by one, then the
    // rest fill agents. Filling sorts every agent: worth it for many tasks, not for a handful
    // among many agents, so a tier with few fillable tasks places them one by one too.
    let tiers: Vec<&[usize]> = order.chunk_by(|&x, &y| pending[x].priority == pending[y].priority).collect();
    let fill_tiers: Vec<bool> = tiers
        .iter()
        .map(|tier| tier.iter().filter(|&&t| fills[class_of[t] as usize]).count() * FILL_RATIO >= state.agents.len())
        .collect();
    let mut selector = Selector::new(&classes, &class_of, keys, indexed, cache);
    for (tier, &fill_tier) in tiers.iter().zip(&fill_tiers) {
        selector.count(tier.iter().copied().filter(|&t| !(fill_tier && fills[class_of[t] as usize])));
    }
    let mut plan = Plan::default();
    plan.launches.reserve(pending.len());
    let mut unplaced: Vec<usize> = Vec::new();
    for (tier, &fill_tier) in tiers.iter().zip(&fill_tiers) {
        let mut to_fill = Vec::new();
        for &t in tier.iter() {
            if fill_tier && fills[class_of[t] as usize] {
                to_fill.push(t);
                continue;
            }
            match selector.select(state, fitness, pending, t, log) {
                Some(agent) => {
                    let launch = commit(state, &classes[class_of[t] as usize], &pending[t], agent);
                    plan.launches.push(launch);
                    log.push(agent);
                }
                None => unplaced.push(t),
            }
        }
        if let (false, Some(packs)) = (to_fill.is_empty(), packs) {
            let input = FillInput { classes: &classes, class_of: &class_of, pending, packs };
            unplaced.extend(fill::fill(state, &input, &to_fill, &mut plan.launches, log));
        }
    }
    if engine.config.explain_unplaced {
        explain_all(state, &classes, &class_of, pending, &unplaced, &mut plan);
    } else {
        let agents_considered = state.agents.len() as u32;
        let none: std::sync::Arc<[crate::plan::ReasonCount]> = std::sync::Arc::from([]);
        plan.unplaced = unplaced
            .iter()
            .map(|&t| Unplaced { task_id: pending[t].id.clone(), reasons: none.clone(), agents_considered })
            .collect();
    }
    selector.finish();
    // This pass appended exactly the agents of its launches to the log.
    let used = distinct(&log[log_start..], state.agents.len());
    plan.stats = PlanStats {
        tasks_placed: plan.launches.len() as u32,
        tasks_unplaced: plan.unplaced.len() as u32,
        agents_used: used.len() as u32,
        agents_considered: state.agents.len() as u32,
        task_classes: classes.len() as u32,
    };
    (plan, used)
}

/// The distinct agents in `agents` (indices below `n`), ascending.
fn distinct(agents: &[u32], n: usize) -> Vec<u32> {
    if agents.len() * 8 < n {
        let mut out = agents.to_vec();
        out.sort_unstable();
        out.dedup();
        return out;
    }
    let mut seen = vec![false; n];
    for &a in agents {
        seen[a as usize] = true;
    }
    (0..n as u32).filter(|&a| seen[a as usize]).collect()
}

/// Declines the offers of every agent not in `used` (ascending agent indices).
pub(crate) fn decline_unused(state: &PassState, used: &[u32], plan: &mut Plan) {
    let mut next = used.iter().copied().peekable();
    for (a, slot) in state.agents.iter().enumerate() {
        if next.next_if_eq(&(a as u32)).is_none() {
            plan.declined.extend(slot.offer_ids.iter().cloned());
        }
    }
    plan.declined.sort();
}

/// Task ids must be unique across pending and running tasks.
pub(crate) fn check_ids(pending: &[TaskSpec], running: &[RunningTask]) -> Result<(), PlanError> {
    let mut seen: FxHashSet<&str> =
        FxHashSet::with_capacity_and_hasher(pending.len() + running.len(), Default::default());
    for id in pending.iter().map(|t| &t.id).chain(running.iter().map(|t| &t.id)) {
        if !seen.insert(id.as_str()) {
            return Err(PlanError::DuplicateTask(id.clone()));
        }
    }
    Ok(())
}
