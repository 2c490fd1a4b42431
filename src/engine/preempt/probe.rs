//! What the step asks of one agent: whether the task may go there at all, what it needs beyond
//! the agent's room, the candidates, the cheapest single victim, and the constraints with the
//! victims gone. Scratch buffers are reused from agent to agent.

use std::borrow::Borrow;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashSet;
use smallvec::SmallVec;

use super::budget::Ledger;
use super::search::{Candidate, Cost};
use super::table::{AgentRows, Row, RunningTable};
use crate::engine::state::PassState;
use crate::model::RunningTask;
use crate::plugins::{AgentView, PassView, TaskView};
use crate::spec::TaskSpec;
use crate::tables::{AgentIx, Dim, GroupIx, RoleIx};

/// Amounts per resource name, in thousandths.
pub(crate) type Amounts = SmallVec<[(Arc<str>, i64); 4]>;

/// One task's asks: by name (to read victims' resources) and by dimension (for plugin views).
pub(crate) struct Asks {
    pub names: Amounts,
    /// Per entry of `names`: its dimension in the state, if offered anywhere.
    dim_of: SmallVec<[Option<Dim>; 4]>,
    /// Per entry of `names`: its number in the running table, if some running task holds it.
    pub table_dim: SmallVec<[Option<u32>; 4]>,
    dims: SmallVec<[(Dim, i64); 4]>,
    /// The roles the task accepts, as the state numbers them (`None`: every role).
    roles: Option<SmallVec<[RoleIx; 2]>>,
}

/// Scratch buffers reused from agent to agent.
#[derive(Default)]
pub(crate) struct Scratch<'a> {
    /// The agent's candidates as row positions, in the agent's row order.
    pub order: Vec<u32>,
    pub candidates: Vec<Candidate<'a>>,
    pub freed: Vec<i64>,
    pub need: Vec<i64>,
}

/// The table's rows taken in the pass: dying, or chosen as victims earlier.
pub(crate) struct Gone {
    on: Vec<bool>,
    rows: FxHashSet<(u32, u32)>,
}

impl Gone {
    /// Nothing gone, on `agents` agents.
    pub fn new(agents: usize) -> Gone {
        Gone { on: vec![false; agents], rows: FxHashSet::default() }
    }

    /// Row `r` of agent `a` is gone.
    pub fn mark(&mut self, a: u32, r: u32) {
        self.on[a as usize] = true;
        self.rows.insert((a, r));
    }

    /// Whether row `r` of agent `a` is gone.
    #[inline]
    pub fn is(&self, a: u32, r: u32) -> bool {
        self.on[a as usize] && self.rows.contains(&(a, r))
    }
}

/// Budget slots of the table's groups (those with a budget): as pairs sorted by group, and as
/// a table indexed by group, since the search asks for a group's slot once per agent and per
/// candidate (an index, not a search: with every group budgeted, a binary search there took a
/// quarter of the search's time).
pub(crate) struct Slots {
    /// (group, slot), sorted by group.
    pub pairs: Vec<(u32, u32)>,
    /// The slot of every group up to the largest with a budget; [`Slots::NONE`] for groups
    /// without one.
    by_group: Vec<u32>,
}

impl Slots {
    /// Marks a group without a budget in `by_group`.
    const NONE: u32 = u32::MAX;

    /// The slots of `pairs`, (table group, budget slot) in any order.
    pub fn new(mut pairs: Vec<(u32, u32)>) -> Slots {
        pairs.sort_unstable();
        let mut by_group = vec![Slots::NONE; pairs.last().map_or(0, |&(g, _)| g as usize + 1)];
        for &(group, slot) in &pairs {
            by_group[group as usize] = slot;
        }
        Slots { pairs, by_group }
    }

    /// The budget slot of table group `group`, if it has a budget.
    #[inline]
    pub fn of(&self, group: u32) -> Option<u32> {
        self.by_group.get(group as usize).copied().filter(|&slot| slot != Slots::NONE)
    }
}

/// The task's asks (its executor's merged in), by name, by the state's dimensions and by the
/// table's.
pub(crate) fn asks_of<T: Borrow<RunningTask>>(state: &PassState, table: &RunningTable<T>, task: &TaskSpec) -> Asks {
    let mut names: Amounts = task.resources.iter().map(|(n, q)| (n.clone(), q.milli())).collect();
    if let Some(executor) = &task.executor {
        for (name, q) in &executor.resources {
            add_delta(&mut names, name, q.milli());
        }
    }
    let dim_of = names.iter().map(|(n, _)| state.dims().get_shared(n)).collect();
    let table_dim = names.iter().map(|(n, _)| table.dim(n)).collect();
    let dims = task
        .resources
        .iter()
        .filter_map(|(n, q)| state.dims().get_shared(n).map(|d| (d, q.milli())))
        .filter(|&(_, m)| m > 0)
        .collect();
    let roles =
        task.roles.as_ref().map(|roles| roles.iter().filter_map(|r| state.names().roles.get(r.as_str())).collect());
    Asks { names, dim_of, table_dim, dims, roles }
}

