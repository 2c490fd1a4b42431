//! [`DependencyGraph`]: which tasks wait for which, and what a task's end releases or fails.

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::Direction;
use rustc_hash::{FxHashMap, FxHashSet};

use super::error::DependencyError;
use crate::model::TaskId;

/// What the dependents of a task that ended otherwise than finished do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnPredecessorFailure {
    /// They fail, and so do their own dependents, transitively (the default).
    #[default]
    FailDependents,
    /// The end counts like a finish: they run anyway.
    RunAnyway,
}

/// Where a task of the graph is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DependencyStatus {
    /// Some predecessor has not finished.
    Waiting,
    /// Every predecessor finished: the task may be placed.
    Released,
    /// It finished.
    Finished,
    /// It ended otherwise, or a predecessor's failure failed it.
    Failed,
}

/// What a change released and failed, each list in submission order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Tasks whose predecessors have all finished now: they may be placed.
    pub released: Vec<TaskId>,
    /// Waiting tasks failed by a predecessor's failure.
    pub failed: Vec<TaskId>,
}

/// One task in the graph.
#[derive(Clone, Debug)]
pub(super) struct Node {
    pub(super) id: TaskId,
    /// Submission order, for deterministic lists.
    pub(super) seq: u64,
    pub(super) status: DependencyStatus,
    /// Predecessors that have not finished (or, with `RunAnyway`, not ended).
    blocking: u32,
}

/// Task dependencies with cycle checks at submission and release as predecessors finish; see
/// the [module docs](super) for the rules.
#[derive(Clone, Debug, Default)]
pub struct DependencyGraph {
    /// Edges run from a predecessor to the task waiting for it.
    pub(super) graph: StableDiGraph<Node, ()>,
    nodes: FxHashMap<TaskId, NodeIndex>,
    policy: OnPredecessorFailure,
    next_seq: u64,
}

/// A predecessor named in a batch: a member of the batch, or a task known already.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Pred {
    Batch(usize),
    Known(NodeIndex),
}

impl DependencyGraph {
    /// An empty graph whose failures are handled by `policy`.
    pub fn new(policy: OnPredecessorFailure) -> DependencyGraph {
        DependencyGraph { policy, ..DependencyGraph::default() }
    }

    /// How failures are handled.
    pub fn policy(&self) -> OnPredecessorFailure {
        self.policy
    }

    /// Tasks known (in any state).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no task is known.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether the task is known.
    pub fn contains(&self, id: &TaskId) -> bool {
        self.nodes.contains_key(id)
    }

    /// Records a task that waits for nothing, in `status` (released, finished or failed), so
    /// that later batches may name it; a known id keeps its record (returns false), and
    /// `Waiting` is taken as `Released`.
    pub fn know(&mut self, id: TaskId, status: DependencyStatus) -> bool {
        if self.nodes.contains_key(&id) {
            return false;
        }
        let status = if status == DependencyStatus::Waiting { DependencyStatus::Released } else { status };
        let n = self.graph.add_node(Node { id: id.clone(), seq: self.next_seq, status, blocking: 0 });
        self.next_seq += 1;
        self.nodes.insert(id, n);
        true
    }

    /// Forgets `id` if it ended and every task waiting for it ended too, and so on backwards
    /// through its ended predecessors: what no waiting or released task needs any more. A
    /// forgotten id is unknown to later batches until [`DependencyGraph::know`] records it
    /// again. Keeps a long-lived graph as small as the dependencies still open.
    pub fn prune(&mut self, id: &TaskId) {
        let ended = |s: DependencyStatus| matches!(s, DependencyStatus::Finished | DependencyStatus::Failed);
        let mut work: Vec<NodeIndex> = self.nodes.get(id).copied().into_iter().collect();
        while let Some(n) = work.pop() {
            let Some(node) = self.graph.node_weight(n) else { continue };
            if !ended(node.status) {
                continue;
            }
            if self.graph.neighbors_directed(n, Direction::Outgoing).any(|d| !ended(self.graph[d].status)) {
                continue;
            }
            work.extend(self.graph.neighbors_directed(n, Direction::Incoming));
            if let Some(node) = self.graph.remove_node(n) {
                self.nodes.remove(&node.id);
            }
        }
    }

    /// A task's status; `None` for an unknown id.
    pub fn status(&self, id: &TaskId) -> Option<DependencyStatus> {
        self.nodes.get(id).map(|&n| self.graph[n].status)
    }

    /// Tasks waiting for predecessors.
    pub fn waiting(&self) -> usize {
        self.graph.node_weights().filter(|n| n.status == DependencyStatus::Waiting).count()
    }

