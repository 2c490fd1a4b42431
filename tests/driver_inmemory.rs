//! The driver against a fake master held in memory: every HTTP request the driver makes arrives
//! here through a channel, and the test answers it (status, redirect, or an event stream it
//! writes RecordIO bytes into). Time is tokio's paused clock, so backoffs and the heartbeat
//! watchdog run instantly and nothing waits on wall-clock sleeps.
#![cfg(feature = "driver")]

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use offerpack::driver::{
    Body, BoxFuture, Encoding, Framework, FrameworkConfig, FrameworkHandle, HttpRequest, HttpResponse, Transport,
    TransportError, Updates,
};
use offerpack::mesos::v1::scheduler::{event, Call, Event};
use offerpack::mesos::v1::{self, task_status::Reason, TaskState as P};
use offerpack::mesos::{json, recordio};
use offerpack::session::{CallKind, CommandSpec, StopMode, StopReason, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;
use prost::Message;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

type Reply = oneshot::Sender<Result<HttpResponse, TransportError>>;

/// The transport half: forwards every request to the test.
struct FakeTransport(mpsc::UnboundedSender<Request>);

impl Transport for FakeTransport {
    fn post(&self, http: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, TransportError>> {
        let (reply, answer) = oneshot::channel();
        let _ = self.0.send(Request { http, reply });
        Box::pin(async move { answer.await.unwrap_or_else(|_| Err(TransportError::new("fake master went away"))) })
    }
}

/// A body fed through a channel (its `recv` is cancel-safe, as `Body` requires).
struct ChannelBody(mpsc::UnboundedReceiver<Result<Bytes, TransportError>>);

impl Body for ChannelBody {
    fn chunk(&mut self) -> BoxFuture<'_, Result<Option<Bytes>, TransportError>> {
        Box::pin(async move { self.0.recv().await.transpose() })
    }
}

fn response(status: u16, location: Option<&str>, stream_id: Option<&str>, text: &str) -> HttpResponse {
    let (tx, rx) = mpsc::unbounded_channel();
    if !text.is_empty() {
        let _ = tx.send(Ok(Bytes::copy_from_slice(text.as_bytes())));
    }
    HttpResponse {
        status,
        location: location.map(Into::into),
        stream_id: stream_id.map(Into::into),
        body: Box::new(ChannelBody(rx)),
    }
}

/// One request the driver made, waiting for the test's answer.
struct Request {
    http: HttpRequest,
    reply: Reply,
}

impl Request {
    fn call(&self) -> Call {
        match self.http.content_type {
            "application/json" => json::decode_call(&self.http.body).expect("JSON call"),
            _ => Call::decode(self.http.body.as_ref()).expect("protobuf call"),
        }
    }

    fn kind(&self) -> CallKind {
        if self.is_operator() {
            return CallKind::Other;
        }
        CallKind::of(&self.call())
    }

    /// A read of the operator API (`/api/v1`) rather than a scheduler call.
    fn is_operator(&self) -> bool {
        self.http.url.ends_with("/api/v1")
    }

    /// The operator call of an operator API read.
    fn operator_call(&self) -> offerpack::mesos::v1::master::Call {
        offerpack::mesos::v1::master::Call::decode(self.http.body.as_ref()).expect("protobuf operator call")
    }

    /// 202 for a scheduler call; 501 for an operator read (a master without that API).
    fn answer_other(self) {
        if self.is_operator() {
            self.respond(501, "Not Implemented");
        } else {
            self.respond(202, "");
        }
    }

    fn respond(self, status: u16, text: &str) {
        let _ = self.reply.send(Ok(response(status, None, None, text)));
    }

    fn fail(self, message: &str) {
        let _ = self.reply.send(Err(TransportError::new(message)));
    }

    fn redirect(self, location: &str) {
        let _ = self.reply.send(Ok(response(307, Some(location), None, "")));
    }

    fn open_stream(self, stream_id: &str) -> Stream {
        let (tx, rx) = mpsc::unbounded_channel();
        let json = self.http.accept == "application/json";
        let response = HttpResponse {
            status: 200,
            location: None,
            stream_id: Some(stream_id.into()),
            body: Box::new(ChannelBody(rx)),
        };
        let _ = self.reply.send(Ok(response));
        Stream { tx, json }
    }
}

/// The write end of an open event stream.
struct Stream {
    tx: mpsc::UnboundedSender<Result<Bytes, TransportError>>,
    json: bool,
}

impl Stream {
    fn record(&self, event: &Event) -> Bytes {
        let mut wire = BytesMut::new();
        if self.json {
            recordio::encode(&json::encode_event(event), &mut wire);
        } else {
            recordio::encode_message(event, &mut wire);
        }
        wire.freeze()
    }

    fn send(&self, event: &Event) {
        let _ = self.tx.send(Ok(self.record(event)));
    }

    fn raw(&self, bytes: Bytes) {
        let _ = self.tx.send(Ok(bytes));
    }
}

/// The test's side of the fake master.
struct Master {
    rx: mpsc::UnboundedReceiver<Request>,
}

impl Master {
    async fn next(&mut self) -> Request {
        let next = tokio::time::timeout(Duration::from_secs(3600), self.rx.recv()).await;
        next.expect("the driver went quiet").expect("the driver stopped")
    }

    /// The next SUBSCRIBE, answering other calls with 202 (operator reads with 501).
    async fn subscribe(&mut self) -> Request {
        loop {
            let request = self.next().await;
            if request.kind() == CallKind::Subscribe {
                return request;
            }
            request.answer_other();
        }
    }

    /// The next call of `kind`, answering other calls with 202 (a SUBSCRIBE is a failure).
    async fn call(&mut self, kind: CallKind) -> Request {
        loop {
            let request = self.next().await;
            match request.kind() {
                k if k == kind => return request,
                CallKind::Subscribe => panic!("unexpected SUBSCRIBE while waiting for {kind:?}"),
                _ => request.answer_other(),
            }
        }
    }

    /// Answers the next SUBSCRIBE with a stream, `SUBSCRIBED` and a heartbeat.
    async fn open(&mut self, stream_id: &str) -> (Call, Stream) {
        let request = self.subscribe().await;
        let call = request.call();
        let stream = request.open_stream(stream_id);
        stream.send(&subscribed("fw-1"));
        stream.send(&Event { r#type: Some(event::Type::Heartbeat as i32), ..Default::default() });
        (call, stream)
    }
}

fn start(config: FrameworkConfig) -> (Master, FrameworkHandle, Updates) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (handle, updates) = Framework::start_with(config, FakeTransport(tx)).expect("starts");
    (Master { rx }, handle, updates)
}

fn config() -> FrameworkConfig {
    FrameworkConfig::new("driver-test", "root", ["m1:5050", "http://m2:5050"])
}

fn subscribed(fw: &str) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: v1::FrameworkId { value: fw.into() },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    }
}

