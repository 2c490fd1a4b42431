//! `offerpack run --ha zk://HOST:PORT/PATH` (or `--ha file:///DIR`): one instance of a highly
//! available run, on the library's [`offerpack::ha`].
//!
//! Every instance contends; a standby prints `standby: leader is NAME` and waits; the leader
//! prints `leading as NAME`, takes the store over (fencing off any earlier leader) and loads
//! it. A stored run wins over this instance's own `--tasks`/`--workload` (said on standard
//! output): its tasks are rebuilt from their stored definitions and submitted as resumed,
//! under the stored framework id and failover timeout. Without a stored run, the leader
//! persists the run and every task before it submits any, and the framework id as soon as
//! `SUBSCRIBED` gives it, before it submits the tasks. Every task change is persisted when
//! learnt. When every task has ended the leader leaves the run's finished marker, tears the
//! framework down and exits; a later leader given the same tasks finds the marker and exits
//! too. A leader that loses its leadership or its store stops its driver at once without
//! teardown (failover) and contends again; a signal makes it fail over and exit.
//!
//! A task's definition is its workload JSON object (the `solve` format; synthetic tasks are
//! written in it too), so constraints survive; the run-level settings (the command, the retry
//! policy, the workload's fitness and queue) are the run's `app` text.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use offerpack::ha::{wall_ms, Elector, Finished, HaConfig, HaUrl, Role, RunMeta, StateStore, TaskRecord};
use offerpack::plugins::Fitness;
use offerpack::queue::{QueueConfig, QueuePlace};
use offerpack::session::{CommandSpec, RetryPolicy, StopMode, TaskRequest, TaskUpdate, DEFAULT_FAILOVER_TIMEOUT};
use offerpack::workload::Workload;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::live_args::{RunArgs, TaskSource};
use super::runner::{self, Settings};
use super::signals::{self, Signals};
use super::solve::read_input;
use super::CliError;

/// Top-level workload keys kept with the run (the rest of a workload is ignored, as in `run`).
const WORKLOAD_KEYS: [&str; 3] = ["fitness", "buckets", "tiers"];

/// What a leader of a highly available run keeps: the store, the run and its task records.
#[derive(Debug)]
pub struct Link {
    store: Box<dyn StateStore>,
    meta: RunMeta,
    records: BTreeMap<String, TaskRecord>,
    dirty: BTreeSet<String>,
    roles: watch::Receiver<Role>,
    term: String,
    instance: String,
    /// Why this instance stopped leading, when it did (it contends again).
    pub stepped_down: Option<String>,
}

impl Link {
    /// The stored framework id.
    pub fn framework_id(&self) -> Option<&str> {
        self.meta.framework_id.as_deref()
    }

    /// The failover timeout the framework subscribes with.
    pub fn failover_timeout(&self) -> Duration {
        self.meta.failover_timeout
    }

    /// The role watch and the term this instance leads in (for [`deposed`]).
    pub fn roles(&self) -> (watch::Receiver<Role>, String) {
        (self.roles.clone(), self.term.clone())
    }

    /// `SUBSCRIBED` gave `framework_id`: persisted unless already stored.
    pub async fn subscribed(&mut self, framework_id: &str) -> Result<(), String> {
        if self.meta.framework_id.as_deref() == Some(framework_id) {
            return Ok(());
        }
        self.meta.framework_id = Some(framework_id.to_owned());
        self.store.put_meta(&self.meta).await.map_err(|e| e.to_string())
    }

    /// Folds a task update into its record (persisted by the next [`Link::flush`]).
    pub fn note(&mut self, update: &TaskUpdate) {
        let now = wall_ms(SystemTime::now());
        if let Some(record) = self.records.get_mut(update.task_id.as_str()) {
            if record.observe(update, now) {
                self.dirty.insert(record.id.clone());
            }
        }
    }

    /// Persists every record changed since the last flush.
    pub async fn flush(&mut self) -> Result<(), String> {
        if self.dirty.is_empty() {
            return Ok(());
        }
        let changed: Vec<TaskRecord> =
            std::mem::take(&mut self.dirty).iter().filter_map(|id| self.records.get(id).cloned()).collect();
        self.store.put_tasks(&changed).await.map_err(|e| e.to_string())
    }

    /// Every task has ended: leaves the finished marker in place of the run.
    pub async fn finish(&mut self, framework_id: &str) -> Result<(), String> {
        self.flush().await?;
        let finished = Finished {
            framework_id: Some(framework_id.to_owned()),
            fingerprint: self.meta.fingerprint.clone(),
            instance: self.instance.clone(),
            at_ms: wall_ms(SystemTime::now()),
        };
        self.store.finish(&finished).await.map_err(|e| e.to_string())
    }

