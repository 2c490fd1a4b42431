//! End-to-end harness: the real driver ([`Framework::start`], reqwest) against the real simulated
//! master ([`SimMaster::start`], hyper) over loopback HTTP, with a recording HTTP proxy in between.
//!
//! ```text
//!  Framework::start ──HTTP──▶ Proxy (records, can hold/blackhole) ──HTTP──▶ SimMaster
//!        ▲ Updates                 │ Recorder: calls, statuses, events, stream ends
//!        └── the test ─────────────┘ (waits on the log and on updates, with timeouts)
//! ```
//!
//! # Why a proxy
//! `MasterHandle` exposes fault knobs but no state: it cannot say which LAUNCHes it got or which
//! updates were acknowledged. The proxy sees both directions on the wire: every call (decoded,
//! with the HTTP status the master gave it) and every event the driver was actually given, in
//! one causally ordered log (an event is logged before its bytes are passed on; a call is logged
//! when it arrives, before it is forwarded). From that log the tests check: each task LAUNCHed
//! once (or once more per launch the master reported failed), never twice while in flight; every
//! copy of every update with a uuid acknowledged; no acknowledgement without a uuid. The proxy
//! also supplies the faults the master has no knob for: a silent stream (heartbeat loss: bytes
//! are read from the master and dropped), an ACCEPT held on its way (so an offer can be rescinded
//! while its launch is in flight) and an ACCEPT's answer held back (the master launched, the
//! driver does not know). At the end, the master's own view is read through
//! the protocol: a raw client fails over to the framework id and reconciles every task; a task
//! whose last update was acknowledged is forgotten by the master and answered `TASK_LOST`
//! "Reconciliation: Task is unknown" (or "unreachable" after an agent loss).
//!
//! # Real time, short intervals
//! Everything runs on tokio's real clock with a fast master (heartbeats every second, tasks
//! staging/starting in 20 ms and running 300 ms, 50 ms allocation interval, update re-sends after
//! 1 s) and a driver with matching short backoffs. Under tokio's paused clock reqwest stalls when
//! it reuses a pooled keep-alive connection for the SUBSCRIBE stream, and the driver's
//! `HttpTransport` pools connections (as it should in production); rather than test a
//! differently configured client, the suites use real time and never sleep to synchronise: they
//! wait on driver updates or on the proxy's log, with `tokio::time::timeout` only as a failure
//! bound ([`PATIENCE`]). A whole scenario takes one to four seconds.
//!
//! One file on purpose (the log, its checks, the proxy, the harness, a raw client): the e2e
//! suites may add only this support module.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use offerpack::driver::{Encoding, Framework, FrameworkConfig, FrameworkHandle, Updates};
use offerpack::master::{AgentConfig, MasterConfig, MasterHandle, SimMaster, TaskTiming};
use offerpack::mesos::v1::scheduler::{call, event, Call, Event};
use offerpack::mesos::v1::{self, task_status::Reason, TaskState as P};
use offerpack::mesos::{json, RecordIoDecoder};
use offerpack::session::{Backoff, CallKind, CommandSpec, StopMode, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// Failure bound of one scenario step (never a synchronisation delay).
pub const PATIENCE: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------------------------

/// One thing the proxies saw, in causal order.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // a test log: simplicity over size
pub enum Entry {
    /// A scheduler API request (logged on arrival; `status` once the master answered).
    Request {
        proxy: String,
        at: Instant,
        /// The decoded call (`None`: the body did not decode).
        call: Option<Call>,
        status: Option<u16>,
        location: Option<String>,
    },
    /// A SUBSCRIBE was answered 200: its event stream.
    StreamOpen { proxy: String, stream: u64, stream_id: String, at: Instant },
    /// An event handed to the driver.
    Event { proxy: String, stream: u64, event: Event, at: Instant },
    /// A stream ended: `broken` = the master's connection broke (no final chunk), `partial` = it
    /// stopped inside a record, `by_client` = the driver hung up.
    StreamEnd { proxy: String, stream: u64, broken: bool, partial: bool, by_client: bool, at: Instant },
}

/// The shared log of every proxy of a test, with a wake-up for waiters.
#[derive(Debug, Default)]
pub struct Recorder {
    entries: Mutex<Vec<Entry>>,
    changed: Notify,
    next_stream: AtomicU64,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    fn push(&self, entry: Entry) -> usize {
        let mut entries = self.entries.lock().unwrap();
        entries.push(entry);
        self.changed.notify_waiters();
        entries.len() - 1
    }

    fn answered(&self, index: usize, code: u16, where_to: Option<String>) {
        let mut entries = self.entries.lock().unwrap();
        if let Some(Entry::Request { status, location, .. }) = entries.get_mut(index) {
            *status = Some(code);
            *location = where_to;
        }
        self.changed.notify_waiters();
    }

    /// A copy of the log.
    pub fn snapshot(&self) -> Vec<Entry> {
        self.entries.lock().unwrap().clone()
    }

    /// Evaluates `f` on the log.
    pub fn with<R>(&self, f: impl FnOnce(&[Entry]) -> R) -> R {
        f(&self.entries.lock().unwrap())
    }

    /// Waits until `pred` holds on the log; panics with the log after [`PATIENCE`].
    pub async fn wait_until(&self, what: &str, mut pred: impl FnMut(&[Entry]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let notified = self.changed.notified();
            if self.with(&mut pred) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for {what}\n{}", self.dump());
            }
        }
    }

    /// The log, one line per entry (for failure messages).
    pub fn dump(&self) -> String {
        let entries = self.snapshot();
        let start = entries.first().map(entry_time);
        let mut out = String::new();
        for entry in &entries {
            let ms = start.map_or(0, |s| entry_time(entry).duration_since(s).as_millis());
            let _ = writeln!(out, "{ms:>6}ms {}", describe(entry));
        }
        out
    }
}

