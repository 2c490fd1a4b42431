//! Per agent: identity, slot, free, total and held amounts, attribute values and hosts.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::ix::{AgentIx, Dim, GroupIx, KeyIx, RoleIx, ValueIx};
use super::{add_ports, OfferWalk, Tables};
use crate::model::{AgentId, Offer, OfferId, ResourceValue, Role};
use crate::resources::PortSet;

/// Free ports of one agent per role index (most agents offer ports in one role: kept inline).
pub(crate) type AgentPorts = smallvec::SmallVec<[(RoleIx, PortSet); 1]>;

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
    host_value: ValueIx,
    /// Free ports per role index.
    ports: AgentPorts,
    /// First group seen on the agent, and whether another group is there too.
    first_group: Option<GroupIx>,
    mixed: bool,
    /// Group that claimed the agent exclusively.
    owner: Option<GroupIx>,
    /// Tasks on the agent (running and placed in this pass).
    tasks: u32,
}

impl AgentSlot {
    /// The value of the agent's hostname.
    #[inline]
    pub fn host_value(&self) -> ValueIx {
        self.host_value
    }

    /// Free ports per role index.
    #[inline]
    pub fn ports(&self) -> &AgentPorts {
        &self.ports
    }

    /// Free ports over all roles.
    #[inline]
    pub fn free_ports(&self) -> u32 {
        self.ports.iter().map(|(_, set)| set.count()).sum()
    }

    /// The group that claimed the agent exclusively, if any.
    #[inline]
    pub fn owner(&self) -> Option<GroupIx> {
        self.owner
    }

    /// Tasks on the agent (running and placed in this pass).
    #[inline]
    pub fn tasks(&self) -> u32 {
        self.tasks
    }

    /// Whether every task on the agent belongs to `group` (true for an empty agent).
    #[inline]
    pub fn only_group(&self, group: GroupIx) -> bool {
        !self.mixed && self.first_group.is_none_or(|first| first == group)
    }

    /// A slot with no task, no claim and `ports` free, on the host whose value is `host_value`.
    pub(super) fn empty(host_value: ValueIx, ports: AgentPorts) -> AgentSlot {
        AgentSlot { host_value, ports, first_group: None, mixed: false, owner: None, tasks: 0 }
    }

    /// One more task of `group` here.
    pub(super) fn add_task(&mut self, group: GroupIx) {
        self.tasks += 1;
        match self.first_group {
            None => self.first_group = Some(group),
            Some(first) => self.mixed |= first != group,
        }
    }

    /// One task fewer here. Which groups the agent still holds is the caller's to restate
    /// ([`Tables::regroup`]); until then it errs towards "several groups".
    pub(super) fn remove_task(&mut self) {
        self.tasks = self.tasks.saturating_sub(1);
        if self.tasks == 0 {
            self.first_group = None;
            self.mixed = false;
        }
    }
}

impl Tables {
    /// Adds the agents of `walk`, in its order; the tables have no agents yet.
    pub fn add_agents(&mut self, walk: &OfferWalk<'_>) {
        let (nd, nr, nk) = (self.n_dims(), self.n_roles(), self.n_keys());
        let n = walk.len();
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
        self.agent_values = vec![None; n * nk];
        self.next_on_host = vec![None; n];
        self.offered_executors = vec![Vec::new(); n];
        for own in walk.agents() {
            let first = own[0];
            let idx = AgentIx::new(self.agents.len());
            self.agent_index.insert(first.agent_id.clone(), idx);
            let ports = self.load_offers(idx, own);
            let hostname = first.hostname.clone();
            let host_value = self.intern_value(KeyIx::HOSTNAME, &hostname, Some(&hostname), None);
            self.agent_values[idx.get() * nk + KeyIx::HOSTNAME.get()] = Some(host_value);
            for (k, v) in first.attributes.iter_shared() {
                let key = self.keys.get_shared(k).unwrap_or(KeyIx::HOSTNAME);
                if key != KeyIx::HOSTNAME {
                    let value = self.intern_value(key, v.as_str(), Some(v.shared_text()), v.as_scalar());
                    self.agent_values[idx.get() * nk + key.get()] = Some(value);
                }
            }
            if self.host_first.len() <= host_value.get() {
                self.host_first.resize(self.values.len().max(host_value.get() + 1), None);
            }
            self.next_on_host[idx.get()] = self.host_first[host_value.get()];
            self.host_first[host_value.get()] = Some(idx);
            identities.push(AgentIdentity {
                id: first.agent_id.clone(),
                hostname,
                offer_ids: own.iter().map(|o| o.id.clone()).collect(),
            });
            self.agents.push(AgentSlot::empty(host_value, ports));
        }
        self.identities = Arc::new(identities);
    }

