//! `offerpack run`: a framework against any master that speaks the v1 scheduler API.
//!
//! Tasks come from a workload file in the `solve` format (only its tasks and fitness are used;
//! offers and running tasks are ignored: the master's offers take their place) or are `N`
//! synthetic tasks of 0.1 cpus and 32 MB running `sleep 1`, small enough for any cluster.
//! Exits 0 only when every task finished.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::Fitness;
use offerpack::session::{CommandSpec, TaskRequest};
use offerpack::workload::Workload;
use offerpack::TaskSpec;

use super::live_args::{RunArgs, TaskSource};
use super::runner::{self, Settings};
use super::solve::read_input;
use super::CliError;

/// The command every task runs.
const COMMAND: &str = "sleep 1";

/// Runs the tasks against the master; `Err` unless every task finished.
pub fn run(args: &RunArgs) -> Result<(), CliError> {
    let (specs, fitness) = match &args.tasks {
        TaskSource::Synthetic(n) => (synthetic(*n)?, None),
        TaskSource::Workload(path) => from_workload(path)?,
    };
    let requests: Vec<TaskRequest> =
        specs.into_iter().map(|spec| TaskRequest::command(spec, CommandSpec::shell(COMMAND))).collect();
    say!(
        "run: {} tasks running `{COMMAND}` on the master at {} ({})",
        requests.len(),
        args.master,
        args.encoding.content_type()
    );
    let settings = Settings {
        master: args.master.clone(),
        encoding: args.encoding,
        name: args.name.clone(),
        user: args.user.clone(),
        roles: args.roles.clone(),
        fitness,
        connect_timeout: args.connect_timeout,
        deadline: args.deadline,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let report = runtime.block_on(runner::run(&settings, requests));
    runtime.shutdown_timeout(Duration::from_secs(1));
    let report = report?;
    for line in runner::summary(&report, None) {
        say!("{line}");
    }
    runner::conclude(report.problem)
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

/// Tasks to run, and the engine's fitness calculator when not the default.
type Tasks = (Vec<TaskSpec>, Option<Arc<dyn Fitness>>);

/// The tasks and fitness of a workload file.
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
    Ok((workload.tasks, Some(workload.fitness)))
}
