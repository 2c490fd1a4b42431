//! Parking: a pending task a [`Scheduler`](super::Scheduler) pass could not place is skipped by
//! later passes until something has happened that could let it fit.
//!
//! A pass explains every unplaced task agent by agent ([`Reason`]). Those explanations say what
//! would have to change for the task to fit, and the scheduler sees every such change:
//!
//! - [`Reason::Shortfall`]: an agent with at least the amount asked of that resource free. The
//!   scheduler's free resources are its live offers, so only an offer arriving can raise them;
//!   the task wakes when an agent that gained an offer has that much of the resource offered
//!   in total (every role counted: waking too often is safe, too rarely is not).
//! - [`Reason::Ports`], [`Reason::PortTaken`]: an offer with ports arriving.
//! - [`Reason::Constraint`], [`Reason::ClaimedByOtherGroup`]: any offer arriving (an agent back
//!   in the pool), or any task starting or ending anywhere (a constraint may count any group).
//! - No agent considered at all: any offer arriving.
//!
//! A task with any other reason ([`Reason::BlockedAtItsTurn`], a queue reason) is not parked,
//! and queued passes park nothing: a queue's order, aging and reservations for starving heads
//! depend on every waiting task being seen. A parked task keeps the explanation of the pass
//! that parked it (its agent counts are from then) and is counted unplaced in every plan it is
//! skipped by ([`PlanStats::tasks_parked`](crate::plan::PlanStats::tasks_parked)). A task given
//! with a changed spec (resources, ports, group or constraints) under a parked id is placed
//! again at once.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::{Offer, ResourceValue, TaskId};
use crate::plan::{Plan, Reason, Unplaced};
use crate::resources::Quantity;
use crate::spec::TaskSpec;

/// What happened since the last pass that could let a parked task fit.
#[derive(Clone, Debug, Default)]
struct Changes {
    /// Per resource, the most of it offered in total on one agent that gained an offer.
    offered: FxHashMap<Arc<str>, Quantity>,
    /// An offer with ports arrived.
    ports: bool,
    /// Some offer arrived.
    offers: bool,
    /// Some task started or ended.
    tasks: bool,
}

/// What wakes one parked task.
#[derive(Clone, Debug, Default)]
struct Wake {
    /// An agent offering at least this much of a resource.
    resources: Vec<(Arc<str>, Quantity)>,
    ports: bool,
    /// Any offer or task change.
    any_change: bool,
    /// Any offer.
    any_offer: bool,
}

impl Wake {
    /// What wakes a task left unplaced for these reasons; `None` when it may fit next pass
    /// without anything happening.
    fn of(unplaced: &Unplaced) -> Option<Wake> {
        let mut wake = Wake { any_offer: unplaced.reasons.is_empty(), ..Wake::default() };
        for count in unplaced.reasons.iter() {
            match &count.reason {
                Reason::Shortfall { resource, asked, .. } => wake.resources.push((resource.clone(), *asked)),
                Reason::Ports { .. } | Reason::PortTaken { .. } => wake.ports = true,
                Reason::Constraint { .. } | Reason::ClaimedByOtherGroup => wake.any_change = true,
                _ => return None,
            }
        }
        Some(wake)
    }

    fn woken_by(&self, changes: &Changes) -> bool {
        (self.any_offer && changes.offers)
            || (self.any_change && (changes.offers || changes.tasks))
            || (self.ports && changes.ports)
            || self.resources.iter().any(|(name, asked)| changes.offered.get(name).is_some_and(|q| q >= asked))
    }
}

/// A parked task: what it asked, why it waits, and what wakes it.
#[derive(Clone, Debug)]
struct Parked {
    spec: TaskSpec,
    unplaced: Unplaced,
    wake: Wake,
}

