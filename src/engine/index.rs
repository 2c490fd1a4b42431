//! The indexed selector: agents in buckets of equal attribute values, each bucket a priority
//! queue ordered by the agent-local score.
//!
//! Why this is exact: the total score is `shared + local`, where `shared` (attribute-scoped
//! terms) is equal across a bucket, and candidates rank by (total, local, agent id), so a
//! bucket's best agent is the first one in queue order — (local, agent id) — that passes the
//! agent-scoped checks. Only agents that a commit touched can change their
//! local part (the [`Scope`](crate::plugins::Scope) contract), so after each commit only the
//! agents sharing that hostname are re-scored. Choosing costs a look at each bucket's first
//! feasible agent instead of a look at every agent.
//!
//! Classes whose local score is fitness alone share one index per shape (asks, roles, static
//! filters, bucket keys), whatever their group: the group-dependent checks (agent-scoped hard
//! constraints such as `hostname:UNIQUE`, exclusive claims) run when candidates are taken from
//! the queue, not when it is built. A thousand groups of one shape thus cost one index, not a
//! thousand.

use rustc_hash::FxHashMap;

use super::class::TaskClass;
use super::evaluate::{better, claimed_by_other, first_failing, fits_resources, local_score, shared_score, Rank};
use super::heap::AgentHeap;
use super::select::LogCursor;
use super::state::PassState;
use crate::plugins::{AgentView, Fitness, PassView, TaskView};
use crate::tables::{nonzero_index, AgentIx, KeyIx, ValueIx};

nonzero_index! {
    /// An attribute bucket of a candidate index: agents with equal values of the bucket keys.
    BucketIx
}

/// Calls `each(agent, bucket)` for every agent that passes `class`'s static constraints, in
/// agent order, with its attribute bucket: buckets are numbered by the order their first
/// agent comes in (a bucket number one above every earlier one is a new bucket).
pub(crate) fn for_each_candidate(
    state: &PassState,
    class: &TaskClass,
    task: &TaskView<'_>,
    mut each: impl FnMut(AgentIx, BucketIx),
) {
    let pass = PassView::new(state);
    let keys: &[KeyIx] = &class.stages.bucket_keys;
    // Values as plain bits: a slice of `u32` hashes in one go.
    let mut by_values: FxHashMap<Vec<u32>, BucketIx> = FxHashMap::default();
    let mut values = Vec::with_capacity(keys.len());
    for agent in state.agent_ixs() {
        if first_failing(class, &class.stages.static_hard, task, &AgentView::new(state, agent), &pass).is_some() {
            continue;
        }
        if keys.is_empty() {
            each(agent, BucketIx::new(0));
            continue;
        }
        values.clear();
        values.extend(keys.iter().map(|&k| ValueIx::bits(state.value_of(agent, k))));
        let bucket = match by_values.get(values.as_slice()) {
            Some(&b) => b,
            None => {
                let next = BucketIx::new(by_values.len());
                by_values.insert(values.clone(), next);
                next
            }
        };
        each(agent, bucket);
    }
}

/// Candidate agents for one class, or for every class of one shape.
pub(crate) struct CandidateIndex {
    /// Bucket of each agent, or `None` when a static constraint rules it out.
    bucket_of: Vec<Option<BucketIx>>,
    buckets: Vec<AgentHeap>,
    /// How much of the commit log this index has seen.
    pub cursor: LogCursor,
    /// Candidates taken out of their queues because they failed a group-dependent check of
    /// class `parked_for`. By the [`Scope::Agent`](crate::plugins::Scope) contract that answer
    /// holds until a commit touches the agent's host (then `rescore` puts it back), so while the
    /// same class keeps selecting they stay out instead of being skipped again and again; they
    /// all go back before another class selects.
    parked: Vec<(AgentIx, f64)>,
    parked_for: Option<u32>,
}

impl std::fmt::Debug for CandidateIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CandidateIndex")
            .field("buckets", &self.buckets.len())
            .field("synced", &self.cursor.seen())
            .finish()
    }
}

