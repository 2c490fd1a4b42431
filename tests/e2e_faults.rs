//! End to end under faults: the real driver (`Framework::start`) against the real simulated
//! master over loopback HTTP, one scenario per fault knob of the master (cut streams, 307
//! redirects, 503 periods, duplicated updates, lost agents, offer rescinds) plus three faults the
//! proxy of `e2e_support` makes: heartbeat loss (a silenced stream), an ACCEPT held until its
//! offers are rescinded, and an ACCEPT's answer lost with the stream; and a scheduler failover
//! (a second driver taking over the framework id and its running tasks).
//!
//! Every scenario ends with the checks of [`finish_and_check`]: every task FINISHED, no task
//! launched twice while in flight (and launched once more only per launch reported failed),
//! every update with a uuid acknowledged and no update without one, and the master itself has
//! forgotten every task (it forgets a task once its terminal update is acknowledged).
//!
//! Time is real (see `e2e_support` for why); nothing sleeps to synchronise: the tests wait on
//! driver updates or on the proxy's log, with timeouts only as failure bounds.
#![cfg(all(feature = "driver", feature = "master"))]

mod e2e_support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use e2e_support::*;
use offerpack::driver::Encoding;
use offerpack::master::{Redirect, StreamCut, Unavailable};
use offerpack::mesos::v1::scheduler::event;
use offerpack::mesos::v1::scheduler::Call;
use offerpack::mesos::v1::{task_status::Reason, TaskState as P};
use offerpack::session::{CallKind, CallOutcome, TaskState, Update, Warning};

fn any_running(_: &Update, run: &Run) -> bool {
    run.count(TaskState::Running) >= 5
}

/// A stream cut half-way through a record makes the driver re-subscribe with the framework id it
/// got; the framework keeps its tasks and all finish.
#[tokio::test]
async fn e2e_stream_cut_mid_record_resubscribes_with_the_same_framework_id() {
    let cluster = Cluster::start(master_config(5)).await;
    let tasks = task_ids(20);
    let config = framework_config("cut-mid", &[cluster.proxy.url()], Encoding::Json);
    let mut run = Run::start(config, &tasks, 1.0).await;
    run.until(&cluster.log, any_running).await;
    let before = run.subscribed_ids();
    assert_eq!(before.len(), 1);

    cluster.master.set_cut_streams(Some(StreamCut { after_events: 1, mid_record: true })).await;
    let cut = |e: &Entry| matches!(e, Entry::StreamEnd { broken: true, partial: true, by_client: false, .. });
    cluster.log.wait_until("the stream cut mid-record", |log| log.iter().any(cut)).await;
    cluster.master.set_cut_streams(None).await;

    finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, false).await;
    let id = assert_same_framework_id(&cluster.log, &run, 2);
    assert_eq!(id, before[0], "SUBSCRIBED before and after the cut name the same framework");
    assert!(run.history.iter().any(|u| matches!(u, Update::Disconnected { .. })), "the driver saw the cut");
}

/// Every stream (the re-subscriptions' too) is cut after 30 whole records: the driver keeps
/// re-subscribing with its id and the work still completes.
#[tokio::test]
async fn e2e_stream_cut_after_n_events_on_every_stream() {
    let mut config = master_config(5);
    config.faults.cut_streams = Some(StreamCut { after_events: 30, mid_record: false });
    let cluster = Cluster::start(config).await;
    let tasks = task_ids(20);
    let mut run = Run::start(framework_config("cut-n", &[cluster.proxy.url()], Encoding::Protobuf), &tasks, 1.0).await;
    run.finish_all(&cluster.log, &tasks).await;
    // The inspector's stream must not be cut.
    cluster.master.set_cut_streams(None).await;
    let reset_at = cluster.log.snapshot().len();
    finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, false).await;
    assert_same_framework_id(&cluster.log, &run, 3);
    let log = cluster.log.snapshot();
    let mut per_stream: BTreeMap<u64, usize> = BTreeMap::new();
    for entry in &log[..reset_at] {
        if let Entry::Event { stream, .. } = entry {
            *per_stream.entry(*stream).or_default() += 1;
        }
    }
    assert!(per_stream.values().all(|n| *n <= 30), "{per_stream:?}");
    let cut: Vec<u64> = log
        .iter()
        .filter_map(|e| match e {
            Entry::StreamEnd { stream, broken: true, partial: false, .. } => Some(*stream),
            _ => None,
        })
        .collect();
    assert!(cut.len() >= 2, "streams cut: {cut:?}");
    assert!(cut.iter().all(|s| per_stream.get(s) == Some(&30)), "cut after exactly 30: {per_stream:?} {cut:?}");
}

