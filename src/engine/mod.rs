//! The engine: bin-packs pending tasks onto pooled offers.
//!
//! A pass runs the stages of Nomad and kube-scheduler — built-in resource fit, hard constraints,
//! score (fitness and soft constraints combined in one place), select, commit — over a state
//! compiled once into dense arrays. Identical tasks form classes; for each class the agents sit
//! in per-bucket priority queues (see `index`), so a placement looks at bucket tops, not at
//! every agent. Equal totals break on the agent-local part of the score, then on the agent id;
//! the same input gives the same plan.
//!
//! With [`EngineConfig::threads`] above one, a large pass puts what does not decide placements
//! on a second scoped thread (`pass` for loading beside compiling, `launch` for making
//! launches); placing stays on one thread and in order, so the plan does not change. A
//! work-stealing pool such as rayon was not needed: the work splits in two fixed parts, and
//! a scoped thread costs tens of microseconds on passes of milliseconds.

pub(crate) mod class;
mod commit;
mod evaluate;
mod explain;
mod fill;
mod gang;
mod handoff;
mod heap;
mod index;
mod kept_queue;
mod keyed;
mod launch;
mod offerless;
mod parked;
mod pass;
pub mod preempt;
pub(crate) mod prefetch;
mod queued;
mod scan;
mod scheduler;
mod select;
pub(crate) mod state;
mod treap;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use queued::{running_usage, QueueInput};
pub use scheduler::Scheduler;

use crate::model::{RunningTask, TaskId};
use crate::optimum::Limits;
use crate::plan::Plan;
use crate::plugins::fitness::BinPack;
use crate::plugins::Fitness;
use crate::pool::OfferPool;
use crate::spec::TaskSpec;

/// How the engine finds the best agent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// Priority queues per task class and attribute bucket (falls back to a scan for classes
    /// with pass-scoped plugins).
    #[default]
    Indexed,
    /// Ask every agent for every task. Same plans, slower; the reference for tests.
    Scan,
    /// As [`Indexed`](Self::Indexed), but when the fitness ranks agents by a key
    /// ([`Fitness::ranks_by_key`], as bin packing does) every shape shares the keyed index, even
    /// shapes with many tasks (`Indexed` gives those a queue of their own, cheaper per task once
    /// built). Same plans.
    Keyed,
}

/// How tasks that only resources constrain are packed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Packing {
    /// Fill agents one at a time, fullest first, each with the waiting task shapes that best
    /// match its free resources (a bin-centric vector packing), when the fitness is a bin
    /// packing ([`Fitness::packs`]). Tasks with constraints are still placed one by one, first.
    /// Packs tighter when shapes pull resources apart; within a priority the order tasks were
    /// given then decides only which task of a shape goes first. A priority with fewer such
    /// tasks than one per 16 agents places them one by one instead (filling sorts every agent).
    #[default]
    FillAgents,
    /// Every task in order to the agent that scores best for it alone, as Fenzo does.
    TaskByTask,
}

/// The default [`EngineConfig::pattern_budget`]: enough for the LP of tens of shapes to find
/// the patterns that matter, not to prove there are no better ones (that last stretch costs
/// most of the time and gains next to nothing once rounded).
pub const PATTERN_BUDGET: Limits = Limits { max_rounds: 60, max_knapsack_nodes: 2_000, max_pivots: 20_000 };

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Scores how well a task fits an agent's resources.
    pub fitness: Arc<dyn Fitness>,
    /// Weight of fitness against the soft constraints' weights (finite, positive).
    pub fitness_weight: f64,
    /// How candidates are found.
    pub strategy: Strategy,
    /// Decline the offers of agents that received no task (true), or keep them until they expire.
    pub decline_unused: bool,
    /// How tasks without constraints are packed.
    pub packing: Packing,
    /// Explain unplaced tasks (reasons with agent counts); false leaves the reasons empty.
    pub explain_unplaced: bool,
    /// Most threads one pass may use (at least 1; a pass uses two at most today). With two, a
    /// pass of [`two_thread_threshold`](Self::two_thread_threshold) pending tasks and offers or
    /// more loads the agents on the calling thread while the other checks and compiles the
    /// tasks; with [`launch_helper_threshold`](Self::launch_helper_threshold) pending tasks or
    /// more, the other thread also makes the launches as placements are committed. Placing
    /// itself stays on one thread, in order, so the plan is the same whatever the number, but
    /// for the two [`PlanStats`](crate::PlanStats) flags that say which parts ran on the other
    /// thread.
    pub threads: usize,
    /// Pending tasks and offers together from which a pass allowed two threads prepares on both
    /// (at least 1; default 4,096: below it, starting a thread costs about what it saves).
    pub two_thread_threshold: usize,
    /// With [`Packing::FillAgents`], the work budget of the packing LP that fills empty agents
    /// when the unconstrained tasks come in few shapes (see [`crate::optimum`]); `None` fills
    /// greedily only. Counted in solver steps, never in time, so plans stay reproducible.
    pub pattern_budget: Option<Limits>,
    /// Pending tasks from which a pass allowed two threads makes its launches on the second
    /// thread while placing goes on (at least 1; default 8,192: below it, handing placements
    /// over costs the placing thread about what it saves).
    pub launch_helper_threshold: usize,
}

