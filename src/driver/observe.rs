//! What the driver tells about its work: `tracing` spans and events, and (feature `metrics`) a
//! [`Recorder`](crate::telemetry) of the framework's metrics, both fed only with what the session
//! returns (actions, updates, pass reports) and what the driver itself sees (events decoded,
//! answers, leader reports). See [`telemetry`](crate::telemetry) for the levels and names.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tracing::{debug, field, info, info_span, trace, Span};

use crate::mesos::v1::scheduler::{event, Event};
use crate::model::TaskId;
use crate::session::{CallId, CallKind, CallOutcome, Endpoint, PassReport, TaskState, Update};
use crate::telemetry::{call_label, outcome_label, primary_reason, state_index, state_label, TASK_STATES};

/// Shortest time between two `info` summaries of the tasks.
const SUMMARY_EVERY: Duration = Duration::from_secs(5);

/// The driver's observer.
#[derive(Debug)]
pub(crate) struct Observer {
    /// The current subscription's span.
    span: Span,
    framework_id: Option<String>,
    /// The master the current subscription went to.
    master: Option<String>,
    subscribed_before: bool,
    passes: u64,
    /// The latest state of every task that has not ended.
    live: HashMap<TaskId, TaskState>,
    /// Tasks per state (those that ended stay counted).
    counts: [u64; TASK_STATES.len()],
    /// Whether `counts` changed since the last summary.
    changed: bool,
    last_summary: Option<Instant>,
    /// The kind of every call handed out and not answered.
    calls: HashMap<CallId, CallKind>,
    /// When the session was handed its latest input (a pass it runs is timed from there).
    input_at: Instant,
    #[cfg(feature = "metrics")]
    recorder: Option<crate::telemetry::Recorder>,
}

impl Observer {
    /// An observer of a framework with this configured id, if any.
    pub(crate) fn new(
        framework_id: Option<String>,
        #[cfg(feature = "metrics")] metrics: Option<crate::telemetry::FrameworkMetrics>,
    ) -> Observer {
        Observer {
            span: Span::none(),
            framework_id,
            master: None,
            subscribed_before: false,
            passes: 0,
            live: HashMap::new(),
            counts: [0; TASK_STATES.len()],
            changed: false,
            last_summary: None,
            calls: HashMap::new(),
            input_at: Instant::now(),
            #[cfg(feature = "metrics")]
            recorder: metrics.map(crate::telemetry::Recorder::new),
        }
    }

    /// The span the driver's work belongs in now.
    pub(crate) fn span(&self) -> Span {
        self.span.clone()
    }

    /// The session is about to be handed an input.
    pub(crate) fn input(&mut self) {
        self.input_at = Instant::now();
    }

    #[cfg(feature = "metrics")]
    fn record(&mut self, write: impl FnOnce(&mut crate::telemetry::Recorder)) {
        if let Some(recorder) = self.recorder.as_mut() {
            write(recorder);
        }
    }

    /// A SUBSCRIBE goes to `master`: a new subscription span.
    pub(crate) fn subscribing(&mut self, master: &Endpoint) {
        let url = master.url();
        self.span = info_span!(parent: None, "subscription", master = %url, framework_id = field::Empty);
        if let Some(id) = &self.framework_id {
            self.span.record("framework_id", id.as_str());
        }
        self.master = Some(url);
        self.span.in_scope(|| debug!("subscribing"));
        #[cfg(feature = "metrics")]
        self.record(|r| r.subscribing());
    }

    /// The SUBSCRIBE was answered `200`.
    pub(crate) fn stream_open(&self, stream_id: &str) {
        debug!(stream_id, "event stream open");
    }

    /// The SUBSCRIBE failed.
    pub(crate) fn subscribe_failed(&self, outcome: &CallOutcome) {
        match outcome {
            CallOutcome::Redirect { location } => debug!(location, "subscribe redirected"),
            other => debug!(outcome = outcome_label(other), detail = ?other, "subscribe failed"),
        }
    }

    /// The event stream ended (`error`: how it broke).
    pub(crate) fn stream_lost(&self, error: Option<&str>) {
        debug!(error, "event stream ended");
    }

    /// A RecordIO record of `bytes` arrived.
    pub(crate) fn record_in(&self, bytes: usize) {
        trace!(bytes, "record");
    }

    /// The leader detector reported `leader`.
    pub(crate) fn leader(&mut self, leader: Option<&Endpoint>) {
        match leader {
            Some(leader) => info!(leader = %leader, "leading master changed"),
            None => info!("no master leads"),
        }
        #[cfg(feature = "metrics")]
        self.record(|r| r.leader_changed());
    }

