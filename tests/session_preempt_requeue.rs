//! Victims of preemption in the sans-IO session, on a virtual clock: put back to pending when
//! their killed attempt ended, placed again under a new attempt without spending retries; a
//! user's kill, a task that finished first and `requeue_preempted: false` keep the old end. And
//! the youngest-first choice for tasks the session did not launch (re-synced).
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use std::time::Duration;

use harness::*;
use offerpack::mesos::v1::TaskState as P;
use offerpack::preempt::DisruptionBudgets;
use offerpack::session::{CallKind, CommandSpec, RetryPolicy, SessionConfig, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;

fn request(id: &str, cpus: f64, priority: i32) -> TaskRequest {
    let group = if priority > 0 { "web" } else { "batch" };
    let spec = TaskSpec::builder(id, group).scalar("cpus", cpus).priority(priority).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("./run"))
}

fn preempting(change: impl FnOnce(&mut SessionConfig)) -> Harness {
    let mut config = config();
    config.preemption = Some(DisruptionBudgets::new());
    change(&mut config);
    let mut h = Harness::new(config);
    h.advance(Duration::ZERO);
    h.open_stream("fw-1");
    h
}

fn killed(calls: &[offerpack::mesos::v1::scheduler::Call]) -> Vec<String> {
    calls.iter().filter_map(|c| c.kill.as_ref()).map(|k| k.task_id.value.clone()).collect()
}

/// `low-1` and `low-2` (2 cpus each, priority 0) run on a-1; `urgent` (2 cpus, priority 10)
/// arrives and `low-1` is killed for it.
fn preempt_low_1(h: &mut Harness) {
    for id in ["low-1", "low-2"] {
        h.session.submit(request(id, 2.0, 0), h.now).unwrap();
    }
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 20);
    assert_eq!(launched(&h.take(CallKind::Accept)[0]), ["low-1", "low-2"]);
    h.event(update("low-1", "a-1", P::TaskRunning, Some(1)));
    h.event(update("low-2", "a-1", P::TaskRunning, Some(2)));
    h.accept_all();
    h.session.submit(request("urgent", 2.0, 10), h.now).unwrap();
    h.advance(MS * 20);
    assert_eq!(killed(&h.take(CallKind::Kill)), ["low-1"]);
    h.accept_all();
}

fn preempted(h: &Harness) -> Vec<(String, String, TaskState)> {
    let found = |u: &Update| match u {
        Update::Preempted { task, by, state, .. } => Some((task.to_string(), by.to_string(), *state)),
        _ => None,
    };
    h.updates.iter().filter_map(found).collect()
}

fn gave_up(h: &Harness) -> usize {
    h.updates.iter().filter(|u| matches!(u, Update::GaveUp { .. })).count()
}

/// The last task update about `task`.
fn last(h: &Harness, task: &str) -> offerpack::session::TaskUpdate {
    let found = |u: &Update| match u {
        Update::Task(t) if t.task_id.as_str() == task => Some(t.clone()),
        _ => None,
    };
    h.updates.iter().rev().find_map(found).expect("an update")
}

#[test]
fn victim_is_pending_again_and_runs_as_a_new_attempt_to_the_end() {
    let mut h = preempting(|_| {});
    preempt_low_1(&mut h);
    h.event(update("low-1", "a-1", P::TaskKilled, Some(3)));
    assert_eq!(preempted(&h), [("low-1".to_owned(), "urgent".to_owned(), TaskState::Killed)]);
    let back = last(&h, "low-1");
    assert_eq!((back.state, back.attempt, back.retry_in), (TaskState::Pending, 2, Some(Duration::ZERO)));
    assert!(back.message.as_deref().unwrap_or_default().contains("preempted by urgent"), "{back:?}");
    assert_eq!(h.session.task_state(&"low-1".into()), Some(TaskState::Pending));

    // Room for both comes back: the preemptor goes first, the victim runs again elsewhere under
    // its next attempt's Mesos id.
    h.event(offers(vec![offer("o-3", "a-1", 2.0, 512.0), offer("o-4", "a-2", 2.0, 512.0)]));
    h.advance(MS * 20);
    let mut ids: Vec<String> = h.take(CallKind::Accept).iter().flat_map(launched).collect();
    ids.sort();
    assert_eq!(ids, ["low-1.retry-1", "urgent"]);
    assert!(h.take(CallKind::Kill).is_empty(), "no second preemption");
    h.event(update("low-1.retry-1", "a-2", P::TaskRunning, Some(4)));
    h.event(update("low-1.retry-1", "a-2", P::TaskFinished, Some(5)));
    let end = last(&h, "low-1");
    assert_eq!((end.state, end.attempt), (TaskState::Finished, 2));
    assert_eq!(gave_up(&h), 0);
    // A late update about the killed attempt changes nothing.
    let before = h.updates.len();
    h.event(update("low-1", "a-1", P::TaskKilled, Some(3)));
    assert_eq!(h.states("low-1").last(), Some(&TaskState::Finished));
    assert!(h.updates[before..].iter().all(|u| !matches!(u, Update::Task(_))));
}

