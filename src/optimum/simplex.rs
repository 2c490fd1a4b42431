//! A dense revised simplex for the small masters of column generation.
//!
//! The master has few rows (one per item class and bin type) and gains columns as pricing finds
//! them, so the basis inverse is kept explicitly (`m × m`, row-major), updated at every pivot and
//! rebuilt by Gauss–Jordan every [`REFACTOR_EVERY`] pivots to shed rounding errors.
//!
//! Rows are normalised to a non-negative right-hand side. A `≤` row gets a slack that starts in
//! the basis; a `≥` row gets a surplus and an artificial that starts in the basis; an `=` row an
//! artificial. Phase one minimises the sum of artificials; phase two drives the artificials left
//! at zero out of the basis, never lets one enter again, and minimises the real costs. Entering
//! columns are chosen by the most negative reduced cost (Dantzig), and by Bland's rule (lowest
//! index, lowest basic index on ratio ties) after [`DEGENERATE_RUN`] pivots in a row that did not
//! move, until one moves again: Bland's rule cannot cycle.

/// Pivots between two rebuilds of the basis inverse.
const REFACTOR_EVERY: u32 = 64;
/// Degenerate pivots in a row before Bland's rule takes over.
const DEGENERATE_RUN: u32 = 50;
/// Smallest pivot element accepted by the ratio test.
const PIVOT_TOL: f64 = 1e-9;
/// Relative tolerance on reduced costs.
const COST_TOL: f64 = 1e-9;

/// The sense of a constraint row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sense {
    /// `a·x ≤ b`.
    Le,
    /// `a·x ≥ b`.
    Ge,
    /// `a·x = b`.
    #[cfg_attr(not(test), allow(dead_code))]
    Eq,
}

/// What a column is to the simplex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Structural,
    Slack,
    Artificial,
}

/// How an optimisation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// No column has a negative reduced cost.
    Optimal,
    /// A column with negative reduced cost can grow without bound.
    Unbounded,
    /// The pivot budget ran out first.
    PivotLimit,
}

/// Which objective is minimised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The sum of the artificial variables.
    One,
    /// The real costs, artificials barred from the basis.
    Two,
}

#[derive(Clone, Debug)]
struct Column {
    cost: f64,
    kind: Kind,
    /// `(row, coefficient)` in the normalised orientation.
    entries: Vec<(usize, f64)>,
}

/// A linear program `min c·x` over rows of [`Sense`], `x ≥ 0`, with its current basis.
#[derive(Clone, Debug)]
pub(crate) struct Simplex {
    m: usize,
    rhs: Vec<f64>,
    /// Rows multiplied by −1 to make their right-hand side non-negative.
    flipped: Vec<bool>,
    cols: Vec<Column>,
    /// The column basic in each row.
    basis: Vec<usize>,
    /// The row each column is basic in.
    row_of: Vec<Option<usize>>,
    /// The artificial column of each row, if it has one.
    artificial: Vec<Option<usize>>,
    /// The basis inverse, row-major.
    binv: Vec<f64>,
    /// Values of the basic columns.
    xb: Vec<f64>,
    phase: Phase,
    since_refactor: u32,
}

impl Simplex {
    /// A program with these rows `(sense, right-hand side)` and no structural column yet.
    pub(crate) fn new(rows: &[(Sense, f64)]) -> Simplex {
        let m = rows.len();
        let mut s = Simplex {
            m,
            rhs: Vec::with_capacity(m),
            flipped: Vec::with_capacity(m),
            cols: Vec::new(),
            basis: Vec::with_capacity(m),
            row_of: Vec::new(),
            artificial: vec![None; m],
            binv: vec![0.0; m * m],
            xb: Vec::with_capacity(m),
            phase: Phase::One,
            since_refactor: 0,
        };
        for (r, &(sense, b)) in rows.iter().enumerate() {
            let flip = b < 0.0;
            let sense = match (sense, flip) {
                (Sense::Le, true) => Sense::Ge,
                (Sense::Ge, true) => Sense::Le,
                (other, _) => other,
            };
            s.flipped.push(flip);
            s.rhs.push(b.abs());
            if sense == Sense::Ge {
                s.push(0.0, Kind::Slack, vec![(r, -1.0)]);
            }
            let kind = if sense == Sense::Le { Kind::Slack } else { Kind::Artificial };
            let j = s.push(0.0, kind, vec![(r, 1.0)]);
            if kind == Kind::Artificial {
                s.artificial[r] = Some(j);
            }
            s.basis.push(j);
            s.row_of[j] = Some(r);
            s.binv[r * m + r] = 1.0;
            s.xb.push(b.abs());
        }
        s
    }

