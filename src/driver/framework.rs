//! The API for framework authors: [`FrameworkConfig`], [`Framework::start`], [`FrameworkHandle`].

use std::fmt;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::run::Driver;
use super::{Encoding, HttpTransport, Transport, TransportError};
use crate::engine::EngineConfig;
use crate::model::TaskId;
use crate::session::{Endpoint, EndpointError, ZkUrl, ZkUrlError};
use crate::session::{KillError, SessionConfig, SessionConfigError, StopMode, SubmitError, TaskRequest, Update};
use crate::tls::TlsConfig;

/// Default of [`FrameworkConfig::calls_in_flight`]: acknowledgements and launches of different
/// tasks travel together over a few keep-alive connections (see the driver's call lanes).
pub const DEFAULT_CALLS_IN_FLIGHT: usize = 8;

/// Task state changes and session events, in order. The channel closes after
/// [`Update::Stopped`].
pub type Updates = mpsc::UnboundedReceiver<Update>;

/// Everything needed to run a framework.
///
/// ```
/// use std::time::Duration;
/// use offerpack::driver::{Encoding, FrameworkConfig};
/// let config = FrameworkConfig::new("sleepers", "root", ["http://10.0.0.1:5050", "10.0.0.2:5050"])
///     .roles(["batch"])
///     .failover_timeout(Duration::from_secs(3600))
///     .encoding(Encoding::Json)
///     .refuse_seconds(10.0);
/// assert_eq!(config.session.roles, ["batch"]);
/// ```
#[derive(Clone, Debug)]
pub struct FrameworkConfig {
    /// Scheduler API addresses of the masters, tried in turn (`host:port`, `http://host:port`,
    /// `https://host:port` or a full URL); the leader is learned from redirects. Parsed into
    /// [`SessionConfig::masters`] at start (the session chooses among them). Or, alone, a
    /// ZooKeeper URL `zk://host:port[,host:port…]/path` ([`ZkUrl`]): the driver then follows
    /// the leader the masters elect there and re-subscribes when it changes.
    pub masters: Vec<String>,
    /// Wire encoding (protobuf by default).
    pub encoding: Encoding,
    /// Secret for HTTP Basic authentication with [`SessionConfig::principal`].
    pub secret: Option<super::Secret>,
    /// Timeout of one call (not of the event stream, which the heartbeat watchdog guards).
    pub call_timeout: Duration,
    /// Timeout for opening a connection.
    pub connect_timeout: Duration,
    /// Retries of a call or operator read after a 503, 429, other transient 5xx, 404 or a
    /// connection failure before it counts as failed. The session retries (with seeded jitter):
    /// this sets [`SessionConfig::call_retry`]'s `attempts` to `call_retries + 1` at start.
    pub call_retries: u32,
    /// First retry delay of a call; doubles each time, ±20 % jitter. Sets
    /// [`SessionConfig::call_retry`]'s `backoff` at start.
    pub retry_delay: Duration,
    /// Most calls on the wire at once, each on its own request over the client's keep-alive
    /// connections (so also about how many connections calls use). A task's acknowledgements
    /// stay in order and calls such as REVIVE, KILL or TEARDOWN go alone (see the driver docs);
    /// 1 sends every call in order, one at a time.
    pub calls_in_flight: usize,
    /// Framework identity, timers and engine settings.
    pub session: SessionConfig,
    /// Where the driver counts what it does (feature `metrics`); `None` counts nothing.
    #[cfg(feature = "metrics")]
    pub metrics: Option<crate::telemetry::FrameworkMetrics>,
    /// How `https://` masters are checked: the system's roots plus these CAs. A certificate
    /// that fails the check stops the framework ([`StopReason::ConnectFailed`](crate::session::StopReason::ConnectFailed)), without retries.
    pub tls: TlsConfig,
}

impl FrameworkConfig {
    /// Defaults for framework `name` running tasks as `user` on the cluster of `masters`: one
    /// week failover timeout, checkpointing, role `*`, protobuf.
    pub fn new(name: &str, user: &str, masters: impl IntoIterator<Item = impl Into<String>>) -> FrameworkConfig {
        let mut session = SessionConfig::new(name, user);
        session.seed = name.bytes().fold(session.seed, |h, b| h.rotate_left(5) ^ u64::from(b));
        FrameworkConfig {
            masters: masters.into_iter().map(Into::into).collect(),
            encoding: Encoding::Protobuf,
            secret: None,
            call_timeout: Duration::from_secs(75),
            connect_timeout: Duration::from_secs(10),
            call_retries: 3,
            retry_delay: Duration::from_millis(250),
            calls_in_flight: DEFAULT_CALLS_IN_FLIGHT,
            session,
            #[cfg(feature = "metrics")]
            metrics: None,
            tls: TlsConfig::new(),
        }
    }

