//! Task life cycle tracking: pending → launched (in flight) → staging/starting/running → terminal.
//!
//! Invariants: a task is in exactly one phase; only `Pending` tasks are handed to the engine, so
//! a task whose launch is in flight is never placed again; a task leaves the tracker only with a
//! terminal [`TaskUpdate`] for the user, or goes back to pending for another attempt by its
//! [`RetryPolicy`] (see `retry.rs`). A pending task waiting out its backoff is kept apart from
//! the ready ones until its ready time, so no pass places it earlier.

mod gang;
mod preempted;
mod resume;
mod status;

pub(crate) use preempted::Preempted;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use super::agents::AgentBook;
use super::operator::TaskReport;
use super::retry::RetryPolicy;
use super::update::{TaskState, TaskUpdate};
use super::{CallId, SubmitError, TaskRequest};
use crate::model::{AgentId, GroupId, RunningTask, TaskId};
use crate::queue::QueuePlace;
use crate::resources::Quantity;
use crate::spec::TaskSpec;
use crate::util::SeededRng;

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
    /// How it is retried.
    policy: RetryPolicy,
    /// The current attempt, from 1.
    attempt: u32,
    /// The Mesos task id of the current attempt when it is not the task's own (attempts after
    /// the first).
    alias: Option<TaskId>,
    /// While pending after a retry: when it may be placed.
    ready_at: Option<Duration>,
    /// Submitted as resumed from an earlier scheduler and not launched by this session since:
    /// the master may know its current attempt (see `resume.rs`).
    inherited: bool,
    /// When the current attempt started, as well as the session knows: when it launched it, or
    /// for a task it did not launch (adopted, re-synced, resumed) when it first saw it running.
    started: Option<Duration>,
    /// The preemptor this task's kill was sent for (see `preempted.rs`); `None` when no kill
    /// was asked or the user asked for one.
    preempted_by: Option<TaskId>,
    /// Attempts that ended by preemption: they do not count against the retry policy.
    preemptions: u32,
}

impl Tracked {
    /// The custom executor its request runs it on, if any.
    fn executor(&self) -> Option<Arc<str>> {
        self.request.as_ref()?.spec.executor.as_ref().map(|e| e.id.clone())
    }

    /// Whether its retry policy allows another attempt: attempts ended by preemption are not
    /// counted.
    fn may_retry(&self) -> bool {
        self.attempt.saturating_sub(self.preemptions) < self.policy.attempts
    }
}

impl Tracked {
    /// A task the session did not submit, running (or staging) under the framework.
    fn adopted(group: Option<GroupId>, resources: Vec<(Arc<str>, Quantity)>, state: TaskState, seq: u64) -> Tracked {
        Tracked {
            request: None,
            group,
            resources,
            claims_agent: false,
            phase: Phase::Active,
            state,
            agent: None,
            kill_requested: false,
            seq,
            rejected_launches: 0,
            policy: RetryPolicy::default(),
            attempt: 1,
            alias: None,
            ready_at: None,
            inherited: false,
            started: None,
            preempted_by: None,
            preemptions: 0,
        }
    }
}

/// What a kill request needs.
#[derive(Debug)]
pub(crate) enum KillStep {
    /// The task was pending and is now gone; report this.
    Removed(TaskUpdate),
    /// Send a KILL for this Mesos task id (the current attempt's) naming this agent (when known).
    Send(TaskId, Option<AgentId>),
    /// No such live task.
    Unknown,
}

