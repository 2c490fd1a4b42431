//! LAUNCH_GROUP on the simulated master: a task group starts whole on one default executor, or
//! every task of it fails with TASK_ERROR (REASON_TASK_GROUP_INVALID) and nothing is taken.

use std::time::Duration;

use super::core_tests::{offers, subscribe, typed, updates, Fw};
use super::test_sim::Sim;
use super::CallOutcome;
use crate::mesos::v1::{self, scheduler::call, scheduler::Call, TaskState};

fn cpus(amount: f64) -> v1::Resource {
    v1::Resource {
        name: "cpus".into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value: amount }),
        ..Default::default()
    }
}

fn mem(amount: f64) -> v1::Resource {
    v1::Resource { name: "mem".into(), ..cpus(amount) }
}

fn group(fw: &Fw, offer: &v1::Offer, tasks: &[(&str, f64)]) -> Call {
    let infos = tasks
        .iter()
        .map(|&(id, amount)| v1::TaskInfo {
            name: id.into(),
            task_id: v1::TaskId { value: id.into() },
            agent_id: offer.agent_id.clone(),
            resources: vec![cpus(amount)],
            command: Some(v1::CommandInfo { value: Some("true".into()), ..Default::default() }),
            ..Default::default()
        })
        .collect();
    let executor = v1::ExecutorInfo {
        r#type: Some(v1::executor_info::Type::Default as i32),
        executor_id: v1::ExecutorId { value: "gang".into() },
        resources: vec![cpus(0.1), mem(32.0)],
        ..Default::default()
    };
    let op = v1::offer::Operation {
        r#type: Some(v1::offer::operation::Type::LaunchGroup as i32),
        launch_group: Some(v1::offer::operation::LaunchGroup {
            executor,
            task_group: v1::TaskGroupInfo { tasks: infos },
        }),
        ..Default::default()
    };
    let mut c = typed(fw, call::Type::Accept);
    c.accept = Some(call::Accept { offer_ids: vec![offer.id.clone()], operations: vec![op], filters: None });
    c
}

#[test]
fn launch_group_starts_every_task_of_the_group() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let offer = offers(&sim.events(fw.stream))[0].clone();
    let accepted = sim.call(group(&fw, &offer, &[("g-1", 1.0), ("g-2", 2.0)]), Some(&fw.stream_id));
    assert_eq!(accepted, CallOutcome::Accepted);
    sim.run_for(Duration::from_secs(1));
    let mut started: Vec<(String, TaskState)> =
        updates(&sim.events(fw.stream)).iter().map(|s| (s.task_id.value.clone(), s.state())).collect();
    started.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(started, [("g-1".into(), TaskState::TaskStarting), ("g-2".into(), TaskState::TaskStarting)]);
}

#[test]
fn launch_group_fails_every_task_when_one_is_invalid() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let offer = offers(&sim.events(fw.stream))[0].clone();
    // Four cpus offered: 1 + 3 + the executor's 0.1 do not fit.
    sim.call(group(&fw, &offer, &[("g-1", 1.0), ("g-2", 3.0)]), Some(&fw.stream_id));
    let failed = updates(&sim.events(fw.stream));
    assert_eq!(failed.len(), 2, "{failed:?}");
    for status in &failed {
        assert_eq!(status.state(), TaskState::TaskError);
        assert_eq!(status.reason(), v1::task_status::Reason::TaskGroupInvalid);
    }
    // Nothing was taken: the agent's whole four cpus come back in the next offer.
    sim.run_for(Duration::from_secs(10));
    let again = offers(&sim.events(fw.stream));
    let offered: f64 = again
        .iter()
        .filter(|o| o.agent_id == offer.agent_id)
        .flat_map(|o| &o.resources)
        .filter(|r| r.name == "cpus")
        .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
        .sum();
    assert_eq!(offered, 4.0);
}

#[test]
fn launch_group_needs_an_executor_of_at_least_the_minimum() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let offer = offers(&sim.events(fw.stream))[0].clone();
    let mut c = group(&fw, &offer, &[("g-1", 1.0)]);
    let op = &mut c.accept.as_mut().unwrap().operations[0];
    op.launch_group.as_mut().unwrap().executor.resources = vec![cpus(0.1)];
    sim.call(c, Some(&fw.stream_id));
    let failed = updates(&sim.events(fw.stream));
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].state(), TaskState::TaskError);
    assert!(failed[0].message().contains("less memory"), "{:?}", failed[0].message);
}
