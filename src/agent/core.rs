//! [`AgentCore`]: the sans-IO agent. Registration with the master (private agent API), pings,
//! status update forwarding (in order per task, re-sent until 202), and the timers; containers
//! and the executor API are in `containers` and `executor_api`. Time comes in
//! as `now` (any monotonic origin); output comes out of [`AgentCore::poll_action`], drained
//! after every input, and [`AgentCore::poll_timeout`] says when to call
//! [`AgentCore::handle_timer`].

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::time::Duration;

use super::containers::{is_terminal, Container};
use crate::mesos::agent_api::{call, event, Call, Event};
use crate::mesos::v1::command_info::Uri;
use crate::mesos::v1::{self, executor, AgentId, AgentInfo, Attribute, Resource, TaskState, TaskStatus};
use crate::util::SeededRng;

/// How long to wait before registering again after a failed attempt.
pub const REGISTER_RETRY: Duration = Duration::from_secs(1);
/// How long to wait before registering again with a master that does not lead (307 or 503):
/// the election may settle any moment.
pub const NOT_LEADING_RETRY: Duration = Duration::from_millis(250);
/// How long to wait before re-sending an UPDATE the master did not take.
pub const UPDATE_RETRY: Duration = Duration::from_secs(1);

/// What the agent is and how it behaves.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Advertised host or IP (`AgentInfo.hostname`).
    pub hostname: String,
    /// Advertised port, where `/api/v1/executor` is served (`AgentInfo.port`).
    pub port: u16,
    /// What the agent offers (`--resources`).
    pub resources: Vec<Resource>,
    /// The agent's attributes (`--attributes`).
    pub attributes: Vec<Attribute>,
    /// Root of the sandboxes (`--work_dir`).
    pub work_dir: PathBuf,
    /// An executor not subscribed this long after it started is killed.
    pub executor_registration_timeout: Duration,
    /// Grace period of executors whose `ExecutorInfo` names none.
    pub executor_shutdown_grace_period: Duration,
    /// Seed of container ids and agent-made update uuids.
    pub seed: u64,
    /// The program run, with the argument `executor`, as the default executor of task groups
    /// (`LAUNCH_GROUP` with `ExecutorInfo.type = DEFAULT`, which names no command): `offerpack`
    /// itself. `None` fails such groups at launch.
    pub default_executor: Option<PathBuf>,
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Exited with this status code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

/// A signal for a container's process group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: please stop.
    Term,
    /// SIGKILL: stop now.
    Kill,
}

/// A process to start: `program` with `args`, only `env` as its environment, in `cwd`, in its
/// own process group, standard output and error to `cwd/stdout` and `cwd/stderr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Program path (or `/bin/sh` for shell commands).
    pub program: String,
    /// Arguments after the program name.
    pub args: Vec<String>,
    /// The whole environment.
    pub env: Vec<(String, String)>,
    /// Working directory: the sandbox.
    pub cwd: PathBuf,
}

/// Something the shell must do, from [`AgentCore::poll_action`].
#[allow(clippy::large_enum_variant)] // moved once from producer to consumer; boxing buys nothing
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open the REGISTER stream (dropping any older one); report its fate tagged `attempt`.
    Register {
        /// Tags the stream's inputs; older attempts are ignored.
        attempt: u64,
        /// The REGISTER call.
        call: Call,
    },
    /// POST a PING; report the status to [`AgentCore::handle_ping_answer`].
    Ping(Call),
    /// POST an UPDATE; report the status to [`AgentCore::handle_update_answer`] with `key`.
    Update {
        /// Identifies this send.
        key: u64,
        /// The UPDATE call.
        call: Call,
    },
    /// POST an EXECUTOR_EXITED (best effort).
    ExecutorExited(Call),
    /// Fetch `uris` into `sandbox` (created first), then call [`AgentCore::handle_fetched`].
    Fetch {
        /// The container.
        container: String,
        /// Its sandbox.
        sandbox: PathBuf,
        /// The cache user.
        user: String,
        /// What to fetch, in order.
        uris: Vec<Uri>,
    },
    /// Start the container's process, then call [`AgentCore::handle_spawned`] and, when it
    /// ends, [`AgentCore::handle_exited`].
    Spawn {
        /// The container.
        container: String,
        /// What to run.
        process: ProcessSpec,
    },
    /// Signal the container's process group.
    Signal {
        /// The container.
        container: String,
        /// Which signal.
        signal: Signal,
    },
    /// Write an event on an executor's SUBSCRIBE stream.
    ExecutorEvent {
        /// The stream.
        stream: u64,
        /// The event.
        event: executor::Event,
    },
    /// End an executor's SUBSCRIBE stream.
    CloseStream {
        /// The stream.
        stream: u64,
    },
}

