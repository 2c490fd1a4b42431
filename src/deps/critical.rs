//! The critical path: the longest chain of tasks each waiting for the one before it.

use std::time::Duration;

use petgraph::algo::toposort;
use petgraph::stable_graph::NodeIndex;
use petgraph::Direction;
use rustc_hash::FxHashMap;

use super::graph::DependencyGraph;
use crate::model::TaskId;

/// The longest chains of the graph (see [`DependencyGraph::critical_path`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CriticalPath {
    /// The longest chain by count of tasks, first to last (ties: the chain ending at the
    /// earliest submitted task, through the earliest submitted predecessors).
    pub tasks: Vec<TaskId>,
    /// The known durations summed along `tasks`.
    pub time: Duration,
    /// The longest chain by summed duration (a task of unknown duration counts zero).
    pub slowest: Vec<TaskId>,
    /// The durations summed along `slowest`.
    pub slowest_time: Duration,
}

impl DependencyGraph {
    /// The longest chains of dependent tasks, by count and by time, given each task's duration
    /// (`None`: unknown). Empty for an empty graph.
    pub fn critical_path(&self, duration: impl Fn(&TaskId) -> Option<Duration>) -> CriticalPath {
        let time = |n: NodeIndex| duration(&self.graph[n].id).unwrap_or_default();
        let by_count = self.longest(|_| 1);
        let by_time = self.longest(|n| time(n).as_nanos());
        CriticalPath {
            time: by_count.iter().map(|&n| time(n)).sum(),
            tasks: by_count.iter().map(|&n| self.graph[n].id.clone()).collect(),
            slowest_time: by_time.iter().map(|&n| time(n)).sum(),
            slowest: by_time.iter().map(|&n| self.graph[n].id.clone()).collect(),
        }
    }

    /// The chain of largest summed `weight`, first to last: one pass in topological order.
    fn longest(&self, weight: impl Fn(NodeIndex) -> u128) -> Vec<NodeIndex> {
        // The graph is acyclic by construction (cyclic batches are rejected).
        let Ok(order) = toposort(&self.graph, None) else { return Vec::new() };
        let seq = |n: NodeIndex| self.graph[n].seq;
        // Per task: the heaviest chain ending there, and the predecessor on it.
        let mut best: FxHashMap<NodeIndex, (u128, Option<NodeIndex>)> = FxHashMap::default();
        for &n in &order {
            let from = self
                .graph
                .neighbors_directed(n, Direction::Incoming)
                .filter_map(|p| best.get(&p).map(|&(w, _)| (w, p)))
                .max_by(|a, b| a.0.cmp(&b.0).then(seq(b.1).cmp(&seq(a.1))));
            let total = weight(n).saturating_add(from.map_or(0, |(w, _)| w));
            best.insert(n, (total, from.map(|(_, p)| p)));
        }
        let end = best.iter().max_by(|a, b| a.1 .0.cmp(&b.1 .0).then(seq(*b.0).cmp(&seq(*a.0)))).map(|(&n, _)| n);
        let mut chain = Vec::new();
        let mut at = end;
        while let Some(n) = at {
            chain.push(n);
            at = best.get(&n).and_then(|&(_, p)| p);
        }
        chain.reverse();
        chain
    }
}
