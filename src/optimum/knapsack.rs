//! Pricing: the multi-dimensional bounded knapsack, by depth-first branch and bound.
//!
//! Maximise `Σ_i v_i·k_i` over integers `0 ≤ k_i ≤ count_i` with `Σ_i k_i·demand_i ≤ capacity`
//! in every dimension. Items are branched on in order of value per normalised size (the sum
//! over dimensions of demand over capacity), trying the largest count first, so the first leaf
//! is the greedy fill. The bound of a node is the smallest, over dimensions, of that dimension's
//! fractional knapsack on the items not yet fixed (each dimension alone is a relaxation, so each
//! bound is valid and so is their minimum).
//!
//! The search only looks for fills worth more than a `threshold` (a pattern must beat its cost
//! plus the availability dual to improve the master), which prunes most of the tree. When the
//! node budget runs out, the largest bound of any subtree left unexplored is kept, so the result
//! always carries a proven upper bound on the true maximum.

use super::simplex::{Phase, Sense, Simplex, Status};

/// One pricing problem: values, demands and counts per item, and the bin's capacity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Knapsack<'a> {
    /// Value of one item of each class (classes with value ≤ 0 are never taken).
    pub values: &'a [f64],
    /// Demand vector of each class.
    pub demands: &'a [Vec<i64>],
    /// Most items of each class a fill may hold.
    pub counts: &'a [u32],
    /// The bin's capacity per dimension.
    pub capacity: &'a [i64],
}

/// The outcome of a search.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Fill {
    /// Fills worth more than the threshold, as `(class, count)` sorted by class: the best first,
    /// then up to [`KEEP`]` − 1` earlier incumbents of the search (each better than the one before).
    pub fills: Vec<Vec<(usize, u32)>>,
    /// The best fill's value (the threshold when none was found).
    pub value: f64,
    /// A proven upper bound on the best value over all fills (at least `value`).
    pub upper: f64,
    /// Whether the search finished: then `upper` is `value` up to the pruning tolerance, and no
    /// fill is worth more than the threshold when `fills` is empty.
    pub exact: bool,
}

/// How many of the last incumbents a search reports: more improving columns per pricing round
/// means fewer rounds when column generation tails off.
pub(crate) const KEEP: usize = 4;

/// A candidate item, in branching order.
#[derive(Clone, Debug)]
struct Item {
    class: usize,
    value: f64,
    demand: Vec<i64>,
    /// Largest count that fits an empty bin, capped by the class count.
    cap: u32,
    /// Whether it takes no room at all (then all of it is always taken).
    free: bool,
    /// Its room in the surrogate constraint: `Σ_d λ_d·demand_d`.
    weight: f64,
}

struct Search<'a> {
    items: Vec<Item>,
    /// Per dimension, item positions by value per unit of that dimension, free ones first.
    orders: Vec<Vec<usize>>,
    /// The surrogate multipliers `λ_d ≥ 0` per dimension.
    lambda: Vec<f64>,
    rem: Vec<i64>,
    capacity: &'a [i64],
    cur: Vec<u32>,
    /// The last incumbents, oldest first.
    found: Vec<Vec<u32>>,
    best_value: f64,
    nodes: u64,
    budget: u64,
    /// Largest bound of a subtree cut off by the budget.
    open: f64,
    exhausted: bool,
}

/// Searches for the most valuable fill worth more than `threshold`, within `budget` nodes.
pub(crate) fn best_fill(problem: &Knapsack<'_>, threshold: f64, budget: u64) -> Fill {
    let mut search = Search::new(problem, threshold, budget);
    let surrogate = search.surrogate(0);
    search.dfs(0, 0.0, surrogate);
    let fills = search
        .found
        .iter()
        .rev()
        .map(|cur| {
            let mut counts: Vec<(usize, u32)> =
                search.items.iter().zip(cur).filter(|(_, &k)| k > 0).map(|(it, &k)| (it.class, k)).collect();
            counts.sort_unstable();
            counts
        })
        .collect();
    let value = search.best_value;
    // Pruning drops subtrees bounded within a hair of the best: widen the bound by as much.
    let slack = 1e-12 * (1.0 + value.abs());
    let upper = if search.exhausted { value.max(search.open) } else { value } + slack;
    Fill { fills, value, upper, exact: !search.exhausted }
}