/// A stream that goes silent (the proxy drops its bytes; the connection stays up) is declared
/// dead after 5 heartbeat intervals without an event: the driver re-subscribes with its id.
#[tokio::test]
async fn e2e_heartbeat_loss_reconnects_after_five_intervals() {
    let mut config = master_config(5);
    config.heartbeat_interval = Duration::from_millis(200);
    let cluster = Cluster::start(config).await;
    let tasks = task_ids(20);
    let mut run = Run::start(framework_config("silent", &[cluster.proxy.url()], Encoding::Protobuf), &tasks, 1.0).await;
    run.until(&cluster.log, any_running).await;

    assert_eq!(cluster.proxy.blackhole_open_streams(), 1);
    let subscribes = |log: &[Entry]| calls(log, CallKind::Subscribe).len();
    cluster.log.wait_until("a second SUBSCRIBE", |log| subscribes(log) >= 2).await;
    let log = cluster.log.snapshot();
    let mut last_event = log.iter().filter_map(|e| match e {
        Entry::Event { stream: 0, at, .. } => Some(*at),
        _ => None,
    });
    let last_event = last_event.next_back().expect("events on the first stream");
    let resubscribed = log
        .iter()
        .filter_map(|e| match e {
            Entry::Request { call: Some(c), at, .. } if CallKind::of(c) == CallKind::Subscribe => Some(*at),
            _ => None,
        })
        .nth(1)
        .unwrap();
    let silence = resubscribed.duration_since(last_event);
    // 5 × 200 ms, then the first reconnect backoff (50–100 ms); generous upper slack for CI.
    assert!(silence >= Duration::from_millis(995), "re-subscribed after only {silence:?} of silence");
    assert!(silence < Duration::from_millis(2500), "re-subscribed only after {silence:?} of silence");

    finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, false).await;
    assert_same_framework_id(&cluster.log, &run, 2);
    let reason = run.history.iter().find_map(|u| match u {
        Update::Disconnected { reason } => Some(reason.clone()),
        _ => None,
    });
    assert!(reason.as_deref().is_some_and(|r| r.contains("no event")), "{reason:?}");
}

/// A non-leading master answers 307 with a protocol-relative `Location` naming the leader: the
/// driver follows it, subscribes and calls there; after losing the stream it starts over at the
/// configured master and is redirected again.
#[tokio::test]
async fn e2e_redirect_to_the_leader_is_followed() {
    let log = Recorder::new();
    let leader = offerpack::master::SimMaster::start(master_config(5)).await.unwrap();
    let leader_proxy = Proxy::start("leader", leader.addr(), &log).await;
    let mut follower_config = master_config(0);
    follower_config.faults.redirect = Some(Redirect { leader: leader_proxy.authority(), remaining: None });
    let follower = offerpack::master::SimMaster::start(follower_config).await.unwrap();
    let follower_proxy = Proxy::start("follower", follower.addr(), &log).await;

    let tasks = task_ids(20);
    let config = framework_config("redirected", &[follower_proxy.url()], Encoding::Protobuf);
    let mut run = Run::start(config, &tasks, 1.0).await;
    run.until(&log, |_, r| r.count(TaskState::Finished) >= 5).await;
    // Break the stream at the leader: the driver forgets it and asks the follower again.
    leader.set_cut_streams(Some(StreamCut { after_events: 0, mid_record: false })).await;
    leader.set_cut_streams(None).await;
    finish_and_check(&mut run, &log, &leader.url(), &tasks, false).await;

    assert_same_framework_id(&log, &run, 2);
    let expected_location = format!("//{}/api/v1/scheduler", leader_proxy.authority());
    let entries = log.snapshot();
    let subscribes: Vec<(String, Option<u16>, Option<String>)> =
        calls(&entries, CallKind::Subscribe).into_iter().map(|(p, _, s, l)| (p, s, l)).collect();
    assert!(subscribes.len() >= 4, "{subscribes:?}");
    for pair in subscribes.chunks(2) {
        assert_eq!(pair[0], ("follower".into(), Some(307), Some(expected_location.clone())), "{subscribes:?}");
        assert_eq!((pair[1].0.as_str(), pair[1].1), ("leader", Some(200)), "{subscribes:?}");
    }
    for entry in &entries {
        if let Entry::Request { proxy, call: Some(c), .. } = entry {
            if CallKind::of(c) != CallKind::Subscribe {
                assert_eq!(proxy, "leader", "calls go to the leader: {c:?}");
            }
        }
    }
}

