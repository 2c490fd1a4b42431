//! Entries: the caller's handle, what goes in, and how an entry ranks within its bucket.

use std::cmp::Ordering;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::resources::Quantity;

/// A handle on one queued task, stable across passes until the task is placed or removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId {
    pub(super) slot: u32,
    pub(super) gen: u32,
}

/// A task to queue: the caller's index for it, its tier, bucket, priority and ask.
#[derive(Clone, Copy, Debug)]
pub struct QueuedTask<'a> {
    /// The caller's index of the task (for example its place in a `Vec<TaskSpec>`).
    pub task: u32,
    /// Its tier (0 is served first).
    pub tier: u32,
    /// Its bucket's name ([`DEFAULT_BUCKET`](super::DEFAULT_BUCKET) when it names none).
    pub bucket: &'a str,
    /// Higher is served first within the bucket.
    pub priority: i32,
    /// Scalar resources asked for, sorted by name (as in [`TaskSpec::resources`](crate::TaskSpec::resources)).
    pub ask: &'a [(Arc<str>, Quantity)],
}

/// A read-only view of a queued entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryInfo<'a> {
    /// The caller's index of the task.
    pub task: u32,
    /// Its tier.
    pub tier: u32,
    /// Its bucket.
    pub bucket: &'a str,
    /// Its priority, as given.
    pub priority: i32,
    /// Arrival order across the whole queue (0 first).
    pub seq: u64,
    /// The pass it was queued in.
    pub since: u64,
    /// Consecutive passes it was tried and fit no agent.
    pub misses: u32,
}

/// Where an entry stands in the current pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Waiting in its cell's heap.
    Queued,
    /// Handed out by `next`, not yet reported.
    InFlight,
    /// Tried and not placed in this pass; back in the heap at the next pass.
    Tried,
}

/// A queued entry's data.
#[derive(Clone, Debug)]
pub(super) struct Data {
    pub task: u32,
    pub cell: u32,
    pub priority: i32,
    pub rank: i64,
    pub seq: u64,
    pub since: u64,
    /// Non-zero asks by interned resource index, in the order given.
    pub ask: SmallVec<[(u32, Quantity); 4]>,
    pub misses: u32,
    pub state: State,
}

/// A slab slot; `gen` grows each time the slot is freed, so old handles go stale.
#[derive(Clone, Debug, Default)]
pub(super) struct Slot {
    pub gen: u32,
    pub data: Option<Data>,
}

impl Slot {
    /// The entry, if `gen` still names it.
    pub fn live(&self, gen: u32) -> Option<&Data> {
        self.data.as_ref().filter(|_| self.gen == gen)
    }
}

/// An entry's place in its cell's heap: the greatest is served first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Ranked {
    pub rank: i64,
    pub seq: u64,
    pub id: EntryId,
}

impl Ord for Ranked {
    /// Higher rank first, then earlier arrival.
    fn cmp(&self, other: &Ranked) -> Ordering {
        self.rank.cmp(&other.rank).then_with(|| other.seq.cmp(&self.seq)).then_with(|| other.id.cmp(&self.id))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Ranked) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The time-invariant rank of an entry: with aging every `n` passes, priority `p` queued at pass
/// `e` ranks as `p·n − e`, which orders entries exactly as the effective priority
/// `p + (now − e)/n` does at any `now` (the `now/n` term is common to all).
pub(super) fn rank(priority: i32, since: u64, aging_passes: u32) -> i64 {
    if aging_passes == 0 {
        return i64::from(priority);
    }
    let since = i64::try_from(since).unwrap_or(i64::MAX);
    (i64::from(priority) * i64::from(aging_passes)).saturating_sub(since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_ages_one_level_per_aging_period() {
        // Priority 1 queued at pass 20 against priority 0 queued at pass 0, aging every 10 passes:
        // at pass 20 the older entry's effective priority is 2, the newer one's 1.
        assert!(rank(0, 0, 10) > rank(1, 20, 10));
        assert!(rank(0, 0, 10) < rank(1, 5, 10));
        assert_eq!(rank(0, 0, 10), rank(1, 10, 10), "equal effective priority: arrival decides");
        assert!(rank(1, 1_000, 0) > rank(0, 0, 0), "without aging only priority counts");
    }

    #[test]
    fn ranked_orders_rank_then_arrival() {
        let id = EntryId { slot: 0, gen: 0 };
        let a = Ranked { rank: 5, seq: 9, id };
        let b = Ranked { rank: 5, seq: 3, id };
        let c = Ranked { rank: 6, seq: 10, id };
        assert!(b > a && c > b);
    }
}