/// Where the agent stands with the master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Down { retry_at: Duration },
    Registering,
    Registered,
}

/// One status update waiting for its 202.
#[derive(Clone, Debug)]
struct Pending {
    call: Call,
    in_flight: Option<u64>,
    retry_at: Option<Duration>,
}

/// The sans-IO agent; see the module docs.
#[derive(Debug)]
pub struct AgentCore {
    pub(super) config: AgentConfig,
    pub(super) rng: SeededRng,
    agent_id: Option<String>,
    link: Link,
    attempt: u64,
    ping: Option<(Duration, Duration)>,
    updates: BTreeMap<(String, String), VecDeque<Pending>>,
    in_flight: HashMap<u64, (String, String)>,
    /// The state of each task's last update a master took (202), while it has not ended: what
    /// a re-registration lists while later updates of it are still queued.
    taken: BTreeMap<(String, String), TaskState>,
    next_key: u64,
    pub(super) containers: BTreeMap<String, Container>,
    pub(super) next_stream: u64,
    actions: VecDeque<Action>,
    /// EXECUTOR_EXITED calls waiting until no update of these (framework, task)s is queued.
    exits: Vec<(Vec<(String, String)>, Call)>,
}

impl AgentCore {
    /// A core that has not registered yet; call [`AgentCore::handle_start`].
    pub fn new(config: AgentConfig) -> AgentCore {
        let rng = SeededRng::new(config.seed);
        AgentCore {
            config,
            rng,
            agent_id: None,
            link: Link::Down { retry_at: Duration::MAX },
            attempt: 0,
            ping: None,
            updates: BTreeMap::new(),
            in_flight: HashMap::new(),
            taken: BTreeMap::new(),
            next_key: 0,
            containers: BTreeMap::new(),
            next_stream: 0,
            actions: VecDeque::new(),
            exits: Vec::new(),
        }
    }

    /// The agent id the master gave, once registered.
    pub fn agent_id(&self) -> Option<&str> {
        self.agent_id.as_deref()
    }

    /// Whether the REGISTER stream is open and REGISTERED was received.
    pub fn is_registered(&self) -> bool {
        self.link == Link::Registered
    }

    /// Starts: registers without an id.
    pub fn handle_start(&mut self, _now: Duration) {
        self.register();
    }

