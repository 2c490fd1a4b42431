//! Unit tests of the queue: serving order, admission, starvation and stats.

use std::sync::Arc;

use super::*;
use crate::resources::Quantity;

fn q(units: u32) -> Quantity {
    Quantity::from_units(units)
}

fn amounts(pairs: &[(&str, u32)]) -> ResourceAmounts {
    pairs.iter().map(|&(n, u)| (n, q(u))).collect()
}

fn ask(pairs: &[(&str, u32)]) -> Vec<(Arc<str>, Quantity)> {
    amounts(pairs).as_slice().to_vec()
}

fn push(queue: &mut Queue, task: u32, tier: u32, bucket: &str, priority: i32, a: &[(&str, u32)]) -> EntryId {
    queue.push(QueuedTask { task, tier, bucket, priority, ask: &ask(a) })
}

fn config(buckets: &[(&str, BucketConfig)], tiers: Vec<TierConfig>) -> QueueConfig {
    let buckets = buckets.iter().map(|(n, b)| (n.to_string(), b.clone())).collect();
    QueueConfig { tiers, buckets, policy: QueuePolicy::default() }
}

/// Drives one pass against a pooled capacity: returns the task indices placed, in order.
fn drain_pooled(queue: &mut Queue, free: &mut ResourceAmounts) -> Vec<u32> {
    let mut placed = Vec::new();
    while let Some(id) = queue.next() {
        let task = queue.entry(id).unwrap().task;
        if let Err(reason) = queue.admit(id) {
            queue.unplaced(id, UnplacedCause::Queue(reason)).unwrap();
            continue;
        }
        let asked = queue_ask(queue, id);
        if asked.iter().all(|(n, a)| free.amount(n) >= a) {
            for (n, a) in asked.iter() {
                free.set(n, free.amount(n) - a);
            }
            queue.placed(id).unwrap();
            placed.push(task);
        } else {
            queue.unplaced(id, UnplacedCause::NoFit).unwrap();
        }
    }
    placed
}

/// The ask of an entry, read from the queue's own record of it.
fn queue_ask(queue: &Queue, id: EntryId) -> ResourceAmounts {
    let data = queue.slots[id.slot as usize].live(id.gen).unwrap();
    data.ask.iter().map(|&(r, a)| (queue.names[r as usize].clone(), a)).collect()
}

#[test]
fn queue_drf_classic_example_allocates_three_and_two() {
    // 9 cpus and 18 GB; bucket a asks <1 cpu, 4 GB>, bucket b <3 cpu, 1 GB>: DRF gives a three
    // tasks (3 cpu, 12 GB: share 2/3) and b two (6 cpu, 2 GB: share 2/3).
    let mut queue = Queue::new(QueueConfig::default()).unwrap();
    for i in 0..10 {
        push(&mut queue, i, 0, "a", 0, &[("cpus", 1), ("mem", 4)]);
        push(&mut queue, 100 + i, 0, "b", 0, &[("cpus", 3), ("mem", 1)]);
    }
    let total = amounts(&[("cpus", 9), ("mem", 18)]);
    queue.begin_pass(1, &total);
    let mut free = total.clone();
    let placed = drain_pooled(&mut queue, &mut free);
    assert_eq!(placed, [0, 100, 1, 101, 2], "progressive filling order");
    let stats = queue.stats();
    assert_eq!(stats.len(), 2);
    assert_eq!((stats[0].placed, stats[0].unplaced), (3, 7));
    assert_eq!((stats[1].placed, stats[1].unplaced), (2, 8));
    assert_eq!(stats[0].allocated, amounts(&[("cpus", 3), ("mem", 12)]));
    assert_eq!(stats[1].allocated, amounts(&[("cpus", 6), ("mem", 2)]));
    for s in &stats {
        assert!((s.dominant_share - 2.0 / 3.0).abs() < 1e-9, "{s:?}");
    }
}

#[test]
fn queue_weights_scale_the_share() {
    let heavy = BucketConfig { weight: 2.0, ..BucketConfig::default() };
    let mut queue = Queue::new(config(&[("heavy", heavy)], vec![])).unwrap();
    for i in 0..12 {
        push(&mut queue, i, 0, "heavy", 0, &[("cpus", 1)]);
        push(&mut queue, 100 + i, 0, "light", 0, &[("cpus", 1)]);
    }
    let total = amounts(&[("cpus", 9)]);
    queue.begin_pass(1, &total);
    let placed = drain_pooled(&mut queue, &mut total.clone());
    let heavy = placed.iter().filter(|&&t| t < 100).count();
    assert_eq!((heavy, placed.len() - heavy), (6, 3));
    assert!((queue.share(0, "heavy").unwrap() - 6.0 / 9.0 / 2.0).abs() < 1e-9);
}

