//! The real `offerpack executor` binary against a fake agent written here: a hyper server on
//! 127.0.0.2 serving `/api/v1/executor` (protobuf only), answering SUBSCRIBE with a RecordIO
//! event stream and UPDATEs with 202. The test drives the agent side by hand and waits on what
//! the agent saw through channels; timeouts only guard against hangs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Frame, Incoming};
use hyper::header::{ACCEPT, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use offerpack::mesos::recordio;
use offerpack::mesos::v1::executor::{call, event, Call, Event};
use offerpack::mesos::v1::task_status::Source;
use offerpack::mesos::v1::{
    AgentInfo, CommandInfo, DurationInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use prost::Message;
use tokio::sync::mpsc;

const PROTOBUF: &str = "application/x-protobuf";

/// How long any one expected thing may take before the test fails (a guard, not a wait).
const GUARD: Duration = Duration::from_secs(30);

type AgentBody = BoxBody<Bytes, Infallible>;

/// What the fake agent saw.
#[derive(Debug)]
enum Seen {
    /// A well-formed call.
    Call(Box<Call>),
    /// A request it refused (wrong path, content type, accept header or body).
    Refused(String),
}

/// The agent's state shared with its connections.
struct Shared {
    seen: mpsc::UnboundedSender<Seen>,
    /// The current event stream (the latest SUBSCRIBE's).
    stream: Mutex<Option<mpsc::UnboundedSender<Bytes>>>,
    /// Whether each UPDATE is answered with ACKNOWLEDGED on the stream.
    auto_ack: AtomicBool,
}

impl Shared {
    fn send(&self, event: &Event) {
        let mut bytes = BytesMut::new();
        recordio::encode_message(event, &mut bytes);
        if let Some(stream) = self.stream.lock().unwrap().as_ref() {
            let _ = stream.send(bytes.freeze());
        }
    }
}

/// A body fed through a channel: the SUBSCRIBE stream; it ends when the sender is dropped.
struct EventStream(mpsc::UnboundedReceiver<Bytes>);

impl hyper::body::Body for EventStream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

struct FakeAgent {
    addr: SocketAddr,
    shared: Arc<Shared>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl FakeAgent {
    async fn start(auto_ack: bool) -> FakeAgent {
        let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, seen) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared { seen: tx, stream: Mutex::new(None), auto_ack: AtomicBool::new(auto_ack) });
        let for_loop = shared.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let shared = for_loop.clone();
                let service = hyper::service::service_fn(move |request| handle(shared.clone(), request));
                tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service));
            }
        });
        FakeAgent { addr, shared, seen }
    }

    /// The next call, failing on a refused request.
    async fn next_call(&mut self) -> Call {
        match tokio::time::timeout(GUARD, self.seen.recv()).await {
            Ok(Some(Seen::Call(call))) => *call,
            Ok(Some(Seen::Refused(why))) => panic!("the agent refused a request: {why}"),
            Ok(None) | Err(_) => panic!("no call from the executor within {GUARD:?}"),
        }
    }

    async fn next_subscribe(&mut self) -> call::Subscribe {
        let call = self.next_call().await;
        assert_eq!(call.r#type(), call::Type::Subscribe, "{call:?}");
        assert_eq!((call.executor_id.value.as_str(), call.framework_id.value.as_str()), ("e-1", "fw-1"));
        call.subscribe.expect("SUBSCRIBE carries its payload")
    }

    async fn next_update(&mut self) -> TaskStatus {
        let call = self.next_call().await;
        assert_eq!(call.r#type(), call::Type::Update, "{call:?}");
        let status = call.update.expect("UPDATE carries its payload").status;
        assert_eq!(status.source, Some(Source::Executor as i32));
        let uuid = status.uuid.as_deref().expect("a uuid");
        assert_eq!(uuid.len(), 16);
        assert_eq!(uuid[6] >> 4, 4, "UUID version nibble of {uuid:02x?}");
        assert_eq!(uuid[8] >> 6, 0b10, "UUID variant bits of {uuid:02x?}");
        status
    }

    /// The updates of one task until a terminal one.
    async fn updates_until_terminal(&mut self, task: &str) -> Vec<TaskStatus> {
        let mut statuses = Vec::new();
        loop {
            let status = self.next_update().await;
            assert_eq!(status.task_id.value, task);
            let done = !matches!(status.state(), TaskState::TaskStarting | TaskState::TaskRunning);
            statuses.push(status);
            if done {
                return statuses;
            }
        }
    }

    fn send(&self, event: &Event) {
        self.shared.send(event);
    }

    /// Ends the current event stream.
    fn drop_stream(&self) {
        self.shared.stream.lock().unwrap().take();
    }
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<AgentBody>, Infallible> {
    let refuse = |status: StatusCode, why: String| {
        let _ = shared.seen.send(Seen::Refused(why.clone()));
        Ok(reply(status, Full::new(Bytes::from(why)).boxed()))
    };
    if request.method() != Method::POST || request.uri().path() != "/api/v1/executor" {
        return refuse(StatusCode::NOT_FOUND, format!("{} {}", request.method(), request.uri()));
    }
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if content_type.as_deref() != Some(PROTOBUF) {
        return refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("Content-Type {content_type:?}"));
    }
    let accept = request.headers().get(ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let Ok(call) = Call::decode(body) else {
        return refuse(StatusCode::BAD_REQUEST, "undecodable call".to_owned());
    };
    match call.r#type() {
        call::Type::Subscribe => {
            if accept != PROTOBUF {
                return refuse(StatusCode::NOT_ACCEPTABLE, format!("Accept {accept:?}"));
            }
            let (tx, rx) = mpsc::unbounded_channel();
            // A new SUBSCRIBE replaces (closes) the old stream.
            *shared.stream.lock().unwrap() = Some(tx);
            shared.send(&subscribed());
            let _ = shared.seen.send(Seen::Call(Box::new(call)));
            let mut response = reply(StatusCode::OK, EventStream(rx).boxed());
            response.headers_mut().insert(CONTENT_TYPE, PROTOBUF.parse().unwrap());
            Ok(response)
        }
        call::Type::Update => {
            let status = call.update.as_ref().map(|u| u.status.clone());
            let _ = shared.seen.send(Seen::Call(Box::new(call)));
            if let (Some(status), true) = (status, shared.auto_ack.load(Ordering::SeqCst)) {
                shared.send(&acknowledged(&status));
            }
            Ok(reply(StatusCode::ACCEPTED, Full::new(Bytes::new()).boxed()))
        }
        _ => Ok(reply(StatusCode::ACCEPTED, Full::new(Bytes::new()).boxed())),
    }
}

fn reply(status: StatusCode, body: AgentBody) -> Response<AgentBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
}

