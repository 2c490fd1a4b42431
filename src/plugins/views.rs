//! Read-only views handed to plugins: the task, one agent, and the pass so far.
//!
//! Views are a few references each, built on the stack per call; nothing here allocates.

use crate::model::{AgentId, GroupId, PortRequest, TaskId, HOSTNAME};
use crate::resources::Quantity;
pub use crate::tables::Dim;
use crate::tables::{AgentIx, GroupIx, KeyIx, Tables, ValueInfo, ValueIx};

/// A group of tasks as the pass numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GroupRef(pub(crate) GroupIx);

/// An attribute name as the pass numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttrKey(pub(crate) KeyIx);

impl AttrKey {
    /// The `hostname` pseudo-attribute.
    pub const HOSTNAME: AttrKey = AttrKey(KeyIx::HOSTNAME);
}

/// One attribute value of one agent.
#[derive(Clone, Copy, Debug)]
pub struct AttrRef<'a> {
    value: ValueIx,
    info: &'a ValueInfo,
}

impl<'a> AttrRef<'a> {
    /// The value's text.
    pub fn as_str(&self) -> &'a str {
        self.info.text()
    }

    /// The value as a number, for scalar attributes.
    pub fn as_scalar(&self) -> Option<f64> {
        self.info.scalar()
    }

    /// The attribute's name, numbered.
    pub fn key(&self) -> AttrKey {
        AttrKey(self.info.key())
    }
}

impl PartialEq for AttrRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// The task being placed.
#[derive(Clone, Copy, Debug)]
pub struct TaskView<'a> {
    id: &'a TaskId,
    group_id: &'a GroupId,
    group: GroupIx,
    /// Non-zero asks as (dimension, thousandths).
    asks: &'a [(Dim, i64)],
    ports: &'a PortRequest,
}

impl<'a> TaskView<'a> {
    /// The view of a task of group `group` (numbered) asking for `asks` (dimension,
    /// thousandths) and `ports`.
    #[inline]
    pub(crate) fn new(
        id: &'a TaskId,
        group_id: &'a GroupId,
        group: GroupIx,
        asks: &'a [(Dim, i64)],
        ports: &'a PortRequest,
    ) -> TaskView<'a> {
        TaskView { id, group_id, group, asks, ports }
    }

    /// Task id.
    pub fn id(&self) -> &'a TaskId {
        self.id
    }

    /// The task's group.
    pub fn group_id(&self) -> &'a GroupId {
        self.group_id
    }

    /// The task's group, numbered, for [`PassView`] counts.
    pub fn group(&self) -> GroupRef {
        GroupRef(self.group)
    }

    /// Amount asked of one resource.
    pub fn ask(&self, dim: Dim) -> Quantity {
        let found = self.asks.iter().find(|(d, _)| *d == dim);
        found.map_or(Quantity::ZERO, |(_, m)| Quantity::from_milli(*m as u64))
    }

    /// Number of ports asked for (any and specific).
    pub fn ports(&self) -> u32 {
        self.ports.total()
    }
}

/// One agent, with what the pass has already placed on it.
#[derive(Clone, Copy, Debug)]
pub struct AgentView<'a> {
    tables: &'a Tables,
    agent: AgentIx,
}

impl<'a> AgentView<'a> {
    /// The view of agent `agent` of `tables`.
    #[inline]
    pub(crate) fn new(tables: &'a Tables, agent: AgentIx) -> AgentView<'a> {
        AgentView { tables, agent }
    }

    /// Agent id.
    pub fn id(&self) -> &'a AgentId {
        &self.tables.identity(self.agent).id
    }

