//! The packing optimum: the configuration LP of vector bin packing, solved by column generation.
//!
//! A [`PackingInstance`] has bin types (a capacity vector, a cost and how many bins of the type
//! exist) and item classes (a demand vector and how many items of the class must be packed), all
//! amounts integers (the engine's fixed-point thousandths). A *pattern* is one way to fill one
//! bin: a count of items per class whose demands, summed, fit the bin's capacity in every
//! dimension. The configuration LP (Gilmore–Gomory) chooses how many bins to fill with each
//! pattern, fractionally:
//!
//! ```text
//!  minimise    Σ_p cost(bin of p) · x_p
//!  subject to  Σ_p a_ip · x_p ≥ count_i          one cover row per item class i   (dual π_i ≥ 0)
//!              Σ_{p of type b} x_p ≤ available_b  one availability row per type b  (dual μ_b ≥ 0)
//!              x ≥ 0
//! ```
//!
//! Its optimum is a lower bound on the cost of every integer packing (which is the same problem
//! with `x` integer), and in practice a tight one: for cutting-stock-like instances the integer
//! optimum is rarely more than one bin above it.
//!
//! **Columns.** There are far too many patterns to list, so the *restricted master* holds a few
//! (one "as many as fit" pattern per item class and bin type to start with) and grows. Each
//! round solves the restricted master with a small dense revised simplex (two phases: phase one
//! minimises artificial cover, so no big-M is needed; Bland's rule takes over after a run of
//! degenerate pivots) and reads its duals.
//!
//! **Pricing.** A pattern `k` of type `b` improves the master when its reduced cost is negative,
//! that is when `Σ_i π_i·k_i − cost_b − μ_b > 0`. For each bin type the best `k` is found by a
//! multi-dimensional bounded knapsack (`0 ≤ k_i ≤ count_i`, capacity in every dimension) solved
//! exactly by depth-first branch and bound. The bound at a node is the smallest of the
//! fractional knapsacks of each dimension alone and of a *surrogate* constraint that sums the
//! dimensions with the capacity duals of the knapsack's own LP relaxation (solved once per
//! pricing problem with the same simplex), so at the root it is the LP bound; items are branched
//! on in surrogate order, largest count first. Improving patterns (the best and the last few
//! incumbents of each search, which shortens the tail of the column generation) join the master
//! and the next round starts; when no bin type has one, the master's optimum is the LP optimum
//! ([`PatternLp::proven`]).
//!
//! **Bound without convergence.** The knapsack search is budgeted in nodes and the rounds are
//! budgeted too. When a budget runs out, [`PatternLp::lower_bound`] is still a proven bound: for
//! any duals `π ≥ 0, μ ≥ 0` and `U_b ≥ max_k π·k` (the best pattern value found, or the largest
//! bound of a subtree left unexplored), every pattern `p` of type `b` satisfies
//! `cost_b ≥ π·a_p − μ_b − (U_b − cost_b − μ_b)`, so summing over any feasible `x` gives
//!
//! ```text
//!  Lagrangian:  LP ≥ Σ_i π_i·count_i − Σ_b available_b · max(μ_b, U_b − cost_b)
//!  Farley:      LP ≥ (Σ_i π_i·count_i − Σ_b μ_b·available_b) / θ,   θ = max_b (U_b − μ_b) / cost_b
//! ```
//!
//! (the second because `(π/θ, μ/θ)` is then dual feasible). The larger of the two, and zero, is
//! reported; the Lagrangian one is tight when availability binds, Farley's when it is ample.
//!
//! **Rounding.** [`round`] turns the LP into bins: `floor(x)` copies of each pattern (highest `x`
//! first, items trimmed to what is left, never more bins than available), leftovers first fit
//! into the spare room of those bins, then the LP is solved again on what is left (warm-started
//! with the previous columns) and its patterns are taken the same way, rounding one pattern up
//! when none has `x ≥ 1` ([`Rounding::ResidualLp`]); first fit decreasing packs whatever the
//! residual LP cannot ([`Rounding::FirstFit`] uses only that: faster, a little worse). A last
//! pass moves bins to cheaper types and merges pairs of near-empty bins while the cost falls.
//!
//! Everything is deterministic (no clock, no randomness, ties broken on indices) and budgets
//! count work, never time. [`packing_bound`] builds an instance from an [`OfferPool`] and
//! pending tasks and reports the bound in capacity units.
//!
//! [`OfferPool`]: crate::OfferPool