    /// The predecessors a task still waits for, in submission order (empty for an unknown id).
    pub fn waiting_for(&self, id: &TaskId) -> Vec<TaskId> {
        let Some(&n) = self.nodes.get(id) else { return Vec::new() };
        let mut preds: Vec<NodeIndex> =
            self.graph.neighbors_directed(n, Direction::Incoming).filter(|&p| !self.satisfies(p)).collect();
        self.ids_in_order(&mut preds)
    }

    /// Adds a batch of tasks, each with the ids it waits for (see the module docs for what a
    /// batch may name). On success every task is in the graph: the returned lists name those
    /// released at once (nothing to wait for) and those failed at once (a predecessor failed
    /// before); the rest wait. On error nothing was added.
    pub fn submit(&mut self, batch: Vec<(TaskId, Vec<TaskId>)>) -> Result<Resolution, DependencyError> {
        let preds = self.batch_preds(&batch)?;
        if let Some(cycle) = batch_cycle(&preds) {
            return Err(DependencyError::Cycle(cycle.into_iter().map(|i| batch[i].0.clone()).collect()));
        }
        let mut added = Vec::with_capacity(batch.len());
        for (id, _) in batch {
            let node = Node { id: id.clone(), seq: self.next_seq, status: DependencyStatus::Waiting, blocking: 0 };
            self.next_seq += 1;
            let n = self.graph.add_node(node);
            self.nodes.insert(id, n);
            added.push(n);
        }
        let mut doomed = Vec::new();
        for (&n, preds) in added.iter().zip(&preds) {
            for pred in preds {
                let p = match *pred {
                    Pred::Batch(i) => added[i],
                    Pred::Known(p) => p,
                };
                self.graph.add_edge(p, n, ());
                if !self.satisfies(p) {
                    self.graph[n].blocking += 1;
                }
                if self.graph[p].status == DependencyStatus::Failed {
                    doomed.push(n);
                }
            }
        }
        let mut failed = Vec::new();
        for n in doomed {
            if self.graph[n].status == DependencyStatus::Waiting {
                self.graph[n].status = DependencyStatus::Failed;
                failed.push(n);
                failed.extend(self.fail_dependents(n));
            }
        }
        let mut released = Vec::new();
        for n in added {
            let node = &mut self.graph[n];
            if node.status == DependencyStatus::Waiting && node.blocking == 0 {
                node.status = DependencyStatus::Released;
                released.push(n);
            }
        }
        Ok(Resolution { released: self.ids_in_order(&mut released), failed: self.ids_in_order(&mut failed) })
    }

    /// A released task finished; returns the tasks this releases, in submission order. A task
    /// that is unknown, waiting or ended already changes nothing.
    pub fn finished(&mut self, id: &TaskId) -> Vec<TaskId> {
        let Some(&n) = self.nodes.get(id) else { return Vec::new() };
        if self.graph[n].status != DependencyStatus::Released {
            return Vec::new();
        }
        self.graph[n].status = DependencyStatus::Finished;
        let mut released = self.unblock_dependents(n);
        self.ids_in_order(&mut released)
    }

    /// A released or waiting task ended otherwise than finished (failed for good, killed, …).
    /// By the policy its waiting dependents fail transitively, or are unblocked as by a finish.
    /// An unknown or ended task changes nothing.
    pub fn failed(&mut self, id: &TaskId) -> Resolution {
        let Some(&n) = self.nodes.get(id) else { return Resolution::default() };
        if !matches!(self.graph[n].status, DependencyStatus::Released | DependencyStatus::Waiting) {
            return Resolution::default();
        }
        self.graph[n].status = DependencyStatus::Failed;
        match self.policy {
            OnPredecessorFailure::FailDependents => {
                let mut failed = self.fail_dependents(n);
                Resolution { released: Vec::new(), failed: self.ids_in_order(&mut failed) }
            }
            OnPredecessorFailure::RunAnyway => {
                let mut released = self.unblock_dependents(n);
                Resolution { released: self.ids_in_order(&mut released), failed: Vec::new() }
            }
        }
    }

    /// Whether a task no longer holds its dependents back.
    fn satisfies(&self, n: NodeIndex) -> bool {
        match self.graph[n].status {
            DependencyStatus::Finished => true,
            DependencyStatus::Failed => self.policy == OnPredecessorFailure::RunAnyway,
            DependencyStatus::Waiting | DependencyStatus::Released => false,
        }
    }

