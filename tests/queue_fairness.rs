//! Property tests of the queue on a toy cluster (one pooled capacity vector): weighted DRF
//! fairness, guarantees, limits, tier capacity, strict tier order and determinism.

use std::sync::Arc;

use offerpack::queue::{
    BucketConfig, EntryId, Queue, QueueConfig, QueueReason, QueuedTask, ResourceAmounts, TierConfig, UnplacedCause,
};
use offerpack::Quantity;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const NAMES: [&str; 3] = ["cpus", "mem", "gpus"];
const EPS: f64 = 1e-9;

/// One generated scenario.
#[derive(Clone, Debug)]
struct Case {
    capacity: Vec<u32>,
    weights: Vec<f64>,
    /// Per bucket: guarantee and limit in units per resource (limit `None` = uncapped).
    guarantees: Vec<Vec<u32>>,
    limits: Vec<Vec<Option<u32>>>,
    /// Per tier: capacity per resource (`None` = uncapped).
    tier_caps: Vec<Vec<Option<u32>>>,
    /// (bucket, tier, priority, ask per resource).
    tasks: Vec<(usize, u32, i32, Vec<u32>)>,
}

fn bucket_name(b: usize) -> String {
    format!("b{b}")
}

fn ask_of(ask: &[u32]) -> Vec<(Arc<str>, Quantity)> {
    let amounts: ResourceAmounts =
        ask.iter().enumerate().filter(|(_, a)| **a > 0).map(|(r, a)| (NAMES[r], Quantity::from_units(*a))).collect();
    amounts.as_slice().to_vec()
}

fn units(v: &[u32]) -> ResourceAmounts {
    v.iter().enumerate().map(|(r, a)| (NAMES[r], Quantity::from_units(*a))).collect()
}

fn config(case: &Case) -> QueueConfig {
    let mut config = QueueConfig::default();
    for (b, weight) in case.weights.iter().enumerate() {
        let guarantee = units(&case.guarantees[b]);
        let limit =
            case.limits[b].iter().enumerate().filter_map(|(r, l)| l.map(|l| (NAMES[r], Quantity::from_units(l))));
        config.buckets.insert(bucket_name(b), BucketConfig { weight: *weight, guarantee, limit: limit.collect() });
    }
    for caps in &case.tier_caps {
        let capacity = caps.iter().enumerate().filter_map(|(r, c)| c.map(|c| (NAMES[r], Quantity::from_units(c))));
        config.tiers.push(TierConfig { capacity: Some(capacity.collect()) });
    }
    config
}

/// What a pass did, as the toy saw it.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    /// Tasks handed out, in order, with whether each was placed.
    order: Vec<(u32, bool)>,
    /// Per bucket: usage per resource after the pass.
    usage: Vec<Vec<u32>>,
    /// Per bucket: tasks left unplaced.
    left: Vec<Vec<u32>>,
    /// Per bucket: the free vector just before its last placement, and that task's share.
    last: Vec<Option<(Vec<u32>, f64)>>,
}

fn fits(ask: &[u32], free: &[u32]) -> bool {
    ask.iter().zip(free).all(|(a, f)| a <= f)
}

/// A task's weighted dominant share in bucket `b`.
fn task_share(case: &Case, b: usize, ask: &[u32]) -> f64 {
    let dominant = ask.iter().zip(&case.capacity).map(|(a, c)| f64::from(*a) / f64::from(*c)).fold(0.0, f64::max);
    dominant / case.weights[b]
}

fn bucket_share(case: &Case, b: usize, usage: &[u32]) -> f64 {
    task_share(case, b, usage)
}

