//! The running tasks by agent, each agent's sorted by standing, with per-agent bounds that let
//! the search skip agents: built once per pass by the one-shot engine, kept and updated task by
//! task by the [`Scheduler`](crate::Scheduler).

use std::borrow::Borrow;
use std::cmp::Reverse;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;

use super::search::standing;
use super::summary::Summary;
use crate::model::{AgentId, GroupId, RunningTask, TaskId};

/// One running task as the search reads it, `T` holding (or pointing at) the task itself.
#[derive(Clone, Debug)]
pub(crate) struct Row<T> {
    /// See [`standing`]; smaller yields first.
    pub standing: u64,
    pub started: Duration,
    /// The group, as the table numbers them.
    pub group: u32,
    /// Per table dimension: what it holds, in thousandths (dimensions numbered after the row
    /// was added are not there: it holds none of them).
    pub amounts: SmallVec<[i64; 4]>,
    pub task: T,
}

impl<T> Row<T> {
    /// What it holds of table dimension `dim` (`None`: a resource no running task held).
    #[inline]
    pub fn held(&self, dim: Option<u32>) -> i64 {
        dim.and_then(|d| self.amounts.get(d as usize)).copied().unwrap_or(0)
    }

    /// Everything it holds, in thousandths summed over resources.
    #[inline]
    pub fn total(&self) -> i64 {
        self.amounts.iter().sum()
    }
}

impl<T: Borrow<RunningTask>> Row<T> {
    /// The order of an agent's rows: lowest standing, then youngest, then id.
    fn key(&self) -> (u64, Reverse<Duration>, &TaskId) {
        (self.standing, Reverse(self.started), &self.task.borrow().id)
    }
}

/// One agent running tasks: its rows in search order and bounds over them.
#[derive(Clone, Debug)]
pub(crate) struct AgentRows<T> {
    pub id: AgentId,
    /// Sorted by lowest standing, then youngest, then id: the tasks that yield to a pending
    /// task are a prefix, in the order the search ranks candidates.
    pub rows: Vec<Row<T>>,
    /// Per table dimension: what the rows hold together (at least what any set frees).
    pub sum: SmallVec<[i64; 4]>,
    /// Per table dimension: the most one row holds.
    pub max: SmallVec<[i64; 4]>,
    /// Rows that claim the agent for their group.
    pub claims: u32,
    /// Lowest standings, latest starts and groups of the rows.
    pub summary: Summary,
}

impl<T> AgentRows<T> {
    fn new(id: AgentId) -> AgentRows<T> {
        AgentRows {
            id,
            rows: Vec::new(),
            sum: SmallVec::new(),
            max: SmallVec::new(),
            claims: 0,
            summary: Summary::default(),
        }
    }

    /// What the rows hold of table dimension `dim` together, and the most one holds.
    #[inline]
    pub fn held(&self, dim: u32) -> (i64, i64) {
        let d = dim as usize;
        (self.sum.get(d).copied().unwrap_or(0), self.max.get(d).copied().unwrap_or(0))
    }
}

/// The running tasks grouped by agent (agents in no particular order: the search's answer does
/// not depend on it), with resource names and groups numbered and every group's running count.
#[derive(Clone, Debug)]
pub(crate) struct RunningTable<T> {
    pub agents: Vec<AgentRows<T>>,
    agent_of: FxHashMap<AgentId, u32>,
    dims: Vec<Arc<str>>,
    groups: Vec<GroupId>,
    group_of: FxHashMap<GroupId, u32>,
    /// Per group: its running tasks, dying ones included.
    counts: Vec<u32>,
    len: usize,
}

