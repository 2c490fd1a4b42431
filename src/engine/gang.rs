//! Gangs: tasks that name the same [`TaskSpec::gang`] are placed all together in one pass, or
//! none of them is.
//!
//! # Design
//!
//! A gang is not a new kind of placement: its members go through the stages every task goes
//! through (resource fit, hard constraints, fitness and soft constraints), one task at a time,
//! so whatever holds for a task holds for each member. What a gang adds is a rule on the
//! outcome, applied around the pass:
//!
//! - **Order.** A gang is placed as a unit at the priority of its highest member: every member
//!   is given that priority, and the members are handed to the pass one after the other from
//!   where the first of them was given (within that priority the pass then orders them as any
//!   tasks: constrained ones first, the rest by filling agents). Other tasks keep their
//!   priority and their order.
//! - **All or nothing.** A pass runs; a gang the pass placed only in part is given up, and the
//!   pass runs again without it, from the same state (a pure pass rebuilds its state, so a
//!   re-run is the rollback: no free resources, ports, counters or indexes to restore by hand).
//!   A re-run can leave another gang partial (greedy placement is not monotone): that one is
//!   given up too, until a pass places every gang it was given whole. Each round gives up at
//!   least one gang, so a pass with `g` gangs runs at most `g + 1` times; a pass without gangs
//!   runs once and makes the plan it made before gangs existed.
//! - **Reasons.** Every member of a gang left out is unplaced with
//!   [`Reason::GangIncomplete`] `{ placed, needed }` (`placed`: members the round that gave it
//!   up could place), counted against every agent, after the reasons that member had of its
//!   own in that round, if it was unplaced there. A gang no member of which fit is unplaced the
//!   same way (`placed: 0`) without a re-run: it took nothing.
//! - **No offer held.** Only the last round's plan counts, and it has no partial gang, so the
//!   offers of agents only a given-up gang used are declined as unused like any other.
//!
//! A [`Scheduler`](crate::Scheduler) keeps its compiled state between passes, so there a
//! round that left a gang partial recompiles the state from its offers and running tasks before
//! the next round (what a scheduler does after a new agent appears); a queued scheduler pass,
//! whose queue keeps what a pass placed, runs once and drops the partial gangs' placements from
//! its plan instead (the rest of the pass stands, and the state is recompiled before the next
//! pass). Determinism holds: rounds follow from the input alone.
//!
//! **Declared size.** Without [`TaskSpec::gang_size`], a gang is the members a pass is given,
//! so a gang submitted in two parts, with a pass between them, is two gangs. With it, a gang is
//! placed only when the pass is given exactly `size` members all declaring that size: a gang
//! with members missing, with more members than its size, or whose members disagree on the
//! size is handed to no round, and each member it has is unplaced with
//! [`Reason::GangIncomplete`] `{ placed: 0, needed: size }` (the largest size declared). A
//! queued pass, which runs once over every task, drops such a gang's launches like a partial
//! gang's.
//!
//! Gangs state nothing about agents: members may land on one agent or on many. The
//! [`session`](crate::session) launches a gang whose members all landed on one agent as one
//! Mesos `LAUNCH_GROUP`, and the members of a gang spread over agents with a `LAUNCH` per task
//! in each agent's ACCEPT (Mesos has no operation spanning agents); either way the pass placed
//! all of them, or none.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::model::TaskId;
use crate::plan::{Plan, Reason, ReasonCount, Unplaced};
use crate::spec::TaskSpec;

/// No gang.
const NONE: u32 = u32::MAX;

/// The gangs of a pass's pending tasks.
#[derive(Debug)]
pub(crate) struct Gangs {
    /// Per pending task, its gang (`NONE` for none).
    of: Vec<u32>,
    /// Per gang, its members in the order they were given.
    members: Vec<Vec<usize>>,
    /// Per gang, the highest priority of a member.
    priority: Vec<i32>,
    /// Per gang, its declared size (the largest one declared), if any member declares one.
    size: Vec<Option<u32>>,
    /// Per gang, whether its members disagree on its size (some declaring none counts).
    mismatch: Vec<bool>,
}

