//! The cost of the preemption search: one pending task that fits nowhere, on a full cluster of
//! 10,000 agents running tasks, none of them offering.
//!
//! The standard configuration: five tasks per agent (50,000), 0.5 to 2 cpus, priorities 0 to 3,
//! in 100 groups, every tenth group with a disruption budget of a tenth; the task asks 2 cpus at
//! priority 10. Before timing, families of configurations are swept, ten seeds each, and the
//! median and worst (with its seed) printed, for the kept table and the one-shot plan:
//!
//! - `fill`: 1 to 8 tasks per agent (10,000 to 80,000 running);
//! - `priorities`: running priorities from 0..2 up to 0..20 (from every agent yielding to
//!   about half the tasks yielding);
//! - `budgets`: 0 to 100 budgeted groups, shares from 0 (nothing may go) to 0.9;
//! - `shapes`: asks of 0.5 to 6 cpus (one victim up to four).
//!
//! Criterion then times:
//! - `scheduler/…`: the incremental [`Scheduler`], whose compiled state and running-task table
//!   live between passes, as in the live session: `plain` is the pass without preemption (the
//!   task is unplaced), `preempting` the same pass searching victims for it; the difference is
//!   what preemption costs per pass for one task. `preempting_worst` is the swept worst seed.
//! - `one_shot/preempting`: [`Engine::plan_preempting`], which compiles the cluster and builds
//!   the table first; `preempting_worst` on the one-shot's worst seed.
//!
//! Run: `cargo bench --bench preemption`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::preempt::{DisruptionBudgets, MaxUnavailable, PreemptionInput};
use offerpack::util::SeededRng;
use offerpack::{Engine, EngineConfig, OfferPool, Plan, Quantity, RunningTask, Scheduler, TaskSpec};

const AGENTS: u32 = 10_000;
const GROUPS: u32 = 100;
const NOW: Duration = Duration::from_secs(3600);

/// One configuration of the cluster and the task.
#[derive(Clone, Copy, Debug)]
struct Config {
    seed: u64,
    per_agent: u32,
    /// Running priorities are drawn from `0..priorities`.
    priorities: u64,
    /// Every `GROUPS / budgeted`-th group has a budget (none when 0).
    budgeted: u32,
    /// The budgets' share, in tenths.
    share: u32,
    /// The task's ask, in half cpus.
    half_cpus: u32,
}

const STANDARD: Config = Config { seed: 7, per_agent: 5, priorities: 4, budgeted: 10, share: 1, half_cpus: 4 };

/// The running tasks: agent `a` runs tasks `r-a-0`, `r-a-1`, ….
fn running(c: &Config) -> Vec<RunningTask> {
    let mut rng = SeededRng::new(c.seed);
    let mut out = Vec::with_capacity((AGENTS * c.per_agent) as usize);
    for a in 0..AGENTS {
        for i in 0..c.per_agent {
            let cpus = 0.5 * (1 + rng.below(4)) as f64;
            let group = format!("group-{:03}", rng.below(u64::from(GROUPS)));
            let mut task = RunningTask::new(format!("r-{a:05}-{i}"), group.as_str(), format!("agent-{a:05}"))
                .with_priority(rng.below(c.priorities) as i32)
                .started_at(Duration::from_secs(rng.below(3600)));
            task.resources =
                vec![(Arc::from("cpus"), Quantity::new(cpus).unwrap()), (Arc::from("mem"), Quantity::from_units(512))];
            task.host = Some((Arc::from(format!("host-{a:05}").as_str()), Default::default()));
            out.push(task);
        }
    }
    out
}

fn budgets(c: &Config) -> DisruptionBudgets {
    let mut budgets = DisruptionBudgets::new();
    if let Some(step) = GROUPS.checked_div(c.budgeted) {
        for g in (0..GROUPS).step_by(step as usize) {
            budgets.set(format!("group-{g:03}").as_str(), MaxUnavailable::Share(f64::from(c.share) / 10.0));
        }
    }
    budgets
}

fn task(c: &Config) -> TaskSpec {
    let cpus = 0.5 * f64::from(c.half_cpus);
    TaskSpec::builder("urgent", "web").scalar("cpus", cpus).scalar("mem", 512.0).priority(10).build().unwrap()
}

/// A scheduler that counts `running` and has made one preempting pass (building its table).
fn scheduler(running: &[RunningTask], pending: &[TaskSpec], input: PreemptionInput<'_>) -> Scheduler {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(60));
    scheduler.set_parking(false);
    for task in running {
        scheduler.task_running(task.clone()).unwrap();
    }
    scheduler.schedule_preempting(pending, None, input, NOW).unwrap();
    scheduler
}

/// Milliseconds of the fastest of `runs` calls of `f` (the least disturbed by other work).
fn millis(runs: usize, mut f: impl FnMut() -> Plan) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::INFINITY, f64::min)
}