fn entry_time(entry: &Entry) -> Instant {
    match entry {
        Entry::Request { at, .. }
        | Entry::StreamOpen { at, .. }
        | Entry::Event { at, .. }
        | Entry::StreamEnd { at, .. } => *at,
    }
}

fn describe(entry: &Entry) -> String {
    match entry {
        Entry::Request { proxy, call, status, location, .. } => {
            let what = call.as_ref().map_or("<undecodable>".to_owned(), |c| {
                let mut text = format!("{:?}", c.r#type());
                if let Some(ack) = &c.acknowledge {
                    let _ = write!(text, " {} uuid {}", ack.task_id.value, hex(&ack.uuid));
                }
                for task in launched_tasks(c) {
                    let _ = write!(text, " {task}");
                }
                text
            });
            format!("[{proxy}] call {what} -> {status:?} {}", location.as_deref().unwrap_or(""))
        }
        Entry::StreamOpen { proxy, stream, .. } => format!("[{proxy}] stream #{stream} open"),
        Entry::Event { proxy, stream, event, .. } => {
            let mut text = format!("[{proxy}] #{stream} {:?}", event.r#type());
            if let Some(u) = &event.update {
                let s = &u.status;
                let uuid = s.uuid.as_deref().map_or("-".to_owned(), hex);
                let reason = s.reason.map(|_| s.reason());
                let _ = write!(text, " {} {:?} {reason:?} uuid {uuid}", s.task_id.value, s.state());
            }
            if let Some(o) = &event.offers {
                let _ = write!(text, " {}", o.offers.iter().map(|o| o.id.value.as_str()).collect::<Vec<_>>().join(","));
            }
            if let Some(r) = &event.rescind {
                let _ = write!(text, " {}", r.offer_id.value);
            }
            if let Some(e) = &event.error {
                let _ = write!(text, " {}", e.message);
            }
            text
        }
        Entry::StreamEnd { proxy, stream, broken, partial, by_client, .. } => {
            format!("[{proxy}] stream #{stream} end broken={broken} partial={partial} by_client={by_client}")
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Reading the log
// ---------------------------------------------------------------------------------------------

/// The task ids of every LAUNCH operation of an ACCEPT.
pub fn launched_tasks(c: &Call) -> Vec<String> {
    let Some(accept) = &c.accept else { return Vec::new() };
    accept
        .operations
        .iter()
        .flat_map(|o| &o.launch)
        .flat_map(|l| &l.task_infos)
        .map(|t| t.task_id.value.clone())
        .collect()
}

/// Calls of `kind` with their proxy and status.
pub fn calls(log: &[Entry], kind: CallKind) -> Vec<(String, Call, Option<u16>, Option<String>)> {
    log.iter()
        .filter_map(|e| match e {
            Entry::Request { proxy, call: Some(c), status, location, .. } if CallKind::of(c) == kind => {
                Some((proxy.clone(), c.clone(), *status, location.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Every status update handed to the driver.
pub fn statuses(log: &[Entry]) -> Vec<v1::TaskStatus> {
    log.iter()
        .filter_map(|e| match e {
            Entry::Event { event, .. } => event.update.as_ref().map(|u| u.status.clone()),
            _ => None,
        })
        .collect()
}

/// The events of `kind` handed to the driver.
pub fn events(log: &[Entry], kind: event::Type) -> Vec<Event> {
    log.iter()
        .filter_map(|e| match e {
            Entry::Event { event, .. } if event.r#type() == kind => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// Framework ids of the SUBSCRIBED events, in order.
pub fn subscribed_ids(log: &[Entry]) -> Vec<String> {
    events(log, event::Type::Subscribed)
        .into_iter()
        .filter_map(|e| e.subscribed)
        .map(|s| s.framework_id.value)
        .collect()
}

/// How many copies of each `(task, uuid)` update reached the driver.
pub fn uuid_copies(log: &[Entry]) -> BTreeMap<(String, Vec<u8>), usize> {
    let mut copies = BTreeMap::new();
    for s in statuses(log) {
        if let Some(uuid) = s.uuid {
            *copies.entry((s.task_id.value, uuid)).or_default() += 1;
        }
    }
    copies
}

/// How many ACKNOWLEDGEs of each `(task, uuid)` the master answered 202.
pub fn acks(log: &[Entry]) -> BTreeMap<(String, Vec<u8>), usize> {
    let mut acks = BTreeMap::new();
    for (_, c, status, _) in calls(log, CallKind::Acknowledge) {
        if status == Some(202) {
            let ack = c.acknowledge.expect("ACKNOWLEDGE body");
            *acks.entry((ack.task_id.value, ack.uuid)).or_default() += 1;
        }
    }
    acks
}

/// Whether every copy of every update with a uuid has been acknowledged (at least `copies`
/// ACKNOWLEDGEs answered 202 per `(task, uuid)`; `at_least_once` relaxes that to one).
pub fn all_acked(log: &[Entry], at_least_once: bool) -> bool {
    let acks = acks(log);
    uuid_copies(log).iter().all(|(key, copies)| {
        let got = acks.get(key).copied().unwrap_or(0);
        if at_least_once {
            got >= 1
        } else {
            got >= *copies
        }
    })
}

/// Tasks with a TASK_FINISHED update handed to the driver.
pub fn finished_in_log(log: &[Entry]) -> BTreeSet<String> {
    statuses(log).into_iter().filter(|s| s.state() == P::TaskFinished).map(|s| s.task_id.value).collect()
}

/// Checks the launch and acknowledgement invariants on the log:
/// - a task is never in two accepted LAUNCHes at once: between two LAUNCHes of a task the master
///   answered 202, a terminal update of that task reached the driver (the first launch failed);
/// - each task's accepted LAUNCHes = 1 + its launches that ended other than FINISHED;
/// - every ACKNOWLEDGE names a `(task, uuid)` delivered with that uuid before it;
/// - no update without a uuid is acknowledged (follows: an ack needs a delivered uuid).
///
/// Returns the accepted LAUNCH count per task.
pub fn check_log(log: &[Entry], tasks: &[String]) -> BTreeMap<String, usize> {
    let mut launches: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    let mut in_flight: BTreeSet<String> = BTreeSet::new();
    let mut delivered: BTreeSet<(String, Vec<u8>)> = BTreeSet::new();
    for (i, entry) in log.iter().enumerate() {
        match entry {
            Entry::Request { call: Some(c), status, .. } if CallKind::of(c) == CallKind::Accept => {
                if *status != Some(202) {
                    continue; // not processed by the master (503, 403, …)
                }
                for task in launched_tasks(c) {
                    assert!(in_flight.insert(task.clone()), "entry {i}: task {task} launched twice while in flight");
                    *launches.entry(task).or_default() += 1;
                }
            }
            Entry::Request { call: Some(c), .. } if CallKind::of(c) == CallKind::Acknowledge => {
                let ack = c.acknowledge.as_ref().expect("ACKNOWLEDGE body");
                let key = (ack.task_id.value.clone(), ack.uuid.clone());
                assert!(delivered.contains(&key), "entry {i}: ACKNOWLEDGE of {key:?} which no update carried");
            }
            Entry::Event { event, .. } => {
                let Some(update) = &event.update else { continue };
                let s = &update.status;
                let task = s.task_id.value.clone();
                if let Some(uuid) = &s.uuid {
                    delivered.insert((task.clone(), uuid.clone()));
                }
                let state = TaskState::from_proto(s.state).expect("known state");
                if state.is_terminal() && in_flight.remove(&task) && state != TaskState::Finished {
                    *failed.entry(task).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    for task in tasks {
        let launched = launches.get(task).copied().unwrap_or(0);
        let failed = failed.get(task).copied().unwrap_or(0);
        assert_eq!(launched, 1 + failed, "task {task}: {launched} accepted LAUNCHes, {failed} of them failed");
    }
    launches
}

// ---------------------------------------------------------------------------------------------
// The proxy
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Shared {
    name: String,
    upstream: String,
    log: Arc<Recorder>,
    client: reqwest::Client,
    open: Mutex<BTreeSet<u64>>,
    blackholed: Mutex<BTreeSet<u64>>,
    hold: watch::Sender<bool>,
    hold_answers: watch::Sender<bool>,
}

/// A recording HTTP/1.1 proxy in front of one master.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
    pub async fn start(name: &str, upstream: SocketAddr, log: &Arc<Recorder>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .build()
            .expect("proxy client");
        let shared = Arc::new(Shared {
            name: name.to_owned(),
            upstream: format!("http://{upstream}"),
            log: Arc::clone(log),
            client,
            open: Mutex::default(),
            blackholed: Mutex::default(),
            hold: watch::Sender::new(false),
            hold_answers: watch::Sender::new(false),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Proxy { addr, shared, task }
    }

    /// `host:port` of the proxy.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Silences every stream open now: their bytes are read from the master and dropped (the
    /// connections stay up). Streams opened later pass. Returns how many were silenced.
    pub fn blackhole_open_streams(&self) -> usize {
        let open = self.shared.open.lock().unwrap().clone();
        let n = open.len();
        self.shared.blackholed.lock().unwrap().extend(open);
        n
    }

    /// Holds ACCEPT requests (logged on arrival, forwarded when released) while `on`.
    pub fn hold_accepts(&self, on: bool) {
        self.shared.hold.send_replace(on);
    }

    /// Holds the master's answers to ACCEPTs (the call is processed and its status logged; the
    /// driver gets the answer when released) while `on`.
    pub fn hold_accept_answers(&self, on: bool) {
        self.shared.hold_answers.send_replace(on);
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = service_fn(move |request| forward(request, Arc::clone(&shared)));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

fn decode_call(content_type: Option<&str>, body: &[u8]) -> Option<Call> {
    match content_type {
        Some("application/json") => json::decode_call(body).ok(),
        Some("application/x-protobuf") => Call::decode(body).ok(),
        _ => None,
    }
}

async fn forward(request: Request<Incoming>, shared: Arc<Shared>) -> Result<Response<ProxyBody>, Infallible> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let forwarded: Vec<(&'static str, String)> = ["content-type", "accept", "mesos-stream-id", "authorization"]
        .into_iter()
        .filter_map(|name| header(name).map(|v| (name, v)))
        .collect();
    let content_type = header("content-type");
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).expect("method");
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let c = decode_call(content_type.as_deref(), &body);
    let accept = c.as_ref().is_some_and(|c| CallKind::of(c) == CallKind::Accept);
    // Only scheduler API requests are logged (not `GET /version` and the like).
    let logged = path.ends_with("/scheduler");
    let index = logged.then(|| {
        shared.log.push(Entry::Request {
            proxy: shared.name.clone(),
            at: Instant::now(),
            call: c,
            status: None,
            location: None,
        })
    });
    // The rest runs in its own task: a request that arrived whole reaches the master and its
    // answer is logged even when the driver hangs up meanwhile (as a real server would process
    // it); the driver then just never hears the answer.
    let relay = relay(shared, index, accept, method, path, forwarded, body);
    Ok(tokio::spawn(relay).await.expect("relay task"))
}

/// Forwards one logged request to the master and turns the answer into the driver's response.
async fn relay(
    shared: Arc<Shared>,
    index: Option<usize>,
    accept: bool,
    method: reqwest::Method,
    path: String,
    forwarded: Vec<(&'static str, String)>,
    body: Bytes,
) -> Response<ProxyBody> {
    if accept {
        let mut held = shared.hold.subscribe();
        let _ = held.wait_for(|on| !*on).await;
    }
    let mut upstream = shared.client.request(method, format!("{}{path}", shared.upstream)).body(body);
    for (name, value) in &forwarded {
        upstream = upstream.header(*name, value);
    }
    let response = match upstream.send().await {
        Ok(response) => response,
        Err(error) => {
            if let Some(i) = index {
                shared.log.answered(i, 502, None);
            }
            return plain(502, Some(format!("proxy: {error}")), &[]);
        }
    };
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let location = header("location");
    let stream_id = header("mesos-stream-id");
    let response_type = header("content-type");
    if let Some(i) = index {
        shared.log.answered(i, status, location.clone());
    }
    if accept {
        let mut held = shared.hold_answers.subscribe();
        let _ = held.wait_for(|on| !*on).await;
    }
    let mut headers: Vec<(&'static str, String)> = Vec::new();
    for (name, value) in [("location", &location), ("mesos-stream-id", &stream_id), ("content-type", &response_type)] {
        if let Some(value) = value {
            headers.push((name, value.clone()));
        }
    }
    match (status, stream_id) {
        (200, Some(stream_id)) => {
            let stream = shared.log.next_stream.fetch_add(1, Ordering::Relaxed);
            shared.open.lock().unwrap().insert(stream);
            shared.log.push(Entry::StreamOpen { proxy: shared.name.clone(), stream, stream_id, at: Instant::now() });
            let (tx, rx) = mpsc::unbounded_channel();
            let json = response_type.as_deref() == Some("application/json");
            tokio::spawn(pump(shared, stream, response, json, tx));
            let mut answer = Response::new(ProxyBody::Stream { rx, failing: None });
            for (name, value) in headers {
                answer.headers_mut().insert(name, value.parse().expect("header value"));
            }
            answer
        }
        _ => {
            let bytes = response.bytes().await.unwrap_or_default();
            let mut answer = plain(status, None, &headers);
            *answer.body_mut() = ProxyBody::Full((!bytes.is_empty()).then_some(bytes));
            answer
        }
    }
}

fn plain(status: u16, text: Option<String>, headers: &[(&'static str, String)]) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::Full(text.map(Bytes::from)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    for (name, value) in headers {
        response.headers_mut().insert(*name, value.parse().expect("header value"));
    }
    response
}

/// Copies one event stream from the master to the driver, logging each whole record before its
/// bytes go on. A broken upstream breaks the downstream connection too (no final chunk); a
/// driver that hangs up makes the proxy hang up on the master.
async fn pump(
    shared: Arc<Shared>,
    stream: u64,
    mut upstream: reqwest::Response,
    json: bool,
    tx: mpsc::UnboundedSender<Result<Bytes, io::Error>>,
) {
    let mut decoder = RecordIoDecoder::new();
    let end = |broken: bool, partial: bool, by_client: bool| {
        shared.open.lock().unwrap().remove(&stream);
        let proxy = shared.name.clone();
        shared.log.push(Entry::StreamEnd { proxy, stream, broken, partial, by_client, at: Instant::now() });
    };
    loop {
        let chunk = tokio::select! {
            biased;
            () = tx.closed() => return end(false, !decoder.is_idle(), true),
            chunk = upstream.chunk() => chunk,
        };
        match chunk {
            Ok(Some(bytes)) => {
                if shared.blackholed.lock().unwrap().contains(&stream) {
                    continue;
                }
                decoder.push(&bytes);
                while let Ok(Some(record)) = decoder.next_frame() {
                    let event = if json {
                        json::decode_event(&record).expect("the master's JSON event decodes")
                    } else {
                        Event::decode(record.as_ref()).expect("the master's protobuf event decodes")
                    };
                    shared.log.push(Entry::Event { proxy: shared.name.clone(), stream, event, at: Instant::now() });
                }
                if tx.send(Ok(bytes)).is_err() {
                    return end(false, !decoder.is_idle(), true);
                }
            }
            Ok(None) => return end(false, !decoder.is_idle(), false),
            Err(error) => {
                end(true, !decoder.is_idle(), false);
                let _ = tx.send(Err(io::Error::new(io::ErrorKind::ConnectionAborted, error.to_string())));
                return;
            }
        }
    }
}

/// A response body: whole, or an event stream fed by [`pump`].
enum ProxyBody {
    Full(Option<Bytes>),
    Stream { rx: mpsc::UnboundedReceiver<Result<Bytes, io::Error>>, failing: Option<io::Error> },
}

impl hyper::body::Body for ProxyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ProxyBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ProxyBody::Stream { rx, failing } => {
                if let Some(error) = failing.take() {
                    return Poll::Ready(Some(Err(error)));
                }
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(Ok(bytes))) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                    Poll::Ready(Some(Err(error))) => {
                        // As the master does: yield once so hyper flushes the bytes it holds
                        // (half a record, after a mid-record cut), then fail, which makes hyper
                        // drop the connection without the final chunk.
                        *failing = Some(error);
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ProxyBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            ProxyBody::Stream { .. } => SizeHint::default(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Masters, frameworks, tasks
// ---------------------------------------------------------------------------------------------

/// A fast master: `agents` agents of 4 cpus / 4096 MB, heartbeats every second, short task steps.
pub fn master_config(agents: usize) -> MasterConfig {
    let mut config =
        MasterConfig::default().with_seed(7).with_uniform_agents(agents, &AgentConfig::new("", 4.0, 4096.0));
    config.heartbeat_interval = Duration::from_secs(1);
    config.allocation_interval = Duration::from_millis(50);
    config.status_update_retry_min = Duration::from_secs(1);
    config.status_update_retry_max = Duration::from_secs(2);
    config.tasks = TaskTiming {
        staging: Duration::from_millis(20),
        starting: Duration::from_millis(20),
        run: Some(Duration::from_millis(300)),
        jitter: 0.2,
    };
    config
}

/// A master with its recording proxy.
pub struct Cluster {
    pub master: MasterHandle,
    pub proxy: Proxy,
    pub log: Arc<Recorder>,
}

impl Cluster {
    pub async fn start(config: MasterConfig) -> Cluster {
        let master = SimMaster::start(config).await.expect("master starts");
        let log = Recorder::new();
        let proxy = Proxy::start("m1", master.addr(), &log).await;
        Cluster { master, proxy, log }
    }
}

/// A driver with backoffs to match the fast master, talking to `masters`.
pub fn framework_config(name: &str, masters: &[String], encoding: Encoding) -> FrameworkConfig {
    let mut config = FrameworkConfig::new(name, "root", masters.iter().cloned()).encoding(encoding).refuse_seconds(1.0);
    config.retry_delay = Duration::from_millis(100);
    config.call_timeout = Duration::from_secs(15);
    config.session.schedule_delay = Duration::from_millis(20);
    config.session.reconnect = Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(500) };
    config.session.reconcile = Backoff { initial: Duration::from_millis(200), max: Duration::from_secs(1) };
    config
}

/// `n` task ids `t-00` … of one group.
pub fn task_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t-{i:02}")).collect()
}

/// A task asking for `cpus` and 64 MB.
pub fn task(id: &str, cpus: f64) -> TaskRequest {
    let spec = TaskSpec::builder(id, "e2e").scalar("cpus", cpus).scalar("mem", 64.0).build().expect("task spec");
    TaskRequest::command(spec, CommandSpec::shell("true"))
}

/// A running framework and what it reported.
pub struct Run {
    pub handle: FrameworkHandle,
    pub updates: Updates,
    pub history: Vec<Update>,
    /// The latest state of each task.
    pub states: BTreeMap<String, TaskState>,
    deadline: Instant,
}

impl Run {
    /// Starts the framework and submits `tasks` of `cpus` each.
    pub async fn start(config: FrameworkConfig, tasks: &[String], cpus: f64) -> Run {
        let (handle, updates) = Framework::start(config).expect("framework starts");
        for id in tasks {
            handle.submit(task(id, cpus)).await.expect("submitted");
        }
        Run { handle, updates, history: Vec::new(), states: BTreeMap::new(), deadline: Instant::now() + PATIENCE }
    }

    /// The next update; panics with the log if none comes within [`PATIENCE`] of the start.
    pub async fn next(&mut self, log: &Recorder) -> Update {
        match tokio::time::timeout_at(self.deadline, self.updates.recv()).await {
            Ok(Some(update)) => {
                if let Update::Task(t) = &update {
                    self.states.insert(t.task_id.as_str().to_owned(), t.state);
                }
                self.history.push(update.clone());
                update
            }
            Ok(None) => panic!("the driver stopped\n{:#?}\n{}", self.history.last(), log.dump()),
            Err(_) => panic!("timed out; task states {:?}\n{}", self.states, log.dump()),
        }
    }

    /// Reads updates until `pred` holds for one.
    pub async fn until(&mut self, log: &Recorder, mut pred: impl FnMut(&Update, &Run) -> bool) -> Update {
        loop {
            let update = self.next(log).await;
            if pred(&update, self) {
                return update;
            }
        }
    }

    /// How many of `tasks` are in `state`.
    pub fn count(&self, state: TaskState) -> usize {
        self.states.values().filter(|s| **s == state).count()
    }

    /// Whether every one of `tasks` is FINISHED.
    pub fn all_finished(&self, tasks: &[String]) -> bool {
        tasks.iter().all(|t| self.states.get(t) == Some(&TaskState::Finished))
    }

    /// Reads updates until every task is FINISHED; any other terminal state fails the test.
    pub async fn finish_all(&mut self, log: &Recorder, tasks: &[String]) {
        while !self.all_finished(tasks) {
            if let Update::Task(t) = self.next(log).await {
                assert!(
                    !t.state.is_terminal() || t.state == TaskState::Finished,
                    "task {} ended {:?}: {:?}\n{}",
                    t.task_id,
                    t.state,
                    t.message,
                    log.dump()
                );
            }
        }
    }

    /// Framework ids of the `Subscribed` updates.
    pub fn subscribed_ids(&self) -> Vec<String> {
        self.history
            .iter()
            .filter_map(|u| match u {
                Update::Subscribed { framework_id } => Some(framework_id.clone()),
                _ => None,
            })
            .collect()
    }

    /// Stops the framework leaving its tasks to the master (failover) and waits for the end.
    pub async fn stop_failover(&mut self, log: &Recorder) {
        self.handle.stop(StopMode::Failover);
        while !matches!(self.next(log).await, Update::Stopped(_)) {}
    }
}

/// The end-of-scenario checks every test makes, then the master's view:
/// 1. every task FINISHED for the driver and in the log;
/// 2. [`check_log`] (launches, no launch twice in flight, acks only of delivered uuids);
/// 3. every copy with a uuid acknowledged (`exact`: as many acks as copies, at the same time);
/// 4. the driver stopped (failover), a raw client re-subscribes as the framework and reconciles
///    every task: the master has forgotten each (its terminal update was acknowledged).
///
/// Returns the accepted LAUNCH count per task.
pub async fn finish_and_check(
    run: &mut Run,
    cluster_log: &Recorder,
    master_url: &str,
    tasks: &[String],
    exact: bool,
) -> BTreeMap<String, usize> {
    run.finish_all(cluster_log, tasks).await;
    let finished = cluster_log.with(finished_in_log);
    for t in tasks {
        assert!(finished.contains(t), "no TASK_FINISHED for {t} reached the driver\n{}", cluster_log.dump());
    }
    // A task can be FINISHED for the driver through a reconciliation answer (no uuid) while its
    // reliable TASK_FINISHED was lost with a stream: the master re-sends that one until it is
    // acknowledged, so wait for it too.
    let what = "a TASK_FINISHED with a uuid for every task, and every update with a uuid acknowledged";
    cluster_log
        .wait_until(what, |log| {
            let reliable: BTreeSet<String> = statuses(log)
                .into_iter()
                .filter(|s| s.state() == P::TaskFinished && s.uuid.is_some())
                .map(|s| s.task_id.value)
                .collect();
            tasks.iter().all(|t| reliable.contains(t)) && all_acked(log, !exact)
        })
        .await;
    if std::env::var_os("E2E_DUMP").is_some() {
        eprintln!("{}", cluster_log.dump());
    }
    let launches = cluster_log.with(|log| check_log(log, tasks));
    let framework_id = run.subscribed_ids().last().cloned().expect("subscribed");
    run.stop_failover(cluster_log).await;
    let answers = reconcile_as(master_url, &framework_id, tasks).await;
    for (task, status) in answers {
        assert_eq!(
            (status.state(), status.reason()),
            (P::TaskLost, Reason::Reconciliation),
            "the master still has task {task}: {:?} ({:?}); its last update was not acknowledged",
            status.state(),
            status.message
        );
    }
    launches
}

/// Asserts at least `min` subscriptions, all with the same framework id, each re-SUBSCRIBE
/// carrying that id (in `Call.framework_id` and `FrameworkInfo.id`), and the driver's
/// `Subscribed` updates agreeing. Returns the id.
pub fn assert_same_framework_id(log: &Recorder, run: &Run, min: usize) -> String {
    let ids = log.with(subscribed_ids);
    assert!(ids.len() >= min, "{} subscriptions, wanted at least {min}\n{}", ids.len(), log.dump());
    let id = ids[0].clone();
    assert!(ids.iter().all(|i| *i == id), "framework id changed: {ids:?}");
    assert_eq!(run.subscribed_ids(), ids, "the driver reported every SUBSCRIBED it got");
    let subscribes = log.with(|l| calls(l, CallKind::Subscribe));
    let answered: Vec<_> = subscribes.iter().filter(|(_, _, status, _)| *status == Some(200)).collect();
    for (n, (_, c, _, _)) in answered.iter().enumerate() {
        let info_id = c.subscribe.as_ref().and_then(|s| s.framework_info.id.as_ref()).map(|f| f.value.clone());
        let call_id = c.framework_id.as_ref().map(|f| f.value.clone());
        if n == 0 {
            assert_eq!((call_id, info_id), (None, None), "the first SUBSCRIBE asks for a new id");
        } else {
            assert_eq!((call_id, info_id), (Some(id.clone()), Some(id.clone())), "re-SUBSCRIBE #{n} keeps the id");
        }
    }
    id
}

// ---------------------------------------------------------------------------------------------
// A raw client to read the master's view
// ---------------------------------------------------------------------------------------------

/// A bare protobuf client (reqwest, no driver) to look at the master from outside.
pub struct RawClient {
    http: reqwest::Client,
    url: String,
    framework_id: v1::FrameworkId,
    stream_id: String,
    response: reqwest::Response,
    decoder: RecordIoDecoder,
}

impl RawClient {
    /// SUBSCRIBEs to `master_url` as framework `framework_id` (a failover of that framework);
    /// returns the client and the first event (SUBSCRIBED, or ERROR if refused).
    pub async fn subscribe_as(master_url: &str, framework_id: &str) -> (RawClient, Event) {
        let url = format!("{master_url}/api/v1/scheduler");
        let http = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let fid = v1::FrameworkId { value: framework_id.to_owned() };
        let subscribe = Call {
            framework_id: Some(fid.clone()),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: v1::FrameworkInfo {
                    user: "root".into(),
                    name: "e2e-inspector".into(),
                    id: Some(fid.clone()),
                    failover_timeout: Some(3600.0),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        let response = http
            .post(&url)
            .header("Content-Type", "application/x-protobuf")
            .header("Accept", "application/x-protobuf")
            .body(subscribe.encode_to_vec())
            .send()
            .await
            .expect("inspector subscribes");
        assert_eq!(response.status(), 200, "inspector SUBSCRIBE");
        let stream_id = response.headers()["mesos-stream-id"].to_str().unwrap().to_owned();
        let mut client =
            RawClient { http, url, framework_id: fid, stream_id, response, decoder: RecordIoDecoder::new() };
        let first = client.next_event().await;
        (client, first)
    }

    /// The next event of the stream.
    pub async fn next_event(&mut self) -> Event {
        loop {
            if let Some(record) = self.decoder.next_frame().expect("RecordIO") {
                return Event::decode(record.as_ref()).expect("event");
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk()).await.expect("an event in time");
            self.decoder.push(&chunk.expect("stream open").expect("stream not ended"));
        }
    }

    /// Reconciles `tasks` explicitly; the master's answer for each.
    pub async fn reconcile(&mut self, tasks: &[String]) -> BTreeMap<String, v1::TaskStatus> {
        let reconcile = Call {
            framework_id: Some(self.framework_id.clone()),
            r#type: Some(call::Type::Reconcile as i32),
            reconcile: Some(call::Reconcile {
                tasks: tasks
                    .iter()
                    .map(|t| call::reconcile::Task { task_id: v1::TaskId { value: t.clone() }, agent_id: None })
                    .collect(),
            }),
            ..Default::default()
        };
        let answer = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/x-protobuf")
            .header("Mesos-Stream-Id", &self.stream_id)
            .body(reconcile.encode_to_vec())
            .send()
            .await
            .expect("RECONCILE sent");
        assert_eq!(answer.status(), 202);
        let mut answers = BTreeMap::new();
        while answers.len() < tasks.len() {
            if let Some(update) = self.next_event().await.update {
                let status = update.status;
                if status.reason() == Reason::Reconciliation {
                    answers.insert(status.task_id.value.clone(), status);
                }
            }
        }
        answers
    }
}

/// Subscribes to `master_url` as framework `framework_id` (a failover, protobuf), reconciles
/// `tasks` explicitly, and returns the master's answer for each.
pub async fn reconcile_as(master_url: &str, framework_id: &str, tasks: &[String]) -> BTreeMap<String, v1::TaskStatus> {
    let (mut client, first) = RawClient::subscribe_as(master_url, framework_id).await;
    assert_eq!(first.r#type(), event::Type::Subscribed, "{first:?}");
    client.reconcile(tasks).await
}
