//! The pass state: agents compiled into dense arrays, per-group counters, and commits.
//!
//! Everything the hot path reads is an index into a flat vector; strings are interned once when
//! the pass is built, never per (task, agent) pair.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::{AgentId, Attributes, GroupId, Offer, OfferId, ResourceValue, Role, RunningTask};
use crate::plan::Allocation;
use crate::pool::{AgentOffers, OfferPool};
use crate::resources::{PortSet, CPUS, DISK, GPUS, MEM, NETWORK};

/// "No value" in dense u32 tables.
pub(crate) const NONE: u32 = u32::MAX;

/// Names of the resource dimensions every pass has, in [`Dim`](crate::plugins::Dim) order.
pub(crate) const FIXED_DIMS: [&str; 5] = [CPUS, MEM, DISK, NETWORK, GPUS];

/// The dimension every ask of a resource no agent offers maps to: never offered, so such an
/// ask fits nowhere (and is explained as a shortfall of its own name). Its name cannot come
/// from Mesos or a workload file.
pub(crate) const UNOFFERED: u16 = FIXED_DIMS.len() as u16;
const UNOFFERED_NAME: &str = "\0unoffered";

/// One interned attribute value.
#[derive(Debug)]
pub(crate) struct ValueInfo {
    pub key: u32,
    pub text: Arc<str>,
    pub scalar: Option<f64>,
}

/// Free ports of one agent per role index (most agents offer ports in one role: kept inline).
pub(crate) type AgentPorts = smallvec::SmallVec<[(u16, PortSet); 1]>;

/// What a pass never changes about an agent: who it is and which offers it holds. Kept apart
/// from [`AgentSlot`] so that another thread can read it while placements change the slots.
#[derive(Clone, Debug)]
pub(crate) struct AgentIdentity {
    pub id: AgentId,
    pub hostname: Arc<str>,
    /// The agent's live offers (usually one, kept inline).
    pub offer_ids: smallvec::SmallVec<[OfferId; 1]>,
}

/// One agent of the pass, as placements change it.
#[derive(Debug)]
pub(crate) struct AgentSlot {
    pub host_value: u32,
    /// Free ports per role index.
    pub ports: AgentPorts,
    /// First group seen on the agent, and whether another group is there too.
    pub first_group: u32,
    pub mixed: bool,
    /// Group that claimed the agent exclusively.
    pub owner: u32,
    /// Tasks on the agent (running and placed in this pass).
    pub tasks: u32,
}

/// Interned names with dense indices.
#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    pub names: Vec<Arc<str>>,
    index: FxHashMap<Arc<str>, u32>,
}

/// Tables this small are searched linearly: comparing a few short names beats hashing one.
const LINEAR_LOOKUP: usize = 16;

