//! An ordered set of agents that finds the first agent, in order, with room for an ask.
//!
//! A treap (a binary search tree kept balanced by random-looking priorities, here a hash of the
//! agent index, so the shape is deterministic) ordered by (key descending, agent ascending).
//! Every node also keeps, per column (resource dimension, then free ports), the most any agent
//! of its subtree has free. A search walks the tree in order and skips every subtree whose
//! maxima cannot hold the ask, so finding the first agent with room costs a walk down the tree,
//! not a look at every agent in front of it, whatever the ask. Agents live in one arena shared
//! by several trees (each agent in one tree at most); trees are roots into it.
//!
//! Insertion and removal split and merge by the order; both are O(log n) expected, and so is
//! keeping the maxima. Nothing allocates after [`Arena::new`].
//!
//! Agents come in and out as [`AgentIx`] (any dense index type will do); inside, an agent's
//! node is its index as a `u32`, and the sentinel `nil` one past the last.

use std::marker::PhantomData;

use crate::tables::{AgentIx, Ix};

/// The nodes of every tree of one index: one node per agent, and a sentinel at index `n` that
/// stands for "no node" (its maxima are the lowest amount, so it never widens a parent's).
#[derive(Clone, Debug)]
pub(crate) struct Arena<K = AgentIx> {
    /// Columns per agent: resource dimensions, then free ports.
    width: usize,
    /// The sentinel's index: the number of agents.
    nil: u32,
    left: Vec<u32>,
    right: Vec<u32>,
    key: Vec<f64>,
    /// Whether the agent is in a tree.
    member: Vec<bool>,
    /// Per node, side by side for cache locality: the most free in each column over its
    /// subtree, then its own free amounts (`2 * width` entries).
    cols: Vec<i64>,
    agents: PhantomData<K>,
}

/// A tree's root in an [`Arena`] (`None` for an empty tree).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Root(Option<u32>);

