//! [`Session`]: the state, the connection life cycle, timers and the user's commands.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use super::agents::{AgentBook, KnownAgent};
use super::config::DEFAULT_HEARTBEAT;
use super::masters::Masters;
use super::operator::Lookup;
use super::resend::Resend;
use super::tasks::{KillStep, Tasks};
use super::update::{StopReason, TaskUpdate, Update, Warning};
use super::{calls, Action, CallId, CallKind, CallOutcome, KillError, SessionConfig, SessionConfigError};
use super::{StopMode, SubmitError, TaskRequest, TaskState};
use crate::engine::{Engine, Scheduler};
use crate::mesos::v1;
use crate::mesos::v1::scheduler::Call;
use crate::model::{OfferId, TaskId};
use crate::util::SeededRng;

/// Mixed into the configured seed for the retry jitter, so that retries leave the sequence of
/// the connection's jitter as it was.
const RETRY_SEED: u64 = 0x7265_7472_7921_0001;

/// Where the subscription stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Link {
    /// Waiting to (re-)subscribe at `at`.
    Waiting { at: Duration },
    /// SUBSCRIBE handed out; no answer yet.
    Connecting,
    /// The stream is open (`200`); waiting for `SUBSCRIBED`.
    Connected { stream_id: String },
    /// Subscribed: calls may be sent.
    Subscribed { stream_id: String },
    /// Over.
    Stopped,
}

/// A call handed out and not yet answered.
#[derive(Clone, Debug)]
pub(super) struct Sent {
    pub(super) kind: CallKind,
    /// The offers an `ACCEPT` or `DECLINE` names: if it fails, the master may still hold them
    /// for this framework, so they are declined (again).
    pub(super) offers: Vec<OfferId>,
    /// The `refuse_seconds` filter of a `DECLINE`, kept if it is sent again.
    pub(super) refuse: Option<f64>,
}

/// Explicit reconciliation in progress.
#[derive(Clone, Debug, Default)]
pub(super) struct Reconciliation {
    /// Tasks asked about that have not answered since.
    pub(super) remaining: BTreeSet<TaskId>,
    pub(super) retry_at: Option<Duration>,
    pub(super) round: u32,
}

/// The Mesos scheduler protocol as a state machine; see the [module docs](super) for the
/// input/output contract.
#[derive(Debug)]
pub struct Session {
    pub(super) config: SessionConfig,
    /// The engine with the offers held and the running tasks it counts, kept in step with the
    /// tasks' life cycle (see `running.rs`).
    pub(super) scheduler: Scheduler,
    pub(super) rng: SeededRng,
    pub(super) link: Link,
    pub(super) framework_id: Option<String>,
    pub(super) heartbeat: Duration,
    pub(super) last_heard: Duration,
    pub(super) reconnects: u32,
    pub(super) offers: BTreeMap<OfferId, v1::Offer>,
    pub(super) tasks: Tasks,
    pub(super) schedule_at: Option<Duration>,
    pub(super) suppressed: bool,
    pub(super) reconciliation: Reconciliation,
    pub(super) implicit_at: Option<Duration>,
    pub(super) next_call: u64,
    pub(super) sent: BTreeMap<CallId, Sent>,
    /// A teardown waiting to be sent (`None`) or answered (`Some`).
    pub(super) teardown: Option<Option<CallId>>,
    pub(super) actions: VecDeque<Action>,
    pub(super) updates: VecDeque<Update>,
    /// Hostname and attributes of every agent with offers or tasks of this framework.
    pub(super) agents: AgentBook,
    /// Reads of the operator API.
    pub(super) lookup: Lookup,
    /// Whether any subscription completed in this session.
    pub(super) subscribed_once: bool,
    /// Agents the book kept at its last sweep (see `forget_unused_agents`).
    pub(super) agents_kept: usize,
    /// Which master to talk to (see `masters.rs`).
    pub(super) masters: Masters,
    /// Requests in flight or waiting to be sent again (see `resend.rs`).
    pub(super) resend: Resend,
    /// The `ExecutorInfo` each custom executor was launched with, per (agent, executor id),
    /// until it exits or its agent is lost: later tasks for it carry the very same one, as
    /// Mesos requires of a running executor.
    pub(super) executors: rustc_hash::FxHashMap<(crate::model::AgentId, String), v1::ExecutorInfo>,
    /// Tasks waiting for predecessors, and the dependency graph (see `waits.rs`).
    pub(super) waits: super::waits::Waits,
    /// Autoscaling hints reported and when each class was last asked to change.
    pub(super) scale: super::autoscale::ScaleBook,
    /// Pending tasks placed by preemption, with the Mesos ids of their victims' killed attempts,
    /// until every victim ended (see `preempting.rs`).
    pub(super) preempting: BTreeMap<crate::model::TaskId, super::preempting::Held>,
}

