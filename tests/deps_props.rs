//! Property tests of the task dependency graph against straight oracles: release order is
//! topological and never early, cycles are always rejected with a real cycle, and a failure
//! fails exactly the transitive dependents (breadth-first search over the input edges), and the
//! critical path is a longest chain by count and by time (every chain listed).

use std::collections::{BTreeSet, VecDeque};

use offerpack::deps::{DependencyError, DependencyGraph, OnPredecessorFailure};
use offerpack::model::TaskId;
use proptest::prelude::*;

/// A random DAG: `n` tasks, `after[j]` lists predecessors `i < j` (in index order), plus a
/// shuffled submission order and whether to submit one task at a time.
#[derive(Clone, Debug)]
struct Dag {
    after: Vec<Vec<usize>>,
    order: Vec<usize>,
    one_by_one: bool,
}

fn dag() -> impl Strategy<Value = Dag> {
    (1usize..24).prop_flat_map(|n| {
        let edges = proptest::collection::vec(proptest::bool::weighted(0.2), n * n);
        let order = Just((0..n).collect::<Vec<_>>()).prop_shuffle();
        (edges, order, any::<bool>()).prop_map(move |(edges, order, one_by_one)| {
            let after = (0..n).map(|j| (0..j).filter(|&i| edges[i * n + j]).collect()).collect();
            Dag { after, order, one_by_one }
        })
    })
}

fn name(i: usize) -> TaskId {
    TaskId::new(format!("t{i}"))
}

fn index(id: &TaskId) -> usize {
    id.as_str()[1..].parse().unwrap()
}

/// Submits the DAG (shuffled as one batch, or one task at a time in index order, which keeps
/// predecessors known); the tasks released at once.
fn submit(graph: &mut DependencyGraph, dag: &Dag) -> Vec<usize> {
    let entry = |j: usize| (name(j), dag.after[j].iter().map(|&i| name(i)).collect::<Vec<_>>());
    let mut released = Vec::new();
    if dag.one_by_one {
        for j in 0..dag.after.len() {
            let out = graph.submit(vec![entry(j)]).unwrap();
            released.extend(out.released.iter().map(index));
        }
    } else {
        let out = graph.submit(dag.order.iter().map(|&j| entry(j)).collect()).unwrap();
        released.extend(out.released.iter().map(index));
    }
    released
}

