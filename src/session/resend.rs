//! Where requests go and when they are sent again: the session's policy for redirects, call
//! retries and the choice of master, so that the driver only carries out actions.
//!
//! # Where
//!
//! Every [`Action::Subscribe`], [`Action::Send`] and [`Action::Query`] names its endpoint. A
//! SUBSCRIBE goes to the known leader, else to the next configured master (see
//! [`Masters`](super::masters::Masters)); calls and operator reads go to the leader.
//!
//! # Redirects
//!
//! The driver reports a `307` as [`CallOutcome::Redirect`]. The session sends the same request
//! again, at once, to the host and port the `Location` names (keeping the configured path), up
//! to [`MAX_REDIRECTS`] times per request; then the request has failed
//! ([`CallOutcome::Unavailable`]). A redirected SUBSCRIBE that opens the stream, or a redirected
//! call or read that is answered, makes its master the leader.
//!
//! # Retries
//!
//! A call or operator read that meets [`CallOutcome::Unavailable`] (503, 429, other transient
//! 5xx, 404 while the master installs its routes, or no connection) is handed out again under
//! the same [`CallId`] after a delay from [`SessionConfig::call_retry`](super::SessionConfig::call_retry):
//! after the `n`-th failure, `min(backoff × multiplier^(n-1), max_backoff)` scaled by a factor
//! drawn uniformly from `[1 - jitter, 1 + jitter]` with the session's seeded generator (the
//! contract of [`RetryPolicy::delay`](super::RetryPolicy::delay)). By default 4 attempts in
//! all, 250 ms doubling, ±20 %. Only once its attempts are spent does the rest of the session
//! hear of the failure, exactly once (warnings, relaunch or reconciliation, declines).
//!
//! While a request waits out its delay it is nowhere in the driver, so it holds up no other
//! call; it may therefore be overtaken. Two consequences are handled here:
//! - a SUPPRESS or REVIVE that fails is dropped, never retried nor reported, once a newer SUPPRESS
//!   or REVIVE has been handed out (the newer one states what the session wants; the old one
//!   arriving late would undo it);
//! - a request waiting when the subscription is lost is reported at once with its last failure,
//!   as one in flight would be: nothing is sent again on a newer stream.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use super::calls;
use super::machine::Session;
use super::masters::{Endpoint, MAX_REDIRECTS};
use super::{Action, CallId, CallKind, CallOutcome, OperatorQuery, QueryAnswer};
use crate::mesos::v1::scheduler::Call;
use prost::Message;

/// What was handed out. A call is kept encoded (protobuf): a backlog of acknowledgements can
/// be tens of thousands deep, and a few dozen bytes each is what it costs then.
#[derive(Clone, Debug)]
enum Request {
    Call(Box<[u8]>),
    Query(OperatorQuery),
}

/// A request handed out and not settled yet.
#[derive(Clone, Debug)]
struct Flight {
    request: Request,
    /// The scheduler endpoint it went to (a read goes to the operator API beside it).
    endpoint: Endpoint,
    /// The subscription it belongs to ([`Masters::epoch`](super::masters::Masters::epoch)).
    epoch: u64,
    /// Attempts that failed so far.
    failures: u32,
    /// Redirects followed so far.
    redirects: u32,
    /// The outcome of the last failed attempt, reported if the request is settled while waiting.
    last: Option<CallOutcome>,
}

/// The requests in flight or waiting to be sent again.
#[derive(Clone, Debug, Default)]
pub(super) struct Resend {
    flights: BTreeMap<CallId, Flight>,
    /// Requests waiting out their retry delay, by the time they are due (a storm of 503s can
    /// leave thousands waiting: the next due is the first, not a scan).
    waiting: BTreeSet<(Duration, CallId)>,
    /// When each waiting request is due.
    due_at: BTreeMap<CallId, Duration>,
    /// The latest SUPPRESS or REVIVE handed out.
    suppression: Option<CallId>,
}