/// 503s at subscription (no leader yet), then for 1.5 s in the middle of the run, starting
/// while an ACCEPT of the second wave is on its way (held by the proxy until the storm is on):
/// the driver retries each call, gives up on that ACCEPT after its retries (its fate is unknown
/// to the session), reconciles its tasks once the master answers again, and places them again.
/// No task is launched twice; all finish.
#[tokio::test]
async fn e2e_503_storm_is_retried_and_reconciled() {
    let mut config = master_config(5);
    config.faults.unavailable = Some((Duration::from_millis(800), Unavailable::NoLeader));
    let cluster = Cluster::start(config).await;
    // Two cpus each: ten run at a time, the other ten are launched as the first ones finish.
    let tasks = task_ids(20);
    let mut run = Run::start(framework_config("storm", &[cluster.proxy.url()], Encoding::Protobuf), &tasks, 2.0).await;
    let answered_accepts = |log: &[Entry]| calls(log, CallKind::Accept).iter().filter(|c| c.2 == Some(202)).count();
    cluster.log.wait_until("the first wave launched", |log| answered_accepts(log) == 5).await;
    cluster.proxy.hold_accepts(true);
    let held = |log: &[Entry]| calls(log, CallKind::Accept).into_iter().find(|c| c.2.is_none()).map(|c| c.1);
    cluster.log.wait_until("a second-wave ACCEPT on its way", |log| held(log).is_some()).await;
    let stormy_accept = cluster.log.with(held).unwrap();
    let stormy_tasks = launched_tasks(&stormy_accept);
    let stormy_offers = stormy_accept.accept.as_ref().map(|a| a.offer_ids.clone()).unwrap_or_default();
    let storm_started = cluster.log.snapshot().len();
    cluster.master.set_unavailable(Some((Duration::from_millis(1500), Unavailable::Recovering))).await;
    cluster.proxy.hold_accepts(false);
    let launches = finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, false).await;
    assert!(launches.values().all(|n| *n == 1), "{launches:?}");

    let log = cluster.log.snapshot();
    let subscribes = calls(&log, CallKind::Subscribe);
    assert!(subscribes.len() >= 2 && subscribes[0].2 == Some(503), "subscription retried after 503");
    assert_eq!(subscribes.last().unwrap().2, Some(200));
    assert_eq!(subscribed_ids(&log).len(), 1, "503s do not break the open stream");
    let refused: Vec<Call> = log[storm_started..]
        .iter()
        .filter_map(|e| match e {
            Entry::Request { call: Some(c), status: Some(503), .. } => Some(c.clone()),
            _ => None,
        })
        .collect();
    let refused_accepts = calls(&log, CallKind::Accept)
        .iter()
        .filter(|c| c.2 == Some(503) && launched_tasks(&c.1) == stormy_tasks)
        .count();
    assert_eq!(refused_accepts, 4, "the ACCEPT was tried once and retried 3 times");
    assert!(refused.iter().any(|c| CallKind::of(c) == CallKind::Acknowledge), "acks met the storm too");
    let gave_up = run.history.iter().any(|u| {
        matches!(
            u,
            Update::Warning(Warning::CallFailed { kind: CallKind::Accept, outcome: CallOutcome::Unavailable(_) })
        )
    });
    assert!(gave_up, "the driver reported the ACCEPT as failed");
    // The master never saw that ACCEPT, so its offers stayed outstanding: they were declined
    // (unfiltered) once the storm was over, not left to hold their agents' resources forever.
    assert!(!stormy_offers.is_empty());
    let settled = calls(&log, CallKind::Decline).into_iter().any(|(_, call, status, _)| {
        let decline = call.decline.unwrap_or_default();
        let unfiltered = decline.filters.and_then(|f| f.refuse_seconds) == Some(0.0);
        status == Some(202) && unfiltered && stormy_offers.iter().all(|o| decline.offer_ids.contains(o))
    });
    assert!(settled, "the failed ACCEPT's offers were declined\n{}", cluster.log.dump());
    // Its tasks were reconciled (the master did not know them) before being placed again.
    for task in &stormy_tasks {
        let answer =
            statuses(&log).into_iter().find(|s| s.task_id.value == *task && s.reason() == Reason::Reconciliation);
        let answer = answer.unwrap_or_else(|| panic!("no reconciliation answer for {task}\n{}", cluster.log.dump()));
        assert_eq!((answer.state(), answer.uuid.is_none()), (P::TaskLost, true), "{answer:?}");
    }
}

