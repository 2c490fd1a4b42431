//! Gang members among the tracked tasks: per gang, its declared size, how many members were
//! submitted and which are live; the members being killed to restart their gang; the gangs
//! broken by a member that gave up or (a declared size) was killed, and why (see
//! [`groups`](super::super::groups) for the rules).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::super::update::{TaskState, TaskUpdate};
use super::{Phase, Tasks, MAX_REJECTED_LAUNCHES};
use crate::model::{AgentId, TaskId};
use crate::spec::{GangSizeError, TaskSpec};

/// The gangs of the tracked tasks.
#[derive(Debug, Default)]
pub(crate) struct GangIndex {
    /// Gangs with a live member.
    books: BTreeMap<Arc<str>, GangBook>,
    /// Members killed to restart their gang: placed again however they end.
    restarts: BTreeSet<TaskId>,
    /// Gangs broken since the last [`Tasks::take_failed_gangs`], each with why.
    failed: Vec<(Arc<str>, Arc<str>)>,
    /// Members killed because their gang broke, with why: said when they end.
    ending: BTreeMap<TaskId, Arc<str>>,
}

/// One gang, from its first member's submission until its last live member ended.
#[derive(Debug, Default)]
struct GangBook {
    /// The size its members declare.
    size: Option<u32>,
    /// Members submitted while the gang had a live member.
    submitted: usize,
    /// Live members.
    live: BTreeSet<TaskId>,
    /// Whether the gang was restarted.
    restarted: bool,
    /// Whether a member broke the gang (it cannot be whole again).
    broken: bool,
}

/// How a member left its gang.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Leaving {
    /// It finished, or was never submitted here: its gang goes on.
    Quietly,
    /// It ended `KILLED` and is not placed again.
    Killed,
    /// It gave up (no attempts left, or an end that is not retried).
    GaveUp,
}

/// What a pass needs to know of a gang to decide whether to hand its pending members over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GangView {
    /// The size its members declare.
    pub size: Option<u32>,
    /// Members submitted so far.
    pub submitted: usize,
    /// Live members (pending, waiting out a backoff, launched or running).
    pub live: usize,
    /// Whether the gang was restarted.
    pub restarted: bool,
}

impl GangIndex {
    /// Drops task `id` (that left `how`) from gang `gang`'s live members, and the gang once
    /// none is left. A member that gave up breaks its gang; so does one killed out of a gang of
    /// declared size, which can then never be complete.
    pub(super) fn leave(&mut self, id: &TaskId, gang: Option<&Arc<str>>, how: Leaving) {
        self.restarts.remove(id);
        self.ending.remove(id);
        let Some(gang) = gang else { return };
        let Some(book) = self.books.get_mut(gang) else { return };
        book.live.remove(id);
        if book.live.is_empty() {
            self.books.remove(gang);
            return;
        }
        let why = match how {
            Leaving::GaveUp => "gave up",
            Leaving::Killed if book.size.is_some() => "was killed",
            _ => return,
        };
        if !book.broken {
            book.broken = true;
            self.failed.push((gang.clone(), format!("gang {gang} broken: its member {id} {why}").into()));
        }
    }
}

impl Tasks {
    /// Whether `spec` may join its gang: its size agrees with the members' so far, and the
    /// gang is not full.
    pub(super) fn check_gang(&self, spec: &TaskSpec) -> Result<(), GangSizeError> {
        let so_far = spec.gang.as_ref().and_then(|g| self.gangs.books.get(g)).map(|b| (b.size, b.submitted));
        GangSizeError::check_join(spec, so_far)
    }

    /// Records task `id` as a live member of its gang (name and declared size), if it has one.
    pub(super) fn join_gang(&mut self, id: &TaskId, (gang, size): (Option<Arc<str>>, Option<u32>)) {
        let Some(gang) = gang else { return };
        let book = self.gangs.books.entry(gang).or_insert_with(|| GangBook { size, ..GangBook::default() });
        book.submitted += 1;
        book.live.insert(id.clone());
    }

    /// The gang of a live submitted task.
    pub(crate) fn gang_of(&self, id: &TaskId) -> Option<Arc<str>> {
        self.live.get(id)?.request.as_ref()?.spec.gang.clone()
    }

