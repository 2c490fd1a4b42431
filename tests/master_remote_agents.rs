//! An agent process joining the simulated master over real HTTP (`POST /api/offerpack/agent`):
//! a hand-rolled fake agent registers with a master that has no simulated agents, a framework
//! gets the agent's resources and launches on it, the agent's updates reach the framework,
//! and once the agent stops pinging the master loses it.
#![cfg(all(feature = "master", feature = "driver"))]

mod master_support;

use std::time::Duration;

use master_support::*;
use offerpack::master::{MasterConfig, SimMaster, AGENT_API_PATH};
use offerpack::mesos::agent_api::{self, call as acall, event as aevent};
use offerpack::mesos::v1::scheduler::event;
use offerpack::mesos::v1::{self, TaskState};
use offerpack::mesos::RecordIoDecoder;
use prost::Message;
use tokio::sync::oneshot;

/// Failure guard for one expected event (real time).
const GUARD: Duration = Duration::from_secs(20);

/// A fake agent process: its HTTP client, the master's agent API URL, and its event stream.
struct FakeAgent {
    http: reqwest::Client,
    url: String,
    id: String,
    stream: reqwest::Response,
    decoder: RecordIoDecoder,
}

fn client() -> reqwest::Client {
    offerpack::tls::install_default_provider();
    reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).build().expect("client")
}

async fn post(http: &reqwest::Client, url: &str, c: &agent_api::Call) -> reqwest::Response {
    http.post(url)
        .header("Content-Type", "application/x-protobuf")
        .body(c.encode_to_vec())
        .send()
        .await
        .expect("agent call sent")
}

fn resource(name: &str, value: f64) -> v1::Resource {
    v1::Resource {
        name: name.into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value }),
        ..Default::default()
    }
}

fn typed(agent: &str, kind: acall::Type) -> agent_api::Call {
    agent_api::Call {
        r#type: Some(kind as i32),
        agent_id: Some(v1::AgentId { value: agent.into() }),
        ..Default::default()
    }
}

impl FakeAgent {
    /// Registers (2 cpus, 512 MB, attribute zone=z9) and reads REGISTERED.
    async fn register(url: String) -> (FakeAgent, agent_api::event::Registered) {
        let http = client();
        let agent_info = v1::AgentInfo {
            hostname: "127.0.0.2".into(),
            port: Some(5151),
            resources: vec![resource("cpus", 2.0), resource("mem", 512.0)],
            attributes: vec![v1::Attribute {
                name: "zone".into(),
                r#type: v1::value::Type::Text as i32,
                text: Some(v1::value::Text { value: "z9".into() }),
                ..Default::default()
            }],
            id: None,
            domain: None,
        };
        let c = agent_api::Call {
            r#type: Some(acall::Type::Register as i32),
            register: Some(acall::Register { agent_info, tasks: vec![], executors: vec![] }),
            ..Default::default()
        };
        let stream = post(&http, &url, &c).await;
        assert_eq!(stream.status(), 200);
        assert_eq!(stream.headers()["content-type"], "application/x-protobuf");
        let mut agent = FakeAgent { http, url, id: String::new(), stream, decoder: RecordIoDecoder::new() };
        let first = agent.next().await.expect("REGISTERED");
        assert_eq!(first.r#type(), aevent::Type::Registered);
        let registered = first.registered.expect("registered");
        agent.id = registered.agent_id.value.clone();
        (agent, registered)
    }

    /// The next event, or `None` once the stream ended.
    async fn next(&mut self) -> Option<agent_api::Event> {
        loop {
            if let Some(frame) = self.decoder.next_frame().expect("valid RecordIO") {
                return Some(agent_api::Event::decode(&frame[..]).expect("valid agent event"));
            }
            match tokio::time::timeout(GUARD, self.stream.chunk()).await.expect("an agent event in time") {
                Ok(Some(bytes)) => self.decoder.push(&bytes),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The next event that is not a HEARTBEAT.
    async fn next_command(&mut self) -> agent_api::Event {
        loop {
            let e = self.next().await.expect("agent stream open");
            if e.r#type() != aevent::Type::Heartbeat {
                return e;
            }
        }
    }

    async fn update(&self, fw: &str, task: &str, state: TaskState, uuid: u8) -> u16 {
        let mut uuid = vec![uuid; 16];
        uuid[6] = 0x40;
        let status = v1::TaskStatus {
            task_id: v1::TaskId { value: task.into() },
            state: state as i32,
            source: Some(v1::task_status::Source::Executor as i32),
            uuid: Some(uuid),
            ..Default::default()
        };
        let update = acall::Update { framework_id: v1::FrameworkId { value: fw.into() }, status };
        let c = agent_api::Call { update: Some(update), ..typed(&self.id, acall::Type::Update) };
        post(&self.http, &self.url, &c).await.status().as_u16()
    }
}

/// Pings every `period` until told to stop.
fn spawn_pinger(url: String, agent: String, period: Duration) -> oneshot::Sender<()> {
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let http = client();
        let mut ticks = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = ticks.tick() => {
                    let status = post(&http, &url, &typed(&agent, acall::Type::Ping)).await.status();
                    assert_eq!(status, 202);
                }
            }
        }
    });
    stop
}

