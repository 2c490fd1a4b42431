//! The simulated master over loopback HTTP: subscription in protobuf and JSON, offers, the
//! task life cycle with acknowledgements, filters, reconciliation, failover, teardown.
#![cfg(all(feature = "master", feature = "driver"))]

mod master_support;

use std::time::Duration;

use master_support::*;
use offerpack::master::{DURATION_LABEL, EXIT_LABEL, MESOS_VERSION};
use offerpack::mesos::v1::scheduler::{call, event};
use offerpack::mesos::v1::{self, TaskState};

async fn life_cycle(json: bool) {
    let master = master(2, |_| {}).await;
    let client = Client::new(master.scheduler_url(), json);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    assert!(fw.id.starts_with(master.master_id()));
    let offers = fw.stream.offers().await;
    assert_eq!(offers.len(), 2);
    let offer = &offers[0];
    assert_eq!(offer.hostname, "agent-1");
    assert_eq!(offer.framework_id.value, fw.id);
    fw.launch(offer, "t1", 1.0, &[]).await;
    let mut states = Vec::new();
    loop {
        let status = fw.stream.update().await;
        assert_eq!(status.uuid.as_ref().map(Vec::len), Some(16), "reliable updates carry 16-byte uuids");
        assert_eq!(status.task_id.value, "t1");
        states.push(status.state());
        fw.ack(&status).await;
        if status.state() == TaskState::TaskFinished {
            break;
        }
    }
    assert_eq!(states, [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);
    master.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn master_protobuf_subscribe_offers_and_task_life_cycle() {
    life_cycle(false).await;
}

#[tokio::test(start_paused = true)]
async fn master_json_subscribe_offers_and_task_life_cycle() {
    life_cycle(true).await;
}

#[tokio::test(start_paused = true)]
async fn master_subscribed_carries_master_info_and_heartbeats_follow() {
    let master = master(1, |c| c.heartbeat_interval = Duration::from_secs(5)).await;
    let client = Client::new(master.scheduler_url(), true);
    let mut stream = client.subscribe(&subscribe_call(None, 0.0, &[])).await;
    assert_eq!(stream.stream_id.len(), 36, "a UUID string");
    let subscribed = stream.next().await.unwrap().subscribed.unwrap();
    assert_eq!(subscribed.heartbeat_interval_seconds, Some(5.0));
    let info = subscribed.master_info.unwrap();
    assert_eq!(info.version.as_deref(), Some(MESOS_VERSION));
    assert_eq!(info.port, u32::from(master.addr().port()));
    assert_eq!(info.ip, 16_777_343, "127.0.0.1 as Mesos stores it");
    let start = tokio::time::Instant::now();
    let mut beats = 0;
    while beats < 3 {
        if stream.next().await.unwrap().r#type() == event::Type::Heartbeat {
            beats += 1;
        }
    }
    // The first right after SUBSCRIBED, then every 5 s.
    assert_eq!(start.elapsed().as_secs(), 10);
}

#[tokio::test(start_paused = true)]
async fn master_resends_unacknowledged_update_with_same_uuid() {
    let master = master(1, |c| c.status_update_retry_min = Duration::from_secs(10)).await;
    let client = Client::new(master.scheduler_url(), false);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    let offer = fw.stream.offers().await.remove(0);
    fw.launch(&offer, "t1", 1.0, &[]).await;
    let first = fw.stream.update().await;
    let start = tokio::time::Instant::now();
    let again = fw.stream.update().await;
    assert_eq!(start.elapsed().as_secs(), 10);
    assert_eq!((again.state(), &again.uuid), (TaskState::TaskStarting, &first.uuid));
    // Doubling: the next retry is 20 s later.
    let third = fw.stream.update().await;
    assert_eq!(start.elapsed().as_secs(), 30);
    assert_eq!(third.uuid, first.uuid);
    fw.ack(&third).await;
    assert_eq!(fw.stream.update().await.state(), TaskState::TaskRunning);
}

#[tokio::test(start_paused = true)]
async fn master_decline_filter_and_revive() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    let offer = fw.stream.offers().await.remove(0);
    let mut decline = fw.call(call::Type::Decline);
    decline.decline = Some(call::Decline {
        offer_ids: vec![offer.id.clone()],
        filters: Some(v1::Filters { refuse_seconds: Some(60.0) }),
    });
    fw.send(&decline).await;
    let start = tokio::time::Instant::now();
    let again = fw.stream.offers().await;
    assert_eq!(start.elapsed().as_secs(), 60);
    assert_eq!(again[0].agent_id, offer.agent_id);
    // Decline for an hour, then REVIVE clears the filter at once.
    decline.decline.as_mut().unwrap().offer_ids = vec![again[0].id.clone()];
    decline.decline.as_mut().unwrap().filters = Some(v1::Filters { refuse_seconds: Some(3600.0) });
    fw.send(&decline).await;
    let start = tokio::time::Instant::now();
    fw.send(&fw.call(call::Type::Revive)).await;
    let revived = fw.stream.offers().await.remove(0);
    assert!(start.elapsed() <= Duration::from_secs(1));
    // SUPPRESS: the declined agent is not offered again (only heartbeats come) until REVIVE.
    fw.send(&fw.call(call::Type::Suppress)).await;
    decline.decline.as_mut().unwrap().offer_ids = vec![revived.id.clone()];
    decline.decline.as_mut().unwrap().filters = Some(v1::Filters { refuse_seconds: Some(1.0) });
    fw.send(&decline).await;
    for _ in 0..3 {
        assert_eq!(fw.stream.next().await.unwrap().r#type(), event::Type::Heartbeat);
    }
    fw.send(&fw.call(call::Type::Revive)).await;
    assert_eq!(fw.stream.next_event().await.r#type(), event::Type::Offers);
}

#[tokio::test(start_paused = true)]
async fn master_reconcile_explicit_and_implicit() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), false);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    let offer = fw.stream.offers().await.remove(0);
    fw.launch(&offer, "t1", 1.0, &[(DURATION_LABEL, "forever")]).await;
    loop {
        let status = fw.stream.update().await;
        fw.ack(&status).await;
        if status.state() == TaskState::TaskRunning {
            break;
        }
    }
    fw.reconcile(&["t1", "ghost"]).await;
    let known = fw.stream.update().await;
    let unknown = fw.stream.update().await;
    assert_eq!((known.task_id.value.as_str(), known.state()), ("t1", TaskState::TaskRunning));
    assert_eq!((unknown.task_id.value.as_str(), unknown.state()), ("ghost", TaskState::TaskLost));
    for s in [&known, &unknown] {
        assert!(s.uuid.is_none(), "reconciliation answers are not acknowledged");
        assert_eq!(s.reason(), v1::task_status::Reason::Reconciliation);
    }
    fw.reconcile(&[]).await;
    let all = fw.stream.update().await;
    assert_eq!((all.task_id.value.as_str(), all.state()), ("t1", TaskState::TaskRunning));
    // KILL → TASK_KILLED (reliable).
    let mut kill = fw.call(call::Type::Kill);
    kill.kill = Some(call::Kill { task_id: known.task_id.clone(), ..Default::default() });
    fw.send(&kill).await;
    let killed = fw.stream.update().await;
    assert_eq!(killed.state(), TaskState::TaskKilled);
    assert!(killed.uuid.is_some());
}

