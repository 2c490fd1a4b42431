//! Autoscaling hints: the shortfall of 1,000 unplaced tasks on a cluster of 10,000 agents with
//! 50,000 running tasks (three agent classes, each agent 90 % full), and the scale-down pass.
//!
//! Measured: [`offerpack::autoscale::hints`] after the pass (the census of agents and classes,
//! the dry pass onto clones, the scale-down), not the pass itself (timed beside it for scale).
//!
//! Before timing, families of seeded clusters are swept, 10 seeds each (the fastest of five
//! runs of the hints per seed, the seeds taking turns): cluster sizes (2,000 and 10,000 agents,
//! 3 to 7 running tasks on each), class counts (1, 3, 8; each class's shape drawn from the
//! seed), constraint mixes (plain, one per host, at most 100 per zone, and a mix of those with
//! tasks pinned to a zone no agent has and tasks larger than any class), shapes (uniform
//! classes, or irregular: one agent in ten of another size than its class) and task orders
//! (agent by agent, or shuffled as a live `Scheduler` walks them). The bench prints each
//! family's median and worst time with its seed, then criterion times each family's worst seed
//! and the standard configuration. Run: `cargo bench --bench autoscale`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::autoscale::{hints, AutoscaleConfig, AutoscaleInput, ClassRule};
use offerpack::model::{AttrValue, Attributes};
use offerpack::plugins::constraints::{Is, MaxPer, Unique};
use offerpack::util::SeededRng;
use offerpack::{Engine, EngineConfig, Offer, OfferPool, Plan, Quantity, RunningTask, TaskSpec};

const NOW: Duration = Duration::ZERO;
/// Classes: name, cpus, mem (MiB).
const CLASSES: [(&str, u32, u32); 3] = [("c4", 4, 16_384), ("c8", 8, 32_768), ("c16", 16, 65_536)];

struct Cluster {
    pool: OfferPool,
    running: Vec<RunningTask>,
    pending: Vec<TaskSpec>,
}

/// `agents` agents, five running tasks on each holding 18 % of it apiece, the rest offered;
/// `unplaced` pending tasks that fit no agent's rest: 70 % plain (2 cpus), 20 % one per host
/// (2 cpus, their group has running tasks too), 10 % pinned to a zone no agent has.
fn cluster(agents: usize, unplaced: usize) -> Cluster {
    let mut pool = OfferPool::new(Duration::from_secs(600));
    let mut running = Vec::with_capacity(agents * 5);
    let milli = |units: u32, share: u64| Quantity::from_milli(u64::from(units) * share);
    for i in 0..agents {
        let (class, cpus, mem) = CLASSES[i % CLASSES.len()];
        let id = format!("agent-{i:05}");
        let zone = ["z1", "z2", "z3"][(i / 3) % 3];
        let attrs = Attributes::from_pairs([("class", AttrValue::text(class)), ("zone", AttrValue::text(zone))]);
        let mut offer = Offer::new(format!("o-{i:05}").as_str(), id.as_str(), &id)
            .with_scalar("cpus", f64::from(cpus) * 0.1)
            .unwrap()
            .with_scalar("mem", f64::from(mem) * 0.1)
            .unwrap();
        offer.attributes = attrs;
        pool.add(offer, NOW).unwrap();
        for k in 0..5 {
            let group = if (i + k) % 20 == 0 { "spread".to_owned() } else { format!("svc-{}", (i * 5 + k) % 200) };
            let mut task = RunningTask::new(format!("run-{i}-{k}"), group, id.as_str());
            // 18 % of the agent each: 180 thousandths of a unit per unit.
            task.resources = vec![(Arc::from("cpus"), milli(cpus, 180)), (Arc::from("mem"), milli(mem, 180))];
            running.push(task);
        }
    }
    let unique = Arc::new(Unique::new("hostname"));
    let pinned = Arc::new(Is::new("zone", "z9"));
    let pending = (0..unplaced)
        .map(|j| {
            let id = format!("pending-{j:04}");
            match j % 10 {
                0 => TaskSpec::builder(id, "pinned").scalar("cpus", 2.0).hard(pinned.clone()),
                1 | 2 => TaskSpec::builder(id, "spread").scalar("cpus", 2.0).scalar("mem", 2048.0).hard(unique.clone()),
                _ => TaskSpec::builder(id, format!("batch-{}", j % 5)).scalar("cpus", 2.0).scalar("mem", 4096.0),
            }
            .build()
            .unwrap()
        })
        .collect();
    Cluster { pool, running, pending }
}

