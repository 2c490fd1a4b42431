//! Column generation: the restricted master, the pricing rounds and the bound they prove.
//!
//! Rows `0..m` are the cover rows of the item classes with a positive count (`≥ count`), rows
//! `m..m + t` the availability rows of the bin types with a bin available (`≤ available`). A
//! column is a pattern: its item counts in the cover rows, a 1 in its type's availability row.

use std::collections::BTreeSet;

use super::knapsack::{best_fill, Knapsack};
use super::simplex::{Phase, Sense, Simplex, Status};
use super::{max_fit, Limits, OptimumError, PackingInstance, Pattern, PatternLp};

/// A pattern improves the master only when its reduced cost is below `−PRICE_TOL·(1 + cost + μ)`:
/// ten times looser than the simplex's own test, so a column the simplex calls optimal is never
/// priced again.
const PRICE_TOL: f64 = 1e-8;
/// Values below this are zero in the final solution.
const X_TOL: f64 = 1e-9;

/// The instance with zero-count classes and unavailable bin types left out.
struct Prepared {
    /// Original indices of the item classes kept.
    items: Vec<usize>,
    demands: Vec<Vec<i64>>,
    counts: Vec<u32>,
    /// Original indices of the bin types kept.
    bins: Vec<usize>,
}

impl Prepared {
    fn new(instance: &PackingInstance) -> Result<Prepared, OptimumError> {
        instance.validate()?;
        let bins: Vec<usize> = (0..instance.bins.len()).filter(|&b| instance.bins[b].available > 0).collect();
        let mut p = Prepared { items: Vec::new(), demands: Vec::new(), counts: Vec::new(), bins };
        for (i, item) in instance.items.iter().enumerate() {
            if item.count == 0 {
                continue;
            }
            if !p.bins.iter().any(|&b| max_fit(&item.demand, &instance.bins[b].capacity) > 0) {
                return Err(OptimumError::ItemFitsNoBin(i));
            }
            p.items.push(i);
            p.demands.push(item.demand.clone());
            p.counts.push(item.count);
        }
        Ok(p)
    }
}

/// What one round of pricing found.
struct Priced {
    /// Improving patterns, in kept indices.
    columns: Vec<Column>,
    /// Whether every bin type's search finished.
    exact: bool,
    /// The lower bound the duals and the pricing upper bounds prove.
    bound: f64,
}

struct Master<'a> {
    instance: &'a PackingInstance,
    prep: Prepared,
    lp: Simplex,
    /// Structural columns, in kept indices, with their simplex column.
    cols: Vec<(Column, usize)>,
    seen: BTreeSet<Column>,
}

/// Solves the configuration LP of `instance` by column generation within `limits`.
///
/// Item classes with a zero count are ignored; with nothing to pack the value is 0. Errors on an
/// invalid instance, on an item class no available bin can hold (the caller may drop it and
/// retry), when the bins available cannot hold every item even fractionally, and when the
/// budgets run out before a fractional packing of every item is found.
///
/// ```
/// use offerpack::optimum::{solve_pattern_lp, BinType, ItemClass, Limits, PackingInstance};
/// let instance = PackingInstance {
///     bins: vec![BinType { capacity: vec![10], cost: 1.0, available: 10 }],
///     items: vec![ItemClass { demand: vec![6], count: 2 }, ItemClass { demand: vec![4], count: 2 }],
/// };
/// let lp = solve_pattern_lp(&instance, &Limits::default()).unwrap();
/// assert!(lp.proven && (lp.value - 2.0).abs() < 1e-9);
/// ```
pub fn solve_pattern_lp(instance: &PackingInstance, limits: &Limits) -> Result<PatternLp, OptimumError> {
    solve_seeded(instance, limits, &[]).map(|(lp, _)| lp)
}

/// A fill pattern as `(bin type, [(item class, count)])`, in the instance's indices.
pub(crate) type Column = (usize, Vec<(usize, u32)>);

