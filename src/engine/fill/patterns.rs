//! Filling empty agents by the patterns of the packing LP, when tasks fall into few shapes.
//!
//! The greedy fill chooses one task at a time for the agent at hand; on some shape mixes it
//! strands capacity that a better combination would have used (a tenth more agents than
//! needed). When the waiting tasks come in few shapes (tens), the optimum is within reach: the
//! configuration LP over fill patterns ([`crate::optimum`]) says which combinations of shapes
//! fill agents best and how many agents each should fill. Here each pattern fills as many
//! concrete empty agents of its kind, in fill order, as whole copies of it the LP asks for (the
//! most used patterns first); the fractional rest — a few agents' worth of tasks — is left to
//! the greedy fill, which packs it better than a generic rounding (it scores shapes against the
//! room each agent has left) and at no cost. (`optimum::round` rounds without the engine; the
//! engine does not need it.)
//!
//! Only empty agents take part (an agent in use is already paid for: the greedy fill tops those
//! up first), and only when they come in few kinds: the LP has one row per shape and per kind.
//! Cost is an agent's size — the mean over the packed resources of its total over the smallest
//! total — so a 32-cpu agent costs two 16-cpu ones and the LP minimises capacity, not count.
//! Everything is deterministic: the solver counts work, not time ([`EngineConfig::pattern_budget`]).
//!
//! [`EngineConfig::pattern_budget`]: crate::EngineConfig::pattern_budget

use rustc_hash::FxHashMap;

use super::{Filler, Launches};
use crate::engine::state::PassState;
use crate::optimum::{solve_pattern_lp, BinType, ItemClass, Limits, PackingInstance};
use crate::tables::AgentIx;

/// Most shapes the LP is tried on; beyond, the greedy fill alone (its cost grows with shapes).
pub(crate) const MAX_SHAPES: usize = 48;

/// Most kinds of empty agents the LP is tried on.
const MAX_AGENT_KINDS: usize = 8;

/// Fills agents among `agents` (empty ones, in fill order) with whole copies of the LP patterns
/// of the waiting tasks; returns the agents it filled, in the order filled. Does nothing (returns no
/// agent) when the tasks or agents come in too many kinds, or the LP cannot be solved within
/// `limits`.
pub(super) fn fill_by_patterns(
    filler: &mut Filler<'_>,
    state: &mut PassState,
    agents: &[AgentIx],
    limits: &Limits,
    launches: &mut Launches,
    log: &mut Vec<AgentIx>,
) -> Vec<AgentIx> {
    let waiting: Vec<u32> = (0..filler.shapes.len() as u32).filter(|&s| filler.shapes[s as usize].waiting()).collect();
    if waiting.len() < 2 || waiting.len() > MAX_SHAPES {
        return Vec::new();
    }
    let Some((kinds, members)) = agent_kinds(filler, state, agents) else {
        return Vec::new();
    };
    let bins = kinds.into_iter().zip(&members);
    let bins = bins.map(|((capacity, cost), list)| BinType { capacity, cost, available: list.len() as u32 }).collect();
    let mut instance = PackingInstance { bins, items: Vec::new() };
    // Shapes no kind has room for are left to the greedy fill (and the selector after it).
    let items: Vec<u32> = waiting
        .into_iter()
        .filter(|&s| instance.bins.iter().any(|b| demand(filler, s).zip(&b.capacity).all(|(d, c)| d <= *c)))
        .collect();
    instance.items = items
        .iter()
        .map(|&s| {
            let shape = &filler.shapes[s as usize];
            ItemClass { demand: demand(filler, s).collect(), count: (shape.tasks.len() - shape.next) as u32 }
        })
        .collect();
    if instance.items.is_empty() {
        return Vec::new();
    }
    let Ok(lp) = solve_pattern_lp(&instance, limits) else {
        return Vec::new();
    };
    // Whole copies of each pattern, most used first: the greedy fill that follows packs the
    // fractional rest better than a generic rounding does (it scores shapes against the room
    // each agent has left), and costs next to nothing.
    let mut patterns = lp.patterns;
    patterns.sort_by(|a, b| b.x.total_cmp(&a.x).then(a.bin.cmp(&b.bin)).then(a.counts.cmp(&b.counts)));
    let mut next_of_kind = vec![0usize; members.len()];
    let mut filled = Vec::new();
    for pattern in &patterns {
        for _ in 0..pattern.x.floor() as usize {
            let Some(&agent) = members[pattern.bin].get(next_of_kind[pattern.bin]) else { break };
            next_of_kind[pattern.bin] += 1;
            filler.load(state, agent);
            for &(item, count) in &pattern.counts {
                let s = items[item];
                // Earlier copies may have taken the last tasks of a shape.
                for _ in 0..count {
                    if !filler.fits(s) {
                        break;
                    }
                    filler.place(state, agent, s, launches, log);
                }
            }
            filled.push(agent);
        }
    }
    filled
}

/// Shape `s`'s demand per LP dimension: the filler's dimensions, then ports.
fn demand<'f>(filler: &'f Filler<'_>, s: u32) -> impl Iterator<Item = i64> + 'f {
    let n = filler.dims.len();
    let row = &filler.demand[s as usize * n..(s as usize + 1) * n];
    row.iter().copied().chain(std::iter::once(i64::from(filler.shapes[s as usize].ports)))
}

/// The kinds of `agents` — (capacity per LP dimension, cost) — and each kind's agents in the
/// given order, or `None` beyond [`MAX_AGENT_KINDS`] kinds.
#[allow(clippy::type_complexity)]
fn agent_kinds(
    filler: &mut Filler<'_>,
    state: &PassState,
    agents: &[AgentIx],
) -> Option<(Vec<(Vec<i64>, f64)>, Vec<Vec<AgentIx>>)> {
    let packs = filler.input.packs;
    // The smallest positive total of each packed resource: one unit of it.
    let unit: Vec<i64> = packs
        .iter()
        .map(|&d| agents.iter().map(|&a| state.total(a, d)).filter(|&t| t > 0).min().unwrap_or(0))
        .collect();
    let mut by_capacity: FxHashMap<Vec<i64>, usize> = FxHashMap::default();
    let mut kinds: Vec<(Vec<i64>, f64)> = Vec::new();
    let mut members: Vec<Vec<AgentIx>> = Vec::new();
    let mut capacity: Vec<i64> = Vec::new();
    for &agent in agents {
        filler.load(state, agent);
        capacity.clear();
        capacity.extend_from_slice(&filler.free);
        capacity.push(i64::from(filler.free_ports));
        let kind = match by_capacity.get(capacity.as_slice()) {
            Some(&k) => k,
            None => {
                if kinds.len() == MAX_AGENT_KINDS {
                    return None;
                }
                let (mut sum, mut n) = (0.0, 0);
                for (&d, &u) in packs.iter().zip(&unit) {
                    if u > 0 {
                        sum += state.total(agent, d) as f64 / u as f64;
                        n += 1;
                    }
                }
                let cost = if n > 0 && sum > 0.0 { sum / n as f64 } else { 1.0 };
                by_capacity.insert(capacity.clone(), kinds.len());
                kinds.push((capacity.clone(), cost));
                members.push(Vec::new());
                kinds.len() - 1
            }
        };
        members[kind].push(agent);
    }
    Some((kinds, members))
}
