//! A framework with metrics against the in-process simulated master: `GET /metrics` is scraped
//! over HTTP, the Prometheus text parsed, and the values checked against what the framework's
//! own updates said (tasks finished, subscriptions, disconnections after a cut stream).
#![cfg(all(feature = "metrics", feature = "master"))]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use offerpack::driver::{Framework, FrameworkConfig, Updates};
use offerpack::master::{AgentConfig, MasterConfig, SimMaster, StreamCut, TaskTiming};
use offerpack::session::{Backoff, CommandSpec, StopMode, TaskRequest, TaskState, Update};
use offerpack::telemetry::{FrameworkMetrics, MetricsServer};
use offerpack::TaskSpec;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// Failure bound of one step (never a synchronisation delay).
const PATIENCE: Duration = Duration::from_secs(20);
/// Tasks the framework runs.
const TASKS: usize = 6;

/// One sample of the exposition: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the Prometheus text format: comments skipped, `name{k="v",…} value` per line.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').expect("a value after the series");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').expect("labels end with }")),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, quoted) = pair.split_once('=').expect("label key=value");
                let value = quoted.strip_prefix('"').and_then(|v| v.strip_suffix('"')).expect("quoted label value");
                (key.to_owned(), value.to_owned())
            })
            .collect();
        let value = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("number in {line:?}")),
        };
        samples.push(Sample { name: name.to_owned(), labels, value });
    }
    samples
}

/// The value of the sample `name` with `labels` (a subset of its labels); `None` if absent.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|s| s.value)
}

fn must(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    value(samples, name, labels).unwrap_or_else(|| panic!("no sample {name} {labels:?} in {samples:#?}"))
}

/// `GET path` over a fresh connection: the status line, the headers and the body.
async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut tcp = TcpStream::connect(addr).await.expect("connect to the metrics server");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    timeout(PATIENCE, tcp.read_to_string(&mut answer)).await.expect("answer in time").expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
    (head.to_owned(), body.to_owned())
}

/// What the framework's updates said.
#[derive(Debug, Default)]
struct Seen {
    framework_id: Option<String>,
    subscribed: usize,
    disconnected: usize,
    states: HashMap<String, TaskState>,
}

impl Seen {
    fn apply(&mut self, update: &Update) {
        match update {
            Update::Subscribed { framework_id } => {
                self.subscribed += 1;
                self.framework_id = Some(framework_id.clone());
            }
            Update::Disconnected { .. } => self.disconnected += 1,
            Update::Task(task) => {
                self.states.insert(task.task_id.to_string(), task.state);
            }
            _ => {}
        }
    }

    fn finished(&self) -> usize {
        self.states.values().filter(|s| **s == TaskState::Finished).count()
    }
}

/// Follows updates until `done` holds.
async fn until(updates: &mut Updates, seen: &mut Seen, what: &str, done: impl Fn(&Seen) -> bool) {
    let follow = async {
        while !done(seen) {
            let update = updates.recv().await.unwrap_or_else(|| panic!("updates ended before {what}"));
            seen.apply(&update);
        }
    };
    timeout(PATIENCE, follow).await.unwrap_or_else(|_| panic!("timed out waiting for {what}: {seen:?}"));
}

fn master_config() -> MasterConfig {
    let mut config = MasterConfig::default().with_seed(3).with_uniform_agents(3, &AgentConfig::new("", 4.0, 4096.0));
    config.heartbeat_interval = Duration::from_secs(1);
    config.allocation_interval = Duration::from_millis(50);
    config.status_update_retry_min = Duration::from_millis(500);
    config.status_update_retry_max = Duration::from_secs(1);
    config.tasks = TaskTiming {
        staging: Duration::from_millis(20),
        starting: Duration::from_millis(20),
        run: Some(Duration::from_millis(400)),
        jitter: 0.2,
    };
    config
}

