//! Passes in queue order through the engine and the incremental scheduler: weighted DRF between
//! buckets, limits with their reasons, strict tiers, and usage carried from pass to pass.

use std::sync::Arc;
use std::time::Duration;

use offerpack::plan::Reason;
use offerpack::queue::{BucketConfig, QueueConfig, QueuePlace, QueueReason, ResourceAmounts, TierConfig};
use offerpack::{Engine, EngineConfig, Offer, OfferPool, Plan, Quantity, QueueInput, Scheduler, TaskSpec};

const NOW: Duration = Duration::ZERO;

fn pool(agents: &[(f64, f64)]) -> OfferPool {
    let mut pool = OfferPool::new(Duration::from_secs(60));
    for (i, &(cpus, mem)) in agents.iter().enumerate() {
        let (o, a) = (format!("o{i}"), format!("a{i}"));
        let offer = Offer::new(o.as_str(), a.as_str(), &a).with_scalar("cpus", cpus).unwrap();
        pool.add(offer.with_scalar("mem", mem).unwrap(), NOW).unwrap();
    }
    pool
}

fn task(id: &str, cpus: f64, mem: f64) -> TaskSpec {
    TaskSpec::builder(id, id).scalar("cpus", cpus).scalar("mem", mem).build().unwrap()
}

fn place(tier: u32, bucket: &str) -> QueuePlace {
    QueuePlace { tier, bucket: Arc::from(bucket) }
}

fn placed(plan: &Plan, prefix: &str) -> usize {
    plan.launches.iter().filter(|l| l.task_id.as_str().starts_with(prefix)).count()
}

fn plan(pool: &OfferPool, tasks: &[TaskSpec], places: &[QueuePlace], config: &QueueConfig) -> Plan {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let queue = QueueInput { config, pending: places, running: &[] };
    engine.plan_queued(pool, tasks, &[], queue, NOW).unwrap()
}

/// Ten tasks of each kind: A asks <1 cpu, 4 mem>, B asks <3 cpus, 1 mem>.
fn drf_tasks() -> (Vec<TaskSpec>, Vec<QueuePlace>) {
    let mut tasks = Vec::new();
    let mut places = Vec::new();
    for i in 0..10 {
        tasks.push(task(&format!("a{i}"), 1.0, 4.0));
        places.push(place(0, "A"));
        tasks.push(task(&format!("b{i}"), 3.0, 1.0));
        places.push(place(0, "B"));
    }
    (tasks, places)
}

#[test]
fn queued_pass_gives_the_classic_drf_allocation() {
    // 9 cpus and 18 memory: DRF gives A three tasks and B two, both at a dominant share of 2/3.
    let (tasks, places) = drf_tasks();
    let plan = plan(&pool(&[(9.0, 18.0)]), &tasks, &places, &QueueConfig::default());
    assert_eq!((placed(&plan, "a"), placed(&plan, "b")), (3, 2));
    let shares: Vec<f64> = plan.stats.buckets.iter().map(|b| b.dominant_share).collect();
    assert_eq!(shares.len(), 2);
    assert!(shares.iter().all(|s| (s - 2.0 / 3.0).abs() < 1e-9), "{shares:?}");
}

#[test]
fn queued_pass_weights_shift_the_allocation() {
    // B at weight 2 may hold twice A's dominant share.
    let (tasks, places) = drf_tasks();
    let mut config = QueueConfig::default();
    config.buckets.insert("B".to_owned(), BucketConfig { weight: 2.0, ..BucketConfig::default() });
    let plan = plan(&pool(&[(12.0, 40.0)]), &tasks, &places, &config);
    let stats = &plan.stats.buckets;
    let (a, b) = (&stats[0], &stats[1]);
    assert!(b.dominant_share > a.dominant_share, "{stats:?}");
    let task_share = 3.0 / 12.0;
    assert!((a.weighted_share - b.weighted_share).abs() <= task_share + 1e-9, "{stats:?}");
}

#[test]
fn queued_pass_explains_a_limit_and_never_exceeds_it() {
    let (tasks, places) = drf_tasks();
    let mut config = QueueConfig::default();
    let limit = ResourceAmounts::new().with("cpus", Quantity::from_milli(7_000));
    config.buckets.insert("B".to_owned(), BucketConfig { limit, ..BucketConfig::default() });
    let plan = plan(&pool(&[(64.0, 640.0)]), &tasks, &places, &config);
    assert_eq!(placed(&plan, "b"), 2, "two tasks of 3 cpus fit a limit of 7");
    assert_eq!(placed(&plan, "a"), 10);
    let refused: Vec<&Reason> = plan
        .unplaced
        .iter()
        .filter(|u| u.task_id.as_str().starts_with('b'))
        .flat_map(|u| u.reasons.iter().map(|r| &r.reason))
        .collect();
    assert_eq!(refused.len(), 8);
    for reason in refused {
        let Reason::Queue(QueueReason::LimitReached { bucket, resource }) = reason else {
            panic!("{reason:?}");
        };
        assert_eq!((&**bucket, &**resource), ("B", "cpus"));
    }
}

