//! The dense tables a pass reads: agents, attribute values and per-group counts, each an
//! index into a flat vector.
//!
//! Strings are interned once when the tables are built, never per (task, agent) pair. These
//! tables sit below the plugins: the views a plugin is handed
//! ([`AgentView`](crate::plugins::AgentView), [`PassView`](crate::plugins::PassView)) read them,
//! and the engine's pass state wraps them. What only the engine reads — scratch buffers for a
//! commit's split, the allocations memoised per class, the offer ids shared by launches, which
//! groups go uncounted in a one-shot pass — stays beside them in the engine's
//! `PassState`: it is made of plan types (allocations) that sit above the plugins, and keeping
//! it out leaves these tables the one place where the counts plugins read are kept right.
//!
//! - [`ix`]: the typed indices ([`AgentIx`], [`GroupIx`], [`KeyIx`], [`ValueIx`], [`Dim`],
//!   [`RoleIx`]); a table where one can be absent holds an `Option` of it;
//! - [`interner`]: names with dense indices (resource dimensions, roles, attribute keys, groups);
//! - [`walk`]: the live offers of a pool's agents, which the tables are loaded from;
//! - [`agents`]: per agent, its identity, its slot (ports, claims, tasks), free, total and held
//!   amounts, and its attribute values;
//! - [`values`]: interned attribute values;
//! - [`counts`]: tasks per (group, value), the values each group uses, group totals, and
//!   running tasks of unknown place;
//! - [`offerless`]: agents compiled from their running tasks' host details, with no offer.

mod agents;
mod counts;
mod interner;
mod ix;
mod names;
mod offerless;
mod values;
mod walk;

use std::sync::Arc;

use rustc_hash::FxHashMap;

pub(crate) use agents::{AgentIdentity, AgentPorts, AgentSlot};
pub(crate) use interner::Interner;
pub use ix::Dim;
pub(crate) use ix::{nonzero_index, AgentIx, GroupIx, Ix, KeyIx, RoleIx, ValueIx};
pub(crate) use names::{Names, OwnedNames, FIXED_DIMS, UNOFFERED};
pub(crate) use values::ValueInfo;
pub(crate) use walk::OfferWalk;

use crate::model::{AgentId, GroupId, ResourceValue, Role, RunningTask};
use crate::resources::PortSet;

/// Dead groups or value links tolerated before [`Tables::is_mostly_dead`] asks for a rebuild.
const COMPACT_SLACK: usize = 4096;

/// The tables of one pass (or of a scheduler's state kept between passes).
#[derive(Debug)]
pub(crate) struct Tables {
    dims: Interner<Dim>,
    roles: Interner<RoleIx>,
    /// The roles as [`Role`] values, by role index (cloned into launches, never re-allocated).
    role_values: Vec<Role>,
    /// Role indices, reserved roles first (by name), then `*`.
    default_role_order: Vec<RoleIx>,
    keys: Interner<KeyIx>,
    groups: Interner<GroupIx>,
    agents: Vec<AgentSlot>,
    /// Per agent, as `agents`; shared with the thread that makes launches, if any.
    identities: Arc<Vec<AgentIdentity>>,
    agent_index: FxHashMap<AgentId, AgentIx>,
    /// Free scalar amounts in thousandths, `[agent][dim][role]`.
    free: Vec<i64>,
    /// Agent size per dimension (offered plus held by running tasks), `[agent][dim]`.
    total: Vec<i64>,
    /// Held by running tasks (the part of `total` not offered), `[agent][dim]`.
    held: Vec<i64>,
    values: Vec<ValueInfo>,
    /// Number of distinct values seen per key.
    values_per_key: Vec<u32>,
    /// Value ids per key, by text.
    value_index: Vec<FxHashMap<Arc<str>, ValueIx>>,
    /// Value per `[agent][key]`, if the agent has the attribute.
    agent_values: Vec<Option<ValueIx>>,
    /// First agent per hostname value (`None` for other values); see `next_on_host`.
    host_first: Vec<Option<AgentIx>>,
    /// The next agent with the same hostname, per agent.
    next_on_host: Vec<Option<AgentIx>>,
    /// Tasks per (group, value).
    counts: FxHashMap<(GroupIx, ValueIx), u32>,
    /// Values with at least one task, per (group, key): (first link, number of values), the
    /// values chained through `used_links` (one arena instead of a vector per pair).
    used_values: FxHashMap<(GroupIx, KeyIx), (counts::LinkIx, u32)>,
    /// (value, next link).
    used_links: Vec<(ValueIx, Option<counts::LinkIx>)>,
    /// Tasks per group.
    group_total: Vec<u32>,
    /// Running tasks per group whose place is unknown (no offer from their agent, no host
    /// given): each counts against every value of every attribute, as it could be on any.
    unlocated: FxHashMap<GroupIx, u32>,
    /// Tasks per (agent, custom executor id) running or placed there: while any is, the
    /// executor runs on the agent and its resources are not charged again.
    executor_tasks: FxHashMap<(AgentIx, Arc<str>), u32>,
    /// Per agent: the custom executors its live offers say run there (`Offer::executor_ids`).
    offered_executors: Vec<Vec<Arc<str>>>,
}

