//! The packing optimum: hand-solved LPs, a brute-force sweep, budgets, scale and the pool bound.

use std::collections::HashMap;
use std::time::Duration;

use offerpack::optimum::{
    packing_bound, packing_problem, round, round_with, solve_pattern_lp, BinType, IntegerPacking, ItemClass, Limits,
    OptimumError, PackingInstance, PatternLp, Rounding,
};
use offerpack::util::SeededRng;
use offerpack::{Engine, EngineConfig, Offer, OfferPool, TaskSpec};

fn bin(capacity: &[i64], cost: f64, available: u32) -> BinType {
    BinType { capacity: capacity.to_vec(), cost, available }
}

fn item(demand: &[i64], count: u32) -> ItemClass {
    ItemClass { demand: demand.to_vec(), count }
}

fn instance(bins: Vec<BinType>, items: Vec<ItemClass>) -> PackingInstance {
    PackingInstance { bins, items }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-7 * (1.0 + b.abs())
}

/// Checks a packing against the instance: capacities, availability, item conservation, cost.
fn check_packing(inst: &PackingInstance, packing: &IntegerPacking) -> Result<(), String> {
    let mut used = vec![0u32; inst.bins.len()];
    let mut placed = vec![0u64; inst.items.len()];
    let mut cost = 0.0;
    for (b, counts) in &packing.bins {
        let bin = inst.bins.get(*b).ok_or("bad bin index")?;
        used[*b] += 1;
        cost += bin.cost;
        for d in 0..bin.capacity.len() {
            let load: i64 = counts.iter().map(|&(i, k)| inst.items[i].demand[d] * i64::from(k)).sum();
            if load > bin.capacity[d] {
                return Err(format!("bin of type {b} over capacity in dimension {d}: {load}"));
            }
        }
        if counts.iter().any(|&(_, k)| k == 0) || counts.is_empty() {
            return Err("empty entry or empty bin".into());
        }
        for &(i, k) in counts {
            placed[i] += u64::from(k);
        }
    }
    for (b, bin) in inst.bins.iter().enumerate() {
        if used[b] > bin.available {
            return Err(format!("{} bins of type {b}, {} available", used[b], bin.available));
        }
    }
    for &(i, n) in &packing.unplaced {
        placed[i] += u64::from(n);
    }
    for (i, it) in inst.items.iter().enumerate() {
        if placed[i] != u64::from(it.count) {
            return Err(format!("class {i}: {} placed or unplaced of {}", placed[i], it.count));
        }
    }
    if !close(cost, packing.cost) {
        return Err(format!("cost {} reported, {cost} counted", packing.cost));
    }
    Ok(())
}

/// Checks the LP solution is feasible (patterns fit, cover every class, respect availability),
/// costs `value`, and is no cheaper than the volume bound: in each dimension, the demand over
/// the most capacity per unit of cost any type offers.
fn check_lp(inst: &PackingInstance, lp: &PatternLp) -> Result<(), String> {
    let mut covered = vec![0.0; inst.items.len()];
    let mut used = vec![0.0; inst.bins.len()];
    let mut cost = 0.0;
    for p in &lp.patterns {
        let bin = &inst.bins[p.bin];
        for d in 0..bin.capacity.len() {
            let load: i64 = p.counts.iter().map(|&(i, k)| inst.items[i].demand[d] * i64::from(k)).sum();
            if load > bin.capacity[d] {
                return Err(format!("pattern {p:?} over capacity"));
            }
        }
        for &(i, k) in &p.counts {
            covered[i] += f64::from(k) * p.x;
        }
        used[p.bin] += p.x;
        cost += bin.cost * p.x;
    }
    for (i, it) in inst.items.iter().enumerate() {
        if covered[i] < f64::from(it.count) - 1e-6 {
            return Err(format!("class {i} covered {} of {}", covered[i], it.count));
        }
    }
    for (b, bin) in inst.bins.iter().enumerate() {
        if used[b] > f64::from(bin.available) + 1e-6 {
            return Err(format!("type {b} used {} of {}", used[b], bin.available));
        }
    }
    if !close(cost, lp.value) {
        return Err(format!("patterns cost {cost}, value {}", lp.value));
    }
    let dims = inst.bins.first().map_or(0, |b| b.capacity.len());
    for d in 0..dims {
        let demand: f64 = inst.items.iter().map(|it| it.demand[d] as f64 * f64::from(it.count)).sum();
        let per_cost =
            inst.bins.iter().filter(|b| b.available > 0).map(|b| b.capacity[d] as f64 / b.cost).fold(0.0, f64::max);
        if per_cost > 0.0 && lp.value < demand / per_cost - 1e-6 {
            return Err(format!("value {} below the volume bound {} in dimension {d}", lp.value, demand / per_cost));
        }
    }
    Ok(())
}

