//! Whole-session scenarios around offers and launches, on a virtual clock.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use harness::*;
use offerpack::mesos::v1;
use offerpack::mesos::v1::scheduler::Call;
use offerpack::mesos::v1::task_status::Reason;
use offerpack::mesos::v1::TaskState as P;
use offerpack::session::{
    CallId, CallKind, CallOutcome, CommandSpec, PassReport, TaskRequest, TaskState, Update, UriSpec, Warning,
};
use offerpack::TaskSpec;

fn request(id: &str, cpus: f64, ports: u32) -> TaskRequest {
    let spec = TaskSpec::builder(id, "web").scalar("cpus", cpus).scalar("mem", 128.0).ports(ports).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("./serve").uri(UriSpec::new("http://repo/serve.tgz")))
}

fn submit(h: &mut Harness, request: TaskRequest) {
    h.session.submit(request, h.now).unwrap();
    h.drain();
}

#[test]
fn session_launches_one_accept_per_agent_with_copied_resources() {
    let mut h = Harness::subscribed();
    h.advance(MS * 20);
    assert_eq!(h.take(CallKind::Suppress).len(), 1, "idle framework suppresses");
    for id in ["t-1", "t-2", "t-3"] {
        submit(&mut h, request(id, 2.0, 1));
    }
    assert_eq!(h.take(CallKind::Revive).len(), 0, "revive waits for the pass");
    h.advance(MS * 20);
    assert_eq!(h.take(CallKind::Revive).len(), 1);
    let second = offer("o-2", "a-1", 1.0, 512.0);
    h.event(offers(vec![
        offer("o-1", "a-1", 4.0, 1024.0),
        second,
        offer("o-3", "a-2", 4.0, 1024.0),
        offer("o-4", "a-3", 1.0, 64.0),
    ]));
    assert!(h.take(CallKind::Accept).is_empty(), "the pass waits for schedule_delay");
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.len(), 2, "one ACCEPT per agent");
    assert_eq!(offer_ids(&accepts[0]), ["o-1", "o-2"]);
    assert_eq!(launched(&accepts[0]).len() + launched(&accepts[1]).len(), 3);
    let accept = accepts[0].accept.as_ref().unwrap();
    assert_eq!(accept.filters.as_ref().unwrap().refuse_seconds, Some(5.0));
    let task = &accept.operations[0].launch.as_ref().unwrap().task_infos[0];
    assert_eq!(task.agent_id.value, "a-1");
    let names: Vec<(&str, f64)> =
        task.resources.iter().filter_map(|r| Some((r.name.as_str(), r.scalar.as_ref()?.value))).collect();
    assert_eq!(names, [("cpus", 2.0), ("mem", 128.0)]);
    assert!(task.resources.iter().all(|r| r.allocation_info.as_ref().unwrap().role.as_deref() == Some("*")));
    let port = task.resources.iter().find(|r| r.name == "ports").unwrap();
    assert_eq!(port.ranges.as_ref().unwrap().range, [v1::value::Range { begin: 31000, end: 31000 }]);
    let command = task.command.as_ref().unwrap();
    assert_eq!(command.value.as_deref(), Some("./serve"));
    assert_eq!(command.uris[0].value, "http://repo/serve.tgz");
    let env = &command.environment.as_ref().unwrap().variables[0];
    assert_eq!((env.name.as_str(), env.value.as_deref()), ("PORT0", Some("31000")));
    let declines = h.take(CallKind::Decline);
    assert_eq!(declines.iter().flat_map(offer_ids).collect::<Vec<_>>(), ["o-4"]);
    for id in ["t-1", "t-2", "t-3"] {
        assert_eq!(h.states(id), [TaskState::Pending, TaskState::Launched]);
    }
    let reports: Vec<&PassReport> =
        h.updates.iter().filter_map(|u| if let Update::Pass(r) = u { Some(r) } else { None }).collect();
    let last = reports.last().expect("the pass reports what it did");
    assert_eq!((last.stats.tasks_placed, last.stats.agents_used), (3, 2));
    assert_eq!((last.accept_calls, last.offers_accepted, last.offers_declined), (2, 3, 1));
}

