//! Per-group counts: tasks per (group, value), the values each group uses, group totals and
//! running tasks whose place is unknown.

use super::{Tables, NONE};

impl Tables {
    /// Tasks of `group` on agents whose attribute has value id `value`.
    #[inline]
    pub fn count(&self, group: u32, value: u32) -> u32 {
        let here = self.counts.get(&(group, value)).copied().unwrap_or(0);
        here + self.unlocated(group)
    }

    /// Running tasks of `group` whose place is unknown; they count on every value.
    #[inline]
    pub fn unlocated(&self, group: u32) -> u32 {
        if self.unlocated.is_empty() {
            return 0;
        }
        self.unlocated.get(&group).copied().unwrap_or(0)
    }

    /// Tasks of `group` anywhere (running and placed in this pass).
    #[inline]
    pub fn group_total(&self, group: u32) -> u32 {
        self.group_total.get(group as usize).copied().unwrap_or(0)
    }

    /// Values of `key` that hold at least one task of `group`, latest first.
    pub fn used_values(&self, group: u32, key: u32) -> impl Iterator<Item = u32> + '_ {
        let first = self.used_values.get(&(group, key)).map(|&(head, _)| head);
        std::iter::successors(first, |&link| Some(self.used_links[link as usize].1).filter(|&next| next != NONE))
            .map(|link| self.used_links[link as usize].0)
    }

    /// Number of values of `key` that hold at least one task of `group`.
    pub fn used_value_count(&self, group: u32, key: u32) -> usize {
        let used = self.located_value_count(group, key);
        if self.unlocated(group) > 0 {
            return used.max(self.values_per_key(key));
        }
        used
    }

    /// Number of values of `key` that hold a task of `group` whose place is known.
    pub fn located_value_count(&self, group: u32, key: u32) -> usize {
        self.used_values.get(&(group, key)).map_or(0, |&(_, n)| n as usize)
    }

    /// Takes one task of `group` off `agent` in every counter. Which groups the agent still
    /// holds is the caller's to restate ([`Tables::regroup`]); until then it errs towards
    /// "several groups" (an exclusive placement is refused, never wrongly allowed).
    pub(super) fn uncount_on_agent(&mut self, agent: u32, group: u32) {
        let nk = self.n_keys();
        for k in 0..nk {
            let v = self.agent_values[agent as usize * nk + k];
            if v != NONE {
                self.uncount_value(group, v);
            }
        }
        self.group_total[group as usize] = self.group_total[group as usize].saturating_sub(1);
        self.agents[agent as usize].remove_task();
    }

    /// One task fewer of `group` on attribute value `value`.
    pub(super) fn uncount_value(&mut self, group: u32, value: u32) {
        let Some(c) = self.counts.get_mut(&(group, value)) else {
            return;
        };
        *c -= 1;
        if *c > 0 {
            return;
        }
        self.counts.remove(&(group, value));
        let key = self.values[value as usize].key();
        let Some((head, n)) = self.used_values.get(&(group, key)).copied() else {
            return;
        };
        // Unlink `value` from the (group, key) chain.
        let (mut prev, mut link) = (NONE, head);
        while link != NONE && self.used_links[link as usize].0 != value {
            prev = link;
            link = self.used_links[link as usize].1;
        }
        if link == NONE {
            return;
        }
        let next = self.used_links[link as usize].1;
        if n == 1 {
            self.used_values.remove(&(group, key));
        } else if prev == NONE {
            self.used_values.insert((group, key), (next, n - 1));
        } else {
            self.used_links[prev as usize].1 = next;
            self.used_values.insert((group, key), (head, n - 1));
        }
    }

    /// One more task of `group` on each of `values` (a running task away from the agents).
    pub(super) fn count_values(&mut self, group: u32, values: &[u32]) {
        self.group_total[group as usize] += 1;
        for &v in values {
            self.count_value(group, v);
        }
    }

    /// One more task of `group` on attribute value `value`.
    #[inline]
    fn count_value(&mut self, group: u32, value: u32) {
        let c = self.counts.entry((group, value)).or_insert(0);
        *c += 1;
        if *c == 1 {
            let key = self.values[value as usize].key();
            let link = self.used_links.len() as u32;
            let (head, n) = self.used_values.entry((group, key)).or_insert((NONE, 0));
            self.used_links.push((value, *head));
            *head = link;
            *n += 1;
        }
    }

    /// Records one task of `group` on `agent` in every counter; per attribute value only when
    /// `per_value` (a one-shot pass skips the counts no plugin of it can read).
    pub fn count_on_agent(&mut self, agent: u32, group: u32, per_value: bool) {
        if per_value {
            let nk = self.n_keys();
            let start = agent as usize * nk;
            for k in 0..nk {
                let v = self.agent_values[start + k];
                if v != NONE {
                    self.count_value(group, v);
                }
            }
        }
        self.group_total[group as usize] += 1;
        self.agents[agent as usize].add_task(group);
    }
}