fn offer_event(id: &str, agent: &str) -> Event {
    let scalar = |name: &str, value: f64| v1::Resource {
        name: name.into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value }),
        ..Default::default()
    };
    let offer = v1::Offer {
        id: v1::OfferId { value: id.into() },
        framework_id: v1::FrameworkId { value: "fw-1".into() },
        agent_id: v1::AgentId { value: agent.into() },
        hostname: agent.into(),
        resources: vec![scalar("cpus", 4.0), scalar("mem", 1024.0)],
        ..Default::default()
    };
    Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers: vec![offer] }),
        ..Default::default()
    }
}

fn status(task: &str, state: P, uuid: Option<u8>, reason: Option<Reason>) -> Event {
    let status = v1::TaskStatus {
        task_id: v1::TaskId { value: task.into() },
        state: state as i32,
        agent_id: uuid.map(|_| v1::AgentId { value: "a-1".into() }),
        uuid: uuid.map(|b| vec![b; 16]),
        reason: reason.map(|r| r as i32),
        ..Default::default()
    };
    Event { r#type: Some(event::Type::Update as i32), update: Some(event::Update { status }), ..Default::default() }
}

fn task(id: &str) -> TaskRequest {
    let spec = TaskSpec::builder(id, "sleepers").scalar("cpus", 1.0).scalar("mem", 64.0).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("sleep 1"))
}

fn launched(call: &Call) -> Vec<String> {
    let accept = call.accept.as_ref().expect("accept body");
    accept
        .operations
        .iter()
        .flat_map(|o| &o.launch)
        .flat_map(|l| &l.task_infos)
        .map(|t| t.task_id.value.clone())
        .collect()
}

/// The next task update for `id`.
async fn task_state(updates: &mut Updates, id: &str) -> TaskState {
    loop {
        match updates.recv().await.expect("updates open") {
            Update::Task(t) if t.task_id.as_str() == id => return t.state,
            _ => {}
        }
    }
}

