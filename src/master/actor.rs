//! The actor of the HTTP shell: one task owning the [`MasterCore`], the open event streams
//! and the HTTP-level fault knobs. Connection tasks hand it parsed-enough requests and get
//! responses back; it drives the core's deadlines with tokio time (the only clock reader)
//! and writes the core's outputs to the streams, after every input.

use std::collections::HashMap;
use std::time::Duration;

use bytes::BytesMut;
use hyper::body::Bytes;
use hyper::{header, Method, Response, StatusCode};
use prost::Message as _;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::auth::{Credentials, SCHEDULER_REALM};
use super::body::{ApiBody, Chunk, EventBody, GoneSender};
use super::config::{Redirect, StreamCut, Unavailable};
use super::remote::{AgentAnswer, AGENT_API_PATH};
use super::server::{is_operator_path, operator_response};
use super::state::{CallOutcome, MasterCore, Output, StreamKey};
use super::validate::validate_call;
use super::zk_member::Leadership;
use crate::mesos::v1::scheduler::{call, Call};
use crate::mesos::{agent_api, json, recordio};

/// Where the master serves its metrics.
pub(crate) const METRICS_PATH: &str = "/metrics/snapshot";

pub(crate) const APPLICATION_JSON: &str = "application/json";
pub(crate) const APPLICATION_PROTOBUF: &str = "application/x-protobuf";

/// The parts of a scheduler API request the actor needs.
#[derive(Debug)]
pub(crate) struct ApiRequest {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) content_type: Option<String>,
    pub(crate) accept: Option<String>,
    pub(crate) stream_id: Option<String>,
    /// The `Authorization` header.
    pub(crate) authorization: Option<String>,
    pub(crate) body: Bytes,
}

/// A runtime change of a knob, or a simulated event.
#[derive(Debug)]
pub(crate) enum Knob {
    CutStreams(Option<StreamCut>),
    Redirect(Option<Redirect>),
    Unavailable(Option<(Duration, Unavailable)>),
    DuplicateUpdates(bool),
    LoseAgent(usize),
    RestoreAgent(usize),
    LeaderChange,
}

/// Messages to the actor.
#[derive(Debug)]
pub(crate) enum Command {
    Api(ApiRequest, oneshot::Sender<Response<ApiBody>>),
    Knob(Knob, oneshot::Sender<bool>),
    DrainLedger(oneshot::Sender<Vec<super::LedgerEntry>>),
    /// The ZooKeeper election's news (`zk_member`).
    Leadership(Leadership),
    Shutdown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Protobuf,
}

#[derive(Debug)]
struct Sink {
    tx: mpsc::UnboundedSender<Chunk>,
    format: Format,
    /// Whole records still allowed before a cut.
    remaining: Option<u64>,
    mid_record: bool,
    /// An agent process' stream (protobuf `offerpack.agent.Event`s, never cut by the knob).
    agent: bool,
}

#[derive(Debug)]
pub(crate) struct Actor {
    core: MasterCore,
    start: Instant,
    sinks: HashMap<StreamKey, Sink>,
    gone_tx: GoneSender,
    cut: Option<StreamCut>,
    redirect: Option<Redirect>,
    unavailable: Option<(Instant, Unavailable)>,
    /// When set, scheduler API requests must authenticate (HTTP Basic).
    pub(crate) credentials: Option<Credentials>,
    /// Where this master stands in its election, published for [`MasterHandle::leadership`].
    ///
    /// [`MasterHandle::leadership`]: super::MasterHandle::leadership
    pub(crate) leadership: watch::Sender<Leadership>,
}