    fn push(&mut self, cost: f64, kind: Kind, entries: Vec<(usize, f64)>) -> usize {
        self.cols.push(Column { cost, kind, entries });
        self.row_of.push(None);
        self.cols.len() - 1
    }

    /// Adds a structural column (`(row, coefficient)` as the rows were given), out of the basis.
    pub(crate) fn add_column(&mut self, cost: f64, entries: &[(usize, f64)]) -> usize {
        let entries = entries
            .iter()
            .filter(|&&(r, v)| r < self.m && v != 0.0)
            .map(|&(r, v)| (r, if self.flipped[r] { -v } else { v }))
            .collect();
        self.push(cost, Kind::Structural, entries)
    }

    /// The value of a column in the current basic solution.
    pub(crate) fn value(&self, col: usize) -> f64 {
        self.row_of.get(col).copied().flatten().map_or(0.0, |r| self.xb[r])
    }

    /// The objective of the current phase at the current basic solution.
    #[cfg(test)]
    pub(crate) fn objective(&self) -> f64 {
        (0..self.m).map(|r| self.cost(self.basis[r]) * self.xb[r]).sum()
    }

    /// The sum of the artificial variables (zero when the basic solution is feasible).
    pub(crate) fn infeasibility(&self) -> f64 {
        self.artificial.iter().flatten().map(|&j| self.value(j)).sum()
    }

    /// The value of a row's artificial variable (zero for rows without one).
    pub(crate) fn artificial_value(&self, row: usize) -> f64 {
        self.artificial.get(row).copied().flatten().map_or(0.0, |j| self.value(j))
    }

    /// The dual value of each row for the current phase, as the rows were given: for a
    /// minimisation, `≥` rows have duals ≥ 0 and `≤` rows ≤ 0 at an optimum.
    pub(crate) fn duals(&self) -> Vec<f64> {
        let mut y = vec![0.0; self.m];
        self.duals_into(&mut y);
        y.iter().zip(&self.flipped).map(|(&v, &f)| if f { -v } else { v }).collect()
    }

    fn cost(&self, j: usize) -> f64 {
        let col = &self.cols[j];
        match (self.phase, col.kind) {
            (Phase::One, Kind::Artificial) => 1.0,
            (Phase::One, _) | (Phase::Two, Kind::Artificial) => 0.0,
            (Phase::Two, _) => col.cost,
        }
    }

    /// Switches objective; entering phase two pivots zero artificials out of the basis.
    pub(crate) fn set_phase(&mut self, phase: Phase) {
        if phase == Phase::Two && self.phase == Phase::One {
            self.drive_out_artificials();
        }
        self.phase = phase;
    }