/// Surrogate multipliers: the capacity duals of the LP relaxation `max v·k, D·k ≤ capacity,
/// 0 ≤ k ≤ cap`, so the surrogate bound at the root is the LP bound. `None` if the LP stalls.
fn multipliers(items: &[Item], capacity: &[i64]) -> Option<Vec<f64>> {
    let dims = capacity.len();
    // Dimension rows are scaled to a capacity of 1, which keeps the simplex well conditioned.
    let mut rows = vec![(Sense::Le, 1.0); dims];
    rows.extend(items.iter().map(|it| (Sense::Le, f64::from(it.cap))));
    let mut lp = Simplex::new(&rows);
    for (i, it) in items.iter().enumerate() {
        let mut entries: Vec<(usize, f64)> =
            (0..dims).filter(|&d| capacity[d] > 0).map(|d| (d, it.demand[d] as f64 / capacity[d] as f64)).collect();
        entries.push((dims + i, 1.0));
        lp.add_column(-it.value, &entries);
    }
    lp.set_phase(Phase::Two);
    if lp.optimize(100 + 10 * (dims + items.len()) as u64) != Status::Optimal {
        return None;
    }
    let y = lp.duals();
    Some((0..dims).map(|d| if capacity[d] > 0 { (-y[d]).max(0.0) / capacity[d] as f64 } else { 0.0 }).collect())
}