    /// Adds the resources of `offers` to agent `idx`'s free and total amounts; returns its ports.
    fn load_offers(&mut self, idx: AgentIx, offers: &[&Offer]) -> AgentPorts {
        let executors = &mut self.offered_executors[idx.get()];
        executors.clear();
        for id in offers.iter().flat_map(|o| &o.executor_ids) {
            if !executors.contains(id) {
                executors.push(id.clone());
            }
        }
        let (nd, nr) = (self.n_dims(), self.n_roles());
        let base = idx.get() * nd * nr;
        let mut ports = AgentPorts::new();
        for offer in offers {
            for r in &offer.resources {
                let role = self.roles.get_shared(r.role.shared()).unwrap_or(RoleIx::UNRESERVED);
                match &r.value {
                    ResourceValue::Scalar(q) => {
                        let d = self.dims.get_shared(&r.name).unwrap_or(Dim::CPUS).get();
                        self.free[base + d * nr + role.get()] += q.milli();
                        self.total[idx.get() * nd + d] += q.milli();
                    }
                    ResourceValue::Ports(set) => add_ports(&mut ports, role, set),
                }
            }
        }
        ports.sort_by_key(|(r, _)| *r);
        ports
    }

    /// Whether every resource name and role in `offers` is known to these tables.
    pub fn knows(&self, offers: &[&Offer]) -> bool {
        offers.iter().flat_map(|o| &o.resources).all(|r| {
            self.roles.get_shared(r.role.shared()).is_some()
                && (!matches!(r.value, ResourceValue::Scalar(_)) || self.dims.get_shared(&r.name).is_some())
        })
    }

    /// Replaces agent `idx`'s free resources with those of `offers` (its live offers now); its
    /// size becomes what they offer plus what its running tasks hold. The caller has checked
    /// [`Tables::knows`].
    pub fn reload_agent(&mut self, idx: AgentIx, offers: &[&Offer]) {
        let (nd, nr) = (self.n_dims(), self.n_roles());
        let i = idx.get();
        self.free[i * nd * nr..(i + 1) * nd * nr].fill(0);
        self.total[i * nd..(i + 1) * nd].copy_from_slice(&self.held[i * nd..(i + 1) * nd]);
        let ports = self.load_offers(idx, offers);
        self.agents[i].ports = ports;
        Arc::make_mut(&mut self.identities)[i].offer_ids = offers.iter().map(|o| o.id.clone()).collect();
    }

    /// Adds `amount` of `dim` to what running tasks hold on `agent` (negative to release).
    pub fn hold(&mut self, agent: AgentIx, dim: Dim, amount: i64) {
        let at = agent.get() * self.n_dims() + dim.get();
        self.held[at] += amount;
        self.total[at] += amount;
    }

    /// Number of agents.
    #[inline]
    pub fn n_agents(&self) -> usize {
        self.agents.len()
    }

    /// The agents' slots, by index.
    #[inline]
    pub fn slots(&self) -> &[AgentSlot] {
        &self.agents
    }

    /// Agent `agent`'s slot.
    #[inline]
    pub fn slot(&self, agent: AgentIx) -> &AgentSlot {
        &self.agents[agent.get()]
    }

    /// Who each agent is, by index (shareable with another thread).
    #[inline]
    pub fn identities(&self) -> &Arc<Vec<AgentIdentity>> {
        &self.identities
    }

    /// Who agent `agent` is.
    #[inline]
    pub fn identity(&self, agent: AgentIx) -> &AgentIdentity {
        &self.identities[agent.get()]
    }