impl CandidateIndex {
    /// Scores every agent once for `class` (the first class of its shape to need the index).
    pub fn build(
        state: &PassState,
        class: &TaskClass,
        fitness: &dyn Fitness,
        task: &TaskView<'_>,
        log_len: usize,
    ) -> CandidateIndex {
        let pass = PassView::new(state);
        let mut index = CandidateIndex {
            bucket_of: vec![None; state.n_agents()],
            buckets: Vec::new(),
            cursor: LogCursor::at(log_len),
            parked: Vec::new(),
            parked_for: None,
        };
        // Candidates per bucket first, then each queue built in one go (heapified, sized once).
        let mut members: Vec<Vec<(AgentIx, f64)>> = Vec::new();
        for_each_candidate(state, class, task, |agent, bucket| {
            let view = AgentView::new(state, agent);
            index.bucket_of[agent.get()] = Some(bucket);
            if members.len() <= bucket.get() {
                members.resize_with(bucket.get() + 1, Vec::new);
            }
            if fits_resources(state, class, agent).is_ok() {
                let score = local_score(class, fitness, task, &view, &pass);
                members[bucket.get()].push((agent, score));
            }
        });
        index.buckets = members.into_iter().map(AgentHeap::from_entries).collect();
        index
    }

    /// Puts `agent` back in its bucket with its current local score, or out if it cannot fit.
    fn rescore(
        &mut self,
        state: &PassState,
        class: &TaskClass,
        fitness: &dyn Fitness,
        task: &TaskView<'_>,
        agent: AgentIx,
    ) {
        let Some(bucket) = self.bucket_of[agent.get()] else {
            return;
        };
        if let Some(i) = self.parked.iter().position(|(parked, _)| *parked == agent) {
            self.parked.swap_remove(i);
        }
        let queue = &mut self.buckets[bucket.get()];
        if fits_resources(state, class, agent).is_ok() {
            let view = AgentView::new(state, agent);
            let score = local_score(class, fitness, task, &view, &PassView::new(state));
            queue.push(agent, score);
        } else {
            queue.remove(agent);
        }
    }

    /// Re-scores the agents touched by commits since the last call.
    pub fn sync(
        &mut self,
        state: &PassState,
        class: &TaskClass,
        fitness: &dyn Fitness,
        task: &TaskView<'_>,
        log: &[AgentIx],
    ) {
        for &touched in &log[self.cursor.advance(log.len())..] {
            let host = state.slot(touched).host_value();
            for agent in state.agents_on_host(host) {
                self.rescore(state, class, fitness, task, agent);
            }
        }
    }

    /// The best agent for `class` (numbered `class_id`): over buckets, the first feasible agent
    /// in queue order, with shared constraints and scores applied.
    pub fn select(
        &mut self,
        state: &PassState,
        class: &TaskClass,
        class_id: u32,
        task: &TaskView<'_>,
    ) -> Option<AgentIx> {
        if self.parked_for != Some(class_id) {
            self.unpark_all();
            self.parked_for = Some(class_id);
        }
        let pass = PassView::new(state);
        let mut best: Option<Rank> = None;
        for b in 0..self.buckets.len() {
            let Some((top, _)) = self.buckets[b].peek() else {
                continue;
            };
            // Attribute-scoped answers are the same for every agent of the bucket.
            let top_view = AgentView::new(state, top);
            if first_failing(class, &class.stages.shared_hard, task, &top_view, &pass).is_some() {
                continue;
            }
            let Some((agent, local)) = self.first_feasible(b, state, class, task) else {
                continue;
            };
            let view = AgentView::new(state, agent);
            let rank = Rank { total: shared_score(class, task, &view, &pass) + local, local, agent };
            if better(rank, best) {
                best = Some(rank);
            }
        }
        best.map(|rank| rank.agent)
    }

    /// The first agent of bucket `b`, in queue order, that passes the group-dependent checks;
    /// those that fail are parked.
    fn first_feasible(
        &mut self,
        b: usize,
        state: &PassState,
        class: &TaskClass,
        task: &TaskView<'_>,
    ) -> Option<(AgentIx, f64)> {
        let pass = PassView::new(state);
        let queue = &mut self.buckets[b];
        let mut found = None;
        while let Some((agent, local)) = queue.peek() {
            let view = AgentView::new(state, agent);
            let feasible = !claimed_by_other(state, class, agent)
                && first_failing(class, &class.stages.agent_hard, task, &view, &pass).is_none();
            if feasible {
                found = Some((agent, local));
                break;
            }
            if let Some(entry) = queue.pop() {
                self.parked.push(entry);
            }
        }
        found
    }

    /// Puts parked candidates back before the index serves another pass (class numbers are
    /// per pass).
    pub fn release_parked(&mut self) {
        self.unpark_all();
        self.parked_for = None;
    }

    /// Puts every parked candidate back in its queue.
    fn unpark_all(&mut self) {
        for (agent, priority) in self.parked.drain(..) {
            if let Some(queue) = self.bucket_of[agent.get()].and_then(|b| self.buckets.get_mut(b.get())) {
                queue.push(agent, priority);
            }
        }
    }
}
