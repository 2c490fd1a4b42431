//! Live what-if: the plan the next pass would make with extra tasks, from the session's current
//! state (offers held, tasks pending, tasks running), launching and holding nothing.
//!
//! [`Session::what_if`] runs [`Engine::plan`] (or [`Engine::plan_queued`] with a queue, or
//! [`Engine::plan_preempting`] when the session preempts) on a fresh engine of the session's
//! settings, and adds the autoscaling hints when the session has rules for them, as a pass
//! would: the pool, the tracker and the scheduler's compiled
//! state are left as they were (only the scheduler's running set is brought up to date, as
//! before any pass), so asking twice gives the same plan and the next real pass is unchanged.
//! The extra tasks are placed after the pending ones (or by their queue places), as if just
//! submitted; one whose [`TaskRequest::after`] names a task that has not finished is left out
//! (it would wait).
//!
//! [`SessionConfig::dry_run`](super::SessionConfig::dry_run) makes a session that places
//! nothing: its passes neither launch nor decline, so offers stay in its pool (until they
//! expire) for what-if questions; each pass still reports [`Update::Pass`](super::Update::Pass)
//! with the agents offered.

use std::fmt;
use std::time::Duration;

use super::calls;
use super::machine::{Link, Session};
use super::update::{PassReport, Update};
use super::TaskRequest;
use crate::autoscale::{hints, AutoscaleInput};
use crate::engine::{running_usage, ConfigError, Engine, PlanError, QueueInput};
use crate::model::OfferId;
use crate::plan::Plan;
use crate::preempt::PreemptionInput;

/// Why [`Session::what_if`] gave no plan.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WhatIfError {
    /// The engine refused the input (e.g. an extra task with the id of a pending or running one).
    Plan(PlanError),
    /// The engine settings are invalid (never for a session built by [`Session::new`], which
    /// checks them).
    Engine(ConfigError),
    /// The session is stopped.
    Stopped,
}

impl fmt::Display for WhatIfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plan(error) => write!(f, "{error}"),
            Self::Engine(error) => write!(f, "invalid engine config: {error}"),
            Self::Stopped => f.write_str("the session is stopped"),
        }
    }
}

impl std::error::Error for WhatIfError {}

impl Session {
    /// The plan the next pass would make at `now` if `extra` were submitted too: launches,
    /// unplaced tasks and their reasons, and whatever else the engine's [`Plan`] reports.
    /// Nothing is launched, declined or held; see the module docs.
    pub fn what_if(&mut self, extra: &[TaskRequest], now: Duration) -> Result<Plan, WhatIfError> {
        if self.link == Link::Stopped {
            return Err(WhatIfError::Stopped);
        }
        let engine = Engine::new(self.config.engine.clone()).map_err(WhatIfError::Engine)?;
        self.sync_running();
        let ready = |r: &&TaskRequest| r.after.iter().all(|p| self.has_finished(p));
        let extra: Vec<&TaskRequest> = extra.iter().filter(ready).collect();
        let mut pending = self.tasks.pending_specs();
        let mut places = self.config.queue.as_ref().map(|_| self.tasks.pending_places());
        // A task whose victims are still dying is held back, as the next pass would.
        self.hold_preemptors(&mut pending, places.as_mut(), now);
        pending.extend(extra.iter().map(|r| r.spec.clone()));
        if let Some(places) = &mut places {
            places.extend(extra.iter().map(|r| r.queue.clone()));
        }
        let running: Vec<_> = self.scheduler.running().cloned().collect();
        let pool = self.scheduler.pool();
        let placed = running.iter().filter_map(|t| Some((self.scheduler.place_of(&t.id)?, &t.resources[..])));
        let usage = self.config.queue.as_ref().map(|_| running_usage(placed));
        let queue = match (&self.config.queue, &places, &usage) {
            (Some(config), Some(places), Some(usage)) => Some(QueueInput { config, pending: places, running: usage }),
            _ => None,
        };
        let dying = if self.config.preemption.is_some() { self.dying() } else { Vec::new() };
        let planned = match (&self.config.preemption, queue) {
            (Some(budgets), queue) => {
                let input = PreemptionInput { budgets, dying: &dying };
                engine.plan_preempting(pool, &pending, &running, queue, input, now)
            }
            (None, Some(queue)) => engine.plan_queued(pool, &pending, &running, queue, now),
            (None, None) => engine.plan(pool, &pending, &running, now),
        };
        let mut plan = planned.map_err(WhatIfError::Plan)?;
        if let Some(config) = &self.config.autoscale {
            let input = AutoscaleInput { config, last_scaled: &self.scale.last_scaled };
            let found = hints(&engine, input, pool, &pending, &running, &plan, now).map_err(WhatIfError::Plan)?;
            plan.scale_up = found.scale_up;
            plan.scale_down = found.scale_down;
        }
        Ok(plan)
    }
}

impl Session {
    /// A pass of a dry-run session: expired offers are declined, the rest stay; the pass is
    /// reported with the agents offered and nothing placed.
    pub(super) fn dry_pass(&mut self, now: Duration) {
        let expired: Vec<OfferId> = self.scheduler.expire(now).into_iter().map(|o| o.id).collect();
        let mut report = PassReport::default();
        if !expired.is_empty() {
            expired.iter().for_each(|id| drop(self.offers.remove(id)));
            report.offers_declined = expired.len() as u32;
            self.send(calls::decline(self.fw(), &expired, self.config.refuse_seconds));
        }
        report.stats.agents_considered = self.scheduler.pool().agents_at(now).count() as u32;
        self.updates.push_back(Update::Pass(report));
    }
}
