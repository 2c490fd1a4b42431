//! The preemption step of a pass: victims for the tasks placement left unplaced.

use std::borrow::Borrow;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::budget::Ledger;
use super::probe::{
    add_delta, allowed_before, asks_of, constraints_pass, fill_candidates, fill_need, outranked, short, single_victim,
    Amounts, Asks, Gone, Scratch, Slots,
};
use super::search::{cheapest, standing, Agent, Cost, Outcome};
use super::spent::{open_bits, spent_outcome, unbudgeted_bits};
use super::table::{AgentRows, RunningTable};
use super::PreemptionInput;
use crate::engine::state::PassState;
use crate::model::{AgentId, RunningTask, TaskId};
use crate::plan::{Plan, Preemption, PreemptionRefusal, Reason, ReasonCount};
use crate::queue::QueuePlace;
use crate::spec::TaskSpec;
use crate::tables::{AgentIx, GroupIx};

/// Most victim sets tried on one agent when the task's hard constraints refuse the cheapest:
/// the next-cheapest are asked in turn, up to this many sets in all.
pub(crate) const SETS_PER_AGENT: usize = 64;

/// What the step reads besides the state, the running tasks and the plan.
#[derive(Clone, Copy)]
pub(crate) struct Step<'a> {
    pub pending: &'a [TaskSpec],
    /// Each pending task's queue place, index for index, in queued passes.
    pub places: Option<&'a [QueuePlace]>,
    pub input: PreemptionInput<'a>,
    pub now: Duration,
}

/// Refusals counted over the agents of one task.
#[derive(Default)]
struct Refusals {
    no_lower: u32,
    not_allowed: u32,
    budget: Vec<u32>,
}

/// The best preemption found so far for a task: its cost, the agent (in the table) and the
/// victims (row positions there).
struct Best<'a> {
    cost: Cost<'a>,
    agent: usize,
    victims: SmallVec<[u32; 8]>,
}

/// What one task's search reads, the same for every agent.
struct Search<'s, 'a, T> {
    task: &'s TaskSpec,
    asks: &'s Asks,
    group: GroupIx,
    standing: u64,
    table: &'a RunningTable<T>,
    slots: &'s Slots,
    gone: &'s Gone,
    now: Duration,
    /// The bits of the groups that may still lose a task (see `spent.rs`).
    open: u64,
}

/// Finds victims for every unplaced task the queue did not hold back, in queue or priority
/// order, moving the tasks it preempts for from `plan.unplaced` to `plan.preemptions`. `table`
/// holds the running tasks; `hint` says a dying task's agent when it can. The state's counts
/// are as they were when it returns.
pub(crate) fn run<'h, T: Borrow<RunningTask>>(
    state: &mut PassState,
    table: &RunningTable<T>,
    hint: impl Fn(&TaskId) -> Option<&'h AgentId>,
    step: Step<'_>,
    plan: &mut Plan,
) {
    if plan.unplaced.is_empty() {
        return;
    }
    let Step { pending, places, input, now } = step;
    let position: FxHashMap<&TaskId, usize> = pending.iter().enumerate().map(|(i, t)| (&t.id, i)).collect();
    let held_back = |u: &crate::plan::Unplaced| {
        !u.reasons.is_empty() && u.reasons.iter().all(|r| matches!(r.reason, Reason::Queue(_)))
    };
    let mut order: Vec<(usize, usize)> = plan
        .unplaced
        .iter()
        .enumerate()
        .filter(|(_, u)| !held_back(u))
        .filter_map(|(i, u)| position.get(&u.task_id).map(|&t| (t, i)))
        .collect();
    if order.is_empty() {
        return;
    }
    let tier_of = |t: usize| places.and_then(|p| p.get(t)).map_or(0, |p| p.tier);
    order.sort_by_key(|&(t, _)| (tier_of(t), std::cmp::Reverse(pending[t].priority), t));
    let (mut ledger, slots) = settle_budgets(table, &input);
    let mut gone = Gone::new(table.agents.len());
    for (a, r) in table.positions(input.dying, hint) {
        gone.mark(a, r);
        if let Some(slot) = slots.of(table.agents[a as usize].rows[r as usize].group) {
            ledger.charge(slot);
        }
    }
    let mut deltas: FxHashMap<usize, Amounts> = FxHashMap::default();
    let mut placed_here: Vec<RunningTask> = Vec::new();
    let mut scratch = Scratch::default();
    let mut preempted: Vec<usize> = Vec::new();
    let unbudgeted = unbudgeted_bits(table, &slots);
    for (t, u) in order {
        let task = &pending[t];
        let asks = asks_of(state, table, task);
        let group = state.tables_mut().group(&task.group);
        let standing = standing(tier_of(t), task.priority);
        let open = open_bits(unbudgeted, &slots, &ledger);
        let search = Search { task, asks: &asks, group, standing, table, slots: &slots, gone: &gone, now, open };
        let mut refusals = Refusals { budget: vec![0; ledger.len()], ..Refusals::default() };
        let mut best: Option<Best<'_>> = None;
        for (a, agent) in table.agents.iter().enumerate() {
            let delta = deltas.get(&a);
            search.agent(state, a, agent, delta, &ledger, &mut scratch, &mut refusals, &mut best);
        }
        match best {
            Some(best) => {
                let entry = &table.agents[best.agent];
                let mut victims: Vec<TaskId> =
                    best.victims.iter().map(|&p| entry.rows[p as usize].task.borrow().id.clone()).collect();
                victims.sort();
                let delta = deltas.entry(best.agent).or_default();
                for &p in &best.victims {
                    let row = &entry.rows[p as usize];
                    gone.mark(best.agent as u32, p);
                    if let Some(slot) = slots.of(row.group) {
                        ledger.charge(slot);
                    }
                    for (name, q) in &row.task.borrow().resources {
                        add_delta(delta, name, q.milli());
                    }
                }
                for (name, amount) in &asks.names {
                    add_delta(delta, name, -amount);
                }
                let host = entry.rows[0].task.borrow().host.clone();
                let mut counted = RunningTask::new(task.id.clone(), task.group.clone(), entry.id.clone());
                counted.host = host;
                state.tables_mut().add_running(std::slice::from_ref(&counted));
                placed_here.push(counted);
                let why = plan.unplaced[u].reasons.clone();
                plan.preemptions.push(Preemption {
                    task_id: task.id.clone(),
                    group: task.group.clone(),
                    agent_id: entry.id.clone(),
                    victims,
                    why,
                });
                preempted.push(u);
            }
            None => explain(&mut plan.unplaced[u], &refusals, &ledger),
        }
    }
    for counted in &placed_here {
        state.tables_mut().remove_running(counted);
    }
    if !preempted.is_empty() {
        preempted.sort_unstable();
        let mut i = 0;
        plan.unplaced.retain(|_| {
            let keep = preempted.binary_search(&i).is_err();
            i += 1;
            keep
        });
        plan.stats.tasks_unplaced = plan.stats.tasks_unplaced.saturating_sub(preempted.len() as u32);
    }
}

