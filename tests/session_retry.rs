//! Whole-session scenarios around task retries, on a virtual clock: a task that fails or is
//! lost goes back to pending and is launched again under a fresh Mesos id once its backoff is
//! over; a task out of attempts is given up; finished and killed tasks never come back.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use std::time::Duration;

use harness::*;
use offerpack::mesos::v1::scheduler::Call;
use offerpack::mesos::v1::task_status::Reason;
use offerpack::mesos::v1::TaskState as P;
use offerpack::model::TaskId;
use offerpack::session::{
    CallKind, CommandSpec, RetryPolicy, SessionConfig, SubmitError, TaskRequest, TaskState, Update,
};
use offerpack::TaskSpec;

fn request(id: &str) -> TaskRequest {
    let spec = TaskSpec::builder(id, "batch").scalar("cpus", 1.0).scalar("mem", 64.0).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("./work"))
}

/// A policy of `attempts` without jitter: delays of `first` × 2^n, capped at `cap`.
fn exact(attempts: u32, first: Duration, cap: Duration) -> RetryPolicy {
    RetryPolicy::attempts(attempts).with_backoff(first, cap).with_jitter(0.0)
}

fn subscribed_with(retry: RetryPolicy, seed: u64) -> Harness {
    let mut config: SessionConfig = config();
    config.retry = retry;
    config.seed = seed;
    let mut h = Harness::new(config);
    h.advance(Duration::ZERO);
    h.open_stream("fw-1");
    h.advance(MS * 20);
    h.accept_all();
    h
}

fn submit(h: &mut Harness, request: TaskRequest) {
    h.session.submit(request, h.now).unwrap();
    h.drain();
}

/// Offers one agent and runs the pass; returns the Mesos task ids launched.
fn offer_and_launch(h: &mut Harness, offer_id: &str, agent: &str) -> Vec<String> {
    h.event(offers(vec![offer(offer_id, agent, 4.0, 1024.0)]));
    h.advance(MS * 10);
    let launched: Vec<String> = h.take(CallKind::Accept).iter().flat_map(launched).collect();
    h.accept_all();
    launched
}

fn gave_up(h: &Harness) -> Vec<(String, u32, TaskState)> {
    let give_up = |u: &Update| match u {
        Update::GaveUp { task, attempts, last_state } => Some((task.to_string(), *attempts, *last_state)),
        _ => None,
    };
    h.updates.iter().filter_map(give_up).collect()
}

fn acked(calls: &[Call]) -> Vec<String> {
    calls.iter().filter_map(|c| c.acknowledge.as_ref()).map(|a| a.task_id.value.clone()).collect()
}

/// The launch fails and the task is placed again only at its ready time.
#[test]
fn session_retry_relaunches_a_failed_task_after_its_backoff_and_not_before() {
    let mut h = subscribed_with(exact(3, Duration::from_secs(1), Duration::from_secs(10)), 1);
    submit(&mut h, request("t-1"));
    h.advance(MS * 20);
    assert_eq!(offer_and_launch(&mut h, "o-1", "a-1"), ["t-1"]);
    h.event(update("t-1", "a-1", P::TaskRunning, Some(1)));
    h.event(update("t-1", "a-1", P::TaskFailed, Some(2)));
    let failed_at = h.now;
    assert_eq!(acked(&h.take(CallKind::Acknowledge)), ["t-1", "t-1"], "the first attempt runs as t-1");
    assert_eq!(h.states("t-1"), [TaskState::Pending, TaskState::Launched, TaskState::Running, TaskState::Pending]);
    let Some(Update::Task(back)) = h.updates.iter().rev().find(|u| matches!(u, Update::Task(_))) else { panic!() };
    let message = back.message.as_deref().unwrap_or_default();
    assert!(message.contains("attempt 1 of 3 ended Failed"), "{message}");
    assert_eq!(back.agent_id.as_ref().map(|a| a.as_str()), Some("a-1"));
    assert_eq!(h.session.task_state(&TaskId::new("t-1")), Some(TaskState::Pending));
    assert!(gave_up(&h).is_empty());

    h.advance(MS * 20);
    assert_eq!(h.take(CallKind::Suppress).len(), 1, "nothing placeable while the task waits");
    assert_eq!(h.session.poll_timeout(), Some(failed_at + Duration::from_secs(1)), "a timer at the ready time");
    h.advance(failed_at + MS * 900 - h.now);
    assert!(offer_and_launch(&mut h, "o-2", "a-2").is_empty(), "not placed before its ready time");
    assert_eq!(h.take(CallKind::Revive).len(), 0);

    h.advance(failed_at + Duration::from_secs(1) - h.now);
    h.advance(MS * 10);
    assert_eq!(h.take(CallKind::Revive).len(), 1, "offers are asked for again at the ready time");
    assert_eq!(offer_and_launch(&mut h, "o-3", "a-2"), ["t-1.retry-1"], "a fresh Mesos id for attempt 2");
    h.event(update("t-1.retry-1", "a-2", P::TaskRunning, Some(3)));
    h.event(update("t-1.retry-1", "a-2", P::TaskFinished, Some(4)));
    let acks = acked(&h.take(CallKind::Acknowledge));
    assert_eq!(acks, ["t-1.retry-1", "t-1.retry-1"], "acks name the attempt's Mesos id");
    let states = h.states("t-1");
    assert_eq!(states[4..], [TaskState::Launched, TaskState::Running, TaskState::Finished]);
    assert!(h.states("t-1.retry-1").is_empty(), "updates name the user's task id");
    assert!(gave_up(&h).is_empty(), "a finished task is not given up");
}

