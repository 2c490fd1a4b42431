//! Gangs on the live path, on a virtual clock: a gang on one agent goes out as one
//! LAUNCH_GROUP run by a default executor, a gang over several agents as one LAUNCH_GROUP per
//! agent, a gang that cannot be placed whole launches nothing, a gang with a declared size
//! waits for its last member, and a failed member restarts its whole gang.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use harness::*;
use offerpack::mesos::v1;
use offerpack::mesos::v1::scheduler::Call;
use offerpack::session::{gang_executor_id, CallKind, CommandSpec, RetryPolicy, SubmitError, TaskRequest, TaskState};
use offerpack::TaskSpec;
use std::time::Duration;

/// An offer with disk too (the gang's executor holds some).
fn offer(id: &str, agent: &str, cpus: f64, mem: f64) -> v1::Offer {
    let mut offer = harness::offer(id, agent, cpus, mem);
    offer.resources.push(scalar("disk", 1024.0));
    offer
}

/// A member of a gang of declared `size`.
fn sized(id: &str, gang: &str, size: u32, cpus: f64) -> TaskRequest {
    let spec = TaskSpec::builder(id, "train").scalar("cpus", cpus).scalar("mem", 128.0).gang(gang).gang_size(size);
    TaskRequest::command(spec.build().unwrap(), CommandSpec::shell("./work"))
}

fn member(id: &str, gang: Option<&str>, cpus: f64) -> TaskRequest {
    let spec = TaskSpec::builder(id, "train").scalar("cpus", cpus).scalar("mem", 128.0);
    let spec = match gang {
        Some(g) => spec.gang(g).build().unwrap(),
        None => spec.build().unwrap(),
    };
    TaskRequest::command(spec, CommandSpec::shell("./work"))
}

fn submit_all(h: &mut Harness, requests: Vec<TaskRequest>) {
    for request in requests {
        h.session.submit(request, h.now).unwrap();
    }
    h.drain();
    h.advance(MS * 20);
}

/// The task groups of an ACCEPT: (executor, task ids).
fn groups(call: &Call) -> Vec<(&v1::ExecutorInfo, Vec<&str>)> {
    let ops = call.accept.iter().flat_map(|a| &a.operations);
    ops.filter_map(|op| op.launch_group.as_ref())
        .map(|g| (&g.executor, g.task_group.tasks.iter().map(|t| t.task_id.value.as_str()).collect()))
        .collect()
}

#[test]
fn session_launches_a_gang_on_one_agent_as_one_launch_group() {
    let mut h = Harness::subscribed();
    let mut requests: Vec<TaskRequest> = (0..3).map(|i| member(&format!("w-{i}"), Some("job"), 1.0)).collect();
    requests.push(member("solo", None, 0.5));
    submit_all(&mut h, requests);
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.len(), 1);
    let ops = &accepts[0].accept.as_ref().unwrap().operations;
    assert_eq!(ops.len(), 2, "a LAUNCH for the task outside the gang, a LAUNCH_GROUP for the gang");
    assert_eq!(ops[0].r#type, Some(v1::offer::operation::Type::Launch as i32));
    assert_eq!(launched(&accepts[0]), ["solo"]);
    assert_eq!(ops[1].r#type, Some(v1::offer::operation::Type::LaunchGroup as i32));
    let groups = groups(&accepts[0]);
    let (executor, tasks) = &groups[0];
    assert_eq!(tasks, &["w-0", "w-1", "w-2"]);
    assert_eq!(executor.r#type, Some(v1::executor_info::Type::Default as i32));
    assert_eq!(executor.executor_id.value, gang_executor_id("job"));
    assert!(executor.command.is_none(), "a DEFAULT executor has no command");
    let held: Vec<(&str, f64)> =
        executor.resources.iter().filter_map(|r| Some((r.name.as_str(), r.scalar.as_ref()?.value))).collect();
    assert_eq!(
        held,
        [("cpus", 0.1), ("disk", 16.0), ("mem", 32.0)],
        "the executor's own share, reserved by the engine"
    );
    let group = &ops[1].launch_group.as_ref().unwrap().task_group.tasks;
    assert!(group.iter().all(|t| t.executor.is_none() && t.command.is_some()));
    for id in ["w-0", "w-1", "w-2", "solo"] {
        assert_eq!(h.states(id), [TaskState::Pending, TaskState::Launched], "{id}");
    }
    h.event(update("w-1", "a-1", v1::TaskState::TaskRunning, Some(1)));
    assert_eq!(h.states("w-1").last(), Some(&TaskState::Running));
}

#[test]
fn session_launches_a_gang_over_agents_as_one_launch_group_per_agent() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, (0..2).map(|i| member(&format!("w-{i}"), Some("job"), 3.0)).collect());
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0), offer("o-2", "a-2", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.len(), 2, "one ACCEPT per agent");
    assert!(accepts.iter().all(|a| launched(a).is_empty()), "no plain LAUNCH");
    let mut all = Vec::new();
    for accept in &accepts {
        let groups = groups(accept);
        assert_eq!(groups.len(), 1, "one task group on each agent");
        let (executor, tasks) = &groups[0];
        assert_eq!(executor.executor_id.value, gang_executor_id("job"));
        let disk = executor.resources.iter().find(|r| r.name == "disk").and_then(|r| r.scalar.as_ref());
        assert_eq!(disk.map(|d| d.value), Some(16.0), "the share reserved on each agent is the one its executor holds");
        all.extend(tasks.iter().map(|t| t.to_string()));
    }
    all.sort();
    assert_eq!(all, ["w-0", "w-1"]);
}

