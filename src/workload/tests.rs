//! Parsing edge cases: each validation error names its place.

use std::sync::Arc;

use super::{Problem, Workload, WorkloadError, DEFAULT_HOLD};
use crate::model::{ModelError, ResourceValue};
use crate::plugins::constraints::ConstraintError;
use crate::resources::QuantityError;

const OFFER: &str = r#"{"id": "o1", "agent_id": "a1", "hostname": "h1",
    "resources": {"cpus": 4, "mem": 4096, "ports": [[31000, 31009]]}}"#;

/// A workload with one offer and the given tasks (JSON array body).
fn with_tasks(tasks: &str) -> Result<Workload, WorkloadError> {
    Workload::from_json(&format!(r#"{{"offers": [{OFFER}], "tasks": [{tasks}]}}"#))
}

fn task(extra: &str) -> String {
    format!(r#"{{"id": "t1", "group": "g", "resources": {{"cpus": 1}}{extra}}}"#)
}

fn invalid(result: Result<Workload, WorkloadError>) -> (String, Problem) {
    match result {
        Err(WorkloadError::Invalid { place, problem }) => (place, problem),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn json_error(result: Result<Workload, WorkloadError>) -> (String, bool) {
    match result {
        Err(e @ WorkloadError::Json { syntax, line, .. }) => {
            assert!(line >= 1);
            (e.to_string(), syntax)
        }
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn workload_minimal_gets_defaults() {
    let w = with_tasks(&task("")).unwrap();
    assert_eq!(w.hold, DEFAULT_HOLD);
    assert_eq!(w.fitness.name(), "cpu_mem_binpack");
    assert_eq!(w.pool.len(), 1);
    assert_eq!(w.fresh_pool().len(), 1);
    assert_eq!(w.tasks[0].ask("cpus").to_string(), "1");
    let empty = Workload::from_json("{}").unwrap();
    assert!(empty.tasks.is_empty() && empty.offers.is_empty());
}

#[test]
fn workload_reads_every_field() {
    let text = r#"{"offers": [{"id": "o1", "agent_id": "a1", "hostname": "h1",
            "resources": {"cpus": 4, "gpus": 1}, "reserved": {"web": {"cpus": 2, "ports": [[80, 80]]}},
            "attributes": {"zone": "a", "gen": 3}}],
        "tasks": [{"id": "t1", "group": "g", "resources": {"cpus": 1, "gpus": 0},
            "ports": {"count": 1, "specific": [80]}, "roles": ["web", "*"], "priority": 5,
            "constraints": [["zone", "cluster", "a"]], "soft_constraints": [["zone", "GROUP_BY", 3, 2.5]]}],
        "running": [{"id": "r1", "group": "g", "agent_id": "a9", "resources": {"mem": 10},
            "hostname": "h9", "attributes": {"zone": "b"}}],
        "fitness": {"cpu_mem_binpack": 3, "balanced": 1}, "hold_seconds": 5}"#;
    let w = Workload::from_json(text).unwrap();
    let offer = &w.offers[0];
    assert_eq!(offer.scalar("cpus").to_string(), "6");
    let reserved = offer.resources.iter().filter(|r| r.role.as_str() == "web").count();
    assert_eq!(reserved, 2);
    assert!(matches!(offer.resources.last().unwrap().value, ResourceValue::Ports(_)));
    assert_eq!(offer.attributes.get("gen").unwrap().as_scalar(), Some(3.0));
    let t = &w.tasks[0];
    assert_eq!((t.ports.count, t.ports.specific.as_slice(), t.priority), (1, &[80u16][..], 5));
    assert_eq!(t.roles.as_ref().unwrap().len(), 2);
    assert_eq!(t.resources.len(), 1, "zero asks are dropped");
    assert_eq!(crate::plugins::HardConstraint::name(&*t.hard[0]), "zone:CLUSTER:a");
    assert_eq!(t.soft[0].weight, 2.5);
    assert_eq!(crate::plugins::SoftConstraint::name(&*t.soft[0].constraint), "zone:GROUP_BY:3");
    assert_eq!(w.running[0].host.as_ref().unwrap().0.as_ref(), "h9");
    assert_eq!(w.fitness.name(), "3*cpu_mem_binpack+1*balanced");
    assert_eq!(w.hold, std::time::Duration::from_secs(5));
}

#[test]
fn workload_interns_identical_constraints() {
    let t = |id: &str, op: &str| {
        format!(
            r#"{{"id": "{id}", "group": "g", "constraints": [["hostname", "{op}"]],
                "soft_constraints": [["zone", "GROUP_BY", "3"]]}}"#
        )
    };
    let w = with_tasks(&[t("t1", "UNIQUE"), t("t2", "unique"), t("t3", "UNIQUE")].join(",")).unwrap();
    let hard: Vec<_> = w.tasks.iter().map(|t| Arc::as_ptr(&t.hard[0]) as *const ()).collect();
    assert!(hard.iter().all(|p| *p == hard[0]));
    let soft: Vec<_> = w.tasks.iter().map(|t| Arc::as_ptr(&t.soft[0].constraint) as *const ()).collect();
    assert!(soft.iter().all(|p| *p == soft[0]));
}

#[test]
fn workload_malformed_json_has_line_and_column() {
    let (msg, syntax) = json_error(Workload::from_json("{\"offers\": [\n  {\"id\": }]}"));
    assert!(syntax);
    assert!(msg.starts_with("malformed JSON") && msg.contains("line 2"), "{msg}");
    let (msg, syntax) = json_error(Workload::from_json(""));
    assert!(syntax, "{msg}");
}

#[test]
fn workload_rejects_unknown_fields_and_wrong_types() {
    let (msg, syntax) = json_error(with_tasks(&task(r#", "colour": "red""#)));
    assert!(!syntax && msg.contains("colour"), "{msg}");
    let (msg, _) = json_error(Workload::from_json(r#"{"offer": []}"#));
    assert!(msg.contains("offer"), "{msg}");
    let (msg, _) = json_error(with_tasks(r#"{"id": "t1", "group": "g", "resources": {"cpus": "NaN"}}"#));
    assert!(msg.contains("NaN") && msg.contains(" line "), "{msg}");
    let (msg, _) = json_error(with_tasks(r#"{"id": "t1", "group": "g", "resources": {"cpus": 1e400}}"#));
    assert!(msg.contains("out of range"), "{msg}");
    let (msg, _) = json_error(with_tasks(r#"{"id": "t1", "group": "g", "resources": {"cpus": 1, "cpus": 2}}"#));
    assert!(msg.contains("twice"), "{msg}");
    let (msg, _) = json_error(with_tasks(&task(r#", "constraints": [["a", "UNIQUE", null, 1, 2]]"#)));
    assert!(msg.contains("length"), "{msg}");
    let (msg, _) = json_error(with_tasks(&task(r#", "ports": {"count": 1, "any": 2}"#)));
    assert!(msg.contains("any"), "{msg}");
    let (msg, _) = json_error(with_tasks(&task(r#", "ports": -1"#)));
    assert!(msg.contains("port count"), "{msg}");
}

#[test]
fn workload_rejects_bad_quantities_with_place() {
    let (place, problem) = invalid(with_tasks(r#"{"id": "t1", "group": "g", "resources": {"cpus": -1}}"#));
    assert_eq!(place, r#"tasks[0] (id "t1"): resources.cpus"#);
    assert_eq!(problem, Problem::Quantity(QuantityError::Negative));
    let text = r#"{"offers": [{"id": "o1", "agent_id": "a", "hostname": "h", "resources": {"mem": 1e300}}]}"#;
    let (place, problem) = invalid(Workload::from_json(text));
    assert_eq!(place, r#"offers[0] (id "o1"): resources.mem"#);
    assert_eq!(problem, Problem::Quantity(QuantityError::OutOfRange));
    let e = with_tasks(r#"{"id": "t4", "group": "g", "resources": {"cpus": -0.5}}"#).unwrap_err();
    assert_eq!(e.to_string(), r#"tasks[0] (id "t4"): resources.cpus: quantity is negative"#);
}

#[test]
fn workload_rejects_duplicate_ids() {
    let text = format!(r#"{{"offers": [{OFFER}, {OFFER}]}}"#);
    let e = Workload::from_json(&text).unwrap_err();
    assert_eq!(e.to_string(), r#"offers[1]: duplicate offer id "o1""#);
    let (place, problem) = invalid(with_tasks(&[task(""), task("")].join(",")));
    assert_eq!(place, "tasks[1]");
    assert!(matches!(problem, Problem::DuplicateTask { first, .. } if first == "tasks[0]"));
    let text = format!(
        r#"{{"offers": [{OFFER}], "tasks": [{}], "running": [{{"id": "t1", "group": "g", "agent_id": "a1"}}]}}"#,
        task("")
    );
    let (place, _) = invalid(Workload::from_json(&text));
    assert_eq!(place, "running[0]");
}

#[test]
fn workload_rejects_resources_no_offer_provides() {
    let (place, problem) = invalid(with_tasks(r#"{"id": "t1", "group": "g", "resources": {"cpu": 1}}"#));
    assert_eq!(place, r#"tasks[0] (id "t1"): resources.cpu"#);
    assert_eq!(problem, Problem::UnknownResource("cpu".into()));
    // Without offers there is nothing to check against.
    assert!(Workload::from_json(r#"{"tasks": [{"id": "t1", "group": "g", "resources": {"cpu": 1}}]}"#).is_ok());
}

#[test]
fn workload_rejects_bad_constraints() {
    let (place, problem) = invalid(with_tasks(&task(r#", "constraints": [["zone", "NEAR"]]"#)));
    assert_eq!(place, r#"tasks[0] (id "t1"): constraints[0]"#);
    assert_eq!(problem, Problem::Constraint(ConstraintError::UnknownOperator("NEAR".into())));
    let (_, problem) = invalid(with_tasks(&task(r#", "constraints": [["zone", "MAX_PER"]]"#)));
    assert!(matches!(problem, Problem::Constraint(ConstraintError::MissingValue(_))));
    let (_, problem) = invalid(with_tasks(&task(r#", "constraints": [["zone", "LIKE", "("]]"#)));
    assert!(matches!(problem, Problem::Constraint(ConstraintError::BadValue { .. })));
    let (_, problem) = invalid(with_tasks(&task(r#", "constraints": [["zone", "UNIQUE", null, 2]]"#)));
    assert_eq!(problem, Problem::HardWeight);
    let (place, problem) = invalid(with_tasks(&task(r#", "soft_constraints": [["zone", "UNIQUE", null, 0]]"#)));
    assert_eq!(place, r#"tasks[0] (id "t1"): soft_constraints[0]"#);
    assert_eq!(problem, Problem::Task(ModelError::BadWeight(0.0)));
}

#[test]
fn workload_rejects_bad_ports() {
    let offer = |ports: &str| {
        Workload::from_json(&format!(
            r#"{{"offers": [{{"id": "o1", "agent_id": "a", "hostname": "h", "resources": {{"ports": {ports}}}}}]}}"#
        ))
    };
    let (place, problem) = invalid(offer("[[1, 2], [32000, 31000]]"));
    assert_eq!(place, r#"offers[0] (id "o1"): resources.ports[1]"#);
    assert_eq!(problem, Problem::BadPortRange { begin: 32000, end: 31000 });
    assert!(offer("[[31000, 70000]]").unwrap_err().to_string().contains("above 65535"));
    assert!(offer("[[0, 65535]]").is_ok());
    let (place, problem) = invalid(with_tasks(&task(r#", "ports": {"specific": [8080, 70000]}"#)));
    assert_eq!(place, r#"tasks[0] (id "t1"): ports.specific[1]"#);
    assert_eq!(problem, Problem::BadPort(70000));
    let (_, problem) = invalid(with_tasks(&task(r#", "ports": {"specific": [8080, 8080]}"#)));
    assert_eq!(problem, Problem::Task(ModelError::DuplicatePort(8080)));
    let (_, problem) = invalid(with_tasks(&task(r#", "ports": 4294967295"#)));
    assert!(matches!(problem, Problem::TooManyPorts(_)));
    let (_, problem) = invalid(with_tasks(r#"{"id": "t1", "group": "g", "resources": {"ports": [[1, 2]]}}"#));
    assert_eq!(problem, Problem::PortsNotScalar);
}

#[test]
fn workload_rejects_bad_fitness_hold_and_roles() {
    let with = |extra: &str| Workload::from_json(&format!(r#"{{"offers": [{OFFER}], {extra}}}"#));
    let (place, problem) = invalid(with(r#""fitness": "best""#));
    assert_eq!(place, "fitness");
    assert!(matches!(problem, Problem::Fitness(_)));
    assert!(matches!(invalid(with(r#""fitness": {}"#)).1, Problem::Fitness(_)));
    assert!(matches!(invalid(with(r#""fitness": {"spread": -1}"#)).1, Problem::Fitness(_)));
    assert!(with(r#""fitness": {"spread": 1}"#).is_ok());
    assert_eq!(invalid(with(r#""hold_seconds": 0"#)).1, Problem::BadHold(0.0));
    assert_eq!(invalid(with(r#""hold_seconds": -3"#)).1, Problem::BadHold(-3.0));
    assert!(json_error(with(r#""hold_seconds": "NaN""#)).0.contains("NaN"));
    let (place, problem) = invalid(with_tasks(&task(r#", "roles": []"#)));
    assert_eq!(place, r#"tasks[0] (id "t1"): roles"#);
    assert_eq!(problem, Problem::Task(ModelError::NoRoles));
    let running = r#""running": [{"id": "r1", "group": "g", "agent_id": "a", "attributes": {"zone": "a"}}]"#;
    assert_eq!(invalid(with(running)).1, Problem::AttributesWithoutHostname);
    let (place, problem) = invalid(with(r#""tasks": [{"id": "", "group": "g"}]"#));
    assert_eq!((place.as_str(), problem), ("tasks[0]: id", Problem::EmptyId));
}

#[test]
fn workload_task_without_group_is_a_group_of_its_own() {
    let w = with_tasks(r#"{"id": "t1", "resources": {"cpus": 1}}"#).unwrap();
    assert_eq!(w.tasks[0].group.as_str(), "t1");
    let w =
        with_tasks(r#"{"id": "t1"}, {"id": "t2"}, {"id": "t3", "group": "g"}, {"id": "t4", "group": "g"}"#).unwrap();
    let groups: Vec<&str> = w.tasks.iter().map(|t| t.group.as_str()).collect();
    assert_eq!(groups, ["t1", "t2", "g", "g"]);
    let text = format!(r#"{{"offers": [{OFFER}], "running": [{{"id": "r1", "agent_id": "a1"}}]}}"#);
    assert_eq!(Workload::from_json(&text).unwrap().running[0].group.as_str(), "r1");
}

#[test]
fn workload_tasks_without_group_do_not_block_each_other_under_unique() {
    let placed = |group: &str| {
        let t = |id: &str| format!(r#"{{"id": "{id}", {group} "constraints": [["hostname", "UNIQUE"]]}}"#);
        let w = with_tasks(&[t("t1"), t("t2")].join(",")).unwrap();
        let engine = crate::Engine::new(crate::EngineConfig::default()).unwrap();
        let plan = engine.plan(&w.pool, &w.tasks, &w.running, std::time::Duration::ZERO).unwrap();
        plan.launches.len()
    };
    assert_eq!(placed(""), 2, "each task alone in its group");
    assert_eq!(placed(r#""group": "g","#), 1, "one group: one task per host");
}

#[test]
fn workload_reads_queue_buckets_tiers_and_task_places() {
    let text = format!(
        r#"{{"offers": [{OFFER}],
        "tasks": [{{"id": "t1", "resources": {{"cpus": 1}}, "tier": 1, "bucket": "batch"}},
                  {{"id": "t2", "resources": {{"cpus": 1}}}},
                  {{"id": "t3", "resources": {{"cpus": 1}}, "bucket": "batch"}}],
        "buckets": {{"batch": {{"weight": 2, "guarantee": {{"cpus": 100}}, "limit": {{"cpus": 500, "mem": 2000000}}}},
                     "web": {{}}}},
        "tiers": [{{"capacity": {{"cpus": 4000}}}}, {{}}]}}"#
    );
    let w = Workload::from_json(&text).unwrap();
    let config = w.queue.as_ref().expect("a queue configuration");
    let batch = &config.buckets["batch"];
    assert_eq!(batch.weight, 2.0);
    assert_eq!(batch.guarantee.amount("cpus").to_string(), "100");
    assert_eq!(batch.limit.amount("mem").to_string(), "2000000");
    assert_eq!(config.buckets["web"], crate::queue::BucketConfig::default());
    assert_eq!(config.tiers.len(), 2);
    assert_eq!(config.tiers[0].capacity.as_ref().unwrap().amount("cpus").to_string(), "4000");
    assert_eq!(config.tiers[1].capacity, None);
    let places: Vec<(u32, &str)> = w.task_queues.iter().map(|p| (p.tier, &*p.bucket)).collect();
    assert_eq!(places, [(1, "batch"), (0, "default"), (0, "batch")]);
    assert!(Arc::ptr_eq(&w.task_queues[0].bucket, &w.task_queues[2].bucket), "bucket names are shared");
}

#[test]
fn workload_without_queue_fields_has_no_queue_config() {
    let w = with_tasks(&task("")).unwrap();
    assert!(w.queue.is_none());
    assert_eq!(w.task_queues.len(), 1);
    assert_eq!((w.task_queues[0].tier, &*w.task_queues[0].bucket), (0, "default"));
    let tiers_only = Workload::from_json(r#"{"tiers": []}"#).unwrap();
    assert!(tiers_only.queue.is_some_and(|q| q.tiers.is_empty() && q.buckets.is_empty()));
}

#[test]
fn workload_rejects_bad_queue_values() {
    use crate::queue::QueueConfigError;
    let doc = |extra: &str| Workload::from_json(&format!(r#"{{"offers": [{OFFER}], {extra}}}"#));
    for weight in ["0", "-1"] {
        let (place, problem) = invalid(doc(&format!(r#""buckets": {{"b": {{"weight": {weight}}}}}"#)));
        assert_eq!(place, "buckets.b: weight");
        assert!(matches!(problem, Problem::Queue(QueueConfigError::BadWeight { .. })), "{problem:?}");
    }
    let (place, problem) = invalid(doc(r#""buckets": {"b": {"guarantee": {"cpus": 5}, "limit": {"cpus": 4}}}"#));
    assert_eq!(place, "buckets.b: guarantee.cpus");
    assert!(matches!(problem, Problem::Queue(QueueConfigError::GuaranteeAboveLimit { .. })));
    let (place, problem) = invalid(doc(r#""buckets": {"b": {"limit": {"ports": [[1, 2]]}}}"#));
    assert_eq!((place.as_str(), problem), ("buckets.b: limit.ports", Problem::PortsNotScalar));
    let (place, problem) = invalid(doc(r#""tiers": [{"capacity": {"cpus": -1}}]"#));
    assert_eq!((place.as_str(), problem), ("tiers[0]: capacity.cpus", Problem::Quantity(QuantityError::Negative)));
    let (place, problem) = invalid(doc(r#""buckets": {"": {}}"#));
    assert_eq!((place.as_str(), problem), ("buckets", Problem::Queue(QueueConfigError::EmptyBucketName)));
    let (place, _) = invalid(with_tasks(&task(r#", "bucket": """#)));
    assert_eq!(place, r#"tasks[0] (id "t1"): bucket"#);
    for bad in [
        r#""buckets": {"b": {"weight": "NaN"}}"#,
        r#""buckets": {"b": {"wieght": 2}}"#,
        r#""buckets": {"b": {}, "b": {}}"#,
        r#""tiers": {"capacity": {}}"#,
        r#""tasks": [{"id": "t", "tier": -1}]"#,
    ] {
        let (message, syntax) = json_error(doc(bad));
        assert!(!syntax, "{bad}: {message}");
    }
}

#[test]
fn workload_gangs_are_read_and_a_partial_gang_is_explained_in_the_plan() {
    let worker = |i: u32| format!(r#"{{"id": "w{i}", "group": "train", "gang": "job", "resources": {{"cpus": 2}}}}"#);
    let w = with_tasks(&[worker(1), worker(2), worker(3), task("")].join(",")).unwrap();
    assert_eq!(w.tasks[0].gang.as_deref(), Some("job"));
    assert_eq!(w.tasks[3].gang, None);
    let engine = crate::Engine::new(crate::EngineConfig::default()).unwrap();
    let plan = engine.plan(&w.pool, &w.tasks, &w.running, std::time::Duration::ZERO).unwrap();
    // Four cpus hold two workers of three: none goes, the lone task does.
    assert_eq!(plan.launches.iter().map(|l| l.task_id.as_str()).collect::<Vec<_>>(), ["t1"]);
    let json = super::output::plan_to_json(&plan, super::output::Timing::default());
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let reasons = &doc["unplaced"][0]["reasons"][0];
    assert_eq!(reasons["reason"], "gang_incomplete");
    assert_eq!((reasons["placed"].as_u64(), reasons["needed"].as_u64()), (Some(2), Some(3)));
}

#[test]
fn workload_preemption_reads_budgets_and_writes_preemptions() {
    let text = r#"{"tasks": [{"id": "urgent", "group": "web", "resources": {"cpus": 2}, "priority": 5}],
        "offers": [{"id": "o1", "agent_id": "a1", "hostname": "h1", "resources": {"cpus": 1}}],
        "running": [{"id": "b1", "group": "low", "agent_id": "a1", "resources": {"cpus": 1}, "priority": 1},
                    {"id": "b2", "group": "low", "agent_id": "a1", "resources": {"cpus": 1}, "priority": 1}],
        "groups": {"low": {"max_unavailable": 0.5}}}"#;
    let w = Workload::from_json(text).unwrap();
    let budgets = w.preemption.as_ref().expect("groups ask for preemption");
    assert_eq!(budgets.get(&"low".into()), Some(crate::preempt::MaxUnavailable::Share(0.5)));
    assert_eq!(w.running[0].priority, 1);
    let engine = crate::Engine::new(crate::EngineConfig::default()).unwrap();
    let input = crate::PreemptionInput::new(budgets);
    let plan = engine.plan_preempting(&w.pool, &w.tasks, &w.running, None, input, std::time::Duration::ZERO).unwrap();
    let json: serde_json::Value = serde_json::from_str(&super::plan_to_json(&plan, super::Timing::default())).unwrap();
    let preemption = &json["preemptions"][0];
    assert_eq!(preemption["task_id"], "urgent");
    assert_eq!(preemption["agent_id"], "a1");
    assert_eq!(preemption["victims"].as_array().unwrap().len(), 1, "half of two may go: one victim");
    assert!(json["launches"].as_array().unwrap().is_empty());
}

#[test]
fn workload_preemption_rejects_a_fractional_count() {
    let text = r#"{"groups": {"low": {"max_unavailable": 1.5}}}"#;
    let err = Workload::from_json(text).unwrap_err().to_string();
    assert!(err.contains("groups.low") && err.contains("1.5"), "{err}");
    let plain = Workload::from_json(r#"{"running": [{"id": "r", "agent_id": "a"}]}"#).unwrap();
    assert!(plain.preemption.is_none(), "no groups, no ranks: no preemption");
}

#[test]
fn workload_reads_task_labels_in_order() {
    let text = r#"{"tasks": [{"id": "a", "labels": {"k2": "v2", "k1": "v1"}}, {"id": "b"}]}"#;
    let w = Workload::from_json(text).unwrap();
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(w.labels, [vec![pair("k2", "v2"), pair("k1", "v1")], vec![]]);
    let repeated = r#"{"tasks": [{"id": "a", "labels": {"k": "1", "k": "2"}}]}"#;
    assert!(Workload::from_json(repeated).is_err(), "a label given twice");
    let number = r#"{"tasks": [{"id": "a", "labels": {"k": 1}}]}"#;
    assert!(Workload::from_json(number).is_err(), "label values are strings");
}