impl<T> Default for RunningTable<T> {
    fn default() -> Self {
        RunningTable {
            agents: Vec::new(),
            agent_of: FxHashMap::default(),
            dims: Vec::new(),
            groups: Vec::new(),
            group_of: FxHashMap::default(),
            counts: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Borrow<RunningTask>> RunningTable<T> {
    /// The table of `running`: each task pushed to its agent, every agent sorted once at the end.
    pub fn build(running: impl Iterator<Item = T>) -> RunningTable<T> {
        let mut table = RunningTable::default();
        let mut last: Option<(AgentId, u32)> = None;
        let mut slotted: Vec<(u32, T)> = Vec::new();
        for task in running {
            let agent = match &last {
                // Tasks of one agent often come together: no hashing for them.
                Some((id, a)) if *id == task.borrow().agent_id => *a,
                _ => {
                    let a = table.agent_slot(&task.borrow().agent_id);
                    last = Some((task.borrow().agent_id.clone(), a));
                    a
                }
            };
            slotted.push((agent, task));
        }
        // Each agent's rows in one allocation, made agent after agent in the order the search
        // visits them, so reading them follows memory.
        let mut counts = vec![0usize; table.agents.len()];
        slotted.iter().for_each(|&(a, _)| counts[a as usize] += 1);
        for (agent, &n) in table.agents.iter_mut().zip(&counts) {
            agent.rows.reserve_exact(n);
        }
        for (agent, task) in slotted {
            table.push(agent, task);
        }
        for agent in &mut table.agents {
            agent.rows.sort_unstable_by(|x, y| x.key().cmp(&y.key()));
            agent.summary = Summary::of(&agent.rows);
        }
        table
    }

    /// Number of tasks.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether groups with no task left make up most of the numbered ones (a kept table is
    /// then built afresh, so churn of groups does not grow it).
    pub fn is_mostly_dead(&self) -> bool {
        self.groups.len() > 2 * self.len + 1024
    }

    /// Adds a running task, keeping its agent's rows in order.
    pub fn insert(&mut self, task: T) {
        let agent = self.agent_slot(&task.borrow().agent_id);
        self.push(agent, task);
        let agent = &mut self.agents[agent as usize];
        let last = agent.rows.pop().expect("pushed above");
        agent.summary.add(last.standing, last.started, last.group);
        let at = agent.rows.partition_point(|r| r.key() < last.key());
        agent.rows.insert(at, last);
        agent.summary.first_started = agent.rows[0].started;
    }

    /// Removes the running task `task` (as given to [`RunningTable::insert`]); false if absent.
    pub fn remove(&mut self, task: &RunningTask) -> bool {
        let Some(&a) = self.agent_of.get(&task.agent_id) else {
            return false;
        };
        let agent = &mut self.agents[a as usize];
        let Some(at) = agent.rows.iter().position(|r| r.task.borrow().id == task.id) else {
            return false;
        };
        let row = agent.rows.remove(at);
        let removed = row.task.borrow();
        for (sum, &amount) in agent.sum.iter_mut().zip(&row.amounts) {
            *sum -= amount;
        }
        agent.max.iter_mut().for_each(|m| *m = 0);
        for r in &agent.rows {
            for (max, &amount) in agent.max.iter_mut().zip(&r.amounts) {
                *max = (*max).max(amount);
            }
        }
        if removed.claims_agent {
            agent.claims -= 1;
        }
        agent.summary = Summary::of(&agent.rows);
        self.counts[row.group as usize] -= 1;
        self.len -= 1;
        if agent.rows.is_empty() {
            self.agent_of.remove(&task.agent_id);
            self.agents.swap_remove(a as usize);
            if let Some(moved) = self.agents.get(a as usize) {
                self.agent_of.insert(moved.id.clone(), a);
            }
        }
        true
    }

    /// The table number of resource `name`, if some task held it when it was added.
    pub fn dim(&self, name: &Arc<str>) -> Option<u32> {
        self.dims.iter().position(|n| n == name).map(|d| d as u32)
    }

    /// The table number of `group`, if some task of it was added.
    pub fn group(&self, group: &GroupId) -> Option<u32> {
        self.group_of.get(group).copied()
    }

    /// How many groups are numbered.
    pub fn groups(&self) -> usize {
        self.groups.len()
    }

    /// How many tasks of the group numbered `group` run.
    pub fn count(&self, group: u32) -> u32 {
        self.counts[group as usize]
    }

    /// Where the tasks `ids` are (agent, row), each once; `hint` says a task's agent when it
    /// can, the others are looked for in every row.
    pub fn positions<'h>(&self, ids: &[TaskId], hint: impl Fn(&TaskId) -> Option<&'h AgentId>) -> Vec<(u32, u32)> {
        let mut found = Vec::new();
        let mut unknown: FxHashSet<&TaskId> = FxHashSet::default();
        for id in ids {
            match hint(id).and_then(|agent| self.agent_of.get(agent)) {
                Some(&a) => {
                    let rows = &self.agents[a as usize].rows;
                    if let Some(r) = rows.iter().position(|r| r.task.borrow().id == *id) {
                        found.push((a, r as u32));
                    }
                }
                None => {
                    unknown.insert(id);
                }
            }
        }
        if !unknown.is_empty() {
            for (a, agent) in self.agents.iter().enumerate() {
                for (r, row) in agent.rows.iter().enumerate() {
                    if unknown.contains(&row.task.borrow().id) {
                        found.push((a as u32, r as u32));
                    }
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The slot of agent `id`, made when new.
    fn agent_slot(&mut self, id: &AgentId) -> u32 {
        if let Some(&a) = self.agent_of.get(id) {
            return a;
        }
        let a = self.agents.len() as u32;
        self.agents.push(AgentRows::new(id.clone()));
        self.agent_of.insert(id.clone(), a);
        a
    }

    /// Appends `task` to agent `a`'s rows (unsorted) and counts it in the bounds.
    fn push(&mut self, a: u32, task: T) {
        let t = task.borrow();
        let group = match self.group_of.get(&t.group) {
            Some(&g) => g,
            None => {
                let g = self.groups.len() as u32;
                self.groups.push(t.group.clone());
                self.group_of.insert(t.group.clone(), g);
                self.counts.push(0);
                g
            }
        };
        self.counts[group as usize] += 1;
        let agent = &mut self.agents[a as usize];
        let mut amounts: SmallVec<[i64; 4]> = SmallVec::new();
        for (name, q) in &t.resources {
            let d = match self.dims.iter().position(|n| n == name) {
                Some(d) => d,
                None => {
                    self.dims.push(name.clone());
                    self.dims.len() - 1
                }
            };
            if agent.sum.len() <= d {
                agent.sum.resize(d + 1, 0);
                agent.max.resize(d + 1, 0);
            }
            if amounts.len() <= d {
                amounts.resize(d + 1, 0);
            }
            amounts[d] += q.milli();
            agent.sum[d] += q.milli();
        }
        for (d, &amount) in amounts.iter().enumerate() {
            agent.max[d] = agent.max[d].max(amount);
        }
        agent.claims += u32::from(t.claims_agent);
        let row = Row { standing: standing(t.tier, t.priority), started: t.started, group, amounts, task };
        agent.rows.push(row);
        self.len += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quantity;

    fn task(id: &str, agent: &str, cpus: f64, priority: i32, started: u64) -> RunningTask {
        let mut t = RunningTask::new(id, "g", agent).with_priority(priority).started_at(Duration::from_secs(started));
        t.resources = vec![(Arc::from("cpus"), Quantity::new(cpus).unwrap())];
        t
    }

    fn ids(table: &RunningTable<RunningTask>, agent: usize) -> Vec<&str> {
        table.agents[agent].rows.iter().map(|r| r.task.id.as_str()).collect()
    }

    #[test]
    fn table_rows_lowest_standing_then_youngest_first() {
        let running = [task("a", "x", 1.0, 2, 0), task("b", "x", 1.0, 1, 0), task("c", "x", 1.0, 1, 5)];
        let table = RunningTable::build(running.iter().cloned());
        assert_eq!(ids(&table, 0), ["c", "b", "a"]);
        let mut kept = RunningTable::default();
        for t in running {
            kept.insert(t);
        }
        assert_eq!(ids(&kept, 0), ["c", "b", "a"]);
    }

    #[test]
    fn table_bounds_follow_inserts_and_removals() {
        let mut table = RunningTable::default();
        let (big, small) = (task("big", "x", 3.0, 0, 0), task("small", "x", 1.0, 0, 0));
        table.insert(big.clone());
        table.insert(small.clone());
        let cpus = table.dim(&Arc::from("cpus")).unwrap();
        assert_eq!(table.agents[0].held(cpus), (4000, 3000));
        assert!(table.remove(&big));
        assert_eq!(table.agents[0].held(cpus), (1000, 1000));
        assert!(!table.remove(&big));
        assert!(table.remove(&small));
        assert!(table.agents.is_empty());
        assert_eq!(table.len(), 0);
    }

    /// After random inserts and removals, every agent's summary is what its rows give when
    /// recomputed plainly (standings sorted, starts sorted, group bits).
    #[test]
    fn table_summaries_follow_inserts_and_removals() {
        use crate::engine::preempt::summary::KEPT;
        use crate::util::SeededRng;
        let mut rng = SeededRng::new(9);
        let mut table: RunningTable<RunningTask> = RunningTable::default();
        let mut live: Vec<RunningTask> = Vec::new();
        for i in 0..3_000 {
            if live.is_empty() || rng.below(3) > 0 {
                let agent = format!("a{}", rng.below(4));
                let mut t = task(&format!("t{i}"), &agent, 1.0, rng.below(4) as i32, rng.below(9));
                t.group = format!("g{}", rng.below(70)).as_str().into();
                table.insert(t.clone());
                live.push(t);
            } else {
                let gone = live.swap_remove(rng.below(live.len() as u64) as usize);
                assert!(table.remove(&gone));
            }
            for agent in &table.agents {
                let mut low: Vec<u64> = agent.rows.iter().map(|r| r.standing).collect();
                low.sort_unstable();
                low.truncate(KEPT);
                let mut latest: Vec<Duration> = agent.rows.iter().map(|r| r.started).collect();
                latest.sort_unstable_by(|a, b| b.cmp(a));
                latest.truncate(KEPT);
                let bits = agent.rows.iter().fold(0u64, |b, r| b | 1 << (r.group % 64));
                let s = &agent.summary;
                assert_eq!((&s.low[..s.len], &s.latest[..s.len], s.groups), (&low[..], &latest[..], bits));
                assert_eq!(s.first_started, agent.rows[0].started);
            }
        }
    }

    #[test]
    fn table_positions_use_hints_and_scan_otherwise() {
        let running = [task("a", "x", 1.0, 0, 0), task("b", "y", 1.0, 0, 0)];
        let table = RunningTable::build(running.iter());
        let y = AgentId::new("y");
        let found = table.positions(&["b".into(), "a".into(), "zz".into()], |id| (id.as_str() == "b").then_some(&y));
        assert_eq!(found, [(0, 0), (1, 0)]);
    }
}
