//! Gangs, property-tested: for generated clusters and tasks put in random gangs, every gang is
//! launched whole or each member is unplaced with `GangIncomplete`, the plan stays sound by the
//! independent checker (no agent over-committed, constraints hold, tasks outside gangs
//! complete), for the one-shot engine, queued passes and the stateful scheduler; gangs of one
//! change nothing but the reasons; same input, same plan. Gangs with a declared size are
//! launched with all their members or not at all, a gang missing a member never, and declaring
//! the size a gang has changes nothing.
//! Failing inputs are persisted in `proptest-regressions/gangs.txt`; commit that file.

mod proptest_support;

use std::sync::Arc;
use std::time::Duration;

use offerpack::queue::{QueueConfig, QueuePlace};
use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::{check_plan, workloads, Workload};
use offerpack::{Engine, EngineConfig, Offer, OfferPool, Packing, Plan, QueueInput, Reason, Scheduler, TaskSpec};

const NOW: Duration = Duration::from_secs(1000);
const HOLD: Duration = Duration::from_secs(60);

fn config(cases: u32) -> ProptestConfig {
    proptest_support::config(cases, "proptest-regressions/gangs.txt")
}

/// The workload with task `i` put in gang `g{k}` when `gangs[i % len]` is `Some(k)`.
fn with_gangs(mut w: Workload, gangs: &[Option<u8>]) -> Workload {
    for (i, task) in w.tasks.iter_mut().enumerate() {
        if let Some(k) = gangs.get(i % gangs.len().max(1)).copied().flatten() {
            task.gang = Some(Arc::from(format!("g{k}")));
        }
    }
    w
}

fn gang_choices() -> impl Strategy<Value = Vec<Option<u8>>> {
    prop::collection::vec(prop::option::weighted(0.6, 0u8..4), 1..12)
}

/// Declares every gang's size: its members' count, plus one (a member missing) where
/// `short[k % len]` says so for gang `g{k}`. Returns the gangs left short.
fn declare_sizes(w: &mut Workload, short: &[bool]) -> Vec<Arc<str>> {
    let mut count: std::collections::BTreeMap<Arc<str>, u32> = std::collections::BTreeMap::new();
    for gang in w.tasks.iter().filter_map(|t| t.gang.clone()) {
        *count.entry(gang).or_default() += 1;
    }
    let is_short = |gang: &str| {
        let k: usize = gang[1..].parse().unwrap_or(0);
        short.get(k % short.len().max(1)).copied().unwrap_or(false)
    };
    for task in &mut w.tasks {
        if let Some(gang) = &task.gang {
            task.gang_size = Some(count[gang] + u32::from(is_short(gang)));
        }
    }
    count.into_keys().filter(|g| is_short(g)).collect()
}

/// Every declared gang launched whole (all `size` members) or not at all; the members of a
/// short gang never launched, each unplaced with `GangIncomplete { placed: 0, needed: size }`.
fn check_declared(w: &Workload, plan: &Plan, short: &[Arc<str>]) -> Result<(), TestCaseError> {
    let launched: std::collections::BTreeSet<&str> = plan.launches.iter().map(|l| l.task_id.as_str()).collect();
    let mut per_gang: std::collections::BTreeMap<&str, (u32, u32)> = std::collections::BTreeMap::new();
    for task in &w.tasks {
        let (Some(gang), Some(size)) = (task.gang.as_deref(), task.gang_size) else { continue };
        let entry = per_gang.entry(gang).or_insert((0, size));
        entry.0 += u32::from(launched.contains(task.id.as_str()));
        if short.iter().any(|g| &**g == gang) {
            prop_assert!(!launched.contains(task.id.as_str()), "{} of short gang {} launched", task.id, gang);
            let u = plan.unplaced.iter().find(|u| u.task_id == task.id);
            let reason = u.map(|u| &u.reasons[0].reason);
            prop_assert_eq!(reason, Some(&Reason::GangIncomplete { placed: 0, needed: size }));
        }
    }
    for (gang, (placed, size)) in per_gang {
        prop_assert!(placed == 0 || placed == size, "gang {} launched {} of {}", gang, placed, size);
    }
    Ok(())
}

