//! One scheduling pass: order the tasks, place them tier by tier (constrained tasks one by one,
//! then the rest by filling agents, what the fill leaves once more one by one), explain what is
//! left.

use std::time::Duration;

use rustc_hash::FxHashSet;

use super::class::{assign_indexes, compile, compile_in, TaskClass};
use super::commit::commit;
use super::explain::explain_all;
use super::fill::{self, FillInput};
use super::handoff::receive_soon;
use super::launch::{self, Launches};
use super::offerless;
use super::preempt::{self, PreemptionInput};
use super::queued::{self, QueueInput, QueueRun};
use super::select::{IndexCache, Selector};
use super::state::{walk_pool, PassState};
use super::{Engine, Packing, PlanError, Strategy};
use crate::model::RunningTask;
use crate::plan::{Plan, PlanStats, Reason, ReasonCount, Unplaced};
use crate::plugins::Fitness;
use crate::spec::TaskSpec;
use crate::tables::{AgentIx, Dim, Interner, OwnedNames};

/// A tier fills agents when its fillable tasks times this reach the number of agents.
const FILL_RATIO: usize = 16;
use crate::pool::OfferPool;

/// The default [`EngineConfig::two_thread_threshold`](super::EngineConfig::two_thread_threshold):
/// passes with fewer pending tasks and offers prepare on the caller's thread alone, even when
/// more are allowed: starting a thread costs tens of microseconds, about what preparing such a
/// pass costs in all.
pub(super) const PARALLEL_MIN: usize = 4096;

/// The default
/// [`EngineConfig::launch_helper_threshold`](super::EngineConfig::launch_helper_threshold):
/// passes with fewer pending tasks make their launches on the caller's thread, as handing
/// placements over costs the placing thread about what it saves until passes are this large
/// (the README's benchmarks give the figures).
pub(super) const HELPER_MIN: usize = 8192;

/// Task classes compiled for a pass: the classes and each task's class.
pub(crate) struct Compiled {
    classes: Vec<TaskClass>,
    class_of: Vec<u32>,
}

/// What one pass reads.
#[derive(Clone, Copy)]
struct PassInput<'a> {
    pool: &'a OfferPool,
    pending: &'a [TaskSpec],
    running: &'a [RunningTask],
    now: Duration,
}

/// Runs one pass; see [`Engine::plan`].
pub(crate) fn run(
    engine: &Engine,
    pool: &OfferPool,
    pending: &[TaskSpec],
    running: &[RunningTask],
    queue: Option<QueueInput<'_>>,
    now: Duration,
) -> Result<Plan, PlanError> {
    run_preempting(engine, pool, pending, running, queue, None, now)
}

/// [`run`], then preemption for what is left unplaced when `preemption` is given.
pub(crate) fn run_preempting(
    engine: &Engine,
    pool: &OfferPool,
    pending: &[TaskSpec],
    running: &[RunningTask],
    queue: Option<QueueInput<'_>>,
    preemption: Option<PreemptionInput<'_>>,
    now: Duration,
) -> Result<Plan, PlanError> {
    let places = queue.map(|q| q.pending);
    let input = PassInput { pool, pending, running, now };
    let parallel = engine.config.threads > 1 && pending.len() + pool.len() >= engine.config.two_thread_threshold;
    let (mut state, compiled) = if parallel { prepare_on_two_threads(engine, input)? } else { prepare(engine, input)? };
    let mut queue = queue.map(|q| queued::build_for_pass(&q, pending, &state, running)).transpose()?;
    let run = queue.as_mut().map(|queue| QueueRun { queue, index: None });
    let (mut plan, mut used) = place_compiled(engine, &mut state, pending, compiled, None, run, &mut Vec::new());
    plan.stats.prepared_on_two_threads = parallel;
    if let Some(input) = preemption {
        let step = preempt::Step { pending, places, input, now };
        let table = preempt::RunningTable::build(running.iter());
        if offerless::needed(&plan, pending) {
            offerless::compile(&mut state, &table, |_, _| {});
        }
        preempt::run(&mut state, &table, |_| None, step, &mut plan);
        keep_preempted_agents(&state, &plan, &mut used);
    }
    if engine.config.decline_unused {
        decline_unused(&state, &used, &mut plan);
    }
    plan.expired = pool.expired_ids(now);
    Ok(plan)
}