/// Adds `amount` to `name` in `delta`.
pub(crate) fn add_delta(delta: &mut Amounts, name: &Arc<str>, amount: i64) {
    match delta.iter_mut().find(|(n, _)| n == name) {
        Some((_, q)) => *q += amount,
        None => delta.push((name.clone(), amount)),
    }
}

/// The checks that do not depend on the victims: an agent known only through its tasks takes
/// only tasks without hard constraints or ports, and no other group's exclusive claim; an
/// agent of the tables must not be held by another group and must have the task's ports free.
pub(crate) fn allowed_before<T: Borrow<RunningTask>>(
    state: &PassState,
    agent: &AgentRows<T>,
    ix: Option<AgentIx>,
    task: &TaskSpec,
    group: GroupIx,
) -> bool {
    let Some(ix) = ix else {
        let claimed = agent.claims > 0
            && agent.rows.iter().any(|r| r.task.borrow().claims_agent && r.task.borrow().group != task.group);
        return task.hard.is_empty() && task.ports.total() == 0 && !claimed;
    };
    let slot = state.slot(ix);
    if slot.owner().is_some_and(|owner| owner != group) {
        return false;
    }
    if task.ports.total() == 0 {
        return true;
    }
    slot.free_ports() >= task.ports.total()
        && task.ports.specific.iter().all(|&p| slot.ports().iter().any(|(_, set)| set.contains(p)))
}

/// What the task needs beyond the agent's room, per asked resource: its ask less the free
/// amount in the roles it accepts, less what earlier preemptions of the pass left there.
pub(crate) fn fill_need(
    need: &mut Vec<i64>,
    state: &PassState,
    ix: Option<AgentIx>,
    asks: &Asks,
    delta: Option<&Amounts>,
) {
    need.clear();
    for ((name, amount), dim) in asks.names.iter().zip(&asks.dim_of) {
        let free = match (ix, dim) {
            (Some(ix), Some(dim)) => match &asks.roles {
                None => state.free_all_roles(ix, *dim),
                Some(roles) => roles.iter().map(|&r| state.free_in_role(ix, *dim, r)).sum(),
            },
            _ => 0,
        };
        let earlier = delta.and_then(|d| d.iter().find(|(n, _)| n == name)).map_or(0, |(_, q)| *q);
        need.push(amount - free - earlier);
    }
}

/// Whether all the agent's tasks together hold less than `need` of some asked resource (then
/// no set of victims frees enough).
pub(crate) fn short<T>(agent: &AgentRows<T>, asks: &Asks, need: &[i64]) -> bool {
    asks.table_dim.iter().zip(need).any(|(dim, &need)| need > 0 && dim.is_none_or(|d| agent.held(d).0 < need))
}

/// Whether the agent surely has no set as cheap as `best`, which has two victims or more: it
/// needs more victims (each frees at most what its largest task holds), or as many and then even
/// its lowest standings outrank `best`'s, or match them and even its youngest tasks lose more
/// work.
pub(crate) fn outranked<T>(agent: &AgentRows<T>, asks: &Asks, need: &[i64], best: &Cost<'_>, now: Duration) -> bool {
    let mut fewest = 1usize;
    for (dim, &need) in asks.table_dim.iter().zip(need) {
        if need <= 0 {
            continue;
        }
        let most = dim.map_or(0, |d| agent.held(d).1);
        if most <= 0 {
            return true;
        }
        // Both positive: the fewest victims that could free `need`, each freeing at most `most`.
        fewest = fewest.max(((need + most - 1) / most) as usize);
    }
    if fewest != best.count {
        return fewest > best.count;
    }
    // Rows are sorted by standing: the lowest `fewest` give the least standings a set can have.
    let standings = match agent.summary.lowest(fewest) {
        Some(low) => low.cmp(best.standings.iter().copied()),
        None => {
            let Some(lowest) = agent.rows.get(..fewest) else { return true };
            lowest.iter().rev().map(|r| r.standing).cmp(best.standings.iter().copied())
        }
    };
    match standings {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => match agent.summary.least_work(fewest, now) {
            Some(least) => least > best.work,
            None if fewest <= 8 => least_work(agent, fewest, now) > best.work,
            None => false,
        },
    }
}

