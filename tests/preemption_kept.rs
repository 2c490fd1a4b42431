//! The [`Scheduler`]'s kept running-task table and compiled state against a fresh one-shot plan:
//! after random sequences of tasks reported running, tasks ended and passes (which launch tasks
//! on offers and build the table at their first preemption), a preempting pass of the scheduler
//! launches the same tasks, chooses the same victims, on the same agents, with the same
//! refusals, as [`Engine::plan_preempting`] given the same pool and running tasks, and a plain
//! pass launches as [`Engine::plan`] does. Pending tasks may have hard and soft constraints on
//! the agents' hostname and rack; every running task carries its host (hostname and attributes),
//! so agents whose offers were all used (which the scheduler may still have compiled, or not
//! since it compiled its state afresh) are asked the same questions by both. Failing inputs are
//! persisted in `proptest-regressions/preemption_kept.txt`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::constraints::{GroupBy, Is, MaxPer, Unique};
use offerpack::plugins::{HardConstraint, SoftConstraint};
use offerpack::preempt::{DisruptionBudgets, MaxUnavailable, PreemptionInput};
use offerpack::{
    AttrValue, Attributes, Engine, EngineConfig, Offer, Plan, Quantity, RunningTask, Scheduler, TaskId, TaskSpec,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

const AGENTS: u32 = 5;
const GROUPS: [&str; 3] = ["g0", "g1", "g2"];
const RACKS: u32 = 2;

/// A constraint a pending task may have.
#[derive(Clone, Copy, Debug)]
enum Rule {
    /// `rack:IS:r<n>`.
    RackIs(u32),
    /// `hostname:UNIQUE`.
    UniqueHost,
    /// `rack:UNIQUE`.
    UniqueRack,
    /// `rack:MAX_PER:n`.
    MaxPerRack(u32),
    /// `rack:GROUP_BY`.
    GroupByRack,
    /// `hostname:GROUP_BY`.
    GroupByHost,
}

/// One pending task: group, cpus, priority, and its hard and soft constraints.
type Pending = (usize, u32, i32, Option<Rule>, Option<Rule>);

#[derive(Clone, Debug)]
enum Op {
    /// A task reported running: agent, group, cpus, priority, tier, start second.
    Running(u32, usize, u32, i32, u32, u64),
    /// The `n`-th running task (by id, modulo their number) ended.
    Ended(usize),
    /// An offer of this many cpus on an agent.
    Offer(u32, u32),
    /// A preempting pass for one or two tasks.
    Pass(Vec<Pending>),
    /// A pass without preemption for one or two tasks.
    Plain(Vec<Pending>),
}

fn rule() -> impl Strategy<Value = Rule> {
    prop_oneof![
        (0u32..RACKS).prop_map(Rule::RackIs),
        Just(Rule::UniqueHost),
        Just(Rule::UniqueRack),
        (1u32..=3).prop_map(Rule::MaxPerRack),
        Just(Rule::GroupByRack),
        Just(Rule::GroupByHost),
    ]
}

fn pendings() -> impl Strategy<Value = Vec<Pending>> {
    let rules = (proptest::option::weighted(0.6, rule()), proptest::option::weighted(0.3, rule()));
    let one = (0..GROUPS.len(), 1u32..=5, 0i32..=4, rules).prop_map(|(g, c, p, (h, s))| (g, c, p, h, s));
    proptest::collection::vec(one, 1..=2)
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..AGENTS, 0..GROUPS.len(), 1u32..=3, 0i32..=3, 0u32..=1, 0u64..=50)
            .prop_map(|(a, g, c, p, t, s)| Op::Running(a, g, c, p, t, s)),
        2 => any::<usize>().prop_map(Op::Ended),
        1 => (0..AGENTS, 1u32..=2).prop_map(|(a, c)| Op::Offer(a, c)),
        2 => pendings().prop_map(Op::Pass),
        1 => pendings().prop_map(Op::Plain),
    ];
    proptest::collection::vec(op, 1..=40)
}

/// Agent `a`'s rack.
fn rack(a: u32) -> String {
    format!("r{}", a % RACKS)
}

fn budgets(shares: &[Option<u32>]) -> DisruptionBudgets {
    let mut budgets = DisruptionBudgets::new();
    for (g, share) in shares.iter().enumerate() {
        if let Some(tenths) = share {
            budgets.set(GROUPS[g], MaxUnavailable::Share(f64::from(*tenths) / 10.0));
        }
    }
    budgets
}

fn constraint(rule: Rule) -> (Arc<dyn HardConstraint>, Arc<dyn SoftConstraint>) {
    fn both<C: HardConstraint + SoftConstraint + 'static>(c: C) -> (Arc<dyn HardConstraint>, Arc<dyn SoftConstraint>) {
        let c = Arc::new(c);
        (c.clone(), c)
    }
    match rule {
        Rule::RackIs(r) => both(Is::new("rack", &format!("r{r}"))),
        Rule::UniqueHost => both(Unique::new("hostname")),
        Rule::UniqueRack => both(Unique::new("rack")),
        Rule::MaxPerRack(n) => both(MaxPer::new("rack", NonZeroU32::new(n).unwrap())),
        Rule::GroupByRack => both(GroupBy::new("rack", 0)),
        Rule::GroupByHost => both(GroupBy::new("hostname", 0)),
    }
}