/// One configuration's figures: the kept table's pass and the one-shot plan, in milliseconds.
fn measure(c: &Config) -> (f64, f64) {
    let (running, budgets, pending) = (running(c), budgets(c), [task(c)]);
    let input = PreemptionInput::new(&budgets);
    let mut kept = scheduler(&running, &pending, input);
    let scheduled = millis(5, || kept.schedule_preempting(&pending, None, input, NOW).unwrap());
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let pool = OfferPool::new(Duration::from_secs(60));
    let one_shot = millis(2, || engine.plan_preempting(&pool, &pending, &running, None, input, NOW).unwrap());
    (scheduled, one_shot)
}

/// `median X ms, worst Y ms (seed S)` of figures by seed.
fn summary(figures: &mut [(f64, u64)]) -> String {
    figures.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = figures[figures.len() / 2].0;
    let (worst, seed) = figures[figures.len() - 1];
    format!("median {median:.3} ms, worst {worst:.3} ms (seed {seed})")
}

/// Sweeps the families; returns the worst configuration for the kept table and for the one-shot.
fn sweep() -> (Config, Config) {
    type Family = (&'static str, fn(u64) -> Config);
    let families: [Family; 4] = [
        ("fill", |s| Config { seed: s, per_agent: [1, 2, 3, 5, 8][s as usize % 5], ..STANDARD }),
        ("priorities", |s| Config { seed: s, priorities: [2, 4, 8, 12, 20][s as usize % 5], ..STANDARD }),
        ("budgets", |s| Config {
            seed: s,
            budgeted: [0, 10, 25, 50, 100][s as usize % 5],
            share: [0, 1, 3, 5, 9][(s as usize / 5) % 5],
            ..STANDARD
        }),
        ("shapes", |s| Config { seed: s, half_cpus: [1, 4, 6, 8, 12][s as usize % 5], ..STANDARD }),
    ];
    let mut worst = ((0.0, STANDARD), (0.0, STANDARD));
    for (name, config) in families {
        let (mut kept, mut one_shot) = (Vec::new(), Vec::new());
        for seed in 1..=10 {
            let c = config(seed);
            let (k, o) = measure(&c);
            kept.push((k, seed));
            one_shot.push((o, seed));
            if k > worst.0 .0 {
                worst.0 = (k, c);
            }
            if o > worst.1 .0 {
                worst.1 = (o, c);
            }
        }
        eprintln!("sweep {name:<10} scheduler/preempting: {}", summary(&mut kept));
        eprintln!("sweep {name:<10} one_shot/preempting:  {}", summary(&mut one_shot));
    }
    eprintln!("worst for the scheduler: {:?}", worst.0 .1);
    eprintln!("worst for the one-shot:  {:?}", worst.1 .1);
    (worst.0 .1, worst.1 .1)
}

fn preemption(c: &mut Criterion) {
    let (worst_kept, worst_one_shot) = sweep();
    let running = running(&STANDARD);
    let budgets = budgets(&STANDARD);
    let pending = [task(&STANDARD)];
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let input = PreemptionInput::new(&budgets);
    let mut scheduler = scheduler(&running, &pending, input);
    let plan = scheduler.schedule_preempting(&pending, None, input, NOW).unwrap();
    let p = &plan.preemptions[0];
    eprintln!("preempts {} on {} (victims {:?})", p.task_id, p.agent_id, p.victims);
    let mut group = c.benchmark_group("preemption");
    group.sample_size(20);
    group.bench_function("scheduler/plain", |b| {
        b.iter(|| black_box(scheduler.schedule(black_box(&pending), NOW).unwrap()));
    });
    group.bench_function("scheduler/preempting", |b| {
        b.iter(|| black_box(scheduler.schedule_preempting(black_box(&pending), None, input, NOW).unwrap()));
    });
    {
        let (running, budgets, pending) = (self::running(&worst_kept), self::budgets(&worst_kept), [task(&worst_kept)]);
        let input = PreemptionInput::new(&budgets);
        let mut worst = self::scheduler(&running, &pending, input);
        group.bench_function("scheduler/preempting_worst", |b| {
            b.iter(|| black_box(worst.schedule_preempting(black_box(&pending), None, input, NOW).unwrap()));
        });
    }
    let pool = OfferPool::new(Duration::from_secs(60));
    group.sample_size(10);
    group.bench_function("one_shot/preempting", |b| {
        b.iter(|| black_box(engine.plan_preempting(&pool, black_box(&pending), &running, None, input, NOW).unwrap()));
    });
    {
        let c = worst_one_shot;
        let (running, budgets, pending) = (self::running(&c), self::budgets(&c), [task(&c)]);
        let input = PreemptionInput::new(&budgets);
        group.bench_function("one_shot/preempting_worst", |b| {
            b.iter(|| black_box(engine.plan_preempting(&pool, &pending, &running, None, input, NOW).unwrap()));
        });
    }
    group.finish();
}

criterion_group!(benches, preemption);
criterion_main!(benches);
