//! A few numbers per agent kept beside its rows, in the table's contiguous agent list, so the
//! search can pass most agents over without reading their rows (a separate allocation each,
//! so a cache miss per agent): the lowest standings, the latest starts and which groups run
//! there.

use std::time::Duration;

use super::table::Row;

/// How many of an agent's lowest standings and latest starts are kept.
pub(crate) const KEPT: usize = 4;

/// Bounds over one agent's rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Summary {
    /// The lowest standings, ascending: the first rows' standings (`len` of them hold).
    pub low: [u64; KEPT],
    /// The latest starts, latest first (`len` of them hold).
    pub latest: [Duration; KEPT],
    /// How many entries hold: the number of rows, at most [`KEPT`].
    pub len: usize,
    /// The first row's start (the youngest of the lowest standing).
    pub first_started: Duration,
    /// Bit `g % 64` set for the group `g` of every row.
    pub groups: u64,
}

/// The bit of table group `group` in [`Summary::groups`].
#[inline]
pub(crate) fn group_bit(group: u32) -> u64 {
    1 << (group % 64)
}

impl Summary {
    /// The summary of `rows`, sorted as the table keeps them (lowest standing first).
    pub fn of<T>(rows: &[Row<T>]) -> Summary {
        let mut summary = Summary::default();
        for row in rows {
            summary.add(row.standing, row.started, row.group);
        }
        summary.first_started = rows.first().map_or(Duration::ZERO, |r| r.started);
        summary
    }

    /// Counts a row added to the agent (`first_started` is the caller's to set).
    pub fn add(&mut self, standing: u64, started: Duration, group: u32) {
        self.groups |= group_bit(group);
        let at = self.low[..self.len].partition_point(|&s| s <= standing);
        if at < KEPT {
            self.low.copy_within(at..KEPT - 1, at + 1);
            self.low[at] = standing;
        }
        let at = self.latest[..self.len].partition_point(|&s| s >= started);
        if at < KEPT {
            self.latest.copy_within(at..KEPT - 1, at + 1);
            self.latest[at] = started;
        }
        self.len = (self.len + 1).min(KEPT);
    }

    /// The `k` lowest standings, most important first, if `k` are kept (and the rows hold `k`).
    #[inline]
    pub fn lowest(&self, k: usize) -> Option<impl Iterator<Item = u64> + '_> {
        (k <= self.len).then(|| self.low[..k].iter().rev().copied())
    }

    /// The least work `k` rows together have lost by `now`, if `k` starts are kept.
    #[inline]
    pub fn least_work(&self, k: usize, now: Duration) -> Option<u128> {
        (k <= self.len).then(|| self.latest[..k].iter().map(|&s| now.saturating_sub(s).as_nanos()).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::SeededRng;

    /// The summary recomputed plainly: every standing sorted, every start sorted, every bit.
    fn straight(rows: &[(u64, Duration, u32)]) -> (Vec<u64>, Vec<Duration>, u64) {
        let mut low: Vec<u64> = rows.iter().map(|r| r.0).collect();
        low.sort_unstable();
        low.truncate(KEPT);
        let mut latest: Vec<Duration> = rows.iter().map(|r| r.1).collect();
        latest.sort_unstable_by(|a, b| b.cmp(a));
        latest.truncate(KEPT);
        (low, latest, rows.iter().fold(0, |bits, r| bits | 1u64 << (r.2 % 64)))
    }

    /// Rows added one by one in random order keep the summary a plain recomputation gives.
    #[test]
    fn summary_added_row_by_row_matches_a_recomputation() {
        let mut rng = SeededRng::new(5);
        for _ in 0..2_000 {
            let n = rng.below(9) as usize;
            let rows: Vec<(u64, Duration, u32)> =
                (0..n).map(|_| (rng.below(5), Duration::from_secs(rng.below(6)), rng.below(130) as u32)).collect();
            let mut summary = Summary::default();
            for &(standing, started, group) in &rows {
                summary.add(standing, started, group);
            }
            let (low, latest, groups) = straight(&rows);
            assert_eq!(summary.len, low.len());
            assert_eq!(&summary.low[..summary.len], &low[..]);
            assert_eq!(&summary.latest[..summary.len], &latest[..]);
            assert_eq!(summary.groups, groups);
            for k in 0..=KEPT + 1 {
                let lowest: Option<Vec<u64>> = summary.lowest(k).map(|i| i.collect());
                let want = (k <= low.len()).then(|| low[..k].iter().rev().copied().collect());
                assert_eq!(lowest, want);
            }
        }
    }
}
