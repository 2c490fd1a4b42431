//! Autoscaling hints in the session: after each pass, with [`SessionConfig::autoscale`] set,
//! the hints of that pass (see [`crate::autoscale`]), reported as [`Update::ScaleHints`] when
//! they differ from the last ones reported.
//!
//! The session counts a class as scaled, for its rule's cooldown, when a report starts asking
//! to change it (to add agents or to let some go) where the report before did not: as with
//! Fenzo's autoscaler actions, the cooldown runs from the suggestion. Without a configuration
//! the session computes nothing; with one, it reads the hints from the scheduler after the
//! pass (see [`crate::autoscale::hints_after_pass`]) and copies neither its pool nor its
//! running tasks.
//!
//! [`SessionConfig::autoscale`]: super::SessionConfig::autoscale

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::machine::Session;
use super::update::Update;
use crate::autoscale::{hints_after_pass, AutoscaleInput, ScaleHints};
use crate::model::{AgentId, Offer, OfferId};
use crate::plan::Plan;
use crate::spec::TaskSpec;
use crate::Engine;

/// Autoscaling hints as the session reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScaleHintsUpdate {
    /// Agents to add per class, sorted by class (counts above zero).
    pub scale_up: Vec<(Arc<str>, u32)>,
    /// Idle agents the class rules let go, sorted by id.
    pub scale_down: Vec<AgentId>,
}

/// What the session keeps between passes for the hints.
#[derive(Clone, Debug, Default)]
pub(crate) struct ScaleBook {
    /// The hints last reported.
    reported: ScaleHintsUpdate,
    /// The classes the last report asked to change.
    asked: BTreeSet<Arc<str>>,
    /// When each class was last asked to change.
    pub(super) last_scaled: BTreeMap<Arc<str>, Duration>,
}

impl Session {
    /// The hints of a pass that found nothing pending, read from the scheduler before its
    /// offers are declined; `None` without a configuration.
    pub(super) fn idle_hints(&self, now: Duration) -> Option<ScaleHints> {
        self.pass_hints(&[], &Plan::default(), now)
    }

    /// The hints of the pass that made `plan` from `pending`, read from the scheduler after
    /// it applied the plan, before anything else changes it: the pool and running tasks the
    /// pass was given are the pool now with the offers the pass took given back (converted
    /// again from the offers the session still holds) and the running tasks now without the
    /// pass's launches, so no copy of either is taken before the pass. `None` without a
    /// configuration.
    pub(super) fn pass_hints(&self, pending: &[TaskSpec], plan: &Plan, now: Duration) -> Option<ScaleHints> {
        let config = self.config.autoscale.as_ref()?;
        // The configuration was validated when the session was made.
        let engine = Engine::new(self.config.engine.clone()).ok()?;
        let mut ids: Vec<&OfferId> =
            plan.launches.iter().flat_map(|l| l.offer_ids.iter()).chain(&plan.declined).collect();
        ids.sort_unstable();
        ids.dedup();
        let taken: Vec<Offer> =
            ids.into_iter().filter_map(|id| self.offers.get(id)).filter_map(|o| Offer::try_from(o).ok()).collect();
        let input = AutoscaleInput { config, last_scaled: &self.scale.last_scaled };
        let running = || self.scheduler.running();
        hints_after_pass(&engine, input, self.scheduler.pool(), &taken, pending, running, plan, now).ok()
    }

    /// Reports `found`, the hints of a pass at `now`, when they changed.
    pub(super) fn report_hints(&mut self, found: ScaleHints, now: Duration) {
        let mut asked: BTreeSet<Arc<str>> = found.scale_down_by_class.into_iter().map(|(class, _)| class).collect();
        asked.extend(found.scale_up.iter().map(|(class, _)| class.clone()));
        for class in asked.difference(&self.scale.asked) {
            self.scale.last_scaled.insert(class.clone(), now);
        }
        self.scale.asked = asked;
        let next = ScaleHintsUpdate { scale_up: found.scale_up, scale_down: found.scale_down };
        if next != self.scale.reported {
            self.scale.reported = next.clone();
            self.updates.push_back(Update::ScaleHints(next));
        }
    }
}
