//! Task life cycle tracking: pending → launched (in flight) → staging/starting/running → terminal.
//!
//! Invariants: a task is in exactly one phase; only `Pending` tasks are handed to the engine, so
//! a task whose launch is in flight is never placed again; a task leaves the tracker only with a
//! terminal [`TaskUpdate`] for the user.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::agents::AgentBook;
use super::operator::TaskReport;
use super::update::{TaskState, TaskUpdate};
use super::{CallId, SubmitError, TaskRequest};
use crate::mesos::v1;
use crate::model::{AgentId, GroupId, RunningTask, TaskId};
use crate::resources::Quantity;
use crate::spec::TaskSpec;

/// How many ended task ids are remembered (to recognise late duplicate updates).
const ENDED_MEMORY: usize = 65_536;

/// Rejected (400) launches after which a task is given up with `TASK_ERROR`.
const MAX_REJECTED_LAUNCHES: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the engine to place it.
    Pending,
    /// In an ACCEPT (`call`); no status yet.
    Launching(CallId),
    /// The master or agent reported a non-terminal state.
    Active,
}

#[derive(Clone, Debug)]
struct Tracked {
    /// `None` for tasks reported by the master but never submitted here.
    request: Option<Arc<TaskRequest>>,
    /// The group: the request's, or for an adopted task the one its launch labelled it with
    /// (learnt from the operator API); `None` while unknown.
    group: Option<GroupId>,
    /// Scalar resources it holds (the request's, or the operator API's for an adopted task).
    resources: Vec<(Arc<str>, Quantity)>,
    /// Whether it claims its agent for its group.
    claims_agent: bool,
    phase: Phase,
    state: TaskState,
    agent: Option<AgentId>,
    kill_requested: bool,
    seq: u64,
    rejected_launches: u32,
}

/// What a kill request needs.
#[derive(Debug)]
pub(crate) enum KillStep {
    /// The task was pending and is now gone; report this.
    Removed(TaskUpdate),
    /// Send a KILL naming this agent (when known).
    Send(Option<AgentId>),
    /// No such live task.
    Unknown,
}

/// Every task the session knows, by phase.
#[derive(Debug, Default)]
pub(crate) struct Tasks {
    live: BTreeMap<TaskId, Tracked>,
    /// Pending tasks in submission order.
    pending: BTreeMap<u64, TaskId>,
    next_seq: u64,
    ended: BTreeMap<TaskId, TaskState>,
    ended_order: VecDeque<TaskId>,
    /// A task became pending since the last [`Tasks::take_fresh_pending`].
    fresh_pending: bool,
}

impl Tasks {
    pub(crate) fn submit(&mut self, request: TaskRequest) -> Result<TaskUpdate, SubmitError> {
        let id = request.spec.id.clone();
        if let Some(t) = self.live.get_mut(&id) {
            if t.request.is_some() {
                return Err(SubmitError::DuplicateTask(id));
            }
            // A task adopted from an earlier incarnation, submitted again: it is the same task,
            // already running; its spec now says its group and resources.
            t.group = Some(request.spec.group.clone());
            t.resources = request.spec.resources.clone();
            t.claims_agent = claims(&request);
            t.request = Some(Arc::new(request));
            let message = "submitted while running: adopted from an earlier scheduler";
            return Ok(TaskUpdate::session(id, t.state, t.agent.clone(), message));
        }
        self.ended.remove(&id);
        let seq = self.next_seq;
        self.next_seq += 1;
        let tracked = Tracked {
            group: Some(request.spec.group.clone()),
            resources: request.spec.resources.clone(),
            claims_agent: claims(&request),
            request: Some(Arc::new(request)),
            phase: Phase::Pending,
            state: TaskState::Pending,
            agent: None,
            kill_requested: false,
            seq,
            rejected_launches: 0,
        };
        self.live.insert(id.clone(), tracked);
        self.pending.insert(seq, id.clone());
        self.fresh_pending = true;
        Ok(TaskUpdate::session(id, TaskState::Pending, None, "submitted"))
    }

    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether a task became pending (submitted, or back from a failed launch) since the last
    /// call; clears the flag.
    pub(crate) fn take_fresh_pending(&mut self) -> bool {
        std::mem::take(&mut self.fresh_pending)
    }

