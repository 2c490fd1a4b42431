//! One scheduling pass over synthetic workloads, by scenario and size.
//!
//! Each benchmark prints the packing it reached (agents used, tasks placed) beside criterion's
//! time, so a faster pass that packs worse is visible; the constrained scenario also prints its
//! `hostname:UNIQUE` violations and the largest per-group zone skew (most minus fewest tasks of
//! a group in one zone, over all zones). Each size also runs with two threads allowed
//! (`<scenario>/two_threads/<size>`), after checking that the plan is the same. Run:
//! `cargo bench --bench pass` (`-- two_threads` for those rows alone).

use std::collections::HashMap;
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

/// Tasks per hostname or per zone.
type Tally<'a> = HashMap<&'a str, u32>;

/// (`hostname:UNIQUE` violations, largest per-group zone skew) of a plan.
fn spread_check(w: &Workload, plan: &Plan) -> (usize, u32) {
    let place: HashMap<&str, (&str, &str)> = w
        .offers
        .iter()
        .map(|o| {
            let zone = o.attributes.get("zone").map_or("", |z| z.as_str());
            (o.agent_id.as_str(), (&*o.hostname, zone))
        })
        .collect();
    let zones: Vec<&str> = {
        let mut z: Vec<&str> = place.values().map(|(_, zone)| *zone).collect();
        z.sort_unstable();
        z.dedup();
        z
    };
    let mut per_group: HashMap<&str, (Tally<'_>, Tally<'_>)> = HashMap::new();
    for launch in &plan.launches {
        let (host, zone) = place[launch.agent_id.as_str()];
        let (hosts, zone_counts) = per_group.entry(launch.group.as_str()).or_default();
        *hosts.entry(host).or_default() += 1;
        *zone_counts.entry(zone).or_default() += 1;
    }
    let mut violations = 0;
    let mut skew = 0;
    for (hosts, zone_counts) in per_group.values() {
        violations += hosts.values().filter(|&&n| n > 1).count();
        let counts: Vec<u32> = zones.iter().map(|z| zone_counts.get(z).copied().unwrap_or(0)).collect();
        skew = skew.max(counts.iter().max().unwrap_or(&0) - counts.iter().min().unwrap_or(&0));
    }
    (violations, skew)
}

fn scenario(c: &mut Criterion, name: &str, constraints: ConstraintMix) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    for (agents, tasks) in SIZES {
        let w = workload(agents, tasks, constraints);
        let engine = Engine::new(EngineConfig { fitness: w.fitness.clone(), ..EngineConfig::default() }).unwrap();
        let two =
            Engine::new(EngineConfig { fitness: w.fitness.clone(), threads: 2, ..EngineConfig::default() }).unwrap();
        let first = plan(&engine, &w);
        let mut second = plan(&two, &w);
        // Only the flags saying what ran on the second thread may differ.
        (second.stats.prepared_on_two_threads, second.stats.launches_on_helper) = (false, false);
        assert!(second == first, "{name}/{agents}x{tasks}: two threads planned differently");
        let stats = &first.stats;
        eprintln!(
            "{name}/{agents}x{tasks}: {} agents used, {} of {} tasks placed, {} task classes",
            stats.agents_used, stats.tasks_placed, tasks, stats.task_classes
        );
        if constraints != ConstraintMix::None {
            let (violations, skew) = spread_check(&w, &first);
            eprintln!("{name}/{agents}x{tasks}: {violations} hostname:UNIQUE violations, largest zone skew {skew}");
        }
        group.bench_with_input(BenchmarkId::from_parameter(format!("{agents}x{tasks}")), &w, |b, w| {
            b.iter(|| black_box(plan(&engine, w)))
        });
        group.bench_with_input(BenchmarkId::new("two_threads", format!("{agents}x{tasks}")), &w, |b, w| {
            b.iter(|| black_box(plan(&two, w)))
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
