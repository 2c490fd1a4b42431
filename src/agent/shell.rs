//! The agent's async shell: one loop that feeds [`AgentCore`] (master stream events, call
//! answers, fetch results, process exits, executor API requests, timers, leader changes) and
//! carries out its [`Action`]s with reqwest, hyper, the fetcher and child processes. The only
//! place reading the clock.
//!
//! With a `zk://` master URL, a ZooKeeper leader detector (`zk_shell`'s, the driver's)
//! names the leading master: calls go there, and each new leader gets a re-registration with
//! the agent's id and what it runs ([`AgentCore::handle_master_changed`]). While no leader was
//! ever known, registration waits; a leader that goes without a successor leaves calls going
//! to the last one, which answer or fail as they may.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Bytes;
use hyper::{header, Response, StatusCode};
use prost::Message as _;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::core::{Action, AgentConfig, AgentCore, Exit};
use super::executor_api::{ExecutorReply, Format};
use super::fetch_io::Fetcher;
use super::server::{plain, AgentBody, ExecutorCall, ServerState};
use crate::mesos::agent_api::{Call, Event};
use crate::mesos::recordio;
use crate::mesos::v1::{Attribute, Resource};
use crate::session::{Endpoint, ZkUrl};

/// The private agent API's path on the master.
const AGENT_API_PATH: &str = "/api/offerpack/agent";

/// How an agent process is set up (the CLI flags).
#[derive(Clone, Debug)]
pub struct AgentOptions {
    /// The master's base URL, e.g. `http://10.0.0.1:5050`, or a `zk://HOST:PORT[,…]/PATH`
    /// group to follow the leader of.
    pub master: String,
    /// Where to listen (port 0 picks one).
    pub listen: SocketAddr,
    /// The advertised host or IP.
    pub advertise_host: String,
    /// The advertised port; `None` follows the bound port.
    pub advertise_port: Option<u16>,
    /// Root of sandboxes and of the fetcher cache.
    pub work_dir: PathBuf,
    /// What the agent offers.
    pub resources: Vec<Resource>,
    /// The agent's attributes.
    pub attributes: Vec<Attribute>,
    /// An executor not subscribed this long after it started is killed.
    pub executor_registration_timeout: Duration,
    /// Seed of container ids and update uuids.
    pub seed: u64,
    /// How an `https://` master (and fetched `https://` URIs) are checked: the system's roots
    /// plus these CAs.
    pub tls: crate::tls::TlsConfig,
}

/// Why the agent could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum AgentError {
    /// Binding the listen address failed.
    Bind(std::io::Error),
    /// The tokio runtime could not be built.
    Runtime(std::io::Error),
    /// The work directory could not be created.
    WorkDir(std::io::Error),
    /// The master is a `zk://` URL that cannot be used.
    Master(crate::session::ZkUrlError),
    /// The HTTP client could not be built.
    Client(String),
    /// The master cannot be reached for a reason retrying cannot fix (e.g. its TLS certificate
    /// is not trusted), while the agent ran no process.
    Unreachable(String),
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::Bind(e) => write!(f, "cannot listen: {e}"),
            AgentError::Runtime(e) => write!(f, "cannot start the async runtime: {e}"),
            AgentError::WorkDir(e) => write!(f, "cannot create the work directory: {e}"),
            AgentError::Master(e) => write!(f, "--master: {e}"),
            AgentError::Client(e) => write!(f, "cannot build the HTTP client: {e}"),
            AgentError::Unreachable(why) => write!(f, "cannot register with the master: {why}"),
        }
    }
}

impl std::error::Error for AgentError {}

/// An input of the loop.
#[allow(clippy::large_enum_variant)] // moved once from producer to consumer; boxing buys nothing
enum Input {
    MasterEvent(u64, Event),
    RegisterFailed(u64, Option<u16>),
    /// REGISTER failed in a way asking again cannot fix (an untrusted TLS certificate).
    RegisterRefused(u64, String),
    StreamClosed(u64),
    PingAnswer(Option<u16>),
    UpdateAnswer(u64, Option<u16>),
    Fetched(String, Result<(), String>),
    Exited(String, Exit),
    Ignored,
}

/// Runs an agent on a new multi-threaded runtime, blocking for ever; `on_ready` gets the bound
/// address once listening. Returns only on a start-up error, or when the master cannot be
/// reached for good ([`AgentError::Unreachable`]).
pub fn run_agent_blocking(options: AgentOptions, on_ready: impl FnOnce(SocketAddr)) -> Result<(), AgentError> {
    run_agent_until(options, on_ready, |_| std::future::pending())
}

/// What an agent does with the processes it started when it stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentStop {
    /// Kill every task and executor process (their process groups, SIGKILL).
    KillTasks,
    /// Leave them running (executors notice the agent is gone and act on their own).
    LeaveTasks,
}