/// The integer optimum by exhaustive search: some bin holds an item of the first class left, so
/// try every fill of every bin type that does; memoised on (items left, bins left).
fn integer_optimum(inst: &PackingInstance) -> Option<f64> {
    type Memo = HashMap<(Vec<u32>, Vec<u32>), Option<f64>>;
    /// Every fill of `room` with at most `left` items of the last `left.len()` classes.
    fn fills(inst: &PackingInstance, left: &[u32], room: &[i64]) -> Vec<Vec<u32>> {
        let Some((&n, rest)) = left.split_first() else { return vec![Vec::new()] };
        let demand = &inst.items[inst.items.len() - left.len()].demand;
        let mut out = Vec::new();
        for k in 0..=i64::from(n) {
            let room: Vec<i64> = room.iter().zip(demand).map(|(&r, &d)| r - d * k).collect();
            if room.iter().any(|&r| r < 0) {
                break;
            }
            out.extend(fills(inst, rest, &room).into_iter().map(|tail| [vec![k as u32], tail].concat()));
        }
        out
    }
    fn best(inst: &PackingInstance, left: Vec<u32>, avail: Vec<u32>, memo: &mut Memo) -> Option<f64> {
        let Some(first) = left.iter().position(|&n| n > 0) else { return Some(0.0) };
        if let Some(v) = memo.get(&(left.clone(), avail.clone())) {
            return *v;
        }
        let mut result: Option<f64> = None;
        for b in 0..inst.bins.len() {
            if avail[b] == 0 {
                continue;
            }
            for fill in fills(inst, &left, &inst.bins[b].capacity).into_iter().filter(|f| f[first] > 0) {
                let rest: Vec<u32> = left.iter().zip(&fill).map(|(&n, &k)| n - k).collect();
                let mut avail2 = avail.clone();
                avail2[b] -= 1;
                if let Some(v) = best(inst, rest, avail2, memo) {
                    let total = v + inst.bins[b].cost;
                    result = Some(result.map_or(total, |r: f64| r.min(total)));
                }
            }
        }
        memo.insert((left, avail), result);
        result
    }
    let left = inst.items.iter().map(|i| i.count).collect();
    let avail = inst.bins.iter().map(|b| b.available).collect();
    best(inst, left, avail, &mut HashMap::new())
}

#[test]
fn optimum_pairs_six_and_four_in_two_bins() {
    let inst = instance(vec![bin(&[10], 1.0, 10)], vec![item(&[6], 2), item(&[4], 2)]);
    let lp = solve_pattern_lp(&inst, &Limits::default()).unwrap();
    assert!(lp.proven && close(lp.value, 2.0) && close(lp.lower_bound, 2.0), "{lp:?}");
    let packing = round(&inst, &lp, &Limits::default());
    check_packing(&inst, &packing).unwrap();
    assert!(packing.unplaced.is_empty() && close(packing.cost, 2.0), "{packing:?}");
}

#[test]
fn optimum_matches_chvatal_cutting_stock() {
    // Rolls of 100; widths 45, 36, 31, 14 in demands 97, 610, 395, 211. A primal solution:
    // 48.5×(2,0,0,0) + 105.5×(0,2,0,2) + 100.75×(0,2,0,0) + 197.5×(0,1,2,0) = 452.25 rolls. Duals
    // π = (1/2, 1/2, 1/4, 0) are feasible (no fill of 100 is worth more than 1: the fills worth
    // most are (2,0,0,0), (1,1,0,·), (0,2,0,·) and (0,1,2,0), each exactly 1) and give
    // 97/2 + 610/2 + 395/4 = 452.25, so that is the optimum.
    let inst = instance(
        vec![bin(&[100], 1.0, 10_000)],
        vec![item(&[45], 97), item(&[36], 610), item(&[31], 395), item(&[14], 211)],
    );
    let lp = solve_pattern_lp(&inst, &Limits::default()).unwrap();
    assert!(lp.proven && close(lp.value, 452.25) && close(lp.lower_bound, 452.25), "{lp:?}");
    check_lp(&inst, &lp).unwrap();
    for rounding in [Rounding::ResidualLp, Rounding::FirstFit] {
        let packing = round_with(&inst, &lp, &Limits::default(), rounding);
        check_packing(&inst, &packing).unwrap();
        assert!(packing.unplaced.is_empty());
        assert!(packing.cost >= 453.0 && packing.cost <= 456.0, "{rounding:?}: {}", packing.cost);
    }
}

