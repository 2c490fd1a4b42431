//! Placing one newly arrived task on a busy cluster, with the incremental [`Scheduler`].
//!
//! Set-up: 10,000 agents offer (the `gen` cluster), the scheduler places 50,000 tasks, and every
//! agent offers again what it has left — so 50,000 tasks run and every agent holds an offer.
//! Each iteration is one steady-state cycle: a task arrives and `schedule` places it (its agent's
//! offer is used up), the task ends, and the agent offers the same resources again under a new
//! id. Time is measured for the whole cycle, so it bounds the placement from above.
//! Run: `cargo bench --bench incremental`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::workload::{generate, ConstraintMix, GenOptions, Shapes};
use offerpack::{AgentId, Engine, EngineConfig, Offer, OfferedResource, ResourceValue, Scheduler, TaskSpec};
use offerpack::{Plan, PortRange, PortSet, Quantity};

const AGENTS: u32 = 10_000;
const RUNNING: u32 = 50_000;

/// `offer` less what `plan` launched on its agent: scalars reduced, ports from above the
/// highest port taken (ports are taken lowest first).
fn remainder(offer: &Offer, plan: &Plan) -> Offer {
    let launches: Vec<_> = plan.launches.iter().filter(|l| l.agent_id == offer.agent_id).collect();
    let mut out = Offer { id: format!("{}-left", offer.id).into(), resources: Vec::new(), ..offer.clone() };
    let highest = launches.iter().flat_map(|l| l.ports.iter().map(|(p, _)| *p)).max();
    for r in &offer.resources {
        let value = match &r.value {
            ResourceValue::Scalar(q) => {
                let used: Quantity = launches
                    .iter()
                    .flat_map(|l| l.resources.iter())
                    .filter(|a| a.name == r.name)
                    .fold(Quantity::ZERO, |sum, a| sum + a.amount);
                ResourceValue::Scalar(q.saturating_sub(used))
            }
            ResourceValue::Ports(set) => {
                let mut left = PortSet::new();
                for range in set.ranges() {
                    let begin = highest.map_or(range.begin, |h| range.begin.max(h.saturating_add(1)));
                    if let Some(range) = PortRange::new(begin, range.end) {
                        left.insert(range);
                    }
                }
                ResourceValue::Ports(left)
            }
        };
        out.resources.push(OfferedResource { value, ..r.clone() });
    }
    out
}

fn incremental(c: &mut Criterion) {
    let opts = GenOptions {
        agents: AGENTS,
        tasks: RUNNING,
        seed: 42,
        constraints: ConstraintMix::None,
        shapes: Shapes::Uniform,
        ..GenOptions::default()
    };
    let w = generate(&opts).expect("generated workloads are valid");
    // Offers are held (not declined) between passes, as a framework holding offers does.
    let config = EngineConfig { fitness: w.fitness.clone(), decline_unused: false, ..EngineConfig::default() };
    let engine = Engine::new(config).unwrap();
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(1 << 30));
    let now = Duration::ZERO;
    for offer in &w.offers {
        scheduler.add_offer(offer.clone(), now).unwrap();
    }
    let plan = scheduler.schedule(&w.tasks, now).unwrap();
    assert_eq!(plan.launches.len() as u32, RUNNING);
    let mut current: HashMap<AgentId, Offer> = HashMap::new();
    for offer in &w.offers {
        let left = if scheduler.pool().get(&offer.id).is_some() { offer.clone() } else { remainder(offer, &plan) };
        if left.id != offer.id {
            scheduler.add_offer(left.clone(), now).unwrap();
        }
        current.insert(offer.agent_id.clone(), left);
    }
    eprintln!(
        "incremental: {} agents, {} running tasks, {} offers held",
        AGENTS,
        scheduler.running_tasks(),
        scheduler.pool().len()
    );

    let mut n = 0u64;
    let mut group = c.benchmark_group("incremental");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    group.bench_function("place_one_new_task/10000_agents_50000_running", |b| {
        b.iter(|| {
            n += 1;
            let task = TaskSpec::builder(format!("new-{n}"), "arrivals")
                .scalar("cpus", 1.0)
                .scalar("mem", 2048.0)
                .ports(1)
                .build()
                .unwrap();
            let plan = scheduler.schedule(std::slice::from_ref(&task), now).unwrap();
            let launch = &plan.launches[0];
            scheduler.task_ended(&launch.task_id);
            let offer = &current[&launch.agent_id];
            let again = Offer { id: format!("again-{n}").into(), ..offer.clone() };
            scheduler.add_offer(again, now).unwrap();
            black_box(plan)
        })
    });
    group.finish();
}

criterion_group!(benches, incremental);
criterion_main!(benches);
