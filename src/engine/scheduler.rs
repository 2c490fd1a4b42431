//! An engine with memory: the pass state and candidate indexes live from one pass to the next.
//!
//! [`Engine::plan`] compiles the whole cluster for every pass, which is right for what-if runs
//! and one-shot solving but costs time linear in agents and running tasks even when one task
//! arrived. A [`Scheduler`] owns the offer pool and the running tasks and keeps the compiled
//! state up to date as events come in: an offer added, rescinded or expired reloads that agent;
//! a task that starts or ends moves the counters by one. A pass then costs what its tasks cost.
//! The state is rebuilt from scratch only when something new to it appears in an offer — an
//! agent, a resource name, a role — so the steady state never pays for it, and when groups of
//! ended tasks make up most of what it has interned (a framework naming a new group per job
//! would otherwise grow it for as long as it runs): that rebuild is amortised over the thousands
//! of groups that came and went since the last one.
//!
//! Agents whose offers are all gone stay compiled, with nothing free, until a rebuild: no task
//! asking for resources fits them and explanations do not count them; a pass with a task asking
//! for nothing at all rebuilds first. A preempting pass that leaves a task with hard constraints
//! unplaced also compiles, from their tasks' hosts, the agents running tasks it does not have
//! (see `offerless`), as the one-shot engine does, so whether a rebuild dropped an agent makes
//! no difference to preemption there; a task reported running with an attribute the state has
//! no column for makes the next pass rebuild. Exclusive claims are kept here as well as in the
//! state, so that a rebuild restores them (running tasks do not say they claimed their agent).
//!
//! Unlike [`Engine::plan`], equal scores break on the order agents were first seen rather than
//! on their ids (agent ids are not renumbered as agents arrive): still the same plan for the
//! same sequence of calls.

use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};

use super::gang::Rounds;
use super::kept_queue::KeptQueue;
use super::offerless;
use super::parked::Parking;
use super::pass::{decline_unused, keep_preempted_agents, place};
use super::preempt::{self, PreemptionInput, RunningTable};
use super::queued::{self, QueueRun};
use super::select::IndexCache;
use super::state::PassState;
use super::{Engine, PlanError};
use crate::model::{AgentId, GroupId, Offer, OfferId, RunningTask, TaskId};
use crate::plan::Plan;
use crate::pool::{OfferPool, PoolError};
use crate::queue::{QueueConfig, QueuePlace, ResourceAmounts};
use crate::spec::TaskSpec;
use crate::tables::{AgentIx, GroupIx};

/// Offers and running tasks with their compiled state, placing pending tasks pass by pass.
///
/// ```
/// use std::time::Duration;
/// use offerpack::{EngineConfig, Engine, Offer, Scheduler, TaskSpec};
///
/// let engine = Engine::new(EngineConfig::default()).unwrap();
/// let mut scheduler = Scheduler::new(engine, Duration::from_secs(60));
/// let now = Duration::ZERO;
/// let offer = Offer::new("o1", "a1", "h1").with_scalar("cpus", 4.0).unwrap().with_scalar("mem", 4096.0).unwrap();
/// scheduler.add_offer(offer, now).unwrap();
/// let web = TaskSpec::builder("web-1", "web").scalar("cpus", 1.0).build().unwrap();
/// let plan = scheduler.schedule(&[web], now).unwrap();
/// assert_eq!(plan.launches.len(), 1);
/// assert_eq!(scheduler.running_tasks(), 1); // placed tasks count as running from now on
/// assert!(scheduler.task_ended(&"web-1".into()));
/// ```
#[derive(Debug)]
pub struct Scheduler {
    engine: Engine,
    pool: OfferPool,
    running: FxHashMap<TaskId, RunningTask>,
    /// Running tasks per agent, to restate an agent's groups when one ends.
    on_agent: FxHashMap<AgentId, Vec<TaskId>>,
    /// Agents claimed by an `EXCLUSIVE` task this scheduler placed, and by which group, while a
    /// task of that group runs there: running tasks do not say they claimed, so a rebuild of
    /// the state restores the claims from here.
    claims: FxHashMap<AgentId, GroupId>,
    /// The compiled state, or `None` when it must be rebuilt before the next pass.
    state: Option<PassState>,
    cache: IndexCache,
    /// Agents touched (offers, tasks, placements) since the oldest cached index was synced.
    log: Vec<AgentIx>,
    /// The queue place of running tasks placed by queued passes.
    places: FxHashMap<TaskId, QueuePlace>,
    /// What those tasks hold, per place.
    usage: Vec<(QueuePlace, ResourceAmounts)>,
    /// The queue of queued passes, kept from pass to pass.
    kept: Option<KeptQueue>,
    /// Unplaced tasks skipped until something could let them fit (see `parked.rs`).
    parking: Parking,
    /// Whether unplaced tasks are parked.
    parks: bool,
    /// What running tasks hold on agents the compiled state does not have (no offers at its
    /// last rebuild): part of the cluster total that queue shares divide.
    outside: ResourceAmounts,
    /// The running tasks as the preemption search reads them: built at the first pass that
    /// preempts, then kept in step with `running` (tasks boxed: small rows, less memory read
    /// per agent searched).
    preempt_table: Option<RunningTable<Box<RunningTask>>>,
}