impl<'a> Search<'a> {
    fn new(p: &Knapsack<'a>, threshold: f64, budget: u64) -> Search<'a> {
        let dims = p.capacity.len();
        let mut items: Vec<Item> = Vec::new();
        for (class, ((&value, demand), &count)) in p.values.iter().zip(p.demands).zip(p.counts).enumerate() {
            let cap = super::max_fit(demand, p.capacity).min(count);
            if value > 0.0 && cap > 0 && demand.len() == dims {
                let free = demand.iter().all(|&d| d == 0);
                items.push(Item { class, value, demand: demand.clone(), cap, free, weight: 0.0 });
            }
        }
        let lambda = multipliers(&items, p.capacity)
            .unwrap_or_else(|| p.capacity.iter().map(|&c| if c > 0 { 1.0 / c as f64 } else { 0.0 }).collect());
        for it in &mut items {
            it.weight = it.demand.iter().zip(&lambda).map(|(&d, &l)| d as f64 * l).sum();
        }
        let density = |it: &Item| if it.weight > 0.0 { it.value / it.weight } else { f64::INFINITY };
        items.sort_by(|a, b| density(b).total_cmp(&density(a)).then(a.class.cmp(&b.class)));
        let orders = (0..dims)
            .map(|d| {
                let per = |it: &Item| if it.demand[d] == 0 { f64::INFINITY } else { it.value / it.demand[d] as f64 };
                let mut order: Vec<usize> = (0..items.len()).collect();
                order.sort_by(|&a, &b| per(&items[b]).total_cmp(&per(&items[a])).then(a.cmp(&b)));
                order
            })
            .collect();
        let n = items.len();
        Search {
            items,
            orders,
            lambda,
            rem: p.capacity.to_vec(),
            capacity: p.capacity,
            cur: vec![0; n],
            found: Vec::new(),
            best_value: threshold,
            nodes: 0,
            budget,
            open: f64::NEG_INFINITY,
            exhausted: false,
        }
    }

    /// The surrogate bound on what the items at positions `depth..` can add in the room left:
    /// the fractional knapsack on `Σ_d λ_d·demand_d ≤ Σ_d λ_d·room_d`, items in their order.
    fn surrogate(&self, depth: usize) -> f64 {
        let mut room: f64 = self.rem.iter().zip(&self.lambda).map(|(&r, &l)| r as f64 * l).sum();
        let mut total = 0.0;
        for it in &self.items[depth..] {
            if it.weight <= 0.0 {
                total += it.value * f64::from(it.cap);
            } else if room > 0.0 {
                let take = (room / it.weight).min(f64::from(it.cap));
                total += take * it.value;
                room -= take * it.weight;
            }
        }
        total
    }

    /// The smallest of `surrogate` (the surrogate bound at `depth`) and each dimension's own
    /// fractional bound, stopping as soon as one is `≤ cutoff`.
    fn bound(&self, depth: usize, cutoff: f64, surrogate: f64) -> f64 {
        let mut best = surrogate;
        for (d, order) in self.orders.iter().enumerate() {
            if best <= cutoff {
                break;
            }
            let mut room = self.rem[d] as f64;
            let mut total = 0.0;
            for &p in order {
                if p < depth {
                    continue;
                }
                let it = &self.items[p];
                let need = it.demand[d] as f64;
                if need == 0.0 {
                    total += it.value * f64::from(it.cap);
                    continue;
                }
                if room <= 0.0 {
                    break;
                }
                let take = (room / need).min(f64::from(it.cap));
                total += take * it.value;
                room -= take * need;
            }
            best = best.min(total);
        }
        best
    }

    /// Explores the fills of positions `depth..`; `surrogate` is their surrogate bound.
    fn dfs(&mut self, depth: usize, value: f64, surrogate: f64) {
        if depth == self.items.len() {
            if value > self.best_value {
                self.best_value = value;
                if self.found.len() == KEEP {
                    self.found.remove(0);
                }
                self.found.push(self.cur.clone());
            }
            return;
        }
        let cutoff = self.best_value + 1e-12 * (1.0 + self.best_value.abs());
        let upper = value + self.bound(depth, cutoff - value, surrogate);
        if self.nodes >= self.budget {
            self.exhausted = true;
            self.open = self.open.max(upper);
            return;
        }
        self.nodes += 1;
        if upper <= cutoff {
            return;
        }
        let (item_value, kmax, free) = {
            let it = &self.items[depth];
            let fit = it.demand.iter().zip(&self.rem).filter(|(&d, _)| d > 0).map(|(&d, &r)| r / d).min();
            let fit = fit.map_or(u64::from(it.cap), |f| u64::try_from(f).unwrap_or(0));
            (it.value, u32::try_from(fit.min(u64::from(it.cap))).unwrap_or(0), it.free)
        };
        let lowest = if free { kmax } else { 0 };
        for k in (lowest..=kmax).rev() {
            if self.exhausted {
                self.open = self.open.max(upper);
                break;
            }
            self.take(depth, i64::from(k));
            let child = value + f64::from(k) * item_value;
            let child_surrogate = self.surrogate(depth + 1);
            // This item is the densest left in the surrogate order, so the surrogate bound only
            // falls as `k` falls: once it prunes, it prunes every smaller count too.
            if child + child_surrogate <= self.best_value + 1e-12 * (1.0 + self.best_value.abs()) {
                self.take(depth, -i64::from(k));
                break;
            }
            self.cur[depth] = k;
            self.dfs(depth + 1, child, child_surrogate);
            self.take(depth, -i64::from(k));
        }
        self.cur[depth] = 0;
    }

    /// Takes `k` items at `depth` out of the room left (gives them back when `k` is negative).
    fn take(&mut self, depth: usize, k: i64) {
        for (r, &d) in self.rem.iter_mut().zip(&self.items[depth].demand) {
            *r -= k * d;
        }
        debug_assert!(self.rem.iter().zip(self.capacity).all(|(&r, &c)| r <= c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every fill, by brute force: the best value.
    fn brute(p: &Knapsack<'_>) -> f64 {
        fn go(p: &Knapsack<'_>, i: usize, rem: &[i64]) -> f64 {
            if i == p.values.len() {
                return 0.0;
            }
            let mut best = 0.0f64;
            for k in 0..=i64::from(p.counts[i]) {
                let left: Vec<i64> = rem.iter().zip(&p.demands[i]).map(|(&r, &d)| r - k * d).collect();
                if left.iter().any(|&r| r < 0) {
                    break;
                }
                best = best.max(k as f64 * p.values[i] + go(p, i + 1, &left));
            }
            best
        }
        go(p, 0, p.capacity)
    }

    #[test]
    fn knapsack_finds_the_two_dimensional_optimum() {
        let demands = vec![vec![7, 3], vec![3, 7], vec![5, 5], vec![2, 2]];
        let p =
            Knapsack { values: &[1.0, 1.0, 0.9, 0.3], demands: &demands, counts: &[3, 3, 3, 5], capacity: &[10, 10] };
        let fill = best_fill(&p, 0.0, 1_000_000);
        assert!(fill.exact);
        assert!((fill.value - brute(&p)).abs() < 1e-12, "{fill:?}");
        assert!((fill.value - 2.0).abs() < 1e-12, "{fill:?}");
        assert_eq!(fill.fills.first(), Some(&vec![(0, 1), (1, 1)]));
    }

    #[test]
    fn knapsack_matches_brute_force_on_seeded_problems() {
        let mut rng = crate::util::SeededRng::new(11);
        for _ in 0..300 {
            let n = 1 + rng.below(5) as usize;
            let capacity = vec![10 + rng.below(30) as i64, 10 + rng.below(30) as i64];
            let demands: Vec<Vec<i64>> = (0..n).map(|_| vec![rng.below(15) as i64, 1 + rng.below(15) as i64]).collect();
            let values: Vec<f64> = (0..n).map(|_| rng.unit() * 2.0 - 0.3).collect();
            let counts: Vec<u32> = (0..n).map(|_| rng.below(5) as u32).collect();
            let p = Knapsack { values: &values, demands: &demands, counts: &counts, capacity: &capacity };
            let fill = best_fill(&p, 0.0, 1_000_000);
            let want = brute(&p);
            assert!(fill.exact);
            assert!((fill.value.max(0.0) - want).abs() < 1e-9, "{fill:?} vs {want}");
            for (n, counts) in fill.fills.iter().enumerate() {
                let got: f64 = counts.iter().map(|&(i, k)| values[i] * f64::from(k)).sum();
                assert!(if n == 0 { (got - fill.value).abs() < 1e-9 } else { got > 0.0 && got < fill.value });
            }
        }
    }

    #[test]
    fn knapsack_keeps_a_valid_upper_bound_when_the_budget_runs_out() {
        let demands: Vec<Vec<i64>> = (0..12).map(|i| vec![10 + i, 23 - i]).collect();
        let values: Vec<f64> = (0..12).map(|i| 1.0 + 0.01 * i as f64).collect();
        let counts = vec![4; 12];
        let p = Knapsack { values: &values, demands: &demands, counts: &counts, capacity: &[100, 100] };
        let full = best_fill(&p, 0.0, u64::MAX);
        let cut = best_fill(&p, 0.0, 5);
        assert!(full.exact && !cut.exact);
        assert!(cut.value <= full.value + 1e-12);
        assert!(cut.upper >= full.value - 1e-12, "{cut:?} vs {full:?}");
    }

    #[test]
    fn knapsack_reports_nothing_above_the_threshold() {
        let demands = vec![vec![6], vec![4]];
        let p = Knapsack { values: &[0.5, 0.5], demands: &demands, counts: &[2, 2], capacity: &[10] };
        let fill = best_fill(&p, 1.0, 1_000);
        assert!(fill.exact && fill.fills.is_empty());
        assert!(fill.upper <= 1.0 + 1e-9);
    }
}
