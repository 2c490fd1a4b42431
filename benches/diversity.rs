//! Speed that does not depend on how many task classes a workload has, against a straight scan.
//!
//! Workloads: `hostname:UNIQUE` per group of 10 with soft `zone:GROUP_BY`, 5,000 agents ×
//! 20,000 tasks, where every task of a group has the group's shape (`same`, about 2,000
//! classes) or its own (`mixed`, one class per task or nearly), over shape families
//! (`uniform`, `irregular`, `random` with 30 shapes); and plain bin packing task by task
//! (Fenzo's mode). Each row is timed for the engine's default selector; the straight scan
//! (`support/straight_scan.rs`, a port of Fenzo's loop) is timed on the same input, once its
//! plan was checked equal to the engine's reference scan on a smaller instance.
//!
//! Before timing, each family is swept over 20 seeds (one pass each, the fastest of three
//! runs) and the bench prints the median and the worst time. Run: `cargo bench --bench
//! diversity` (`-- straight` for the baseline rows alone).

#[path = "support/straight_scan.rs"]
mod straight_scan;
#[path = "support/sweep.rs"]
mod sweep;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offerpack::workload::{generate, ConstraintMix, GenOptions, GroupShapes, Shapes, Workload};
use offerpack::{Engine, EngineConfig, Packing, Plan, Strategy};
use sweep::{fastest, median_worst};

const UNIQUE: ConstraintMix = ConstraintMix::UniqueHostPerGroup { group_size: 10 };

fn workload(
    agents: u32,
    tasks: u32,
    seed: u64,
    shapes: Shapes,
    group_shapes: GroupShapes,
    mix: ConstraintMix,
) -> Workload {
    let options = GenOptions { agents, tasks, seed, constraints: mix, shapes, group_shapes, ..GenOptions::default() };
    generate(&options).expect("generated workloads are valid")
}

fn engine(packing: Packing, strategy: Strategy) -> Engine {
    Engine::new(EngineConfig { packing, strategy, ..EngineConfig::default() }).unwrap()
}

fn plan(engine: &Engine, w: &Workload) -> Plan {
    engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).expect("generated task ids are unique")
}

/// The straight scan's placements as (task id, agent id), in placement order.
fn scan_pairs(w: &Workload) -> Vec<(String, String)> {
    let mut cluster = straight_scan::Cluster::of(w);
    let placed = straight_scan::place(w, &mut cluster, 1.0);
    placed.iter().map(|&(t, a)| (w.tasks[t].id.as_str().to_owned(), cluster.id(a).to_owned())).collect()
}

fn pairs(plan: &Plan) -> Vec<(String, String)> {
    plan.launches.iter().map(|l| (l.task_id.as_str().to_owned(), l.agent_id.as_str().to_owned())).collect()
}

/// The families: (name, shapes, group shapes, constraints, packing).
fn families() -> Vec<(&'static str, Shapes, GroupShapes, ConstraintMix, Packing)> {
    let fill = Packing::FillAgents;
    vec![
        ("unique+group_by/uniform/same", Shapes::Uniform, GroupShapes::Same, UNIQUE, fill),
        ("unique+group_by/uniform/mixed", Shapes::Uniform, GroupShapes::Mixed, UNIQUE, fill),
        ("unique+group_by/irregular/mixed", Shapes::Irregular, GroupShapes::Mixed, UNIQUE, fill),
        ("unique+group_by/random30/mixed", Shapes::Random { count: 30 }, GroupShapes::Mixed, UNIQUE, fill),
        ("binpack_task_by_task/uniform", Shapes::Uniform, GroupShapes::Same, ConstraintMix::None, Packing::TaskByTask),
        (
            "binpack_task_by_task/irregular",
            Shapes::Irregular,
            GroupShapes::Same,
            ConstraintMix::None,
            Packing::TaskByTask,
        ),
    ]
}

fn diversity(c: &mut Criterion) {
    let mut group = c.benchmark_group("diversity");
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(2));
    for (name, shapes, group_shapes, mix, packing) in families() {
        let e = engine(packing, Strategy::Indexed);
        // The baseline must be a faithful scan: same plan as the engine's reference scan.
        let small = workload(300, 1_200, 7, shapes, group_shapes, mix);
        let reference = plan(&engine(Packing::TaskByTask, Strategy::Scan), &small);
        assert!(scan_pairs(&small) == pairs(&reference), "{name}: the straight scan is not the engine's scan");
        let mut times: Vec<(Duration, u64)> = (0..20)
            .map(|seed| {
                let w = workload(5_000, 20_000, seed, shapes, group_shapes, mix);
                (fastest(3, || plan(&e, &w)), seed)
            })
            .collect();
        let (median, worst, worst_seed) = median_worst(&mut times);
        let w = workload(5_000, 20_000, worst_seed, shapes, group_shapes, mix);
        let p = plan(&e, &w);
        eprintln!(
            "diversity/{name}/5000x20000: 20 seeds, median {:.2} ms, worst {:.2} ms (seed {worst_seed}: {} classes, {} of 20000 placed)",
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            p.stats.task_classes,
            p.stats.tasks_placed
        );
        group.bench_with_input(BenchmarkId::new(name, "5000x20000"), &w, |b, w| b.iter(|| black_box(plan(&e, w))));
        let straight = BenchmarkId::new(format!("{name}/straight_scan"), "5000x20000");
        group.bench_with_input(straight, &w, |b, w| {
            b.iter(|| {
                let mut cluster = straight_scan::Cluster::of(w);
                black_box(straight_scan::place(w, &mut cluster, 1.0))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, diversity);
criterion_main!(benches);
