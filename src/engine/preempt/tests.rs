//! Unit tests of the preemption step (the oracle comparison is in `tests/preemption.rs`).

use std::sync::Arc;
use std::time::Duration;

use super::{DisruptionBudgets, PreemptionInput};
use crate::plan::{PreemptionRefusal, Reason};
use crate::plugins::constraints::Unique;
use crate::{Engine, EngineConfig, Offer, OfferPool, Quantity, RunningTask, TaskSpec};

const NOW: Duration = Duration::from_secs(10);

fn cpus(id: &str, group: &str, agent: &str, n: f64, priority: i32) -> RunningTask {
    let mut task = RunningTask::new(id, group, agent).with_priority(priority);
    task.resources = vec![(Arc::from("cpus"), Quantity::new(n).unwrap())];
    task
}

fn plan(pool: &OfferPool, pending: &[TaskSpec], running: &[RunningTask]) -> crate::Plan {
    let budgets = DisruptionBudgets::new();
    let engine = Engine::new(EngineConfig::default()).unwrap();
    engine.plan_preempting(pool, pending, running, None, PreemptionInput::new(&budgets), NOW).unwrap()
}

fn offered(cpus: f64) -> OfferPool {
    let mut pool = OfferPool::new(Duration::from_secs(60));
    pool.add(Offer::new("o1", "a1", "h1").with_scalar("cpus", cpus).unwrap(), NOW).unwrap();
    pool
}

#[test]
fn preempt_asks_hard_constraints_with_the_victims_gone() {
    // The only other task of group "web" on the agent is the victim: UNIQUE passes once it goes.
    let pool = offered(1.0);
    let unique = Arc::new(Unique::new("hostname"));
    let task = TaskSpec::builder("web-2", "web").scalar("cpus", 2.0).priority(5).hard(unique).build().unwrap();
    let plan = plan(&pool, &[task], &[cpus("web-1", "web", "a1", 1.0, 0)]);
    assert_eq!(plan.preemptions.len(), 1, "{plan:?}");
    assert_eq!(plan.preemptions[0].victims, ["web-1".into()]);
    assert!(plan.declined.is_empty(), "the preempted agent's offer is kept");
}

#[test]
fn preempt_counts_what_the_offer_has_free() {
    // 1 cpu free and a 1-cpu victim: one victim, not the 2-cpu one.
    let pool = offered(1.0);
    let task = TaskSpec::builder("p", "p").scalar("cpus", 2.0).priority(5).build().unwrap();
    let running = [cpus("big", "b", "a1", 2.0, 0), cpus("small", "b", "a1", 1.0, 0)];
    assert_eq!(plan(&pool, &[task], &running).preemptions[0].victims, ["small".into()]);
}

#[test]
fn preempt_does_not_ask_constraints_of_agents_without_a_view() {
    // No offers: the agent is known only through its tasks; a task with a constraint is refused.
    let pool = OfferPool::new(Duration::from_secs(60));
    let unique = Arc::new(Unique::new("hostname"));
    let task = TaskSpec::builder("p", "p").scalar("cpus", 1.0).priority(5).hard(unique).build().unwrap();
    let plan = plan(&pool, &[task], &[cpus("low", "b", "a1", 2.0, 0)]);
    assert!(plan.preemptions.is_empty());
    let refused = Reason::Preemption(PreemptionRefusal::NotAllowed);
    assert!(plan.unplaced[0].reasons.iter().any(|r| r.reason == refused), "{:?}", plan.unplaced[0].reasons);
}

#[test]
fn preempt_takes_a_victim_once_per_pass() {
    // Two pending tasks, one victim big enough for either: the second finds nothing left.
    let pool = OfferPool::new(Duration::from_secs(60));
    let task = |id: &str, p: i32| TaskSpec::builder(id, "p").scalar("cpus", 2.0).priority(p).build().unwrap();
    let plan = plan(&pool, &[task("first", 3), task("second", 2)], &[cpus("low", "b", "a1", 2.0, 0)]);
    assert_eq!(plan.preemptions.len(), 1);
    assert_eq!(plan.preemptions[0].task_id, "first".into(), "higher priority goes first");
    assert_eq!(plan.unplaced.len(), 1);
    assert_eq!(plan.stats.tasks_unplaced, 1);
}