impl Scheduler {
    /// A scheduler with an empty pool holding offers for `hold`.
    pub fn new(engine: Engine, hold: Duration) -> Scheduler {
        Scheduler {
            engine,
            pool: OfferPool::new(hold),
            running: FxHashMap::default(),
            on_agent: FxHashMap::default(),
            claims: FxHashMap::default(),
            state: None,
            cache: IndexCache::default(),
            log: Vec::new(),
            places: FxHashMap::default(),
            usage: Vec::new(),
            kept: None,
            parking: Parking::default(),
            parks: true,
            outside: ResourceAmounts::new(),
            preempt_table: None,
        }
    }

    /// Whether a task a pass left unplaced is skipped by later passes until something happens
    /// that could let it fit: an offer with enough of the resource it lacked, any offer or task
    /// change for one a constraint kept out (on by default; queued passes never skip). Turn it
    /// off for hard constraints that read anything besides the agents and the running tasks.
    pub fn set_parking(&mut self, on: bool) {
        self.parks = on;
        if !on {
            self.parking.clear();
        }
    }

    /// The offers held.
    pub fn pool(&self) -> &OfferPool {
        &self.pool
    }

    /// Number of tasks counted as running (given, or placed by a pass and not ended).
    pub fn running_tasks(&self) -> usize {
        self.running.len()
    }

    /// Holds a new offer.
    pub fn add_offer(&mut self, offer: Offer, now: Duration) -> Result<(), PoolError> {
        let agent = offer.agent_id.clone();
        self.pool.add(offer, now)?;
        self.parking.offer_added(&self.pool.offers_of(&agent, now));
        self.reload(&agent, now);
        Ok(())
    }

    /// Drops a rescinded offer.
    pub fn rescind(&mut self, id: &OfferId, now: Duration) -> Result<Offer, PoolError> {
        let offer = self.pool.rescind(id)?;
        self.reload(&offer.agent_id, now);
        Ok(offer)
    }

    /// Drops every offer of a lost agent; returns them.
    pub fn remove_agent(&mut self, agent: &AgentId, now: Duration) -> Vec<Offer> {
        let offers = self.pool.remove_agent(agent);
        self.reload(agent, now);
        offers
    }

    /// Drops the offers held past their hold time at `now`; returns them (to decline).
    pub fn expire(&mut self, now: Duration) -> Vec<Offer> {
        let expired = self.pool.expire(now);
        for offer in &expired {
            self.reload(&offer.agent_id, now);
        }
        expired
    }