#[tokio::test(start_paused = true)]
async fn driver_stream_cut_mid_record_resubscribes_with_framework_id() {
    let (mut master, _handle, _updates) = start(config());
    let first = master.subscribe().await;
    assert_eq!(first.http.url, "http://m1:5050/api/v1/scheduler");
    assert_eq!(first.http.stream_id, None, "no stream id on SUBSCRIBE");
    assert_eq!((first.http.content_type, first.http.accept), ("application/x-protobuf", "application/x-protobuf"));
    assert!(first.call().framework_id.is_none());
    let stream = first.open_stream("stream-1");
    // SUBSCRIBED split across chunks, then half of an OFFERS record, then the connection drops.
    let whole = stream.record(&subscribed("fw-1"));
    stream.raw(whole.slice(..4));
    stream.raw(whole.slice(4..));
    let offers = stream.record(&offer_event("o-1", "a-1"));
    stream.raw(offers.slice(..offers.len() / 2));
    let suppress = master.call(CallKind::Suppress).await;
    assert_eq!(suppress.http.stream_id.as_deref(), Some("stream-1"), "calls carry the stream id");
    suppress.respond(202, "");
    drop(stream);
    let again = master.subscribe().await;
    let call = again.call();
    assert_eq!(call.framework_id.as_ref().map(|f| f.value.as_str()), Some("fw-1"));
    assert_eq!(call.subscribe.unwrap().framework_info.id.map(|f| f.value), Some("fw-1".into()));
    assert_eq!(again.http.stream_id, None);
    assert_eq!(again.http.url, "http://m1:5050/api/v1/scheduler", "the master that answered is the leader");
}

#[tokio::test(start_paused = true)]
async fn driver_follows_307_to_the_leader() {
    let (mut master, _handle, _updates) = start(config().credentials("p", "s"));
    let first = master.subscribe().await;
    assert_eq!(first.http.authorization.as_deref(), Some("Basic cDpz"));
    first.redirect("//leader.example:5051/api/v1/scheduler");
    let at_leader = master.subscribe().await;
    assert_eq!(at_leader.http.url, "http://leader.example:5051/api/v1/scheduler");
    assert_eq!(at_leader.http.authorization.as_deref(), Some("Basic cDpz"));
    let stream = at_leader.open_stream("s-1");
    stream.send(&subscribed("fw-1"));
    let suppress = master.call(CallKind::Suppress).await;
    assert_eq!(suppress.http.url, "http://leader.example:5051/api/v1/scheduler", "calls go to the leader");
    suppress.respond(202, "");
}

