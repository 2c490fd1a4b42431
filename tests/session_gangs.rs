//! Gangs on the live path, on a virtual clock: a gang on one agent goes out as one
//! LAUNCH_GROUP run by a default executor, a gang over several agents as plain LAUNCHes in
//! each agent's ACCEPT, and a gang that cannot be placed whole launches nothing.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use harness::*;
use offerpack::mesos::v1;
use offerpack::mesos::v1::scheduler::Call;
use offerpack::session::{gang_executor_id, CallKind, CommandSpec, TaskRequest, TaskState};
use offerpack::TaskSpec;

fn member(id: &str, gang: Option<&str>, cpus: f64) -> TaskRequest {
    let spec = TaskSpec::builder(id, "train").scalar("cpus", cpus).scalar("mem", 128.0);
    let spec = match gang {
        Some(g) => spec.gang(g).build().unwrap(),
        None => spec.build().unwrap(),
    };
    TaskRequest::command(spec, CommandSpec::shell("./work"))
}

fn submit_all(h: &mut Harness, requests: Vec<TaskRequest>) {
    for request in requests {
        h.session.submit(request, h.now).unwrap();
    }
    h.drain();
    h.advance(MS * 20);
}

/// The task groups of an ACCEPT: (executor, task ids).
fn groups(call: &Call) -> Vec<(&v1::ExecutorInfo, Vec<&str>)> {
    let ops = call.accept.iter().flat_map(|a| &a.operations);
    ops.filter_map(|op| op.launch_group.as_ref())
        .map(|g| (&g.executor, g.task_group.tasks.iter().map(|t| t.task_id.value.as_str()).collect()))
        .collect()
}

#[test]
fn session_launches_a_gang_on_one_agent_as_one_launch_group() {
    let mut h = Harness::subscribed();
    let mut requests: Vec<TaskRequest> = (0..3).map(|i| member(&format!("w-{i}"), Some("job"), 1.0)).collect();
    requests.push(member("solo", None, 0.5));
    submit_all(&mut h, requests);
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.len(), 1);
    let ops = &accepts[0].accept.as_ref().unwrap().operations;
    assert_eq!(ops.len(), 2, "a LAUNCH for the task outside the gang, a LAUNCH_GROUP for the gang");
    assert_eq!(ops[0].r#type, Some(v1::offer::operation::Type::Launch as i32));
    assert_eq!(launched(&accepts[0]), ["solo"]);
    assert_eq!(ops[1].r#type, Some(v1::offer::operation::Type::LaunchGroup as i32));
    let groups = groups(&accepts[0]);
    let (executor, tasks) = &groups[0];
    assert_eq!(tasks, &["w-0", "w-1", "w-2"]);
    assert_eq!(executor.r#type, Some(v1::executor_info::Type::Default as i32));
    assert_eq!(executor.executor_id.value, gang_executor_id("job"));
    assert!(executor.command.is_none(), "a DEFAULT executor has no command");
    let held: Vec<(&str, f64)> =
        executor.resources.iter().filter_map(|r| Some((r.name.as_str(), r.scalar.as_ref()?.value))).collect();
    assert_eq!(held, [("cpus", 0.1), ("mem", 32.0)], "the executor's own share, reserved by the engine");
    let group = &ops[1].launch_group.as_ref().unwrap().task_group.tasks;
    assert!(group.iter().all(|t| t.executor.is_none() && t.command.is_some()));
    for id in ["w-0", "w-1", "w-2", "solo"] {
        assert_eq!(h.states(id), [TaskState::Pending, TaskState::Launched], "{id}");
    }
    h.event(update("w-1", "a-1", v1::TaskState::TaskRunning, Some(1)));
    assert_eq!(h.states("w-1").last(), Some(&TaskState::Running));
}

#[test]
fn session_launches_a_gang_over_agents_as_plain_launches() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, (0..2).map(|i| member(&format!("w-{i}"), Some("job"), 3.0)).collect());
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0), offer("o-2", "a-2", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.len(), 2, "one ACCEPT per agent");
    let mut all: Vec<String> = accepts.iter().flat_map(launched).collect();
    all.sort();
    assert_eq!(all, ["w-0", "w-1"]);
    assert!(accepts.iter().all(|a| groups(a).is_empty()), "no task group spans agents");
}

#[test]
fn session_launches_nothing_of_a_gang_that_cannot_be_whole() {
    let mut h = Harness::subscribed();
    let mut requests: Vec<TaskRequest> = (0..3).map(|i| member(&format!("w-{i}"), Some("job"), 3.0)).collect();
    requests.push(member("solo", None, 1.0));
    submit_all(&mut h, requests);
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0), offer("o-2", "a-2", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.iter().flat_map(launched).collect::<Vec<_>>(), ["solo"]);
    assert!(accepts.iter().all(|a| groups(a).is_empty()));
    let declined: Vec<String> = h.take(CallKind::Decline).iter().flat_map(offer_ids).collect();
    assert_eq!(declined.len(), 1, "the agent only the gang would have used is declined");
    for id in ["w-0", "w-1", "w-2"] {
        assert_eq!(h.states(id), [TaskState::Pending], "{id} waits for room for the whole gang");
    }
}
