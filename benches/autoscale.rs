//! Autoscaling hints: the shortfall of 1,000 unplaced tasks on a cluster of 10,000 agents with
//! 50,000 running tasks (three agent classes, each agent 90 % full), and the scale-down pass.
//!
//! Measured: [`offerpack::autoscale::hints`] after the pass (the census of agents and classes,
//! the dry pass onto clones, the scale-down), not the pass itself (timed beside it for scale).
//! Run: `cargo bench --bench autoscale`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::autoscale::{hints, AutoscaleConfig, AutoscaleInput, ClassRule};
use offerpack::model::{AttrValue, Attributes};
use offerpack::plugins::constraints::{Is, Unique};
use offerpack::{Engine, EngineConfig, Offer, OfferPool, Quantity, RunningTask, TaskSpec};

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

criterion_group!(benches, autoscale);
criterion_main!(benches);