#[tokio::test(start_paused = true)]
async fn driver_retries_through_a_503_storm() {
    let (mut master, _handle, mut updates) = start(config());
    let began = Instant::now();
    let mut urls = Vec::new();
    for attempt in 0..6 {
        let request = master.subscribe().await;
        urls.push(request.http.url.clone());
        match attempt {
            0 => request.fail("connection refused"),
            _ => request.respond(503, "No leader elected"),
        }
    }
    let m1 = "http://m1:5050/api/v1/scheduler";
    let m2 = "http://m2:5050/api/v1/scheduler";
    assert_eq!(urls[0..4], [m1, m2, m1, m2], "masters tried in turn");
    assert!(began.elapsed() <= Duration::from_secs(6 * 15), "backoff capped at 15 s");
    let stream = master.subscribe().await.open_stream("s-1");
    stream.send(&subscribed("fw-1"));
    // A call answered 503 is retried by the driver until it goes through.
    for _ in 0..3 {
        master.call(CallKind::Suppress).await.respond(503, "Master has not finished recovery");
    }
    master.call(CallKind::Suppress).await.respond(202, "");
    stream.send(&Event { r#type: Some(event::Type::Heartbeat as i32), ..Default::default() });
    drop(stream);
    master.subscribe().await;
    let mut warned = false;
    while let Ok(update) = updates.try_recv() {
        warned |= matches!(update, Update::Warning(_));
    }
    assert!(!warned, "retried calls that went through are not failures");
}

#[tokio::test(start_paused = true)]
async fn driver_reconnects_after_heartbeat_loss() {
    let (mut master, _handle, _updates) = start(config());
    let (_, _silent_stream) = master.open("s-1").await;
    let silent_since = Instant::now();
    let again = master.subscribe().await;
    assert!(silent_since.elapsed() >= Duration::from_secs(75), "dead after 5 missed heartbeats");
    assert!(silent_since.elapsed() < Duration::from_secs(75 + 16));
    assert_eq!(again.call().framework_id.map(|f| f.value), Some("fw-1".into()));
}

#[tokio::test(start_paused = true)]
async fn driver_rescind_during_launch_places_the_task_again_once() {
    let (mut master, handle, mut updates) = start(config());
    let (_, stream) = master.open("s-1").await;
    handle.submit(task("t-1")).await.unwrap();
    assert_eq!(task_state(&mut updates, "t-1").await, TaskState::Pending);
    stream.send(&offer_event("o-1", "a-1"));
    let accept = master.call(CallKind::Accept).await;
    assert_eq!(launched(&accept.call()), ["t-1"]);
    accept.respond(202, "");
    assert_eq!(task_state(&mut updates, "t-1").await, TaskState::Launched);
    stream.send(&Event {
        r#type: Some(event::Type::Rescind as i32),
        rescind: Some(event::Rescind { offer_id: v1::OfferId { value: "o-1".into() } }),
        ..Default::default()
    });
    stream.send(&offer_event("o-2", "a-2"));
    let decline = master.call(CallKind::Decline).await;
    assert_eq!(decline.call().decline.unwrap().offer_ids[0].value, "o-2", "no second launch while in flight");
    decline.respond(202, "");
    stream.send(&status("t-1", P::TaskLost, None, Some(Reason::InvalidOffers)));
    assert_eq!(task_state(&mut updates, "t-1").await, TaskState::Pending, "placed again, not lost");
    stream.send(&offer_event("o-3", "a-3"));
    let accept = master.call(CallKind::Accept).await;
    let call = accept.call();
    assert_eq!((launched(&call), call.accept.unwrap().offer_ids[0].value.clone()), (vec!["t-1".into()], "o-3".into()));
    accept.respond(202, "");
    assert_eq!(task_state(&mut updates, "t-1").await, TaskState::Launched);
}

#[tokio::test(start_paused = true)]
async fn driver_acks_every_copy_with_uuid_and_none_without() {
    let (mut master, _handle, mut updates) = start(config());
    let (_, stream) = master.open("s-1").await;
    stream.send(&status("t-9", P::TaskRunning, Some(1), None));
    stream.send(&status("t-9", P::TaskRunning, Some(1), None));
    stream.send(&status("t-9", P::TaskRunning, None, Some(Reason::Reconciliation)));
    stream.send(&status("t-9", P::TaskFinished, Some(2), None));
    let mut acked = Vec::new();
    for _ in 0..3 {
        let ack = master.call(CallKind::Acknowledge).await;
        let body = ack.call().acknowledge.unwrap();
        assert_eq!((body.agent_id.value.as_str(), body.task_id.value.as_str()), ("a-1", "t-9"));
        acked.push(body.uuid[0]);
        ack.respond(202, "");
    }
    assert_eq!(acked, [1, 1, 2]);
    assert_eq!(task_state(&mut updates, "t-9").await, TaskState::Running);
    assert_eq!(task_state(&mut updates, "t-9").await, TaskState::Finished);
    // Nothing else is acknowledged: the next call is the idle SUPPRESS or a later one, never an ack.
    stream.send(&Event { r#type: Some(event::Type::Heartbeat as i32), ..Default::default() });
    drop(stream);
    loop {
        let request = master.next().await;
        match request.kind() {
            CallKind::Subscribe => break,
            kind => assert_ne!(kind, CallKind::Acknowledge, "an update without uuid was acked"),
        }
        request.answer_other();
    }
}

#[tokio::test(start_paused = true)]
async fn driver_unauthorized_subscribe_stops_with_a_clear_error() {
    let (mut master, handle, mut updates) = start(config());
    master.subscribe().await.respond(401, "Unauthorized");
    let stopped = loop {
        if let Update::Stopped(reason) = updates.recv().await.expect("updates") {
            break reason;
        }
    };
    let StopReason::SubscribeRejected { status, message } = stopped else { panic!("{stopped:?}") };
    assert_eq!(status, 401);
    assert!(message.contains("authentication"), "{message}");
    assert!(updates.recv().await.is_none(), "the driver ended");
    assert!(handle.submit(task("late")).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn driver_not_subscribed_call_resubscribes() {
    let (mut master, _handle, _updates) = start(config());
    let (_, _stream) = master.open("s-1").await;
    master.call(CallKind::Suppress).await.respond(403, "Framework is not subscribed");
    let again = master.subscribe().await;
    assert_eq!(again.call().framework_id.map(|f| f.value), Some("fw-1".into()));
}

#[tokio::test(start_paused = true)]
async fn driver_teardown_sends_teardown_then_stops() {
    let (mut master, handle, mut updates) = start(config());
    let (_, _stream) = master.open("s-1").await;
    handle.stop(StopMode::Teardown);
    let teardown = master.call(CallKind::Teardown).await;
    assert_eq!(teardown.call().framework_id.map(|f| f.value), Some("fw-1".into()));
    teardown.respond(202, "");
    let mut last = None;
    while let Some(update) = updates.recv().await {
        last = Some(update);
    }
    assert_eq!(last, Some(Update::Stopped(StopReason::Requested(StopMode::Teardown))));
}

#[tokio::test(start_paused = true)]
async fn driver_speaks_json_when_asked() {
    let (mut master, handle, mut updates) = start(config().encoding(Encoding::Json));
    let request = master.subscribe().await;
    assert_eq!((request.http.content_type, request.http.accept), ("application/json", "application/json"));
    assert_eq!(request.call().subscribe.unwrap().framework_info.name, "driver-test");
    let stream = request.open_stream("s-1");
    stream.send(&subscribed("fw-1"));
    handle.submit(task("t-1")).await.unwrap();
    stream.send(&offer_event("o-1", "a-1"));
    let accept = master.call(CallKind::Accept).await;
    assert_eq!(launched(&accept.call()), ["t-1"]);
    accept.respond(202, "");
    stream.send(&status("t-1", P::TaskRunning, Some(4), None));
    let ack = master.call(CallKind::Acknowledge).await;
    assert_eq!(ack.call().acknowledge.unwrap().uuid, vec![4; 16]);
    ack.respond(202, "");
    let mut states = Vec::new();
    while states.last() != Some(&TaskState::Running) {
        states.push(task_state(&mut updates, "t-1").await);
    }
    assert_eq!(states, [TaskState::Pending, TaskState::Launched, TaskState::Running]);
}

impl Request {
    /// Answers 200 with a protobuf operator `Response`.
    fn respond_operator(self, answer: &offerpack::mesos::v1::master::Response) {
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(Ok(Bytes::from(answer.encode_to_vec())));
        let body = Box::new(ChannelBody(rx));
        let _ = self.reply.send(Ok(HttpResponse { status: 200, location: None, stream_id: None, body }));
    }
}

/// A scheduler taking a framework over reads the operator API (beside the scheduler path)
/// before it places anything: GET_TASKS for the tasks it inherits, then GET_AGENTS for the
/// agents they run on; then passes go on.
#[tokio::test(start_paused = true)]
async fn driver_taking_over_reads_tasks_and_agents_before_placing() {
    use offerpack::mesos::v1::master::{call, response, Response};
    let mut config = config();
    config.session.framework_id = Some("fw-1".into());
    let (mut master, handle, mut updates) = start(config);
    let (_, stream) = master.open("s-1").await;
    let tasks = master.next().await;
    assert_eq!(tasks.http.url, "http://m1:5050/api/v1");
    assert_eq!(tasks.operator_call().r#type, Some(call::Type::GetTasks as i32));
    let inherited = v1::Task {
        name: "old".into(),
        task_id: v1::TaskId { value: "t-old".into() },
        framework_id: v1::FrameworkId { value: "fw-1".into() },
        agent_id: v1::AgentId { value: "a-9".into() },
        state: P::TaskRunning as i32,
        labels: Some(v1::Labels {
            labels: vec![v1::Label { key: offerpack::session::GROUP_LABEL.into(), value: Some("sleepers".into()) }],
        }),
        ..Default::default()
    };
    tasks.respond_operator(&Response {
        r#type: Some(response::Type::GetTasks as i32),
        get_tasks: Some(response::GetTasks { tasks: vec![inherited], ..Default::default() }),
        ..Default::default()
    });
    let agents = master.next().await;
    assert_eq!(agents.operator_call().r#type, Some(call::Type::GetAgents as i32));
    // Offers meanwhile are held, not placed on.
    handle.submit(task("t-new")).await.unwrap();
    stream.send(&offer_event("o-1", "a-1"));
    let agent = response::get_agents::Agent {
        agent_info: v1::AgentInfo {
            hostname: "h9".into(),
            id: Some(v1::AgentId { value: "a-9".into() }),
            ..Default::default()
        },
        active: true,
        ..Default::default()
    };
    agents.respond_operator(&Response {
        r#type: Some(response::Type::GetAgents as i32),
        get_agents: Some(response::GetAgents { agents: vec![agent], ..Default::default() }),
        ..Default::default()
    });
    let accept = master.call(CallKind::Accept).await;
    assert_eq!(launched(&accept.call()), ["t-new"]);
    let adopted = loop {
        match updates.recv().await.expect("updates") {
            Update::Task(u) if u.task_id.as_str() == "t-old" => break u,
            _ => {}
        }
    };
    assert_eq!((adopted.state, adopted.known), (TaskState::Running, false));
}