fn subscribed() -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            executor_info: ExecutorInfo::default(),
            framework_info: FrameworkInfo::default(),
            agent_info: AgentInfo { hostname: "127.0.0.2".into(), ..Default::default() },
            container_id: None,
        }),
        ..Default::default()
    }
}

fn acknowledged(status: &TaskStatus) -> Event {
    Event {
        r#type: Some(event::Type::Acknowledged as i32),
        acknowledged: Some(event::Acknowledged {
            task_id: status.task_id.clone(),
            uuid: status.uuid.clone().unwrap_or_default(),
        }),
        ..Default::default()
    }
}

fn launch(id: &str, line: &str) -> Event {
    let task = TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        command: Some(CommandInfo { value: Some(line.into()), ..Default::default() }),
        ..Default::default()
    };
    Event { r#type: Some(event::Type::Launch as i32), launch: Some(event::Launch { task }), ..Default::default() }
}

fn kill(id: &str, grace: Duration) -> Event {
    let policy = KillPolicy { grace_period: Some(DurationInfo { nanoseconds: grace.as_nanos() as i64 }) };
    Event {
        r#type: Some(event::Type::Kill as i32),
        kill: Some(event::Kill { task_id: TaskId { value: id.into() }, kill_policy: Some(policy) }),
        ..Default::default()
    }
}

