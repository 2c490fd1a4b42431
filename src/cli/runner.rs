//! Runs a framework (driver + session + engine) against a master until every task it was given
//! has ended; shared by `demo` and `run`.
//!
//! The steps: start the framework, wait for `SUBSCRIBED`
//! (giving up after the connect timeout, or at once when the master rejects the framework),
//! submit every task, follow the task updates with a progress line on standard error every
//! second, and tear the framework down when every task has ended or the deadline has passed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use offerpack::driver::{Encoding, Framework, FrameworkConfig, FrameworkHandle, Updates};
use offerpack::model::{AgentId, TaskId};
use offerpack::plugins::Fitness;
use offerpack::session::{
    PassReport, StopMode, StopReason, SubmitError, TaskRequest, TaskState, TaskUpdate, UnplacedSummary, Update,
};
use tokio::time::{sleep_until, Instant};

use super::reasons::{hint, why_pending};
use super::CliError;

/// Warnings printed before the rest are only counted.
const SHOWN_WARNINGS: usize = 10;
/// Tasks named when some did not finish.
const SHOWN_FAILURES: usize = 5;
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
    /// Start to end, teardown included.
    pub wall: Duration,
    /// Why the run did not succeed; `None` when every task finished.
    pub problem: Option<String>,
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
    let start = Instant::now();
    let deadline = start + settings.deadline;
    let (handle, mut updates) = start_framework(settings)?;
    let mut tracker = Tracker::new(&requests);
    let submitted = submit(&handle, requests).await;
    let subscribed_after = match subscribe(settings, &mut updates, &mut tracker, start).await {
        Ok(after) => after,
        Err(error) => {
            handle.stop(StopMode::Failover);
            return Err(error);
        }
    };
    let mut problem = submitted.err();
    if problem.is_none() {
        problem = follow(&mut updates, &mut tracker, start, deadline).await;
    }
    note!("{}", tracker.progress(start.elapsed()));
    let done = teardown(&handle, &mut updates).await;
    if problem.is_none() {
        problem = done.err().or_else(|| tracker.failure());
    }
    Ok(tracker.report(subscribed_after, start.elapsed(), problem))
}

fn start_framework(settings: &Settings) -> Result<(FrameworkHandle, Updates), CliError> {
    let fail = |e: &dyn std::fmt::Display| CliError::Failed(format!("cannot start the framework: {e}"));
    let mut config = FrameworkConfig::new(&settings.name, &settings.user, [settings.master.clone()])
        .roles(settings.roles.iter().cloned())
        .encoding(settings.encoding);
    config.connect_timeout = settings.connect_timeout.min(Duration::from_secs(10));
    if let Some(fitness) = &settings.fitness {
        config.session.engine.fitness = Arc::clone(fitness);
    }
    Framework::start(config).map_err(|e| fail(&e))
}

/// Waits for `SUBSCRIBED`, following task updates meanwhile; the time it took.
async fn subscribe(
    settings: &Settings,
    updates: &mut Updates,
    tracker: &mut Tracker,
    start: Instant,
) -> Result<Duration, CliError> {
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
                    return Ok(start.elapsed());
                }
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

/// Follows the updates until every task has ended; why it stopped early, if it did.
async fn follow(updates: &mut Updates, tracker: &mut Tracker, start: Instant, deadline: Instant) -> Option<String> {
    let mut tick = tokio::time::interval_at(Instant::now() + Duration::from_secs(1), Duration::from_secs(1));
    let mut warnings = 0usize;
    while !tracker.all_ended() {
        tokio::select! {
            update = updates.recv() => match update {
                Some(Update::Task(task)) => tracker.apply(&task, start.elapsed()),
                Some(Update::Pass(pass)) => tracker.add_pass(&pass),
                Some(Update::Stopped(reason)) => return Some(stopped(&reason)),
                Some(Update::Disconnected { reason }) => note!("warning: disconnected ({reason}); reconnecting"),
                Some(Update::AgentLost { agent_id }) => note!("warning: agent {agent_id} lost"),
                Some(Update::Warning(warning)) => {
                    warnings += 1;
                    if warnings <= SHOWN_WARNINGS {
                        note!("warning: {warning}");
                    } else if warnings == SHOWN_WARNINGS + 1 {
                        note!("warning: (further warnings are not shown)");
                    }
                }
                Some(_) => {}
                None => return Some("the framework stopped unexpectedly".to_owned()),
            },
            _ = tick.tick() => note!("{}", tracker.progress(start.elapsed())),
            () = sleep_until(deadline) => return Some(tracker.overdue()),
        }
    }
    None
}

