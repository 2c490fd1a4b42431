//! Scale: one pass over 100,000 agents and 500,000 pending tasks (cpu and memory bin packing).
//!
//! Also with two threads allowed (`scale/binpack/two_threads/...`), after checking that the plan
//! is the same. Peak memory is measured outside criterion, with `offerpack solve` (see the README).
//! Run: `cargo bench --bench scale`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::workload::{generate, GenOptions};
use offerpack::{Engine, EngineConfig};

fn scale(c: &mut Criterion) {
    let w = generate(&GenOptions { agents: 100_000, tasks: 500_000, seed: 42, ..GenOptions::default() })
        .expect("generated workloads are valid");
    let config = |threads| EngineConfig { fitness: w.fitness.clone(), threads, ..EngineConfig::default() };
    let (one, two) = (Engine::new(config(1)).unwrap(), Engine::new(config(2)).unwrap());
    let plan = |engine: &Engine| engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap();
    let first = plan(&one);
    assert!(plan(&two) == first, "scale: two threads planned differently");
    let stats = first.stats.clone();
    drop(first);
    eprintln!("scale/100000x500000: {} of 500000 placed on {} agents", stats.tasks_placed, stats.agents_used);
    let mut group = c.benchmark_group("scale");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(12));
    group.bench_function("binpack/100000x500000", |b| b.iter(|| black_box(plan(&one))));
    group.bench_function("binpack/two_threads/100000x500000", |b| b.iter(|| black_box(plan(&two))));
    group.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