/// As [`run_agent_blocking`], until the future `stop` makes (given the bound address) ends:
/// then the agent stops serving and deals with its processes as it says, and this returns.
pub fn run_agent_until<F>(
    options: AgentOptions,
    on_ready: impl FnOnce(SocketAddr),
    stop: impl FnOnce(SocketAddr) -> F,
) -> Result<(), AgentError>
where
    F: std::future::Future<Output = AgentStop>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(AgentError::Runtime)?;
    if ZkUrl::is_zk(&options.master) {
        ZkUrl::parse(&options.master).map_err(AgentError::Master)?;
    }
    runtime.block_on(async move {
        std::fs::create_dir_all(&options.work_dir).map_err(AgentError::WorkDir)?;
        let listener = TcpListener::bind(options.listen).await.map_err(AgentError::Bind)?;
        let bound = listener.local_addr().map_err(AgentError::Bind)?;
        let client = crate::tls::client_builder(&options.tls).build().map_err(|e| AgentError::Client(e.to_string()))?;
        on_ready(bound);
        run(options, client, listener, bound, stop(bound)).await.map_err(AgentError::Unreachable)
    })
}

/// The shell's state besides the core.
struct Shell {
    core: AgentCore,
    start: Instant,
    client: reqwest::Client,
    /// Where agent API calls go; `None` until a ZooKeeper group names a leader.
    agent_url: Option<String>,
    fetcher: Fetcher,
    inputs: mpsc::UnboundedSender<Input>,
    register_task: Option<JoinHandle<()>>,
    pids: HashMap<String, u32>,
    streams: HashMap<u64, (mpsc::UnboundedSender<Bytes>, Format)>,
    gone: mpsc::UnboundedSender<u64>,
    registered: Arc<AtomicBool>,
    /// Why the agent must stop, when REGISTER failed for good.
    fatal: Option<String>,
}

async fn run(
    options: AgentOptions,
    client: reqwest::Client,
    listener: TcpListener,
    bound: SocketAddr,
    stop: impl std::future::Future<Output = AgentStop>,
) -> Result<(), String> {
    let mut stop = std::pin::pin!(stop);
    let config = AgentConfig {
        hostname: options.advertise_host.clone(),
        port: options.advertise_port.unwrap_or(bound.port()),
        resources: options.resources.clone(),
        attributes: options.attributes.clone(),
        work_dir: options.work_dir.clone(),
        executor_registration_timeout: options.executor_registration_timeout,
        executor_shutdown_grace_period: Duration::from_secs(5),
        seed: options.seed,
        // `offerpack agent` runs the `offerpack` binary: its `executor` subcommand is the
        // default executor of task groups.
        default_executor: std::env::current_exe().ok(),
    };
    let (inputs, mut inputs_rx) = mpsc::unbounded_channel();
    let (calls, mut calls_rx) = mpsc::unbounded_channel();
    let (gone, mut gone_rx) = mpsc::unbounded_channel();
    let fetcher = Fetcher::with_client(options.work_dir.join("fetch_cache"), client.clone());
    let registered = Arc::new(AtomicBool::new(false));
    let state = ServerState { calls, fetcher: fetcher.clone(), registered: registered.clone() };
    let (_stop, stop_rx) = oneshot::channel();
    tokio::spawn(super::server::serve(listener, stop_rx, state));
    let (agent_url, mut leaders) = match ZkUrl::parse(&options.master) {
        Ok(group) => (None, Some(crate::zk_shell::spawn_detector(group))),
        Err(_) => (Some(format!("{}{AGENT_API_PATH}", options.master.trim_end_matches('/'))), None),
    };
    let mut shell = Shell {
        core: AgentCore::new(config),
        start: Instant::now(),
        client,
        agent_url,
        fetcher,
        inputs,
        register_task: None,
        pids: HashMap::new(),
        streams: HashMap::new(),
        gone,
        registered,
        fatal: None,
    };
    let now = shell.now();
    shell.core.handle_start(now);
    loop {
        shell.drain();
        let deadline = shell.core.poll_timeout().map(|d| shell.start + d);
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(input) = inputs_rx.recv() => {
                shell.input(input);
                if let Some(why) = shell.fatal.take() {
                    return Err(why);
                }
            }
            Some(call) = calls_rx.recv() => shell.executor_call(call),
            leader = next_leader(&mut leaders) => shell.follow(leader),
            Some(stream) = gone_rx.recv() => {
                shell.streams.remove(&stream);
                let now = shell.now();
                shell.core.handle_executor_stream_gone(now, stream);
            }
            () = sleep => {
                let now = shell.now();
                shell.core.handle_timer(now);
            }
            mode = &mut stop => {
                if mode == AgentStop::KillTasks {
                    for &pid in shell.pids.values() {
                        super::spawn::signal_group(pid, super::core::Signal::Kill);
                    }
                }
                return Ok(());
            }
        }
    }
}

