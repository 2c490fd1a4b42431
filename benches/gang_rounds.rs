//! What gangs cost a pass, over families of generated workloads: tasks put in gangs of a
//! declared size, some gangs impossible (one member asks for more than any agent has, so the
//! gang is placed in part, given up, and the pass runs again), on clusters filled to different
//! degrees. Three sweeps, each from a base of 1,000 agents, 5,000 tasks, gangs of 8, one gang
//! in ten impossible:
//!
//! - `size`: gangs of 2, 8 and 32 members;
//! - `impossible`: no gang, one in ten, and three in ten impossible;
//! - `fill`: 2,000, 5,000 and 10,000 tasks (a light, a full and an overfull cluster);
//!
//! plus `plain`, the base workload without gangs, for comparison. Before timing, each family
//! is swept over 10 seeds (seed of the generator and of the choice of impossible gangs; one
//! pass each, the fastest of two runs) and the bench prints the median and the worst time with
//! its seed and what that pass placed; criterion then times the worst seed.
//! Run: `cargo bench --bench gang_rounds`.

#[path = "support/sweep.rs"]
mod sweep;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offerpack::util::SeededRng;
use offerpack::workload::{generate, GenOptions, Workload};
use offerpack::{Engine, EngineConfig, Plan, TaskSpec};
use sweep::{fastest, median_worst};

const AGENTS: u32 = 1_000;
const SEEDS: u64 = 10;

/// One family: tasks, gang size (0: no gangs), share of impossible gangs.
#[derive(Clone, Copy)]
struct Family {
    name: &'static str,
    tasks: u32,
    gang: usize,
    impossible: f64,
}

fn families() -> Vec<Family> {
    let base = Family { name: "", tasks: 5_000, gang: 8, impossible: 0.1 };
    vec![
        Family { name: "plain", gang: 0, impossible: 0.0, ..base },
        Family { name: "size/2", gang: 2, ..base },
        Family { name: "size/8", ..base },
        Family { name: "size/32", gang: 32, ..base },
        Family { name: "impossible/0", impossible: 0.0, ..base },
        Family { name: "impossible/0.3", impossible: 0.3, ..base },
        Family { name: "fill/2000", tasks: 2_000, ..base },
        Family { name: "fill/10000", tasks: 10_000, ..base },
    ]
}

/// The family's workload for `seed`: generated tasks in gangs of `gang` declaring their size,
/// the last member of each impossible gang (drawn from `seed`) asking for 1,024 cpus.
fn workload(f: Family, seed: u64) -> Workload {
    let options = GenOptions { agents: AGENTS, tasks: f.tasks, seed, ..GenOptions::default() };
    let mut w = generate(&options).expect("generated workloads are valid");
    if f.gang == 0 {
        return w;
    }
    let mut rng = SeededRng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
    let gangs = w.tasks.len().div_ceil(f.gang);
    let impossible: Vec<bool> = (0..gangs).map(|_| rng.unit() < f.impossible).collect();
    let count = w.tasks.len();
    for (i, task) in w.tasks.iter_mut().enumerate() {
        let gang = i / f.gang;
        let name: Arc<str> = Arc::from(format!("gang-{gang}"));
        let size = (count - gang * f.gang).min(f.gang) as u32;
        if impossible[gang] && (i % f.gang == f.gang - 1 || i == count - 1) {
            *task = TaskSpec::builder(task.id.clone(), task.group.clone())
                .scalar("cpus", 1024.0)
                .build()
                .expect("a valid task");
        }
        task.gang = Some(name);
        task.gang_size = Some(size);
    }
    w
}

fn engine(w: &Workload) -> Engine {
    Engine::new(EngineConfig { fitness: w.fitness.clone(), ..EngineConfig::default() }).unwrap()
}

fn plan(engine: &Engine, w: &Workload) -> Plan {
    engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).expect("generated task ids are unique")
}

fn gangs(c: &mut Criterion) {
    let mut group = c.benchmark_group("gangs");
    group.sample_size(10);
    for f in families() {
        let mut times: Vec<(Duration, u64)> = (0..SEEDS)
            .map(|seed| {
                let w = workload(f, seed);
                let e = engine(&w);
                (fastest(2, || plan(&e, &w)), seed)
            })
            .collect();
        let (median, worst, worst_seed) = median_worst(&mut times);
        let w = workload(f, worst_seed);
        let e = engine(&w);
        let p = plan(&e, &w);
        let size = format!("{AGENTS}x{}", f.tasks);
        eprintln!(
            "gangs/{}/{size}: {SEEDS} seeds, median {:.2} ms, worst {:.2} ms (seed {worst_seed}: {} of {} placed on {} agents)",
            f.name,
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            p.stats.tasks_placed,
            w.tasks.len(),
            p.stats.agents_used
        );
        group.bench_with_input(BenchmarkId::new(f.name, size), &w, |b, w| b.iter(|| black_box(plan(&e, w))));
    }
    group.finish();
}

criterion_group!(benches, gangs);
criterion_main!(benches);