#[test]
fn queued_pass_serves_tiers_strictly() {
    // Room for four 1-cpu tasks: tier 0's four go first although they come last.
    let mut tasks = Vec::new();
    let mut places = Vec::new();
    for i in 0..4 {
        tasks.push(task(&format!("late{i}"), 1.0, 1.0));
        places.push(place(1, "x"));
    }
    for i in 0..4 {
        tasks.push(task(&format!("first{i}"), 1.0, 1.0));
        places.push(place(0, "y"));
    }
    let config = QueueConfig { tiers: vec![TierConfig::default(); 2], ..QueueConfig::default() };
    let plan = plan(&pool(&[(4.0, 100.0)]), &tasks, &places, &config);
    assert_eq!((placed(&plan, "first"), placed(&plan, "late")), (4, 0));
}

#[test]
fn scheduler_queued_passes_remember_what_buckets_hold() {
    let engine = Engine::new(EngineConfig { decline_unused: false, ..EngineConfig::default() }).unwrap();
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(600));
    for offer in
        pool(&[(4.0, 100.0), (4.0, 100.0)]).agents_at(NOW).flat_map(|a| a.offers().cloned().collect::<Vec<_>>())
    {
        scheduler.add_offer(offer, NOW).unwrap();
    }
    let config = QueueConfig::default();
    // Pass 1: bucket A alone takes 4 of the 8 cpus.
    let first: Vec<TaskSpec> = (0..4).map(|i| task(&format!("a{i}"), 1.0, 1.0)).collect();
    let plan = scheduler.schedule_queued(&first, &vec![place(0, "A"); 4], &config, NOW).unwrap();
    assert_eq!(placed(&plan, "a"), 4);
    // Pass 2: A and B both want more than the 4 cpus left; B holds nothing, so B gets them all.
    let mut second: Vec<TaskSpec> = (4..8).map(|i| task(&format!("a{i}"), 1.0, 1.0)).collect();
    second.extend((0..4).map(|i| task(&format!("b{i}"), 1.0, 1.0)));
    let places: Vec<QueuePlace> = (0..8).map(|i| place(0, if i < 4 { "A" } else { "B" })).collect();
    let plan = scheduler.schedule_queued(&second, &places, &config, NOW).unwrap();
    assert_eq!((placed(&plan, "a"), placed(&plan, "b")), (0, 4), "{:?}", plan.stats.buckets);
    // A's tasks end and their agent offers the cpus again: A holds only its new task.
    for i in 0..4 {
        assert!(scheduler.task_ended(&format!("a{i}").as_str().into()));
    }
    let again = plan.launches.first().map(|l| l.agent_id.clone()).unwrap();
    let back = Offer::new("back", again.as_str(), again.as_str()).with_scalar("cpus", 4.0).unwrap();
    scheduler.add_offer(back.with_scalar("mem", 4.0).unwrap(), NOW).unwrap();
    let a = [task("a9", 1.0, 1.0)];
    let plan = scheduler.schedule_queued(&a, &[place(0, "A")], &config, NOW).unwrap();
    let stats = plan.stats.buckets.iter().find(|b| &*b.bucket == "A").unwrap();
    assert_eq!(stats.allocated.amount("cpus").milli(), 1000, "{stats:?}");
}

#[test]
fn queued_pass_rejects_places_that_do_not_match_the_tasks() {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let config = QueueConfig::default();
    let queue = QueueInput { config: &config, pending: &[], running: &[] };
    let err = engine.plan_queued(&pool(&[(1.0, 1.0)]), &[task("t", 1.0, 1.0)], &[], queue, NOW).unwrap_err();
    assert!(err.to_string().contains("0 queue places given for 1 tasks"), "{err}");
}

#[test]
fn scheduler_queued_pass_refuses_bad_places_before_touching_offers() {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(1));
    let offer = Offer::new("o", "a", "a").with_scalar("cpus", 1.0).unwrap();
    scheduler.add_offer(offer, NOW).unwrap();
    let later = Duration::from_secs(5);
    let err = scheduler.schedule_queued(&[task("t", 1.0, 1.0)], &[], &QueueConfig::default(), later).unwrap_err();
    assert!(err.to_string().contains("0 queue places given for 1 tasks"), "{err}");
    // The expired offer is still there to be reported by the next pass.
    let plan = scheduler.schedule(&[], later).unwrap();
    assert_eq!(plan.expired.len(), 1);
}

