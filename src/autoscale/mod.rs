//! Autoscaling hints: how many agents of each class would place what a pass left unplaced for
//! want of room (`scale_up`), and which idle agents the class rules let go (`scale_down`).
//!
//! An agent's class is the value of one attribute ([`AutoscaleConfig::attribute`], such as
//! `instance_type`); each class with a [`ClassRule`] is scaled, others are left alone. The
//! census (`classes`) sorts the known agents into classes and takes each class's shape from
//! its agents; the shortfall (`shortfall`) is a dry pass onto clones of those shapes; the
//! scale-down (`scale_down`) picks idle agents beyond `max_idle`, never below `min_size`,
//! not within `cooldown` of the class's last scaling, evenly across a balancing attribute.
//!
//! All of it is a pure function of the pool, the tasks, the plan and `now`, like a pass: the
//! caller passes in when each class was last scaled. [`Engine::plan_with_autoscale`] plans and
//! adds the hints to the [`Plan`]; [`hints`] computes them for a plan already made. An engine
//! asked for no hints does none of this work.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::time::Duration;
//! use offerpack::autoscale::{AutoscaleConfig, AutoscaleInput, ClassRule};
//! use offerpack::{Engine, EngineConfig, Offer, OfferPool, TaskSpec};
//!
//! let mut pool = OfferPool::new(Duration::from_secs(60));
//! let offer = Offer::new("o1", "a1", "h1").with_scalar("cpus", 4.0).unwrap().with_text_attribute("class", "c4");
//! pool.add(offer, Duration::ZERO).unwrap();
//! // Ten tasks of 2 cpus: two fit the one agent, eight need four more agents of its class.
//! let tasks: Vec<TaskSpec> = (0..10)
//!     .map(|i| TaskSpec::builder(format!("t{i}"), "batch").scalar("cpus", 2.0).build().unwrap())
//!     .collect();
//! let config = AutoscaleConfig::new("class", [ClassRule::new("c4").max_size(100)]).unwrap();
//! let last_scaled = BTreeMap::new();
//! let input = AutoscaleInput { config: &config, last_scaled: &last_scaled };
//! let engine = Engine::new(EngineConfig::default()).unwrap();
//! let plan = engine.plan_with_autoscale(&pool, &tasks, &[], input, Duration::ZERO).unwrap();
//! assert_eq!(plan.launches.len(), 2);
//! assert_eq!(plan.scale_up, [("c4".into(), 4)]);
//! ```

mod ahead;
mod classes;
mod cluster;
mod config;
#[cfg(test)]
mod fast_paths_tests;
mod scale_down;
mod shortfall;
mod totals;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub use config::{AutoscaleConfig, AutoscaleConfigError, ClassRule};

use cluster::{Cluster, Tasks};

use crate::model::{AgentId, Offer, RunningTask, TaskId};
use crate::plan::Plan;
use crate::pool::OfferPool;
use crate::spec::TaskSpec;
use crate::{Engine, PlanError};

/// What the hints need besides the pass's own input.
#[derive(Clone, Copy, Debug)]
pub struct AutoscaleInput<'a> {
    /// The class attribute and rules.
    pub config: &'a AutoscaleConfig,
    /// When each class was last scaled (up or down), for the cooldown; a class not listed was
    /// never scaled.
    pub last_scaled: &'a BTreeMap<Arc<str>, Duration>,
}

/// Autoscaling hints of one pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScaleHints {
    /// Agents to add per class, sorted by class, counts above zero: the shortfall's clones plus
    /// what brings the class's idle agents up to `min_idle`, within `max_size`.
    pub scale_up: Vec<(Arc<str>, u32)>,
    /// Idle agents the rules let go, sorted by id.
    pub scale_down: Vec<AgentId>,
    /// The same agents per class, sorted by class (classes letting none go left out).
    pub scale_down_by_class: Vec<(Arc<str>, Vec<AgentId>)>,
    /// The unplaced tasks the shortfall's clones would place, in the dry pass's order.
    pub claimed: Vec<TaskId>,
}

