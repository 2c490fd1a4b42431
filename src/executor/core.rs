//! [`ExecutorCore`]: the executor's protocol state machine. No clock, no I/O; time comes in as
//! `now` (a [`Duration`] since an epoch the caller keeps fixed), randomness from a seed.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use crate::mesos::v1::executor::{call, event, Call, Event};
use crate::mesos::v1::task_status::{Reason, Source};
use crate::mesos::v1::{DurationInfo, ExecutorId, FrameworkId, KillPolicy, TaskId, TaskInfo, TaskState, TaskStatus};
use crate::util::SeededRng;

use super::env::ExecutorEnv;
use super::process::process_spec;
use super::updates::{uuid_v4, CallId, Updates};
pub use super::values::{Action, CallOutcome, ExitReason, Note, ProcessExit, Signal};

/// How long after a refused or failed UPDATE call it is sent again.
pub const UPDATE_RETRY: Duration = Duration::from_secs(1);

/// The share of the shutdown grace period tasks get between SIGTERM and SIGKILL on SHUTDOWN,
/// so that their terminal updates can still go out before the agent's own deadline.
const SHUTDOWN_KILL_SHARE: f64 = 0.8;

/// The state of the link to the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// Waiting to subscribe at this time.
    Idle(Duration),
    /// SUBSCRIBE sent; SUBSCRIBED not received yet.
    Subscribing,
    /// SUBSCRIBED received.
    Subscribed,
    /// Given up (shutting down, or exited).
    Closed,
}

/// A task with a live (or starting) process.
#[derive(Debug)]
struct Task {
    pgid: Option<u32>,
    kill_grace: Option<Duration>,
    /// When SIGKILL follows the SIGTERM of a kill, and whether it was sent.
    kill: Option<(Duration, bool)>,
}

/// The executor's protocol state machine.
///
/// Inputs are the `handle_*` methods; after each, drain [`poll_action`](Self::poll_action) and
/// [`poll_note`](Self::poll_note), then wait until [`poll_timeout`](Self::poll_timeout) and
/// call [`handle_timeout`](Self::handle_timeout). A new core's first action is the SUBSCRIBE.
#[derive(Debug)]
pub struct ExecutorCore {
    env: ExecutorEnv,
    sandbox: PathBuf,
    rng: SeededRng,
    link: Link,
    /// When the link was first lost since the last SUBSCRIBED.
    lost_since: Option<Duration>,
    tasks: BTreeMap<String, Task>,
    /// The task groups launched with LAUNCH_GROUP (task ids) while a member runs: a member
    /// that fails has the rest of its group killed, as Mesos' default executor does.
    groups: Vec<Vec<String>>,
    /// Tasks none of whose updates are acknowledged yet, in launch order.
    unacked_tasks: Vec<TaskInfo>,
    updates: Updates,
    /// The SHUTDOWN deadline.
    shutdown: Option<Duration>,
    exited: bool,
    actions: VecDeque<Action>,
    notes: VecDeque<Note>,
}

impl ExecutorCore {
    /// A core for the executor described by `env`, drawing uuids and waits from `seed`.
    pub fn new(env: ExecutorEnv, seed: u64) -> ExecutorCore {
        let mut core = ExecutorCore {
            sandbox: env.sandbox.clone(),
            env,
            rng: SeededRng::new(seed),
            link: Link::Subscribing,
            lost_since: None,
            tasks: BTreeMap::new(),
            groups: Vec::new(),
            unacked_tasks: Vec::new(),
            updates: Updates::default(),
            shutdown: None,
            exited: false,
            actions: VecDeque::new(),
            notes: VecDeque::new(),
        };
        core.subscribe();
        core
    }