impl Resend {
    /// When the next waiting request is due.
    pub(super) fn next_due(&self) -> Option<Duration> {
        self.waiting.first().map(|(at, _)| *at)
    }
}

impl Session {
    /// Hands a call to the driver, addressed to the leader.
    pub(super) fn hand_out_call(&mut self, id: CallId, call: Call) {
        if matches!(CallKind::of(&call), CallKind::Suppress | CallKind::Revive) {
            if let Some(old) = self.resend.suppression.replace(id) {
                if let Some(at) = self.resend.due_at.remove(&old) {
                    self.resend.waiting.remove(&(at, old));
                    self.resend.flights.remove(&old);
                    self.sent.remove(&old);
                }
            }
        }
        let request = Request::Call(call.encode_to_vec().into_boxed_slice());
        self.hand_out(id, request, Some(call));
    }

    /// Hands an operator API read to the driver, addressed to the leader's operator API.
    pub(super) fn hand_out_query(&mut self, id: CallId, query: OperatorQuery) {
        self.hand_out(id, Request::Query(query), None);
    }

    fn hand_out(&mut self, id: CallId, request: Request, call: Option<Call>) {
        let endpoint = self.masters.leader().clone();
        let flight = Flight { request, endpoint, epoch: self.masters.epoch(), failures: 0, redirects: 0, last: None };
        self.send_flight(id, flight, call);
    }

    /// Pushes the action that (re-)sends `flight` and keeps it in flight; `call` is the call it
    /// holds, when at hand (else it is decoded from the flight).
    fn send_flight(&mut self, id: CallId, flight: Flight, call: Option<Call>) {
        let action = match (&flight.request, call) {
            (Request::Call(_), Some(call)) => Action::Send(id, call, flight.endpoint.clone()),
            (Request::Call(bytes), None) => match Call::decode(&bytes[..]) {
                Ok(call) => Action::Send(id, call, flight.endpoint.clone()),
                // Encoded here from a valid call: cannot fail; settled as unsent if it did.
                Err(_) => return self.settle(id, flight, Duration::ZERO),
            },
            (Request::Query(query), _) => Action::Query(id, *query, flight.endpoint.operator()),
        };
        self.actions.push_back(action);
        self.resend.flights.insert(id, flight);
    }

    /// The SUBSCRIBE action of a new subscription, addressed by the master choice.
    pub(super) fn subscribe_action(&mut self) -> Action {
        let call = calls::subscribe(&self.config, self.framework_id.as_deref());
        Action::Subscribe(call, self.masters.subscribe())
    }

    /// Screens the outcome of the SUBSCRIBE in progress: a redirect is followed (`None`: the
    /// subscription goes on); anything else, or a redirect not followed, is for the caller.
    pub(super) fn screen_subscribe_failed(&mut self, outcome: CallOutcome) -> Option<CallOutcome> {
        let CallOutcome::Redirect { location } = outcome else {
            return Some(outcome);
        };
        match self.masters.subscribe_redirect(&location) {
            Some(target) => {
                let call = calls::subscribe(&self.config, self.framework_id.as_deref());
                self.actions.push_back(Action::Subscribe(call, target));
                None
            }
            None => Some(not_followed(&location)),
        }
    }

    /// Screens a call's outcome: `None` when the session sends it again (redirect, retry) or
    /// drops it (a superseded SUPPRESS or REVIVE); otherwise the outcome to settle it with.
    pub(super) fn screen_call_result(
        &mut self,
        id: CallId,
        outcome: CallOutcome,
        now: Duration,
    ) -> Option<CallOutcome> {
        let superseded = self.resend.suppression.is_some_and(|latest| latest != id)
            && self.sent.get(&id).is_some_and(|s| matches!(s.kind, CallKind::Suppress | CallKind::Revive));
        if superseded && !matches!(outcome, CallOutcome::Accepted | CallOutcome::NotSubscribed) {
            self.resend.flights.remove(&id);
            self.sent.remove(&id);
            return None;
        }
        self.screen(id, outcome, now)
    }

