//! The simulated master's fault knobs, at start and at run time: cut streams (whole records
//! or mid-record), 307 redirects, 503 periods, lost agents, duplicated status updates.
#![cfg(all(feature = "master", feature = "driver"))]

mod master_support;

use std::time::Duration;

use master_support::*;
use offerpack::master::{Redirect, StreamCut, Unavailable, DURATION_LABEL};
use offerpack::mesos::v1::scheduler::{call, event};
use offerpack::mesos::v1::TaskState;

#[tokio::test(start_paused = true)]
async fn master_fault_cut_stream_after_n_events() {
    let master = master(1, |c| c.faults.cut_streams = Some(StreamCut { after_events: 3, mid_record: false })).await;
    let client = Client::new(master.scheduler_url(), false);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    assert_eq!(fw.stream.next().await.unwrap().r#type(), event::Type::Offers);
    assert_eq!(fw.stream.next().await.unwrap_err(), (End::Broken, false));
    // The master noticed: the framework is disconnected.
    let revive = client.post(&fw.call(call::Type::Revive), Some(&fw.stream.stream_id)).await;
    assert_eq!(revive.status(), 403);
    // Stop cutting at run time; re-subscribing works and keeps the id.
    master.set_cut_streams(None).await;
    let mut back = Framework::subscribe(&client, subscribe_call(Some(&fw.id), 3600.0, &[])).await;
    assert_eq!(back.id, fw.id);
    assert_eq!(back.stream.next_event().await.r#type(), event::Type::Offers);
}

#[tokio::test(start_paused = true)]
async fn master_fault_cut_mid_record() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    fw.stream.offers().await;
    // Two more whole records may pass, the third is cut half-way.
    master.set_cut_streams(Some(StreamCut { after_events: 2, mid_record: true })).await;
    let mut whole = 0;
    let end = loop {
        match fw.stream.next().await {
            Ok(_) => whole += 1,
            Err(end) => break end,
        }
    };
    assert_eq!(whole, 2);
    assert_eq!(end, (End::Broken, true), "the decoder holds half a record");
}

#[tokio::test(start_paused = true)]
async fn master_fault_redirect_for_the_next_calls_and_while_set() {
    let leader = Redirect { leader: "leader.example:5050".into(), remaining: Some(2) };
    let master = master(1, |c| c.faults.redirect = Some(leader)).await;
    let client = Client::new(master.scheduler_url(), false);
    let body = client.encode(&subscribe_call(None, 0.0, &[]));
    for path in ["/api/v1/scheduler", "/master/api/v1/scheduler"] {
        let response = client.http.post(format!("{}{path}", master.url())).body(body.clone()).send().await.unwrap();
        assert_eq!(response.status(), 307);
        assert_eq!(response.headers()["location"], format!("//leader.example:5050{path}"));
    }
    let fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    master.set_redirect(Some(Redirect { leader: "other:5050".into(), remaining: None })).await;
    for _ in 0..3 {
        let response = client.post(&fw.call(call::Type::Revive), Some(&fw.stream.stream_id)).await;
        assert_eq!(response.status(), 307);
    }
    master.set_redirect(None).await;
    assert_eq!(client.post(&fw.call(call::Type::Revive), Some(&fw.stream.stream_id)).await.status(), 202);
}

#[tokio::test(start_paused = true)]
async fn master_fault_unavailable_for_a_period() {
    let master = master(1, |c| c.faults.unavailable = Some((Duration::from_secs(30), Unavailable::NoLeader))).await;
    let client = Client::new(master.scheduler_url(), true);
    let response = client.post(&subscribe_call(None, 0.0, &[]), None).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), "No leader elected");
    tokio::time::advance(Duration::from_secs(30)).await;
    let fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    master.set_unavailable(Some((Duration::from_secs(5), Unavailable::Recovering))).await;
    let response = client.post(&fw.call(call::Type::Revive), Some(&fw.stream.stream_id)).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.text().await.unwrap(), "Master has not finished recovery");
    master.set_unavailable(None).await;
    assert_eq!(client.post(&fw.call(call::Type::Revive), Some(&fw.stream.stream_id)).await.status(), 202);
}

#[tokio::test(start_paused = true)]
async fn master_fault_lose_agent() {
    let master = master(2, |_| {}).await;
    let client = Client::new(master.scheduler_url(), false);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    let offers = fw.stream.offers().await;
    let (first, second) = (&offers[0], &offers[1]);
    fw.launch(first, "t1", 1.0, &[(DURATION_LABEL, "forever")]).await;
    let starting = fw.stream.update().await;
    fw.ack(&starting).await;
    assert!(master.lose_agent(1).await);
    let rescind = fw.stream.next_event().await;
    assert_eq!(rescind.rescind.unwrap().offer_id, second.id);
    let failure = fw.stream.next_event().await;
    assert_eq!(failure.failure.unwrap().agent_id, Some(second.agent_id.clone()));
    assert!(master.lose_agent(0).await);
    let lost = fw.stream.wait_for("TASK_LOST", |e| e.update.as_ref().is_some_and(|u| u.status.uuid.is_none())).await;
    let lost = lost.update.unwrap().status;
    assert_eq!((lost.task_id.value.as_str(), lost.state()), ("t1", TaskState::TaskLost));
    assert!(!master.lose_agent(0).await);
    assert!(master.restore_agent(1).await);
    assert_eq!(fw.stream.offers().await[0].agent_id, second.agent_id);
}

#[tokio::test(start_paused = true)]
async fn master_fault_duplicate_updates() {
    let master = master(1, |c| c.faults.duplicate_updates = true).await;
    let client = Client::new(master.scheduler_url(), true);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    let offer = fw.stream.offers().await.remove(0);
    fw.launch(&offer, "t1", 1.0, &[]).await;
    let a = fw.stream.update().await;
    let b = fw.stream.update().await;
    assert_eq!(a, b, "the same update twice, same uuid");
    fw.ack(&a).await;
    fw.ack(&b).await; // a duplicate ack is ignored
    let running = fw.stream.update().await;
    assert_eq!(running.state(), TaskState::TaskRunning);
    master.set_duplicate_updates(false).await;
    let second_copy = fw.stream.update().await;
    fw.ack(&second_copy).await;
    assert_eq!(fw.stream.update().await.state(), TaskState::TaskFinished);
}