impl Session {
    /// A session that subscribes at its first timeout (deadline zero).
    pub fn new(config: SessionConfig) -> Result<Session, SessionConfigError> {
        config.validate()?;
        let engine = Engine::new(config.engine.clone()).map_err(SessionConfigError::Engine)?;
        let masters = Masters::new(config.masters.clone())
            .ok_or_else(|| SessionConfigError::Invalid("masters is empty".to_owned()))?;
        Ok(Session {
            scheduler: Scheduler::new(engine, config.offer_hold),
            rng: SeededRng::new(config.seed),
            link: Link::Waiting { at: Duration::ZERO },
            framework_id: config.framework_id.clone(),
            heartbeat: DEFAULT_HEARTBEAT,
            last_heard: Duration::ZERO,
            reconnects: 0,
            offers: BTreeMap::new(),
            tasks: Tasks::new(config.retry, config.bucket_retry.clone(), config.seed ^ RETRY_SEED),
            schedule_at: None,
            suppressed: false,
            reconciliation: Reconciliation::default(),
            implicit_at: None,
            next_call: 0,
            sent: BTreeMap::new(),
            teardown: None,
            actions: VecDeque::new(),
            updates: VecDeque::new(),
            agents: AgentBook::default(),
            lookup: Lookup::default(),
            subscribed_once: false,
            agents_kept: 0,
            masters,
            resend: Resend::default(),
            executors: Default::default(),
            waits: super::waits::Waits::new(config.on_predecessor_failure),
            scale: Default::default(),
            preempting: BTreeMap::new(),
            config,
        })
    }

    /// The next thing for the driver to do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next thing to tell the user.
    pub fn poll_update(&mut self) -> Option<Update> {
        self.updates.pop_front()
    }

