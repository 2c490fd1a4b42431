//! The packing bound of an offer pool and pending tasks, in capacity units.
//!
//! Dimensions are the scalar resources any task asks for (by name, sorted) and, when any task
//! asks for ports, the port count. An agent's capacity is the sum of its live offers in every
//! dimension (all roles together); agents with the same capacity and the same cpus and memory
//! form one bin type. Tasks asking for the same amounts form one item class. Constraints, roles
//! and specific port numbers are ignored: each only takes packings away, so the LP optimum stays
//! a lower bound on what any placement of all the tasks uses.
//!
//! **Capacity units.** The cost of an agent is its size relative to the smallest agent: the mean,
//! over cpus and mem, of the agent's total over the smallest total any agent offers of that
//! resource (resources no agent offers are left out of the mean). With agents of 16 cpus and
//! 64 GiB and of 32 cpus and 128 GiB, the first is 1 unit and the second 2. An agent that offers
//! neither counts as a thousandth of a unit, as a bin's cost must be positive.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use super::{max_fit, solve_pattern_lp, BinType, ItemClass, Limits, OptimumError, PackingInstance};
use crate::model::{AgentId, ResourceValue};
use crate::resources::{Quantity, CPUS, MEM, PORTS};
use crate::spec::TaskSpec;
use crate::{OfferPool, Plan};

/// The smallest size any agent counts for.
const MIN_UNITS: f64 = 1e-3;

/// The smallest agent's cpus and memory: what one capacity unit is (zero for a resource no agent
/// offers, which then does not count).
///
/// An agent's size is the mean, over cpus and mem, of its total over the unit's: with agents of
/// 16 cpus and 64 GiB and of 32 cpus and 128 GiB, the first is 1 unit and the second 2. An agent
/// that offers neither counts as a thousandth of a unit, as a bin's cost must be positive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CapacityUnit {
    /// The smallest non-zero cpus total of any agent.
    pub cpus: Quantity,
    /// The smallest non-zero memory total of any agent.
    pub mem: Quantity,
}

impl CapacityUnit {
    /// The size in units of an agent with these totals (at least a thousandth of a unit).
    pub fn units(&self, cpus: Quantity, mem: Quantity) -> f64 {
        let shares: Vec<f64> = [(cpus, self.cpus), (mem, self.mem)]
            .into_iter()
            .filter(|(_, unit)| !unit.is_zero())
            .map(|(total, unit)| total.milli() as f64 / unit.milli() as f64)
            .collect();
        if shares.is_empty() {
            return 1.0;
        }
        (shares.iter().sum::<f64>() / shares.len() as f64).max(MIN_UNITS)
    }
}

/// A pool and its pending tasks as a [`PackingInstance`], with the way back to agents and tasks.
#[derive(Clone, Debug, PartialEq)]
pub struct PackingProblem {
    /// Bin types (agents), item classes (tasks), in the dimensions below; costs in units.
    pub instance: PackingInstance,
    /// The name of each dimension: the resources asked for, then `ports` (a count) if asked.
    pub dimensions: Vec<Arc<str>>,
    /// The agents of each bin type, sorted.
    pub agents: Vec<Vec<AgentId>>,
    /// The tasks of each item class, as indices into the tasks given.
    pub tasks: Vec<Vec<usize>>,
    /// Tasks no agent could hold alone, as indices into the tasks given (left out of `instance`).
    pub unplaceable: Vec<usize>,
    /// What one unit of cost is.
    pub unit: CapacityUnit,
}

/// The lower bound on the capacity units any placement of the tasks uses.
#[derive(Clone, Debug, PartialEq)]
pub struct PackingBound {
    /// A proven lower bound, in units, on the agents needed to place every placeable task.
    pub lower_bound: f64,
    /// The value of the last LP solved (the optimum when [`Self::proven`]).
    pub lp_value: f64,
    /// Whether column generation converged (`lower_bound == lp_value`).
    pub proven: bool,
    /// What one unit is.
    pub unit: CapacityUnit,
    /// How many tasks no agent could hold (left out of the bound).
    pub unplaceable: u32,
}

impl PackingBound {
    /// The units of the agents `plan` launches on, in this bound's unit (see [`units_used`]).
    pub fn units_used(&self, pool: &OfferPool, plan: &Plan) -> f64 {
        units_used(pool, plan, &self.unit)
    }
}

/// One agent's totals.
struct AgentTotals {
    id: AgentId,
    capacity: Vec<i64>,
    cpus: Quantity,
    mem: Quantity,
}