fn engine(fill: bool) -> Engine {
    let packing = if fill { Packing::FillAgents } else { Packing::TaskByTask };
    Engine::new(EngineConfig { packing, ..EngineConfig::default() }).unwrap()
}

fn pool(w: &Workload) -> OfferPool {
    w.pool(HOLD, NOW)
}

/// Launches as (task, agent), in order.
fn placements(plan: &Plan) -> Vec<(String, String)> {
    plan.launches.iter().map(|l| (l.task_id.to_string(), l.agent_id.to_string())).collect()
}

/// A scheduler holding the workload's offers and running tasks.
fn scheduler(w: &Workload, engine: Engine) -> Scheduler {
    let mut scheduler = Scheduler::new(engine, HOLD);
    for offer in &w.offers {
        scheduler.add_offer(offer.clone(), NOW).unwrap();
    }
    for task in &w.running {
        scheduler.task_running(task.clone()).unwrap();
    }
    scheduler
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn gangs_are_whole_or_left_out_and_plans_stay_sound(w in workloads(), gangs in gang_choices(), fill in any::<bool>()) {
        let w = with_gangs(w, &gangs);
        let engine = engine(fill);
        let plan = engine.plan(&pool(&w), &w.tasks, &w.running, NOW).unwrap();
        prop_assert_eq!(check_plan(&w, &plan), Ok(()), "plan {:#?}", plan);
        let again = engine.plan(&pool(&w), &w.tasks, &w.running, NOW).unwrap();
        prop_assert_eq!(placements(&plan), placements(&again));
        prop_assert_eq!(&plan.unplaced, &again.unplaced);
    }

    #[test]
    fn gangs_in_a_scheduler_are_whole_or_left_out(w in workloads(), gangs in gang_choices(), fill in any::<bool>()) {
        let w = with_gangs(w, &gangs);
        let mut scheduler = scheduler(&w, engine(fill));
        let plan = scheduler.schedule(&w.tasks, NOW).unwrap();
        prop_assert_eq!(check_plan(&w, &plan), Ok(()), "plan {:#?}", plan);
        prop_assert_eq!(scheduler.running_tasks(), w.running.len() + plan.launches.len());
    }

    #[test]
    fn gangs_in_queued_passes_are_whole_or_left_out(w in workloads(), gangs in gang_choices(), buckets in prop::collection::vec(0u8..3, 1..8)) {
        let w = with_gangs(w, &gangs);
        let places: Vec<QueuePlace> = (0..w.tasks.len())
            .map(|i| QueuePlace { tier: 0, bucket: Arc::from(format!("b{}", buckets[i % buckets.len()])) })
            .collect();
        let config = QueueConfig::default();
        let queue = QueueInput { config: &config, pending: &places, running: &[] };
        let plan = engine(true).plan_queued(&pool(&w), &w.tasks, &w.running, queue, NOW).unwrap();
        // Queue order is not priority order, so only the gang rule and soundness are asked.
        let whole = offerpack::testkit::check_plan(&w, &plan);
        prop_assert!(
            !matches!(whole, Err(offerpack::testkit::Violation::GangSplit(_)) | Err(offerpack::testkit::Violation::OverCommitted { .. })),
            "{:?}", whole
        );
        let mut scheduler = scheduler(&w, engine(true));
        let plan = scheduler.schedule_queued(&w.tasks, &places, &config, NOW).unwrap();
        let whole = offerpack::testkit::check_plan(&w, &plan);
        prop_assert!(
            !matches!(whole, Err(offerpack::testkit::Violation::GangSplit(_)) | Err(offerpack::testkit::Violation::OverCommitted { .. })),
            "{:?}", whole
        );
    }

    #[test]
    fn declared_gangs_are_whole_or_wholly_absent(w in workloads(), gangs in gang_choices(), short in prop::collection::vec(any::<bool>(), 1..4), fill in any::<bool>()) {
        let mut w = with_gangs(w, &gangs);
        let short = declare_sizes(&mut w, &short);
        let engine = engine(fill);
        let plan = engine.plan(&pool(&w), &w.tasks, &w.running, NOW).unwrap();
        check_declared(&w, &plan, &short)?;
        prop_assert_eq!(check_plan(&w, &plan), Ok(()), "plan {:#?}", plan);
        let mut stateful = scheduler(&w, engine.clone());
        let plan = stateful.schedule(&w.tasks, NOW).unwrap();
        check_declared(&w, &plan, &short)?;
        prop_assert_eq!(stateful.running_tasks(), w.running.len() + plan.launches.len());
        let places: Vec<QueuePlace> = (0..w.tasks.len()).map(|i| QueuePlace { tier: 0, bucket: Arc::from(format!("b{}", i % 3)) }).collect();
        let config = QueueConfig::default();
        let queue = QueueInput { config: &config, pending: &places, running: &[] };
        let plan = engine.plan_queued(&pool(&w), &w.tasks, &w.running, queue, NOW).unwrap();
        check_declared(&w, &plan, &short)?;
        let mut queued = scheduler(&w, engine);
        let plan = queued.schedule_queued(&w.tasks, &places, &config, NOW).unwrap();
        check_declared(&w, &plan, &short)?;
    }

    #[test]
    fn declaring_the_size_a_gang_has_changes_nothing(w in workloads(), gangs in gang_choices(), fill in any::<bool>()) {
        let w = with_gangs(w, &gangs);
        let mut declared = w.clone();
        prop_assert!(declare_sizes(&mut declared, &[false]).is_empty());
        let engine = engine(fill);
        let plain = engine.plan(&pool(&w), &w.tasks, &w.running, NOW).unwrap();
        let plan = engine.plan(&pool(&declared), &declared.tasks, &declared.running, NOW).unwrap();
        prop_assert_eq!(placements(&plan), placements(&plain));
        prop_assert_eq!(&plan.unplaced, &plain.unplaced);
        prop_assert_eq!(&plan.declined, &plain.declined);
    }

    #[test]
    fn a_gang_missing_a_member_is_never_placed(w in workloads(), gangs in gang_choices(), fill in any::<bool>()) {
        // Every gang declares the size it has, then its first member is taken out of the pass.
        let mut w = with_gangs(w, &gangs);
        declare_sizes(&mut w, &[false]);
        let mut seen = std::collections::BTreeSet::new();
        w.tasks.retain(|t| t.gang.as_ref().is_none_or(|g| !seen.insert(g.clone())));
        let plan = engine(fill).plan(&pool(&w), &w.tasks, &w.running, NOW).unwrap();
        let short: Vec<Arc<str>> = seen.into_iter().collect();
        check_declared(&w, &plan, &short)?;
        prop_assert!(plan.launches.iter().all(|l| w.tasks.iter().any(|t| t.id == l.task_id && t.gang.is_none())));
    }

    #[test]
    fn gangs_of_one_change_only_the_reasons(w in workloads(), fill in any::<bool>()) {
        let engine = engine(fill);
        let plain = engine.plan(&pool(&w), &w.tasks, &w.running, NOW).unwrap();
        let mut alone = w.clone();
        for task in &mut alone.tasks {
            task.gang = Some(Arc::from(format!("solo-{}", task.id)));
        }
        let plan = engine.plan(&pool(&alone), &alone.tasks, &alone.running, NOW).unwrap();
        prop_assert_eq!(placements(&plan), placements(&plain));
        prop_assert_eq!(&plan.declined, &plain.declined);
        prop_assert_eq!(plan.unplaced.len(), plain.unplaced.len());
        for (u, p) in plan.unplaced.iter().zip(&plain.unplaced) {
            prop_assert_eq!(&u.task_id, &p.task_id);
            prop_assert_eq!(&u.reasons[0].reason, &Reason::GangIncomplete { placed: 0, needed: 1 });
            prop_assert_eq!(&u.reasons[1..], &p.reasons[..]);
        }
        prop_assert_eq!(check_plan(&alone, &plan), Ok(()));
    }
}

