//! Property tests of queue order through the engine (`Engine::plan_queued`) on a real cluster of
//! agents, as opposed to `queue_fairness.rs`'s pooled capacity: with demand beyond capacity,
//! the weighted dominant shares of the buckets still waiting end within one task's share of
//! each other, limits are never exceeded (running tasks counted), guarantees are honoured,
//! and a lower tier places nothing while a higher one still has a task that fits.
//!
//! Every task of a case asks the same unit (1 or 2 cpus, 1024 MB per cpu) and agents hold
//! whole units, so leftovers never strand a task: any difference beyond one task's share would
//! be the queue's, not the packing's.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use offerpack::plan::Reason;
use offerpack::queue::{BucketConfig, QueueConfig, QueuePlace, QueueReason, ResourceAmounts, TierConfig};
use offerpack::{Engine, EngineConfig, Offer, OfferPool, Plan, Quantity, QueueInput, RunningTask, TaskSpec};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const NOW: Duration = Duration::ZERO;

#[derive(Clone, Debug)]
struct Bucket {
    weight: f64,
    /// Cpus per task (memory is 1024 MB per cpu): 1 or 2.
    cpus: u32,
    tier: u32,
    /// Cap on cpus, counting running tasks.
    limit: Option<u32>,
    /// Cpus reserved while it has demand.
    guarantee: Option<u32>,
    pending: u32,
    running: u32,
}

#[derive(Clone, Debug)]
struct Case {
    /// Cpus per agent (even, so two-cpu tasks never strand a cpu).
    agents: Vec<u32>,
    buckets: Vec<Bucket>,
}

fn bucket() -> impl Strategy<Value = Bucket> {
    (
        prop_oneof![Just(1.0), Just(2.0), Just(3.0)],
        1u32..=2,
        prop_oneof![4 => Just(0u32), 1 => Just(1u32)],
        prop::option::weighted(0.3, 2u32..12),
        prop::option::weighted(0.3, 2u32..8),
        6u32..30,
        0u32..4,
    )
        .prop_map(|(weight, cpus, tier, limit, guarantee, pending, running)| Bucket {
            weight,
            cpus,
            tier,
            limit: limit.map(|l| l * cpus),
            // A guarantee above the limit is a configuration error.
            guarantee: guarantee.map(|g| limit.map_or(g, |l| g.min(l)) * cpus),
            pending,
            running,
        })
}

fn case() -> impl Strategy<Value = Case> {
    let agents = prop::collection::vec((2u32..=6).prop_map(|h| 2 * h), 2..6);
    (agents, prop::collection::vec(bucket(), 2..5), 1u32..=2).prop_map(|(agents, mut buckets, unit)| {
        // One task size for all: with several, a bucket of big tasks can be left behind by
        // leftovers too small for it, which is packing, not the queue.
        for bucket in &mut buckets {
            let scale = |amount: u32| amount / bucket.cpus * unit;
            bucket.limit = bucket.limit.map(scale);
            bucket.guarantee = bucket.guarantee.map(scale);
            bucket.cpus = unit;
        }
        Case { agents, buckets }
    })
}

fn amounts(cpus: u32) -> ResourceAmounts {
    [("cpus", Quantity::from_units(cpus)), ("mem", Quantity::from_units(1024 * cpus))].into_iter().collect()
}

fn config(case: &Case) -> QueueConfig {
    let mut config = QueueConfig::default();
    for (b, bucket) in case.buckets.iter().enumerate() {
        let settings = BucketConfig {
            weight: bucket.weight,
            limit: bucket.limit.map(amounts).unwrap_or_default(),
            guarantee: bucket.guarantee.map(amounts).unwrap_or_default(),
        };
        config.buckets.insert(format!("b{b}"), settings);
    }
    config.tiers = vec![TierConfig::default(), TierConfig::default()];
    config
}

/// A case's cluster: the pool (agents' free cpus after the running tasks, which sit on the
/// first agents), the running tasks with what they hold per place, and the pending tasks with
/// their places.
struct Cluster {
    pool: OfferPool,
    running: Vec<RunningTask>,
    usage: Vec<(QueuePlace, ResourceAmounts)>,
    tasks: Vec<TaskSpec>,
    places: Vec<QueuePlace>,
}

