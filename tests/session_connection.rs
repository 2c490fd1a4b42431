//! Whole-session scenarios around the subscription: reconnects, heartbeats, reconciliation,
//! failover and teardown, on a virtual clock.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use std::time::Duration;

use harness::*;
use offerpack::mesos::v1::task_status::Reason;
use offerpack::mesos::v1::TaskState as P;
use offerpack::session::{CallKind, CallOutcome, CommandSpec, StopMode, StopReason, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;

const SEC: Duration = Duration::from_secs(1);

fn request(id: &str) -> TaskRequest {
    let spec = TaskSpec::builder(id, "batch").scalar("cpus", 1.0).scalar("mem", 64.0).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("sleep 10"))
}

/// A subscribed harness with `tasks` running on agent a-1.
fn running(tasks: &[&str]) -> Harness {
    let mut h = Harness::subscribed();
    for id in tasks {
        h.session.submit(request(id), h.now).unwrap();
    }
    h.event(offers(vec![offer("o-1", "a-1", 16.0, 4096.0)]));
    h.advance(MS * 10);
    for id in tasks {
        h.event(update(id, "a-1", P::TaskRunning, Some(1)));
    }
    h.accept_all();
    h
}

fn reconciled(call: &offerpack::mesos::v1::scheduler::Call) -> Vec<(String, Option<String>)> {
    let tasks = &call.reconcile.as_ref().expect("reconcile body").tasks;
    tasks.iter().map(|t| (t.task_id.value.clone(), t.agent_id.as_ref().map(|a| a.value.clone()))).collect()
}

#[test]
fn session_resubscribes_with_framework_id_and_new_stream_after_stream_loss() {
    let mut h = running(&["t-1"]);
    assert!(h.subscribes[0].framework_id.is_none());
    assert_eq!(h.session.stream_id(), Some("stream-1"));
    h.session.handle_disconnected(h.now);
    h.drain();
    assert_eq!(h.session.stream_id(), None);
    assert!(h.updates.iter().any(|u| matches!(u, Update::Disconnected { .. })));
    h.advance(SEC);
    assert_eq!(h.subscribes.len(), 2, "resubscribed within the first backoff step");
    let again = &h.subscribes[1];
    assert_eq!(again.framework_id.as_ref().unwrap().value, "fw-1");
    let info = &again.subscribe.as_ref().unwrap().framework_info;
    assert_eq!((info.id.as_ref().unwrap().value.as_str(), info.failover_timeout), ("fw-1", Some(604_800.0)));
    h.open_stream("fw-1");
    assert_eq!(h.session.stream_id(), Some("stream-2"));
}

#[test]
fn session_offers_die_with_the_subscription() {
    let mut h = Harness::subscribed();
    h.event(offers(vec![offer("o-1", "a-1", 1.0, 1.0)]));
    assert_eq!(h.session.offers_held(), 1);
    h.session.handle_disconnected(h.now);
    h.drain();
    assert_eq!(h.session.offers_held(), 0);
}

#[test]
fn session_heartbeat_loss_reconnects_with_capped_backoff() {
    let mut h = Harness::subscribed();
    h.advance(SEC * 14);
    h.event(heartbeat());
    h.advance(SEC * 74);
    assert_eq!(h.disconnects, 0, "74 s of silence is still fine");
    h.advance(SEC);
    assert_eq!(h.disconnects, 1, "75 s (5 intervals) without an event: dead");
    // Keep failing: delays grow but never exceed 15 s.
    for _ in 0..8 {
        h.advance(SEC * 15);
        let n = h.subscribes.len();
        assert!(n >= 2, "resubscribe attempted");
        h.session.handle_subscribe_failed(CallOutcome::Unavailable("connection refused".into()), h.now);
        h.drain();
        let next = h.session.poll_timeout().unwrap();
        assert!(next - h.now <= SEC * 15, "backoff capped at 15 s");
    }
    assert!(h.subscribes.iter().skip(1).all(|s| s.framework_id.as_ref().unwrap().value == "fw-1"));
}

#[test]
fn session_silent_master_after_subscribe_post_counts_as_dead() {
    let mut h = Harness::new(config());
    h.advance(Duration::ZERO);
    h.session.handle_subscribed("s".into(), h.now);
    h.advance(SEC * 76);
    assert_eq!(h.disconnects, 1, "no SUBSCRIBED within the watchdog: reconnect");
}

