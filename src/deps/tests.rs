use std::time::Duration;

use super::*;
use crate::model::TaskId;

fn id(s: &str) -> TaskId {
    TaskId::new(s)
}

fn ids(list: &[&str]) -> Vec<TaskId> {
    list.iter().map(|s| id(s)).collect()
}

fn diamond(policy: OnPredecessorFailure) -> DependencyGraph {
    let mut graph = DependencyGraph::new(policy);
    let batch =
        vec![(id("d"), ids(&["b", "c"])), (id("b"), ids(&["a"])), (id("c"), ids(&["a", "a"])), (id("a"), vec![])];
    let out = graph.submit(batch).unwrap();
    assert_eq!(out.released, ids(&["a"]));
    graph
}

#[test]
fn graph_diamond_releases_in_order() {
    let mut graph = diamond(OnPredecessorFailure::FailDependents);
    assert_eq!(graph.waiting(), 3);
    assert_eq!(graph.waiting_for(&id("d")), ids(&["b", "c"]));
    assert_eq!(graph.finished(&id("a")), ids(&["b", "c"]));
    assert_eq!(graph.finished(&id("a")), Vec::<TaskId>::new(), "a second finish changes nothing");
    assert_eq!(graph.finished(&id("c")), Vec::<TaskId>::new());
    assert_eq!(graph.waiting_for(&id("d")), ids(&["b"]));
    assert_eq!(graph.finished(&id("b")), ids(&["d"]));
    assert_eq!(graph.status(&id("d")), Some(DependencyStatus::Released));
}

#[test]
fn graph_failure_fails_transitive_dependents() {
    let mut graph = diamond(OnPredecessorFailure::FailDependents);
    graph.finished(&id("a"));
    let out = graph.failed(&id("b"));
    assert_eq!(out.failed, ids(&["d"]));
    assert!(out.released.is_empty());
    assert_eq!(graph.finished(&id("c")), Vec::<TaskId>::new(), "d failed already");
    // A later task naming a failed one fails at once.
    let out = graph.submit(vec![(id("e"), ids(&["d"])), (id("f"), ids(&["e"]))]).unwrap();
    assert_eq!(out.failed, ids(&["e", "f"]));
}

#[test]
fn graph_run_anyway_releases_after_failure() {
    let mut graph = diamond(OnPredecessorFailure::RunAnyway);
    graph.finished(&id("a"));
    assert_eq!(graph.failed(&id("b")).released, Vec::<TaskId>::new());
    assert_eq!(graph.failed(&id("c")).released, ids(&["d"]));
}

#[test]
fn graph_rejects_cycles_and_unknown_ids_whole() {
    let mut graph = DependencyGraph::new(OnPredecessorFailure::default());
    graph.submit(vec![(id("a"), vec![])]).unwrap();
    let batch =
        vec![(id("p"), ids(&["a"])), (id("x"), ids(&["z", "p"])), (id("y"), ids(&["x"])), (id("z"), ids(&["y"]))];
    let error = graph.submit(batch).unwrap_err();
    assert_eq!(error, DependencyError::Cycle(ids(&["x", "y", "z"])));
    assert_eq!(graph.len(), 1, "nothing of a rejected batch is kept");
    let error = graph.submit(vec![(id("s"), ids(&["s"]))]).unwrap_err();
    assert_eq!(error.to_string(), "dependency cycle: s → s (each task waits for the one before it)");
    let error = graph.submit(vec![(id("b"), ids(&["nope"]))]).unwrap_err();
    assert_eq!(error, DependencyError::UnknownPredecessor { task: id("b"), predecessor: id("nope") });
    let error = graph.submit(vec![(id("a"), vec![])]).unwrap_err();
    assert_eq!(error, DependencyError::DuplicateTask(id("a")));
}

#[test]
fn graph_critical_path_by_count_and_time() {
    let mut graph = diamond(OnPredecessorFailure::FailDependents);
    graph.submit(vec![(id("slow"), vec![])]).unwrap();
    let secs = |s: &TaskId| match s.as_str() {
        "slow" => Some(Duration::from_secs(100)),
        "c" => Some(Duration::from_secs(5)),
        "b" => Some(Duration::from_secs(1)),
        _ => None,
    };
    let path = graph.critical_path(secs);
    assert_eq!(path.tasks, ids(&["a", "b", "d"]), "ties go to the earliest submitted (b before c)");
    assert_eq!(path.time, Duration::from_secs(1));
    assert_eq!(path.slowest, ids(&["slow"]));
    assert_eq!(path.slowest_time, Duration::from_secs(100));
    assert_eq!(DependencyGraph::default().critical_path(|_| None), CriticalPath::default());
}

#[test]
fn graph_prune_keeps_only_open_dependencies() {
    let mut graph = diamond(OnPredecessorFailure::FailDependents);
    graph.finished(&id("a"));
    graph.prune(&id("a"));
    assert_eq!(graph.len(), 4, "b and c still run: a stays");
    graph.finished(&id("b"));
    graph.prune(&id("b"));
    assert_eq!(graph.len(), 4, "d still waits for c");
    assert_eq!(graph.finished(&id("c")), ids(&["d"]));
    graph.prune(&id("c"));
    assert_eq!(graph.len(), 4, "d is released, not ended");
    graph.finished(&id("d"));
    graph.prune(&id("d"));
    assert!(graph.is_empty());
    assert!(graph.know(id("a"), DependencyStatus::Finished));
    assert!(!graph.know(id("a"), DependencyStatus::Failed), "a known id keeps its record");
    assert_eq!(graph.submit(vec![(id("e"), ids(&["a"]))]).unwrap().released, ids(&["e"]));
}
