//! End to end preemption: the real driver against the simulated master over loopback HTTP. Two
//! low-priority tasks fill the one agent; a task of higher priority arrives, one low task is
//! killed for it, reported preempted and pending again, and once there is room it runs again
//! under its next attempt; every task finishes, no retry is spent and none is given up.
#![cfg(all(feature = "driver", feature = "master"))]

mod e2e_support;

use e2e_support::*;
use offerpack::driver::Encoding;
use offerpack::preempt::DisruptionBudgets;
use offerpack::session::{CallKind, CommandSpec, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;

/// A task of `group` and `priority` asking for 2 cpus, running `ms` on the simulated agent.
fn ranked(id: &str, group: &str, priority: i32, ms: u64) -> TaskRequest {
    let spec = TaskSpec::builder(id, group).scalar("cpus", 2.0).scalar("mem", 64.0).priority(priority).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("true")).label("offerpack.sim/duration_ms", ms.to_string())
}

#[tokio::test]
async fn e2e_preempted_task_runs_again_and_every_task_finishes() {
    let cluster = Cluster::start(master_config(1)).await;
    let mut config = framework_config("preempt", &[cluster.proxy.url()], Encoding::Protobuf);
    config.session.preemption = Some(DisruptionBudgets::new());
    let mut run = Run::start(config, &[], 1.0).await;
    for id in ["low-1", "low-2"] {
        run.handle.submit(ranked(id, "batch", 0, 1_500)).await.expect("submitted");
    }
    run.until(&cluster.log, |_, r| r.count(TaskState::Running) == 2).await;
    run.handle.submit(ranked("urgent", "web", 10, 200)).await.expect("submitted");
    let preempted = run.until(&cluster.log, |u, _| matches!(u, Update::Preempted { .. })).await;
    let Update::Preempted { task: victim, by, agent_id, state } = preempted else { unreachable!() };
    assert_eq!(by.as_str(), "urgent");
    assert_eq!(state, TaskState::Killed);
    assert!(agent_id.is_some(), "the agent it was killed on");
    assert!(["low-1", "low-2"].contains(&victim.as_str()), "{victim}");

    let tasks: Vec<String> = ["low-1", "low-2", "urgent"].map(String::from).to_vec();
    run.finish_all(&cluster.log, &tasks).await;
    let last_attempt = |task: &str| {
        run.history.iter().rev().find_map(|u| match u {
            Update::Task(t) if t.task_id.as_str() == task => Some(t.attempt),
            _ => None,
        })
    };
    assert_eq!(last_attempt(victim.as_str()), Some(2), "the victim finished as its second attempt");
    assert_eq!(last_attempt("urgent"), Some(1));
    assert!(!run.history.iter().any(|u| matches!(u, Update::GaveUp { .. })));
    let preemptions = run.history.iter().filter(|u| matches!(u, Update::Preempted { .. })).count();
    assert_eq!(preemptions, 1, "one victim was enough: {:#?}", run.history);

    let kills: Vec<String> = cluster
        .log
        .with(|log| calls(log, CallKind::Kill).into_iter().map(|(_, c, _, _)| c.kill.unwrap().task_id.value).collect());
    assert_eq!(kills, [victim.to_string()], "one KILL, for the victim's first attempt");
    let launched: Vec<String> = cluster
        .log
        .with(|log| calls(log, CallKind::Accept).iter().flat_map(|(_, c, _, _)| launched_tasks(c)).collect());
    let again = format!("{victim}.retry-1");
    assert!(launched.contains(&again), "relaunched as {again}: {launched:?}");
    assert_eq!(launched.len(), 4, "two lows, the urgent task, the victim again: {launched:?}");
    run.stop_failover(&cluster.log).await;
}