/// [`solve_pattern_lp`] starting with `seeds` among the master's columns (each trimmed to the
/// counts; seeds that name unavailable bins or nothing to pack are skipped); also returns every
/// column the master ended with, to seed a later solve.
pub(crate) fn solve_seeded(
    instance: &PackingInstance,
    limits: &Limits,
    seeds: &[Column],
) -> Result<(PatternLp, Vec<Column>), OptimumError> {
    let prep = Prepared::new(instance)?;
    if prep.items.is_empty() {
        return Ok((PatternLp { value: 0.0, lower_bound: 0.0, proven: true, patterns: Vec::new() }, Vec::new()));
    }
    let mut master = Master::new(instance, prep);
    master.seed(seeds);
    let mut rounds = 0u32;
    master.phase_one(limits, &mut rounds)?;
    let lp = master.phase_two(limits, &mut rounds);
    let columns = master.cols.iter().map(|((b, counts), _)| master.original(*b, counts)).collect();
    Ok((lp, columns))
}

impl<'a> Master<'a> {
    fn new(instance: &'a PackingInstance, prep: Prepared) -> Master<'a> {
        let mut rows: Vec<(Sense, f64)> = prep.counts.iter().map(|&n| (Sense::Ge, f64::from(n))).collect();
        rows.extend(prep.bins.iter().map(|&b| (Sense::Le, f64::from(instance.bins[b].available))));
        let lp = Simplex::new(&rows);
        let mut master = Master { instance, prep, lp, cols: Vec::new(), seen: BTreeSet::new() };
        for b in 0..master.prep.bins.len() {
            for i in 0..master.prep.items.len() {
                let k = max_fit(&master.prep.demands[i], master.capacity(b)).min(master.prep.counts[i]);
                if k > 0 {
                    master.add(b, vec![(i, k)]);
                }
            }
        }
        master
    }

    /// Adds the seeds that fit this instance, trimmed to its counts.
    fn seed(&mut self, seeds: &[Column]) {
        for (bin, counts) in seeds {
            let Ok(b) = self.prep.bins.binary_search(bin) else { continue };
            if !super::fits(self.instance, *bin, counts) {
                continue;
            }
            let mut kept = Vec::new();
            for &(i, k) in counts {
                if let Ok(r) = self.prep.items.binary_search(&i) {
                    kept.push((r, k.min(self.prep.counts[r])));
                }
            }
            kept.retain(|&(_, k)| k > 0);
            kept.sort_unstable();
            kept.dedup_by_key(|c| c.0);
            if !kept.is_empty() {
                self.add(b, kept);
            }
        }
    }

    /// A column in the instance's indices.
    fn original(&self, b: usize, counts: &[(usize, u32)]) -> Column {
        (self.prep.bins[b], counts.iter().map(|&(i, k)| (self.prep.items[i], k)).collect())
    }

    fn capacity(&self, b: usize) -> &'a [i64] {
        &self.instance.bins[self.prep.bins[b]].capacity
    }

    fn cost(&self, b: usize) -> f64 {
        self.instance.bins[self.prep.bins[b]].cost
    }

    fn available(&self, b: usize) -> f64 {
        f64::from(self.instance.bins[self.prep.bins[b]].available)
    }

    /// Adds a pattern unless the master already has it; whether it was added.
    fn add(&mut self, b: usize, counts: Vec<(usize, u32)>) -> bool {
        if !self.seen.insert((b, counts.clone())) {
            return false;
        }
        let m = self.prep.items.len();
        let mut entries: Vec<(usize, f64)> = counts.iter().map(|&(i, k)| (i, f64::from(k))).collect();
        entries.push((m + b, 1.0));
        let id = self.lp.add_column(self.cost(b), &entries);
        self.cols.push(((b, counts), id));
        true
    }

    /// Adds the priced columns; whether any was new.
    fn add_all(&mut self, columns: Vec<Column>) -> bool {
        let mut added = false;
        for (b, counts) in columns {
            added |= self.add(b, counts);
        }
        added
    }

