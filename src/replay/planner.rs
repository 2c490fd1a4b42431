//! The two ways a replay plans: the incremental [`Scheduler`], or a whole [`Engine`] pass over
//! the pool and every running task each time (as Fenzo does), for comparison.

use std::time::Duration;

use rustc_hash::FxHashMap;

use crate::engine::{running_usage, Engine, PlanError, QueueInput, Scheduler};
use crate::model::{AgentId, Offer, OfferId, RunningTask, TaskId};
use crate::plan::Plan;
use crate::pool::OfferPool;
use crate::queue::{QueueConfig, QueuePlace};
use crate::spec::TaskSpec;

/// Plans passes and follows offers and running tasks.
#[derive(Debug)]
pub(super) enum Planner {
    /// The incremental scheduler.
    Incremental(Box<Scheduler>),
    /// A whole engine pass each time.
    Full(Box<FullReplan>),
}

/// What a whole pass needs: the pool and the running tasks.
#[derive(Debug)]
pub(super) struct FullReplan {
    engine: Engine,
    pool: OfferPool,
    running: Vec<RunningTask>,
    at: FxHashMap<TaskId, usize>,
    /// Queue places of running tasks placed by queued passes, index for index with `running`.
    places: Vec<Option<QueuePlace>>,
}

impl Planner {
    /// A planner of the given kind holding offers for `hold`.
    pub fn new(engine: Engine, hold: Duration, full: bool) -> Planner {
        if full {
            let pool = OfferPool::new(hold);
            return Planner::Full(Box::new(FullReplan {
                engine,
                pool,
                running: Vec::new(),
                at: FxHashMap::default(),
                places: Vec::new(),
            }));
        }
        Planner::Incremental(Box::new(Scheduler::new(engine, hold)))
    }

    /// Offers held now.
    pub fn held(&self) -> usize {
        match self {
            Planner::Incremental(s) => s.pool().len(),
            Planner::Full(f) => f.pool.len(),
        }
    }

    /// Holds an offer (the replay makes ids unique, so adding cannot fail).
    pub fn add_offer(&mut self, offer: Offer, now: Duration) {
        let _ = match self {
            Planner::Incremental(s) => s.add_offer(offer, now),
            Planner::Full(f) => f.pool.add(offer, now),
        };
    }

    /// Drops an offer if held (it may have been launched on, declined or expired already).
    pub fn rescind(&mut self, id: &OfferId, now: Duration) {
        let _ = match self {
            Planner::Incremental(s) => s.rescind(id, now),
            Planner::Full(f) => f.pool.rescind(id),
        };
    }

    /// Drops a lost agent's offers.
    pub fn remove_agent(&mut self, agent: &AgentId, now: Duration) {
        match self {
            Planner::Incremental(s) => drop(s.remove_agent(agent, now)),
            Planner::Full(f) => drop(f.pool.remove_agent(agent)),
        }
    }

    /// Counts a running task (of a queue place, when a queued pass placed it).
    pub fn task_running(&mut self, task: RunningTask, place: Option<QueuePlace>) -> Result<(), PlanError> {
        match self {
            Planner::Incremental(s) => s.task_running(task),
            Planner::Full(f) => {
                if f.at.contains_key(&task.id) {
                    return Err(PlanError::DuplicateTask(task.id));
                }
                f.at.insert(task.id.clone(), f.running.len());
                f.running.push(task);
                f.places.push(place);
                Ok(())
            }
        }
    }

    /// Forgets a running task.
    pub fn task_ended(&mut self, id: &TaskId) {
        match self {
            Planner::Incremental(s) => drop(s.task_ended(id)),
            Planner::Full(f) => {
                let Some(i) = f.at.remove(id) else {
                    return;
                };
                f.running.swap_remove(i);
                f.places.swap_remove(i);
                if let Some(moved) = f.running.get(i) {
                    f.at.insert(moved.id.clone(), i);
                }
            }
        }
    }

    /// Plans one pass at `now`, in queue order when `queue` gives the tasks' places; offers
    /// launched on, declined or expired leave the pool.
    pub fn schedule(
        &mut self,
        pending: &[TaskSpec],
        queue: Option<(&[QueuePlace], &QueueConfig)>,
        now: Duration,
    ) -> Result<Plan, PlanError> {
        match (self, queue) {
            (Planner::Incremental(s), None) => s.schedule(pending, now),
            (Planner::Incremental(s), Some((places, config))) => s.schedule_queued(pending, places, config, now),
            (Planner::Full(f), None) => f.engine.schedule(&mut f.pool, pending, &f.running, now),
            (Planner::Full(f), Some((places, config))) => {
                let held = f.running.iter().zip(&f.places).filter_map(|(t, p)| Some((p.as_ref()?, &t.resources[..])));
                let usage = running_usage(held);
                let input = QueueInput { config, pending: places, running: &usage };
                let plan = f.engine.plan_queued(&f.pool, pending, &f.running, input, now)?;
                // The plan was made from this pool a moment ago, so every offer it names is held.
                let _ = f.pool.settle(&plan);
                Ok(plan)
            }
        }
    }

    /// Whether launched tasks must be handed back with [`Planner::task_running`] (the
    /// incremental scheduler counts them itself).
    pub fn needs_launched(&self) -> bool {
        matches!(self, Planner::Full(_))
    }
}