#[test]
fn optimum_pairs_cpu_heavy_with_memory_heavy_items() {
    // A bin holds at most one item of each class (two of one exceed 10 in a dimension) and
    // exactly one of each: 7 pairs, 7 bins, LP = n/2 for n = 14 items.
    let inst = instance(vec![bin(&[10, 10], 1.0, 20)], vec![item(&[7, 3], 7), item(&[3, 7], 7)]);
    let lp = solve_pattern_lp(&inst, &Limits::default()).unwrap();
    assert!(lp.proven && close(lp.value, 7.0), "{lp:?}");
    assert_eq!(lp.patterns.len(), 1);
    assert_eq!(lp.patterns[0].counts, vec![(0, 1), (1, 1)]);
    let packing = round(&inst, &lp, &Limits::default());
    check_packing(&inst, &packing).unwrap();
    assert!(close(packing.cost, 7.0) && packing.bins.len() == 7);
}

#[test]
fn optimum_chooses_the_cheaper_bin_per_item() {
    // Size-6 items: a bin of 10 (cost 1) holds one, a bin of 20 (cost 2) three, so 2/3 per item:
    // 4 items cost 8/3 (duals π = 2/3 make both types' best fill worth exactly their cost).
    let inst = instance(vec![bin(&[10], 1.0, 10), bin(&[20], 2.0, 10)], vec![item(&[6], 4)]);
    let lp = solve_pattern_lp(&inst, &Limits::default()).unwrap();
    assert!(lp.proven && close(lp.value, 8.0 / 3.0), "{lp:?}");
    assert!(lp.patterns.iter().all(|p| p.bin == 1));
    let packing = round(&inst, &lp, &Limits::default());
    check_packing(&inst, &packing).unwrap();
    assert!(close(packing.cost, 3.0), "{packing:?}"); // one large (3 items) and one small
}

#[test]
fn optimum_respects_binding_availability() {
    // One large bin only: it takes 3 items (2), the fourth goes on a small bin (1). Duals π = 1,
    // μ_large = 1: 3 − 1 ≤ 2 and 1 ≤ 1, dual objective 4 − 1 = 3.
    let inst = instance(vec![bin(&[10], 1.0, 10), bin(&[20], 2.0, 1)], vec![item(&[6], 4)]);
    let lp = solve_pattern_lp(&inst, &Limits::default()).unwrap();
    assert!(lp.proven && close(lp.value, 3.0), "{lp:?}");
    let large: f64 = lp.patterns.iter().filter(|p| p.bin == 1).map(|p| p.x).sum();
    assert!(large <= 1.0 + 1e-9);

    // One cheap bin only, so the expensive type must be used: the cheap bin takes one item (1),
    // the other rides half a large bin of two (1.5). Duals π = 1.5, μ_small = 0.5: 1.5 − 0.5 ≤ 1,
    // 3 ≤ 3, dual objective 3 − 0.5 = 2.5. The best integer packing is one large bin: 3.
    let inst = instance(vec![bin(&[10], 1.0, 1), bin(&[20], 3.0, 10)], vec![item(&[6], 2)]);
    let lp = solve_pattern_lp(&inst, &Limits::default()).unwrap();
    assert!(lp.proven && close(lp.value, 2.5), "{lp:?}");
    assert!(lp.patterns.iter().any(|p| p.bin == 1));
    let packing = round(&inst, &lp, &Limits::default());
    check_packing(&inst, &packing).unwrap();
    assert_eq!(Some(packing.cost), integer_optimum(&inst));
}

#[test]
fn optimum_reports_infeasible_and_unfit_items() {
    // One bin holds one item; two must be packed and only one bin exists.
    let inst = instance(vec![bin(&[10], 1.0, 1)], vec![item(&[6], 2)]);
    match solve_pattern_lp(&inst, &Limits::default()) {
        Err(OptimumError::Infeasible { uncovered }) => {
            assert_eq!(uncovered.len(), 1);
            assert!(uncovered[0].0 == 0 && close(uncovered[0].1, 1.0), "{uncovered:?}");
        }
        other => panic!("expected infeasible, got {other:?}"),
    }
    let inst = instance(vec![bin(&[10, 5], 1.0, 3), bin(&[20, 20], 1.0, 0)], vec![item(&[1, 1], 1), item(&[11, 1], 2)]);
    assert_eq!(solve_pattern_lp(&inst, &Limits::default()), Err(OptimumError::ItemFitsNoBin(1)));
    // With count 0 the unfit class is ignored.
    let inst = instance(inst.bins.clone(), vec![item(&[1, 1], 1), item(&[11, 1], 0)]);
    assert!(close(solve_pattern_lp(&inst, &Limits::default()).unwrap().value, 1.0));
}