/// Every task the session knows, by phase.
#[derive(Debug)]
pub(crate) struct Tasks {
    live: BTreeMap<TaskId, Tracked>,
    /// Pending tasks ready to be placed, in submission order.
    pending: BTreeMap<u64, TaskId>,
    /// Pending tasks waiting out a retry backoff, by ready time.
    waiting: BTreeMap<(Duration, u64), TaskId>,
    /// Mesos task ids of retried attempts → the tasks' own ids.
    aliases: BTreeMap<TaskId, TaskId>,
    /// Tasks given up since the last [`Tasks::take_gave_up`]: id, attempts, last state.
    gave_up: Vec<(TaskId, u32, TaskState)>,
    /// The policy of tasks whose request names none.
    default_retry: RetryPolicy,
    /// The policies of buckets, for tasks whose request names none.
    bucket_retry: BTreeMap<String, RetryPolicy>,
    /// Jitter of the retry delays.
    rng: SeededRng,
    next_seq: u64,
    ended: BTreeMap<TaskId, TaskState>,
    ended_order: VecDeque<TaskId>,
    /// A task became pending since the last [`Tasks::take_fresh_pending`].
    fresh_pending: bool,
    /// Tasks whose running record (phase, agent, group, resources, claim) may have changed
    /// since the last [`Tasks::take_touched`], in the order they were touched, maybe twice.
    touched: Vec<TaskId>,
    /// Preempted tasks put back to pending since the last [`Tasks::take_preempted`].
    preempted: Vec<Preempted>,
    /// Gangs with live members (see `gang.rs`).
    gangs: gang::GangIndex,
}

impl Tasks {
    /// No tasks; retries by their bucket's policy in `bucket_retry`, else `default_retry`,
    /// jittered from `seed`.
    pub(crate) fn new(default_retry: RetryPolicy, bucket_retry: BTreeMap<String, RetryPolicy>, seed: u64) -> Tasks {
        Tasks {
            live: BTreeMap::new(),
            pending: BTreeMap::new(),
            waiting: BTreeMap::new(),
            aliases: BTreeMap::new(),
            gave_up: Vec::new(),
            default_retry,
            bucket_retry,
            rng: SeededRng::new(seed),
            next_seq: 0,
            ended: BTreeMap::new(),
            ended_order: VecDeque::new(),
            fresh_pending: false,
            touched: Vec::new(),
            preempted: Vec::new(),
            gangs: gang::GangIndex::default(),
        }
    }

    /// Adds a submitted task at `now`: pending, or (resumed after a backoff) waiting.
    pub(crate) fn submit(&mut self, request: TaskRequest, now: Duration) -> Result<TaskUpdate, SubmitError> {
        let id = request.spec.id.clone();
        let bucket = || self.bucket_retry.get(&*request.queue.bucket).copied();
        let policy = request.retry.or_else(bucket).unwrap_or(self.default_retry);
        policy.validate().map_err(SubmitError::InvalidRetry)?;
        self.check_gang(&request.spec).map_err(SubmitError::Gang)?;
        if self.aliases.contains_key(&id) {
            // The Mesos id of another task's retry.
            return Err(SubmitError::DuplicateTask(id));
        }
        if !self.live.contains_key(&id) {
            self.adopt_attempt(&id);
        }
        if let Some(t) = self.live.get_mut(&id) {
            if t.request.is_some() {
                return Err(SubmitError::DuplicateTask(id));
            }
            // A task adopted from an earlier incarnation, submitted again: it is the same task,
            // already running; its spec now says its group and resources.
            let gang = (request.spec.gang.clone(), request.spec.gang_size);
            t.group = Some(request.spec.group.clone());
            t.resources = request.spec.resources.clone();
            t.claims_agent = claims(&request);
            t.request = Some(Arc::new(request));
            t.policy = policy;
            self.touched.push(id.clone());
            let message = "submitted while running: adopted from an earlier scheduler";
            let mut update = TaskUpdate::session(id.clone(), t.state, t.agent.clone(), message);
            update.attempt = t.attempt;
            self.join_gang(&id, gang);
            return Ok(update);
        }
        self.ended.remove(&id);
        let seq = self.next_seq;
        self.next_seq += 1;
        let resume = request.resume;
        let mut tracked = Tracked {
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
            policy,
            attempt: 1,
            alias: None,
            ready_at: None,
            inherited: false,
            started: None,
            preempted_by: None,
            preemptions: 0,
        };
        if let Some(resume) = resume {
            self.resumed(&id, &mut tracked, resume, now);
        }
        let (attempt, ready_at) = (tracked.attempt, tracked.ready_at);
        let gang = tracked.request.as_ref().map(|r| (r.spec.gang.clone(), r.spec.gang_size));
        self.join_gang(&id, gang.unwrap_or_default());
        self.live.insert(id.clone(), tracked);
        match ready_at {
            Some(at) => {
                self.waiting.insert((at, seq), id.clone());
            }
            None => {
                self.pending.insert(seq, id.clone());
                self.fresh_pending = true;
            }
        }
        let mut update = TaskUpdate::session(id, TaskState::Pending, None, "submitted");
        update.attempt = attempt;
        Ok(update)
    }