    pub(crate) fn launching(&self) -> usize {
        self.live.values().filter(|t| matches!(t.phase, Phase::Launching(_))).count()
    }

    pub(crate) fn phase(&self, id: &TaskId) -> Option<Phase> {
        self.live.get(id).map(|t| t.phase)
    }

    pub(crate) fn agent(&self, id: &TaskId) -> Option<&AgentId> {
        self.live.get(id).and_then(|t| t.agent.as_ref())
    }

    /// The last state reported for a task (live or recently ended).
    pub(crate) fn state(&self, id: &TaskId) -> Option<TaskState> {
        self.live.get(id).map(|t| t.state).or_else(|| self.ended.get(id).copied())
    }

    pub(crate) fn request(&self, id: &TaskId) -> Option<Arc<TaskRequest>> {
        self.live.get(id).filter(|t| t.phase == Phase::Pending).and_then(|t| t.request.clone())
    }

    /// Pending tasks for the engine, in submission order.
    pub(crate) fn pending_specs(&self) -> Vec<TaskSpec> {
        let spec = |id: &TaskId| Some(self.live.get(id)?.request.as_ref()?.spec.clone());
        self.pending.values().filter_map(spec).collect()
    }

    /// Launched and active tasks, for the engine's constraints: each with the hostname and
    /// attributes of its agent when the book knows them, whether or not the agent is offered
    /// now (the engine counts a task of unknown place against every value). Adopted tasks whose
    /// group is unknown belong to no group of this framework and are left out.
    pub(crate) fn running(&self, book: &AgentBook) -> Vec<RunningTask> {
        let running = |(id, t): (&TaskId, &Tracked)| {
            let agent = t.agent.clone()?;
            let mut task = RunningTask::new(id.clone(), t.group.clone()?, agent);
            task.resources = t.resources.clone();
            task.host = book.host(&task.agent_id);
            task.claims_agent = t.claims_agent;
            Some(task)
        };
        self.live.iter().filter(|(_, t)| t.phase != Phase::Pending).filter_map(running).collect()
    }

    /// Agents of launched and active tasks, each once.
    pub(crate) fn agents_in_use(&self) -> std::collections::BTreeSet<&AgentId> {
        self.live_agents().collect()
    }

    /// Agents of launched and active tasks, once per task.
    pub(crate) fn live_agents(&self) -> impl Iterator<Item = &AgentId> {
        self.live.values().filter(|t| t.phase != Phase::Pending).filter_map(|t| t.agent.as_ref())
    }

    /// Whether a task adopted from an earlier scheduler has no known group yet.
    pub(crate) fn has_ungrouped(&self) -> bool {
        self.live.values().any(|t| t.phase != Phase::Pending && t.group.is_none())
    }

    /// Takes what the operator API says of a task: an adopted task learns its group (from the
    /// label its launch carried) and resources; a live task of this framework the session did
    /// not know is adopted. Returns the update to report for a newly adopted task.
    pub(crate) fn learn(&mut self, report: TaskReport) -> Option<TaskUpdate> {
        if let Some(t) = self.live.get_mut(&report.id) {
            if t.request.is_none() {
                t.group = t.group.take().or(report.group);
                t.claims_agent |= report.claims_agent;
                if t.resources.is_empty() {
                    t.resources = report.resources;
                }
                if t.agent.is_none() {
                    t.agent = report.agent_id;
                }
            }
            return None;
        }
        let state = report.state.filter(|s| !s.is_terminal())?;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.ended.remove(&report.id);
        let tracked = Tracked {
            request: None,
            group: report.group,
            resources: report.resources,
            claims_agent: report.claims_agent,
            phase: Phase::Active,
            state,
            agent: report.agent_id.clone(),
            kill_requested: false,
            seq,
            rejected_launches: 0,
        };
        self.live.insert(report.id.clone(), tracked);
        let message = "adopted: running under this framework (operator API)";
        let mut update = TaskUpdate::session(report.id, state, report.agent_id, message);
        update.source = super::update::UpdateSource::Master;
        update.known = false;
        Some(update)
    }

