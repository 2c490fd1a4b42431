//! Runs a framework (driver + session + engine) against a master until every task it was given
//! has ended; shared by `demo` and `run`.
//!
//! The steps: start the framework, wait for `SUBSCRIBED`
//! (giving up after the connect timeout, or at once when the master rejects the framework),
//! submit every task, follow the task updates with a progress line on standard error every
//! second, and tear the framework down when every task has ended or the deadline has passed.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use offerpack::driver::{Encoding, Framework, FrameworkConfig, FrameworkHandle, Updates};
use offerpack::model::TaskId;
use offerpack::plugins::Fitness;
use offerpack::queue::QueueConfig;
use offerpack::session::{
    RetryPolicy, StopMode, StopReason, SubmitError, TaskRequest, TaskState, UnplacedSummary, Update,
};
use offerpack::telemetry::{FrameworkMetrics, MetricsServer};
use tokio::time::{sleep_until, Instant};

use super::custom_executor;
use super::ha_run::{deposed, Link};
use super::reasons::why_pending;
use super::signals::{self, Caught, Signals};
use super::tracker::Tracker;
use super::CliError;

/// Warnings printed before the rest are only counted.
const SHOWN_WARNINGS: usize = 10;
/// Tasks given up named in the summary.
const SHOWN_GAVE_UP: usize = 5;
/// Queue buckets shown in the summary.
const SHOWN_BUCKETS: usize = 10;
/// How long a teardown may take at the end.
const TEARDOWN_WAIT: Duration = Duration::from_secs(5);

/// Who to talk to and how.
#[derive(Debug)]
pub struct Settings {
    /// The master's address.
    pub master: String,
    /// Wire encoding.
    pub encoding: Encoding,
    /// Framework name.
    pub name: String,
    /// The user tasks run as.
    pub user: String,
    /// Roles to subscribe with.
    pub roles: Vec<String>,
    /// The engine's fitness calculator, when not the default.
    pub fitness: Option<Arc<dyn Fitness>>,
    /// Give up when not subscribed after this long.
    pub connect_timeout: Duration,
    /// Give up when the tasks have not all ended this long after the start.
    pub deadline: Duration,
    /// How failed or lost tasks are retried (the session's default policy).
    pub retry: RetryPolicy,
    /// Tiers and buckets to place by (each request names its place); `None` for none.
    pub queue: Option<QueueConfig>,
    /// Disruption budgets to preempt under (a workload's `groups`); `None` never preempts.
    /// Victims are put back to pending and run again (the session's default).
    pub preemption: Option<offerpack::preempt::DisruptionBudgets>,
    /// Autoscaling rules (a workload's `autoscale`): their hints are printed as they change.
    pub autoscale: Option<offerpack::autoscale::AutoscaleConfig>,
    /// URIs the agents fetch from this host: the first failure to fetch one ends the run.
    pub fetched: Vec<String>,
    /// What a SIGINT or SIGTERM does to the framework: tear it down (its tasks killed) or
    /// leave it for a successor (failover).
    pub on_signal: StopMode,
    /// HTTP Basic principal and secret, if the master wants them.
    pub credentials: Option<(String, offerpack::driver::Secret)>,
    /// Capabilities announced besides MULTI_ROLE.
    pub capabilities: Vec<offerpack::session::Capability>,
    /// Where the driver counts its work (served by [`serve_metrics`]), if anywhere.
    pub metrics: Option<FrameworkMetrics>,
    /// How an `https://` master is checked (the system's roots plus `--ca-cert`).
    pub tls: offerpack::tls::TlsConfig,
}