/// Why a gang was given up: members placed in the round that gave it up, and the reasons of
/// its members that round left unplaced, by pending index.
#[derive(Debug, Default)]
struct GivenUp {
    placed: u32,
    own: FxHashMap<usize, Arc<[ReasonCount]>>,
}

impl Gangs {
    /// The gangs of `pending`; `None` when no task names one.
    pub fn of(pending: &[TaskSpec]) -> Option<Gangs> {
        if pending.iter().all(|t| t.gang.is_none()) {
            return None;
        }
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut gangs = Gangs {
            of: Vec::with_capacity(pending.len()),
            members: Vec::new(),
            priority: Vec::new(),
            size: Vec::new(),
            mismatch: Vec::new(),
        };
        for (t, task) in pending.iter().enumerate() {
            let Some(name) = task.gang.as_deref() else {
                gangs.of.push(NONE);
                continue;
            };
            let next = ids.len() as u32;
            let g = *ids.entry(name).or_insert(next);
            if g == next {
                gangs.members.push(Vec::new());
                gangs.priority.push(task.priority);
                gangs.size.push(task.gang_size);
                gangs.mismatch.push(false);
            }
            let gi = g as usize;
            gangs.mismatch[gi] |= gangs.size[gi] != task.gang_size;
            gangs.size[gi] = gangs.size[gi].max(task.gang_size);
            gangs.members[gi].push(t);
            gangs.priority[g as usize] = gangs.priority[g as usize].max(task.priority);
            gangs.of.push(g);
        }
        Some(gangs)
    }

    /// Number of gangs.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Members gang `g` needs to be whole: its declared size, else the members given.
    fn needed(&self, g: usize) -> u32 {
        self.size[g].unwrap_or(self.members[g].len() as u32)
    }

    /// Whether gang `g` cannot be placed in this pass whatever the agents: its members
    /// disagree on its size, or are not exactly as many as the size declared.
    fn unplaceable(&self, g: usize) -> bool {
        self.mismatch[g] || self.size[g].is_some_and(|size| size as usize != self.members[g].len())
    }

    /// Whether arranging `pending` changes nothing: every gang's members were given one after
    /// the other, all at the gang's priority.
    fn arranged_already(&self, pending: &[TaskSpec]) -> bool {
        self.members.iter().zip(&self.priority).all(|(members, &top)| {
            members.windows(2).all(|w| w[1] == w[0] + 1) && members.iter().all(|&t| pending[t].priority == top)
        })
    }

    /// The tasks of one round, with each one's index in `pending`: the gangs not given up,
    /// their members together where the first was given and at the gang's priority.
    fn arrange(&self, pending: &[TaskSpec], out: &[bool]) -> (Vec<TaskSpec>, Vec<usize>) {
        let mut tasks = Vec::with_capacity(pending.len());
        let mut index = Vec::with_capacity(pending.len());
        for (t, task) in pending.iter().enumerate() {
            let g = self.of[t];
            if g == NONE {
                tasks.push(task.clone());
                index.push(t);
                continue;
            }
            let g = g as usize;
            if out[g] || self.members[g][0] != t {
                continue;
            }
            for &m in &self.members[g] {
                let mut member = pending[m].clone();
                member.priority = self.priority[g];
                tasks.push(member);
                index.push(m);
            }
        }
        (tasks, index)
    }

    /// Members placed per gang by `plan`.
    fn placed(&self, pending: &[TaskSpec], plan: &Plan) -> Vec<u32> {
        let by_id = self.member_ids(pending);
        let mut placed = vec![0u32; self.len()];
        for launch in &plan.launches {
            if let Some(&t) = by_id.get(&launch.task_id) {
                placed[self.of[t] as usize] += 1;
            }
        }
        placed
    }

