//! What gangs cost a pass: 1,000 agents and 5,000 generated tasks, planned without gangs, with
//! every task in a gang of 8 that fits (one round), and with one gang in ten holding a member
//! too big for any agent (those gangs are placed in part, given up, and the pass runs again).
//! Each scenario prints the tasks it placed beside its time. Run: `cargo bench --bench gang_rounds`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::workload::{generate, GenOptions, Workload};
use offerpack::{Engine, EngineConfig, TaskSpec};

const GANG: usize = 8;

/// The generated workload, its tasks in gangs of [`GANG`] when `gangs`; with `broken`, the last
/// member of every tenth gang asks for more than any agent has.
fn workload(gangs: bool, broken: bool) -> Workload {
    let mut w = generate(&GenOptions { agents: 1_000, tasks: 5_000, seed: 42, ..GenOptions::default() })
        .expect("generated workloads are valid");
    if gangs {
        for (i, task) in w.tasks.iter_mut().enumerate() {
            let gang = i / GANG;
            task.gang = Some(Arc::from(format!("gang-{gang}")));
            if broken && gang % 10 == 0 && i % GANG == GANG - 1 {
                let big = TaskSpec::builder(task.id.clone(), task.group.clone())
                    .scalar("cpus", 1024.0)
                    .gang(&format!("gang-{gang}"))
                    .build()
                    .expect("a valid task");
                *task = big;
            }
        }
    }
    w
}

fn gangs(c: &mut Criterion) {
    let mut group = c.benchmark_group("gangs");
    group.sample_size(20);
    for (name, gangs, broken) in [("plain", false, false), ("whole", true, false), ("given_up", true, true)] {
        let w = workload(gangs, broken);
        let engine = Engine::new(EngineConfig { fitness: w.fitness.clone(), ..EngineConfig::default() }).unwrap();
        let plan = engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap();
        eprintln!(
            "gangs/{name}: {} of {} tasks placed on {} agents",
            plan.stats.tasks_placed,
            w.tasks.len(),
            plan.stats.agents_used
        );
        group.bench_function(name, |b| {
            b.iter(|| black_box(engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, gangs);
criterion_main!(benches);