#[test]
fn session_sends_task_labels() {
    let mut h = Harness::subscribed();
    submit(&mut h, request("t-1", 1.0, 0).label("team", "search").label("tier", "1"));
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    let task = &accepts[0].accept.as_ref().unwrap().operations[0].launch.as_ref().unwrap().task_infos[0];
    let labels: Vec<(&str, Option<&str>)> =
        task.labels.as_ref().unwrap().labels.iter().map(|l| (l.key.as_str(), l.value.as_deref())).collect();
    // The user's labels in order, then the group, which a scheduler taking over reads back.
    assert_eq!(labels, [("team", Some("search")), ("tier", Some("1")), ("offerpack.group", Some("web"))]);
}

#[test]
fn session_uses_reserved_resources_with_their_reservation() {
    let mut h = Harness::subscribed();
    let spec = TaskSpec::builder("t-1", "web").scalar("cpus", 1.5).build().unwrap();
    submit(&mut h, TaskRequest::command(spec, CommandSpec::shell("true")));
    let mut o = offer("o-1", "a-1", 1.0, 64.0);
    let mut extra = scalar("cpus", 1.0);
    extra.reservations = vec![v1::resource::ReservationInfo { role: Some("web".into()), ..Default::default() }];
    o.resources.push(extra);
    h.event(offers(vec![o]));
    h.advance(MS * 10);
    let accept = h.take(CallKind::Accept).pop().expect("accept");
    let task = &accept.accept.unwrap().operations[0].launch.as_ref().unwrap().task_infos[0].clone();
    let cpus: Vec<(f64, usize)> = task
        .resources
        .iter()
        .filter(|r| r.name == "cpus")
        .map(|r| (r.scalar.as_ref().unwrap().value, r.reservations.len()))
        .collect();
    assert_eq!(cpus, [(1.0, 1), (0.5, 0)], "reserved first, then unreserved");
}

#[test]
fn session_declines_malformed_offers_with_a_warning() {
    let mut h = Harness::subscribed();
    let mut bad = offer("o-bad", "a-1", 1.0, 1.0);
    bad.resources[0].scalar = Some(v1::value::Scalar { value: f64::NAN });
    let mut nameless = offer("", "a-2", 1.0, 1.0);
    nameless.hostname.clear();
    h.event(offers(vec![bad, nameless]));
    let declines = h.take(CallKind::Decline);
    assert_eq!(declines.iter().flat_map(offer_ids).collect::<Vec<_>>(), ["o-bad"]);
    let warnings = h.updates.iter().filter(|u| matches!(u, Update::Warning(Warning::MalformedOffer(_)))).count();
    assert_eq!(warnings, 2);
}

#[test]
fn session_rescind_during_launch_places_task_again_exactly_once() {
    let mut h = Harness::subscribed();
    submit(&mut h, request("t-1", 1.0, 0));
    h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    let first = h.take(CallKind::Accept);
    assert_eq!(launched(&first[0]), ["t-1"]);
    // The offer is rescinded while the launch is in flight, and a new offer arrives before the
    // master's verdict: the task must not be launched a second time.
    h.event(rescind("o-1"));
    h.event(offers(vec![offer("o-2", "a-2", 2.0, 1024.0)]));
    h.advance(MS * 10);
    assert!(h.take(CallKind::Accept).is_empty(), "no second launch while one is in flight");
    assert_eq!(h.take(CallKind::Decline).iter().flat_map(offer_ids).collect::<Vec<_>>(), ["o-2"]);
    h.event(master_update("t-1", P::TaskLost, Reason::InvalidOffers));
    assert!(h.take(CallKind::Acknowledge).is_empty(), "master updates without uuid are not acked");
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Pending));
    h.event(offers(vec![offer("o-3", "a-2", 2.0, 1024.0)]));
    h.advance(MS * 10);
    let second = h.take(CallKind::Accept);
    assert_eq!(second.len(), 1);
    assert_eq!((launched(&second[0]), offer_ids(&second[0])), (vec!["t-1".into()], vec!["o-3".into()]));
    h.event(update("t-1", "a-2", P::TaskRunning, Some(1)));
    assert_eq!(
        h.states("t-1"),
        [TaskState::Pending, TaskState::Launched, TaskState::Pending, TaskState::Launched, TaskState::Running]
    );
    let lost = h.updates.iter().any(|u| matches!(u, Update::Task(t) if t.state == TaskState::Lost));
    assert!(!lost, "the task is placed again, not reported lost");
}

