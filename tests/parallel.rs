//! A pass allowed two threads makes exactly the plan a pass on one thread makes.
//!
//! The random workloads of the test kit run with both thread thresholds at 1, so every draw
//! prepares on two threads and makes its launches on the second one, which the plan's stats
//! confirm; generated workloads of thousands of tasks check the default thresholds. Failing
//! inputs are persisted in `proptest-regressions/parallel.txt`; commit that file.

mod proptest_support;

use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::fitness::{Balanced, BinPack, Spread};
use offerpack::plugins::Fitness;
use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::{check_plan, workloads_sized, ConstraintSet, Profile, Sizes};
use offerpack::workload::{generate, ConstraintMix, GenOptions, Shapes};
use offerpack::{ConfigError, Engine, EngineConfig, Packing, Plan, PlanError, Scheduler};

const HOLD: Duration = Duration::from_secs(3600);
const NOW: Duration = Duration::from_secs(1);

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

/// `engine` with both thresholds at their lowest: every pass with a task uses the second thread
/// for both parts.
fn eager(engine: &Engine) -> Engine {
    let config = EngineConfig { two_thread_threshold: 1, launch_helper_threshold: 1, ..engine.config().clone() };
    Engine::new(config).unwrap()
}

/// `plan` without the flags saying which parts ran on a second thread: what must not depend on
/// the number of threads.
fn outcome(plan: &Plan) -> Plan {
    let mut plan = plan.clone();
    (plan.stats.prepared_on_two_threads, plan.stats.launches_on_helper) = (false, false);
    plan
}

proptest! {
    #![proptest_config(config(64))]

    /// Same plan on one thread and on two, for any fitness and packing, with both parts of every
    /// pass on the second thread; the plan is sound.
    #[test]
    fn two_threads_plan_as_one(
        w in workloads_sized(ConstraintSet::builtins(), Sizes { min_tasks: 1, ..Profile::from_env().sizes() }),
        fitness in 0usize..3,
        fill in any::<bool>(),
    ) {
        let packing = if fill { Packing::FillAgents } else { Packing::TaskByTask };
        let pool = w.pool(HOLD, NOW);
        let one = engine(1, fitness, packing).plan(&pool, &w.tasks, &w.running, NOW).unwrap();
        let two = eager(&engine(2, fitness, packing)).plan(&pool, &w.tasks, &w.running, NOW).unwrap();
        prop_assert!(!one.stats.prepared_on_two_threads && !one.stats.launches_on_helper, "{:?}", one.stats);
        prop_assert!(two.stats.prepared_on_two_threads, "{:?}", two.stats);
        prop_assert!(two.stats.launches_on_helper, "{:?}", two.stats);
        prop_assert_eq!(&one, &outcome(&two));
        if let Err(v) = check_plan(&w, &two) {
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
            // 9,000 tasks are past both default thresholds.
            assert!(b.stats.prepared_on_two_threads && b.stats.launches_on_helper, "{:?}", b.stats);
            assert_eq!(a, outcome(&b), "{constraints:?} {shapes:?}");
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
        assert_eq!(big.stats.launches_on_helper, threads == 2);
        assert!(!small.stats.launches_on_helper, "1,000 tasks are below the default threshold");
        plans.push((outcome(&big), small));
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

/// A zero threshold is refused, naming the field; the defaults are the documented ones.
#[test]
fn engine_refuses_zero_thresholds() {
    let defaults = EngineConfig::default();
    assert_eq!((defaults.two_thread_threshold, defaults.launch_helper_threshold), (4096, 8192));
    let err = Engine::new(EngineConfig { two_thread_threshold: 0, ..EngineConfig::default() }).unwrap_err();
    assert_eq!(err, ConfigError::ZeroThreshold("two_thread_threshold"));
    let err = Engine::new(EngineConfig { launch_helper_threshold: 0, ..EngineConfig::default() }).unwrap_err();
    assert_eq!(err.to_string(), "launch_helper_threshold must be at least 1");
}

/// Each threshold decides its own part: a pass of 6,000 tasks on 2 threads prepares on both
/// with the defaults but makes its launches on one, and with the thresholds just above its size
/// stays on one thread throughout; at exactly its size, both parts move.
#[test]
fn engine_thresholds_decide_which_parts_use_two_threads() {
    let w = generate(&GenOptions { agents: 500, tasks: 6000, seed: 3, ..GenOptions::default() }).unwrap();
    let pass = |two_thread_threshold, launch_helper_threshold| {
        let config = EngineConfig {
            fitness: w.fitness.clone(),
            threads: 2,
            two_thread_threshold,
            launch_helper_threshold,
            ..EngineConfig::default()
        };
        let stats = Engine::new(config).unwrap().plan(&w.pool, &w.tasks, &w.running, Duration::ZERO).unwrap().stats;
        (stats.prepared_on_two_threads, stats.launches_on_helper)
    };
    let size = w.tasks.len() + w.pool.len();
    assert_eq!(pass(4096, 8192), (true, false));
    assert_eq!(pass(size + 1, w.tasks.len() + 1), (false, false));
    assert_eq!(pass(size, w.tasks.len()), (true, true));
}
