//! Per-group counts: tasks per (group, value), the values each group uses, group totals and
//! running tasks whose place is unknown.

use std::collections::hash_map::Entry;

use super::ix::{nonzero_index, AgentIx, GroupIx, KeyIx, ValueIx};
use super::Tables;

nonzero_index! {
    /// A link of the chains of used values (see `Tables::used_links`).
    LinkIx
}

impl Tables {
    /// Tasks of `group` on agents whose attribute has value `value`.
    #[inline]
    pub fn count(&self, group: GroupIx, value: ValueIx) -> u32 {
        let here = self.counts.get(&(group, value)).copied().unwrap_or(0);
        here + self.unlocated(group)
    }

    /// Running tasks of `group` whose place is unknown; they count on every value.
    #[inline]
    pub fn unlocated(&self, group: GroupIx) -> u32 {
        if self.unlocated.is_empty() {
            return 0;
        }
        self.unlocated.get(&group).copied().unwrap_or(0)
    }

    /// Tasks of `group` anywhere (running and placed in this pass).
    #[inline]
    pub fn group_total(&self, group: GroupIx) -> u32 {
        self.group_total.get(group.get()).copied().unwrap_or(0)
    }

    /// Values of `key` that hold at least one task of `group`, latest first.
    pub fn used_values(&self, group: GroupIx, key: KeyIx) -> impl Iterator<Item = ValueIx> + '_ {
        let first = self.used_values.get(&(group, key)).map(|&(head, _)| head);
        std::iter::successors(first, |&link| self.used_links[link.get()].1).map(|link| self.used_links[link.get()].0)
    }

    /// Number of values of `key` that hold at least one task of `group`.
    pub fn used_value_count(&self, group: GroupIx, key: KeyIx) -> usize {
        let used = self.located_value_count(group, key);
        if self.unlocated(group) > 0 {
            return used.max(self.values_per_key(key));
        }
        used
    }

    /// Number of values of `key` that hold a task of `group` whose place is known.
    pub fn located_value_count(&self, group: GroupIx, key: KeyIx) -> usize {
        self.used_values.get(&(group, key)).map_or(0, |&(_, n)| n as usize)
    }

    /// Takes one task of `group` off `agent` in every counter. Which groups the agent still
    /// holds is the caller's to restate ([`Tables::regroup`]); until then it errs towards
    /// "several groups" (an exclusive placement is refused, never wrongly allowed).
    pub(super) fn uncount_on_agent(&mut self, agent: AgentIx, group: GroupIx) {
        let nk = self.n_keys();
        let start = agent.get() * nk;
        for k in start..start + nk {
            if let Some(v) = self.agent_values[k] {
                self.uncount_value(group, v);
            }
        }
        self.group_total[group.get()] = self.group_total[group.get()].saturating_sub(1);
        self.agents[agent.get()].remove_task();
    }

    /// One task fewer of `group` on attribute value `value`.
    pub(super) fn uncount_value(&mut self, group: GroupIx, value: ValueIx) {
        let Some(c) = self.counts.get_mut(&(group, value)) else {
            return;
        };
        *c -= 1;
        if *c > 0 {
            return;
        }
        self.counts.remove(&(group, value));
        let key = self.values[value.get()].key();
        let Some((head, n)) = self.used_values.get(&(group, key)).copied() else {
            return;
        };
        // Unlink `value` from the (group, key) chain.
        let (mut prev, mut link) = (None, Some(head));
        while let Some(at) = link.filter(|at| self.used_links[at.get()].0 != value) {
            prev = Some(at);
            link = self.used_links[at.get()].1;
        }
        let Some(at) = link else {
            return;
        };
        let next = self.used_links[at.get()].1;
        match (n, prev, next) {
            // (A chain of more than one value whose head is last cannot be: dropped all the same.)
            (1, _, _) | (_, None, None) => {
                self.used_values.remove(&(group, key));
            }
            (_, None, Some(next)) => {
                self.used_values.insert((group, key), (next, n - 1));
            }
            (_, Some(prev), _) => {
                self.used_links[prev.get()].1 = next;
                self.used_values.insert((group, key), (head, n - 1));
            }
        }
    }

    /// One more task of `group` on each of `values` (a running task away from the agents).
    pub(super) fn count_values(&mut self, group: GroupIx, values: &[ValueIx]) {
        self.group_total[group.get()] += 1;
        for &v in values {
            self.count_value(group, v);
        }
    }

    /// One more task of `group` on attribute value `value`.
    #[inline]
    fn count_value(&mut self, group: GroupIx, value: ValueIx) {
        let c = self.counts.entry((group, value)).or_insert(0);
        *c += 1;
        if *c == 1 {
            let key = self.values[value.get()].key();
            let link = LinkIx::new(self.used_links.len());
            match self.used_values.entry((group, key)) {
                Entry::Occupied(mut chain) => {
                    let (head, n) = chain.get_mut();
                    self.used_links.push((value, Some(*head)));
                    *head = link;
                    *n += 1;
                }
                Entry::Vacant(chain) => {
                    self.used_links.push((value, None));
                    chain.insert((link, 1));
                }
            }
        }
    }

    /// Records one task of `group` on `agent` in every counter; per attribute value only when
    /// `per_value` (a one-shot pass skips the counts no plugin of it can read).
    pub fn count_on_agent(&mut self, agent: AgentIx, group: GroupIx, per_value: bool) {
        if per_value {
            let nk = self.n_keys();
            let start = agent.get() * nk;
            for k in start..start + nk {
                if let Some(v) = self.agent_values[k] {
                    self.count_value(group, v);
                }
            }
        }
        self.group_total[group.get()] += 1;
        self.agents[agent.get()].add_task(group);
    }
}
