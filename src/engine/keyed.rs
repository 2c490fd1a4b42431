//! The keyed selector: one candidate index for tasks of every shape, when the fitness ranks
//! agents by a key of their own ([`Fitness::ranks_by_key`]).
//!
//! The per-shape index (`index`) scores every agent once per task shape, so a pass costs what
//! its shapes cost: thousands of shapes meant thousands of scorings of every agent. A bin-packing
//! fitness does not need that: for agents of equal totals, the agent that is fuller for one task
//! is fuller for any task, so one order serves every shape, and only *whether the task fits*
//! depends on the shape. Here agents sit in trees (see `treap`) by attribute bucket and by totals,
//! each ordered by the fitness's key, and a task's best agent in a tree is the first, in order,
//! with room for it that passes the group-dependent checks. Scores are then computed for one
//! agent per tree, and the best of those wins, by the same rank as the scan (total, local part,
//! agent), so plans do not change.
//!
//! Agents turned down by a group-dependent check (`hostname:UNIQUE`, a claim of another group)
//! are parked out of their tree while classes with the same group and the same agent-scoped
//! constraints keep selecting — the answer holds until a commit touches the agent's host — so a
//! group of tasks of many shapes skips its own hosts once, not once per task. In a one-shot
//! pass room only shrinks, so an agent without room for the least any of the index's classes
//! asks leaves its tree for good instead of being passed over by every later search.

use std::sync::Arc;

use super::class::TaskClass;
use super::evaluate::{better, claimed_by_other, first_failing, fits_resources, local_score, shared_score, Rank};
use super::index::{for_each_candidate, BucketIx};
use super::select::LogCursor;
use super::state::PassState;
use super::treap::{Arena, Root};
use crate::plugins::{AgentView, Fitness, PassView, TaskView};
use crate::tables::{nonzero_index, AgentIx, Dim, GroupIx};

nonzero_index! {
    /// A tree of a keyed index: agents of one attribute bucket with equal totals.
    TreeIx
}

/// Candidate agents for every class that shares static filters and attribute buckets.
pub(crate) struct KeyedIndex {
    arena: Arena,
    /// Tree of each agent, or `None` when a static constraint rules it out.
    tree_of: Vec<Option<TreeIx>>,
    trees: Vec<Root>,
    /// Per tree: the totals of its agents, and its bucket.
    tree_totals: Vec<Vec<i64>>,
    tree_bucket: Vec<BucketIx>,
    /// Per attribute bucket: its trees (one per distinct totals) and an agent of it, whose
    /// attribute-scoped answers are the bucket's.
    buckets: Vec<(Vec<TreeIx>, AgentIx)>,
    /// How much of the commit log this index has seen.
    pub cursor: LogCursor,
    /// Agents out of their tree because they failed a group-dependent check of classes with
    /// group `parked_group` and the agent-scoped constraints `parked_checks` (by address).
    parked: Vec<AgentIx>,
    parked_group: Option<GroupIx>,
    parked_checks: Vec<usize>,
    /// The ask being looked for, as (arena column, amount).
    ask: Vec<(usize, i64)>,
    /// Scratch: buckets to search, as (attribute-scoped score, bucket).
    order: Vec<(f64, BucketIx)>,
    /// Scratch: agents with room that failed a group-dependent check in one search.
    failed: Vec<AgentIx>,
    /// Per column, the least any class of the index asks, when agents with less may leave
    /// for good (a one-shot pass, where room only shrinks); empty otherwise.
    floor: Vec<i64>,
}

/// Agents with room that fail a group-dependent check and are passed over in one search before
/// they are parked: a group of a few tasks passes over its own hosts at little cost, a large
/// group parks them once.
const PARK_AFTER: usize = 8;

impl std::fmt::Debug for KeyedIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedIndex").field("trees", &self.trees.len()).field("synced", &self.cursor.seen()).finish()
    }
}

/// The columns of an agent in the arena: free amount per dimension over all roles, then free
/// ports.
fn columns(state: &PassState, agent: AgentIx) -> impl Iterator<Item = i64> + '_ {
    let ports: u32 = state.slot(agent).free_ports();
    Dim::all(state.n_dims()).map(move |d| state.free_all_roles(agent, d)).chain(std::iter::once(i64::from(ports)))
}