#[test]
fn session_launches_nothing_of_a_gang_that_cannot_be_whole() {
    let mut h = Harness::subscribed();
    let mut requests: Vec<TaskRequest> = (0..3).map(|i| member(&format!("w-{i}"), Some("job"), 3.0)).collect();
    requests.push(member("solo", None, 1.0));
    submit_all(&mut h, requests);
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0), offer("o-2", "a-2", 4.0, 1024.0)]));
    h.advance(MS * 10);
    let accepts = h.take(CallKind::Accept);
    assert_eq!(accepts.iter().flat_map(launched).collect::<Vec<_>>(), ["solo"]);
    assert!(accepts.iter().all(|a| groups(a).is_empty()));
    let declined: Vec<String> = h.take(CallKind::Decline).iter().flat_map(offer_ids).collect();
    assert_eq!(declined.len(), 1, "the agent only the gang would have used is declined");
    for id in ["w-0", "w-1", "w-2"] {
        assert_eq!(h.states(id), [TaskState::Pending], "{id} waits for room for the whole gang");
    }
}

#[test]
fn session_places_a_sized_gang_submitted_across_passes_as_one_gang() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, vec![sized("w-0", "job", 3, 1.0), sized("w-1", "job", 3, 1.0)]);
    h.event(offers(vec![offer("o-1", "a-1", 8.0, 4096.0)]));
    h.advance(MS * 50);
    assert!(h.take(CallKind::Accept).is_empty(), "two of three members: nothing launches");
    assert_eq!(h.states("w-0"), [TaskState::Pending]);
    h.session.submit(sized("w-2", "job", 3, 1.0), h.now).unwrap();
    h.drain();
    h.event(offers(vec![offer("o-2", "a-1", 8.0, 4096.0)]));
    h.advance(MS * 50);
    let accepts = h.take(CallKind::Accept);
    let groups: Vec<Vec<&str>> = accepts.iter().flat_map(groups).map(|(_, tasks)| tasks).collect();
    assert_eq!(groups, [vec!["w-0", "w-1", "w-2"]], "one task group with every member");
}

#[test]
fn session_refuses_a_member_whose_size_disagrees_or_overfills_its_gang() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, vec![sized("w-0", "job", 2, 1.0)]);
    let refused = h.session.submit(sized("w-1", "job", 3, 1.0), h.now);
    assert!(matches!(refused, Err(SubmitError::Gang(_))), "{refused:?}");
    let refused = h.session.submit(member("w-1", Some("job"), 1.0), h.now);
    assert!(matches!(refused, Err(SubmitError::Gang(_))), "a member without the size: {refused:?}");
    h.session.submit(sized("w-1", "job", 2, 1.0), h.now).unwrap();
    let refused = h.session.submit(sized("w-2", "job", 2, 1.0), h.now);
    assert!(matches!(refused, Err(SubmitError::Gang(_))), "a third member of a gang of two: {refused:?}");
    h.drain();
    h.event(offers(vec![offer("o-1", "a-1", 8.0, 4096.0)]));
    h.advance(MS * 50);
    let accepts = h.take(CallKind::Accept);
    let groups: Vec<Vec<&str>> = accepts.iter().flat_map(groups).map(|(_, tasks)| tasks).collect();
    assert_eq!(groups, [vec!["w-0", "w-1"]], "the members taken stay and are placed");
}