#[test]
fn optimum_rejects_invalid_instances() {
    let limits = Limits::default();
    let ok = || instance(vec![bin(&[10, 10], 1.0, 2)], vec![item(&[1, 1], 1)]);
    let mut inst = ok();
    inst.bins.push(bin(&[10], 1.0, 1));
    assert_eq!(solve_pattern_lp(&inst, &limits), Err(OptimumError::BinDimensions(1)));
    let mut inst = ok();
    inst.items.push(item(&[1, 1, 1], 1));
    assert_eq!(solve_pattern_lp(&inst, &limits), Err(OptimumError::ItemDimensions(1)));
    let mut inst = ok();
    inst.items[0].demand[1] = -1;
    assert_eq!(solve_pattern_lp(&inst, &limits), Err(OptimumError::NegativeDemand(0)));
    let mut inst = ok();
    inst.bins[0].capacity[0] = -1;
    assert_eq!(solve_pattern_lp(&inst, &limits), Err(OptimumError::NegativeCapacity(0)));
    for cost in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let mut inst = ok();
        inst.bins[0].cost = cost;
        assert_eq!(solve_pattern_lp(&inst, &limits), Err(OptimumError::BadCost(0)));
        // Rounding an invalid instance places nothing and panics on nothing.
        let packing = round(&inst, &solve_pattern_lp(&ok(), &limits).unwrap(), &limits);
        assert!(packing.bins.is_empty() && packing.unplaced == vec![(0, 1)]);
    }
    let empty = solve_pattern_lp(&PackingInstance::default(), &limits).unwrap();
    assert!(empty.proven && empty.value == 0.0 && empty.patterns.is_empty());
}

/// A seeded instance: 2 dimensions, 1–2 bin types, ≤ 4 classes, ≤ 8 items.
fn tiny(rng: &mut SeededRng) -> PackingInstance {
    let types = 1 + rng.below(2) as usize;
    let bins: Vec<BinType> = (0..types)
        .map(|_| {
            let cap = [6 + rng.below(9) as i64, 6 + rng.below(9) as i64];
            bin(&cap, [1.0, 1.5, 2.0][rng.below(3) as usize], 1 + rng.below(8) as u32)
        })
        .collect();
    let classes = 1 + rng.below(4) as usize;
    let mut budget = 8u32;
    let items = (0..classes)
        .map(|_| {
            let count = (1 + rng.below(3) as u32).min(budget);
            budget -= count;
            item(&[1 + rng.below(9) as i64, rng.below(9) as i64], count)
        })
        .collect();
    instance(bins, items)
}

