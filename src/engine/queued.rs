//! Passes in queue order: tiers strictly, weighted DRF between the buckets of a tier, a bucket's
//! limit, the guarantees of others and its tier's capacity checked before any agent is asked.
//!
//! The pass builds a [`Queue`] over its pending tasks, with what each bucket's running tasks
//! hold, and places one task at a time in the order the queue hands them out, re-evaluating the
//! shares after every placement (progressive filling). A task the queue holds back is unplaced
//! with a [`Reason::Queue`](crate::plan::Reason::Queue); a task no agent takes does not hold
//! back those behind it. Every task goes one by one (no filling of agents by shapes): the order
//! is the queue's.
//!
//! [`Engine::plan_queued`](super::Engine::plan_queued) builds a queue for its one pass; a
//! [`Scheduler`](super::Scheduler) keeps one from pass to pass (`kept_queue`), so waiting
//! tasks age, and a bucket's head that found no agent for `starving_after` passes in a row gets
//! an agent reserved for the pass (see [`reserve`]).

use std::sync::Arc;

use super::class::TaskClass;
use super::state::PassState;
use super::PlanError;
use crate::model::RunningTask;
use crate::queue::{
    BucketStats, EntryId, Queue, QueueConfig, QueuePlace, QueueReason, QueuedTask, ResourceAmounts, UnplacedCause,
};
use crate::resources::Quantity;
use crate::spec::TaskSpec;
use crate::tables::AgentIx;

/// A pass's queue: its configuration and every task's place in it.
#[derive(Clone, Copy, Debug)]
pub struct QueueInput<'a> {
    /// Tiers and buckets.
    pub config: &'a QueueConfig,
    /// The place of each pending task, index for index.
    pub pending: &'a [QueuePlace],
    /// What running tasks hold per place (tasks running outside any bucket are left out).
    pub running: &'a [(QueuePlace, ResourceAmounts)],
}

/// Sums what running tasks hold per place.
///
/// ```
/// use std::sync::Arc;
/// use offerpack::queue::QueuePlace;
/// use offerpack::{running_usage, Quantity};
/// let batch = QueuePlace { tier: 0, bucket: Arc::from("batch") };
/// let cpus = |n: u64| vec![(Arc::<str>::from("cpus"), Quantity::from_milli(n * 1000))];
/// let usage = running_usage([(&batch, &cpus(1)[..]), (&batch, &cpus(2)[..])]);
/// assert_eq!(usage[0].1.amount("cpus").milli(), 3000);
/// ```
pub fn running_usage<'a>(
    tasks: impl IntoIterator<Item = (&'a QueuePlace, &'a [(Arc<str>, Quantity)])>,
) -> Vec<(QueuePlace, ResourceAmounts)> {
    let mut out: Vec<(QueuePlace, ResourceAmounts)> = Vec::new();
    for (place, resources) in tasks {
        charge(&mut out, place, resources, true);
    }
    out
}

/// Adds (or takes back) what a task of `place` holds to that place's usage in `usage`.
pub(crate) fn charge(
    usage: &mut Vec<(QueuePlace, ResourceAmounts)>,
    place: &QueuePlace,
    held: &[(Arc<str>, Quantity)],
    add: bool,
) {
    match usage.iter_mut().find(|(p, _)| p == place) {
        Some((_, amounts)) => amounts.change(held, add),
        None => {
            let mut amounts = ResourceAmounts::new();
            amounts.change(held, add);
            usage.push((place.clone(), amounts));
        }
    }
}

/// The queue of one pass over `pending`, its shares against the cluster: the agents of `state`
/// (what they offer plus what running tasks hold on them) and what `running` tasks hold on
/// agents without offers (not in the state, yet part of the cluster the shares divide).
pub(crate) fn build_for_pass(
    input: &QueueInput<'_>,
    pending: &[TaskSpec],
    state: &PassState,
    running: &[RunningTask],
) -> Result<Queue, PlanError> {
    if input.pending.len() != pending.len() {
        return Err(PlanError::QueuePlaces { tasks: pending.len(), places: input.pending.len() });
    }
    let mut queue = Queue::new(input.config.clone()).map_err(PlanError::Queue)?;
    for (t, (task, place)) in pending.iter().zip(input.pending).enumerate() {
        let task = QueuedTask {
            task: t as u32,
            tier: place.tier,
            bucket: &place.bucket,
            priority: task.priority,
            ask: &task.resources,
        };
        queue.push(task);
    }
    for (place, usage) in input.running {
        queue.add_running(place.tier, &place.bucket, usage.as_slice());
    }
    let mut total = state_total(state);
    add_outside(&mut total, state, running.iter(), true);
    queue.begin_pass(0, &total);
    Ok(queue)
}

/// Adds (or takes back) what running tasks hold on agents `state` does not have.
pub(crate) fn add_outside<'a>(
    total: &mut ResourceAmounts,
    state: &PassState,
    running: impl Iterator<Item = &'a RunningTask>,
    add: bool,
) {
    for task in running.filter(|t| state.agent(&t.agent_id).is_none()) {
        total.change(&task.resources, add);
    }
}

/// Every agent's size in the state, per resource.
pub(crate) fn state_total(state: &PassState) -> ResourceAmounts {
    let mut sums = vec![0i64; state.n_dims()];
    for agent in state.agent_ixs() {
        for (sum, amount) in sums.iter_mut().zip(state.totals(agent)) {
            *sum += amount;
        }
    }
    let mut total = ResourceAmounts::new();
    for (name, sum) in state.dims().names().iter().zip(sums) {
        if sum > 0 {
            total.add(name, Quantity::from_milli(sum as u64));
        }
    }
    total
}