    /// The index of an agent, if it is in the tables.
    #[inline]
    pub fn agent(&self, id: &AgentId) -> Option<AgentIx> {
        self.agent_index.get(id).copied()
    }

    /// Claims `agent` for `group` exclusively.
    pub fn claim(&mut self, agent: AgentIx, group: GroupIx) {
        self.agents[agent.get()].owner = Some(group);
    }

    /// Sets who holds `agent` exclusively (`None`: nobody), e.g. to put back what a pass-long
    /// reservation replaced.
    pub fn set_owner(&mut self, agent: AgentIx, owner: Option<GroupIx>) {
        self.agents[agent.get()].owner = owner;
    }

    /// Whether any agent is claimed exclusively.
    pub fn any_claimed(&self) -> bool {
        self.agents.iter().any(|a| a.owner.is_some())
    }

    /// Every agent, in index order.
    #[inline]
    pub fn agent_ixs(&self) -> impl DoubleEndedIterator<Item = AgentIx> + ExactSizeIterator + Clone {
        AgentIx::all(self.agents.len())
    }

    /// Agent `agent`'s size in `dim`: offered at the start of the pass plus held by running tasks.
    #[inline]
    pub fn total(&self, agent: AgentIx, dim: Dim) -> i64 {
        self.total[agent.get() * self.n_dims() + dim.get()]
    }

    /// Agent `agent`'s size in every dimension.
    #[inline]
    pub fn totals(&self, agent: AgentIx) -> &[i64] {
        let nd = self.n_dims();
        &self.total[agent.get() * nd..(agent.get() + 1) * nd]
    }

    /// The agents whose hostname is `host`.
    pub fn agents_on_host(&self, host: ValueIx) -> impl Iterator<Item = AgentIx> + '_ {
        let first = self.host_first.get(host.get()).copied().flatten();
        std::iter::successors(first, |&a| self.next_on_host[a.get()])
    }

    /// Restates which groups hold tasks on `agent` (after tasks ended); an exclusive claim ends
    /// with the claiming group's last task there.
    pub fn regroup(&mut self, agent: AgentIx, groups: impl IntoIterator<Item = GroupIx>) {
        let slot = &mut self.agents[agent.get()];
        slot.first_group = None;
        slot.mixed = false;
        let mut owner_stays = false;
        for g in groups {
            owner_stays |= slot.owner == Some(g);
            match slot.first_group {
                None => slot.first_group = Some(g),
                Some(first) => slot.mixed |= first != g,
            }
        }
        if !owner_stays {
            slot.owner = None;
        }
    }

    /// Free amount of `dim` on `agent` in `role`.
    #[inline]
    pub fn free_in_role(&self, agent: AgentIx, dim: Dim, role: RoleIx) -> i64 {
        let nr = self.n_roles();
        self.free[(agent.get() * self.n_dims() + dim.get()) * nr + role.get()]
    }

    /// Free amount of `dim` on `agent` over all roles.
    #[inline]
    pub fn free_all_roles(&self, agent: AgentIx, dim: Dim) -> i64 {
        let nr = self.n_roles();
        let start = (agent.get() * self.n_dims() + dim.get()) * nr;
        self.free[start..start + nr].iter().sum()
    }

    /// Takes `amount` of `dim` from `agent`, drawing from `roles` in order; returns the split.
    pub fn take(&mut self, agent: AgentIx, dim: Dim, roles: &[RoleIx], amount: i64, out: &mut Vec<(RoleIx, i64)>) {
        let nr = self.n_roles();
        let start = (agent.get() * self.n_dims() + dim.get()) * nr;
        let mut left = amount;
        for &r in roles {
            if left == 0 {
                break;
            }
            let cell = &mut self.free[start + r.get()];
            let part = left.min(*cell);
            if part > 0 {
                *cell -= part;
                left -= part;
                out.push((r, part));
            }
        }
    }

    /// Agent `agent`'s free ports per role, to take from, and the roles by index.
    pub fn ports_mut(&mut self, agent: AgentIx) -> (&mut AgentPorts, &[Role]) {
        (&mut self.agents[agent.get()].ports, &self.role_values)
    }
}