#[test]
fn scheduler_keeps_the_queue_so_waiting_tasks_age() {
    use offerpack::queue::QueuePolicy;
    let policy = QueuePolicy { aging_passes: 2, ..QueuePolicy::default() };
    let config = QueueConfig { policy, ..QueueConfig::default() };
    let engine = Engine::new(EngineConfig { decline_unused: false, ..EngineConfig::default() }).unwrap();
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(600));
    let small = Offer::new("small", "a0", "a0").with_scalar("cpus", 0.5).unwrap();
    scheduler.add_offer(small.with_scalar("mem", 10.0).unwrap(), NOW).unwrap();
    let old = task("old", 1.0, 1.0);
    // Four passes with no room: the old task waits.
    for _ in 0..4 {
        let plan = scheduler.schedule_queued(std::slice::from_ref(&old), &[place(0, "q")], &config, NOW).unwrap();
        assert!(plan.launches.is_empty());
    }
    // Room for one task; a newcomer of higher priority arrives. Four passes at one level per two
    // passes lift the old task from priority 0 to 2, above the newcomer's 1.
    let room = Offer::new("room", "a1", "a1").with_scalar("cpus", 1.0).unwrap();
    scheduler.add_offer(room.with_scalar("mem", 10.0).unwrap(), NOW).unwrap();
    let newcomer = TaskSpec::builder("new", "new").scalar("cpus", 1.0).scalar("mem", 1.0).priority(1).build().unwrap();
    let pending = [old.clone(), newcomer.clone()];
    let plan = scheduler.schedule_queued(&pending, &[place(0, "q"), place(0, "q")], &config, NOW).unwrap();
    let placed: Vec<&str> = plan.launches.iter().map(|l| l.task_id.as_str()).collect();
    assert_eq!(placed, ["old"]);
    // A one-shot pass has no memory: the newcomer's priority wins there.
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let queue = QueueInput { config: &config, pending: &[place(0, "q"), place(0, "q")], running: &[] };
    let plan = engine.plan_queued(&pool(&[(1.0, 10.0)]), &pending, &[], queue, NOW).unwrap();
    let placed: Vec<&str> = plan.launches.iter().map(|l| l.task_id.as_str()).collect();
    assert_eq!(placed, ["new"]);
}

/// Passes of a cluster of two 4-cpu agents full of 1-cpu tasks of bucket `small`, where a task
/// needing a whole agent waits in bucket `big`: each pass the oldest small task ends, its cpu is
/// offered again, and a new small task arrives. Returns the pass that placed the big task.
fn big_task_placed_by(starving_after: u32, passes: usize) -> Option<usize> {
    use offerpack::queue::QueuePolicy;
    let policy = QueuePolicy { starving_after, ..QueuePolicy::default() };
    let config = QueueConfig { policy, ..QueueConfig::default() };
    let engine = Engine::new(EngineConfig { decline_unused: false, ..EngineConfig::default() }).unwrap();
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(3600));
    for a in ["a0", "a1"] {
        let offer = Offer::new(format!("{a}-0").as_str(), a, a).with_scalar("cpus", 4.0).unwrap();
        scheduler.add_offer(offer.with_scalar("mem", 40.0).unwrap(), NOW).unwrap();
    }
    let small = |n: usize| task(&format!("s{n}"), 1.0, 1.0);
    let first: Vec<TaskSpec> = (0..8).map(small).collect();
    let plan = scheduler.schedule_queued(&first, &vec![place(0, "small"); 8], &config, NOW).unwrap();
    assert_eq!(plan.launches.len(), 8);
    let mut running: std::collections::VecDeque<(String, String)> =
        plan.launches.iter().map(|l| (l.task_id.to_string(), l.agent_id.to_string())).collect();
    let big = task("big", 4.0, 4.0);
    for pass in 1..=passes {
        let (ended, agent) = running.pop_front().unwrap();
        assert!(scheduler.task_ended(&ended.as_str().into()));
        let again = Offer::new(format!("{agent}-{pass}").as_str(), agent.as_str(), &agent).with_scalar("cpus", 1.0);
        scheduler.add_offer(again.unwrap().with_scalar("mem", 1.0).unwrap(), NOW).unwrap();
        let pending = [big.clone(), small(100 + pass)];
        let plan = scheduler.schedule_queued(&pending, &[place(0, "big"), place(0, "small")], &config, NOW).unwrap();
        if plan.launches.iter().any(|l| l.task_id.as_str() == "big") {
            return Some(pass);
        }
        running.extend(plan.launches.iter().map(|l| (l.task_id.to_string(), l.agent_id.to_string())));
    }
    None
}

#[test]
fn scheduler_reserves_an_agent_for_a_starving_head() {
    assert_eq!(big_task_placed_by(1000, 30), None, "small tasks keep taking every freed cpu");
    let placed = big_task_placed_by(3, 30).expect("a reserved agent drains for the big task");
    assert!(placed <= 12, "placed only at pass {placed}");
}