#[test]
fn session_dropped_launch_with_invalid_offers_is_pending_again() {
    let mut h = Harness::subscribed();
    submit(&mut h, request("t-1", 1.0, 0));
    h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    h.take(CallKind::Accept);
    h.event(master_update("t-1", P::TaskDropped, Reason::InvalidOffers));
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Pending));
}

#[test]
fn session_task_life_cycle_and_duplicate_updates() {
    let mut h = Harness::subscribed();
    submit(&mut h, request("t-1", 1.0, 0));
    h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    h.take(CallKind::Accept);
    h.event(update("t-1", "a-1", P::TaskStarting, Some(1)));
    h.event(update("t-1", "a-1", P::TaskRunning, Some(2)));
    // The agent re-sends RUNNING until it hears the ack: every copy is acked, reported once.
    h.event(update("t-1", "a-1", P::TaskRunning, Some(2)));
    h.event(update("t-1", "a-1", P::TaskRunning, None));
    h.event(update("t-1", "a-1", P::TaskFinished, Some(3)));
    h.event(update("t-1", "a-1", P::TaskFinished, Some(3)));
    let acks = h.take(CallKind::Acknowledge);
    let uuids: Vec<u8> = acks.iter().map(|c| c.acknowledge.as_ref().unwrap().uuid[0]).collect();
    assert_eq!(uuids, [1, 2, 2, 3, 3]);
    let ack = acks[0].acknowledge.as_ref().unwrap();
    assert_eq!((ack.agent_id.value.as_str(), ack.task_id.value.as_str(), ack.uuid.len()), ("a-1", "t-1", 16));
    assert_eq!(
        h.states("t-1"),
        [TaskState::Pending, TaskState::Launched, TaskState::Starting, TaskState::Running, TaskState::Finished]
    );
    h.advance(MS * 10);
    assert_eq!(h.take(CallKind::Suppress).len(), 1, "nothing left: suppress");
}

#[test]
fn session_launch_not_sent_or_rejected_is_pending_again() {
    let mut h = Harness::subscribed();
    submit(&mut h, request("t-1", 1.0, 0));
    h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    h.answer(CallKind::Accept, CallOutcome::NotSent);
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Pending));
    for (attempt, offer_id) in ["o-2", "o-3", "o-4"].iter().enumerate() {
        h.event(offers(vec![offer(offer_id, "a-1", 2.0, 1024.0)]));
        h.advance(MS * 10);
        let rejected = h.answer(CallKind::Accept, CallOutcome::Rejected { status: 400, message: "bad".into() });
        assert_eq!(rejected.len(), 1, "attempt {attempt}");
    }
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Error), "given up after 3 rejections");
}

