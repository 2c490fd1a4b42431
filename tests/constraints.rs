//! Each built-in constraint through the engine, with Marathon's semantics.

use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::constraints::{parse, ConstraintError};
use offerpack::plugins::HardConstraint;
use offerpack::{AttrValue, Engine, EngineConfig, Offer, OfferPool, Plan, RunningTask, Strategy, TaskSpec};

const NOW: Duration = Duration::ZERO;

/// Agents `a0..an` with a rack (`r0`, `r1`, ...) and zone per agent, and a scalar `gen`.
fn cluster(zones: &[&str], racks: &[&str]) -> OfferPool {
    let mut pool = OfferPool::new(Duration::from_secs(60));
    for (i, (zone, rack)) in zones.iter().zip(racks).enumerate() {
        let mut offer = Offer::new(format!("o{i}").as_str(), format!("a{i}").as_str(), &format!("h{i}"))
            .with_scalar("cpus", 8.0)
            .unwrap()
            .with_text_attribute("zone", zone)
            .with_text_attribute("rack", rack);
        offer.attributes.insert("gen", AttrValue::scalar(i as f64).unwrap());
        pool.add(offer, NOW).unwrap();
    }
    pool
}

fn run(pool: &OfferPool, constraint: &str, value: Option<&str>, attr: &str, n: usize, running: &[RunningTask]) -> Plan {
    let c: Arc<dyn HardConstraint> = parse(attr, constraint, value).unwrap();
    let tasks: Vec<_> = (0..n)
        .map(|i| TaskSpec::builder(format!("t{i}").as_str(), "g").scalar("cpus", 1.0).hard(c.clone()).build().unwrap())
        .collect();
    let mut plans = [Strategy::Indexed, Strategy::Scan].map(|strategy| {
        let engine = Engine::new(EngineConfig { strategy, ..EngineConfig::default() }).unwrap();
        engine.plan(pool, &tasks, running, NOW).unwrap()
    });
    assert_eq!(plans[0], plans[1], "indexed and scan plans differ");
    std::mem::take(&mut plans[0])
}

fn agents(plan: &Plan) -> Vec<&str> {
    let mut a: Vec<_> = plan.launches.iter().map(|l| l.agent_id.as_str()).collect();
    a.sort();
    a
}

#[test]
fn like_matches_the_whole_value() {
    let pool = cluster(&["us-east-1a", "us-east-1b", "eu-1a"], &["r1", "r2", "r3"]);
    let plan = run(&pool, "LIKE", Some("us-.*"), "zone", 4, &[]);
    assert!(agents(&plan).iter().all(|a| *a == "a0" || *a == "a1"));
    let plan = run(&pool, "LIKE", Some("us"), "zone", 1, &[]);
    assert_eq!(plan.launches.len(), 0, "LIKE is anchored: 'us' does not match 'us-east-1a'");
}

#[test]
fn unlike_passes_agents_without_the_attribute() {
    let pool = cluster(&["a", "b"], &["r1", "r2"]);
    let plan = run(&pool, "UNLIKE", Some("a"), "zone", 3, &[]);
    assert_eq!(agents(&plan), ["a1", "a1", "a1"]);
    let plan = run(&pool, "UNLIKE", Some("x"), "missing", 1, &[]);
    assert_eq!(plan.launches.len(), 1);
}

#[test]
fn is_compares_text_and_scalars() {
    let pool = cluster(&["a", "b", "c"], &["r1", "r2", "r3"]);
    assert_eq!(agents(&run(&pool, "IS", Some("b"), "zone", 1, &[])), ["a1"]);
    assert_eq!(agents(&run(&pool, "IS", Some("2.0"), "gen", 1, &[])), ["a2"]);
    assert_eq!(run(&pool, "IS", Some("b"), "missing", 1, &[]).launches.len(), 0);
}

#[test]
fn cluster_without_value_follows_the_first_placement() {
    let pool = cluster(&["a", "b", "a"], &["r1", "r2", "r3"]);
    let running = [RunningTask::new("r", "g", "a1")];
    let plan = run(&pool, "CLUSTER", None, "zone", 3, &running);
    assert_eq!(agents(&plan), ["a1", "a1", "a1"]);
    let plan = run(&pool, "CLUSTER", Some("a"), "zone", 2, &[]);
    assert!(agents(&plan).iter().all(|a| *a != "a1"));
}

#[test]
fn max_per_caps_tasks_per_value() {
    let pool = cluster(&["a", "a", "b"], &["r1", "r1", "r2"]);
    let plan = run(&pool, "MAX_PER", Some("2"), "rack", 5, &[]);
    assert_eq!(plan.launches.len(), 4);
    let on_r1 = plan.launches.iter().filter(|l| l.agent_id.as_str() != "a2").count();
    assert_eq!(on_r1, 2);
    assert_eq!(plan.unplaced.len(), 1);
}