    /// What a pass needs to know of `gang`.
    pub(crate) fn gang_view(&self, gang: &str) -> Option<GangView> {
        let book = self.gangs.books.get(gang)?;
        Some(GangView { size: book.size, submitted: book.submitted, live: book.live.len(), restarted: book.restarted })
    }

    /// Restarts `gang`: each live member that is launched or running, and neither being
    /// restarted already nor killed at the user's request, is to be killed and placed again
    /// however its attempt ends. Returns the kills to send: (Mesos id, agent).
    pub(crate) fn restart_gang(&mut self, gang: &str) -> Vec<(TaskId, Option<AgentId>)> {
        let Some(book) = self.gangs.books.get_mut(gang) else { return Vec::new() };
        book.restarted = true;
        let mut kills = Vec::new();
        for id in &book.live {
            let Some(t) = self.live.get_mut(id) else { continue };
            if t.phase == Phase::Pending || t.kill_requested {
                continue;
            }
            // Asked like a kill, so it is sent again after a re-subscription.
            t.kill_requested = true;
            self.gangs.restarts.insert(id.clone());
            kills.push((t.alias.clone().unwrap_or_else(|| id.clone()), t.agent.clone()));
        }
        kills
    }

    /// Whether task `id` was being restarted with its gang; if so it is no longer, and its
    /// next attempt is not one being killed.
    pub(super) fn take_restart(&mut self, id: &TaskId) -> bool {
        let restarting = self.gangs.restarts.remove(id);
        if let Some(t) = self.live.get_mut(id).filter(|_| restarting) {
            t.kill_requested = false;
        }
        restarting
    }

    /// Gangs broken since the last call, each with why.
    pub(crate) fn take_failed_gangs(&mut self) -> Vec<(Arc<str>, Arc<str>)> {
        std::mem::take(&mut self.gangs.failed)
    }

    /// Live members of `gang`, to be killed because it broke (`why`); those being restarted
    /// are no longer (they end when killed), and each says `why` when it ends.
    pub(crate) fn give_up_gang(&mut self, gang: &str, why: &Arc<str>) -> Vec<TaskId> {
        let members: Vec<TaskId> =
            self.gangs.books.get(gang).map_or_else(Vec::new, |b| b.live.iter().cloned().collect());
        for id in &members {
            self.gangs.restarts.remove(id);
            self.gangs.ending.insert(id.clone(), why.clone());
        }
        members
    }

    /// Why task `id` ends, when it was killed because its gang broke; the message the end
    /// came with (if any) follows in parentheses.
    pub(super) fn gang_end_message(&self, id: &TaskId, message: Option<String>) -> Option<String> {
        let Some(why) = self.gangs.ending.get(id) else { return message };
        Some(match message {
            Some(message) if !message.is_empty() => format!("{why} ({message})"),
            _ => why.to_string(),
        })
    }

    /// The launch of a member being killed for its gang's restart was sent back (it never
    /// ran): the member is pending again at once as its next attempt, like the members whose
    /// kill ended their attempt, so the gang is placed again whole. `None` when `id` is not
    /// being restarted. Repeated rejected launches still end it in `TASK_ERROR`.
    pub(super) fn relaunch_restarting(&mut self, id: &TaskId, message: &str) -> Option<TaskUpdate> {
        if !self.take_restart(id) {
            return None;
        }
        let t = self.live.get_mut(id)?;
        t.preempted_by = None;
        if t.rejected_launches >= MAX_REJECTED_LAUNCHES {
            return Some(self.end(id, TaskState::Error, message));
        }
        let (ended, agent) = (t.attempt, t.agent.take());
        self.next_attempt(id, TaskState::Dropped);
        let t = self.live.get_mut(id)?;
        self.pending.insert(t.seq, id.clone());
        self.fresh_pending = true;
        let gang = self.gang_of(id).unwrap_or_default();
        let text = format!(
            "gang {gang} restarts: the launch of attempt {ended} was sent back ({message}); pending again as attempt {}",
            ended + 1
        );
        let mut update = TaskUpdate::session(id.clone(), TaskState::Pending, agent, &text);
        update.attempt = ended + 1;
        Some(update)
    }

    /// A kill the user asked for wins over a gang's restart: the member is no longer placed
    /// again when it ends.
    pub(super) fn cancel_restart(&mut self, id: &TaskId) {
        self.gangs.restarts.remove(id);
    }
}