/// The hints for `plan`, the plan of `pool`, `pending` and `running` at `now`.
pub fn hints(
    engine: &Engine,
    input: AutoscaleInput<'_>,
    pool: &OfferPool,
    pending: &[TaskSpec],
    running: &[RunningTask],
    plan: &Plan,
    now: Duration,
) -> Result<ScaleHints, PlanError> {
    hints_of(engine, input, &Cluster::before(pool, || running.iter(), now), pending, plan, now)
}

/// The same hints as [`hints`] for the pool and running tasks the pass that made `plan` was
/// given, computed from what a [`Scheduler`](crate::Scheduler) holds after it applied the
/// plan, without a copy of either taken before the pass: `pool` is the pool after the pass,
/// `taken` the offers the pass took out of it (those of its launches and declines, in any
/// order), `running` the tasks counted as running after it, walked as often as needed (its
/// launches among them; they are left out).
#[allow(clippy::too_many_arguments)]
pub fn hints_after_pass<'a, I: Iterator<Item = &'a RunningTask>>(
    engine: &Engine,
    input: AutoscaleInput<'a>,
    pool: &'a OfferPool,
    taken: &'a [Offer],
    pending: &[TaskSpec],
    running: impl Fn() -> I,
    plan: &'a Plan,
    now: Duration,
) -> Result<ScaleHints, PlanError> {
    hints_of(engine, input, &Cluster::after(pool, taken, running, plan, now), pending, plan, now)
}

fn hints_of<'a, R>(
    engine: &Engine,
    input: AutoscaleInput<'a>,
    cluster: &Cluster<'a, R>,
    pending: &[TaskSpec],
    plan: &Plan,
    now: Duration,
) -> Result<ScaleHints, PlanError>
where
    R: Tasks<'a>,
{
    // Walked twice (census, counted tasks), by index so that both can ask for tasks ahead.
    let running: Vec<&'a RunningTask> = cluster.running().collect();
    let candidates = shortfall::candidates(pending, plan);
    let launches = cluster.launches();
    let walk = || shortfall::counted_order(&running, launches, &candidates, plan);
    // The two walks share nothing: on a large cluster the counted tasks are found on a second
    // thread while this one takes the census, as a pass prepares on two threads.
    let config = engine.config();
    let beside = config.threads > 1 && !candidates.is_empty() && running.len() >= config.two_thread_threshold;
    let ((classes, hosts), found) = if beside {
        std::thread::scope(|scope| {
            let counted = scope.spawn(walk);
            let census = classes::census(input.config, cluster, &running, plan);
            match counted.join() {
                Ok(order) => (census, Some(order)),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    } else {
        (classes::census(input.config, cluster, &running, plan), None)
    };
    // Found beside the census, or now if the dry pass asks for them.
    let short = shortfall::evaluate(engine, &classes, &hosts, &candidates, || found.unwrap_or_else(walk), now)?;
    let mut out = ScaleHints { claimed: short.claimed, ..ScaleHints::default() };
    for (class, &clones) in classes.iter().zip(&short.per_class) {
        let room = class.rule.max_size.saturating_sub(class.size());
        let idle_missing = if class.shape.is_some() { class.rule.min_idle.saturating_sub(class.idle()) } else { 0 };
        let up = clones.saturating_add(idle_missing).min(room);
        if up > 0 {
            out.scale_up.push((class.rule.class.clone(), up));
        }
        let last = input.last_scaled.get(&class.rule.class).copied();
        let down = scale_down::choose(class, up > 0, last, now);
        if !down.is_empty() {
            out.scale_down.extend(down.iter().cloned());
            out.scale_down_by_class.push((class.rule.class.clone(), down));
        }
    }
    out.scale_down.sort();
    Ok(out)
}

impl Engine {
    /// Plans one pass as [`plan`](Engine::plan) does and adds the autoscaling hints (see
    /// [`autoscale`](crate::autoscale)) to [`Plan::scale_up`] and [`Plan::scale_down`].
    pub fn plan_with_autoscale(
        &self,
        pool: &OfferPool,
        pending: &[TaskSpec],
        running: &[RunningTask],
        autoscale: AutoscaleInput<'_>,
        now: Duration,
    ) -> Result<Plan, PlanError> {
        let mut plan = self.plan(pool, pending, running, now)?;
        let hints = hints(self, autoscale, pool, pending, running, &plan, now)?;
        plan.scale_up = hints.scale_up;
        plan.scale_down = hints.scale_down;
        Ok(plan)
    }
}