    /// Drops every offer held, live or expired (to decline them all, or because the master
    /// rescinded them with a lost connection); returns them by agent, then as they came.
    pub fn clear_offers(&mut self, now: Duration) -> Vec<Offer> {
        let mut offers = self.expire(now);
        let agents: Vec<AgentId> = self.pool.agents_at(now).map(|a| a.id().clone()).collect();
        for agent in &agents {
            offers.extend(self.remove_agent(agent, now));
        }
        offers
    }

    /// The tasks counted as running, in no particular order.
    pub fn running(&self) -> impl Iterator<Item = &RunningTask> {
        self.running.values()
    }

    /// A task counted as running.
    pub fn running_task(&self, id: &TaskId) -> Option<&RunningTask> {
        self.running.get(id)
    }

    /// The tasks counted as running on an agent.
    pub fn tasks_on(&self, agent: &AgentId) -> &[TaskId] {
        self.on_agent.get(agent).map_or(&[], Vec::as_slice)
    }

    /// As [`Scheduler::task_running`], counting what the task holds towards its queue bucket
    /// (in tier `place.tier`) in queued passes, as if a queued pass had placed it.
    pub fn task_running_in(&mut self, task: RunningTask, place: QueuePlace) -> Result<(), PlanError> {
        let (id, held) = (task.id.clone(), task.resources.clone());
        self.task_running(task)?;
        queued::charge(&mut self.usage, &place, &held, true);
        if let Some(kept) = &mut self.kept {
            kept.started(&place, &held);
        }
        self.places.insert(id, place);
        Ok(())
    }

    /// The queue place a running task counts towards, if any.
    pub fn place_of(&self, id: &TaskId) -> Option<&QueuePlace> {
        self.places.get(id)
    }

    /// Counts a task that runs (one this scheduler did not place, e.g. found by reconciliation).
    pub fn task_running(&mut self, task: RunningTask) -> Result<(), PlanError> {
        if self.running.contains_key(&task.id) {
            return Err(PlanError::DuplicateTask(task.id));
        }
        if task.claims_agent {
            self.claims.insert(task.agent_id.clone(), task.group.clone());
        }
        self.parking.task_changed();
        // An attribute no offer or running task had when the state was compiled has no column
        // there: the task would go uncounted on it.
        let new_key = |(_, attrs): &(_, crate::model::Attributes)| {
            attrs.iter().any(|(k, _)| self.state.as_ref().is_some_and(|s| s.keys().get(k).is_none()))
        };
        if task.host.as_ref().is_some_and(new_key) {
            self.state = None;
        }
        if let Some(state) = &mut self.state {
            queued::add_outside(&mut self.outside, state, std::iter::once(&task), true);
            state.tables_mut().add_running(std::slice::from_ref(&task));
            if let Some(agent) = state.agent(&task.agent_id) {
                self.log.push(agent);
            }
        }
        self.insert_running(task);
        Ok(())
    }

    fn insert_running(&mut self, task: RunningTask) {
        if let Some(table) = &mut self.preempt_table {
            table.insert(Box::new(task.clone()));
        }
        self.on_agent.entry(task.agent_id.clone()).or_default().push(task.id.clone());
        self.running.insert(task.id.clone(), task);
    }

    /// Forgets a task that finished, failed or was lost; false if it was not running.
    pub fn task_ended(&mut self, id: &TaskId) -> bool {
        let Some(task) = self.running.remove(id) else {
            return false;
        };
        self.parking.task_changed();
        if let Some(table) = &mut self.preempt_table {
            table.remove(&task);
        }
        if let Some(place) = self.places.remove(id) {
            queued::charge(&mut self.usage, &place, &task.resources, false);
            if let Some(kept) = &mut self.kept {
                kept.ended(&place, &task.resources);
            }
        }
        let left: &[TaskId] = match self.on_agent.get_mut(&task.agent_id) {
            Some(ids) => {
                ids.retain(|t| t != id);
                ids
            }
            None => &[],
        };
        if let Some(state) = &mut self.state {
            queued::add_outside(&mut self.outside, state, std::iter::once(&task), false);
            state.tables_mut().remove_running(&task);
            if let Some(agent) = state.agent(&task.agent_id) {
                let groups: Vec<GroupIx> = left
                    .iter()
                    .filter_map(|t| self.running.get(t))
                    .map(|t| state.tables_mut().group(&t.group))
                    .collect();
                state.tables_mut().regroup(agent, groups);
                self.log.push(agent);
            }
        }
        // A claim ends with the claiming group's last task there (as `regroup` ends it).
        let stays = |owner: &GroupId| left.iter().any(|t| self.running.get(t).is_some_and(|t| t.group == *owner));
        if self.claims.get(&task.agent_id).is_some_and(|owner| !stays(owner)) {
            self.claims.remove(&task.agent_id);
        }
        if left.is_empty() {
            self.on_agent.remove(&task.agent_id);
        }
        true
    }

