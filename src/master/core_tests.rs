//! Whole-core scenarios of the simulated master on a virtual clock (no I/O).

use std::time::Duration;

use super::test_sim::Sim;
use super::*;
use crate::mesos::v1::{self, scheduler::call, scheduler::event, scheduler::Call, scheduler::Event, TaskState};

const SECOND: Duration = Duration::from_secs(1);

impl Sim {
    pub(super) fn two_agents() -> Sim {
        let mut config = MasterConfig::default()
            .with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0).with_attribute("rack", "r{i}"));
        config.tasks.jitter = 0.0;
        Sim::new(config)
    }
}

pub(super) struct Fw {
    pub(super) id: String,
    pub(super) stream: StreamKey,
    pub(super) stream_id: String,
}

fn subscribe_call(id: Option<&str>, capabilities: &[v1::framework_info::capability::Type], failover: f64) -> Call {
    let fid = id.map(|v| v1::FrameworkId { value: v.into() });
    let info = v1::FrameworkInfo {
        user: "root".into(),
        name: "test".into(),
        id: fid.clone(),
        failover_timeout: Some(failover),
        capabilities: capabilities.iter().map(|c| v1::framework_info::Capability { r#type: Some(*c as i32) }).collect(),
        ..Default::default()
    };
    Call {
        framework_id: fid,
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe { framework_info: info, suppressed_roles: vec![] }),
        ..Default::default()
    }
}

pub(super) fn subscribe(sim: &mut Sim, id: Option<&str>, failover: f64) -> Fw {
    subscribe_with(sim, subscribe_call(id, &[], failover))
}

fn subscribe_with(sim: &mut Sim, c: Call) -> Fw {
    let CallOutcome::Subscribed { stream, stream_id } = sim.call(c, None) else { panic!("not subscribed") };
    let events = sim.events(stream);
    assert_eq!(events[0].r#type(), event::Type::Subscribed);
    assert_eq!(events[1].r#type(), event::Type::Heartbeat);
    let id = events[0].subscribed.as_ref().unwrap().framework_id.value.clone();
    Fw { id, stream, stream_id }
}

pub(super) fn typed(fw: &Fw, kind: call::Type) -> Call {
    Call {
        framework_id: Some(v1::FrameworkId { value: fw.id.clone() }),
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

pub(super) fn offers(events: &[Event]) -> Vec<v1::Offer> {
    events.iter().filter_map(|e| e.offers.as_ref()).flat_map(|o| o.offers.clone()).collect()
}

pub(super) fn updates(events: &[Event]) -> Vec<v1::TaskStatus> {
    events.iter().filter_map(|e| e.update.as_ref()).map(|u| u.status.clone()).collect()
}

fn launch(fw: &Fw, offer: &v1::Offer, task: &str, cpus: f64) -> Call {
    let resource = v1::Resource {
        name: "cpus".into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value: cpus }),
        ..Default::default()
    };
    let info = v1::TaskInfo {
        name: task.into(),
        task_id: v1::TaskId { value: task.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![resource],
        command: Some(v1::CommandInfo { value: Some("true".into()), ..Default::default() }),
        ..Default::default()
    };
    let op = v1::offer::Operation {
        r#type: Some(v1::offer::operation::Type::Launch as i32),
        launch: Some(v1::offer::operation::Launch { task_infos: vec![info] }),
        ..Default::default()
    };
    let mut c = typed(fw, call::Type::Accept);
    c.accept = Some(call::Accept { offer_ids: vec![offer.id.clone()], operations: vec![op], filters: None });
    c
}

pub(super) fn ack(fw: &Fw, status: &v1::TaskStatus) -> Call {
    let mut c = typed(fw, call::Type::Acknowledge);
    c.acknowledge = Some(call::Acknowledge {
        agent_id: status.agent_id.clone().unwrap(),
        task_id: status.task_id.clone(),
        uuid: status.uuid.clone().unwrap(),
    });
    c
}

#[test]
fn core_subscribe_offers_every_agent_with_attributes() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    assert!(fw.id.starts_with(sim.core.master_id()));
    sim.run_for(Duration::ZERO);
    let offers = offers(&sim.events(fw.stream));
    assert_eq!(offers.len(), 2);
    assert_eq!(offers[1].attributes[0].text.as_ref().unwrap().value, "r2");
    assert_eq!(offers[0].url.as_ref().unwrap().path.as_deref(), Some("/slave(1)"));
    // Heartbeats every 15 s.
    sim.run_for(15 * SECOND);
    assert_eq!(sim.events(fw.stream).iter().filter(|e| e.r#type() == event::Type::Heartbeat).count(), 1);
}

#[test]
fn core_task_life_cycle_waits_for_acknowledgements() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let offer = offers(&sim.events(fw.stream))[0].clone();
    assert_eq!(sim.call(launch(&fw, &offer, "t1", 1.0), Some(&fw.stream_id)), CallOutcome::Accepted);
    sim.run_for(SECOND);
    let first = updates(&sim.events(fw.stream));
    assert_eq!(first.len(), 1, "only the head is sent: {first:?}");
    assert_eq!(first[0].state(), TaskState::TaskStarting);
    assert_eq!(first[0].uuid.as_ref().unwrap().len(), 16);
    // Unacknowledged: re-sent after 10 s with the same uuid, even though RUNNING happened.
    sim.run_for(10 * SECOND);
    let again = updates(&sim.events(fw.stream));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].uuid, first[0].uuid);
    let mut seen = vec![first[0].state()];
    let mut head = again[0].clone();
    for _ in 0..2 {
        sim.call(ack(&fw, &head), Some(&fw.stream_id));
        let next = updates(&sim.events(fw.stream));
        assert_eq!(next.len(), 1);
        head = next[0].clone();
        seen.push(head.state());
    }
    assert_eq!(seen, [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);
    sim.call(ack(&fw, &head), Some(&fw.stream_id));
    // Acknowledged terminal update: the task is forgotten.
    let mut rec = typed(&fw, call::Type::Reconcile);
    rec.reconcile = Some(call::Reconcile::default());
    sim.call(rec, Some(&fw.stream_id));
    assert!(updates(&sim.events(fw.stream)).is_empty());
}

#[test]
fn core_decline_filters_until_refuse_seconds() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let all = offers(&sim.events(fw.stream));
    let mut decline = typed(&fw, call::Type::Decline);
    let filters = Some(v1::Filters { refuse_seconds: Some(30.0) });
    decline.decline = Some(call::Decline { offer_ids: vec![all[0].id.clone()], filters });
    sim.call(decline, Some(&fw.stream_id));
    sim.run_for(29 * SECOND);
    assert!(offers(&sim.events(fw.stream)).is_empty());
    sim.run_for(2 * SECOND);
    let back = offers(&sim.events(fw.stream));
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].agent_id, all[0].agent_id);
    assert_ne!(back[0].id, all[0].id);
}