impl Default for EngineConfig {
    /// Cpu and memory bin packing, weight 1, indexed, declining unused offers, filling agents,
    /// explaining unplaced tasks, on the caller's thread alone (with thresholds of 4,096 and
    /// 8,192 for when more threads are allowed).
    fn default() -> Self {
        EngineConfig {
            fitness: Arc::new(BinPack::cpu_mem()),
            fitness_weight: 1.0,
            strategy: Strategy::Indexed,
            decline_unused: true,
            packing: Packing::FillAgents,
            explain_unplaced: true,
            threads: 1,
            two_thread_threshold: pass::PARALLEL_MIN,
            pattern_budget: Some(PATTERN_BUDGET),
            launch_helper_threshold: pass::HELPER_MIN,
        }
    }
}

/// Settings that cannot work.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The fitness weight is not finite and positive.
    BadFitnessWeight(f64),
    /// A pass needs at least one thread.
    NoThreads,
    /// A thread threshold (named) is zero: 1 already means every pass with work to do.
    ZeroThreshold(&'static str),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadFitnessWeight(w) => write!(f, "fitness weight {w} is not finite and positive"),
            Self::NoThreads => f.write_str("a pass needs at least one thread"),
            Self::ZeroThreshold(field) => write!(f, "{field} must be at least 1"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Input a pass cannot work with.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PlanError {
    /// Two tasks (pending or running) share an id.
    DuplicateTask(TaskId),
    /// A queued pass was given a different number of queue places than tasks.
    QueuePlaces {
        /// Pending tasks.
        tasks: usize,
        /// Queue places given.
        places: usize,
    },
    /// The queue's configuration cannot work.
    Queue(crate::queue::QueueConfigError),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateTask(id) => write!(f, "task id {id} is given more than once"),
            Self::QueuePlaces { tasks, places } => write!(f, "{places} queue places given for {tasks} tasks"),
            Self::Queue(e) => write!(f, "queue: {e}"),
        }
    }
}

impl std::error::Error for PlanError {}

/// The scheduling engine: a pure function from (pool, pending, running, now) to a [`Plan`].
///
/// ```
/// use std::time::Duration;
/// use offerpack::{Engine, EngineConfig, Offer, OfferPool, TaskSpec};
///
/// let mut pool = OfferPool::new(Duration::from_secs(60));
/// let now = Duration::ZERO;
/// for (offer, agent) in [("o1", "a1"), ("o2", "a2")] {
///     let offer = Offer::new(offer, agent, agent).with_scalar("cpus", 4.0).unwrap().with_scalar("mem", 4096.0).unwrap();
///     pool.add(offer, now).unwrap();
/// }
/// let tasks = vec![
///     TaskSpec::builder("web-1", "web").scalar("cpus", 1.0).scalar("mem", 512.0).build().unwrap(),
///     TaskSpec::builder("web-2", "web").scalar("cpus", 1.0).scalar("mem", 512.0).build().unwrap(),
/// ];
/// let engine = Engine::new(EngineConfig::default()).unwrap();
/// let plan = engine.schedule(&mut pool, &tasks, &[], now).unwrap();
/// assert_eq!(plan.stats.agents_used, 1); // bin packing: both on one agent
/// assert_eq!(plan.declined.len(), 1);    // the other agent's offer goes back
/// assert!(pool.is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct Engine {
    config: EngineConfig,
}

