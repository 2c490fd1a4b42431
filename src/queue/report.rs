//! Reading the queue: entries, starving heads, shares and per-bucket figures.

use super::core::{get, Queue};
use super::entry::{EntryId, EntryInfo};
use super::{BucketStats, ResourceAmounts};

impl Queue {
    /// A view of a queued entry; `None` for a stale handle.
    pub fn entry(&self, id: EntryId) -> Option<EntryInfo<'_>> {
        let data = self.slots.get(id.slot as usize)?.live(id.gen)?;
        let cell = &self.cells[data.cell as usize];
        Some(EntryInfo {
            task: data.task,
            tier: cell.tier,
            bucket: &self.buckets[cell.bucket as usize].name,
            priority: data.priority,
            seq: data.seq,
            since: data.since,
            misses: data.misses,
        })
    }

    /// The starving heads found when the pass began, by tier then bucket name: each is the head
    /// of its bucket in its tier and fit no agent in `starving_after` consecutive passes. The
    /// engine reserves one agent for each (see the [module docs](super)); an entry placed or
    /// removed during the pass leaves the list at once.
    pub fn starving(&self) -> impl Iterator<Item = EntryId> + '_ {
        self.starving.iter().copied()
    }

    /// The lowest weighted dominant share among the buckets of `tier` with entries queued;
    /// `None` when none has any.
    pub fn lowest_waiting_share(&self, tier: u32) -> Option<f64> {
        let waiting = self.cells.iter().enumerate().filter(|(_, c)| c.tier == tier && c.pending > 0);
        waiting.map(|(i, _)| self.weighted_share(i as u32)).reduce(f64::min)
    }

    /// The weighted dominant share of `bucket` in `tier` against the pass's total, if the queue
    /// has seen that bucket in that tier.
    pub fn share(&self, tier: u32, bucket: &str) -> Option<f64> {
        let b = *self.bucket_ids.get(bucket)?;
        let cell = *self.cell_ids.get(&(tier, b))?;
        Some(self.weighted_share(cell))
    }

    /// Per bucket and tier, by tier then bucket name: what the current pass placed and left
    /// unplaced, what the bucket holds after it and its dominant share. Buckets with nothing
    /// queued, held or tried are left out.
    pub fn stats(&self) -> Vec<BucketStats> {
        let mut out = Vec::new();
        for (c, cell) in self.cells.iter().enumerate() {
            let holds = cell.usage.iter().any(|q| !q.is_zero());
            if cell.pending == 0 && cell.placed == 0 && cell.unplaced == 0 && !holds {
                continue;
            }
            let mut allocated = ResourceAmounts::new();
            for (i, name) in self.names.iter().enumerate() {
                let used = get(&cell.usage, i as u32);
                if !used.is_zero() {
                    allocated.set(name, used);
                }
            }
            let bucket = &self.buckets[cell.bucket as usize];
            let dominant_share = self.dominant_share(c as u32);
            out.push(BucketStats {
                tier: cell.tier,
                bucket: bucket.name.clone(),
                placed: cell.placed,
                unplaced: cell.unplaced,
                allocated,
                dominant_share,
                weighted_share: dominant_share / bucket.weight,
            });
        }
        out.sort_by(|a, b| (a.tier, &a.bucket).cmp(&(b.tier, &b.bucket)));
        out
    }
}
