//! Property tests of the engine and the offer pool, driven by the testkit (feature `testkit`).
//!
//! The invariants of the design guide: soundness and completeness (the checker's), determinism
//! (also under reordered input), Indexed == Scan, single-task completeness, and offer
//! conservation through pool operations; and the checker itself, on corrupted and hand-made
//! plans. (`oracle.rs` checks the scan against an independent reference.)
//! Failing inputs are persisted in `proptest-regressions/properties.txt`; commit that file.

mod proptest_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::fitness::{Balanced, BinPack, Spread};
use offerpack::plugins::{AgentView, Fitness, HardConstraint, HardFn, PassView, Scope, TaskView};
use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::proptest::sample::Index;
use offerpack::testkit::{
    agent, check_plan, check_plan_with, task_spec, workloads, workloads_with, CheckOptions, ConstraintSet, Violation,
    Workload,
};
use offerpack::util::SeededRng;
use offerpack::{
    Engine, EngineConfig, Offer, OfferId, OfferPool, Packing, Plan, PlanStats, Quantity, Reason, ReasonCount,
    ResourceValue, Role, Strategy as Selector, TaskSpec, Unplaced,
};

const NOW: Duration = Duration::from_secs(1000);
const HOLD: Duration = Duration::from_secs(60);

fn config(cases: u32) -> ProptestConfig {
    proptest_support::config(cases, "proptest-regressions/properties.txt")
}

/// Our own constraints, as a framework author would write them: one with a narrow, honest
/// scope (the class stays indexed), one with the default pass scope (the class is scanned).
fn extra_constraints() -> Vec<Arc<dyn HardConstraint>> {
    let rack_cap = HardFn::new("rack-cap-3", |task, agent, pass| {
        agent.attribute("rack").is_some_and(|rack| pass.count(task.group(), &rack) < 3)
    })
    .with_scope(Scope::Attribute(Arc::from("rack")));
    let group_cap = HardFn::new("group-cap-5", |task, _, pass| pass.group_total(task.group()) < 5);
    vec![Arc::new(rack_cap), Arc::new(group_cap)]
}

/// Engine settings worth varying: fitness, its weight against soft constraints, declines, and
/// whether unconstrained tasks fill agents (with a bin-packing fitness) or go one by one.
fn engine_config() -> impl Strategy<Value = (usize, f64, bool, bool)> {
    (0usize..4, prop::sample::select(vec![0.5, 1.0, 3.0]), prop::bool::weighted(0.8), any::<bool>())
}

fn engine(strategy: Selector, (fitness, weight, decline, fill): (usize, f64, bool, bool)) -> Engine {
    let fitness: Arc<dyn Fitness> = match fitness {
        0 => Arc::new(BinPack::cpu_mem()),
        1 => Arc::new(BinPack::cpu()),
        2 => Arc::new(Spread),
        _ => Arc::new(Balanced),
    };
    let packing = if fill { Packing::FillAgents } else { Packing::TaskByTask };
    let config = EngineConfig {
        fitness,
        fitness_weight: weight,
        strategy,
        decline_unused: decline,
        packing,
        explain_unplaced: true,
        ..EngineConfig::default()
    };
    Engine::new(config).unwrap()
}

fn plan(engine: &Engine, w: &Workload) -> Plan {
    engine.plan(&w.pool(HOLD, NOW), &w.tasks, &w.running, NOW).unwrap()
}

