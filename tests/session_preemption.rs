//! Preemption in the sans-IO session, on a virtual clock: a pending task that fits nowhere gets
//! its victims killed, is held back (no second preemption) until they ended, then launches on
//! the resources they gave back.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use harness::*;
use offerpack::mesos::v1::TaskState as P;
use offerpack::preempt::{DisruptionBudgets, MaxUnavailable};
use offerpack::session::{CallKind, CommandSpec, PassReport, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;

fn request(id: &str, group: &str, cpus: f64, priority: i32) -> TaskRequest {
    let spec = TaskSpec::builder(id, group).scalar("cpus", cpus).priority(priority).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("./run"))
}

fn preempting_harness(budgets: DisruptionBudgets) -> Harness {
    let mut config = config();
    config.preemption = Some(budgets);
    let mut h = Harness::new(config);
    h.advance(std::time::Duration::ZERO);
    h.open_stream("fw-1");
    h
}

/// Launches `low-1` and `low-2` (2 cpus each, priority 0) on agent a-1 and reports them running.
fn two_low_tasks_running(h: &mut Harness) {
    for id in ["low-1", "low-2"] {
        h.session.submit(request(id, "batch", 2.0, 0), h.now).unwrap();
    }
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 20);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(launched(&accepts[0]), ["low-1", "low-2"]);
    h.event(update("low-1", "a-1", P::TaskRunning, Some(1)));
    h.event(update("low-2", "a-1", P::TaskRunning, Some(2)));
    h.accept_all();
}

fn reports(h: &Harness) -> Vec<&PassReport> {
    h.updates.iter().filter_map(|u| if let Update::Pass(r) = u { Some(r) } else { None }).collect()
}

fn killed(calls: &[offerpack::mesos::v1::scheduler::Call]) -> Vec<String> {
    calls.iter().filter_map(|c| c.kill.as_ref()).map(|k| k.task_id.value.clone()).collect()
}

#[test]
fn session_preempts_then_launches_once_victims_are_gone() {
    let mut h = preempting_harness(DisruptionBudgets::new());
    two_low_tasks_running(&mut h);
    h.session.submit(request("urgent", "web", 2.0, 10), h.now).unwrap();
    h.advance(MS * 20);
    let kills = h.take(CallKind::Kill);
    assert_eq!(killed(&kills), ["low-1"], "one victim frees enough; equal ones break on the id");
    let last = reports(&h).into_iter().rev().find(|r| !r.preempting.is_empty()).expect("reported");
    assert_eq!(last.preempting[0].0.as_str(), "urgent");
    assert!(h.take(CallKind::Accept).is_empty(), "nothing to launch on yet");

    // Another pass while the victim is dying (an offer too small arrives): no second preemption.
    h.event(offers(vec![offer("o-2", "a-2", 1.0, 64.0)]));
    h.advance(MS * 20);
    assert!(h.take(CallKind::Kill).is_empty(), "never preempts again while victims are dying");
    assert!(h.take(CallKind::Accept).is_empty());
    h.accept_all();

    // The victim ends; its resources come back in an offer; the preemptor launches there.
    h.event(update("low-1", "a-1", P::TaskKilled, Some(3)));
    assert_eq!(h.states("low-1").last(), Some(&TaskState::Pending), "a victim is pending again");
    assert_eq!(h.states("low-2").last(), Some(&TaskState::Running), "only the victim was killed");
    h.event(offers(vec![offer("o-3", "a-1", 2.0, 512.0)]));
    h.advance(MS * 20);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.len(), 1);
    assert_eq!(launched(&accepts[0]), ["urgent"]);
    assert_eq!(offer_ids(&accepts[0]), ["o-3"]);
    assert!(h.take(CallKind::Kill).is_empty());
}

#[test]
fn session_preemption_keeps_the_budget_of_the_victims_group() {
    // At most one batch task down at once: the second urgent task must wait for the first
    // victim to end before a second one is killed.
    let mut budgets = DisruptionBudgets::new();
    budgets.set("batch", MaxUnavailable::Count(1));
    let mut h = preempting_harness(budgets);
    two_low_tasks_running(&mut h);
    h.session.submit(request("urgent-1", "web", 2.0, 10), h.now).unwrap();
    h.session.submit(request("urgent-2", "web", 2.0, 10), h.now).unwrap();
    h.advance(MS * 20);
    assert_eq!(killed(&h.take(CallKind::Kill)).len(), 1, "the budget allows one victim");
    h.accept_all();
    h.event(offers(vec![offer("o-2", "a-2", 1.0, 64.0)]));
    h.advance(MS * 20);
    assert!(h.take(CallKind::Kill).is_empty(), "the dying task uses up the budget");
    h.accept_all();
}

#[test]
fn session_without_preemption_never_kills() {
    let mut h = Harness::subscribed();
    two_low_tasks_running(&mut h);
    h.session.submit(request("urgent", "web", 2.0, 10), h.now).unwrap();
    h.advance(MS * 20);
    assert!(h.take(CallKind::Kill).is_empty());
}

#[test]
fn session_running_tasks_carry_their_requests_priority() {
    // The running tasks asked for priority 20: a pending task of priority 10 may not evict them
    // (were their priority lost, they would count as 0 and be killed).
    let mut h = preempting_harness(DisruptionBudgets::new());
    for id in ["high-1", "high-2"] {
        h.session.submit(request(id, "svc", 2.0, 20), h.now).unwrap();
    }
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 20);
    assert_eq!(launched(&h.take(CallKind::Accept)[0]).len(), 2);
    h.event(update("high-1", "a-1", P::TaskRunning, Some(1)));
    h.event(update("high-2", "a-1", P::TaskRunning, Some(2)));
    h.accept_all();
    h.session.submit(request("urgent", "web", 2.0, 10), h.now).unwrap();
    h.advance(MS * 20);
    assert!(h.take(CallKind::Kill).is_empty());
    h.session.submit(request("critical", "web", 2.0, 30), h.now).unwrap();
    h.advance(MS * 20);
    assert_eq!(killed(&h.take(CallKind::Kill)).len(), 1, "a higher priority may");
}

/// What-if in a preempting session shows the preemption the next pass would make, and kills
/// nothing; the real pass then makes that very preemption.
#[test]
fn session_what_if_shows_preemptions_without_killing() {
    let mut h = preempting_harness(DisruptionBudgets::new());
    two_low_tasks_running(&mut h);
    let urgent = request("urgent", "web", 2.0, 10);
    let plan = h.session.what_if(std::slice::from_ref(&urgent), h.now).unwrap();
    assert!(plan.launches.is_empty());
    assert_eq!(plan.preemptions.len(), 1);
    let victims: Vec<&str> = plan.preemptions[0].victims.iter().map(|v| v.as_str()).collect();
    assert_eq!((plan.preemptions[0].task_id.as_str(), victims), ("urgent", vec!["low-1"]));
    h.advance(MS * 20);
    assert!(h.take(CallKind::Kill).is_empty(), "what-if kills nothing");
    h.session.submit(urgent, h.now).unwrap();
    h.advance(MS * 20);
    assert_eq!(killed(&h.take(CallKind::Kill)), ["low-1"], "the pass preempts as what-if said");
}
