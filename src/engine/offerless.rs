//! Agents with no offer, known only through their running tasks, compiled for the preemption
//! step from the host details the tasks carry ([`RunningTask::host`]).
//!
//! A pass compiles the agents of the pool's offers; a running task elsewhere counts on its
//! host's attribute values, but its agent is not in the pass state, and the preemption step can
//! ask a task's hard constraints only on an agent the state has. A [`Scheduler`](super::Scheduler)
//! keeps the agents whose offers were used compiled (with nothing free) until it compiles its
//! state afresh, so without this step whether a task with hard constraints could preempt there
//! would depend on that history, and the one-shot engine, which has no history, would always
//! refuse. Both therefore compile, before the step, every agent of the running tasks that the
//! state lacks and one of whose tasks gives its host: nothing free, no ports, the hostname and
//! attributes of the task of smallest id that gives them. The agent's tasks are counted on it
//! from then on instead of on their own hosts' values (the counts per value stay the same when
//! the tasks agree on their host, as a session's do). An agent none of whose tasks gives a host
//! stays unknown: only tasks without hard constraints preempt there.
//!
//! Only a pass that leaves some task with hard constraints unplaced compiles them: for a task
//! without, an agent unknown to the state and the same agent compiled with nothing free give the
//! same answer, and a large full cluster is then not compiled a second time.

use std::borrow::Borrow;

use rustc_hash::FxHashSet;

use super::preempt::RunningTable;
use super::state::PassState;
use crate::model::{RunningTask, TaskId};
use crate::plan::Plan;
use crate::spec::TaskSpec;

/// Whether `plan` left unplaced some task of `pending` with hard constraints.
pub(crate) fn needed(plan: &Plan, pending: &[TaskSpec]) -> bool {
    if plan.unplaced.is_empty() {
        return false;
    }
    let hard: FxHashSet<&TaskId> = pending.iter().filter(|t| !t.hard.is_empty()).map(|t| &t.id).collect();
    !hard.is_empty() && plan.unplaced.iter().any(|u| hard.contains(&u.task_id))
}

/// Compiles into `state` every agent of `table` it lacks and whose tasks give a host, moving the
/// counts of the agent's tasks onto it; `moving` sees each such task while it is still counted
/// away from the agents. Returns how many agents were added.
pub(crate) fn compile<T: Borrow<RunningTask>>(
    state: &mut PassState,
    table: &RunningTable<T>,
    mut moving: impl FnMut(&PassState, &RunningTask),
) -> usize {
    let mut added = 0;
    for agent in &table.agents {
        if state.agent(&agent.id).is_some() {
            continue;
        }
        let tasks = agent.rows.iter().map(|r| r.task.borrow());
        let Some(host) =
            tasks.filter(|t| t.host.is_some()).min_by(|x, y| x.id.cmp(&y.id)).and_then(|t| t.host.as_ref())
        else {
            continue;
        };
        // Tasks of that very host stay counted on its values; the others move.
        let elsewhere = |t: &RunningTask| t.host.as_ref().is_none_or(|h| h != host);
        for row in &agent.rows {
            moving(state, row.task.borrow());
            if elsewhere(row.task.borrow()) {
                state.tables_mut().remove_running(row.task.borrow());
            }
        }
        let ix = state.add_offerless_agent(&agent.id, host);
        for row in &agent.rows {
            let task = row.task.borrow();
            if elsewhere(task) {
                state.tables_mut().add_running(std::slice::from_ref(task));
            } else {
                state.tables_mut().move_onto_offerless_agent(ix, task);
            }
        }
        added += 1;
    }
    added
}
