//! Whole-core scenarios: a pool, tasks and running tasks in; a plan out, checked field by field.

use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::constraints::{parse, Exclusive};
use offerpack::plugins::fitness::Spread;
use offerpack::plugins::{HardConstraint, HardFn, Scope, SoftConstraint};
use offerpack::{Engine, EngineConfig, Offer, OfferPool, PlanError, Reason, Role, RunningTask, Strategy, TaskSpec};

const NOW: Duration = Duration::from_secs(100);

fn agent(i: usize, cpus: f64, mem: f64, zone: &str) -> Offer {
    Offer::new(format!("o{i}").as_str(), format!("a{i}").as_str(), &format!("h{i}"))
        .with_scalar("cpus", cpus)
        .unwrap()
        .with_scalar("mem", mem)
        .unwrap()
        .with_ports(31000, 31009)
        .unwrap()
        .with_text_attribute("zone", zone)
}

fn pool(offers: impl IntoIterator<Item = Offer>) -> OfferPool {
    let mut pool = OfferPool::new(Duration::from_secs(60));
    for o in offers {
        pool.add(o, NOW).unwrap();
    }
    pool
}

fn task(id: &str, group: &str, cpus: f64) -> offerpack::TaskBuilder {
    TaskSpec::builder(id, group).scalar("cpus", cpus).scalar("mem", 128.0)
}

fn engines() -> [Engine; 2] {
    [Strategy::Indexed, Strategy::Scan]
        .map(|strategy| Engine::new(EngineConfig { strategy, ..EngineConfig::default() }).unwrap())
}

fn hard(attr: &str, op: &str, value: Option<&str>) -> Arc<dyn HardConstraint> {
    parse(attr, op, value).unwrap()
}

fn soft(attr: &str, op: &str, value: Option<&str>) -> Arc<dyn SoftConstraint> {
    parse(attr, op, value).unwrap()
}

fn placed_on(plan: &offerpack::Plan, task: &str) -> Option<String> {
    plan.launches.iter().find(|l| l.task_id.as_str() == task).map(|l| l.agent_id.to_string())
}

#[test]
fn engine_binpacks_onto_the_fullest_agent_that_fits() {
    let offers = [agent(1, 8.0, 4096.0, "a"), agent(2, 2.0, 4096.0, "a"), agent(3, 4.0, 4096.0, "a")];
    for engine in engines() {
        let tasks = [task("t1", "g", 1.5).build().unwrap()];
        let plan = engine.plan(&pool(offers.clone()), &tasks, &[], NOW).unwrap();
        assert_eq!(placed_on(&plan, "t1").as_deref(), Some("a2"));
        assert_eq!(plan.declined.iter().map(|o| o.as_str()).collect::<Vec<_>>(), ["o1", "o3"]);
    }
}

#[test]
fn engine_spread_fitness_prefers_the_emptiest_agent() {
    let offers = [agent(1, 8.0, 4096.0, "a"), agent(2, 2.0, 4096.0, "a")];
    let engine = Engine::new(EngineConfig { fitness: Arc::new(Spread), ..EngineConfig::default() }).unwrap();
    let plan = engine.plan(&pool(offers), &[task("t1", "g", 1.0).build().unwrap()], &[], NOW).unwrap();
    assert_eq!(placed_on(&plan, "t1").as_deref(), Some("a1"));
}

#[test]
fn engine_unique_hostname_places_one_task_per_agent_and_explains_the_rest() {
    let unique = hard("hostname", "UNIQUE", None);
    let offers = [agent(1, 8.0, 4096.0, "a"), agent(2, 8.0, 4096.0, "b")];
    for engine in engines() {
        let tasks: Vec<_> =
            (0..3).map(|i| task(&format!("t{i}"), "web", 1.0).hard(unique.clone()).build().unwrap()).collect();
        let plan = engine.plan(&pool(offers.clone()), &tasks, &[], NOW).unwrap();
        assert_eq!(plan.launches.len(), 2);
        assert_ne!(plan.launches[0].agent_id, plan.launches[1].agent_id);
        assert_eq!(plan.unplaced.len(), 1);
        let reasons = &plan.unplaced[0].reasons;
        assert_eq!(reasons.len(), 1);
        assert_eq!(reasons[0].agents, 2);
        assert!(matches!(&reasons[0].reason, Reason::Constraint { index: 0, name } if &**name == "hostname:UNIQUE"));
        assert_eq!(plan.stats.task_classes, 1);
    }
}

