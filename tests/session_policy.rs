//! Whole-session scenarios of the protocol policy the session holds and the driver only carries
//! out: call retries with seeded jittered backoff, 307 redirects, and the choice of master, on a
//! virtual clock.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use std::time::Duration;

use harness::*;
use offerpack::session::{
    CallId, CallKind, CallOutcome, CommandSpec, Endpoint, OperatorQuery, SessionConfig, TaskRequest, TaskState, Update,
    Warning, MAX_REDIRECTS,
};
use offerpack::TaskSpec;

const BASE: Duration = Duration::from_millis(100);
const JITTER: f64 = 0.2;
const ATTEMPTS: u32 = 4;

fn endpoint(address: &str) -> Endpoint {
    Endpoint::parse(address).unwrap()
}

/// Retries on (4 attempts, 100 ms doubling, ±20 %), masters m1, m2, m3.
fn policy_config(seed: u64) -> SessionConfig {
    let mut config = config();
    config.seed = seed;
    config.masters = ["m1:5050", "m2:5050", "m3:5050"].map(endpoint).to_vec();
    config.call_retry.attempts = ATTEMPTS;
    config.call_retry.backoff = BASE;
    config.call_retry.jitter = JITTER;
    config
}

fn subscribed(config: SessionConfig) -> Harness {
    let mut h = Harness::new(config);
    h.advance(Duration::ZERO);
    h.open_stream("fw-1");
    h
}

/// A subscribed harness whose task t-1 has its ACCEPT handed out (and not answered).
fn accepting(config: SessionConfig) -> (Harness, CallId) {
    let mut h = subscribed(config);
    let spec = TaskSpec::builder("t-1", "batch").scalar("cpus", 1.0).scalar("mem", 64.0).build().unwrap();
    h.session.submit(TaskRequest::command(spec, CommandSpec::shell("sleep 10")), h.now).unwrap();
    h.drain();
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let id = accept_id(&h).expect("an ACCEPT is handed out");
    (h, id)
}

fn accept_id(h: &Harness) -> Option<CallId> {
    h.calls.iter().find(|(_, c)| CallKind::of(c) == CallKind::Accept).map(|(id, _)| *id)
}

/// Answers the unanswered call `id` with `outcome`.
fn answer_call(h: &mut Harness, id: CallId, outcome: CallOutcome) {
    h.calls.retain(|(sent, _)| *sent != id);
    h.session.handle_call_result(id, outcome, h.now);
    h.drain();
}

/// Moves the clock 1 ms at a time until call `id` is handed out again; how long that took.
fn wait_for_resend(h: &mut Harness, id: CallId, limit: Duration) -> Option<Duration> {
    let start = h.now;
    while h.now - start <= limit {
        if h.calls.iter().any(|(sent, _)| *sent == id) {
            return Some(h.now - start);
        }
        h.advance(MS);
    }
    None
}

fn call_failures(h: &Harness) -> Vec<CallOutcome> {
    let failed = |u: &Update| match u {
        Update::Warning(Warning::CallFailed { kind: CallKind::Accept, outcome }) => Some(outcome.clone()),
        _ => None,
    };
    h.updates.iter().filter_map(failed).collect()
}

/// The delays before each resend of an ACCEPT answered 503 every time, and the harness after.
fn storm(seed: u64) -> (Vec<Duration>, Harness, CallId) {
    let (mut h, id) = accepting(policy_config(seed));
    let mut delays = Vec::new();
    for _ in 1..ATTEMPTS {
        answer_call(&mut h, id, CallOutcome::Unavailable("503: no leader".into()));
        assert!(call_failures(&h).is_empty(), "a failure with retries left is not reported");
        assert!(h.take(CallKind::Decline).is_empty(), "nor are its offers declined");
        delays.push(wait_for_resend(&mut h, id, Duration::from_secs(5)).expect("the ACCEPT is sent again"));
    }
    answer_call(&mut h, id, CallOutcome::Unavailable("503: no leader".into()));
    (delays, h, id)
}

