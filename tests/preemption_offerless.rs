//! Preemption under hard constraints on agents with no offer left, known only through their
//! running tasks: when the tasks carry their host (hostname and attributes), the one-shot
//! [`Engine::plan_preempting`] compiles the agent from it and asks the constraints there, as the
//! [`Scheduler`] does (whether it still has the agent compiled from an earlier offer or not).

use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::constraints::{Is, Unique};
use offerpack::preempt::{DisruptionBudgets, PreemptionInput};
use offerpack::{
    Engine, EngineConfig, Offer, OfferPool, Plan, PreemptionRefusal, Quantity, Reason, RunningTask, Scheduler, TaskId,
    TaskSpec,
};

const NOW: Duration = Duration::from_secs(10);

fn engine() -> Engine {
    Engine::new(EngineConfig::default()).unwrap()
}

fn urgent(hard: Arc<dyn offerpack::plugins::HardConstraint>) -> TaskSpec {
    TaskSpec::builder("urgent", "web").scalar("cpus", 2.0).priority(10).hard(hard).build().unwrap()
}

/// A scheduler that launched `low` (2 cpus, priority 0) on `a1` (host `h1`, rack `r1`), using
/// its only offer: `a1` stays compiled with nothing free.
fn scheduler_after_launch() -> Scheduler {
    let mut scheduler = Scheduler::new(engine(), Duration::from_secs(60));
    scheduler.set_parking(false);
    let offer = Offer::new("o1", "a1", "h1").with_scalar("cpus", 2.0).unwrap().with_text_attribute("rack", "r1");
    scheduler.add_offer(offer, Duration::ZERO).unwrap();
    let low = TaskSpec::builder("low", "batch").scalar("cpus", 2.0).priority(0).build().unwrap();
    let plan = scheduler.schedule(&[low], Duration::ZERO).unwrap();
    assert_eq!(plan.launches.len(), 1);
    assert!(scheduler.pool().is_empty());
    scheduler
}

fn running_of(scheduler: &Scheduler) -> Vec<RunningTask> {
    let mut running: Vec<RunningTask> = scheduler.running().cloned().collect();
    running.sort_by(|a, b| a.id.cmp(&b.id));
    running
}

fn victims(plan: &Plan) -> Vec<(String, Vec<TaskId>)> {
    plan.preemptions.iter().map(|p| (p.agent_id.as_str().to_owned(), p.victims.clone())).collect()
}

#[test]
fn offerless_agent_takes_a_constrained_preemption_in_the_one_shot_as_in_the_scheduler() {
    let mut scheduler = scheduler_after_launch();
    let running = running_of(&scheduler);
    let budgets = DisruptionBudgets::new();
    let input = PreemptionInput::new(&budgets);
    for hard in [Arc::new(Is::new("rack", "r1")) as Arc<_>, Arc::new(Unique::new("hostname")) as Arc<_>] {
        let task = [urgent(hard)];
        let pool = scheduler.pool().clone();
        let fresh = engine().plan_preempting(&pool, &task, &running, None, input, NOW).unwrap();
        let kept = scheduler.schedule_preempting(&task, None, input, NOW).unwrap();
        let expected = vec![("a1".to_owned(), vec![TaskId::new("low")])];
        assert_eq!(victims(&kept), expected, "{kept:?}");
        assert_eq!(victims(&fresh), expected, "{fresh:?}");
    }
}

#[test]
fn offerless_agent_refuses_a_constraint_it_fails_with_the_same_reasons() {
    let mut scheduler = scheduler_after_launch();
    let running = running_of(&scheduler);
    let budgets = DisruptionBudgets::new();
    let input = PreemptionInput::new(&budgets);
    let task = [urgent(Arc::new(Is::new("rack", "r2")))];
    let pool = scheduler.pool().clone();
    let fresh = engine().plan_preempting(&pool, &task, &running, None, input, NOW).unwrap();
    let kept = scheduler.schedule_preempting(&task, None, input, NOW).unwrap();
    assert!(fresh.preemptions.is_empty() && kept.preemptions.is_empty());
    assert_eq!(fresh.unplaced, kept.unplaced);
    let reasons: Vec<&Reason> = fresh.unplaced[0].reasons.iter().map(|r| &r.reason).collect();
    assert_eq!(reasons, [&Reason::Preemption(PreemptionRefusal::NotAllowed)]);
}

#[test]
fn scheduler_preempts_on_agents_it_never_compiled_when_tasks_carry_their_host() {
    // Tasks reported running on an agent that never offered (and one that offered before a
    // rebuild dropped it): the scheduler compiles them from the tasks' host, as the one-shot does.
    let mut scheduler = scheduler_after_launch();
    let mut reported = RunningTask::new("old", "batch", "a2").with_priority(0);
    reported.resources = vec![(Arc::from("cpus"), Quantity::new(2.0).unwrap())];
    let attributes = offerpack::Attributes::from_pairs([("rack", offerpack::AttrValue::text("r2"))]);
    reported.host = Some((Arc::from("h2"), attributes));
    scheduler.task_running(reported).unwrap();
    // A new agent's offer makes the scheduler compile its state afresh: a1 (no offer) leaves it.
    let offer = Offer::new("o3", "a3", "h3").with_scalar("mem", 64.0).unwrap();
    scheduler.add_offer(offer, NOW).unwrap();
    let running = running_of(&scheduler);
    let budgets = DisruptionBudgets::new();
    let input = PreemptionInput::new(&budgets);
    for (rack, agent, victim) in [("r1", "a1", "low"), ("r2", "a2", "old")] {
        let task = [urgent(Arc::new(Is::new("rack", rack)))];
        let pool = scheduler.pool().clone();
        let fresh = engine().plan_preempting(&pool, &task, &running, None, input, NOW).unwrap();
        let kept = scheduler.schedule_preempting(&task, None, input, NOW).unwrap();
        let expected = vec![(agent.to_owned(), vec![TaskId::new(victim)])];
        assert_eq!(victims(&fresh), expected, "{fresh:?}");
        assert_eq!(victims(&kept), expected, "{kept:?}");
    }
}

#[test]
fn offerless_agent_without_host_keeps_refusing_constrained_tasks() {
    // Without host details the one-shot has nothing to compile the agent from.
    let mut low = RunningTask::new("low", "batch", "a1").with_priority(0);
    low.resources = vec![(Arc::from("cpus"), Quantity::new(2.0).unwrap())];
    let budgets = DisruptionBudgets::new();
    let input = PreemptionInput::new(&budgets);
    let pool = OfferPool::new(Duration::from_secs(60));
    let task = [urgent(Arc::new(Unique::new("hostname")))];
    let plan = engine().plan_preempting(&pool, &task, &[low.clone()], None, input, NOW).unwrap();
    assert!(plan.preemptions.is_empty());
    let reasons: Vec<&Reason> = plan.unplaced[0].reasons.iter().map(|r| &r.reason).collect();
    assert_eq!(reasons, [&Reason::Preemption(PreemptionRefusal::NotAllowed)]);
    // With the host, the same task preempts.
    low.host = Some((Arc::from("h1"), Default::default()));
    let plan = engine().plan_preempting(&pool, &task, &[low], None, input, NOW).unwrap();
    assert_eq!(victims(&plan), [("a1".to_owned(), vec![TaskId::new("low")])]);
}