mod bound;
mod colgen;
mod knapsack;
mod round;
mod simplex;

use std::fmt;

pub use bound::{packing_bound, packing_problem, units_used, CapacityUnit, PackingBound, PackingProblem};
pub use colgen::solve_pattern_lp;
pub use round::{round, round_with, Rounding};

/// A vector bin-packing instance in integer amounts (the engine's fixed-point thousandths).
///
/// Every capacity and demand vector has the same length, the number of dimensions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PackingInstance {
    /// The bin types.
    pub bins: Vec<BinType>,
    /// The item classes.
    pub items: Vec<ItemClass>,
}

/// Bins that share a capacity and a cost.
#[derive(Clone, Debug, PartialEq)]
pub struct BinType {
    /// Capacity per dimension (non-negative).
    pub capacity: Vec<i64>,
    /// Cost of using one bin (finite and positive).
    pub cost: f64,
    /// How many bins of this type exist.
    pub available: u32,
}

/// Items that share a demand vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemClass {
    /// Demand per dimension (non-negative).
    pub demand: Vec<i64>,
    /// How many items of this class must be packed (classes with zero are ignored).
    pub count: u32,
}

/// Work budgets of the solver: counted in steps, never in time, so results are reproducible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Column-generation rounds (master solve plus pricing), both simplex phases together.
    pub max_rounds: u32,
    /// Branch-and-bound nodes per pricing problem (one bin type in one round).
    pub max_knapsack_nodes: u64,
    /// Simplex pivots per master solve.
    pub max_pivots: u64,
}

impl Default for Limits {
    /// Enough to converge on 30 item classes and several bin types with room to spare.
    fn default() -> Limits {
        Limits { max_rounds: 2_000, max_knapsack_nodes: 200_000, max_pivots: 50_000 }
    }
}

/// One pattern of the LP solution: how to fill one bin, and how many bins (fractionally) use it.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// Index of the bin type.
    pub bin: usize,
    /// Items per class in one bin, as `(item class index, count)`, sorted by class, counts > 0.
    pub counts: Vec<(usize, u32)>,
    /// How many bins use the pattern in the LP solution (positive, may be fractional).
    pub x: f64,
}

/// The outcome of column generation.
#[derive(Clone, Debug, PartialEq)]
pub struct PatternLp {
    /// Cost of the last restricted master solution (an upper bound on the LP optimum).
    pub value: f64,
    /// A proven lower bound on the LP optimum (equal to `value` when [`Self::proven`]).
    pub lower_bound: f64,
    /// Whether pricing proved that no pattern improves the master: `value` is the LP optimum.
    pub proven: bool,
    /// The patterns with `x > 0` in the final solution.
    pub patterns: Vec<Pattern>,
}

/// An integer packing: bins with their contents, and what could not be packed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IntegerPacking {
    /// One entry per bin used: `(bin type, [(item class, count)])`, counts > 0, sorted by class.
    pub bins: Vec<(usize, Vec<(usize, u32)>)>,
    /// Total cost of the bins used.
    pub cost: f64,
    /// Items left over as `(item class, count)`, sorted by class.
    pub unplaced: Vec<(usize, u32)>,
}

