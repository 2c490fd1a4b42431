//! Hints read after a pass (`hints_after_pass`, what the live session uses) against hints on a
//! copy of the pool and running tasks taken before it (`hints`, what the session used to copy
//! for every pass), over random clusters driven through a `Scheduler` for a few passes:
//! offers that expire, agents known only from their tasks, tasks ending between passes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use offerpack::autoscale::{hints, hints_after_pass, AutoscaleConfig, AutoscaleInput, ClassRule};
use offerpack::model::{AttrValue, Attributes};
use offerpack::plugins::constraints::{Is, Unique};
use offerpack::{Engine, EngineConfig, Offer, OfferId, Quantity, RunningTask, Scheduler, TaskSpec};
use proptest::prelude::*;

const CLASSES: [&str; 3] = ["a", "b", "c"];
const HOLD: Duration = Duration::from_secs(10);

/// One agent: class (3 is none), zone, cpus offered (0: no offer), offered at 0 s or 5 s (the
/// first expire at the second pass), running tasks as (group, cpus), host details on them.
#[derive(Clone, Debug)]
struct AgentCase {
    class: usize,
    zone: u8,
    cpus: u32,
    late: bool,
    tasks: Vec<(u8, u32)>,
    host: bool,
}

/// A pending task: group, cpus, kind (0 plain, 1 one per host, 2 pinned to zone z1).
#[derive(Clone, Debug)]
struct TaskCase {
    group: u8,
    cpus: u32,
    kind: u8,
}

fn attrs(agent: &AgentCase) -> Attributes {
    let mut attrs = Attributes::from_pairs([("zone", AttrValue::text(format!("z{}", agent.zone)))]);
    if let Some(class) = CLASSES.get(agent.class) {
        attrs.insert("class", AttrValue::text(class));
    }
    attrs
}

fn spec(id: String, task: &TaskCase) -> TaskSpec {
    let builder = TaskSpec::builder(id, format!("g{}", task.group)).scalar("cpus", f64::from(task.cpus));
    match task.kind {
        1 => builder.hard(Arc::new(Unique::new("hostname"))),
        2 => builder.hard(Arc::new(Is::new("zone", "z1"))),
        _ => builder,
    }
    .build()
    .unwrap()
}

fn agent_case() -> impl Strategy<Value = AgentCase> {
    (0usize..4, 0u8..3, 0u32..9, any::<bool>(), prop::collection::vec((0u8..3, 1u32..3), 0..3), any::<bool>())
        .prop_map(|(class, zone, cpus, late, tasks, host)| AgentCase { class, zone, cpus, late, tasks, host })
}

fn task_case() -> impl Strategy<Value = TaskCase> {
    (0u8..3, 1u32..7, 0u8..3).prop_map(|(group, cpus, kind)| TaskCase { group, cpus, kind })
}

/// The hints both ways for one pass of `scheduler` at `now`; returns them.
fn compare(scheduler: &mut Scheduler, engine: &Engine, config: &AutoscaleConfig, pending: &[TaskSpec], now: Duration) {
    let last = BTreeMap::new();
    let input = AutoscaleInput { config, last_scaled: &last };
    let pool = scheduler.pool().clone();
    let running: Vec<RunningTask> = scheduler.running().cloned().collect();
    let plan = scheduler.schedule(pending, now).unwrap();
    let expected = hints(engine, input, &pool, pending, &running, &plan, now).unwrap();
    let mut ids: Vec<&OfferId> = plan.launches.iter().flat_map(|l| l.offer_ids.iter()).chain(&plan.declined).collect();
    ids.sort();
    ids.dedup();
    let taken: Vec<Offer> = ids.into_iter().filter_map(|id| pool.get(id).cloned()).collect();
    let got =
        hints_after_pass(engine, input, scheduler.pool(), &taken, pending, || scheduler.running(), &plan, now).unwrap();
    assert_eq!(got, expected, "plan {plan:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn hints_after_the_pass_equal_hints_on_a_copy_before_it(
        agents in prop::collection::vec(agent_case(), 1..10),
        first in prop::collection::vec(task_case(), 0..8),
        second in prop::collection::vec(task_case(), 0..8),
        ended in prop::collection::vec(any::<bool>(), 0..12),
        max_size in 0u32..20,
        max_idle in 0u32..3,
        balance in any::<bool>(),
    ) {
        let rule = |class: &str| {
            let rule = ClassRule::new(class).max_size(max_size).max_idle(max_idle).min_idle(max_idle.min(1));
            if balance { rule.balance_by("zone") } else { rule }
        };
        let config = AutoscaleConfig::new("class", [rule("a"), rule("b")]).unwrap();
        let engine = Engine::new(EngineConfig::default()).unwrap();
        let mut scheduler = Scheduler::new(engine.clone(), HOLD);
        for (i, agent) in agents.iter().enumerate() {
            let id = format!("agent-{i}");
            if agent.cpus > 0 {
                let at = if agent.late { Duration::from_secs(5) } else { Duration::ZERO };
                let mut offer = Offer::new(format!("o-{i}").as_str(), id.as_str(), &id).with_scalar("cpus", f64::from(agent.cpus)).unwrap();
                offer.attributes = attrs(agent);
                scheduler.add_offer(offer, at).unwrap();
            }
            for (k, &(group, cpus)) in agent.tasks.iter().enumerate() {
                let mut task = RunningTask::new(format!("run-{i}-{k}"), format!("g{group}"), id.as_str());
                task.resources = vec![(Arc::from("cpus"), Quantity::from_units(cpus))];
                if agent.host {
                    task.host = Some((Arc::from(id.as_str()), attrs(agent)));
                }
                scheduler.task_running(task).unwrap();
            }
        }
        let first: Vec<TaskSpec> = first.iter().enumerate().map(|(j, t)| spec(format!("p1-{j}"), t)).collect();
        compare(&mut scheduler, &engine, &config, &first, Duration::from_secs(1));
        // Some tasks end (launched ones among them), new offers come, a second pass after
        // the first offers expired.
        let mut ids: Vec<_> = scheduler.running().map(|t| t.id.clone()).collect();
        ids.sort();
        for (id, end) in ids.iter().zip(&ended) {
            if *end {
                scheduler.task_ended(id);
            }
        }
        for (i, agent) in agents.iter().enumerate().filter(|(_, a)| a.cpus > 0 && !a.late) {
            let id = format!("agent-{i}");
            let mut offer = Offer::new(format!("o2-{i}").as_str(), id.as_str(), &id).with_scalar("cpus", 2.0).unwrap();
            offer.attributes = attrs(agent);
            scheduler.add_offer(offer, Duration::from_secs(8)).unwrap();
        }
        let second: Vec<TaskSpec> = second.iter().enumerate().map(|(j, t)| spec(format!("p2-{j}"), t)).collect();
        compare(&mut scheduler, &engine, &config, &second, Duration::from_secs(12));
    }
}
