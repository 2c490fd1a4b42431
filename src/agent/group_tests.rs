//! LAUNCH_GROUP on the agent: a task group with a default executor (no command) runs the
//! agent's own default executor program, fetches the group's URIs into its sandbox, and hands
//! the whole group to it as one executor LAUNCH_GROUP event.

use std::time::Duration;

use prost::Message;

use super::core::{Action, AgentConfig, AgentCore};
use super::core_tests::{ack_all, command_task, config, drain, registered, registered_event};
use super::executor_api::{ExecutorReply, ExecutorRequest};
use crate::mesos::agent_api::{event, Event};
use crate::mesos::v1::{self, executor, ExecutorId, ExecutorInfo, FrameworkId, FrameworkInfo, TaskState};

const S: Duration = Duration::from_secs(1);

fn default_executor() -> ExecutorInfo {
    ExecutorInfo {
        r#type: Some(v1::executor_info::Type::Default as i32),
        executor_id: ExecutorId { value: "offerpack-gang-job".into() },
        framework_id: Some(FrameworkId { value: "fw-1".into() }),
        ..Default::default()
    }
}

fn launch_group(core: &mut AgentCore, attempt: u64) {
    let framework = FrameworkInfo {
        user: "u".into(),
        name: "fw".into(),
        id: Some(FrameworkId { value: "fw-1".into() }),
        ..Default::default()
    };
    let tasks = vec![command_task("g-1", &["http://repo/a.tgz"]), command_task("g-2", &["http://repo/b"])];
    let launch = event::Launch { framework_info: framework, tasks, executor: Some(default_executor()) };
    let event = Event { r#type: Some(event::Type::Launch as i32), launch: Some(launch), ..Default::default() };
    core.handle_event(S, attempt, event);
}

#[test]
fn agent_runs_a_task_group_on_its_default_executor() {
    let (mut core, attempt) = registered();
    launch_group(&mut core, attempt);
    let actions = drain(&mut core);
    let Some(Action::Fetch { container, uris, .. }) = actions.iter().find(|a| matches!(a, Action::Fetch { .. })) else {
        panic!("no Fetch in {actions:?}")
    };
    let fetched: Vec<&str> = uris.iter().map(|u| u.value.as_str()).collect();
    assert_eq!(fetched, ["http://repo/a.tgz", "http://repo/b"]);
    let container = container.clone();
    core.handle_fetched(S, &container, Ok(()));
    let Some(Action::Spawn { process, .. }) = drain(&mut core).pop() else { panic!("no Spawn") };
    assert_eq!((process.program.as_str(), process.args.as_slice()), ("/opt/offerpack", &["executor".to_owned()][..]));
    assert!(process.env.contains(&("MESOS_EXECUTOR_ID".into(), "offerpack-gang-job".into())));
    core.handle_spawned(S, &container, Ok(()));
    let subscribe = v1::executor::Call {
        executor_id: ExecutorId { value: "offerpack-gang-job".into() },
        framework_id: FrameworkId { value: "fw-1".into() },
        r#type: Some(v1::executor::call::Type::Subscribe as i32),
        subscribe: Some(Default::default()),
        ..Default::default()
    };
    let request = ExecutorRequest {
        is_post: true,
        content_type: Some("application/x-protobuf".into()),
        accept: Some("application/x-protobuf".into()),
        body: subscribe.encode_to_vec(),
    };
    let ExecutorReply::Stream { stream, .. } = core.handle_executor_call(S, &request) else { panic!("no stream") };
    let delivered: Vec<executor::Event> = drain(&mut core)
        .into_iter()
        .filter_map(|a| match a {
            Action::ExecutorEvent { stream: s, event } if s == stream => Some(event),
            _ => None,
        })
        .collect();
    let kinds: Vec<executor::event::Type> = delivered.iter().map(|e| e.r#type()).collect();
    assert_eq!(kinds, [executor::event::Type::Subscribed, executor::event::Type::LaunchGroup]);
    let group = &delivered[1].launch_group.as_ref().unwrap().task_group.tasks;
    assert_eq!(group.iter().map(|t| t.task_id.value.as_str()).collect::<Vec<_>>(), ["g-1", "g-2"]);
}

#[test]
fn agent_without_a_default_executor_fails_the_whole_group() {
    let mut core = AgentCore::new(AgentConfig { default_executor: None, ..config() });
    core.handle_start(Duration::ZERO);
    let attempt = match drain(&mut core).as_slice() {
        [Action::Register { attempt, .. }] => *attempt,
        other => panic!("expected one Register, got {other:?}"),
    };
    core.handle_event(Duration::ZERO, attempt, registered_event("a-1", 10.0));
    drain(&mut core);
    launch_group(&mut core, attempt);
    let container = match drain(&mut core).into_iter().find(|a| matches!(a, Action::Fetch { .. })) {
        Some(Action::Fetch { container, .. }) => container,
        _ => panic!("no Fetch"),
    };
    core.handle_fetched(S, &container, Ok(()));
    let actions = drain(&mut core);
    let statuses = ack_all(&mut core, S, actions);
    let failed: Vec<(&str, TaskState)> = statuses
        .iter()
        .filter(|s| s.state() == TaskState::TaskFailed)
        .map(|s| (s.task_id.value.as_str(), s.state()))
        .collect();
    assert_eq!(failed, [("g-1", TaskState::TaskFailed), ("g-2", TaskState::TaskFailed)]);
}
