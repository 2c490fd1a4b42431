//! One scheduling pass over synthetic workloads, by scenario and size.
//!
//! Each benchmark prints the packing it reached (agents used, tasks placed) beside criterion's
//! time, so a faster pass that packs worse is visible. Run: `cargo bench --bench pass`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offerpack::workload::{generate, ConstraintMix, GenOptions, Shapes, Workload};
use offerpack::{Engine, EngineConfig, Plan};

/// (agents, tasks) sizes from the issue: Fenzo took ≈ 0.75 s, 13.8 s and 69 s on these.
const SIZES: [(u32, u32); 3] = [(1_000, 5_000), (5_000, 20_000), (10_000, 50_000)];

fn workload(agents: u32, tasks: u32, constraints: ConstraintMix) -> Workload {
    let options = GenOptions { agents, tasks, seed: 42, constraints, shapes: Shapes::Uniform, ..GenOptions::default() };
    generate(&options).expect("generated workloads are valid")
}

fn plan(engine: &Engine, w: &Workload) -> Plan {
    engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).expect("generated task ids are unique")
}

fn scenario(c: &mut Criterion, name: &str, constraints: ConstraintMix) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (agents, tasks) in SIZES {
        let w = workload(agents, tasks, constraints);
        let engine = Engine::new(EngineConfig { fitness: w.fitness.clone(), ..EngineConfig::default() }).unwrap();
        let stats = plan(&engine, &w).stats;
        eprintln!(
            "{name}/{agents}x{tasks}: {} agents used, {} of {} tasks placed, {} task classes",
            stats.agents_used, stats.tasks_placed, tasks, stats.task_classes
        );
        group.bench_with_input(BenchmarkId::from_parameter(format!("{agents}x{tasks}")), &w, |b, w| {
            b.iter(|| black_box(plan(&engine, w)))
        });
    }
    group.finish();
}

fn binpack(c: &mut Criterion) {
    scenario(c, "binpack", ConstraintMix::None);
}

fn unique_group_by(c: &mut Criterion) {
    scenario(c, "unique_host+group_by_zone", ConstraintMix::UniqueHostPerGroup { group_size: 10 });
}

criterion_group!(benches, binpack, unique_group_by);
criterion_main!(benches);