impl Actor {
    pub(crate) fn new(
        core: MasterCore,
        gone_tx: GoneSender,
        cut: Option<StreamCut>,
        redirect: Option<Redirect>,
        unavailable: Option<(Duration, Unavailable)>,
    ) -> Actor {
        let start = Instant::now();
        let unavailable = unavailable.map(|(d, kind)| (start + d, kind));
        let standing = if core.is_leading() { Leadership::Leading { node: None } } else { Leadership::NO_LEADER };
        let (leadership, _) = watch::channel(standing);
        Actor { core, start, sinks: HashMap::new(), gone_tx, cut, redirect, unavailable, credentials: None, leadership }
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.start)
    }

    /// Runs until [`Command::Shutdown`] or until every command sender is gone.
    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut gone: mpsc::UnboundedReceiver<StreamKey>,
    ) {
        loop {
            let deadline = self.core.poll_timeout().map(|d| self.start + d);
            tokio::select! {
                command = commands.recv() => match command {
                    None | Some(Command::Shutdown) => break,
                    Some(Command::Api(request, reply)) => {
                        let response = self.api(request);
                        let _ = reply.send(response);
                    }
                    Some(Command::Knob(knob, reply)) => {
                        let done = self.knob(knob);
                        let _ = reply.send(done);
                    }
                    Some(Command::DrainLedger(reply)) => {
                        let _ = reply.send(self.core.drain_task_ledger());
                    }
                    Some(Command::Leadership(news)) => self.lead(news),
                },
                Some(key) = gone.recv() => {
                    if self.sinks.remove(&key).is_some() {
                        tracing::debug!(stream = ?key, "event stream closed by the client");
                        let now = self.now();
                        self.core.handle_stream_closed(now, key);
                    }
                }
                () = sleep_until(deadline), if deadline.is_some() => {
                    let now = self.now();
                    self.core.handle_timeout(now);
                }
            }
            self.flush();
        }
    }

    fn knob(&mut self, knob: Knob) -> bool {
        tracing::debug!(knob = ?knob, "fault knob");
        let now = self.now();
        match knob {
            Knob::CutStreams(cut) => {
                self.cut = cut;
                for sink in self.sinks.values_mut().filter(|s| !s.agent) {
                    sink.remaining = cut.map(|c| c.after_events);
                    sink.mid_record = cut.is_some_and(|c| c.mid_record);
                }
                // A cut after 0 more events takes effect at once.
                let due: Vec<StreamKey> = self
                    .sinks
                    .iter()
                    .filter(|(_, s)| s.remaining == Some(0) && !s.mid_record)
                    .map(|(k, _)| *k)
                    .collect();
                for key in due {
                    self.abort(key, None);
                }
                true
            }
            Knob::Redirect(redirect) => {
                self.redirect = redirect;
                true
            }
            Knob::Unavailable(unavailable) => {
                self.unavailable = unavailable.map(|(d, kind)| (Instant::now() + d, kind));
                true
            }
            Knob::DuplicateUpdates(on) => {
                self.core.set_duplicate_updates(on);
                true
            }
            Knob::LoseAgent(agent) => self.core.handle_lose_agent(now, agent),
            Knob::RestoreAgent(agent) => self.core.handle_restore_agent(now, agent),
            Knob::LeaderChange => {
                self.core.handle_leader_change(now);
                true
            }
        }
    }

    /// Takes the election's news: the core learns whether it leads, and requests follow the
    /// leader (see [`Actor::fault_response`]).
    fn lead(&mut self, news: Leadership) {
        let now = self.now();
        self.core.handle_leadership(now, matches!(news, Leadership::Leading { .. }));
        self.leadership.send_if_modified(|current| std::mem::replace(current, news.clone()) != news);
    }

    /// Writes the core's outputs to the streams. The records one input produced for a stream go
    /// out as one chunk (a burst of status updates costs one write, and the reader decodes them
    /// from one read); a stream cut still falls after the same record.
    fn flush(&mut self) {
        let mut batches: Vec<(StreamKey, BytesMut)> = Vec::new();
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::Event { stream, event } => {
                    let Some(sink) = self.sinks.get_mut(&stream) else { continue };
                    if sink.remaining == Some(0) {
                        // Only a mid-record cut waits for this record.
                        let frame = recordio::encode_to_bytes(&encode_event(sink.format, &event));
                        let half = frame.slice(..frame.len() / 2);
                        self.send_batch(&mut batches, stream);
                        self.abort(stream, Some(half));
                        continue;
                    }
                    let index = batch_index(&mut batches, stream);
                    match sink.format {
                        Format::Protobuf => recordio::encode_message(&event, &mut batches[index].1),
                        Format::Json => recordio::encode(&json::encode_event(&event), &mut batches[index].1),
                    }
                    if let Some(left) = sink.remaining.as_mut() {
                        *left -= 1;
                        if *left == 0 && !sink.mid_record {
                            self.send_batch(&mut batches, stream);
                            self.abort(stream, None);
                        }
                    }
                }
                Output::Agent { stream, event } => {
                    if !self.sinks.contains_key(&stream) {
                        continue;
                    }
                    let index = batch_index(&mut batches, stream);
                    recordio::encode_message(&event, &mut batches[index].1);
                }
                Output::Close { stream } => {
                    self.send_batch(&mut batches, stream);
                    // Dropping the sender ends the body cleanly.
                    self.sinks.remove(&stream);
                }
            }
        }
        for (stream, bytes) in batches {
            if let Some(sink) = self.sinks.get(&stream) {
                let _ = sink.tx.send(Chunk::Data(bytes.freeze()));
            }
        }
    }

    /// Writes the records gathered for `stream` so far.
    fn send_batch(&mut self, batches: &mut Vec<(StreamKey, BytesMut)>, stream: StreamKey) {
        let Some(index) = batches.iter().position(|(key, _)| *key == stream) else { return };
        let (_, bytes) = batches.swap_remove(index);
        if let Some(sink) = self.sinks.get(&stream) {
            let _ = sink.tx.send(Chunk::Data(bytes.freeze()));
        }
    }

    /// Cuts a stream: optional partial bytes, then an aborted connection. The framework is
    /// disconnected at once, as the master notices a broken connection.
    fn abort(&mut self, key: StreamKey, partial: Option<Bytes>) {
        let Some(sink) = self.sinks.remove(&key) else { return };
        if let Some(bytes) = partial {
            let _ = sink.tx.send(Chunk::Data(bytes));
        }
        let _ = sink.tx.send(Chunk::Abort);
        tracing::debug!(stream = ?key, "event stream cut");
        let now = self.now();
        self.core.handle_stream_closed(now, key);
    }

    /// Answers one API request, in the order of checks of `Master::Http::scheduler` (operator
    /// calls go their own way after the fault knobs and the method check).
    fn api(&mut self, request: ApiRequest) -> Response<ApiBody> {
        if request.path == AGENT_API_PATH {
            return self.agent_api(request);
        }
        if request.path == METRICS_PATH {
            return self.metrics(&request);
        }
        let is_operator = is_operator_path(&request.path);
        let principal = match (&self.credentials, is_operator) {
            (Some(credentials), false) => match credentials.authenticate(request.authorization.as_deref()) {
                Some(principal) => Some(principal),
                None => {
                    tracing::debug!(path = request.path, "scheduler API request not authenticated: 401");
                    return unauthorized();
                }
            },
            _ => None,
        };
        if let Some(response) = self.fault_response(&request.path) {
            return response;
        }
        if request.method != Method::POST {
            let text = format!("Expecting one of {{ 'POST' }}, but received '{}'", request.method);
            let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, text);
            response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return response;
        }
        if is_operator {
            let now = self.now();
            return operator_response(&mut self.core, now, &request);
        }
        let mut c = match parse_call(request.content_type.as_deref(), &request.body) {
            Ok(c) => c,
            Err((status, text)) => return plain(status, text),
        };
        if let Err(e) = validate_call(&c) {
            return plain(StatusCode::BAD_REQUEST, format!("Failed to validate scheduler::Call: {e}"));
        }
        let mut format = Format::Json;
        if c.r#type == Some(call::Type::Subscribe as i32) {
            format = match preferred_format(request.accept.as_deref()) {
                Some(f) => f,
                None => {
                    let text = format!("Expecting 'Accept' to allow '{APPLICATION_PROTOBUF}' or '{APPLICATION_JSON}'");
                    return plain(StatusCode::NOT_ACCEPTABLE, text);
                }
            };
            if request.stream_id.is_some() {
                return plain(
                    StatusCode::BAD_REQUEST,
                    "Subscribe calls should not include the 'Mesos-Stream-Id' header",
                );
            }
            if let (Some(authenticated), Some(info)) = (principal, c.subscribe.as_mut().map(|s| &mut s.framework_info))
            {
                match &info.principal {
                    Some(given) if *given != authenticated => {
                        let text = format!(
                            "Authenticated principal '{authenticated}' does not match principal '{given}' set in \
                             `FrameworkInfo`"
                        );
                        return plain(StatusCode::BAD_REQUEST, text);
                    }
                    Some(_) => {}
                    None => info.principal = Some(authenticated),
                }
            }
        }
        let now = self.now();
        let kind = c.r#type.and_then(|t| call::Type::try_from(t).ok()).map_or("UNKNOWN", |t| t.as_str_name());
        let outcome = self.core.handle_call(now, c, request.stream_id.as_deref());
        match &outcome {
            CallOutcome::Rejected { status, message } => {
                tracing::debug!(call = kind, status, detail = message.as_str(), "scheduler call rejected");
            }
            CallOutcome::Subscribed { stream_id, .. } => {
                tracing::info!(stream_id = stream_id.as_str(), "framework subscribed");
            }
            _ => tracing::debug!(call = kind, "scheduler call"),
        }
        match outcome {
            CallOutcome::Accepted => plain(StatusCode::ACCEPTED, ""),
            CallOutcome::Ok => plain(StatusCode::OK, ""),
            CallOutcome::Rejected { status, message } => {
                plain(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message)
            }
            CallOutcome::Subscribed { stream, stream_id } => self.open_stream(stream, &stream_id, format),
        }
    }

    /// `GET /metrics/snapshot`: answered by any master, leading or not (`master/elected` says).
    fn metrics(&self, request: &ApiRequest) -> Response<ApiBody> {
        if request.method != Method::GET && request.method != Method::HEAD {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "Expecting one of { 'GET' }");
        }
        let elected = self.redirect.is_none() && self.core.is_leading();
        let body = super::metrics::snapshot_json(&self.core.metrics_snapshot(self.now(), elected));
        let mut response = plain(StatusCode::OK, body);
        response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static(APPLICATION_JSON));
        response
    }

    /// Answers a private agent API request (protobuf only; the fault knobs do not apply, but a
    /// master that does not lead answers as for the scheduler API).
    fn agent_api(&mut self, request: ApiRequest) -> Response<ApiBody> {
        if let Some(response) = self.follower_response(&request.path) {
            return response;
        }
        if request.method != Method::POST {
            let text = format!("Expecting one of {{ 'POST' }}, but received '{}'", request.method);
            return plain(StatusCode::METHOD_NOT_ALLOWED, text);
        }
        if request.content_type.as_deref() != Some(APPLICATION_PROTOBUF) {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Expecting 'Content-Type' of {APPLICATION_PROTOBUF}"),
            );
        }
        let Ok(c) = agent_api::Call::decode(request.body) else {
            return plain(StatusCode::BAD_REQUEST, "Failed to parse body into offerpack.agent.Call protobuf");
        };
        let now = self.now();
        match self.core.handle_agent_call(now, c) {
            AgentAnswer::Accepted => plain(StatusCode::ACCEPTED, ""),
            AgentAnswer::Rejected { status, message } => {
                plain(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message)
            }
            AgentAnswer::Registered { stream, .. } => {
                let (tx, rx) = mpsc::unbounded_channel();
                let sink = Sink { tx, format: Format::Protobuf, remaining: None, mid_record: false, agent: true };
                self.sinks.insert(stream, sink);
                let mut response = Response::new(ApiBody::Events(EventBody::new(rx, stream, self.gone_tx.clone())));
                let headers = response.headers_mut();
                headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(APPLICATION_PROTOBUF));
                headers.insert(header::TRANSFER_ENCODING, header::HeaderValue::from_static("chunked"));
                response
            }
        }
    }

    fn open_stream(&mut self, stream: StreamKey, stream_id: &str, format: Format) -> Response<ApiBody> {
        let (tx, rx) = mpsc::unbounded_channel();
        let sink = Sink {
            tx,
            format,
            remaining: self.cut.map(|c| c.after_events),
            mid_record: self.cut.is_some_and(|c| c.mid_record),
            agent: false,
        };
        self.sinks.insert(stream, sink);
        let content_type = match format {
            Format::Json => APPLICATION_JSON,
            Format::Protobuf => APPLICATION_PROTOBUF,
        };
        let mut response = Response::new(ApiBody::Events(EventBody::new(rx, stream, self.gone_tx.clone())));
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, header::HeaderValue::from_static(content_type));
        headers.insert(header::TRANSFER_ENCODING, header::HeaderValue::from_static("chunked"));
        if let Ok(value) = header::HeaderValue::from_str(stream_id) {
            headers.insert("mesos-stream-id", value);
        }
        response
    }

    /// The 307 to the leader (or 503 "No leader elected") of a master that does not lead.
    fn follower_response(&self, path: &str) -> Option<Response<ApiBody>> {
        match &*self.leadership.borrow() {
            Leadership::Leading { .. } => None,
            Leadership::Following { leader: Some(leader) } => Some(redirect_response(leader, path)),
            Leadership::Following { leader: None } => {
                Some(plain(StatusCode::SERVICE_UNAVAILABLE, Unavailable::NoLeader.text()))
            }
        }
    }

    /// The 307 or 503 a knob asks for, if any, else that of a master that does not lead.
    fn fault_response(&mut self, path: &str) -> Option<Response<ApiBody>> {
        if let Some(redirect) = &mut self.redirect {
            let leader = redirect.leader.clone();
            match &mut redirect.remaining {
                Some(0) => self.redirect = None,
                Some(left) => {
                    *left -= 1;
                    if *left == 0 {
                        self.redirect = None;
                    }
                    return Some(redirect_response(&leader, path));
                }
                None => return Some(redirect_response(&leader, path)),
            }
        }
        if let Some((until, kind)) = self.unavailable {
            if Instant::now() < until {
                return Some(plain(StatusCode::SERVICE_UNAVAILABLE, kind.text()));
            }
            self.unavailable = None;
        }
        self.follower_response(path)
    }
}