#[test]
fn session_policy_retries_a_503_call_after_jittered_backoff() {
    let (delays, mut h, id) = storm(7);
    assert_eq!(delays.len() as u32, ATTEMPTS - 1);
    for (n, delay) in delays.iter().enumerate() {
        let step = BASE * (1 << n);
        // One virtual millisecond of slack: the clock moves in whole milliseconds.
        let (low, high) = (step.mul_f64(1.0 - JITTER), step.mul_f64(1.0 + JITTER) + MS);
        assert!(*delay >= low && *delay <= high, "retry {n}: {delay:?} not in [{low:?}, {high:?}]");
    }
    assert_eq!(storm(7).0, delays, "same seed, same delays");
    assert_ne!(storm(8).0, delays, "the delays come from the seed");
    // Spent: the failure reaches the task logic once, and the ACCEPT is not sent again.
    assert_eq!(call_failures(&h), [CallOutcome::Unavailable("503: no leader".into())]);
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Launched), "its fate is reconciled");
    let declines = h.take(CallKind::Decline);
    assert_eq!(declines.iter().map(offer_ids).collect::<Vec<_>>(), [vec!["o-1".to_owned()]]);
    assert_eq!(wait_for_resend(&mut h, id, Duration::from_secs(2)), None);
}

#[test]
fn session_policy_retries_an_operator_read_at_the_leaders_operator_api() {
    let mut config = policy_config(3);
    config.framework_id = Some("fw-1".into());
    let mut h = subscribed(config);
    let (id, query) = h.queries[0];
    assert_eq!(query, OperatorQuery::GetTasks);
    let target = h.targets.iter().find(|(sent, _)| *sent == id).map(|(_, e)| e.url());
    assert_eq!(target.as_deref(), Some("http://m1:5050/api/v1"));
    h.queries.clear();
    h.session.handle_query_result(id, Err(CallOutcome::Unavailable("503".into())), h.now);
    h.drain();
    assert!(h.queries.is_empty());
    h.advance(BASE.mul_f64(1.0 - JITTER) - MS);
    assert!(h.queries.is_empty(), "not before the jittered delay");
    h.advance(BASE.mul_f64(2.0 * JITTER) + MS * 2);
    assert_eq!(h.queries, [(id, OperatorQuery::GetTasks)], "the same read, again");
}

#[test]
fn session_policy_call_waiting_to_be_resent_is_settled_once_when_the_link_is_lost() {
    let (mut h, id) = accepting(policy_config(5));
    answer_call(&mut h, id, CallOutcome::Unavailable("503".into()));
    h.session.handle_disconnected(h.now);
    h.drain();
    assert_eq!(call_failures(&h), [CallOutcome::Unavailable("503".into())]);
    h.advance(Duration::from_secs(1));
    h.open_stream("fw-1");
    assert_eq!(wait_for_resend(&mut h, id, Duration::from_secs(2)), None, "nothing is resent on a new stream");
    assert_eq!(call_failures(&h).len(), 1);
}

#[test]
fn session_policy_follows_a_307_and_makes_its_target_the_leader() {
    let (mut h, id) = accepting(policy_config(1));
    assert_eq!(h.targets.last(), Some(&(id, endpoint("m1:5050"))));
    answer_call(&mut h, id, CallOutcome::Redirect { location: "//m2:5051/master/api/v1/scheduler".into() });
    assert!(h.calls.iter().any(|(sent, _)| *sent == id), "the ACCEPT is sent again at once");
    // The configured path is kept; host and port come from the Location.
    assert_eq!(h.targets.last(), Some(&(id, endpoint("http://m2:5051/api/v1/scheduler"))));
    answer_call(&mut h, id, CallOutcome::Accepted);
    assert!(call_failures(&h).is_empty());
    h.event(update("t-1", "a-1", offerpack::mesos::v1::TaskState::TaskRunning, Some(1)));
    let (ack, _) = h.calls.last().cloned().expect("an acknowledgement");
    assert_eq!(h.targets.last(), Some(&(ack, endpoint("m2:5051"))), "the answering master leads");
}

