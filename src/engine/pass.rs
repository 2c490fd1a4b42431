//! One scheduling pass: order the tasks, select an agent for each, commit, explain the rest.

use std::time::Duration;

use rustc_hash::FxHashSet;

use super::class::{assign_indexes, compile};
use super::commit::commit;
use super::explain::explain;
use super::index::CandidateIndex;
use super::state::PassState;
use super::{scan, Engine, PlanError, Strategy};
use crate::model::{RunningTask, TaskSpec};
use crate::plan::{Plan, PlanStats, ReasonCount, Unplaced};
use crate::plugins::TaskView;
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
    let asked = pending.iter().flat_map(|t| t.resources.iter().map(|(n, _)| n));
    let mut state = PassState::build(pool, now, asked, running);
    let fitness = &*engine.config.fitness;
    let (mut classes, class_of) = compile(&mut state, pending, engine.config.fitness_weight);
    let slots = assign_indexes(&mut classes);

    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(pending[t].priority));
    // Tasks left per class and per index slot, to free what no later task needs.
    let mut remaining = vec![0u32; classes.len()];
    let mut slot_remaining = vec![0u32; slots];
    for &c in &class_of {
        remaining[c as usize] += 1;
        if let Some(slot) = slot_remaining.get_mut(classes[c as usize].index_slot as usize) {
            *slot += 1;
        }
    }
    let indexed = engine.config.strategy == Strategy::Indexed;

    let mut indexes: Vec<Option<CandidateIndex>> = (0..slots).map(|_| None).collect();
    let mut explained: Vec<Option<(usize, Vec<ReasonCount>)>> = vec![None; classes.len()];
    let mut log: Vec<u32> = Vec::new();
    let mut plan = Plan::default();
    for t in order {
        let task = &pending[t];
        let c = class_of[t] as usize;
        let class = &classes[c];
        let view = TaskView { id: &task.id, group_id: &task.group, class };
        let slot = class.index_slot as usize;
        let chosen = if indexed && class.stages.indexable {
            let index =
                indexes[slot].get_or_insert_with(|| CandidateIndex::build(&state, class, fitness, &view, log.len()));
            index.sync(&state, class, fitness, &view, &log);
            index.select(&state, class, c as u32, &view)
        } else {
            scan::select(&state, class, fitness, &view)
        };
        match chosen {
            Some(agent) => {
                let launch = commit(&mut state, class, task, agent);
                plan.launches.push(launch);
                log.push(agent);
            }
            None => {
                let reasons = match &explained[c] {
                    Some((at, reasons)) if *at == log.len() => reasons.clone(),
                    _ => {
                        let reasons = explain(&state, class, &view);
                        explained[c] = Some((log.len(), reasons.clone()));
                        reasons
                    }
                };
                let agents_considered = state.agents.len() as u32;
                plan.unplaced.push(Unplaced { task_id: task.id.clone(), reasons, agents_considered });
            }
        }
        remaining[c] -= 1;
        if remaining[c] == 0 {
            explained[c] = None;
        }
        if let Some(left) = slot_remaining.get_mut(slot) {
            *left -= 1;
            if *left == 0 {
                indexes[slot] = None;
            }
        }
    }
    finish(engine, pool, &state, now, classes.len(), plan)
}

/// Fills in declines, expiries and stats.
fn finish(
    engine: &Engine,
    pool: &OfferPool,
    state: &PassState,
    now: Duration,
    classes: usize,
    mut plan: Plan,
) -> Result<Plan, PlanError> {
    let mut used_agents = vec![false; state.agents.len()];
    for launch in &plan.launches {
        if let Some(&a) = state.agent_index.get(&launch.agent_id) {
            used_agents[a as usize] = true;
        }
    }
    if engine.config.decline_unused {
        for (slot, used) in state.agents.iter().zip(&used_agents) {
            if !used {
                plan.declined.extend(slot.offer_ids.iter().cloned());
            }
        }
        plan.declined.sort();
    }
    plan.expired = pool.expired_ids(now);
    plan.stats = PlanStats {
        tasks_placed: plan.launches.len() as u32,
        tasks_unplaced: plan.unplaced.len() as u32,
        agents_used: used_agents.iter().filter(|u| **u).count() as u32,
        agents_considered: state.agents.len() as u32,
        task_classes: classes as u32,
    };
    Ok(plan)
}

/// Task ids must be unique across pending and running tasks.
fn check_ids(pending: &[TaskSpec], running: &[RunningTask]) -> Result<(), PlanError> {
    let mut seen: FxHashSet<&str> =
        FxHashSet::with_capacity_and_hasher(pending.len() + running.len(), Default::default());
    for id in pending.iter().map(|t| &t.id).chain(running.iter().map(|t| &t.id)) {
        if !seen.insert(id.as_str()) {
            return Err(PlanError::DuplicateTask(id.clone()));
        }
    }
    Ok(())
}