#[test]
fn queue_serves_tiers_strictly() {
    let mut queue = Queue::new(QueueConfig::default()).unwrap();
    push(&mut queue, 1, 1, "a", 100, &[("cpus", 1)]);
    push(&mut queue, 0, 0, "b", 0, &[("cpus", 1)]);
    push(&mut queue, 2, 0, "c", 0, &[("cpus", 1)]);
    queue.begin_pass(1, &amounts(&[("cpus", 10)]));
    let mut order = Vec::new();
    while let Some(id) = queue.next() {
        order.push(queue.entry(id).unwrap().task);
        queue.unplaced(id, UnplacedCause::NoFit).unwrap();
    }
    assert_eq!(order, [0, 2, 1]);
}

#[test]
fn queue_orders_by_priority_then_arrival_with_aging() {
    let mut policy = QueueConfig::default();
    policy.policy.aging_passes = 2;
    let mut queue = Queue::new(policy).unwrap();
    let old = push(&mut queue, 0, 0, "a", 0, &[("cpus", 1)]);
    let total = amounts(&[("cpus", 10)]);
    queue.begin_pass(3, &total);
    push(&mut queue, 1, 0, "a", 1, &[("cpus", 1)]);
    push(&mut queue, 2, 0, "a", 1, &[("cpus", 1)]);
    let mut order = Vec::new();
    while let Some(id) = queue.next() {
        order.push(queue.entry(id).unwrap().task);
        queue.unplaced(id, UnplacedCause::NoFit).unwrap();
    }
    // At pass 3 the old entry's effective priority is 0 + 3/2 > 1: it comes first.
    assert_eq!(order, [0, 1, 2]);
    assert_eq!(queue.entry(old).unwrap().since, 0);
    let mut fresh = Queue::new(QueueConfig::default()).unwrap();
    push(&mut fresh, 0, 0, "a", 0, &[("cpus", 1)]);
    fresh.begin_pass(3, &total);
    push(&mut fresh, 1, 0, "a", 1, &[("cpus", 1)]);
    let first = fresh.next().unwrap();
    assert_eq!(fresh.entry(first).unwrap().task, 1, "3 passes of aging at 10 per level are not enough");
}

#[test]
fn queue_unplaced_head_does_not_block_its_bucket() {
    let mut queue = Queue::new(QueueConfig::default()).unwrap();
    push(&mut queue, 0, 0, "a", 5, &[("cpus", 50)]);
    push(&mut queue, 1, 0, "a", 0, &[("cpus", 1)]);
    let total = amounts(&[("cpus", 4)]);
    queue.begin_pass(1, &total);
    let placed = drain_pooled(&mut queue, &mut total.clone());
    assert_eq!(placed, [1]);
    assert_eq!(queue.len(), 1);
    queue.begin_pass(2, &total);
    let head = queue.next().unwrap();
    assert_eq!(queue.entry(head).unwrap().task, 0, "the unplaced head is back in line next pass");
}

#[test]
fn queue_admit_enforces_limits_counting_running() {
    let limited = BucketConfig { limit: amounts(&[("cpus", 4)]), ..BucketConfig::default() };
    let mut queue = Queue::new(config(&[("a", limited)], vec![])).unwrap();
    queue.add_running(0, "a", &ask(&[("cpus", 3)]));
    let big = push(&mut queue, 0, 0, "a", 1, &[("cpus", 2)]);
    let small = push(&mut queue, 1, 0, "a", 0, &[("cpus", 1), ("mem", 7)]);
    queue.begin_pass(1, &amounts(&[("cpus", 100), ("mem", 100)]));
    assert_eq!(queue.next(), Some(big));
    let reason = queue.admit(big).unwrap_err();
    assert_eq!(reason, QueueReason::LimitReached { bucket: "a".into(), resource: "cpus".into() });
    queue.unplaced(big, UnplacedCause::Queue(reason)).unwrap();
    assert_eq!(queue.next(), Some(small));
    assert_eq!(queue.admit(small), Ok(()));
    queue.placed(small).unwrap();
    queue.remove_running(0, "a", &ask(&[("cpus", 3)]));
    queue.begin_pass(2, &amounts(&[("cpus", 100), ("mem", 100)]));
    assert_eq!(queue.next(), Some(big));
    assert_eq!(queue.admit(big), Ok(()), "room under the limit once running tasks end");
}