/// Offers time out (rescinded) while the ACCEPTs using them are held on their way: the master
/// answers TASK_LOST with REASON_INVALID_OFFERS (no uuid: not acknowledged), the tasks are placed
/// again on new offers, once, and finish.
#[tokio::test]
async fn e2e_rescind_during_launch_places_tasks_again_once() {
    let mut config = master_config(5);
    config.offer_timeout = Some(Duration::from_millis(400));
    let cluster = Cluster::start(config).await;
    cluster.proxy.hold_accepts(true);
    let tasks = task_ids(20);
    let mut run =
        Run::start(framework_config("rescind", &[cluster.proxy.url()], Encoding::Protobuf), &tasks, 1.0).await;

    let held = |log: &[Entry]| {
        calls(log, CallKind::Accept).into_iter().find(|(_, _, status, _)| status.is_none()).map(|(_, c, _, _)| c)
    };
    cluster.log.wait_until("an ACCEPT held", |log| held(log).is_some()).await;
    let accept = cluster.log.with(held).unwrap();
    let offer_ids: BTreeSet<String> =
        accept.accept.as_ref().unwrap().offer_ids.iter().map(|o| o.value.clone()).collect();
    let held_tasks = launched_tasks(&accept);
    assert!(!held_tasks.is_empty());
    let rescinded = |log: &[Entry]| -> BTreeSet<String> {
        events(log, event::Type::Rescind).into_iter().map(|e| e.rescind.unwrap().offer_id.value).collect()
    };
    cluster.log.wait_until("its offers rescinded", |log| rescinded(log).is_superset(&offer_ids)).await;
    cluster.proxy.hold_accepts(false);

    let launches = finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, false).await;
    let log = cluster.log.snapshot();
    for task in &held_tasks {
        assert_eq!(launches[task], 2, "{task}: launched, lost with the rescinded offer, launched again");
        let lost = statuses(&log).into_iter().find(|s| s.task_id.value == *task && s.state() == P::TaskLost);
        let lost = lost.expect("TASK_LOST for the launch on a rescinded offer");
        assert_eq!((lost.reason(), lost.uuid.is_none()), (Reason::InvalidOffers, true), "{lost:?}");
    }
    let pending_again = run.history.iter().any(
        |u| matches!(u, Update::Task(t) if t.state == TaskState::Pending && t.reason == Some("REASON_INVALID_OFFERS")),
    );
    assert!(pending_again, "the driver reported the tasks pending again");
}

/// The master takes an ACCEPT (202) but the answer never reaches the driver: the stream is cut
/// while the answer is held. The launch's fate is unknown to the driver, so it must not place
/// those tasks again blindly: it reconciles them after re-subscribing, learns they run, and
/// they finish having been launched once.
#[tokio::test]
async fn e2e_launch_answer_lost_with_the_stream_is_reconciled_not_relaunched() {
    let cluster = Cluster::start(master_config(5)).await;
    cluster.proxy.hold_accept_answers(true);
    let tasks = task_ids(20);
    let mut run =
        Run::start(framework_config("lost-answer", &[cluster.proxy.url()], Encoding::Json), &tasks, 1.0).await;
    let processed = |log: &[Entry]| calls(log, CallKind::Accept).into_iter().find(|c| c.2 == Some(202)).map(|c| c.1);
    cluster.log.wait_until("an ACCEPT processed by the master", |log| processed(log).is_some()).await;
    let unanswered = launched_tasks(&cluster.log.with(processed).unwrap());
    cluster.master.set_cut_streams(Some(StreamCut { after_events: 0, mid_record: false })).await;
    cluster.master.set_cut_streams(None).await;
    cluster.log.wait_until("the driver re-subscribed", |log| subscribed_ids(log).len() == 2).await;
    cluster.proxy.hold_accept_answers(false);

    let launches = finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, false).await;
    let log = cluster.log.snapshot();
    for task in &unanswered {
        assert_eq!(launches[task], 1, "{task} was launched again although it ran\n{}", cluster.log.dump());
        let asked =
            statuses(&log).into_iter().any(|s| s.task_id.value == *task && s.reason() == Reason::Reconciliation);
        assert!(asked, "{task} was reconciled");
    }
    let gave_up = run.history.iter().any(|u| {
        matches!(
            u,
            Update::Warning(Warning::CallFailed { kind: CallKind::Accept, outcome: CallOutcome::Unavailable(_) })
        )
    });
    assert!(gave_up, "the driver reported the unanswered ACCEPT");
}