impl Tables {
    /// Whether groups no task holds any more and unlinked value links make up most of the
    /// tables, given that at most `live_groups` groups are in use: a rebuild, which interns only
    /// what running and pending tasks use, would then shrink them. Between rebuilds both only
    /// grow (interned groups are never forgotten; the links are an arena), so a framework that
    /// names a new group per job would otherwise grow for as long as it runs.
    pub(crate) fn is_mostly_dead(&self, live_groups: usize) -> bool {
        let (groups, links) = (self.groups.len(), self.used_links.len());
        (groups > COMPACT_SLACK && groups > 2 * live_groups) || (links > COMPACT_SLACK && links > 2 * self.counts.len())
    }

    /// Groups interned so far (live or not).
    pub(crate) fn interned_groups(&self) -> usize {
        self.groups.len()
    }

    /// Tables with the names of `walk` and `running` interned (resource dimensions, roles,
    /// attribute keys) and no agents yet: [`Tables::add_agents`] and [`Tables::add_running`]
    /// come next. Task classes can be compiled against these names while the agents load.
    pub fn with_names(walk: &OfferWalk<'_>, running: &[RunningTask]) -> Tables {
        let mut dims = Interner::default();
        for name in FIXED_DIMS {
            dims.intern_shared(crate::resources::shared_name(name));
        }
        dims.intern(names::UNOFFERED_NAME);
        let mut roles = Interner::default();
        roles.intern_shared(Role::unreserved().shared().clone());
        let mut keys = Interner::default();
        keys.intern(crate::model::HOSTNAME);
        for offer in walk.offers() {
            for r in &offer.resources {
                if roles.get_shared(r.role.shared()).is_none() {
                    roles.intern_shared(r.role.shared().clone());
                }
                if matches!(r.value, ResourceValue::Scalar(_)) && dims.get_shared(&r.name).is_none() {
                    dims.intern_shared(r.name.clone());
                }
            }
        }
        for agent in walk.agents() {
            for (k, _) in agent[0].attributes.iter_shared() {
                if keys.get_shared(k).is_none() {
                    keys.intern_shared(k.clone());
                }
            }
        }
        for task in running {
            if let Some((_, attrs)) = &task.host {
                for (k, _) in attrs.iter() {
                    keys.intern(k);
                }
            }
        }
        let mut default_role_order: Vec<RoleIx> = (1..roles.len()).map(RoleIx::new).collect();
        default_role_order.sort_by(|a, b| roles.name(*a).cmp(roles.name(*b)));
        default_role_order.push(RoleIx::UNRESERVED);
        Tables {
            default_role_order,
            agents: Vec::new(),
            identities: Arc::default(),
            agent_index: FxHashMap::default(),
            free: Vec::new(),
            total: Vec::new(),
            held: Vec::new(),
            values: Vec::new(),
            values_per_key: Vec::new(),
            value_index: Vec::new(),
            agent_values: Vec::new(),
            host_first: Vec::new(),
            next_on_host: Vec::new(),
            groups: Interner::default(),
            counts: FxHashMap::default(),
            used_values: FxHashMap::default(),
            used_links: Vec::new(),
            group_total: Vec::new(),
            unlocated: FxHashMap::default(),
            executor_tasks: FxHashMap::default(),
            offered_executors: Vec::new(),
            dims,
            role_values: roles.names().iter().map(|r| Role::new(&**r)).collect(),
            roles,
            keys,
        }
    }