fn shuffle<T>(items: &mut [T], rng: &mut SeededRng) {
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// (a) Soundness of indexed plans, built-in and user constraints re-checked by replay.
    #[test]
    fn engine_plans_are_sound(w in workloads_with(extra_constraints()), cfg in engine_config()) {
        let plan = plan(&engine(Selector::Indexed, cfg), &w);
        let options = CheckOptions { replay: true, keep_unused: !cfg.2 };
        if let Err(v) = check_plan_with(&w, &plan, options) {
            return Err(TestCaseError::fail(format!("{v}\nplan: {plan:#?}")));
        }
    }

    /// (b) Same input, same plan; also with offers added and running tasks given in another order.
    #[test]
    fn engine_is_deterministic_under_reordering(w in workloads(), seed in any::<u64>(), cfg in engine_config()) {
        let engine = engine(Selector::Indexed, cfg);
        let first = plan(&engine, &w);
        prop_assert_eq!(&first, &plan(&engine, &w));
        let mut shuffled = w.clone();
        let mut rng = SeededRng::new(seed);
        shuffle(&mut shuffled.offers, &mut rng);
        shuffle(&mut shuffled.running, &mut rng);
        prop_assert_eq!(&first, &plan(&engine, &shuffled));
    }

    /// (c) The indexed selectors are exact: they give the plan of the reference scan.
    #[test]
    fn engine_indexed_equals_scan(w in workloads_with(extra_constraints()), cfg in engine_config()) {
        let indexed = plan(&engine(Selector::Indexed, cfg), &w);
        let scanned = plan(&engine(Selector::Scan, cfg), &w);
        let keyed = plan(&engine(Selector::Keyed, cfg), &w);
        prop_assert_eq!(&indexed, &scanned);
        prop_assert_eq!(keyed, scanned);
    }

    /// (d) A lone task without hard constraints is placed exactly when some agent's offers, in
    /// the roles it accepts, hold its resources and ports.
    #[test]
    fn engine_places_a_lone_task_that_fits(
        w in workloads(),
        mut task in task_spec("lone", &ConstraintSet::builtins()),
        cfg in engine_config(),
    ) {
        task.hard.clear();
        let lone = Workload { tasks: vec![task.clone()], ..w.clone() };
        let plan = plan(&engine(Selector::Indexed, cfg), &lone);
        let fits = lone.agent_ids().iter().any(|a| fits_alone(&lone.offers, a, &task));
        prop_assert_eq!(plan.launches.len() == 1, fits, "plan: {:#?}", plan);
    }
}

/// Whether the agent's offers alone hold the task's asks in the roles it accepts.
fn fits_alone(offers: &[Offer], agent: &offerpack::AgentId, task: &TaskSpec) -> bool {
    let accepts = |role: &Role| task.roles.as_ref().is_none_or(|roles| roles.contains(role));
    let resources = offers.iter().filter(|o| &o.agent_id == agent).flat_map(|o| &o.resources);
    let resources: Vec<_> = resources.filter(|r| accepts(&r.role)).collect();
    let scalar = |name: &str| -> i64 {
        let amounts = resources.iter().filter(|r| &*r.name == name).map(|r| match &r.value {
            ResourceValue::Scalar(q) => q.milli(),
            ResourceValue::Ports(_) => 0,
        });
        amounts.sum()
    };
    let port_sets: Vec<_> = resources
        .iter()
        .filter_map(|r| match &r.value {
            ResourceValue::Ports(set) => Some(set),
            ResourceValue::Scalar(_) => None,
        })
        .collect();
    let free_ports: u32 = port_sets.iter().map(|s| s.count()).sum();
    task.resources.iter().all(|(name, q)| scalar(name) >= q.milli())
        && free_ports >= task.ports.total()
        && task.ports.specific.iter().all(|p| port_sets.iter().any(|s| s.contains(*p)))
}

/// One step of the pool's life.
#[derive(Clone, Debug)]
enum Op {
    /// Receive a workload offer (ignored once it has left the pool: ids are never reused).
    Add(Index),
    /// Rescind a held offer, or an unknown one when none is held.
    Rescind(Index),
    /// Lose an agent and its offers.
    RemoveAgent(Index),
    /// Expire offers whose hold ran out.
    Expire,
    /// Let time pass, in seconds.
    Advance(u64),
    /// Schedule a subset of the pending tasks.
    Schedule(Vec<bool>, bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<Index>().prop_map(Op::Add),
        1 => any::<Index>().prop_map(Op::Rescind),
        1 => any::<Index>().prop_map(Op::RemoveAgent),
        1 => Just(Op::Expire),
        2 => (0u64..=8).prop_map(Op::Advance),
        2 => (prop::collection::vec(any::<bool>(), 16), prop::bool::weighted(0.7))
            .prop_map(|(mask, decline)| Op::Schedule(mask, decline)),
    ]
}

/// How an offer left the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Launched,
    Declined,
    Expired,
    Rescinded,
    AgentLost,
}