/// What happened to the tasks, and why the run failed if it did.
#[derive(Debug)]
pub struct Report {
    /// Tasks submitted.
    pub submitted: usize,
    /// Tasks launched at least once.
    pub launched: usize,
    /// Tasks that ended in TASK_FINISHED.
    pub finished: usize,
    /// Tasks that ended otherwise, with their state and message.
    pub failed: Vec<(TaskId, TaskState, String)>,
    /// Tasks still pending at the end.
    pub pending: usize,
    /// Distinct agents that ran a task.
    pub agents_used: usize,
    /// From the start to `SUBSCRIBED`.
    pub subscribed_after: Duration,
    /// From the start (when every task is submitted) to the last launch (`None`: not every
    /// task was launched).
    pub launched_after: Option<Duration>,
    /// From the start to the moment every task had been RUNNING.
    pub running_after: Option<Duration>,
    /// What the scheduling passes did with offers, summed.
    pub offers: OfferTotals,
    /// Why tasks were still pending, per kind of task, as the latest pass that had offers left
    /// them (empty when that pass placed every task, or when no pass had offers).
    pub unplaced: Vec<UnplacedSummary>,
    /// Whether any pass had offers.
    pub offered: bool,
    /// Pending updates about launched tasks: attempts retried (and launches sent back unrun).
    pub retries: u64,
    /// Tasks the session gave up on, by id.
    pub gave_up: Vec<GaveUp>,
    /// Per queue bucket, by tier and name (empty without a queue).
    pub buckets: Vec<BucketLine>,
    /// Start to end, teardown included.
    pub wall: Duration,
    /// Why the run did not succeed; `None` when every task finished.
    pub problem: Option<String>,
    /// How long each finished task ran (its last attempt, from RUNNING to FINISHED).
    pub durations: std::collections::HashMap<TaskId, Duration>,
}

/// A task the session gave up on: out of attempts, ended otherwise than finished or killed.
#[derive(Clone, Debug)]
pub struct GaveUp {
    /// The task.
    pub task: TaskId,
    /// Attempts launched.
    pub attempts: u32,
    /// The state that ended the last attempt.
    pub last_state: TaskState,
}

/// One queue bucket over the run.
#[derive(Clone, Debug)]
pub struct BucketLine {
    /// The tier.
    pub tier: u32,
    /// The bucket's name.
    pub bucket: Arc<str>,
    /// Tasks placed, summed over the passes.
    pub placed: u64,
    /// Tasks left unplaced by the latest pass that reported the bucket.
    pub unplaced: u32,
    /// The bucket's dominant share after that pass.
    pub dominant_share: f64,
}

/// What the session's scheduling passes did with offers, summed over the run.
#[derive(Clone, Copy, Debug, Default)]
pub struct OfferTotals {
    /// Scheduling passes run.
    pub passes: u64,
    /// ACCEPT calls sent.
    pub accept_calls: u64,
    /// Offers named in them.
    pub accepted: u64,
    /// Offers declined.
    pub declined: u64,
}

/// Runs `requests` against the master in `settings`. `Err` only when the framework could not
/// start or subscribe; failures after that are in [`Report::problem`].
///
/// Every task is submitted before the subscription completes, so that the first scheduling pass
/// sees them all (the driver handles its commands before the event stream).
pub async fn run(settings: &Settings, requests: Vec<TaskRequest>) -> Result<Report, CliError> {
    run_with(settings, requests, None).await
}

