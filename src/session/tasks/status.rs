//! Status updates: how an update from the master or an agent moves a task along its life cycle.

use std::time::Duration;

use super::super::retry::retries;
use super::super::update::{TaskState, TaskUpdate};
use super::{Phase, Tasks, Tracked};
use crate::mesos::v1;
use crate::model::{AgentId, TaskId};

impl Tasks {
    /// Applies a status update received at `now`. `asked` says whether explicit reconciliation
    /// was waiting for this task, which makes a "task unknown" answer about a launch in flight
    /// trustworthy. A terminal update may put the task back to pending by its retry policy.
    pub(crate) fn apply(
        &mut self,
        status: &v1::TaskStatus,
        state: TaskState,
        asked: bool,
        now: Duration,
    ) -> Option<TaskUpdate> {
        let mesos = TaskId::new(&status.task_id.value);
        let id = self.resolve(&mesos).clone();
        let agent = status.agent_id.as_ref().map(|a| AgentId::new(&a.value));
        let Some(t) = self.live.get_mut(&id) else {
            return self.apply_untracked(mesos, status, state, now);
        };
        self.touched.push(id.clone());
        if t.alias.as_ref().unwrap_or(&id) != &mesos {
            // About an earlier attempt of a task since retried: acknowledged, nothing more.
            return None;
        }
        let known = t.request.is_some();
        let attempt = if known { t.attempt } else { 0 };
        let own = |mut update: TaskUpdate| {
            update.task_id = id.clone();
            update.attempt = attempt;
            update
        };
        match t.phase {
            Phase::Launching(_) if launch_failed(status, state, asked) => {
                let message = status.message.clone().unwrap_or_else(|| "launch failed".to_owned());
                // The attempt is relaunch's: a gang's restart makes it the next one.
                return self.relaunch(&id, false, &message).map(|mut update| {
                    update.reason = super::super::update::reason_name(status.reason);
                    update.source = TaskUpdate::from_status(status, state, known).source;
                    update
                });
            }
            // A stale answer about an earlier launch attempt: the current one decides.
            Phase::Launching(_) if is_unknown_answer(status, state) => return None,
            // How an earlier scheduler's launch of a resumed task ended (see `resume.rs`).
            Phase::Pending if state.is_terminal() && t.inherited && !is_unknown_answer(status, state) => {
                self.unqueue(&id);
            }
            // A late terminal update about an earlier attempt of a task placed again.
            Phase::Pending if state.is_terminal() => return None,
            _ => {}
        }
        if state.is_terminal() && known && self.take_restart(&id) {
            // Killed (or ended otherwise) while its gang restarts: placed again with it.
            return Some(self.requeue(&id, state, own(TaskUpdate::from_status(status, state, known)), now));
        }
        let t = self.live.get_mut(&id)?;
        if state.is_terminal() {
            let update = own(TaskUpdate::from_status(status, state, known));
            if known && t.preempted_by.is_some() && state != TaskState::Finished {
                return Some(self.requeue_preempted(&id, state, update));
            }
            if known && !t.kill_requested && retries(state) && t.may_retry() {
                return Some(self.requeue(&id, state, update, now));
            }
            let mut update = update;
            update.message = self.gang_end_message(&id, update.message.take());
            self.forget(&id, state);
            return Some(update);
        }
        if regresses(t.state, state) {
            // An older update the agent re-sends after reconciliation reported a newer state.
            return None;
        }
        if t.phase == Phase::Pending {
            // An earlier launch is running after all: never place it a second time.
            self.pending.remove(&t.seq);
            if let Some(at) = t.ready_at.take() {
                self.waiting.remove(&(at, t.seq));
            }
            t.inherited = false;
        }
        t.phase = Phase::Active;
        t.started.get_or_insert(now);
        t.agent = agent.or(t.agent.take());
        if t.state == state {
            return None;
        }
        t.state = state;
        Some(own(TaskUpdate::from_status(status, state, known)))
    }

    /// An update for a task not live here: a duplicate after its end, or a task adopted from an
    /// earlier incarnation of the framework (reported with `known: false`).
    /// An adopted task's start is taken as `now`, when the session first saw it.
    fn apply_untracked(
        &mut self,
        id: TaskId,
        status: &v1::TaskStatus,
        state: TaskState,
        now: Duration,
    ) -> Option<TaskUpdate> {
        let previous = self.ended.get(&id).copied();
        // The same end again, or an end of an earlier attempt of a task that ended since (its
        // first attempt ran under the task's own id): nothing new.
        if previous == Some(state) || (state.is_terminal() && previous.is_some_and(TaskState::is_terminal)) {
            return None;
        }
        let update = TaskUpdate::from_status(status, state, false);
        if state.is_terminal() {
            self.remember_end(&id, state);
        } else {
            self.ended.remove(&id);
            let seq = self.next_seq;
            self.next_seq += 1;
            let mut tracked = Tracked::adopted(None, Vec::new(), state, seq);
            tracked.agent = update.agent_id.clone();
            tracked.started = Some(now);
            self.touched.push(id.clone());
            self.live.insert(id, tracked);
        }
        Some(update)
    }
}

/// `TASK_LOST`, `TASK_DROPPED` or `TASK_UNKNOWN` from the master about a task it does not have.
fn is_unknown_answer(status: &v1::TaskStatus, state: TaskState) -> bool {
    use v1::task_status::Reason;
    let lost = matches!(state, TaskState::Lost | TaskState::Dropped | TaskState::Unknown);
    let reason = status.reason.and_then(|r| Reason::try_from(r).ok());
    lost && matches!(reason, Some(Reason::Reconciliation))
}

/// Whether an update about a launch in flight means the task never started and can be placed
/// again: the launch used invalid (e.g. rescinded) offers, or reconciliation says the master
/// does not know the task.
fn launch_failed(status: &v1::TaskStatus, state: TaskState, asked: bool) -> bool {
    use v1::task_status::Reason;
    let lost = matches!(state, TaskState::Lost | TaskState::Dropped);
    let invalid_offers = status.reason.and_then(|r| Reason::try_from(r).ok()) == Some(Reason::InvalidOffers);
    (lost && invalid_offers) || (asked && is_unknown_answer(status, state))
}

/// Whether going from `old` to `new` steps back along staging → starting → running → killing.
fn regresses(old: TaskState, new: TaskState) -> bool {
    let rank = |state| match state {
        TaskState::Staging => Some(0),
        TaskState::Starting => Some(1),
        TaskState::Running => Some(2),
        TaskState::Killing => Some(3),
        _ => None,
    };
    matches!((rank(old), rank(new)), (Some(a), Some(b)) if b < a)
}
