//! The real `offerpack agent` binary against a fake master in the test (a hyper server on
//! 127.0.0.2 speaking the private agent API) and the artifact server on 127.0.0.3 serving a
//! shell script; the agent listens on 127.0.0.4. Checks registration, fetch + run, the fetcher
//! cache, fetch failures, kills, and the executor API with the test playing the executor.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Body, Bytes, Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use offerpack::artifact::{ArtifactServer, ArtifactSettings, Artifacts, RunningServer};
use offerpack::mesos::agent_api::{call, event, Call, Event};
use offerpack::mesos::recordio;
use offerpack::mesos::v1::command_info::Uri;
use offerpack::mesos::v1::{
    executor, task_status, AgentId, CommandInfo, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskId,
    TaskInfo, TaskState, TaskStatus,
};
use prost::Message as _;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Bound on every wait for something the agent does.
const WAIT: Duration = Duration::from_secs(30);

/// A body fed by a channel (the fake master's REGISTER stream).
struct ChannelBody(mpsc::UnboundedReceiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;
    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// The fake master: every call it gets goes to `calls`; `stream` feeds the open REGISTER stream.
struct FakeMaster {
    addr: SocketAddr,
    /// When set, REGISTER with an id gets 403 (the agent was removed).
    reject_ids: Arc<AtomicBool>,
    calls: mpsc::UnboundedReceiver<Call>,
    stream: Arc<Mutex<Option<mpsc::UnboundedSender<Bytes>>>>,
}

impl FakeMaster {
    async fn start() -> FakeMaster {
        let listener = TcpListener::bind("127.0.0.2:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, calls) = mpsc::unbounded_channel();
        let stream: Arc<Mutex<Option<mpsc::UnboundedSender<Bytes>>>> = Arc::default();
        let shared = stream.clone();
        let reject_ids = Arc::new(AtomicBool::new(false));
        let reject = reject_ids.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (tx, shared, reject) = (tx.clone(), shared.clone(), reject.clone());
                let service = service_fn(move |req| answer(req, tx.clone(), shared.clone(), reject.clone()));
                tokio::spawn(http1::Builder::new().serve_connection(TokioIo::new(tcp), service));
            }
        });
        FakeMaster { addr, reject_ids, calls, stream }
    }

    fn send(&self, event: &Event) {
        let mut bytes = bytes::BytesMut::new();
        recordio::encode_message(event, &mut bytes);
        let guard = self.stream.lock().unwrap();
        guard.as_ref().expect("an open stream").send(bytes.freeze()).unwrap();
    }

    /// The next call of `kind`, skipping others (pings).
    async fn next(&mut self, kind: call::Type) -> Call {
        let wait = async {
            loop {
                let c = self.calls.recv().await.expect("master alive");
                if c.r#type() == kind {
                    return c;
                }
            }
        };
        tokio::time::timeout(WAIT, wait).await.unwrap_or_else(|_| panic!("no {kind:?} call in time"))
    }

    /// The next UPDATE's status.
    async fn update(&mut self) -> TaskStatus {
        self.next(call::Type::Update).await.update.unwrap().status
    }
}

async fn answer(
    req: Request<Incoming>,
    calls: mpsc::UnboundedSender<Call>,
    stream: Arc<Mutex<Option<mpsc::UnboundedSender<Bytes>>>>,
    reject_ids: Arc<AtomicBool>,
) -> Result<Response<ChannelBody>, Infallible> {
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let (tx, rx) = mpsc::unbounded_channel();
    let call = Call::decode(body).unwrap_or_default();
    let mut response = Response::new(ChannelBody(rx));
    let with_id = call.register.as_ref().is_some_and(|r| r.agent_info.id.is_some());
    if call.r#type() == call::Type::Register && with_id && reject_ids.load(Ordering::SeqCst) {
        *response.status_mut() = hyper::StatusCode::FORBIDDEN;
    } else if call.r#type() == call::Type::Register {
        let registered = event::Registered {
            agent_id: AgentId { value: "agent-1".into() },
            ping_interval_seconds: 0.5,
            agent_timeout_seconds: 10.0,
        };
        let event =
            Event { r#type: Some(event::Type::Registered as i32), registered: Some(registered), ..Default::default() };
        let mut bytes = bytes::BytesMut::new();
        recordio::encode_message(&event, &mut bytes);
        tx.send(bytes.freeze()).unwrap();
        *stream.lock().unwrap() = Some(tx);
    } else {
        *response.status_mut() = hyper::StatusCode::ACCEPTED;
    }
    let _ = calls.send(call);
    Ok(response)
}