/// One event's record in a stream's encoding.
fn encode_event(format: Format, event: &crate::mesos::v1::scheduler::Event) -> Vec<u8> {
    match format {
        Format::Json => json::encode_event(event),
        Format::Protobuf => event.encode_to_vec(),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Parses a scheduler call by its exact `Content-Type`, with the master's status codes and texts.
fn parse_call(content_type: Option<&str>, body: &[u8]) -> Result<Call, (StatusCode, String)> {
    parse_body(content_type, body, json::check_call_required_fields, json::decode_call)
}

/// Parses a call body (scheduler or operator API) by its exact `Content-Type`: protobuf with its
/// required fields checked by `required`, or JSON read by `from_json`; the master's texts.
pub(crate) fn parse_body<T: prost::Message + Default>(
    content_type: Option<&str>,
    body: &[u8],
    required: fn(&[u8]) -> Result<(), json::JsonError>,
    from_json: fn(&[u8]) -> Result<T, json::JsonError>,
) -> Result<T, (StatusCode, String)> {
    let bad = |text: String| (StatusCode::BAD_REQUEST, text);
    match content_type {
        None => Err(bad("Expecting 'Content-Type' to be present".into())),
        Some(APPLICATION_PROTOBUF) => {
            let c = T::decode(body).map_err(|_| bad("Failed to parse body into Call protobuf".into()))?;
            required(body).map_err(|_| bad("Failed to parse body into Call protobuf".into()))?;
            Ok(c)
        }
        Some(APPLICATION_JSON) => from_json(body).map_err(|e| {
            if e.is_syntax() {
                bad(format!("Failed to parse body into JSON: {e}"))
            } else {
                bad(format!("Failed to convert JSON into Call protobuf: {e}"))
            }
        }),
        Some(_) => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Expecting 'Content-Type' of {APPLICATION_JSON} or {APPLICATION_PROTOBUF}"),
        )),
    }
}