    /// Launched and active tasks with their agents: what explicit reconciliation asks about.
    pub(crate) fn reconcilable(&self) -> Vec<(TaskId, Option<AgentId>)> {
        self.live
            .iter()
            .filter(|(_, t)| t.phase != Phase::Pending)
            .map(|(id, t)| (id.clone(), t.agent.clone()))
            .collect()
    }

    /// Launched and active tasks whose kill was asked for.
    pub(crate) fn kills(&self) -> Vec<(TaskId, Option<AgentId>)> {
        let wanted = |t: &&Tracked| t.kill_requested && t.phase != Phase::Pending;
        self.live.iter().filter(|(_, t)| wanted(t)).map(|(id, t)| (id.clone(), t.agent.clone())).collect()
    }

    /// Tasks launched by `call`.
    pub(crate) fn launched_by(&self, call: CallId) -> Vec<TaskId> {
        self.live.iter().filter(|(_, t)| t.phase == Phase::Launching(call)).map(|(id, _)| id.clone()).collect()
    }

    /// A pending task was put into an ACCEPT.
    pub(crate) fn launched(&mut self, id: &TaskId, agent: &AgentId, call: CallId) -> Option<TaskUpdate> {
        let t = self.live.get_mut(id).filter(|t| t.phase == Phase::Pending)?;
        self.pending.remove(&t.seq);
        t.phase = Phase::Launching(call);
        t.state = TaskState::Launched;
        t.agent = Some(agent.clone());
        Some(TaskUpdate::session(id.clone(), TaskState::Launched, t.agent.clone(), "launch sent"))
    }

    /// A launch that certainly did not run: back to pending, or given up after repeated rejections
    /// (`rejected`) or when a kill was asked for.
    pub(crate) fn relaunch(&mut self, id: &TaskId, rejected: bool, message: &str) -> Option<TaskUpdate> {
        let t = self.live.get_mut(id).filter(|t| matches!(t.phase, Phase::Launching(_)))?;
        t.rejected_launches += u32::from(rejected);
        if t.kill_requested {
            return Some(self.end(id, TaskState::Killed, "killed before it was launched"));
        }
        if t.rejected_launches >= MAX_REJECTED_LAUNCHES {
            return Some(self.end(id, TaskState::Error, message));
        }
        t.phase = Phase::Pending;
        t.state = TaskState::Pending;
        let agent = t.agent.take();
        self.pending.insert(t.seq, id.clone());
        self.fresh_pending = true;
        Some(TaskUpdate::session(id.clone(), TaskState::Pending, agent, message))
    }

    /// Ends a live task with a state the session decides.
    pub(crate) fn end(&mut self, id: &TaskId, state: TaskState, message: &str) -> TaskUpdate {
        let agent = self.forget(id, state);
        TaskUpdate::session(id.clone(), state, agent, message)
    }

    fn forget(&mut self, id: &TaskId, state: TaskState) -> Option<AgentId> {
        let t = self.live.remove(id)?;
        self.pending.remove(&t.seq);
        self.remember_end(id, state);
        t.agent
    }

