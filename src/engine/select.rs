//! The per-task selector: the best agent for one task, from the candidate indexes or a scan.

use super::class::TaskClass;
use super::index::CandidateIndex;
use super::scan;
use super::state::PassState;
use crate::model::TaskSpec;
use crate::plugins::{Fitness, TaskView};

/// Chooses agents task by task, keeping each candidate index only while a later task needs it.
pub(crate) struct Selector<'a> {
    classes: &'a [TaskClass],
    class_of: &'a [u32],
    indexed: bool,
    indexes: Vec<Option<CandidateIndex>>,
    /// Tasks still to select per index slot.
    slot_remaining: Vec<u32>,
}

impl<'a> Selector<'a> {
    /// A selector over `classes` (with `slots` index slots); `indexed` false scans every agent.
    pub fn new(classes: &'a [TaskClass], class_of: &'a [u32], slots: usize, indexed: bool) -> Selector<'a> {
        Selector {
            classes,
            class_of,
            indexed,
            indexes: (0..slots).map(|_| None).collect(),
            slot_remaining: vec![0; slots],
        }
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
        log: &[u32],
    ) -> Option<u32> {
        let task = &pending[t];
        let c = self.class_of[t] as usize;
        let class = &self.classes[c];
        let view = TaskView { id: &task.id, group_id: &task.group, class };
        let slot = class.index_slot as usize;
        let chosen = match self.indexes.get_mut(slot) {
            Some(entry) if self.indexed && class.stages.indexable => {
                let index = entry.get_or_insert_with(|| CandidateIndex::build(state, class, fitness, &view, log.len()));
                index.sync(state, class, fitness, &view, log);
                index.select(state, class, c as u32, &view)
            }
            _ => scan::select(state, class, fitness, &view),
        };
        if let Some(left) = self.slot_remaining.get_mut(slot) {
            *left = left.saturating_sub(1);
            if *left == 0 {
                self.indexes[slot] = None;
            }
        }
        chosen
    }
}