    /// The session hands out call `id` for `master`.
    pub(crate) fn call_out(&mut self, id: CallId, kind: CallKind, master: &Endpoint) {
        self.calls.insert(id, kind);
        debug!(call = call_label(kind), id = id.0, %master, "sending call");
    }

    /// Call `id` ended with `outcome` (or was never sent).
    pub(crate) fn call_done(&mut self, id: CallId, outcome: &CallOutcome) {
        let kind = self.calls.remove(&id).unwrap_or(CallKind::Other);
        let (call, result) = (call_label(kind), outcome_label(outcome));
        match outcome {
            CallOutcome::Redirect { location } => debug!(call, id = id.0, location, "call redirected"),
            CallOutcome::Rejected { status, message } => {
                debug!(call, id = id.0, status, detail = message.as_str(), "call rejected");
            }
            CallOutcome::Unavailable(why) => debug!(call, id = id.0, why = why.as_str(), "call unavailable"),
            _ => debug!(call, id = id.0, outcome = result, "call answered"),
        }
        #[cfg(feature = "metrics")]
        self.record(|r| r.call(kind, outcome));
    }

    /// An operator API read goes out.
    pub(crate) fn query(&self, id: CallId, master: &Endpoint) {
        debug!(id = id.0, %master, "operator API read");
    }

