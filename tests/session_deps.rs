//! Whole-session scenarios of task dependencies on a virtual clock: a task with `after` is
//! held until its predecessors finished, released when the last one does, and failed (with a
//! reason) when one fails for good; unknown predecessors and cycles are refused at submission.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use std::time::Duration;

use harness::*;
use offerpack::deps::{DependencyError, OnPredecessorFailure};
use offerpack::mesos::v1::TaskState as P;
use offerpack::model::TaskId;
use offerpack::session::{CallKind, RetryPolicy, SubmitError, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;

fn request(id: &str, after: &[&str]) -> TaskRequest {
    let spec = TaskSpec::builder(id, "batch").scalar("cpus", 1.0).scalar("mem", 64.0).build().unwrap();
    TaskRequest::command(spec, offerpack::session::CommandSpec::shell("./work")).after(after.iter().copied())
}

fn harness(policy: OnPredecessorFailure) -> Harness {
    let mut config = config();
    config.on_predecessor_failure = policy;
    let mut h = Harness::new(config);
    h.advance(Duration::ZERO);
    h.open_stream("fw-1");
    h.advance(MS * 20);
    h.accept_all();
    h
}

/// Offers a roomy agent and runs the pass; the task ids launched.
fn offer_and_launch(h: &mut Harness, offer_id: &str) -> Vec<String> {
    h.event(offers(vec![offer(offer_id, "a-1", 16.0, 4096.0)]));
    h.advance(MS * 20);
    let mut launched: Vec<String> = h.take(CallKind::Accept).iter().flat_map(launched).collect();
    h.accept_all();
    launched.sort();
    launched
}

fn finish(h: &mut Harness, task: &str, uuid: u8) {
    h.event(update(task, "a-1", P::TaskFinished, Some(uuid)));
    h.accept_all();
}

fn messages(h: &Harness, task: &str) -> Vec<String> {
    let of = |u: &Update| match u {
        Update::Task(t) if t.task_id.as_str() == task => Some(t.message.clone().unwrap_or_default()),
        _ => None,
    };
    h.updates.iter().filter_map(of).collect()
}

fn gave_up(h: &Harness) -> Vec<(String, u32)> {
    let of = |u: &Update| match u {
        Update::GaveUp { task, attempts, .. } => Some((task.to_string(), *attempts)),
        _ => None,
    };
    h.updates.iter().filter_map(of).collect()
}

/// a → {b, c} → d: each layer is launched only once the one before finished.
#[test]
fn session_deps_diamond_launches_layer_by_layer() {
    let mut h = harness(OnPredecessorFailure::FailDependents);
    for (id, after) in [("a", &[][..]), ("b", &["a"][..]), ("c", &["a"]), ("d", &["b", "c"])] {
        h.session.submit(request(id, after), h.now).unwrap();
    }
    h.drain();
    assert_eq!(messages(&h, "d"), ["waiting for b, c"]);
    assert_eq!(offer_and_launch(&mut h, "o-1"), ["a"], "only the task without predecessors");
    finish(&mut h, "a", 1);
    assert_eq!(h.states("b"), [TaskState::Pending, TaskState::Pending]);
    assert_eq!(messages(&h, "b")[1], "released: every predecessor finished");
    assert_eq!(offer_and_launch(&mut h, "o-2"), ["b", "c"]);
    finish(&mut h, "c", 2);
    assert_eq!(offer_and_launch(&mut h, "o-3"), Vec::<String>::new(), "d still waits for b");
    finish(&mut h, "b", 3);
    assert_eq!(offer_and_launch(&mut h, "o-4"), ["d"]);
    finish(&mut h, "d", 4);
    assert!(h.session.dependencies().is_empty(), "nothing is kept once every task ended");
}

/// A predecessor that fails for good fails its transitive dependents, each reported failed with
/// the reason and given up; a task that does not depend on it runs.
#[test]
fn session_deps_failed_predecessor_fails_dependents() {
    let mut h = harness(OnPredecessorFailure::FailDependents);
    for (id, after) in [("a", &[][..]), ("b", &["a"][..]), ("c", &["b"]), ("x", &[])] {
        h.session.submit(request(id, after), h.now).unwrap();
    }
    h.drain();
    assert_eq!(offer_and_launch(&mut h, "o-1"), ["a", "x"]);
    h.event(update("a", "a-1", P::TaskFailed, Some(1)));
    for task in ["b", "c"] {
        assert_eq!(h.states(task), [TaskState::Pending, TaskState::Failed]);
        assert_eq!(messages(&h, task)[1], "predecessor a ended Failed");
    }
    assert_eq!(gave_up(&h), [("a".to_owned(), 1), ("b".to_owned(), 0), ("c".to_owned(), 0)]);
    // A later task naming a failed one fails at once.
    h.session.submit(request("e", &["c"]), h.now).unwrap();
    h.drain();
    assert_eq!(h.states("e"), [TaskState::Failed]);
}

/// A predecessor retried after a failure holds its dependents until an attempt finishes.
#[test]
fn session_deps_retried_predecessor_releases_after_it_finishes() {
    let mut h = harness(OnPredecessorFailure::FailDependents);
    let retried = RetryPolicy::attempts(2).with_backoff(MS * 100, MS * 100).with_jitter(0.0);
    h.session.submit(request("a", &[]).retry(retried), h.now).unwrap();
    h.session.submit(request("b", &["a"]), h.now).unwrap();
    h.drain();
    assert_eq!(offer_and_launch(&mut h, "o-1"), ["a"]);
    h.event(update("a", "a-1", P::TaskFailed, Some(1)));
    h.accept_all();
    assert_eq!(h.states("b"), [TaskState::Pending], "b waits for a's next attempt");
    h.advance(MS * 200);
    assert_eq!(offer_and_launch(&mut h, "o-2"), ["a.retry-1"]);
    finish(&mut h, "a.retry-1", 2);
    assert_eq!(offer_and_launch(&mut h, "o-3"), ["b"]);
}

/// With `RunAnyway` a failed predecessor releases its dependents.
#[test]
fn session_deps_run_anyway_releases_after_a_failure() {
    let mut h = harness(OnPredecessorFailure::RunAnyway);
    h.session.submit(request("a", &[]), h.now).unwrap();
    h.session.submit(request("b", &["a"]), h.now).unwrap();
    h.drain();
    assert_eq!(offer_and_launch(&mut h, "o-1"), ["a"]);
    h.event(update("a", "a-1", P::TaskFailed, Some(1)));
    h.accept_all();
    assert_eq!(offer_and_launch(&mut h, "o-2"), ["b"]);
}

/// Unknown predecessors and cycles are refused; killing a held task fails its dependents.
#[test]
fn session_deps_refuses_unknown_and_cycles_and_kills_held_tasks() {
    let mut h = harness(OnPredecessorFailure::FailDependents);
    let unknown = h.session.submit(request("b", &["nope"]), h.now).unwrap_err();
    let expected = DependencyError::UnknownPredecessor { task: TaskId::new("b"), predecessor: TaskId::new("nope") };
    assert_eq!(unknown, SubmitError::Dependency(expected));
    let cycle = h.session.submit(request("s", &["s"]), h.now).unwrap_err();
    assert_eq!(cycle, SubmitError::Dependency(DependencyError::Cycle(vec![TaskId::new("s")])));
    h.session.submit(request("a", &[]), h.now).unwrap();
    h.session.submit(request("b", &["a"]), h.now).unwrap();
    h.session.submit(request("c", &["b"]), h.now).unwrap();
    h.session.kill(&TaskId::new("b"), h.now).unwrap();
    h.drain();
    assert_eq!(h.states("b"), [TaskState::Pending, TaskState::Killed]);
    assert_eq!(h.states("c"), [TaskState::Pending, TaskState::Failed]);
    assert_eq!(messages(&h, "c")[1], "predecessor b ended Killed");
    assert_eq!(offer_and_launch(&mut h, "o-1"), ["a"]);
}

/// A predecessor that ended before its dependent was submitted: finished releases it at once,
/// failed fails it at once; the graph holds nothing once they ended.
#[test]
fn session_deps_names_tasks_that_ended_before() {
    let mut h = harness(OnPredecessorFailure::FailDependents);
    h.session.submit(request("ok", &[]), h.now).unwrap();
    h.session.submit(request("bad", &[]), h.now).unwrap();
    h.drain();
    assert_eq!(offer_and_launch(&mut h, "o-1"), ["bad", "ok"]);
    finish(&mut h, "ok", 1);
    h.event(update("bad", "a-1", P::TaskFailed, Some(2)));
    h.accept_all();
    assert!(h.session.dependencies().is_empty(), "no task waited for them");
    h.session.submit(request("after-ok", &["ok"]), h.now).unwrap();
    h.session.submit(request("after-bad", &["bad"]), h.now).unwrap();
    h.drain();
    assert_eq!(h.states("after-bad"), [TaskState::Failed]);
    assert_eq!(offer_and_launch(&mut h, "o-2"), ["after-ok"]);
    finish(&mut h, "after-ok", 3);
    assert!(h.session.dependencies().is_empty());
}