#[test]
fn core_invalid_offers_and_tasks_get_master_updates() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let all = offers(&sim.events(fw.stream));
    let mut bogus = all[0].clone();
    bogus.id.value = "nope".into();
    sim.call(launch(&fw, &bogus, "t1", 1.0), Some(&fw.stream_id));
    let lost = updates(&sim.events(fw.stream));
    assert_eq!(lost[0].state(), TaskState::TaskLost);
    assert_eq!(lost[0].reason(), v1::task_status::Reason::InvalidOffers);
    assert_eq!(lost[0].source(), v1::task_status::Source::Master);
    assert!(lost[0].uuid.is_none());
    sim.call(launch(&fw, &all[1], "t2", 5.0), Some(&fw.stream_id));
    let error = updates(&sim.events(fw.stream));
    assert_eq!(error[0].state(), TaskState::TaskError);
    assert_eq!(error[0].reason(), v1::task_status::Reason::TaskInvalid);
    // The offer was used: launching on it again is an invalid offer.
    sim.call(launch(&fw, &all[1], "t3", 1.0), Some(&fw.stream_id));
    assert_eq!(updates(&sim.events(fw.stream))[0].reason(), v1::task_status::Reason::InvalidOffers);
}

#[test]
fn core_reconcile_answers_known_and_unknown_tasks() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let offer = offers(&sim.events(fw.stream))[0].clone();
    sim.call(launch(&fw, &offer, "t1", 1.0), Some(&fw.stream_id));
    let mut rec = typed(&fw, call::Type::Reconcile);
    let task = |id: &str| call::reconcile::Task { task_id: v1::TaskId { value: id.into() }, agent_id: None };
    rec.reconcile = Some(call::Reconcile { tasks: vec![task("t1"), task("ghost")] });
    sim.call(rec, Some(&fw.stream_id));
    let answers = updates(&sim.events(fw.stream));
    assert_eq!(answers.len(), 2);
    assert_eq!(answers[0].state(), TaskState::TaskStaging);
    assert_eq!(answers[1].state(), TaskState::TaskLost);
    assert!(answers.iter().all(|s| s.uuid.is_none() && s.reason() == v1::task_status::Reason::Reconciliation));
}

