//! Preemption in the live session: kill the victims, hold the preemptor back until they ended.
//!
//! When a pass's plan places a task by preemption (with [`SessionConfig::preemption`]
//! set), the session sends a KILL for each victim and remembers the task with its victims.
//! Until every victim has ended (its terminal update arrived), the task is kept out of the
//! engine's pending tasks, so no pass preempts for it again; the victims count as dying, against
//! their groups' budgets. Once they ended, the task stays held until the victims' agent is
//! offered again (or [`RETURN_WAIT`] passed without such an offer): a pass between the
//! victims' end and the offer of what they freed would find no room and preempt anew. Then the
//! task is pending like any other and is placed on the resources the victims gave back.
//!
//! With [`SessionConfig::requeue_preempted`] (the default), a submitted victim does not end:
//! its killed attempt is reported with [`Update::Preempted`] and the task is pending again,
//! placed when there is room, without spending its retries (see `tasks/preempted.rs`).
//! Without it, victims end as `KILLED`, as any task whose kill was asked for.
//!
//! The running tasks handed to the engine carry their start (`RunningTask::started`), so that
//! among equal victims the youngest goes first: the time the session launched the task, or for
//! a task it did not launch (adopted, re-synced after a failover or a reconciliation) the time
//! it first saw the task running, which is later than the true start when the task ran before.
//!
//! [`SessionConfig::requeue_preempted`]: super::SessionConfig::requeue_preempted
//! [`Update::Preempted`]: super::Update::Preempted
//!
//! [`SessionConfig::preemption`]: super::SessionConfig::preemption

use std::time::Duration;

use super::calls;
use super::machine::Session;
use super::tasks::{KillStep, Phase};
use crate::model::{AgentId, TaskId};
use crate::plan::Plan;
use crate::queue::QueuePlace;
use crate::spec::TaskSpec;

/// How long a preemptor whose victims all ended waits for their agent to be offered before
/// it is pending again (and may preempt anew).
pub(super) const RETURN_WAIT: Duration = Duration::from_secs(10);

/// A task placed by preemption, held back until what its victims hold is offered.
#[derive(Clone, Debug)]
pub(super) struct Held {
    /// The agent its victims run on.
    agent: AgentId,
    /// The Mesos ids of the victims' killed attempts: a victim put back to pending (or
    /// launched again since) no longer holds its preemptor back.
    victims: Vec<TaskId>,
    /// When a pass first found every victim ended.
    ended_at: Option<Duration>,
}

impl Session {
    /// Forgets preemptors that are no longer pending, or whose victims all ended and whose
    /// agent is offered at `now` (or [`RETURN_WAIT`] after they ended), then takes the others
    /// (and their queue places, when given) out of `pending`.
    pub(super) fn hold_preemptors(
        &mut self,
        pending: &mut Vec<TaskSpec>,
        places: Option<&mut Vec<QueuePlace>>,
        now: Duration,
    ) {
        if self.preempting.is_empty() {
            return;
        }
        let tasks = &self.tasks;
        let pool = self.scheduler.pool();
        self.preempting.retain(|task, held| {
            if tasks.phase(task) != Some(Phase::Pending) {
                return false;
            }
            if held.victims.iter().any(|v| tasks.attempt_alive(v)) {
                return true;
            }
            let ended_at = *held.ended_at.get_or_insert(now);
            let offered = pool.agents_at(now).any(|a| *a.id() == held.agent);
            !offered && now < ended_at.saturating_add(RETURN_WAIT)
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
            let mut dying = Vec::with_capacity(preemption.victims.len());
            for victim in &preemption.victims {
                let step = match self.config.requeue_preempted {
                    true => self.tasks.kill_for_preemption(victim, &preemption.task_id),
                    false => self.tasks.kill(victim),
                };
                if let KillStep::Send(mesos, agent) = step {
                    self.send(calls::kill(self.fw(), &mesos, agent.as_ref()));
                    dying.push(mesos);
                }
            }
            let held = Held { agent: preemption.agent_id.clone(), victims: dying, ended_at: None };
            self.preempting.insert(preemption.task_id.clone(), held);
            started.push((preemption.task_id.clone(), preemption.victims.clone()));
        }
        started
    }
}
