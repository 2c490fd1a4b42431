//! The cost of the preemption search: one pending task that fits nowhere, on a full cluster of
//! 10,000 agents running 50,000 tasks (five per agent, 0.5 to 2 cpus, priorities 0 to 3, in
//! 100 groups, every tenth group with a disruption budget), none of them offering.
//!
//! - `scheduler/…`: the incremental [`Scheduler`], whose compiled state lives between passes,
//!   as in the live session: `plain` is the pass without preemption (the task is unplaced),
//!   `preempting` the same pass searching victims for it (indexing the running tasks by agent
//!   included); the difference is what preemption costs per pass for one task.
//! - `one_shot/preempting`: [`Engine::plan_preempting`], which compiles the cluster first.
//!
//! Run: `cargo bench --bench preemption`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::preempt::{DisruptionBudgets, MaxUnavailable, PreemptionInput};
use offerpack::util::SeededRng;
use offerpack::{Engine, EngineConfig, OfferPool, Quantity, RunningTask, Scheduler, TaskSpec};

const AGENTS: u32 = 10_000;
const PER_AGENT: u32 = 5;
const GROUPS: u32 = 100;

/// The running tasks: agent `a` runs tasks `r-a-0` … `r-a-4`.
fn running() -> Vec<RunningTask> {
    let mut rng = SeededRng::new(7);
    let mut out = Vec::with_capacity((AGENTS * PER_AGENT) as usize);
    for a in 0..AGENTS {
        for i in 0..PER_AGENT {
            let cpus = 0.5 * (1 + rng.below(4)) as f64;
            let group = format!("group-{:03}", rng.below(u64::from(GROUPS)));
            let mut task = RunningTask::new(format!("r-{a:05}-{i}"), group.as_str(), format!("agent-{a:05}"))
                .with_priority(rng.below(4) as i32)
                .started_at(Duration::from_secs(rng.below(3600)));
            task.resources =
                vec![(Arc::from("cpus"), Quantity::new(cpus).unwrap()), (Arc::from("mem"), Quantity::from_units(512))];
            task.host = Some((Arc::from(format!("host-{a:05}").as_str()), Default::default()));
            out.push(task);
        }
    }
    out
}

fn budgets() -> DisruptionBudgets {
    let mut budgets = DisruptionBudgets::new();
    for g in (0..GROUPS).step_by(10) {
        budgets.set(format!("group-{g:03}").as_str(), MaxUnavailable::Share(0.1));
    }
    budgets
}

fn preemption(c: &mut Criterion) {
    let running = running();
    let budgets = budgets();
    let task =
        TaskSpec::builder("urgent", "web").scalar("cpus", 2.0).scalar("mem", 512.0).priority(10).build().unwrap();
    let pending = [task];
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let now = Duration::from_secs(3600);
    let mut scheduler = Scheduler::new(engine.clone(), Duration::from_secs(60));
    for task in &running {
        scheduler.task_running(task.clone()).unwrap();
    }
    let input = PreemptionInput::new(&budgets);
    let plan = scheduler.schedule_preempting(&pending, None, input, now).unwrap();
    let p = &plan.preemptions[0];
    eprintln!("preempts {} on {} (victims {:?})", p.task_id, p.agent_id, p.victims);
    let mut group = c.benchmark_group("preemption");
    group.sample_size(20);
    group.bench_function("scheduler/plain", |b| {
        b.iter(|| black_box(scheduler.schedule(black_box(&pending), now).unwrap()));
    });
    scheduler.set_parking(false);
    group.bench_function("scheduler/plain_unparked", |b| {
        b.iter(|| black_box(scheduler.schedule(black_box(&pending), now).unwrap()));
    });
    group.bench_function("scheduler/preempting", |b| {
        b.iter(|| black_box(scheduler.schedule_preempting(black_box(&pending), None, input, now).unwrap()));
    });
    let pool = OfferPool::new(Duration::from_secs(60));
    group.sample_size(10);
    group.bench_function("one_shot/preempting", |b| {
        b.iter(|| black_box(engine.plan_preempting(&pool, black_box(&pending), &running, None, input, now).unwrap()));
    });
    group.finish();
}

criterion_group!(benches, preemption);
criterion_main!(benches);
