//! A dense, indexed max-heap of agents for the engine's hot path.
//!
//! The `priority-queue` crate keys its heap with an `IndexMap`, so every push, update and
//! removal hashes the key. Our keys are dense agent indices ([`AgentIx`] in `0..n`), so a plain
//! position array (`pos[agent]` = slot in the heap) does the same job without hashing. After
//! construction nothing allocates unless an agent index beyond the ones seen so far is pushed,
//! or more agents are held at once than ever before.
//!
//! Order: the best entry has the highest score by [`f64::total_cmp`] (so `-0.0 < 0.0`); equal
//! scores go to the lower agent index. Agents are unique, so this is a strict total order and
//! every result is deterministic.

use std::marker::PhantomData;

use crate::tables::{AgentIx, Ix};

/// A heap slot: the agent (its index as a plain number: the sifts compare and index with it
/// as they did before agents had a type) and its score side by side, for cache locality.
type Entry = (u32, f64);

/// Marks an agent that is not in the heap (in `pos`).
const ABSENT: u32 = u32::MAX;

/// Children per node. A 4-ary heap is half as deep as a binary one, so sift-up (pushes and
/// improved scores) does half the steps, and the four children of a node are adjacent
/// (4 × 16 bytes, one or two cache lines), so sift-down trades levels for cheap compares.
const ARITY: usize = 4;

/// Whether `a` ranks strictly before `b`: higher score, then lower agent index.
#[inline]
fn better(a: Entry, b: Entry) -> bool {
    a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)).is_gt()
}

/// An agent's index as the heap holds it (a key beyond `u32` is out of any table's range).
#[inline]
fn raw<K: Ix>(agent: K) -> u32 {
    agent.get() as u32
}

/// A max-heap of agents keyed by their dense index, with O(log n) update and removal.
///
/// Keys are agents ([`AgentIx`]); any dense index type will do.
#[derive(Clone, Debug)]
pub(crate) struct AgentHeap<K = AgentIx> {
    /// The 4-ary heap, best entry first.
    heap: Vec<Entry>,
    /// Slot of each agent in `heap`, or [`ABSENT`]; grows on demand.
    pos: Vec<u32>,
    keys: PhantomData<K>,
}

impl<K> Default for AgentHeap<K> {
    fn default() -> Self {
        AgentHeap { heap: Vec::new(), pos: Vec::new(), keys: PhantomData }
    }
}

impl<K: Ix> AgentHeap<K> {
    /// An empty heap.
    #[cfg(test)]
    pub fn new() -> Self {
        Self::default()
    }

    /// A heap of `entries` (unique agents), built in O(n), reusing the vector's allocation.
    pub fn from_entries(entries: Vec<(K, f64)>) -> Self {
        // Same size and alignment: the vector's allocation is reused.
        let heap: Vec<Entry> = entries.into_iter().map(|(agent, score)| (raw(agent), score)).collect();
        let n = heap.iter().map(|&(agent, _)| agent as usize + 1).max().unwrap_or(0);
        let mut this = AgentHeap { heap, pos: vec![ABSENT; n], keys: PhantomData };
        for (i, &(agent, _)) in this.heap.iter().enumerate() {
            debug_assert_eq!(this.pos[agent as usize], ABSENT, "duplicate agent {agent}");
            this.pos[agent as usize] = i as u32;
        }
        // Sift down every node that has a child, last first.
        for i in (0..(this.heap.len() + ARITY - 2) / ARITY).rev() {
            this.sift_down(i);
        }
        this
    }

    /// Number of agents in the heap.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether the heap holds no agent.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Whether `agent` is in the heap.
    #[cfg(test)]
    pub fn contains(&self, agent: K) -> bool {
        self.slot(raw(agent)).is_some()
    }

    /// The best agent and its score, without removing it.
    pub fn peek(&self) -> Option<(K, f64)> {
        self.heap.first().map(|&(agent, score)| (K::new(agent as usize), score))
    }

    /// Removes and returns the best agent and its score.
    pub fn pop(&mut self) -> Option<(K, f64)> {
        let top = self.peek()?;
        self.remove_at(0);
        Some(top)
    }

    /// Inserts `agent` with `score`, or changes its score if it is already in the heap.
    pub fn push(&mut self, agent: K, score: f64) {
        let agent = raw(agent);
        if let Some(i) = self.slot(agent) {
            let old = std::mem::replace(&mut self.heap[i].1, score);
            if score.total_cmp(&old).is_gt() {
                self.sift_up(i);
            } else {
                self.sift_down(i); // a no-op when the score did not change
            }
            return;
        }
        debug_assert_ne!(agent, ABSENT, "agent index u32::MAX is reserved");
        let a = agent as usize;
        if a >= self.pos.len() {
            self.pos.resize(a + 1, ABSENT);
        }
        self.heap.push((agent, score));
        self.sift_up(self.heap.len() - 1);
    }