/// A fixed, well-mixed priority per agent (SplitMix64's finaliser): the treap's shape depends
/// only on which agents it holds.
fn priority(agent: u32) -> u64 {
    let mut z = u64::from(agent).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The node of `agent`.
#[inline]
fn node<K: Ix>(agent: K) -> u32 {
    agent.get() as u32
}

impl<K: Ix> Arena<K> {
    /// Room for agents `0..agents`, each with `width` columns.
    pub fn new(agents: usize, width: usize) -> Arena<K> {
        let nodes = agents + 1;
        Arena {
            width,
            nil: agents as u32,
            left: vec![agents as u32; nodes],
            right: vec![agents as u32; nodes],
            key: vec![0.0; nodes],
            member: vec![false; nodes],
            cols: vec![i64::MIN; nodes * 2 * width],
            agents: PhantomData,
        }
    }

    /// Whether `agent` is in a tree.
    pub fn contains(&self, agent: K) -> bool {
        node(agent) < self.nil && self.member[agent.get()]
    }

    fn root_node(&self, root: Root) -> u32 {
        root.0.unwrap_or(self.nil)
    }

    fn set_root(&self, root: &mut Root, node: u32) {
        root.0 = (node != self.nil).then_some(node);
    }

    /// Whether `a` comes before `b`: higher key, then lower agent.
    #[inline]
    fn before(&self, a: u32, b: u32) -> bool {
        self.key[a as usize].total_cmp(&self.key[b as usize]).then(b.cmp(&a)).is_gt()
    }

    /// Recomputes `node`'s maxima from its own amounts and its children's maxima.
    #[inline]
    fn pull(&mut self, node: u32) {
        let w = self.width;
        let stride = 2 * w;
        let (at, l, r) = (
            node as usize * stride,
            self.left[node as usize] as usize * stride,
            self.right[node as usize] as usize * stride,
        );
        for c in 0..w {
            self.cols[at + c] = self.cols[at + w + c].max(self.cols[l + c]).max(self.cols[r + c]);
        }
    }

    /// Splits the tree at `node` into the agents before `pivot` and the rest.
    fn split(&mut self, node: u32, pivot: u32) -> (u32, u32) {
        if node == self.nil {
            return (node, node);
        }
        if self.before(node, pivot) {
            let (l, r) = self.split(self.right[node as usize], pivot);
            self.right[node as usize] = l;
            self.pull(node);
            (node, r)
        } else {
            let (l, r) = self.split(self.left[node as usize], pivot);
            self.left[node as usize] = r;
            self.pull(node);
            (l, node)
        }
    }

    /// Joins two trees where every agent of `a` comes before every agent of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == self.nil {
            return b;
        }
        if b == self.nil {
            return a;
        }
        if priority(a) > priority(b) {
            let r = self.merge(self.right[a as usize], b);
            self.right[a as usize] = r;
            self.pull(a);
            a
        } else {
            let l = self.merge(a, self.left[b as usize]);
            self.left[b as usize] = l;
            self.pull(b);
            b
        }
    }

    /// Sets `agent`'s key and free amounts, before it joins a tree.
    pub fn set(&mut self, agent: K, key: f64, free: impl IntoIterator<Item = i64>) {
        let a = agent.get();
        self.key[a] = key;
        let w = self.width;
        for (slot, amount) in self.cols[a * 2 * w + w..(a + 1) * 2 * w].iter_mut().zip(free) {
            *slot = amount;
        }
    }

    /// Puts `agent` (not in any tree) into `root` with `key` and its free amounts `free`.
    pub fn insert(&mut self, root: &mut Root, agent: K, key: f64, free: impl IntoIterator<Item = i64>) {
        debug_assert!(!self.contains(agent));
        self.set(agent, key, free);
        self.restore(root, agent);
    }

    /// Puts `agent` (not in any tree) back into `root` with the key and amounts it last had.
    pub fn restore(&mut self, root: &mut Root, agent: K) {
        debug_assert!(!self.contains(agent));
        self.member[agent.get()] = true;
        let top = self.insert_at(self.root_node(*root), node(agent));
        self.set_root(root, top);
    }

    /// Inserts the lone node `agent` into the tree at `node`; returns the tree's new top.
    fn insert_at(&mut self, node: u32, agent: u32) -> u32 {
        if node == self.nil || priority(agent) > priority(node) {
            let (l, r) = self.split(node, agent);
            self.left[agent as usize] = l;
            self.right[agent as usize] = r;
            self.pull(agent);
            return agent;
        }
        if self.before(agent, node) {
            let l = self.insert_at(self.left[node as usize], agent);
            self.left[node as usize] = l;
        } else {
            let r = self.insert_at(self.right[node as usize], agent);
            self.right[node as usize] = r;
        }
        self.pull(node);
        node
    }

    /// Takes `agent` out of `root`, which must hold it.
    pub fn remove(&mut self, root: &mut Root, agent: K) {
        debug_assert!(self.contains(agent));
        let top = self.remove_at(self.root_node(*root), node(agent));
        self.set_root(root, top);
        self.member[agent.get()] = false;
    }

    /// Removes `agent` from the tree at `node`, which holds it; returns the tree's new top.
    fn remove_at(&mut self, node: u32, agent: u32) -> u32 {
        if node == agent {
            let (l, r) = (self.left[node as usize], self.right[node as usize]);
            return self.merge(l, r);
        }
        if self.before(agent, node) {
            let l = self.remove_at(self.left[node as usize], agent);
            self.left[node as usize] = l;
        } else {
            let r = self.remove_at(self.right[node as usize], agent);
            self.right[node as usize] = r;
        }
        self.pull(node);
        node
    }

    /// Builds `root` (empty) from `agents`, each with its key and amounts already set by
    /// [`set`](Self::set), in linear time after sorting.
    pub fn build(&mut self, root: &mut Root, agents: &mut [K]) {
        agents.sort_unstable_by(|&a, &b| self.key[b.get()].total_cmp(&self.key[a.get()]).then(a.get().cmp(&b.get())));
        // The right spine of the tree built so far, top first.
        let mut spine: Vec<u32> = Vec::new();
        for agent in agents.iter().map(|&a| node(a)) {
            self.member[agent as usize] = true;
            let mut last = self.nil;
            while let Some(&top) = spine.last() {
                if priority(top) > priority(agent) {
                    break;
                }
                last = top;
                spine.pop();
            }
            self.left[agent as usize] = last;
            self.right[agent as usize] = self.nil;
            if let Some(&parent) = spine.last() {
                self.right[parent as usize] = agent;
            }
            spine.push(agent);
        }
        let top = spine.first().copied().unwrap_or(self.nil);
        self.pull_all(top);
        self.set_root(root, top);
    }

    /// Computes the maxima of every node under `node`, children first.
    fn pull_all(&mut self, node: u32) {
        if node == self.nil {
            return;
        }
        self.pull_all(self.left[node as usize]);
        self.pull_all(self.right[node as usize]);
        self.pull(node);
    }

    /// The first agent of `root`, in order, whose free amounts cover `ask` — (column, amount)
    /// pairs — and that `accept` takes; agents `accept` turns down are passed over.
    pub fn first(&self, root: Root, ask: &[(usize, i64)], mut accept: impl FnMut(K) -> bool) -> Option<K> {
        self.first_in(self.root_node(root), ask, &mut accept)
    }

    fn first_in(&self, node: u32, ask: &[(usize, i64)], accept: &mut impl FnMut(K) -> bool) -> Option<K> {
        if node == self.nil {
            return None;
        }
        let w = self.width;
        let at = node as usize * 2 * w;
        if !ask.iter().all(|&(c, amount)| self.cols[at + c] >= amount) {
            return None;
        }
        if let Some(found) = self.first_in(self.left[node as usize], ask, accept) {
            return Some(found);
        }
        let agent = K::new(node as usize);
        if ask.iter().all(|&(c, amount)| self.cols[at + w + c] >= amount) && accept(agent) {
            return Some(agent);
        }
        self.first_in(self.right[node as usize], ask, accept)
    }

    /// The agents of `root` in order (for tests).
    #[cfg(test)]
    pub fn in_order(&self, root: Root) -> Vec<K> {
        fn walk<K: Ix>(arena: &Arena<K>, node: u32, out: &mut Vec<K>) {
            if node != arena.nil {
                walk(arena, arena.left[node as usize], out);
                out.push(K::new(node as usize));
                walk(arena, arena.right[node as usize], out);
            }
        }
        let mut out = Vec::new();
        walk(self, self.root_node(root), &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The model: (key, agent, free amounts) sorted by the treap's order.
    fn model_order(model: &[(f64, u32, [i64; 2])]) -> Vec<u32> {
        let mut sorted = model.to_vec();
        sorted.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        sorted.iter().map(|e| e.1).collect()
    }

    #[test]
    fn treap_orders_by_key_then_agent_and_finds_room() {
        let mut arena = Arena::<u32>::new(6, 2);
        let mut root = Root::default();
        for (agent, key, free) in [(0, 0.5, [4, 4]), (1, 0.9, [1, 8]), (2, 0.5, [8, 1]), (3, 0.1, [8, 8])] {
            arena.insert(&mut root, agent, key, free);
        }
        assert_eq!(arena.in_order(root), [1, 0, 2, 3]);
        assert_eq!(arena.first(root, &[(0, 2)], |_| true), Some(0));
        assert_eq!(arena.first(root, &[(1, 5)], |_| true), Some(1));
        assert_eq!(arena.first(root, &[(0, 5), (1, 5)], |_| true), Some(3));
        assert_eq!(arena.first(root, &[(0, 2)], |a| a != 0), Some(2));
        assert_eq!(arena.first(root, &[(0, 9)], |_| true), None);
        arena.remove(&mut root, 1);
        assert_eq!(arena.in_order(root), [0, 2, 3]);
        assert!(!arena.contains(1) && arena.contains(2));
        assert_eq!(arena.first(root, &[(1, 5)], |_| true), Some(3));
    }

    proptest! {
        #[test]
        fn treap_build_matches_inserts(entries in prop::collection::btree_map(0..60u32, (0..6u8, 0..10i64), 0..60)) {
            let mut built = Arena::<u32>::new(60, 1);
            let mut inserted = Arena::<u32>::new(60, 1);
            let (mut a, mut b) = (Root::default(), Root::default());
            let mut agents: Vec<u32> = entries.keys().copied().collect();
            for (&agent, &(key, free)) in &entries {
                built.set(agent, f64::from(key), [free]);
                inserted.insert(&mut b, agent, f64::from(key), [free]);
            }
            built.build(&mut a, &mut agents);
            prop_assert_eq!(built.in_order(a), inserted.in_order(b));
            for need in 0..11 {
                prop_assert_eq!(built.first(a, &[(0, need)], |_| true), inserted.first(b, &[(0, need)], |_| true));
            }
        }

        #[test]
        fn treap_matches_a_sorted_scan(
            ops in prop::collection::vec((0..40u32, 0..5u8, 0..10i64, 0..10i64, any::<bool>()), 0..120),
            asks in prop::collection::vec((0..10i64, 0..10i64, 0..40u32), 1..20),
        ) {
            let mut arena = Arena::<u32>::new(40, 2);
            let mut root = Root::default();
            let mut model: Vec<(f64, u32, [i64; 2])> = Vec::new();
            for (agent, key, cpu, mem, insert) in ops {
                if let Some(i) = model.iter().position(|e| e.1 == agent) {
                    model.remove(i);
                    arena.remove(&mut root, agent);
                }
                if insert {
                    let key = f64::from(key) / 4.0;
                    model.push((key, agent, [cpu, mem]));
                    arena.insert(&mut root, agent, key, [cpu, mem]);
                }
            }
            prop_assert_eq!(arena.in_order(root), model_order(&model));
            for (cpu, mem, banned) in asks {
                let want = model_order(&model).into_iter().find(|&a| {
                    let e = model.iter().find(|e| e.1 == a).unwrap();
                    e.2[0] >= cpu && e.2[1] >= mem && a != banned
                });
                prop_assert_eq!(arena.first(root, &[(0, cpu), (1, mem)], |a| a != banned), want);
            }
        }
    }
}