/// The stream encoding an `Accept` header asks for: JSON when acceptable (also when the
/// header is absent), else protobuf, else `None` (406). Media ranges with `q=0` do not count.
pub(crate) fn preferred_format(accept: Option<&str>) -> Option<Format> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else { return Some(Format::Json) };
    let ranges: Vec<String> = accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=").and_then(|q| q.trim().parse::<f64>().ok()).is_some_and(|q| q <= 0.0)
            });
            (!refused).then_some(media)
        })
        .collect();
    let accepts = |media: &str| {
        let (kind, _) = media.split_once('/').unwrap_or((media, ""));
        ranges.iter().any(|r| r == media || r == "*/*" || *r == format!("{kind}/*"))
    };
    if accepts(APPLICATION_JSON) {
        Some(Format::Json)
    } else if accepts(APPLICATION_PROTOBUF) {
        Some(Format::Protobuf)
    } else {
        None
    }
}

fn redirect_response(leader: &str, path: &str) -> Response<ApiBody> {
    let leader = leader.split_once("//").map_or(leader, |(_, rest)| rest);
    let leader = leader.split('/').next().unwrap_or(leader);
    let location = if path.starts_with("/redirect") { format!("//{leader}") } else { format!("//{leader}{path}") };
    let mut response = plain(StatusCode::TEMPORARY_REDIRECT, "");
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A response with a text body (none when empty).
pub(crate) fn plain(status: StatusCode, text: impl Into<String>) -> Response<ApiBody> {
    let text = text.into();
    let has_body = !text.is_empty();
    let mut response = Response::new(ApiBody::text(text));
    *response.status_mut() = status;
    if has_body {
        let value = header::HeaderValue::from_static("text/plain; charset=utf-8");
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// 401 as libprocess answers it: the realm of the scheduler API, a fixed body.
fn unauthorized() -> Response<ApiBody> {
    let mut response = plain(StatusCode::UNAUTHORIZED, "401 Unauthorized.");
    let challenge = format!("Basic realm=\"{SCHEDULER_REALM}\"");
    if let Ok(value) = header::HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The position of `stream`'s batch in `batches`, added empty if it has none yet.
fn batch_index(batches: &mut Vec<(StreamKey, BytesMut)>, stream: StreamKey) -> usize {
    match batches.iter().position(|(key, _)| *key == stream) {
        Some(index) => index,
        None => {
            batches.push((stream, BytesMut::new()));
            batches.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_prefers_json_and_honours_q_zero() {
        assert_eq!(preferred_format(None), Some(Format::Json));
        assert_eq!(preferred_format(Some("application/x-protobuf")), Some(Format::Protobuf));
        assert_eq!(preferred_format(Some("application/x-protobuf, application/json")), Some(Format::Json));
        assert_eq!(preferred_format(Some("Application/*")), Some(Format::Json));
        assert_eq!(preferred_format(Some("application/json;q=0, application/x-protobuf")), Some(Format::Protobuf));
        assert_eq!(preferred_format(Some("text/html")), None);
        assert_eq!(preferred_format(Some("*/*;q=0.5")), Some(Format::Json));
    }

    #[test]
    fn redirect_location_is_protocol_relative() {
        let r = redirect_response("10.0.0.9:5050", "/api/v1/scheduler");
        assert_eq!(r.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(r.headers()[header::LOCATION], "//10.0.0.9:5050/api/v1/scheduler");
        let r = redirect_response("http://m2:5050/api/v1/scheduler", "/master/api/v1/scheduler");
        assert_eq!(r.headers()[header::LOCATION], "//m2:5050/master/api/v1/scheduler");
    }
}
