//! Scenario tests of the agent core on a virtual clock.

use std::path::PathBuf;
use std::time::Duration;

use prost::Message as _;

use super::core::{Action, AgentConfig, AgentCore, Exit, Signal};
use super::executor_api::{ExecutorReply, ExecutorRequest, Format};
use crate::mesos::agent_api::{call, event, Call, Event};
use crate::mesos::v1::{
    self, command_info::Uri, executor, task_status, AgentId, CommandInfo, DurationInfo, ExecutorId, ExecutorInfo,
    FrameworkId, FrameworkInfo, KillPolicy, TaskId, TaskInfo, TaskState, TaskStatus,
};

pub(super) const S: Duration = Duration::from_secs(1);

pub(super) fn config() -> AgentConfig {
    AgentConfig {
        hostname: "127.0.0.4".into(),
        port: 5051,
        resources: super::parse_resources("cpus:2;mem:512").unwrap(),
        attributes: super::parse_attributes("zone:a").unwrap(),
        work_dir: PathBuf::from("/w"),
        executor_registration_timeout: 60 * S,
        executor_shutdown_grace_period: 5 * S,
        seed: 7,
        default_executor: Some(PathBuf::from("/opt/offerpack")),
    }
}

pub(super) fn drain(core: &mut AgentCore) -> Vec<Action> {
    std::iter::from_fn(|| core.poll_action()).collect()
}

pub(super) fn registered_event(id: &str, ping: f64) -> Event {
    let registered = event::Registered {
        agent_id: AgentId { value: id.into() },
        ping_interval_seconds: ping,
        agent_timeout_seconds: 5.0 * ping,
    };
    Event { r#type: Some(event::Type::Registered as i32), registered: Some(registered), ..Default::default() }
}

/// A core registered as `a-1` (ping every 10 s); returns it and the stream's attempt.
pub(super) fn registered() -> (AgentCore, u64) {
    let mut core = AgentCore::new(config());
    core.handle_start(Duration::ZERO);
    let attempt = match drain(&mut core).as_slice() {
        [Action::Register { attempt, .. }] => *attempt,
        other => panic!("expected one Register, got {other:?}"),
    };
    core.handle_event(Duration::ZERO, attempt, registered_event("a-1", 10.0));
    (core, attempt)
}

fn framework() -> FrameworkInfo {
    FrameworkInfo {
        user: "u".into(),
        name: "fw".into(),
        id: Some(FrameworkId { value: "fw-1".into() }),
        ..Default::default()
    }
}

pub(super) fn command_task(id: &str, uris: &[&str]) -> TaskInfo {
    let uris = uris.iter().map(|u| Uri { value: (*u).into(), ..Default::default() }).collect();
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: AgentId { value: "a-1".into() },
        command: Some(CommandInfo { uris, value: Some("true".into()), ..Default::default() }),
        ..Default::default()
    }
}

fn executor_task(id: &str) -> TaskInfo {
    let executor = ExecutorInfo {
        executor_id: ExecutorId { value: "ex-1".into() },
        command: Some(CommandInfo { value: Some("./ex".into()), ..Default::default() }),
        ..Default::default()
    };
    TaskInfo { executor: Some(executor), command: None, ..command_task(id, &[]) }
}

pub(super) fn launch(core: &mut AgentCore, now: Duration, attempt: u64, task: TaskInfo) {
    let launch = event::Launch { framework_info: framework(), tasks: vec![task], executor: None };
    core.handle_event(
        now,
        attempt,
        Event { r#type: Some(event::Type::Launch as i32), launch: Some(launch), ..Default::default() },
    );
}

pub(super) fn updates(actions: &[Action]) -> Vec<(u64, TaskStatus)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Update { key, call } => Some((*key, call.update.clone().unwrap().status)),
            _ => None,
        })
        .collect()
}