/// An agent is lost while tasks run on it: they come back as TASK_LOST (REASON_AGENT_REMOVED,
/// no uuid), the framework submits them again, they run elsewhere and finish.
#[tokio::test]
async fn e2e_agent_lost_tasks_come_back_and_finish() {
    let mut config = master_config(5);
    config.tasks.run = Some(Duration::from_millis(800));
    let cluster = Cluster::start(config).await;
    let tasks = task_ids(20);
    let mut run =
        Run::start(framework_config("agent-lost", &[cluster.proxy.url()], Encoding::Protobuf), &tasks, 1.0).await;
    let running_on = |run: &Run| -> BTreeMap<String, usize> {
        let mut per_agent = BTreeMap::new();
        for u in &run.history {
            if let Update::Task(t) = u {
                if t.state == TaskState::Running && run.states[t.task_id.as_str()] == TaskState::Running {
                    *per_agent.entry(t.agent_id.as_ref().unwrap().as_str().to_owned()).or_default() += 1;
                }
            }
        }
        per_agent
    };
    run.until(&cluster.log, |_, r| running_on(r).values().any(|n| *n >= 2)).await;
    let victim = running_on(&run).into_iter().find(|(_, n)| *n >= 2).unwrap().0;
    let index = cluster.master.agent_ids().iter().position(|a| *a == victim).unwrap();
    assert!(cluster.master.lose_agent(index).await);

    let mut lost = BTreeSet::new();
    while !run.all_finished(&tasks) {
        if let Update::Task(t) = run.next(&cluster.log).await {
            if t.state == TaskState::Lost {
                assert_eq!(t.reason, Some("REASON_AGENT_REMOVED"), "{t:?}");
                assert!(lost.insert(t.task_id.as_str().to_owned()), "lost twice: {t:?}");
                run.handle.submit(task(t.task_id.as_str(), 1.0)).await.expect("submitted again");
            } else {
                assert!(!t.state.is_terminal() || t.state == TaskState::Finished, "{t:?}");
            }
        }
    }
    assert!(lost.len() >= 2, "{lost:?}");
    let launches = finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, false).await;
    assert!(run.history.iter().any(|u| matches!(u, Update::AgentLost { agent_id } if agent_id.as_str() == victim)));
    let log = cluster.log.snapshot();
    for task in &lost {
        assert_eq!(launches[task], 2, "{task}");
        let last_launch = calls(&log, CallKind::Accept)
            .into_iter()
            .rfind(|(_, c, status, _)| *status == Some(202) && launched_tasks(c).contains(task))
            .unwrap();
        let accept = last_launch.1.accept.unwrap();
        let agent = &accept.operations[0].launch.as_ref().unwrap().task_infos[0].agent_id.value;
        assert_ne!(*agent, victim, "{task} placed again on the lost agent");
    }
    for s in statuses(&log).iter().filter(|s| s.state() == P::TaskLost) {
        assert_eq!((s.reason(), s.uuid.is_none()), (Reason::AgentRemoved, true), "{s:?}");
    }
}