/// The pool as the test expects it, and how every offer ended.
struct Model {
    pool: OfferPool,
    now: Duration,
    held: BTreeMap<OfferId, (Offer, Duration)>,
    ended: HashMap<OfferId, End>,
}

impl Model {
    fn end(&mut self, id: &OfferId, how: End) -> Result<(), TestCaseError> {
        prop_assert!(self.held.remove(id).is_some(), "offer {} left the pool but was not held", id);
        let before = self.ended.insert(id.clone(), how);
        prop_assert!(before.is_none(), "offer {} ended twice: {:?} then {:?}", id, before, how);
        Ok(())
    }

    fn due(&self) -> Vec<OfferId> {
        self.held.iter().filter(|(_, (_, at))| *at + HOLD <= self.now).map(|(id, _)| id.clone()).collect()
    }

    fn step(&mut self, w: &Workload, engine: [&Engine; 2], op: &Op) -> Result<(), TestCaseError> {
        match op {
            Op::Add(i) => {
                let offer = i.get(&w.offers).clone();
                if self.ended.contains_key(&offer.id) {
                    return Ok(()); // a master never offers an id twice
                }
                let result = self.pool.add(offer.clone(), self.now);
                if self.held.contains_key(&offer.id) {
                    prop_assert!(result.is_err(), "duplicate offer {} accepted", offer.id);
                } else {
                    prop_assert!(result.is_ok(), "{:?}", result);
                    self.held.insert(offer.id.clone(), (offer, self.now));
                }
            }
            Op::Rescind(i) => {
                let ids: Vec<OfferId> = self.held.keys().cloned().collect();
                if ids.is_empty() {
                    prop_assert!(self.pool.rescind(&OfferId::from("never-offered")).is_err());
                } else {
                    let id = i.get(&ids).clone();
                    prop_assert_eq!(&self.pool.rescind(&id).unwrap().id, &id);
                    self.end(&id, End::Rescinded)?;
                }
            }
            Op::RemoveAgent(i) => {
                let agent = i.get(&w.agent_ids()).clone();
                let gone: Vec<OfferId> = self.pool.remove_agent(&agent).into_iter().map(|o| o.id).collect();
                let expected: Vec<OfferId> =
                    self.held.iter().filter(|(_, (o, _))| o.agent_id == agent).map(|(id, _)| id.clone()).collect();
                prop_assert_eq!(&gone, &expected);
                for id in &gone {
                    self.end(id, End::AgentLost)?;
                }
            }
            Op::Expire => {
                let gone: Vec<OfferId> = self.pool.expire(self.now).into_iter().map(|o| o.id).collect();
                prop_assert_eq!(&gone, &self.due());
                for id in &gone {
                    self.end(id, End::Expired)?;
                }
            }
            Op::Advance(secs) => self.now += Duration::from_secs(*secs),
            Op::Schedule(mask, decline) => {
                let tasks: Vec<TaskSpec> =
                    w.tasks.iter().zip(mask).filter(|(_, m)| **m).map(|(t, _)| t.clone()).collect();
                let offers = self.held.values().map(|(o, _)| o.clone()).collect();
                let snapshot = Workload { offers, tasks, running: w.running.clone() };
                let engine = engine[usize::from(!decline)];
                let plan = engine.schedule(&mut self.pool, &snapshot.tasks, &snapshot.running, self.now).unwrap();
                prop_assert_eq!(&plan.expired, &self.due());
                let options = CheckOptions { replay: false, keep_unused: !decline };
                check_plan_with(&snapshot, &plan, options).map_err(|v| TestCaseError::fail(v.to_string()))?;
                for accept in plan.accepts() {
                    for id in accept.offer_ids {
                        self.end(id, End::Launched)?;
                    }
                }
                plan.declined.iter().try_for_each(|id| self.end(id, End::Declined))?;
                plan.expired.iter().try_for_each(|id| self.end(id, End::Expired))?;
            }
        }
        prop_assert_eq!(self.pool.len(), self.held.len());
        for id in self.held.keys() {
            prop_assert!(self.pool.get(id).is_some(), "offer {} vanished from the pool", id);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// (e) Through any sequence of pool operations and passes, every offer received leaves the
    /// pool exactly once: launched on, declined, rescinded, lost with its agent, or expired.
    #[test]
    fn pool_conserves_offers(w in workloads(), ops in prop::collection::vec(op(), 1..=24)) {
        let declining = engine(Selector::Indexed, (0, 1.0, true, true));
        let keeping = engine(Selector::Indexed, (0, 1.0, false, true));
        let mut model = Model { pool: OfferPool::new(HOLD), now: NOW, held: BTreeMap::new(), ended: HashMap::new() };
        for op in &ops {
            model.step(&w, [&declining, &keeping], op)?;
        }
        model.now = Duration::MAX;
        model.step(&w, [&declining, &keeping], &Op::Expire)?;
        prop_assert!(model.pool.is_empty());
        prop_assert!(model.held.is_empty());
        prop_assert!(model.ended.keys().all(|id| w.offers.iter().any(|o| &o.id == id)));
    }
}

/// Regression: two agents whose bin-packing scores are equal in exact arithmetic but one ulp
/// apart in floating point (`(0.1 + 0.7) / 2` against `(0.3 + 0.5) / 2`), plus an
/// attribute-scoped soft term equal for both, so both totals round to the same number. The
/// indexed selector ranks a bucket by the agent-local part; both selectors must therefore break
/// equal totals on that part before the agent id, and agree.
#[test]
fn engine_indexed_equals_scan_on_rounded_ties() {
    use offerpack::plugins::constraints::GroupBy;
    let agent = |i: usize, cpus: f64, mem: f64| {
        let offer = Offer::new(format!("o{i}").as_str(), format!("a{i}").as_str(), &format!("h{i}"));
        offer.with_scalar("cpus", cpus).unwrap().with_scalar("mem", mem).unwrap().with_text_attribute("zone", "a")
    };
    let spread = Arc::new(GroupBy::new("zone", 0));
    let task =
        TaskSpec::builder("t0", "g").scalar("cpus", 3.0).scalar("mem", 1400.0).soft(1.0, spread).build().unwrap();
    let w =
        Workload { offers: vec![agent(0, 30.0, 2000.0), agent(1, 10.0, 2800.0)], tasks: vec![task], running: vec![] };
    let indexed = plan(&engine(Selector::Indexed, (0, 1.0, true, true)), &w);
    let scanned = plan(&engine(Selector::Scan, (0, 1.0, true, true)), &w);
    assert_eq!(indexed.launches[0].agent_id, scanned.launches[0].agent_id);
}

proptest! {
    #![proptest_config(config(128))]

    /// The checker itself: corrupting a sound plan in one place is always caught, as the
    /// violation the corruption causes.
    #[test]
    fn checker_rejects_corrupted_plans(w in workloads(), how in 0usize..7) {
        let mut plan = plan(&engine(Selector::Indexed, (0, 1.0, true, true)), &w);
        if plan.launches.is_empty() {
            return Ok(()); // nothing to corrupt (not a rejection: they would be too many)
        }
        prop_assert_eq!(check(&w, &plan), Ok(()), "the engine's plan, before any corruption");
        let first = plan.launches[0].clone();
        let caught = match how {
            0 => {
                plan.launches.remove(0);
                matches!(check(&w, &plan), Err(Violation::TaskMissing(t)) if t == first.task_id)
            }
            1 => {
                plan.launches.push(first.clone());
                matches!(check(&w, &plan), Err(Violation::TaskTwice(_)))
            }
            2 => {
                let mut resources = plan.launches[0].resources.to_vec();
                resources[0].amount += Quantity::from_milli(1);
                plan.launches[0].resources = resources.into();
                matches!(check(&w, &plan), Err(Violation::WrongAmount { .. }))
            }
            3 => {
                let Some(gone) = plan.declined.pop() else { return Ok(()) };
                matches!(check(&w, &plan), Err(Violation::OfferUnaccounted(o)) if o == gone)
            }
            4 => {
                plan.launches[0].ports.push((1, Role::unreserved()));
                matches!(check(&w, &plan), Err(Violation::PortCount { .. }))
            }
            5 => {
                // The room given back may also fit a task the engine rightly left unplaced: any
                // task reported is one the corrupted plan overlooks.
                if !unplace_unconstrained(&w, &mut plan) {
                    return Ok(());
                }
                matches!(check(&w, &plan), Err(Violation::Overlooked { .. }))
            }
            _ => {
                plan.stats.agents_used += 1;
                matches!(check(&w, &plan), Err(Violation::Stats { field: "agents_used", .. }))
            }
        };
        prop_assert!(caught, "corruption {} not caught: {:?}", how, check(&w, &plan));
    }
}

/// Takes back the first launch of a task without hard constraints whose group has none launched
/// after it (whose counts it would change): the task is listed unplaced with an honest-looking
/// explanation (every agent short of cpus), and the agent's offers are declined when nothing
/// else launched there; the stats follow. Its agent had room for it when it was placed and gets
/// that room back, so it could take it at the end. False when no launch qualifies.
fn unplace_unconstrained(w: &Workload, plan: &mut Plan) -> bool {
    let constrained = |l: &offerpack::Launch| w.task(&l.task_id).is_none_or(|t| !t.hard.is_empty());
    let free = |at: usize| {
        let (launch, later) = (&plan.launches[at], &plan.launches[at + 1..]);
        !constrained(launch) && !later.iter().any(|l| l.group == launch.group && constrained(l))
    };
    let Some(at) = (0..plan.launches.len()).find(|&at| free(at)) else {
        return false;
    };
    let launch = plan.launches.remove(at);
    if !plan.launches.iter().any(|l| l.agent_id == launch.agent_id) {
        plan.declined.extend(launch.offer_ids.iter().cloned());
        plan.declined.sort();
        plan.stats.agents_used -= 1;
    }
    let considered = plan.stats.agents_considered;
    let reason = Reason::Shortfall {
        resource: Arc::from("cpus"),
        asked: Quantity::from_milli(1),
        best_available: Quantity::ZERO,
    };
    let reasons = Arc::from([ReasonCount { reason, agents: considered }]);
    plan.unplaced.push(Unplaced {
        task_id: launch.task_id.clone(),
        reasons,
        agents_considered: considered,
        parked: false,
    });
    (plan.stats.tasks_placed, plan.stats.tasks_unplaced) = (plan.stats.tasks_placed - 1, plan.stats.tasks_unplaced + 1);
    true
}

proptest! {
    #![proptest_config(config(64))]

    /// The generators keep their promises: unique ids, one hostname and one set of attributes
    /// per agent, disjoint port ranges within an agent.
    #[test]
    fn testkit_workloads_are_well_formed(w in workloads(), one in agent(7)) {
        let mut ids: Vec<&str> = w.offers.iter().map(|o| o.id.as_str()).collect();
        ids.extend(w.tasks.iter().map(|t| t.id.as_str()).chain(w.running.iter().map(|t| t.id.as_str())));
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        prop_assert_eq!(ids.len(), count, "ids are not unique");
        prop_assert!(one.iter().all(|o| o.agent_id.as_str() == "a7" && &*o.hostname == "h7"));
        for offers in [&w.offers, &one] {
            for (a, b) in offers.iter().flat_map(|a| offers.iter().map(move |b| (a, b))) {
                if a.agent_id == b.agent_id && a.id != b.id {
                    prop_assert_eq!((&a.hostname, &a.attributes), (&b.hostname, &b.attributes));
                    prop_assert!(!ports_overlap(a, b), "{:?} and {:?} offer the same port", a.id, b.id);
                }
            }
        }
    }
}

/// Whether two offers offer a port in common.
fn ports_overlap(a: &Offer, b: &Offer) -> bool {
    let ports = |o: &Offer| {
        let sets = o.resources.iter().filter_map(|r| match &r.value {
            ResourceValue::Ports(set) => Some(set.clone()),
            ResourceValue::Scalar(_) => None,
        });
        sets.flat_map(|set| set.ranges().to_vec()).flat_map(|r| r.begin..=r.end).collect::<Vec<u16>>()
    };
    let theirs = ports(b);
    ports(a).iter().any(|p| theirs.contains(p))
}

fn check(w: &Workload, plan: &Plan) -> Result<(), Violation> {
    check_plan_with(w, plan, CheckOptions { replay: true, keep_unused: false })
}

/// One agent (4 cpus, 1 GiB, ports 31000-31001, zone a) and two tasks that the engine places
/// first and leaves unplaced second. Returns the workload, the plan, and the plan with the
/// second task forced onto the agent with port `port`.
fn forced(first: TaskSpec, second: TaskSpec, port: u16) -> (Workload, Plan, Plan) {
    let offer = Offer::new("o0", "a0", "h0").with_scalar("cpus", 4.0).unwrap().with_scalar("mem", 1024.0).unwrap();
    let offer = offer.with_ports(31000, 31001).unwrap().with_text_attribute("zone", "a");
    let w = Workload { offers: vec![offer], tasks: vec![first, second], running: vec![] };
    let plan = plan(&engine(Selector::Indexed, (0, 1.0, true, false)), &w);
    assert_eq!((plan.launches.len(), plan.unplaced.len()), (1, 1), "{plan:#?}");
    assert_eq!(check(&w, &plan), Ok(()));
    let (mut bad, task) = (plan.clone(), &w.tasks[1]);
    let mut launch = bad.launches[0].clone();
    (launch.task_id, launch.group) = (task.id.clone(), task.group.clone());
    let mut resources = launch.resources.to_vec();
    resources.iter_mut().for_each(|a| a.amount = task.ask(&a.name));
    launch.resources = resources.into();
    launch.ports = vec![(port, Role::unreserved())].into();
    bad.launches.push(launch);
    bad.unplaced.clear();
    (bad.stats.tasks_placed, bad.stats.tasks_unplaced) = (2, 0);
    (w, plan, bad)
}

fn task(id: &str, group: &str, cpus: f64) -> offerpack::TaskBuilder {
    TaskSpec::builder(id, group).scalar("cpus", cpus).ports(1)
}

fn broken(constraint: &str) -> Result<(), Violation> {
    Err(Violation::ConstraintBroken { task: "t1".into(), agent: "a0".into(), constraint: constraint.into() })
}

#[test]
fn checker_catches_built_in_constraints_ports_and_overcommit() {
    let unique: Arc<dyn HardConstraint> = offerpack::plugins::constraints::parse("hostname", "UNIQUE", None).unwrap();
    let pair =
        || (task("t0", "g", 1.0).hard(unique.clone()).build().unwrap(), task("t1", "g", 1.0).hard(unique.clone()));
    let (first, second) = pair();
    let (w, _, bad) = forced(first, second.build().unwrap(), 31001);
    assert_eq!(check_plan(&w, &bad), broken("hostname:UNIQUE"));
    let (first, second) = pair();
    let (w, _, bad) = forced(first, second.build().unwrap(), 31000);
    assert_eq!(check_plan(&w, &bad), Err(Violation::PortShared { agent: "a0".into(), port: 31000 }));
    let (w, _, bad) = forced(task("t0", "g", 1.0).build().unwrap(), task("t1", "g", 3.5).build().unwrap(), 31001);
    assert!(matches!(check_plan(&w, &bad), Err(Violation::OverCommitted { resource, .. }) if &*resource == "cpus"));
}

#[test]
fn checker_catches_claims_and_unexplained_tasks() {
    let exclusive: Arc<dyn HardConstraint> = Arc::new(offerpack::plugins::constraints::Exclusive::new());
    let first = task("t0", "g", 1.0).hard(exclusive).build().unwrap();
    let (w, mut plan, bad) = forced(first, task("t1", "other", 1.0).build().unwrap(), 31001);
    assert_eq!(
        check_plan(&w, &bad),
        Err(Violation::Claimed { task: "t1".into(), agent: "a0".into(), owner: "g".into() })
    );
    plan.unplaced[0].reasons = Arc::from([]);
    assert_eq!(check_plan(&w, &plan), Err(Violation::Unexplained { task: "t1".into(), rejected: 0, considered: 1 }));
}

/// One agent (4 cpus, 1 GiB, ports 31000-31001, zone a) and `task`, left unplaced by a
/// hand-made plan that explains it with `reason`.
fn unplaced_by_hand(task: TaskSpec, reason: Reason) -> (Workload, Plan) {
    let offer = Offer::new("o0", "a0", "h0").with_scalar("cpus", 4.0).unwrap().with_scalar("mem", 1024.0).unwrap();
    let offer = offer.with_ports(31000, 31001).unwrap().with_text_attribute("zone", "a");
    let reasons = Arc::from([ReasonCount { reason, agents: 1 }]);
    let plan = Plan {
        unplaced: vec![Unplaced { task_id: task.id.clone(), reasons, agents_considered: 1, parked: false }],
        declined: vec!["o0".into()],
        stats: PlanStats { tasks_unplaced: 1, agents_considered: 1, ..PlanStats::default() },
        ..Plan::default()
    };
    (Workload { offers: vec![offer], tasks: vec![task], running: vec![] }, plan)
}

/// A user plugin that admits everything and says it loosens.
#[derive(Debug)]
struct Loosening;

impl HardConstraint for Loosening {
    fn name(&self) -> &str {
        "loosening"
    }
    fn allows(&self, _: &TaskView<'_>, _: &AgentView<'_>, _: &PassView<'_>) -> bool {
        true
    }
    fn loosens_as_tasks_are_placed(&self) -> bool {
        true
    }
}

#[test]
fn checker_catches_a_placeable_task_left_unplaced() {
    let short = || Reason::Shortfall {
        resource: Arc::from("cpus"),
        asked: Quantity::from_units(8),
        best_available: Quantity::from_units(4),
    };
    let overlooked = Err(Violation::Overlooked { task: "t0".into(), agent: "a0".into() });
    // A plan whose reasons add up but lie: the agent has the cpus.
    let (w, plan) = unplaced_by_hand(task("t0", "g", 1.0).build().unwrap(), short());
    assert_eq!(check_plan(&w, &plan), overlooked);
    // Blocked at its turn explains nothing for a task whose constraints only tighten...
    let unique = offerpack::plugins::constraints::parse("hostname", "UNIQUE", None).unwrap();
    let (w, plan) = unplaced_by_hand(task("t0", "g", 1.0).hard(unique).build().unwrap(), Reason::BlockedAtItsTurn);
    assert_eq!(check_plan(&w, &plan), Err(Violation::Unexplained { task: "t0".into(), rejected: 0, considered: 1 }));
    // ...but does for one with a constraint that loosens, built in or declared.
    let group_by = offerpack::plugins::constraints::parse("zone", "GROUP_BY", None).unwrap();
    for loosening in [group_by, Arc::new(Loosening) as Arc<dyn HardConstraint>] {
        let (w, plan) =
            unplaced_by_hand(task("t0", "g", 1.0).hard(loosening).build().unwrap(), Reason::BlockedAtItsTurn);
        assert_eq!(check(&w, &plan), Ok(()));
    }
    // A constraint that rejects the agent at the end makes the task rightly unplaced.
    let not_a: Arc<dyn HardConstraint> = offerpack::plugins::constraints::parse("zone", "UNLIKE", Some("a")).unwrap();
    let rejected = Reason::Constraint { index: 0, name: Arc::from(not_a.name()) };
    let (w, plan) = unplaced_by_hand(task("t0", "g", 1.0).hard(not_a).build().unwrap(), rejected);
    assert_eq!(check(&w, &plan), Ok(()));
    // A user plugin has no semantics to evaluate without replay; with it, it is asked.
    let anywhere: Arc<dyn HardConstraint> = Arc::new(HardFn::new("anywhere", |_, _, _| true));
    let (w, plan) = unplaced_by_hand(task("t0", "g", 1.0).hard(anywhere).build().unwrap(), short());
    assert_eq!(check_plan(&w, &plan), Ok(()));
    assert_eq!(check(&w, &plan), overlooked);
}

#[test]
fn checker_replays_user_constraints() {
    let alone: Arc<dyn HardConstraint> =
        Arc::new(HardFn::new("alone", |_, agent, _| agent.task_count() == 0).with_scope(Scope::Agent));
    let first = task("t0", "g", 1.0).hard(alone.clone()).build().unwrap();
    let (w, _, bad) = forced(first, task("t1", "g", 1.0).hard(alone).build().unwrap(), 31001);
    assert_eq!(check_plan(&w, &bad), Ok(()), "a user plugin has no semantics to re-check without replay");
    assert_eq!(check(&w, &bad), broken("alone"));
}