/// Checks the task ids, loads the pool's agents and compiles the task classes, one after the
/// other.
fn prepare(engine: &Engine, input: PassInput<'_>) -> Result<(PassState, Compiled), PlanError> {
    let PassInput { pool, pending, running, now } = input;
    check_ids(pending, running)?;
    let walk = walk_pool(pool, now);
    let mut state = PassState::with_names(&walk, running);
    // The agents load while the walk's offers are still in cache; the tasks come after.
    state.add_agents(&walk);
    let mut groups = Interner::default();
    let (classes, class_of) = compile(state.names(), &mut groups, pending, engine.config.fitness_weight);
    state.tables_mut().adopt_groups(groups);
    state.tables_mut().add_running(running);
    Ok((state, Compiled { classes, class_of }))
}

/// What [`prepare`] does, on two threads: this one walks the pool and loads the agents; the
/// other checks the task ids, then compiles the task classes once the names are known. Both
/// run the very steps [`prepare`] runs, so the state and classes, and so the plan, are the same.
fn prepare_on_two_threads(engine: &Engine, input: PassInput<'_>) -> Result<(PassState, Compiled), PlanError> {
    let PassInput { pool, pending, running, now } = input;
    let weight = engine.config.fitness_weight;
    std::thread::scope(|scope| {
        let (send_names, names) = std::sync::mpsc::sync_channel::<OwnedNames>(1);
        let tasks_side = scope.spawn(move || {
            check_ids(pending, running)?;
            // No names means this thread's side stopped: its panic resumes below.
            let Some(names) = receive_soon(&names) else { return Ok(None) };
            let mut groups = Interner::default();
            let (classes, class_of) = compile(names.view(), &mut groups, pending, weight);
            Ok(Some((Compiled { classes, class_of }, groups)))
        });
        let walk = walk_pool(pool, now);
        let mut state = PassState::with_names(&walk, running);
        // The receiver is gone only when the other side failed, which its join reports.
        let _ = send_names.send(OwnedNames::of(state.names()));
        state.add_agents(&walk);
        let compiled = match tasks_side.join() {
            Ok(result) => result?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let Some((compiled, groups)) = compiled else { unreachable!("names were sent") };
        state.tables_mut().adopt_groups(groups);
        state.tables_mut().add_running(running);
        Ok((state, compiled))
    })
}

/// Places `pending` into `state`, committing each placement; returns the plan's launches,
/// unplaced tasks and stats. `log` lists the agents touched since the indexes in `cache` (if
/// any) were built; placements are appended to it.
pub(crate) fn place(
    engine: &Engine,
    state: &mut PassState,
    pending: &[TaskSpec],
    cache: Option<&mut IndexCache>,
    queue: Option<QueueRun<'_>>,
    log: &mut Vec<AgentIx>,
) -> (Plan, Vec<AgentIx>) {
    let (classes, class_of) = compile_in(state, pending, engine.config.fitness_weight);
    place_compiled(engine, state, pending, Compiled { classes, class_of }, cache, queue, log)
}

/// [`place`] with the task classes compiled (their groups interned in `state`).
fn place_compiled(
    engine: &Engine,
    state: &mut PassState,
    pending: &[TaskSpec],
    compiled: Compiled,
    cache: Option<&mut IndexCache>,
    mut queue: Option<QueueRun<'_>>,
    log: &mut Vec<AgentIx>,
) -> (Plan, Vec<AgentIx>) {
    let Compiled { mut classes, class_of } = compiled;
    let fitness = &*engine.config.fitness;
    let log_start = log.len();
    state.allocation_memo.clear();
    // A `Scheduler` keeps indexes between passes, so a shape's own queue is built once for
    // many passes of a few tasks each: there only `Strategy::Keyed` shares the keyed index.
    let all_keyed = engine.config.strategy == Strategy::Keyed;
    let one_shot = cache.is_none();
    let few = shapes_with_few_tasks(&classes, &class_of, state);
    let few = move |shape| all_keyed || (one_shot && few(shape));
    let keys = assign_indexes(&mut classes, fitness.ranks_by_key(), few);
    if cache.is_none() {
        // One-shot pass: per-value counts of a group no constraint reads are not kept.
        let mut constrained = vec![false; state.n_groups()];
        for class in &classes {
            constrained[class.group.get()] |= !class.hard.is_empty() || !class.soft.is_empty();
        }
        state.uncounted = constrained.into_iter().map(|c| !c).collect();
    }
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(pending[t].priority));
    let packs = match engine.config.packing {
        Packing::FillAgents => fitness.packs(),
        Packing::TaskByTask => None,
    };
    let fills: Vec<bool> = classes.iter().map(|class| packs.is_some() && fill::eligible(class, state)).collect();
    let indexed = engine.config.strategy != Strategy::Scan;
    // Priority tiers, highest first; in each, tasks with constraints go one by one, then the
    // rest fill agents. Filling sorts every agent: worth it for many tasks, not for a handful
    // among many agents, so a tier with few fillable tasks places them one by one too.
    let tiers: Vec<&[usize]> = order.chunk_by(|&x, &y| pending[x].priority == pending[y].priority).collect();
    let fill_tiers: Vec<bool> = tiers
        .iter()
        .map(|tier| tier.iter().filter(|&&t| fills[class_of[t] as usize]).count() * FILL_RATIO >= state.n_agents())
        .collect();
    let selector = Selector::new(&classes, &class_of, keys, indexed, cache);
    let mut one = OneByOne { selector, classes: &classes, class_of: &class_of, pending, fitness };
    if queue.is_some() {
        one.selector.count(0..pending.len());
    } else {
        for (tier, &fill_tier) in tiers.iter().zip(&fill_tiers) {
            one.selector.count(tier.iter().copied().filter(|&t| !(fill_tier && fills[class_of[t] as usize])));
        }
    }
    let mut reserved = match &queue {
        Some(run) => queued::reserve(run, state, &classes, &class_of),
        None => Vec::new(),
    };
    let mut place_and_explain = |state: &mut PassState, launches: &mut Launches| {
        let mut unplaced: Vec<usize> = Vec::new();
        let mut held_back = Vec::new();
        // Fillable classes, and shapes, the selector found no agent for. Later placements only
        // take room and claim agents, which never lets a task without constraints fit where it
        // did not: the answer holds for the rest of the pass.
        let mut hopeless = Hopeless::new(&classes);
        if let Some(run) = queue.as_mut() {
            (unplaced, held_back) = queued::place_in_order(run, |t| {
                let placed = one.place(state, t, launches, log);
                if placed && !reserved.is_empty() {
                    queued::release_placed(state, &mut reserved, t);
                }
                placed
            });
        }
        let tiers = if queue.is_some() { &[][..] } else { &tiers[..] };
        for (tier, &fill_tier) in tiers.iter().zip(&fill_tiers) {
            let mut to_fill = Vec::new();
            for &t in tier.iter() {
                if fill_tier && fills[class_of[t] as usize] {
                    to_fill.push(t);
                } else if !one.place(state, t, launches, log) {
                    unplaced.push(t);
                }
            }
            if let (false, Some(packs)) = (to_fill.is_empty(), packs) {
                let patterns = engine.config.pattern_budget.as_ref();
                let input = FillInput { classes: &classes, class_of: &class_of, pending, packs, patterns };
                let left = fill::fill(state, &input, &to_fill, launches, log);
                // The fill leaves no task an agent has room for; should it ever, the selector
                // places it rather than the plan giving it up.
                one.selector.count(left.iter().copied());
                unplaced.extend(one.place_leftovers(state, left, &mut hopeless, launches, log));
            }
        }
        launches.flush();
        let mut plan = Plan::default();
        if engine.config.explain_unplaced {
            explain_all(state, &classes, &class_of, pending, &unplaced, &mut plan);
        } else {
            let agents_considered = state.n_agents() as u32;
            let none: std::sync::Arc<[crate::plan::ReasonCount]> = std::sync::Arc::from([]);
            plan.unplaced = unplaced
                .iter()
                .map(|&t| Unplaced {
                    task_id: pending[t].id.clone(),
                    reasons: none.clone(),
                    agents_considered,
                    parked: false,
                })
                .collect();
        }
        let agents = state.n_agents() as u32;
        for (t, reason) in held_back {
            let reasons = std::sync::Arc::from([ReasonCount { reason: Reason::Queue(reason), agents }]);
            plan.unplaced.push(Unplaced {
                task_id: pending[t].id.clone(),
                reasons,
                agents_considered: agents,
                parked: false,
            });
        }
        plan
    };
    let helper = engine.config.threads > 1 && pending.len() >= engine.config.launch_helper_threshold;
    let mut plan = if helper {
        let (mut plan, launches) = launch::with_helper(state, pending, place_and_explain);
        plan.launches = launches;
        plan
    } else {
        let mut launches = Launches::here(pending.len());
        let mut plan = place_and_explain(state, &mut launches);
        plan.launches = launches.into_vec();
        plan
    };
    one.selector.finish();
    queued::release(state, reserved);
    // This pass appended exactly the agents of its launches to the log.
    let used = distinct(&log[log_start..], state.n_agents());
    plan.stats = PlanStats {
        tasks_placed: plan.launches.len() as u32,
        tasks_unplaced: plan.unplaced.len() as u32,
        agents_used: used.len() as u32,
        agents_considered: state.n_agents() as u32,
        task_classes: classes.len() as u32,
        prepared_on_two_threads: false,
        launches_on_helper: helper,
        buckets: queue.as_ref().map(queued::stats).unwrap_or_default(),
        tasks_parked: 0,
    };
    (plan, used)
}