    /// Screens an operator read's result, as [`screen_call_result`](Self::screen_call_result).
    pub(super) fn screen_query_result(
        &mut self,
        id: CallId,
        result: Result<QueryAnswer, CallOutcome>,
        now: Duration,
    ) -> Option<Result<QueryAnswer, CallOutcome>> {
        match result {
            Ok(answer) => self.screen(id, CallOutcome::Accepted, now).map(|_| Ok(answer)),
            Err(outcome) => self.screen(id, outcome, now).map(Err),
        }
    }

    fn screen(&mut self, id: CallId, outcome: CallOutcome, now: Duration) -> Option<CallOutcome> {
        let Some(mut flight) = self.resend.flights.remove(&id) else {
            return Some(outcome);
        };
        let live = self.is_subscribed() && flight.epoch == self.masters.epoch();
        match outcome {
            CallOutcome::Accepted => {
                if live && flight.redirects > 0 {
                    self.masters.leader_is(flight.endpoint);
                }
                Some(CallOutcome::Accepted)
            }
            CallOutcome::Redirect { location } => {
                let target = flight.endpoint.redirect(&location).filter(|_| live && flight.redirects < MAX_REDIRECTS);
                let Some(target) = target else {
                    return Some(not_followed(&location));
                };
                flight.redirects += 1;
                flight.endpoint = target;
                self.send_flight(id, flight, None);
                None
            }
            CallOutcome::Unavailable(_) if live && flight.failures + 1 < self.config.call_retry.attempts => {
                flight.failures += 1;
                let delay = self.config.call_retry.delay(flight.failures, &mut self.rng);
                flight.last = Some(outcome);
                let at = now.saturating_add(delay);
                self.resend.waiting.insert((at, id));
                self.resend.due_at.insert(id, at);
                self.resend.flights.insert(id, flight);
                None
            }
            other => Some(other),
        }
    }

    /// Timer: sends again every request whose retry delay is over.
    pub(super) fn resend_due(&mut self, now: Duration) {
        while let Some(&(at, id)) = self.resend.waiting.first().filter(|(at, _)| *at <= now) {
            self.resend.waiting.remove(&(at, id));
            self.resend.due_at.remove(&id);
            let Some(flight) = self.resend.flights.remove(&id) else {
                continue;
            };
            if self.is_subscribed() && flight.epoch == self.masters.epoch() {
                self.send_flight(id, flight, None);
            } else {
                self.settle(id, flight, now);
            }
        }
    }

    /// The subscription is gone: the master choice moves on, requests waiting to be sent again
    /// are settled with their last failure, and those in flight are left to the driver's report.
    pub(super) fn requests_lost(&mut self, now: Duration) {
        self.masters.failed();
        let waiting = std::mem::take(&mut self.resend.due_at);
        self.resend.waiting.clear();
        let mut flights = std::mem::take(&mut self.resend.flights);
        self.resend.suppression = None;
        for id in waiting.into_keys() {
            if let Some(flight) = flights.remove(&id) {
                self.settle(id, flight, now);
            }
        }
    }

    /// Reports a request that will not be sent again to the rest of the session.
    fn settle(&mut self, id: CallId, flight: Flight, now: Duration) {
        let outcome = flight.last.unwrap_or(CallOutcome::NotSent);
        match flight.request {
            Request::Call(_) => self.handle_call_result(id, outcome, now),
            Request::Query(_) => self.handle_query_result(id, Err(outcome), now),
        }
    }
}

/// The outcome of a `307` the session does not follow.
fn not_followed(location: &str) -> CallOutcome {
    CallOutcome::Unavailable(format!(
        "307 to {location:?} not followed (no host, or {MAX_REDIRECTS} redirects already)"
    ))
}
