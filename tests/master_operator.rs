//! The simulated master's operator API (`POST /api/v1`) over loopback HTTP: GET_AGENTS,
//! GET_TASKS and GET_FRAMEWORKS in protobuf and JSON, compared with what a scheduler
//! subscription sees; the status codes of bad requests; and the driver's `OperatorClient`,
//! redirects included.
#![cfg(all(feature = "master", feature = "driver"))]

mod master_support;

use std::time::Duration;

use master_support::*;
use offerpack::driver::{Encoding, OperatorClient, OperatorError};
use offerpack::master::{MasterHandle, Redirect, Unavailable};
use offerpack::mesos::v1::master::{call, response, Call as OpCall, Response};
use offerpack::mesos::v1::TaskState;
use offerpack::mesos::{agent_host, json};
use offerpack::Offer;
use prost::Message;

/// A master with 3 agents carrying `rack: r<i>` and `zone: z<i % 2>`.
async fn racked_master() -> MasterHandle {
    master(3, |config| {
        for (i, agent) in config.agents.iter_mut().enumerate() {
            agent.attributes.push(("rack".into(), format!("r{}", i + 1)));
            agent.attributes.push(("zone".into(), format!("z{}", i % 2)));
        }
    })
    .await
}

/// POSTs raw bytes to the operator endpoint.
async fn post(
    master: &MasterHandle,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let client = Client::new(master.operator_url(), false);
    let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
    client.raw(content_type, &headers, body).await
}

/// Sends an operator call of `kind` in protobuf or JSON and decodes the 200 answer.
async fn operator(master: &MasterHandle, kind: call::Type, json: bool) -> Response {
    let c = OpCall { r#type: Some(kind as i32) };
    let (content_type, body) =
        if json { (JSON, json::encode_operator_call(&c)) } else { (PROTOBUF, c.encode_to_vec()) };
    let response = post(master, Some(content_type), Some(content_type), body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], content_type);
    let bytes = response.bytes().await.unwrap();
    if json {
        json::decode_operator_response(&bytes).expect("a JSON Response")
    } else {
        Response::decode(bytes.as_ref()).expect("a protobuf Response")
    }
}