/// Why an instance has no LP optimum.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum OptimumError {
    /// This bin type's capacity vector is not as long as the first bin type's.
    BinDimensions(usize),
    /// This item class's demand vector is not as long as the bins' capacity vectors.
    ItemDimensions(usize),
    /// This bin type has a negative capacity.
    NegativeCapacity(usize),
    /// This item class has a negative demand.
    NegativeDemand(usize),
    /// This bin type's cost is NaN, infinite, zero or negative.
    BadCost(usize),
    /// No bin type with a bin available can hold one item of this class.
    ItemFitsNoBin(usize),
    /// The bins available cannot hold every item even fractionally; `uncovered` lists, per item
    /// class, how much of it the best fractional packing leaves out.
    Infeasible {
        /// `(item class, items left out)` in the phase-one optimum, by class.
        uncovered: Vec<(usize, f64)>,
    },
    /// The budgets ran out before a fractional packing of every item was found or ruled out.
    LimitReached,
}

impl fmt::Display for OptimumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BinDimensions(b) => write!(f, "bin type {b} has a capacity vector of another length"),
            Self::ItemDimensions(i) => write!(f, "item class {i} has a demand vector of another length"),
            Self::NegativeCapacity(b) => write!(f, "bin type {b} has a negative capacity"),
            Self::NegativeDemand(i) => write!(f, "item class {i} has a negative demand"),
            Self::BadCost(b) => write!(f, "bin type {b} has a cost that is not finite and positive"),
            Self::ItemFitsNoBin(i) => write!(f, "no available bin can hold an item of class {i}"),
            Self::Infeasible { uncovered } => {
                write!(f, "the bins available cannot hold every item; left out:")?;
                for (item, amount) in uncovered {
                    write!(f, " class {item} ({amount:.3})")?;
                }
                Ok(())
            }
            Self::LimitReached => write!(f, "the budgets ran out before a fractional packing was found"),
        }
    }
}

impl std::error::Error for OptimumError {}

impl PackingInstance {
    /// Checks lengths, signs and costs; the number of dimensions.
    fn validate(&self) -> Result<usize, OptimumError> {
        let dims = self.bins.first().map(|b| b.capacity.len()).or(self.items.first().map(|i| i.demand.len()));
        let dims = dims.unwrap_or(0);
        for (b, bin) in self.bins.iter().enumerate() {
            if bin.capacity.len() != dims {
                return Err(OptimumError::BinDimensions(b));
            }
            if bin.capacity.iter().any(|&c| c < 0) {
                return Err(OptimumError::NegativeCapacity(b));
            }
            if !(bin.cost.is_finite() && bin.cost > 0.0) {
                return Err(OptimumError::BadCost(b));
            }
        }
        for (i, item) in self.items.iter().enumerate() {
            if item.demand.len() != dims {
                return Err(OptimumError::ItemDimensions(i));
            }
            if item.demand.iter().any(|&d| d < 0) {
                return Err(OptimumError::NegativeDemand(i));
            }
        }
        Ok(dims)
    }
}

/// How many items with `demand` fit in an empty bin of `capacity` (`u32::MAX` when the demand
/// is zero everywhere). Lengths are assumed equal and amounts non-negative.
fn max_fit(demand: &[i64], capacity: &[i64]) -> u32 {
    let mut fit = u64::from(u32::MAX);
    for (&d, &c) in demand.iter().zip(capacity) {
        if d > 0 {
            fit = fit.min(u64::try_from(c / d).unwrap_or(0));
        }
    }
    u32::try_from(fit).unwrap_or(u32::MAX)
}

/// Whether a filled bin stays within capacity: `Σ count · demand ≤ capacity` in every dimension
/// (false when an index is out of range or a length differs).
fn fits(instance: &PackingInstance, bin: usize, counts: &[(usize, u32)]) -> bool {
    let Some(bin) = instance.bins.get(bin) else { return false };
    let mut used = vec![0i128; bin.capacity.len()];
    for &(i, k) in counts {
        let Some(item) = instance.items.get(i) else { return false };
        if item.demand.len() != used.len() {
            return false;
        }
        for (u, &d) in used.iter_mut().zip(&item.demand) {
            *u += i128::from(d) * i128::from(k);
        }
    }
    used.iter().zip(&bin.capacity).all(|(&u, &c)| u <= i128::from(c))
}