async fn launched_task(agent: &mut FakeAgent) -> v1::TaskInfo {
    let launch = agent.next_command().await;
    assert_eq!(launch.r#type(), aevent::Type::Launch);
    launch.launch.expect("launch").tasks.pop().expect("a task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_remote_agent_runs_a_task_and_is_lost_when_silent() {
    let mut config = MasterConfig::new("127.0.0.2:0".parse().unwrap())
        .with_seed(3)
        .with_agent_timing(Duration::from_millis(200), Duration::from_secs(1));
    config.allocation_interval = Duration::from_millis(50);
    let master = SimMaster::start(config).await.expect("master starts");
    assert!(master.agent_ids().is_empty());
    let url = format!("{}{AGENT_API_PATH}", master.url());
    let (mut agent, registered) = FakeAgent::register(url.clone()).await;
    assert_eq!((registered.ping_interval_seconds, registered.agent_timeout_seconds), (0.2, 1.0));
    let pinger = spawn_pinger(url.clone(), agent.id.clone(), Duration::from_millis(100));

    let mut fw =
        Framework::subscribe(&Client::new(master.scheduler_url(), false), subscribe_call(None, 0.0, &[])).await;
    let offer = fw.stream.offers().await.pop().expect("an offer");
    assert_eq!(offer.agent_id.value, agent.id);
    let cpus: f64 = offer.resources.iter().filter(|r| r.name == "cpus").map(|r| r.scalar.unwrap().value).sum();
    assert_eq!(cpus, 2.0);
    assert_eq!(offer.attributes[0].text.as_ref().map(|t| t.value.as_str()), Some("z9"));

    fw.send(&accept(&fw.id, &[&offer], vec![task_info(&offer, "t1", 1.0, &[])], Some(0.0))).await;
    assert_eq!(launched_task(&mut agent).await.task_id.value, "t1");
    // RUNNING twice (a retry after a lost 202) is delivered once; then FINISHED.
    assert_eq!(agent.update(&fw.id, "t1", TaskState::TaskRunning, 1).await, 202);
    assert_eq!(agent.update(&fw.id, "t1", TaskState::TaskRunning, 1).await, 202);
    let running = fw.stream.update().await;
    assert_eq!((running.state(), running.uuid.as_ref().map(|u| u[0])), (TaskState::TaskRunning, Some(1)));
    fw.ack(&running).await;
    assert_eq!(agent.update(&fw.id, "t1", TaskState::TaskFinished, 2).await, 202);
    let finished = fw.stream.update().await;
    assert_eq!((finished.state(), finished.uuid.as_ref().map(|u| u[0])), (TaskState::TaskFinished, Some(2)));
    fw.ack(&finished).await;

    // A second task, running when the agent goes silent.
    let offer = fw.stream.offers().await.pop().expect("another offer");
    fw.send(&accept(&fw.id, &[&offer], vec![task_info(&offer, "t2", 1.0, &[])], Some(0.0))).await;
    assert_eq!(launched_task(&mut agent).await.task_id.value, "t2");
    assert_eq!(agent.update(&fw.id, "t2", TaskState::TaskRunning, 3).await, 202);
    let running = fw.stream.update().await;
    assert_eq!(running.task_id.value, "t2");
    fw.ack(&running).await;

    let _ = pinger.send(());
    let lost = fw.stream.update().await;
    assert_eq!((lost.task_id.value.as_str(), lost.state()), ("t2", TaskState::TaskLost));
    assert_eq!(lost.reason(), v1::task_status::Reason::AgentRemoved);
    let failure = fw.stream.wait_for("FAILURE", |e| e.r#type() == event::Type::Failure).await;
    assert_eq!(failure.failure.unwrap().agent_id.map(|a| a.value), Some(agent.id.clone()));
    // The agent's stream ends, and the master no longer knows it.
    while agent.next().await.is_some() {}
    let ping = post(&agent.http, &url, &typed(&agent.id, acall::Type::Ping)).await;
    assert_eq!(ping.status(), 404);
    let json = agent.http.post(&url).header("Content-Type", "application/json").body("{}").send().await.unwrap();
    assert_eq!(json.status(), 415);
    master.shutdown().await;
}