async fn status_and_text(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test(start_paused = true)]
async fn operator_get_agents_matches_the_offers_in_both_encodings() {
    let master = racked_master().await;
    let client = Client::new(master.scheduler_url(), false);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    let offers = fw.stream.offers().await;
    assert_eq!(offers.len(), 3);
    for json in [false, true] {
        let answer = operator(&master, call::Type::GetAgents, json).await;
        assert_eq!(answer.r#type(), response::Type::GetAgents);
        let agents = answer.get_agents.unwrap().agents;
        assert_eq!(agents.len(), 3, "json: {json}");
        for offer in &offers {
            let agent = agents.iter().find(|a| a.agent_info.id.as_ref() == Some(&offer.agent_id)).expect("listed");
            assert_eq!(agent.agent_info.attributes, offer.attributes, "json: {json}");
            // Through the conversions: the model attributes are identical too.
            let (id, hostname, attributes) = agent_host(&agent.agent_info).unwrap();
            let model = Offer::try_from(offer).unwrap();
            assert_eq!((id, hostname, attributes), (model.agent_id, model.hostname, model.attributes));
            assert!(agent.active);
            assert!(!agent.offered_resources.is_empty());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn operator_json_keeps_empty_arrays_and_master_field_names() {
    let master = master(1, |_| {}).await;
    let body = br#"{"type":"GET_TASKS"}"#.to_vec();
    let (status, text) = status_and_text(post(&master, Some(JSON), None, body).await).await;
    assert_eq!(status, 200);
    assert_eq!(text, r#"{"type":"GET_TASKS","get_tasks":{"tasks":[],"unreachable_tasks":[],"completed_tasks":[]}}"#);
    let body = br#"{"type":"GET_AGENTS"}"#.to_vec();
    let (_, text) = status_and_text(post(&master, Some(JSON), Some(JSON), body).await).await;
    assert!(
        text.starts_with(
            r#"{"type":"GET_AGENTS","get_agents":{"agents":[{"agent_info":{"hostname":"agent-1","port":5051,"#
        ),
        "{text}"
    );
    assert!(text.ends_with(r#""recovered_agents":[]}}"#), "{text}");
}

#[tokio::test(start_paused = true)]
async fn operator_get_tasks_and_frameworks_show_a_launched_task() {
    let master = racked_master().await;
    let client = Client::new(master.scheduler_url(), true);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    let offers = fw.stream.offers().await;
    fw.launch(&offers[1], "web-1", 0.5, &[("app", "web"), ("offerpack.sim/duration_ms", "forever")]).await;
    let starting = fw.stream.update().await;
    assert_eq!(starting.state(), TaskState::TaskStarting);
    fw.ack(&starting).await;
    let running = fw.stream.update().await;
    assert_eq!(running.state(), TaskState::TaskRunning);
    for json in [false, true] {
        let tasks = operator(&master, call::Type::GetTasks, json).await.get_tasks.unwrap().tasks;
        assert_eq!(tasks.len(), 1);
        let task = &tasks[0];
        assert_eq!(task.task_id.value, "web-1");
        assert_eq!(task.agent_id, offers[1].agent_id);
        assert_eq!(task.framework_id.value, fw.id);
        assert_eq!(task.state(), TaskState::TaskRunning);
        let labels: Vec<(&str, Option<&str>)> =
            task.labels.as_ref().unwrap().labels.iter().map(|l| (l.key.as_str(), l.value.as_deref())).collect();
        assert_eq!(labels, [("app", Some("web")), ("offerpack.sim/duration_ms", Some("forever"))]);
        let states: Vec<TaskState> = task.statuses.iter().map(|s| s.state()).collect();
        assert_eq!(states, [TaskState::TaskStarting, TaskState::TaskRunning]);
        assert_eq!(task.statuses[1].uuid, running.uuid, "the statuses are the updates the scheduler got");
        assert_eq!(task.resources[0].scalar.as_ref().unwrap().value, 0.5);

        let frameworks = operator(&master, call::Type::GetFrameworks, json).await.get_frameworks.unwrap().frameworks;
        assert_eq!(frameworks.len(), 1);
        let framework = &frameworks[0];
        assert_eq!(framework.framework_info.id.as_ref().unwrap().value, fw.id);
        assert_eq!(framework.framework_info.name, "offerpack-test");
        assert!(framework.active && framework.connected);
        let allocated: f64 = framework
            .allocated_resources
            .iter()
            .filter(|r| r.name == "cpus")
            .map(|r| r.scalar.as_ref().unwrap().value)
            .sum();
        assert_eq!(allocated, 0.5);
    }
    // The driver's view: the live task, with its labels and scalar resources.
    let mut operator_client = OperatorClient::new(&master.url()).unwrap();
    let placed = operator_client.get_tasks().await.unwrap();
    assert_eq!(placed.len(), 1);
    assert_eq!((placed[0].task_id.as_str(), placed[0].agent_id.as_str()), ("web-1", offers[1].agent_id.value.as_str()));
    assert_eq!(placed[0].labels[0], ("app".to_owned(), "web".to_owned()));
    assert_eq!(placed[0].resources.len(), 1);
    assert_eq!((&*placed[0].resources[0].0, placed[0].resources[0].1.as_f64()), ("cpus", 0.5));
}

#[tokio::test(start_paused = true)]
async fn operator_bad_requests_get_the_masters_statuses() {
    let master = master(1, |_| {}).await;
    let get_agents = || OpCall { r#type: Some(call::Type::GetAgents as i32) }.encode_to_vec();
    let http = Client::new(master.operator_url(), false).http;
    let get = http.get(master.operator_url()).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let (status, text) = status_and_text(post(&master, None, None, get_agents()).await).await;
    assert_eq!((status, text.as_str()), (400, "Expecting 'Content-Type' to be present"));
    let (status, text) = status_and_text(post(&master, Some("text/plain"), None, get_agents()).await).await;
    assert_eq!(
        (status, text.as_str()),
        (415, "Expecting 'Content-Type' of application/json or application/x-protobuf")
    );
    let (status, text) = status_and_text(post(&master, Some(PROTOBUF), None, vec![0xff, 0xff]).await).await;
    assert_eq!((status, text.as_str()), (400, "Failed to parse body into Call protobuf"));
    let (status, text) = status_and_text(post(&master, Some(JSON), None, b"{\"type\":".to_vec()).await).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("Failed to parse body into JSON: "), "{text}");
    let (status, text) = status_and_text(post(&master, Some(JSON), None, b"[]".to_vec()).await).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("Failed to convert JSON into Call protobuf: "), "{text}");
    let (status, text) = status_and_text(post(&master, Some(JSON), None, b"{}".to_vec()).await).await;
    assert_eq!((status, text.as_str()), (400, "Failed to validate master::Call: Expecting 'type' to be present"));
    // Validation comes before the Accept check, which comes before the call.
    let (status, _) = status_and_text(post(&master, Some(JSON), Some("text/html"), b"{}".to_vec()).await).await;
    assert_eq!(status, 400);
    let html = post(&master, Some(PROTOBUF), Some("text/html"), get_agents()).await;
    assert_eq!(html.status(), 406);
    let unknown = br#"{"type":"UNKNOWN"}"#.to_vec();
    let (status, text) = status_and_text(post(&master, Some(JSON), None, unknown).await).await;
    assert_eq!((status, text.as_str()), (501, "501 Not Implemented."));
    let state = OpCall { r#type: Some(call::Type::GetState as i32) }.encode_to_vec();
    assert_eq!(post(&master, Some(PROTOBUF), None, state).await.status(), 501);
    // The alias path answers the same.
    let alias = Client::new(format!("{}/master/api/v1", master.url()), false);
    let answer = alias.raw(Some(PROTOBUF), &[("Accept", PROTOBUF)], get_agents()).await;
    assert_eq!(answer.status(), 200);
    let answer = Response::decode(answer.bytes().await.unwrap().as_ref()).unwrap();
    assert_eq!(answer.get_agents.unwrap().agents.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn operator_client_reads_agents_in_both_encodings_and_follows_a_redirect() {
    let leader = racked_master().await;
    let follower = master(1, |config| config.seed = 7).await;
    let client = Client::new(leader.scheduler_url(), false);
    let mut fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    let offers: Vec<Offer> = fw.stream.offers().await.iter().map(|o| Offer::try_from(o).unwrap()).collect();
    for encoding in [Encoding::Protobuf, Encoding::Json] {
        let mut operator_client = OperatorClient::new(&leader.url()).unwrap().encoding(encoding);
        let agents = operator_client.get_agents().await.unwrap();
        assert_eq!(agents.len(), 3);
        for offer in &offers {
            let agent = agents.iter().find(|a| a.id == offer.agent_id).expect("listed");
            assert_eq!((&agent.hostname, &agent.attributes), (&offer.hostname, &offer.attributes));
        }
    }
    // The follower redirects to the leader once; the client then stays with the leader.
    follower.set_redirect(Some(Redirect { leader: leader.addr().to_string(), remaining: Some(1) })).await;
    let mut operator_client = OperatorClient::new(&follower.url()).unwrap();
    assert_eq!(operator_client.get_agents().await.unwrap().len(), 3);
    assert_eq!(operator_client.url(), leader.operator_url());
    let mut at_follower = OperatorClient::new(&follower.url()).unwrap();
    assert_eq!(at_follower.get_agents().await.unwrap().len(), 1, "the redirect knob is spent");
    // A 503 and a refused connection are errors the caller sees.
    follower.set_unavailable(Some((Duration::from_secs(60), Unavailable::NoLeader))).await;
    let error = at_follower.get_agents().await.unwrap_err();
    assert!(
        matches!(&error, OperatorError::Status { status: 503, message } if message == "No leader elected"),
        "{error}"
    );
    let addr = follower.addr();
    follower.shutdown().await;
    let mut gone = OperatorClient::new(&addr.to_string()).unwrap();
    assert!(matches!(gone.get_agents().await.unwrap_err(), OperatorError::Transport(_)));
}