/// Constraint mixes of the swept families' pending tasks.
#[derive(Clone, Copy, Debug)]
enum Mix {
    /// No constraints.
    Plain,
    /// 30 % one per host (`hostname:UNIQUE`), in groups with running tasks.
    Unique,
    /// 30 % at most 100 per zone (`zone:MAX_PER:100`), in groups with running tasks (about
    /// 80 of each per zone on 10,000 agents).
    MaxPer,
    /// 20 % one per host, 20 % at most 100 per zone, 10 % pinned to a zone no agent has, 5 %
    /// larger than any class.
    Mixed,
}

/// One swept family.
#[derive(Clone, Copy, Debug)]
struct Family {
    name: &'static str,
    agents: usize,
    unplaced: usize,
    classes: usize,
    mix: Mix,
    irregular: bool,
    /// Running tasks in random order (as a live `Scheduler` holds them), not agent by agent.
    shuffled: bool,
}

const FAMILIES: [Family; 8] = [
    Family {
        name: "10000/3cls/mixed",
        agents: 10_000,
        unplaced: 1_000,
        classes: 3,
        mix: Mix::Mixed,
        irregular: false,
        shuffled: false,
    },
    Family {
        name: "10000/8cls/irregular/unique",
        agents: 10_000,
        unplaced: 1_000,
        classes: 8,
        mix: Mix::Unique,
        irregular: true,
        shuffled: false,
    },
    Family {
        name: "10000/1cls/plain",
        agents: 10_000,
        unplaced: 1_000,
        classes: 1,
        mix: Mix::Plain,
        irregular: false,
        shuffled: false,
    },
    Family {
        name: "10000/3cls/irregular/max_per",
        agents: 10_000,
        unplaced: 1_000,
        classes: 3,
        mix: Mix::MaxPer,
        irregular: true,
        shuffled: false,
    },
    Family {
        name: "10000/3cls/mixed/shuffled",
        agents: 10_000,
        unplaced: 1_000,
        classes: 3,
        mix: Mix::Mixed,
        irregular: false,
        shuffled: true,
    },
    Family {
        name: "10000/8cls/irregular/unique/shuffled",
        agents: 10_000,
        unplaced: 1_000,
        classes: 8,
        mix: Mix::Unique,
        irregular: true,
        shuffled: true,
    },
    Family {
        name: "2000/3cls/mixed",
        agents: 2_000,
        unplaced: 200,
        classes: 3,
        mix: Mix::Mixed,
        irregular: false,
        shuffled: false,
    },
    Family {
        name: "2000/8cls/irregular/mixed",
        agents: 2_000,
        unplaced: 200,
        classes: 8,
        mix: Mix::Mixed,
        irregular: true,
        shuffled: false,
    },
];

const SEEDS: u64 = 10;

