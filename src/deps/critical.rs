//! The critical path: the longest chain of tasks each waiting for the one before it.

use std::time::Duration;

use petgraph::algo::toposort;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::NodeIndexable;
use petgraph::Direction;

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
        // The graph is acyclic by construction (cyclic batches are rejected).
        let Ok(order) = toposort(&self.graph, None) else { return CriticalPath::default() };
        let mut times = vec![Duration::ZERO; self.graph.node_bound()];
        for &n in &order {
            times[n.index()] = duration(&self.graph[n].id).unwrap_or_default();
        }
        let time = |n: NodeIndex| times[n.index()];
        let by_count = self.longest(&order, |_| 1);
        let by_time = self.longest(&order, |n| time(n).as_nanos());
        CriticalPath {
            time: by_count.iter().map(|&n| time(n)).sum(),
            tasks: by_count.iter().map(|&n| self.graph[n].id.clone()).collect(),
            slowest_time: by_time.iter().map(|&n| time(n)).sum(),
            slowest: by_time.iter().map(|&n| self.graph[n].id.clone()).collect(),
        }
    }

    /// The chain of largest summed `weight`, first to last: one pass over `order`, the graph's
    /// nodes in topological order. Ties go to the earlier submitted task, at the end and at
    /// every step back.
    fn longest(&self, order: &[NodeIndex], weight: impl Fn(NodeIndex) -> u128) -> Vec<NodeIndex> {
        let seq = |n: NodeIndex| self.graph[n].seq;
        // Per node index: the heaviest chain ending there, and the predecessor on it.
        let mut best: Vec<(u128, Option<NodeIndex>)> = vec![(0, None); self.graph.node_bound()];
        let better = |a: (u128, NodeIndex), b: (u128, NodeIndex)| a.0 > b.0 || (a.0 == b.0 && seq(a.1) < seq(b.1));
        let mut end: Option<(u128, NodeIndex)> = None;
        for &n in order {
            let mut from: Option<(u128, NodeIndex)> = None;
            for p in self.graph.neighbors_directed(n, Direction::Incoming) {
                let candidate = (best[p.index()].0, p);
                if from.is_none_or(|f| better(candidate, f)) {
                    from = Some(candidate);
                }
            }
            let total = weight(n).saturating_add(from.map_or(0, |(w, _)| w));
            best[n.index()] = (total, from.map(|(_, p)| p));
            if end.is_none_or(|e| better((total, n), e)) {
                end = Some((total, n));
            }
        }
        let mut chain = Vec::new();
        let mut at = end.map(|(_, n)| n);
        while let Some(n) = at {
            chain.push(n);
            at = best[n.index()].1;
        }
        chain.reverse();
        chain
    }
}
