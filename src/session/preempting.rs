//! Preemption in the live session: kill the victims, hold the preemptor back until they ended.
//!
//! When a pass's plan places a task by preemption (with [`SessionConfig::preemption`]
//! set), the session sends a KILL for each victim and remembers the task with its victims.
//! Until every victim has ended (its terminal update arrived), the task is kept out of the
//! engine's pending tasks, so no pass preempts for it again; the victims count as dying, against
//! their groups' budgets. Once they ended, the task is pending like any other and is placed
//! when the resources they held come back in offers. Victims end as `KILLED`, as any task whose
//! kill was asked for.
//!
//! [`SessionConfig::preemption`]: super::SessionConfig::preemption

use super::calls;
use super::machine::Session;
use super::tasks::{KillStep, Phase};
use crate::model::TaskId;
use crate::plan::Plan;
use crate::queue::QueuePlace;
use crate::spec::TaskSpec;

impl Session {
    /// Forgets preemptors whose victims all ended or that are no longer pending, then takes the
    /// others (and their queue places, when given) out of `pending`.
    pub(super) fn hold_preemptors(&mut self, pending: &mut Vec<TaskSpec>, places: Option<&mut Vec<QueuePlace>>) {
        if self.preempting.is_empty() {
            return;
        }
        let tasks = &self.tasks;
        self.preempting.retain(|task, victims| {
            tasks.phase(task) == Some(Phase::Pending) && victims.iter().any(|v| tasks.is_live(v))
        });
        let held = |t: &TaskSpec| self.preempting.contains_key(&t.id);
        if let Some(places) = places {
            let mut keep = pending.iter().map(|t| !held(t));
            places.retain(|_| keep.next().unwrap_or(true));
        }
        pending.retain(|t| !held(t));
    }

    /// The running tasks being killed, by their own ids.
    pub(super) fn dying(&self) -> Vec<TaskId> {
        self.tasks.dying()
    }

    /// Sends a KILL for every victim of the plan's preemptions and holds each preemptor back
    /// until its victims ended; returns what was started, for the pass report.
    pub(super) fn start_preemptions(&mut self, plan: &Plan) -> Vec<(TaskId, Vec<TaskId>)> {
        let mut started = Vec::with_capacity(plan.preemptions.len());
        for preemption in &plan.preemptions {
            for victim in &preemption.victims {
                if let KillStep::Send(mesos, agent) = self.tasks.kill(victim) {
                    self.send(calls::kill(self.fw(), &mesos, agent.as_ref()));
                }
            }
            self.preempting.insert(preemption.task_id.clone(), preemption.victims.clone());
            started.push((preemption.task_id.clone(), preemption.victims.clone()));
        }
        started
    }
}