#[test]
fn engine_counts_running_tasks_for_constraints() {
    let unique = hard("hostname", "UNIQUE", None);
    let offers = [agent(1, 8.0, 4096.0, "a"), agent(2, 2.0, 4096.0, "b")];
    let running = [RunningTask::new("r1", "web", "a2")];
    for engine in engines() {
        let tasks = [task("t1", "web", 1.0).hard(unique.clone()).build().unwrap()];
        let plan = engine.plan(&pool(offers.clone()), &tasks, &running, NOW).unwrap();
        // a2 is the tighter fit but already runs a task of the group.
        assert_eq!(placed_on(&plan, "t1").as_deref(), Some("a1"));
    }
}

#[test]
fn engine_group_by_zone_spreads_evenly() {
    let spread = hard("zone", "GROUP_BY", Some("3"));
    let offers: Vec<_> = (0..9).map(|i| agent(i, 16.0, 65536.0, ["x", "y", "z"][i % 3])).collect();
    for engine in engines() {
        let tasks: Vec<_> =
            (0..9).map(|i| task(&format!("t{i}"), "g", 1.0).hard(spread.clone()).build().unwrap()).collect();
        let plan = engine.plan(&pool(offers.clone()), &tasks, &[], NOW).unwrap();
        assert_eq!(plan.launches.len(), 9);
        let mut per_zone = [0; 3];
        for l in &plan.launches {
            let i: usize = l.agent_id.as_str()[1..].parse().unwrap();
            per_zone[i % 3] += 1;
        }
        assert_eq!(per_zone, [3, 3, 3]);
    }
}

#[test]
fn engine_soft_group_by_prefers_empty_zones_but_never_blocks() {
    let spread = soft("zone", "GROUP_BY", None);
    let offers = [agent(1, 16.0, 65536.0, "x"), agent(2, 16.0, 65536.0, "y")];
    for engine in engines() {
        let tasks: Vec<_> =
            (0..4).map(|i| task(&format!("t{i}"), "g", 1.0).soft(5.0, spread.clone()).build().unwrap()).collect();
        let plan = engine.plan(&pool(offers.clone()), &tasks, &[], NOW).unwrap();
        let on_a1 = plan.launches.iter().filter(|l| l.agent_id.as_str() == "a1").count();
        assert_eq!((plan.launches.len(), on_a1), (4, 2));
    }
}

#[test]
fn engine_exclusive_group_keeps_other_groups_off_its_agent() {
    let exclusive: Arc<dyn HardConstraint> = Arc::new(Exclusive::new());
    let offers = [agent(1, 8.0, 4096.0, "a"), agent(2, 8.0, 4096.0, "a")];
    for engine in engines() {
        let tasks = [
            task("db", "db", 1.0).hard(exclusive.clone()).priority(10).build().unwrap(),
            task("web", "web", 1.0).build().unwrap(),
        ];
        let plan = engine.plan(&pool(offers.clone()), &tasks, &[], NOW).unwrap();
        assert_eq!(plan.launches.len(), 2);
        assert_ne!(placed_on(&plan, "db"), placed_on(&plan, "web"));
    }
}

#[test]
fn engine_exclusive_task_avoids_agents_with_other_groups() {
    let exclusive: Arc<dyn HardConstraint> = Arc::new(Exclusive::new());
    let offers = [agent(1, 8.0, 4096.0, "a")];
    let running = [RunningTask::new("r", "web", "a1")];
    let tasks = [task("db", "db", 1.0).hard(exclusive).build().unwrap()];
    let plan = engines()[0].plan(&pool(offers), &tasks, &running, NOW).unwrap();
    assert!(plan.launches.is_empty());
    assert!(matches!(plan.unplaced[0].reasons[0].reason, Reason::Constraint { index: 0, .. }));
}

#[test]
fn engine_uses_reserved_resources_first_and_keeps_their_role() {
    let web = Role::new("web");
    let offer = Offer::new("o1", "a1", "h1")
        .with_reserved_scalar("cpus", web.clone(), 1.0)
        .unwrap()
        .with_scalar("cpus", 4.0)
        .unwrap()
        .with_scalar("mem", 1024.0)
        .unwrap();
    let plan = engines()[0].plan(&pool([offer.clone()]), &[task("t", "g", 1.5).build().unwrap()], &[], NOW).unwrap();
    let cpus: Vec<_> = plan.launches[0]
        .resources
        .iter()
        .filter(|a| &*a.name == "cpus")
        .map(|a| (a.role.to_string(), a.amount.to_string()))
        .collect();
    assert_eq!(cpus, [("web".to_string(), "1".to_string()), ("*".to_string(), "0.5".to_string())]);

    // A task that only accepts the reserved role cannot use unreserved cpus.
    let only_web = task("t", "g", 1.5).roles([web]).build().unwrap();
    let plan = engines()[0].plan(&pool([offer]), &[only_web], &[], NOW).unwrap();
    let reason = &plan.unplaced[0].reasons[0].reason;
    assert!(
        matches!(reason, Reason::Shortfall { resource, best_available, .. } if &**resource == "cpus" && best_available.to_string() == "1")
    );
}

