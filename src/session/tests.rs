//! Unit tests of the session state machine (whole scenarios live in `tests/session_*.rs`).

use std::time::Duration;

use super::*;
use crate::mesos::v1;
use crate::mesos::v1::scheduler::{call, event, Event};
use crate::TaskSpec;

const MS: Duration = Duration::from_millis(1);

fn config() -> SessionConfig {
    let mut config = SessionConfig::new("test", "root");
    config.schedule_delay = Duration::ZERO;
    config
}

fn subscribed_event(fw: &str) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: v1::FrameworkId { value: fw.into() },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    }
}

fn drain(session: &mut Session) -> Vec<Action> {
    std::iter::from_fn(|| session.poll_action()).collect()
}

fn calls_of(actions: &[Action], kind: CallKind) -> Vec<&v1::scheduler::Call> {
    actions
        .iter()
        .filter_map(|a| if let Action::Send(_, c, _) = a { Some(c) } else { None })
        .filter(|c| CallKind::of(c) == kind)
        .collect()
}

fn subscribe(session: &mut Session, now: Duration) -> Vec<Action> {
    session.handle_timeout(now);
    session.handle_subscribed("s-1".into(), now);
    session.handle_event(subscribed_event("fw-1"), now);
    drain(session)
}

fn status(task: &str, state: v1::TaskState, uuid: Option<Vec<u8>>) -> Event {
    Event {
        r#type: Some(event::Type::Update as i32),
        update: Some(event::Update {
            status: v1::TaskStatus {
                task_id: v1::TaskId { value: task.into() },
                state: state as i32,
                agent_id: Some(v1::AgentId { value: "a-1".into() }),
                uuid,
                ..Default::default()
            },
        }),
        ..Default::default()
    }
}

#[test]
fn session_subscribes_at_first_timeout_and_resubscribes_with_framework_id() {
    let mut session = Session::new(config()).unwrap();
    assert!(drain(&mut session).is_empty());
    let actions = subscribe(&mut session, Duration::ZERO);
    assert!(matches!(&actions[0], Action::Subscribe(c, _) if c.framework_id.is_none()));
    assert!(session.is_subscribed());
    session.handle_disconnected(10 * MS);
    let at = session.poll_timeout().unwrap();
    assert!(at > 10 * MS && at <= 10 * MS + Duration::from_millis(500), "{at:?}");
    session.handle_timeout(at);
    let Some(Action::Subscribe(call, _)) = session.poll_action() else { panic!("no resubscribe") };
    assert_eq!(call.framework_id.unwrap().value, "fw-1");
    assert_eq!(call.subscribe.unwrap().framework_info.id.unwrap().value, "fw-1");
}

#[test]
fn session_reconnect_backoff_is_capped_at_15s() {
    let mut session = Session::new(config()).unwrap();
    let mut now = Duration::ZERO;
    for _ in 0..12 {
        session.handle_timeout(now);
        assert!(matches!(session.poll_action(), Some(Action::Subscribe(..))));
        session.handle_subscribe_failed(CallOutcome::Unavailable("503".into()), now);
        let at = session.poll_timeout().unwrap();
        assert!(at - now <= Duration::from_secs(15));
        now = at;
    }
    assert!(now > Duration::from_secs(60), "backoff grew: {now:?}");
}

