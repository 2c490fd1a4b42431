//! `offerpack run`: a framework against any master that speaks the v1 scheduler API.
//!
//! Tasks come from a workload file in the `solve` format (only its tasks and fitness are used;
//! offers and running tasks are ignored: the master's offers take their place) or are `N`
//! synthetic tasks of 0.1 cpus and 32 MB, small enough for any cluster. Every task runs `--command`
//! (default `sleep 1`).
//! A workload's queue (top-level `buckets`/`tiers`, each task's `tier`/`bucket`) places the
//! tasks in queue order, as `solve` does. Failed or lost tasks are retried by `--retries`.
//! A workload's `groups` (disruption budgets) let a task of higher priority preempt running
//! ones of lower priority (the victims are killed, then placed again and run to the end); its
//! `autoscale` rules make the session compute autoscaling hints. Both are printed as they
//! happen. A task's `labels` go into its `TaskInfo.labels` (the simulated master reads
//! `offerpack.sim/duration_ms` there: how long that task runs).
//! Exits 0 only when every task finished. With `--ha` the run is one instance of a highly
//! available run (see `ha_run.rs`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::Fitness;
use offerpack::queue::{QueueConfig, QueuePlace};
use offerpack::session::{CommandSpec, TaskRequest};
use offerpack::tls::TlsConfig;
use offerpack::workload::{TaskQueue, Workload};
use offerpack::TaskSpec;

use super::custom_executor;
use super::live_args::{RunArgs, TaskSource};
use super::runner::{self, Settings};
use super::solve::read_input;
use super::CliError;