#[test]
fn engine_assigns_distinct_ports_and_honours_specific_ports() {
    let offers = [agent(1, 8.0, 4096.0, "a")];
    let tasks = [
        task("t1", "g", 1.0).specific_port(31005).ports(1).build().unwrap(),
        task("t2", "g", 1.0).ports(3).build().unwrap(),
        task("t3", "g", 1.0).specific_port(31005).build().unwrap(),
    ];
    let plan = engines()[0].plan(&pool(offers), &tasks, &[], NOW).unwrap();
    let ports = |id: &str| -> Vec<u16> {
        plan.launches.iter().find(|l| l.task_id.as_str() == id).unwrap().ports.iter().map(|(p, _)| *p).collect()
    };
    assert_eq!(ports("t1"), [31005, 31000]);
    assert_eq!(ports("t2"), [31001, 31002, 31003]);
    assert!(matches!(plan.unplaced[0].reasons[0].reason, Reason::PortTaken { port: 31005 }));
}

#[test]
fn engine_explains_shortfall_with_best_available() {
    let offers = [agent(1, 2.0, 4096.0, "a"), agent(2, 3.0, 4096.0, "a"), agent(3, 8.0, 64.0, "a")];
    let plan = engines()[0].plan(&pool(offers), &[task("big", "g", 4.0).build().unwrap()], &[], NOW).unwrap();
    let reasons = &plan.unplaced[0].reasons;
    assert_eq!(reasons.len(), 2);
    assert!(
        matches!(&reasons[0].reason, Reason::Shortfall { resource, best_available, .. } if &**resource == "cpus" && best_available.to_string() == "3")
    );
    assert_eq!(reasons[0].agents, 2);
    assert!(matches!(&reasons[1].reason, Reason::Shortfall { resource, .. } if &**resource == "mem"));
    assert_eq!(reasons[1].agents, 1);
}

#[test]
fn engine_explains_a_resource_no_agent_offers() {
    let offers = [agent(1, 8.0, 4096.0, "a"), agent(2, 8.0, 4096.0, "b")];
    let fpga = task("fpga", "g", 1.0).scalar("fpgas", 1.0).build().unwrap();
    let small = task("small", "g", 1.0).build().unwrap();
    for engine in engines() {
        let plan = engine.plan(&pool(offers.clone()), &[fpga.clone(), small.clone()], &[], NOW).unwrap();
        assert_eq!(placed_on(&plan, "fpga"), None);
        assert!(placed_on(&plan, "small").is_some(), "an unknown resource must not stand in for another");
        let reasons = &plan.unplaced[0].reasons;
        assert!(
            matches!(&reasons[..], [r] if r.agents == 2 && matches!(&r.reason, Reason::Shortfall { resource, best_available, .. } if &**resource == "fpgas" && best_available.is_zero()))
        );
    }
}

#[test]
fn engine_places_higher_priority_first() {
    let offers = [agent(1, 2.0, 4096.0, "a")];
    let tasks = [task("low", "g", 2.0).build().unwrap(), task("high", "g", 2.0).priority(5).build().unwrap()];
    let plan = engines()[0].plan(&pool(offers), &tasks, &[], NOW).unwrap();
    assert_eq!(placed_on(&plan, "high").as_deref(), Some("a1"));
    assert_eq!(plan.unplaced[0].task_id.as_str(), "low");
}

#[test]
fn engine_skips_expired_offers_and_lists_them() {
    let mut pool = OfferPool::new(Duration::from_secs(10));
    pool.add(agent(1, 8.0, 4096.0, "a"), Duration::ZERO).unwrap();
    pool.add(agent(2, 8.0, 4096.0, "a"), Duration::from_secs(5)).unwrap();
    let engine = &engines()[0];
    let plan =
        engine.schedule(&mut pool, &[task("t", "g", 1.0).build().unwrap()], &[], Duration::from_secs(12)).unwrap();
    assert_eq!(placed_on(&plan, "t").as_deref(), Some("a2"));
    assert_eq!(plan.expired.iter().map(|o| o.as_str()).collect::<Vec<_>>(), ["o1"]);
    assert!(pool.is_empty());
}