    /// Whether a task is ready to be placed (tasks waiting out a backoff are not).
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The earliest ready time of a task waiting out a retry backoff.
    pub(crate) fn next_ready(&self) -> Option<Duration> {
        self.waiting.keys().next().map(|(at, _)| *at)
    }

    /// Makes the tasks whose ready time has come placeable; returns whether there were any.
    pub(crate) fn wake(&mut self, now: Duration) -> bool {
        let mut woke = false;
        while let Some(entry) = self.waiting.first_entry().filter(|e| e.key().0 <= now) {
            let ((_, seq), id) = entry.remove_entry();
            if let Some(t) = self.live.get_mut(&id) {
                t.ready_at = None;
            }
            self.pending.insert(seq, id);
            woke = true;
        }
        self.fresh_pending |= woke;
        woke
    }

    /// The task a Mesos task id belongs to: an attempt's id leads to its task.
    pub(crate) fn resolve<'a>(&'a self, mesos: &'a TaskId) -> &'a TaskId {
        self.aliases.get(mesos).unwrap_or(mesos)
    }

    /// The Mesos task id of a live task's current attempt.
    pub(crate) fn mesos_id(&self, id: &TaskId) -> TaskId {
        self.live.get(id).and_then(|t| t.alias.clone()).unwrap_or_else(|| id.clone())
    }

    /// Whether `mesos` is the Mesos id of a live task's current attempt.
    pub(crate) fn is_current(&self, mesos: &TaskId) -> bool {
        let id = self.resolve(mesos);
        self.live.get(id).is_some_and(|t| t.alias.as_ref().unwrap_or(id) == mesos)
    }

    /// Tasks given up since the last call: id, attempts launched, last state.
    pub(crate) fn take_gave_up(&mut self) -> Vec<(TaskId, u32, TaskState)> {
        std::mem::take(&mut self.gave_up)
    }

    /// Whether a task became pending (submitted, or back from a failed launch) since the last
    /// call; clears the flag.
    pub(crate) fn take_fresh_pending(&mut self) -> bool {
        std::mem::take(&mut self.fresh_pending)
    }

    pub(crate) fn launching(&self) -> usize {
        self.live.values().filter(|t| matches!(t.phase, Phase::Launching(_))).count()
    }

    /// The phase of a live task (by its own id or its current attempt's).
    pub(crate) fn phase(&self, id: &TaskId) -> Option<Phase> {
        self.live.get(self.resolve(id)).map(|t| t.phase)
    }

    /// The agent of a live task (by its own id or its current attempt's).
    pub(crate) fn agent(&self, id: &TaskId) -> Option<&AgentId> {
        self.live.get(self.resolve(id)).and_then(|t| t.agent.as_ref())
    }

    /// The last state reported for a task (live or recently ended).
    pub(crate) fn state(&self, id: &TaskId) -> Option<TaskState> {
        self.live.get(id).map(|t| t.state).or_else(|| self.ended.get(id).copied())
    }

    pub(crate) fn request(&self, id: &TaskId) -> Option<Arc<TaskRequest>> {
        self.live.get(id).filter(|t| t.phase == Phase::Pending).and_then(|t| t.request.clone())
    }

    /// The queue places of the pending tasks, in the order of [`Tasks::pending_specs`].
    pub(crate) fn pending_places(&self) -> Vec<QueuePlace> {
        let place = |id: &TaskId| Some(self.live.get(id)?.request.as_ref()?.queue.clone());
        self.pending.values().filter_map(place).collect()
    }

    /// The queue place of a submitted task.
    pub(crate) fn place_of(&self, id: &TaskId) -> Option<&QueuePlace> {
        self.live.get(id)?.request.as_ref().map(|r| &r.queue)
    }

    /// Pending tasks for the engine, in submission order.
    pub(crate) fn pending_specs(&self) -> Vec<TaskSpec> {
        let spec = |id: &TaskId| Some(self.live.get(id)?.request.as_ref()?.spec.clone());
        self.pending.values().filter_map(spec).collect()
    }