/// A member of gang `job` retried up to `attempts` times, without backoff jitter.
fn retried(id: &str, attempts: u32) -> TaskRequest {
    let mut request = member(id, Some("job"), 3.0);
    let policy = RetryPolicy::attempts(attempts).with_jitter(0.0);
    request.retry = Some(policy.with_backoff(Duration::from_millis(100), Duration::from_millis(100)));
    request
}

/// The task ids a KILL names.
fn killed(calls: &[v1::scheduler::Call]) -> Vec<String> {
    let mut ids: Vec<String> = calls.iter().filter_map(|c| Some(c.kill.as_ref()?.task_id.value.clone())).collect();
    ids.sort();
    ids
}

#[test]
fn session_restarts_the_whole_gang_when_a_member_fails_and_is_retried() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, (0..3).map(|i| retried(&format!("w-{i}"), 2)).collect());
    let agents = ["a-0", "a-1", "a-2"];
    h.event(offers(agents.iter().enumerate().map(|(i, a)| offer(&format!("o-{i}"), a, 4.0, 1024.0)).collect()));
    h.advance(MS * 10);
    assert_eq!(h.take(CallKind::Accept).len(), 3, "three cpus each: a member per agent");
    for (i, agent) in agents.iter().enumerate() {
        h.event(update(&format!("w-{i}"), agent, v1::TaskState::TaskRunning, Some(i as u8)));
    }
    h.event(update("w-1", "a-1", v1::TaskState::TaskFailed, Some(9)));
    h.drain();
    assert_eq!(killed(&h.take(CallKind::Kill)), ["w-0", "w-2"], "the other members are killed on their agents");
    // Room for the failed member alone: it is not placed while its gang is still dying.
    h.event(offers(vec![offer("o-9", "a-1", 4.0, 1024.0)]));
    h.advance(Duration::from_millis(500));
    assert!(h.take(CallKind::Accept).is_empty(), "no member placed alone");
    h.event(update("w-0", "a-0", v1::TaskState::TaskKilled, Some(10)));
    h.advance(Duration::from_millis(500));
    assert!(h.take(CallKind::Accept).is_empty(), "w-2 still dying");
    h.event(update("w-2", "a-2", v1::TaskState::TaskKilled, Some(11)));
    for id in ["w-0", "w-2"] {
        assert_eq!(h.states(id).last(), Some(&TaskState::Pending), "{id} is placed again, not ended");
    }
    // Their backoff over, every member is ready; offers come again.
    h.advance(Duration::from_millis(500));
    let declined: Vec<String> = h.take(CallKind::Decline).iter().flat_map(offer_ids).collect();
    assert!(declined.contains(&"o-9".to_owned()), "no offer held for a gang that waits: {declined:?}");
    let again = [("o-10", "a-0"), ("o-11", "a-1"), ("o-12", "a-2")];
    h.event(offers(again.iter().map(|(o, a)| offer(o, a, 4.0, 1024.0)).collect()));
    h.advance(Duration::from_millis(500));
    let accepts = h.take(CallKind::Accept);
    let mut relaunched: Vec<String> = accepts.iter().flat_map(groups).flat_map(|(_, t)| t).map(str::to_owned).collect();
    relaunched.sort();
    assert_eq!(relaunched, ["w-0.retry-1", "w-1.retry-1", "w-2.retry-1"], "the whole gang, as a new attempt");
}