    /// The next thing for the shell to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next thing that happened, for the log.
    pub fn poll_note(&mut self) -> Option<Note> {
        self.notes.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next (`None`: nothing is timed).
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.exited {
            return None;
        }
        let retry = match self.link {
            Link::Idle(at) => Some(at),
            Link::Subscribed => self.updates.next_retry(),
            Link::Subscribing | Link::Closed => None,
        };
        let recovery = self.recovery_deadline().filter(|_| self.link != Link::Subscribed);
        let kills = self.tasks.values().filter_map(|t| t.kill.filter(|k| !k.1).map(|k| k.0));
        [retry, recovery, self.shutdown].into_iter().flatten().chain(kills).min()
    }

    /// Whether the core has asked the shell to exit.
    pub fn has_exited(&self) -> bool {
        self.exited
    }

    /// The SUBSCRIBE was answered 200: events follow on the stream. (Nothing changes until
    /// SUBSCRIBED arrives; this input exists for symmetry and the shell's log.)
    pub fn handle_stream_opened(&mut self, _now: Duration) {}

    /// The SUBSCRIBE failed: no connection, or a status other than 200.
    pub fn handle_subscribe_failed(&mut self, now: Duration, why: String) {
        if self.link == Link::Subscribing {
            self.link_lost(now, why);
        }
    }

    /// The event stream ended or broke.
    pub fn handle_disconnected(&mut self, now: Duration, why: String) {
        if matches!(self.link, Link::Subscribing | Link::Subscribed) {
            self.link_lost(now, why);
        }
    }

    /// The process was asked to stop (e.g. SIGTERM): act as on a SHUTDOWN event.
    pub fn handle_stop(&mut self, now: Duration) {
        self.shut_down(now);
    }