fn shutdown() -> Event {
    Event { r#type: Some(event::Type::Shutdown as i32), ..Default::default() }
}

/// A fresh sandbox directory, removed on drop.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new(tag: &str) -> Sandbox {
        let dir = std::env::temp_dir().join(format!("offerpack-executor-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Sandbox(dir.canonicalize().unwrap())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Starts the real binary as an executor of the agent, with the agent-made environment only.
fn start_executor(agent: SocketAddr, sandbox: &Sandbox, checkpoint: bool) -> tokio::process::Child {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_offerpack"));
    command
        .arg("executor")
        .env_clear()
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env("MESOS_AGENT_ENDPOINT", agent.to_string())
        .env("MESOS_SLAVE_PID", format!("slave(1)@{agent}"))
        .env("MESOS_FRAMEWORK_ID", "fw-1")
        .env("MESOS_EXECUTOR_ID", "e-1")
        .env("MESOS_DIRECTORY", &sandbox.0)
        .env("MESOS_SANDBOX", &sandbox.0)
        .env("MESOS_CHECKPOINT", if checkpoint { "1" } else { "0" })
        .env("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "5secs")
        .current_dir(&sandbox.0)
        .kill_on_drop(true);
    if checkpoint {
        command.env("MESOS_RECOVERY_TIMEOUT", "1mins").env("MESOS_SUBSCRIPTION_BACKOFF_MAX", "100ms");
    }
    command.spawn().expect("start offerpack executor")
}

async fn exit_code(child: &mut tokio::process::Child) -> Option<i32> {
    let status = tokio::time::timeout(GUARD, child.wait()).await.expect("the executor exits").unwrap();
    status.code()
}

fn states(statuses: &[TaskStatus]) -> Vec<TaskState> {
    statuses.iter().map(TaskStatus::state).collect()
}

#[tokio::test]
async fn executor_process_runs_tasks_one_after_another_then_shuts_down() {
    let mut agent = FakeAgent::start(true).await;
    let sandbox = Sandbox::new("tasks");
    let mut executor = start_executor(agent.addr, &sandbox, false);
    let subscribe = agent.next_subscribe().await;
    assert!(subscribe.unacknowledged_tasks.is_empty() && subscribe.unacknowledged_updates.is_empty());

    // Exits 0 only in the sandbox and with its task id in the environment.
    let check = format!("test \"$MESOS_TASK_ID\" = t-ok && test \"$(pwd -P)\" = '{}'", sandbox.0.display());
    agent.send(&launch("t-ok", &check));
    let ok = agent.updates_until_terminal("t-ok").await;
    assert_eq!(states(&ok), [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);

    agent.send(&launch("t-fail", "exit 3"));
    let failed = agent.updates_until_terminal("t-fail").await;
    assert_eq!(states(&failed), [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFailed]);
    assert!(failed[2].message().contains("status 3"), "{:?}", failed[2].message);

    agent.send(&launch("t-sleep", "sleep 30"));
    let started: Vec<TaskState> =
        [agent.next_update().await, agent.next_update().await].iter().map(|s| s.state()).collect();
    assert_eq!(started, [TaskState::TaskStarting, TaskState::TaskRunning]);
    agent.send(&kill("t-sleep", Duration::from_secs(20)));
    let killed = agent.next_update().await;
    assert_eq!((killed.task_id.value.as_str(), killed.state()), ("t-sleep", TaskState::TaskKilled));
    assert!(killed.message().contains("signal 15"), "SIGTERM ended it: {:?}", killed.message);

    // A task ignoring SIGTERM (and so its child `sleep`) gets SIGKILL after its 1 s grace.
    agent.send(&launch("t-stubborn", "trap '' TERM; sleep 30; exit 0"));
    assert_eq!(agent.next_update().await.state(), TaskState::TaskStarting);
    assert_eq!(agent.next_update().await.state(), TaskState::TaskRunning);
    agent.send(&kill("t-stubborn", Duration::from_secs(1)));
    let stubborn = agent.next_update().await;
    assert_eq!((stubborn.task_id.value.as_str(), stubborn.state()), ("t-stubborn", TaskState::TaskKilled));
    assert!(stubborn.message().contains("signal 9"), "SIGKILL ended it: {:?}", stubborn.message);

    let mut uuids: Vec<Vec<u8>> = ok.iter().chain(&failed).chain([&killed]).filter_map(|s| s.uuid.clone()).collect();
    uuids.sort();
    uuids.dedup();
    assert_eq!(uuids.len(), 7, "every update has its own uuid");

    // SHUTDOWN with a task running: it is killed and reported, and the executor exits 0.
    agent.send(&launch("t-last", "sleep 30"));
    assert_eq!(agent.next_update().await.state(), TaskState::TaskStarting);
    assert_eq!(agent.next_update().await.state(), TaskState::TaskRunning);
    agent.send(&shutdown());
    let last = agent.next_update().await;
    assert_eq!((last.task_id.value.as_str(), last.state()), ("t-last", TaskState::TaskKilled));
    assert_eq!(exit_code(&mut executor).await, Some(0));
}

#[tokio::test]
async fn executor_process_resubscribes_with_unacknowledged_updates_and_tasks() {
    let mut agent = FakeAgent::start(false).await;
    let sandbox = Sandbox::new("resubscribe");
    let mut executor = start_executor(agent.addr, &sandbox, true);
    agent.next_subscribe().await;
    agent.send(&launch("t-1", "exit 0"));
    let sent = agent.updates_until_terminal("t-1").await;
    assert_eq!(states(&sent), [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);

    // The stream breaks before any ACKNOWLEDGED: everything comes back in the next SUBSCRIBE.
    agent.drop_stream();
    let again = agent.next_subscribe().await;
    let tasks: Vec<&str> = again.unacknowledged_tasks.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(tasks, ["t-1"]);
    let resent: Vec<&Option<Vec<u8>>> = again.unacknowledged_updates.iter().map(|u| &u.status.uuid).collect();
    let original: Vec<&Option<Vec<u8>>> = sent.iter().map(|s| &s.uuid).collect();
    assert_eq!(resent, original, "same updates, same uuids, same order");

    // Acknowledged now: a third subscription lists nothing.
    for status in &sent {
        agent.send(&acknowledged(status));
    }
    agent.drop_stream();
    let third = agent.next_subscribe().await;
    assert!(third.unacknowledged_tasks.is_empty(), "{:?}", third.unacknowledged_tasks);
    assert!(third.unacknowledged_updates.is_empty(), "{:?}", third.unacknowledged_updates);

    agent.send(&shutdown());
    assert_eq!(exit_code(&mut executor).await, Some(0));
}

#[tokio::test]
async fn executor_process_without_checkpoint_exits_when_the_stream_ends() {
    let mut agent = FakeAgent::start(true).await;
    let sandbox = Sandbox::new("nocheckpoint");
    let mut executor = start_executor(agent.addr, &sandbox, false);
    agent.next_subscribe().await;
    agent.drop_stream();
    assert_eq!(exit_code(&mut executor).await, Some(1));
}

#[tokio::test]
async fn executor_process_without_environment_is_a_usage_error() {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_offerpack"))
        .arg("executor")
        .env_clear()
        .env("MESOS_FRAMEWORK_ID", "fw-1")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("MESOS_AGENT_ENDPOINT"));
}