    /// Every gang member's pending index, by task id.
    fn member_ids<'a>(&self, pending: &'a [TaskSpec]) -> FxHashMap<&'a TaskId, usize> {
        self.members.iter().flatten().map(|&t| (&pending[t].id, t)).collect()
    }

    /// Gangs `plan` placed in part (some members but not all), or placed at all while
    /// [`unplaceable`](Self::unplaceable).
    pub fn partial(&self, pending: &[TaskSpec], plan: &Plan) -> Vec<usize> {
        let placed = self.placed(pending, plan);
        let broken = |g: usize| (placed[g] as usize) < self.members[g].len() || self.unplaceable(g);
        (0..self.len()).filter(|&g| placed[g] > 0 && broken(g)).collect()
    }
}

/// Rounds of a pass with gangs: what to place next, what was given up and why.
#[derive(Debug)]
pub(crate) struct Rounds<'a> {
    pending: &'a [TaskSpec],
    gangs: Gangs,
    out: Vec<bool>,
    given_up: Vec<Option<GivenUp>>,
}

impl<'a> Rounds<'a> {
    /// Rounds over `pending`, or `None` when no task names a gang (one plain pass does).
    pub fn new(pending: &'a [TaskSpec]) -> Option<Rounds<'a>> {
        let gangs = Gangs::of(pending)?;
        let n = gangs.len();
        let mut out = vec![false; n];
        let mut given_up: Vec<Option<GivenUp>> = (0..n).map(|_| None).collect();
        for g in (0..n).filter(|&g| gangs.unplaceable(g)) {
            out[g] = true;
            given_up[g] = Some(GivenUp::default());
        }
        Some(Rounds { pending, gangs, out, given_up })
    }

    /// The tasks of the next round, and each one's index in the pending tasks (`None`: the
    /// pending tasks as given, which need no arranging when no gang was given up and each
    /// gang's members were given together at one priority, as usual).
    pub fn tasks(&self) -> (Cow<'a, [TaskSpec]>, Option<Vec<usize>>) {
        if !self.out.contains(&true) && self.gangs.arranged_already(self.pending) {
            return (Cow::Borrowed(self.pending), None);
        }
        let (tasks, index) = self.gangs.arrange(self.pending, &self.out);
        (Cow::Owned(tasks), Some(index))
    }

    /// Looks at the plan of a round: true when it left no gang partial (it is the pass's plan,
    /// to [`finish`](Self::finish)); otherwise gives up the partial gangs for the next round.
    pub fn settled(&mut self, plan: &Plan) -> bool {
        let partial = self.gangs.partial(self.pending, plan);
        if partial.is_empty() {
            return true;
        }
        self.give_up(&partial, plan);
        false
    }

    /// Gives up `gangs`, partial in `plan`: remembers what the round placed of each, and the
    /// reasons of their members it left unplaced.
    fn give_up(&mut self, gangs: &[usize], plan: &Plan) {
        let placed = self.gangs.placed(self.pending, plan);
        let ids = self.gangs.member_ids(self.pending);
        let mut own: Vec<FxHashMap<usize, Arc<[ReasonCount]>>> = gangs.iter().map(|_| FxHashMap::default()).collect();
        for u in &plan.unplaced {
            if let Some(&t) = ids.get(&u.task_id) {
                if let Some(k) = gangs.iter().position(|&g| g == self.gangs.of[t] as usize) {
                    own[k].insert(t, u.reasons.clone());
                }
            }
        }
        for (&g, own) in gangs.iter().zip(own) {
            self.out[g] = true;
            if !self.gangs.unplaceable(g) {
                self.given_up[g] = Some(GivenUp { placed: placed[g], own });
            }
        }
    }

    /// Drops from `plan` (a queued scheduler pass, which cannot run again) the launches of
    /// the gangs it left partial, and gives those gangs up; true when it dropped any.
    pub fn drop_partial(&mut self, plan: &mut Plan) -> bool {
        let partial = self.gangs.partial(self.pending, plan);
        if partial.is_empty() {
            return false;
        }
        self.give_up(&partial, plan);
        let ids = self.gangs.member_ids(self.pending);
        let gone = |id: &TaskId| ids.get(id).is_some_and(|&t| partial.contains(&(self.gangs.of[t] as usize)));
        plan.launches.retain(|l| !gone(&l.task_id));
        let listed = plan.unplaced.len();
        plan.unplaced.retain(|u| !gone(&u.task_id));
        plan.stats.tasks_placed = plan.launches.len() as u32;
        plan.stats.tasks_unplaced = plan.stats.tasks_unplaced.saturating_sub((listed - plan.unplaced.len()) as u32);
        true
    }

    /// Completes the pass's plan: members of gangs left whole but unplaced (none of them fit)
    /// get [`Reason::GangIncomplete`] first, and every member of a given-up gang is unplaced
    /// with it, after its own reasons of the round that gave the gang up.
    pub fn finish(mut self, plan: &mut Plan) {
        let agents = plan.stats.agents_considered;
        let incomplete =
            |placed: u32, needed: u32| ReasonCount { reason: Reason::GangIncomplete { placed, needed }, agents };
        let ids = self.gangs.member_ids(self.pending);
        // A given-up gang's member the plan lists (a queued pass ran it unplaceable) is listed
        // again below, with its own reasons after the gang's.
        let mut listed = 0u32;
        plan.unplaced.retain(|u| {
            let Some(&t) = ids.get(&u.task_id) else { return true };
            let Some(given_up) = self.given_up[self.gangs.of[t] as usize].as_mut() else { return true };
            given_up.own.entry(t).or_insert_with(|| u.reasons.clone());
            listed += 1;
            false
        });
        for u in &mut plan.unplaced {
            if let Some(&t) = ids.get(&u.task_id) {
                let g = self.gangs.of[t] as usize;
                let mut reasons = vec![incomplete(0, self.gangs.needed(g))];
                reasons.extend(u.reasons.iter().cloned());
                u.reasons = Arc::from(reasons);
            }
        }
        let mut added = 0u32;
        for (t, &g) in self.gangs.of.iter().enumerate() {
            let Some(given_up) = self.given_up.get(g as usize).and_then(Option::as_ref) else { continue };
            let mut reasons = vec![incomplete(given_up.placed, self.gangs.needed(g as usize))];
            if let Some(own) = given_up.own.get(&t) {
                reasons.extend(own.iter().cloned());
            }
            plan.unplaced.push(Unplaced {
                task_id: self.pending[t].id.clone(),
                reasons: Arc::from(reasons),
                agents_considered: agents,
                parked: false,
            });
            added += 1;
        }
        plan.stats.tasks_unplaced = (plan.stats.tasks_unplaced + added).saturating_sub(listed);
    }
}

/// A pure pass (see [`Engine::plan`](super::Engine::plan)) with gangs placed whole: rounds of
/// [`pass::run`](super::pass::run) until one leaves no gang partial.
pub(crate) fn run(
    engine: &super::Engine,
    pool: &crate::pool::OfferPool,
    pending: &[TaskSpec],
    running: &[crate::model::RunningTask],
    queue: Option<super::QueueInput<'_>>,
    now: std::time::Duration,
) -> Result<Plan, super::PlanError> {
    let Some(mut rounds) = Rounds::new(pending) else {
        return super::pass::run(engine, pool, pending, running, queue, now);
    };
    if let Some(q) = &queue {
        if q.pending.len() != pending.len() {
            return Err(super::PlanError::QueuePlaces { tasks: pending.len(), places: q.pending.len() });
        }
    }
    loop {
        let (tasks, index) = rounds.tasks();
        let places: Option<Vec<crate::queue::QueuePlace>> =
            queue.zip(index.as_ref()).map(|(q, index)| index.iter().map(|&t| q.pending[t].clone()).collect());
        let round_queue = match places.as_deref() {
            Some(places) => queue.map(|q| super::QueueInput { pending: places, ..q }),
            None => queue,
        };
        let mut plan = super::pass::run(engine, pool, &tasks, running, round_queue, now)?;
        if rounds.settled(&plan) {
            rounds.finish(&mut plan);
            return Ok(plan);
        }
    }
}