#[test]
fn session_kills_the_gang_of_a_member_that_gave_up() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, (0..2).map(|i| retried(&format!("w-{i}"), 1)).collect());
    h.event(offers(vec![offer("o-0", "a-0", 4.0, 1024.0), offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 10);
    assert_eq!(h.take(CallKind::Accept).len(), 2);
    h.event(update("w-0", "a-0", v1::TaskState::TaskRunning, Some(1)));
    h.event(update("w-1", "a-1", v1::TaskState::TaskFailed, Some(2)));
    h.drain();
    assert_eq!(killed(&h.take(CallKind::Kill)), ["w-0"]);
    h.event(update("w-0", "a-0", v1::TaskState::TaskKilled, Some(3)));
    assert_eq!(h.states("w-0").last(), Some(&TaskState::Killed), "not retried: its gang gave up");
}

/// The message of the last update reported for `task`.
fn last_message(h: &Harness, task: &str) -> String {
    let last = h.updates.iter().rev().find_map(|u| match u {
        offerpack::session::Update::Task(t) if t.task_id.as_str() == task => Some(t.message.clone()),
        _ => None,
    });
    last.flatten().unwrap_or_default()
}

/// The attempt of the last update reported for `task`.
fn last_attempt(h: &Harness, task: &str) -> u32 {
    let last = h.updates.iter().rev().find_map(|u| match u {
        offerpack::session::Update::Task(t) if t.task_id.as_str() == task => Some(t.attempt),
        _ => None,
    });
    last.unwrap_or(0)
}

/// Answers the unanswered ACCEPT naming `offer` with `outcome`.
fn answer_accept(h: &mut Harness, offer: &str, outcome: offerpack::session::CallOutcome) {
    let at = h.calls.iter().position(|(_, c)| CallKind::of(c) == CallKind::Accept && offer_ids(c) == [offer]);
    let (id, _) = h.calls.remove(at.expect("an ACCEPT of that offer"));
    h.session.handle_call_result(id, outcome, h.now);
    h.drain();
}

/// Three members of gang `job` (two attempts each) launched one per agent, `w-0` and `w-1`
/// running, `w-2`'s launch not answered yet; then `w-1` fails, which restarts the gang.
/// `w-2`'s ACCEPT is still unanswered when `held` is set.
fn gang_restarting_with_w2_launching(held: bool) -> Harness {
    let mut h = Harness::subscribed();
    submit_all(&mut h, (0..3).map(|i| retried(&format!("w-{i}"), 2)).collect());
    let agents = ["a-0", "a-1", "a-2"];
    h.event(offers(agents.iter().enumerate().map(|(i, a)| offer(&format!("o-{i}"), a, 4.0, 1024.0)).collect()));
    h.advance(MS * 10);
    for o in ["o-0", "o-1"] {
        answer_accept(&mut h, o, offerpack::session::CallOutcome::Accepted);
    }
    if !held {
        answer_accept(&mut h, "o-2", offerpack::session::CallOutcome::Accepted);
    }
    h.event(update("w-0", "a-0", v1::TaskState::TaskRunning, Some(1)));
    h.event(update("w-1", "a-1", v1::TaskState::TaskRunning, Some(2)));
    h.event(update("w-1", "a-1", v1::TaskState::TaskFailed, Some(3)));
    h.drain();
    assert_eq!(killed(&h.take(CallKind::Kill)), ["w-0", "w-2"], "w-2 is killed too, its launch in flight");
    h
}

/// After the restart: `w-0`'s kill ends it, backoffs pass, every agent is offered again; the
/// members launched then, sorted.
fn relaunch_after_restart(h: &mut Harness) -> Vec<String> {
    h.event(update("w-0", "a-0", v1::TaskState::TaskKilled, Some(4)));
    h.advance(Duration::from_millis(500));
    let _ = h.take(CallKind::Decline);
    let again = [("o-10", "a-0"), ("o-11", "a-1"), ("o-12", "a-2")];
    h.event(offers(again.iter().map(|(o, a)| offer(o, a, 4.0, 1024.0)).collect()));
    h.advance(Duration::from_millis(500));
    let accepts = h.take(CallKind::Accept);
    assert!(accepts.iter().all(|a| launched(a).is_empty()), "members go out only in task groups");
    let mut relaunched: Vec<String> = accepts.iter().flat_map(groups).flat_map(|(_, t)| t).map(str::to_owned).collect();
    relaunched.sort();
    relaunched
}

#[test]
fn session_restarts_a_gang_whole_when_a_restarting_members_launch_is_sent_back() {
    // The master answers the launch in flight: its offer was rescinded meanwhile.
    let mut h = gang_restarting_with_w2_launching(false);
    use v1::task_status::Reason;
    h.event(master_update("w-2", v1::TaskState::TaskLost, Reason::InvalidOffers));
    assert_eq!(h.states("w-2").last(), Some(&TaskState::Pending), "w-2 is not lost to the gang");
    assert_eq!(last_attempt(&h, "w-2"), 2, "pending as its next attempt: {}", last_message(&h, "w-2"));
    assert!(last_message(&h, "w-2").contains("gang job restarts"), "{}", last_message(&h, "w-2"));
    let relaunched = relaunch_after_restart(&mut h);
    assert_eq!(relaunched, ["w-0.retry-1", "w-1.retry-1", "w-2.retry-1"], "the whole gang, each member once");
}

#[test]
fn session_restarts_a_gang_whole_when_a_restarting_members_launch_is_refused() {
    // The master refuses the ACCEPT that carried the member (400): it never ran.
    let mut h = gang_restarting_with_w2_launching(true);
    let refused = offerpack::session::CallOutcome::Rejected { status: 400, message: "bad offer".into() };
    answer_accept(&mut h, "o-2", refused);
    assert_eq!(h.states("w-2"), [TaskState::Pending, TaskState::Launched, TaskState::Pending]);
    assert_eq!(last_attempt(&h, "w-2"), 2);
    let relaunched = relaunch_after_restart(&mut h);
    assert_eq!(relaunched, ["w-0.retry-1", "w-1.retry-1", "w-2.retry-1"], "the whole gang, each member once");
}

#[test]
fn session_ends_a_sized_gang_whose_pending_member_is_killed() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, (0..3).map(|i| sized(&format!("w-{i}"), "job", 3, 1.0)).collect());
    h.session.kill(&"w-1".into(), h.now).unwrap();
    h.drain();
    assert_eq!(h.states("w-1"), [TaskState::Pending, TaskState::Killed]);
    for id in ["w-0", "w-2"] {
        assert_eq!(h.states(id), [TaskState::Pending, TaskState::Killed], "{id} ends with its gang");
        assert_eq!(last_message(&h, id), "gang job broken: its member w-1 was killed", "{id}");
    }
    h.event(offers(vec![offer("o-1", "a-1", 8.0, 4096.0)]));
    h.advance(MS * 50);
    assert!(h.take(CallKind::Accept).is_empty(), "no part of the gang is placed");
    // A new gang of the same name starts afresh: it waits for all its members.
    submit_all(&mut h, vec![sized("w-1", "job", 3, 1.0)]);
    h.event(offers(vec![offer("o-2", "a-1", 8.0, 4096.0)]));
    h.advance(MS * 50);
    assert!(h.take(CallKind::Accept).is_empty(), "one member of three: nothing launches");
}