#[test]
fn preemption_spends_no_retry() {
    // Two attempts allowed: the preempted one is not counted, so a failure of the next attempt
    // is still retried.
    let mut h = preempting(|c| c.retry = RetryPolicy::attempts(2).with_jitter(0.0));
    preempt_low_1(&mut h);
    h.event(update("low-1", "a-1", P::TaskKilled, Some(3)));
    h.event(offers(vec![offer("o-3", "a-1", 2.0, 512.0), offer("o-4", "a-2", 2.0, 512.0)]));
    h.advance(MS * 20);
    h.accept_all();
    h.event(update("low-1.retry-1", "a-2", P::TaskFailed, Some(4)));
    let retried = last(&h, "low-1");
    assert_eq!((retried.state, retried.attempt), (TaskState::Pending, 3), "{retried:?}");
    assert_eq!(retried.retry_in, Some(Duration::from_secs(1)), "the first retry's backoff");
    assert_eq!(gave_up(&h), 0);
    assert_eq!(preempted(&h).len(), 1, "a failure is no preemption");
}

#[test]
fn a_kill_by_the_user_ends_the_victim_for_good() {
    let mut h = preempting(|_| {});
    preempt_low_1(&mut h);
    h.session.kill(&"low-1".into(), h.now).unwrap();
    h.accept_all();
    h.event(update("low-1", "a-1", P::TaskKilled, Some(3)));
    assert_eq!(h.states("low-1").last(), Some(&TaskState::Killed));
    assert!(preempted(&h).is_empty());
    assert_eq!(h.session.task_state(&"low-1".into()), Some(TaskState::Killed));
}

#[test]
fn a_victim_that_finished_first_is_not_requeued() {
    let mut h = preempting(|_| {});
    preempt_low_1(&mut h);
    h.event(update("low-1", "a-1", P::TaskFinished, Some(3)));
    assert_eq!(h.states("low-1").last(), Some(&TaskState::Finished));
    assert!(preempted(&h).is_empty());
}

#[test]
fn requeue_preempted_off_lets_victims_end_killed() {
    let mut h = preempting(|c| c.requeue_preempted = false);
    preempt_low_1(&mut h);
    h.event(update("low-1", "a-1", P::TaskKilled, Some(3)));
    assert_eq!(h.states("low-1").last(), Some(&TaskState::Killed));
    assert!(preempted(&h).is_empty());
    h.event(offers(vec![offer("o-3", "a-1", 2.0, 512.0), offer("o-4", "a-2", 2.0, 512.0)]));
    h.advance(MS * 20);
    let ids: Vec<String> = h.take(CallKind::Accept).iter().flat_map(launched).collect();
    assert_eq!(ids, ["urgent"], "the victim is not placed again");
}

#[test]
fn resynced_tasks_are_preempted_youngest_first_by_when_the_session_saw_them() {
    // Two tasks of an earlier scheduler, first seen running 5 s apart, then submitted (as a
    // successor does): with equal standing the one seen last goes, though its id comes after
    // (ids break ties only when the starts are equal).
    let mut h = preempting(|_| {});
    h.event(update("old-a", "a-1", P::TaskRunning, Some(1)));
    h.advance(Duration::from_secs(5));
    h.event(update("old-b", "a-1", P::TaskRunning, Some(2)));
    h.accept_all();
    h.answer_queries(|_| Err(offerpack::session::CallOutcome::Rejected { status: 404, message: "none".into() }));
    for id in ["old-a", "old-b"] {
        h.session.submit(request(id, 2.0, 0), h.now).unwrap();
    }
    h.advance(MS * 20);
    h.accept_all();
    h.session.submit(request("urgent", 2.0, 10), h.now).unwrap();
    h.advance(MS * 20);
    assert_eq!(killed(&h.take(CallKind::Kill)), ["old-b"], "the younger one");
}

#[test]
fn preemptor_waits_for_its_victims_agent_to_be_offered_before_preempting_again() {
    let mut h = preempting(|_| {});
    preempt_low_1(&mut h);
    h.event(update("low-1", "a-1", P::TaskKilled, Some(3)));
    // A pass between the victim's end and the offer of what it freed: no room anywhere, but
    // the preemptor is still held, so low-2 is not killed too.
    h.event(offers(vec![offer("o-2", "a-2", 1.0, 64.0)]));
    h.advance(MS * 20);
    assert!(h.take(CallKind::Kill).is_empty(), "preempted again before the freed room was offered");
    h.accept_all();
    h.event(offers(vec![offer("o-3", "a-1", 2.0, 512.0)]));
    h.advance(MS * 20);
    let ids: Vec<String> = h.take(CallKind::Accept).iter().flat_map(launched).collect();
    assert_eq!(ids, ["urgent"]);
}

#[test]
fn preemptor_whose_room_is_never_offered_is_pending_again_after_the_wait() {
    let mut h = preempting(|_| {});
    preempt_low_1(&mut h);
    h.event(update("low-1", "a-1", P::TaskKilled, Some(3)));
    h.advance(MS * 20);
    h.accept_all();
    h.advance(Duration::from_secs(11));
    h.event(offers(vec![offer("o-2", "a-2", 1.0, 64.0)]));
    h.advance(MS * 20);
    assert_eq!(killed(&h.take(CallKind::Kill)), ["low-2"], "the wait is over: it preempts anew");
}