    /// A launched or active task as the engine counts it, for its constraints and claims: with
    /// the hostname and attributes of its agent when the book knows them, whether or not the
    /// agent is offered now (the engine counts a task of unknown place against every value).
    /// `None` for a task that is pending or gone, and for an adopted task whose group is unknown
    /// (it belongs to no group of this framework).
    pub(crate) fn running_one(&self, id: &TaskId, book: &AgentBook) -> Option<RunningTask> {
        let t = self.live.get(id).filter(|t| t.phase != Phase::Pending)?;
        let mut task = RunningTask::new(id.clone(), t.group.clone()?, t.agent.clone()?);
        task.resources = t.resources.clone();
        task.host = book.host(&task.agent_id);
        task.claims_agent = t.claims_agent;
        task.executor = t.executor();
        task.started = t.started.unwrap_or_default();
        if let Some(request) = &t.request {
            (task.priority, task.tier) = (request.spec.priority, request.queue.tier);
        }
        Some(task)
    }

    /// Launched and active tasks whose kill was asked for, by their own ids.
    pub(crate) fn dying(&self) -> Vec<TaskId> {
        let dying = |(_, t): &(&TaskId, &Tracked)| t.kill_requested && t.phase != Phase::Pending;
        self.live.iter().filter(dying).map(|(id, _)| id.clone()).collect()
    }

    /// Whether [`Tasks::running_one`] would give a task with `counted`'s agent, group, claim
    /// and resources (in any order), without building it; `None` when it would give none.
    pub(crate) fn runs_as(&self, id: &TaskId, counted: &RunningTask) -> Option<bool> {
        let t = self.live.get(id).filter(|t| t.phase != Phase::Pending)?;
        let (group, agent) = (t.group.as_ref()?, t.agent.as_ref()?);
        let same_resources =
            t.resources.len() == counted.resources.len() && t.resources.iter().all(|r| counted.resources.contains(r));
        let standing = t.request.as_ref().map_or((0, 0), |r| (r.spec.priority, r.queue.tier));
        Some(
            *group == counted.group
                && *agent == counted.agent_id
                && standing == (counted.priority, counted.tier)
                && t.claims_agent == counted.claims_agent
                && t.executor() == counted.executor
                && t.started.unwrap_or_default() == counted.started
                && same_resources,
        )
    }

    /// The tasks touched since the last call, each once (see [`Tasks::running_one`]).
    pub(crate) fn take_touched(&mut self) -> Vec<TaskId> {
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        touched
    }

    /// Every live task's id.
    #[cfg(test)]
    pub(crate) fn live_ids(&self) -> impl Iterator<Item = &TaskId> {
        self.live.keys()
    }

