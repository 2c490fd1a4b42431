//! Integer rounding: from the fractional patterns to bins with whole items.
//!
//! 1. `floor(x)` copies of each pattern, highest `x` first (then fuller patterns, then the
//!    earlier one), each copy trimmed to the items still left and skipped when no bin of its
//!    type is left or nothing of it is left.
//! 2. Items left go, first fit, into the spare room of the bins opened so far.
//! 3. [`Rounding::ResidualLp`]: the LP is solved again on what is left (items and bins),
//!    starting from the previous solve's columns trimmed to what is left, and step 1 taken on
//!    its patterns; when none has `x ≥ 1` the one with the largest `x` is rounded
//!    up to one bin. Repeat until nothing is left or the residual LP fails. A class that no bin
//!    left can hold is set aside.
//! 4. First fit decreasing for anything still left: largest items (by their largest share of a
//!    dimension's capacity) first, into the open bins, then into a new bin of the type with the
//!    lowest cost per item of that class. What no bin can take is unplaced.
//! 5. Local improvement while it lowers the cost: a bin whose items fit a cheaper type with a
//!    bin left moves there, and of the emptiest bins the pair that saves most by sharing one bin
//!    (of a type with a bin left, counting the two given back) is merged.

use super::colgen::{solve_seeded, Column};
use super::{fits, max_fit, IntegerPacking, Limits, OptimumError, PackingInstance, Pattern, PatternLp};

/// How [`round_with`] packs what the floors of the LP patterns leave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rounding {
    /// Re-solve the LP on the residual and round one pattern up at a time (then first fit).
    #[default]
    ResidualLp,
    /// First fit decreasing only: faster, usually a little further from the LP value.
    FirstFit,
}

/// An integer packing built from the LP: [`Rounding::ResidualLp`].
///
/// The packing never holds more items of a class than its count, more bins of a type than are
/// available, or more than a bin's capacity; items it could not place are listed as unplaced.
/// Patterns that do not match the instance (bad indices, over capacity) are skipped, and an
/// invalid instance gives no bins and every item unplaced.
pub fn round(instance: &PackingInstance, lp: &PatternLp, limits: &Limits) -> IntegerPacking {
    round_with(instance, lp, limits, Rounding::ResidualLp)
}

/// An integer packing built from the LP, packing the residual as `rounding` says.
pub fn round_with(instance: &PackingInstance, lp: &PatternLp, limits: &Limits, rounding: Rounding) -> IntegerPacking {
    if instance.validate().is_err() {
        let unplaced = instance.items.iter().enumerate().filter(|(_, it)| it.count > 0).map(|(i, it)| (i, it.count));
        return IntegerPacking { bins: Vec::new(), cost: 0.0, unplaced: unplaced.collect() };
    }
    let mut packer = Packer::new(instance);
    packer.take_patterns(&lp.patterns);
    packer.fill_open_bins(0);
    if rounding == Rounding::ResidualLp {
        packer.residual_lp(limits, lp.patterns.iter().map(|p| (p.bin, p.counts.clone())).collect());
    }
    packer.first_fit();
    packer.improve();
    packer.finish()
}

/// One bin opened: its type, items per class and room left per dimension.
struct Open {
    bin: usize,
    counts: Vec<u32>,
    room: Vec<i64>,
}

struct Packer<'a> {
    instance: &'a PackingInstance,
    /// Items still to place, per class.
    left: Vec<u32>,
    /// Bins not yet used, per type.
    avail: Vec<u32>,
    opened: Vec<Open>,
    /// Classes, largest first.
    by_size: Vec<usize>,
}