    /// Removes `agent` and returns its score, or `None` if it is not in the heap.
    pub fn remove(&mut self, agent: K) -> Option<f64> {
        let i = self.slot(raw(agent))?;
        Some(self.remove_at(i).1)
    }

    /// The score of `agent`, or `None` if it is not in the heap.
    #[cfg(test)]
    pub fn score(&self, agent: K) -> Option<f64> {
        self.slot(raw(agent)).map(|i| self.heap[i].1)
    }

    /// The heap slot of `agent`, if present.
    #[inline]
    fn slot(&self, agent: u32) -> Option<usize> {
        self.pos.get(agent as usize).filter(|&&i| i != ABSENT).map(|&i| i as usize)
    }

    /// Removes the entry at slot `i` (which must exist), filling the hole with the last entry.
    fn remove_at(&mut self, i: usize) -> Entry {
        let removed = self.heap.swap_remove(i);
        self.pos[removed.0 as usize] = ABSENT;
        if i < self.heap.len() {
            if i > 0 && better(self.heap[i], self.heap[(i - 1) / ARITY]) {
                self.sift_up(i);
            } else {
                self.sift_down(i);
            }
        }
        removed
    }

    /// Moves the entry at slot `i` towards the root until its parent ranks before it.
    fn sift_up(&mut self, mut i: usize) {
        let entry = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / ARITY;
            let up = self.heap[parent];
            if !better(entry, up) {
                break;
            }
            self.heap[i] = up;
            self.pos[up.0 as usize] = i as u32;
            i = parent;
        }
        self.heap[i] = entry;
        self.pos[entry.0 as usize] = i as u32;
    }

    /// Moves the entry at slot `i` towards the leaves until it ranks before all its children.
    fn sift_down(&mut self, mut i: usize) {
        let entry = self.heap[i];
        let len = self.heap.len();
        loop {
            let first = ARITY * i + 1;
            if first >= len {
                break;
            }
            let mut best = first;
            for c in first + 1..(first + ARITY).min(len) {
                if better(self.heap[c], self.heap[best]) {
                    best = c;
                }
            }
            let down = self.heap[best];
            if !better(down, entry) {
                break;
            }
            self.heap[i] = down;
            self.pos[down.0 as usize] = i as u32;
            i = best;
        }
        self.heap[i] = entry;
        self.pos[entry.0 as usize] = i as u32;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    /// Checks the heap property and that `pos` mirrors `heap`.
    fn check(h: &AgentHeap<u32>) {
        for (i, &(agent, _)) in h.heap.iter().enumerate() {
            assert_eq!(h.pos[agent as usize], i as u32);
            if i > 0 {
                assert!(better(h.heap[(i - 1) / ARITY], h.heap[i]));
            }
        }
        assert_eq!(h.pos.iter().filter(|&&p| p != ABSENT).count(), h.heap.len());
    }

    /// Pops everything, best first.
    fn drain(h: &mut AgentHeap<u32>) -> Vec<(u32, f64)> {
        std::iter::from_fn(|| h.pop()).collect()
    }

    #[test]
    fn heap_orders_by_score_then_lower_agent() {
        let mut h = AgentHeap::new();
        for (a, s) in [(3, 1.0), (1, 2.0), (2, 1.0), (0, -0.0), (4, 0.0), (5, 2.0)] {
            h.push(a, s);
        }
        check(&h);
        assert_eq!(h.peek(), Some((1, 2.0)));
        let order: Vec<u32> = drain(&mut h).into_iter().map(|(a, _)| a).collect();
        assert_eq!(order, [1, 5, 2, 3, 4, 0]);
        assert!(h.is_empty() && h.pop().is_none() && h.peek().is_none());
    }

    #[test]
    fn heap_update_moves_up_and_down() {
        let mut h = AgentHeap::from_entries((0..20).map(|a| (a, f64::from(a))).collect());
        h.push(3, 100.0);
        check(&h);
        assert_eq!(h.peek(), Some((3, 100.0)));
        h.push(3, -1.0);
        h.push(19, 0.0);
        check(&h);
        assert_eq!(h.peek(), Some((18, 18.0)));
        assert_eq!((h.len(), h.score(3), h.score(19)), (20, Some(-1.0), Some(0.0)));
        h.push(0, 0.0); // unchanged score
        let tail: Vec<u32> = drain(&mut h).into_iter().rev().take(3).map(|(a, _)| a).collect();
        assert_eq!(tail, [3, 19, 0]);
    }

    #[test]
    fn heap_remove_middle_last_and_absent() {
        let mut h = AgentHeap::from_entries((0..30).map(|a| (a, f64::from(a % 7))).collect());
        assert_eq!(h.remove(10), Some(3.0));
        check(&h);
        let last = h.heap[h.len() - 1].0;
        assert_eq!(h.remove(last), Some(f64::from(last % 7)));
        check(&h);
        assert_eq!((h.remove(10), h.remove(30), h.remove(u32::MAX)), (None, None, None));
        assert!(!h.contains(10) && !h.contains(u32::MAX) && h.score(1000).is_none());
        assert_eq!(h.len(), 28);
    }

    #[test]
    fn heap_from_entries_heapifies() {
        let h = AgentHeap::from_entries(vec![(7, 1.0), (2, 5.0), (9, 5.0), (0, -3.0), (4, 0.0)]);
        check(&h);
        assert_eq!((h.peek(), h.len(), h.score(9)), (Some((2, 5.0)), 5, Some(5.0)));
        assert!(!h.contains(1) && !h.contains(10));
        assert!(AgentHeap::<u32>::from_entries(Vec::new()).is_empty());
        assert_eq!(AgentHeap::from_entries(vec![(3, 1.0)]).peek(), Some((3, 1.0)));
    }

    #[test]
    fn heap_grows_for_new_agents() {
        let mut h = AgentHeap::from_entries(vec![(0, 1.0), (1, 2.0)]);
        h.push(1000, 1.5);
        check(&h);
        assert!(h.contains(1000) && !h.contains(999));
        assert_eq!(drain(&mut h), [(1, 2.0), (1000, 1.5), (0, 1.0)]);
    }

    /// Scores for the model test: ties, `-0.0`/`0.0`, infinity and NaN.
    const SCORES: [f64; 8] = [-1.0, -0.0, 0.0, 0.5, 1.0, 2.0, f64::INFINITY, f64::NAN];

    /// One step of the model test.
    #[derive(Clone, Debug)]
    enum Op {
        Push(u32, usize),
        Pop,
        Remove(u32),
        Peek,
    }

    /// Random steps over agents `0..64`.
    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0..64u32, 0..SCORES.len()).prop_map(|(a, s)| Op::Push(a, s)),
            2 => Just(Op::Pop),
            2 => (0..64u32).prop_map(Op::Remove),
            1 => Just(Op::Peek),
        ]
    }

    /// Bit-exact view of an entry, so `-0.0`/`0.0` and NaN compare as the heap orders them.
    fn bits(e: Option<(u32, f64)>) -> Option<(u32, u64)> {
        e.map(|(a, s)| (a, s.to_bits()))
    }

    /// The model's best entry: highest score by `total_cmp`, then lowest agent (a linear scan).
    fn model_best(scores: &BTreeMap<u32, f64>) -> Option<(u32, f64)> {
        scores.iter().map(|(&a, &s)| (a, s)).max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))
    }

    proptest! {
        #[test]
        fn heap_matches_btree_model(
            init in prop::collection::btree_map(0..64u32, 0..SCORES.len(), 0..40),
            ops in prop::collection::vec(op(), 0..200),
        ) {
            let mut scores: BTreeMap<u32, f64> = init.iter().map(|(&a, &s)| (a, SCORES[s])).collect();
            let mut heap = AgentHeap::from_entries(scores.iter().map(|(&a, &s)| (a, s)).rev().collect());
            for op in ops {
                match op {
                    Op::Push(a, s) => {
                        scores.insert(a, SCORES[s]);
                        heap.push(a, SCORES[s]);
                    }
                    Op::Pop => {
                        let want = model_best(&scores);
                        if let Some((a, _)) = want {
                            scores.remove(&a);
                        }
                        prop_assert_eq!(bits(heap.pop()), bits(want));
                    }
                    Op::Remove(a) => {
                        prop_assert_eq!(heap.remove(a).map(f64::to_bits), scores.remove(&a).map(f64::to_bits));
                    }
                    Op::Peek => prop_assert_eq!(bits(heap.peek()), bits(model_best(&scores))),
                }
                check(&heap);
                prop_assert_eq!(heap.len(), scores.len());
                prop_assert_eq!(bits(heap.peek()), bits(model_best(&scores)));
                for a in 0..66 {
                    prop_assert_eq!(heap.contains(a), scores.contains_key(&a));
                    prop_assert_eq!(heap.score(a).map(f64::to_bits), scores.get(&a).map(|s| s.to_bits()));
                }
            }
        }
    }
}