impl KeyedIndex {
    /// Places every agent that passes `class`'s static constraints in its tree.
    pub fn build(
        state: &PassState,
        class: &TaskClass,
        fitness: &dyn Fitness,
        task: &TaskView<'_>,
        log_len: usize,
        floor: Vec<i64>,
    ) -> KeyedIndex {
        let n = state.n_agents();
        let nd = state.n_dims();
        let mut index = KeyedIndex {
            arena: Arena::new(n, nd + 1),
            tree_of: vec![None; n],
            trees: Vec::new(),
            tree_totals: Vec::new(),
            tree_bucket: Vec::new(),
            buckets: Vec::new(),
            cursor: LogCursor::at(log_len),
            parked: Vec::new(),
            parked_group: None,
            parked_checks: Vec::new(),
            ask: Vec::new(),
            order: Vec::new(),
            failed: Vec::new(),
            floor,
        };
        // Buckets by attribute values; in each, one tree per distinct totals.
        let mut members: Vec<Vec<AgentIx>> = Vec::new();
        for_each_candidate(state, class, task, |agent, bucket| {
            if bucket.get() == index.buckets.len() {
                index.buckets.push((Vec::new(), agent));
            }
            let tree = index.tree_for(state, bucket, agent);
            index.tree_of[agent.get()] = Some(tree);
            if index.dead(state, agent) {
                return;
            }
            index.arena.set(agent, fitness.rank_key(&AgentView::new(state, agent)), columns(state, agent));
            if members.len() <= tree.get() {
                members.resize_with(tree.get() + 1, Vec::new);
            }
            members[tree.get()].push(agent);
        });
        for (root, agents) in index.trees.iter_mut().zip(&mut members) {
            index.arena.build(root, agents);
        }
        index
    }

    /// Puts `agent` back in its tree with its current key and free amounts.
    fn rescore(&mut self, state: &PassState, fitness: &dyn Fitness, agent: AgentIx) {
        let Some(tree) = self.tree_of[agent.get()] else {
            return;
        };
        if self.arena.contains(agent) {
            self.arena.remove(&mut self.trees[tree.get()], agent);
        } else if let Some(i) = self.parked.iter().position(|&parked| parked == agent) {
            self.parked.swap_remove(i);
        }
        // Re-offered resources can change the agent's size, and with it its tree.
        let tree = self.tree_for(state, self.tree_bucket[tree.get()], agent);
        self.tree_of[agent.get()] = Some(tree);
        if self.dead(state, agent) {
            return;
        }
        let key = fitness.rank_key(&AgentView::new(state, agent));
        self.arena.insert(&mut self.trees[tree.get()], agent, key, columns(state, agent));
    }

    /// Whether `agent` lacks room for the least ask of every class of the index (see
    /// `floor`): it stays out of its tree.
    fn dead(&self, state: &PassState, agent: AgentIx) -> bool {
        !self.floor.is_empty() && columns(state, agent).zip(&self.floor).any(|(free, &least)| free < least)
    }

    /// The tree of `bucket` for agents of `agent`'s totals, made when there is none yet.
    fn tree_for(&mut self, state: &PassState, bucket: BucketIx, agent: AgentIx) -> TreeIx {
        let totals = state.totals(agent);
        let trees = &self.buckets[bucket.get()].0;
        if let Some(&tree) = trees.iter().find(|&&t| self.tree_totals[t.get()] == totals) {
            return tree;
        }
        let tree = TreeIx::new(self.trees.len());
        self.trees.push(Root::default());
        self.tree_totals.push(totals.to_vec());
        self.tree_bucket.push(bucket);
        self.buckets[bucket.get()].0.push(tree);
        tree
    }

    /// Re-keys the agents touched by commits since the last call.
    pub fn sync(&mut self, state: &PassState, fitness: &dyn Fitness, log: &[AgentIx]) {
        for &touched in &log[self.cursor.advance(log.len())..] {
            let host = state.slot(touched).host_value();
            for agent in state.agents_on_host(host) {
                self.rescore(state, fitness, agent);
            }
        }
    }

