//! The victims on one agent: the cheapest set of candidates that frees enough.
//!
//! Sets are compared by [`Cost`]: fewest victims, then the lowest standing (the sets' standings
//! sorted most important first, compared in turn), then the least work lost (run time summed,
//! youngest first), then the least capacity wasted, then the victims' ids. The search tries
//! sizes from one up and stops at the first size with a set that frees enough within the
//! budgets, so it is exact. Given a set's cost as `after`, it finds the next-cheapest set (the
//! cheapest costlier than it): the step asks that way when the hard constraints refuse a set.
//!
//! **Bound.** A size with more than [`COMBINATIONS`] (20,000) sets on one agent (e.g. 3 victims
//! among 50 candidates) is not enumerated: the set is then built greedily (lowest standing,
//! youngest, largest first) and may not be the cheapest, and it has no next-cheapest set. Below
//! that bound the answer is exact. Nothing here allocates per set tried unless a set has more
//! than eight victims.

use smallvec::SmallVec;

use super::budget::Ledger;
use crate::model::TaskId;

/// Most sets of one size enumerated on one agent before the search turns greedy.
pub(crate) const COMBINATIONS: u64 = 20_000;

/// A running task that could be evicted, as the search sees it.
#[derive(Clone, Debug)]
pub(crate) struct Candidate<'a> {
    pub id: &'a TaskId,
    /// Larger is more important (see [`standing`]).
    pub standing: u64,
    /// How long it has run, in nanoseconds.
    pub work: u128,
    /// Everything it holds, in thousandths summed over resources.
    pub total: i64,
    /// Its group's budget slot, if the group has a budget.
    pub budget: Option<u32>,
}

/// A task's standing as one number, larger more important: the earlier tier first (tier 0 is
/// first), then the higher priority.
#[inline]
pub(crate) fn standing(tier: u32, priority: i32) -> u64 {
    (u64::from(u32::MAX - tier) << 32) | u64::from((priority as u32) ^ 0x8000_0000)
}

/// What a victim set costs; smaller is cheaper. Field order is comparison order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cost<'a> {
    pub count: usize,
    /// The victims' standings, most important first.
    pub standings: SmallVec<[u64; 8]>,
    /// Run time lost, in nanoseconds.
    pub work: u128,
    /// What the victims free beyond what the task needs, in thousandths summed over resources.
    pub waste: i64,
    /// The victims' ids, sorted.
    pub ids: SmallVec<[&'a TaskId; 8]>,
}

/// The search's answer for one agent. Returned by value once per agent: boxing the large
/// variant would allocate per (task, agent) pair.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub(crate) enum Outcome<'a> {
    /// The cheapest set: its cost and the victims' positions among the candidates.
    Found(Cost<'a>, SmallVec<[u32; 8]>),
    /// Evicting every candidate would not free enough.
    NotEnough,
    /// Sets that free enough exist, but each breaks a budget (the slot of the first broken).
    Budget(u32),
    /// No set of at most the allowed size frees enough within the budgets.
    TooMany,
}

/// One agent's question: what the task still needs per asked resource (its ask less the
/// agent's room; zero or less when the room suffices), and the candidates with what each frees
/// per asked resource (`freed[c * need.len() + d]`).
pub(crate) struct Agent<'q, 'a> {
    pub need: &'q [i64],
    pub candidates: &'q [Candidate<'a>],
    pub freed: &'q [i64],
}

impl Agent<'_, '_> {
    fn frees(&self, c: usize, d: usize) -> i64 {
        self.freed[c * self.need.len() + d]
    }

    /// Whether the candidates at `set` free enough.
    fn enough(&self, set: &[u32]) -> bool {
        (0..self.need.len()).all(|d| {
            let need = self.need[d];
            need <= 0 || set.iter().map(|&c| self.frees(c as usize, d)).sum::<i64>() >= need
        })
    }

    /// The first budget slot `set` breaks, if any.
    fn breaks(&self, set: &[u32], ledger: &Ledger<'_>) -> Option<u32> {
        for (i, &c) in set.iter().enumerate() {
            let Some(slot) = self.candidates[c as usize].budget else { continue };
            let before = set[..i].iter().filter(|&&o| self.candidates[o as usize].budget == Some(slot)).count();
            if before == 0 {
                let members = set.iter().filter(|&&o| self.candidates[o as usize].budget == Some(slot)).count();
                if members as u64 > u64::from(ledger.room(slot)) {
                    return Some(slot);
                }
            }
        }
        None
    }
}