    /// After the run's follow-up ended with `problem` (`None`: every task ended): the finished
    /// marker when every task ended, the reason to step down when the leadership was lost;
    /// how to stop the framework (a run that is not over is left running for a successor).
    pub async fn conclude(&mut self, lost_lead: bool, problem: &mut Option<String>, framework_id: &str) -> StopMode {
        if lost_lead {
            self.stepped_down.clone_from(problem);
        }
        if problem.is_none() {
            if let Err(why) = self.finish(framework_id).await {
                *problem = Some(self.step_down(why));
            }
        }
        if problem.is_some() {
            StopMode::Failover
        } else {
            StopMode::Teardown
        }
    }

    /// Records that this instance steps down because of `why`; the text to report.
    pub fn step_down(&mut self, why: String) -> String {
        let why = format!("stepping down: {why}");
        self.stepped_down = Some(why.clone());
        why
    }
}

/// Resolves when this instance no longer leads in the term `roles` carries (never without).
pub async fn deposed(roles: Option<&mut (watch::Receiver<Role>, String)>) -> String {
    let Some((roles, term)) = roles else { return std::future::pending().await };
    loop {
        match &*roles.borrow_and_update() {
            Role::Leading { term: now } if now == term => {}
            role => return format!("stepping down: no longer the leader ({role:?})"),
        }
        if roles.changed().await.is_err() {
            return "stepping down: the election ended".to_owned();
        }
    }
}

/// The run's settings kept with it (`RunMeta::app`).
struct App {
    command: String,
    retry: RetryPolicy,
    /// The workload's fitness, buckets and tiers (an object, maybe empty).
    workload: Value,
}

impl App {
    fn to_text(&self) -> String {
        let r = &self.retry;
        json!({
            "command": self.command,
            "retry": {"attempts": r.attempts, "backoff_ms": r.backoff.as_millis() as u64,
                      "max_backoff_ms": r.max_backoff.as_millis() as u64, "multiplier": r.multiplier, "jitter": r.jitter},
            "workload": self.workload,
        })
        .to_string()
    }

    fn parse(text: &str) -> Result<App, CliError> {
        let bad = |why: &str| CliError::Failed(format!("the stored run's settings are unreadable: {why}"));
        let value: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        let retry = &value["retry"];
        let ms = |key: &str| retry[key].as_u64().map(Duration::from_millis).ok_or_else(|| bad(key));
        let retry = RetryPolicy {
            attempts: retry["attempts"].as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| bad("attempts"))?,
            backoff: ms("backoff_ms")?,
            max_backoff: ms("max_backoff_ms")?,
            multiplier: retry["multiplier"].as_f64().ok_or_else(|| bad("multiplier"))?,
            jitter: retry["jitter"].as_f64().ok_or_else(|| bad("jitter"))?,
        };
        let command = value["command"].as_str().ok_or_else(|| bad("command"))?.to_owned();
        Ok(App { command, retry, workload: value["workload"].clone() })
    }
}

/// This instance's own tasks: the run's settings and each task's definition.
struct Source {
    app: App,
    /// Task id and definition (its workload JSON object), in order.
    tasks: Vec<(String, String)>,
}

impl Source {
    fn read(args: &RunArgs) -> Result<Source, CliError> {
        let (tasks, workload) = match &args.tasks {
            TaskSource::Synthetic(n) => {
                let doc = |i: u32| {
                    let id = format!("task-{i:06}");
                    let doc = json!({"id": id, "group": "offerpack-run", "resources": {"cpus": 0.1, "mem": 32}});
                    (id, doc.to_string())
                };
                ((1..=*n).map(doc).collect(), json!({}))
            }
            TaskSource::Workload(path) => {
                let text = read_input(path)?;
                let fail = |why: String| CliError::Failed(format!("{}: {why}", path.display()));
                let value: Value = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
                let docs = value["tasks"].as_array().cloned().unwrap_or_default();
                let id =
                    |doc: &Value| doc["id"].as_str().map(str::to_owned).ok_or_else(|| fail("a task without id".into()));
                let tasks =
                    docs.iter().map(|doc| Ok((id(doc)?, doc.to_string()))).collect::<Result<Vec<_>, CliError>>()?;
                let extras = WORKLOAD_KEYS.iter().filter_map(|k| Some(((*k).to_owned(), value.get(*k)?.clone())));
                (tasks, Value::Object(extras.collect()))
            }
        };
        Ok(Source { app: App { command: args.command.clone(), retry: args.retry, workload }, tasks })
    }