fn cluster(case: &Case) -> Cluster {
    let mut free = case.agents.clone();
    let mut running = Vec::new();
    let mut usage = Vec::new();
    for (b, bucket) in case.buckets.iter().enumerate() {
        let place = QueuePlace { tier: bucket.tier, bucket: Arc::from(format!("b{b}")) };
        for i in 0..bucket.running {
            // A running task fits where it runs (or is dropped from the case).
            let Some(agent) = free.iter().position(|f| *f >= bucket.cpus) else { break };
            free[agent] -= bucket.cpus;
            let mut task = RunningTask::new(format!("r{b}-{i}"), format!("g{b}"), format!("a{agent}"));
            task.resources = amounts(bucket.cpus).as_slice().to_vec();
            running.push(task);
            usage.push((place.clone(), amounts(bucket.cpus)));
        }
    }
    let mut pool = OfferPool::new(Duration::from_secs(60));
    for (a, cpus) in free.iter().enumerate().filter(|(_, c)| **c > 0) {
        let offer = Offer::new(format!("o{a}"), format!("a{a}"), &format!("h{a}"));
        let offer = offer.with_scalar("cpus", f64::from(*cpus)).unwrap().with_scalar("mem", f64::from(1024 * cpus));
        pool.add(offer.unwrap(), NOW).unwrap();
    }
    let mut tasks = Vec::new();
    let mut places = Vec::new();
    for (b, bucket) in case.buckets.iter().enumerate() {
        for i in 0..bucket.pending {
            let spec = TaskSpec::builder(format!("t{b}-{i}"), format!("g{b}"))
                .scalar("cpus", f64::from(bucket.cpus))
                .scalar("mem", f64::from(1024 * bucket.cpus))
                .build()
                .unwrap();
            tasks.push(spec);
            places.push(QueuePlace { tier: bucket.tier, bucket: Arc::from(format!("b{b}")) });
        }
    }
    Cluster { pool, running, usage, tasks, places }
}