pub(super) fn container_of(actions: &[Action]) -> String {
    actions
        .iter()
        .find_map(|a| match a {
            Action::Fetch { container, .. } => Some(container.clone()),
            _ => None,
        })
        .expect("a Fetch action")
}

/// Answers 202 to every update, repeatedly, collecting the statuses in order.
pub(super) fn ack_all(core: &mut AgentCore, now: Duration, mut actions: Vec<Action>) -> Vec<TaskStatus> {
    let mut seen = Vec::new();
    loop {
        let sent = updates(&actions);
        if sent.is_empty() {
            return seen;
        }
        for (key, status) in sent {
            seen.push(status);
            core.handle_update_answer(now, key, Some(202));
        }
        actions = drain(core);
    }
}

fn ack_pending(core: &mut AgentCore, now: Duration) -> Vec<TaskStatus> {
    let actions = drain(core);
    ack_all(core, now, actions)
}

#[test]
fn core_registers_then_reregisters_with_id_after_the_stream_breaks() {
    let mut core = AgentCore::new(config());
    core.handle_start(Duration::ZERO);
    let Action::Register { attempt, call } = drain(&mut core).remove(0) else { panic!("no Register") };
    let info = call.register.unwrap().agent_info;
    assert!(info.id.is_none());
    assert_eq!((info.hostname.as_str(), info.port, info.resources.len()), ("127.0.0.4", Some(5051), 2));
    core.handle_event(Duration::ZERO, attempt, registered_event("a-1", 10.0));
    assert!(core.is_registered());
    core.handle_stream_closed(S, attempt);
    assert!(drain(&mut core).is_empty());
    let due = core.poll_timeout().unwrap();
    core.handle_timer(due);
    let Action::Register { attempt: second, call } = drain(&mut core).remove(0) else { panic!("no re-Register") };
    assert_ne!(second, attempt);
    assert_eq!(call.register.unwrap().agent_info.id.unwrap().value, "a-1");
    // The old stream's events are ignored now.
    core.handle_event(due, attempt, registered_event("a-9", 10.0));
    assert_eq!(core.agent_id(), Some("a-1"));
}

#[test]
fn core_on_403_kills_everything_and_registers_without_id() {
    let (mut core, attempt) = registered();
    launch(&mut core, S, attempt, command_task("t-1", &[]));
    let c = container_of(&drain(&mut core));
    core.handle_fetched(S, &c, Ok(()));
    core.handle_spawned(S, &c, Ok(()));
    drain(&mut core);
    core.handle_stream_closed(2 * S, attempt);
    core.handle_timer(core.poll_timeout().unwrap());
    let Action::Register { attempt: again, call } = drain(&mut core).remove(0) else { panic!("no Register") };
    assert_eq!(call.register.unwrap().tasks.len(), 1, "re-registration lists the running task");
    core.handle_register_failed(3 * S, again, Some(403));
    let actions = drain(&mut core);
    assert!(actions.contains(&Action::Signal { container: c, signal: Signal::Kill }));
    let Some(Action::Register { call, .. }) = actions.last() else { panic!("no fresh Register") };
    let register = call.register.clone().unwrap();
    assert!(register.agent_info.id.is_none() && register.tasks.is_empty());
    assert_eq!(core.agent_id(), None);
}

#[test]
fn core_pings_every_interval_and_a_404_registers_afresh() {
    let (mut core, _) = registered();
    assert_eq!(core.poll_timeout(), Some(10 * S));
    core.handle_timer(9 * S);
    assert!(drain(&mut core).is_empty());
    core.handle_timer(10 * S);
    let ping = drain(&mut core);
    assert!(matches!(&ping[..], [Action::Ping(c)] if c.agent_id.as_ref().unwrap().value == "a-1"));
    assert_eq!(core.poll_timeout(), Some(20 * S));
    core.handle_ping_answer(10 * S, Some(202));
    assert!(drain(&mut core).is_empty());
    core.handle_ping_answer(11 * S, Some(404));
    assert!(matches!(&drain(&mut core)[..], [Action::Register { .. }]));
}