/// Runs the tasks against the master; `Err` unless every task finished.
pub fn run(args: &RunArgs) -> Result<(), CliError> {
    if let Some(url) = &args.ha {
        return super::ha_run::run(args, url);
    }
    let Tasks { specs, fitness, queue, places, mut after, labels, preemption, autoscale } = match &args.tasks {
        TaskSource::Synthetic(n) => Tasks {
            specs: synthetic(*n)?,
            fitness: None,
            queue: None,
            places: Vec::new(),
            after: Vec::new(),
            labels: Vec::new(),
            preemption: None,
            autoscale: None,
        },
        TaskSource::Workload(path) => from_workload(path)?,
    };
    // The secret and CA files are read before anything starts.
    let mut settings = settings(args, fitness, queue)?;
    (settings.preemption, settings.autoscale) = (preemption, autoscale);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let metrics = runtime.block_on(runner::serve_metrics(args.metrics_listen))?;
    let served = match &args.executor {
        Some(executor) => Some(runtime.block_on(custom_executor::serve(executor, &args.master))?),
        None => None,
    };
    let (mut places, mut labels) = (places.into_iter(), labels.into_iter());
    after.resize(specs.len(), Vec::new());
    let requests: Vec<TaskRequest> = specs
        .into_iter()
        .zip(after)
        .map(|(spec, after)| {
            let labels = labels.next().unwrap_or_default();
            let request = match &served {
                Some(served) => TaskRequest::executor(spec, served.spec.clone()).data(args.command.as_str()),
                None => TaskRequest::command(spec, CommandSpec::shell(&args.command)),
            };
            let request = labels.into_iter().fold(request.after(after), |r, (key, value)| r.label(key, value));
            match (&settings.queue, places.next()) {
                (Some(_), Some(place)) => request.queue(place.tier, &place.bucket),
                _ => request,
            }
        })
        .collect();
    // Predecessors are submitted before the tasks that wait for them.
    let requests = super::deps::dependency_order(requests);
    let dependencies: Vec<_> = requests.iter().map(|r| (r.spec.id.clone(), r.after.clone())).collect();
    if args.dry_run {
        let result = runtime.block_on(super::dry_run::plan(&settings, requests));
        runtime.shutdown_timeout(Duration::from_secs(1));
        return result;
    }
    let mut how = String::new();
    if args.retry.attempts > 1 {
        how.push_str(&format!(", up to {} launches per task", args.retry.attempts));
    }
    if let Some(served) = &served {
        how.push_str(&format!(", through the executor at {}", served.uri));
    }
    if let Some(queue) = &settings.queue {
        how.push_str(&format!(", in queue order ({} bucket(s) configured)", queue.buckets.len()));
    }
    if settings.preemption.is_some() {
        how.push_str(", preempting lower priorities (victims run again)");
    }
    if let Some(rules) = &settings.autoscale {
        how.push_str(&format!(", with autoscaling hints ({} class rule(s))", rules.rules().count()));
    }
    say!(
        "run: {} tasks running `{}` on the master at {} ({}){how}",
        requests.len(),
        args.command,
        args.master,
        args.encoding.content_type()
    );
    settings.metrics = metrics.as_ref().map(|(metrics, _)| metrics.clone());
    settings.fetched = served.iter().map(|s| s.uri.clone()).collect();
    let report = runtime.block_on(async {
        let report = runner::run(&settings, requests).await;
        if let Some(served) = served {
            served.server.shutdown().await;
        }
        if let Some((_, server)) = metrics {
            server.shutdown().await;
        }
        report
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    let report = report?;
    for line in runner::summary(&report, None) {
        say!("{line}");
    }
    for line in super::deps::critical_path_lines(&dependencies, &report.durations) {
        say!("{line}");
    }
    runner::conclude(report.problem)
}

/// The runner's settings from `run`'s flags (the secret and CA files read now), with no
/// fetched URIs and no metrics.
pub fn settings(
    args: &RunArgs,
    fitness: Option<Arc<dyn Fitness>>,
    queue: Option<QueueConfig>,
) -> Result<Settings, CliError> {
    let credentials = match &args.principal {
        Some((principal, file)) => Some((principal.clone(), read_secret(file)?)),
        None => None,
    };
    Ok(Settings {
        master: args.master.clone(),
        encoding: args.encoding,
        name: args.name.clone(),
        user: args.user.clone(),
        roles: args.roles.clone(),
        fitness,
        connect_timeout: args.connect_timeout,
        deadline: args.deadline,
        retry: args.retry,
        queue,
        preemption: None,
        autoscale: None,
        fetched: Vec::new(),
        on_signal: args.on_exit,
        credentials,
        capabilities: args.capabilities.clone(),
        metrics: None,
        tls: tls_config(args.ca_cert.as_deref())?,
    })
}

/// The system's roots plus the CAs of `--ca-cert`, read before anything starts.
pub fn tls_config(ca_cert: Option<&Path>) -> Result<TlsConfig, CliError> {
    match ca_cert {
        Some(path) => TlsConfig::from_pem_file(path).map_err(|e| CliError::Failed(format!("--ca-cert: {e}"))),
        None => Ok(TlsConfig::new()),
    }
}

/// `n` tasks `task-000001` … of 0.1 cpus and 32 MB in one group, without constraints.
fn synthetic(n: u32) -> Result<Vec<TaskSpec>, CliError> {
    (1..=n)
        .map(|i| {
            TaskSpec::builder(format!("task-{i:06}"), "offerpack-run")
                .scalar("cpus", 0.1)
                .scalar("mem", 32.0)
                .build()
                .map_err(|e| CliError::Failed(format!("synthetic task {i}: {e}")))
        })
        .collect()
}

/// Tasks to run, and how to place them.
struct Tasks {
    specs: Vec<TaskSpec>,
    /// The engine's fitness calculator, when not the default.
    fitness: Option<Arc<dyn Fitness>>,
    /// The queue, when the workload has one.
    queue: Option<QueueConfig>,
    /// Each task's place in the queue, index for index with `specs`.
    places: Vec<TaskQueue>,
    /// The tasks each task waits for, index for index with `specs` (empty: none wait).
    after: Vec<Vec<offerpack::model::TaskId>>,
    /// Each task's labels, index for index with `specs` (empty: none has any).
    labels: Vec<Vec<(String, String)>>,
    /// Disruption budgets, when the workload asks for preemption (`groups`).
    preemption: Option<offerpack::preempt::DisruptionBudgets>,
    /// Autoscaling rules, when the workload gives `autoscale`.
    autoscale: Option<offerpack::autoscale::AutoscaleConfig>,
}

/// The tasks, fitness and queue of a workload file. Tasks with a tier or bucket, or a workload
/// with `buckets` or `tiers`, are placed in queue order (buckets not configured get weight 1).
/// Its `groups` (disruption budgets) turn preemption on, its `autoscale` rules the hints.
fn from_workload(path: &Path) -> Result<Tasks, CliError> {
    let text = read_input(path)?;
    let workload = Workload::from_json(&text).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
    if workload.tasks.is_empty() {
        return Err(CliError::Failed(format!("{}: no tasks to run", path.display())));
    }
    let (offers, running) = (workload.offers.len(), workload.running.len());
    if offers + running > 0 {
        note!("note: {}: ignoring {offers} offer(s) and {running} running task(s)", path.display());
    }
    let queue = workload.queue.or_else(|| {
        let placed = workload.task_queues.iter().any(|p| *p != QueuePlace::default());
        placed.then(QueueConfig::default)
    });
    Ok(Tasks {
        specs: workload.tasks,
        fitness: Some(workload.fitness),
        queue,
        places: workload.task_queues,
        after: workload.after,
        labels: workload.labels,
        preemption: workload.preemption,
        autoscale: workload.autoscale,
    })
}

/// The secret in `path`, without a trailing newline; the error names the file, never its
/// content.
pub(super) fn read_secret(path: &Path) -> Result<offerpack::driver::Secret, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Failed(format!("--secret-file {}: {e}", path.display())))?;
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.is_empty() {
        return Err(CliError::Failed(format!("--secret-file {}: empty", path.display())));
    }
    Ok(offerpack::driver::Secret::new(secret))
}