#[test]
fn queue_admit_follows_tier_capacity_with_guarantees() {
    let guaranteed = BucketConfig { guarantee: amounts(&[("cpus", 4)]), ..BucketConfig::default() };
    let tiers = vec![TierConfig { capacity: Some(amounts(&[("cpus", 10)])) }];
    let mut queue = Queue::new(config(&[("g", guaranteed)], tiers)).unwrap();
    let waiting = push(&mut queue, 0, 0, "g", 0, &[("cpus", 100)]);
    queue.add_running(0, "other", &ask(&[("cpus", 5)]));
    let borrow = push(&mut queue, 1, 0, "other", 0, &[("cpus", 2)]);
    let fits = push(&mut queue, 2, 0, "other", 0, &[("cpus", 1)]);
    queue.begin_pass(1, &amounts(&[("cpus", 1000)]));
    // Capacity 10 − max(0, 4 held for g) − 5 used = 1 shared cpu left for "other".
    assert_eq!(queue.admit(borrow), Err(QueueReason::NoGuaranteedCapacity { bucket: "other".into() }));
    assert_eq!(queue.admit(fits), Ok(()), "a bucket without guarantee may use the shared remainder");
    assert_eq!(queue.remove(waiting), Some(0));
    assert_eq!(queue.admit(borrow), Ok(()), "with no demand the guarantee is lent out");
    let over = push(&mut queue, 3, 0, "other", 0, &[("cpus", 6)]);
    assert_eq!(queue.admit(over), Err(QueueReason::TierCapacity { tier: 0, resource: "cpus".into() }));
    let mine = push(&mut queue, 4, 0, "g", 0, &[("cpus", 4)]);
    assert_eq!(queue.admit(mine), Ok(()), "within its guarantee a bucket is admitted");
}

#[test]
fn queue_admit_holds_guarantees_across_the_cluster() {
    let guaranteed = BucketConfig { guarantee: amounts(&[("cpus", 4)]), ..BucketConfig::default() };
    let mut queue = Queue::new(config(&[("g", guaranteed)], vec![])).unwrap();
    push(&mut queue, 0, 1, "g", 0, &[("cpus", 1)]);
    let greedy = push(&mut queue, 1, 0, "other", 0, &[("cpus", 7)]);
    let modest = push(&mut queue, 2, 0, "other", 0, &[("cpus", 6)]);
    let huge = push(&mut queue, 3, 0, "other", 0, &[("cpus", 11)]);
    queue.begin_pass(1, &amounts(&[("cpus", 10)]));
    assert_eq!(queue.admit(greedy), Err(QueueReason::NoGuaranteedCapacity { bucket: "other".into() }));
    assert_eq!(queue.admit(modest), Ok(()));
    assert_eq!(queue.admit(huge), Ok(()), "fits nowhere: left to the engine to explain");
}

#[test]
fn queue_reports_misuse_as_errors() {
    let mut queue = Queue::new(QueueConfig::default()).unwrap();
    let id = push(&mut queue, 0, 0, "a", 0, &[("cpus", 1)]);
    queue.begin_pass(1, &amounts(&[("cpus", 1)]));
    assert_eq!(queue.placed(id), Err(QueueError::NotInFlight));
    assert_eq!(queue.next(), Some(id));
    queue.placed(id).unwrap();
    assert_eq!(queue.placed(id), Err(QueueError::UnknownEntry));
    assert_eq!(queue.unplaced(id, UnplacedCause::NoFit), Err(QueueError::UnknownEntry));
    assert_eq!(queue.remove(id), None);
    assert_eq!(queue.admit(id), Ok(()));
    assert!(queue.entry(id).is_none() && queue.is_empty());
    let reused = push(&mut queue, 1, 0, "a", 0, &[("cpus", 1)]);
    assert_ne!(reused, id, "a reused slot gets a fresh handle");
}

#[test]
fn queue_running_changes_rekey_buckets_mid_pass() {
    let mut queue = Queue::new(QueueConfig::default()).unwrap();
    push(&mut queue, 0, 0, "a", 0, &[("cpus", 1)]);
    push(&mut queue, 1, 0, "b", 0, &[("cpus", 1)]);
    queue.begin_pass(1, &amounts(&[("cpus", 10)]));
    queue.add_running(0, "a", &ask(&[("cpus", 5)]));
    let first = queue.next().unwrap();
    assert_eq!(queue.entry(first).unwrap().bucket, "b");
}

