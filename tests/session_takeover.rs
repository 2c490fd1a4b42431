//! A session taking a framework over: what it asks the operator API, and that it places
//! nothing before it knows where the inherited tasks run.

#[path = "session_support/mod.rs"]
mod harness;

use std::sync::Arc;
use std::time::Duration;

use harness::*;
use offerpack::mesos::v1::TaskState as P;
use offerpack::session::{
    AgentReport, CallKind, CallOutcome, CommandSpec, OperatorQuery, QueryAnswer, TaskReport, TaskRequest, TaskState,
    Update, Warning, MAX_QUERY_ATTEMPTS,
};
use offerpack::{AgentId, AttrValue, Attributes, GroupId, TaskId, TaskSpec};

fn web(id: &str) -> TaskRequest {
    let unique = offerpack::plugins::constraints::parse("zone", "UNIQUE", None).unwrap();
    let spec = TaskSpec::builder(id, "web").scalar("cpus", 1.0).hard(unique).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("true"))
}

fn inherited() -> TaskReport {
    TaskReport {
        id: TaskId::new("old"),
        framework_id: "fw-1".into(),
        agent_id: Some(AgentId::new("a-old")),
        state: Some(TaskState::Running),
        group: Some(GroupId::new("web")),
        claims_agent: false,
        resources: Vec::new(),
    }
}

fn zone(id: &str, z: &str) -> AgentReport {
    let attributes = Attributes::from_pairs([("zone", AttrValue::text(z))]);
    AgentReport { id: AgentId::new(id), hostname: Arc::from(id), attributes, resources: Vec::new() }
}

/// An offer of agent `agent` in zone `z`.
fn zoned_offer(id: &str, agent: &str, z: &str) -> offerpack::mesos::v1::Offer {
    let mut offer = offer(id, agent, 4.0, 4096.0);
    offer.attributes.push(offerpack::mesos::v1::Attribute {
        name: "zone".into(),
        r#type: offerpack::mesos::v1::value::Type::Text as i32,
        text: Some(offerpack::mesos::v1::value::Text { value: z.into() }),
        ..Default::default()
    });
    offer
}

#[test]
fn session_takeover_places_nothing_until_it_knows_where_inherited_tasks_run() {
    let mut h = taking_over();
    assert_eq!(h.queries.iter().map(|(_, q)| *q).collect::<Vec<_>>(), [OperatorQuery::GetTasks]);
    h.session.submit(web("new"), h.now).unwrap();
    h.event(offers(vec![zoned_offer("o-a", "a-1", "a"), zoned_offer("o-b", "a-2", "b")]));
    h.advance(Duration::from_secs(1));
    assert!(h.take(CallKind::Accept).is_empty(), "placed before the inherited tasks were known");
    h.answer_queries(|_| Ok(QueryAnswer::Tasks(vec![inherited()])));
    assert_eq!(h.queries.iter().map(|(_, q)| *q).collect::<Vec<_>>(), [OperatorQuery::GetAgents]);
    h.advance(Duration::from_secs(1));
    assert!(h.take(CallKind::Accept).is_empty(), "placed before the inherited task's agent was known");
    // The inherited task of group web runs in zone a: the new one may only go to zone b.
    h.answer_queries(|_| Ok(QueryAnswer::Agents(vec![zone("a-old", "a"), zone("a-1", "a"), zone("a-2", "b")])));
    h.advance(Duration::from_secs(1));
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.len(), 1);
    assert_eq!(offer_ids(&accepts[0]), ["o-b"]);
    let known = h.session.known_agent(&AgentId::new("a-old")).expect("kept while its task runs");
    assert_eq!(known.attributes.get("zone").unwrap().as_str(), "a");
}

#[test]
fn session_takeover_without_operator_api_counts_unknown_places_everywhere() {
    let mut h = taking_over();
    h.session.submit(web("new"), h.now).unwrap();
    h.event(offers(vec![zoned_offer("o-a", "a-1", "a"), zoned_offer("o-b", "a-2", "b")]));
    // A master without the operator API: the session gives up at once and says so …
    h.answer_queries(|_| Err(CallOutcome::Rejected { status: 404, message: "no such route".into() }));
    assert!(h.updates.iter().any(|u| matches!(u, Update::Warning(Warning::LookupGivenUp(_)))));
    // … then learns of the inherited task by reconciliation, on an agent it never saw, and
    // resubmits it so its group is known: zone:UNIQUE now rejects every zone.
    h.event(update("old", "a-old", P::TaskRunning, Some(1)));
    h.session.submit(web("old"), h.now).unwrap();
    h.advance(Duration::from_secs(1));
    assert!(h.take(CallKind::Accept).is_empty(), "a task of unknown place must count in every zone");
}

#[test]
fn session_takeover_retries_an_unavailable_master_then_gives_up() {
    let mut h = taking_over();
    for attempt in 1..=MAX_QUERY_ATTEMPTS {
        assert_eq!(h.queries.len(), 1, "attempt {attempt} asks once");
        h.answer_queries(|_| Err(CallOutcome::Unavailable("503".into())));
        for _ in 0..10 {
            h.event(heartbeat());
            h.advance(Duration::from_secs(30));
        }
    }
    assert!(h.queries.is_empty());
    assert!(h.updates.iter().any(|u| matches!(u, Update::Warning(Warning::LookupGivenUp(_)))));
}

/// After a failover, a task the earlier scheduler retried runs under its attempt's Mesos id
/// (`web-1.retry-2`). Submitted again under its own id, the task is that running attempt: it
/// is not placed a second time, and the attempt's updates are reported under the task's id.
#[test]
fn session_takeover_maps_a_retried_attempt_to_its_task() {
    let mut h = taking_over();
    let attempt = TaskReport { id: TaskId::new("web-1.retry-2"), agent_id: Some(AgentId::new("a-1")), ..inherited() };
    h.answer_queries(|_| Ok(QueryAnswer::Tasks(vec![attempt.clone()])));
    h.answer_queries(|_| Ok(QueryAnswer::Agents(vec![zone("a-1", "a"), zone("a-2", "b")])));
    h.session.submit(web("web-1"), h.now).unwrap();
    assert_eq!(h.session.task_state(&TaskId::new("web-1")), Some(TaskState::Running), "the running attempt");
    h.event(offers(vec![zoned_offer("o-b", "a-2", "b")]));
    h.advance(Duration::from_secs(1));
    assert!(h.take(CallKind::Accept).is_empty(), "web-1 runs already: not placed again");
    h.event(update("web-1.retry-2", "a-1", P::TaskFinished, Some(1)));
    assert_eq!(h.session.task_state(&TaskId::new("web-1")), Some(TaskState::Finished));
    let acked: Vec<String> =
        h.take(CallKind::Acknowledge).iter().map(|c| c.acknowledge.as_ref().unwrap().task_id.value.clone()).collect();
    assert_eq!(acked, ["web-1.retry-2"], "acknowledged under the attempt's Mesos id");
}