fn offer(id: &str, agent: &str, cpus: f64) -> Offer {
    Offer::new(id, agent, agent).with_scalar("cpus", cpus).unwrap().with_scalar("mem", 4096.0).unwrap()
}

fn task(id: &str, gang: Option<&str>, cpus: f64, priority: i32) -> TaskSpec {
    let b = TaskSpec::builder(id, "job").scalar("cpus", cpus).scalar("mem", 64.0).priority(priority);
    match gang {
        Some(g) => b.gang(g).build().unwrap(),
        None => b.build().unwrap(),
    }
}

#[test]
fn gang_that_cannot_fit_whole_leaves_room_to_others_and_declines_nothing_it_took() {
    let mut pool = OfferPool::new(HOLD);
    pool.add(offer("o1", "a1", 2.0), NOW).unwrap();
    pool.add(offer("o2", "a2", 2.0), NOW).unwrap();
    // Three workers of two cpus on two agents of two cpus: the gang cannot be whole.
    let mut tasks: Vec<TaskSpec> = (0..3).map(|i| task(&format!("w{i}"), Some("train"), 2.0, 5)).collect();
    tasks.push(task("web", None, 1.0, 0));
    let plan = engine(true).plan(&pool, &tasks, &[], NOW).unwrap();
    assert_eq!(placements(&plan).iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), ["web"]);
    let reasons: Vec<&Reason> = plan.unplaced.iter().map(|u| &u.reasons[0].reason).collect();
    assert_eq!(reasons.len(), 3);
    assert!(reasons.iter().all(|r| **r == Reason::GangIncomplete { placed: 2, needed: 3 }), "{reasons:?}");
    // The agent the web task did not use is declined: nothing is held for the gang.
    assert_eq!(plan.declined.len(), 1);
    assert_eq!(plan.stats.tasks_unplaced, 3);
}

