//! Tasks a successor takes over (high availability): a submission that says where an earlier
//! scheduler of the same framework left the task ([`Resume`]), and what the master's operator
//! API says of such a task.
//!
//! A resumed task starts pending under its current attempt's Mesos id, but the earlier
//! scheduler may have launched that attempt (or a later one it had no time to record) before
//! it died. So until this session launches it, it is *inherited*: the master's word decides.
//! A report (`GET_TASKS`, or a status update) of its current or a later attempt still running
//! adopts it where it runs — it is never launched a second time; a report of that attempt's
//! end counts as the attempt's end (retried by its policy, or the task is over). An answer that
//! the master does not know the task leaves it pending, to be placed. A submitted task that is
//! not inherited is adopted alike when the master reports it running (it cannot be running
//! unless someone launched it), but its ends are not taken from the operator API: a pending
//! task of this session may have an earlier launch of the same Mesos id that ended
//! (REASON_INVALID_OFFERS) and was placed again.

use std::time::Duration;

use super::super::operator::TaskReport;
use super::super::request::Resume;
use super::super::retry::retries;
use super::super::update::{TaskUpdate, UpdateSource};
use super::{Phase, Tasks, Tracked};
use crate::model::TaskId;

impl Tasks {
    /// Sets up a task submitted with `resume` at `now`: its attempt, its current Mesos id and
    /// what is left of its backoff.
    pub(super) fn resumed(&mut self, id: &TaskId, tracked: &mut Tracked, resume: Resume, now: Duration) {
        tracked.attempt = resume.attempts_ended.saturating_add(1);
        tracked.inherited = true;
        if resume.attempts_ended > 0 {
            let alias = TaskId::new(format!("{id}.retry-{}", resume.attempts_ended));
            self.aliases.insert(alias.clone(), id.clone());
            tracked.alias = Some(alias);
        }
        if !resume.ready_in.is_zero() {
            tracked.ready_at = Some(now.saturating_add(resume.ready_in));
        }
    }

    /// A task submitted under `id` after a failover whose running attempt was adopted under
    /// its Mesos id `id.retry-N` (an earlier scheduler retried it): that attempt is this task,
    /// attempt N + 1, and its Mesos id becomes the task's alias, so it is neither placed again
    /// nor counted twice.
    pub(super) fn adopt_attempt(&mut self, id: &TaskId) {
        let prefix = format!("{id}.retry-");
        let found = self
            .live
            .range(TaskId::new(prefix.as_str())..)
            .take_while(|(mesos, _)| mesos.as_str().starts_with(prefix.as_str()))
            .filter(|(_, t)| t.request.is_none())
            .filter_map(|(mesos, _)| Some((later_attempt(id, mesos)?, mesos.clone())))
            .max();
        let Some((attempt, mesos)) = found else {
            return;
        };
        let Some(mut tracked) = self.live.remove(&mesos) else {
            return;
        };
        tracked.attempt = attempt;
        tracked.alias = Some(mesos.clone());
        self.aliases.insert(mesos.clone(), id.clone());
        self.touched.extend([mesos, id.clone()]);
        self.live.insert(id.clone(), tracked);
    }

    /// Takes a pending task off the queues (ready or waiting out a backoff).
    pub(super) fn unqueue(&mut self, id: &TaskId) {
        if let Some(t) = self.live.get_mut(id) {
            self.pending.remove(&t.seq);
            if let Some(at) = t.ready_at.take() {
                self.waiting.remove(&(at, t.seq));
            }
        }
    }

    /// What the operator API says of a submitted task that is pending here: `None` when the
    /// report is about no such task (the caller goes on with it), else the update to report,
    /// if any (see the module docs).
    pub(super) fn learn_submitted(&mut self, report: &TaskReport, now: Duration) -> Option<Option<TaskUpdate>> {
        let id = self.pending_owner(&report.id)?;
        let Some(state) = report.state else { return Some(None) };
        let t = self.live.get_mut(&id)?;
        if state.is_terminal() && !t.inherited {
            return Some(None);
        }
        if let Some(attempt) = later_attempt(&id, &report.id).filter(|n| *n > t.attempt) {
            // A later attempt the earlier scheduler launched without recording it.
            if let Some(old) = t.alias.replace(report.id.clone()) {
                self.aliases.remove(&old);
            }
            t.attempt = attempt;
            self.aliases.insert(report.id.clone(), id.clone());
        }
        self.unqueue(&id);
        self.touched.push(id.clone());
        let t = self.live.get_mut(&id)?;
        let mut update = TaskUpdate::session(id.clone(), state, report.agent_id.clone(), "");
        update.source = UpdateSource::Master;
        update.attempt = t.attempt;
        if state.is_terminal() {
            update.message = Some(format!("attempt {} ended under an earlier scheduler (operator API)", t.attempt));
            if !t.kill_requested && retries(state) && t.may_retry() {
                return Some(Some(self.requeue(&id, state, update, now)));
            }
            self.forget(&id, state);
            return Some(Some(update));
        }
        t.phase = Phase::Active;
        t.state = state;
        t.started.get_or_insert(now);
        t.agent = report.agent_id.clone();
        t.inherited = false;
        update.message = Some("launched by an earlier scheduler: adopted where it runs (operator API)".to_owned());
        Some(Some(update))
    }

    /// The submitted, pending task that the Mesos id `mesos` is an attempt of (its current
    /// one, or a later one by the `<id>.retry-<n>` naming).
    fn pending_owner(&self, mesos: &TaskId) -> Option<TaskId> {
        let pending = |id: &TaskId| self.live.get(id).is_some_and(|t| t.request.is_some() && t.phase == Phase::Pending);
        let id = self.resolve(mesos);
        if pending(id) && self.is_current(mesos) {
            return Some(id.clone());
        }
        let (base, _) = mesos.as_str().rsplit_once(".retry-")?;
        let base = TaskId::new(base);
        (pending(&base) && later_attempt(&base, mesos).is_some()).then_some(base)
    }
}

/// The attempt number of the Mesos id `mesos` when it names a retry of task `id`
/// (`<id>.retry-<n>` or `<id>.retry-<n>-<k>` is attempt `n + 1`).
fn later_attempt(id: &TaskId, mesos: &TaskId) -> Option<u32> {
    let rest = mesos.as_str().strip_prefix(id.as_str())?.strip_prefix(".retry-")?;
    let (number, extra) = rest.split_once('-').unwrap_or((rest, "0"));
    extra.parse::<u32>().ok()?;
    number.parse::<u32>().ok()?.checked_add(1)
}
