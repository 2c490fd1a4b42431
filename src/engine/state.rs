//! The pass state: the [`Tables`] a pass reads and updates, and the engine's own scratch.
//!
//! The tables (agents, attribute values, per-group counts) live below the plugins, which read
//! them through their views; what only the engine reads stays here, beside them: the split of a
//! commit, the allocations memoised per class, the offer ids shared by launches and the groups a
//! one-shot pass leaves uncounted. Reads go to the tables through `Deref`; changes go through
//! [`PassState::tables_mut`] or the methods here that keep the scratch in step.

use std::sync::Arc;

use crate::model::{Attributes, Offer, OfferId, RunningTask};
use crate::plan::Allocation;
use crate::pool::OfferPool;
use crate::tables::{AgentIx, GroupIx, OfferWalk, RoleIx, Tables};

/// A split of one commit over all asks — (ask index, role, amount) — and the allocations made
/// of it.
pub(crate) type SplitMemo = (Vec<(u16, RoleIx, i64)>, Arc<[Allocation]>);

/// Everything a pass reads and updates.
#[derive(Debug)]
pub(crate) struct PassState {
    pub(super) tables: Tables,
    /// Per agent: its offer ids as shared storage for launches, made on its first launch.
    pub(super) shared_offer_ids: Vec<Option<Arc<[OfferId]>>>,
    /// Reused buffer for the per-role split of one commit.
    pub(super) split_scratch: Vec<(RoleIx, i64)>,
    /// Per class of the current pass: the last split taken as (ask index, role, amount), and
    /// the allocations made of it, shared by every launch that takes the same split.
    pub(super) allocation_memo: Vec<Option<SplitMemo>>,
    /// Reused buffer for the split of one commit over all asks.
    pub(super) parts_scratch: Vec<(u16, RoleIx, i64)>,
    /// Groups whose per-value counts no plugin of this pass can read (no task of the group
    /// has a constraint; plugins see counts only of the group of the task they judge), so
    /// placing their tasks skips them. Only a one-shot pass sets this; a state kept for later
    /// passes counts everything.
    pub(super) uncounted: Vec<bool>,
    /// Agents loaded from offers; those after them were compiled from their running tasks'
    /// hosts (see `offerless`).
    pub(super) offered_agents: usize,
}

impl std::ops::Deref for PassState {
    type Target = Tables;

    #[inline]
    fn deref(&self) -> &Tables {
        &self.tables
    }
}

/// The live offers of `pool`'s agents at `now`, by agent id.
pub(crate) fn walk_pool(pool: &OfferPool, now: std::time::Duration) -> OfferWalk<'_> {
    let mut walk = OfferWalk::with_capacity(pool.len());
    for agent in pool.agents_at(now) {
        walk.push_agent(agent.offers());
    }
    walk
}

impl PassState {
    /// Builds the state from the pool's live offers (agents sorted by id) and the running tasks.
    pub fn build(pool: &OfferPool, now: std::time::Duration, running: &[RunningTask]) -> PassState {
        let walk = walk_pool(pool, now);
        let mut state = PassState::with_names(&walk, running);
        state.add_agents(&walk);
        state.tables.add_running(running);
        state
    }

    /// A state with the names of `walk` and `running` interned and no agents yet (see
    /// [`Tables::with_names`]).
    pub fn with_names(walk: &OfferWalk<'_>, running: &[RunningTask]) -> PassState {
        PassState {
            tables: Tables::with_names(walk, running),
            shared_offer_ids: Vec::new(),
            split_scratch: Vec::new(),
            allocation_memo: Vec::new(),
            parts_scratch: Vec::new(),
            uncounted: Vec::new(),
            offered_agents: 0,
        }
    }

    /// The tables, to change.
    #[inline]
    pub fn tables_mut(&mut self) -> &mut Tables {
        &mut self.tables
    }

    /// Adds the agents of `walk` (see [`Tables::add_agents`]).
    pub fn add_agents(&mut self, walk: &OfferWalk<'_>) {
        self.tables.add_agents(walk);
        self.shared_offer_ids = vec![None; self.tables.n_agents()];
        self.offered_agents = self.tables.n_agents();
    }

    /// Appends an agent with no offer, compiled from a running task's host (see
    /// [`Tables::add_offerless_agent`]).
    pub fn add_offerless_agent(&mut self, id: &crate::model::AgentId, host: &(Arc<str>, Attributes)) -> AgentIx {
        self.shared_offer_ids.push(None);
        self.tables.add_offerless_agent(id, &host.0, &host.1)
    }

    /// Whether agent `idx` was compiled from its running tasks' hosts rather than from offers.
    pub fn compiled_from_hosts(&self, idx: AgentIx) -> bool {
        idx.get() >= self.offered_agents
    }

    /// Replaces agent `idx`'s free resources with those of `offers` (see
    /// [`Tables::reload_agent`]).
    pub fn reload_agent(&mut self, idx: AgentIx, offers: &[&Offer]) {
        self.tables.reload_agent(idx, offers);
        self.shared_offer_ids[idx.get()] = None;
    }

    /// Records one task of `group` on `agent` in every counter (per attribute value only when
    /// the group's counts can be read; see `uncounted`).
    #[inline]
    pub fn count_on_agent(&mut self, agent: AgentIx, group: GroupIx) {
        let per_value = !self.uncounted.get(group.get()).copied().unwrap_or(false);
        self.tables.count_on_agent(agent, group, per_value);
    }
}