/// [`run`], as the leader of a highly available run when `ha` is given (see `ha_run.rs`): the
/// framework id and failover timeout come from the store, every task change is persisted as
/// it is learnt, the framework id before any task is submitted when the store had none, the
/// run steps down (failover) when the leadership or the store is lost or on a signal, and a
/// run whose tasks have all ended leaves its finished marker before the teardown.
pub async fn run_with(
    settings: &Settings,
    requests: Vec<TaskRequest>,
    mut ha: Option<&mut Link>,
) -> Result<Report, CliError> {
    let start = Instant::now();
    let deadline = start + settings.deadline;
    let mut signals = Signals::new();
    let (handle, mut updates) = start_framework(settings, ha.as_deref())?;
    let mut tracker = Tracker::new(&requests);
    // Without a stored framework id, nothing is submitted before the one SUBSCRIBED gives is
    // persisted.
    let early = ha.as_ref().is_none_or(|link| link.framework_id().is_some());
    let mut later = None;
    let submitted = if early {
        submit(&handle, requests).await
    } else {
        later = Some(requests);
        Ok(())
    };
    let subscribed = tokio::select! {
        subscribed = subscribe(settings, &mut updates, &mut tracker, start) => subscribed,
        caught = signals::first_or_never(&mut signals) => {
            Err(CliError::Failed(format!("stopped by {} before subscribing", caught.name())))
        }
    };
    let (subscribed_after, framework_id) = match subscribed {
        Ok(subscribed) => subscribed,
        Err(error) => {
            handle.stop(StopMode::Failover);
            return Err(error);
        }
    };
    let mut problem = submitted.err();
    if let Some(link) = ha.as_deref_mut() {
        if let Err(why) = link.subscribed(&framework_id).await {
            problem = Some(link.step_down(why));
        }
    }
    if let Some(requests) = later.filter(|_| problem.is_none()) {
        problem = submit(&handle, requests).await.err();
    }
    let mut mode = StopMode::Teardown;
    let mut lost_lead = false;
    if problem.is_none() {
        let mut roles = ha.as_ref().map(|link| link.roles());
        let timing = (start, deadline);
        problem = tokio::select! {
            problem = follow(&mut updates, &mut tracker, &settings.fetched, timing, ha.as_deref_mut()) => problem,
            why = deposed(roles.as_mut()) => {
                lost_lead = true;
                Some(why)
            }
            caught = signals::first_or_never(&mut signals) => {
                mode = if ha.is_some() { StopMode::Failover } else { settings.on_signal };
                note!("{}", on_signal(caught, mode, &framework_id));
                Some(format!("stopped by {}", caught.name()))
            }
        };
    }
    if let Some(link) = ha {
        mode = link.conclude(lost_lead, &mut problem, &framework_id).await;
    }
    let second = signals.take().map(signals::exit_on_second);
    note!("{}", tracker.progress(start.elapsed()));
    let done = stop(&handle, mode, &mut updates, &mut tracker).await;
    if let Some(second) = second {
        second.abort();
    }
    if problem.is_none() {
        problem = done.err().or_else(|| tracker.failure());
    }
    Ok(tracker.report(subscribed_after, start.elapsed(), problem))
}

fn start_framework(settings: &Settings, ha: Option<&Link>) -> Result<(FrameworkHandle, Updates), CliError> {
    let fail = |e: &dyn std::fmt::Display| CliError::Failed(format!("cannot start the framework: {e}"));
    Framework::start(framework_config(settings, ha)).map_err(|e| fail(&e))
}

/// The framework's configuration from the settings (and the HA link's framework id).
pub fn framework_config(settings: &Settings, ha: Option<&Link>) -> FrameworkConfig {
    let mut config = FrameworkConfig::new(&settings.name, &settings.user, [settings.master.clone()])
        .roles(settings.roles.iter().cloned())
        .encoding(settings.encoding);
    config.connect_timeout = settings.connect_timeout.min(Duration::from_secs(10));
    if let Some(fitness) = &settings.fitness {
        config.session.engine.fitness = Arc::clone(fitness);
    }
    config.session.retry = settings.retry;
    if let Some((principal, secret)) = &settings.credentials {
        config = config.credentials(principal.clone(), secret.expose());
    }
    config.session.capabilities.clone_from(&settings.capabilities);
    config.session.queue.clone_from(&settings.queue);
    config.session.preemption.clone_from(&settings.preemption);
    config.session.autoscale.clone_from(&settings.autoscale);
    if let Some(metrics) = &settings.metrics {
        config = config.metrics(metrics.clone());
    }
    config.tls.clone_from(&settings.tls);
    if let Some(link) = ha {
        config = config.failover_timeout(link.failover_timeout());
        if let Some(id) = link.framework_id() {
            config = config.framework_id(id);
        }
    }
    config
}

/// With `--metrics-listen ADDR`: fresh metrics and the server of `GET /metrics` for them (its
/// URL noted on standard error).
pub async fn serve_metrics(
    listen: Option<std::net::SocketAddr>,
) -> Result<Option<(FrameworkMetrics, MetricsServer)>, CliError> {
    let Some(listen) = listen else { return Ok(None) };
    let metrics = FrameworkMetrics::new();
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let server = MetricsServer::start(listen, Arc::new(registry))
        .await
        .map_err(|e| CliError::Failed(format!("--metrics-listen {listen}: {e}")))?;
    note!("metrics: {}", server.url());
    Ok(Some((metrics, server)))
}