/// The least work `k` of the agent's rows together have lost by `now` (the `k` youngest).
fn least_work<T>(agent: &AgentRows<T>, k: usize, now: Duration) -> u128 {
    let mut least: SmallVec<[u128; 8]> = SmallVec::new();
    for r in &agent.rows {
        let work = now.saturating_sub(r.started).as_nanos();
        let at = least.partition_point(|&w| w <= work);
        if at < k {
            if least.len() == k {
                least.pop();
            }
            least.insert(at, work);
        }
    }
    least.iter().sum()
}

/// The agent's candidates (`scratch.order`, already in search order) with what each frees per
/// asked resource.
pub(crate) fn fill_candidates<'a, T: Borrow<RunningTask>>(
    scratch: &mut Scratch<'a>,
    rows: &'a [Row<T>],
    slots: &Slots,
    asks: &Asks,
    now: Duration,
) {
    scratch.candidates.clear();
    scratch.freed.clear();
    for &p in &scratch.order {
        let row = &rows[p as usize];
        let r: &'a RunningTask = row.task.borrow();
        scratch.candidates.push(Candidate {
            id: &r.id,
            standing: row.standing,
            work: now.saturating_sub(row.started).as_nanos(),
            total: row.total(),
            budget: slots.of(row.group),
        });
        for &dim in &asks.table_dim {
            scratch.freed.push(row.held(dim));
        }
    }
}

/// The cheapest single victim costlier than `after` among the agent's candidates
/// (`scratch.order`) that frees enough alone within its budget, costed as the full search costs
/// it; the victim as a row position.
pub(crate) fn single_victim<'a, T: Borrow<RunningTask>>(
    scratch: &Scratch<'a>,
    rows: &'a [Row<T>],
    slots: &Slots,
    asks: &Asks,
    ledger: &Ledger<'_>,
    now: Duration,
    after: Option<&Cost<'a>>,
) -> Option<(Cost<'a>, u32)> {
    let after = match after {
        Some(a) if a.count > 1 => return None,
        Some(a) => Some((a.standings[0], a.work, a.waste, a.ids[0])),
        None => None,
    };
    let needed: i64 = scratch.need.iter().map(|&n| n.max(0)).sum();
    let mut best: Option<(u64, u128, i64, &'a crate::model::TaskId, u32)> = None;
    for &p in &scratch.order {
        let row = &rows[p as usize];
        let r: &'a RunningTask = row.task.borrow();
        let enough = asks.table_dim.iter().zip(&scratch.need).all(|(&dim, &need)| need <= 0 || row.held(dim) >= need);
        if !enough || slots.of(row.group).is_some_and(|slot| ledger.room(slot) == 0) {
            continue;
        }
        let key = (row.standing, now.saturating_sub(row.started).as_nanos(), row.total() - needed, &r.id, p);
        let short_key = (key.0, key.1, key.2, key.3);
        if after.is_some_and(|a| short_key <= a) {
            continue;
        }
        if best.as_ref().is_none_or(|b| short_key < (b.0, b.1, b.2, b.3)) {
            best = Some(key);
        }
    }
    let (standing, work, waste, id, p) = best?;
    let cost = Cost { count: 1, standings: smallvec::smallvec![standing], work, waste, ids: smallvec::smallvec![id] };
    Some((cost, p))
}

/// Whether the task's hard constraints pass on agent `ix` with `victims` (row positions) gone;
/// the state is as it was when this returns.
pub(crate) fn constraints_pass<T: Borrow<RunningTask>>(
    state: &mut PassState,
    rows: &[Row<T>],
    ix: AgentIx,
    victims: &[u32],
    task: &TaskSpec,
    asks: &Asks,
    group: GroupIx,
) -> bool {
    if task.hard.is_empty() {
        return true;
    }
    for &p in victims {
        state.tables_mut().remove_running(rows[p as usize].task.borrow());
    }
    let view = TaskView::new(&task.id, &task.group, group, &asks.dims, &task.ports);
    let tables: &crate::tables::Tables = state;
    let (agent, pass) = (AgentView::new(tables, ix), PassView::new(tables));
    let passes = task.hard.iter().all(|c| c.allows(&view, &agent, &pass));
    for &p in victims {
        state.tables_mut().add_running(std::slice::from_ref(rows[p as usize].task.borrow()));
    }
    passes
}