/// A seeded cluster of `family`: each agent offers 1 cpu and 1 GiB beyond what its 3 to 7
/// running tasks hold (a share of them in the pending tasks' constrained groups), so the
/// pending tasks (2 to 6 cpus) fit no agent; the rules of its classes.
fn seeded(family: &Family, seed: u64) -> (Cluster, AutoscaleConfig) {
    let mut rng = SeededRng::new(seed);
    let shapes: Vec<(u32, u32)> = (0..family.classes)
        .map(|_| {
            let cpus = [4, 8, 16, 32, 48, 64][rng.below(6) as usize];
            (cpus, cpus * [2_048, 4_096, 8_192][rng.below(3) as usize])
        })
        .collect();
    let mut pool = OfferPool::new(Duration::from_secs(600));
    let mut running = Vec::new();
    for i in 0..family.agents {
        let class = rng.below(family.classes as u64) as usize;
        let (mut cpus, mut mem) = shapes[class];
        if family.irregular && rng.below(10) == 0 {
            (cpus, mem) = (cpus * 2, mem * 2);
        }
        let id = format!("agent-{i:05}");
        let zone = format!("z{}", rng.below(3));
        let attrs =
            Attributes::from_pairs([("class", AttrValue::text(format!("k{class}"))), ("zone", AttrValue::text(zone))]);
        let mut offer = Offer::new(format!("o-{i:05}").as_str(), id.as_str(), &id)
            .with_scalar("cpus", 1.0)
            .unwrap()
            .with_scalar("mem", 1_024.0)
            .unwrap();
        offer.attributes = attrs;
        pool.add(offer, NOW).unwrap();
        let tasks = 3 + rng.below(5) as u32;
        for k in 0..tasks {
            let group = match rng.below(20) {
                0 => format!("spread-{}", rng.below(10)),
                1 => format!("cap-{}", rng.below(10)),
                _ => format!("svc-{}", rng.below(500)),
            };
            let mut task = RunningTask::new(format!("run-{i}-{k}"), group, id.as_str());
            let share = |total: u32, rest: u32| Quantity::from_milli(u64::from((total - rest) * 1_000 / tasks));
            task.resources = vec![(Arc::from("cpus"), share(cpus, 1)), (Arc::from("mem"), share(mem, 1_024))];
            running.push(task);
        }
    }
    if family.shuffled {
        // An order of its own, so the cluster is the one in agent order, tasks shuffled.
        let mut order = SeededRng::new(seed ^ 0x5eed);
        for i in (1..running.len()).rev() {
            running.swap(i, order.below(i as u64 + 1) as usize);
        }
    }
    let unique = Arc::new(Unique::new("hostname"));
    let max_per = Arc::new(MaxPer::new("zone", NonZeroU32::new(100).unwrap()));
    let pinned = Arc::new(Is::new("zone", "z9"));
    let pending = (0..family.unplaced)
        .map(|j| {
            let id = format!("pending-{j:04}");
            let cpus = [2.0, 3.0, 4.0, 6.0][rng.below(4) as usize];
            let mem = [2_048.0, 4_096.0, 8_192.0][rng.below(3) as usize];
            let roll = rng.below(100);
            let spread = || TaskSpec::builder(id.clone(), format!("spread-{}", j % 10));
            let capped = || TaskSpec::builder(id.clone(), format!("cap-{}", j % 10));
            let plain = || TaskSpec::builder(id.clone(), format!("batch-{}", j % 5));
            let builder = match (family.mix, roll) {
                (Mix::Unique, 0..30) | (Mix::Mixed, 0..20) => spread().hard(unique.clone()),
                (Mix::MaxPer, 0..30) | (Mix::Mixed, 20..40) => capped().hard(max_per.clone()),
                (Mix::Mixed, 40..50) => plain().hard(pinned.clone()),
                (Mix::Mixed, 50..55) => return plain().scalar("cpus", 1_000.0).build().unwrap(),
                _ => plain(),
            };
            builder.scalar("cpus", cpus).scalar("mem", mem).build().unwrap()
        })
        .collect();
    let rules = (0..family.classes).map(|c| ClassRule::new(&format!("k{c}")).max_size(20_000).max_idle(2));
    (Cluster { pool, running, pending }, AutoscaleConfig::new("class", rules).unwrap())
}

/// The hints of `w`'s pass.
fn run_hints(engine: &Engine, config: &AutoscaleConfig, w: &Cluster, plan: &Plan) -> offerpack::autoscale::ScaleHints {
    let last = BTreeMap::new();
    let input = AutoscaleInput { config, last_scaled: &last };
    hints(engine, input, &w.pool, &w.pending, &w.running, plan, NOW).unwrap()
}