/// What the run does on a signal, for a person.
fn on_signal(caught: Caught, mode: StopMode, framework_id: &str) -> String {
    match mode {
        StopMode::Teardown => format!(
            "{}: tearing framework {framework_id} down (the master kills its tasks); send it again to exit at once",
            caught.name()
        ),
        StopMode::Failover => format!(
            "{}: leaving framework {framework_id} and its tasks running for a successor: subscribe with this \
             framework id within its failover timeout; send it again to exit at once",
            caught.name()
        ),
    }
}

/// Waits for `SUBSCRIBED`, following task updates meanwhile; the time it took and the
/// framework id.
async fn subscribe(
    settings: &Settings,
    updates: &mut Updates,
    tracker: &mut Tracker,
    start: Instant,
) -> Result<(Duration, String), CliError> {
    let wait = settings.connect_timeout.min(settings.deadline);
    let give_up = start + wait;
    let mut last = None;
    loop {
        tokio::select! {
            update = updates.recv() => match update {
                Some(Update::Task(task)) => tracker.apply(&task, start.elapsed()),
                Some(Update::Pass(pass)) => tracker.add_pass(&pass),
                Some(Update::Subscribed { framework_id }) => {
                    note!("subscribed to {} as framework {framework_id}", settings.master);
                    return Ok((start.elapsed(), framework_id));
                }
                Some(Update::GaveUp { task, attempts, last_state }) => gave_up(tracker, task, attempts, last_state),
                Some(Update::Disconnected { reason }) => last = Some(reason),
                Some(Update::Stopped(reason)) => return Err(CliError::Failed(stopped(&reason))),
                Some(_) => {}
                None => return Err(CliError::Failed("the framework stopped before subscribing".to_owned())),
            },
            () = sleep_until(give_up) => {
                let why = last.map_or_else(|| "no answer".to_owned(), |reason| format!("last attempt: {reason}"));
                return Err(CliError::Failed(format!(
                    "could not subscribe to the master at {} within {:.1} s ({why})",
                    settings.master,
                    wait.as_secs_f64()
                )));
            }
        }
    }
}

type Submission<'a> = Pin<Box<dyn Future<Output = Result<(), SubmitError>> + Send + 'a>>;