    /// Phase one: finds a fractional packing of every item or proves there is none.
    fn phase_one(&mut self, limits: &Limits, rounds: &mut u32) -> Result<(), OptimumError> {
        let total: f64 = self.prep.counts.iter().map(|&n| f64::from(n)).sum();
        let tol = 1e-9 * (1.0 + total);
        loop {
            if *rounds >= limits.max_rounds {
                return Err(OptimumError::LimitReached);
            }
            *rounds += 1;
            if self.lp.optimize(limits.max_pivots) != Status::Optimal {
                return Err(OptimumError::LimitReached);
            }
            if self.lp.infeasibility() <= tol {
                return Ok(());
            }
            let priced = self.price(Phase::One, limits);
            if priced.bound > tol || (priced.exact && priced.columns.is_empty()) {
                return Err(self.infeasible(tol));
            }
            if !self.add_all(priced.columns) {
                return Err(OptimumError::LimitReached);
            }
        }
    }

    fn infeasible(&self, tol: f64) -> OptimumError {
        let uncovered = (0..self.prep.items.len())
            .map(|r| (self.prep.items[r], self.lp.artificial_value(r)))
            .filter(|&(_, v)| v > tol)
            .collect();
        OptimumError::Infeasible { uncovered }
    }

    /// Phase two: minimises cost until pricing proves optimality or a budget runs out.
    fn phase_two(&mut self, limits: &Limits, rounds: &mut u32) -> PatternLp {
        self.lp.set_phase(Phase::Two);
        let (mut bound, mut proven) = (0.0f64, false);
        while *rounds < limits.max_rounds {
            *rounds += 1;
            if self.lp.optimize(limits.max_pivots) != Status::Optimal {
                break;
            }
            let priced = self.price(Phase::Two, limits);
            bound = bound.max(priced.bound);
            if priced.exact && priced.columns.is_empty() {
                proven = true;
                break;
            }
            if !self.add_all(priced.columns) {
                break;
            }
        }
        let value: f64 = self.cols.iter().map(|&((b, _), id)| self.cost(b) * self.lp.value(id)).sum();
        let patterns = self
            .cols
            .iter()
            .filter(|&&(_, id)| self.lp.value(id) > X_TOL)
            .map(|((b, counts), id)| {
                let (bin, counts) = self.original(*b, counts);
                Pattern { bin, counts, x: self.lp.value(*id) }
            })
            .collect();
        let lower_bound = if proven { value } else { bound.min(value) };
        PatternLp { value, lower_bound, proven, patterns }
    }

