//! The per-task selector: the best agent for one task, from the candidate indexes or a scan.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::class::{IndexKey, TaskClass};
use super::index::CandidateIndex;
use super::keyed::KeyedIndex;
use super::scan;
use super::state::PassState;
use crate::plugins::{Fitness, HardConstraint};
use crate::spec::TaskSpec;
use crate::tables::AgentIx;

/// Candidate indexes kept from one pass to the next (by a [`Scheduler`](crate::Scheduler)), by
/// shape. Each holds the static constraints its key names by address, so the address cannot be
/// reused by another constraint while the index lives.
#[derive(Debug, Default)]
pub(crate) struct IndexCache {
    entries: FxHashMap<IndexKey, (Candidates, Vec<Arc<dyn HardConstraint>>)>,
}

impl IndexCache {
    /// Drops every index (the agents they cover changed).
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// How much of the log the least synced index has seen (the log before it can go).
    pub fn synced_from(&self) -> Option<usize> {
        self.entries.values().map(|(index, _)| index.cursor().seen()).min()
    }

    /// Tells every index that the log lost its first `n` entries.
    pub fn forget_log(&mut self, n: usize) {
        for (index, _) in self.entries.values_mut() {
            index.cursor_mut().rebase(n);
        }
    }
}

/// Chooses agents task by task, keeping each candidate index only while a later task needs it.
pub(crate) struct Selector<'a> {
    classes: &'a [TaskClass],
    class_of: &'a [u32],
    indexed: bool,
    indexes: Vec<Option<Candidates>>,
    keys: Vec<IndexKey>,
    /// The class each slot was first used for (its constraints pin the key).
    slot_class: Vec<u32>,
    /// Tasks still to select per index slot.
    slot_remaining: Vec<u32>,
    cache: Option<&'a mut IndexCache>,
}