#[test]
fn optimum_bounds_and_rounding_hold_against_brute_force() {
    let mut rng = SeededRng::new(2024);
    let limits = Limits::default();
    let starved = Limits { max_rounds: 3, max_knapsack_nodes: 2, max_pivots: 50 };
    let (mut solved, mut infeasible, mut incomplete, mut optimal, mut unproven, mut worst) = (0, 0, 0, 0, 0, 0.0f64);
    for case in 0..400 {
        let inst = tiny(&mut rng);
        let opt = integer_optimum(&inst);
        let lp = match solve_pattern_lp(&inst, &limits) {
            Ok(lp) => lp,
            Err(OptimumError::ItemFitsNoBin(i)) => {
                let fits =
                    |b: &BinType| b.available > 0 && inst.items[i].demand.iter().zip(&b.capacity).all(|(d, c)| d <= c);
                assert!(!inst.bins.iter().any(fits), "case {case}: class {i} fits a bin");
                assert_eq!(opt, None, "case {case}");
                continue;
            }
            Err(OptimumError::Infeasible { .. }) => {
                assert_eq!(opt, None, "case {case}: LP infeasible, integer optimum {opt:?}");
                infeasible += 1;
                continue;
            }
            Err(e) => panic!("case {case}: {e}"),
        };
        assert!(lp.proven, "case {case}: {lp:?}");
        check_lp(&inst, &lp).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let packing = round(&inst, &lp, &limits);
        check_packing(&inst, &packing).unwrap_or_else(|e| panic!("case {case}: {e}"));
        let Some(opt) = opt else {
            assert!(!packing.unplaced.is_empty(), "case {case}: packed all, brute force found no packing");
            continue;
        };
        solved += 1;
        assert!(lp.value <= opt + 1e-9, "case {case}: LP {} above optimum {opt}", lp.value);
        // Starved budgets: the bound proven from whatever duals were reached stays below the LP.
        if let Ok(cut) = solve_pattern_lp(&inst, &starved) {
            assert!(
                cut.lower_bound <= lp.value + 1e-9,
                "case {case}: starved bound {} > LP {}",
                cut.lower_bound,
                lp.value
            );
            assert!(cut.value >= lp.value - 1e-9, "case {case}: starved value {} < LP {}", cut.value, lp.value);
            check_lp(&inst, &cut).unwrap_or_else(|e| panic!("case {case}, starved: {e}"));
            unproven += usize::from(!cut.proven);
        }
        if packing.unplaced.is_empty() {
            assert!(packing.cost >= opt - 1e-9, "case {case}: rounding {} below optimum {opt}", packing.cost);
            worst = worst.max(packing.cost - opt);
            optimal += usize::from(packing.cost <= opt + 1e-9);
        } else {
            incomplete += 1;
        }
    }
    eprintln!(
        "sweep: {solved} solved, {infeasible} LP-infeasible, {optimal} rounded to the optimum, {incomplete} incomplete, \
         worst excess {worst}, {unproven} starved solves unproven"
    );
    assert!(unproven >= 30, "only {unproven} starved solves exercised the bound");
    assert!(solved >= 250, "{solved}");
    assert!(optimal * 10 >= solved * 9, "only {optimal} of {solved} rounded to the optimum");
    assert!(incomplete * 20 <= solved, "{incomplete} of {solved} roundings left items out");
}

#[test]
fn optimum_is_deterministic() {
    let mut rng = SeededRng::new(5);
    let inst = scale_instance(&mut rng, 12);
    let limits = Limits::default();
    let (a, b) = (solve_pattern_lp(&inst, &limits).unwrap(), solve_pattern_lp(&inst, &limits).unwrap());
    assert_eq!(a, b);
    assert_eq!(round(&inst, &a, &limits), round(&inst, &b, &limits));
}

#[test]
fn optimum_bound_stays_below_the_optimum_when_budgets_run_out() {
    let mut rng = SeededRng::new(9);
    let inst = scale_instance(&mut rng, 20);
    let full = solve_pattern_lp(&inst, &Limits::default()).unwrap();
    assert!(full.proven);
    for limits in [
        Limits { max_rounds: 6, ..Limits::default() },
        Limits { max_knapsack_nodes: 20, ..Limits::default() },
        Limits { max_rounds: 15, max_knapsack_nodes: 200, ..Limits::default() },
    ] {
        let cut = solve_pattern_lp(&inst, &limits).unwrap();
        assert!(!cut.proven, "{limits:?}");
        assert!(cut.lower_bound <= full.value + 1e-7, "{limits:?}: {} > {}", cut.lower_bound, full.value);
        assert!(cut.value >= full.value - 1e-7, "{limits:?}: {} < {}", cut.value, full.value);
        check_lp(&inst, &cut).unwrap();
        // The Lagrangian or Farley bound is far from trivial even when starved.
        assert!(cut.lower_bound > 0.75 * full.value, "{limits:?}: bound {}", cut.lower_bound);
        let packing = round(&inst, &cut, &limits);
        check_packing(&inst, &packing).unwrap();
    }
}

/// Two agent sizes (16 cpus / 64 GiB at cost 1, twice that at cost 2) and `classes` task
/// shapes up to a quarter of the small agent, about 5,000 tasks in all.
fn scale_instance(rng: &mut SeededRng, classes: usize) -> PackingInstance {
    let items = (0..classes)
        .map(|_| {
            let cpus = 250 * (1 + rng.below(16) as i64);
            let mem = 256_000 * (1 + rng.below(64) as i64);
            item(&[cpus, mem], 1 + rng.below(10_000 / classes as u64) as u32)
        })
        .collect();
    instance(vec![bin(&[16_000, 65_536_000], 1.0, 4_000), bin(&[32_000, 131_072_000], 2.0, 2_000)], items)
}

