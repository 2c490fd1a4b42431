//! The HTTP shell: a hyper 1 HTTP/1.1 server on a tokio `TcpListener`, serving the scheduler
//! API `POST /api/v1/scheduler` (and `/master/api/v1/scheduler`), the operator API
//! `POST /api/v1` (and `/master/api/v1`), the private agent API `POST /api/offerpack/agent`
//! and `GET /version`, with the core behind an actor
//! task ([`super::actor`]).

use std::convert::Infallible;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{header, Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use prost::Message as _;

use super::actor::METRICS_PATH;
use super::actor::{plain, preferred_format, Actor, ApiRequest, Command, Format, Knob};
use super::actor::{APPLICATION_JSON, APPLICATION_PROTOBUF};
use super::body::ApiBody;
use super::config::{MasterConfig, Redirect, StreamCut, Unavailable};
use super::operator::validate_operator_call;
use super::remote::AGENT_API_PATH;
use super::state::{MasterCore, MESOS_VERSION};
use super::zk_member::{self, Leadership};
use crate::mesos::json;
use crate::mesos::v1::master::Call as OperatorCall;

/// Largest request body accepted (a big ACCEPT is a few MiB).
const MAX_BODY: usize = 64 << 20;

/// Why the simulated master could not start or run.
#[derive(Debug)]
#[non_exhaustive]
pub enum MasterError {
    /// Binding or reading the listen address failed.
    Bind(std::io::Error),
    /// The tokio runtime for [`run_master_blocking`] could not be built.
    Runtime(std::io::Error),
}

impl fmt::Display for MasterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MasterError::Bind(e) => write!(f, "cannot listen: {e}"),
            MasterError::Runtime(e) => write!(f, "cannot start the async runtime: {e}"),
        }
    }
}

impl std::error::Error for MasterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MasterError::Bind(e) | MasterError::Runtime(e) => Some(e),
        }
    }
}

/// The simulated Mesos master: start one with [`SimMaster::start`].
#[derive(Debug)]
pub struct SimMaster;

impl SimMaster {
    /// Binds `config.listen` and serves in background tasks of the current tokio runtime
    /// until [`MasterHandle::shutdown`] (or until the handle is dropped).
    pub async fn start(mut config: MasterConfig) -> Result<MasterHandle, MasterError> {
        let listener = TcpListener::bind(config.listen).await.map_err(MasterError::Bind)?;
        let addr = listener.local_addr().map_err(MasterError::Bind)?;
        let faults = config.faults.clone();
        let credentials = config.credentials.clone();
        let election = config.zookeeper.clone();
        // TLS stays in the shell: the core never sees it.
        let tls = config.tls.take();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let core = MasterCore::new(config, addr);
        let info = core.master_info().clone();
        let agent_ids = core.agent_ids();
        let master_id = core.master_id().to_owned();
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (gone_tx, gone_rx) = mpsc::unbounded_channel();
        let mut actor = Actor::new(core, gone_tx, faults.cut_streams, faults.redirect, faults.unavailable);
        actor.credentials = credentials;
        let leadership = actor.leadership.subscribe();
        let mut tasks = JoinSet::new();
        tasks.spawn(actor.run(commands_rx, gone_rx));
        if let Some(election) = election {
            tasks.spawn(zk_member::contend(election, info, commands.clone()));
        }
        let (stop, stop_rx) = oneshot::channel();
        tasks.spawn(accept_loop(listener, tls, commands.clone(), stop_rx));
        tracing::info!(%addr, master_id, agents = agent_ids.len(), "simulated master listening");
        Ok(MasterHandle { addr, scheme, master_id, agent_ids, commands, leadership, stop: Some(stop), tasks })
    }
}

/// A running simulated master: its address, run-time knobs, and shutdown. Dropping it stops
/// the master too (its tasks are aborted).
#[derive(Debug)]
pub struct MasterHandle {
    addr: SocketAddr,
    /// `http`, or `https` when the master serves TLS.
    scheme: &'static str,
    master_id: String,
    agent_ids: Vec<String>,
    commands: mpsc::UnboundedSender<Command>,
    leadership: watch::Receiver<Leadership>,
    stop: Option<oneshot::Sender<()>>,
    tasks: JoinSet<()>,
}

