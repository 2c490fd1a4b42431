//! The cluster the hints read: the live offers per agent and the running tasks, either as
//! they stand before a pass (a pool and a list of tasks) or rebuilt from the state after a
//! pass applied its plan (the pool without the offers the pass took, those offers given back,
//! the running tasks without the pass's launches), so a live scheduler need not copy its pool
//! and tasks before every pass.

use std::time::Duration;

use rustc_hash::FxHashSet;

use super::ahead;

use crate::model::{AgentId, Offer, RunningTask, TaskId};
use crate::plan::Plan;
use crate::pool::{AgentOffers, OfferPool};

/// The offers and running tasks of the cluster as a pass found them.
pub(crate) struct Cluster<'a, R> {
    pool: &'a OfferPool,
    /// Offers live before the pass that it took out of `pool`, sorted by agent, then id.
    taken: Vec<&'a Offer>,
    running: R,
    /// Ids of running tasks to leave out (the pass's launches), when the tasks are those after
    /// the pass.
    launched: Option<FxHashSet<&'a TaskId>>,
    now: Duration,
}

/// Running tasks that can be walked as often as asked.
pub(crate) trait Tasks<'a> {
    /// The tasks, in a fixed order.
    fn each(&self) -> impl Iterator<Item = &'a RunningTask>;
}

impl<'a, F, I> Tasks<'a> for F
where
    F: Fn() -> I,
    I: Iterator<Item = &'a RunningTask>,
{
    fn each(&self) -> impl Iterator<Item = &'a RunningTask> {
        self()
    }
}

impl<'a, R: Tasks<'a>> Cluster<'a, R> {
    /// The cluster before a pass: `pool` and `running` as the pass was given them.
    pub fn before(pool: &'a OfferPool, running: R, now: Duration) -> Self {
        Cluster { pool, taken: Vec::new(), running, launched: None, now }
    }

    /// The cluster before the pass that made `plan`, from the state after it: `pool` without
    /// the offers it `taken` (launched on or declined), `running` with its launches.
    pub fn after(pool: &'a OfferPool, taken: &'a [Offer], running: R, plan: &'a Plan, now: Duration) -> Self {
        let mut taken: Vec<&'a Offer> = taken.iter().collect();
        taken.sort_by(|a, b| a.agent_id.cmp(&b.agent_id).then_with(|| a.id.cmp(&b.id)));
        let launched = plan.launches.iter().map(|l| &l.task_id).collect();
        Cluster { pool, taken, running, launched: Some(launched), now }
    }

    /// The running tasks, launches of the pass included when the tasks are those after it (see
    /// [`Cluster::is_launch`]).
    pub fn running(&self) -> impl Iterator<Item = &'a RunningTask> + '_ {
        self.running.each()
    }

    /// The offers the cluster holds (live or not, taken ones included): at least its agents
    /// with offers.
    pub fn offers_held(&self) -> usize {
        self.pool.len() + self.taken.len()
    }

    /// Whether `task` is one of the pass's launches, to be left out.
    pub fn is_launch(&self, task: &RunningTask) -> bool {
        self.launches().contains(task)
    }

    /// The pass's launches to leave out, apart from the cluster (to be read on another thread).
    pub fn launches(&self) -> Launches<'_> {
        Launches(self.launched.as_ref().filter(|l| !l.is_empty()))
    }

    /// Calls `f` for each agent with live offers, in id order, with the agent's offer with the
    /// smallest id (its hostname and attributes) and all its offers.
    ///
    /// `attribute` names the attribute `f` reads first, asked for ahead.
    pub fn for_each_agent(
        &self,
        attribute: &str,
        mut f: impl FnMut(&'a AgentId, &'a Offer, &mut dyn Iterator<Item = &'a Offer>),
    ) {
        let mut taken = self.taken.as_slice();
        // Collected first, so that what is read of each agent can be asked for ahead.
        let agents: Vec<AgentOffers<'a>> = self.pool.agents_at(self.now).collect();
        for (k, agent) in agents.iter().enumerate() {
            ahead::agents(&agents, k, attribute);
            let id = agent.id();
            while let Some((first, rest)) = split_agent(taken) {
                if first[0].agent_id >= *id {
                    break;
                }
                f(&first[0].agent_id, first[0], &mut first.iter().copied());
                taken = rest;
            }
            let (mine, rest) = match split_agent(taken) {
                Some((group, rest)) if group[0].agent_id == *id => (group, rest),
                _ => (&[][..], taken),
            };
            taken = rest;
            // An agent the pool lists has a live offer.
            let Some(pooled) = agent.offers().next() else { continue };
            let first = match mine.first() {
                Some(t) if t.id < pooled.id => *t,
                _ => pooled,
            };
            f(id, first, &mut agent.offers().chain(mine.iter().copied()));
        }
        while let Some((group, rest)) = split_agent(taken) {
            f(&group[0].agent_id, group[0], &mut group.iter().copied());
            taken = rest;
        }
    }
}

/// The ids of the pass's launches, when the running tasks are those after the pass.
#[derive(Clone, Copy)]
pub(crate) struct Launches<'s>(Option<&'s FxHashSet<&'s TaskId>>);

impl Launches<'_> {
    /// Whether `task` is one of the launches.
    pub fn contains(&self, task: &RunningTask) -> bool {
        self.0.is_some_and(|l| l.contains(&task.id))
    }
}

/// The first agent's run of `offers` (sorted by agent) and the rest.
fn split_agent<'s, 'a>(offers: &'s [&'a Offer]) -> Option<(&'s [&'a Offer], &'s [&'a Offer])> {
    let first = offers.first()?;
    let end = offers.iter().position(|o| o.agent_id != first.agent_id).unwrap_or(offers.len());
    Some(offers.split_at(end))
}