fn request(i: usize) -> TaskRequest {
    let spec = TaskSpec::builder(format!("m-{i}"), "metrics").scalar("cpus", 1.0).scalar("mem", 64.0).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("true"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_prometheus_scrape_matches_the_run() {
    let master = SimMaster::start(master_config()).await.expect("master starts");
    let metrics = FrameworkMetrics::new();
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), Arc::new(registry)).await.expect("serves");

    let mut config = FrameworkConfig::new("metrics", "root", [master.url()]).metrics(metrics.clone());
    config.session.schedule_delay = Duration::from_millis(20);
    config.session.reconnect = Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(300) };
    config.session.reconcile = Backoff { initial: Duration::from_millis(200), max: Duration::from_secs(1) };
    let (handle, mut updates) = Framework::start(config).expect("framework starts");
    for i in 0..TASKS {
        handle.submit(request(i)).await.expect("submitted");
    }
    let mut seen = Seen::default();
    until(&mut updates, &mut seen, "a running task", |s| s.states.values().any(|t| *t == TaskState::Running)).await;

    // Cut the stream: the driver disconnects and subscribes again with its framework id.
    master.set_cut_streams(Some(StreamCut { after_events: 1, mid_record: false })).await;
    until(&mut updates, &mut seen, "the disconnection", |s| s.disconnected >= 1).await;
    master.set_cut_streams(None).await;
    until(&mut updates, &mut seen, "every task finished after a resubscription", |s| {
        s.subscribed >= 2 && s.finished() == TASKS
    })
    .await;

    let (head, body) = get(server.addr(), "/metrics").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_lowercase().contains("content-type: text/plain; version=0.0.4"), "{head}");
    let samples = parse(&body);
    assert_eq!(must(&samples, "offerpack_tasks", &[("state", "finished")]), seen.finished() as f64);
    let received = must(&samples, "offerpack_offers_received_total", &[]);
    let declined = must(&samples, "offerpack_offers_declined_total", &[]);
    assert!(received >= 1.0 && received >= declined, "received {received}, declined {declined}");
    let passes = must(&samples, "offerpack_pass_duration_seconds_count", &[]);
    assert!(passes >= 1.0, "{passes}");
    assert_eq!(must(&samples, "offerpack_pass_duration_seconds_bucket", &[("le", "+Inf")]), passes);
    assert!(must(&samples, "offerpack_tasks_placed_total", &[]) >= TASKS as f64);
    let resubscriptions = must(&samples, "offerpack_resubscriptions_total", &[]);
    assert!(resubscriptions >= 1.0);
    assert_eq!(resubscriptions, (seen.subscribed - 1) as f64);
    assert_eq!(must(&samples, "offerpack_disconnections_total", &[]), seen.disconnected as f64);
    assert_eq!(must(&samples, "offerpack_subscribed", &[]), 1.0);
    let acks = must(&samples, "offerpack_acknowledgements_total", &[]);
    assert!(acks >= 1.0);
    assert_eq!(acks, must(&samples, "offerpack_calls_total", &[("call", "acknowledge"), ("outcome", "accepted")]));
    assert!(must(&samples, "offerpack_subscribe_attempts_total", &[]) >= seen.subscribed as f64);

    let (missing, _) = get(server.addr(), "/other").await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");

    handle.stop(StopMode::Teardown);
    let stopped = async {
        while let Some(update) = updates.recv().await {
            if matches!(update, Update::Stopped(_)) {
                return;
            }
        }
    };
    timeout(PATIENCE, stopped).await.expect("the framework stops");
    let (_, body) = get(server.addr(), "/metrics").await;
    let after = parse(&body);
    assert_eq!(must(&after, "offerpack_subscribed", &[]), 0.0, "a stopped framework is not subscribed");
    assert_eq!(must(&after, "offerpack_offers_held", &[]), 0.0);
    assert_eq!(must(&after, "offerpack_tasks", &[("state", "finished")]), TASKS as f64);
    server.shutdown().await;
    master.shutdown().await;
}