#[test]
fn core_failover_timeout_removes_the_framework() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 60.0);
    sim.run_for(Duration::ZERO);
    sim.core.handle_stream_closed(sim.now, fw.stream);
    sim.drain();
    let revive = || typed(&fw, call::Type::Revive);
    assert!(matches!(sim.call(revive(), Some(&fw.stream_id)), CallOutcome::Rejected { status: 403, .. }));
    // Re-subscribing within the timeout keeps the id.
    let again = subscribe(&mut sim, Some(&fw.id), 60.0);
    assert_eq!(again.id, fw.id);
    assert_ne!(again.stream_id, fw.stream_id);
    sim.core.handle_stream_closed(sim.now, again.stream);
    sim.run_for(61 * SECOND);
    assert!(matches!(sim.call(revive(), Some(&again.stream_id)), CallOutcome::Rejected { status: 400, .. }));
    let CallOutcome::Subscribed { stream, .. } = sim.call(subscribe_call(Some(&fw.id), &[], 0.0), None) else {
        panic!()
    };
    assert_eq!(sim.events(stream)[0].error.as_ref().unwrap().message, "Framework has been removed");
    assert!(sim.closed(stream));
}

#[test]
fn core_resubscribe_fails_over_the_old_stream_and_regenerates_offers() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let old_offers = offers(&sim.events(fw.stream));
    let CallOutcome::Subscribed { stream, .. } = sim.call(subscribe_call(Some(&fw.id), &[], 0.0), None) else {
        panic!()
    };
    let old = sim.events(fw.stream);
    assert_eq!(old.last().unwrap().error.as_ref().unwrap().message, "Framework failed over");
    assert!(sim.closed(fw.stream));
    let new = sim.events(stream);
    let rescinded: Vec<_> = new.iter().filter_map(|e| e.rescind.as_ref()).map(|r| r.offer_id.clone()).collect();
    assert_eq!(rescinded, old_offers.iter().map(|o| o.id.clone()).collect::<Vec<_>>());
    sim.run_for(SECOND);
    assert_eq!(offers(&sim.events(stream)).len(), 2);
}

#[test]
fn core_lost_agent_fails_tasks_and_rescinds_offers() {
    let mut sim = Sim::two_agents();
    let fw =
        subscribe_with(&mut sim, subscribe_call(None, &[v1::framework_info::capability::Type::PartitionAware], 0.0));
    sim.run_for(Duration::ZERO);
    let all = offers(&sim.events(fw.stream));
    sim.call(launch(&fw, &all[0], "t1", 1.0), Some(&fw.stream_id));
    sim.run_for(SECOND);
    assert!(offers(&sim.events(fw.stream)).is_empty(), "the unused part is filtered for 5 s");
    sim.run_for(5 * SECOND);
    let remaining = offers(&sim.events(fw.stream));
    assert_eq!(remaining.len(), 1, "the rest of agent 0 is offered again after the filter");
    assert!(sim.core.handle_lose_agent(sim.now, 0));
    sim.drain();
    let events = sim.events(fw.stream);
    let rescinds: Vec<_> = events.iter().filter_map(|e| e.rescind.as_ref()).map(|r| r.offer_id.clone()).collect();
    let on_agent0: Vec<_> = remaining.iter().filter(|o| o.agent_id == all[0].agent_id).map(|o| o.id.clone()).collect();
    assert_eq!(rescinds, on_agent0);
    let lost: Vec<_> = updates(&events).into_iter().filter(|s| s.uuid.is_none()).collect();
    assert_eq!(lost[0].state(), TaskState::TaskUnreachable);
    assert!(lost[0].unreachable_time.is_some());
    assert_eq!(events.last().unwrap().failure.as_ref().unwrap().agent_id, Some(all[0].agent_id.clone()));
    assert!(!sim.core.handle_lose_agent(sim.now, 0));
}