/// The pass's budget ledger, every budgeted group's allowance settled from its running count,
/// and the budget slots of the table's groups.
fn settle_budgets<'b, T: Borrow<RunningTask>>(
    table: &RunningTable<T>,
    input: &PreemptionInput<'b>,
) -> (Ledger<'b>, Slots) {
    let mut ledger = Ledger::new(input.budgets);
    let mut running = vec![0u32; ledger.len()];
    let mut slots = Vec::new();
    for (slot, count) in running.iter_mut().enumerate() {
        if let Some(g) = table.group(ledger.group(slot as u32)) {
            *count = table.count(g);
            slots.push((g, slot as u32));
        }
    }
    ledger.settle_allowances(input.budgets, &running);
    (ledger, Slots::new(slots))
}

impl<'a, T: Borrow<RunningTask>> Search<'_, 'a, T> {
    /// Looks for victims on agent `a`, replacing `best` when it finds a cheaper set the
    /// constraints allow, and counts why it found none. Once some set is found refusals no
    /// longer matter, and agents that cannot beat `best` by their bounds are skipped.
    #[allow(clippy::too_many_arguments)]
    fn agent(
        &self,
        state: &mut PassState,
        a: usize,
        agent: &'a AgentRows<T>,
        delta: Option<&Amounts>,
        ledger: &Ledger<'_>,
        scratch: &mut Scratch<'a>,
        refusals: &mut Refusals,
        best: &mut Option<Best<'a>>,
    ) {
        let summary = &agent.summary;
        if summary.len == 0 {
            return;
        }
        if summary.low[0] >= self.standing {
            refusals.no_lower += 1;
            return;
        }
        // Every candidate's group has no budget left: no set is found here.
        let spent = summary.groups & self.open == 0;
        if let Some(b) = best.as_ref() {
            // Once a set is found refusals no longer matter: agents that cannot beat it are
            // passed over on their summary, before their rows are read.
            if spent {
                return;
            }
            // The first row is the lowest and youngest: no single victim here costs less.
            let work = self.now.saturating_sub(summary.first_started).as_nanos();
            if b.cost.count == 1 && (summary.low[0], work) > (b.cost.standings[0], b.cost.work) {
                return;
            }
        }
        let rows = &agent.rows;
        if best.is_none() && !self.candidates(a, rows, scratch) {
            refusals.no_lower += 1;
            return;
        }
        let ix = state.agent(&agent.id);
        if !allowed_before(state, agent, ix, self.task, self.group) {
            refusals.not_allowed += 1;
            return;
        }
        fill_need(&mut scratch.need, state, ix, self.asks, delta);
        if scratch.need.iter().all(|&n| n <= 0) {
            // Room enough without victims: something else kept the task off.
            refusals.not_allowed += 1;
            return;
        }
        if short(agent, self.asks, &scratch.need) {
            refusals.no_lower += 1;
            return;
        }
        if let Some(b) = best.as_ref() {
            if b.cost.count > 1 && outranked(agent, self.asks, &scratch.need, &b.cost, self.now) {
                return;
            }
            if !self.candidates(a, rows, scratch) {
                return;
            }
        } else if spent {
            match spent_outcome(&scratch.order, rows, &self.asks.table_dim, &scratch.need, self.slots) {
                Some(Outcome::NotEnough) => {
                    refusals.no_lower += 1;
                    return;
                }
                Some(Outcome::Budget(slot)) => {
                    refusals.budget[slot as usize] += 1;
                    return;
                }
                _ => {}
            }
        }
        let most = best.as_ref().map_or(usize::MAX, |b| b.cost.count);
        let mut after: Option<Cost<'a>> = None;
        let mut filled = false;
        for _ in 0..SETS_PER_AGENT {
            match self.cheapest(scratch, rows, ledger, most, after.as_ref(), &mut filled) {
                Outcome::Found(cost, victims) => {
                    let beats =
                        best.as_ref().is_none_or(|b| (&cost, &agent.id) < (&b.cost, &self.table.agents[b.agent].id));
                    if !beats {
                        // Every later set costs more.
                        break;
                    }
                    if self.allows(state, rows, ix, &victims) {
                        *best = Some(Best { cost, agent: a, victims });
                        return;
                    }
                    after = Some(cost);
                }
                // After a refused set, the refusal is the constraints'.
                Outcome::NotEnough if after.is_none() => {
                    refusals.no_lower += 1;
                    break;
                }
                Outcome::Budget(slot) if after.is_none() => {
                    refusals.budget[slot as usize] += 1;
                    break;
                }
                _ => break,
            }
        }
        if after.is_some() {
            refusals.not_allowed += 1;
        }
    }

    /// Fills `scratch.order` with the agent's candidates (the rows that yield to the task and are
    /// not gone), in row order; false when there are none.
    fn candidates(&self, a: usize, rows: &[super::table::Row<T>], scratch: &mut Scratch<'a>) -> bool {
        scratch.order.clear();
        let yielding = rows.iter().take_while(|r| r.standing < self.standing).enumerate();
        scratch.order.extend(yielding.map(|(p, _)| p as u32).filter(|&p| !self.gone.is(a as u32, p)));
        !scratch.order.is_empty()
    }

    /// The cheapest set costlier than `after` among the candidates in `scratch.order`, as row
    /// positions. One victim is the cheapest there can be: looked for without costing every
    /// candidate, and only when none will do is every set of two and more tried.
    #[allow(clippy::too_many_arguments)]
    fn cheapest(
        &self,
        scratch: &mut Scratch<'a>,
        rows: &'a [super::table::Row<T>],
        ledger: &Ledger<'_>,
        most: usize,
        after: Option<&Cost<'a>>,
        filled: &mut bool,
    ) -> Outcome<'a> {
        if let Some((cost, p)) = single_victim(scratch, rows, self.slots, self.asks, ledger, self.now, after) {
            return Outcome::Found(cost, smallvec::smallvec![p]);
        }
        if most < 2 {
            return Outcome::TooMany;
        }
        if !*filled {
            fill_candidates(scratch, rows, self.slots, self.asks, self.now);
            *filled = true;
        }
        let question = Agent { need: &scratch.need, candidates: &scratch.candidates, freed: &scratch.freed };
        match cheapest(&question, ledger, most, after) {
            Outcome::Found(cost, set) => Outcome::Found(cost, set.iter().map(|&c| scratch.order[c as usize]).collect()),
            other => other,
        }
    }

    /// Whether the task's hard constraints pass on the agent with `victims` gone (always on an
    /// agent the state does not have: only tasks without hard constraints get that far).
    fn allows(
        &self,
        state: &mut PassState,
        rows: &[super::table::Row<T>],
        ix: Option<AgentIx>,
        victims: &[u32],
    ) -> bool {
        ix.is_none_or(|ix| constraints_pass(state, rows, ix, victims, self.task, self.asks, self.group))
    }
}

/// Adds the task's preemption refusals to its reasons.
fn explain(unplaced: &mut crate::plan::Unplaced, refusals: &Refusals, ledger: &Ledger<'_>) {
    let mut reasons: Vec<ReasonCount> = unplaced.reasons.to_vec();
    let mut add = |refusal: PreemptionRefusal, agents: u32| {
        if agents > 0 {
            reasons.push(ReasonCount { reason: Reason::Preemption(refusal), agents });
        }
    };
    add(PreemptionRefusal::NoLowerPriority, refusals.no_lower);
    for (slot, &agents) in refusals.budget.iter().enumerate() {
        add(PreemptionRefusal::Budget { group: ledger.group(slot as u32).clone() }, agents);
    }
    add(PreemptionRefusal::NotAllowed, refusals.not_allowed);
    unplaced.reasons = Arc::from(reasons);
}