fn pending(id: &str, &(group, cpus, priority, hard, soft): &Pending) -> TaskSpec {
    let mut b = TaskSpec::builder(id, GROUPS[group]).scalar("cpus", f64::from(cpus)).priority(priority);
    if let Some(rule) = hard {
        b = b.hard(constraint(rule).0);
    }
    if let Some(rule) = soft {
        b = b.soft(1.0, constraint(rule).1);
    }
    b.build().unwrap()
}

/// The pending tasks of op `i`.
fn pendings_of(i: usize, tasks: &[Pending]) -> Vec<TaskSpec> {
    tasks.iter().enumerate().map(|(k, t)| pending(&format!("p{i}-{k}"), t)).collect()
}

/// What must agree: launches, preemptions and the unplaced tasks with their reasons.
fn outcome(plan: &Plan) -> impl PartialEq + std::fmt::Debug {
    let launches: Vec<(String, String)> =
        plan.launches.iter().map(|l| (l.task_id.as_str().to_owned(), l.agent_id.as_str().to_owned())).collect();
    let unplaced: Vec<(String, String)> =
        plan.unplaced.iter().map(|u| (u.task_id.as_str().to_owned(), format!("{:?}", u.reasons))).collect();
    (launches, plan.preemptions.clone(), unplaced)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/preemption_kept.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn kept_table_preempts_as_a_fresh_plan(ops in ops(), shares in proptest::collection::vec(proptest::option::of(0u32..=9), 3), dying_mask in any::<u64>()) {
        let engine = Engine::new(EngineConfig::default()).unwrap();
        let mut scheduler = Scheduler::new(engine.clone(), Duration::from_secs(3600));
        scheduler.set_parking(false);
        let budgets = budgets(&shares);
        let mut now = Duration::from_secs(100);
        for (i, op) in ops.iter().enumerate() {
            now += Duration::from_secs(1);
            match *op {
                Op::Running(a, g, cpus, priority, tier, start) => {
                    let mut task = RunningTask::new(format!("r{i}").as_str(), GROUPS[g], format!("a{a}").as_str())
                        .with_priority(priority)
                        .with_tier(tier)
                        .started_at(Duration::from_secs(start));
                    task.resources = vec![(Arc::from("cpus"), Quantity::new(f64::from(cpus)).unwrap())];
                    let attributes = Attributes::from_pairs([("rack", AttrValue::text(rack(a)))]);
                    task.host = Some((Arc::from(format!("h{a}").as_str()), attributes));
                    scheduler.task_running(task).unwrap();
                }
                Op::Ended(n) => {
                    let mut ids: Vec<TaskId> = scheduler.running().map(|t| t.id.clone()).collect();
                    ids.sort();
                    if !ids.is_empty() {
                        prop_assert!(scheduler.task_ended(&ids[n % ids.len()]));
                    }
                }
                Op::Offer(a, cpus) => {
                    let offer = Offer::new(format!("o{i}").as_str(), format!("a{a}").as_str(), &format!("h{a}"))
                        .with_scalar("cpus", f64::from(cpus))
                        .unwrap()
                        .with_text_attribute("rack", &rack(a));
                    scheduler.add_offer(offer, now).unwrap();
                }
                Op::Pass(ref tasks) => {
                    let mut running: Vec<RunningTask> = scheduler.running().cloned().collect();
                    running.sort_by(|x, y| x.id.cmp(&y.id));
                    let dying: Vec<TaskId> = running
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| dying_mask & (1 << (k % 64)) != 0 && k % 3 == 0)
                        .map(|(_, t)| t.id.clone())
                        .collect();
                    let input = PreemptionInput { budgets: &budgets, dying: &dying };
                    let tasks = pendings_of(i, tasks);
                    let pool = scheduler.pool().clone();
                    let fresh = engine.plan_preempting(&pool, &tasks, &running, None, input, now).unwrap();
                    let kept = scheduler.schedule_preempting(&tasks, None, input, now).unwrap();
                    prop_assert_eq!(outcome(&kept), outcome(&fresh), "pass {} of {:?}", i, ops);
                }
                Op::Plain(ref tasks) => {
                    let mut running: Vec<RunningTask> = scheduler.running().cloned().collect();
                    running.sort_by(|x, y| x.id.cmp(&y.id));
                    let tasks = pendings_of(i, tasks);
                    let pool = scheduler.pool().clone();
                    let fresh = engine.plan(&pool, &tasks, &running, now).unwrap();
                    let kept = scheduler.schedule(&tasks, now).unwrap();
                    prop_assert_eq!(outcome(&kept), outcome(&fresh), "plain pass {} of {:?}", i, ops);
                }
            }
        }
    }
}