    /// The best agent for `class`: over buckets and their trees, the first agent in order with
    /// room that passes the group-dependent checks, with shared constraints and scores applied.
    pub fn select(
        &mut self,
        state: &PassState,
        class: &TaskClass,
        fitness: &dyn Fitness,
        task: &TaskView<'_>,
    ) -> Option<AgentIx> {
        self.park_for(class);
        let pass = PassView::new(state);
        let ports = state.n_dims();
        self.ask.clear();
        self.ask.extend(class.ask.iter().map(|&(d, amount)| (d.get(), amount)));
        if class.ports.total() > 0 {
            self.ask.push((ports, i64::from(class.ports.total())));
        }
        // Buckets that pass the attribute-scoped constraints, with their attribute-scoped score
        // (the same for every agent of the bucket), best first.
        self.order.clear();
        for (b, &(_, sample)) in self.buckets.iter().enumerate() {
            let sample = AgentView::new(state, sample);
            if first_failing(class, &class.stages.shared_hard, task, &sample, &pass).is_none() {
                self.order.push((shared_score(class, task, &sample, &pass), BucketIx::new(b)));
            }
        }
        self.order.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        // A keyed class's local score is its fitness alone, at most its weight.
        let most_local = class.fitness_weight;
        let mut best: Option<Rank> = None;
        for i in 0..self.order.len() {
            let (shared, b) = self.order[i];
            if best.is_some_and(|best| shared + most_local < best.total) {
                // Rounding is monotone: no agent of this bucket (or a later one) can reach it.
                break;
            }
            for t in 0..self.buckets[b.get()].0.len() {
                let tree = self.buckets[b.get()].0[t];
                let Some(agent) = self.first_feasible(tree, state, class, task) else {
                    continue;
                };
                let local = local_score(class, fitness, task, &AgentView::new(state, agent), &pass);
                let rank = Rank { total: shared + local, local, agent };
                if better(rank, best) {
                    best = Some(rank);
                }
            }
        }
        best.map(|rank| rank.agent)
    }

    /// The first agent of `tree`, in order, with room for the ask that passes the
    /// group-dependent checks. When many agents in front of it fail those checks, they are
    /// parked, so the next task of the same group does not pass them over again.
    fn first_feasible(
        &mut self,
        tree: TreeIx,
        state: &PassState,
        class: &TaskClass,
        task: &TaskView<'_>,
    ) -> Option<AgentIx> {
        let pass = PassView::new(state);
        let failed = &mut self.failed;
        failed.clear();
        let found = self.arena.first(self.trees[tree.get()], &self.ask, |agent| {
            if fits_resources(state, class, agent).is_err() {
                return false;
            }
            let view = AgentView::new(state, agent);
            let feasible = !claimed_by_other(state, class, agent)
                && first_failing(class, &class.stages.agent_hard, task, &view, &pass).is_none();
            if !feasible {
                failed.push(agent);
            }
            feasible
        });
        if self.failed.len() > PARK_AFTER {
            for &agent in &self.failed {
                self.arena.remove(&mut self.trees[tree.get()], agent);
            }
            self.parked.extend_from_slice(&self.failed);
        }
        found
    }

    /// Keeps the parked agents when `class` has the group and agent-scoped constraints they
    /// were parked for; otherwise puts them back first.
    fn park_for(&mut self, class: &TaskClass) {
        let same = self.parked_group == Some(class.group)
            && self.parked_checks.len() == class.stages.agent_hard.len()
            && class.stages.agent_hard.iter().zip(&self.parked_checks).all(|(&i, &p)| address(class, i) == p);
        if same {
            return;
        }
        self.unpark_all();
        self.parked_group = Some(class.group);
        self.parked_checks.clear();
        self.parked_checks.extend(class.stages.agent_hard.iter().map(|&i| address(class, i)));
    }

    /// Puts every parked agent back in its tree, with the key and amounts it had.
    fn unpark_all(&mut self) {
        for agent in self.parked.drain(..) {
            if let Some(tree) = self.tree_of[agent.get()] {
                self.arena.restore(&mut self.trees[tree.get()], agent);
            }
        }
    }

    /// Puts parked agents back before the index serves another pass (group numbers are per
    /// pass).
    pub fn release_parked(&mut self) {
        self.unpark_all();
        self.parked_group = None;
        self.parked_checks.clear();
    }
}

/// The address of the class's hard constraint `i`: what identifies it across classes.
fn address(class: &TaskClass, i: usize) -> usize {
    Arc::as_ptr(&class.hard[i]) as *const () as usize
}