/// Every task reachable from `from` over the edges, `from` excluded: the oracle of failure
/// propagation.
fn reachable(after: &[Vec<usize>], from: usize) -> BTreeSet<usize> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([from]);
    while let Some(u) = queue.pop_front() {
        for (j, preds) in after.iter().enumerate() {
            if preds.contains(&u) && seen.insert(j) {
                queue.push_back(j);
            }
        }
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Finishing released tasks in a random order: every task is released exactly once, only
    /// after all its predecessors finished, and the release order is a topological order;
    /// pruning after each finish changes none of that and leaves nothing at the end.
    #[test]
    fn deps_release_order_is_topological(
        dag in dag(),
        picks in proptest::collection::vec(any::<usize>(), 0..64),
        prune in any::<bool>(),
    ) {
        let n = dag.after.len();
        let mut graph = DependencyGraph::new(OnPredecessorFailure::FailDependents);
        let mut ready: Vec<usize> = submit(&mut graph, &dag);
        let mut order = ready.clone();
        let mut finished = BTreeSet::new();
        for &j in &ready {
            prop_assert!(dag.after[j].is_empty(), "t{j} released with predecessors");
        }
        let mut picks = picks.into_iter();
        while !ready.is_empty() {
            let at = picks.next().unwrap_or(0) % ready.len();
            let done = ready.swap_remove(at);
            finished.insert(done);
            let released = graph.finished(&name(done));
            if prune {
                graph.prune(&name(done));
            }
            for id in released {
                let j = index(&id);
                prop_assert!(dag.after[j].iter().all(|p| finished.contains(p)), "t{j} released early");
                order.push(j);
                ready.push(j);
            }
        }
        prop_assert_eq!(order.len(), n, "every task released once");
        let mut position = vec![usize::MAX; n];
        for (k, &j) in order.iter().enumerate() {
            prop_assert_eq!(position[j], usize::MAX, "t{} released twice", j);
            position[j] = k;
        }
        for (j, preds) in dag.after.iter().enumerate() {
            for &i in preds {
                prop_assert!(position[i] < position[j]);
            }
        }
        prop_assert_eq!(graph.waiting(), 0);
        prop_assert_eq!(graph.is_empty(), prune, "pruning forgets every ended task, and only then");
    }

    /// Failing some released tasks and finishing others: each failure fails exactly the
    /// transitive dependents not failed before (a breadth-first oracle), and nothing failed is
    /// ever released.
    #[test]
    fn deps_failure_reaches_exactly_transitive_dependents(
        dag in dag(),
        steps in proptest::collection::vec((any::<usize>(), proptest::bool::weighted(0.3)), 0..64),
    ) {
        let mut graph = DependencyGraph::new(OnPredecessorFailure::FailDependents);
        let mut ready = submit(&mut graph, &dag);
        let mut failed = BTreeSet::new();
        for (pick, fail) in steps {
            if ready.is_empty() {
                break;
            }
            let done = ready.swap_remove(pick % ready.len());
            if fail {
                let out = graph.failed(&name(done));
                prop_assert!(out.released.is_empty());
                let got: BTreeSet<usize> = out.failed.iter().map(index).collect();
                let expected: BTreeSet<usize> = reachable(&dag.after, done).difference(&failed).copied().collect();
                prop_assert_eq!(&got, &expected);
                failed.insert(done);
                failed.extend(got);
            } else {
                for id in graph.finished(&name(done)) {
                    prop_assert!(!failed.contains(&index(&id)), "a failed task was released");
                    ready.push(index(&id));
                }
            }
        }
    }

    /// Any directed graph submitted as one batch: rejected exactly when it has a cycle (by
    /// repeatedly removing tasks that wait for nothing left), and the cycle named is one.
    #[test]
    fn deps_cycles_rejected_with_a_real_cycle(
        n in 1usize..12,
        edges in proptest::collection::vec((0usize..12, 0usize..12), 0..30),
    ) {
        let mut after = vec![BTreeSet::new(); n];
        for (i, j) in edges {
            if i < n && j < n {
                after[j].insert(i);
            }
        }
        // The oracle: peel off tasks whose predecessors are all peeled; a cycle is what stays.
        let mut peeled = vec![false; n];
        loop {
            let next = (0..n).find(|&j| !peeled[j] && after[j].iter().all(|&i| peeled[i]));
            match next {
                Some(j) => peeled[j] = true,
                None => break,
            }
        }
        let cyclic = peeled.iter().any(|p| !p);
        let batch = (0..n).map(|j| (name(j), after[j].iter().map(|&i| name(i)).collect())).collect();
        let mut graph = DependencyGraph::default();
        match graph.submit(batch) {
            Ok(_) => prop_assert!(!cyclic, "a cyclic batch was accepted"),
            Err(DependencyError::Cycle(cycle)) => {
                prop_assert!(cyclic, "an acyclic batch was rejected");
                prop_assert!(graph.is_empty());
                let members: Vec<usize> = cycle.iter().map(index).collect();
                let distinct: BTreeSet<usize> = members.iter().copied().collect();
                prop_assert_eq!(distinct.len(), members.len(), "a task twice on the cycle");
                for (k, &j) in members.iter().enumerate() {
                    let before = members[(k + members.len() - 1) % members.len()];
                    prop_assert!(after[j].contains(&before), "t{} does not wait for t{}", j, before);
                }
            }
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

/// Every chain of the DAG (each task waiting for the one before it), by depth-first search from
/// every task: the oracle of the critical path. The DAGs it is given are small.
fn all_chains(after: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = after.len();
    let mut dependents = vec![Vec::new(); n];
    for (j, preds) in after.iter().enumerate() {
        for &i in preds {
            dependents[i].push(j);
        }
    }
    let mut chains = Vec::new();
    let mut stack: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    while let Some(chain) = stack.pop() {
        let last = chain[chain.len() - 1];
        for &next in &dependents[last] {
            let mut longer = chain.clone();
            longer.push(next);
            stack.push(longer);
        }
        chains.push(chain);
    }
    chains
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn deps_critical_path_is_a_longest_chain_by_count_and_by_time(
        dag in dag().prop_filter("small enough to list every chain", |d| d.after.len() <= 12),
        secs in proptest::collection::vec(proptest::option::weighted(0.8, 0u64..100), 12),
    ) {
        let mut graph = DependencyGraph::default();
        submit(&mut graph, &dag);
        let duration = |i: usize| std::time::Duration::from_secs(secs[i].unwrap_or(0));
        let path = graph.critical_path(|id| secs[index(id)].map(std::time::Duration::from_secs));
        let chains = all_chains(&dag.after);
        let is_chain = |ids: &[TaskId]| {
            let ix: Vec<usize> = ids.iter().map(index).collect();
            !ix.is_empty() && ix.windows(2).all(|w| dag.after[w[1]].contains(&w[0]))
        };
        prop_assert!(is_chain(&path.tasks), "not a chain: {:?}", path.tasks);
        prop_assert!(is_chain(&path.slowest), "not a chain: {:?}", path.slowest);
        let longest = chains.iter().map(Vec::len).max().unwrap_or(0);
        prop_assert_eq!(path.tasks.len(), longest);
        let time_of = |ix: &mut dyn Iterator<Item = usize>| ix.map(duration).sum::<std::time::Duration>();
        prop_assert_eq!(path.time, time_of(&mut path.tasks.iter().map(index)));
        let slowest = chains.iter().map(|c| time_of(&mut c.iter().copied())).max().unwrap_or_default();
        prop_assert_eq!(path.slowest_time, slowest);
        prop_assert_eq!(path.slowest_time, time_of(&mut path.slowest.iter().map(index)));
    }
}