impl Interner {
    /// Interns a name, keeping `name` itself as the stored copy.
    pub fn intern_shared(&mut self, name: Arc<str>) -> u32 {
        if let Some(i) = self.get_shared(&name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.clone());
        self.index.insert(name, i);
        i
    }

    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(i) = self.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.index.insert(name, i);
        i
    }

    /// Like [`Interner::get`], trying pointer equality first (see
    /// [`shared_name`](crate::resources::shared_name)).
    #[inline]
    pub fn get_shared(&self, name: &Arc<str>) -> Option<u32> {
        if self.names.len() <= LINEAR_LOOKUP {
            if let Some(i) = self.names.iter().position(|n| Arc::ptr_eq(n, name)) {
                return Some(i as u32);
            }
        }
        self.get(name)
    }

    #[inline]
    pub fn get(&self, name: &str) -> Option<u32> {
        if self.names.len() <= LINEAR_LOOKUP {
            return self.names.iter().position(|n| **n == *name).map(|i| i as u32);
        }
        self.index.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// Adds an offer's port ranges to the agent's free ports in `role`.
fn add_ports(ports: &mut AgentPorts, role: u16, set: &PortSet) {
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

/// The pool's agents with live offers at one instant (by agent id), read in one walk: agent
/// `i`'s offers are `offers[ends[i - 1]..ends[i]]`.
pub(crate) struct PoolWalk<'a> {
    agents: Vec<AgentOffers<'a>>,
    offers: Vec<&'a Offer>,
    ends: Vec<usize>,
}

impl<'a> PoolWalk<'a> {
    pub fn new(pool: &'a OfferPool, now: std::time::Duration) -> PoolWalk<'a> {
        let agents: Vec<AgentOffers<'a>> = pool.agents_at(now).collect();
        let mut offers: Vec<&Offer> = Vec::with_capacity(agents.len());
        let mut ends: Vec<usize> = Vec::with_capacity(agents.len());
        for agent in &agents {
            offers.extend(agent.offers());
            ends.push(offers.len());
        }
        PoolWalk { agents, offers, ends }
    }
}

/// The names a state gives dense indices to, as task classes read them.
#[derive(Clone, Copy)]
pub(crate) struct Names<'a> {
    pub dims: &'a Interner,
    pub roles: &'a Interner,
    pub keys: &'a Interner,
    /// Role indices, reserved roles first (by name), then `*`.
    pub default_role_order: &'a [u16],
}

/// An owned copy of a state's [`Names`], for compiling on another thread while the state loads
/// its agents (a handful of names: cheap to copy).
#[derive(Clone, Debug)]
pub(crate) struct OwnedNames {
    dims: Interner,
    roles: Interner,
    keys: Interner,
    default_role_order: Vec<u16>,
}

impl OwnedNames {
    pub fn of(names: Names<'_>) -> OwnedNames {
        OwnedNames {
            dims: names.dims.clone(),
            roles: names.roles.clone(),
            keys: names.keys.clone(),
            default_role_order: names.default_role_order.to_vec(),
        }
    }

    pub fn view(&self) -> Names<'_> {
        Names { dims: &self.dims, roles: &self.roles, keys: &self.keys, default_role_order: &self.default_role_order }
    }
}

/// A split of one commit over all asks — (ask index, role, amount) — and the allocations made
/// of it.
pub(crate) type SplitMemo = (Vec<(u16, u16, i64)>, Arc<[Allocation]>);

/// Everything a pass reads and updates.
#[derive(Debug)]
pub(crate) struct PassState {
    pub dims: Interner,
    pub roles: Interner,
    /// The roles as [`Role`] values, by role index (cloned into launches, never re-allocated).
    pub role_values: Vec<Role>,
    /// Role indices, reserved roles first (by name), then `*`.
    pub default_role_order: Vec<u16>,
    pub agents: Vec<AgentSlot>,
    /// Per agent, as `agents`; shared with the thread that makes launches, if any.
    pub identities: Arc<Vec<AgentIdentity>>,
    /// Per agent: its offer ids as shared storage for launches, made on its first launch.
    pub shared_offer_ids: Vec<Option<Arc<[OfferId]>>>,
    pub agent_index: FxHashMap<AgentId, u32>,
    /// Free scalar amounts in thousandths, `[agent][dim][role]`.
    pub free: Vec<i64>,
    /// Agent size per dimension (offered plus held by running tasks), `[agent][dim]`.
    pub total: Vec<i64>,
    /// Held by running tasks (the part of `total` not offered), `[agent][dim]`.
    pub held: Vec<i64>,
    pub keys: Interner,
    pub values: Vec<ValueInfo>,
    /// Number of distinct values seen per key.
    pub values_per_key: Vec<u32>,
    /// Value ids per key, by text.
    value_index: Vec<FxHashMap<Arc<str>, u32>>,
    /// Value id per `[agent][key]`, or [`NONE`].
    pub agent_values: Vec<u32>,
    /// First agent per hostname value id ([`NONE`] for other values); see `next_on_host`.
    host_first: Vec<u32>,
    /// The next agent with the same hostname, per agent, or [`NONE`].
    next_on_host: Vec<u32>,
    pub groups: Interner,
    /// Tasks per (group, value id).
    counts: FxHashMap<(u32, u32), u32>,
    /// Values with at least one task, per (group, key): (first link, number of values), the
    /// values chained through `used_links` (one arena instead of a vector per pair).
    used_values: FxHashMap<(u32, u32), (u32, u32)>,
    /// (value id, next link or [`NONE`]).
    used_links: Vec<(u32, u32)>,
    pub group_total: Vec<u32>,
    /// Running tasks per group whose place is unknown (no offer from their agent, no host
    /// given): each counts against every value of every attribute, as it could be on any.
    unlocated: FxHashMap<u32, u32>,
    /// Reused buffer for the per-role split of one commit.
    pub split_scratch: Vec<(u16, i64)>,
    /// Per class of the current pass: the last split taken as (ask index, role, amount), and
    /// the allocations made of it, shared by every launch that takes the same split.
    pub allocation_memo: Vec<Option<SplitMemo>>,
    /// Reused buffer for the split of one commit over all asks.
    pub parts_scratch: Vec<(u16, u16, i64)>,
    /// Groups whose per-value counts no plugin of this pass can read (no task of the group
    /// has a constraint; plugins see counts only of the group of the task they judge), so
    /// placing their tasks skips them. Only a one-shot pass sets this; a state kept for later
    /// passes counts everything.
    pub uncounted: Vec<bool>,
}

