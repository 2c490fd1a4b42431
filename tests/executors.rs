//! Custom executors in placement: an executor's resources are charged once per agent (Fenzo
//! issue #110: charging them per task over-commits agents, and Mesos answers TASK_ERROR), and a
//! task for an executor already on an agent is charged only its own asks.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use offerpack::{
    Engine, EngineConfig, Offer, OfferPool, Packing, Plan, Reason, RunningTask, Scheduler, Strategy, TaskSpec,
};
use proptest::prelude::*;

const NOW: Duration = Duration::from_secs(10);
const EXECUTOR: &[(&str, f64)] = &[("cpus", 0.5), ("mem", 64.0)];

fn agent(i: usize, cpus: f64, mem: f64) -> Offer {
    offer(&format!("o{i}"), i, cpus, mem)
}

fn offer(id: &str, i: usize, cpus: f64, mem: f64) -> Offer {
    Offer::new(id, format!("a{i}").as_str(), &format!("h{i}"))
        .with_scalar("cpus", cpus)
        .unwrap()
        .with_scalar("mem", mem)
        .unwrap()
}

fn pool(offers: impl IntoIterator<Item = Offer>) -> OfferPool {
    let mut pool = OfferPool::new(Duration::from_secs(60));
    for o in offers {
        pool.add(o, NOW).unwrap();
    }
    pool
}

fn task(id: &str, cpus: f64, executor: Option<&str>) -> TaskSpec {
    let builder = TaskSpec::builder(id, "g").scalar("cpus", cpus).scalar("mem", 32.0);
    match executor {
        Some(e) => builder.executor(e, EXECUTOR),
        None => builder,
    }
    .build()
    .unwrap()
}

fn engines() -> Vec<Engine> {
    let mut out = Vec::new();
    for strategy in [Strategy::Indexed, Strategy::Scan, Strategy::Keyed] {
        for packing in [Packing::FillAgents, Packing::TaskByTask] {
            out.push(Engine::new(EngineConfig { strategy, packing, ..EngineConfig::default() }).unwrap());
        }
    }
    out
}

/// Per agent: cpus in thousandths taken by launches, executors included.
fn cpus_taken(plan: &Plan) -> BTreeMap<String, u64> {
    let mut taken = BTreeMap::new();
    for launch in &plan.launches {
        let executor = launch.executor_resources.iter().flat_map(|r| r.iter());
        let cpus =
            launch.resources.iter().chain(executor).filter(|a| &*a.name == "cpus").map(|a| a.amount.milli() as u64);
        *taken.entry(launch.agent_id.to_string()).or_insert(0) += cpus.sum::<u64>();
    }
    taken
}

#[test]
fn executor_resources_are_charged_once_per_agent() {
    // 0.5 executor + 2 × 0.25 tasks = 1.0: fits only when the executor is charged once.
    for engine in engines() {
        let tasks = [task("t1", 0.25, Some("e")), task("t2", 0.25, Some("e"))];
        let plan = engine.plan(&pool([agent(1, 1.0, 1024.0)]), &tasks, &[], NOW).unwrap();
        assert_eq!(plan.launches.len(), 2, "{plan:?}");
        let starts: Vec<_> = plan.launches.iter().map(|l| l.executor_resources.is_some()).collect();
        assert_eq!(starts, [true, false]);
        assert!(plan.launches.iter().all(|l| l.executor_id.as_deref() == Some("e")));
        assert_eq!(cpus_taken(&plan)["a1"], 1000);
    }
}

#[test]
fn executor_resources_are_not_charged_where_it_runs() {
    // Both agents offer 0.3 cpus; the executor (0.5) already runs on a2 only.
    let mut running = RunningTask::new("r1", "g", "a2");
    running.executor = Some("e".into());
    for engine in engines() {
        let plan = engine
            .plan(
                &pool([agent(1, 0.3, 1024.0), agent(2, 0.3, 1024.0)]),
                &[task("t1", 0.25, Some("e"))],
                &[running.clone()],
                NOW,
            )
            .unwrap();
        assert_eq!(plan.launches.len(), 1);
        assert_eq!(plan.launches[0].agent_id.as_str(), "a2");
        assert!(plan.launches[0].executor_resources.is_none());
    }
}