#[test]
fn session_uncertain_launch_is_reconciled_then_placed_again() {
    let mut h = Harness::subscribed();
    submit(&mut h, request("t-1", 1.0, 0));
    h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    h.answer(CallKind::Accept, CallOutcome::Unavailable("timeout".into()));
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Launched));
    h.advance(std::time::Duration::from_secs(6));
    let reconcile = h.take(CallKind::Reconcile);
    let asked: Vec<&str> =
        reconcile[0].reconcile.as_ref().unwrap().tasks.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(asked, ["t-1"]);
    h.event(master_update("t-1", P::TaskLost, Reason::Reconciliation));
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Pending));
    // A stale second answer about the old attempt does not touch the new launch.
    h.event(offers(vec![offer("o-2", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    assert_eq!(h.take(CallKind::Accept).len(), 1);
    h.event(master_update("t-1", P::TaskLost, Reason::Reconciliation));
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Launched));
}

/// An ACCEPT the master may not have carried out (no answer, or refused) leaves its offers
/// outstanding at the master, so they are declined without a filter; a DECLINE that did not
/// reach it is sent again; offers of a call never sent need nothing.
#[test]
fn session_declines_the_offers_of_a_failed_accept() {
    let declined_after = |outcome: CallOutcome| -> Vec<(Vec<String>, Option<f64>)> {
        let mut h = Harness::subscribed();
        submit(&mut h, request("t-1", 1.0, 0));
        h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
        h.advance(MS * 10);
        assert_eq!(h.answer(CallKind::Accept, outcome).len(), 1);
        h.take(CallKind::Decline)
            .iter()
            .map(|call| (offer_ids(call), call.decline.as_ref().and_then(|d| d.filters?.refuse_seconds)))
            .collect()
    };
    let unfiltered = [(vec!["o-1".to_owned()], Some(0.0))];
    assert_eq!(declined_after(CallOutcome::Unavailable("503".into())), unfiltered);
    assert_eq!(declined_after(CallOutcome::Rejected { status: 400, message: "bad".into() }), unfiltered);
    assert_eq!(declined_after(CallOutcome::NotSent), []);
}

#[test]
fn session_decline_that_failed_is_sent_again() {
    let mut h = Harness::subscribed();
    h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
    h.advance(std::time::Duration::from_secs(60));
    let first = h.answer(CallKind::Decline, CallOutcome::Unavailable("503".into()));
    assert_eq!(first.iter().map(offer_ids).collect::<Vec<_>>(), [vec!["o-1".to_owned()]]);
    let again = h.answer(CallKind::Decline, CallOutcome::Rejected { status: 400, message: "bad".into() });
    assert_eq!(again.iter().map(offer_ids).collect::<Vec<_>>(), [vec!["o-1".to_owned()]]);
    assert!(h.take(CallKind::Decline).is_empty(), "a refused DECLINE is not repeated");
}

#[test]
fn session_agent_failure_drops_its_offers() {
    let mut h = Harness::new({
        let mut c = config();
        c.schedule_delay = std::time::Duration::from_secs(1);
        c
    });
    h.advance(MS);
    h.open_stream("fw-1");
    submit(&mut h, request("t-1", 1.0, 0));
    h.event(offers(vec![offer("o-1", "a-1", 8.0, 1024.0), offer("o-2", "a-2", 1.0, 1024.0)]));
    h.event(failure("a-1"));
    assert!(h.updates.iter().any(|u| matches!(u, Update::AgentLost { agent_id } if agent_id.as_str() == "a-1")));
    assert_eq!(h.session.offers_held(), 1);
    h.advance(std::time::Duration::from_secs(1));
    let accept = h.take(CallKind::Accept);
    assert_eq!(offer_ids(&accept[0]), ["o-2"]);
}

#[test]
fn session_kill_sends_kill_with_agent_and_reports_master_verdict() {
    let mut h = Harness::subscribed();
    submit(&mut h, request("t-1", 1.0, 0));
    h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    h.take(CallKind::Accept);
    h.event(update("t-1", "a-1", P::TaskRunning, Some(1)));
    h.session.kill(&"t-1".into(), h.now).unwrap();
    h.drain();
    let kill = h.take(CallKind::Kill).pop().unwrap().kill.unwrap();
    assert_eq!((kill.task_id.value.as_str(), kill.agent_id.unwrap().value.as_str()), ("t-1", "a-1"));
    h.event(update("t-1", "a-1", P::TaskKilled, Some(2)));
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Killed));
}