#[test]
fn session_ends_a_sized_gang_whose_running_member_is_killed() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, (0..2).map(|i| sized(&format!("w-{i}"), "job", 2, 3.0)).collect());
    h.event(offers(vec![offer("o-0", "a-0", 4.0, 1024.0), offer("o-1", "a-1", 4.0, 1024.0)]));
    h.advance(MS * 10);
    assert_eq!(h.take(CallKind::Accept).len(), 2);
    h.event(update("w-0", "a-0", v1::TaskState::TaskRunning, Some(1)));
    h.event(update("w-1", "a-1", v1::TaskState::TaskRunning, Some(2)));
    h.session.kill(&"w-1".into(), h.now).unwrap();
    h.drain();
    assert_eq!(killed(&h.take(CallKind::Kill)), ["w-1"]);
    h.event(update("w-1", "a-1", v1::TaskState::TaskKilled, Some(3)));
    assert_eq!(killed(&h.take(CallKind::Kill)), ["w-0"], "the gang cannot be whole again");
    h.event(update("w-0", "a-0", v1::TaskState::TaskKilled, Some(4)));
    assert_eq!(h.states("w-0").last(), Some(&TaskState::Killed));
    assert!(
        last_message(&h, "w-0").starts_with("gang job broken: its member w-1 was killed"),
        "{}",
        last_message(&h, "w-0")
    );
}

#[test]
fn session_keeps_an_unsized_gang_going_when_a_pending_member_is_killed() {
    let mut h = Harness::subscribed();
    submit_all(&mut h, (0..3).map(|i| member(&format!("w-{i}"), Some("job"), 1.0)).collect());
    h.session.kill(&"w-1".into(), h.now).unwrap();
    h.drain();
    h.event(offers(vec![offer("o-1", "a-1", 8.0, 4096.0)]));
    h.advance(MS * 50);
    let accepts = h.take(CallKind::Accept);
    let groups: Vec<Vec<&str>> = accepts.iter().flat_map(groups).map(|(_, tasks)| tasks).collect();
    assert_eq!(groups, [vec!["w-0", "w-2"]], "a gang without a size is the members it has");
}

#[test]
fn session_does_not_place_again_a_restarting_member_the_user_killed() {
    let mut h = gang_restarting_with_w2_launching(false);
    h.session.kill(&"w-0".into(), h.now).unwrap();
    h.drain();
    h.event(update("w-0", "a-0", v1::TaskState::TaskKilled, Some(4)));
    assert_eq!(h.states("w-0").last(), Some(&TaskState::Killed), "the user's kill wins over the restart");
}