    /// Hostname.
    pub fn hostname(&self) -> &'a str {
        &self.tables.identity(self.agent).hostname
    }

    /// An attribute by name (`hostname` included); `None` when the agent lacks it.
    pub fn attribute(&self, name: &str) -> Option<AttrRef<'a>> {
        let key = if name == HOSTNAME { KeyIx::HOSTNAME } else { self.tables.keys().get(name)? };
        self.attribute_by_key(AttrKey(key))
    }

    /// An attribute by numbered name.
    pub fn attribute_by_key(&self, key: AttrKey) -> Option<AttrRef<'a>> {
        let value = self.tables.value_of(self.agent, key.0)?;
        Some(AttrRef { value, info: self.tables.value(value) })
    }

    /// Free amount of a resource now, over all roles.
    #[inline]
    pub fn free(&self, dim: Dim) -> Quantity {
        let m = self.tables.free_all_roles(self.agent, dim);
        Quantity::from_milli(m.max(0) as u64)
    }

    /// The agent's size in a resource: what it offered at the start of the pass plus what its
    /// running tasks hold (when known).
    #[inline]
    pub fn total(&self, dim: Dim) -> Quantity {
        let m = self.tables.total(self.agent, dim);
        Quantity::from_milli(m.max(0) as u64)
    }

    /// Fraction of a resource in use now, in `[0, 1]`; 0 when the agent has none of it.
    #[inline]
    pub fn utilisation(&self, dim: Dim) -> f64 {
        let total = self.total(dim).milli();
        if total <= 0 {
            return 0.0;
        }
        let used = total - self.free(dim).milli();
        (used as f64 / total as f64).clamp(0.0, 1.0)
    }

    /// Fraction of a resource in use once `task` is placed here, in `[0, 1]`; 0 when the agent
    /// has none of it.
    #[inline]
    pub fn utilisation_after(&self, task: &TaskView<'_>, dim: Dim) -> f64 {
        let total = self.total(dim).milli();
        if total <= 0 {
            return 0.0;
        }
        let used = total - self.free(dim).milli() + task.ask(dim).milli();
        (used as f64 / total as f64).clamp(0.0, 1.0)
    }

    /// Tasks on the agent (running and placed in this pass).
    pub fn task_count(&self) -> u32 {
        self.tables.slot(self.agent).tasks()
    }

    /// Whether every task on the agent belongs to `group` (true for an empty agent).
    pub fn only_group(&self, group: GroupRef) -> bool {
        self.tables.slot(self.agent).only_group(group.0)
    }
}

/// The pass so far: tasks per group per attribute value, running tasks included.
#[derive(Clone, Copy, Debug)]
pub struct PassView<'a> {
    tables: &'a Tables,
}

impl<'a> PassView<'a> {
    /// The view of the pass whose tables are `tables`.
    #[inline]
    pub(crate) fn new(tables: &'a Tables) -> PassView<'a> {
        PassView { tables }
    }

    /// The numbered form of an attribute name, if any agent or running task has it.
    pub fn key(&self, name: &str) -> Option<AttrKey> {
        if name == HOSTNAME {
            return Some(AttrKey::HOSTNAME);
        }
        self.tables.keys().get(name).map(AttrKey)
    }

    /// Tasks of `group` on agents sharing this attribute value.
    #[inline]
    pub fn count(&self, group: GroupRef, value: &AttrRef<'_>) -> u32 {
        self.tables.count(group.0, value.value)
    }

    /// Tasks of `group` anywhere (running and placed in this pass).
    pub fn group_total(&self, group: GroupRef) -> u32 {
        self.tables.group_total(group.0)
    }

    /// Task counts of `group` per value of `key`, for the values holding at least one.
    ///
    /// A running task whose place is unknown counts on every value, so then every known value
    /// holds one: the values without a located task appear once, with that count.
    pub fn value_counts(&self, group: GroupRef, key: AttrKey) -> impl Iterator<Item = u32> + 'a {
        let tables = self.tables;
        let unlocated = tables.unlocated(group.0);
        let known = self.known_values(key);
        let rest = (unlocated > 0 && tables.located_value_count(group.0, key.0) < known).then_some(unlocated);
        tables.used_values(group.0, key.0).map(move |v| tables.count(group.0, v)).chain(rest)
    }

    /// Number of distinct values of `key` among the pass's agents and running tasks.
    pub fn known_values(&self, key: AttrKey) -> usize {
        self.tables.values_per_key(key.0)
    }

    /// Number of values of `key` holding at least one task of `group`.
    pub fn distinct_values(&self, group: GroupRef, key: AttrKey) -> usize {
        self.tables.used_value_count(group.0, key.0)
    }
}