    /// Runs primal simplex pivots from the current basis, at most `max_pivots` of them.
    pub(crate) fn optimize(&mut self, max_pivots: u64) -> Status {
        let (mut y, mut w) = (vec![0.0; self.m], vec![0.0; self.m]);
        let (mut pivots, mut degenerate, mut bland) = (0u64, 0u32, false);
        loop {
            if self.since_refactor >= REFACTOR_EVERY {
                self.refactor();
            }
            self.duals_into(&mut y);
            let Some(q) = self.entering(&y, bland) else { return Status::Optimal };
            if pivots >= max_pivots {
                return Status::PivotLimit;
            }
            self.ftran(q, &mut w);
            let Some(r) = self.leaving(&w, bland) else { return Status::Unbounded };
            let step = self.xb[r].max(0.0) / w[r];
            self.pivot(r, q, &w);
            pivots += 1;
            if step <= 1e-12 {
                degenerate += 1;
                bland |= degenerate >= DEGENERATE_RUN;
            } else {
                degenerate = 0;
                bland = false;
            }
        }
    }

    /// `y = c_B · B⁻¹` in the normalised orientation.
    fn duals_into(&self, y: &mut [f64]) {
        y.fill(0.0);
        for k in 0..self.m {
            let c = self.cost(self.basis[k]);
            if c != 0.0 {
                for (yr, &b) in y.iter_mut().zip(&self.binv[k * self.m..(k + 1) * self.m]) {
                    *yr += c * b;
                }
            }
        }
    }

    fn reduced_cost(&self, j: usize, y: &[f64]) -> f64 {
        self.cost(j) - self.cols[j].entries.iter().map(|&(r, v)| y[r] * v).sum::<f64>()
    }

