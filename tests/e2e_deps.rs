//! End to end task dependencies: the real driver against the simulated master over loopback
//! HTTP. A diamond (a → b, c → d) runs layer by layer; a predecessor the master fails fails its
//! transitive dependents, which are never launched.
#![cfg(all(feature = "driver", feature = "master"))]

mod e2e_support;

use std::collections::BTreeMap;

use e2e_support::*;
use offerpack::driver::Encoding;
use offerpack::master::EXIT_LABEL;
use offerpack::session::{TaskState, Update};

/// The position in the history of each task's first update in `state`.
fn first(run: &Run, state: TaskState) -> BTreeMap<String, usize> {
    let mut at = BTreeMap::new();
    for (i, update) in run.history.iter().enumerate() {
        if let Update::Task(t) = update {
            if t.state == state {
                at.entry(t.task_id.to_string()).or_insert(i);
            }
        }
    }
    at
}

#[tokio::test]
async fn e2e_deps_diamond_runs_layer_by_layer() {
    let cluster = Cluster::start(master_config(3)).await;
    let config = framework_config("deps-diamond", &[cluster.proxy.url()], Encoding::Protobuf);
    let mut run = Run::start(config, &[], 1.0).await;
    for (id, after) in [("a", &[][..]), ("b", &["a"][..]), ("c", &["a"]), ("d", &["b", "c"])] {
        run.handle.submit(task(id, 1.0).after(after.iter().copied())).await.expect("submitted");
    }
    let tasks: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
    run.finish_all(&cluster.log, &tasks).await;
    let (launched, finished) = (first(&run, TaskState::Launched), first(&run, TaskState::Finished));
    for (task, preds) in [("b", &["a"][..]), ("c", &["a"]), ("d", &["b", "c"])] {
        for pred in preds {
            assert!(finished[*pred] < launched[task], "{task} launched before {pred} finished: {:#?}", run.history);
        }
    }
    run.stop_failover(&cluster.log).await;
}

#[tokio::test]
async fn e2e_deps_failed_predecessor_fails_dependents_unlaunched() {
    let cluster = Cluster::start(master_config(2)).await;
    let config = framework_config("deps-failed", &[cluster.proxy.url()], Encoding::Json);
    let mut run = Run::start(config, &[], 1.0).await;
    run.handle.submit(task("a", 1.0).label(EXIT_LABEL, "failed")).await.expect("submitted");
    run.handle.submit(task("b", 1.0).after(["a"])).await.expect("submitted");
    run.handle.submit(task("c", 1.0).after(["b"])).await.expect("submitted");
    run.handle.submit(task("x", 1.0)).await.expect("submitted");
    let mut gave_up = BTreeMap::new();
    while gave_up.len() < 3 || run.states.get("x") != Some(&TaskState::Finished) {
        if let Update::GaveUp { task, attempts, last_state } = run.next(&cluster.log).await {
            gave_up.insert(task.to_string(), (attempts, last_state));
        }
    }
    let expected: BTreeMap<String, (u32, TaskState)> =
        [("a", 1), ("b", 0), ("c", 0)].into_iter().map(|(t, n)| (t.to_owned(), (n, TaskState::Failed))).collect();
    assert_eq!(gave_up, expected);
    let launched = first(&run, TaskState::Launched);
    assert!(!launched.contains_key("b") && !launched.contains_key("c"), "dependents launched: {launched:?}");
    let reasons: Vec<String> = run
        .history
        .iter()
        .filter_map(|u| match u {
            Update::Task(t) if t.task_id.as_str() == "c" && t.state == TaskState::Failed => t.message.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, ["predecessor a ended Failed"]);
    run.stop_failover(&cluster.log).await;
}