impl Engine {
    /// An engine with validated settings.
    pub fn new(config: EngineConfig) -> Result<Engine, ConfigError> {
        if !(config.fitness_weight.is_finite() && config.fitness_weight > 0.0) {
            return Err(ConfigError::BadFitnessWeight(config.fitness_weight));
        }
        if config.threads == 0 {
            return Err(ConfigError::NoThreads);
        }
        if config.two_thread_threshold == 0 {
            return Err(ConfigError::ZeroThreshold("two_thread_threshold"));
        }
        if config.launch_helper_threshold == 0 {
            return Err(ConfigError::ZeroThreshold("launch_helper_threshold"));
        }
        Ok(Engine { config })
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Plans one pass without changing the pool: what-if runs call this directly.
    ///
    /// Offers expired at `now` are not used and are listed in [`Plan::expired`].
    pub fn plan(
        &self,
        pool: &OfferPool,
        pending: &[TaskSpec],
        running: &[RunningTask],
        now: Duration,
    ) -> Result<Plan, PlanError> {
        gang::run(self, pool, pending, running, None, now)
    }

    /// As [`Engine::plan`] or, with a queue, [`Engine::plan_queued`], then preemption for the
    /// tasks left unplaced (see [`preempt`]): those that fit once lower-standing running tasks
    /// are killed move from [`Plan::unplaced`] to [`Plan::preemptions`]. Offers of agents
    /// chosen for a preemption are kept, not declined.
    ///
    /// ```
    /// use std::time::Duration;
    /// use offerpack::preempt::{DisruptionBudgets, PreemptionInput};
    /// use offerpack::{Engine, EngineConfig, OfferPool, RunningTask, TaskSpec};
    ///
    /// let pool = OfferPool::new(Duration::from_secs(60)); // a full cluster: no offers
    /// let held = |n: f64| vec![("cpus".into(), offerpack::Quantity::new(n).unwrap())];
    /// let mut batch = RunningTask::new("batch-1", "batch", "a1").with_priority(0);
    /// batch.resources = held(4.0);
    /// let urgent = TaskSpec::builder("urgent", "web").scalar("cpus", 2.0).priority(10).build().unwrap();
    /// let budgets = DisruptionBudgets::new();
    /// let engine = Engine::new(EngineConfig::default()).unwrap();
    /// let plan = engine
    ///     .plan_preempting(&pool, &[urgent], &[batch], None, PreemptionInput::new(&budgets), Duration::ZERO)
    ///     .unwrap();
    /// assert_eq!(plan.preemptions[0].victims, ["batch-1".into()]);
    /// assert!(plan.unplaced.is_empty() && plan.launches.is_empty());
    /// ```
    pub fn plan_preempting(
        &self,
        pool: &OfferPool,
        pending: &[TaskSpec],
        running: &[RunningTask],
        queue: Option<QueueInput<'_>>,
        preemption: preempt::PreemptionInput<'_>,
        now: Duration,
    ) -> Result<Plan, PlanError> {
        pass::run_preempting(self, pool, pending, running, queue, Some(preemption), now)
    }

    /// Plans one pass in queue order (see [`QueueInput`]): tiers first to last, buckets of a
    /// tier by weighted dominant resource fairness, each task checked against its bucket's limit,
    /// other buckets' guarantees and its tier's capacity before any agent is asked. The plan's
    /// [`PlanStats::buckets`](crate::PlanStats::buckets) has the figures per bucket.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use offerpack::queue::{QueueConfig, QueuePlace};
    /// use offerpack::{Engine, EngineConfig, Offer, OfferPool, QueueInput, TaskSpec};
    ///
    /// let mut pool = OfferPool::new(Duration::from_secs(60));
    /// let offer = Offer::new("o1", "a1", "h1").with_scalar("cpus", 2.0).unwrap();
    /// pool.add(offer, Duration::ZERO).unwrap();
    /// let task = |id: &str| TaskSpec::builder(id, id).scalar("cpus", 1.0).build().unwrap();
    /// let tasks = [task("a1"), task("a2"), task("b1")];
    /// let place = |b: &str| QueuePlace { tier: 0, bucket: Arc::from(b) };
    /// let places = [place("a"), place("a"), place("b")];
    /// let config = QueueConfig::default();
    /// let queue = QueueInput { config: &config, pending: &places, running: &[] };
    /// let engine = Engine::new(EngineConfig::default()).unwrap();
    /// let plan = engine.plan_queued(&pool, &tasks, &[], queue, Duration::ZERO).unwrap();
    /// // Two cpus, two buckets of equal weight: one task each.
    /// let placed: Vec<&str> = plan.launches.iter().map(|l| l.task_id.as_str()).collect();
    /// assert_eq!(placed, ["a1", "b1"]);
    /// ```
    pub fn plan_queued(
        &self,
        pool: &OfferPool,
        pending: &[TaskSpec],
        running: &[RunningTask],
        queue: QueueInput<'_>,
        now: Duration,
    ) -> Result<Plan, PlanError> {
        gang::run(self, pool, pending, running, Some(queue), now)
    }

    /// Plans one pass and removes from the pool every offer the plan launched on, declined or
    /// found expired.
    pub fn schedule(
        &self,
        pool: &mut OfferPool,
        pending: &[TaskSpec],
        running: &[RunningTask],
        now: Duration,
    ) -> Result<Plan, PlanError> {
        let plan = self.plan(pool, pending, running, now)?;
        // The plan was made from this pool a moment ago, so every offer it names is held.
        let settled = pool.settle(&plan);
        debug_assert!(settled.is_ok());
        Ok(plan)
    }
}
