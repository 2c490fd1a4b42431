//! The queue's state: interned resources, buckets, tiers, cells (a bucket within a tier) and
//! entries; adding and removing entries and running usage; starting a pass.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use priority_queue::PriorityQueue;
use rustc_hash::FxHashMap;

use super::config::{QueueConfig, QueueConfigError, QueuePolicy};
use super::entry::{self, Data, EntryId, QueuedTask, Ranked, Slot, State};
use super::ResourceAmounts;
use crate::resources::Quantity;

/// Amounts by interned resource index; missing indices are zero.
pub(super) type Dense = Vec<Quantity>;

/// The amount at `i`, zero past the end.
pub(super) fn get(v: &[Quantity], i: u32) -> Quantity {
    v.get(i as usize).copied().unwrap_or(Quantity::ZERO)
}

/// The amount at `i`, growing the vector as needed.
pub(super) fn at(v: &mut Dense, i: u32) -> &mut Quantity {
    let i = i as usize;
    if v.len() <= i {
        v.resize(i + 1, Quantity::ZERO);
    }
    &mut v[i]
}

/// A bucket's configuration, interned, and its usage over every tier.
#[derive(Debug)]
pub(super) struct Bucket {
    pub name: Arc<str>,
    pub weight: f64,
    pub guarantee: Dense,
    pub limit: Vec<Option<Quantity>>,
    pub usage: Dense,
    /// Entries queued in the bucket over every tier.
    pub pending: u32,
}

/// A tier's capacity and what its cells use and hold.
#[derive(Debug)]
pub(super) struct Tier {
    pub capacity: Vec<Option<Quantity>>,
    /// Σ usage over the tier's cells.
    pub used: Dense,
    /// Σ max(usage, guarantee while pending) over the tier's cells.
    pub reserved: Dense,
    /// Cells with untried entries, lowest weighted dominant share on top.
    pub heap: PriorityQueue<u32, Reverse<CellKey>>,
}

/// A cell's place among its tier's cells.
#[derive(Clone, Debug)]
pub(super) struct CellKey {
    pub share: f64,
    pub name: Arc<str>,
}

impl Ord for CellKey {
    fn cmp(&self, other: &CellKey) -> Ordering {
        self.share.total_cmp(&other.share).then_with(|| self.name.cmp(&other.name))
    }
}