#[test]
fn engine_can_hold_unused_offers() {
    let engine = Engine::new(EngineConfig { decline_unused: false, ..EngineConfig::default() }).unwrap();
    let mut pool = pool([agent(1, 8.0, 4096.0, "a"), agent(2, 1.0, 4096.0, "a")]);
    let plan = engine.schedule(&mut pool, &[task("t", "g", 1.0).build().unwrap()], &[], NOW).unwrap();
    assert!(plan.declined.is_empty());
    assert_eq!(pool.len(), 1);
    assert!(pool.get(&"o1".into()).is_some());
}

#[test]
fn engine_rejects_duplicate_task_ids() {
    let tasks = [task("t", "g", 1.0).build().unwrap()];
    let running = [RunningTask::new("t", "g", "a1")];
    let got = engines()[0].plan(&pool([]), &tasks, &running, NOW);
    assert_eq!(got, Err(PlanError::DuplicateTask("t".into())));
}

#[test]
fn engine_with_no_agents_leaves_tasks_unplaced_with_no_reasons() {
    let plan = engines()[0].plan(&pool([]), &[task("t", "g", 1.0).build().unwrap()], &[], NOW).unwrap();
    assert_eq!(plan.unplaced.len(), 1);
    assert_eq!(plan.unplaced[0].agents_considered, 0);
    assert!(plan.unplaced[0].reasons.is_empty());
}

#[test]
fn engine_accepts_closure_constraints() {
    let even_hosts: Arc<dyn HardConstraint> = Arc::new(
        HardFn::new("even-host", |_, agent, _| agent.hostname().ends_with(['0', '2', '4', '6', '8']))
            .with_scope(Scope::Static),
    );
    let offers = [agent(1, 8.0, 4096.0, "a"), agent(2, 8.0, 4096.0, "a"), agent(3, 2.0, 4096.0, "a")];
    for engine in engines() {
        let tasks = [task("t", "g", 1.0).hard(even_hosts.clone()).build().unwrap()];
        let plan = engine.plan(&pool(offers.clone()), &tasks, &[], NOW).unwrap();
        assert_eq!(placed_on(&plan, "t").as_deref(), Some("a2"));
        let accepts = plan.accepts();
        assert_eq!(accepts.len(), 1);
        assert_eq!(accepts[0].offer_ids.iter().map(|o| o.as_str()).collect::<Vec<_>>(), ["o2"]);
    }
}

#[test]
fn engine_combines_several_offers_of_one_agent() {
    let first = Offer::new("o1", "a1", "h1").with_scalar("cpus", 1.0).unwrap().with_scalar("mem", 512.0).unwrap();
    let second = Offer::new("o2", "a1", "h1").with_scalar("cpus", 1.0).unwrap().with_scalar("mem", 512.0).unwrap();
    let plan = engines()[0].plan(&pool([first, second]), &[task("t", "g", 2.0).build().unwrap()], &[], NOW).unwrap();
    assert_eq!(plan.launches.len(), 1);
    assert_eq!(plan.launches[0].offer_ids.iter().map(|o| o.as_str()).collect::<Vec<_>>(), ["o1", "o2"]);
}

#[test]
fn engine_fixed_point_fits_point_one_plus_point_two() {
    let offer = Offer::new("o1", "a1", "h1").with_scalar("cpus", 0.3).unwrap();
    let tasks = [
        TaskSpec::builder("t1", "g").scalar("cpus", 0.1).build().unwrap(),
        TaskSpec::builder("t2", "g").scalar("cpus", 0.2).build().unwrap(),
    ];
    let plan = engines()[0].plan(&pool([offer]), &tasks, &[], NOW).unwrap();
    assert_eq!(plan.launches.len(), 2);
}

#[test]
fn engine_survives_absurd_port_requests() {
    let offers = [agent(1, 8.0, 4096.0, "a")];
    let tasks = [task("t", "g", 1.0).ports(u32::MAX).specific_port(31000).build().unwrap()];
    let plan = engines()[0].plan(&pool(offers), &tasks, &[], NOW).unwrap();
    assert!(plan.launches.is_empty());
    assert!(matches!(plan.unplaced[0].reasons[0].reason, Reason::Ports { asked: u32::MAX, best_available: 10 }));
}