#[test]
fn core_command_task_fetches_spawns_and_reports_in_order() {
    let (mut core, attempt) = registered();
    launch(&mut core, S, attempt, command_task("t-1", &["http://h/run.sh"]));
    let actions = drain(&mut core);
    let Some(Action::Fetch { container, sandbox, user, uris }) = actions.first() else { panic!("no Fetch") };
    assert_eq!(uris[0].value, "http://h/run.sh");
    assert_eq!(user, "u");
    let expected = format!("/w/slaves/a-1/frameworks/fw-1/executors/t-1/runs/{container}");
    assert_eq!(sandbox, &PathBuf::from(expected));
    let c = container.clone();
    core.handle_fetched(S, &c, Ok(()));
    let Some(Action::Spawn { process, .. }) = drain(&mut core).pop() else { panic!("no Spawn") };
    assert_eq!(process.args, vec!["-c".to_owned(), "true".to_owned()]);
    assert!(process.env.contains(&("MESOS_TASK_ID".to_owned(), "t-1".to_owned())));
    core.handle_spawned(S, &c, Ok(()));
    let first = drain(&mut core);
    assert_eq!(updates(&first).len(), 1, "one update in flight per task");
    let mut states: Vec<TaskState> = ack_all(&mut core, S, first).iter().map(TaskStatus::state).collect();
    core.handle_exited(2 * S, &c, Exit::Code(0));
    states.extend(ack_pending(&mut core, 2 * S).iter().map(TaskStatus::state));
    assert_eq!(states, vec![TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);
}

#[test]
fn core_fetch_failure_fails_the_task_naming_the_uri() {
    let (mut core, attempt) = registered();
    launch(&mut core, S, attempt, command_task("t-1", &["http://h/missing"]));
    let c = container_of(&drain(&mut core));
    core.handle_fetched(S, &c, Err("http://h/missing: HTTP 404".into()));
    let sent = updates(&drain(&mut core));
    let status = &sent[0].1;
    assert_eq!(status.state(), TaskState::TaskFailed);
    assert_eq!(status.source(), task_status::Source::Agent);
    assert_eq!(status.reason(), task_status::Reason::ContainerLaunchFailed);
    let message = status.message.as_deref().unwrap();
    assert_eq!(
        message,
        format!("Failed to launch container: Failed to fetch all URIs for container '{c}': http://h/missing: HTTP 404")
    );
    let uuid = status.uuid.as_deref().unwrap();
    assert_eq!((uuid.len(), uuid[6] >> 4), (16, 4));
}

#[test]
fn core_update_is_resent_until_202() {
    let (mut core, attempt) = registered();
    launch(&mut core, S, attempt, command_task("t-1", &[]));
    let c = container_of(&drain(&mut core));
    core.handle_fetched(S, &c, Err("x: y".into()));
    let (key, status) = updates(&drain(&mut core)).remove(0);
    core.handle_update_answer(S, key, Some(503));
    assert!(updates(&drain(&mut core)).is_empty());
    core.handle_timer(core.poll_timeout().unwrap());
    let resent = updates(&drain(&mut core));
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].1.uuid, status.uuid, "same uuid on re-send");
    core.handle_update_answer(3 * S, resent[0].0, Some(202));
    assert!(updates(&drain(&mut core)).is_empty());
}

