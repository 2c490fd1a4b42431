//! Running tasks by agent, built once per pass that preempts.

use rustc_hash::{FxHashMap, FxHashSet};

use super::budget::Ledger;
use super::PreemptionInput;
use crate::model::{AgentId, RunningTask, TaskId};
use crate::tables::{AgentIx, Tables};

/// One agent running tasks: where the pass's tables have it (when they do) and its tasks'
/// positions in [`RunningIndex::tasks`].
#[derive(Debug)]
pub(crate) struct AgentEntry<'a> {
    pub id: &'a AgentId,
    pub ix: Option<AgentIx>,
    pub start: u32,
    pub end: u32,
}

/// The running tasks grouped by agent, each with its budget slot and whether it is dying.
#[derive(Debug)]
pub(crate) struct RunningIndex<'a> {
    pub agents: Vec<AgentEntry<'a>>,
    pub tasks: Vec<&'a RunningTask>,
    /// Per task: its group's budget slot.
    pub slots: Vec<Option<u32>>,
    /// Per task: being killed already, or chosen as a victim earlier in the pass.
    pub gone: Vec<bool>,
}

impl<'a> RunningIndex<'a> {
    /// Groups `running` by agent (agents in the order first met), counts every budgeted
    /// group's running tasks into `ledger`'s allowances and its dying tasks as used.
    pub fn build(
        running: impl Iterator<Item = &'a RunningTask>,
        tables: &Tables,
        input: &PreemptionInput<'_>,
        ledger: &mut Ledger<'_>,
    ) -> RunningIndex<'a> {
        let dying: FxHashSet<&TaskId> = input.dying.iter().collect();
        let mut slot_of: FxHashMap<&'a AgentId, u32> = FxHashMap::default();
        let mut agents: Vec<AgentEntry<'a>> = Vec::new();
        let mut order: Vec<(u32, &'a RunningTask)> = Vec::new();
        let mut counts: Vec<u32> = Vec::new();
        for task in running {
            let slot = *slot_of.entry(&task.agent_id).or_insert_with(|| {
                agents.push(AgentEntry { id: &task.agent_id, ix: tables.agent(&task.agent_id), start: 0, end: 0 });
                counts.push(0);
                agents.len() as u32 - 1
            });
            counts[slot as usize] += 1;
            order.push((slot, task));
        }
        let mut next = 0u32;
        for (agent, &count) in agents.iter_mut().zip(&counts) {
            agent.start = next;
            agent.end = next;
            next += count;
        }
        let mut placed: Vec<Option<&'a RunningTask>> = vec![None; order.len()];
        for (slot, task) in order {
            let agent = &mut agents[slot as usize];
            placed[agent.end as usize] = Some(task);
            agent.end += 1;
        }
        let tasks: Vec<&'a RunningTask> = placed.into_iter().flatten().collect();
        let mut running_per_slot = vec![0u32; ledger.len()];
        let mut slots = Vec::with_capacity(tasks.len());
        let mut gone = Vec::with_capacity(tasks.len());
        for task in &tasks {
            let slot = ledger.slot(&task.group);
            let is_dying = !dying.is_empty() && dying.contains(&task.id);
            if let Some(s) = slot {
                running_per_slot[s as usize] += 1;
            }
            slots.push(slot);
            gone.push(is_dying);
        }
        ledger.settle_allowances(input.budgets, &running_per_slot);
        for (slot, &is_dying) in slots.iter().zip(&gone) {
            if let (Some(s), true) = (slot, is_dying) {
                ledger.charge(*s);
            }
        }
        RunningIndex { agents, tasks, slots, gone }
    }
}