/// Cpus held per bucket after the pass (running plus placed).
fn held(case: &Case, running: &[RunningTask], plan: &Plan) -> Vec<u32> {
    let mut held = vec![0u32; case.buckets.len()];
    let bucket_of = |id: &str| id[1..].split('-').next().and_then(|b| b.parse::<usize>().ok());
    for id in running.iter().map(|t| t.id.as_str()).chain(plan.launches.iter().map(|l| l.task_id.as_str())) {
        if let Some(b) = bucket_of(id) {
            held[b] += case.buckets[b].cpus;
        }
    }
    held
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let Cluster { pool, running, usage, tasks, places } = cluster(case);
    let config = config(case);
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let input = QueueInput { config: &config, pending: &places, running: &usage };
    let plan = engine.plan_queued(&pool, &tasks, &running, input, NOW).unwrap();
    let held = held(case, &running, &plan);
    let total: u32 = case.agents.iter().sum();
    let free_after: u32 = total - held.iter().sum::<u32>();
    let mut waiting: BTreeMap<usize, u32> = BTreeMap::new();
    for u in &plan.unplaced {
        if let Some(b) = u.task_id.as_str()[1..].split('-').next().and_then(|b| b.parse().ok()) {
            *waiting.entry(b).or_default() += 1;
        }
    }
    for (b, bucket) in case.buckets.iter().enumerate() {
        let placed = held[b] - running_cpus(&running, b, bucket);
        let capped = bucket.limit.is_some_and(|l| held[b] + bucket.cpus > l);
        if let Some(limit) = bucket.limit {
            prop_assert!(placed == 0 || held[b] <= limit, "b{b} holds {} over its limit {limit}", held[b]);
        }
        if let Some(guarantee) = bucket.guarantee {
            // Under its guarantee, a waiting bucket is not left with room free for its task.
            let short = waiting.contains_key(&b) && held[b] < guarantee && !capped;
            prop_assert!(
                !(short && free_after >= bucket.cpus),
                "b{b} waits under its guarantee, {free_after} cpus free"
            );
        }
    }
    // Tier order: a tier-1 task placed means no tier-0 task waits that the end state could
    // fit, unless its bucket's limit or a guarantee (held across tiers for any bucket with
    // demand, under its guarantee) kept it out.
    let tier1_placed = plan.launches.iter().any(|l| bucket_tier(case, l.task_id.as_str()) == 1);
    let under_guarantee = |b: usize| {
        let bucket = &case.buckets[b];
        bucket.guarantee.is_some_and(|g| held[b] < g) && (waiting.contains_key(&b) || bucket.pending > 0)
    };
    if tier1_placed {
        for (&b, _) in waiting.iter().filter(|(b, _)| case.buckets[**b].tier == 0) {
            let capped = case.buckets[b].limit.is_some_and(|l| held[b] + case.buckets[b].cpus > l);
            let guaranteed_elsewhere = (0..case.buckets.len()).any(|o| o != b && under_guarantee(o));
            let held_back = plan.unplaced.iter().filter(|u| bucket_of(&u.task_id) == Some(b)).all(|u| {
                u.reasons.iter().all(|r| matches!(r.reason, Reason::Queue(QueueReason::NoGuaranteedCapacity { .. })))
            });
            let explained = capped || (guaranteed_elsewhere && held_back);
            prop_assert!(explained || free_after < case.buckets[b].cpus, "tier 0 b{b} waits while tier 1 placed");
        }
    }
    // Fairness among the waiting, uncapped, unguaranteed buckets of tier 0 when nothing is free.
    if free_after == 0 {
        let fair: Vec<usize> = waiting
            .keys()
            .copied()
            .filter(|&b| {
                let bucket = &case.buckets[b];
                bucket.tier == 0
                    && bucket.guarantee.is_none()
                    && bucket.limit.is_none_or(|l| held[b] + bucket.cpus <= l)
            })
            .collect();
        let share = |b: usize| f64::from(held[b]) / f64::from(total) / case.buckets[b].weight;
        let step = |b: usize| f64::from(case.buckets[b].cpus) / f64::from(total) / case.buckets[b].weight;
        if let (Some(hi), Some(lo)) = (
            fair.iter().copied().max_by(|a, b| share(*a).total_cmp(&share(*b))),
            fair.iter().copied().min_by(|a, b| share(*a).total_cmp(&share(*b))),
        ) {
            let slack = fair.iter().map(|&b| step(b)).fold(0.0, f64::max);
            // Shares that running tasks pushed past the fair point cannot come down in a pass.
            let pushed =
                case.buckets[hi].running > 0 && plan.launches.iter().all(|l| bucket_of(&l.task_id) != Some(hi));
            prop_assert!(
                pushed || share(hi) - share(lo) <= slack + 1e-9,
                "b{hi} at {} and b{lo} at {} differ by more than one task ({slack})",
                share(hi),
                share(lo)
            );
        }
    }
    Ok(())
}

fn bucket_of(id: &offerpack::TaskId) -> Option<usize> {
    id.as_str()[1..].split('-').next().and_then(|b| b.parse().ok())
}

fn bucket_tier(case: &Case, id: &str) -> u32 {
    id[1..].split('-').next().and_then(|b| b.parse::<usize>().ok()).map_or(0, |b| case.buckets[b].tier)
}

fn running_cpus(running: &[RunningTask], b: usize, bucket: &Bucket) -> u32 {
    let prefix = format!("r{b}-");
    running.iter().filter(|t| t.id.as_str().starts_with(&prefix)).count() as u32 * bucket.cpus
}

fn proptest_config() -> ProptestConfig {
    let persistence = FileFailurePersistence::Direct("proptest-regressions/queue_engine_props.txt");
    ProptestConfig { cases: 256, failure_persistence: Some(Box::new(persistence)), ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Weighted DRF, limits, guarantees and tier order hold on agents, not only on a pool.
    #[test]
    fn queue_engine_shares_limits_guarantees_and_tiers_hold_on_agents(case in case()) {
        check(&case)?;
    }
}
