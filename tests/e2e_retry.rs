//! End to end retries: the real driver against the simulated master over loopback HTTP. Tasks
//! the master fails (label `offerpack.sim/exit = failed`) are launched again under fresh Mesos
//! ids until their policy is used up and then given up; tasks lost with their agent are
//! requeued by the session (no resubmission by the framework) and finish elsewhere.
#![cfg(all(feature = "driver", feature = "master"))]

mod e2e_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use e2e_support::*;
use offerpack::driver::Encoding;
use offerpack::master::EXIT_LABEL;
use offerpack::session::{CallKind, RetryPolicy, TaskState, Update};

/// Accepted (202) launches per Mesos task id, with the agent of each.
fn accepted_launches(log: &[Entry]) -> BTreeMap<String, Vec<String>> {
    let mut launches: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, call, status, _) in calls(log, CallKind::Accept) {
        if status != Some(202) {
            continue;
        }
        let Some(accept) = &call.accept else { continue };
        for info in accept.operations.iter().flat_map(|o| &o.launch).flat_map(|l| &l.task_infos) {
            launches.entry(info.task_id.value.clone()).or_default().push(info.agent_id.value.clone());
        }
    }
    launches
}

/// Every attempt fails: three launches per task (`t`, `t.retry-1`, `t.retry-2`), one terminal
/// update each for the framework, then `GaveUp` with three attempts.
#[tokio::test]
async fn e2e_retry_failing_tasks_are_relaunched_then_given_up() {
    let cluster = Cluster::start(master_config(3)).await;
    let mut config = framework_config("retry-fail", &[cluster.proxy.url()], Encoding::Protobuf);
    config.session.retry = RetryPolicy::attempts(3).with_backoff(Duration::from_millis(50), Duration::from_millis(200));
    let tasks = task_ids(4);
    let mut run = Run::start(config, &[], 1.0).await;
    for id in &tasks {
        run.handle.submit(task(id, 1.0).label(EXIT_LABEL, "failed")).await.expect("submitted");
    }
    let mut gave_up = BTreeMap::new();
    while gave_up.len() < tasks.len() {
        if let Update::GaveUp { task, attempts, last_state } = run.next(&cluster.log).await {
            assert!(gave_up.insert(task.to_string(), (attempts, last_state)).is_none(), "{task} given up twice");
        }
    }
    for id in &tasks {
        assert_eq!(gave_up[id], (3, TaskState::Failed), "{id}");
        let terminal: Vec<TaskState> = run
            .history
            .iter()
            .filter_map(|u| match u {
                Update::Task(t) if t.task_id.as_str() == id && t.state.is_terminal() => Some(t.state),
                _ => None,
            })
            .collect();
        assert_eq!(terminal, [TaskState::Failed], "{id}: one terminal update, the last attempt's");
    }
    cluster.log.wait_until("every update with a uuid acknowledged", |log| all_acked(log, true)).await;
    let launches = cluster.log.with(accepted_launches);
    let expected: BTreeSet<String> =
        tasks.iter().flat_map(|t| [t.clone(), format!("{t}.retry-1"), format!("{t}.retry-2")]).collect();
    assert_eq!(launches.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert!(launches.values().all(|agents| agents.len() == 1), "each attempt launched once: {launches:?}");
    run.stop_failover(&cluster.log).await;
}

/// An agent is lost while tasks run on it: the session requeues them by policy and they finish
/// elsewhere under `<id>.retry-1`, without the framework submitting anything again.
#[tokio::test]
async fn e2e_retry_tasks_lost_with_their_agent_are_requeued_and_finish() {
    let mut master = master_config(5);
    master.tasks.run = Some(Duration::from_millis(800));
    let cluster = Cluster::start(master).await;
    let mut config = framework_config("retry-lost", &[cluster.proxy.url()], Encoding::Json);
    config.session.retry = RetryPolicy::attempts(2).with_backoff(Duration::from_millis(50), Duration::from_millis(50));
    let tasks = task_ids(20);
    let mut run = Run::start(config, &tasks, 1.0).await;
    let running_on = |run: &Run| -> BTreeMap<String, usize> {
        let mut per_agent = BTreeMap::new();
        for (id, state) in &run.states {
            if *state == TaskState::Running {
                let agent = run.history.iter().rev().find_map(|u| match u {
                    Update::Task(t) if t.task_id.as_str() == id => t.agent_id.clone(),
                    _ => None,
                });
                *per_agent.entry(agent.map(|a| a.to_string()).unwrap_or_default()).or_default() += 1;
            }
        }
        per_agent
    };
    run.until(&cluster.log, |_, r| running_on(r).values().any(|n| *n >= 2)).await;
    let victim = running_on(&run).into_iter().find(|(_, n)| *n >= 2).unwrap().0;
    let index = cluster.master.agent_ids().iter().position(|a| *a == victim).unwrap();
    assert!(cluster.master.lose_agent(index).await);

    let mut requeued = BTreeSet::new();
    while !run.all_finished(&tasks) {
        match run.next(&cluster.log).await {
            Update::Task(t) if t.state == TaskState::Pending && t.reason == Some("REASON_AGENT_REMOVED") => {
                assert!(requeued.insert(t.task_id.to_string()), "requeued twice: {t:?}");
            }
            Update::Task(t) => assert!(!t.state.is_terminal() || t.state == TaskState::Finished, "{t:?}"),
            Update::GaveUp { task, .. } => panic!("{task} given up"),
            _ => {}
        }
    }
    assert!(requeued.len() >= 2, "{requeued:?}");
    cluster.log.wait_until("every update with a uuid acknowledged", |log| all_acked(log, true)).await;
    let launches = cluster.log.with(accepted_launches);
    for id in &requeued {
        assert_eq!(
            launches[id].as_slice(),
            std::slice::from_ref(&victim),
            "{id}: the first attempt ran on the lost agent"
        );
        let retry = &launches[&format!("{id}.retry-1")];
        assert_eq!(retry.len(), 1, "{id}");
        assert_ne!(retry[0], victim, "{id} placed again on the lost agent");
    }
    run.stop_failover(&cluster.log).await;
}
