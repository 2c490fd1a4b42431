//! Serving a pass: the next entry, admission, and the caller's report on each entry.

use super::core::{get, Queue};
use super::entry::{EntryId, State};
use super::reason::{QueueError, QueueReason, UnplacedCause};

impl Queue {
    /// Hands out the next entry to try: the lowest tier with untried entries, in it the bucket
    /// with the lowest weighted dominant share (ties by name), in it the entry with the highest
    /// aged priority (ties by arrival). `None` when every entry was tried in this pass.
    ///
    /// Costs O(log buckets + log entries of the bucket). Report the entry with
    /// [`placed`](Queue::placed) or [`unplaced`](Queue::unplaced) before asking again, so shares
    /// are up to date (asking first is allowed: the same bucket may answer again).
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<EntryId> {
        for tier in self.tiers.values_mut() {
            while let Some((&c, _)) = tier.heap.peek() {
                let cell = &mut self.cells[c as usize];
                while let Some(top) = cell.heap.pop() {
                    let slot = &mut self.slots[top.id.slot as usize];
                    if let Some(data) = slot.data.as_mut().filter(|_| slot.gen == top.id.gen) {
                        data.state = State::InFlight;
                        cell.tried.push(top.id);
                        return Some(top.id);
                    }
                }
                tier.heap.pop();
            }
        }
        None
    }

    /// Whether the queue lets the entry be placed now (check before trying agents):
    /// the bucket's limit, counting running tasks, is never exceeded; the tier's capacity minus
    /// Σ over its buckets of max(usage, guarantee) is the shared remainder a bucket may use beyond
    /// its own guarantee; and unused guarantees of buckets with pending tasks are held for them
    /// across the cluster total. A stale handle has nothing to check and is admitted.
    pub fn admit(&self, id: EntryId) -> Result<(), QueueReason> {
        let Some(data) = self.slots.get(id.slot as usize).and_then(|s| s.live(id.gen)) else {
            return Ok(());
        };
        let cell = &self.cells[data.cell as usize];
        let bucket = &self.buckets[cell.bucket as usize];
        for &(r, ask) in &data.ask {
            let limit = bucket.limit.get(r as usize).copied().flatten();
            if limit.is_some_and(|limit| get(&bucket.usage, r) + ask > limit) {
                return Err(QueueReason::LimitReached {
                    bucket: bucket.name.clone(),
                    resource: self.names[r as usize].clone(),
                });
            }
        }
        let Some(tier) = self.tiers.get(&cell.tier) else { return Ok(()) };
        for &(r, ask) in &data.ask {
            let used = get(&cell.usage, r);
            let guarantee = get(&bucket.guarantee, r);
            let capacity = tier.capacity.get(r as usize).copied().flatten();
            // The capacity is a hard cap, guarantees included.
            if capacity.is_some_and(|capacity| get(&tier.used, r) + ask > capacity) {
                let resource = self.names[r as usize].clone();
                return Err(QueueReason::TierCapacity { tier: cell.tier, resource });
            }
            // The cell has demand (this entry), so it holds max(usage, guarantee) already.
            let extra = (used + ask).max(guarantee) - used.max(guarantee);
            if !extra.is_zero() && capacity.is_some_and(|capacity| get(&tier.reserved, r) + extra > capacity) {
                return Err(QueueReason::NoGuaranteedCapacity { bucket: bucket.name.clone() });
            }
            // Across the cluster the bucket's guarantee is one amount over all its tiers.
            let used = get(&bucket.usage, r);
            let extra = (used + ask).max(guarantee) - used.max(guarantee);
            let total = get(&self.total, r);
            if !extra.is_zero() && get(&self.used, r) + ask <= total && get(&self.reserved, r) + extra > total {
                return Err(QueueReason::NoGuaranteedCapacity { bucket: bucket.name.clone() });
            }
        }
        Ok(())
    }

    /// Reports that the entry handed out by [`next`](Queue::next) was placed: it leaves the
    /// queue, its ask joins its bucket's usage and the bucket's share is re-evaluated.
    pub fn placed(&mut self, id: EntryId) -> Result<(), QueueError> {
        self.in_flight(id)?;
        let data = self.take(id).ok_or(QueueError::UnknownEntry)?;
        let cell = data.cell;
        self.set_pending(cell, false);
        self.cells[cell as usize].placed += 1;
        self.use_resources(cell, &data.ask, true);
        Ok(())
    }

    /// Reports that the entry handed out by [`next`](Queue::next) was not placed; it waits for
    /// the next pass without holding back the entries behind it. [`UnplacedCause::NoFit`]
    /// counts toward starvation, a queue reason resets the count.
    pub fn unplaced(&mut self, id: EntryId, cause: UnplacedCause) -> Result<(), QueueError> {
        self.in_flight(id)?;
        let slot = &mut self.slots[id.slot as usize];
        let Some(data) = slot.data.as_mut() else { return Err(QueueError::UnknownEntry) };
        data.state = State::Tried;
        data.misses = match cause {
            UnplacedCause::NoFit => data.misses.saturating_add(1),
            UnplacedCause::Queue(_) => 0,
        };
        let cell = data.cell;
        self.cells[cell as usize].unplaced += 1;
        Ok(())
    }

    fn in_flight(&self, id: EntryId) -> Result<(), QueueError> {
        let data = self.slots.get(id.slot as usize).and_then(|s| s.live(id.gen)).ok_or(QueueError::UnknownEntry)?;
        match data.state {
            State::InFlight => Ok(()),
            State::Queued | State::Tried => Err(QueueError::NotInFlight),
        }
    }
}