#[tokio::test(start_paused = true)]
async fn master_failed_task_and_invalid_launches() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    let offer = fw.stream.offers().await.remove(0);
    fw.launch(&offer, "bad", 1.0, &[(EXIT_LABEL, "failed"), (DURATION_LABEL, "10")]).await;
    let mut last = fw.stream.update().await;
    while !matches!(last.state(), TaskState::TaskFailed) {
        fw.ack(&last).await;
        last = fw.stream.update().await;
    }
    fw.ack(&last).await;
    // The offer is gone: its id is now an invalid offer.
    fw.launch(&offer, "late", 1.0, &[]).await;
    let lost = fw.stream.update().await;
    assert_eq!((lost.state(), lost.reason()), (TaskState::TaskLost, v1::task_status::Reason::InvalidOffers));
    assert!(lost.message().starts_with("Task launched with invalid offers"));
}

#[tokio::test(start_paused = true)]
async fn master_failover_resubscribe_keeps_the_framework_id() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), false);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    let offer = fw.stream.offers().await.remove(0);
    fw.launch(&offer, "t1", 1.0, &[(DURATION_LABEL, "forever")]).await;
    let starting = fw.stream.update().await;
    // A second SUBSCRIBE with the id wins; the old stream gets ERROR and ends.
    let mut again = Framework::subscribe(&client, subscribe_call(Some(&fw.id), 3600.0, &[])).await;
    assert_eq!(again.id, fw.id);
    assert_ne!(again.stream.stream_id, fw.stream.stream_id);
    let error = fw.stream.wait_for("ERROR", |e| e.r#type() == event::Type::Error).await;
    assert_eq!(error.error.unwrap().message, "Framework failed over");
    assert!(fw.stream.next().await.is_err());
    // The old stream id is refused; the new one works, and the task is still known.
    let stale = client.post(&fw.call(call::Type::Revive), Some(&fw.stream.stream_id)).await;
    assert_eq!(stale.status(), 400);
    again.reconcile(&["t1"]).await;
    let status = again.stream.wait_for("UPDATE", |e| e.update.as_ref().is_some_and(|u| u.status.uuid.is_none())).await;
    let state = status.update.unwrap().status.state();
    assert!(matches!(state, TaskState::TaskStarting | TaskState::TaskRunning), "{state:?}");
    assert_eq!(starting.state(), TaskState::TaskStarting);
    // Drop the connection: 403 while disconnected, then back with the same id.
    let stream_id = again.stream.stream_id.clone();
    drop(again);
    let mut status = 0;
    for _ in 0..100 {
        status = client.post(&fw.call(call::Type::Revive), Some(&stream_id)).await.status().as_u16();
        if status == 403 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(status, 403, "Framework is not subscribed");
    let back = Framework::subscribe(&client, subscribe_call(Some(&fw.id), 3600.0, &[])).await;
    assert_eq!(back.id, fw.id);
}

#[tokio::test(start_paused = true)]
async fn master_teardown_closes_the_stream_and_forgets_the_framework() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    fw.send(&fw.call(call::Type::Teardown)).await;
    loop {
        match fw.stream.next().await {
            Ok(_) => continue,
            Err((end, partial)) => {
                assert_eq!((end, partial), (End::Clean, false));
                break;
            }
        }
    }
    let gone = client.post(&fw.call(call::Type::Revive), Some(&fw.stream.stream_id)).await;
    assert_eq!(gone.status(), 400);
    assert_eq!(gone.text().await.unwrap(), "Framework cannot be found");
    let mut stream = client.subscribe(&subscribe_call(Some(&fw.id), 0.0, &[])).await;
    let error = stream.next().await.unwrap();
    assert_eq!(error.error.unwrap().message, "Framework has been removed");
}

#[tokio::test(start_paused = true)]
async fn master_version_endpoint() {
    let master = master(0, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let body = client.http.get(format!("{}/version", master.url())).send().await.unwrap().text().await.unwrap();
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["version"], MESOS_VERSION);
}
