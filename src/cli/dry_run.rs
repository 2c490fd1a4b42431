//! `offerpack run --dry-run`: subscribe, wait for the first pass's offers, print the plan that
//! pass would make for the tasks (JSON, as `solve` writes it), and tear down, launching nothing.
//!
//! The framework runs as a dry-run session ([`SessionConfig::dry_run`](offerpack::session::SessionConfig::dry_run)):
//! its passes neither launch nor decline, so the offers stay held until the teardown. The plan
//! comes from [`FrameworkHandle::what_if`](offerpack::driver::FrameworkHandle::what_if) with
//! every task that waits for none (`"after"`); the others are listed under `waiting`.

use std::time::Duration;

use offerpack::driver::Framework;
use offerpack::model::TaskId;
use offerpack::session::{StopMode, TaskRequest, Update};
use offerpack::workload::{write_plan_waiting, Timing};
use tokio::time::{sleep_until, Instant};

use super::runner::{framework_config, Settings};
use super::CliError;

/// How long the teardown may take.
const TEARDOWN_WAIT: Duration = Duration::from_secs(5);

/// Plans `requests` against the master's first offers and prints the plan; nothing launches.
pub async fn plan(settings: &Settings, requests: Vec<TaskRequest>) -> Result<(), CliError> {
    let mut config = framework_config(settings, None);
    config.session.dry_run = true;
    let (handle, mut updates) =
        Framework::start(config).map_err(|e| CliError::Failed(format!("cannot start the framework: {e}")))?;
    let give_up = Instant::now() + settings.deadline;
    let offered = loop {
        tokio::select! {
            update = updates.recv() => match update {
                Some(Update::Subscribed { framework_id }) => {
                    note!("subscribed to {} as framework {framework_id} (dry run)", settings.master);
                }
                Some(Update::Pass(pass)) if pass.stats.agents_considered > 0 => break pass.stats.agents_considered,
                Some(Update::Stopped(reason)) => {
                    return Err(CliError::Failed(format!("the framework stopped: {reason:?}")));
                }
                Some(_) => {}
                None => return Err(CliError::Failed("the framework stopped unexpectedly".to_owned())),
            },
            () = sleep_until(give_up) => {
                handle.stop(StopMode::Teardown);
                return Err(CliError::Failed(format!(
                    "no offers from {} within {:.0} s", settings.master, settings.deadline.as_secs_f64()
                )));
            }
        }
    };
    let (ready, waiting): (Vec<TaskRequest>, Vec<TaskRequest>) = requests.into_iter().partition(|r| r.after.is_empty());
    let waiting: Vec<(TaskId, Vec<TaskId>)> = waiting.into_iter().map(|r| (r.spec.id, r.after)).collect();
    let total = ready.len() + waiting.len();
    let answer = handle.what_if(ready).await;
    handle.stop(StopMode::Teardown);
    let stop_by = Instant::now() + TEARDOWN_WAIT;
    loop {
        tokio::select! {
            update = updates.recv() => if matches!(update, Some(Update::Stopped(_)) | None) { break },
            () = sleep_until(stop_by) => {
                note!("warning: the teardown was not confirmed within {} s", TEARDOWN_WAIT.as_secs());
                break;
            }
        }
    }
    let plan = answer.map_err(|e| CliError::Failed(format!("what-if: {e}")))?;
    let mut out = Vec::new();
    write_plan_waiting(&mut out, &plan, Timing::default(), &waiting)
        .map_err(|e| CliError::Failed(format!("cannot write the plan: {e}")))?;
    say!("{}", String::from_utf8_lossy(&out));
    note!(
        "dry run: {} of {total} tasks would be placed on {} agents ({offered} agents offered), {} waiting for others; \
         nothing launched",
        plan.launches.len(),
        plan.stats.agents_used,
        waiting.len()
    );
    Ok(())
}