    /// When [`handle_timeout`](Session::handle_timeout) is due next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let watchdog = self.last_heard.saturating_add(self.heartbeat.saturating_mul(self.config.missed_heartbeats));
        match &self.link {
            Link::Stopped => None,
            // A leader detector said that no master leads: wait for it (`handle_leader`).
            Link::Waiting { .. } if self.masters.awaiting() => None,
            Link::Waiting { at } => Some(*at),
            Link::Connecting | Link::Connected { .. } => Some(watchdog),
            Link::Subscribed { .. } => [
                Some(watchdog),
                self.schedule_at,
                self.scheduler.pool().next_expiry(),
                self.reconciliation.retry_at,
                self.lookup.retry_at(),
                self.implicit_at,
                self.tasks.next_ready(),
                self.resend.next_due(),
            ]
            .into_iter()
            .flatten()
            .min(),
        }
    }

    /// The `Mesos-Stream-Id` of the open stream, for the calls' header.
    pub fn stream_id(&self) -> Option<&str> {
        match &self.link {
            Link::Connected { stream_id } | Link::Subscribed { stream_id } => Some(stream_id),
            _ => None,
        }
    }

    /// The framework id (configured, or received in `SUBSCRIBED`).
    pub fn framework_id(&self) -> Option<&str> {
        self.framework_id.as_deref()
    }

    /// Whether `SUBSCRIBED` arrived on the current stream.
    pub fn is_subscribed(&self) -> bool {
        matches!(self.link, Link::Subscribed { .. })
    }

    /// Whether the session is over.
    pub fn is_stopped(&self) -> bool {
        self.link == Link::Stopped
    }

    /// The last state reported for a task, if it is live or ended recently.
    pub fn task_state(&self, task: &TaskId) -> Option<TaskState> {
        self.tasks.state(task)
    }

    /// What the session knows of an agent (hostname, attributes, resources); kept while the
    /// framework has tasks on it or offers from it.
    pub fn known_agent(&self, agent: &crate::model::AgentId) -> Option<&KnownAgent> {
        self.agents.get(agent)
    }

    /// Offers held for the next scheduling pass.
    pub fn offers_held(&self) -> usize {
        self.scheduler.pool().len()
    }

    /// The SUBSCRIBE POST was answered `200` with this `Mesos-Stream-Id`.
    pub fn handle_subscribed(&mut self, stream_id: String, now: Duration) {
        if self.link == Link::Connecting {
            self.masters.subscribed();
            self.link = Link::Connected { stream_id };
            self.last_heard = now;
        }
    }

    /// The SUBSCRIBE POST failed. [`CallOutcome::Rejected`] (400, 401, 406, 415, …) and
    /// [`CallOutcome::Fatal`] (an untrusted certificate, …) end the session: retrying a bad
    /// configuration cannot help. Anything else is retried with backoff.
    pub fn handle_subscribe_failed(&mut self, outcome: CallOutcome, now: Duration) {
        if self.link != Link::Connecting {
            return;
        }
        // A redirect is followed (the subscription goes on at the master it names).
        let Some(outcome) = self.screen_subscribe_failed(outcome) else {
            return;
        };
        match outcome {
            CallOutcome::Rejected { status, message } => {
                self.finish(StopReason::SubscribeRejected { status, message });
            }
            CallOutcome::Fatal(message) => self.finish(StopReason::ConnectFailed(message)),
            other => self.lose_link(now, format!("subscribe failed: {other:?}")),
        }
    }

    /// The event stream ended or broke.
    pub fn handle_disconnected(&mut self, now: Duration) {
        if matches!(self.link, Link::Connecting | Link::Connected { .. } | Link::Subscribed { .. }) {
            self.lose_link(now, "event stream closed".to_owned());
        }
    }

    /// The answer to a call from [`Action::Send`].
    pub fn handle_call_result(&mut self, id: CallId, outcome: CallOutcome, now: Duration) {
        // Redirects and retries first (see `resend.rs`): what is sent again is not settled yet.
        let Some(outcome) = self.screen_call_result(id, outcome, now) else {
            return;
        };
        let Some(sent) = self.sent.remove(&id) else {
            return;
        };
        if self.link == Link::Stopped {
            return;
        }
        if outcome == CallOutcome::Accepted {
            if sent.kind == CallKind::Teardown {
                self.finish(StopReason::Requested(StopMode::Teardown));
            }
            return;
        }
        if outcome != CallOutcome::NotSent {
            self.updates.push_back(Update::Warning(Warning::CallFailed { kind: sent.kind, outcome: outcome.clone() }));
        }
        if outcome == CallOutcome::NotSubscribed && self.stream_id().is_some() {
            self.actions.push_back(Action::Disconnect);
            self.lose_link(now, "the master says the framework is not subscribed".to_owned());
        }
        self.settle_offers(&sent, &outcome);
        match sent.kind {
            CallKind::Accept => self.launch_failed(id, &outcome, now),
            CallKind::Suppress | CallKind::Revive => {
                // Assume the master's state did not change; the next pass corrects it.
                self.suppressed = sent.kind == CallKind::Revive;
                self.request_pass(now);
            }
            CallKind::Teardown => match outcome {
                CallOutcome::NotSent | CallOutcome::NotSubscribed => self.teardown = Some(None),
                _ => self.finish(StopReason::Requested(StopMode::Teardown)),
            },
            _ => {}
        }
        self.run_due(now);
    }

    /// Timers: reconnect, heartbeat watchdog, scheduling pass, offer expiry, reconciliation.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.resend_due(now);
        match self.link {
            Link::Stopped => return,
            Link::Waiting { at } => {
                if at <= now && !self.masters.awaiting() {
                    self.connect(now);
                }
                return;
            }
            _ => {}
        }
        let silence = self.heartbeat.saturating_mul(self.config.missed_heartbeats);
        if self.last_heard.saturating_add(silence) <= now {
            self.actions.push_back(Action::Disconnect);
            self.lose_link(now, format!("no event for {}s", silence.as_secs_f64()));
            return;
        }
        if !self.is_subscribed() {
            return;
        }
        if self.reconciliation.retry_at.is_some_and(|at| at <= now) {
            self.reconcile_round(now);
        }
        if self.lookup.retry_at().is_some_and(|at| at <= now) {
            self.query_if_needed(now);
        }
        if let Some(at) = self.implicit_at.filter(|at| *at <= now) {
            self.send(calls::reconcile(self.fw(), []));
            self.implicit_at = self.config.implicit_reconcile.map(|every| at.max(now).saturating_add(every));
        }
        if self.scheduler.pool().next_expiry().is_some_and(|at| at <= now) {
            self.schedule_at = Some(now);
        }
        if self.tasks.wake(now) {
            // Tasks whose retry backoff is over: place them (and REVIVE if suppressed).
            self.request_pass(now);
        }
        self.run_due(now);
    }

    /// Adds a task to place; it is reported [`TaskState::Pending`]. A task with the id of one
    /// adopted from an earlier scheduler (running, not submitted here) is that task: it stays
    /// where it runs and its spec gives it a group, resources and claims for later passes.
    ///
    /// A task with [`TaskRequest::after`] is held (not placed) until those tasks finished;
    /// each must have been submitted before. See `waits.rs` for how failures propagate.
    pub fn submit(&mut self, request: TaskRequest, now: Duration) -> Result<(), SubmitError> {
        if self.link == Link::Stopped || self.teardown.is_some() {
            return Err(SubmitError::Stopped);
        }
        let Some(request) = self.admit(request)? else {
            self.run_due(now);
            return Ok(());
        };
        let (id, waited) = (request.spec.id.clone(), !request.after.is_empty());
        let update = match self.tasks.submit(request, now) {
            Ok(update) => update,
            Err(error) => {
                if waited {
                    // The graph took it (released at once): it fails there too.
                    self.refused(&id);
                }
                return Err(error);
            }
        };
        self.updates.push_back(Update::Task(update));
        self.request_pass(now);
        self.run_due(now);
        Ok(())
    }

    /// Kills a task: a pending one is dropped at once (reported killed), a launched or running
    /// one gets a KILL now (if subscribed) and after every re-subscription until it ends.
    pub fn kill(&mut self, task: &TaskId, now: Duration) -> Result<(), KillError> {
        if self.link == Link::Stopped {
            return Err(KillError::Stopped);
        }
        match self.tasks.kill(task) {
            KillStep::Unknown if self.kill_held(task) => {}
            KillStep::Unknown => return Err(KillError::UnknownTask(task.clone())),
            KillStep::Removed(update) => {
                self.push_task(update);
                self.request_pass(now);
            }
            KillStep::Send(mesos, agent) => {
                if self.is_subscribed() {
                    self.send(calls::kill(self.fw(), &mesos, agent.as_ref()));
                }
            }
        }
        self.run_due(now);
        Ok(())
    }

    /// Stops the session. [`StopMode::Failover`] disconnects at once and leaves the tasks
    /// running; [`StopMode::Teardown`] sends TEARDOWN (after re-subscribing, or after the first
    /// subscription in progress completes) and stops when the master has answered; a session that
    /// never subscribed stops at once. Tasks that were never launched are reported killed.
    pub fn stop(&mut self, mode: StopMode) {
        if self.link == Link::Stopped {
            return;
        }
        let subscribing = matches!(self.link, Link::Connecting | Link::Connected { .. });
        match mode {
            // Known to the master (or about to be): tear down once subscribed.
            StopMode::Teardown if self.framework_id.is_some() || subscribing => {
                if self.teardown.is_none() {
                    self.teardown = Some(None);
                    self.send_teardown();
                }
            }
            _ => self.finish(StopReason::Requested(mode)),
        }
    }

    pub(super) fn send_teardown(&mut self) {
        if self.teardown == Some(None) && self.is_subscribed() {
            let id = self.send(calls::teardown(self.fw()));
            self.teardown = Some(Some(id));
        }
    }

    /// Ends the session, reporting the tasks this ending kills.
    pub(super) fn finish(&mut self, reason: StopReason) {
        let all = reason == StopReason::Requested(StopMode::Teardown);
        let message = if all { "framework torn down" } else { "session stopped before the task was launched" };
        self.end_held(message);
        for update in self.tasks.end_all(all, message) {
            self.push_task(update);
        }
        self.link = Link::Stopped;
        // Every offer goes, however long it was held.
        self.scheduler.clear_offers(Duration::MAX);
        self.offers.clear();
        self.actions.push_back(Action::Disconnect);
        self.actions.push_back(Action::Stopped);
        self.updates.push_back(Update::Stopped(reason));
    }

    fn connect(&mut self, now: Duration) {
        self.link = Link::Connecting;
        self.last_heard = now;
        self.heartbeat = DEFAULT_HEARTBEAT;
        let subscribe = self.subscribe_action();
        self.actions.push_back(subscribe);
    }

    /// The subscription is gone: offers die with it; reconnect after backoff.
    pub(super) fn lose_link(&mut self, now: Duration, reason: String) {
        if self.link == Link::Stopped {
            return;
        }
        if self.teardown.is_some() && self.framework_id.is_none() {
            // The first subscription never completed: there is nothing to tear down.
            return self.finish(StopReason::Requested(StopMode::Teardown));
        }
        let delay = self.config.reconnect.delay(self.reconnects, &mut self.rng);
        self.reconnects = self.reconnects.saturating_add(1);
        self.link = Link::Waiting { at: now.saturating_add(delay) };
        self.scheduler.clear_offers(now);
        self.offers.clear();
        self.schedule_at = None;
        self.implicit_at = None;
        self.reconciliation = Reconciliation::default();
        self.suppressed = false;
        self.updates.push_back(Update::Disconnected { reason });
        self.requests_lost(now);
    }

    /// An ACCEPT failed: its tasks go back to pending when it certainly was not processed, and
    /// are reconciled when that is unknown.
    fn launch_failed(&mut self, id: CallId, outcome: &CallOutcome, now: Duration) {
        let tasks = self.tasks.launched_by(id);
        for task in tasks {
            let update = match outcome {
                CallOutcome::Unavailable(_) => {
                    self.reconciliation.remaining.insert(self.tasks.mesos_id(&task));
                    continue;
                }
                CallOutcome::Rejected { status, message } => {
                    self.tasks.relaunch(&task, true, &format!("launch rejected ({status}): {message}"))
                }
                _ => self.tasks.relaunch(&task, false, "launch was not sent; placing again"),
            };
            if let Some(update) = update {
                self.push_task(update);
            }
        }
        if !self.reconciliation.remaining.is_empty() && self.reconciliation.retry_at.is_none() && self.is_subscribed() {
            self.reconciliation.retry_at = Some(now.saturating_add(self.config.reconcile.delay(0, &mut self.rng)));
        }
        self.request_pass(now);
    }

    /// Declines the offers of an `ACCEPT` the master may not have carried out, or of a
    /// `DECLINE` that did not reach it. Mesos keeps an offer outstanding (and its resources
    /// away from every framework) until it is used, declined or rescinded, and by default it
    /// never times offers out; a `DECLINE` of an offer it already consumed is ignored, so
    /// declining is right either way. Offers of a call that was never sent, or was cut off with
    /// the stream, need nothing: the master rescinds a framework's offers when it disconnects.
    fn settle_offers(&mut self, sent: &Sent, outcome: &CallOutcome) {
        let unsettled = matches!(
            (sent.kind, outcome),
            (CallKind::Accept, CallOutcome::Unavailable(_) | CallOutcome::Rejected { .. })
                | (CallKind::Decline, CallOutcome::Unavailable(_))
        );
        if unsettled && !sent.offers.is_empty() && self.is_subscribed() {
            // The offers of an ACCEPT were wanted (its tasks are placed again): no refuse filter;
            // a DECLINE is sent again as it was.
            let refuse = match sent.kind {
                CallKind::Accept => 0.0,
                _ => sent.refuse.unwrap_or(self.config.refuse_seconds),
            };
            self.send(calls::decline(self.fw(), &sent.offers, refuse));
        }
    }

    /// Sends the next explicit reconciliation round for the tasks that have not answered.
    pub(super) fn reconcile_round(&mut self, now: Duration) {
        let remaining: Vec<(TaskId, Option<crate::model::AgentId>)> = self
            .reconciliation
            .remaining
            .iter()
            .filter(|task| self.tasks.is_current(task))
            .map(|task| (task.clone(), self.tasks.agent(task).cloned()))
            .collect();
        self.reconciliation.remaining = remaining.iter().map(|(task, _)| task.clone()).collect();
        if remaining.is_empty() {
            self.reconciliation = Reconciliation::default();
            return;
        }
        self.send(calls::reconcile(self.fw(), remaining.iter().map(|(t, a)| (t, a.as_ref()))));
        let delay = self.config.reconcile.delay(self.reconciliation.round, &mut self.rng);
        self.reconciliation.round = self.reconciliation.round.saturating_add(1);
        self.reconciliation.retry_at = Some(now.saturating_add(delay));
    }

    /// Hands a call to the driver.
    pub(super) fn send(&mut self, call: Call) -> CallId {
        let id = CallId(self.next_call);
        self.next_call += 1;
        let offers = match (&call.accept, &call.decline) {
            (Some(accept), _) => &accept.offer_ids,
            (None, Some(decline)) => &decline.offer_ids,
            (None, None) => &Vec::new(),
        };
        let offers = offers.iter().map(|id| OfferId::new(id.value.as_str())).collect();
        let refuse = call.decline.as_ref().and_then(|d| d.filters.as_ref()?.refuse_seconds);
        self.sent.insert(id, Sent { kind: CallKind::of(&call), offers, refuse });
        self.hand_out_call(id, call);
        id
    }

    /// The framework id for calls (only used while subscribed, when it is always set).
    pub(super) fn fw(&self) -> &str {
        self.framework_id.as_deref().unwrap_or_default()
    }

    /// Asks for a scheduling pass after the configured delay.
    pub(super) fn request_pass(&mut self, now: Duration) {
        let at = now.saturating_add(self.config.schedule_delay);
        self.schedule_at = Some(self.schedule_at.map_or(at, |old| old.min(at)));
    }

    /// Runs the scheduling pass if it is due.
    pub(super) fn run_due(&mut self, now: Duration) {
        self.submit_released(now);
        if self.is_subscribed() && self.schedule_at.is_some_and(|at| at <= now) {
            self.run_pass(now);
        }
    }

    /// Reports a task update, then [`Update::GaveUp`] for every task it (or an earlier
    /// change) gave up.
    pub(super) fn push_task(&mut self, update: TaskUpdate) {
        // A terminal update with the task gone from the tracker is its final end.
        let ended = update.state.is_terminal() && self.tasks.phase(&update.task_id).is_none();
        let (id, state) = (update.task_id.clone(), update.state);
        for p in self.tasks.take_preempted() {
            self.updates.push_back(Update::Preempted { task: p.task, by: p.by, agent_id: p.agent_id, state: p.state });
        }
        self.updates.push_back(Update::Task(update));
        for (task, attempts, last_state) in self.tasks.take_gave_up() {
            self.updates.push_back(Update::GaveUp { task, attempts, last_state });
        }
        self.follow_gangs(&id, state);
        if ended {
            self.ended(&id, state);
        }
    }
}