#[test]
fn core_same_seed_same_run() {
    let run = |seed| {
        let mut config = MasterConfig::default().with_uniform_agents(3, &AgentConfig::new("", 2.0, 1024.0));
        config.seed = seed;
        let mut sim = Sim::new(config);
        let fw = subscribe(&mut sim, None, 0.0);
        sim.run_for(Duration::ZERO);
        let all = offers(&sim.events(fw.stream));
        sim.call(launch(&fw, &all[0], "t", 1.0), Some(&fw.stream_id));
        sim.run_for(20 * SECOND);
        (fw.stream_id, sim.events(fw.stream))
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7).0, run(8).0);
}

#[test]
fn core_offer_timeout_rescinds_and_aggregated_offers_must_share_an_agent() {
    let mut config = MasterConfig::default().with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0));
    config.offer_timeout = Some(30 * SECOND);
    let mut sim = Sim::new(config);
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let all = offers(&sim.events(fw.stream));
    let mut both = launch(&fw, &all[0], "t1", 1.0);
    both.accept.as_mut().unwrap().offer_ids.push(all[1].id.clone());
    sim.call(both, Some(&fw.stream_id));
    let lost = updates(&sim.events(fw.stream));
    assert_eq!(
        lost[0].message(),
        "Task launched with invalid offers: Aggregated offers must belong to one single agent"
    );
    // Both offers were taken back (no filter) and come again, then time out.
    sim.run_for(SECOND);
    let again = offers(&sim.events(fw.stream));
    assert_eq!(again.len(), 2);
    sim.run_for(31 * SECOND);
    let events = sim.events(fw.stream);
    let rescinded: Vec<_> = events.iter().filter_map(|e| e.rescind.as_ref()).map(|r| r.offer_id.clone()).collect();
    assert_eq!(rescinded, again.iter().map(|o| o.id.clone()).collect::<Vec<_>>());
    assert_eq!(offers(&events).len(), 2, "re-offered after the rescind");
}

#[test]
fn core_scheduled_agent_loss_and_kill_of_unknown_task() {
    let mut config = MasterConfig::default().with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0));
    config.faults.lose_agents = vec![(5 * SECOND, 1)];
    let mut sim = Sim::new(config);
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(4 * SECOND);
    assert!(sim.events(fw.stream).iter().all(|e| e.failure.is_none()));
    sim.run_for(2 * SECOND);
    let events = sim.events(fw.stream);
    let failure = events.iter().find_map(|e| e.failure.as_ref()).expect("FAILURE at 5 s");
    assert_eq!(failure.agent_id.as_ref().unwrap().value, sim.core.agent_ids()[1]);
    let mut kill = typed(&fw, call::Type::Kill);
    kill.kill = Some(call::Kill { task_id: v1::TaskId { value: "ghost".into() }, ..Default::default() });
    sim.call(kill, Some(&fw.stream_id));
    let answer = updates(&sim.events(fw.stream));
    assert_eq!((answer[0].state(), answer[0].uuid.is_none()), (TaskState::TaskLost, true));
}

#[test]
fn core_staging_updates_on_request_and_killing_state_with_the_capability() {
    let mut config = MasterConfig::default().with_uniform_agents(1, &AgentConfig::new("", 4.0, 4096.0));
    config.send_staging_updates = true;
    config.tasks.run = None;
    let mut sim = Sim::new(config);
    let caps = [v1::framework_info::capability::Type::TaskKillingState];
    let fw = subscribe_with(&mut sim, subscribe_call(None, &caps, 0.0));
    sim.run_for(Duration::ZERO);
    let offer = offers(&sim.events(fw.stream))[0].clone();
    sim.call(launch(&fw, &offer, "t1", 1.0), Some(&fw.stream_id));
    let mut states = vec![];
    for _ in 0..3 {
        sim.run_for(SECOND);
        let got = updates(&sim.events(fw.stream));
        states.push(got[0].state());
        sim.call(ack(&fw, &got[0]), Some(&fw.stream_id));
    }
    assert_eq!(states, [TaskState::TaskStaging, TaskState::TaskStarting, TaskState::TaskRunning]);
    let mut kill = typed(&fw, call::Type::Kill);
    kill.kill = Some(call::Kill { task_id: v1::TaskId { value: "t1".into() }, ..Default::default() });
    sim.call(kill, Some(&fw.stream_id));
    let killing = updates(&sim.events(fw.stream));
    assert_eq!(killing[0].state(), TaskState::TaskKilling);
    sim.call(ack(&fw, &killing[0]), Some(&fw.stream_id));
    assert_eq!(updates(&sim.events(fw.stream))[0].state(), TaskState::TaskKilled);
}

