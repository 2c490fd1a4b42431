//! The incremental [`Scheduler`] against the one-shot engine: after any sequence of events, its
//! next pass places exactly what [`Engine::plan`] places on the same offers and running tasks.
//! Failing inputs are persisted in `proptest-regressions/scheduler.txt`; commit that file.

mod proptest_support;

use std::collections::BTreeMap;
use std::time::Duration;

use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::proptest::sample::Index;
use offerpack::testkit::{check_plan, workloads, Workload};
use offerpack::{
    Engine, EngineConfig, Offer, OfferPool, Packing, Plan, Quantity, RunningTask, Scheduler, TaskId, TaskSpec,
};

const HOLD: Duration = Duration::from_secs(3600);

fn config(cases: u32) -> ProptestConfig {
    proptest_support::config(cases, "proptest-regressions/scheduler.txt")
}

/// Task by task: the fill stage chooses by the number of agents compiled, which differs between
/// the two on purpose (the scheduler keeps agents whose offers are gone).
fn engine() -> Engine {
    Engine::new(EngineConfig { packing: Packing::TaskByTask, ..EngineConfig::default() }).unwrap()
}

/// Launches as (task, agent), and unplaced task ids: what both must agree on. (Explanations
/// count agents, and the scheduler also counts the agents it knows without offers.)
fn outcome(plan: &Plan) -> (Vec<(String, String)>, Vec<String>, Vec<String>) {
    let launches = plan.launches.iter().map(|l| (l.task_id.to_string(), l.agent_id.to_string())).collect();
    let unplaced = plan.unplaced.iter().map(|u| u.task_id.to_string()).collect();
    let declined = plan.declined.iter().map(|o| o.to_string()).collect();
    (launches, unplaced, declined)
}

/// The running task a launch becomes, with its host details from the workload's offers.
fn as_running(plan: &Plan, w: &Workload) -> Vec<RunningTask> {
    let attrs: BTreeMap<String, &Offer> = w.offers.iter().map(|o| (o.agent_id.to_string(), o)).collect();
    plan.launches
        .iter()
        .map(|l| {
            let mut held: Vec<(std::sync::Arc<str>, Quantity)> = Vec::new();
            for a in l.resources.iter() {
                match held.iter_mut().find(|(n, _)| *n == a.name) {
                    Some((_, q)) => *q += a.amount,
                    None => held.push((a.name.clone(), a.amount)),
                }
            }
            let offer = attrs[l.agent_id.as_str()];
            RunningTask {
                id: l.task_id.clone(),
                group: l.group.clone(),
                agent_id: l.agent_id.clone(),
                resources: held,
                host: Some((offer.hostname.clone(), offer.attributes.clone())),
            }
        })
        .collect()
}

/// A copy of the pool's offers in a fresh pool (the one-shot engine's input).
fn copy(pool: &OfferPool, offers: &[Offer], now: Duration) -> OfferPool {
    let mut out = OfferPool::new(HOLD);
    for offer in offers.iter().filter(|o| pool.get(&o.id).is_some()) {
        out.add(offer.clone(), now).unwrap();
    }
    out
}

/// Second-round offers: each agent of the workload offers again, under a new id.
fn reoffers(w: &Workload, which: &[bool]) -> Vec<Offer> {
    w.offers
        .iter()
        .zip(which.iter().cycle())
        .filter(|(_, &again)| again)
        .map(|(o, _)| Offer { id: format!("{}-again", o.id).into(), ..o.clone() })
        .collect()
}