impl MasterHandle {
    /// The address the master listens on (the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The master's base URL, `http://<addr>` (`https://<addr>` when it serves TLS).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The scheduler API endpoint, `http://<addr>/api/v1/scheduler` (or `https://`).
    pub fn scheduler_url(&self) -> String {
        format!("{}/api/v1/scheduler", self.url())
    }

    /// The operator API endpoint, `http://<addr>/api/v1` (or `https://`).
    pub fn operator_url(&self) -> String {
        format!("{}/api/v1", self.url())
    }

    /// The master's id (`MasterInfo.id`).
    pub fn master_id(&self) -> &str {
        &self.master_id
    }

    /// The simulated agents' ids, in configuration order.
    pub fn agent_ids(&self) -> &[String] {
        &self.agent_ids
    }

    /// Where the master stands in its ZooKeeper election ([`MasterConfig::zookeeper`]), as
    /// the master answers requests: changes are seen once they apply. A master without
    /// ZooKeeper always reports [`Leadership::Leading`] without a node.
    ///
    /// [`MasterConfig::zookeeper`]: super::MasterConfig::zookeeper
    pub fn leadership(&self) -> watch::Receiver<Leadership> {
        self.leadership.clone()
    }

    async fn knob(&self, knob: Knob) -> bool {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Knob(knob, reply)).is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Cuts every event stream after that many more records (and new streams after that
    /// many records); `None` stops cutting. See [`StreamCut`].
    pub async fn set_cut_streams(&self, cut: Option<StreamCut>) {
        self.knob(Knob::CutStreams(cut)).await;
    }

    /// Answers scheduler and operator API requests with a 307 to another master; `None` stops.
    pub async fn set_redirect(&self, redirect: Option<Redirect>) {
        self.knob(Knob::Redirect(redirect)).await;
    }

    /// Answers scheduler and operator API requests with 503 for `duration` from now; `None`
    /// stops.
    pub async fn set_unavailable(&self, unavailable: Option<(Duration, Unavailable)>) {
        self.knob(Knob::Unavailable(unavailable)).await;
    }

    /// Sends every status update twice (same uuid), or stops doing so.
    pub async fn set_duplicate_updates(&self, on: bool) {
        self.knob(Knob::DuplicateUpdates(on)).await;
    }

    /// Loses an agent by index (FAILURE event, its tasks lost or unreachable, its offers
    /// rescinded); false if it does not exist or is already lost.
    pub async fn lose_agent(&self, agent: usize) -> bool {
        self.knob(Knob::LoseAgent(agent)).await
    }

    /// Brings a lost agent back, empty; false if it does not exist or is not lost.
    pub async fn restore_agent(&self, agent: usize) -> bool {
        self.knob(Knob::RestoreAgent(agent)).await
    }

    /// Simulates the election of a new leader with the agents re-registering to it (see
    /// [`MasterCore::handle_leader_change`]): every framework's stream ends and must
    /// re-subscribe; tasks keep running. Combine with [`MasterHandle::set_unavailable`] for the
    /// election's gap.
    pub async fn change_leader(&self) {
        self.knob(Knob::LeaderChange).await;
    }

    /// The [task ledger](super::LedgerEntry) since the last drain; empty unless
    /// [`MasterConfig::task_ledger`] is set.
    pub async fn drain_task_ledger(&self) -> Vec<super::LedgerEntry> {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::DrainLedger(reply)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Stops accepting connections, ends every stream and connection, and waits for the
    /// master's tasks to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = self.commands.send(Command::Shutdown);
        while self.tasks.join_next().await.is_some() {}
    }

    /// Waits until the master stops by itself, which it does not: serves forever.
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Runs a simulated master on a new multi-threaded tokio runtime and blocks the calling
/// thread for ever, serving; meant for a CLI such as
/// `offerpack master --listen ADDR --agents N --cpus C --mem M`. `on_ready` is called once
/// the listener is bound, e.g. to print [`MasterHandle::url`]. Returns only on a start-up
/// error (bad address, port in use, no runtime). Build the config with [`MasterConfig::new`]
/// and [`MasterConfig::with_uniform_agents`].
pub fn run_master_blocking(config: MasterConfig, on_ready: impl FnOnce(&MasterHandle)) -> Result<(), MasterError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(MasterError::Runtime)?;
    runtime.block_on(async move {
        let handle = SimMaster::start(config).await?;
        on_ready(&handle);
        handle.wait().await;
        Ok(())
    })
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<crate::tls::ServerTls>,
    commands: mpsc::UnboundedSender<Command>,
    stop: oneshot::Receiver<()>,
) {
    crate::http_shell::accept_loop_tls(listener, tls, stop, move || {
        let commands = commands.clone();
        service_fn(move |request| serve(request, commands.clone()))
    })
    .await;
}

/// One HTTP request: `/version` here, scheduler and operator API calls through the actor.
async fn serve(
    request: Request<Incoming>,
    commands: mpsc::UnboundedSender<Command>,
) -> Result<Response<ApiBody>, Infallible> {
    let path = request.uri().path().to_owned();
    if path == "/version" {
        return Ok(version(request.method()));
    }
    let known =
        ["/api/v1/scheduler", "/master/api/v1/scheduler", AGENT_API_PATH, METRICS_PATH].contains(&path.as_str());
    if !known && !is_operator_path(&path) {
        return Ok(plain(StatusCode::NOT_FOUND, ""));
    }
    let text_header =
        |name: &str| request.headers().get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let content_type = text_header(header::CONTENT_TYPE.as_str());
    let accept = text_header(header::ACCEPT.as_str());
    let stream_id = text_header("mesos-stream-id");
    let authorization = text_header(header::AUTHORIZATION.as_str());
    let method = request.method().clone();
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Ok(plain(StatusCode::BAD_REQUEST, "Failed to read the request body")),
    };
    let api = ApiRequest { method, path, content_type, accept, stream_id, authorization, body };
    let (reply, response) = oneshot::channel();
    if commands.send(Command::Api(api, reply)).is_err() {
        return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, "Master is shutting down"));
    }
    Ok(response.await.unwrap_or_else(|_| plain(StatusCode::SERVICE_UNAVAILABLE, "Master is shutting down")))
}