    /// The names task classes are compiled against.
    pub fn names(&self) -> Names<'_> {
        Names { dims: &self.dims, roles: &self.roles, keys: &self.keys, default_role_order: &self.default_role_order }
    }

    /// Number of resource dimensions.
    #[inline]
    pub fn n_dims(&self) -> usize {
        self.dims.len()
    }

    /// Number of roles.
    #[inline]
    pub fn n_roles(&self) -> usize {
        self.roles.len()
    }

    /// Number of attribute keys (`hostname` included).
    #[inline]
    pub fn n_keys(&self) -> usize {
        self.keys.len()
    }

    /// Number of groups interned.
    #[inline]
    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    /// The resource dimensions.
    pub fn dims(&self) -> &Interner<Dim> {
        &self.dims
    }

    /// The roles.
    #[cfg(feature = "testkit")]
    pub fn roles(&self) -> &Interner<RoleIx> {
        &self.roles
    }

    /// The attribute keys.
    pub fn keys(&self) -> &Interner<KeyIx> {
        &self.keys
    }

    /// Role indices, reserved roles first (by name), then `*`.
    pub fn default_role_order(&self) -> &[RoleIx] {
        &self.default_role_order
    }

    /// The role of index `role`.
    #[inline]
    pub fn role_value(&self, role: RoleIx) -> &Role {
        &self.role_values[role.get()]
    }

    /// Takes `groups` as these tables' groups (interned while they had none: see
    /// [`Tables::with_names`]).
    pub fn adopt_groups(&mut self, groups: Interner<GroupIx>) {
        debug_assert!(self.groups.len() == 0);
        self.group_total = vec![0; groups.len()];
        self.groups = groups;
    }

    /// Runs `f` on the groups (to intern more), then makes room for them in the per-group
    /// tables.
    pub fn with_groups<R>(&mut self, f: impl FnOnce(&Self, &mut Interner<GroupIx>) -> R) -> R {
        let mut groups = std::mem::take(&mut self.groups);
        let out = f(self, &mut groups);
        self.groups = groups;
        if self.group_total.len() < self.groups.len() {
            self.group_total.resize(self.groups.len(), 0);
        }
        out
    }

    /// The group index for a group id, interning it.
    pub fn group(&mut self, id: &GroupId) -> GroupIx {
        let g = self.groups.intern(id.as_str());
        if self.group_total.len() <= g.get() {
            self.group_total.resize(g.get() + 1, 0);
        }
        g
    }

    /// Counts running tasks: on their agent when it is in the tables (its size grows by what
    /// they hold), else on their host's attribute values when given, else (place unknown)
    /// against every value of every attribute: a task that could be anywhere is never taken as
    /// absent.
    pub fn add_running(&mut self, running: &[RunningTask]) {
        for task in running {
            let group = self.group(&task.group);
            if let Some(agent) = self.agent(&task.agent_id) {
                self.count_on_agent(agent, group, true);
                self.charge_agent(agent, group, task);
            } else if let Some((hostname, attrs)) = &task.host {
                let values = self.ghost_values(hostname, attrs);
                self.count_values(group, &values);
            } else {
                self.group_total[group.get()] += 1;
                *self.unlocated.entry(group).or_insert(0) += 1;
            }
        }
    }

    /// Charges `agent` with what running `task` (of `group`) holds there: its resources, its
    /// executor and its claim. The task's counts are the caller's.
    pub(super) fn charge_agent(&mut self, agent: AgentIx, group: GroupIx, task: &RunningTask) {
        for (name, q) in &task.resources {
            if let Some(d) = self.dims.get_shared(name) {
                self.hold(agent, d, q.milli());
            }
        }
        if let Some(executor) = &task.executor {
            self.count_executor_task(agent, executor);
        }
        if task.claims_agent {
            self.claim(agent, group);
        }
    }

    /// Whether the custom executor `executor` is on `agent` — a task of it runs (or was
    /// placed) there, or the agent's offers say it runs there — so a further task for it is not
    /// charged its resources.
    #[inline]
    pub fn executor_on(&self, agent: AgentIx, executor: &Arc<str>) -> bool {
        self.offered_executors.get(agent.get()).is_some_and(|offered| offered.contains(executor))
            || (!self.executor_tasks.is_empty() && self.executor_tasks.contains_key(&(agent, executor.clone())))
    }

    /// Counts one more task of `executor` on `agent`.
    pub fn count_executor_task(&mut self, agent: AgentIx, executor: &Arc<str>) {
        *self.executor_tasks.entry((agent, executor.clone())).or_insert(0) += 1;
    }

    /// Counts one task of `executor` on `agent` less; the executor is gone with its last task.
    fn uncount_executor_task(&mut self, agent: AgentIx, executor: &Arc<str>) {
        let key = (agent, executor.clone());
        if let Some(n) = self.executor_tasks.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.executor_tasks.remove(&key);
            }
        }
    }

    /// Takes back what [`Tables::add_running`] counted for `task` (it ended).
    pub fn remove_running(&mut self, task: &RunningTask) {
        let group = self.group(&task.group);
        if let Some(agent) = self.agent(&task.agent_id) {
            for (name, q) in &task.resources {
                if let Some(d) = self.dims.get_shared(name) {
                    self.hold(agent, d, -q.milli());
                }
            }
            self.uncount_on_agent(agent, group);
            if let Some(executor) = &task.executor {
                self.uncount_executor_task(agent, executor);
            }
            return;
        }
        if let Some((hostname, attrs)) = &task.host {
            for v in self.ghost_values(hostname, attrs) {
                self.uncount_value(group, v);
            }
        } else if let Some(n) = self.unlocated.get_mut(&group) {
            *n -= 1;
            if *n == 0 {
                self.unlocated.remove(&group);
            }
        }
        self.group_total[group.get()] = self.group_total[group.get()].saturating_sub(1);
    }
}

/// Adds an offer's port ranges to the agent's free ports in `role`.
fn add_ports(ports: &mut AgentPorts, role: RoleIx, set: &PortSet) {
    let slot = match ports.iter().position(|(r, _)| *r == role) {
        Some(i) => i,
        None => {
            ports.push((role, PortSet::new()));
            ports.len() - 1
        }
    };
    for range in set.ranges() {
        ports[slot].1.insert(*range);
    }
}