    fn entering(&self, y: &[f64], bland: bool) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for j in 0..self.cols.len() {
            if self.row_of[j].is_some() || (self.phase == Phase::Two && self.cols[j].kind == Kind::Artificial) {
                continue;
            }
            let d = self.reduced_cost(j, y);
            if d < -COST_TOL * (1.0 + self.cost(j).abs()) {
                if bland {
                    return Some(j);
                }
                if best.is_none_or(|(_, bd)| d < bd) {
                    best = Some((j, d));
                }
            }
        }
        best.map(|(j, _)| j)
    }

    /// `w = B⁻¹ · a_q`.
    fn ftran(&self, q: usize, w: &mut [f64]) {
        w.fill(0.0);
        for &(r, v) in &self.cols[q].entries {
            for (i, wi) in w.iter_mut().enumerate() {
                *wi += self.binv[i * self.m + r] * v;
            }
        }
    }

    fn leaving(&self, w: &[f64], bland: bool) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, &wi) in w.iter().enumerate() {
            if wi <= PIVOT_TOL {
                continue;
            }
            let ratio = self.xb[i].max(0.0) / wi;
            let Some((bi, br)) = best else {
                best = Some((i, ratio));
                continue;
            };
            let slack = 1e-12 * (1.0 + br);
            let better = if ratio < br - slack {
                true
            } else if ratio <= br + slack {
                if bland {
                    self.basis[i] < self.basis[bi]
                } else {
                    wi > w[bi]
                }
            } else {
                false
            };
            if better {
                best = Some((i, ratio));
            }
        }
        best.map(|(i, _)| i)
    }

    fn pivot(&mut self, r: usize, q: usize, w: &[f64]) {
        let m = self.m;
        let piv = w[r];
        for v in &mut self.binv[r * m..(r + 1) * m] {
            *v /= piv;
        }
        let theta = self.xb[r] / piv;
        for (i, &f) in w.iter().enumerate() {
            if i == r || f == 0.0 {
                continue;
            }
            for k in 0..m {
                self.binv[i * m + k] -= f * self.binv[r * m + k];
            }
            self.xb[i] -= f * theta;
            if self.xb[i] < 0.0 && self.xb[i] > -1e-9 * (1.0 + self.rhs[i].abs()) {
                self.xb[i] = 0.0;
            }
        }
        self.xb[r] = theta;
        self.row_of[self.basis[r]] = None;
        self.basis[r] = q;
        self.row_of[q] = Some(r);
        self.since_refactor += 1;
    }

    /// Rebuilds `B⁻¹` from the basis by Gauss–Jordan with partial pivoting (keeps the old one if
    /// the basis looks singular), then the basic values from it.
    fn refactor(&mut self) {
        let m = self.m;
        self.since_refactor = 0;
        let mut a = vec![0.0; m * m];
        for (k, &j) in self.basis.iter().enumerate() {
            for &(r, v) in &self.cols[j].entries {
                a[r * m + k] = v;
            }
        }
        let mut inv = vec![0.0; m * m];
        for i in 0..m {
            inv[i * m + i] = 1.0;
        }
        for c in 0..m {
            let p = (c..m).max_by(|&x, &y| a[x * m + c].abs().total_cmp(&a[y * m + c].abs())).unwrap_or(c);
            if a[p * m + c].abs() < 1e-12 {
                return;
            }
            if p != c {
                for k in 0..m {
                    a.swap(p * m + k, c * m + k);
                    inv.swap(p * m + k, c * m + k);
                }
            }
            let piv = a[c * m + c];
            // Columns left of `c` are already eliminated in `a`.
            for k in c..m {
                a[c * m + k] /= piv;
            }
            for v in &mut inv[c * m..(c + 1) * m] {
                *v /= piv;
            }
            for i in 0..m {
                let f = a[i * m + c];
                if i == c || f == 0.0 {
                    continue;
                }
                for k in c..m {
                    a[i * m + k] -= f * a[c * m + k];
                }
                for k in 0..m {
                    inv[i * m + k] -= f * inv[c * m + k];
                }
            }
        }
        self.binv = inv;
        for i in 0..m {
            let v: f64 = (0..m).map(|k| self.binv[i * m + k] * self.rhs[k]).sum();
            self.xb[i] = if v < 0.0 && v > -1e-9 * (1.0 + self.rhs[i].abs()) { 0.0 } else { v };
        }
    }

    /// Pivots each artificial still basic (at zero after phase one) out on the non-artificial
    /// column with the largest entry in its tableau row; a row with none is redundant and keeps
    /// its artificial at zero.
    fn drive_out_artificials(&mut self) {
        let mut w = vec![0.0; self.m];
        for r in 0..self.m {
            if self.cols[self.basis[r]].kind != Kind::Artificial {
                continue;
            }
            let row = &self.binv[r * self.m..(r + 1) * self.m];
            let mut best: Option<(usize, f64)> = None;
            for (j, col) in self.cols.iter().enumerate() {
                if col.kind == Kind::Artificial || self.row_of[j].is_some() {
                    continue;
                }
                let t: f64 = col.entries.iter().map(|&(i, v)| row[i] * v).sum::<f64>().abs();
                if t > 1e-9 && best.is_none_or(|(_, bt)| t > bt) {
                    best = Some((j, t));
                }
            }
            if let Some((j, _)) = best {
                self.ftran(j, &mut w);
                self.pivot(r, j, &w);
            }
        }
        self.refactor();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two phases; `None` when infeasible or not solved to optimality.
    fn solve(lp: &mut Simplex) -> Option<f64> {
        if lp.optimize(10_000) != Status::Optimal || lp.infeasibility() > 1e-9 {
            return None;
        }
        lp.set_phase(Phase::Two);
        (lp.optimize(10_000) == Status::Optimal).then(|| lp.objective())
    }

    #[test]
    fn simplex_solves_textbook_maximisation() {
        // max 3x + 5y st x ≤ 4, 2y ≤ 12, 3x + 2y ≤ 18: optimum 36 at (2, 6).
        let mut lp = Simplex::new(&[(Sense::Le, 4.0), (Sense::Le, 12.0), (Sense::Le, 18.0)]);
        let x = lp.add_column(-3.0, &[(0, 1.0), (2, 3.0)]);
        let y = lp.add_column(-5.0, &[(1, 2.0), (2, 2.0)]);
        let z = solve(&mut lp).unwrap();
        assert!((z + 36.0).abs() < 1e-9, "{z}");
        assert!((lp.value(x) - 2.0).abs() < 1e-9 && (lp.value(y) - 6.0).abs() < 1e-9);
    }

    #[test]
    fn simplex_covering_problem_has_expected_duals() {
        // min x + y st x + 2y ≥ 4, 3x + y ≥ 6: optimum 2.8 at (1.6, 1.2), duals (0.4, 0.2).
        let mut lp = Simplex::new(&[(Sense::Ge, 4.0), (Sense::Ge, 6.0)]);
        lp.add_column(1.0, &[(0, 1.0), (1, 3.0)]);
        lp.add_column(1.0, &[(0, 2.0), (1, 1.0)]);
        let z = solve(&mut lp).unwrap();
        assert!((z - 2.8).abs() < 1e-9, "{z}");
        let y = lp.duals();
        assert!((y[0] - 0.4).abs() < 1e-9 && (y[1] - 0.2).abs() < 1e-9, "{y:?}");
    }

    #[test]
    fn simplex_handles_equalities_and_negative_right_hand_sides() {
        // min 2x + 3y st x + y = 5, x - y ≤ -1 (so y ≥ x + 1): optimum at (2, 3) = 13.
        let mut lp = Simplex::new(&[(Sense::Eq, 5.0), (Sense::Le, -1.0)]);
        let x = lp.add_column(2.0, &[(0, 1.0), (1, 1.0)]);
        lp.add_column(3.0, &[(0, 1.0), (1, -1.0)]);
        let z = solve(&mut lp).unwrap();
        assert!((z - 13.0).abs() < 1e-9, "{z}");
        assert!((lp.value(x) - 2.0).abs() < 1e-9);
        // The dual of the `≤` row is non-positive, as given (not as normalised).
        assert!(lp.duals()[1] <= 1e-12, "{:?}", lp.duals());
    }

    #[test]
    fn simplex_reports_infeasible_and_unbounded() {
        let mut lp = Simplex::new(&[(Sense::Eq, 1.0), (Sense::Ge, 2.0)]);
        lp.add_column(1.0, &[(0, 1.0), (1, 1.0)]);
        lp.add_column(1.0, &[(0, 1.0), (1, 1.0)]);
        assert_eq!(solve(&mut lp), None);
        assert!(lp.infeasibility() > 0.5);

        let mut lp = Simplex::new(&[(Sense::Le, 1.0)]);
        lp.add_column(-1.0, &[(0, 1.0)]);
        lp.add_column(0.0, &[(0, -1.0)]);
        lp.set_phase(Phase::Two);
        assert_eq!(lp.optimize(100), Status::Unbounded);
    }

    #[test]
    fn simplex_does_not_cycle_on_beales_example() {
        // Beale's degenerate program, which cycles under Dantzig's rule with lowest-index ties.
        let mut lp = Simplex::new(&[(Sense::Le, 0.0), (Sense::Le, 0.0), (Sense::Le, 1.0)]);
        lp.add_column(-0.75, &[(0, 0.25), (1, 0.5)]);
        lp.add_column(20.0, &[(0, -8.0), (1, -12.0)]);
        lp.add_column(-0.5, &[(0, -1.0), (1, -0.5), (2, 1.0)]);
        lp.add_column(6.0, &[(0, 9.0), (1, 3.0)]);
        let z = solve(&mut lp).unwrap();
        assert!((z + 1.25).abs() < 1e-9, "{z}");
    }

    #[test]
    fn simplex_stops_at_the_pivot_budget() {
        let mut lp = Simplex::new(&[(Sense::Le, 4.0), (Sense::Le, 12.0), (Sense::Le, 18.0)]);
        lp.add_column(-3.0, &[(0, 1.0), (2, 3.0)]);
        lp.add_column(-5.0, &[(1, 2.0), (2, 2.0)]);
        lp.set_phase(Phase::Two);
        assert_eq!(lp.optimize(1), Status::PivotLimit);
        assert!(lp.objective() > -36.0 + 1e-6);
    }
}