/// `GET /version`, shaped like the real master's answer.
fn version(method: &Method) -> Response<ApiBody> {
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "");
    }
    let body = format!(
        "{{\"build_date\":\"2020-01-01 00:00:00\",\"build_time\":1577836800.0,\"build_user\":\"offerpack\",\
         \"git_tag\":\"{MESOS_VERSION}\",\"version\":\"{MESOS_VERSION}\"}}"
    );
    let mut response = Response::new(ApiBody::Full(Some(Bytes::from(body))));
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

/// Whether a path is the operator API's (`/api/v1`, or `/master/api/v1` as upstream also routes it).
pub(crate) fn is_operator_path(path: &str) -> bool {
    path == "/api/v1" || path == "/master/api/v1"
}

/// Answers an operator API request that passed the fault knobs and the method check, in the
/// order of checks of `Master::Http::api`: `Content-Type` (400 absent, 415 other), parsing
/// (400), validation (400), `Accept` (406), then the core (200 with the `Response` in the
/// accepted encoding, or its rejection).
pub(crate) fn operator_response(core: &mut MasterCore, now: Duration, request: &ApiRequest) -> Response<ApiBody> {
    let c = match parse_operator_call(request.content_type.as_deref(), &request.body) {
        Ok(c) => c,
        Err((status, text)) => return plain(status, text),
    };
    if let Err(e) = validate_operator_call(&c) {
        return plain(StatusCode::BAD_REQUEST, format!("Failed to validate master::Call: {e}"));
    }
    let Some(format) = preferred_format(request.accept.as_deref()) else {
        let text = format!("Expecting 'Accept' to allow '{APPLICATION_PROTOBUF}' or '{APPLICATION_JSON}'");
        return plain(StatusCode::NOT_ACCEPTABLE, text);
    };
    match core.handle_operator(now, c) {
        Ok(answer) => {
            let (body, content_type) = match format {
                Format::Json => (json::encode_operator_response(&answer), APPLICATION_JSON),
                Format::Protobuf => (answer.encode_to_vec(), APPLICATION_PROTOBUF),
            };
            let mut response = Response::new(ApiBody::Full(Some(Bytes::from(body))));
            response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
            response
        }
        Err(rejection) => plain(
            StatusCode::from_u16(rejection.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            rejection.message,
        ),
    }
}

/// Parses an operator call by its exact `Content-Type`, with the master's texts.
fn parse_operator_call(content_type: Option<&str>, body: &[u8]) -> Result<OperatorCall, (StatusCode, String)> {
    super::actor::parse_body(content_type, body, json::check_operator_call_required_fields, json::decode_operator_call)
}