/// The next report of the leader detector, if there is one: the leader's endpoint or `None`.
async fn next_leader(leaders: &mut Option<watch::Receiver<Option<Endpoint>>>) -> Option<Endpoint> {
    if let Some(receiver) = leaders {
        if receiver.changed().await.is_ok() {
            return receiver.borrow_and_update().clone();
        }
    }
    // No detector, or it ended (it does not while this receiver lives).
    std::future::pending().await
}

impl Shell {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// A new leading master (or none): calls go to the new one, which gets a re-registration.
    fn follow(&mut self, leader: Option<Endpoint>) {
        let Some(leader) = leader else {
            eprintln!("agent: no leading master; calls still go to the last one");
            return;
        };
        eprintln!("agent: the leading master is now {}; registering there", leader.authority());
        self.agent_url = Some(format!("http://{}{AGENT_API_PATH}", leader.authority()));
        let now = self.now();
        self.core.handle_master_changed(now);
    }

    fn input(&mut self, input: Input) {
        let now = self.now();
        match input {
            Input::MasterEvent(attempt, event) => {
                if let Some(launch) = &event.launch {
                    let ids: Vec<&str> = launch.tasks.iter().map(|t| t.task_id.value.as_str()).collect();
                    let framework = launch.framework_info.id.as_ref().map_or("", |id| id.value.as_str());
                    eprintln!("agent: LAUNCH {} of framework {framework}", ids.join(" "));
                }
                let was = self.core.is_registered();
                self.core.handle_event(now, attempt, event);
                if !was && self.core.is_registered() {
                    let url = self.agent_url.as_deref().unwrap_or_default();
                    eprintln!("agent: registered as {} at {url}", self.core.agent_id().unwrap_or_default());
                }
            }
            Input::RegisterFailed(attempt, status) => {
                eprintln!("agent: registration failed ({})", status.map_or("unreachable".into(), |s| s.to_string()));
                self.core.handle_register_failed(now, attempt, status);
            }
            Input::RegisterRefused(attempt, why) => {
                eprintln!("agent: registration failed: {why}");
                // With processes running, keep them and keep trying; with none, stop and say why.
                if self.pids.is_empty() {
                    self.fatal = Some(why);
                } else {
                    self.core.handle_register_failed(now, attempt, None);
                }
            }
            Input::StreamClosed(attempt) => {
                tracing::debug!(attempt, "agent: master stream closed");
                self.core.handle_stream_closed(now, attempt);
            }
            Input::PingAnswer(status) => self.core.handle_ping_answer(now, status),
            Input::UpdateAnswer(key, status) => self.core.handle_update_answer(now, key, status),
            Input::Fetched(container, result) => self.core.handle_fetched(now, &container, result),
            Input::Ignored => {}
            Input::Exited(container, exit) => {
                tracing::debug!(container = container.as_str(), exit = ?exit, "agent: process exited");
                self.pids.remove(&container);
                self.core.handle_exited(now, &container, exit);
            }
        }
        self.registered.store(self.core.is_registered(), Ordering::Relaxed);
    }