impl<'a> Selector<'a> {
    /// A selector over `classes` with one index slot per key; `indexed` false scans every
    /// agent. With a `cache`, shared indexes come from it and go back to it.
    pub fn new(
        classes: &'a [TaskClass],
        class_of: &'a [u32],
        keys: Vec<IndexKey>,
        indexed: bool,
        cache: Option<&'a mut IndexCache>,
    ) -> Selector<'a> {
        let slots = keys.len();
        Selector {
            classes,
            class_of,
            indexed,
            indexes: (0..slots).map(|_| None).collect(),
            keys,
            slot_class: vec![u32::MAX; slots],
            slot_remaining: vec![0; slots],
            cache,
        }
    }

    /// Puts the shared indexes still held back into the cache.
    pub fn finish(mut self) {
        for slot in 0..self.indexes.len() {
            self.release(slot);
        }
    }

    /// Gives up slot `slot`'s index: to the cache when there is one and the key is shared.
    fn release(&mut self, slot: usize) {
        let Some(index) = self.indexes[slot].take() else {
            return;
        };
        let shared = matches!(&self.keys[slot], IndexKey::Shared { .. } | IndexKey::Keyed { .. });
        if let (Some(cache), true) = (self.cache.as_deref_mut(), shared) {
            let class = &self.classes[self.slot_class[slot] as usize];
            let pins = class.stages.static_hard.iter().map(|&i| class.hard[i].clone()).collect();
            cache.entries.insert(self.keys[slot].clone(), (index, pins));
        }
    }

    /// Per keyed-index column (dimension, then ports), the least any class of index slot
    /// `slot` asks.
    fn floor(&self, state: &PassState, slot: usize) -> Vec<i64> {
        let mut floor: Option<Vec<i64>> = None;
        let mut asks = vec![0i64; state.n_dims() + 1];
        for class in self.classes.iter().filter(|c| c.index_slot as usize == slot) {
            asks.fill(0);
            for &(d, amount) in &class.ask {
                if let Some(a) = asks.get_mut(d.get()) {
                    *a = amount;
                }
            }
            asks[state.n_dims()] = i64::from(class.ports.total());
            match &mut floor {
                None => floor = Some(asks.clone()),
                Some(f) => f.iter_mut().zip(&asks).for_each(|(f, &a)| *f = (*f).min(a)),
            }
        }
        floor.unwrap_or_default()
    }

    /// Counts the tasks (positions in `pending`) this selector will be asked about.
    pub fn count(&mut self, tasks: impl Iterator<Item = usize>) {
        for t in tasks {
            let slot = self.classes[self.class_of[t] as usize].index_slot as usize;
            if let Some(left) = self.slot_remaining.get_mut(slot) {
                *left += 1;
            }
        }
    }

    /// The best agent for `pending[t]` given the commits in `log`, or `None`.
    pub fn select(
        &mut self,
        state: &PassState,
        fitness: &dyn Fitness,
        pending: &[TaskSpec],
        t: usize,
        log: &[AgentIx],
    ) -> Option<AgentIx> {
        let task = &pending[t];
        let c = self.class_of[t] as usize;
        let class = &self.classes[c];
        let view = class.view(task);
        let slot = class.index_slot as usize;
        if self.indexed && class.stages.indexable && slot < self.indexes.len() && self.indexes[slot].is_none() {
            self.slot_class[slot] = c as u32;
            let cached = self.cache.as_deref_mut().and_then(|cache| cache.entries.remove(&self.keys[slot]));
            self.indexes[slot] = Some(match cached {
                Some((mut index, _)) => {
                    index.release_parked();
                    index
                }
                None if matches!(self.keys[slot], IndexKey::Keyed { .. }) => {
                    // In a one-shot pass free room only shrinks, so an agent without room for
                    // the smallest ask of the index's classes never gets any: it can go.
                    let floor = if self.cache.is_none() { self.floor(state, slot) } else { Vec::new() };
                    Candidates::Keyed(Box::new(KeyedIndex::build(state, class, fitness, &view, log.len(), floor)))
                }
                None => Candidates::PerShape(CandidateIndex::build(state, class, fitness, &view, log.len())),
            });
        }
        let chosen = match self.indexes.get_mut(slot).and_then(Option::as_mut) {
            Some(Candidates::PerShape(index)) if self.indexed && class.stages.indexable => {
                index.sync(state, class, fitness, &view, log);
                index.select(state, class, c as u32, &view)
            }
            Some(Candidates::Keyed(index)) if self.indexed && class.stages.indexable => {
                index.sync(state, fitness, log);
                index.select(state, class, fitness, &view)
            }
            _ => scan::select(state, class, fitness, &view),
        };
        if let Some(left) = self.slot_remaining.get_mut(slot) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.release(slot);
            }
        }
        chosen
    }
}

/// A candidate index of either kind.
#[derive(Debug)]
pub(crate) enum Candidates {
    /// Agents scored for one shape (any fitness).
    PerShape(CandidateIndex),
    /// Agents ordered by the fitness's key, for every shape (boxed: it is the larger).
    Keyed(Box<KeyedIndex>),
}

impl Candidates {
    /// How far the index has read the commit log.
    fn cursor(&self) -> LogCursor {
        match self {
            Candidates::PerShape(index) => index.cursor,
            Candidates::Keyed(index) => index.cursor,
        }
    }

    fn cursor_mut(&mut self) -> &mut LogCursor {
        match self {
            Candidates::PerShape(index) => &mut index.cursor,
            Candidates::Keyed(index) => &mut index.cursor,
        }
    }

    /// Puts parked candidates back before the index serves another pass.
    fn release_parked(&mut self) {
        match self {
            Candidates::PerShape(index) => index.release_parked(),
            Candidates::Keyed(index) => index.release_parked(),
        }
    }
}

/// How much of the commit log an index has seen: it re-scores the agents committed to since.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogCursor(usize);

impl LogCursor {
    /// A cursor that has seen the first `len` entries.
    pub fn at(len: usize) -> LogCursor {
        LogCursor(len)
    }

    /// How many entries it has seen.
    pub fn seen(&self) -> usize {
        self.0
    }

    /// Marks the log up to `len` seen; returns where the unseen part started.
    pub fn advance(&mut self, len: usize) -> usize {
        std::mem::replace(&mut self.0, len)
    }

    /// The log lost its first `n` entries, all seen.
    pub fn rebase(&mut self, n: usize) {
        self.0 -= n.min(self.0);
    }
}
