//! The packing optimum: column generation and rounding on seeded instances.
//!
//! Instances have two agent sizes (16 cpus / 64 GiB at cost 1, twice that at cost 2) and 10 or
//! 30 task shapes up to a quarter of the small agent, about 5,000 tasks in all. For each the
//! bench prints the LP value, whether it was proven, the rounded cost for both roundings and the
//! gap rounded cost / lower bound, then times `solve_pattern_lp` alone and with each rounding.
//! Run: `cargo bench --bench optimum`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offerpack::optimum::{round_with, solve_pattern_lp, BinType, ItemClass, Limits, PackingInstance, Rounding};
use offerpack::util::SeededRng;

fn instance(classes: usize, seed: u64) -> PackingInstance {
    let mut rng = SeededRng::new(seed);
    let items = (0..classes)
        .map(|_| {
            let cpus = 250 * (1 + rng.below(16) as i64);
            let mem = 256_000 * (1 + rng.below(64) as i64);
            ItemClass { demand: vec![cpus, mem], count: 1 + rng.below(10_000 / classes as u64) as u32 }
        })
        .collect();
    let bins = vec![
        BinType { capacity: vec![16_000, 65_536_000], cost: 1.0, available: 4_000 },
        BinType { capacity: vec![32_000, 131_072_000], cost: 2.0, available: 2_000 },
    ];
    PackingInstance { bins, items }
}

fn optimum(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("optimum");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for classes in [10usize, 30] {
        for seed in [1u64, 2, 3] {
            let inst = instance(classes, seed);
            let tasks: u32 = inst.items.iter().map(|i| i.count).sum();
            let lp = solve_pattern_lp(&inst, &limits).expect("seeded instances are feasible");
            for rounding in [Rounding::ResidualLp, Rounding::FirstFit] {
                let packing = round_with(&inst, &lp, &limits, rounding);
                eprintln!(
                    "optimum/{classes} classes/seed {seed}: {tasks} tasks, LP {:.3} ({}), {:?}: cost {} ({} unplaced), gap cost / lower bound {:.4}",
                    lp.value,
                    if lp.proven { "proven" } else { "not proven" },
                    rounding,
                    packing.cost,
                    packing.unplaced.len(),
                    packing.cost / lp.lower_bound
                );
            }
        }
        let inst = instance(classes, 1);
        let id = format!("{classes}_classes");
        group.bench_with_input(BenchmarkId::new("solve", &id), &inst, |b, inst| {
            b.iter(|| black_box(solve_pattern_lp(inst, &limits).unwrap()))
        });
        for rounding in [Rounding::ResidualLp, Rounding::FirstFit] {
            group.bench_with_input(BenchmarkId::new(format!("solve_and_round/{rounding:?}"), &id), &inst, |b, inst| {
                b.iter(|| {
                    let lp = solve_pattern_lp(inst, &limits).unwrap();
                    black_box(round_with(inst, &lp, &limits, rounding))
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, optimum);
criterion_main!(benches);