#[test]
fn session_policy_follows_a_subscribe_redirect() {
    let mut h = Harness::new(policy_config(1));
    h.advance(Duration::ZERO);
    assert_eq!(h.subscribe_targets, [endpoint("m1:5050")]);
    h.session.handle_subscribe_failed(CallOutcome::Redirect { location: "//m3:5050".into() }, h.now);
    h.drain();
    assert_eq!(h.subscribe_targets, [endpoint("m1:5050"), endpoint("m3:5050")]);
    assert!(!h.updates.iter().any(|u| matches!(u, Update::Disconnected { .. })), "still subscribing");
    h.open_stream("fw-1");
    let spec = TaskSpec::builder("t-1", "batch").scalar("cpus", 1.0).build().unwrap();
    h.session.submit(TaskRequest::command(spec, CommandSpec::shell("true")), h.now).unwrap();
    h.advance(MS * 10);
    let (revive, _) = h.calls.last().cloned().expect("a REVIVE for the pending task");
    assert_eq!(h.targets.last(), Some(&(revive, endpoint("m3:5050"))), "calls go where the stream opened");
}

#[test]
fn session_policy_bounds_redirects() {
    let (mut h, id) = accepting(policy_config(1));
    for hop in 0..MAX_REDIRECTS {
        answer_call(&mut h, id, CallOutcome::Redirect { location: format!("//r{hop}:5050") });
        assert_eq!(h.targets.last(), Some(&(id, endpoint(&format!("r{hop}:5050")))));
    }
    answer_call(&mut h, id, CallOutcome::Redirect { location: "//loop:5050".into() });
    assert!(!h.calls.iter().any(|(sent, _)| *sent == id), "not followed any further");
    let failures = call_failures(&h);
    assert!(matches!(&failures[..], [CallOutcome::Unavailable(m)] if m.contains("loop")), "{failures:?}");

    let mut h = Harness::new(policy_config(1));
    h.advance(Duration::ZERO);
    for hop in 0..=MAX_REDIRECTS {
        h.session.handle_subscribe_failed(CallOutcome::Redirect { location: format!("//s{hop}:5050") }, h.now);
        h.drain();
    }
    assert_eq!(h.subscribe_targets.len() as u32, 1 + MAX_REDIRECTS);
    assert!(h.updates.iter().any(|u| matches!(u, Update::Disconnected { .. })), "the subscription failed");
}

#[test]
fn session_policy_rotates_masters_after_failures_and_keeps_the_leader() {
    let mut h = Harness::new(policy_config(1));
    let fail = |h: &mut Harness| {
        h.advance(Duration::from_secs(20));
        h.session.handle_subscribe_failed(CallOutcome::Unavailable("connection refused".into()), h.now);
        h.drain();
    };
    for _ in 0..4 {
        fail(&mut h);
    }
    let names: Vec<&str> = h.subscribe_targets.iter().map(Endpoint::authority).collect();
    assert_eq!(names, ["m1:5050", "m2:5050", "m3:5050", "m1:5050"], "round robin");
    h.advance(Duration::from_secs(20));
    h.open_stream("fw-1");
    assert_eq!(h.subscribe_targets.last().unwrap().authority(), "m2:5050");
    // The stream breaks: the same master is tried once more, then the next.
    h.session.handle_disconnected(h.now);
    fail(&mut h);
    fail(&mut h);
    let names: Vec<&str> = h.subscribe_targets[5..].iter().map(Endpoint::authority).collect();
    assert_eq!(names, ["m2:5050", "m3:5050"]);
}

#[test]
fn session_policy_decline_sent_again_keeps_its_filter() {
    // Without call retries, so that each failure is final at once.
    let (mut h, id) = accepting(config());
    answer_call(&mut h, id, CallOutcome::Unavailable("503".into()));
    let filters = |calls: &[offerpack::mesos::v1::scheduler::Call]| -> Vec<Option<f64>> {
        calls.iter().map(|c| c.decline.as_ref().and_then(|d| d.filters?.refuse_seconds)).collect()
    };
    let first = h.answer(CallKind::Decline, CallOutcome::Unavailable("503".into()));
    assert_eq!(filters(&first), [Some(0.0)], "the failed ACCEPT's offers, unfiltered");
    let again = h.take(CallKind::Decline);
    assert_eq!(filters(&again), [Some(0.0)], "sent again as it was");
    assert_eq!(again.iter().map(offer_ids).collect::<Vec<_>>(), [vec!["o-1".to_owned()]]);
}