impl PassState {
    pub fn n_dims(&self) -> usize {
        self.dims.len()
    }

    pub fn n_roles(&self) -> usize {
        self.roles.len()
    }

    pub fn n_keys(&self) -> usize {
        self.keys.len()
    }

    /// Builds the state from the pool's live offers (agents sorted by id) and the running tasks.
    pub fn build(pool: &OfferPool, now: std::time::Duration, running: &[RunningTask]) -> PassState {
        let walk = PoolWalk::new(pool, now);
        let mut state = PassState::with_names(&walk, running);
        state.add_agents(&walk);
        state.add_running(running);
        state
    }

    /// A state with the names of `walk` and `running` interned (resource dimensions, roles,
    /// attribute keys) and no agents yet: [`PassState::add_agents`] and
    /// [`PassState::add_running`] come next. Task classes can be compiled against these names
    /// while the agents load.
    pub fn with_names(walk: &PoolWalk<'_>, running: &[RunningTask]) -> PassState {
        let mut dims = Interner::default();
        for name in FIXED_DIMS {
            dims.intern_shared(crate::resources::shared_name(name));
        }
        dims.intern(UNOFFERED_NAME);
        let mut roles = Interner::default();
        roles.intern_shared(Role::unreserved().shared().clone());
        let mut keys = Interner::default();
        keys.intern(crate::model::HOSTNAME);
        for offer in &walk.offers {
            for r in &offer.resources {
                if roles.get_shared(r.role.shared()).is_none() {
                    roles.intern_shared(r.role.shared().clone());
                }
                if matches!(r.value, ResourceValue::Scalar(_)) && dims.get_shared(&r.name).is_none() {
                    dims.intern_shared(r.name.clone());
                }
            }
        }
        for agent in &walk.agents {
            for (k, _) in agent.attributes().iter_shared() {
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
        let mut default_role_order: Vec<u16> = (1..roles.len() as u16).collect();
        default_role_order.sort_by(|a, b| roles.names[*a as usize].cmp(&roles.names[*b as usize]));
        default_role_order.push(0);
        PassState {
            default_role_order,
            agents: Vec::new(),
            identities: Arc::default(),
            shared_offer_ids: Vec::new(),
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
            split_scratch: Vec::new(),
            allocation_memo: Vec::new(),
            parts_scratch: Vec::new(),
            uncounted: Vec::new(),
            dims,
            role_values: roles.names.iter().map(|r| Role::new(&**r)).collect(),
            roles,
            keys,
        }
    }

    /// The names task classes are compiled against.
    pub fn names(&self) -> Names<'_> {
        Names { dims: &self.dims, roles: &self.roles, keys: &self.keys, default_role_order: &self.default_role_order }
    }

    /// Takes `groups` as this state's groups (interned while it had none: see
    /// [`PassState::with_names`]).
    pub fn adopt_groups(&mut self, groups: Interner) {
        debug_assert!(self.groups.len() == 0);
        self.group_total = vec![0; groups.len()];
        self.groups = groups;
    }

    /// Makes room in the per-group tables for every interned group.
    pub fn fit_groups(&mut self) {
        if self.group_total.len() < self.groups.len() {
            self.group_total.resize(self.groups.len(), 0);
        }
    }

    /// Adds the agents of `walk`, in its order; the state has no agents yet.
    pub fn add_agents(&mut self, walk: &PoolWalk<'_>) {
        let (agents, offers, ends) = (&walk.agents, &walk.offers, &walk.ends);
        let (nd, nr, nk) = (self.n_dims(), self.n_roles(), self.n_keys());
        let n = agents.len();
        self.agent_index = FxHashMap::with_capacity_and_hasher(n, Default::default());
        self.agents.reserve_exact(n);
        let mut identities = Vec::with_capacity(n);
        // Hostnames are nearly one per agent: room for them up front, not by doubling.
        if self.value_index.is_empty() {
            self.value_index.push(FxHashMap::with_capacity_and_hasher(n, Default::default()));
        }
        self.values.reserve(n);
        self.free = vec![0; n * nd * nr];
        self.total = vec![0; n * nd];
        self.held = vec![0; n * nd];
        self.agent_values = vec![NONE; n * nk];
        self.next_on_host = vec![NONE; n];
        for (i, agent) in agents.iter().enumerate() {
            let idx = self.agents.len() as u32;
            let own = &offers[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
            self.agent_index.insert(agent.id().clone(), idx);
            let ports = self.load_offers(idx, own);
            let hostname = agent.hostname_shared().clone();
            let host_value = self.intern_value(0, &hostname, Some(&hostname), None);
            self.agent_values[idx as usize * nk] = host_value;
            for (k, v) in agent.attributes().iter_shared() {
                let key = self.keys.get_shared(k).unwrap_or(0);
                if key != 0 {
                    let value = self.intern_value(key, v.as_str(), Some(v.shared_text()), v.as_scalar());
                    self.agent_values[idx as usize * nk + key as usize] = value;
                }
            }
            if self.host_first.len() <= host_value as usize {
                self.host_first.resize(self.values.len().max(host_value as usize + 1), NONE);
            }
            self.next_on_host[idx as usize] = self.host_first[host_value as usize];
            self.host_first[host_value as usize] = idx;
            identities.push(AgentIdentity {
                id: agent.id().clone(),
                hostname,
                offer_ids: own.iter().map(|o| o.id.clone()).collect(),
            });
            self.agents.push(AgentSlot { host_value, ports, first_group: NONE, mixed: false, owner: NONE, tasks: 0 });
        }
        self.identities = Arc::new(identities);
        self.shared_offer_ids = vec![None; n];
    }

    /// Adds the resources of `offers` to agent `idx`'s free and total amounts; returns its ports.
    fn load_offers(&mut self, idx: u32, offers: &[&Offer]) -> AgentPorts {
        let (nd, nr) = (self.n_dims(), self.n_roles());
        let base = idx as usize * nd * nr;
        let mut ports = AgentPorts::new();
        for offer in offers {
            for r in &offer.resources {
                let role = self.roles.get_shared(r.role.shared()).unwrap_or(0) as u16;
                match &r.value {
                    ResourceValue::Scalar(q) => {
                        let d = self.dims.get_shared(&r.name).unwrap_or(0) as usize;
                        self.free[base + d * nr + role as usize] += q.milli();
                        self.total[idx as usize * nd + d] += q.milli();
                    }
                    ResourceValue::Ports(set) => add_ports(&mut ports, role, set),
                }
            }
        }
        ports.sort_by_key(|(r, _)| *r);
        ports
    }

    /// Whether every resource name and role in `offers` is known to this state.
    pub fn knows(&self, offers: &[&Offer]) -> bool {
        offers.iter().flat_map(|o| &o.resources).all(|r| {
            self.roles.get_shared(r.role.shared()).is_some()
                && (!matches!(r.value, ResourceValue::Scalar(_)) || self.dims.get_shared(&r.name).is_some())
        })
    }

    /// Replaces agent `idx`'s free resources with those of `offers` (its live offers now); its
    /// size becomes what they offer plus what its running tasks hold. The caller has checked
    /// [`PassState::knows`].
    pub fn reload_agent(&mut self, idx: u32, offers: &[&Offer]) {
        let (nd, nr) = (self.n_dims(), self.n_roles());
        let i = idx as usize;
        self.free[i * nd * nr..(i + 1) * nd * nr].fill(0);
        self.total[i * nd..(i + 1) * nd].copy_from_slice(&self.held[i * nd..(i + 1) * nd]);
        let ports = self.load_offers(idx, offers);
        self.agents[i].ports = ports;
        Arc::make_mut(&mut self.identities)[i].offer_ids = offers.iter().map(|o| o.id.clone()).collect();
        self.shared_offer_ids[i] = None;
    }

    /// Adds `amount` of `dim` to what running tasks hold on `agent` (negative to release).
    pub fn hold(&mut self, agent: u32, dim: usize, amount: i64) {
        let at = agent as usize * self.n_dims() + dim;
        self.held[at] += amount;
        self.total[at] += amount;
    }

    /// The agents whose hostname has value id `host`.
    pub fn agents_on_host(&self, host: u32) -> impl Iterator<Item = u32> + '_ {
        let first = self.host_first.get(host as usize).copied().filter(|&a| a != NONE);
        std::iter::successors(first, |&a| Some(self.next_on_host[a as usize]).filter(|&next| next != NONE))
    }

    /// Counts running tasks: on their agent when it is in the state (its size grows by what they
    /// hold), else on their host's attribute values when given, else (place unknown) against
    /// every value of every attribute: a task that could be anywhere is never taken as absent.
    pub fn add_running(&mut self, running: &[RunningTask]) {
        let nd = self.n_dims();
        for task in running {
            let group = self.group(&task.group);
            if let Some(&agent) = self.agent_index.get(&task.agent_id) {
                for (name, q) in &task.resources {
                    if let Some(d) = self.dims.get_shared(name) {
                        self.total[agent as usize * nd + d as usize] += q.milli();
                        self.held[agent as usize * nd + d as usize] += q.milli();
                    }
                }
                self.count_on_agent(agent, group);
                if task.claims_agent {
                    self.agents[agent as usize].owner = group;
                }
            } else if let Some((hostname, attrs)) = &task.host {
                let values = self.ghost_values(hostname, attrs);
                self.count_values(group, &values);
            } else {
                self.group_total[group as usize] += 1;
                *self.unlocated.entry(group).or_insert(0) += 1;
            }
        }
    }

    fn ghost_values(&mut self, hostname: &str, attrs: &Attributes) -> Vec<u32> {
        let mut values = vec![self.intern_value(0, hostname, None, None)];
        for (k, v) in attrs.iter() {
            if let Some(key) = self.keys.get(k).filter(|&key| key != 0) {
                values.push(self.intern_value(key, v.as_str(), Some(v.shared_text()), v.as_scalar()));
            }
        }
        values
    }

    /// The value id of `text` under `key`, interning it (sharing `shared`, the same text, when
    /// given instead of allocating).
    fn intern_value(&mut self, key: u32, text: &str, shared: Option<&Arc<str>>, scalar: Option<f64>) -> u32 {
        if let Some(&v) = self.value_index.get(key as usize).and_then(|m| m.get(text)) {
            return v;
        }
        let v = self.values.len() as u32;
        let text: Arc<str> = shared.cloned().unwrap_or_else(|| Arc::from(text));
        self.values.push(ValueInfo { key, text: text.clone(), scalar });
        if self.values_per_key.len() <= key as usize {
            self.values_per_key.resize(key as usize + 1, 0);
        }
        self.values_per_key[key as usize] += 1;
        if self.value_index.len() <= key as usize {
            self.value_index.resize_with(key as usize + 1, FxHashMap::default);
        }
        self.value_index[key as usize].insert(text, v);
        v
    }

    /// The group index for a group id, interning it.
    pub fn group(&mut self, id: &GroupId) -> u32 {
        let g = self.groups.intern(id.as_str());
        if self.group_total.len() <= g as usize {
            self.group_total.resize(g as usize + 1, 0);
        }
        g
    }

    /// The value id of `key` on `agent`, or [`NONE`].
    #[inline]
    pub fn value_of(&self, agent: u32, key: u32) -> u32 {
        self.agent_values[agent as usize * self.n_keys() + key as usize]
    }

    /// Tasks of `group` on agents whose attribute has value id `value`.
    #[inline]
    pub fn count(&self, group: u32, value: u32) -> u32 {
        let here = self.counts.get(&(group, value)).copied().unwrap_or(0);
        here + self.unlocated(group)
    }

    /// Running tasks of `group` whose place is unknown; they count on every value.
    #[inline]
    pub fn unlocated(&self, group: u32) -> u32 {
        if self.unlocated.is_empty() {
            return 0;
        }
        self.unlocated.get(&group).copied().unwrap_or(0)
    }

    /// Values of `key` that hold at least one task of `group`, latest first.
    pub fn used_values(&self, group: u32, key: u32) -> impl Iterator<Item = u32> + '_ {
        let first = self.used_values.get(&(group, key)).map(|&(head, _)| head);
        std::iter::successors(first, |&link| Some(self.used_links[link as usize].1).filter(|&next| next != NONE))
            .map(|link| self.used_links[link as usize].0)
    }

