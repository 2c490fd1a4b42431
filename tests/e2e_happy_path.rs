//! End to end, no faults: the real driver (`Framework::start`, reqwest) runs 20 tasks over 5
//! simulated agents of the real simulated master, over loopback HTTP, in protobuf and in JSON.
//! See `e2e_support` for the recording proxy, the timings (real time, short intervals) and the
//! checks made at the end of every scenario.
#![cfg(all(feature = "driver", feature = "master"))]

mod e2e_support;

use std::collections::BTreeMap;
use std::time::Duration;

use e2e_support::*;
use offerpack::driver::Encoding;
use offerpack::master::DURATION_LABEL;
use offerpack::mesos::v1::scheduler::event;
use offerpack::session::{CallKind, CommandSpec, ExecutorSpec, StopMode, StopReason, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;

async fn happy_path(encoding: Encoding) {
    let cluster = Cluster::start(master_config(5)).await;
    let tasks = task_ids(20);
    let config = framework_config("happy", &[cluster.proxy.url()], encoding);
    let mut run = Run::start(config, &tasks, 1.0).await;
    let launches = finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, true).await;

    assert!(launches.values().all(|n| *n == 1), "every task launched exactly once: {launches:?}");
    assert_eq!(launches.len(), 20);
    assert!(!assert_same_framework_id(&cluster.log, &run, 1).is_empty());
    let log = cluster.log.snapshot();
    assert_eq!(subscribed_ids(&log).len(), 1, "one subscription, never lost\n{}", cluster.log.dump());
    // Every copy with a uuid acknowledged exactly once (no duplicates here: one copy each).
    let copies = uuid_copies(&log);
    assert!(copies.values().all(|n| *n == 1), "no re-sends were needed: {copies:?}");
    assert_eq!(acks(&log), copies, "one ACKNOWLEDGE per update with a uuid");
    assert_eq!(copies.len(), 20 * 3, "STARTING, RUNNING, FINISHED per task");
    // Placement: the 20 one-cpu tasks fill the five 4-cpu agents.
    let mut per_agent: BTreeMap<String, usize> = BTreeMap::new();
    for (_, c, status, _) in calls(&log, CallKind::Accept) {
        assert_eq!(status, Some(202));
        for task in &c.accept.as_ref().unwrap().operations[0].launch.as_ref().unwrap().task_infos {
            *per_agent.entry(task.agent_id.value.clone()).or_default() += 1;
        }
    }
    assert_eq!(per_agent.len(), 5, "{per_agent:?}");
    assert!(per_agent.values().all(|n| *n == 4), "{per_agent:?}");
    // Nothing went wrong on the way.
    for update in &run.history {
        assert!(
            !matches!(update, Update::Warning(_) | Update::Disconnected { .. }),
            "unexpected {update:?}\n{}",
            cluster.log.dump()
        );
    }
}

#[tokio::test]
async fn e2e_happy_path_protobuf() {
    happy_path(Encoding::Protobuf).await;
}

#[tokio::test]
async fn e2e_happy_path_json() {
    happy_path(Encoding::Json).await;
}