/// The agent process, killed on drop.
struct AgentProcess(Child, PathBuf);

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn start_agent(master: SocketAddr, tag: &str) -> AgentProcess {
    let work = std::env::temp_dir().join(format!("offerpack-agent-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let child = Command::new(env!("CARGO_BIN_EXE_offerpack"))
        .args(["agent", "--master", &format!("http://{master}"), "--listen", "127.0.0.4:0", "--work-dir"])
        .arg(&work)
        .args(["--resources", "cpus:4;mem:8192;ports:[31000-31999]", "--attributes", "zone:a;rack:r1"])
        .args(["--executor-registration-timeout", "20"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    AgentProcess(child, work)
}

async fn artifacts() -> (RunningServer, PathBuf) {
    let dir = std::env::temp_dir().join(format!("offerpack-agent-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("run.sh");
    std::fs::write(&script, "#!/bin/sh\necho \"ran in $MESOS_SANDBOX\" > marker\n").unwrap();
    let mut files = Artifacts::new();
    files.add_file("run.sh", &script).unwrap();
    let server =
        ArtifactServer::start(ArtifactSettings::new("127.0.0.3:0".parse().unwrap(), None), files).await.unwrap();
    (server, dir)
}

fn framework() -> FrameworkInfo {
    FrameworkInfo {
        user: "nobody".into(),
        name: "t".into(),
        id: Some(FrameworkId { value: "fw-1".into() }),
        ..Default::default()
    }
}

fn command_task(id: &str, command: &str, uris: Vec<Uri>) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: AgentId { value: "agent-1".into() },
        command: Some(CommandInfo { uris, value: Some(command.into()), ..Default::default() }),
        ..Default::default()
    }
}

fn launch(task: TaskInfo) -> Event {
    let launch = event::Launch { framework_info: framework(), tasks: vec![task], executor: None };
    Event { r#type: Some(event::Type::Launch as i32), launch: Some(launch), ..Default::default() }
}

async fn states_until_terminal(master: &mut FakeMaster, task: &str) -> Vec<TaskStatus> {
    let mut seen = Vec::new();
    loop {
        let status = master.update().await;
        assert_eq!(status.task_id.value, task, "updates of one task at a time here");
        let terminal = !matches!(status.state(), TaskState::TaskStarting | TaskState::TaskRunning);
        seen.push(status);
        if terminal {
            return seen;
        }
    }
}

async fn metrics(agent: SocketAddr) -> serde_json::Value {
    offerpack::tls::install_default_provider();
    let text = reqwest::get(format!("http://{agent}/metrics/snapshot")).await.unwrap().text().await.unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Registers and returns the agent's advertised address.
async fn registration(master: &mut FakeMaster) -> SocketAddr {
    let register = master.next(call::Type::Register).await.register.unwrap();
    let info = register.agent_info;
    assert_eq!(info.hostname, "127.0.0.4");
    assert!(info.id.is_none());
    let names: Vec<&str> = info.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["cpus", "mem", "ports"]);
    assert_eq!(info.resources[1].scalar.as_ref().unwrap().value, 8192.0);
    let attrs: Vec<(&str, &str)> =
        info.attributes.iter().map(|a| (a.name.as_str(), a.text.as_ref().map_or("", |t| t.value.as_str()))).collect();
    assert_eq!(attrs, [("zone", "a"), ("rack", "r1")]);
    let ping = master.next(call::Type::Ping).await;
    assert_eq!(ping.agent_id.unwrap().value, "agent-1");
    format!("127.0.0.4:{}", info.port.unwrap()).parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_process_fetches_runs_caches_fails_and_kills() {
    let (files, dir) = artifacts().await;
    let mut master = FakeMaster::start().await;
    let _agent = start_agent(master.addr, "cmd");
    let agent = registration(&mut master).await;
    let url = files.url_for("run.sh").unwrap().to_string();
    let uri =
        |cache: bool| Uri { value: url.clone(), executable: Some(true), cache: Some(cache), ..Default::default() };

    master.send(&launch(command_task("t-1", "./run.sh && test -s marker", vec![uri(true)])));
    let states: Vec<TaskState> =
        states_until_terminal(&mut master, "t-1").await.iter().map(TaskStatus::state).collect();
    assert_eq!(states, [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);
    let m = metrics(agent).await;
    assert_eq!(
        (m["offerpack/fetcher/cache_misses"].as_f64(), m["offerpack/fetcher/cache_hits"].as_f64()),
        (Some(1.0), Some(0.0))
    );

    master.send(&launch(command_task("t-2", "./run.sh && test -s marker", vec![uri(true)])));
    let last = states_until_terminal(&mut master, "t-2").await.pop().unwrap();
    assert_eq!(last.state(), TaskState::TaskFinished);
    let m = metrics(agent).await;
    assert_eq!(m["offerpack/fetcher/cache_hits"].as_f64(), Some(1.0));
    assert_eq!(m["containerizer/fetcher/task_fetches_succeeded"].as_f64(), Some(2.0));
    let script_len = std::fs::metadata(dir.join("run.sh")).unwrap().len() as f64;
    assert_eq!(m["offerpack/fetcher/bytes_downloaded"].as_f64(), Some(script_len), "the hit downloaded nothing");

    let missing = format!("http://{}/artifacts/missing.sh", files.local_addr());
    let bad = Uri { value: missing.clone(), ..Default::default() };
    master.send(&launch(command_task("t-3", "true", vec![bad])));
    let failed = master.update().await;
    assert_eq!((failed.state(), failed.reason()), (TaskState::TaskFailed, task_status::Reason::ContainerLaunchFailed));
    let message = failed.message.unwrap();
    assert!(message.starts_with("Failed to launch container: Failed to fetch all URIs for container '"), "{message}");
    assert!(message.contains(&format!("{missing}: ")) && message.contains("404"), "{message}");
    assert_eq!(metrics(agent).await["containerizer/fetcher/task_fetches_failed"].as_f64(), Some(1.0));

    master.send(&launch(command_task("t-4", "sleep 30", Vec::new())));
    assert_eq!(master.update().await.state(), TaskState::TaskStarting);
    assert_eq!(master.update().await.state(), TaskState::TaskRunning);
    // The master closes the stream: the agent registers again with its id, listing t-4.
    drop(master.stream.lock().unwrap().take());
    let again = master.next(call::Type::Register).await.register.unwrap();
    assert_eq!(again.agent_info.id.unwrap().value, "agent-1");
    let listed: Vec<(&str, TaskState)> = again.tasks.iter().map(|t| (t.task_id.value.as_str(), t.state())).collect();
    assert_eq!(listed, [("t-4", TaskState::TaskRunning)]);
    let kill = event::Kill {
        framework_id: FrameworkId { value: "fw-1".into() },
        task_id: TaskId { value: "t-4".into() },
        kill_policy: None,
    };
    let started = std::time::Instant::now();
    master.send(&Event { r#type: Some(event::Type::Kill as i32), kill: Some(kill), ..Default::default() });
    assert_eq!(master.update().await.state(), TaskState::TaskKilled);
    assert!(started.elapsed() < Duration::from_secs(20), "killed long before sleep 30 ends");
    files.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

async fn post_executor(agent: SocketAddr, call: &executor::Call) -> reqwest::Response {
    offerpack::tls::install_default_provider();
    reqwest::Client::new()
        .post(format!("http://{agent}/api/v1/executor"))
        .header("content-type", "application/x-protobuf")
        .header("accept", "application/x-protobuf")
        .body(call.encode_to_vec())
        .send()
        .await
        .unwrap()
}

/// Reads executor events off a SUBSCRIBE response until `n` arrived.
async fn read_events(
    response: &mut reqwest::Response,
    decoder: &mut recordio::Decoder,
    n: usize,
) -> Vec<executor::Event> {
    let mut events = Vec::new();
    while events.len() < n {
        while let Some(frame) = decoder.next_frame().unwrap() {
            events.push(executor::Event::decode(frame).unwrap());
        }
        if events.len() >= n {
            break;
        }
        let chunk =
            tokio::time::timeout(WAIT, response.chunk()).await.expect("event in time").unwrap().expect("stream open");
        decoder.push(&chunk);
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_process_serves_the_executor_api() {
    let mut master = FakeMaster::start().await;
    let _agent = start_agent(master.addr, "exec");
    let agent = registration(&mut master).await;
    let executor = ExecutorInfo {
        executor_id: ExecutorId { value: "ex-1".into() },
        command: Some(CommandInfo { value: Some("sleep 30".into()), ..Default::default() }),
        ..Default::default()
    };
    let task = TaskInfo { executor: Some(executor), command: None, ..command_task("t-1", "", Vec::new()) };
    master.send(&launch(task));
    let ids = |kind: executor::call::Type| executor::Call {
        executor_id: ExecutorId { value: "ex-1".into() },
        framework_id: FrameworkId { value: "fw-1".into() },
        r#type: Some(kind as i32),
        ..Default::default()
    };
    let subscribe = executor::Call { subscribe: Some(Default::default()), ..ids(executor::call::Type::Subscribe) };
    // The executor process is started after the fetch; until then the executor is unknown.
    let mut response = loop {
        let r = post_executor(agent, &subscribe).await;
        if r.status() == 200 {
            break r;
        }
        assert_eq!(r.status(), 400);
        tokio::task::yield_now().await;
    };
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    let mut decoder = recordio::Decoder::new();
    let events = read_events(&mut response, &mut decoder, 2).await;
    assert_eq!(events[0].r#type(), executor::event::Type::Subscribed);
    let subscribed = events[0].subscribed.clone().unwrap();
    assert_eq!(
        (subscribed.agent_info.hostname.as_str(), subscribed.agent_info.id.unwrap().value.as_str()),
        ("127.0.0.4", "agent-1")
    );
    assert_eq!(events[1].launch.as_ref().unwrap().task.task_id.value, "t-1");

    let uuid = vec![0x6f, 0x1c, 0x2a, 0x9e, 0x3b, 0x4d, 0x4a, 0x11, 0x9b, 0x07, 0x5c, 0x3e, 0x21, 0x80, 0xd4, 0x55];
    let status = TaskStatus {
        task_id: TaskId { value: "t-1".into() },
        state: TaskState::TaskRunning as i32,
        source: Some(task_status::Source::Executor as i32),
        uuid: Some(uuid.clone()),
        ..Default::default()
    };
    let update =
        executor::Call { update: Some(executor::call::Update { status }), ..ids(executor::call::Type::Update) };
    assert_eq!(post_executor(agent, &update).await.status(), 202);
    let ack = read_events(&mut response, &mut decoder, 1).await.remove(0);
    assert_eq!(ack.acknowledged.unwrap().uuid, uuid);
    let forwarded = master.update().await;
    assert_eq!((forwarded.state(), forwarded.uuid.unwrap()), (TaskState::TaskRunning, uuid));

    let shutdown = event::ShutdownFramework { framework_id: FrameworkId { value: "fw-1".into() } };
    master.send(&Event {
        r#type: Some(event::Type::ShutdownFramework as i32),
        shutdown_framework: Some(shutdown),
        ..Default::default()
    });
    let event = read_events(&mut response, &mut decoder, 1).await.remove(0);
    assert_eq!(event.r#type(), executor::event::Type::Shutdown);
    let exited = master.next(call::Type::ExecutorExited).await.executor_exited.unwrap();
    assert_eq!((exited.executor_id.value.as_str(), exited.status), ("ex-1", Some(-9)));
}

/// The pid a task wrote to `pid` in its sandbox (`echo $$ > pid && exec …`), once it is there.
async fn task_pid(work: &std::path::Path, task: &str) -> u32 {
    let runs = work.join(format!("slaves/agent-1/frameworks/fw-1/executors/{task}/runs"));
    let wait = async {
        loop {
            let found = std::fs::read_dir(&runs).ok().and_then(|mut d| d.next()).and_then(|e| e.ok());
            if let Some(pid) = found.and_then(|e| std::fs::read_to_string(e.path().join("pid")).ok()) {
                if let Ok(pid) = pid.trim().parse() {
                    return pid;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, wait).await.expect("the task wrote its pid")
}

/// Whether a process is gone or a zombie.
fn dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_process_removed_by_the_master_kills_its_tasks_and_registers_afresh() {
    let mut master = FakeMaster::start().await;
    let agent = start_agent(master.addr, "removed");
    registration(&mut master).await;
    master.send(&launch(command_task("t-9", "echo $$ > pid && exec sleep 30", Vec::new())));
    assert_eq!(master.update().await.state(), TaskState::TaskStarting);
    let pid = task_pid(&agent.1, "t-9").await;
    assert!(!dead(pid));
    master.reject_ids.store(true, Ordering::SeqCst);
    drop(master.stream.lock().unwrap().take());
    let with_id = master.next(call::Type::Register).await.register.unwrap();
    assert_eq!(with_id.agent_info.id.unwrap().value, "agent-1");
    let fresh = master.next(call::Type::Register).await.register.unwrap();
    assert!(fresh.agent_info.id.is_none() && fresh.tasks.is_empty(), "registers afresh, running nothing");
    let gone = async {
        while !dead(pid) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(WAIT, gone).await.expect("the task's process was killed");
}

/// LAUNCH_GROUP through the real agent: a task group with a DEFAULT executor (no command) runs
/// on `offerpack executor`, started by the agent from its own binary, and every task of the
/// group runs to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_process_runs_a_task_group_on_the_default_executor() {
    let mut master = FakeMaster::start().await;
    let _agent = start_agent(master.addr, "group");
    registration(&mut master).await;
    let executor = ExecutorInfo {
        r#type: Some(offerpack::mesos::v1::executor_info::Type::Default as i32),
        executor_id: ExecutorId { value: "offerpack-gang-job".into() },
        framework_id: Some(FrameworkId { value: "fw-1".into() }),
        ..Default::default()
    };
    let tasks =
        vec![command_task("g-1", "test -n \"$MESOS_SANDBOX\"", Vec::new()), command_task("g-2", "true", Vec::new())];
    let launch = event::Launch { framework_info: framework(), tasks, executor: Some(executor) };
    master.send(&Event { r#type: Some(event::Type::Launch as i32), launch: Some(launch), ..Default::default() });
    let mut last: std::collections::BTreeMap<String, TaskState> = std::collections::BTreeMap::new();
    while last.len() < 2 || last.values().any(|s| matches!(s, TaskState::TaskStarting | TaskState::TaskRunning)) {
        let status = master.update().await;
        last.insert(status.task_id.value.clone(), status.state());
    }
    let states: Vec<(&str, TaskState)> = last.iter().map(|(t, s)| (t.as_str(), *s)).collect();
    assert_eq!(states, [("g-1", TaskState::TaskFinished), ("g-2", TaskState::TaskFinished)]);
}