/// Delays double from the first one up to the cap; after the last attempt the task is given
/// up with its count and last state, right after its terminal update.
#[test]
fn session_retry_backoff_grows_is_capped_and_gives_up_when_attempts_run_out() {
    let mut h = subscribed_with(exact(5, MS * 100, MS * 300), 2);
    submit(&mut h, request("t-1"));
    h.advance(MS * 20);
    let mut delays = Vec::new();
    let mut mesos = offer_and_launch(&mut h, "o-0", "a-1");
    for attempt in 1..=5u32 {
        assert_eq!(mesos.len(), 1, "attempt {attempt} launched");
        h.event(update(&mesos[0], "a-1", P::TaskFailed, Some(attempt as u8)));
        if attempt == 5 {
            break;
        }
        let failed_at = h.now;
        h.advance(MS * 20);
        let ready = h.session.poll_timeout().expect("a ready time");
        delays.push((ready - failed_at).as_millis());
        h.advance(ready - h.now + MS * 10);
        mesos = offer_and_launch(&mut h, &format!("o-{attempt}"), "a-1");
        assert_eq!(mesos, [format!("t-1.retry-{attempt}")]);
    }
    assert_eq!(delays, [100, 200, 300, 300]);
    assert_eq!(gave_up(&h), [("t-1".to_owned(), 5, TaskState::Failed)]);
    let n = h.updates.len();
    assert!(
        matches!(&h.updates[n - 2], Update::Task(t) if t.state == TaskState::Failed && t.task_id.as_str() == "t-1")
    );
    assert!(matches!(&h.updates[n - 1], Update::GaveUp { .. }), "GaveUp follows the terminal update");
    assert_eq!(h.session.task_state(&TaskId::new("t-1")), Some(TaskState::Failed));
    h.advance(MS * 20);
    assert!(offer_and_launch(&mut h, "o-9", "a-1").is_empty(), "never launched again");
}

/// The jittered delay stays within ±jitter of the base delay and depends only on the seed.
#[test]
fn session_retry_jitter_is_bounded_and_deterministic_for_a_seed() {
    let delay = |seed: u64| {
        let policy =
            RetryPolicy::attempts(2).with_backoff(Duration::from_secs(1), Duration::from_secs(1)).with_jitter(0.5);
        let mut h = subscribed_with(policy, seed);
        submit(&mut h, request("t-1"));
        h.advance(MS * 20);
        offer_and_launch(&mut h, "o-1", "a-1");
        h.event(update("t-1", "a-1", P::TaskFailed, Some(1)));
        let failed_at = h.now;
        h.advance(MS * 20);
        h.session.poll_timeout().expect("a ready time") - failed_at
    };
    let delays: Vec<Duration> = (0..8).map(delay).collect();
    for d in &delays {
        assert!(*d >= MS * 500 && *d <= MS * 1500, "{d:?}");
    }
    assert_eq!(delays, (0..8).map(delay).collect::<Vec<_>>(), "same seed, same delays");
    assert!(delays.iter().any(|d| *d != delays[0]), "the seed moves the delay: {delays:?}");
}

