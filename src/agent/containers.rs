//! Containers of [`AgentCore`]: LAUNCH → fetch → spawn, command tasks run by the agent itself,
//! custom executors started once per (framework, executor id), kills with grace periods,
//! framework shutdown, process exits and executor registration timeouts.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use super::core::{Action, AgentCore, Exit, ProcessSpec, Signal};
use crate::mesos::agent_api::{call, event, Call};
use crate::mesos::v1::{
    executor, task_status, AgentId, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, Task, TaskId, TaskInfo,
    TaskState, TaskStatus,
};

/// Kill grace of command tasks without a kill policy.
pub const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(3);
/// `PATH` of every task and executor.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where a container is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Fetching,
    Spawning,
    Running,
}

/// What an executor is to be told once subscribed.
#[allow(clippy::large_enum_variant)] // moved once from producer to consumer; boxing buys nothing
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Delivery {
    Launch(TaskInfo),
    Group(Vec<TaskInfo>),
    Kill(TaskId, Option<crate::mesos::v1::KillPolicy>),
}

/// One task of a container and its latest state.
#[derive(Clone, Debug)]
pub(super) struct TaskEntry {
    pub(super) info: TaskInfo,
    pub(super) state: TaskState,
}

/// One container: a command task, or a custom executor and its tasks.
#[derive(Clone, Debug)]
pub(crate) struct Container {
    pub(super) framework: FrameworkInfo,
    pub(super) executor_id: String,
    /// `None` for a command task.
    pub(super) executor: Option<ExecutorInfo>,
    pub(super) sandbox: PathBuf,
    pub(super) phase: Phase,
    pub(super) tasks: BTreeMap<String, TaskEntry>,
    pub(super) pending: Vec<Delivery>,
    pub(super) stream: Option<u64>,
    pub(super) subscribed_once: bool,
    pub(super) registration_deadline: Option<Duration>,
    pub(super) kill_deadline: Option<Duration>,
    pub(super) kill_requested: bool,
    /// Framework shut down: no terminal updates for its tasks.
    pub(super) silent: bool,
    pub(super) cause: Option<task_status::Reason>,
    /// Uuids of the executor's updates already taken (re-SUBSCRIBE re-sends them).
    pub(super) seen_uuids: HashSet<Vec<u8>>,
}

impl Container {
    /// The earliest timer of this container.
    pub(super) fn deadline(&self) -> Option<Duration> {
        [self.registration_deadline, self.kill_deadline].into_iter().flatten().min()
    }

    /// Whether a process was started (or is being started) for it.
    pub(super) fn has_process(&self) -> bool {
        self.phase != Phase::Fetching
    }

    pub(super) fn framework_id(&self) -> &str {
        self.framework.id.as_ref().map_or("", |id| id.value.as_str())
    }
}

pub(super) fn is_terminal(state: TaskState) -> bool {
    use TaskState::*;
    matches!(
        state,
        TaskFinished | TaskFailed | TaskKilled | TaskError | TaskLost | TaskDropped | TaskGone | TaskGoneByOperator
    )
}

/// A status built by the agent (the uuid is added when queued).
pub(super) fn status(task: &str, state: TaskState, source: task_status::Source) -> TaskStatus {
    TaskStatus {
        task_id: TaskId { value: task.to_owned() },
        state: state as i32,
        source: Some(source as i32),
        ..Default::default()
    }
}

fn grace(d: Option<&crate::mesos::v1::DurationInfo>, default: Duration) -> Duration {
    d.and_then(|d| u64::try_from(d.nanoseconds).ok()).map_or(default, Duration::from_nanos)
}