#[test]
fn executor_named_in_the_offer_is_not_charged_again() {
    // No task of the executor runs, but the master says it runs on a2 (Offer::executor_ids).
    let mut idle = agent(2, 0.3, 1024.0);
    idle.executor_ids.push("e".into());
    for engine in engines() {
        let plan = engine
            .plan(&pool([agent(1, 0.3, 1024.0), idle.clone()]), &[task("t1", 0.25, Some("e"))], &[], NOW)
            .unwrap();
        assert_eq!(plan.launches.len(), 1);
        assert_eq!(plan.launches[0].agent_id.as_str(), "a2");
        assert!(plan.launches[0].executor_resources.is_none());
    }
}

#[test]
fn executor_shortfall_names_the_amount_with_the_executor() {
    for engine in engines() {
        let plan = engine.plan(&pool([agent(1, 0.6, 1024.0)]), &[task("t1", 0.25, Some("e"))], &[], NOW).unwrap();
        assert!(plan.launches.is_empty());
        let reasons = &plan.unplaced[0].reasons;
        assert!(
            reasons.iter().any(|r| matches!(&r.reason, Reason::Shortfall { resource, asked, .. }
                if &**resource == "cpus" && asked.to_string() == "0.75")),
            "{reasons:?}"
        );
    }
}

#[test]
fn executor_only_resource_is_checked_and_explained() {
    // The executor asks for disk; the task does not.
    let spec = TaskSpec::builder("t1", "g").scalar("cpus", 0.1).executor("e", &[("disk", 100.0)]).build().unwrap();
    for engine in engines() {
        let plan = engine.plan(&pool([agent(1, 4.0, 1024.0)]), std::slice::from_ref(&spec), &[], NOW).unwrap();
        assert!(plan.launches.is_empty());
        assert!(plan.unplaced[0]
            .reasons
            .iter()
            .any(|r| matches!(&r.reason, Reason::Shortfall { resource, .. } if &**resource == "disk")));
        let with_disk = agent(2, 4.0, 1024.0).with_scalar("disk", 200.0).unwrap();
        let plan = engine.plan(&pool([with_disk]), std::slice::from_ref(&spec), &[], NOW).unwrap();
        let executor = plan.launches[0].executor_resources.as_ref().expect("starts the executor");
        assert_eq!(
            executor.iter().map(|a| (a.name.to_string(), a.amount.to_string())).collect::<Vec<_>>(),
            [("disk".to_owned(), "100".to_owned())]
        );
    }
}

#[test]
fn scheduler_charges_an_executor_again_once_its_tasks_ended_unless_offered() {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(60));
    scheduler.add_offer(agent(1, 4.0, 4096.0), NOW).unwrap();
    let first = scheduler.schedule(&[task("t1", 0.25, Some("e"))], NOW).unwrap();
    assert!(first.launches[0].executor_resources.is_some());
    assert_eq!(scheduler.running_task(&"t1".into()).and_then(|t| t.executor.clone()).as_deref(), Some("e"));
    scheduler.add_offer(offer("o1b", 1, 4.0, 4096.0), NOW).unwrap();
    let second = scheduler.schedule(&[task("t2", 0.25, Some("e"))], NOW).unwrap();
    assert_eq!(second.launches[0].agent_id.as_str(), "a1");
    assert!(second.launches[0].executor_resources.is_none(), "the executor runs t1 there");
    assert!(scheduler.task_ended(&"t1".into()) && scheduler.task_ended(&"t2".into()));
    scheduler.add_offer(offer("o1c", 1, 4.0, 4096.0), NOW).unwrap();
    let third = scheduler.schedule(&[task("t3", 0.25, Some("e"))], NOW).unwrap();
    assert!(third.launches[0].executor_resources.is_some(), "no task of the executor runs any more");
    // Once t3 ended, an offer naming the executor says it still runs: not charged.
    assert!(scheduler.task_ended(&"t3".into()));
    let mut named = offer("o1d", 1, 4.0, 4096.0);
    named.executor_ids.push("e".into());
    scheduler.add_offer(named, NOW).unwrap();
    let fourth = scheduler.schedule(&[task("t4", 0.25, Some("e"))], NOW).unwrap();
    assert!(fourth.launches[0].executor_resources.is_none(), "the offer names the idle executor");
}