    /// Subscribes with these roles.
    pub fn roles(mut self, roles: impl IntoIterator<Item = impl Into<String>>) -> FrameworkConfig {
        self.session.roles = roles.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the failover timeout.
    pub fn failover_timeout(mut self, timeout: Duration) -> FrameworkConfig {
        self.session.failover_timeout = timeout;
        self
    }

    /// Turns agent checkpointing on or off.
    pub fn checkpoint(mut self, checkpoint: bool) -> FrameworkConfig {
        self.session.checkpoint = checkpoint;
        self
    }

    /// Sets the principal (for reservations and authorization) without a secret.
    pub fn principal(mut self, principal: impl Into<String>) -> FrameworkConfig {
        self.session.principal = Some(principal.into());
        self
    }

    /// Sets the hostname the master shows for the framework.
    pub fn hostname(mut self, hostname: impl Into<String>) -> FrameworkConfig {
        self.session.hostname = Some(hostname.into());
        self
    }

    /// Authenticates as `principal` with `secret` (HTTP Basic).
    pub fn credentials(mut self, principal: impl Into<String>, secret: impl Into<String>) -> FrameworkConfig {
        self.session.principal = Some(principal.into());
        self.secret = Some(super::Secret::new(secret));
        self
    }

    /// Fails over from an earlier scheduler with this framework id, adopting its tasks.
    pub fn framework_id(mut self, id: impl Into<String>) -> FrameworkConfig {
        self.session.framework_id = Some(id.into());
        self
    }

    /// Chooses the wire encoding.
    pub fn encoding(mut self, encoding: Encoding) -> FrameworkConfig {
        self.encoding = encoding;
        self
    }

    /// Sets `Filters.refuse_seconds` for declined resources.
    pub fn refuse_seconds(mut self, seconds: f64) -> FrameworkConfig {
        self.session.refuse_seconds = seconds;
        self
    }

    /// Counts the driver's work into `metrics` (feature `metrics`; see
    /// [`telemetry`](crate::telemetry) for the names).
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, metrics: crate::telemetry::FrameworkMetrics) -> FrameworkConfig {
        self.metrics = Some(metrics);
        self
    }

    /// Trusts the CAs of `tls` (besides the system's roots) for `https://` masters.
    pub fn tls(mut self, tls: TlsConfig) -> FrameworkConfig {
        self.tls = tls;
        self
    }

    /// Sets the engine's settings.
    pub fn engine(mut self, engine: EngineConfig) -> FrameworkConfig {
        self.session.engine = engine;
        self
    }

    /// The session's settings with the driver-level ones forwarded: the parsed masters, and
    /// `call_retries` and `retry_delay` as [`SessionConfig::call_retry`]'s attempts and backoff.
    pub(crate) fn session_config(&self) -> Result<SessionConfig, StartError> {
        if self.masters.is_empty() {
            return Err(StartError::NoMasters);
        }
        let mut session = self.session.clone();
        // With ZooKeeper the list is replaced by the detected leader before any subscription.
        if self.zookeeper()?.is_none() {
            let masters = self.masters.iter().map(|m| Endpoint::parse(m).map_err(StartError::Master));
            session.masters = masters.collect::<Result<_, _>>()?;
        }
        let retry = &mut session.call_retry;
        retry.attempts = self.call_retries.saturating_add(1);
        retry.backoff = self.retry_delay;
        retry.max_backoff = retry.max_backoff.max(self.retry_delay);
        Ok(session)
    }

    /// The ZooKeeper URL when the masters are one `zk://` URL; an error when it is unusable or
    /// not alone.
    pub(crate) fn zookeeper(&self) -> Result<Option<ZkUrl>, StartError> {
        match self.masters.as_slice() {
            [one] if ZkUrl::is_zk(one) => ZkUrl::parse(one).map(Some).map_err(StartError::ZooKeeper),
            many => match many.iter().find(|m| ZkUrl::is_zk(m)) {
                Some(zk) => Err(StartError::ZooKeeper(ZkUrlError::new(zk, "must be the only master address"))),
                None => Ok(None),
            },
        }
    }
}