/// A kill asked for while the launch is on its way may reach the master before the task does
/// (a retried ACCEPT can be overtaken): the KILL is sent again once the task reports running,
/// and not after it ended.
#[test]
fn session_kill_during_launch_is_sent_again_when_the_task_runs() {
    let mut h = Harness::subscribed();
    submit(&mut h, request("t-1", 1.0, 0));
    h.event(offers(vec![offer("o-1", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    let accept: Vec<(CallId, Call)> = h.calls.drain(..).collect();
    h.session.kill(&"t-1".into(), h.now).unwrap();
    h.drain();
    assert_eq!(h.take(CallKind::Kill).len(), 1, "asked at once");
    for (id, _) in accept {
        h.session.handle_call_result(id, CallOutcome::Accepted, h.now);
    }
    h.drain();
    h.event(update("t-1", "a-1", P::TaskStarting, Some(1)));
    h.event(update("t-1", "a-1", P::TaskRunning, Some(2)));
    let kills = h.take(CallKind::Kill);
    assert_eq!(kills.len(), 2, "asked again at each state it reports while alive");
    assert!(kills.iter().all(|k| k.kill.as_ref().unwrap().task_id.value == "t-1"));
    h.event(update("t-1", "a-1", P::TaskKilled, Some(3)));
    assert!(h.take(CallKind::Kill).is_empty());
    assert_eq!(h.session.task_state(&"t-1".into()), Some(TaskState::Killed));
}

fn executor_request(id: &str) -> TaskRequest {
    use offerpack::session::ExecutorSpec;
    use offerpack::Quantity;
    let spec = TaskSpec::builder(id, "web").scalar("cpus", 1.0).scalar("mem", 128.0).build().unwrap();
    let command =
        CommandSpec::shell("./offerpack executor").uri(UriSpec::new("http://10.0.0.5:8080/offerpack").executable());
    let executor = ExecutorSpec::new("web-executor", command)
        .resource("cpus", Quantity::new(1.0).unwrap())
        .resource("mem", Quantity::new(64.0).unwrap());
    TaskRequest::executor(spec, executor)
}

fn scalars(resources: &[v1::Resource]) -> Vec<(&str, f64)> {
    resources.iter().filter_map(|r| Some((r.name.as_str(), r.scalar.as_ref()?.value))).collect()
}

#[test]
fn session_charges_an_executor_once_and_repeats_its_info() {
    let mut h = Harness::subscribed();
    for id in ["t-1", "t-2", "t-3"] {
        submit(&mut h, executor_request(id));
    }
    h.advance(MS * 20);
    // 1 (executor) + 3 × 1 (tasks) = 4 cpus: every task fits only with the executor charged once.
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.len(), 1);
    let infos = &accepts[0].accept.as_ref().unwrap().operations[0].launch.as_ref().unwrap().task_infos;
    assert_eq!(infos.len(), 3);
    let executors: Vec<&v1::ExecutorInfo> = infos.iter().map(|t| t.executor.as_ref().unwrap()).collect();
    assert_eq!(scalars(&executors[0].resources), [("cpus", 1.0), ("mem", 64.0)]);
    assert!(executors.iter().all(|e| *e == executors[0]), "a running executor's info is repeated as is");
    assert!(infos.iter().all(|t| t.command.is_none() && scalars(&t.resources) == [("cpus", 1.0), ("mem", 128.0)]));
    // After the tasks end the executor may still run: a new task names the same ExecutorInfo.
    for (i, id) in ["t-1", "t-2", "t-3"].iter().enumerate() {
        h.event(update(id, "a-1", P::TaskFinished, Some(i as u8 + 1)));
    }
    submit(&mut h, executor_request("t-4"));
    h.advance(MS * 20);
    h.event(offers(vec![offer("o-2", "a-1", 2.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    let info = &accepts[0].accept.as_ref().unwrap().operations[0].launch.as_ref().unwrap().task_infos[0];
    assert_eq!(info.executor.as_ref(), Some(executors[0]));
}