#[test]
fn balance_keeps_values_within_one_task() {
    let pool = cluster(&["a", "b", "c"], &["r1", "r2", "r3"]);
    let running = [RunningTask::new("r1", "g", "a0"), RunningTask::new("r2", "g", "a0")];
    let plan = run(&pool, "BALANCE", Some("3"), "zone", 4, &running);
    let count = |a: &str| agents(&plan).iter().filter(|x| **x == a).count() + if a == "a0" { 2 } else { 0 };
    assert_eq!((count("a0"), count("a1"), count("a2")), (2, 2, 2));
}

#[test]
fn group_by_counts_only_values_in_use_unless_told_how_many() {
    let pool = cluster(&["a", "b"], &["r1", "r2"]);
    let running = [RunningTask::new("r", "g", "a0")];
    // As in Marathon: without a count, zone b is unknown to the group, so zone a (holding the
    // fewest among values in use) stays acceptable and bin packing keeps the task there.
    assert_eq!(agents(&run(&pool, "GROUP_BY", None, "zone", 1, &running)), ["a0"]);
    // Told to expect two values, the group must use zone b first.
    assert_eq!(agents(&run(&pool, "GROUP_BY", Some("2"), "zone", 1, &running)), ["a1"]);
    assert_eq!(agents(&run(&pool, "GROUP_BY", Some("2"), "zone", 3, &running)), ["a0", "a1", "a1"]);
}

#[test]
fn parse_rejects_bad_triples_with_clear_errors() {
    assert!(matches!(parse("zone", "NEAR", None), Err(ConstraintError::UnknownOperator(op)) if op == "NEAR"));
    assert!(matches!(parse("zone", "LIKE", None), Err(ConstraintError::MissingValue("LIKE"))));
    assert!(matches!(parse("zone", "LIKE", Some("(")), Err(ConstraintError::BadValue { operator: "LIKE", .. })));
    assert!(matches!(parse("zone", "MAX_PER", Some("0")), Err(ConstraintError::BadValue { .. })));
    assert!(matches!(parse("zone", "GROUP_BY", Some("x")), Err(ConstraintError::BadValue { .. })));
    assert!(parse("zone", "group_by", Some("2")).is_ok(), "operators are case-insensitive");
    let message = parse("zone", "MAX_PER", Some("-1")).err().unwrap().to_string();
    assert!(message.contains("MAX_PER") && message.contains("-1"), "{message}");
}

/// A running task on an agent without offers: its host when given, else "could be anywhere".
fn elsewhere(id: &str, zone: Option<&str>) -> RunningTask {
    let mut task = RunningTask::new(id, "g", "gone");
    task.host = zone.map(|z| {
        let mut attrs = offerpack::Attributes::default();
        attrs.insert("zone", AttrValue::text(z));
        (Arc::from("gone-host"), attrs)
    });
    task
}

#[test]
fn running_task_off_the_pool_counts_on_its_host_values() {
    let pool = cluster(&["a", "b", "c"], &["r1", "r2", "r3"]);
    let running = [elsewhere("r", Some("a"))];
    assert_eq!(agents(&run(&pool, "UNIQUE", None, "zone", 3, &running)), ["a1", "a2"]);
    assert_eq!(run(&pool, "MAX_PER", Some("2"), "zone", 6, &running).launches.len(), 5);
}

#[test]
fn running_task_of_unknown_place_counts_against_every_value() {
    let pool = cluster(&["a", "b", "c"], &["r1", "r2", "r3"]);
    let running = [elsewhere("r", None)];
    let unique = run(&pool, "UNIQUE", None, "zone", 3, &running);
    assert_eq!(unique.launches.len(), 0, "it may be in any zone");
    assert_eq!(unique.unplaced.len(), 3);
    assert_eq!(run(&pool, "MAX_PER", Some("2"), "zone", 6, &running).launches.len(), 3);
    assert_eq!(run(&pool, "CLUSTER", None, "zone", 2, &running).launches.len(), 0);
    // GROUP_BY: every zone holds it alike, so the first placement may go anywhere, then spread.
    let by = run(&pool, "GROUP_BY", None, "zone", 3, &running);
    let mut zones = agents(&by);
    zones.sort();
    assert_eq!(zones, ["a0", "a1", "a2"]);
    // Tasks of other groups do not see it.
    let free = TaskSpec::builder("o", "other").scalar("cpus", 1.0).hard(parse("zone", "UNIQUE", None).unwrap());
    let engine = Engine::new(EngineConfig::default()).unwrap();
    assert_eq!(engine.plan(&pool, &[free.build().unwrap()], &running, NOW).unwrap().launches.len(), 1);
}
