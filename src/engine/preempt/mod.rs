//! Preemption: room for a pending task that fits nowhere, made by evicting running tasks of
//! lower standing, within per-group disruption budgets.
//!
//! **Who may be evicted.** A running task yields to a pending one when its queue tier comes
//! after the pending task's (tier 0 is first) or, in the same tier, when its priority is
//! strictly lower ([`RunningTask::yields_to`](crate::RunningTask::yields_to)); equal standing
//! never preempts. A pending task's tier is its [`QueuePlace`](crate::QueuePlace) tier in queued
//! passes, 0 otherwise; a running task's is [`RunningTask::tier`](crate::RunningTask::tier).
//! Tasks already being killed ([`PreemptionInput::dying`]) are never chosen again.
//!
//! **Which victims.** After placement, each task the pass left unplaced (those the queue held
//! back aside) looks at every agent running tasks. An agent's room is its free offered
//! resources (none when it has no offers: an agent fully used is known only through its
//! running tasks, and the engine may preempt there too, since the victims' resources come back
//! as offers) plus what victims hold. Per agent the cheapest set that frees enough is chosen —
//! fewest victims, then lowest standing, then least work lost (youngest first), then least
//! capacity wasted (what the victims hold beyond the need, in thousandths summed over
//! resources), then victim ids — and across agents the cheapest set wins, equal sets going to
//! the agent with the smaller id. The same input gives the same preemptions.
//!
//! **What else must hold.** With the victims gone, the task's hard constraints must pass on the
//! agent; when they refuse the agent's cheapest set, its next-cheapest sets are asked in cost
//! order, at most 64 sets per agent (beyond that, or when the set was built greedily, the agent
//! is refused). Another group must not hold the agent exclusively, and the task's ports must be
//! free in the agent's offers (victims do not say which ports they hold). An agent known only
//! through its running tasks is asked as one with nothing free, compiled from the host its tasks
//! give ([`RunningTask::host`](crate::RunningTask::host)) when a task with hard constraints is
//! left unplaced; when none of its tasks gives a host the pass has no view to ask constraints
//! with, so only tasks without hard constraints and ports preempt there. The room counts every role the task accepts; it
//! ignores a custom executor (charged when the task is launched, from the offers that come
//! back).
//!
//! **Budgets.** [`DisruptionBudgets`] cap, per group, the tasks down at once: those dying and
//! those chosen as victims earlier in the pass count. A set that would break a budget is not
//! chosen. Unplaced tasks that found no victims say why on top of their other reasons, per
//! agent running tasks: [`PreemptionRefusal`](crate::PreemptionRefusal).
//!
//! **Cost.** The search reads a running-task table: per agent its tasks sorted by standing,
//! youngest first (those that yield to a task are a prefix, already in candidate order), with
//! what they hold together and the most one holds, per resource. The [`Scheduler`](crate::Scheduler)
//! builds it at its first preempting pass and then keeps it, a task added or removed as it is
//! reported running, launched or ended (`O(tasks on its agent)`); the one-shot engine builds it
//! per call (one hash look-up per agent change and per group, one sort per agent). Each pending
//! task then visits every agent once, in `O(1)` while it cannot beat the best set found so far:
//! a summary kept beside each agent in the table's contiguous agent list (its lowest
//! standings, latest starts and which groups run there) answers without reading the agent's
//! rows, a separate allocation each. An agent whose lowest-standing task ranks above the task,
//! whose groups all have no budget left, whose tasks together hold too little, whose lowest and
//! youngest tasks already cost more than the best single victim, or (for a best of `k`
//! victims) which needs more than `k` victims or whose `k` lowest standings and youngest tasks
//! cannot undercut it, is passed over. Only agents that could win are searched (sets of one
//! victim without costing, larger sets enumerated up to the search's bound; see `search.rs`).
//! Until a first set is found every agent is searched in full, so the refusals a task without
//! victims reports are exact; on an agent whose groups all have no budget left that search is
//! one pass over its rows when a set of one or two would free enough (see `spent.rs`).

mod budget;
mod probe;
mod search;
mod spent;
mod step;
mod summary;
mod table;
#[cfg(test)]
mod tests;

pub use budget::{BudgetError, DisruptionBudgets, MaxUnavailable};
pub(crate) use step::{run, Step};
pub(crate) use table::RunningTable;

use crate::model::TaskId;

/// What a pass that may preempt is given besides its tasks: the budgets, and the running tasks
/// already being killed (they count against their group's budget and are not chosen again).
#[derive(Clone, Copy, Debug)]
pub struct PreemptionInput<'a> {
    /// Disruption budgets per group.
    pub budgets: &'a DisruptionBudgets,
    /// Running tasks whose kill was asked for and whose end has not been seen yet.
    pub dying: &'a [TaskId],
}

impl<'a> PreemptionInput<'a> {
    /// Preemption under `budgets`, with nothing being killed yet.
    pub fn new(budgets: &'a DisruptionBudgets) -> PreemptionInput<'a> {
        PreemptionInput { budgets, dying: &[] }
    }
}