    /// Plans one pass at `now` and applies it: expired offers go, offers launched on or declined
    /// leave the pool, and placed tasks count as running until [`Scheduler::task_ended`].
    pub fn schedule(&mut self, pending: &[TaskSpec], now: Duration) -> Result<Plan, PlanError> {
        self.schedule_in(pending, None, None, now)
    }

    /// As [`Scheduler::schedule`] or, with `queue` (places and configuration),
    /// [`Scheduler::schedule_queued`], then preemption for the tasks left unplaced (see
    /// [`preempt`](super::preempt)). A task placed by preemption is in [`Plan::preemptions`]
    /// and does not count as running: give it again once its victims ended. Offers of agents
    /// chosen for a preemption stay held.
    pub fn schedule_preempting(
        &mut self,
        pending: &[TaskSpec],
        queue: Option<(&[QueuePlace], &QueueConfig)>,
        preemption: PreemptionInput<'_>,
        now: Duration,
    ) -> Result<Plan, PlanError> {
        self.schedule_in(pending, queue, Some(preemption), now)
    }

    /// As [`Scheduler::schedule`], in queue order (see [`Engine::plan_queued`]): `places` gives
    /// each pending task's tier and bucket, index for index. The queue is kept from pass to pass
    /// (a new `config` starts a new one), so a task given again keeps its place and its priority
    /// ages with the passes it waited. What the tasks placed this way hold counts towards their
    /// bucket until they end; tasks running otherwise count towards none.
    pub fn schedule_queued(
        &mut self,
        pending: &[TaskSpec],
        places: &[QueuePlace],
        config: &QueueConfig,
        now: Duration,
    ) -> Result<Plan, PlanError> {
        self.schedule_in(pending, Some((places, config)), None, now)
    }

