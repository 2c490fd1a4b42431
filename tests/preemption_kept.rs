//! The [`Scheduler`]'s kept running-task table against a fresh one-shot plan: after random
//! sequences of tasks reported running, tasks ended and passes (which launch tasks on offers
//! and build the table at their first preemption), a preempting pass of the scheduler chooses
//! the same victims, on the same agents, with the same refusals, as
//! [`Engine::plan_preempting`] given the same pool and running tasks. Failing inputs are
//! persisted in `proptest-regressions/preemption_kept.txt`.

use std::sync::Arc;
use std::time::Duration;

use offerpack::preempt::{DisruptionBudgets, MaxUnavailable, PreemptionInput};
use offerpack::{Engine, EngineConfig, Offer, Plan, Quantity, RunningTask, Scheduler, TaskId, TaskSpec};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

const AGENTS: u32 = 5;
const GROUPS: [&str; 3] = ["g0", "g1", "g2"];

#[derive(Clone, Debug)]
enum Op {
    /// A task reported running: agent, group, cpus, priority, tier, start second.
    Running(u32, usize, u32, i32, u32, u64),
    /// The `n`-th running task (by id, modulo their number) ended.
    Ended(usize),
    /// An offer of this many cpus on an agent.
    Offer(u32, u32),
    /// A preempting pass for one task: cpus and priority. Without hard constraints: the
    /// scheduler keeps agents whose offers went compiled (with nothing free) until a rebuild and
    /// may ask constraints there, where the one-shot knows the agent only through its tasks and
    /// refuses; that is the compiled state's difference, not the table's (the oracle test in
    /// `preemption.rs` covers constraints).
    Pass(u32, i32),
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        4 => (0..AGENTS, 0..GROUPS.len(), 1u32..=3, 0i32..=3, 0u32..=1, 0u64..=50)
            .prop_map(|(a, g, c, p, t, s)| Op::Running(a, g, c, p, t, s)),
        2 => any::<usize>().prop_map(Op::Ended),
        1 => (0..AGENTS, 1u32..=2).prop_map(|(a, c)| Op::Offer(a, c)),
        2 => (1u32..=5, 0i32..=4).prop_map(|(c, p)| Op::Pass(c, p)),
    ];
    proptest::collection::vec(op, 1..=40)
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

fn pending(id: &str, cpus: u32, priority: i32) -> TaskSpec {
    TaskSpec::builder(id, "g0").scalar("cpus", f64::from(cpus)).priority(priority).build().unwrap()
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
                    task.host = Some((Arc::from(format!("h{a}").as_str()), Default::default()));
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
                        .unwrap();
                    scheduler.add_offer(offer, now).unwrap();
                }
                Op::Pass(cpus, priority) => {
                    let mut running: Vec<RunningTask> = scheduler.running().cloned().collect();
                    running.sort_by(|x, y| x.id.cmp(&y.id));
                    let dying: Vec<TaskId> = running
                        .iter()
                        .enumerate()
                        .filter(|(k, _)| dying_mask & (1 << (k % 64)) != 0 && k % 3 == 0)
                        .map(|(_, t)| t.id.clone())
                        .collect();
                    let input = PreemptionInput { budgets: &budgets, dying: &dying };
                    let task = [pending(&format!("p{i}"), cpus, priority)];
                    let pool = scheduler.pool().clone();
                    let fresh = engine.plan_preempting(&pool, &task, &running, None, input, now).unwrap();
                    let kept = scheduler.schedule_preempting(&task, None, input, now).unwrap();
                    prop_assert_eq!(outcome(&kept), outcome(&fresh), "pass {} of {:?}", i, ops);
                }
            }
        }
    }
}