/// stout's duration text: the largest unit giving a whole number (`5secs`, `250ms`).
pub(super) fn stout(d: Duration) -> String {
    let ns = d.as_nanos();
    let units: [(u128, &str); 7] = [
        (604_800_000_000_000, "weeks"),
        (86_400_000_000_000, "days"),
        (3_600_000_000_000, "hrs"),
        (60_000_000_000, "mins"),
        (1_000_000_000, "secs"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ];
    for (size, name) in units {
        if ns >= size && ns % size == 0 {
            return format!("{}{name}", ns / size);
        }
    }
    format!("{ns}ns")
}

impl AgentCore {
    /// A LAUNCH from the master.
    pub(super) fn launch(&mut self, launch: event::Launch) {
        let group_executor = launch.executor.clone();
        let framework = launch.framework_info;
        if let Some(executor) = group_executor {
            self.launch_on_executor(&framework, executor, Delivery::Group(launch.tasks));
            return;
        }
        for task in launch.tasks {
            if let Some(executor) = task.executor.clone() {
                self.launch_on_executor(&framework, executor, Delivery::Launch(task));
            } else if task.command.is_some() {
                self.launch_command(&framework, task);
            } else {
                let fw = framework.id.as_ref().map_or(String::new(), |i| i.value.clone());
                let mut s = status(&task.task_id.value, TaskState::TaskFailed, task_status::Source::Agent);
                s.reason = Some(task_status::Reason::TaskInvalid as i32);
                s.message = Some("Task has neither a command nor an executor".into());
                self.forward(&fw, s);
            }
        }
    }

    fn new_container(
        &mut self,
        framework: &FrameworkInfo,
        executor_id: &str,
        executor: Option<ExecutorInfo>,
    ) -> String {
        let id = crate::agent::uuid_text(&self.uuid());
        let sandbox = self
            .config
            .work_dir
            .join("slaves")
            .join(self.agent_id().unwrap_or("unregistered"))
            .join("frameworks")
            .join(framework.id.as_ref().map_or("", |i| i.value.as_str()))
            .join("executors")
            .join(executor_id)
            .join("runs")
            .join(&id);
        let container = Container {
            framework: framework.clone(),
            executor_id: executor_id.to_owned(),
            executor,
            sandbox,
            phase: Phase::Fetching,
            tasks: BTreeMap::new(),
            pending: Vec::new(),
            stream: None,
            subscribed_once: false,
            registration_deadline: None,
            kill_deadline: None,
            kill_requested: false,
            silent: false,
            cause: None,
            seen_uuids: HashSet::new(),
        };
        self.containers.insert(id.clone(), container);
        id
    }

    fn fetch(&mut self, id: &str, command: Option<&crate::mesos::v1::CommandInfo>) {
        let Some(c) = self.containers.get(id) else { return };
        let user = command.and_then(|c| c.user.clone()).unwrap_or_else(|| c.framework.user.clone());
        let uris = command.map(|c| c.uris.clone()).unwrap_or_default();
        let action = Action::Fetch { container: id.to_owned(), sandbox: c.sandbox.clone(), user, uris };
        self.push(action);
    }

    fn launch_command(&mut self, framework: &FrameworkInfo, task: TaskInfo) {
        let task_id = task.task_id.value.clone();
        let id = self.new_container(framework, &task_id, None);
        let command = task.command.clone();
        if let Some(c) = self.containers.get_mut(&id) {
            c.tasks.insert(task_id, TaskEntry { info: task, state: TaskState::TaskStaging });
        }
        self.fetch(&id, command.as_ref());
    }

    fn executor_container(&self, framework: &str, executor_id: &str) -> Option<String> {
        self.containers
            .iter()
            .find(|(_, c)| c.executor.is_some() && c.framework_id() == framework && c.executor_id == executor_id)
            .map(|(id, _)| id.clone())
    }

    fn launch_on_executor(&mut self, framework: &FrameworkInfo, executor: ExecutorInfo, delivery: Delivery) {
        let fw = framework.id.as_ref().map_or(String::new(), |i| i.value.clone());
        let executor_id = executor.executor_id.value.clone();
        let id = match self.executor_container(&fw, &executor_id) {
            Some(id) => id,
            None => {
                let id = self.new_container(framework, &executor_id, Some(executor.clone()));
                let command = match (&executor.command, &delivery) {
                    // A default executor has no command of its own: its sandbox gets the URIs of
                    // the group's tasks, which it runs there.
                    (None, Delivery::Group(tasks)) => Some(crate::mesos::v1::CommandInfo {
                        uris: tasks.iter().filter_map(|t| t.command.as_ref()).flat_map(|c| c.uris.clone()).collect(),
                        ..Default::default()
                    }),
                    (command, _) => command.clone(),
                };
                self.fetch(&id, command.as_ref());
                id
            }
        };
        let Some(c) = self.containers.get_mut(&id) else { return };
        let tasks = match &delivery {
            Delivery::Launch(t) => vec![t.clone()],
            Delivery::Group(ts) => ts.clone(),
            Delivery::Kill(..) => Vec::new(),
        };
        for t in tasks {
            c.tasks.insert(t.task_id.value.clone(), TaskEntry { info: t, state: TaskState::TaskStaging });
        }
        c.pending.push(delivery);
        self.deliver(&id);
    }

    /// Writes the container's pending deliveries on its stream, if it has one.
    pub(super) fn deliver(&mut self, id: &str) {
        let Some(c) = self.containers.get_mut(id) else { return };
        let Some(stream) = c.stream else { return };
        let events: Vec<executor::Event> = c.pending.drain(..).map(delivery_event).collect();
        for event in events {
            self.push(Action::ExecutorEvent { stream, event });
        }
    }

    /// The fetch of a container ended: spawn its process, or fail its tasks.
    pub fn handle_fetched(&mut self, _now: Duration, container: &str, result: Result<(), String>) {
        let Some(c) = self.containers.get_mut(container) else { return };
        if let Err(e) = result {
            let message =
                format!("Failed to launch container: Failed to fetch all URIs for container '{container}': {e}");
            self.launch_failed(container, message);
            return;
        }
        if c.kill_requested {
            let fw = c.framework_id().to_owned();
            let removed = self.containers.remove(container);
            for task in removed.into_iter().flat_map(|c| c.tasks.into_keys()) {
                self.forward(&fw, status(&task, TaskState::TaskKilled, task_status::Source::Agent));
            }
            return;
        }
        c.phase = Phase::Spawning;
        match self.process_spec(container) {
            Some(process) => self.push(Action::Spawn { container: container.to_owned(), process }),
            None => self.launch_failed(container, "Failed to launch container: no command to run".to_owned()),
        }
    }

    /// The process of a container started (`Ok`) or could not be started.
    pub fn handle_spawned(&mut self, now: Duration, container: &str, result: Result<(), String>) {
        let Some(c) = self.containers.get_mut(container) else { return };
        if let Err(e) = result {
            self.launch_failed(container, format!("Failed to launch container: {e}"));
            return;
        }
        c.phase = Phase::Running;
        if c.executor.is_some() {
            c.registration_deadline = Some(now + self.config.executor_registration_timeout);
            return;
        }
        let fw = c.framework_id().to_owned();
        let tasks: Vec<String> = c.tasks.keys().cloned().collect();
        for entry in c.tasks.values_mut() {
            entry.state = TaskState::TaskRunning;
        }
        for task in tasks {
            let mut starting = status(&task, TaskState::TaskStarting, task_status::Source::Executor);
            starting.executor_id = Some(ExecutorId { value: task.clone() });
            let mut running = starting.clone();
            running.state = TaskState::TaskRunning as i32;
            self.forward(&fw, starting);
            self.forward(&fw, running);
        }
    }

    /// Fetch or spawn failed: TASK_FAILED (launch failed) for every task, and for an executor
    /// an EXECUTOR_EXITED so that the master frees its resources.
    fn launch_failed(&mut self, container: &str, message: String) {
        let Some(c) = self.containers.remove(container) else { return };
        let fw = c.framework_id().to_owned();
        for task in c.tasks.keys() {
            let mut s = status(task, TaskState::TaskFailed, task_status::Source::Agent);
            s.reason = Some(task_status::Reason::ContainerLaunchFailed as i32);
            s.message = Some(message.clone());
            self.forward(&fw, s);
        }
        if c.executor.is_some() {
            self.executor_exited(&fw, &c, None);
        }
    }

    /// EXECUTOR_EXITED for the executor of `c`, sent once the updates of its tasks queued so
    /// far reached the master: otherwise the master, hearing of the exit first, would fail
    /// them as terminated executors' tasks and drop the agent's own, truer terminal updates
    /// (a fetch failure naming its URI, say).
    fn executor_exited(&mut self, framework: &str, c: &Container, status: Option<i32>) {
        let exited = call::ExecutorExited {
            framework_id: FrameworkId { value: framework.to_owned() },
            executor_id: ExecutorId { value: c.executor_id.clone() },
            status,
        };
        let call = Call {
            r#type: Some(call::Type::ExecutorExited as i32),
            agent_id: self.agent_id().map(|value| AgentId { value: value.to_owned() }),
            executor_exited: Some(exited),
            ..Default::default()
        };
        let tasks = c.tasks.keys().map(|task| (framework.to_owned(), task.clone())).collect();
        self.exit_after_updates(tasks, call);
    }

    /// A container's process ended.
    pub fn handle_exited(&mut self, _now: Duration, container: &str, exit: Exit) {
        let Some(c) = self.containers.remove(container) else { return };
        let fw = c.framework_id().to_owned();
        if let Some(stream) = c.stream {
            self.push(Action::CloseStream { stream });
        }
        if c.executor.is_none() {
            self.command_exited(&fw, &c, exit);
            return;
        }
        let code = match exit {
            Exit::Code(n) => n,
            Exit::Signal(s) => -s,
        };
        if !c.silent {
            let reason = c.cause.unwrap_or(task_status::Reason::ExecutorTerminated);
            for (task, entry) in &c.tasks {
                if is_terminal(entry.state) {
                    continue;
                }
                let mut s = status(task, TaskState::TaskFailed, task_status::Source::Agent);
                s.reason = Some(reason as i32);
                s.executor_id = Some(ExecutorId { value: c.executor_id.clone() });
                s.message = Some(format!("Executor terminated ({})", describe(exit)));
                self.forward(&fw, s);
            }
        }
        self.executor_exited(&fw, &c, Some(code));
    }

    fn command_exited(&mut self, fw: &str, c: &Container, exit: Exit) {
        if c.silent {
            return;
        }
        let state = match exit {
            _ if c.kill_requested => TaskState::TaskKilled,
            Exit::Code(0) => TaskState::TaskFinished,
            _ => TaskState::TaskFailed,
        };
        for task in c.tasks.keys() {
            let mut s = status(task, state, task_status::Source::Executor);
            s.executor_id = Some(ExecutorId { value: task.clone() });
            s.message = Some(describe(exit));
            self.forward(fw, s);
        }
    }

    /// A KILL from the master.
    pub(super) fn kill(&mut self, now: Duration, kill: event::Kill) {
        let (fw, task) = (kill.framework_id.value.clone(), kill.task_id.value.clone());
        let found = self.containers.iter().find(|(_, c)| c.framework_id() == fw && c.tasks.contains_key(&task));
        let Some((id, c)) = found.map(|(id, c)| (id.clone(), c)) else {
            let mut s = status(&task, TaskState::TaskLost, task_status::Source::Agent);
            s.message = Some("Task is unknown to the agent".into());
            self.forward(&fw, s);
            return;
        };
        if c.executor.is_some() {
            self.kill_on_executor(&id, kill);
            return;
        }
        let policy = kill.kill_policy.or_else(|| c.tasks.get(&task).and_then(|t| t.info.kill_policy));
        let grace = grace(policy.as_ref().and_then(|p| p.grace_period.as_ref()), DEFAULT_KILL_GRACE);
        self.terminate(now, &id, grace);
    }

    /// KILL for an executor's task: a launch not yet delivered is dropped and the task reported
    /// TASK_KILLED by the agent; otherwise the executor gets a KILL event (queued until it
    /// subscribes).
    fn kill_on_executor(&mut self, id: &str, kill: event::Kill) {
        let Some(c) = self.containers.get_mut(id) else { return };
        let task = kill.task_id.value.clone();
        let queued = c.pending.iter().position(|d| matches!(d, Delivery::Launch(t) if t.task_id.value == task));
        if let Some(at) = queued {
            c.pending.remove(at);
            if let Some(entry) = c.tasks.get_mut(&task) {
                entry.state = TaskState::TaskKilled;
            }
            let fw = c.framework_id().to_owned();
            let mut s = status(&task, TaskState::TaskKilled, task_status::Source::Agent);
            s.executor_id = Some(ExecutorId { value: c.executor_id.clone() });
            self.forward(&fw, s);
            return;
        }
        c.pending.push(Delivery::Kill(kill.task_id, kill.kill_policy));
        self.deliver(id);
    }

    /// SIGTERM now (when a process runs), SIGKILL after `grace`.
    fn terminate(&mut self, now: Duration, id: &str, grace: Duration) {
        let Some(c) = self.containers.get_mut(id) else { return };
        c.kill_requested = true;
        if c.has_process() {
            c.kill_deadline = Some(c.kill_deadline.map_or(now + grace, |d| d.min(now + grace)));
            self.push(Action::Signal { container: id.to_owned(), signal: Signal::Term });
        }
    }

    /// SHUTDOWN_FRAMEWORK: SHUTDOWN to its executors, SIGTERM to its command tasks, SIGKILL to
    /// both after their grace periods; no terminal updates.
    pub(super) fn shutdown_framework(&mut self, now: Duration, framework: &str) {
        let ids: Vec<String> =
            self.containers.iter().filter(|(_, c)| c.framework_id() == framework).map(|(id, _)| id.clone()).collect();
        for id in ids {
            let Some(c) = self.containers.get_mut(&id) else { continue };
            c.silent = true;
            if !c.has_process() {
                self.containers.remove(&id);
                continue;
            }
            let default = self.config.executor_shutdown_grace_period;
            match (&c.executor, c.stream) {
                (Some(info), Some(stream)) => {
                    let g = grace(info.shutdown_grace_period.as_ref(), default);
                    c.kill_deadline = Some(now + g);
                    let event =
                        executor::Event { r#type: Some(executor::event::Type::Shutdown as i32), ..Default::default() };
                    self.push(Action::ExecutorEvent { stream, event });
                }
                (Some(info), None) => {
                    let g = grace(info.shutdown_grace_period.as_ref(), default);
                    self.terminate(now, &id, g);
                }
                (None, _) => self.terminate(now, &id, DEFAULT_KILL_GRACE),
            }
        }
    }

    /// Kill deadlines and executor registration timeouts.
    pub(super) fn container_timers(&mut self, now: Duration) {
        let mut kills = Vec::new();
        for (id, c) in &mut self.containers {
            if c.kill_deadline.is_some_and(|d| d <= now) {
                c.kill_deadline = None;
                kills.push(id.clone());
            }
            if c.registration_deadline.is_some_and(|d| d <= now) {
                c.registration_deadline = None;
                if !c.subscribed_once {
                    c.cause = Some(task_status::Reason::ExecutorRegistrationTimeout);
                    kills.push(id.clone());
                }
            }
        }
        for container in kills {
            self.push(Action::Signal { container, signal: Signal::Kill });
        }
    }

    /// Tasks for a re-registration, with executors: every task still running, and every task
    /// with updates still queued (ended ones included), in the state [`AgentCore::listed_state`]
    /// says.
    pub(super) fn running_tasks_and_executors(&self) -> (Vec<Task>, Vec<ExecutorInfo>) {
        let agent = AgentId { value: self.agent_id().unwrap_or_default().to_owned() };
        let mut tasks: BTreeMap<(String, String), Task> = BTreeMap::new();
        for c in self.containers.values() {
            for (id, entry) in &c.tasks {
                let Some(state) = self.listed_state(c.framework_id(), id, entry.state) else { continue };
                let task = Task {
                    name: entry.info.name.clone(),
                    task_id: TaskId { value: id.clone() },
                    framework_id: FrameworkId { value: c.framework_id().to_owned() },
                    executor_id: c.executor.as_ref().map(|e| e.executor_id.clone()),
                    agent_id: agent.clone(),
                    state: state as i32,
                    resources: entry.info.resources.clone(),
                    ..Default::default()
                };
                tasks.insert((c.framework_id().to_owned(), id.clone()), task);
            }
        }
        // Ended tasks whose container is gone: what their queued update says.
        for (framework, status) in self.queued_updates() {
            let key = (framework.to_owned(), status.task_id.value.clone());
            let state = self.listed_state(framework, &key.1, status.state()).unwrap_or(TaskState::TaskStaging);
            tasks.entry(key).or_insert_with(|| Task {
                name: status.task_id.value.clone(),
                task_id: status.task_id.clone(),
                framework_id: FrameworkId { value: framework.to_owned() },
                executor_id: status.executor_id.clone(),
                agent_id: agent.clone(),
                state: state as i32,
                ..Default::default()
            });
        }
        let executors = self.containers.values().filter_map(|c| c.executor.clone()).collect();
        (tasks.into_values().collect(), executors)
    }
}

/// How a process ended, in words.
fn describe(exit: Exit) -> String {
    match exit {
        Exit::Code(n) => format!("Command exited with status {n}"),
        Exit::Signal(s) => format!("Command terminated with signal {s}"),
    }
}

/// The executor event for a delivery.
pub(super) fn delivery_event(delivery: Delivery) -> executor::Event {
    use executor::event::{Kill, Launch, LaunchGroup, Type};
    match delivery {
        Delivery::Launch(task) => {
            executor::Event { r#type: Some(Type::Launch as i32), launch: Some(Launch { task }), ..Default::default() }
        }
        Delivery::Group(tasks) => executor::Event {
            r#type: Some(Type::LaunchGroup as i32),
            launch_group: Some(LaunchGroup { task_group: crate::mesos::v1::TaskGroupInfo { tasks } }),
            ..Default::default()
        },
        Delivery::Kill(task_id, kill_policy) => executor::Event {
            r#type: Some(Type::Kill as i32),
            kill: Some(Kill { task_id, kill_policy }),
            ..Default::default()
        },
    }
}

impl AgentCore {
    fn process_spec(&self, container: &str) -> Option<ProcessSpec> {
        let c = self.containers.get(container)?;
        super::process::process_spec_for(self, container, c)
    }
}