impl<'a> Agent<'_, 'a> {
    /// The cost of `set`.
    fn cost(&self, set: &[u32]) -> Cost<'a> {
        let members = || set.iter().map(|&c| &self.candidates[c as usize]);
        let mut standings: SmallVec<[u64; 8]> = members().map(|c| c.standing).collect();
        standings.sort_unstable_by(|a, b| b.cmp(a));
        let mut ids: SmallVec<[&'a TaskId; 8]> = members().map(|c| c.id).collect();
        ids.sort_unstable();
        let needed: i64 = self.need.iter().map(|&n| n.max(0)).sum();
        Cost {
            count: set.len(),
            standings,
            work: members().map(|c| c.work).sum(),
            waste: members().map(|c| c.total).sum::<i64>() - needed,
            ids,
        }
    }
}

/// Number of `k`-sets of `n`, saturating past [`COMBINATIONS`].
pub(crate) fn combinations(n: usize, k: usize) -> u64 {
    let mut total: u64 = 1;
    for i in 0..k as u64 {
        total = total.saturating_mul(n as u64 - i) / (i + 1);
        if total > COMBINATIONS {
            return u64::MAX;
        }
    }
    total
}

/// The cheapest set on `agent` of at most `most` victims within the budgets of `ledger`, and
/// costlier than `after` when given.
pub(crate) fn cheapest<'a>(
    agent: &Agent<'_, 'a>,
    ledger: &Ledger<'_>,
    most: usize,
    after: Option<&Cost<'a>>,
) -> Outcome<'a> {
    let n = agent.candidates.len();
    let all: SmallVec<[u32; 8]> = (0..n as u32).collect();
    if n == 0 || !agent.enough(&all) {
        return Outcome::NotEnough;
    }
    if after.is_none() && agent.candidates.iter().all(|c| c.budget.is_some_and(|slot| ledger.room(slot) == 0)) {
        return all_spent(agent, most);
    }
    every_set(agent, ledger, most, after)
}