impl PartialOrd for CellKey {
    fn partial_cmp(&self, other: &CellKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for CellKey {
    fn eq(&self, other: &CellKey) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for CellKey {}

/// One bucket within one tier: the unit of fair share, guarantee and tier capacity accounting.
#[derive(Debug)]
pub(super) struct Cell {
    pub tier: u32,
    pub bucket: u32,
    pub usage: Dense,
    /// Entries queued in the cell, whatever their state.
    pub pending: u32,
    pub heap: BinaryHeap<Ranked>,
    /// Entries handed out in this pass (stale ones skipped when the pass ends).
    pub tried: Vec<EntryId>,
    pub placed: u32,
    pub unplaced: u32,
}

/// A deterministic, sans-IO task queue: tiers served strictly in order, buckets within a tier by
/// weighted dominant resource fairness, entries within a bucket by aged priority then arrival.
///
/// See the [module docs](super) for the serving rules and the contract with the engine.
#[derive(Debug)]
pub struct Queue {
    pub(super) config: QueueConfig,
    pub(super) policy: QueuePolicy,
    pub(super) resources: FxHashMap<Arc<str>, u32>,
    pub(super) names: Vec<Arc<str>>,
    pub(super) buckets: Vec<Bucket>,
    pub(super) bucket_ids: FxHashMap<Arc<str>, u32>,
    pub(super) tiers: BTreeMap<u32, Tier>,
    pub(super) cells: Vec<Cell>,
    pub(super) cell_ids: FxHashMap<(u32, u32), u32>,
    pub(super) slots: Vec<Slot>,
    pub(super) free: Vec<u32>,
    pub(super) len: usize,
    pub(super) seq: u64,
    pub(super) pass: u64,
    pub(super) total: Dense,
    pub(super) used: Dense,
    pub(super) reserved: Dense,
    pub(super) starving: Vec<EntryId>,
}

impl Queue {
    /// An empty queue; fails when the configuration does not [validate](QueueConfig::validate).
    pub fn new(config: QueueConfig) -> Result<Queue, QueueConfigError> {
        config.validate()?;
        Ok(Queue {
            policy: config.policy,
            config,
            resources: FxHashMap::default(),
            names: Vec::new(),
            buckets: Vec::new(),
            bucket_ids: FxHashMap::default(),
            tiers: BTreeMap::new(),
            cells: Vec::new(),
            cell_ids: FxHashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            seq: 0,
            pass: 0,
            total: Vec::new(),
            used: Vec::new(),
            reserved: Vec::new(),
            starving: Vec::new(),
        })
    }

    /// How many entries are queued.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no entry is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Queues a task in the current pass; it ages from this pass on and may be handed out by
    /// [`next`](Queue::next) in this very pass.
    pub fn push(&mut self, task: QueuedTask<'_>) -> EntryId {
        let bucket = self.bucket_id(task.bucket);
        let cell = self.cell_id(task.tier, bucket);
        let ask = task.ask.iter().filter(|(_, q)| !q.is_zero()).map(|(n, q)| (self.intern(n), *q)).collect();
        let seq = self.seq;
        self.seq += 1;
        let rank = entry::rank(task.priority, self.pass, self.policy.aging_passes);
        let data = Data {
            task: task.task,
            cell,
            priority: task.priority,
            rank,
            seq,
            since: self.pass,
            ask,
            misses: 0,
            state: State::Queued,
        };
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(Slot::default());
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        let id = EntryId { slot, gen: self.slots[slot as usize].gen };
        self.slots[slot as usize].data = Some(data);
        self.len += 1;
        self.set_pending(cell, true);
        self.cells[cell as usize].heap.push(Ranked { rank, seq, id });
        self.enlist(cell);
        id
    }

    /// Takes an entry out of the queue (a task killed or given up on); returns the caller's
    /// task index, or `None` for a stale handle.
    pub fn remove(&mut self, id: EntryId) -> Option<u32> {
        let data = self.take(id)?;
        self.set_pending(data.cell, false);
        Some(data.task)
    }

    /// Adds running tasks' resources to a bucket in a tier (a task launched outside the queue,
    /// or found running after a failover).
    pub fn add_running(&mut self, tier: u32, bucket: &str, amounts: &[(Arc<str>, Quantity)]) {
        self.change_running(tier, bucket, amounts, true);
    }

    /// Takes ended tasks' resources off a bucket in a tier (saturating at zero).
    pub fn remove_running(&mut self, tier: u32, bucket: &str, amounts: &[(Arc<str>, Quantity)]) {
        self.change_running(tier, bucket, amounts, false);
    }

    fn change_running(&mut self, tier: u32, bucket: &str, amounts: &[(Arc<str>, Quantity)], add: bool) {
        let b = self.bucket_id(bucket);
        let cell = self.cell_id(tier, b);
        let amounts: Vec<(u32, Quantity)> = amounts.iter().map(|(n, q)| (self.intern(n), *q)).collect();
        self.use_resources(cell, &amounts, add);
    }

    /// Starts pass number `pass` with the cluster's total (offered plus running) of each
    /// resource: entries tried in the last pass are back in line, shares are recomputed against
    /// the new total, and the starving heads are found.
    pub fn begin_pass(&mut self, pass: u64, total: &ResourceAmounts) {
        self.pass = pass;
        self.total.clear();
        for (name, amount) in total.iter() {
            let i = self.intern(name);
            *at(&mut self.total, i) = amount;
        }
        for cell in &mut self.cells {
            cell.placed = 0;
            cell.unplaced = 0;
            for id in cell.tried.drain(..) {
                let slot = &mut self.slots[id.slot as usize];
                if let Some(data) = slot.data.as_mut().filter(|_| slot.gen == id.gen) {
                    data.state = State::Queued;
                    cell.heap.push(Ranked { rank: data.rank, seq: data.seq, id });
                }
            }
        }
        for tier in self.tiers.values_mut() {
            tier.heap.clear();
        }
        for cell in 0..self.cells.len() as u32 {
            self.enlist(cell);
        }
        self.find_starving();
    }

    /// Interned index of a resource name.
    pub(super) fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.resources.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        let name = crate::resources::shared_name(name);
        self.names.push(name.clone());
        self.resources.insert(name, i);
        i
    }

    fn bucket_id(&mut self, name: &str) -> u32 {
        if let Some(&b) = self.bucket_ids.get(name) {
            return b;
        }
        let config = self.config.bucket(name);
        let mut guarantee = Dense::new();
        for (resource, amount) in config.guarantee.iter() {
            let i = self.intern(resource);
            *at(&mut guarantee, i) = amount;
        }
        let mut limit = Vec::new();
        for (resource, amount) in config.limit.iter() {
            let i = self.intern(resource) as usize;
            if limit.len() <= i {
                limit.resize(i + 1, None);
            }
            limit[i] = Some(amount);
        }
        let name: Arc<str> = Arc::from(name);
        let bucket =
            Bucket { name: name.clone(), weight: config.weight, guarantee, limit, usage: Dense::new(), pending: 0 };
        let b = u32::try_from(self.buckets.len()).unwrap_or(u32::MAX);
        self.buckets.push(bucket);
        self.bucket_ids.insert(name, b);
        b
    }

    fn cell_id(&mut self, tier: u32, bucket: u32) -> u32 {
        if let Some(&c) = self.cell_ids.get(&(tier, bucket)) {
            return c;
        }
        if !self.tiers.contains_key(&tier) {
            let mut capacity = Vec::new();
            let configured = self.config.tiers.get(tier as usize).and_then(|t| t.capacity.clone());
            for (resource, amount) in configured.iter().flat_map(|c| c.iter()) {
                let i = self.intern(resource) as usize;
                if capacity.len() <= i {
                    capacity.resize(i + 1, None);
                }
                capacity[i] = Some(amount);
            }
            let state = Tier { capacity, used: Dense::new(), reserved: Dense::new(), heap: PriorityQueue::new() };
            self.tiers.insert(tier, state);
        }
        let c = u32::try_from(self.cells.len()).unwrap_or(u32::MAX);
        self.cells.push(Cell {
            tier,
            bucket,
            usage: Dense::new(),
            pending: 0,
            heap: BinaryHeap::new(),
            tried: Vec::new(),
            placed: 0,
            unplaced: 0,
        });
        self.cell_ids.insert((tier, bucket), c);
        c
    }

    /// Frees an entry's slot and returns its data (for `remove` and `placed`).
    pub(super) fn take(&mut self, id: EntryId) -> Option<Data> {
        let slot = self.slots.get_mut(id.slot as usize)?;
        if slot.gen != id.gen {
            return None;
        }
        let data = slot.data.take()?;
        slot.gen = slot.gen.wrapping_add(1);
        self.free.push(id.slot);
        self.len -= 1;
        self.starving.retain(|s| *s != id);
        Some(data)
    }

    /// Adds (or takes away) amounts to a cell's and its bucket's usage, keeping the aggregates
    /// and the cell's place in its tier's heap in step.
    pub(super) fn use_resources(&mut self, cell: u32, amounts: &[(u32, Quantity)], add: bool) {
        self.account(cell, false);
        let c = &mut self.cells[cell as usize];
        let bucket = &mut self.buckets[c.bucket as usize];
        for &(i, q) in amounts {
            for v in [at(&mut c.usage, i), at(&mut bucket.usage, i)] {
                *v = if add { *v + q } else { *v - q };
            }
        }
        self.account(cell, true);
        self.rekey(cell);
    }

    /// One more (`more`) or one fewer entry pending in a cell, with the sums kept in step.
    pub(super) fn set_pending(&mut self, cell: u32, more: bool) {
        self.account(cell, false);
        let c = &mut self.cells[cell as usize];
        let bucket = &mut self.buckets[c.bucket as usize];
        if more {
            c.pending += 1;
            bucket.pending += 1;
        } else {
            c.pending = c.pending.saturating_sub(1);
            bucket.pending = bucket.pending.saturating_sub(1);
        }
        self.account(cell, true);
    }

    /// Adds (`add`) or takes away a cell's contribution to its tier's `used` and `reserved` sums
    /// and its bucket's to the cluster's; call with `false` before changing the cell or its
    /// bucket and `true` after. Against a tier a bucket holds its guarantee in each tier where it
    /// has pending entries; across the cluster it holds it once.
    pub(super) fn account(&mut self, cell: u32, add: bool) {
        let c = &self.cells[cell as usize];
        let bucket = &self.buckets[c.bucket as usize];
        let Some(tier) = self.tiers.get_mut(&c.tier) else { return };
        let n = c.usage.len().max(bucket.usage.len()).max(bucket.guarantee.len());
        let apply = |sum: &mut Quantity, q: Quantity| *sum = if add { *sum + q } else { *sum - q };
        for i in 0..n as u32 {
            let guarantee = get(&bucket.guarantee, i);
            let used = get(&c.usage, i);
            apply(at(&mut tier.used, i), used);
            apply(at(&mut tier.reserved, i), if c.pending > 0 { used.max(guarantee) } else { used });
            let used = get(&bucket.usage, i);
            apply(at(&mut self.used, i), used);
            apply(at(&mut self.reserved, i), if bucket.pending > 0 { used.max(guarantee) } else { used });
        }
    }

    /// The cell's weighted dominant share of the pass's total.
    pub(super) fn weighted_share(&self, cell: u32) -> f64 {
        let c = &self.cells[cell as usize];
        self.dominant_share(cell) / self.buckets[c.bucket as usize].weight
    }

    /// The largest share of any resource the cell uses, of the pass's total (resources with no
    /// total are left out).
    pub(super) fn dominant_share(&self, cell: u32) -> f64 {
        let c = &self.cells[cell as usize];
        let mut share = 0.0_f64;
        for (i, used) in c.usage.iter().enumerate() {
            let total = get(&self.total, i as u32);
            if !total.is_zero() && !used.is_zero() {
                share = share.max(used.milli() as f64 / total.milli() as f64);
            }
        }
        share
    }

    fn key(&self, cell: u32) -> Reverse<CellKey> {
        let name = self.buckets[self.cells[cell as usize].bucket as usize].name.clone();
        Reverse(CellKey { share: self.weighted_share(cell), name })
    }

    /// Puts a cell with untried entries in its tier's heap (or refreshes its key).
    fn enlist(&mut self, cell: u32) {
        if self.cells[cell as usize].heap.is_empty() {
            return;
        }
        let key = self.key(cell);
        if let Some(tier) = self.tiers.get_mut(&self.cells[cell as usize].tier) {
            tier.heap.push(cell, key);
        }
    }

    /// Refreshes a cell's key if it is in its tier's heap.
    fn rekey(&mut self, cell: u32) {
        let key = self.key(cell);
        if let Some(tier) = self.tiers.get_mut(&self.cells[cell as usize].tier) {
            tier.heap.change_priority(&cell, key);
        }
    }

    /// Records the heads that have missed `starving_after` passes in a row, by tier then bucket.
    fn find_starving(&mut self) {
        self.starving.clear();
        let threshold = self.policy.starving_after;
        for cell in &mut self.cells {
            while let Some(top) = cell.heap.peek() {
                let Some(data) = self.slots[top.id.slot as usize].live(top.id.gen) else {
                    cell.heap.pop();
                    continue;
                };
                if data.misses >= threshold {
                    self.starving.push(top.id);
                }
                break;
            }
        }
        let order = |id: &EntryId| {
            let cell = self.slots[id.slot as usize].data.as_ref().map_or(0, |d| d.cell);
            let c = &self.cells[cell as usize];
            (c.tier, self.buckets[c.bucket as usize].name.clone())
        };
        self.starving.sort_by_cached_key(order);
    }
}