    /// The next thing for the shell to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`AgentCore::handle_timer`] is next due, if ever.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let mut due: Vec<Duration> = Vec::new();
        if let Link::Down { retry_at } = self.link {
            due.push(retry_at);
        }
        due.extend(self.ping.map(|(_, next)| next));
        due.extend(self.updates.values().filter_map(|q| q.front().and_then(|p| p.retry_at)));
        due.extend(self.containers.values().filter_map(Container::deadline));
        due.into_iter().filter(|d| *d != Duration::MAX).min()
    }

    /// Fires what is due at `now`: register retries, pings, update re-sends, kills, executor
    /// registration timeouts.
    pub fn handle_timer(&mut self, now: Duration) {
        if matches!(self.link, Link::Down { retry_at } if retry_at <= now) {
            self.register();
        }
        if let (Some((interval, next)), Some(id)) = (self.ping, self.agent_id.clone()) {
            if next <= now {
                self.ping = Some((interval, now + interval));
                let call = Call {
                    r#type: Some(call::Type::Ping as i32),
                    agent_id: Some(AgentId { value: id }),
                    ..Default::default()
                };
                self.push(Action::Ping(call));
            }
        }
        for queue in self.updates.values_mut() {
            if let Some(head) = queue.front_mut() {
                if head.retry_at.is_some_and(|t| t <= now) {
                    head.retry_at = None;
                }
            }
        }
        self.pump_updates();
        self.container_timers(now);
    }

    /// An event of the REGISTER stream of `attempt`.
    pub fn handle_event(&mut self, now: Duration, attempt: u64, event: Event) {
        if attempt != self.attempt {
            return;
        }
        match event.r#type() {
            event::Type::Registered => {
                let Some(registered) = event.registered else { return };
                self.agent_id = Some(registered.agent_id.value);
                self.link = Link::Registered;
                let interval = Duration::try_from_secs_f64(registered.ping_interval_seconds)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .unwrap_or(Duration::from_secs(1));
                self.ping = Some((interval, now + interval));
                self.pump_updates();
            }
            event::Type::Launch => {
                if let Some(launch) = event.launch {
                    self.launch(launch);
                }
            }
            event::Type::Kill => {
                if let Some(kill) = event.kill {
                    self.kill(now, kill);
                }
            }
            event::Type::ShutdownFramework => {
                if let Some(shutdown) = event.shutdown_framework {
                    self.shutdown_framework(now, &shutdown.framework_id.value);
                }
            }
            event::Type::Heartbeat | event::Type::Unknown => {}
        }
    }

    /// The REGISTER request of `attempt` failed: `status` is the HTTP status, `None` when the
    /// master could not be reached. 403 (removed agent) kills everything and registers afresh.
    pub fn handle_register_failed(&mut self, now: Duration, attempt: u64, status: Option<u16>) {
        if attempt != self.attempt {
            return;
        }
        match status {
            Some(403) => {
                self.forget_everything();
                self.register();
            }
            Some(307 | 503) => self.link = Link::Down { retry_at: now + NOT_LEADING_RETRY },
            _ => self.link = Link::Down { retry_at: now + REGISTER_RETRY },
        }
    }

    /// A leader detector reports a new leading master (the shell now sends calls there):
    /// register with it at once, with the id and what runs, as after a broken stream. Updates
    /// on their way to the old master are sent again once registered (the masters drop
    /// duplicates by uuid). Nothing happens before the first registration attempt.
    pub fn handle_master_changed(&mut self, _now: Duration) {
        if self.attempt == 0 {
            return;
        }
        self.in_flight.clear();
        for queue in self.updates.values_mut() {
            if let Some(head) = queue.front_mut() {
                head.in_flight = None;
                head.retry_at = None;
            }
        }
        self.ping = None;
        self.register();
    }

    /// The REGISTER stream of `attempt` ended: register again with the id (after a short wait).
    pub fn handle_stream_closed(&mut self, now: Duration, attempt: u64) {
        if attempt == self.attempt {
            self.link = Link::Down { retry_at: now + REGISTER_RETRY / 2 };
        }
    }

    /// The answer to a PING; 404 (unknown agent) kills everything and registers afresh.
    pub fn handle_ping_answer(&mut self, _now: Duration, status: Option<u16>) {
        if status == Some(404) {
            self.forget_everything();
            self.register();
        }
    }

    /// The answer to the UPDATE sent as `key`: 202 releases the task's next update; 404 is
    /// as for PING; anything else re-sends later.
    pub fn handle_update_answer(&mut self, now: Duration, key: u64, status: Option<u16>) {
        let Some(task) = self.in_flight.remove(&key) else { return };
        if status == Some(404) {
            self.forget_everything();
            self.register();
            return;
        }
        if let Some(queue) = self.updates.get_mut(&task) {
            if status == Some(202) {
                if let Some(state) = queue.pop_front().and_then(|taken| taken.call.update).map(|u| u.status.state()) {
                    match is_terminal(state) {
                        true => self.taken.remove(&task),
                        false => self.taken.insert(task.clone(), state),
                    };
                }
                if queue.is_empty() {
                    self.updates.remove(&task);
                }
            } else if let Some(head) = queue.front_mut() {
                head.in_flight = None;
                head.retry_at = Some(now + UPDATE_RETRY);
            }
        }
        self.pump_updates();
        self.release_exits();
    }

    /// Sends `call` (an EXECUTOR_EXITED) once no update of `tasks` is queued any more.
    pub(super) fn exit_after_updates(&mut self, tasks: Vec<(String, String)>, call: Call) {
        self.exits.push((tasks, call));
        self.release_exits();
    }

    fn release_exits(&mut self) {
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.exits)
            .into_iter()
            .partition(|(tasks, _)| tasks.iter().all(|task| !self.updates.contains_key(task)));
        self.exits = waiting;
        for (_, call) in ready {
            self.push(Action::ExecutorExited(call));
        }
    }

    pub(super) fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    /// A random UUID v4 (16 bytes, version nibble 4, RFC 4122 variant).
    pub(super) fn uuid(&mut self) -> Vec<u8> {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        b[8..].copy_from_slice(&self.rng.next_u64().to_le_bytes());
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        b.to_vec()
    }

    /// Queues a status update of `framework`'s task for the master; a missing uuid gets a fresh
    /// one (executor updates are deduplicated by their container before coming here).
    pub(super) fn forward(&mut self, framework: &str, mut status: TaskStatus) {
        if status.uuid.is_none() {
            status.uuid = Some(self.uuid());
        }
        if status.agent_id.is_none() {
            status.agent_id = self.agent_id.clone().map(|value| AgentId { value });
        }
        let task = (framework.to_owned(), status.task_id.value.clone());
        let update = call::Update { framework_id: v1::FrameworkId { value: framework.to_owned() }, status };
        let call = Call { r#type: Some(call::Type::Update as i32), update: Some(update), ..Default::default() };
        self.updates.entry(task).or_default().push_back(Pending { call, in_flight: None, retry_at: None });
        self.pump_updates();
    }

    /// Sends the head update of every task that has none in flight (once registered).
    fn pump_updates(&mut self) {
        let Some(id) = self.agent_id.clone() else { return };
        if self.link != Link::Registered {
            return;
        }
        let mut sends = Vec::new();
        for (task, queue) in &mut self.updates {
            let Some(head) = queue.front_mut() else { continue };
            if head.in_flight.is_some() || head.retry_at.is_some() {
                continue;
            }
            self.next_key += 1;
            head.in_flight = Some(self.next_key);
            head.call.agent_id = Some(AgentId { value: id.clone() });
            self.in_flight.insert(self.next_key, task.clone());
            sends.push(Action::Update { key: self.next_key, call: head.call.clone() });
        }
        self.actions.extend(sends);
    }

    /// The state a re-registration lists `task` of `framework` in: while updates of it are
    /// queued, the state of the last one a master took (STAGING if none), so that the new
    /// master sees them follow in order; else `current`. `None` for a task that ended and has
    /// nothing queued (not listed).
    pub(super) fn listed_state(&self, framework: &str, task: &str, current: TaskState) -> Option<TaskState> {
        let key = (framework.to_owned(), task.to_owned());
        if self.updates.contains_key(&key) {
            return Some(self.taken.get(&key).copied().unwrap_or(TaskState::TaskStaging));
        }
        (!is_terminal(current)).then_some(current)
    }

    /// The oldest queued update of every task that has one: `(framework, status)`.
    pub(super) fn queued_updates(&self) -> impl Iterator<Item = (&str, &TaskStatus)> {
        self.updates.iter().filter_map(|((framework, _), queue)| {
            let status = &queue.front()?.call.update.as_ref()?.status;
            Some((framework.as_str(), status))
        })
    }

    /// Starts a REGISTER attempt (with the id when the agent has one, listing what runs).
    fn register(&mut self) {
        self.attempt += 1;
        self.link = Link::Registering;
        let info = AgentInfo {
            hostname: self.config.hostname.clone(),
            port: Some(i32::from(self.config.port)),
            resources: self.config.resources.clone(),
            attributes: self.config.attributes.clone(),
            id: self.agent_id.clone().map(|value| AgentId { value }),
            domain: None,
        };
        let (tasks, executors) = self.running_tasks_and_executors();
        let register = call::Register { agent_info: info, tasks, executors };
        let call = Call { r#type: Some(call::Type::Register as i32), register: Some(register), ..Default::default() };
        self.push(Action::Register { attempt: self.attempt, call });
    }

    /// The agent was removed (403/404): kill every process, drop every container, stream and
    /// pending update, and forget the id.
    fn forget_everything(&mut self) {
        let containers = std::mem::take(&mut self.containers);
        for (id, container) in containers {
            if container.has_process() {
                self.push(Action::Signal { container: id, signal: Signal::Kill });
            }
            if let Some(stream) = container.stream {
                self.push(Action::CloseStream { stream });
            }
        }
        self.updates.clear();
        self.in_flight.clear();
        self.taken.clear();
        self.exits.clear();
        self.agent_id = None;
        self.ping = None;
    }
}