#[test]
fn session_watchdog_disconnects_after_five_silent_intervals() {
    let mut session = Session::new(config()).unwrap();
    subscribe(&mut session, Duration::ZERO);
    assert_eq!(session.poll_timeout(), Some(Duration::from_secs(75)));
    session.handle_event(
        Event { r#type: Some(event::Type::Heartbeat as i32), ..Default::default() },
        Duration::from_secs(15),
    );
    assert_eq!(session.poll_timeout(), Some(Duration::from_secs(90)));
    session.handle_timeout(Duration::from_secs(90));
    assert_eq!(session.poll_action(), Some(Action::Disconnect));
    assert!(!session.is_subscribed());
}

#[test]
fn session_subscribe_rejection_is_fatal() {
    let mut session = Session::new(config()).unwrap();
    session.handle_timeout(Duration::ZERO);
    drain(&mut session);
    session.handle_subscribe_failed(CallOutcome::Rejected { status: 401, message: "no".into() }, MS);
    assert_eq!(drain(&mut session), [Action::Disconnect, Action::Stopped]);
    let updates: Vec<_> = std::iter::from_fn(|| session.poll_update()).collect();
    assert!(matches!(updates.last(), Some(Update::Stopped(StopReason::SubscribeRejected { status: 401, .. }))));
    assert_eq!(session.poll_timeout(), None);
}

#[test]
fn session_fatal_subscribe_failure_stops_without_retry() {
    let mut session = Session::new(config()).unwrap();
    session.handle_timeout(Duration::ZERO);
    drain(&mut session);
    session.handle_subscribe_failed(CallOutcome::Fatal("TLS: certificate for m is not trusted".into()), MS);
    assert_eq!(drain(&mut session), [Action::Disconnect, Action::Stopped]);
    let updates: Vec<_> = std::iter::from_fn(|| session.poll_update()).collect();
    assert!(!updates.iter().any(|u| matches!(u, Update::Disconnected { .. })), "{updates:?}");
    assert!(
        matches!(updates.last(), Some(Update::Stopped(StopReason::ConnectFailed(m))) if m.contains("not trusted")),
        "{updates:?}"
    );
    assert_eq!(session.poll_timeout(), None, "no re-subscription is scheduled");
}

#[test]
fn session_acks_only_updates_with_uuid() {
    let mut session = Session::new(config()).unwrap();
    subscribe(&mut session, Duration::ZERO);
    session.handle_event(status("t-1", v1::TaskState::TaskRunning, Some(vec![7; 16])), MS);
    session.handle_event(status("t-1", v1::TaskState::TaskRunning, Some(vec![7; 16])), MS);
    session.handle_event(status("t-1", v1::TaskState::TaskRunning, None), MS);
    let actions = drain(&mut session);
    let acks = calls_of(&actions, CallKind::Acknowledge);
    assert_eq!(acks.len(), 2);
    assert_eq!(acks[0].acknowledge.as_ref().unwrap().uuid, vec![7; 16]);
}

#[test]
fn session_kill_of_pending_task_reports_killed_without_a_call() {
    let mut session = Session::new(config()).unwrap();
    let spec = TaskSpec::builder("t-1", "g").scalar("cpus", 1.0).build().unwrap();
    session.submit(TaskRequest::command(spec, CommandSpec::shell("true")), Duration::ZERO).unwrap();
    session.kill(&"t-1".into(), Duration::ZERO).unwrap();
    assert_eq!(session.task_state(&"t-1".into()), Some(TaskState::Killed));
    assert_eq!(session.kill(&"t-1".into(), Duration::ZERO), Err(KillError::UnknownTask("t-1".into())));
    assert!(drain(&mut session).is_empty());
}

#[test]
fn session_duplicate_submission_is_rejected() {
    let mut session = Session::new(config()).unwrap();
    let spec = TaskSpec::builder("t-1", "g").build().unwrap();
    let request = TaskRequest::command(spec, CommandSpec::shell("true"));
    session.submit(request.clone(), Duration::ZERO).unwrap();
    assert_eq!(session.submit(request, Duration::ZERO), Err(SubmitError::DuplicateTask("t-1".into())));
}

#[test]
fn session_suppresses_when_idle_and_revives_on_submit() {
    let mut session = Session::new(config()).unwrap();
    let actions = subscribe(&mut session, Duration::ZERO);
    assert_eq!(calls_of(&actions, CallKind::Suppress).len(), 1);
    let spec = TaskSpec::builder("t-1", "g").scalar("cpus", 1.0).build().unwrap();
    session.submit(TaskRequest::command(spec, CommandSpec::shell("true")), MS).unwrap();
    let actions = drain(&mut session);
    assert_eq!(calls_of(&actions, CallKind::Revive).len(), 1);
    let revive = calls_of(&actions, CallKind::Revive)[0];
    assert_eq!(revive.r#type, Some(call::Type::Revive as i32));
}

#[test]
fn session_teardown_waits_for_the_answer() {
    let mut session = Session::new(config()).unwrap();
    subscribe(&mut session, Duration::ZERO);
    session.stop(StopMode::Teardown);
    let actions = drain(&mut session);
    let Some(Action::Send(id, call, _)) = actions.last() else { panic!("{actions:?}") };
    assert_eq!(CallKind::of(call), CallKind::Teardown);
    assert!(!session.is_stopped());
    session.handle_call_result(*id, CallOutcome::Accepted, MS);
    assert_eq!(drain(&mut session), [Action::Disconnect, Action::Stopped]);
    assert!(session.is_stopped());
}

#[test]
fn session_error_event_stops() {
    let mut session = Session::new(config()).unwrap();
    subscribe(&mut session, Duration::ZERO);
    let error = Event {
        r#type: Some(event::Type::Error as i32),
        error: Some(event::Error { message: "Framework failed over".into() }),
        ..Default::default()
    };
    session.handle_event(error, MS);
    assert_eq!(drain(&mut session), [Action::Disconnect, Action::Stopped]);
    let last = std::iter::from_fn(|| session.poll_update()).last();
    assert_eq!(last, Some(Update::Stopped(StopReason::MasterError("Framework failed over".into()))));
}

#[test]
fn session_ignores_stale_state_regressions_but_acks_them() {
    let mut session = Session::new(config()).unwrap();
    subscribe(&mut session, Duration::ZERO);
    session.handle_event(status("t-1", v1::TaskState::TaskRunning, None), MS);
    session.handle_event(status("t-1", v1::TaskState::TaskStarting, Some(vec![1; 16])), MS);
    assert_eq!(session.task_state(&"t-1".into()), Some(TaskState::Running));
    let reported: Vec<_> = std::iter::from_fn(|| session.poll_update())
        .filter_map(|u| if let Update::Task(t) = u { Some(t.state) } else { None })
        .collect();
    assert_eq!(reported, [TaskState::Running]);
    assert_eq!(calls_of(&drain(&mut session), CallKind::Acknowledge).len(), 1);
}
