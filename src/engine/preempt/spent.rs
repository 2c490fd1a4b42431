//! Agents where no candidate's group has budget left: no set can be found there, and the
//! refusal the full search would report is read off the rows in one pass in the common case.
//!
//! Which groups still have budget is known per task from the ledger; an agent's
//! [`Summary::groups`](super::summary::Summary) bits say which groups run there, so an agent
//! whose bits meet no open group's is spent without reading its rows.

use std::borrow::Borrow;

use super::budget::Ledger;
use super::probe::Slots;
use super::search::{combinations, Outcome, COMBINATIONS};
use super::summary::group_bit;
use super::table::{Row, RunningTable};
use crate::model::RunningTask;

/// The bits ([`group_bit`]) of the table's groups without a budget: they are always open. In
/// `O(budgets)`: a bit is set when the table numbers more groups with it than have a budget.
pub(crate) fn unbudgeted_bits<T: Borrow<RunningTask>>(table: &RunningTable<T>, slots: &Slots) -> u64 {
    let groups = table.groups();
    let mut budgeted = [0usize; 64];
    for &(group, _) in &slots.pairs {
        budgeted[(group % 64) as usize] += 1;
    }
    (0..64).filter(|&b| groups / 64 + usize::from(b < groups % 64) > budgeted[b]).fold(0, |bits, b| bits | 1 << b)
}

/// The bits of the groups that may still lose a task: those without a budget (`unbudgeted`)
/// and those whose budget has room. A group whose bit is not set has no room left.
pub(crate) fn open_bits(unbudgeted: u64, slots: &Slots, ledger: &Ledger<'_>) -> u64 {
    slots.pairs.iter().filter(|&&(_, slot)| ledger.room(slot) > 0).fold(unbudgeted, |bits, &(g, _)| bits | group_bit(g))
}

/// What the full search answers on an agent whose candidates (`order`, row positions in
/// search order, not empty) all belong to groups without budget left, when it can be read in
/// a pass or two: `NotEnough` when all of them together free too little, else the budget of
/// the first candidate that frees enough alone (the first set the search tries that frees
/// enough, or the first member of the first pair that does). `None` when sets of three or
/// more would be needed, or when the search would not enumerate (more than [`COMBINATIONS`]
/// sets of a size): the full search answers then.
pub(crate) fn spent_outcome<T>(
    order: &[u32],
    rows: &[Row<T>],
    dims: &[Option<u32>],
    need: &[i64],
    slots: &Slots,
) -> Option<Outcome<'static>> {
    if order.is_empty() || order.len() as u64 > COMBINATIONS {
        return None;
    }
    // Dimension by dimension over the few candidates (no buffer of totals to fill per agent).
    for (&dim, &need) in dims.iter().zip(need) {
        if need > 0 && order.iter().map(|&p| rows[p as usize].held(dim)).sum::<i64>() < need {
            return Some(Outcome::NotEnough);
        }
    }
    let frees_alone = |p: u32| {
        let row = &rows[p as usize];
        dims.iter().zip(need).all(|(&dim, &need)| need <= 0 || row.held(dim) >= need)
    };
    let first = match order.iter().copied().find(|&p| frees_alone(p)) {
        Some(p) => p,
        None => first_of_pair(order, rows, dims, need)?,
    };
    slots.of(rows[first as usize].group).map(Outcome::Budget)
}