/// Rounds of timing: each seed's time is the fastest of its runs, one per round.
const ROUNDS: usize = 5;

/// One run of the hints.
fn time_hints(engine: &Engine, config: &AutoscaleConfig, w: &Cluster, plan: &Plan) -> Duration {
    let start = Instant::now();
    black_box(run_hints(engine, config, w, plan));
    start.elapsed()
}

/// Sweeps each family over its seeds, prints the median and the worst, and lets criterion
/// time the worst seed.
fn sweep(c: &mut Criterion) {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let mut group = c.benchmark_group("autoscale_sweep");
    group.sample_size(20);
    for family in &FAMILIES {
        let inputs: Vec<(Cluster, AutoscaleConfig, Plan)> = (0..SEEDS)
            .map(|seed| {
                let (w, config) = seeded(family, seed);
                let plan = engine.plan(&w.pool, &w.pending, &w.running, NOW).unwrap();
                (w, config, plan)
            })
            .collect();
        // The seeds take turns, round after round, so that a stretch of a slow machine slows
        // one run of several seeds rather than every run of one.
        let mut times: Vec<(Duration, u64)> = (0..SEEDS).map(|seed| (Duration::MAX, seed)).collect();
        for _ in 0..ROUNDS {
            for ((w, config, plan), (best, _)) in inputs.iter().zip(&mut times) {
                *best = (*best).min(time_hints(&engine, config, w, plan));
            }
        }
        drop(inputs);
        times.sort();
        let (worst, worst_seed) = times[times.len() - 1];
        let median = times[times.len() / 2].0;
        let (w, config) = seeded(family, worst_seed);
        let plan = engine.plan(&w.pool, &w.pending, &w.running, NOW).unwrap();
        let found = run_hints(&engine, &config, &w, &plan);
        let up: u32 = found.scale_up.iter().map(|(_, n)| n).sum();
        eprintln!(
            "autoscale/sweep/{}x{}: {SEEDS} seeds, median {:.2} ms, worst {:.2} ms (seed {worst_seed}: {} running, {} of {} unplaced claimed, {up} agents to add)",
            family.name,
            family.unplaced,
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            w.running.len(),
            found.claimed.len(),
            plan.unplaced.len(),
        );
        let name = format!("hints/{}x{}/worst_seed_{worst_seed}", family.name, family.unplaced);
        group.bench_function(name, |b| b.iter(|| black_box(run_hints(&engine, &config, &w, &plan))));
    }
    group.finish();
}

fn autoscale(c: &mut Criterion) {
    let (agents, unplaced) = (10_000, 1_000);
    let w = cluster(agents, unplaced);
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let plan = engine.plan(&w.pool, &w.pending, &w.running, NOW).unwrap();
    assert_eq!(plan.unplaced.len(), unplaced, "every pending task is left unplaced");
    let rules = CLASSES.map(|(name, _, _)| ClassRule::new(name).max_size(20_000).max_idle(2));
    let config = AutoscaleConfig::new("class", rules).unwrap();
    let last = BTreeMap::new();
    let input = AutoscaleInput { config: &config, last_scaled: &last };
    let run = || hints(&engine, input, &w.pool, &w.pending, &w.running, &plan, NOW).unwrap();
    let found = run();
    eprintln!(
        "autoscale/{agents}x{}: {} of {unplaced} unplaced tasks claimed, scale_up {:?}",
        w.running.len(),
        found.claimed.len(),
        found.scale_up
    );
    let mut group = c.benchmark_group("autoscale");
    group.sample_size(20);
    let name = format!("{agents}x{}/{unplaced}_unplaced", w.running.len());
    group.bench_function(format!("hints/{name}"), |b| b.iter(|| black_box(run())));
    group.bench_function(format!("pass_alone/{name}"), |b| {
        b.iter(|| black_box(engine.plan(&w.pool, &w.pending, &w.running, NOW).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, sweep, autoscale);
criterion_main!(benches);
