//! The indexed selector: per class, agents in buckets of equal attribute values, each bucket a
//! priority queue ordered by the agent-local score.
//!
//! Why this is exact: the total score is `shared + local`, where `shared` (attribute-scoped
//! terms) is equal across a bucket, so the best agent of a bucket is the top of its queue. Only
//! agents that a commit touched can change their local part (the [`Scope`](crate::plugins::Scope)
//! contract), so after each commit only the agents sharing that hostname are re-scored. Choosing
//! costs one look at each bucket's top instead of a look at every agent.

use std::cmp::Reverse;

use priority_queue::PriorityQueue;
use rustc_hash::FxHashMap;

use super::class::TaskClass;
use super::evaluate::{better, first_failing, fits, local_score, shared_score};
use super::state::{PassState, NONE};
use crate::plugins::{AgentView, Fitness, PassView, TaskView};

/// A score with a total order.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Ranked(f64);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

type Queue = PriorityQueue<u32, (Ranked, Reverse<u32>), rustc_hash::FxBuildHasher>;

/// One class's view of the agents.
pub(crate) struct ClassIndex {
    /// Bucket of each agent, or [`NONE`] when a static constraint rules it out.
    bucket_of: Vec<u32>,
    buckets: Vec<Queue>,
    /// How much of the commit log this index has seen.
    synced: usize,
}

impl std::fmt::Debug for ClassIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassIndex").field("buckets", &self.buckets.len()).field("synced", &self.synced).finish()
    }
}

impl ClassIndex {
    /// Scores every agent once for `class`.
    pub fn build(
        state: &PassState,
        class: &TaskClass,
        fitness: &dyn Fitness,
        task: &TaskView<'_>,
        log_len: usize,
    ) -> ClassIndex {
        let pass = PassView { state };
        let keys = &class.stages.bucket_keys;
        let mut by_values: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
        let mut index = ClassIndex { bucket_of: vec![NONE; state.agents.len()], buckets: Vec::new(), synced: log_len };
        let mut values = Vec::with_capacity(keys.len());
        for agent in 0..state.agents.len() as u32 {
            let view = AgentView { state, agent };
            if first_failing(class, &class.stages.static_hard, task, &view, &pass).is_some() {
                continue;
            }
            let bucket = if keys.is_empty() {
                if index.buckets.is_empty() {
                    index.buckets.push(Queue::default());
                }
                0
            } else {
                values.clear();
                values.extend(keys.iter().map(|&k| state.value_of(agent, k)));
                match by_values.get(values.as_slice()) {
                    Some(&b) => b,
                    None => {
                        let next = index.buckets.len() as u32;
                        by_values.insert(values.clone(), next);
                        index.buckets.push(Queue::default());
                        next
                    }
                }
            };
            index.bucket_of[agent as usize] = bucket;
            index.rescore(state, class, fitness, task, agent);
        }
        index
    }

    /// Puts `agent` back in its bucket with its current local score, or out if it cannot fit.
    fn rescore(
        &mut self,
        state: &PassState,
        class: &TaskClass,
        fitness: &dyn Fitness,
        task: &TaskView<'_>,
        agent: u32,
    ) {
        let bucket = self.bucket_of[agent as usize];
        if bucket == NONE {
            return;
        }
        let queue = &mut self.buckets[bucket as usize];
        let pass = PassView { state };
        let view = AgentView { state, agent };
        let feasible = fits(state, class, agent).is_ok()
            && first_failing(class, &class.stages.agent_hard, task, &view, &pass).is_none();
        if feasible {
            let score = local_score(class, fitness, task, &view, &pass);
            queue.push(agent, (Ranked(score), Reverse(agent)));
        } else {
            queue.remove(&agent);
        }
    }

    /// Re-scores the agents touched by commits since the last call.
    pub fn sync(
        &mut self,
        state: &PassState,
        class: &TaskClass,
        fitness: &dyn Fitness,
        task: &TaskView<'_>,
        log: &[u32],
    ) {
        for &touched in &log[self.synced..] {
            let host = state.agents[touched as usize].host_value;
            for &agent in state.host_agents.get(&host).map_or(&[][..], Vec::as_slice) {
                self.rescore(state, class, fitness, task, agent);
            }
        }
        self.synced = log.len();
    }

    /// The best agent: the best bucket top once shared constraints and scores are applied.
    pub fn select(&self, state: &PassState, class: &TaskClass, task: &TaskView<'_>) -> Option<u32> {
        let pass = PassView { state };
        let mut best: Option<(f64, u32)> = None;
        for queue in &self.buckets {
            let Some((&agent, &(Ranked(local), _))) = queue.peek() else {
                continue;
            };
            let view = AgentView { state, agent };
            if first_failing(class, &class.stages.shared_hard, task, &view, &pass).is_some() {
                continue;
            }
            let score = shared_score(class, task, &view, &pass) + local;
            if better((score, agent), best) {
                best = Some((score, agent));
            }
        }
        best.map(|(_, agent)| agent)
    }
}