/// Builds the packing instance of the agents live at `now` and the pending `tasks`.
///
/// Dimensions are the scalar resources any task asks for (sorted by name) and, when a task asks
/// for ports, the port count. An agent's capacity is the sum of its live offers (all roles);
/// agents with the same capacity, cpus and memory are one bin type, costing their size in
/// [`CapacityUnit`]s. Tasks asking for the same amounts are one item class. Constraints, roles
/// and specific port numbers are ignored (each only takes packings away).
pub fn packing_problem(pool: &OfferPool, tasks: &[TaskSpec], now: Duration) -> PackingProblem {
    let names: BTreeSet<Arc<str>> = tasks.iter().flat_map(|t| t.resources.iter().map(|(n, _)| n.clone())).collect();
    let mut dimensions: Vec<Arc<str>> = names.into_iter().collect();
    let ports = tasks.iter().any(|t| t.ports.total() > 0);
    let scalars = dimensions.len();
    if ports {
        dimensions.push(Arc::from(PORTS));
    }
    let agents: Vec<AgentTotals> = pool
        .agents_at(now)
        .map(|agent| {
            let sum = |name: &str| agent.offers().fold(Quantity::ZERO, |acc, o| acc + o.scalar(name));
            let mut capacity: Vec<i64> = dimensions[..scalars].iter().map(|n| sum(n).milli()).collect();
            if ports {
                let count: u64 = agent
                    .offers()
                    .flat_map(|o| o.resources.iter())
                    .filter_map(|r| match &r.value {
                        ResourceValue::Ports(set) if &*r.name == PORTS => Some(u64::from(set.count())),
                        _ => None,
                    })
                    .sum();
                capacity.push(i64::try_from(count).unwrap_or(i64::MAX));
            }
            AgentTotals { id: agent.id().clone(), capacity, cpus: sum(CPUS), mem: sum(MEM) }
        })
        .collect();
    let smallest = |f: fn(&AgentTotals) -> Quantity| agents.iter().map(f).filter(|q| !q.is_zero()).min();
    let unit = CapacityUnit {
        cpus: smallest(|a| a.cpus).unwrap_or(Quantity::ZERO),
        mem: smallest(|a| a.mem).unwrap_or(Quantity::ZERO),
    };
    let mut types: BTreeMap<(Vec<i64>, Quantity, Quantity), Vec<AgentId>> = BTreeMap::new();
    for a in agents {
        types.entry((a.capacity, a.cpus, a.mem)).or_default().push(a.id);
    }
    let mut instance = PackingInstance::default();
    let mut by_type = Vec::with_capacity(types.len());
    for ((capacity, cpus, mem), mut ids) in types {
        ids.sort();
        let available = u32::try_from(ids.len()).unwrap_or(u32::MAX);
        instance.bins.push(BinType { capacity, cost: unit.units(cpus, mem), available });
        by_type.push(ids);
    }
    let mut classes: BTreeMap<Vec<i64>, Vec<usize>> = BTreeMap::new();
    for (t, task) in tasks.iter().enumerate() {
        let mut demand: Vec<i64> = dimensions[..scalars].iter().map(|n| task.ask(n).milli()).collect();
        if ports {
            demand.push(i64::from(task.ports.total()));
        }
        classes.entry(demand).or_default().push(t);
    }
    let (mut by_class, mut unplaceable) = (Vec::new(), Vec::new());
    for (demand, members) in classes {
        if instance.bins.iter().any(|b| max_fit(&demand, &b.capacity) > 0) {
            let count = u32::try_from(members.len()).unwrap_or(u32::MAX);
            instance.items.push(ItemClass { demand, count });
            by_class.push(members);
        } else {
            unplaceable.extend(members);
        }
    }
    unplaceable.sort_unstable();
    PackingProblem { instance, dimensions, agents: by_type, tasks: by_class, unplaceable, unit }
}

/// The lower bound, in capacity units, on the agents needed to place the pending `tasks` on the
/// agents live in `pool` at `now`, ignoring constraints (built by [`packing_problem`]).
///
/// Tasks no agent could hold alone are left out and counted in [`PackingBound::unplaceable`].
/// Errors when the agents cannot hold the other tasks even fractionally
/// ([`OptimumError::Infeasible`]) or the budgets run out before that is settled.
///
/// ```
/// use std::time::Duration;
/// use offerpack::optimum::{packing_bound, Limits};
/// use offerpack::{Offer, OfferPool, TaskSpec};
/// let mut pool = OfferPool::new(Duration::from_secs(60));
/// for a in 0..4 {
///     let offer = Offer::new(format!("o{a}"), format!("a{a}"), "h").with_scalar("cpus", 16.0).unwrap();
///     pool.add(offer.with_scalar("mem", 65536.0).unwrap(), Duration::ZERO).unwrap();
/// }
/// let tasks: Vec<TaskSpec> = (0..6)
///     .map(|t| TaskSpec::builder(format!("t{t}"), "g").scalar("cpus", 6.0).scalar("mem", 1024.0).build().unwrap())
///     .collect();
/// let bound = packing_bound(&pool, &tasks, Duration::ZERO, &Limits::default()).unwrap();
/// assert!(bound.proven && (bound.lower_bound - 3.0).abs() < 1e-9); // two 6-cpu tasks per agent
/// ```
pub fn packing_bound(
    pool: &OfferPool,
    tasks: &[TaskSpec],
    now: Duration,
    limits: &Limits,
) -> Result<PackingBound, OptimumError> {
    let problem = packing_problem(pool, tasks, now);
    let lp = solve_pattern_lp(&problem.instance, limits)?;
    Ok(PackingBound {
        lower_bound: lp.lower_bound,
        lp_value: lp.value,
        proven: lp.proven,
        unit: problem.unit,
        unplaceable: u32::try_from(problem.unplaceable.len()).unwrap_or(u32::MAX),
    })
}

/// The capacity units of the agents `plan` launches on: each agent's cpus and memory, summed
/// over the offers its launches name, in `unit` (take it from the [`PackingBound`] or
/// [`PackingProblem`] of the same pool). Call it before the pool settles the plan: offers the
/// pool no longer holds count as empty.
pub fn units_used(pool: &OfferPool, plan: &Plan, unit: &CapacityUnit) -> f64 {
    let mut agents: BTreeMap<&AgentId, &[crate::OfferId]> = BTreeMap::new();
    for launch in &plan.launches {
        agents.entry(&launch.agent_id).or_insert(&launch.offer_ids);
    }
    agents
        .values()
        .map(|ids| {
            let offers = ids.iter().filter_map(|id| pool.get(id));
            let (cpus, mem) =
                offers.fold((Quantity::ZERO, Quantity::ZERO), |(c, m), o| (c + o.scalar(CPUS), m + o.scalar(MEM)));
            unit.units(cpus, mem)
        })
        .sum()
}