/// A shape with fewer pending tasks than one per this many agents shares the keyed index
/// (when the fitness has one) instead of scoring every agent for an index of its own: scoring an
/// agent costs about what a search of the keyed trees costs per task, a few dozen times over.
const KEYED_RATIO: usize = 64;

/// Whether a shape (by id) has fewer pending tasks than one per [`KEYED_RATIO`] agents.
fn shapes_with_few_tasks(classes: &[TaskClass], class_of: &[u32], state: &PassState) -> impl Fn(u32) -> bool + use<> {
    let shapes = classes.iter().map(|c| c.shape.id as usize + 1).max().unwrap_or(0);
    let mut tasks = vec![0usize; shapes];
    for &c in class_of {
        tasks[classes[c as usize].shape.id as usize] += 1;
    }
    let agents = state.n_agents();
    move |shape| tasks.get(shape as usize).is_none_or(|&n| n * KEYED_RATIO < agents)
}

/// Places tasks one at a time with the per-task selector.
struct OneByOne<'a> {
    selector: Selector<'a>,
    classes: &'a [TaskClass],
    class_of: &'a [u32],
    pending: &'a [TaskSpec],
    fitness: &'a dyn Fitness,
}

impl OneByOne<'_> {
    /// Places `pending[t]` on the agent the selector picks and commits it; false when no agent
    /// can take it.
    fn place(&mut self, state: &mut PassState, t: usize, launches: &mut Launches, log: &mut Vec<AgentIx>) -> bool {
        let Some(agent) = self.selector.select(state, self.fitness, self.pending, t, log) else {
            return false;
        };
        let granted = commit(state, &self.classes[self.class_of[t] as usize], agent);
        launches.push(state, self.pending, t, agent, granted);
        log.push(agent);
        true
    }

    /// Places what the fill left (`left`, fillable tasks, in pass order) one by one; returns
    /// the tasks no agent can take. Tasks no agent has room for, and tasks of classes already
    /// found `hopeless`, are not asked about; classes newly found so are added.
    fn place_leftovers(
        &mut self,
        state: &mut PassState,
        left: Vec<usize>,
        hopeless: &mut Hopeless,
        launches: &mut Launches,
        log: &mut Vec<AgentIx>,
    ) -> Vec<usize> {
        let mut rooms: Option<Rooms> = None;
        let mut unplaced = Vec::new();
        for t in left {
            let class = &self.classes[self.class_of[t] as usize];
            if hopeless.holds(class) {
                unplaced.push(t);
                continue;
            }
            let rooms = rooms.get_or_insert_with(|| Rooms::of(state));
            if !rooms.any_fits(class) {
                hopeless.mark(class, true);
                unplaced.push(t);
            } else if !self.place(state, t, launches, log) {
                // Without claims, the group made no difference.
                hopeless.mark(class, !rooms.claims);
                unplaced.push(t);
            }
        }
        unplaced
    }
}