/// A task the framework killed is not retried, nor one that finished; a kill of a retried task
/// names its current attempt.
#[test]
fn session_retry_never_retries_killed_or_finished_tasks() {
    let mut h = subscribed_with(exact(3, MS * 100, MS * 100), 3);
    submit(&mut h, request("t-1"));
    submit(&mut h, request("t-2"));
    h.advance(MS * 20);
    let mut launched = offer_and_launch(&mut h, "o-1", "a-1");
    launched.sort();
    assert_eq!(launched, ["t-1", "t-2"]);
    h.event(update("t-1", "a-1", P::TaskFailed, Some(1)));
    h.event(update("t-2", "a-1", P::TaskRunning, Some(2)));
    h.event(update("t-2", "a-1", P::TaskFinished, Some(3)));
    h.advance(MS * 200);
    assert_eq!(offer_and_launch(&mut h, "o-2", "a-1"), ["t-1.retry-1"]);
    h.event(update("t-1.retry-1", "a-1", P::TaskRunning, Some(4)));

    h.session.kill(&TaskId::new("t-1"), h.now).unwrap();
    h.drain();
    let kills = h.take(CallKind::Kill);
    assert_eq!(kills[0].kill.as_ref().unwrap().task_id.value, "t-1.retry-1");
    h.event(update("t-1.retry-1", "a-1", P::TaskKilled, Some(5)));
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Killed));
    assert_eq!(h.states("t-2").last(), Some(&TaskState::Finished));
    assert!(gave_up(&h).is_empty(), "killed and finished are outcomes of their own");
    h.advance(Duration::from_secs(5));
    assert!(offer_and_launch(&mut h, "o-3", "a-1").is_empty(), "nothing is launched again");
}

/// A kill asked for before the task failed on its own: no retry, and the task is given up.
#[test]
fn session_retry_skips_a_task_whose_kill_was_asked_for() {
    let mut h = subscribed_with(exact(3, MS * 100, MS * 100), 4);
    submit(&mut h, request("t-1"));
    h.advance(MS * 20);
    offer_and_launch(&mut h, "o-1", "a-1");
    h.session.kill(&TaskId::new("t-1"), h.now).unwrap();
    h.drain();
    h.event(update("t-1", "a-1", P::TaskFailed, Some(1)));
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Failed));
    assert_eq!(gave_up(&h), [("t-1".to_owned(), 1, TaskState::Failed)]);
}

/// The agent is removed while the task runs: the master reports it lost and it is requeued,
/// then launched elsewhere.
#[test]
fn session_retry_requeues_a_task_lost_with_its_agent() {
    let mut h = subscribed_with(exact(2, MS * 100, MS * 100), 5);
    submit(&mut h, request("t-1"));
    h.advance(MS * 20);
    offer_and_launch(&mut h, "o-1", "a-1");
    h.event(update("t-1", "a-1", P::TaskRunning, Some(1)));
    h.event(failure("a-1"));
    h.event(master_update("t-1", P::TaskLost, Reason::AgentRemoved));
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Pending));
    assert!(h.updates.iter().any(|u| matches!(u, Update::AgentLost { .. })));
    h.advance(MS * 200);
    assert_eq!(offer_and_launch(&mut h, "o-2", "a-2"), ["t-1.retry-1"]);
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Launched));
}

/// TASK_ERROR is retried by the policy (it may depend on the placement); the default policy
/// retries nothing.
#[test]
fn session_retry_retries_error_by_policy_and_nothing_by_default() {
    let mut h = subscribed_with(exact(3, MS * 100, MS * 100), 6);
    submit(&mut h, request("t-1"));
    submit(&mut h, request("t-2").retry(RetryPolicy::default()));
    h.advance(MS * 20);
    offer_and_launch(&mut h, "o-1", "a-1");
    h.event(update("t-1", "a-1", P::TaskError, Some(1)));
    h.event(update("t-2", "a-1", P::TaskFailed, Some(2)));
    let mut ends = gave_up(&h);
    ends.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(ends, [("t-2".to_owned(), 1, TaskState::Failed)]);
    assert_eq!(h.session.task_state(&TaskId::new("t-1")), Some(TaskState::Pending));
    h.advance(Duration::from_secs(5));
    assert_eq!(offer_and_launch(&mut h, "o-2", "a-1"), ["t-1.retry-1"], "only t-1 comes back");
}

/// A late copy of the first attempt's terminal update is acknowledged and otherwise ignored.
#[test]
fn session_retry_ignores_late_updates_about_an_earlier_attempt() {
    let mut h = subscribed_with(exact(3, MS * 100, MS * 100), 7);
    submit(&mut h, request("t-1"));
    h.advance(MS * 20);
    offer_and_launch(&mut h, "o-1", "a-1");
    h.event(update("t-1", "a-1", P::TaskFailed, Some(1)));
    h.advance(MS * 200);
    assert_eq!(offer_and_launch(&mut h, "o-2", "a-1"), ["t-1.retry-1"]);
    let before = h.states("t-1");
    h.take(CallKind::Acknowledge);
    h.event(update("t-1", "a-1", P::TaskFailed, Some(1)));
    assert_eq!(acked(&h.take(CallKind::Acknowledge)), ["t-1"]);
    assert_eq!(h.states("t-1"), before, "the late copy changes nothing");
    assert_eq!(h.session.task_state(&TaskId::new("t-1")), Some(TaskState::Launched));
}