#[test]
fn core_fail_every_fails_each_kth_launch() {
    let mut config = MasterConfig::default().with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0));
    config.faults.fail_every = std::num::NonZeroU32::new(2);
    config.tasks.run = Some(SECOND);
    config.tasks.jitter = 0.0;
    let mut sim = Sim::new(config);
    let fw = subscribe(&mut sim, None, 0.0);
    let mut ended = std::collections::BTreeMap::new();
    sim.run_for(Duration::ZERO);
    let mut offered = offers(&sim.events(fw.stream));
    for round in [["t1", "t2"], ["t3", "t4"]] {
        assert_eq!(offered.len(), 2, "round {round:?}");
        for (task, offer) in round.iter().zip(offered.drain(..)) {
            assert_eq!(sim.call(launch(&fw, &offer, task, 1.0), Some(&fw.stream_id)), CallOutcome::Accepted);
        }
        // Acknowledge every update until both tasks of the round have ended, keeping new offers.
        for _ in 0..10 {
            sim.run_for(SECOND);
            let events = sim.events(fw.stream);
            offered.extend(offers(&events));
            for status in updates(&events) {
                if matches!(status.state(), TaskState::TaskFinished | TaskState::TaskFailed) {
                    ended.insert(status.task_id.value.clone(), status.state());
                }
                sim.call(ack(&fw, &status), Some(&fw.stream_id));
            }
        }
    }
    let want = [
        ("t1", TaskState::TaskFinished),
        ("t2", TaskState::TaskFailed),
        ("t3", TaskState::TaskFinished),
        ("t4", TaskState::TaskFailed),
    ];
    assert_eq!(ended, want.iter().map(|(t, s)| ((*t).to_owned(), *s)).collect());
}

#[test]
fn core_leader_change_keeps_tasks_and_takes_a_resubscription() {
    let mut config = MasterConfig::default().with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0));
    config.tasks.jitter = 0.0;
    config.task_ledger = true;
    let mut sim = Sim::new(config);
    let fw = subscribe(&mut sim, None, 60.0);
    sim.run_for(Duration::ZERO);
    let before = offers(&sim.events(fw.stream));
    sim.call(launch(&fw, &before[0], "t1", 1.0), Some(&fw.stream_id));
    sim.run_for(SECOND);
    let old_id = sim.core.master_id().to_owned();
    let launched = sim.core.drain_task_ledger();
    assert_eq!(
        launched.iter().map(|e| (e.task_id.as_str(), e.event)).collect::<Vec<_>>(),
        [("t1", LedgerEvent::Launched)]
    );

    sim.core.handle_leader_change(sim.now);
    sim.drain();
    assert!(sim.closed(fw.stream), "the old leader's stream ends");
    assert_ne!(sim.core.master_id(), old_id);
    // The old leader's offer is unknown to the new one: launching on it fails as invalid.
    let again = subscribe(&mut sim, Some(&fw.id), 60.0);
    assert_eq!(again.id, fw.id);
    sim.call(launch(&again, &before[1], "t2", 1.0), Some(&again.stream_id));
    // (t1's launch filtered the rest of agent 0 for 5 s.)
    sim.run_for(6 * SECOND);
    let events = sim.events(again.stream);
    let states: Vec<(String, TaskState)> =
        updates(&events).iter().map(|s| (s.task_id.value.clone(), s.state())).collect();
    assert_eq!(states, [("t2".to_owned(), TaskState::TaskLost)]);
    // Both agents are offered again, agent 0 without t1's cpu.
    let fresh = offers(&events);
    assert_eq!(fresh.len(), 2);
    let cpus = |o: &v1::Offer| o.resources.iter().find(|r| r.name == "cpus").and_then(|r| r.scalar).map(|s| s.value);
    let on_first = fresh.iter().find(|o| o.agent_id == before[0].agent_id).and_then(cpus);
    assert_eq!(on_first, Some(3.0));
    // t1's unacknowledged update is re-sent to the new subscription, and t1 runs to its end.
    sim.run_for(30 * SECOND);
    let resent = updates(&sim.events(again.stream));
    assert!(resent.iter().any(|s| s.task_id.value == "t1" && s.uuid.is_some()), "{resent:?}");
    let ended = sim.core.drain_task_ledger();
    assert_eq!(
        ended.iter().map(|e| (e.task_id.as_str(), e.event)).collect::<Vec<_>>(),
        [("t1", LedgerEvent::Ended(TaskState::TaskFinished))]
    );
}