    /// Marks tasks as touched, e.g. when their agent's host details became known.
    pub(crate) fn touch(&mut self, ids: impl IntoIterator<Item = TaskId>) {
        self.touched.extend(ids);
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
    pub(crate) fn learn(&mut self, report: TaskReport, now: Duration) -> Option<TaskUpdate> {
        if let Some(outcome) = self.learn_submitted(&report, now) {
            return outcome;
        }
        let state = report.state?;
        if !self.live.contains_key(&report.id) && state.is_terminal() {
            // An ended task of an earlier scheduler (GET_TASKS lists completed tasks too).
            return None;
        }
        self.touched.push(report.id.clone());
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
        let seq = self.next_seq;
        self.next_seq += 1;
        self.ended.remove(&report.id);
        let mut tracked = Tracked::adopted(report.group, report.resources, state, seq);
        tracked.started = Some(now);
        tracked.claims_agent = report.claims_agent;
        tracked.agent = report.agent_id.clone();
        self.live.insert(report.id.clone(), tracked);
        let message = "adopted: running under this framework (operator API)";
        let mut update = TaskUpdate::session(report.id, state, report.agent_id, message);
        update.source = super::update::UpdateSource::Master;
        update.known = false;
        Some(update)
    }

    /// Launched and active tasks with their agents, by the Mesos ids of their current attempts:
    /// what explicit reconciliation asks about.
    pub(crate) fn reconcilable(&self) -> Vec<(TaskId, Option<AgentId>)> {
        self.live
            .iter()
            .filter(|(_, t)| t.phase != Phase::Pending)
            .map(|(id, t)| (t.alias.clone().unwrap_or_else(|| id.clone()), t.agent.clone()))
            .collect()
    }

    /// Launched and active tasks whose kill was asked for, by the Mesos ids of their current
    /// attempts.
    pub(crate) fn kills(&self) -> Vec<(TaskId, Option<AgentId>)> {
        let wanted = |t: &&Tracked| t.kill_requested && t.phase != Phase::Pending;
        let mesos = |(id, t): (&TaskId, &Tracked)| (t.alias.clone().unwrap_or_else(|| id.clone()), t.agent.clone());
        self.live.iter().filter(|(_, t)| wanted(t)).map(mesos).collect()
    }

    /// The KILL a live task still wants (its current Mesos id and agent), if a kill was asked
    /// for it and it is launched.
    pub(crate) fn kill_wanted(&self, id: &TaskId) -> Option<(TaskId, Option<AgentId>)> {
        let t = self.live.get(id).filter(|t| t.kill_requested && t.phase != Phase::Pending)?;
        Some((t.alias.clone().unwrap_or_else(|| id.clone()), t.agent.clone()))
    }

    /// Tasks launched by `call`.
    pub(crate) fn launched_by(&self, call: CallId) -> Vec<TaskId> {
        self.live.iter().filter(|(_, t)| t.phase == Phase::Launching(call)).map(|(id, _)| id.clone()).collect()
    }

    /// A pending task was put into an ACCEPT at `now` (its start, for preemption's youngest
    /// first).
    pub(crate) fn launched(&mut self, id: &TaskId, agent: &AgentId, call: CallId, now: Duration) -> Option<TaskUpdate> {
        let t = self.live.get_mut(id).filter(|t| t.phase == Phase::Pending)?;
        self.touched.push(id.clone());
        self.pending.remove(&t.seq);
        t.phase = Phase::Launching(call);
        t.state = TaskState::Launched;
        t.agent = Some(agent.clone());
        t.inherited = false;
        t.started = Some(now);
        let mut update = TaskUpdate::session(id.clone(), TaskState::Launched, t.agent.clone(), "launch sent");
        update.attempt = t.attempt;
        Some(update)
    }

    /// A launch that certainly did not run: back to pending, or given up after repeated rejections
    /// (`rejected`) or when a kill was asked for.
    pub(crate) fn relaunch(&mut self, id: &TaskId, rejected: bool, message: &str) -> Option<TaskUpdate> {
        let t = self.live.get_mut(id).filter(|t| matches!(t.phase, Phase::Launching(_)))?;
        self.touched.push(id.clone());
        t.rejected_launches += u32::from(rejected);
        if let Some(update) = self.relaunch_restarting(id, message) {
            return Some(update);
        }
        let t = self.live.get_mut(id)?;
        // A victim of preemption that never ran has nothing to give back: pending again.
        if t.kill_requested && t.preempted_by.take().is_none() {
            let mut update = self.end(id, TaskState::Killed, "killed before it was launched");
            update.message = self.gang_end_message(id, update.message.take());
            return Some(update);
        }
        t.kill_requested = false;
        t.started = None;
        if t.rejected_launches >= MAX_REJECTED_LAUNCHES {
            return Some(self.end(id, TaskState::Error, message));
        }
        t.phase = Phase::Pending;
        t.state = TaskState::Pending;
        let agent = t.agent.take();
        let attempt = t.attempt;
        self.pending.insert(t.seq, id.clone());
        self.fresh_pending = true;
        let mut update = TaskUpdate::session(id.clone(), TaskState::Pending, agent, message);
        update.attempt = attempt;
        Some(update)
    }

    /// Ends a live task with a state the session decides.
    pub(crate) fn end(&mut self, id: &TaskId, state: TaskState, message: &str) -> TaskUpdate {
        let attempt = self.live.get(id).map_or(0, |t| t.attempt);
        let agent = self.forget(id, state);
        let mut update = TaskUpdate::session(id.clone(), state, agent, message);
        update.attempt = attempt;
        update
    }

    /// Drops a live task that ended in `state`; a submitted task that did not finish and was
    /// not killed is given up.
    fn forget(&mut self, id: &TaskId, state: TaskState) -> Option<AgentId> {
        let t = self.live.remove(id)?;
        let how = match (&t.request, state) {
            (None, _) | (_, TaskState::Finished) => gang::Leaving::Quietly,
            (_, TaskState::Killed) => gang::Leaving::Killed,
            _ => gang::Leaving::GaveUp,
        };
        self.gangs.leave(id, t.request.as_ref().and_then(|r| r.spec.gang.as_ref()), how);
        self.touched.push(id.clone());
        self.pending.remove(&t.seq);
        if let Some(at) = t.ready_at {
            self.waiting.remove(&(at, t.seq));
        }
        if let Some(alias) = &t.alias {
            self.aliases.remove(alias);
            self.remember_end(alias, state);
        }
        self.remember_end(id, state);
        if t.request.is_some() && !matches!(state, TaskState::Finished | TaskState::Killed) {
            self.gave_up.push((id.clone(), t.attempt, state));
        }
        t.agent
    }

    /// Puts a task whose attempt ended in `state` back to pending under a new Mesos id, ready
    /// after its policy's backoff; `update` (the terminal one) becomes the pending one.
    fn requeue(&mut self, id: &TaskId, state: TaskState, mut update: TaskUpdate, now: Duration) -> TaskUpdate {
        let Some(t) = self.live.get(id) else { return update };
        let (ended, spent, policy) = (t.attempt, t.attempt.saturating_sub(t.preemptions), t.policy);
        let delay = policy.delay(spent, &mut self.rng);
        let ready = now.saturating_add(delay);
        self.next_attempt(id, state);
        let Some(t) = self.live.get_mut(id) else { return update };
        t.ready_at = Some(ready);
        update.agent_id = update.agent_id.take().or(t.agent.take());
        t.agent = None;
        self.waiting.insert((ready, t.seq), id.clone());
        let why = update.message.take().map(|m| format!(" ({m})")).unwrap_or_default();
        update.message = Some(format!(
            "attempt {spent} of {} ended {state}{why}; next attempt in {:.3}s",
            policy.attempts,
            delay.as_secs_f64()
        ));
        update.state = TaskState::Pending;
        update.attempt = ended + 1;
        update.retry_in = Some(delay);
        update
    }

    /// Ends the current attempt of a live task in `state` and makes it pending as the next
    /// attempt, under a new Mesos id (see `retry.rs`), not yet queued: the caller queues it.
    fn next_attempt(&mut self, id: &TaskId, state: TaskState) {
        let Some(t) = self.live.get(id) else { return };
        let (ended, old) = (t.attempt, t.alias.clone());
        if let Some(old) = old {
            self.aliases.remove(&old);
            self.remember_end(&old, state);
        }
        let mut alias = TaskId::new(format!("{id}.retry-{ended}"));
        let mut extra = 0u32;
        while self.live.contains_key(&alias) || self.aliases.contains_key(&alias) {
            extra += 1;
            alias = TaskId::new(format!("{id}.retry-{ended}-{extra}"));
        }
        self.aliases.insert(alias.clone(), id.clone());
        let Some(t) = self.live.get_mut(id) else { return };
        self.touched.push(id.clone());
        t.attempt = ended + 1;
        t.alias = Some(alias);
        t.phase = Phase::Pending;
        t.state = TaskState::Pending;
        t.started = None;
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
        // Asked for by the user (or by the preemption that sets it again right after).
        t.preempted_by = None;
        t.kill_requested = true;
        let step = KillStep::Send(t.alias.clone().unwrap_or_else(|| id.clone()), t.agent.clone());
        self.cancel_restart(id);
        step
    }

    /// Ends every live task (`all`) or only the pending ones, reporting each as killed.
    pub(crate) fn end_all(&mut self, all: bool, message: &str) -> Vec<TaskUpdate> {
        let ids: Vec<TaskId> =
            self.live.iter().filter(|(_, t)| all || t.phase == Phase::Pending).map(|(id, _)| id.clone()).collect();
        ids.iter().map(|id| self.end(id, TaskState::Killed, message)).collect()
    }
}

/// Whether a request's task claims its agent for its group.
fn claims(request: &TaskRequest) -> bool {
    request.spec.hard.iter().any(|c| c.claims_agent())
}