    /// What tells this task source from another: a digest of the settings and the tasks.
    fn fingerprint(&self) -> String {
        let mut digest = Sha256::new();
        digest.update(self.app.to_text().as_bytes());
        for (_, doc) in &self.tasks {
            digest.update(b"\n");
            digest.update(doc.as_bytes());
        }
        digest.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect()
    }
}

/// Requests with the fitness and queue they are placed by.
type Placed = (Vec<TaskRequest>, Option<Arc<dyn Fitness>>, Option<QueueConfig>);

/// The requests of the records that have not ended, resumed where they were at `now_ms`, with
/// the fitness and queue of the run's workload settings.
fn requests(app: &App, records: &[TaskRecord], now_ms: u64) -> Result<Placed, CliError> {
    let open: Vec<&TaskRecord> = records.iter().filter(|r| !r.is_over()).collect();
    let mut docs = open
        .iter()
        .map(|r| serde_json::from_str::<Value>(&r.definition))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::Failed(format!("a stored task definition is unreadable: {e}")))?;
    // A predecessor that ended under an earlier leader holds nothing back any more: it
    // finished, or the dependents it failed ended with it.
    let open_ids: BTreeSet<String> = docs.iter().filter_map(|d| Some(d.get("id")?.as_str()?.to_owned())).collect();
    for doc in &mut docs {
        if let Some(Value::Array(after)) = doc.get_mut("after") {
            after.retain(|id| id.as_str().is_some_and(|id| open_ids.contains(id)));
        }
    }
    let mut document = app.workload.as_object().cloned().unwrap_or_default();
    document.insert("tasks".to_owned(), Value::Array(docs));
    let workload = Workload::from_json(&Value::Object(document).to_string())
        .map_err(|e| CliError::Failed(format!("the stored tasks: {e}")))?;
    let queue = workload.queue.clone().or_else(|| {
        let placed = workload.task_queues.iter().any(|p| *p != QueuePlace::default());
        placed.then(QueueConfig::default)
    });
    let mut places = workload.task_queues.into_iter();
    let mut after = workload.after.into_iter();
    let requests = workload
        .tasks
        .into_iter()
        .zip(&open)
        .map(|(spec, record)| {
            let request = TaskRequest::command(spec, CommandSpec::shell(&app.command))
                .resume(record.resume(now_ms))
                .after(after.next().unwrap_or_default());
            match (&queue, places.next()) {
                (Some(_), Some(place)) => request.queue(place.tier, &place.bucket),
                _ => request,
            }
        })
        .collect();
    // Predecessors are submitted before the tasks that wait for them.
    Ok((super::deps::dependency_order(requests), Some(workload.fitness), queue))
}

/// How one term as leader ended.
enum Lead {
    /// The run is over (or was over already: `None`).
    Done(Option<Box<runner::Report>>),
    /// This instance stopped leading; it contends again.
    SteppedDown(String),
}