/// Every status update is sent twice (same uuid): every copy is acknowledged, exactly once; the
/// answers to implicit reconciliation (every 200 ms here), which carry no uuid, never are.
#[tokio::test]
async fn e2e_duplicate_updates_every_copy_acked_and_none_without_uuid() {
    let mut config = master_config(5);
    config.faults.duplicate_updates = true;
    let cluster = Cluster::start(config).await;
    let tasks = task_ids(20);
    let mut framework = framework_config("dups", &[cluster.proxy.url()], Encoding::Json);
    framework.session.implicit_reconcile = Some(Duration::from_millis(200));
    let mut run = Run::start(framework, &tasks, 1.0).await;
    finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, true).await;

    let log = cluster.log.snapshot();
    let copies = uuid_copies(&log);
    let acked = acks(&log);
    assert_eq!(copies.len(), 20 * 3);
    for (key, n) in &copies {
        assert!(*n >= 2, "{key:?} delivered {n} times");
        assert_eq!(acked.get(key), Some(n), "{key:?}: one ACKNOWLEDGE per copy");
    }
    let without_uuid = statuses(&log).into_iter().filter(|s| s.uuid.is_none()).count();
    assert!(without_uuid > 0, "implicit reconciliation answered");
    assert!(calls(&log, CallKind::Reconcile).len() >= 2);
}

/// The scheduler process is replaced: the first driver stops in failover mode (its tasks keep
/// running), a second one subscribes with the framework id, receives the tasks' updates (the
/// master re-sends those not acknowledged), acknowledges them, and sees every task finish without
/// launching anything itself.
#[tokio::test]
async fn e2e_failover_to_a_new_driver_adopts_the_running_tasks() {
    let mut config = master_config(5);
    config.tasks.run = Some(Duration::from_millis(800));
    let cluster = Cluster::start(config).await;
    let tasks = task_ids(10);
    let framework = || framework_config("failover", &[cluster.proxy.url()], Encoding::Protobuf);
    let mut first = Run::start(framework(), &tasks, 1.0).await;
    first.until(&cluster.log, |_, r| r.count(TaskState::Running) == tasks.len()).await;
    let id = first.subscribed_ids()[0].clone();
    first.stop_failover(&cluster.log).await;
    let handover = cluster.log.snapshot().len();

    let mut second = Run::start(framework().framework_id(id.clone()), &[], 1.0).await;
    let launches = finish_and_check(&mut second, &cluster.log, &cluster.master.url(), &tasks, false).await;
    assert!(launches.values().all(|n| *n == 1), "{launches:?}");
    assert_eq!(second.subscribed_ids(), [id]);
    let log = cluster.log.snapshot();
    assert!(calls(&log[handover..], CallKind::Accept).is_empty(), "the new driver launched nothing");
    let adopted = second.history.iter().all(|u| !matches!(u, Update::Task(t) if t.known));
    assert!(adopted, "the new driver reports the tasks as not its own submissions");
}

/// A leader change (a new master id, every stream ended, outstanding offers forgotten, 503 "No
/// leader elected" for the election's gap): the driver re-subscribes with its framework id to a
/// master with another id, the running tasks keep running (none is launched again), and the
/// work completes.
#[tokio::test]
async fn e2e_leader_change_keeps_running_tasks_and_the_framework_id() {
    let cluster = Cluster::start(master_config(5)).await;
    let tasks = task_ids(20);
    let config = framework_config("leader", &[cluster.proxy.url()], Encoding::Protobuf);
    let mut run = Run::start(config, &tasks, 1.0).await;
    run.until(&cluster.log, any_running).await;

    cluster.master.set_unavailable(Some((Duration::from_millis(300), Unavailable::NoLeader))).await;
    cluster.master.change_leader().await;
    let ended = |e: &Entry| matches!(e, Entry::StreamEnd { by_client: false, .. });
    cluster.log.wait_until("the old leader's stream ended", |log| log.iter().any(ended)).await;

    // (`check_log` inside asserts no task was launched while an attempt of it was in flight.)
    finish_and_check(&mut run, &cluster.log, &cluster.master.url(), &tasks, false).await;
    assert_same_framework_id(&cluster.log, &run, 2);
    let masters: BTreeSet<String> = cluster.log.with(|log| {
        log.iter()
            .filter_map(|e| match e {
                Entry::Event { event, .. } => event.subscribed.as_ref()?.master_info.as_ref().map(|m| m.id.clone()),
                _ => None,
            })
            .collect()
    });
    assert_eq!(masters.len(), 2, "SUBSCRIBED came from two leaders: {masters:?}");
}