impl Parked {
    /// Whether `spec` asks what the parked one did.
    fn same_ask(&self, spec: &TaskSpec) -> bool {
        let same_constraints = self.spec.hard.len() == spec.hard.len()
            && self.spec.hard.iter().zip(&spec.hard).all(|(a, b)| Arc::ptr_eq(a, b));
        self.spec.group == spec.group
            && self.spec.resources == spec.resources
            && self.spec.ports == spec.ports
            && self.spec.roles == spec.roles
            && same_constraints
    }
}

/// The parked tasks and the changes seen since the last pass.
#[derive(Clone, Debug, Default)]
pub(super) struct Parking {
    parked: FxHashMap<TaskId, Parked>,
    changes: Changes,
}

/// The pending tasks of one pass, split into those to place and those skipped.
pub(super) struct Split {
    /// The tasks to place, when some were skipped (else all of `pending`).
    pub(super) to_place: Option<Vec<TaskSpec>>,
    /// The skipped tasks' explanations, in pending order.
    pub(super) skipped: Vec<Unplaced>,
}

impl Parking {
    /// An agent gained an offer; `offers` are all its live offers now.
    pub(super) fn offer_added(&mut self, offers: &[&Offer]) {
        self.changes.offers = true;
        let mut totals: Vec<(&Arc<str>, Quantity)> = Vec::new();
        for resource in offers.iter().flat_map(|o| &o.resources) {
            match &resource.value {
                ResourceValue::Scalar(q) => match totals.iter_mut().find(|(n, _)| *n == &resource.name) {
                    Some((_, total)) => *total += *q,
                    None => totals.push((&resource.name, *q)),
                },
                ResourceValue::Ports(_) => self.changes.ports = true,
            }
        }
        for (name, total) in totals {
            let most = self.changes.offered.entry(name.clone()).or_insert(Quantity::ZERO);
            *most = (*most).max(total);
        }
    }

    /// A task started or ended.
    pub(super) fn task_changed(&mut self) {
        self.changes.tasks = true;
    }

    /// Forgets every parked task (a queued pass looks at all of them).
    pub(super) fn clear(&mut self) {
        self.parked.clear();
        self.changes = Changes::default();
    }

    /// Splits a pass's pending tasks: parked ones nothing woke are skipped. Parked tasks no
    /// longer pending are forgotten; the changes seen so far are used up.
    pub(super) fn split(&mut self, pending: &[TaskSpec]) -> Split {
        let changes = std::mem::take(&mut self.changes);
        if self.parked.is_empty() {
            return Split { to_place: None, skipped: Vec::new() };
        }
        let mut kept = FxHashMap::default();
        let mut to_place = Vec::with_capacity(pending.len());
        let mut skipped = Vec::new();
        for task in pending {
            match self.parked.remove(&task.id) {
                Some(parked) if !parked.wake.woken_by(&changes) && parked.same_ask(task) => {
                    skipped.push(Unplaced { parked: true, ..parked.unplaced.clone() });
                    kept.insert(task.id.clone(), parked);
                }
                _ => to_place.push(task.clone()),
            }
        }
        self.parked = kept;
        if skipped.is_empty() {
            return Split { to_place: None, skipped };
        }
        Split { to_place: Some(to_place), skipped }
    }

    /// Parks the tasks `plan` left unplaced for reasons only a later change can lift.
    pub(super) fn park(&mut self, placed: &[TaskSpec], plan: &Plan) {
        if plan.unplaced.is_empty() {
            return;
        }
        let specs: FxHashMap<&TaskId, &TaskSpec> = placed.iter().map(|t| (&t.id, t)).collect();
        for unplaced in &plan.unplaced {
            let (Some(spec), Some(wake)) = (specs.get(&unplaced.task_id), Wake::of(unplaced)) else {
                continue;
            };
            // What an executor task needs depends on whether its executor runs on an agent,
            // which no wake rule follows: it is looked at every pass.
            if spec.executor.is_some() {
                continue;
            }
            let parked = Parked { spec: (*spec).clone(), unplaced: unplaced.clone(), wake };
            self.parked.insert(unplaced.task_id.clone(), parked);
        }
    }
}
