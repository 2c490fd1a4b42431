//! What compiling agents from their running tasks' hosts costs the preemption of a task with a
//! hard constraint, on a full cluster of 10,000 agents running five tasks each (50,000), none
//! of them offering: every agent is known only through its tasks, which give their host
//! (hostname and a rack of 20). The task asks 2 cpus at priority 10 and must be alone of its
//! group on its host (`hostname:UNIQUE`), which every agent passes.
//!
//! Before timing, ten seeds of the cluster are swept and the median and worst (with its seed)
//! printed for the one-shot plan with and without the constraint. Criterion then times:
//! - `one_shot/unconstrained`: [`Engine::plan_preempting`] for the task without the constraint
//!   (no agent is compiled from hosts);
//! - `one_shot/constrained`: the same task with the constraint (every agent compiled from its
//!   tasks' host before the search), on the worst seed of the sweep;
//! - `scheduler/constrained`: a [`Scheduler`]'s preempting pass for it, after a first one
//!   compiled the agents into its kept state.
//!
//! Run: `cargo bench --bench preemption_offerless`.

#[path = "support/sweep.rs"]
mod sweep;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::plugins::constraints::Unique;
use offerpack::preempt::{DisruptionBudgets, PreemptionInput};
use offerpack::util::SeededRng;
use offerpack::{AttrValue, Attributes, Engine, EngineConfig, OfferPool, Quantity, RunningTask, Scheduler, TaskSpec};

const AGENTS: u32 = 10_000;
const PER_AGENT: u32 = 5;
const NOW: Duration = Duration::from_secs(3600);

/// The running tasks of seed `seed`: agent `a` runs `r-a-0` to `r-a-4` on host `host-a`.
fn running(seed: u64) -> Vec<RunningTask> {
    let mut rng = SeededRng::new(seed);
    let mut out = Vec::with_capacity((AGENTS * PER_AGENT) as usize);
    for a in 0..AGENTS {
        let attributes = Attributes::from_pairs([("rack", AttrValue::text(format!("rack-{}", a % 20)))]);
        let host = (Arc::<str>::from(format!("host-{a:05}").as_str()), attributes);
        for i in 0..PER_AGENT {
            let cpus = 0.5 * (1 + rng.below(4)) as f64;
            let group = format!("group-{:03}", rng.below(100));
            let mut task = RunningTask::new(format!("r-{a:05}-{i}"), group.as_str(), format!("agent-{a:05}"))
                .with_priority(rng.below(4) as i32)
                .started_at(Duration::from_secs(rng.below(3600)));
            task.resources = vec![(Arc::from("cpus"), Quantity::new(cpus).unwrap())];
            task.host = Some(host.clone());
            out.push(task);
        }
    }
    out
}

fn task(constrained: bool) -> TaskSpec {
    let b = TaskSpec::builder("urgent", "web").scalar("cpus", 2.0).priority(10);
    let b = if constrained { b.hard(Arc::new(Unique::new("hostname"))) } else { b };
    b.build().unwrap()
}

fn benches(c: &mut Criterion) {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let pool = OfferPool::new(Duration::from_secs(60));
    let budgets = DisruptionBudgets::new();
    let input = PreemptionInput::new(&budgets);
    let (plain, constrained) = ([task(false)], [task(true)]);
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for seed in 1..=10 {
        let running = running(seed);
        let plan = engine.plan_preempting(&pool, &constrained, &running, None, input, NOW).unwrap();
        assert_eq!(plan.preemptions.len(), 1, "the constrained task preempts");
        let run = |tasks: &[TaskSpec]| engine.plan_preempting(&pool, tasks, &running, None, input, NOW).unwrap();
        without.push((sweep::fastest(2, || run(&plain)), seed));
        with.push((sweep::fastest(2, || run(&constrained)), seed));
    }
    for (name, times) in [("unconstrained", &mut without), ("constrained", &mut with)] {
        let (median, worst, seed) = sweep::median_worst(times);
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        eprintln!("sweep one_shot/{name:<13}: median {:.3} ms, worst {:.3} ms (seed {seed})", ms(median), ms(worst));
    }
    let running = running(with[with.len() - 1].1);
    let mut group = c.benchmark_group("preemption_offerless");
    group.sample_size(10);
    group.bench_function("one_shot/unconstrained", |b| {
        b.iter(|| black_box(engine.plan_preempting(&pool, black_box(&plain), &running, None, input, NOW).unwrap()));
    });
    group.bench_function("one_shot/constrained", |b| {
        b.iter(|| {
            black_box(engine.plan_preempting(&pool, black_box(&constrained), &running, None, input, NOW).unwrap())
        });
    });
    let mut scheduler = Scheduler::new(engine.clone(), Duration::from_secs(60));
    scheduler.set_parking(false);
    for task in &running {
        scheduler.task_running(task.clone()).unwrap();
    }
    scheduler.schedule_preempting(&constrained, None, input, NOW).unwrap();
    group.bench_function("scheduler/constrained", |b| {
        b.iter(|| black_box(scheduler.schedule_preempting(black_box(&constrained), None, input, NOW).unwrap()));
    });
    group.finish();
}

criterion_group!(preemption_offerless, benches);
criterion_main!(preemption_offerless);