proptest! {
    #![proptest_config(config(128))]

    /// Pass, events (tasks end, offers come back, one is rescinded), pass: the scheduler's
    /// second pass matches the one-shot engine's on the resulting offers and running tasks.
    #[test]
    fn scheduler_second_pass_equals_one_shot_engine(
        w in workloads(),
        ended in prop::collection::vec(any::<Index>(), 0..6),
        again in prop::collection::vec(any::<bool>(), 1..8),
        rescind in any::<Option<Index>>(),
    ) {
        // The one-shot engine cannot know that a running task claimed its agent exclusively;
        // the scheduler, which placed it, keeps the claim while it runs.
        let mut w = w;
        w.tasks.retain(|t| !t.hard.iter().any(|c| c.claims_agent()));
        let engine = engine();
        let t0 = Duration::ZERO;
        let mut scheduler = Scheduler::new(engine.clone(), HOLD);
        let mut offers = w.offers.clone();
        offers.sort_by(|a, b| a.agent_id.cmp(&b.agent_id).then(a.id.cmp(&b.id)));
        for offer in &offers {
            scheduler.add_offer(offer.clone(), t0).unwrap();
        }
        for task in &w.running {
            scheduler.task_running(task.clone()).unwrap();
        }
        let first: Vec<TaskSpec> = w.tasks.iter().step_by(2).cloned().collect();
        let second: Vec<TaskSpec> = w.tasks.iter().skip(1).step_by(2).cloned().collect();
        let plan1 = scheduler.schedule(&first, t0).unwrap();
        let one_shot1 = engine.plan(&w.pool(HOLD, t0), &first, &w.running, t0).unwrap();
        prop_assert_eq!(outcome(&plan1), outcome(&one_shot1));
        prop_assert_eq!(check_plan(&Workload { tasks: first.clone(), ..w.clone() }, &plan1), Ok(()));

        // Events.
        let mut running: Vec<RunningTask> = w.running.iter().cloned().chain(as_running(&plan1, &w)).collect();
        for i in &ended {
            if running.is_empty() {
                break;
            }
            let gone = running.remove(i.index(running.len()));
            prop_assert!(scheduler.task_ended(&gone.id));
        }
        prop_assert!(!scheduler.task_ended(&TaskId::new("never-ran")));
        let t1 = Duration::from_secs(1);
        let mut all_offers = offers.clone();
        for offer in reoffers(&w, &again) {
            scheduler.add_offer(offer.clone(), t1).unwrap();
            all_offers.push(offer);
        }
        if let Some(i) = rescind {
            let held: Vec<&Offer> = all_offers.iter().filter(|o| scheduler.pool().get(&o.id).is_some()).collect();
            if !held.is_empty() {
                let id = held[i.index(held.len())].id.clone();
                scheduler.rescind(&id, t1).unwrap();
            }
        }
        prop_assert_eq!(scheduler.running_tasks(), running.len());

        // The scheduler knows the attributes of every agent it has seen; tell the one-shot engine
        // too, for running tasks on agents that have no offer now.
        for task in running.iter_mut().filter(|t| t.host.is_none()) {
            if let Some(o) = w.offers.iter().find(|o| o.agent_id == task.agent_id) {
                task.host = Some((o.hostname.clone(), o.attributes.clone()));
            }
        }
        let pool = copy(scheduler.pool(), &all_offers, t1);
        let one_shot2 = engine.plan(&pool, &second, &running, t1).unwrap();
        let plan2 = scheduler.schedule(&second, t1).unwrap();
        prop_assert_eq!(outcome(&plan2), outcome(&one_shot2));
    }
}

#[test]
fn scheduler_rejects_a_pending_id_that_is_running() {
    let mut scheduler = Scheduler::new(engine(), HOLD);
    scheduler.task_running(RunningTask::new("t1", "g", "a1")).unwrap();
    let t1 = TaskSpec::builder("t1", "g").scalar("cpus", 1.0).build().unwrap();
    assert!(scheduler.schedule(&[t1], Duration::ZERO).is_err());
    assert!(scheduler.task_running(RunningTask::new("t1", "g", "a1")).is_err());
}

#[test]
fn scheduler_expires_held_offers_and_reports_them() {
    let mut scheduler = Scheduler::new(engine(), Duration::from_secs(10));
    let offer = Offer::new("o1", "a1", "h1").with_scalar("cpus", 1.0).unwrap();
    scheduler.add_offer(offer, Duration::ZERO).unwrap();
    let big = TaskSpec::builder("t1", "g").scalar("cpus", 2.0).build().unwrap();
    let plan = scheduler.schedule(std::slice::from_ref(&big), Duration::from_secs(1)).unwrap();
    assert_eq!((plan.launches.len(), plan.unplaced.len()), (0, 1));
    assert!(plan.declined.iter().any(|o| o.as_str() == "o1"), "an unused offer is declined by default");
    assert!(scheduler.pool().is_empty());
    let offer = Offer::new("o2", "a1", "h1").with_scalar("cpus", 1.0).unwrap();
    scheduler.add_offer(offer, Duration::from_secs(2)).unwrap();
    let plan = scheduler.schedule(&[], Duration::from_secs(12)).unwrap();
    assert_eq!(plan.expired.iter().map(|o| o.as_str()).collect::<Vec<_>>(), vec!["o2"]);
    assert!(scheduler.pool().is_empty());
}