    /// A deadline from [`poll_timeout`](Self::poll_timeout) has passed.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.exited {
            return;
        }
        if self.shutdown.is_some_and(|deadline| deadline <= now) {
            return self.exit(ExitReason::Shutdown);
        }
        if self.link != Link::Subscribed && self.recovery_deadline().is_some_and(|d| d <= now) {
            return self.exit(ExitReason::RecoveryTimedOut);
        }
        if matches!(self.link, Link::Idle(at) if at <= now) {
            self.subscribe();
        }
        for (task_id, task) in &mut self.tasks {
            if let (Some((deadline, false)), Some(pgid)) = (task.kill, task.pgid) {
                if deadline <= now {
                    task.kill = Some((deadline, true));
                    self.actions.push_back(Action::Signal { task_id: task_id.clone(), pgid, signal: Signal::Kill });
                }
            }
        }
        self.send_due(now);
    }

    /// An event arrived on the stream.
    pub fn handle_event(&mut self, now: Duration, event: Event) {
        if self.exited {
            return;
        }
        let kind = event.r#type();
        match kind {
            event::Type::Subscribed => self.subscribed(now, event.subscribed),
            event::Type::Launch => match event.launch {
                Some(launch) => self.launch(now, launch.task),
                None => self.ignored("LAUNCH without its payload"),
            },
            event::Type::LaunchGroup => match event.launch_group {
                Some(group) => self.launch_group(now, group.task_group.tasks),
                None => self.ignored("LAUNCH_GROUP without its payload"),
            },
            event::Type::Kill => match event.kill {
                Some(kill) => {
                    let grace = kill.kill_policy.as_ref().and_then(policy_grace);
                    self.kill(now, &kill.task_id.value, grace);
                }
                None => self.ignored("KILL without its payload"),
            },
            event::Type::Acknowledged => match event.acknowledged {
                Some(ack) => self.acknowledged(now, &ack.task_id.value, &ack.uuid),
                None => self.ignored("ACKNOWLEDGED without its payload"),
            },
            event::Type::Message => {
                self.notes.push_back(Note::Message(event.message.map_or(0, |m| m.data.len())));
            }
            event::Type::Error => {
                let message = event.error.map_or_else(String::new, |e| e.message);
                self.notes.push_back(Note::AgentError(message));
                if self.shutdown.is_none() {
                    self.subscribe();
                }
            }
            event::Type::Shutdown => self.shut_down(now),
            event::Type::Heartbeat | event::Type::Unknown => {}
        }
    }

    /// The call `id` from [`Action::Send`] was answered.
    pub fn handle_call_answered(&mut self, now: Duration, id: CallId, outcome: CallOutcome) {
        let accepted = outcome == CallOutcome::Accepted;
        if let Some(task_id) = self.updates.answered(id, accepted, now + UPDATE_RETRY) {
            if !accepted {
                let outcome = match outcome {
                    CallOutcome::Status(code) => format!("status {code}"),
                    CallOutcome::Failed(why) => why,
                    CallOutcome::Accepted => String::new(),
                };
                self.notes.push_back(Note::UpdateRefused { task_id, outcome });
            }
        }
        self.send_due(now);
    }

    /// The process of a task from [`Action::Start`] is running, as group `pgid`.
    pub fn handle_process_started(&mut self, now: Duration, task_id: &str, pgid: u32) {
        let Some(task) = self.tasks.get_mut(task_id) else { return };
        task.pgid = Some(pgid);
        let killing = task.kill.is_some();
        if killing {
            self.actions.push_back(Action::Signal { task_id: task_id.to_owned(), pgid, signal: Signal::Term });
        }
        self.update(now, task_id, TaskState::TaskRunning, None, None);
    }

    /// The process of a task from [`Action::Start`] could not be started.
    pub fn handle_spawn_failed(&mut self, now: Duration, task_id: &str, error: &str) {
        if self.tasks.remove(task_id).is_some() {
            let message = format!("Failed to start the command: {error}");
            self.update(now, task_id, TaskState::TaskFailed, Some(message), Some(Reason::CommandExecutorFailed));
            self.kill_group_of(now, task_id);
            self.check_shutdown_done();
        }
    }

    /// The process of a task ended.
    pub fn handle_process_exited(&mut self, now: Duration, task_id: &str, exit: ProcessExit) {
        let Some(task) = self.tasks.remove(task_id) else { return };
        let message = match exit {
            ProcessExit::Code(code) => format!("Command exited with status {code}"),
            ProcessExit::Signal(signal) => format!("Command terminated by signal {signal}"),
        };
        let state = match exit {
            _ if task.kill.is_some() => TaskState::TaskKilled,
            ProcessExit::Code(0) => TaskState::TaskFinished,
            _ => TaskState::TaskFailed,
        };
        self.update(now, task_id, state, Some(message), None);
        if state == TaskState::TaskFailed {
            self.kill_group_of(now, task_id);
        }
        self.check_shutdown_done();
    }

    fn recovery_deadline(&self) -> Option<Duration> {
        self.lost_since.map(|since| since + self.env.recovery_timeout)
    }

    fn ignored(&mut self, what: &str) {
        self.notes.push_back(Note::Ignored(what.to_owned()));
    }

    /// Queues a SUBSCRIBE listing everything unacknowledged.
    fn subscribe(&mut self) {
        self.link = Link::Subscribing;
        let subscribe = call::Subscribe {
            unacknowledged_tasks: self.unacked_tasks.clone(),
            unacknowledged_updates: self.updates.for_subscribe(),
        };
        let mut call = self.call(call::Type::Subscribe);
        call.subscribe = Some(subscribe);
        self.actions.push_back(Action::Subscribe(call));
    }

    fn call(&self, kind: call::Type) -> Call {
        Call {
            executor_id: ExecutorId { value: self.env.executor_id.clone() },
            framework_id: FrameworkId { value: self.env.framework_id.clone() },
            r#type: Some(kind as i32),
            ..Default::default()
        }
    }

    fn link_lost(&mut self, now: Duration, reason: String) {
        if self.shutdown.is_some() {
            self.link = Link::Closed;
            self.notes.push_back(Note::LinkLost { reason, retry_in: None });
            return self.check_shutdown_done();
        }
        if !self.env.checkpoint {
            self.notes.push_back(Note::LinkLost { reason, retry_in: None });
            return self.exit(ExitReason::AgentGone);
        }
        let since = *self.lost_since.get_or_insert(now);
        if now >= since + self.env.recovery_timeout {
            self.notes.push_back(Note::LinkLost { reason, retry_in: None });
            return self.exit(ExitReason::RecoveryTimedOut);
        }
        let max = u64::try_from(self.env.backoff_max.as_nanos()).unwrap_or(u64::MAX);
        let wait = Duration::from_nanos(self.rng.below(max.saturating_add(1)));
        self.link = Link::Idle(now + wait);
        self.notes.push_back(Note::LinkLost { reason, retry_in: Some(wait) });
    }

    fn subscribed(&mut self, now: Duration, subscribed: Option<event::Subscribed>) {
        if self.link == Link::Closed {
            return;
        }
        self.link = Link::Subscribed;
        self.lost_since = None;
        let agent = subscribed.map_or_else(String::new, |s| s.agent_info.hostname);
        self.notes.push_back(Note::Subscribed { agent });
        self.send_due(now);
    }

    fn launch(&mut self, now: Duration, task: TaskInfo) {
        let task_id = task.task_id.value.clone();
        if self.tasks.contains_key(&task_id) {
            return self.ignored(&format!("LAUNCH of task {task_id}, which is running already"));
        }
        self.unacked_tasks.retain(|t| t.task_id.value != task_id);
        self.unacked_tasks.push(task.clone());
        if self.shutdown.is_some() {
            let message = Some("The executor is shutting down".to_owned());
            return self.update(now, &task_id, TaskState::TaskKilled, message, None);
        }
        match process_spec(&task, &self.sandbox) {
            Err(message) => {
                self.update(now, &task_id, TaskState::TaskFailed, Some(message), Some(Reason::CommandExecutorFailed))
            }
            Ok(spec) => {
                let kill_grace = task.kill_policy.as_ref().and_then(policy_grace);
                self.tasks.insert(task_id.clone(), Task { pgid: None, kill_grace, kill: None });
                self.update(now, &task_id, TaskState::TaskStarting, None, None);
                self.actions.push_back(Action::Start { task_id, spec });
            }
        }
    }

    /// A task group: all its tasks start, or, when one cannot (no command), none does and each
    /// fails saying which could not.
    fn launch_group(&mut self, now: Duration, tasks: Vec<TaskInfo>) {
        let invalid =
            tasks.iter().find_map(|t| process_spec(t, &self.sandbox).err().map(|e| (t.task_id.value.clone(), e)));
        if let Some((bad, why)) = invalid {
            for task in tasks {
                let id = task.task_id.value.clone();
                self.unacked_tasks.retain(|t| t.task_id.value != id);
                self.unacked_tasks.push(task);
                let message =
                    if id == bad { why.clone() } else { format!("task {bad} of its group cannot start: {why}") };
                self.update(now, &id, TaskState::TaskFailed, Some(message), Some(Reason::CommandExecutorFailed));
            }
            return;
        }
        self.groups.retain(|g| g.iter().any(|t| self.tasks.contains_key(t)));
        self.groups.push(tasks.iter().map(|t| t.task_id.value.clone()).collect());
        tasks.into_iter().for_each(|task| self.launch(now, task));
    }

    /// Kills the other live tasks of the group `task_id` (which failed) belongs to.
    fn kill_group_of(&mut self, now: Duration, task_id: &str) {
        let Some(group) = self.groups.iter().position(|g| g.iter().any(|t| t == task_id)) else { return };
        let others: Vec<String> = self.groups.swap_remove(group);
        for other in others.iter().filter(|t| *t != task_id) {
            if self.tasks.get(other).is_some_and(|t| t.kill.is_none()) {
                self.kill(now, other, None);
            }
        }
    }

    /// SIGTERM now (or once started), SIGKILL after the grace period: the KILL's policy, else
    /// the task's, else the executor's shutdown grace period. A second KILL may only shorten it.
    fn kill(&mut self, now: Duration, task_id: &str, grace: Option<Duration>) {
        let Some(task) = self.tasks.get_mut(task_id) else {
            return self.ignored(&format!("KILL of task {task_id}, which is not running"));
        };
        let deadline = now + grace.or(task.kill_grace).unwrap_or(self.env.shutdown_grace);
        match &mut task.kill {
            Some((old, escalated)) => {
                if !*escalated && deadline < *old {
                    *old = deadline;
                }
            }
            None => {
                task.kill = Some((deadline, false));
                if let Some(pgid) = task.pgid {
                    self.actions.push_back(Action::Signal { task_id: task_id.to_owned(), pgid, signal: Signal::Term });
                }
            }
        }
    }

    fn acknowledged(&mut self, now: Duration, task_id: &str, uuid: &[u8]) {
        if !self.updates.acknowledge(task_id, uuid) {
            return self.ignored(&format!("ACKNOWLEDGED of an unknown update of task {task_id}"));
        }
        self.unacked_tasks.retain(|t| t.task_id.value != task_id);
        self.send_due(now);
        self.check_shutdown_done();
    }

    fn shut_down(&mut self, now: Duration) {
        if self.shutdown.is_some() || self.exited {
            return;
        }
        self.shutdown = Some(now + self.env.shutdown_grace);
        let grace = self.env.shutdown_grace.mul_f64(SHUTDOWN_KILL_SHARE);
        let live: Vec<String> = self.tasks.keys().cloned().collect();
        for task_id in live {
            let task_grace = self.tasks.get(&task_id).and_then(|t| t.kill_grace).unwrap_or(grace);
            self.kill(now, &task_id, Some(task_grace.min(grace)));
        }
        self.check_shutdown_done();
    }

    /// Exits after SHUTDOWN once no task runs and every update is acknowledged (or can no
    /// longer be, the link being down).
    fn check_shutdown_done(&mut self) {
        if self.shutdown.is_some()
            && !self.exited
            && self.tasks.is_empty()
            && (self.updates.is_empty() || self.link != Link::Subscribed)
        {
            self.exit(ExitReason::Shutdown);
        }
    }

    /// Kills what still runs (SIGKILL) and asks the shell to exit.
    fn exit(&mut self, reason: ExitReason) {
        for (task_id, task) in &self.tasks {
            if let Some(pgid) = task.pgid {
                self.actions.push_back(Action::Signal { task_id: task_id.clone(), pgid, signal: Signal::Kill });
            }
        }
        self.link = Link::Closed;
        self.exited = true;
        self.actions.push_back(Action::Exit(reason));
    }

    fn update(
        &mut self,
        now: Duration,
        task_id: &str,
        state: TaskState,
        message: Option<String>,
        reason: Option<Reason>,
    ) {
        let status = TaskStatus {
            task_id: TaskId { value: task_id.to_owned() },
            state: state as i32,
            message: message.clone(),
            source: Some(Source::Executor as i32),
            reason: reason.map(|r| r as i32),
            executor_id: Some(ExecutorId { value: self.env.executor_id.clone() }),
            uuid: Some(uuid_v4(&mut self.rng).to_vec()),
            ..Default::default()
        };
        self.notes.push_back(Note::TaskState { task_id: task_id.to_owned(), state, message });
        self.updates.push(status);
        self.send_due(now);
    }

    /// Sends the updates that may go now (only while subscribed).
    fn send_due(&mut self, now: Duration) {
        if self.link != Link::Subscribed || self.exited {
            return;
        }
        for (id, status) in self.updates.due(now) {
            let mut call = self.call(call::Type::Update);
            call.update = Some(call::Update { status });
            self.actions.push_back(Action::Send { id, call });
        }
    }
}

/// A kill policy's grace period (negative durations count as zero).
fn policy_grace(policy: &KillPolicy) -> Option<Duration> {
    policy.grace_period.as_ref().map(|DurationInfo { nanoseconds }| Duration::from_nanos((*nanoseconds).max(0) as u64))
}
