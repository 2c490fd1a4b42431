//! The queue a [`Scheduler`](super::Scheduler) keeps from pass to pass, so that a waiting task
//! keeps its place: priorities age with the passes it waited (see [`crate::queue`]), and a
//! bucket's share counts what its placed tasks hold until they end.
//!
//! Pending tasks are given again at every pass; the kept queue matches them to its entries by
//! task id. A task given for the first time joins the queue; a task no longer given (placed
//! elsewhere, or withdrawn by the caller) leaves it; a task whose tier or bucket changed joins
//! again at the back. A change of configuration starts a new queue with what the buckets hold.

use rustc_hash::FxHashMap;

use super::PlanError;
use crate::model::TaskId;
use crate::queue::{EntryId, Queue, QueueConfig, QueuePlace, QueuedTask, ResourceAmounts};
use crate::spec::TaskSpec;

/// A queue with its entries by task id.
#[derive(Debug)]
pub(crate) struct KeptQueue {
    queue: Queue,
    config: QueueConfig,
    /// Entry, place and slot (the entry's task number) of each queued task.
    entries: FxHashMap<TaskId, (EntryId, QueuePlace, u32)>,
    /// Per slot, the task's index in the current pass's pending tasks (stale between passes).
    pending_index: Vec<usize>,
    /// Slots no entry uses.
    free_slots: Vec<u32>,
    passes: u64,
}

impl KeptQueue {
    /// A queue of `config`, with what each place's running tasks hold.
    pub fn new(config: &QueueConfig, usage: &[(QueuePlace, ResourceAmounts)]) -> Result<KeptQueue, PlanError> {
        let mut queue = Queue::new(config.clone()).map_err(PlanError::Queue)?;
        for (place, held) in usage {
            queue.add_running(place.tier, &place.bucket, held.as_slice());
        }
        Ok(KeptQueue {
            queue,
            config: config.clone(),
            entries: FxHashMap::default(),
            pending_index: Vec::new(),
            free_slots: Vec::new(),
            passes: 0,
        })
    }

    /// Whether the queue was made with `config`.
    pub fn has_config(&self, config: &QueueConfig) -> bool {
        self.config == *config
    }

    /// Brings the entries in line with this pass's `pending` tasks and their `places`.
    pub fn sync(&mut self, pending: &[TaskSpec], places: &[QueuePlace]) {
        let mut given: FxHashMap<&TaskId, usize> = FxHashMap::default();
        given.extend(pending.iter().enumerate().map(|(i, t)| (&t.id, i)));
        // Entries of tasks no longer given, or given with another place, leave.
        let gone: Vec<TaskId> = self
            .entries
            .iter()
            .filter(|(id, (_, place, _))| given.get(id).is_none_or(|&i| places[i] != *place))
            .map(|(id, _)| id.clone())
            .collect();
        for id in gone {
            self.forget(&id);
        }
        for (i, (task, place)) in pending.iter().zip(places).enumerate() {
            let slot = match self.entries.get(&task.id) {
                Some(&(_, _, slot)) => slot,
                None => self.join(task, place),
            };
            self.pending_index[slot as usize] = i;
        }
    }

    fn join(&mut self, task: &TaskSpec, place: &QueuePlace) -> u32 {
        let slot = self.free_slots.pop().unwrap_or_else(|| {
            self.pending_index.push(0);
            (self.pending_index.len() - 1) as u32
        });
        let queued = QueuedTask {
            task: slot,
            tier: place.tier,
            bucket: &place.bucket,
            priority: task.priority,
            ask: &task.resources,
        };
        let entry = self.queue.push(queued);
        self.entries.insert(task.id.clone(), (entry, place.clone(), slot));
        slot
    }

    fn forget(&mut self, id: &TaskId) {
        if let Some((entry, _, slot)) = self.entries.remove(id) {
            self.queue.remove(entry);
            self.free_slots.push(slot);
        }
    }

    /// Starts a pass against the cluster's `total`; the queue to serve it from and, per entry
    /// task number, the pending index.
    pub fn begin_pass(&mut self, total: &ResourceAmounts) -> (&mut Queue, &[usize]) {
        self.passes += 1;
        self.queue.begin_pass(self.passes, total);
        (&mut self.queue, &self.pending_index)
    }

    /// After the pass: launched tasks have left the queue (their entries were placed).
    pub fn launched(&mut self, id: &TaskId) {
        if let Some((_, _, slot)) = self.entries.remove(id) {
            self.free_slots.push(slot);
        }
    }

    /// A task of `place` ended: what it held leaves its bucket.
    pub fn ended(&mut self, place: &QueuePlace, held: &[(std::sync::Arc<str>, crate::resources::Quantity)]) {
        self.queue.remove_running(place.tier, &place.bucket, held);
    }

    /// A task of `place` runs that no queued pass placed (adopted, or counted again).
    pub fn started(&mut self, place: &QueuePlace, held: &[(std::sync::Arc<str>, crate::resources::Quantity)]) {
        self.queue.add_running(place.tier, &place.bucket, held);
    }
}