/// Tears the framework down (which kills whatever still runs) and waits for it to stop. Task
/// updates from here on are not counted: the report says how the tasks stood when the run ended.
async fn teardown(handle: &FrameworkHandle, updates: &mut Updates) -> Result<(), String> {
    handle.stop(StopMode::Teardown);
    let give_up = Instant::now() + TEARDOWN_WAIT;
    loop {
        tokio::select! {
            update = updates.recv() => match update {
                Some(Update::Stopped(StopReason::Requested(_))) | None => return Ok(()),
                Some(Update::Stopped(reason)) => return Err(stopped(&reason)),
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
        StopReason::Requested(mode) => format!("the framework was stopped ({mode:?})"),
        other => format!("the framework stopped: {other:?}"),
    }
}

/// One task as the CLI follows it.
#[derive(Debug)]
struct Followed {
    state: TaskState,
    agent: Option<AgentId>,
    launched: bool,
    ran: bool,
    message: String,
}

/// Every task's latest state, and when milestones were reached.
#[derive(Debug)]
struct Tracker {
    tasks: HashMap<TaskId, Followed>,
    offers: OfferTotals,
    /// The unplaced tasks of the latest pass that had offers (a pass without offers explains
    /// nothing new, so it leaves them as they were).
    unplaced: Vec<UnplacedSummary>,
    offered: bool,
    ended: usize,
    ran: usize,
    last_launch: Option<Duration>,
    all_running: Option<Duration>,
}

impl Tracker {
    fn new(requests: &[TaskRequest]) -> Tracker {
        let follow = |r: &TaskRequest| {
            let task = Followed {
                state: TaskState::Pending,
                agent: None,
                launched: false,
                ran: false,
                message: String::new(),
            };
            (r.spec.id.clone(), task)
        };
        Tracker {
            tasks: requests.iter().map(follow).collect(),
            offers: OfferTotals::default(),
            unplaced: Vec::new(),
            offered: false,
            ended: 0,
            ran: 0,
            last_launch: None,
            all_running: None,
        }
    }

    /// Applies an update received `at` after the start; updates about tasks this
    /// run did not submit are ignored.
    fn apply(&mut self, update: &TaskUpdate, at: Duration) {
        let Some(task) = self.tasks.get_mut(&update.task_id) else { return };
        let (was_ended, now_ended) = (task.state.is_terminal(), update.state.is_terminal());
        task.state = update.state;
        task.message = update.message.clone().unwrap_or_default();
        match update.state {
            TaskState::Pending => task.agent = None,
            _ => task.agent = update.agent_id.clone().or(task.agent.take()),
        }
        if update.state == TaskState::Launched {
            task.launched = true;
            self.last_launch = Some(at);
        }
        if matches!(update.state, TaskState::Running | TaskState::Finished) && !task.ran {
            task.ran = true;
            self.ran += 1;
            if self.ran == self.tasks.len() {
                self.all_running = Some(at);
            }
        }
        self.ended = match (was_ended, now_ended) {
            (false, true) => self.ended + 1,
            (true, false) => self.ended.saturating_sub(1),
            _ => self.ended,
        };
    }

    fn all_ended(&self) -> bool {
        self.ended == self.tasks.len()
    }

    fn count(&self, wanted: impl Fn(&Followed) -> bool) -> usize {
        self.tasks.values().filter(|t| wanted(t)).count()
    }

    /// `[  3.0s] launched 120/200, running 80, finished 40, pending 0`.
    fn progress(&self, at: Duration) -> String {
        let failed = self.count(|t| t.state.is_terminal() && t.state != TaskState::Finished);
        let mut line = format!(
            "[{:6.1}s] launched {}/{}, running {}, finished {}, pending {}",
            at.as_secs_f64(),
            self.count(|t| t.launched),
            self.tasks.len(),
            self.count(|t| t.state == TaskState::Running),
            self.count(|t| t.state == TaskState::Finished),
            self.count(|t| t.state == TaskState::Pending),
        );
        if failed > 0 {
            line.push_str(&format!(", failed {failed}"));
        }
        line
    }

    /// Why the deadline passed.
    fn overdue(&self) -> String {
        let pending = self.count(|t| t.state == TaskState::Pending);
        let active = self.count(|t| t.state != TaskState::Pending && !t.state.is_terminal());
        let mut text =
            format!("the deadline passed with {pending} task(s) pending and {active} launched but not ended");
        if pending > 0 {
            text.push_str(&match hint(&self.unplaced, self.offered) {
                Some(hint) => format!(" ({hint})"),
                None => " (the summary says why they wait)".to_owned(),
            });
        }
        text
    }

    /// Why the run failed although every task ended.
    fn failure(&self) -> Option<String> {
        let mut failed: Vec<(&TaskId, &Followed)> =
            self.tasks.iter().filter(|(_, t)| t.state.is_terminal() && t.state != TaskState::Finished).collect();
        if failed.is_empty() {
            return None;
        }
        failed.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let named: Vec<String> =
            failed.iter().take(SHOWN_FAILURES).map(|(id, t)| format!("{id} {} ({})", t.state, t.message)).collect();
        let more = failed.len().saturating_sub(SHOWN_FAILURES);
        let tail = if more > 0 { format!("; and {more} more") } else { String::new() };
        Some(format!("{} task(s) did not finish: {}{tail}", failed.len(), named.join("; ")))
    }

    fn add_pass(&mut self, pass: &PassReport) {
        self.offers.passes += 1;
        self.offers.accept_calls += u64::from(pass.accept_calls);
        self.offers.accepted += u64::from(pass.offers_accepted);
        self.offers.declined += u64::from(pass.offers_declined);
        if pass.stats.agents_considered > 0 {
            self.offered = true;
            self.unplaced.clone_from(&pass.unplaced);
        }
    }

    fn report(&self, subscribed_after: Duration, wall: Duration, problem: Option<String>) -> Report {
        let agents: HashSet<&AgentId> =
            self.tasks.values().filter(|t| t.ran || t.launched).filter_map(|t| t.agent.as_ref()).collect();
        let mut failed: Vec<(TaskId, TaskState, String)> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.state.is_terminal() && t.state != TaskState::Finished)
            .map(|(id, t)| (id.clone(), t.state, t.message.clone()))
            .collect();
        failed.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let launched = self.count(|t| t.launched);
        Report {
            submitted: self.tasks.len(),
            launched,
            finished: self.count(|t| t.state == TaskState::Finished),
            failed,
            pending: self.count(|t| t.state == TaskState::Pending),
            agents_used: agents.len(),
            subscribed_after,
            launched_after: self.last_launch.filter(|_| launched == self.tasks.len()),
            running_after: self.all_running,
            offers: self.offers,
            unplaced: self.unplaced.clone(),
            offered: self.offered,
            wall,
            problem,
        }
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
        format!("wall time: {:.2} s", report.wall.as_secs_f64()),
    ]);
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
