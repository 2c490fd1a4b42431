//! Victims of preemption: killed by the session for a task of higher standing, put back to
//! pending when they ended (with [`SessionConfig::requeue_preempted`], the default).
//!
//! A victim's kill remembers its preemptor. When the victim's attempt ends (`TASK_KILLED`, or
//! any other end but `TASK_FINISHED`: a task that finished did its work), the task is not
//! over: it goes back to pending at once, with its original request, as its next attempt under
//! a new Mesos id (`<id>.retry-<n>`, as for a retry, so a late update about the killed attempt
//! cannot be mistaken for the new one). That attempt does not count against its
//! [`RetryPolicy`](super::super::RetryPolicy) and waits out no backoff. A kill the user asks
//! for afterwards wins: the task then ends `KILLED` for good. A victim this session was never
//! given (adopted from an earlier scheduler) has no request to place again and ends as before.
//!
//! [`SessionConfig::requeue_preempted`]: super::super::SessionConfig::requeue_preempted

use std::time::Duration;

use super::super::update::{TaskState, TaskUpdate};
use super::{KillStep, Tasks};
use crate::model::{AgentId, TaskId};

/// A preempted task put back to pending, for [`Update::Preempted`](super::super::Update::Preempted).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Preempted {
    /// The victim (its own id).
    pub(crate) task: TaskId,
    /// The task it made room for.
    pub(crate) by: TaskId,
    /// Where it ran.
    pub(crate) agent_id: Option<AgentId>,
    /// How its attempt ended.
    pub(crate) state: TaskState,
}

impl Tasks {
    /// Asks for a victim's kill for the preemptor `by`; a submitted victim is put back to
    /// pending when its attempt ended (see the module docs).
    pub(crate) fn kill_for_preemption(&mut self, id: &TaskId, by: &TaskId) -> KillStep {
        let step = self.kill(id);
        if let (KillStep::Send(..), Some(t)) = (&step, self.live.get_mut(id)) {
            if t.request.is_some() {
                t.preempted_by = Some(by.clone());
            }
        }
        step
    }

    /// Whether the Mesos id `mesos` names the current attempt of a task that was launched and
    /// has not ended: a victim's attempt still dying.
    pub(crate) fn attempt_alive(&self, mesos: &TaskId) -> bool {
        self.is_current(mesos) && self.phase(mesos).is_some_and(|p| p != super::Phase::Pending)
    }

    /// Puts a preempted task whose attempt ended in `state` back to pending as its next
    /// attempt, ready at once; `update` (the terminal one) becomes the pending one.
    pub(super) fn requeue_preempted(&mut self, id: &TaskId, state: TaskState, mut update: TaskUpdate) -> TaskUpdate {
        let Some(t) = self.live.get(id) else { return update };
        let (ended, by) = (t.attempt, t.preempted_by.clone().unwrap_or_else(|| TaskId::new("")));
        self.next_attempt(id, state);
        let Some(t) = self.live.get_mut(id) else { return update };
        t.preemptions = t.preemptions.saturating_add(1);
        t.kill_requested = false;
        t.preempted_by = None;
        update.agent_id = update.agent_id.take().or(t.agent.take());
        t.agent = None;
        self.pending.insert(t.seq, id.clone());
        self.fresh_pending = true;
        self.preempted.push(Preempted { task: id.clone(), by: by.clone(), agent_id: update.agent_id.clone(), state });
        let why = update.message.take().map(|m| format!(" ({m})")).unwrap_or_default();
        update.message = Some(format!(
            "preempted by {by}: attempt {ended} ended {state}{why}; pending again as attempt {} (retries not spent)",
            ended + 1
        ));
        update.state = TaskState::Pending;
        update.attempt = ended + 1;
        update.retry_in = Some(Duration::ZERO);
        update
    }

    /// Preempted tasks put back to pending since the last call.
    pub(crate) fn take_preempted(&mut self) -> Vec<Preempted> {
        std::mem::take(&mut self.preempted)
    }
}