/// A toy cluster of agents for the starvation test: running tasks end at a given pass.
struct Toy {
    capacity: Vec<u32>,
    running: Vec<Vec<(u32, u64, &'static str)>>,
}

impl Toy {
    fn free(&self, agent: usize) -> u32 {
        self.capacity[agent] - self.running[agent].iter().map(|r| r.0).sum::<u32>()
    }
}

/// Runs `passes` passes of a cluster where small one-cpu tasks keep arriving and a four-cpu
/// task waits; with `reserve`, the engine follows the starvation contract. Returns the pass the
/// big task was placed in, and checks no small task lands on a reserved agent.
fn starvation_run(reserve: bool, passes: u64) -> Option<u64> {
    let mut policy = QueueConfig::default();
    policy.policy.starving_after = 3;
    let mut queue = Queue::new(policy).unwrap();
    let end = |i: u64| 1 + i / 2;
    let mut toy = Toy { capacity: vec![4, 4], running: vec![Vec::new(), Vec::new()] };
    for agent in 0..2 {
        for i in 0..4 {
            toy.running[agent].push((1, end(i), "small"));
            queue.add_running(0, "small", &ask(&[("cpus", 1)]));
        }
    }
    let big = push(&mut queue, 0, 0, "big", 0, &[("cpus", 4)]);
    let mut reserved: Option<(EntryId, usize)> = None;
    let mut next_task = 1;
    for pass in 1..=passes {
        for agent in 0..2 {
            for r in toy.running[agent].iter().filter(|r| r.1 <= pass) {
                queue.remove_running(0, r.2, &ask(&[("cpus", r.0)]));
            }
            toy.running[agent].retain(|r| r.1 > pass);
        }
        for _ in 0..4 {
            push(&mut queue, next_task, 0, "small", 0, &[("cpus", 1)]);
            next_task += 1;
        }
        queue.begin_pass(pass, &amounts(&[("cpus", 8)]));
        let starving: Vec<EntryId> = queue.starving().collect();
        reserved = match (reserve, starving.first()) {
            (true, Some(&s)) => match reserved {
                Some((e, agent)) if e == s => Some((e, agent)),
                // The most free capacity among agents big enough; ties by agent id.
                _ => (0..2)
                    .filter(|&a| toy.capacity[a] >= 4)
                    .max_by_key(|&a| (toy.free(a), std::cmp::Reverse(a)))
                    .map(|a| (s, a)),
            },
            _ => None,
        };
        while let Some(id) = queue.next() {
            let info = queue.entry(id).unwrap();
            let (task, cpus) = (info.task, if id == big { 4 } else { 1 });
            let usable = |a: &usize| reserved.is_none_or(|(s, r)| *a != r || s == id);
            match (0..2).filter(usable).find(|&a| toy.free(a) >= cpus) {
                Some(agent) => {
                    let bucket = if id == big { "big" } else { "small" };
                    toy.running[agent].push((cpus, pass + 2, bucket));
                    queue.placed(id).unwrap();
                    if task == 0 {
                        return Some(pass);
                    }
                }
                None => queue.unplaced(id, UnplacedCause::NoFit).unwrap(),
            }
        }
    }
    None
}

#[test]
fn queue_starving_head_gets_an_agent_with_the_reservation() {
    assert_eq!(starvation_run(false, 40), None, "without a reservation small tasks starve the big one");
    let placed = starvation_run(true, 40).expect("the reservation lets the big task in");
    // Misses at passes 1-3 make it starving at pass 4; the reserved agent drains in two passes.
    assert!(placed <= 6, "placed at pass {placed}");
}

#[test]
fn queue_starving_lists_only_heads_that_missed_enough() {
    let mut queue = Queue::new(QueueConfig::default()).unwrap();
    let head = push(&mut queue, 0, 0, "a", 1, &[("cpus", 9)]);
    push(&mut queue, 1, 0, "a", 0, &[("cpus", 9)]);
    let total = amounts(&[("cpus", 4)]);
    for pass in 1..=3 {
        queue.begin_pass(pass, &total);
        assert_eq!(queue.starving().count(), 0, "pass {pass}");
        drain_pooled(&mut queue, &mut total.clone());
    }
    queue.begin_pass(4, &total);
    assert_eq!(queue.starving().collect::<Vec<_>>(), [head], "only the head, not the one behind");
    assert_eq!(queue.entry(head).unwrap().misses, 3);
    assert_eq!(queue.next(), Some(head));
    queue.unplaced(head, UnplacedCause::Queue(QueueReason::NoGuaranteedCapacity { bucket: "a".into() })).unwrap();
    queue.begin_pass(5, &total);
    assert_eq!(queue.starving().count(), 0, "a queue reason resets the count");
}

#[cfg(feature = "workload")]
#[test]
fn queue_stats_serialize_as_the_plan_shows_them() {
    let mut queue = Queue::new(QueueConfig::default()).unwrap();
    push(&mut queue, 0, 2, "batch", 0, &[("cpus", 2), ("mem", 3)]);
    push(&mut queue, 1, 2, "batch", 0, &[("cpus", 9)]);
    let total = amounts(&[("cpus", 4), ("mem", 12)]);
    queue.begin_pass(1, &total);
    drain_pooled(&mut queue, &mut total.clone());
    let json = serde_json::to_value(queue.stats()).unwrap();
    let expected = serde_json::json!([{"tier": 2, "bucket": "batch", "placed": 1, "unplaced": 1,
        "allocated": {"cpus": 2.0, "mem": 3.0}, "dominant_share": 0.5, "weighted_share": 0.5}]);
    assert_eq!(json, expected);
}