#[test]
fn optimum_converges_at_scale() {
    let mut rng = SeededRng::new(30);
    let inst = scale_instance(&mut rng, 30);
    let tasks: u32 = inst.items.iter().map(|i| i.count).sum();
    assert!((4_000..6_000).contains(&tasks), "{tasks}");
    let limits = Limits::default();
    let lp = solve_pattern_lp(&inst, &limits).unwrap();
    assert!(lp.proven && lp.lower_bound == lp.value, "{} {}", lp.lower_bound, lp.value);
    check_lp(&inst, &lp).unwrap();
    let packing = round(&inst, &lp, &limits);
    check_packing(&inst, &packing).unwrap();
    assert!(packing.unplaced.is_empty());
    assert!(packing.cost >= lp.value - 1e-6);
    assert!(packing.cost <= lp.value * 1.01 + 2.0, "rounding {} vs LP {}", packing.cost, lp.value);
}

fn agent(pool: &mut OfferPool, id: &str, cpus: f64, mem: f64, ports: Option<(u16, u16)>) {
    let mut offer =
        Offer::new(format!("o-{id}"), id, id).with_scalar("cpus", cpus).unwrap().with_scalar("mem", mem).unwrap();
    if let Some((lo, hi)) = ports {
        offer = offer.with_ports(lo, hi).unwrap();
    }
    pool.add(offer, Duration::ZERO).unwrap();
}

fn task(id: &str, cpus: f64, mem: f64, ports: u32) -> TaskSpec {
    TaskSpec::builder(id, "g").scalar("cpus", cpus).scalar("mem", mem).ports(ports).build().unwrap()
}

#[test]
fn packing_bound_counts_agents_in_capacity_units() {
    let mut pool = OfferPool::new(Duration::from_secs(60));
    agent(&mut pool, "a1", 16.0, 65536.0, None);
    agent(&mut pool, "a2", 16.0, 65536.0, None);
    agent(&mut pool, "a3", 32.0, 131072.0, None);
    // Four 8-cpu tasks: half a unit each on either size; one 40-cpu task fits no agent.
    let mut tasks: Vec<TaskSpec> = (0..4).map(|t| task(&format!("t{t}"), 8.0, 1024.0, 0)).collect();
    tasks.push(task("huge", 40.0, 1024.0, 0));
    let problem = packing_problem(&pool, &tasks, Duration::ZERO);
    assert_eq!(problem.unplaceable, vec![4]);
    assert_eq!(problem.instance.bins.len(), 2);
    let costs: Vec<f64> = problem.instance.bins.iter().map(|b| b.cost).collect();
    assert_eq!(costs, vec![1.0, 2.0]);
    let bound = packing_bound(&pool, &tasks, Duration::ZERO, &Limits::default()).unwrap();
    assert!(bound.proven && close(bound.lower_bound, 2.0) && bound.unplaceable == 1, "{bound:?}");

    let engine = Engine::new(EngineConfig::default()).unwrap();
    let plan = engine.plan(&pool, &tasks, &[], Duration::ZERO).unwrap();
    assert_eq!(plan.launches.len(), 4);
    let used = bound.units_used(&pool, &plan);
    assert!(used >= bound.lower_bound - 1e-9 && used <= 4.0, "{used}");
}

#[test]
fn packing_bound_counts_ports_as_a_dimension() {
    let mut pool = OfferPool::new(Duration::from_secs(60));
    for a in 0..4 {
        agent(&mut pool, &format!("a{a}"), 16.0, 65536.0, Some((31000, 31000)));
    }
    // Tiny tasks, one port each: one task per agent, so three agents.
    let tasks: Vec<TaskSpec> = (0..3).map(|t| task(&format!("t{t}"), 1.0, 64.0, 1)).collect();
    let problem = packing_problem(&pool, &tasks, Duration::ZERO);
    assert_eq!(problem.dimensions.last().map(|d| &**d), Some("ports"));
    let bound = packing_bound(&pool, &tasks, Duration::ZERO, &Limits::default()).unwrap();
    assert!(bound.proven && close(bound.lower_bound, 3.0), "{bound:?}");
    // A fifth task cannot be held even fractionally: four ports in all.
    let more: Vec<TaskSpec> = (0..5).map(|t| task(&format!("t{t}"), 1.0, 64.0, 1)).collect();
    assert!(matches!(
        packing_bound(&pool, &more, Duration::ZERO, &Limits::default()),
        Err(OptimumError::Infeasible { .. })
    ));
}