    /// Prices every bin type against the current duals, and the bound they prove.
    ///
    /// With `π_i ≥ 0` (clamped to `[0, 1]` in phase one, the artificials' cost) and `U_b` at
    /// least the best `Σ π_i·k_i` over fills of type `b`, every feasible packing `x` has
    /// `Σ_i π_i·n_i ≤ Σ_p x_p·π·a_p`, hence
    /// `cost(x) ≥ Σ_i π_i·n_i − Σ_b available_b·max(0, U_b − cost_b)` (Lagrangian: relax the
    /// cover rows, keep availability). In phase two, with `μ_b ≥ 0` the availability duals and
    /// `θ = max_b (U_b − μ_b) / cost_b`, `(π/θ, μ/θ)` is dual feasible, so
    /// `cost(x) ≥ (Σ_i π_i·n_i − Σ_b μ_b·available_b) / θ` (Farley). The larger bound is kept.
    fn price(&self, phase: Phase, limits: &Limits) -> Priced {
        let m = self.prep.items.len();
        let y = self.lp.duals();
        let ceiling = if phase == Phase::One { 1.0 } else { f64::INFINITY };
        let pi: Vec<f64> = y[..m].iter().map(|v| v.clamp(0.0, ceiling)).collect();
        let mu: Vec<f64> = y[m..].iter().map(|v| (-v).max(0.0)).collect();
        let demand: f64 = pi.iter().zip(&self.prep.counts).map(|(p, &n)| p * f64::from(n)).sum();
        let (mut columns, mut exact) = (Vec::new(), true);
        let (mut lagrange, mut theta, mut reserved) = (demand, 0.0f64, 0.0);
        for (b, &mu_b) in mu.iter().enumerate() {
            let cost = if phase == Phase::One { 0.0 } else { self.cost(b) };
            let target = cost + mu_b;
            let knapsack = Knapsack {
                values: &pi,
                demands: &self.prep.demands,
                counts: &self.prep.counts,
                capacity: self.capacity(b),
            };
            let fill = best_fill(&knapsack, target + PRICE_TOL * (1.0 + target), limits.max_knapsack_nodes);
            exact &= fill.exact;
            columns.extend(fill.fills.into_iter().map(|counts| (b, counts)));
            lagrange -= self.available(b) * (fill.upper - cost).max(0.0);
            if phase == Phase::Two {
                theta = theta.max((fill.upper - mu_b) / cost);
                reserved += mu_b * self.available(b);
            }
        }
        let farley = if phase == Phase::Two && theta > 0.0 { (demand - reserved) / theta } else { f64::NEG_INFINITY };
        Priced { columns, exact, bound: lagrange.max(farley) }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{round, BinType, ItemClass};
    use super::*;
    use crate::util::SeededRng;

    fn random_instance(rng: &mut SeededRng) -> PackingInstance {
        let dims = 1 + rng.below(5) as usize;
        let bins = (0..1 + rng.below(4))
            .map(|_| BinType {
                capacity: (0..dims).map(|_| 1_000 * (1 + rng.below(64) as i64)).collect(),
                cost: 0.5 + rng.unit() * 3.0,
                available: if rng.below(3) == 0 { rng.below(40) as u32 } else { 5_000 },
            })
            .collect();
        let items = (0..1 + rng.below(15))
            .map(|_| ItemClass {
                demand: (0..dims).map(|_| 250 * rng.below(40) as i64).collect(),
                count: rng.below(200) as u32,
            })
            .collect();
        PackingInstance { bins, items }
    }

    #[test]
    fn colgen_converges_and_rounds_on_seeded_instances_in_many_dimensions() {
        let mut rng = SeededRng::new(77);
        let limits = Limits::default();
        let mut solved = 0;
        for case in 0..150 {
            let inst = random_instance(&mut rng);
            let lp = match solve_pattern_lp(&inst, &limits) {
                Ok(lp) => lp,
                Err(OptimumError::ItemFitsNoBin(_) | OptimumError::Infeasible { .. }) => continue,
                Err(e) => panic!("case {case}: {e}"),
            };
            solved += 1;
            assert!(lp.proven, "case {case}");
            let mut covered = vec![0.0; inst.items.len()];
            let mut used = vec![0.0; inst.bins.len()];
            for p in &lp.patterns {
                assert!(super::super::fits(&inst, p.bin, &p.counts), "case {case}: {p:?}");
                p.counts.iter().for_each(|&(i, k)| covered[i] += f64::from(k) * p.x);
                used[p.bin] += p.x;
            }
            for (i, it) in inst.items.iter().enumerate() {
                assert!(covered[i] >= f64::from(it.count) - 1e-6, "case {case}: class {i}");
            }
            for (b, bin) in inst.bins.iter().enumerate() {
                assert!(used[b] <= f64::from(bin.available) + 1e-6, "case {case}: type {b}");
            }
            let packing = round(&inst, &lp, &limits);
            let mut placed: Vec<u32> = vec![0; inst.items.len()];
            for (b, counts) in &packing.bins {
                assert!(super::super::fits(&inst, *b, counts), "case {case}: bin over capacity");
                counts.iter().for_each(|&(i, k)| placed[i] += k);
            }
            packing.unplaced.iter().for_each(|&(i, k)| placed[i] += k);
            assert!(placed.iter().zip(&inst.items).all(|(&p, it)| p == it.count), "case {case}");
            if packing.unplaced.is_empty() {
                assert!(packing.cost >= lp.lower_bound - 1e-6, "case {case}");
            }
        }
        assert!(solved >= 80, "{solved}");
    }
}