#[test]
fn core_kill_terms_then_kills_after_the_grace_period() {
    let (mut core, attempt) = registered();
    let mut task = command_task("t-1", &[]);
    task.kill_policy = Some(KillPolicy { grace_period: Some(DurationInfo { nanoseconds: 2_000_000_000 }) });
    launch(&mut core, S, attempt, task);
    let c = container_of(&drain(&mut core));
    core.handle_fetched(S, &c, Ok(()));
    core.handle_spawned(S, &c, Ok(()));
    ack_pending(&mut core, S);
    let kill = event::Kill {
        framework_id: FrameworkId { value: "fw-1".into() },
        task_id: TaskId { value: "t-1".into() },
        kill_policy: None,
    };
    core.handle_event(
        10 * S,
        attempt,
        Event { r#type: Some(event::Type::Kill as i32), kill: Some(kill), ..Default::default() },
    );
    assert_eq!(drain(&mut core), vec![Action::Signal { container: c.clone(), signal: Signal::Term }]);
    let signals = |actions: Vec<Action>| -> Vec<Action> {
        actions.into_iter().filter(|a| matches!(a, Action::Signal { .. })).collect()
    };
    core.handle_timer(11 * S);
    assert!(signals(drain(&mut core)).is_empty());
    core.handle_timer(12 * S);
    assert_eq!(signals(drain(&mut core)), vec![Action::Signal { container: c.clone(), signal: Signal::Kill }]);
    core.handle_exited(12 * S, &c, Exit::Signal(9));
    let sent = ack_pending(&mut core, 12 * S);
    assert_eq!(sent.iter().map(TaskStatus::state).collect::<Vec<_>>(), vec![TaskState::TaskKilled]);
}

fn exec_call(kind: v1::executor::call::Type) -> v1::executor::Call {
    v1::executor::Call {
        executor_id: ExecutorId { value: "ex-1".into() },
        framework_id: FrameworkId { value: "fw-1".into() },
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

fn post(core: &mut AgentCore, call: &v1::executor::Call) -> ExecutorReply {
    let request = ExecutorRequest {
        is_post: true,
        content_type: Some("application/x-protobuf".into()),
        accept: Some("application/x-protobuf".into()),
        body: call.encode_to_vec(),
    };
    core.handle_executor_call(S, &request)
}

fn subscribe_call() -> v1::executor::Call {
    v1::executor::Call { subscribe: Some(Default::default()), ..exec_call(v1::executor::call::Type::Subscribe) }
}

fn update_call(state: TaskState, uuid: u8) -> v1::executor::Call {
    let mut status = TaskStatus { task_id: TaskId { value: "t-1".into() }, state: state as i32, ..Default::default() };
    status.source = Some(task_status::Source::Executor as i32);
    status.uuid = Some(vec![uuid, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    v1::executor::Call {
        update: Some(v1::executor::call::Update { status }),
        ..exec_call(v1::executor::call::Type::Update)
    }
}

/// A registered core running executor `ex-1` (spawned, not subscribed) with task `t-1`.
fn with_executor() -> (AgentCore, u64, String) {
    let (mut core, attempt) = registered();
    launch(&mut core, S, attempt, executor_task("t-1"));
    let c = container_of(&drain(&mut core));
    core.handle_fetched(S, &c, Ok(()));
    let Some(Action::Spawn { process, .. }) = drain(&mut core).pop() else { panic!("no Spawn") };
    for var in ["MESOS_SLAVE_PID", "MESOS_AGENT_ENDPOINT", "MESOS_CHECKPOINT", "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"] {
        assert!(process.env.iter().any(|(k, _)| k == var), "{var} missing");
    }
    assert!(process.env.contains(&("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD".into(), "5secs".into())));
    core.handle_spawned(S, &c, Ok(()));
    assert!(drain(&mut core).is_empty());
    (core, attempt, c)
}

fn events(actions: &[Action], on: u64) -> Vec<executor::event::Type> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::ExecutorEvent { stream, event } if *stream == on => Some(event.r#type()),
            _ => None,
        })
        .collect()
}

#[test]
fn executor_api_answers_the_mesos_status_codes() {
    let (mut core, _, _) = with_executor();
    let base = ExecutorRequest {
        is_post: true,
        content_type: Some("application/x-protobuf".into()),
        accept: None,
        body: subscribe_call().encode_to_vec(),
    };
    let code = |core: &mut AgentCore, r: &ExecutorRequest| match core.handle_executor_call(S, r) {
        ExecutorReply::Plain(code, _) => code,
        ExecutorReply::Stream { .. } => 200,
    };
    assert_eq!(code(&mut core, &ExecutorRequest { is_post: false, ..base.clone() }), 405);
    assert_eq!(code(&mut core, &ExecutorRequest { content_type: None, ..base.clone() }), 400);
    assert_eq!(code(&mut core, &ExecutorRequest { content_type: Some("text/plain".into()), ..base.clone() }), 415);
    assert_eq!(code(&mut core, &ExecutorRequest { body: vec![0xff, 0xff], ..base.clone() }), 400);
    assert_eq!(code(&mut core, &ExecutorRequest { accept: Some("text/html".into()), ..base.clone() }), 406);
    let heartbeat = exec_call(v1::executor::call::Type::Heartbeat);
    assert_eq!(post(&mut core, &heartbeat), ExecutorReply::Plain(202, String::new()));
    assert!(matches!(post(&mut core, &exec_call(v1::executor::call::Type::Unknown)), ExecutorReply::Plain(501, _)));
    assert!(matches!(post(&mut core, &update_call(TaskState::TaskRunning, 1)), ExecutorReply::Plain(403, _)));
    assert!(matches!(post(&mut core, &update_call(TaskState::TaskStaging, 1)), ExecutorReply::Plain(400, _)));
    let mut bad_uuid = update_call(TaskState::TaskRunning, 1);
    bad_uuid.update.as_mut().unwrap().status.uuid = Some(vec![0; 16]);
    assert!(matches!(post(&mut core, &bad_uuid), ExecutorReply::Plain(400, t) if t.contains("Not a valid UUID")));
    let other_fw = v1::executor::Call { framework_id: FrameworkId { value: "nope".into() }, ..subscribe_call() };
    assert_eq!(post(&mut core, &other_fw), ExecutorReply::Plain(400, "Framework cannot be found".into()));
    let other_ex = v1::executor::Call { executor_id: ExecutorId { value: "nope".into() }, ..subscribe_call() };
    assert_eq!(post(&mut core, &other_ex), ExecutorReply::Plain(400, "Executor cannot be found".into()));
    let json = ExecutorRequest {
        content_type: Some("application/json".into()),
        body: br#"{"type":"HEARTBEAT","executor_id":{"value":"ex-1"},"framework_id":{"value":"fw-1"}}"#.to_vec(),
        ..base
    };
    assert_eq!(code(&mut core, &json), 202);
}

#[test]
fn executor_api_subscribe_update_ack_and_resubscribe() {
    let (mut core, attempt, _) = with_executor();
    let ExecutorReply::Stream { stream, format } = post(&mut core, &subscribe_call()) else { panic!("no stream") };
    assert_eq!(format, Format::Protobuf);
    use executor::event::Type as E;
    assert_eq!(events(&drain(&mut core), stream), vec![E::Subscribed, E::Launch]);
    // A second task for the same executor: a LAUNCH on the stream, no second process.
    launch(&mut core, 2 * S, attempt, executor_task("t-2"));
    let actions = drain(&mut core);
    assert_eq!(events(&actions, stream), vec![E::Launch]);
    assert!(!actions.iter().any(|a| matches!(a, Action::Fetch { .. } | Action::Spawn { .. })));
    assert_eq!(post(&mut core, &update_call(TaskState::TaskRunning, 1)), ExecutorReply::Plain(202, String::new()));
    let actions = drain(&mut core);
    assert_eq!(events(&actions, stream), vec![E::Acknowledged]);
    let forwarded = updates(&actions);
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].1.uuid, update_call(TaskState::TaskRunning, 1).update.unwrap().status.uuid);
    core.handle_update_answer(S, forwarded[0].0, Some(202));
    // Re-SUBSCRIBE with that update (already forwarded) and a new one: old stream closed, both
    // acknowledged, only the new one forwarded.
    let mut again = subscribe_call();
    let unacked = |s: u8| update_call(TaskState::TaskFinished, s).update.unwrap();
    again.subscribe.as_mut().unwrap().unacknowledged_updates =
        vec![update_call(TaskState::TaskRunning, 1).update.unwrap(), unacked(2)];
    let ExecutorReply::Stream { stream: second, .. } = post(&mut core, &again) else { panic!("no stream") };
    let actions = drain(&mut core);
    assert!(actions.contains(&Action::CloseStream { stream }));
    assert_eq!(events(&actions, second), vec![E::Subscribed, E::Acknowledged, E::Acknowledged]);
    let forwarded = updates(&actions);
    assert_eq!(forwarded.iter().map(|(_, s)| s.state()).collect::<Vec<_>>(), vec![TaskState::TaskFinished]);
}

#[test]
fn executor_not_subscribed_in_time_is_killed_and_its_tasks_fail() {
    let (mut core, _, c) = with_executor();
    assert_eq!(core.poll_timeout(), Some(10 * S), "the ping comes first");
    core.handle_timer(61 * S);
    let actions = drain(&mut core);
    assert!(actions.contains(&Action::Signal { container: c.clone(), signal: Signal::Kill }));
    core.handle_exited(61 * S, &c, Exit::Signal(9));
    let actions = drain(&mut core);
    let exits = |actions: &[Action]| -> Vec<Call> {
        actions.iter().filter_map(|a| if let Action::ExecutorExited(c) = a { Some(c.clone()) } else { None }).collect()
    };
    assert!(exits(&actions).is_empty(), "EXECUTOR_EXITED waits for the tasks' updates");
    let sent = updates(&actions);
    let status = &sent[0].1;
    assert_eq!(
        (status.state(), status.reason()),
        (TaskState::TaskFailed, task_status::Reason::ExecutorRegistrationTimeout)
    );
    core.handle_update_answer(62 * S, sent[0].0, Some(202));
    let exited = exits(&drain(&mut core));
    assert_eq!(exited.len(), 1, "sent once the master took the update");
    assert_eq!(exited[0].executor_exited.as_ref().unwrap().status, Some(-9));
    assert_eq!(exited[0].r#type(), call::Type::ExecutorExited);
}

#[test]
fn executor_fetch_failure_reaches_the_master_before_the_executor_exit() {
    let (mut core, attempt) = registered();
    launch(&mut core, S, attempt, executor_task("t-1"));
    let c = container_of(&drain(&mut core));
    core.handle_fetched(S, &c, Err("http://h/ex: connection refused".into()));
    let actions = drain(&mut core);
    assert!(!actions.iter().any(|a| matches!(a, Action::ExecutorExited(_))));
    let sent = updates(&actions);
    assert_eq!(sent[0].1.reason(), task_status::Reason::ContainerLaunchFailed);
    core.handle_update_answer(2 * S, sent[0].0, Some(503));
    assert!(!drain(&mut core).iter().any(|a| matches!(a, Action::ExecutorExited(_))), "still not taken");
    core.handle_timer(4 * S);
    let resent = updates(&drain(&mut core));
    core.handle_update_answer(4 * S, resent[0].0, Some(202));
    assert!(drain(&mut core).iter().any(|a| matches!(a, Action::ExecutorExited(_))));
}

#[test]
fn executor_exit_fails_its_unfinished_tasks_and_kill_goes_to_the_executor() {
    let (mut core, attempt, c) = with_executor();
    let ExecutorReply::Stream { stream, .. } = post(&mut core, &subscribe_call()) else { panic!("no stream") };
    drain(&mut core);
    let kill = event::Kill {
        framework_id: FrameworkId { value: "fw-1".into() },
        task_id: TaskId { value: "t-1".into() },
        kill_policy: None,
    };
    core.handle_event(
        2 * S,
        attempt,
        Event { r#type: Some(event::Type::Kill as i32), kill: Some(kill), ..Default::default() },
    );
    assert_eq!(events(&drain(&mut core), stream), vec![executor::event::Type::Kill]);
    core.handle_exited(3 * S, &c, Exit::Code(1));
    let actions = drain(&mut core);
    assert!(actions.contains(&Action::CloseStream { stream }));
    let status = &updates(&actions)[0].1;
    assert_eq!((status.state(), status.reason()), (TaskState::TaskFailed, task_status::Reason::ExecutorTerminated));
    assert_eq!(status.source(), task_status::Source::Agent);
}

#[test]
fn shutdown_framework_sends_shutdown_then_kills_after_grace_without_updates() {
    let (mut core, attempt, c) = with_executor();
    let ExecutorReply::Stream { stream, .. } = post(&mut core, &subscribe_call()) else { panic!("no stream") };
    drain(&mut core);
    let shutdown = event::ShutdownFramework { framework_id: FrameworkId { value: "fw-1".into() } };
    let e = Event {
        r#type: Some(event::Type::ShutdownFramework as i32),
        shutdown_framework: Some(shutdown),
        ..Default::default()
    };
    core.handle_event(2 * S, attempt, e);
    assert_eq!(events(&drain(&mut core), stream), vec![executor::event::Type::Shutdown]);
    core.handle_timer(7 * S);
    assert!(drain(&mut core).contains(&Action::Signal { container: c.clone(), signal: Signal::Kill }));
    core.handle_exited(7 * S, &c, Exit::Signal(9));
    let actions = drain(&mut core);
    assert!(updates(&actions).is_empty());
    assert!(actions.iter().any(|a| matches!(a, Action::ExecutorExited(_))));
}

#[test]
fn kill_of_a_launch_not_yet_delivered_is_answered_by_the_agent() {
    let (mut core, attempt, _) = with_executor();
    let kill = event::Kill {
        framework_id: FrameworkId { value: "fw-1".into() },
        task_id: TaskId { value: "t-1".into() },
        kill_policy: None,
    };
    core.handle_event(
        2 * S,
        attempt,
        Event { r#type: Some(event::Type::Kill as i32), kill: Some(kill), ..Default::default() },
    );
    let sent = updates(&drain(&mut core));
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].1.state(), sent[0].1.source()), (TaskState::TaskKilled, task_status::Source::Agent));
    let ExecutorReply::Stream { stream, .. } = post(&mut core, &subscribe_call()) else { panic!("no stream") };
    assert_eq!(events(&drain(&mut core), stream), vec![executor::event::Type::Subscribed]);
}

#[test]
fn executor_api_json_subscribe_streams_json_events() {
    let (mut core, _, _) = with_executor();
    let body = br#"{"type":"SUBSCRIBE","executor_id":{"value":"ex-1"},"framework_id":{"value":"fw-1"},"subscribe":{}}"#;
    let request = ExecutorRequest {
        is_post: true,
        content_type: Some("application/json".into()),
        accept: None,
        body: body.to_vec(),
    };
    let ExecutorReply::Stream { stream, format } = core.handle_executor_call(S, &request) else { panic!("no stream") };
    assert_eq!(format, Format::Json);
    let Some(Action::ExecutorEvent { stream: on, event }) = drain(&mut core).into_iter().next() else {
        panic!("no event")
    };
    assert_eq!(on, stream);
    let text = String::from_utf8(format.encode(&event)).unwrap();
    assert!(text.starts_with(r#"{"type":"SUBSCRIBED""#), "{text}");
    // JSON writes the explicit proto2 defaults, so compare what matters.
    let back = crate::mesos::json::decode_executor_event(text.as_bytes()).unwrap().subscribed.unwrap();
    let sent = event.subscribed.unwrap();
    assert_eq!((back.container_id, back.agent_info), (sent.container_id, sent.agent_info));
}
