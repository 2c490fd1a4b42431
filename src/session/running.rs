//! Keeping the scheduler's running set in step with the tasks' life cycle.
//!
//! The session plans with a [`Scheduler`](crate::Scheduler), which keeps its compiled state
//! from pass to pass, so a pass costs what changed rather than a sweep over every running task.
//! The scheduler counts a task as running from the pass that placed it; the session's task
//! tracker decides what really runs. Every change of a task's running record — launched, back
//! to pending (a launch not sent, rejected, dropped with invalid offers, a retry), ended,
//! adopted, its group or resources learnt, its agent's hostname and attributes learnt — marks
//! the task touched, and before each pass [`Session::sync_running`] settles just those tasks:
//! what the tracker says runs is what the scheduler counts, with the same agent, group,
//! resources, claim and host details. Launches the carver skipped stay pending in the tracker
//! and are touched after the pass, so the scheduler lets go of them before the next one.

use std::sync::Arc;

use super::machine::Session;
use crate::model::RunningTask;
use crate::resources::Quantity;

impl Session {
    /// Brings the scheduler's record of every touched task in line with the tracker's.
    pub(super) fn sync_running(&mut self) {
        let queued = self.config.queue.is_some();
        for id in self.tasks.take_touched() {
            let place = self.tasks.place_of(&id).filter(|_| queued);
            let counted = self.scheduler.running_task(&id);
            if let Some(counted) = counted {
                // The common case, a state change of a counted task: nothing built to see it.
                let same_host = match (&counted.host, self.agents.get(&counted.agent_id)) {
                    (Some((host, attributes)), Some(known)) => {
                        *host == known.hostname && *attributes == known.attributes
                    }
                    (_, None) => true,
                    (None, Some(_)) => false,
                };
                let same_place = self.scheduler.place_of(&id) == place;
                if same_host && same_place && self.tasks.runs_as(&id, counted) == Some(true) {
                    continue;
                }
            }
            let wanted = self.tasks.running_one(&id, &self.agents);
            if let (Some(counted), Some(wanted)) = (counted, &wanted) {
                if same_record(counted, wanted) && self.scheduler.place_of(&id) == place {
                    continue;
                }
            }
            if counted.is_some() {
                self.scheduler.task_ended(&id);
            }
            // Cannot be a duplicate: the task was just taken out if it was counted.
            let _ = match (wanted, place) {
                (Some(task), Some(place)) => self.scheduler.task_running_in(task, place.clone()),
                (Some(task), None) => self.scheduler.task_running(task),
                (None, _) => Ok(()),
            };
        }
    }
}

/// Whether the scheduler's record of a task says what the tracker's does. Host details the
/// tracker does not know (yet) do not replace ones the scheduler has from the offer it placed
/// the task on.
fn same_record(counted: &RunningTask, wanted: &RunningTask) -> bool {
    counted.agent_id == wanted.agent_id
        && counted.group == wanted.group
        && counted.claims_agent == wanted.claims_agent
        && counted.executor == wanted.executor
        && (counted.priority, counted.tier) == (wanted.priority, wanted.tier)
        && counted.started == wanted.started
        && (wanted.host.is_none() || counted.host == wanted.host)
        && totals(&counted.resources) == totals(&wanted.resources)
}

/// Amounts per resource name, sorted by name, zero amounts left out.
fn totals(resources: &[(Arc<str>, Quantity)]) -> Vec<(&str, Quantity)> {
    let mut out: Vec<(&str, Quantity)> = Vec::with_capacity(resources.len());
    for (name, amount) in resources {
        match out.iter_mut().find(|(n, _)| *n == &**name) {
            Some((_, total)) => *total += *amount,
            None => out.push((name, *amount)),
        }
    }
    out.retain(|(_, q)| *q > Quantity::ZERO);
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

#[cfg(test)]
mod tests;
