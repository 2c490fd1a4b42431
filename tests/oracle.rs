//! The engine against an independent reference (feature `testkit`).
//!
//! Task by task, both selectors must place every task where the brute-force
//! [`oracle`](offerpack::testkit::oracle) does: it shares no code with the engine, so this also
//! checks the scan that `properties.rs` compares the indexed selector with. Filling agents may
//! pack differently by design; there plans must be sound and complete (no unplaced task that an
//! agent could take at the end of the pass). Failing inputs are persisted in
//! `proptest-regressions/oracle.txt`; commit that file.
#![cfg(feature = "testkit")]

mod proptest_support;

use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::fitness::{Balanced, BinPack, Spread};
use offerpack::plugins::{Fitness, HardConstraint, HardFn};
use offerpack::testkit::oracle::{task_by_task, OraclePlan, Unsupported};
use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::{check_plan_with, workloads, workloads_sized, CheckOptions, ConstraintSet, Sizes, Workload};
use offerpack::{AgentId, Engine, EngineConfig, Offer, Packing, Plan, Strategy as Selector, TaskId, TaskSpec};

const NOW: Duration = Duration::from_secs(1000);
const HOLD: Duration = Duration::from_secs(60);

fn config(cases: u32) -> ProptestConfig {
    proptest_support::config(cases, "proptest-regressions/oracle.txt")
}

/// Small enough for the oracle, large enough for every constraint and exact fits to bite.
const SMALL: Sizes = Sizes { agents: 12, tasks: 40, min_tasks: 0, running: 8, exact_agents: 3 };

fn fitness(which: usize) -> Arc<dyn Fitness> {
    match which {
        0 => Arc::new(BinPack::cpu_mem()),
        1 => Arc::new(BinPack::cpu()),
        2 => Arc::new(Spread),
        _ => Arc::new(Balanced),
    }
}

fn engine(strategy: Selector, packing: Packing, fitness: Arc<dyn Fitness>, fitness_weight: f64) -> Engine {
    Engine::new(EngineConfig { fitness, fitness_weight, strategy, packing, ..EngineConfig::default() }).unwrap()
}

fn plan(engine: &Engine, w: &Workload) -> Plan {
    engine.plan(&w.pool(HOLD, NOW), &w.tasks, &w.running, NOW).unwrap()
}

fn sound(w: &Workload, plan: &Plan) -> Result<(), TestCaseError> {
    let options = CheckOptions { replay: true, keep_unused: false };
    check_plan_with(w, plan, options).map_err(|v| TestCaseError::fail(format!("{v}\nplan: {plan:#?}")))
}

proptest! {
    #![proptest_config(config(192))]

    /// Task by task, the indexed selector and the scan both place every task where the oracle
    /// does, for every built-in fitness and weight.
    #[test]
    fn oracle_agrees_with_both_selectors_task_by_task(
        w in workloads_sized(ConstraintSet::builtins(), SMALL),
        which in 0usize..4,
        weight in prop::sample::select(vec![0.5, 1.0, 3.0]),
    ) {
        let expected = task_by_task(&w, &*fitness(which), weight).unwrap();
        for strategy in [Selector::Indexed, Selector::Scan] {
            let plan = plan(&engine(strategy, Packing::TaskByTask, fitness(which), weight), &w);
            prop_assert_eq!(&OraclePlan::of(&plan), &expected, "{:?}", strategy);
            sound(&w, &plan)?;
        }
    }

    /// Filling agents, both selectors make plans that are sound and complete.
    #[test]
    fn fill_agents_plans_are_sound_and_complete(w in workloads(), which in 0usize..4) {
        for strategy in [Selector::Indexed, Selector::Scan] {
            sound(&w, &plan(&engine(strategy, Packing::FillAgents, fitness(which), 1.0), &w))?;
        }
    }
}

fn agent(id: &str, cpus: f64, mem: f64) -> Offer {
    let offer = Offer::new(format!("o-{id}").as_str(), id, &format!("h-{id}"));
    offer.with_scalar("cpus", cpus).unwrap().with_scalar("mem", mem).unwrap()
}

fn tasks(n: usize) -> Vec<TaskSpec> {
    let one = |i: usize| TaskSpec::builder(format!("t{i}").as_str(), "g").scalar("cpus", 1.0).scalar("mem", 1024.0);
    (0..n).map(|i| one(i).build().unwrap()).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(TaskId, AgentId)> {
    list.iter().map(|(t, a)| (TaskId::from(*t), AgentId::from(*a))).collect()
}

/// Worked by hand: bin packing fills the smaller agent first (half used after one task, against
/// a quarter), spreading starts on the larger one; the third task goes where room is left.
#[test]
fn oracle_places_by_the_documented_formula() {
    let w =
        Workload { offers: vec![agent("a0", 4.0, 4096.0), agent("a1", 2.0, 2048.0)], tasks: tasks(3), running: vec![] };
    let packed = task_by_task(&w, &BinPack::cpu_mem(), 1.0).unwrap();
    assert_eq!(packed.placed, pairs(&[("t0", "a1"), ("t1", "a1"), ("t2", "a0")]));
    let spread = task_by_task(&w, &Spread, 1.0).unwrap();
    assert_eq!(spread.placed, pairs(&[("t0", "a0"), ("t1", "a0"), ("t2", "a1")]));
    let one_small = Workload { offers: vec![agent("a0", 1.0, 1024.0)], tasks: tasks(2), running: vec![] };
    let left = task_by_task(&one_small, &BinPack::cpu_mem(), 1.0).unwrap();
    assert_eq!((left.placed, left.unplaced), (pairs(&[("t0", "a0")]), vec![TaskId::from("t1")]));
}

/// A plugin the oracle has no semantics for is refused, not guessed.
#[test]
fn oracle_refuses_unknown_plugins() {
    let mut w = Workload { offers: vec![agent("a0", 4.0, 4096.0)], tasks: tasks(1), running: vec![] };
    let custom: Arc<dyn Fitness> = Arc::new(offerpack::plugins::FitnessFn::new("mine", |_, _| 1.0));
    assert_eq!(task_by_task(&w, &*custom, 1.0), Err(Unsupported::Fitness("mine".into())));
    let odd: Arc<dyn HardConstraint> = Arc::new(HardFn::new("odd", |_, _, _| true));
    w.tasks[0].hard.push(odd);
    assert_eq!(task_by_task(&w, &BinPack::cpu_mem(), 1.0), Err(Unsupported::Constraint("odd".into())));
}