/// The rules the engine must keep, checked by a straight walk over the plan: no agent gives more
/// than it offered, executors and tasks counted; an executor's resources come with the first of
/// its launches on an agent where it did not run, and never with a later one.
fn check_executor_accounting(offers: &[(f64, f64)], running_on: &BTreeSet<(usize, usize)>, plan: &Plan) {
    let mut started: BTreeSet<(String, String)> =
        running_on.iter().map(|&(a, e)| (format!("a{a}"), format!("e{e}"))).collect();
    let mut cpus: BTreeMap<String, u64> = BTreeMap::new();
    for launch in &plan.launches {
        let id = launch.executor_id.as_ref().map(|e| e.to_string());
        if let Some(id) = id {
            let fresh = started.insert((launch.agent_id.to_string(), id.clone()));
            assert_eq!(fresh, launch.executor_resources.is_some(), "executor {id} on {}: {plan:?}", launch.agent_id);
        } else {
            assert!(launch.executor_resources.is_none());
        }
    }
    for (agent, taken) in cpus_taken(plan) {
        cpus.insert(agent, taken);
    }
    for (a, &(offered, _)) in offers.iter().enumerate() {
        let taken = cpus.get(&format!("a{a}")).copied().unwrap_or(0);
        assert!(taken <= (offered * 1000.0).round() as u64, "a{a} gives {taken} of {offered}: {plan:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Random small clusters and tasks of two executors (and none): every engine keeps the
    /// accounting, and a lone task is placed exactly when some agent has room for it with its
    /// executor charged or not as it runs there (a straight scan).
    #[test]
    fn executor_accounting_holds_and_lone_tasks_match_a_scan(
        offers in prop::collection::vec((1u32..12, 1u32..8), 1..5),
        tasks in prop::collection::vec((1u32..6, 0usize..3), 1..12),
        running in prop::collection::btree_set((0usize..5, 0usize..2), 0..3),
        offered in prop::collection::btree_set((0usize..5, 0usize..2), 0..3),
    ) {
        let offers: Vec<(f64, f64)> = offers.iter().map(|&(c, m)| (f64::from(c) * 0.25, f64::from(m) * 128.0)).collect();
        let running: BTreeSet<(usize, usize)> = running.into_iter().filter(|&(a, _)| a < offers.len()).collect();
        let running_tasks: Vec<RunningTask> = running.iter().enumerate().map(|(i, &(a, e))| {
            let mut r = RunningTask::new(format!("r{i}").as_str(), "g", format!("a{a}").as_str());
            r.executor = Some(format!("e{e}").into());
            r
        }).collect();
        let specs: Vec<TaskSpec> = tasks.iter().enumerate().map(|(i, &(c, e))| {
            let executor = (e < 2).then(|| format!("e{e}"));
            task(&format!("t{i}"), f64::from(c) * 0.25, executor.as_deref())
        }).collect();
        let offered: BTreeSet<(usize, usize)> = offered.into_iter().filter(|&(a, _)| a < offers.len()).collect();
        let cluster = || pool(offers.iter().enumerate().map(|(i, &(c, m))| {
            let mut offer = agent(i, c, m);
            offer.executor_ids = offered.iter().filter(|&&(a, _)| a == i).map(|&(_, e)| format!("e{e}").into()).collect();
            offer
        }));
        let present: BTreeSet<(usize, usize)> = running.union(&offered).copied().collect();
        for engine in engines() {
            let plan = engine.plan(&cluster(), &specs, &running_tasks, NOW).unwrap();
            check_executor_accounting(&offers, &present, &plan);
            prop_assert_eq!(plan.launches.len() + plan.unplaced.len(), specs.len());
            let lone = &specs[..1];
            let plan = engine.plan(&cluster(), lone, &running_tasks, NOW).unwrap();
            let (c, e) = tasks[0];
            let fits = offers.iter().enumerate().any(|(a, &(cpus, mem))| {
                let charged = e < 2 && !present.contains(&(a, e));
                let (ec, em) = if charged { (0.5, 64.0) } else { (0.0, 0.0) };
                f64::from(c) * 0.25 + ec <= cpus + 1e-9 && 32.0 + em <= mem + 1e-9
            });
            prop_assert_eq!(plan.launches.len() == 1, fits, "{:?}", plan);
        }
    }
}