    /// An event was decoded, before the session handles it.
    pub(crate) fn event(&mut self, event: &Event) {
        let Some(kind) = event.r#type.and_then(|t| event::Type::try_from(t).ok()) else {
            return debug!("event of unknown type");
        };
        match kind {
            event::Type::Heartbeat => trace!("heartbeat"),
            event::Type::Offers => {
                let offers = event.offers.as_ref().map_or(&[][..], |o| o.offers.as_slice());
                debug!(count = offers.len(), "offers received");
                for offer in offers {
                    let (id, agent, hostname) =
                        (offer.id.value.as_str(), offer.agent_id.value.as_str(), offer.hostname.as_str());
                    trace!(offer = id, agent, hostname, "offer");
                }
                #[cfg(feature = "metrics")]
                self.record(|r| r.offers(offers.len()));
            }
            event::Type::Rescind => {
                debug!(offer = event.rescind.as_ref().map(|r| r.offer_id.value.as_str()), "offer rescinded");
                #[cfg(feature = "metrics")]
                self.record(|r| r.rescinded());
            }
            event::Type::Update => {
                if let Some(update) = &event.update {
                    let status = &update.status;
                    let state = TaskState::from_proto(status.state).map(state_label);
                    let agent = status.agent_id.as_ref().map(|a| a.value.as_str());
                    debug!(
                        task = status.task_id.value.as_str(),
                        state,
                        agent,
                        acknowledge = status.uuid.is_some(),
                        "status update"
                    );
                }
            }
            event::Type::Failure => {
                let failure = event.failure.as_ref();
                let agent = failure.and_then(|f| f.agent_id.as_ref()).map(|a| a.value.as_str());
                let executor = failure.and_then(|f| f.executor_id.as_ref()).map(|e| e.value.as_str());
                debug!(agent, executor, "failure event");
            }
            other => debug!(event = other.as_str_name(), "event"),
        }
    }

    /// An update of the session, before the user gets it. `retry_in`: the session's next
    /// deadline from now (after a disconnection, the reconnection backoff).
    pub(crate) fn update(&mut self, update: &Update, retry_in: Option<Duration>) {
        match update {
            Update::Task(task) => {
                if task.known {
                    self.task_state(&task.task_id, task.state);
                }
                let agent = task.agent_id.as_ref().map(|a| a.as_str());
                let (state, reason, detail) = (state_label(task.state), task.reason, task.message.as_deref());
                debug!(task = %task.task_id, state, agent, reason, detail, "task state");
            }
            Update::Subscribed { framework_id } => {
                self.span.record("framework_id", framework_id.as_str());
                self.framework_id = Some(framework_id.clone());
                let again = std::mem::replace(&mut self.subscribed_before, true);
                info!(
                    framework_id = framework_id.as_str(),
                    master = self.master.as_deref(),
                    resubscribed = again,
                    "subscribed"
                );
                #[cfg(feature = "metrics")]
                self.record(|r| r.subscribed(again));
            }
            Update::Disconnected { reason } => {
                let retry_in_ms = retry_in.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                info!(reason, retry_in_ms, "disconnected; subscribing again after the backoff");
                #[cfg(feature = "metrics")]
                self.record(|r| r.disconnected());
            }
            Update::AgentLost { agent_id } => info!(agent = %agent_id, "agent lost"),
            Update::GaveUp { task, attempts, last_state } => {
                debug!(task = %task, attempts, last_state = state_label(*last_state), "task given up");
            }
            Update::ExecutorExited { agent_id, executor_id, status } => {
                let agent = agent_id.as_ref().map(|a| a.as_str());
                debug!(agent, executor = executor_id.as_str(), status, "executor exited");
            }
            Update::Message { agent_id, executor_id, data } => {
                debug!(agent = %agent_id, executor = executor_id.as_str(), bytes = data.len(), "executor message");
            }
            Update::Preempted { task, by, state, .. } => {
                info!(task = %task, by = %by, state = state_label(*state), "task preempted; pending again");
            }
            Update::Pass(report) => self.pass(report),
            Update::ScaleHints(hints) => {
                let up: u32 = hints.scale_up.iter().map(|(_, n)| n).sum();
                debug!(scale_up = up, scale_down = hints.scale_down.len(), "autoscaling hints changed");
                #[cfg(feature = "metrics")]
                self.record(|r| r.scale_hints(hints));
            }
            Update::Warning(warning) => debug!(%warning, "session warning"),
            Update::Stopped(reason) => {
                self.summary(true);
                info!(reason = ?reason, "framework stopped");
                #[cfg(feature = "metrics")]
                self.record(|r| r.stopped());
            }
        }
    }

    /// Moves a task between states in the counts.
    fn task_state(&mut self, task: &TaskId, state: TaskState) {
        let old = if state.is_terminal() { self.live.remove(task) } else { self.live.insert(task.clone(), state) };
        if old == Some(state) {
            return;
        }
        if let Some(old) = old {
            self.counts[state_index(old)] = self.counts[state_index(old)].saturating_sub(1);
        }
        self.counts[state_index(state)] += 1;
        self.changed = true;
        #[cfg(feature = "metrics")]
        self.record(|r| r.task(old, state));
    }

    /// One scheduling pass: a `pass` span with its counts, its unplaced kinds and launches.
    fn pass(&mut self, report: &PassReport) {
        let elapsed = self.input_at.elapsed();
        self.passes += 1;
        let span = tracing::debug_span!("pass", pass = self.passes);
        let _entered = span.enter();
        let stats = &report.stats;
        debug!(
            placed = stats.tasks_placed,
            unplaced = stats.tasks_unplaced,
            parked = stats.tasks_parked,
            agents_considered = stats.agents_considered,
            agents_used = stats.agents_used,
            accept_calls = report.accept_calls,
            offers_accepted = report.offers_accepted,
            offers_declined = report.offers_declined,
            elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            "scheduling pass"
        );
        for kind in &report.unplaced {
            debug!(
                group = %kind.group,
                tasks = kind.tasks,
                reason = primary_reason(&kind.reasons, kind.agents_considered),
                example = %kind.example,
                "tasks left unplaced"
            );
        }
        for (task, agent) in &report.launched {
            trace!(task = %task, agent = %agent, "launch");
        }
        #[cfg(feature = "metrics")]
        self.record(|r| r.pass(report, elapsed));
    }

    /// After the session's outputs are drained: the offers it holds, and the tasks' summary.
    pub(crate) fn drained(&mut self, offers_held: usize) {
        #[cfg(feature = "metrics")]
        self.record(|r| r.held(offers_held));
        #[cfg(not(feature = "metrics"))]
        let _ = offers_held;
        self.summary(false);
    }

    /// The `info` summary of the tasks by state, when they changed and (unless `now`) the last
    /// one is old enough.
    fn summary(&mut self, now: bool) {
        if !self.changed || !(now || self.last_summary.is_none_or(|at| at.elapsed() >= SUMMARY_EVERY)) {
            return;
        }
        if !tracing::enabled!(tracing::Level::INFO) {
            return;
        }
        self.changed = false;
        self.last_summary = Some(Instant::now());
        let n = |states: &[TaskState]| states.iter().map(|s| self.counts[state_index(*s)]).sum::<u64>();
        use TaskState as S;
        info!(
            pending = n(&[S::Pending]),
            launched = n(&[S::Launched, S::Staging, S::Starting]),
            running = n(&[S::Running, S::Killing]),
            finished = n(&[S::Finished]),
            killed = n(&[S::Killed]),
            failed = n(&[S::Failed, S::Error, S::Lost, S::Dropped, S::Gone, S::GoneByOperator]),
            unreachable = n(&[S::Unreachable, S::Unknown]),
            "tasks"
        );
    }
}