#[test]
fn core_task_ledger_records_lost_and_dropped_tasks_and_is_off_by_default() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let all = offers(&sim.events(fw.stream));
    sim.call(launch(&fw, &all[0], "t1", 1.0), Some(&fw.stream_id));
    assert!(sim.core.drain_task_ledger().is_empty());

    let mut config = MasterConfig::default().with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0));
    config.task_ledger = true;
    let mut sim = Sim::new(config);
    let fw = subscribe(&mut sim, None, 0.0);
    sim.run_for(Duration::ZERO);
    let all = offers(&sim.events(fw.stream));
    sim.call(launch(&fw, &all[0], "lost", 1.0), Some(&fw.stream_id));
    sim.call(launch(&fw, &all[1], "dropped", 1.0), Some(&fw.stream_id));
    assert!(sim.core.handle_lose_agent(sim.now, 0));
    sim.call(typed(&fw, call::Type::Teardown), Some(&fw.stream_id));
    let lines: Vec<_> = sim.core.drain_task_ledger().into_iter().map(|e| (e.task_id, e.event)).collect();
    assert_eq!(
        lines,
        [
            ("lost".to_owned(), LedgerEvent::Launched),
            ("dropped".to_owned(), LedgerEvent::Launched),
            ("lost".to_owned(), LedgerEvent::Ended(TaskState::TaskLost)),
            ("dropped".to_owned(), LedgerEvent::Ended(TaskState::TaskKilled)),
        ]
    );
}

/// Re-subscribes `fw`; the new stream and the updates sent with the subscription.
fn resubscribe(sim: &mut Sim, fw: &Fw) -> (Fw, Vec<TaskState>) {
    let CallOutcome::Subscribed { stream, stream_id } = sim.call(subscribe_call(Some(&fw.id), &[], 60.0), None) else {
        panic!("not subscribed")
    };
    let states = updates(&sim.events(stream)).iter().map(v1::TaskStatus::state).collect();
    (Fw { id: fw.id.clone(), stream, stream_id }, states)
}

#[test]
fn core_updates_made_while_disconnected_wait_for_the_next_subscription_only_once() {
    let mut sim = Sim::two_agents();
    let fw = subscribe(&mut sim, None, 60.0);
    sim.run_for(Duration::ZERO);
    let offer = offers(&sim.events(fw.stream))[0].clone();
    sim.call(launch(&fw, &offer, "t1", 1.0), Some(&fw.stream_id));
    sim.run_for(SECOND);
    let sent = updates(&sim.events(fw.stream));
    assert_eq!(sent.iter().map(|s| s.state()).collect::<Vec<_>>(), [TaskState::TaskStarting]);
    // Disconnected before acknowledging: STARTING was sent, its retry timer resends it.
    sim.core.handle_stream_closed(sim.now, fw.stream);
    let (again, states) = resubscribe(&mut sim, &fw);
    assert!(states.is_empty(), "sent on the old stream already: {states:?}");
    sim.call(ack(&again, &sent[0]), Some(&again.stream_id));
    let running = updates(&sim.events(again.stream));
    assert_eq!(running.iter().map(|s| s.state()).collect::<Vec<_>>(), [TaskState::TaskRunning]);
    sim.call(ack(&again, &running[0]), Some(&again.stream_id));
    // FINISHED comes while the framework is away: it is sent at the next subscription, once.
    sim.core.handle_stream_closed(sim.now, again.stream);
    sim.run_for(10 * SECOND);
    assert!(updates(&sim.events(again.stream)).is_empty());
    let (third, states) = resubscribe(&mut sim, &fw);
    assert_eq!(states, [TaskState::TaskFinished]);
    sim.core.handle_stream_closed(sim.now, third.stream);
    let (_, states) = resubscribe(&mut sim, &fw);
    assert!(states.is_empty(), "sent already: its retry timer resends it");
}
