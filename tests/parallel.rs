//! A pass allowed two threads makes exactly the plan a pass on one thread makes.
//!
//! Two threads are used only by large passes (8,192 pending tasks for the whole of it), so the
//! random workloads of the test kit are scaled up first: copies of the whole workload under
//! fresh ids, with the groups shared by every copy or kept per copy. Failing inputs are persisted
//! in `proptest-regressions/parallel.txt`; commit that file.

mod proptest_support;

use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::fitness::{Balanced, BinPack, Spread};
use offerpack::plugins::Fitness;
use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::{check_plan, workloads, Workload};
use offerpack::workload::{generate, ConstraintMix, GenOptions, Shapes};
use offerpack::{
    AgentId, ConfigError, Engine, EngineConfig, GroupId, Packing, PlanError, RunningTask, Scheduler, TaskId, TaskSpec,
};

const HOLD: Duration = Duration::from_secs(3600);
const NOW: Duration = Duration::from_secs(1);
/// Pending tasks a scaled workload reaches: passes this large use both threads throughout.
const LARGE: usize = 8192;

fn config(cases: u32) -> ProptestConfig {
    proptest_support::config(cases, "proptest-regressions/parallel.txt")
}

fn engine(threads: usize, fitness: usize, packing: Packing) -> Engine {
    let fitness: Arc<dyn Fitness> = match fitness {
        0 => Arc::new(BinPack::cpu_mem()),
        1 => Arc::new(Spread),
        _ => Arc::new(Balanced),
    };
    Engine::new(EngineConfig { fitness, packing, threads, ..EngineConfig::default() }).unwrap()
}

/// `copies` copies of `w`, each under its own task, agent, offer and host names; groups keep
/// their names across copies when `shared_groups`, so constraints see every copy's tasks.
fn scaled(w: &Workload, copies: usize, shared_groups: bool) -> Workload {
    let rename = |name: &str, k: usize| format!("{name}~{k}");
    let group = |g: &GroupId, k: usize| if shared_groups { g.clone() } else { GroupId::from(rename(g.as_str(), k)) };
    let mut out = Workload { offers: Vec::new(), tasks: Vec::new(), running: Vec::new() };
    for k in 0..copies {
        for offer in &w.offers {
            let mut offer = offer.clone();
            offer.id = rename(offer.id.as_str(), k).into();
            offer.agent_id = AgentId::from(rename(offer.agent_id.as_str(), k));
            offer.hostname = Arc::from(rename(&offer.hostname, k));
            out.offers.push(offer);
        }
        for task in &w.tasks {
            let task = TaskSpec {
                id: TaskId::from(rename(task.id.as_str(), k)),
                group: group(&task.group, k),
                ..task.clone()
            };
            out.tasks.push(task);
        }
        for task in &w.running {
            let mut task: RunningTask = task.clone();
            task.id = TaskId::from(rename(task.id.as_str(), k));
            task.group = group(&task.group, k);
            task.agent_id = AgentId::from(rename(task.agent_id.as_str(), k));
            if let Some((host, _)) = &mut task.host {
                *host = Arc::from(rename(host, k));
            }
            out.running.push(task);
        }
    }
    out
}

proptest! {
    #![proptest_config(config(16))]

    /// Same plan on one thread and on two, for any fitness and packing; the plan is sound.
    #[test]
    fn two_threads_plan_as_one(
        w in workloads(),
        shared_groups in any::<bool>(),
        fitness in 0usize..3,
        fill in any::<bool>(),
    ) {
        prop_assume!(w.tasks.len() >= 16);
        let big = scaled(&w, LARGE.div_ceil(w.tasks.len()), shared_groups);
        prop_assert!(big.tasks.len() >= LARGE);
        let packing = if fill { Packing::FillAgents } else { Packing::TaskByTask };
        let pool = big.pool(HOLD, NOW);
        let one = engine(1, fitness, packing).plan(&pool, &big.tasks, &big.running, NOW).unwrap();
        let two = engine(2, fitness, packing).plan(&pool, &big.tasks, &big.running, NOW).unwrap();
        prop_assert_eq!(&one, &two);
        if let Err(v) = check_plan(&big, &two) {
            return Err(TestCaseError::fail(format!("{v}")));
        }
    }
}

/// Generated workloads of every constraint mix and shape, with a third of the tasks too big
/// for any agent so that explanations are made too.
#[test]
fn two_threads_plan_generated_workloads_as_one() {
    let mixes = [ConstraintMix::None, ConstraintMix::UniqueHostPerGroup { group_size: 10 }, ConstraintMix::Mixed];
    for (seed, constraints) in mixes.into_iter().enumerate() {
        for shapes in [Shapes::Uniform, Shapes::Irregular] {
            let options = GenOptions {
                agents: 1200,
                tasks: 9000,
                seed: seed as u64,
                constraints,
                shapes,
                ..GenOptions::default()
            };
            let mut w = generate(&options).unwrap();
            for task in w.tasks.iter_mut().step_by(3) {
                task.resources.push((Arc::from("gpus"), offerpack::Quantity::from_milli(1000)));
            }
            let one = Engine::new(EngineConfig { fitness: w.fitness.clone(), ..EngineConfig::default() }).unwrap();
            let two = Engine::new(EngineConfig { fitness: w.fitness.clone(), threads: 2, ..EngineConfig::default() })
                .unwrap();
            let a = one.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap();
            let b = two.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap();
            assert!(a.stats.tasks_unplaced >= 3000, "{constraints:?} {shapes:?}: {:?}", a.stats);
            assert!(a.unplaced.iter().all(|u| !u.reasons.is_empty()));
            assert_eq!(a, b, "{constraints:?} {shapes:?}");
        }
    }
}

/// A duplicate task id is the same error on two threads, found while the agents load.
#[test]
fn two_threads_report_duplicate_ids() {
    let mut w = generate(&GenOptions { agents: 1000, tasks: 9000, ..GenOptions::default() }).unwrap();
    let copy = w.tasks[4321].clone();
    w.tasks.push(copy.clone());
    let engine = engine(2, 0, Packing::FillAgents);
    let err = engine.plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap_err();
    assert_eq!(err, PlanError::DuplicateTask(copy.id));
}

/// The scheduler's large first pass, and the small one after it, are the same on two threads.
#[test]
fn scheduler_on_two_threads_schedules_as_on_one() {
    let w = generate(&GenOptions { agents: 2000, tasks: 10000, seed: 7, ..GenOptions::default() }).unwrap();
    let (first, later) = w.tasks.split_at(9000);
    let mut plans = Vec::new();
    for threads in [1, 2] {
        let config = EngineConfig { fitness: w.fitness.clone(), threads, ..EngineConfig::default() };
        let mut scheduler = Scheduler::new(Engine::new(config).unwrap(), HOLD);
        for offer in &w.offers {
            scheduler.add_offer(offer.clone(), Duration::ZERO).unwrap();
        }
        let big = scheduler.schedule(first, Duration::ZERO).unwrap();
        let small = scheduler.schedule(later, Duration::ZERO).unwrap();
        assert_eq!(big.stats.tasks_placed, 9000);
        plans.push((big, small));
    }
    assert_eq!(plans[0], plans[1]);
}

/// Zero threads is refused when the engine is made, not when a pass runs.
#[test]
fn engine_refuses_zero_threads() {
    let err = Engine::new(EngineConfig { threads: 0, ..EngineConfig::default() }).unwrap_err();
    assert_eq!(err, ConfigError::NoThreads);
    assert_eq!(err.to_string(), "a pass needs at least one thread");
}