#[test]
fn session_reconciles_after_resubscription_until_every_task_answers() {
    let mut h = running(&["t-1", "t-2"]);
    h.session.handle_disconnected(h.now);
    h.advance(SEC);
    h.open_stream("fw-1");
    let first = h.take(CallKind::Reconcile);
    assert_eq!(first.len(), 1);
    assert_eq!(reconciled(&first[0]), [("t-1".into(), Some("a-1".into())), ("t-2".into(), Some("a-1".into()))]);
    h.event(master_update("t-1", P::TaskRunning, Reason::Reconciliation));
    assert!(h.take(CallKind::Acknowledge).is_empty(), "reconciliation answers carry no uuid");
    h.advance(SEC * 10);
    let second = h.take(CallKind::Reconcile);
    assert_eq!(second.len(), 1, "retried after backoff");
    assert_eq!(reconciled(&second[0]), [("t-2".into(), Some("a-1".into()))], "only the silent task");
    h.event(master_update("t-2", P::TaskRunning, Reason::Reconciliation));
    h.advance(SEC * 60);
    assert!(h.take(CallKind::Reconcile).is_empty(), "every task answered: done");
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Running));
}

#[test]
fn session_reconciles_implicitly_every_interval() {
    let mut h = running(&["t-1"]);
    h.take(CallKind::Reconcile);
    for _ in 0..60 {
        h.advance(SEC * 15);
        h.event(heartbeat());
    }
    assert_eq!(h.disconnects, 0);
    let implicit: Vec<_> = h.take(CallKind::Reconcile).into_iter().filter(|c| reconciled(c).is_empty()).collect();
    assert_eq!(implicit.len(), 1);
    // The master reports a task this session never launched (left by an earlier incarnation).
    h.event(master_update("old-7", P::TaskRunning, Reason::Reconciliation));
    let adopted = h.updates.iter().rev().find_map(|u| match u {
        Update::Task(t) if t.task_id.as_str() == "old-7" => Some(t.clone()),
        _ => None,
    });
    let adopted = adopted.expect("reported");
    assert!(!adopted.known);
    assert_eq!(adopted.state, TaskState::Running);
    h.session.kill(&"old-7".into(), h.now).unwrap();
    h.drain();
    assert_eq!(h.take(CallKind::Kill).len(), 1);
}

#[test]
fn session_kill_is_resent_after_resubscription() {
    let mut h = running(&["t-1"]);
    h.session.handle_disconnected(h.now);
    h.session.kill(&"t-1".into(), h.now).unwrap();
    h.drain();
    assert!(h.take(CallKind::Kill).is_empty(), "no calls while disconnected");
    h.advance(SEC);
    h.open_stream("fw-1");
    assert_eq!(h.take(CallKind::Kill).len(), 1);
}

#[test]
fn session_not_subscribed_answer_triggers_resubscription() {
    let mut h = running(&["t-1"]);
    h.session.kill(&"t-1".into(), h.now).unwrap();
    h.drain();
    h.answer(CallKind::Kill, CallOutcome::NotSubscribed);
    assert_eq!(h.disconnects, 1);
    h.advance(SEC);
    assert_eq!(h.subscribes.len(), 2);
}

#[test]
fn session_failover_stop_keeps_launched_tasks() {
    let mut h = running(&["t-1"]);
    h.session.submit(request("t-2"), h.now).unwrap();
    h.session.stop(StopMode::Failover);
    h.drain();
    assert!(h.stopped);
    assert!(h.calls.iter().all(|(_, c)| CallKind::of(c) != CallKind::Teardown));
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Running), "left running for the next scheduler");
    assert_eq!(h.states("t-2").last(), Some(&TaskState::Killed), "never launched: reported, not dropped");
    assert_eq!(h.updates.last(), Some(&Update::Stopped(StopReason::Requested(StopMode::Failover))));
    assert_eq!(h.session.poll_timeout(), None);
}

#[test]
fn session_teardown_when_disconnected_resubscribes_first() {
    let mut h = running(&["t-1"]);
    h.session.handle_disconnected(h.now);
    h.session.stop(StopMode::Teardown);
    h.drain();
    assert!(!h.stopped);
    assert!(h.session.submit(request("t-9"), h.now).is_err(), "no new work while stopping");
    h.advance(SEC);
    h.open_stream("fw-1");
    let teardown = h.take(CallKind::Teardown);
    assert_eq!(teardown.len(), 1);
    assert_eq!(teardown[0].framework_id.as_ref().unwrap().value, "fw-1");
    assert!(h.stopped);
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Killed));
}

#[test]
fn session_failover_from_configured_framework_id() {
    let mut c = config();
    c.framework_id = Some("fw-old".into());
    let mut h = Harness::new(c);
    h.advance(Duration::ZERO);
    let call = &h.subscribes[0];
    assert_eq!(call.framework_id.as_ref().unwrap().value, "fw-old");
    assert_eq!(call.subscribe.as_ref().unwrap().framework_info.id.as_ref().unwrap().value, "fw-old");
}