/// Runs `offerpack run --ha URL` as one instance until the run is over, a signal stops it, or
/// it fails.
pub fn run(args: &RunArgs, url: &HaUrl) -> Result<(), CliError> {
    if args.executor.is_some() {
        return Err(CliError::Failed("--ha does not run tasks through --executor (give a --command)".to_owned()));
    }
    let own = Source::read(args)?;
    let instance = args.instance.clone().unwrap_or_else(default_instance);
    let mut config = HaConfig::new(url.clone(), instance.clone());
    config.session_timeout = args.ha_session_timeout;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let result = runtime.block_on(async {
        let metrics = runner::serve_metrics(args.metrics_listen).await?;
        let elector = Elector::start(&config);
        let mut signals = Signals::new();
        loop {
            let mut roles = elector.roles();
            let term = tokio::select! {
                term = until_leading(&mut roles) => term,
                caught = signals::first_or_never(&mut signals) => {
                    return Err(CliError::Failed(format!("stopped by {} as a standby", caught.name())));
                }
            };
            say!("leading as {instance}");
            let metrics = metrics.as_ref().map(|(m, _)| m.clone());
            match lead(args, &config, &own, (roles, term), metrics).await? {
                Lead::Done(None) => return Ok(()),
                Lead::Done(Some(report)) => {
                    for line in runner::summary(&report, None) {
                        say!("{line}");
                    }
                    return runner::conclude(report.problem);
                }
                Lead::SteppedDown(why) => {
                    say!("{why}; contending again as {instance}");
                    // Lets the election notice the lost session before leading again.
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Waits until this instance leads, saying who leads meanwhile; the term.
async fn until_leading(roles: &mut watch::Receiver<Role>) -> String {
    let mut shown: Option<Option<String>> = None;
    loop {
        let role = roles.borrow_and_update().clone();
        match role {
            Role::Leading { term } => return term,
            Role::Standby { leader } if shown.as_ref() != Some(&leader) => {
                say!("standby: leader is {}", leader.as_deref().unwrap_or("unknown"));
                shown = Some(leader);
            }
            _ => {}
        }
        if roles.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// One term as the leader: take the store over, load or create the run, and run it.
async fn lead(
    args: &RunArgs,
    config: &HaConfig,
    own: &Source,
    (roles, term): (watch::Receiver<Role>, String),
    metrics: Option<offerpack::telemetry::FrameworkMetrics>,
) -> Result<Lead, CliError> {
    let mut store = config.store();
    let lost = |e: offerpack::ha::StoreError| Ok(Lead::SteppedDown(format!("stepping down: {e}")));
    if let Err(e) = store.take_over(&config.instance).await {
        return lost(e);
    }
    let snapshot = match store.load().await {
        Ok(snapshot) => snapshot,
        Err(e) => return lost(e),
    };
    let fingerprint = own.fingerprint();
    if let Some(finished) = &snapshot.finished {
        if finished.fingerprint == fingerprint {
            let fw = finished.framework_id.as_deref().unwrap_or("?");
            say!("the run is over: framework {fw} finished it (leader {}); nothing left to do", finished.instance);
            return Ok(Lead::Done(None));
        }
        if let Err(e) = store.clear().await {
            return lost(e);
        }
    }
    let (meta, records) = match snapshot.meta {
        Some(meta) => {
            let open = snapshot.tasks.iter().filter(|r| !r.is_over()).count();
            say!(
                "resuming the stored run of framework {}: {} task(s), {open} not ended (this instance's --tasks/--workload are ignored)",
                meta.framework_id.as_deref().unwrap_or("(not subscribed yet)"),
                snapshot.tasks.len()
            );
            (meta, snapshot.tasks)
        }
        None => {
            let meta = RunMeta {
                framework_id: None,
                framework_name: args.name.clone(),
                failover_timeout: DEFAULT_FAILOVER_TIMEOUT,
                fingerprint,
                app: own.app.to_text(),
            };
            let records: Vec<TaskRecord> = own.tasks.iter().map(|(id, doc)| TaskRecord::new(id, doc)).collect();
            // Persisted before anything is submitted.
            if let Err(e) = store.put_meta(&meta).await {
                return lost(e);
            }
            if let Err(e) = store.put_tasks(&records).await {
                return lost(e);
            }
            say!("new run: {} task(s) stored", records.len());
            (meta, records)
        }
    };
    let app = App::parse(&meta.app)?;
    let (requests, fitness, queue) = requests(&app, &records, wall_ms(SystemTime::now()))?;
    let settings = settings(args, &app, fitness, queue, metrics)?;
    let records = records.into_iter().map(|r| (r.id.clone(), r)).collect();
    let instance = config.instance.clone();
    let mut link = Link { store, meta, records, dirty: BTreeSet::new(), roles, term, instance, stepped_down: None };
    let report = runner::run_with(&settings, requests, Some(&mut link)).await;
    if let Some(why) = link.stepped_down.take() {
        return Ok(Lead::SteppedDown(why));
    }
    Ok(Lead::Done(Some(Box::new(report?))))
}

/// `run`'s settings, with the stored run's retry policy, and a failover on a signal (a
/// standby goes on).
fn settings(
    args: &RunArgs,
    app: &App,
    fitness: Option<Arc<dyn Fitness>>,
    queue: Option<QueueConfig>,
    metrics: Option<offerpack::telemetry::FrameworkMetrics>,
) -> Result<Settings, CliError> {
    let mut settings = super::run::settings(args, fitness, queue)?;
    settings.metrics = metrics;
    settings.retry = app.retry;
    settings.on_signal = StopMode::Failover;
    Ok(settings)
}

/// `HOSTNAME-PID`: distinct for every instance.
fn default_instance() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let host = host.trim();
    format!("{}-{}", if host.is_empty() { "localhost" } else { host }, std::process::id())
}