    fn remember_end(&mut self, id: &TaskId, state: TaskState) {
        if self.ended.insert(id.clone(), state).is_none() {
            self.ended_order.push_back(id.clone());
        }
        while self.ended_order.len() > ENDED_MEMORY {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
    }

    pub(crate) fn kill(&mut self, id: &TaskId) -> KillStep {
        let Some(t) = self.live.get_mut(id) else {
            return KillStep::Unknown;
        };
        if t.phase == Phase::Pending {
            return KillStep::Removed(self.end(id, TaskState::Killed, "killed before it was launched"));
        }
        t.kill_requested = true;
        KillStep::Send(t.agent.clone())
    }

    /// Ends every live task (`all`) or only the pending ones, reporting each as killed.
    pub(crate) fn end_all(&mut self, all: bool, message: &str) -> Vec<TaskUpdate> {
        let ids: Vec<TaskId> =
            self.live.iter().filter(|(_, t)| all || t.phase == Phase::Pending).map(|(id, _)| id.clone()).collect();
        ids.iter().map(|id| self.end(id, TaskState::Killed, message)).collect()
    }

    /// Applies a status update. `asked` says whether explicit reconciliation was waiting for
    /// this task, which makes a "task unknown" answer about a launch in flight trustworthy.
    pub(crate) fn apply(&mut self, status: &v1::TaskStatus, state: TaskState, asked: bool) -> Option<TaskUpdate> {
        let id = TaskId::new(&status.task_id.value);
        let agent = status.agent_id.as_ref().map(|a| AgentId::new(&a.value));
        let Some(t) = self.live.get_mut(&id) else {
            return self.apply_untracked(id, status, state);
        };
        let known = t.request.is_some();
        match t.phase {
            Phase::Launching(_) if launch_failed(status, state, asked) => {
                let message = status.message.clone().unwrap_or_else(|| "launch failed".to_owned());
                return self.relaunch(&id, false, &message).map(|mut update| {
                    update.reason = super::update::reason_name(status.reason);
                    update.source = TaskUpdate::from_status(status, state, known).source;
                    update
                });
            }
            // A stale answer about an earlier launch attempt: the current one decides.
            Phase::Launching(_) if is_unknown_answer(status, state) => return None,
            // A late terminal update about an earlier attempt of a task placed again.
            Phase::Pending if state.is_terminal() => return None,
            _ => {}
        }
        if state.is_terminal() {
            self.forget(&id, state);
            return Some(TaskUpdate::from_status(status, state, known));
        }
        if regresses(t.state, state) {
            // An older update the agent re-sends after reconciliation reported a newer state.
            return None;
        }
        if t.phase == Phase::Pending {
            // An earlier launch is running after all: never place it a second time.
            self.pending.remove(&t.seq);
        }
        t.phase = Phase::Active;
        t.agent = agent.or(t.agent.take());
        if t.state == state {
            return None;
        }
        t.state = state;
        Some(TaskUpdate::from_status(status, state, known))
    }

    /// An update for a task not live here: a duplicate after its end, or a task adopted from an
    /// earlier incarnation of the framework (reported with `known: false`).
    fn apply_untracked(&mut self, id: TaskId, status: &v1::TaskStatus, state: TaskState) -> Option<TaskUpdate> {
        let previous = self.ended.get(&id).copied();
        if previous == Some(state) {
            return None;
        }
        let update = TaskUpdate::from_status(status, state, false);
        if state.is_terminal() {
            self.remember_end(&id, state);
        } else {
            self.ended.remove(&id);
            let seq = self.next_seq;
            self.next_seq += 1;
            let tracked = Tracked {
                request: None,
                group: None,
                resources: Vec::new(),
                claims_agent: false,
                phase: Phase::Active,
                state,
                agent: update.agent_id.clone(),
                kill_requested: false,
                seq,
                rejected_launches: 0,
            };
            self.live.insert(id, tracked);
        }
        Some(update)
    }
}

/// Whether a request's task claims its agent for its group.
fn claims(request: &TaskRequest) -> bool {
    request.spec.hard.iter().any(|c| c.claims_agent())
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
