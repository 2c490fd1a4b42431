//! What explaining unplaced tasks costs: 5,000 agents, 20,000 tasks of which a third ask for
//! more than any agent has (64 cpus), in groups of ten spread through the input.
//!
//! Timed twice — with explanations and with `explain_unplaced: false` — the difference is the
//! cost of the reasons. Two criterion runs one after the other differ by more than that cost on
//! a busy machine, so the bench first times the two in alternation (51 pairs) and prints the
//! fastest and the median of each: the fastest runs are the least disturbed, so their ratio is
//! the steadier figure. Run: `cargo bench --bench explain`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::workload::{generate, GenOptions, Workload};
use offerpack::{Engine, EngineConfig, TaskSpec};

/// The generated workload with every third group of tasks too big for any agent.
fn workload() -> Workload {
    let mut w = generate(&GenOptions { agents: 5_000, tasks: 20_000, seed: 42, ..GenOptions::default() })
        .expect("generated workloads are valid");
    for (i, task) in w.tasks.iter_mut().enumerate() {
        if (i / 10) % 3 == 2 {
            let big = TaskSpec::builder(task.id.clone(), task.group.clone())
                .scalar("cpus", 64.0)
                .scalar("mem", 4096.0)
                .ports(1)
                .build()
                .expect("a valid task");
            *task = big;
        }
    }
    w
}

/// (fastest, median) pass time of each engine, the two timed in alternation.
fn alternating(engines: [&Engine; 2], w: &Workload) -> [(Duration, Duration); 2] {
    let mut times = [Vec::new(), Vec::new()];
    for _ in 0..51 {
        for (engine, times) in engines.iter().zip(times.iter_mut()) {
            let start = Instant::now();
            black_box(engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap());
            times.push(start.elapsed());
        }
    }
    times.map(|mut t| {
        t.sort();
        (t[0], t[t.len() / 2])
    })
}

fn explain(c: &mut Criterion) {
    let w = workload();
    let engine = |explain_unplaced| {
        Engine::new(EngineConfig { fitness: w.fitness.clone(), explain_unplaced, ..EngineConfig::default() }).unwrap()
    };
    let [with, without] = alternating([&engine(true), &engine(false)], &w);
    let share = |with: Duration, without: Duration| (with.as_secs_f64() / without.as_secs_f64() - 1.0) * 100.0;
    eprintln!(
        "explain/alternating: fastest with reasons {:?}, without {:?}: reasons cost {:.1}%; medians {:?} and {:?}: {:.1}%",
        with.0,
        without.0,
        share(with.0, without.0),
        with.1,
        without.1,
        share(with.1, without.1)
    );
    let mut group = c.benchmark_group("explain");
    group.sample_size(20).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (name, explain_unplaced) in [("with_reasons", true), ("without_reasons", false)] {
        let config = EngineConfig { fitness: w.fitness.clone(), explain_unplaced, ..EngineConfig::default() };
        let engine = Engine::new(config).unwrap();
        let plan = |w: &Workload| engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap();
        let p = plan(&w);
        let reasons: usize = p.unplaced.iter().map(|u| u.reasons.len()).sum();
        eprintln!("explain/{name}: {} placed, {} unplaced, {reasons} reasons", p.stats.tasks_placed, p.unplaced.len());
        group.bench_function(format!("{name}/5000x20000_third_unplaceable"), |b| b.iter(|| black_box(plan(&w))));
    }
    group.finish();
}

criterion_group!(benches, explain);
criterion_main!(benches);