/// [`cheapest`] by trying the sets of each size in turn.
fn every_set<'a>(agent: &Agent<'_, 'a>, ledger: &Ledger<'_>, most: usize, after: Option<&Cost<'a>>) -> Outcome<'a> {
    let n = agent.candidates.len();
    let mut broken: Option<u32> = None;
    let first = after.map_or(1, |a| a.count.max(1));
    for size in first..=n.min(most) {
        if combinations(n, size) == u64::MAX {
            let greedy = greedy(agent, ledger, most)
                .filter(|found| !matches!((found, after), (Outcome::Found(cost, _), Some(a)) if cost <= a));
            return greedy.unwrap_or(match broken {
                Some(slot) => Outcome::Budget(slot),
                None => Outcome::TooMany,
            });
        }
        let mut set: SmallVec<[u32; 8]> = (0..size as u32).collect();
        let mut best: Option<(Cost<'a>, SmallVec<[u32; 8]>)> = None;
        loop {
            if agent.enough(&set) {
                match agent.breaks(&set, ledger) {
                    Some(slot) => {
                        broken.get_or_insert(slot);
                    }
                    None => {
                        let cost = agent.cost(&set);
                        // A set as cheap as `after` was tried already (and refused).
                        let untried = after.is_none_or(|a| cost > *a);
                        if untried && best.as_ref().is_none_or(|(b, _)| cost < *b) {
                            best = Some((cost, set.clone()));
                        }
                    }
                }
            }
            if !advance(&mut set, n) {
                break;
            }
        }
        if let Some((cost, set)) = best {
            return Outcome::Found(cost, set);
        }
    }
    match broken {
        Some(slot) => Outcome::Budget(slot),
        None => Outcome::TooMany,
    }
}

/// What [`cheapest`] answers when every candidate's budget is spent: every set breaks its first
/// member's budget, so nothing is found, and the answer is the budget of the first set that
/// frees enough in the order the full search tries sets (by size, then lexicographically), or
/// `TooMany` when the search would turn greedy (which finds nothing either) or no set of at
/// most `most` frees enough. Stops at that first set instead of trying every set.
fn all_spent<'a>(agent: &Agent<'_, 'a>, most: usize) -> Outcome<'a> {
    let n = agent.candidates.len();
    for size in 1..=n.min(most) {
        if combinations(n, size) == u64::MAX {
            return Outcome::TooMany;
        }
        let mut set: SmallVec<[u32; 8]> = (0..size as u32).collect();
        loop {
            if agent.enough(&set) {
                let first = &agent.candidates[set[0] as usize];
                return first.budget.map_or(Outcome::TooMany, Outcome::Budget);
            }
            if !advance(&mut set, n) {
                break;
            }
        }
    }
    Outcome::TooMany
}

/// The next `set.len()`-set of `0..n` in lexicographic order; false after the last.
fn advance(set: &mut [u32], n: usize) -> bool {
    let k = set.len();
    let mut i = k;
    while i > 0 {
        i -= 1;
        if (set[i] as usize) < n - k + i {
            set[i] += 1;
            for j in i + 1..k {
                set[j] = set[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Victims taken lowest standing, youngest, largest first while they are needed and their
/// budgets allow; `None` when that does not free enough within `most` victims.
fn greedy<'a>(agent: &Agent<'_, 'a>, ledger: &Ledger<'_>, most: usize) -> Option<Outcome<'a>> {
    let mut order: Vec<u32> = (0..agent.candidates.len() as u32).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&agent.candidates[a as usize], &agent.candidates[b as usize]);
        (x.standing, x.work, std::cmp::Reverse(x.total), x.id).cmp(&(
            y.standing,
            y.work,
            std::cmp::Reverse(y.total),
            y.id,
        ))
    });
    let mut set: SmallVec<[u32; 8]> = SmallVec::new();
    for c in order {
        if set.len() >= most || agent.enough(&set) {
            break;
        }
        let helps = (0..agent.need.len()).any(|d| agent.need[d] > 0 && agent.frees(c as usize, d) > 0);
        if !helps {
            continue;
        }
        set.push(c);
        if agent.breaks(&set, ledger).is_some() {
            set.pop();
        }
    }
    if set.is_empty() || !agent.enough(&set) {
        return None;
    }
    set.sort_unstable();
    Some(Outcome::Found(agent.cost(&set), set))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standing_orders_tier_before_priority() {
        assert!(standing(0, -5) > standing(1, 100));
        assert!(standing(1, 2) > standing(1, 1));
        assert!(standing(0, i32::MIN) < standing(0, i32::MAX));
    }

    #[test]
    fn advance_walks_every_pair_once() {
        let mut set = [0u32, 1];
        let mut seen = vec![set];
        while advance(&mut set, 4) {
            seen.push(set);
        }
        assert_eq!(seen, [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
    }

    /// With every budget spent, the shortcut answers as trying every set does, over random
    /// agents (sizes, needs and what each candidate frees from a seed).
    #[test]
    fn all_spent_answers_as_every_set_does() {
        use crate::engine::preempt::{DisruptionBudgets, MaxUnavailable};
        use crate::util::SeededRng;
        let mut budgets = DisruptionBudgets::new();
        budgets.set("a", MaxUnavailable::Count(0));
        budgets.set("b", MaxUnavailable::Count(0));
        let mut ledger = Ledger::new(&budgets);
        ledger.settle_allowances(&budgets, &[5, 5]);
        let ids: Vec<TaskId> = (0..12).map(|i| TaskId::new(format!("r{i}"))).collect();
        let mut rng = SeededRng::new(11);
        let mut answers = [0usize; 2];
        for _ in 0..2_000 {
            let n = 1 + rng.below(10) as usize;
            let dims = 1 + rng.below(3) as usize;
            let need: Vec<i64> = (0..dims).map(|_| rng.below(6) as i64 - 1).collect();
            let freed: Vec<i64> = (0..n * dims).map(|_| rng.below(4) as i64).collect();
            let candidates: Vec<Candidate<'_>> = (0..n)
                .map(|c| Candidate { id: &ids[c], standing: 0, work: 0, total: 0, budget: Some(rng.below(2) as u32) })
                .collect();
            let agent = Agent { need: &need, candidates: &candidates, freed: &freed };
            let most = 1 + rng.below(n as u64 + 1) as usize;
            let (fast, full) = (all_spent(&agent, most), every_set(&agent, &ledger, most, None));
            match (&fast, &full) {
                (Outcome::Budget(x), Outcome::Budget(y)) if x == y => answers[0] += 1,
                (Outcome::TooMany, Outcome::TooMany) => answers[1] += 1,
                _ => panic!("shortcut {fast:?}, every set {full:?}"),
            }
        }
        assert!(answers[0] > 100 && answers[1] > 10, "both answers seen: {answers:?}");
    }

    #[test]
    fn combinations_saturate_past_the_limit() {
        assert_eq!(combinations(5, 2), 10);
        assert_eq!(combinations(100, 50), u64::MAX);
    }
}
