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

/// What the default engine plans for `w`, and what the checker says of it.
fn default_plan(w: &Workload) -> (Plan, Result<(), offerpack::testkit::Violation>) {
    let plan = plan(&Engine::new(EngineConfig::default()).unwrap(), w);
    let verdict = check_plan_with(w, &plan, CheckOptions { replay: true, keep_unused: false });
    (plan, verdict)
}

/// Engine bug the completeness rule found (fails until the engine is fixed): filling agents
/// leaves out every agent held exclusively, even by the group of the tasks being filled, and
/// nothing else places them; so an unconstrained task of the group that claimed the only agent
/// stays unplaced while the agent has room, explained as blocked at its turn.
#[test]
fn engine_fills_agents_its_own_group_claimed() {
    let exclusive: Arc<dyn HardConstraint> = Arc::new(offerpack::plugins::constraints::Exclusive::new());
    let one = |id: &str| TaskSpec::builder(id, "g").scalar("cpus", 1.0).scalar("mem", 512.0);
    let tasks =
        vec![one("t0").hard(exclusive).build().unwrap(), one("t1").build().unwrap(), one("t2").build().unwrap()];
    let w = Workload { offers: vec![agent("a0", 4.0, 4096.0)], tasks, running: vec![] };
    let (plan, verdict) = default_plan(&w);
    assert_eq!(verdict, Ok(()), "{plan:#?}");
    assert_eq!(plan.launches.len(), 3);
}

/// Engine bug the completeness rule found (fails until the engine is fixed): an agent identical
/// to one filled before repeats that fill kind by kind and stops, even when the shapes it
/// repeats with take less of a resource the fitness does not pack (disk) than the first fill's,
/// so that another kind now fits. Here `a1` takes `s1` (1 cpu, 1 GiB, 1 GiB of disk) and two
/// `s2` (no disk), and stops with 1 cpu and 512 MiB left but no disk for `j`; `a2` repeats with
/// three `s2`, keeps its disk, and stops without trying `j`, which it has room for.
#[test]
fn engine_fill_repeat_leaves_no_room_a_waiting_task_fits() {
    let disk_agent = |id: &str| agent(id, 4.0, 3584.0).with_scalar("disk", 1024.0).unwrap();
    let task = |id: &str, mem: f64, disk: f64| {
        let b = TaskSpec::builder(id, "g").scalar("cpus", 1.0).scalar("mem", mem);
        if disk > 0.0 { b.scalar("disk", disk) } else { b }.build().unwrap()
    };
    let mut tasks = vec![task("s1", 1024.0, 1024.0)];
    tasks.extend((0..5).map(|i| task(&format!("s2-{i}"), 1024.0, 0.0)));
    tasks.push(task("j", 256.0, 512.0));
    let w = Workload { offers: vec![disk_agent("a1"), disk_agent("a2")], tasks, running: vec![] };
    let (plan, verdict) = default_plan(&w);
    assert_eq!(verdict, Ok(()), "{plan:#?}");
    assert!(plan.launches.iter().any(|l| l.task_id.as_str() == "j"), "{plan:#?}");
}