/// A queue serving one pass: its entries' task numbers are pending indexes, or slots that
/// `index` maps to pending indexes (a queue kept from pass to pass).
#[derive(Debug)]
pub(crate) struct QueueRun<'a> {
    pub queue: &'a mut Queue,
    pub index: Option<&'a [usize]>,
}

/// Places the queue's tasks in its order with `place` (true when an agent took the task);
/// returns the tasks no agent took and those the queue held back, with why.
pub(crate) fn place_in_order(
    run: &mut QueueRun<'_>,
    mut place: impl FnMut(usize) -> bool,
) -> (Vec<usize>, Vec<(usize, QueueReason)>) {
    let (mut unplaced, mut held_back) = (Vec::new(), Vec::new());
    let queue = &mut *run.queue;
    while let Some(id) = queue.next() {
        let Some(task) = task_of(queue, id) else {
            continue;
        };
        let t = run.index.and_then(|index| index.get(task).copied()).unwrap_or(task);
        // The queue handed the entry out just now, so reporting on it cannot fail.
        match queue.admit(id) {
            Err(reason) => {
                let _ = queue.unplaced(id, UnplacedCause::Queue(reason.clone()));
                held_back.push((t, reason));
            }
            Ok(()) if place(t) => drop(queue.placed(id)),
            Ok(()) => {
                let _ = queue.unplaced(id, UnplacedCause::NoFit);
                unplaced.push(t);
            }
        }
    }
    (unplaced, held_back)
}

/// An agent held for a starving task's group during one pass (nobody held it before), until
/// that task (by its index in the pass's pending tasks) is placed.
#[derive(Debug)]
pub(crate) struct Reservation(AgentIx, usize);

/// Reserves an agent for each starving head of the queue (see [`crate::queue`]) whose bucket
/// weighted DRF would serve next in its tier, for this pass: among agents big enough for the task (their size covers every ask) and held by nobody, the
/// one closest to having room for it (the largest least share of an ask it has free; ties to
/// the first agent), not already reserved. The agent is held for the task's group the way an
/// exclusive claim holds it, so no task of another group is placed there until the starving
/// task is placed (see [`release_placed`]) or the pass ends (the queue's contract lets
/// lower-numbered tiers use it; holding it from them too is simpler and errs towards the
/// starving task), and its running tasks drain it. The next pass chooses again.
/// A group with a task that claims agents exclusively gets no reservation: its own claims must
/// outlive the pass, and releasing the reservation would end them.
pub(crate) fn reserve(
    run: &QueueRun<'_>,
    state: &mut PassState,
    classes: &[TaskClass],
    class_of: &[u32],
) -> Vec<Reservation> {
    let mut held: Vec<Reservation> = Vec::new();
    for entry in run.queue.starving() {
        let Some(task) = task_of(run.queue, entry) else {
            continue;
        };
        let t = run.index.and_then(|index| index.get(task).copied()).unwrap_or(task);
        let Some(class) = class_of.get(t).map(|&c| &classes[c as usize]) else {
            continue;
        };
        if classes.iter().any(|c| c.group == class.group && c.claims) || !next_in_line(run.queue, entry) {
            continue;
        }
        let mut best: Option<(f64, AgentIx)> = None;
        for agent in state.agent_ixs() {
            let big_enough = class.ask.iter().all(|&(dim, amount)| state.total(agent, dim) >= amount);
            let free = state.slot(agent).owner().is_none() && !held.iter().any(|r| r.0 == agent);
            if !(big_enough && free) {
                continue;
            }
            let room = class
                .ask
                .iter()
                .map(|&(dim, amount)| state.free_all_roles(agent, dim) as f64 / amount.max(1) as f64)
                .fold(f64::INFINITY, f64::min);
            if best.is_none_or(|(b, _)| room > b) {
                best = Some((room, agent));
            }
        }
        if let Some((_, agent)) = best {
            held.push(Reservation(agent, t));
            state.tables_mut().set_owner(agent, Some(class.group));
        }
    }
    held
}

/// Ends the pass's reservations. Indexes need not hear of it: who holds an agent is read when a
/// task is placed, never kept in an index.
pub(crate) fn release(state: &mut PassState, held: Vec<Reservation>) {
    for Reservation(agent, _) in held {
        state.tables_mut().set_owner(agent, None);
    }
}

/// Ends the reservation made for task `t`, which was just placed: what the agent has left
/// is open to every task for the rest of the pass.
pub(crate) fn release_placed(state: &mut PassState, held: &mut Vec<Reservation>, t: usize) {
    if let Some(at) = held.iter().position(|r| r.1 == t) {
        let Reservation(agent, _) = held.swap_remove(at);
        state.tables_mut().set_owner(agent, None);
    }
}

/// Whether weighted DRF would serve the entry's bucket next in its tier (its share is the
/// lowest of the tier's waiting buckets): only then is a head that keeps finding no agent being
/// passed over for its size rather than waiting its turn, and only then does it get an agent.
fn next_in_line(queue: &Queue, id: EntryId) -> bool {
    let Some(entry) = queue.entry(id) else {
        return false;
    };
    let share = queue.share(entry.tier, entry.bucket);
    let lowest = queue.lowest_waiting_share(entry.tier);
    matches!((share, lowest), (Some(s), Some(l)) if s <= l + 1e-12)
}

fn task_of(queue: &Queue, id: EntryId) -> Option<usize> {
    queue.entry(id).map(|e| e.task as usize)
}

/// The per-bucket figures of the pass.
pub(crate) fn stats(run: &QueueRun<'_>) -> Vec<BucketStats> {
    run.queue.stats()
}