    /// One blocker fewer for each dependent of `n`; those left with none are released.
    fn unblock_dependents(&mut self, n: NodeIndex) -> Vec<NodeIndex> {
        let dependents: Vec<NodeIndex> = self.graph.neighbors_directed(n, Direction::Outgoing).collect();
        let mut released = Vec::new();
        for d in dependents {
            let node = &mut self.graph[d];
            node.blocking = node.blocking.saturating_sub(1);
            if node.status == DependencyStatus::Waiting && node.blocking == 0 {
                node.status = DependencyStatus::Released;
                released.push(d);
            }
        }
        released
    }

    /// Fails every waiting task reachable from `n` (breadth first); returns them.
    fn fail_dependents(&mut self, n: NodeIndex) -> Vec<NodeIndex> {
        let mut failed = Vec::new();
        let mut frontier = vec![n];
        while let Some(from) = frontier.pop() {
            let dependents: Vec<NodeIndex> = self.graph.neighbors_directed(from, Direction::Outgoing).collect();
            for d in dependents {
                if self.graph[d].status == DependencyStatus::Waiting {
                    self.graph[d].status = DependencyStatus::Failed;
                    failed.push(d);
                    frontier.push(d);
                }
            }
        }
        failed
    }

    /// The ids of `nodes`, sorted into submission order.
    fn ids_in_order(&self, nodes: &mut [NodeIndex]) -> Vec<TaskId> {
        nodes.sort_unstable_by_key(|&n| self.graph[n].seq);
        nodes.iter().map(|&n| self.graph[n].id.clone()).collect()
    }

    /// Each batch member's predecessors, without repeats; errors for repeated or unknown ids.
    fn batch_preds(&self, batch: &[(TaskId, Vec<TaskId>)]) -> Result<Vec<Vec<Pred>>, DependencyError> {
        let mut index: FxHashMap<&TaskId, usize> = FxHashMap::default();
        for (i, (id, _)) in batch.iter().enumerate() {
            if self.nodes.contains_key(id) || index.insert(id, i).is_some() {
                return Err(DependencyError::DuplicateTask(id.clone()));
            }
        }
        let mut all = Vec::with_capacity(batch.len());
        for (id, after) in batch {
            let mut seen = FxHashSet::default();
            let mut preds = Vec::with_capacity(after.len());
            for pred in after {
                let found = match (index.get(pred), self.nodes.get(pred)) {
                    (Some(&i), _) => Pred::Batch(i),
                    (None, Some(&n)) => Pred::Known(n),
                    (None, None) => {
                        let error = DependencyError::UnknownPredecessor { task: id.clone(), predecessor: pred.clone() };
                        return Err(error);
                    }
                };
                if seen.insert(found) {
                    preds.push(found);
                }
            }
            all.push(preds);
        }
        Ok(all)
    }
}

/// A cycle among the batch members (their indices, each waiting for the one before it and the
/// first for the last), if there is one. Tasks known already cannot be on a cycle: they wait
/// only for tasks known before them.
fn batch_cycle(preds: &[Vec<Pred>]) -> Option<Vec<usize>> {
    let mut local: DiGraph<(), ()> = DiGraph::with_capacity(preds.len(), 0);
    let nodes: Vec<_> = (0..preds.len()).map(|_| local.add_node(())).collect();
    for (j, preds) in preds.iter().enumerate() {
        for pred in preds {
            if let Pred::Batch(i) = *pred {
                local.add_edge(nodes[i], nodes[j], ());
            }
        }
    }
    // The cyclic component holding the earliest batch member, for a deterministic answer.
    let cyclic = tarjan_scc(&local)
        .into_iter()
        .filter(|scc| scc.len() > 1 || local.contains_edge(scc[0], scc[0]))
        .min_by_key(|scc| scc.iter().map(|n| n.index()).min())?;
    let start = cyclic.iter().copied().min_by_key(|n| n.index())?;
    let members: FxHashSet<_> = cyclic.iter().copied().collect();
    // Breadth first from `start` inside the component, back to `start`: a shortest cycle.
    let mut parent: FxHashMap<petgraph::graph::NodeIndex, petgraph::graph::NodeIndex> = FxHashMap::default();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(u) = queue.pop_front() {
        let mut next: Vec<_> = local.neighbors(u).filter(|v| members.contains(v)).collect();
        next.sort_unstable();
        for v in next {
            if v == start {
                let mut cycle = vec![u.index()];
                let mut at = u;
                while let Some(&p) = parent.get(&at) {
                    cycle.push(p.index());
                    at = p;
                }
                cycle.reverse();
                return Some(cycle);
            }
            if v != start && !parent.contains_key(&v) {
                parent.insert(v, u);
                queue.push_back(v);
            }
        }
    }
    None
}