    fn schedule_in(
        &mut self,
        pending: &[TaskSpec],
        queue: Option<(&[QueuePlace], &QueueConfig)>,
        preemption: Option<PreemptionInput<'_>>,
        now: Duration,
    ) -> Result<Plan, PlanError> {
        self.check_ids(pending)?;
        // Checked before anything changes, so an error loses no expired offer.
        if let Some((places, config)) = queue {
            if places.len() != pending.len() {
                return Err(PlanError::QueuePlaces { tasks: pending.len(), places: places.len() });
            }
            config.validate().map_err(PlanError::Queue)?;
        }
        let expired = self.expire(now);
        if pending.iter().any(|t| t.resources.is_empty() && t.ports.total() == 0) && self.keeps_offerless_agents() {
            // Such a task would fit an agent without offers: compile only agents with offers.
            self.state = None;
        }
        // Every group a pass uses is among the running and the pending tasks'.
        if self.state.as_ref().is_some_and(|s| s.tables.is_mostly_dead(self.running.len() + pending.len())) {
            self.state = None;
        }
        if self.state.is_none() {
            self.rebuild(now);
        }
        let Some(state) = self.state.as_mut() else {
            return Ok(Plan::default());
        };
        let run = match queue {
            Some((places, config)) => {
                if !self.kept.as_ref().is_some_and(|k| k.has_config(config)) {
                    self.kept = Some(KeptQueue::new(config, &self.usage)?);
                }
                let kept = self.kept.as_mut().expect("made above");
                kept.sync(pending, places);
                let mut total = queued::state_total(state);
                for (name, q) in self.outside.as_slice() {
                    total.add(name, *q);
                }
                let (queue, index) = kept.begin_pass(&total);
                Some(QueueRun { queue, index: Some(index) })
            }
            None => None,
        };
        let split = if run.is_some() || !self.parks {
            self.parking.clear();
            None
        } else {
            Some(self.parking.split(pending))
        };
        let to_place = split.as_ref().and_then(|s| s.to_place.as_deref()).unwrap_or(pending);
        let mut rounds = Rounds::new(to_place);
        let mut recompile = false;
        let arranged: std::borrow::Cow<'_, [TaskSpec]>;
        let (mut plan, mut used, to_place) = match rounds.as_mut() {
            // A queued pass keeps what it placed in its queue, so it runs once (see `gang`).
            Some(rounds) if run.is_some() => {
                let (mut plan, mut used) =
                    place(&self.engine, state, to_place, Some(&mut self.cache), run, &mut self.log);
                if rounds.drop_partial(&mut plan) {
                    used = launched_agents(state, &plan);
                    recompile = true;
                }
                (plan, used, to_place)
            }
            Some(rounds) => loop {
                let (tasks, _) = rounds.tasks();
                let (plan, used) = place(&self.engine, state, &tasks, Some(&mut self.cache), None, &mut self.log);
                if rounds.settled(&plan) {
                    arranged = tasks;
                    break (plan, used, &arranged[..]);
                }
                // The round committed a partial gang: compile the state afresh and run again.
                *state = compile_state(&self.pool, &self.running, &self.claims, &mut self.outside, now);
                self.cache.clear();
                self.log.clear();
            },
            None => {
                let (plan, used) = place(&self.engine, state, to_place, Some(&mut self.cache), run, &mut self.log);
                (plan, used, to_place)
            }
        };
        // Agents without offers were not considered (explanations skip them too).
        let considered = state.identities().iter().filter(|a| !a.offer_ids.is_empty()).count() as u32;
        plan.stats.agents_considered = considered;
        plan.unplaced.iter_mut().for_each(|u| u.agents_considered = considered);
        if let Some(rounds) = rounds {
            rounds.finish(&mut plan);
        }
        for launch in &plan.launches {
            let owner = state.agent(&launch.agent_id).and_then(|a| state.slot(a).owner());
            if owner.is_some() {
                self.claims.insert(launch.agent_id.clone(), launch.group.clone());
            }
        }
        if let Some(input) = preemption {
            let places = queue.map(|(places, _)| places);
            let step = preempt::Step { pending, places, input, now };
            let running = &self.running;
            let table = match &mut self.preempt_table {
                Some(table) if !table.is_mostly_dead() => table,
                kept => kept.insert(RunningTable::build(running.values().cloned().map(Box::new))),
            };
            if offerless::needed(&plan, pending) {
                let outside = &mut self.outside;
                let moving = |state: &PassState, task: &RunningTask| {
                    queued::add_outside(outside, state, std::iter::once(task), false);
                };
                if offerless::compile(state, table, moving) > 0 {
                    // The cached indexes do not know the new agents.
                    self.cache.clear();
                    self.log.clear();
                }
            }
            preempt::run(state, table, |id| running.get(id).map(|t| &t.agent_id), step, &mut plan);
            keep_preempted_agents(state, &plan, &mut used);
        }
        if self.engine.config().decline_unused {
            decline_unused(state, &used, &mut plan);
        }
        plan.expired = expired.into_iter().map(|o| o.id).collect();
        if let Some(split) = &split {
            self.parking.park(to_place, &plan);
            plan.stats.tasks_parked = split.skipped.len() as u32;
            plan.stats.tasks_unplaced += split.skipped.len() as u32;
            plan.unplaced.extend(split.skipped.iter().cloned());
        }
        self.settle(&plan, pending, queue.map(|(places, _)| places), now);
        if recompile {
            // The state committed the placements of the partial gangs dropped from the plan.
            self.state = None;
        }
        if let Some((places, _)) = queue {
            self.remember_places(pending, places, &plan);
        }
        self.trim_log();
        Ok(plan)
    }

