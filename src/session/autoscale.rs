//! Autoscaling hints in the session: after each pass, with [`SessionConfig::autoscale`] set,
//! the hints of that pass (see [`crate::autoscale`]), reported as [`Update::ScaleHints`] when
//! they differ from the last ones reported.
//!
//! The session counts a class as scaled, for its rule's cooldown, when a report starts asking
//! to change it (to add agents or to let some go) where the report before did not: as with
//! Fenzo's autoscaler actions, the cooldown runs from the suggestion. Without a configuration
//! the session copies nothing and computes nothing.
//!
//! [`SessionConfig::autoscale`]: super::SessionConfig::autoscale

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::machine::Session;
use super::update::Update;
use crate::autoscale::{hints, AutoscaleInput};
use crate::model::{AgentId, RunningTask};
use crate::plan::Plan;
use crate::pool::OfferPool;
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

/// The pool and the running tasks as they were before a pass (the pass changes both).
pub(crate) struct BeforePass {
    pool: OfferPool,
    running: Vec<RunningTask>,
}

impl Session {
    /// The pool and running tasks before a pass, when hints are asked for (else nothing is
    /// copied).
    pub(super) fn before_pass(&self) -> Option<BeforePass> {
        self.config.autoscale.as_ref()?;
        Some(BeforePass { pool: self.scheduler.pool().clone(), running: self.scheduler.running().cloned().collect() })
    }

    /// The hints of the pass that made `plan` from `before` and `pending`; reported when they
    /// changed.
    pub(super) fn report_hints(&mut self, before: BeforePass, pending: &[TaskSpec], plan: &Plan, now: Duration) {
        let Some(config) = self.config.autoscale.as_ref() else { return };
        // The configuration was validated when the session was made.
        let Ok(engine) = Engine::new(self.config.engine.clone()) else { return };
        let input = AutoscaleInput { config, last_scaled: &self.scale.last_scaled };
        let Ok(found) = hints(&engine, input, &before.pool, pending, &before.running, plan, now) else { return };
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