/// Runs one pass over the pooled cluster, checking admission decisions and the invariants
/// after every step against the toy's own bookkeeping.
fn run(case: &Case) -> Result<Outcome, TestCaseError> {
    let n = case.capacity.len();
    let mut queue = Queue::new(config(case)).expect("valid config");
    let mut ids: Vec<EntryId> = Vec::new();
    for (i, (b, tier, priority, ask)) in case.tasks.iter().enumerate() {
        let bucket = bucket_name(*b);
        let task = QueuedTask { task: i as u32, tier: *tier, bucket: &bucket, priority: *priority, ask: &ask_of(ask) };
        ids.push(queue.push(task));
    }
    queue.begin_pass(1, &units(&case.capacity));
    let buckets = case.weights.len();
    let mut out = Outcome { usage: vec![vec![0; n]; buckets], last: vec![None; buckets], ..Outcome::default() };
    let mut free = case.capacity.clone();
    let mut pending: Vec<usize> = (0..buckets).map(|b| case.tasks.iter().filter(|t| t.0 == b).count()).collect();
    let mut tier_used = vec![vec![0u32; n]; case.tier_caps.len().max(4)];
    let mut last_tier = 0;
    while let Some(id) = queue.next() {
        let task = queue.entry(id).expect("live").task;
        let (b, tier, _, ask) = &case.tasks[task as usize];
        prop_assert!(*tier >= last_tier, "tier order: {tier} after {last_tier}");
        last_tier = *tier;
        let usage = &out.usage[*b];
        let within_guarantee = (0..n).all(|r| usage[r] + ask[r] <= case.guarantees[*b][r]);
        let placed = match queue.admit(id) {
            Err(reason) => {
                check_reason(case, &reason, *b, usage, ask, &tier_used[*tier as usize])?;
                prop_assert!(!within_guarantee, "held back within its guarantee: {reason}");
                queue.unplaced(id, UnplacedCause::Queue(reason)).unwrap();
                false
            }
            Ok(()) if fits(ask, &free) => {
                out.last[*b] = Some((free.clone(), task_share(case, *b, ask)));
                for r in 0..n {
                    free[r] -= ask[r];
                    out.usage[*b][r] += ask[r];
                    tier_used[*tier as usize][r] += ask[r];
                }
                pending[*b] -= 1;
                queue.placed(id).unwrap();
                true
            }
            Ok(()) => {
                prop_assert!(!within_guarantee, "task {task} within its guarantee found no room");
                queue.unplaced(id, UnplacedCause::NoFit).unwrap();
                false
            }
        };
        out.order.push((task, placed));
        check_invariants(case, &out.usage, &pending, &free, &tier_used)?;
    }
    out.left = vec![Vec::new(); buckets];
    for (task, placed) in &out.order {
        if !placed {
            out.left[case.tasks[*task as usize].0].push(*task);
        }
    }
    prop_assert_eq!(out.order.len(), case.tasks.len(), "every task handed out once");
    Ok(out)
}

/// A queue reason must be true of the toy's state.
fn check_reason(
    case: &Case,
    reason: &QueueReason,
    b: usize,
    usage: &[u32],
    ask: &[u32],
    tier_used: &[u32],
) -> Result<(), TestCaseError> {
    let r_of = |name: &str| NAMES.iter().position(|n| *n == name).unwrap();
    match reason {
        QueueReason::LimitReached { resource, .. } => {
            let r = r_of(resource);
            let limit = case.limits[b][r].expect("a limit on the resource");
            prop_assert!(usage[r] + ask[r] > limit, "false LimitReached");
        }
        QueueReason::TierCapacity { tier, resource } => {
            let r = r_of(resource);
            let cap = case.tier_caps[*tier as usize][r].expect("a capacity on the resource");
            prop_assert!(tier_used[r] + ask[r] > cap, "false TierCapacity");
        }
        QueueReason::NoGuaranteedCapacity { .. } => {}
        other => prop_assert!(false, "unexpected reason {other}"),
    }
    Ok(())
}

/// Limits and tier capacities never exceeded; unused guarantees of buckets with demand stay free.
fn check_invariants(
    case: &Case,
    usage: &[Vec<u32>],
    pending: &[usize],
    free: &[u32],
    tier_used: &[Vec<u32>],
) -> Result<(), TestCaseError> {
    for r in 0..case.capacity.len() {
        let mut held = 0;
        for b in 0..case.weights.len() {
            if let Some(limit) = case.limits[b][r] {
                prop_assert!(usage[b][r] <= limit, "bucket {b} over its limit of {}", NAMES[r]);
            }
            if pending[b] > 0 {
                held += case.guarantees[b][r].saturating_sub(usage[b][r]);
            }
        }
        prop_assert!(free[r] >= held, "unused guarantees of {} lent out: free {} < {held}", NAMES[r], free[r]);
        for (t, caps) in case.tier_caps.iter().enumerate() {
            if let Some(cap) = caps[r] {
                prop_assert!(tier_used[t][r] <= cap, "tier {t} over its capacity of {}", NAMES[r]);
            }
        }
    }
    Ok(())
}

/// Buckets with unplaced tasks: a bucket's share, less its last task's, is never above another
/// such bucket's share — unless none of that other bucket's leftovers fit what was free then.
fn check_fairness(case: &Case, out: &Outcome) -> Result<(), TestCaseError> {
    let buckets = case.weights.len();
    for a in 0..buckets {
        let Some((free_then, delta)) = &out.last[a] else { continue };
        let share_a = bucket_share(case, a, &out.usage[a]);
        for b in (0..buckets).filter(|&b| b != a && !out.left[b].is_empty()) {
            let share_b = bucket_share(case, b, &out.usage[b]);
            if share_a - delta > share_b + EPS {
                let any_fit = out.left[b].iter().any(|t| fits(&case.tasks[*t as usize].3, free_then));
                prop_assert!(!any_fit, "bucket {a} at {share_a} (last task {delta}) ran ahead of {b} at {share_b}");
            }
        }
    }
    Ok(())
}