/// A request's own policy is checked; a bad one is refused at submission.
#[test]
fn session_retry_rejects_an_invalid_policy_at_submit() {
    let mut h = subscribed_with(RetryPolicy::default(), 8);
    let bad = request("t-1").retry(RetryPolicy::attempts(0));
    assert!(matches!(h.session.submit(bad, h.now), Err(SubmitError::InvalidRetry(_))));
    let mut config = config();
    config.retry.multiplier = 0.5;
    assert!(offerpack::session::Session::new(config).is_err());
}

/// After a re-subscription, explicit reconciliation asks about the current attempt's Mesos id.
#[test]
fn session_retry_reconciles_the_current_attempt_after_resubscribing() {
    let mut h = subscribed_with(exact(3, MS * 100, MS * 100), 9);
    submit(&mut h, request("t-1"));
    h.advance(MS * 20);
    offer_and_launch(&mut h, "o-1", "a-1");
    h.event(update("t-1", "a-1", P::TaskFailed, Some(1)));
    h.advance(MS * 200);
    assert_eq!(offer_and_launch(&mut h, "o-2", "a-2"), ["t-1.retry-1"]);
    h.event(update("t-1.retry-1", "a-2", P::TaskRunning, Some(2)));
    h.accept_all();
    h.session.handle_disconnected(h.now);
    h.drain();
    h.advance(Duration::from_secs(1));
    h.open_stream("fw-1");
    let reconciles = h.take(CallKind::Reconcile);
    let asked: Vec<(String, Option<String>)> = reconciles[0]
        .reconcile
        .as_ref()
        .unwrap()
        .tasks
        .iter()
        .map(|t| (t.task_id.value.clone(), t.agent_id.as_ref().map(|a| a.value.clone())))
        .collect();
    assert_eq!(asked, [("t-1.retry-1".to_owned(), Some("a-2".to_owned()))]);
    h.event(update("t-1.retry-1", "a-2", P::TaskFinished, Some(3)));
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Finished));
}

/// A kill while the task waits out its backoff ends it at once; it is never launched again.
#[test]
fn session_retry_kill_during_backoff_ends_the_task() {
    let mut h = subscribed_with(exact(3, Duration::from_secs(1), Duration::from_secs(1)), 10);
    submit(&mut h, request("t-1"));
    h.advance(MS * 20);
    offer_and_launch(&mut h, "o-1", "a-1");
    h.event(update("t-1", "a-1", P::TaskFailed, Some(1)));
    h.advance(MS * 20);
    let ready = h.session.poll_timeout().expect("a ready time");
    h.session.kill(&TaskId::new("t-1"), h.now).unwrap();
    h.drain();
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Killed));
    assert!(h.take(CallKind::Kill).is_empty(), "nothing runs: no KILL call");
    assert!(h.session.poll_timeout() != Some(ready), "the ready timer is gone");
    h.advance(Duration::from_secs(2));
    assert!(offer_and_launch(&mut h, "o-2", "a-1").is_empty());
    assert!(gave_up(&h).is_empty());
}

/// A bucket's policy applies to the tasks of that bucket whose request names none; a request's
/// own policy wins; tasks of other buckets follow the session's default (no retry).
#[test]
fn session_retry_follows_the_bucket_policy_unless_the_request_names_one() {
    let mut config: SessionConfig = config();
    config.bucket_retry.insert("batch".into(), exact(2, MS * 100, MS * 100));
    let mut h = Harness::new(config);
    h.advance(Duration::ZERO);
    h.open_stream("fw-1");
    h.advance(MS * 20);
    h.accept_all();
    submit(&mut h, request("b-1").queue(0, "batch"));
    submit(&mut h, request("b-2").queue(0, "batch").retry(RetryPolicy::attempts(1)));
    submit(&mut h, request("d-1"));
    h.advance(MS * 20);
    let mut launched = offer_and_launch(&mut h, "o-1", "a-1");
    launched.sort();
    assert_eq!(launched, ["b-1", "b-2", "d-1"]);
    for task in &launched {
        h.event(update(task, "a-1", P::TaskFailed, Some(1)));
    }
    assert_eq!(h.session.task_state(&TaskId::new("b-1")), Some(TaskState::Pending), "batch retries");
    let mut given_up: Vec<String> = gave_up(&h).into_iter().map(|(task, _, _)| task).collect();
    given_up.sort();
    assert_eq!(given_up, ["b-2", "d-1"], "its own policy, and the default, allow one attempt");
}