    /// Number of values of `key` that hold at least one task of `group`.
    pub fn used_value_count(&self, group: u32, key: u32) -> usize {
        let used = self.located_value_count(group, key);
        if self.unlocated(group) > 0 {
            return used.max(self.values_per_key.get(key as usize).copied().unwrap_or(0) as usize);
        }
        used
    }

    /// Number of values of `key` that hold a task of `group` whose place is known.
    pub fn located_value_count(&self, group: u32, key: u32) -> usize {
        self.used_values.get(&(group, key)).map_or(0, |&(_, n)| n as usize)
    }

    /// Takes back what [`PassState::add_running`] counted for `task` (it ended).
    pub fn remove_running(&mut self, task: &RunningTask) {
        let group = self.group(&task.group);
        if let Some(&agent) = self.agent_index.get(&task.agent_id) {
            for (name, q) in &task.resources {
                if let Some(d) = self.dims.get_shared(name) {
                    self.hold(agent, d as usize, -q.milli());
                }
            }
            self.uncount_on_agent(agent, group);
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
        self.group_total[group as usize] = self.group_total[group as usize].saturating_sub(1);
    }

    /// Takes one task of `group` off `agent` in every counter. Which groups the agent still
    /// holds is the caller's to restate ([`PassState::regroup`]); until then it errs towards
    /// "several groups" (an exclusive placement is refused, never wrongly allowed).
    fn uncount_on_agent(&mut self, agent: u32, group: u32) {
        let nk = self.n_keys();
        for k in 0..nk {
            let v = self.agent_values[agent as usize * nk + k];
            if v != NONE {
                self.uncount_value(group, v);
            }
        }
        self.group_total[group as usize] = self.group_total[group as usize].saturating_sub(1);
        let slot = &mut self.agents[agent as usize];
        slot.tasks = slot.tasks.saturating_sub(1);
        if slot.tasks == 0 {
            slot.first_group = NONE;
            slot.mixed = false;
        }
    }

    /// Restates which groups hold tasks on `agent` (after tasks ended); an exclusive claim ends
    /// with the claiming group's last task there.
    pub fn regroup(&mut self, agent: u32, groups: impl IntoIterator<Item = u32>) {
        let slot = &mut self.agents[agent as usize];
        slot.first_group = NONE;
        slot.mixed = false;
        let mut owner_stays = false;
        for g in groups {
            owner_stays |= g == slot.owner;
            if slot.first_group == NONE {
                slot.first_group = g;
            } else if slot.first_group != g {
                slot.mixed = true;
            }
        }
        if !owner_stays {
            slot.owner = NONE;
        }
    }

    /// One task fewer of `group` on attribute value `value`.
    fn uncount_value(&mut self, group: u32, value: u32) {
        let Some(c) = self.counts.get_mut(&(group, value)) else {
            return;
        };
        *c -= 1;
        if *c > 0 {
            return;
        }
        self.counts.remove(&(group, value));
        let key = self.values[value as usize].key;
        let Some((head, n)) = self.used_values.get(&(group, key)).copied() else {
            return;
        };
        // Unlink `value` from the (group, key) chain.
        let (mut prev, mut link) = (NONE, head);
        while link != NONE && self.used_links[link as usize].0 != value {
            prev = link;
            link = self.used_links[link as usize].1;
        }
        if link == NONE {
            return;
        }
        let next = self.used_links[link as usize].1;
        if n == 1 {
            self.used_values.remove(&(group, key));
        } else if prev == NONE {
            self.used_values.insert((group, key), (next, n - 1));
        } else {
            self.used_links[prev as usize].1 = next;
            self.used_values.insert((group, key), (head, n - 1));
        }
    }

    fn count_values(&mut self, group: u32, values: &[u32]) {
        self.group_total[group as usize] += 1;
        for &v in values {
            self.count_value(group, v);
        }
    }

    /// One more task of `group` on attribute value `value`.
    #[inline]
    fn count_value(&mut self, group: u32, value: u32) {
        let c = self.counts.entry((group, value)).or_insert(0);
        *c += 1;
        if *c == 1 {
            let key = self.values[value as usize].key;
            let link = self.used_links.len() as u32;
            let (head, n) = self.used_values.entry((group, key)).or_insert((NONE, 0));
            self.used_links.push((value, *head));
            *head = link;
            *n += 1;
        }
    }

    /// Records one task of `group` on `agent` in every counter (per attribute value only when
    /// the group's counts can be read; see `uncounted`).
    pub fn count_on_agent(&mut self, agent: u32, group: u32) {
        if !self.uncounted.get(group as usize).copied().unwrap_or(false) {
            let nk = self.n_keys();
            let start = agent as usize * nk;
            for k in 0..nk {
                let v = self.agent_values[start + k];
                if v != NONE {
                    self.count_value(group, v);
                }
            }
        }
        self.group_total[group as usize] += 1;
        let slot = &mut self.agents[agent as usize];
        slot.tasks += 1;
        if slot.first_group == NONE {
            slot.first_group = group;
        } else if slot.first_group != group {
            slot.mixed = true;
        }
    }

    /// Free amount of `dim` on `agent` in `role`.
    #[inline]
    pub fn free_in_role(&self, agent: u32, dim: usize, role: usize) -> i64 {
        let nr = self.n_roles();
        self.free[(agent as usize * self.n_dims() + dim) * nr + role]
    }

    /// Free amount of `dim` on `agent` over all roles.
    #[inline]
    pub fn free_all_roles(&self, agent: u32, dim: usize) -> i64 {
        let nr = self.n_roles();
        let start = (agent as usize * self.n_dims() + dim) * nr;
        self.free[start..start + nr].iter().sum()
    }

    /// Takes `amount` of `dim` from `agent`, drawing from `roles` in order; returns the split.
    pub fn take(&mut self, agent: u32, dim: usize, roles: &[u16], amount: i64, out: &mut Vec<(u16, i64)>) {
        let nr = self.n_roles();
        let start = (agent as usize * self.n_dims() + dim) * nr;
        let mut left = amount;
        for &r in roles {
            if left == 0 {
                break;
            }
            let cell = &mut self.free[start + r as usize];
            let part = left.min(*cell);
            if part > 0 {
                *cell -= part;
                left -= part;
                out.push((r, part));
            }
        }
    }
}