fn case(uniform: bool, guarantees: bool, tiers: u32) -> impl Strategy<Value = Case> {
    (1usize..=3, 2usize..=5)
        .prop_flat_map(move |(n, buckets)| {
            let capacity = prop::collection::vec(10u32..=35, n);
            let weights = prop::collection::vec(prop::sample::select(vec![0.5, 1.0, 1.5, 2.0, 3.0]), buckets);
            let ask = (1u32..=4, prop::collection::vec(0u32..=4, n - 1)).prop_map(|(first, rest)| {
                let mut ask = vec![first];
                ask.extend(rest);
                ask
            });
            let task = (0..buckets, 0..tiers, -1i32..=1, ask.clone());
            let tasks = prop::collection::vec(task, 40..100);
            let guarantee = prop::collection::vec(0u32..=6, n);
            let limit = prop::collection::vec(prop::option::of(4u32..=30), n);
            let tier_cap = prop::collection::vec(prop::option::of(8u32..=30), n);
            (
                capacity,
                weights,
                prop::collection::vec(guarantee, buckets),
                prop::collection::vec(limit, buckets),
                prop::collection::vec(tier_cap, tiers as usize),
                tasks,
                ask,
            )
        })
        .prop_map(move |(capacity, weights, gs, limits, tier_caps, mut tasks, one_ask)| {
            if uniform {
                for t in &mut tasks {
                    t.3.clone_from(&one_ask);
                }
            }
            let n = capacity.len();
            let mut case = Case {
                weights,
                guarantees: vec![vec![0; n]; gs.len()],
                limits: vec![vec![None; n]; gs.len()],
                tier_caps: vec![vec![None; n]; tier_caps.len()],
                capacity,
                tasks,
            };
            if guarantees {
                // Guarantees that fit the cluster together; limits at or above them.
                for r in 0..n {
                    let sum: u32 = gs.iter().map(|g| g[r]).sum();
                    for (b, g) in gs.iter().enumerate() {
                        case.guarantees[b][r] = if sum <= case.capacity[r] { g[r] } else { 0 };
                        case.limits[b][r] = limits[b][r].map(|l| l.max(case.guarantees[b][r]));
                    }
                }
                // Tier capacities at or above the guarantees, as the queue's docs ask.
                let held: Vec<u32> = (0..n).map(|r| case.guarantees.iter().map(|g| g[r]).sum()).collect();
                case.tier_caps = tier_caps
                    .into_iter()
                    .map(|caps| caps.iter().zip(&held).map(|(c, h)| c.map(|c| c.max(*h))).collect())
                    .collect();
            }
            case
        })
}

fn proptest_config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(128);
    let persistence = FileFailurePersistence::Direct("proptest-regressions/queue_fairness.txt");
    ProptestConfig { cases, failure_persistence: Some(Box::new(persistence)), ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Identical asks everywhere: the buckets left with demand end within one task's weighted
    /// share of each other.
    #[test]
    fn queue_fairness_uniform_asks_end_within_one_task(case in case(true, false, 1)) {
        let out = run(&case)?;
        let ask = &case.tasks[0].3;
        let starved: Vec<usize> = (0..case.weights.len()).filter(|b| !out.left[*b].is_empty()).collect();
        for &a in &starved {
            for &b in &starved {
                let (sa, sb) = (bucket_share(&case, a, &out.usage[a]), bucket_share(&case, b, &out.usage[b]));
                prop_assert!(sa - sb <= task_share(&case, a, ask) + EPS, "bucket {a} at {sa}, bucket {b} at {sb}");
            }
        }
        prop_assert!(!starved.is_empty(), "demand exceeds capacity, so some bucket is left waiting");
    }

    /// Random asks: progressive filling never lets a bucket run ahead of one that could still
    /// have used what was free.
    #[test]
    fn queue_fairness_random_asks_fill_progressively(case in case(false, false, 1)) {
        let out = run(&case)?;
        check_fairness(&case, &out)?;
    }

    /// Guarantees, limits and tier capacities hold at every step across tiers, tiers are served
    /// strictly, and the same input gives the same order.
    #[test]
    fn queue_fairness_guarantees_limits_tiers_and_determinism(case in case(false, true, 3)) {
        let first = run(&case)?;
        let again = run(&case)?;
        prop_assert_eq!(&first, &again);
    }
}