    /// Records the queue place of every task the queued pass launched, and what it holds.
    fn remember_places(&mut self, pending: &[TaskSpec], places: &[QueuePlace], plan: &Plan) {
        let index: FxHashMap<&TaskId, usize> = pending.iter().enumerate().map(|(i, t)| (&t.id, i)).collect();
        for launch in &plan.launches {
            let Some(place) = index.get(&launch.task_id).and_then(|&i| places.get(i)) else {
                continue;
            };
            let held: Vec<(std::sync::Arc<str>, crate::Quantity)> =
                launch.resources.iter().map(|a| (a.name.clone(), a.amount)).collect();
            queued::charge(&mut self.usage, place, &held, true);
            self.places.insert(launch.task_id.clone(), place.clone());
            if let Some(kept) = &mut self.kept {
                kept.launched(&launch.task_id);
            }
        }
    }

    /// Whether the state holds agents whose offers are all gone: they stay compiled, with nothing
    /// free, until the next rebuild.
    fn keeps_offerless_agents(&self) -> bool {
        self.state.as_ref().is_some_and(|s| s.identities().iter().any(|a| a.offer_ids.is_empty()))
    }

    /// Applies a plan: consumed offers leave, launched tasks become running tasks.
    fn settle(&mut self, plan: &Plan, pending: &[TaskSpec], places: Option<&[QueuePlace]>, now: Duration) {
        let position: FxHashMap<&TaskId, usize> = match plan.launches.is_empty() {
            true => FxHashMap::default(),
            false => pending.iter().enumerate().map(|(i, t)| (&t.id, i)).collect(),
        };
        let standing = |id: &TaskId| {
            let t = position.get(id).copied();
            let priority = t.map_or(0, |t| pending[t].priority);
            let tier = t.and_then(|t| places.and_then(|p| p.get(t))).map_or(0, |p| p.tier);
            (priority, tier)
        };
        let mut touched: FxHashSet<AgentId> = FxHashSet::default();
        let mut started: Vec<RunningTask> = Vec::with_capacity(plan.launches.len());
        if let Some(state) = &mut self.state {
            for launch in &plan.launches {
                let Some(agent) = state.agent(&launch.agent_id) else {
                    continue;
                };
                let mut held: Vec<(std::sync::Arc<str>, crate::Quantity)> = Vec::new();
                for a in launch.resources.iter() {
                    if let Some(d) = state.dims().get_shared(&a.name) {
                        state.tables_mut().hold(agent, d, a.amount.milli());
                    }
                    match held.iter_mut().find(|(n, _)| *n == a.name) {
                        Some((_, q)) => *q += a.amount,
                        None => held.push((a.name.clone(), a.amount)),
                    }
                }
                // Host details keep the task counted on its host's attributes if the agent
                // leaves the state in a rebuild (an agent without offers is not compiled).
                let attributes =
                    launch.offer_ids.first().and_then(|id| self.pool.get(id)).map(|o| o.attributes.clone());
                let task = RunningTask {
                    id: launch.task_id.clone(),
                    group: launch.group.clone(),
                    agent_id: launch.agent_id.clone(),
                    resources: held,
                    host: Some((launch.hostname.clone(), attributes.unwrap_or_default())),
                    claims_agent: self.claims.get(&launch.agent_id) == Some(&launch.group),
                    executor: launch.executor_id.clone(),
                    priority: standing(&launch.task_id).0,
                    tier: standing(&launch.task_id).1,
                    started: now,
                };
                started.push(task);
            }
        }
        for task in started {
            self.insert_running(task);
        }
        for id in plan.launches.iter().flat_map(|l| l.offer_ids.iter()).chain(&plan.declined) {
            if let Some(offer) = self.pool.remove(id) {
                touched.insert(offer.agent_id);
            }
        }
        let mut touched: Vec<AgentId> = touched.into_iter().collect();
        touched.sort();
        for agent in &touched {
            self.reload(agent, now);
        }
    }

