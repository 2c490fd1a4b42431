//! Task dependencies (`"after"` in a workload) for `solve` and `run`: which tasks one pass
//! holds back, the order `run` submits in, and the critical path `run` prints at the end.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use offerpack::deps::{DependencyGraph, OnPredecessorFailure};
use offerpack::model::TaskId;
use offerpack::session::TaskRequest;
use offerpack::workload::Workload;

/// The workload without its tasks that wait for others (one pass finishes nothing, so they
/// are not pending in it), and those tasks with what they wait for, in document order.
pub fn hold_back(mut workload: Workload) -> (Workload, Vec<(TaskId, Vec<TaskId>)>) {
    if workload.after.iter().all(Vec::is_empty) {
        return (workload, Vec::new());
    }
    let mut waiting = Vec::new();
    let (mut tasks, mut queues) = (Vec::new(), Vec::new());
    let places = std::mem::take(&mut workload.task_queues);
    let mut places = places.into_iter();
    for (task, after) in std::mem::take(&mut workload.tasks).into_iter().zip(std::mem::take(&mut workload.after)) {
        let place = places.next();
        if after.is_empty() {
            tasks.push(task);
            queues.extend(place);
        } else {
            waiting.push((task.id, after));
        }
    }
    workload.after = vec![Vec::new(); tasks.len()];
    workload.tasks = tasks;
    workload.task_queues = queues;
    (workload, waiting)
}

/// `requests` reordered so that every task comes after the tasks it waits for (the session
/// wants predecessors submitted first), otherwise in the given order. The workload was checked
/// acyclic; should a cycle remain, its tasks keep their order at the end (the session then
/// refuses them with the cycle named).
pub fn dependency_order(requests: Vec<TaskRequest>) -> Vec<TaskRequest> {
    if requests.iter().all(|r| r.after.is_empty()) {
        return requests;
    }
    let index: HashMap<TaskId, usize> = requests.iter().enumerate().map(|(i, r)| (r.spec.id.clone(), i)).collect();
    let mut blocking: Vec<usize> = vec![0; requests.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); requests.len()];
    for (j, request) in requests.iter().enumerate() {
        let preds: BTreeSet<usize> = request.after.iter().filter_map(|p| index.get(p).copied()).collect();
        blocking[j] = preds.len();
        for i in preds {
            dependents[i].push(j);
        }
    }
    let mut ready: BTreeSet<usize> = (0..requests.len()).filter(|&j| blocking[j] == 0).collect();
    let mut order = Vec::with_capacity(requests.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &j in &dependents[i] {
            blocking[j] -= 1;
            if blocking[j] == 0 {
                ready.insert(j);
            }
        }
    }
    let placed: BTreeSet<usize> = order.iter().copied().collect();
    order.extend((0..requests.len()).filter(|j| !placed.contains(j)));
    let mut slots: Vec<Option<TaskRequest>> = requests.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The critical path lines for the end of `run`: its length in tasks and the time measured
/// along it, and the slowest chain when another; none when no task waits for another.
pub fn critical_path_lines(requests: &[(TaskId, Vec<TaskId>)], durations: &HashMap<TaskId, Duration>) -> Vec<String> {
    if requests.iter().all(|(_, after)| after.is_empty()) {
        return Vec::new();
    }
    let mut graph = DependencyGraph::new(OnPredecessorFailure::FailDependents);
    if let Err(error) = graph.submit(requests.to_vec()) {
        return vec![format!("critical path: none ({error})")];
    }
    let path = graph.critical_path(|id| durations.get(id).copied());
    let chain = |tasks: &[TaskId]| tasks.iter().map(TaskId::as_str).collect::<Vec<_>>().join(" → ");
    let mut lines = vec![format!(
        "critical path: {} tasks ({}), {:.2} s measured along it (RUNNING to FINISHED)",
        path.tasks.len(),
        chain(&path.tasks),
        path.time.as_secs_f64()
    )];
    if path.slowest != path.tasks {
        lines.push(format!(
            "  slowest chain: {} tasks ({}), {:.2} s",
            path.slowest.len(),
            chain(&path.slowest),
            path.slowest_time.as_secs_f64()
        ));
    }
    lines
}