/// Submits every task, in order, without waiting for one answer before sending the next.
///
/// Each submission is polled once in order (which hands it to the driver), then the answers
/// are awaited from the front: the driver answers in order, so this is linear in the tasks.
async fn submit(handle: &FrameworkHandle, requests: Vec<TaskRequest>) -> Result<(), String> {
    let mut queue: VecDeque<(TaskId, Option<Submission<'_>>)> =
        requests.into_iter().map(|r| (r.spec.id.clone(), Some(Box::pin(handle.submit(r)) as Submission<'_>))).collect();
    let mut first = true;
    std::future::poll_fn(|cx| {
        let fail = |id: &TaskId, e: SubmitError| Poll::Ready(Err(format!("task {id} was not accepted: {e}")));
        if std::mem::take(&mut first) {
            for (id, slot) in &mut queue {
                if let Some(Poll::Ready(result)) = slot.as_mut().map(|f| f.as_mut().poll(cx)) {
                    *slot = None;
                    if let Err(e) = result {
                        return fail(id, e);
                    }
                }
            }
        }
        while let Some((id, slot)) = queue.front_mut() {
            match slot.as_mut().map(|f| f.as_mut().poll(cx)) {
                None | Some(Poll::Ready(Ok(()))) => {
                    queue.pop_front();
                }
                Some(Poll::Ready(Err(e))) => return fail(id, e),
                Some(Poll::Pending) => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    })
    .await
}

/// Updates taken at once before the changes they bring are persisted together.
const UPDATE_BATCH: usize = 512;

/// Follows the updates until every task has ended; why it stopped early, if it did. With
/// `ha`, every task change is persisted before the next wait (updates ready at once are
/// persisted together).
async fn follow(
    updates: &mut Updates,
    tracker: &mut Tracker,
    fetched: &[String],
    (start, deadline): (Instant, Instant),
    mut ha: Option<&mut Link>,
) -> Option<String> {
    let mut tick = tokio::time::interval_at(Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
    let mut warnings = 0usize;
    while !tracker.all_ended() {
        tokio::select! {
            update = updates.recv() => {
                let mut outcome = take(update, tracker, fetched, start, &mut warnings, ha.as_deref_mut());
                let mut taken = 1;
                while outcome.is_none() && taken < UPDATE_BATCH {
                    let Ok(update) = updates.try_recv() else { break };
                    outcome = take(Some(update), tracker, fetched, start, &mut warnings, ha.as_deref_mut());
                    taken += 1;
                }
                if let Some(link) = ha.as_deref_mut() {
                    if let Err(why) = link.flush().await {
                        return Some(link.step_down(why));
                    }
                }
                if outcome.is_some() {
                    return outcome;
                }
            },
            _ = tick.tick() => note!("{}", tracker.progress(start.elapsed())),
            () = sleep_until(deadline) => return Some(tracker.overdue()),
        }
    }
    None
}

/// Takes one update into the tracker (and `ha`'s records); why the run must stop, if it must.
fn take(
    update: Option<Update>,
    tracker: &mut Tracker,
    fetched: &[String],
    start: Instant,
    warnings: &mut usize,
    ha: Option<&mut Link>,
) -> Option<String> {
    match update {
        Some(Update::Task(task)) => {
            tracker.apply(&task, start.elapsed());
            if let Some(link) = ha {
                link.note(&task);
            }
            if let Some(why) = fetched.iter().find_map(|uri| custom_executor::fetch_failure(&task, uri)) {
                return Some(why);
            }
        }
        Some(Update::Pass(pass)) => {
            for (task, victims) in &pass.preempting {
                say!("{}", super::live_lines::preempting(task, victims));
            }
            tracker.add_pass(&pass);
        }
        Some(Update::Preempted { task, by, agent_id, state }) => {
            say!("{}", super::live_lines::preempted(&task, &by, agent_id.as_ref(), state));
        }
        Some(Update::ScaleHints(hints)) => say!("{}", super::live_lines::scale_hints(&hints)),
        Some(Update::Stopped(reason)) => return Some(stopped(&reason)),
        Some(Update::GaveUp { task, attempts, last_state }) => gave_up(tracker, task, attempts, last_state),
        Some(Update::Disconnected { reason }) => note!("warning: disconnected ({reason}); reconnecting"),
        Some(Update::AgentLost { agent_id }) => note!("warning: agent {agent_id} lost"),
        Some(Update::Warning(warning)) => {
            *warnings += 1;
            if *warnings <= SHOWN_WARNINGS {
                note!("warning: {warning}");
            } else if *warnings == SHOWN_WARNINGS + 1 {
                note!("warning: (further warnings are not shown)");
            }
        }
        Some(_) => {}
        None => return Some("the framework stopped unexpectedly".to_owned()),
    }
    None
}

/// Records a task given up, with a line on standard error for the first few.
fn gave_up(tracker: &mut Tracker, task: TaskId, attempts: u32, last_state: TaskState) {
    let line = format!("warning: task {task} given up after {attempts} attempt(s), last {last_state}");
    if tracker.give_up(task, attempts, last_state) {
        note!("{line}");
    }
}

/// Stops the framework — tears it down (which kills whatever still runs), or with
/// [`StopMode::Failover`] leaves it running — and waits for it to stop. Task
/// updates from here on are not counted: the report says how the tasks stood when the run ended.
/// Tasks given up are still recorded: the session reports that right after a task's terminal
/// update, which may have been the last one the run waited for.
async fn stop(
    handle: &FrameworkHandle,
    mode: StopMode,
    updates: &mut Updates,
    tracker: &mut Tracker,
) -> Result<(), String> {
    handle.stop(mode);
    let give_up = Instant::now() + TEARDOWN_WAIT;
    loop {
        tokio::select! {
            update = updates.recv() => match update {
                Some(Update::Stopped(StopReason::Requested(_))) | None => return Ok(()),
                Some(Update::Stopped(reason)) => return Err(stopped(&reason)),
                Some(Update::GaveUp { task, attempts, last_state }) => gave_up(tracker, task, attempts, last_state),
                Some(_) => {}
            },
            () = sleep_until(give_up) => {
                note!("warning: the teardown was not confirmed within {} s", TEARDOWN_WAIT.as_secs());
                return Ok(());
            }
        }
    }
}

/// Why the session stopped, for a person.
fn stopped(reason: &StopReason) -> String {
    match reason {
        StopReason::SubscribeRejected { status, message } => {
            format!("the master rejected the framework: HTTP {status}: {message}")
        }
        StopReason::MasterError(message) => format!("the master ended the framework: {message}"),
        StopReason::ConnectFailed(message) => format!("cannot connect to the master: {message}"),
        StopReason::Requested(mode) => format!("the framework was stopped ({mode:?})"),
        other => format!("the framework stopped: {other:?}"),
    }
}

/// Prints the closing verdict: `Ok` only when every task finished.
pub fn conclude(problem: Option<String>) -> Result<(), CliError> {
    match problem {
        None => {
            say!("every task finished");
            Ok(())
        }
        Some(problem) => Err(CliError::Failed(problem)),
    }
}

/// The summary lines printed at the end of `demo` and `run`; `agents` is how many agents the
/// cluster has, when known.
pub fn summary(report: &Report, agents: Option<u32>) -> Vec<String> {
    let n = report.submitted;
    let mut lines = vec![format!(
        "tasks: launched {} of {n} tasks, finished {} of {n} tasks, failed {}, pending {}",
        report.launched,
        report.finished,
        report.failed.len(),
        report.pending
    )];
    lines.extend(
        why_pending(report.pending, &report.unplaced, report.offered).into_iter().map(|line| format!("  {line}")),
    );
    lines.extend([
        placement(report),
        match agents {
            Some(total) => format!("agents used: {} of {total}", report.agents_used),
            None => format!("agents used: {}", report.agents_used),
        },
        format!(
            "offers: {} accepted in {} ACCEPT calls, {} declined, over {} scheduling passes",
            report.offers.accepted, report.offers.accept_calls, report.offers.declined, report.offers.passes
        ),
    ]);
    lines.extend(retries(report));
    lines.extend(buckets(&report.buckets));
    lines.push(format!("wall time: {:.2} s", report.wall.as_secs_f64()));
    lines
}

/// `retries: …` and a line for each of the first tasks given up.
fn retries(report: &Report) -> Vec<String> {
    let mut lines = vec![format!(
        "retries: {} attempt(s) sent back to pending after a launch, {} task(s) given up",
        report.retries,
        report.gave_up.len()
    )];
    for g in report.gave_up.iter().take(SHOWN_GAVE_UP) {
        lines.push(format!("  {} given up after {} attempt(s), last {}", g.task, g.attempts, g.last_state));
    }
    if report.gave_up.len() > SHOWN_GAVE_UP {
        lines.push(format!("  ... and {} more", report.gave_up.len() - SHOWN_GAVE_UP));
    }
    lines
}

/// One line per queue bucket (the first few), none without a queue.
fn buckets(buckets: &[BucketLine]) -> Vec<String> {
    if buckets.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![format!("queue: {} bucket(s)", buckets.len())];
    for b in buckets.iter().take(SHOWN_BUCKETS) {
        lines.push(format!(
            "  bucket {} (tier {}): placed {} over the run; last pass: {} unplaced, dominant share {:.3}",
            b.bucket, b.tier, b.placed, b.unplaced, b.dominant_share
        ));
    }
    if buckets.len() > SHOWN_BUCKETS {
        lines.push(format!("  ... and {} more buckets", buckets.len() - SHOWN_BUCKETS));
    }
    lines
}

/// `placement: all N tasks launched by X s, all RUNNING by Y s (…)`.
fn placement(report: &Report) -> String {
    let n = report.submitted;
    let secs = |d: Duration| format!("{:.2} s", d.as_secs_f64());
    let milestones = match (report.launched_after, report.running_after) {
        (Some(launched), Some(running)) => {
            format!("all {n} tasks launched by {}, all RUNNING by {}", secs(launched), secs(running))
        }
        (Some(launched), None) => format!("all {n} tasks launched by {}, not all RUNNING", secs(launched)),
        (None, _) => format!("{} of {n} tasks launched", report.launched),
    };
    format!("placement: {milestones} (from the start; subscribed at {})", secs(report.subscribed_after))
}