/// The first member (a row position) of the first pair of candidates, in the order the search
/// tries pairs, that frees enough; `None` when no pair does or the search would not enumerate
/// pairs.
fn first_of_pair<T>(order: &[u32], rows: &[Row<T>], dims: &[Option<u32>], need: &[i64]) -> Option<u32> {
    if combinations(order.len(), 2) == u64::MAX {
        return None;
    }
    for (i, &p) in order.iter().enumerate() {
        let first = &rows[p as usize];
        for &q in &order[i + 1..] {
            let second = &rows[q as usize];
            let enough =
                dims.iter().zip(need).all(|(&dim, &need)| need <= 0 || first.held(dim) + second.held(dim) >= need);
            if enough {
                return Some(p);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::preempt::search::{cheapest, Agent, Candidate};
    use crate::engine::preempt::{DisruptionBudgets, MaxUnavailable};
    use crate::model::TaskId;
    use crate::util::SeededRng;

    /// The bits of groups without a budget, counted per bit, are those a scan of every group
    /// gives.
    #[test]
    fn unbudgeted_bits_match_a_scan_of_every_group() {
        let mut rng = SeededRng::new(8);
        for _ in 0..300 {
            let groups = rng.below(300) as u32;
            let running: Vec<RunningTask> =
                (0..groups).map(|g| RunningTask::new(format!("t{g}"), format!("g{g}"), "a")).collect();
            let table = RunningTable::build(running.iter());
            let budgeted = (0..groups).filter(|_| rng.below(8) > 0);
            let slots = Slots::new(budgeted.enumerate().map(|(s, g)| (g, s as u32)).collect());
            let scan = (0..groups).filter(|&g| slots.of(g).is_none()).fold(0, |bits, g| bits | group_bit(g));
            assert_eq!(unbudgeted_bits(&table, &slots), scan);
        }
    }

    /// The slot table answers as a scan of the pairs, for groups inside and past it.
    #[test]
    fn slots_of_matches_a_scan_of_the_pairs() {
        let mut rng = SeededRng::new(21);
        for _ in 0..300 {
            let groups = rng.below(200) as u32;
            let pairs: Vec<(u32, u32)> =
                (0..groups).rev().filter(|_| rng.below(3) == 0).enumerate().map(|(s, g)| (g, s as u32)).collect();
            let slots = Slots::new(pairs.clone());
            assert!(slots.pairs.is_sorted());
            for g in 0..groups + 5 {
                let scan = pairs.iter().find(|&&(group, _)| group == g).map(|&(_, slot)| slot);
                assert_eq!(slots.of(g), scan);
            }
        }
    }

    /// On random agents whose every group has no budget left, the one-pass answer (when it
    /// gives one) is the full search's, and it gives one whenever a set of at most two frees
    /// enough or none does.
    #[test]
    fn spent_outcome_answers_as_the_full_search() {
        let mut budgets = DisruptionBudgets::new();
        budgets.set("a", MaxUnavailable::Count(0));
        budgets.set("b", MaxUnavailable::Count(0));
        let mut ledger = Ledger::new(&budgets);
        ledger.settle_allowances(&budgets, &[5, 5]);
        // Table groups 0 to 3, budget slots 0 and 1.
        let slots = Slots::new(vec![(0, 0), (1, 1), (2, 0), (3, 1)]);
        let ids: Vec<TaskId> = (0..12).map(|i| TaskId::new(format!("r{i}"))).collect();
        let mut rng = SeededRng::new(3);
        let mut answered = [0usize; 3];
        for _ in 0..3_000 {
            let n = 1 + rng.below(8) as usize;
            let table_dims = 1 + rng.below(3) as usize;
            let rows: Vec<Row<()>> = (0..n)
                .map(|_| Row {
                    standing: rng.below(3),
                    started: Duration::from_secs(rng.below(5)),
                    group: rng.below(4) as u32,
                    amounts: (0..table_dims).map(|_| rng.below(4) as i64).collect(),
                    task: (),
                })
                .collect();
            // Asked resources: some the table numbers, maybe one it does not.
            let asked = 1 + rng.below(3) as usize;
            let dims: Vec<Option<u32>> = (0..asked)
                .map(|_| Some(rng.below(table_dims as u64 + 1) as u32).filter(|&d| (d as usize) < table_dims))
                .collect();
            let need: Vec<i64> = (0..asked).map(|_| rng.below(7) as i64 - 1).collect();
            if need.iter().all(|&n| n <= 0) {
                continue;
            }
            // Candidates: a random subset of the rows, in row order.
            let order: Vec<u32> = (0..n as u32).filter(|_| rng.below(4) > 0).collect();
            if order.is_empty() {
                continue;
            }
            let candidates: Vec<Candidate<'_>> = order
                .iter()
                .map(|&p| Candidate {
                    id: &ids[p as usize],
                    standing: rows[p as usize].standing,
                    work: 0,
                    total: rows[p as usize].total(),
                    budget: slots.of(rows[p as usize].group),
                })
                .collect();
            let rows_ref = &rows;
            let freed: Vec<i64> =
                order.iter().flat_map(|&p| dims.iter().map(move |&d| rows_ref[p as usize].held(d))).collect();
            let question = Agent { need: &need, candidates: &candidates, freed: &freed };
            let full = cheapest(&question, &ledger, usize::MAX, None);
            let fast = spent_outcome(&order, &rows, &dims, &need, &slots);
            match (&fast, &full) {
                (Some(Outcome::NotEnough), Outcome::NotEnough) => answered[0] += 1,
                (Some(Outcome::Budget(x)), Outcome::Budget(y)) if x == y => answered[1] += 1,
                (None, Outcome::Budget(_) | Outcome::TooMany) => {
                    let frees = |set: &[u32]| {
                        dims.iter().zip(&need).all(|(&d, &need)| {
                            need <= 0 || set.iter().map(|&p| rows[p as usize].held(d)).sum::<i64>() >= need
                        })
                    };
                    let small = order
                        .iter()
                        .enumerate()
                        .any(|(i, &p)| frees(&[p]) || order[i + 1..].iter().any(|&q| frees(&[p, q])));
                    assert!(!small, "no answer although a set of two frees enough");
                    answered[2] += 1;
                }
                _ => panic!("one pass {fast:?}, full search {full:?}, need {need:?}"),
            }
        }
        assert!(answered.iter().all(|&a| a > 30), "every answer seen: {answered:?}");
    }
}