#[test]
fn gang_goes_first_at_its_highest_members_priority() {
    let mut pool = OfferPool::new(HOLD);
    pool.add(offer("o1", "a1", 2.0), NOW).unwrap();
    // The gang's second member has priority 9: the whole gang goes before the priority-5 task.
    let tasks = vec![task("solo", None, 1.0, 5), task("g-a", Some("g"), 1.0, 0), task("g-b", Some("g"), 1.0, 9)];
    let plan = engine(false).plan(&pool, &tasks, &[], NOW).unwrap();
    let placed: Vec<String> = placements(&plan).into_iter().map(|(t, _)| t).collect();
    assert_eq!(placed, ["g-a", "g-b"]);
    assert_eq!(plan.unplaced.len(), 1);
    assert_eq!(plan.unplaced[0].task_id.as_str(), "solo");
}

#[test]
fn scheduler_retries_a_gang_next_pass_once_room_comes() {
    let mut scheduler = Scheduler::new(engine(true), HOLD);
    scheduler.add_offer(offer("o1", "a1", 2.0), NOW).unwrap();
    let gang: Vec<TaskSpec> = (0..2).map(|i| task(&format!("w{i}"), Some("pair"), 2.0, 0)).collect();
    let plan = scheduler.schedule(&gang, NOW).unwrap();
    assert!(plan.launches.is_empty());
    assert_eq!(plan.unplaced.len(), 2);
    assert_eq!(scheduler.running_tasks(), 0, "nothing of the partial gang counts as running");
    scheduler.add_offer(offer("o2", "a1", 2.0), NOW).unwrap();
    scheduler.add_offer(offer("o3", "a2", 2.0), NOW).unwrap();
    let plan = scheduler.schedule(&gang, NOW).unwrap();
    assert_eq!(plan.launches.len(), 2);
    assert_eq!(scheduler.running_tasks(), 2);
}

#[test]
fn gang_with_members_disagreeing_on_the_size_is_not_placed() {
    let mut pool = OfferPool::new(HOLD);
    pool.add(offer("o1", "a1", 8.0), NOW).unwrap();
    let sized =
        |id: &str, size| TaskSpec::builder(id, "job").scalar("cpus", 1.0).gang("g").gang_size(size).build().unwrap();
    let tasks = vec![sized("a", 2), sized("b", 3), task("solo", None, 1.0, 0)];
    assert!(offerpack::GangSizeError::check_all(&tasks).is_err());
    let plan = engine(true).plan(&pool, &tasks, &[], NOW).unwrap();
    assert_eq!(placements(&plan).iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), ["solo"]);
    let reasons: Vec<&Reason> = plan.unplaced.iter().map(|u| &u.reasons[0].reason).collect();
    assert_eq!(reasons, [&Reason::GangIncomplete { placed: 0, needed: 3 }; 2]);
    assert_eq!(plan.stats.tasks_unplaced, 2);
}