impl<'a> Packer<'a> {
    fn new(instance: &'a PackingInstance) -> Packer<'a> {
        let dims = instance.bins.first().map_or(0, |b| b.capacity.len());
        let largest: Vec<i64> =
            (0..dims).map(|d| instance.bins.iter().map(|b| b.capacity[d]).max().unwrap_or(0)).collect();
        let size = |i: usize| -> f64 {
            let demand = &instance.items[i].demand;
            demand.iter().zip(&largest).filter(|(_, &c)| c > 0).map(|(&d, &c)| d as f64 / c as f64).fold(0.0, f64::max)
        };
        let mut by_size: Vec<usize> = (0..instance.items.len()).collect();
        by_size.sort_by(|&a, &b| size(b).total_cmp(&size(a)).then(a.cmp(&b)));
        Packer {
            instance,
            left: instance.items.iter().map(|i| i.count).collect(),
            avail: instance.bins.iter().map(|b| b.available).collect(),
            opened: Vec::new(),
            by_size,
        }
    }

    fn items_left(&self) -> u64 {
        self.left.iter().map(|&n| u64::from(n)).sum()
    }

    /// Opens one bin of the pattern's type holding its items, trimmed to what is left; whether
    /// a bin was opened.
    fn open_copy(&mut self, pattern: &Pattern) -> bool {
        if self.avail[pattern.bin] == 0 || pattern.counts.iter().all(|&(i, _)| self.left[i] == 0) {
            return false;
        }
        let capacity = &self.instance.bins[pattern.bin].capacity;
        let mut open = Open { bin: pattern.bin, counts: vec![0; self.left.len()], room: capacity.clone() };
        for &(i, k) in &pattern.counts {
            let k = k.min(self.left[i]);
            self.place(&mut open, i, k);
        }
        self.avail[pattern.bin] -= 1;
        self.opened.push(open);
        true
    }

    fn place(&mut self, open: &mut Open, item: usize, k: u32) {
        open.counts[item] += k;
        self.left[item] -= k;
        for (r, &d) in open.room.iter_mut().zip(&self.instance.items[item].demand) {
            *r -= d * i64::from(k);
        }
    }

    /// Takes `floor(x)` copies of each valid pattern, highest `x` first; the items placed.
    fn take_patterns(&mut self, patterns: &[Pattern]) -> u64 {
        let before = self.items_left();
        let valid =
            |p: &Pattern| p.x.is_finite() && p.x > 0.0 && !p.counts.is_empty() && fits(self.instance, p.bin, &p.counts);
        let mut order: Vec<usize> = (0..patterns.len()).filter(|&p| valid(&patterns[p])).collect();
        let size = |p: &Pattern| p.counts.iter().map(|&(_, k)| u64::from(k)).sum::<u64>();
        order.sort_by(|&a, &b| {
            let (pa, pb) = (&patterns[a], &patterns[b]);
            pb.x.total_cmp(&pa.x).then(size(pb).cmp(&size(pa))).then(a.cmp(&b))
        });
        for p in order {
            let copies = (patterns[p].x + 1e-9).floor();
            let mut taken = 0.0;
            while taken < copies && self.open_copy(&patterns[p]) {
                taken += 1.0;
            }
        }
        before - self.items_left()
    }

    /// First fit of the items left into the bins opened from `from` on, largest class first.
    fn fill_open_bins(&mut self, from: usize) {
        let mut opened = std::mem::take(&mut self.opened);
        let start = from.min(opened.len());
        for c in 0..self.by_size.len() {
            let i = self.by_size[c];
            for open in opened[start..].iter_mut() {
                if self.left[i] == 0 {
                    break;
                }
                let k = max_fit(&self.instance.items[i].demand, &open.room).min(self.left[i]);
                if k > 0 {
                    self.place(open, i, k);
                }
            }
        }
        self.opened = opened;
    }

    /// Step 3: the LP again on what is left, floors taken, one pattern rounded up at a time.
    fn residual_lp(&mut self, limits: &Limits, mut columns: Vec<Column>) {
        let mut set_aside = vec![false; self.left.len()];
        let mut residual = self.instance.clone();
        let mut guard = self.items_left() + self.left.len() as u64 + 1;
        while self.items_left() > 0 && guard > 0 {
            guard -= 1;
            for (i, item) in residual.items.iter_mut().enumerate() {
                item.count = if set_aside[i] { 0 } else { self.left[i] };
            }
            for (b, bin) in residual.bins.iter_mut().enumerate() {
                bin.available = self.avail[b];
            }
            let lp = match solve_seeded(&residual, limits, &columns) {
                Ok((lp, all)) => {
                    columns = all;
                    lp
                }
                Err(OptimumError::ItemFitsNoBin(i)) if i < set_aside.len() => {
                    set_aside[i] = true;
                    continue;
                }
                Err(_) => return,
            };
            if lp.patterns.is_empty() {
                return;
            }
            let first_new = self.opened.len();
            if self.take_patterns(&lp.patterns) == 0 {
                let size = |p: &Pattern| p.counts.iter().map(|&(_, k)| u64::from(k)).sum::<u64>();
                let best = lp
                    .patterns
                    .iter()
                    .enumerate()
                    .max_by(|(a, pa), (b, pb)| pa.x.total_cmp(&pb.x).then(size(pa).cmp(&size(pb))).then(b.cmp(a)));
                if !best.is_some_and(|(_, p)| fits(self.instance, p.bin, &p.counts) && self.open_copy(p)) {
                    return;
                }
            }
            self.fill_open_bins(first_new);
        }
    }

    /// Step 4: first fit decreasing, opening the cheapest bin per item when none has room.
    fn first_fit(&mut self) {
        self.fill_open_bins(0);
        for c in 0..self.by_size.len() {
            let i = self.by_size[c];
            while self.left[i] > 0 {
                let demand = &self.instance.items[i].demand;
                let per_item = |b: usize| {
                    let fit = max_fit(demand, &self.instance.bins[b].capacity).min(self.left[i]);
                    (self.avail[b] > 0 && fit > 0).then(|| self.instance.bins[b].cost / f64::from(fit))
                };
                let best = (0..self.avail.len())
                    .filter_map(|b| per_item(b).map(|v| (b, v)))
                    .min_by(|(a, va), (b, vb)| va.total_cmp(vb).then(a.cmp(b)));
                let Some((b, _)) = best else { break };
                let capacity = self.instance.bins[b].capacity.clone();
                self.avail[b] -= 1;
                self.opened.push(Open { bin: b, counts: vec![0; self.left.len()], room: capacity });
                let last = self.opened.len() - 1;
                self.fill_open_bins(last);
            }
        }
    }

    /// Step 5: moves bins to cheaper types and merges pairs of bins while that lowers the cost.
    fn improve(&mut self) {
        let mut guard = self.opened.len() * (self.avail.len() + 1) + 1;
        while guard > 0 && (self.downsize() || self.merge_one()) {
            guard -= 1;
        }
    }

    /// What a bin holds, per dimension.
    fn load(&self, open: &Open) -> Vec<i64> {
        self.instance.bins[open.bin].capacity.iter().zip(&open.room).map(|(&c, &r)| c - r).collect()
    }

    /// The cheapest type with a bin left (counting `freed` bins given back) that holds `load`
    /// and costs less than `budget`.
    fn cheapest_for(&self, load: &[i64], budget: f64, freed: &[usize]) -> Option<usize> {
        let left = |t: usize| self.avail[t] as usize + freed.iter().filter(|&&f| f == t).count();
        (0..self.avail.len())
            .filter(|&t| left(t) > 0 && self.instance.bins[t].cost < budget - 1e-12 * budget.abs())
            .filter(|&t| load.iter().zip(&self.instance.bins[t].capacity).all(|(l, c)| l <= c))
            .min_by(|&a, &b| self.instance.bins[a].cost.total_cmp(&self.instance.bins[b].cost).then(a.cmp(&b)))
    }

    /// Puts `load` (the contents of bins of types `freed`, given back) in a new bin of type `t`.
    fn retype(&mut self, at: usize, t: usize, load: &[i64], freed: &[usize]) {
        for &f in freed {
            self.avail[f] += 1;
        }
        self.avail[t] -= 1;
        let open = &mut self.opened[at];
        open.bin = t;
        open.room = self.instance.bins[t].capacity.iter().zip(load).map(|(&c, &l)| c - l).collect();
    }

    /// Moves every bin whose items fit a cheaper type with a bin left; whether any moved.
    fn downsize(&mut self) -> bool {
        let mut moved = false;
        for at in 0..self.opened.len() {
            let (bin, load) = (self.opened[at].bin, self.load(&self.opened[at]));
            if let Some(t) = self.cheapest_for(&load, self.instance.bins[bin].cost, &[bin]) {
                self.retype(at, t, &load, &[bin]);
                moved = true;
            }
        }
        moved
    }

    /// Among the emptiest bins, merges the pair that saves most by sharing one bin (of any type
    /// with a bin left); whether a pair was merged.
    fn merge_one(&mut self) -> bool {
        const CANDIDATES: usize = 48;
        let fullness = |open: &Open| -> f64 {
            let cap = &self.instance.bins[open.bin].capacity;
            cap.iter()
                .zip(&open.room)
                .filter(|(&c, _)| c > 0)
                .map(|(&c, &r)| (c - r) as f64 / c as f64)
                .fold(0.0, f64::max)
        };
        let mut order: Vec<usize> = (0..self.opened.len()).collect();
        order.sort_by(|&a, &b| fullness(&self.opened[a]).total_cmp(&fullness(&self.opened[b])).then(a.cmp(&b)));
        order.truncate(CANDIDATES);
        let mut best: Option<(f64, usize, usize, usize)> = None;
        for (n, &a) in order.iter().enumerate() {
            for &b in &order[n + 1..] {
                let (oa, ob) = (&self.opened[a], &self.opened[b]);
                let load: Vec<i64> = self.load(oa).iter().zip(self.load(ob)).map(|(x, y)| x + y).collect();
                let pair = self.instance.bins[oa.bin].cost + self.instance.bins[ob.bin].cost;
                if let Some(t) = self.cheapest_for(&load, pair, &[oa.bin, ob.bin]) {
                    let saving = pair - self.instance.bins[t].cost;
                    if best.is_none_or(|(s, ..)| saving > s) {
                        best = Some((saving, a.min(b), a.max(b), t));
                    }
                }
            }
        }
        let Some((_, keep, gone, t)) = best else { return false };
        let removed = self.opened.remove(gone);
        let freed = [self.opened[keep].bin, removed.bin];
        let load: Vec<i64> =
            self.load(&self.opened[keep]).iter().zip(self.load(&removed)).map(|(x, y)| x + y).collect();
        for (c, k) in self.opened[keep].counts.iter_mut().zip(&removed.counts) {
            *c += k;
        }
        self.retype(keep, t, &load, &freed);
        true
    }

    fn finish(self) -> IntegerPacking {
        let mut cost = 0.0;
        let bins = self
            .opened
            .into_iter()
            .map(|open| {
                cost += self.instance.bins[open.bin].cost;
                (open.bin, open.counts.iter().enumerate().filter(|(_, &k)| k > 0).map(|(i, &k)| (i, k)).collect())
            })
            .collect();
        let unplaced = self.left.iter().enumerate().filter(|(_, &n)| n > 0).map(|(i, &n)| (i, n)).collect();
        IntegerPacking { bins, cost, unplaced }
    }
}