/// Each agent's room — free amount per dimension over all roles, then free ports — to rule out,
/// without the selector, the tasks no agent has room for. Placing only ever lessens room, so
/// while tasks are placed the rooms read too much, never too little: a task they have no room for
/// fits no agent.
struct Rooms {
    width: usize,
    /// `room[agent * width + column]`.
    room: Vec<i64>,
    /// Per column, the agents by room in it, most first; empty until a task asks for it.
    by_room: Vec<Vec<u32>>,
    /// Whether any agent is claimed exclusively.
    claims: bool,
}

impl Rooms {
    fn of(state: &PassState) -> Rooms {
        let dims = state.n_dims();
        let width = dims + 1;
        let mut room = Vec::with_capacity(state.n_agents() * width);
        let mut claims = false;
        for (a, slot) in state.agent_ixs().zip(state.slots()) {
            room.extend(Dim::all(dims).map(|d| state.free_all_roles(a, d)));
            room.push(i64::from(slot.free_ports()));
            claims |= slot.owner().is_some();
        }
        Rooms { width, room, by_room: vec![Vec::new(); width], claims }
    }

    /// Whether some agent has room for a task of `class` (claims aside): looked for among the
    /// agents with room enough in the column fewest agents have room enough in.
    fn any_fits(&mut self, class: &TaskClass) -> bool {
        let n = self.room.len() / self.width;
        let asks = || asks(class, self.width - 1);
        for (column, _) in asks() {
            if self.by_room[column].is_empty() && n > 0 {
                let mut order: Vec<u32> = (0..n as u32).collect();
                order.sort_unstable_by_key(|&a| std::cmp::Reverse(self.room[a as usize * self.width + column]));
                self.by_room[column] = order;
            }
        }
        let room_of = |a: u32, column: usize| self.room[a as usize * self.width + column];
        let mut fewest: Option<&[u32]> = None;
        for (column, amount) in asks() {
            let order = &self.by_room[column];
            let enough = &order[..order.partition_point(|&a| room_of(a, column) >= amount)];
            if fewest.is_none_or(|f| enough.len() < f.len()) {
                fewest = Some(enough);
            }
        }
        let Some(candidates) = fewest else { return n > 0 };
        candidates.iter().any(|&a| asks().all(|(column, amount)| room_of(a, column) >= amount))
    }
}