/// TEARDOWN: the driver sends it, the master answers 202 and removes the framework (a later
/// SUBSCRIBE with its id is refused with ERROR "Framework has been removed"), the driver stops;
/// a new driver failing over to the removed framework stops on that ERROR.
#[tokio::test]
async fn e2e_teardown_removes_the_framework() {
    let cluster = Cluster::start(master_config(2)).await;
    let tasks = task_ids(4);
    let config = framework_config("teardown", &[cluster.proxy.url()], Encoding::Protobuf);
    let mut run = Run::start(config, &tasks, 1.0).await;
    run.finish_all(&cluster.log, &tasks).await;
    let id = run.subscribed_ids()[0].clone();
    run.handle.stop(StopMode::Teardown);
    let stopped = run.until(&cluster.log, |u, _| matches!(u, Update::Stopped(_))).await;
    assert_eq!(stopped, Update::Stopped(StopReason::Requested(StopMode::Teardown)));
    let teardowns = cluster.log.with(|log| calls(log, CallKind::Teardown));
    assert_eq!(teardowns.len(), 1);
    assert_eq!(teardowns[0].2, Some(202));
    assert_eq!(teardowns[0].1.framework_id.as_ref().map(|f| f.value.as_str()), Some(id.as_str()));
    let (_, first) = RawClient::subscribe_as(&cluster.master.url(), &id).await;
    assert_eq!(first.r#type(), event::Type::Error, "{first:?}");
    assert_eq!(first.error.unwrap().message, "Framework has been removed");
    // A driver configured to fail over to that framework is told so and stops.
    let config = framework_config("teardown", &[cluster.proxy.url()], Encoding::Protobuf).framework_id(id);
    let mut late = Run::start(config, &[], 1.0).await;
    let stopped = late.until(&cluster.log, |u, _| matches!(u, Update::Stopped(_))).await;
    assert_eq!(stopped, Update::Stopped(StopReason::MasterError("Framework has been removed".into())));
}

/// What the real master validates in the driver's TaskInfos beyond cpus and mem: port ranges
/// carved from the offers, a custom executor shared by tasks on one agent, and a KILL of a
/// running task (TASK_KILLED, acknowledged like any update).
#[tokio::test]
async fn e2e_ports_executors_and_kill() {
    let cluster = Cluster::start(master_config(3)).await;
    let config = framework_config("kinds", &[cluster.proxy.url()], Encoding::Json);
    let mut run = Run::start(config, &[], 1.0).await;
    let spec = |id: &str| TaskSpec::builder(id, "kinds").scalar("cpus", 0.5).scalar("mem", 64.0);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let id = format!("ports-{i}");
        let request = TaskRequest::command(spec(&id).ports(2).build().unwrap(), CommandSpec::shell("true"));
        run.handle.submit(request).await.unwrap();
        tasks.push(id);
    }
    for i in 0..4 {
        let id = format!("exec-{i}");
        let executor = ExecutorSpec::new("shared-executor", CommandSpec::shell("./executor"));
        run.handle.submit(TaskRequest::executor(spec(&id).build().unwrap(), executor)).await.unwrap();
        tasks.push(id);
    }
    let forever = TaskRequest::command(spec("victim").build().unwrap(), CommandSpec::shell("sleep 1000"))
        .label(DURATION_LABEL, "forever");
    run.handle.submit(forever).await.unwrap();
    run.until(&cluster.log, |_, r| r.states.get("victim") == Some(&TaskState::Running)).await;
    run.handle.kill("victim").await.unwrap();
    run.until(&cluster.log, |_, r| r.states.get("victim") == Some(&TaskState::Killed)).await;
    tasks.push("victim".to_owned());
    // finish_and_check wants FINISHED everywhere: check the others, then the kill's acks.
    let others = &tasks[..tasks.len() - 1];
    run.finish_all(&cluster.log, others).await;
    cluster.log.wait_until("every update with a uuid acknowledged", |log| all_acked(log, true)).await;
    let log = cluster.log.snapshot();
    check_log(&log, others);
    let kills = calls(&log, CallKind::Kill);
    assert_eq!(kills.len(), 1);
    assert_eq!(kills[0].1.kill.as_ref().unwrap().task_id.value, "victim");
    let killed = statuses(&log).into_iter().any(|s| s.task_id.value == "victim" && s.uuid.is_some());
    assert!(killed, "TASK_KILLED came as a reliable update");
    // Ports: two per task, inside the agents' 31000-32000, never the same twice on one agent.
    let mut used: BTreeMap<(String, u64), String> = BTreeMap::new();
    for (_, c, _, _) in calls(&log, CallKind::Accept) {
        for info in &c.accept.as_ref().unwrap().operations[0].launch.as_ref().unwrap().task_infos {
            let ports: Vec<u64> = info
                .resources
                .iter()
                .filter(|r| r.name == "ports")
                .flat_map(|r| &r.ranges.as_ref().unwrap().range)
                .flat_map(|r| r.begin..=r.end)
                .collect();
            if info.task_id.value.starts_with("ports-") {
                assert_eq!(ports.len(), 2, "{info:?}");
            }
            for port in ports {
                assert!((31000..=32000).contains(&port));
                let clash = used.insert((info.agent_id.value.clone(), port), info.task_id.value.clone());
                assert!(clash.is_none(), "port {port} given twice on one agent");
            }
        }
    }
    let warnings: Vec<_> = run.history.iter().filter(|u| matches!(u, Update::Warning(_))).collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// Regression: a task submitted while launches are in flight (no SUPPRESS yet) must not wait out
/// the filter the master put on the ACCEPT's unused resources (`refuse_seconds`): the session
/// sends REVIVE when a fresh task could not be placed, and the free resources come at once.
#[tokio::test]
async fn e2e_task_submitted_during_launches_gets_free_resources_at_once() {
    let mut master = master_config(2);
    master.tasks.staging = Duration::from_secs(2); // launches stay in flight (no update) for 2 s
    master.tasks.run = Some(Duration::from_secs(10));
    let cluster = Cluster::start(master).await;
    let config = framework_config("revive", &[cluster.proxy.url()], Encoding::Protobuf).refuse_seconds(5.0);
    let mut run = Run::start(config, &task_ids(6), 1.0).await; // 6 of the 8 cpus: 2 stay free
    run.until(&cluster.log, |_, r| r.count(TaskState::Launched) == 6).await;
    run.handle.submit(task("late", 1.0)).await.unwrap();
    let submitted = tokio::time::Instant::now();
    let placed = tokio::time::timeout(
        Duration::from_millis(1500),
        run.until(
            &cluster.log,
            |u, _| matches!(u, Update::Task(t) if t.task_id.as_str() == "late" && t.state == TaskState::Launched),
        ),
    )
    .await;
    let revives = cluster.log.with(|log| calls(log, CallKind::Revive).len());
    assert!(
        placed.is_ok(),
        "the late task is still pending {:?} after its submission (REVIVEs sent: {revives}) although 2 cpus are \
         free\n{}",
        submitted.elapsed(),
        cluster.log.dump()
    );
}