/// Why a framework could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The master list is empty.
    NoMasters,
    /// A master address is unusable.
    Master(EndpointError),
    /// A `zk://` master URL is unusable.
    ZooKeeper(ZkUrlError),
    /// The session settings are invalid.
    Config(SessionConfigError),
    /// The HTTP client could not be built.
    Transport(TransportError),
    /// Not called from within a tokio runtime.
    NoRuntime,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoMasters => f.write_str("no master address given"),
            Self::Master(error) => error.fmt(f),
            Self::ZooKeeper(error) => error.fmt(f),
            Self::Config(error) => error.fmt(f),
            Self::Transport(error) => write!(f, "HTTP client: {error}"),
            Self::NoRuntime => f.write_str("Framework::start must be called within a tokio runtime"),
        }
    }
}

impl std::error::Error for StartError {}

/// A user command for the driver task.
#[derive(Debug)]
pub(crate) enum Command {
    Submit(Box<TaskRequest>, oneshot::Sender<Result<(), SubmitError>>),
    Kill(TaskId, oneshot::Sender<Result<(), KillError>>),
    WhatIf(Vec<TaskRequest>, oneshot::Sender<Result<crate::plan::Plan, crate::session::WhatIfError>>),
    Stop(StopMode),
}

/// Starts frameworks.
#[derive(Debug)]
pub struct Framework;

impl Framework {
    /// Starts a framework on the current tokio runtime, speaking HTTP to the masters.
    pub fn start(config: FrameworkConfig) -> Result<(FrameworkHandle, Updates), StartError> {
        let transport = HttpTransport::with_tls(config.connect_timeout, &config.tls).map_err(StartError::Transport)?;
        Framework::start_with(config, transport)
    }

    /// Starts a framework over another transport (e.g. an in-memory fake master in tests).
    pub fn start_with(
        config: FrameworkConfig,
        transport: impl Transport,
    ) -> Result<(FrameworkHandle, Updates), StartError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        let (driver, handle, updates) = Driver::new(config, Box::new(transport))?;
        runtime.spawn(driver.run());
        Ok((handle, updates))
    }
}

/// Talks to a running framework. Cheap to clone; when every clone is dropped the framework stops
/// as with [`StopMode::Failover`] (tasks keep running).
#[derive(Clone, Debug)]
pub struct FrameworkHandle {
    pub(crate) commands: mpsc::UnboundedSender<Command>,
}

impl FrameworkHandle {
    /// Adds a task; it is reported pending, then launched and so on.
    pub async fn submit(&self, request: TaskRequest) -> Result<(), SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Submit(Box::new(request), reply)).map_err(|_| SubmitError::Stopped)?;
        answer.await.unwrap_or(Err(SubmitError::Stopped))
    }

    /// Kills a task (a pending one at once, a launched one through the master).
    pub async fn kill(&self, task: impl Into<TaskId>) -> Result<(), KillError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Kill(task.into(), reply)).map_err(|_| KillError::Stopped)?;
        answer.await.unwrap_or(Err(KillError::Stopped))
    }

    /// The plan the next scheduling pass would make if `tasks` were submitted too, from the
    /// offers held, the tasks pending and the tasks running now (see
    /// [`Session::what_if`](crate::session::Session::what_if)); nothing is launched or held.
    pub async fn what_if(&self, tasks: Vec<TaskRequest>) -> Result<crate::plan::Plan, crate::session::WhatIfError> {
        let (reply, answer) = oneshot::channel();
        let stopped = crate::session::WhatIfError::Stopped;
        self.commands.send(Command::WhatIf(tasks, reply)).map_err(|_| stopped.clone())?;
        answer.await.unwrap_or(Err(stopped))
    }

    /// Stops the framework: [`StopMode::Teardown`] kills every task, [`StopMode::Failover`]
    /// leaves them running for the failover timeout. The updates end with [`Update::Stopped`].
    pub fn stop(&self, mode: StopMode) {
        let _ = self.commands.send(Command::Stop(mode));
    }

    /// Whether the driver is still running.
    pub fn is_running(&self) -> bool {
        !self.commands.is_closed()
    }
}