/// What `class` asks, as (column of [`Rooms`], amount); ports are column `ports`.
fn asks(class: &TaskClass, ports: usize) -> impl Iterator<Item = (usize, i64)> + '_ {
    let count = i64::from(class.ports.total());
    class.ask.iter().map(|&(d, amount)| (d.get(), amount)).chain((count > 0).then_some((ports, count)))
}

/// Classes, and shapes, that no agent can take for the rest of the pass.
struct Hopeless {
    classes: Vec<bool>,
    shapes: Vec<bool>,
}

impl Hopeless {
    fn new(classes: &[TaskClass]) -> Hopeless {
        let shapes = classes.iter().map(|c| c.shape.id as usize + 1).max().unwrap_or(0);
        Hopeless { classes: vec![false; classes.len()], shapes: vec![false; shapes] }
    }

    fn holds(&self, class: &TaskClass) -> bool {
        self.classes[class.id as usize] || self.shapes[class.shape.id as usize]
    }

    /// Marks `class` hopeless, and its shape too when `shape` (the group made no difference).
    fn mark(&mut self, class: &TaskClass, shape: bool) {
        self.classes[class.id as usize] = true;
        self.shapes[class.shape.id as usize] |= shape;
    }
}

/// The distinct agents in `agents` (indices below `n`), ascending.
fn distinct(agents: &[AgentIx], n: usize) -> Vec<AgentIx> {
    if agents.len() * 8 < n {
        let mut out = agents.to_vec();
        out.sort_unstable();
        out.dedup();
        return out;
    }
    let mut seen = vec![false; n];
    for &a in agents {
        seen[a.get()] = true;
    }
    AgentIx::all(n).filter(|&a| seen[a.get()]).collect()
}

/// Adds the agents chosen for preemptions to `used` (kept ascending), so their offers are
/// not declined: the victims' resources come back beside them.
pub(crate) fn keep_preempted_agents(state: &PassState, plan: &Plan, used: &mut Vec<AgentIx>) {
    let before = used.len();
    used.extend(plan.preemptions.iter().filter_map(|p| state.agent(&p.agent_id)));
    if used.len() > before {
        used.sort_unstable();
        used.dedup();
    }
}

/// Declines the offers of every agent not in `used` (ascending agent indices).
pub(crate) fn decline_unused(state: &PassState, used: &[AgentIx], plan: &mut Plan) {
    let mut next = used.iter().copied().peekable();
    for (a, agent) in state.agent_ixs().zip(state.identities().iter()) {
        if next.next_if_eq(&a).is_none() {
            plan.declined.extend(agent.offer_ids.iter().cloned());
        }
    }
    plan.declined.sort();
}

/// Task ids must be unique across pending and running tasks.
pub(crate) fn check_ids(pending: &[TaskSpec], running: &[RunningTask]) -> Result<(), PlanError> {
    let mut seen: FxHashSet<&str> =
        FxHashSet::with_capacity_and_hasher(pending.len() + running.len(), Default::default());
    for id in pending.iter().map(|t| &t.id).chain(running.iter().map(|t| &t.id)) {
        if !seen.insert(id.as_str()) {
            return Err(PlanError::DuplicateTask(id.clone()));
        }
    }
    Ok(())
}