    fn executor_call(&mut self, call: ExecutorCall) {
        let now = self.now();
        let response = match self.core.handle_executor_call(now, &call.request) {
            ExecutorReply::Plain(status, text) => {
                plain(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), text)
            }
            ExecutorReply::Stream { stream, format } => {
                let (tx, rx) = mpsc::unbounded_channel();
                self.streams.insert(stream, (tx, format));
                let mut response = Response::new(AgentBody::Stream { rx, id: stream, gone: self.gone.clone() });
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(format.media_type()));
                response
            }
        };
        let _ = call.reply.send(response);
    }

    /// Carries out every action the core has.
    fn drain(&mut self) {
        while let Some(action) = self.core.poll_action() {
            self.act(action);
        }
    }

    fn act(&mut self, action: Action) {
        tracing::trace!(action = action_name(&action), "agent: action");
        match action {
            Action::Register { attempt, call } => {
                if let Some(old) = self.register_task.take() {
                    old.abort();
                }
                // Without a leader yet, the registration waits for one (a new attempt then).
                let Some(url) = self.agent_url.clone() else { return };
                let task = register(self.client.clone(), url, attempt, call, self.inputs.clone());
                self.register_task = Some(tokio::spawn(task));
            }
            Action::Ping(call) => self.post(call, Input::PingAnswer),
            Action::Update { key, call } => self.post(call, move |s| Input::UpdateAnswer(key, s)),
            Action::ExecutorExited(call) => self.post(call, |_| Input::Ignored),
            Action::Fetch { container, sandbox, user, uris } => {
                let (fetcher, inputs) = (self.fetcher.clone(), self.inputs.clone());
                tokio::spawn(async move {
                    let result = match std::fs::create_dir_all(&sandbox) {
                        Ok(()) => fetcher.fetch_all(&container, &sandbox, &user, &uris).await,
                        Err(e) => Err(format!("cannot create the sandbox {}: {e}", sandbox.display())),
                    };
                    let _ = inputs.send(Input::Fetched(container, result));
                });
            }
            Action::Spawn { container, process } => self.spawn(container, &process),
            Action::Signal { container, signal } => {
                tracing::debug!(container = container.as_str(), signal = ?signal, "agent: signalling");
                if let Some(pid) = self.pids.get(&container) {
                    super::spawn::signal_group(*pid, signal);
                }
            }
            Action::ExecutorEvent { stream, event } => {
                if let Some((tx, format)) = self.streams.get(&stream) {
                    let _ = tx.send(recordio::encode_to_bytes(&format.encode(&event)));
                }
            }
            Action::CloseStream { stream } => {
                self.streams.remove(&stream);
            }
        }
    }

    fn spawn(&mut self, container: String, process: &super::core::ProcessSpec) {
        let now = self.now();
        match super::spawn::start(process) {
            Ok(child) => {
                if let Some(pid) = child.id() {
                    self.pids.insert(container.clone(), pid);
                }
                eprintln!("agent: started {container}: {} {:?}", process.program, process.args);
                let inputs = self.inputs.clone();
                let c = container.clone();
                tokio::spawn(async move {
                    let exit = super::spawn::wait(child).await;
                    let _ = inputs.send(Input::Exited(c, exit));
                });
                self.core.handle_spawned(now, &container, Ok(()));
            }
            Err(e) => {
                tracing::debug!(container = container.as_str(), error = %e, "agent: spawn failed");
                self.core.handle_spawned(now, &container, Err(format!("cannot run {}: {e}", process.program)));
            }
        }
    }

    /// POSTs a call on its own connection; the status (or `None`) goes back as an input.
    fn post(&self, call: Call, answer: impl FnOnce(Option<u16>) -> Input + Send + 'static) {
        let (client, url, inputs) = (self.client.clone(), self.agent_url.clone(), self.inputs.clone());
        tokio::spawn(async move {
            let Some(url) = url else {
                let _ = inputs.send(answer(None));
                return;
            };
            let sent = client
                .post(url)
                .header(header::CONTENT_TYPE.as_str(), "application/x-protobuf")
                .body(call.encode_to_vec())
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            let _ = inputs.send(answer(sent.ok().map(|r| r.status().as_u16())));
        });
    }
}

/// Opens the REGISTER stream and feeds its events to the loop until it ends.
async fn register(
    client: reqwest::Client,
    url: String,
    attempt: u64,
    call: Call,
    inputs: mpsc::UnboundedSender<Input>,
) {
    let sent = client
        .post(url)
        .header(header::CONTENT_TYPE.as_str(), "application/x-protobuf")
        .header(header::ACCEPT.as_str(), "application/x-protobuf")
        .body(call.encode_to_vec())
        .send()
        .await;
    let mut response = match sent {
        Ok(r) if r.status() == reqwest::StatusCode::OK => r,
        Ok(r) => {
            let _ = inputs.send(Input::RegisterFailed(attempt, Some(r.status().as_u16())));
            return;
        }
        Err(e) => {
            let input = match crate::tls::failure_of(&e) {
                Some(failure) => {
                    let host = e.url().and_then(|u| u.host_str()).unwrap_or("the master").to_owned();
                    Input::RegisterRefused(attempt, failure.describe(&host))
                }
                None => Input::RegisterFailed(attempt, None),
            };
            let _ = inputs.send(input);
            return;
        }
    };
    let mut decoder = recordio::Decoder::new();
    'stream: while let Ok(Some(chunk)) = response.chunk().await {
        decoder.push(&chunk);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => match Event::decode(frame) {
                    Ok(event) => {
                        let _ = inputs.send(Input::MasterEvent(attempt, event));
                    }
                    Err(_) => break 'stream,
                },
                Ok(None) => break,
                Err(_) => break 'stream,
            }
        }
    }
    let _ = inputs.send(Input::StreamClosed(attempt));
}

/// The name of an action, for logs.
fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Register { .. } => "register",
        Action::Ping(_) => "ping",
        Action::Update { .. } => "update",
        Action::ExecutorExited(_) => "executor_exited",
        Action::Fetch { .. } => "fetch",
        Action::Spawn { .. } => "spawn",
        Action::Signal { .. } => "signal",
        Action::ExecutorEvent { .. } => "executor_event",
        Action::CloseStream { .. } => "close_stream",
    }
}