    /// Brings the compiled state of `agent` in line with its live offers; an agent or resource
    /// the state does not know yet means a rebuild before the next pass.
    fn reload(&mut self, agent: &AgentId, now: Duration) {
        let Some(state) = &mut self.state else {
            return;
        };
        let offers = self.pool.offers_of(agent, now);
        match state.agent(agent) {
            // An agent compiled from its tasks' hosts (see `offerless`) takes its offers' view.
            Some(idx) if state.compiled_from_hosts(idx) && !offers.is_empty() => self.state = None,
            Some(idx) if state.knows(&offers) => {
                state.reload_agent(idx, &offers);
                self.log.push(idx);
            }
            Some(_) => self.state = None,
            None if offers.is_empty() => {}
            None => self.state = None,
        }
    }

    /// Compiles the state from the pool and the running tasks; cached indexes go.
    fn rebuild(&mut self, now: Duration) {
        self.state = Some(compile_state(&self.pool, &self.running, &self.claims, &mut self.outside, now));
        self.cache.clear();
        self.log.clear();
    }

    /// Groups the compiled state has interned, those of ended tasks included until the state
    /// is compacted (rebuilt) once they make up most of it; 0 before the first pass.
    pub fn compiled_groups(&self) -> usize {
        self.state.as_ref().map_or(0, |s| s.tables.interned_groups())
    }

    /// Drops the part of the log every cached index has seen; past a bound, drops the indexes.
    fn trim_log(&mut self) {
        let agents = self.state.as_ref().map_or(0, |s| s.n_agents());
        if self.log.len() <= 2 * agents + 1024 {
            return;
        }
        match self.cache.synced_from() {
            Some(seen) if seen > 0 => {
                self.log.drain(..seen);
                self.cache.forget_log(seen);
            }
            None => self.log.clear(),
            Some(_) => {}
        }
        if self.log.len() > 2 * agents + 1024 {
            self.cache.clear();
            self.log.clear();
        }
    }

    /// Pending ids must be unique and not running.
    fn check_ids(&self, pending: &[TaskSpec]) -> Result<(), PlanError> {
        let mut seen: FxHashSet<&TaskId> = FxHashSet::default();
        for task in pending {
            if self.running.contains_key(&task.id) || !seen.insert(&task.id) {
                return Err(PlanError::DuplicateTask(task.id.clone()));
            }
        }
        Ok(())
    }
}

/// The state compiled from `pool` and `running` with the agents `claims` names claimed; sets
/// `outside` to what running tasks hold on agents the state does not have.
fn compile_state(
    pool: &OfferPool,
    running: &FxHashMap<TaskId, RunningTask>,
    claims: &FxHashMap<AgentId, GroupId>,
    outside: &mut ResourceAmounts,
    now: Duration,
) -> PassState {
    let mut running: Vec<RunningTask> = running.values().cloned().collect();
    running.sort_by(|a, b| a.id.cmp(&b.id));
    let mut state = PassState::build(pool, now, &running);
    *outside = ResourceAmounts::new();
    queued::add_outside(outside, &state, running.iter(), true);
    for (agent, group) in claims {
        if let Some(a) = state.agent(agent) {
            let group = state.tables_mut().group(group);
            state.tables_mut().claim(a, group);
        }
    }
    state
}

/// The distinct agents `plan` launches on, ascending.
fn launched_agents(state: &PassState, plan: &Plan) -> Vec<AgentIx> {
    let mut agents: Vec<AgentIx> = plan.launches.iter().filter_map(|l| state.agent(&l.agent_id)).collect();
    agents.sort_unstable();
    agents.dedup();
    agents
}
