//! The simulated master's HTTP surface: every status code case of `/api/v1/scheduler`, with
//! the real master's texts and headers, and leniency (header case, chunked request bodies,
//! JSON nulls and unknown keys).
#![cfg(all(feature = "master", feature = "driver"))]

mod master_support;

use master_support::*;
use offerpack::master::StreamCut;
use offerpack::mesos::v1::scheduler::{call, event, Call};
use offerpack::mesos::v1::{self};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn status_and_text(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test(start_paused = true)]
async fn master_http_method_content_type_and_accept() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let get = client.http.get(master.scheduler_url()).send().await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let body = json_body(&subscribe_call(None, 0.0, &[]));
    let (status, text) = status_and_text(client.raw(None, &[], body.clone()).await).await;
    assert_eq!((status, text.as_str()), (400, "Expecting 'Content-Type' to be present"));
    let with_charset = client.raw(Some("application/json; charset=utf-8"), &[], body.clone()).await;
    let (status, text) = status_and_text(with_charset).await;
    assert_eq!(status, 415);
    assert_eq!(text, "Expecting 'Content-Type' of application/json or application/x-protobuf");
    let html = client.raw(Some(JSON), &[("Accept", "text/html")], body.clone()).await;
    assert_eq!(html.status(), 406);
    let with_stream_id = client.raw(Some(JSON), &[("Mesos-Stream-Id", "x")], body.clone()).await;
    let (status, text) = status_and_text(with_stream_id).await;
    assert_eq!((status, text.as_str()), (400, "Subscribe calls should not include the 'Mesos-Stream-Id' header"));
    let not_found = client.http.post(format!("{}/api/v1/nope", master.url())).send().await.unwrap();
    assert_eq!(not_found.status(), 404);
    // Protobuf request, JSON answer: Accept decides, JSON wins when both are acceptable.
    let both = client
        .raw(
            Some(PROTOBUF),
            &[("accept", "application/x-protobuf, application/json")],
            proto_body(&subscribe_call(None, 0.0, &[])),
        )
        .await;
    assert_eq!(both.status(), 200);
    assert_eq!(both.headers()["content-type"], JSON);
    assert_eq!(both.headers()["transfer-encoding"], "chunked");
    assert!(both.headers().get("content-length").is_none());
}

#[tokio::test(start_paused = true)]
async fn master_http_malformed_bodies_are_400() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let (status, text) = status_and_text(client.raw(Some(JSON), &[], b"{\"type\":".to_vec()).await).await;
    assert_eq!(status, 400);
    assert!(text.starts_with("Failed to parse body into JSON: "), "{text}");
    let camel = br#"{"type":"SUBSCRIBE","subscribe":{"frameworkInfo":{"user":"u","name":"n"}}}"#.to_vec();
    let (status, text) = status_and_text(client.raw(Some(JSON), &[], camel).await).await;
    assert_eq!(status, 400);
    assert_eq!(text, "Failed to convert JSON into Call protobuf: Missing required fields: subscribe.framework_info");
    let (status, text) = status_and_text(client.raw(Some(PROTOBUF), &[], vec![0xff, 0xff, 0xff]).await).await;
    assert_eq!((status, text.as_str()), (400, "Failed to parse body into Call protobuf"));
    // A SUBSCRIBE whose `subscribe` is empty lacks the required framework_info.
    let (status, _) = status_and_text(client.raw(Some(PROTOBUF), &[], vec![0x10, 0x01, 0x1a, 0x00]).await).await;
    assert_eq!(status, 400);
    let no_accept = Call { r#type: Some(call::Type::Accept as i32), ..fw_call("f") };
    let (status, text) = status_and_text(client.raw(Some(JSON), &[], json_body(&no_accept)).await).await;
    assert_eq!((status, text.as_str()), (400, "Failed to validate scheduler::Call: Expecting 'accept' to be present"));
    let bad_uuid = br#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},
        "task_id":{"value":"t"},"uuid":"AAEC"}}"#;
    let (status, text) = status_and_text(client.raw(Some(JSON), &[], bad_uuid.to_vec()).await).await;
    assert_eq!(status, 400);
    assert!(text.contains("UUID"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn master_http_framework_and_stream_checks() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), false);
    let unknown = client.post(&Call { r#type: Some(call::Type::Revive as i32), ..fw_call("nobody") }, Some("s")).await;
    assert_eq!(status_and_text(unknown).await, (400, "Framework cannot be found".into()));
    let fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    let revive = fw.call(call::Type::Revive);
    let missing = client.post(&revive, None).await;
    let (status, text) = status_and_text(missing).await;
    assert_eq!((status, text.as_str()), (400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header"));
    let wrong = client.post(&revive, Some("00000000-0000-0000-0000-000000000000")).await;
    let (status, text) = status_and_text(wrong).await;
    assert_eq!(status, 400);
    assert!(
        text.starts_with("The stream ID '00000000-0000-0000-0000-000000000000' included in this request didn't match")
    );
    assert_eq!(client.post(&revive, Some(&fw.stream.stream_id)).await.status(), 202);
    let unknown_type = client.post(&fw.call(call::Type::Unknown), Some(&fw.stream.stream_id)).await;
    assert_eq!(unknown_type.status(), 501);
    // The C++ library's path works the same.
    let alias = Client::new(format!("{}/master/api/v1/scheduler", master.url()), false);
    assert_eq!(alias.post(&revive, Some(&fw.stream.stream_id)).await.status(), 202);
}

#[tokio::test(start_paused = true)]
async fn master_http_disconnected_framework_gets_403() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), false);
    let fw = Framework::subscribe(&client, subscribe_call(None, 3600.0, &[])).await;
    master.set_cut_streams(Some(StreamCut { after_events: 0, mid_record: false })).await;
    master.set_cut_streams(None).await;
    let (status, text) =
        status_and_text(client.post(&fw.call(call::Type::Revive), Some(&fw.stream.stream_id)).await).await;
    assert_eq!((status, text.as_str()), (403, "Framework is not subscribed"));
    let back = Framework::subscribe(&client, subscribe_call(Some(&fw.id), 3600.0, &[])).await;
    assert_eq!(client.post(&back.call(call::Type::Revive), Some(&back.stream.stream_id)).await.status(), 202);
}

#[tokio::test(start_paused = true)]
async fn master_http_json_nulls_and_unknown_keys_are_accepted() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let body = br#"{"type":"SUBSCRIBE","framework_id":null,"bogus":{"x":1},
        "subscribe":{"framework_info":{"user":"root","name":"n","id":null,"capabilities":null,
        "failover_timeout":"60","roles":null,"labels":null,"frameworkId":"ignored"},"suppressed_roles":null}}"#;
    let response = client.raw(Some(JSON), &[("Accept", JSON)], body.to_vec()).await;
    let mut stream = Stream::new(response, true);
    let subscribed = stream.next().await.unwrap();
    assert_eq!(subscribed.r#type(), event::Type::Subscribed);
}

/// Raw HTTP/1.1 over TCP: upper-case header names, a chunked request body, and
/// `Connection: close` on SUBSCRIBE still get a chunked event stream.
#[tokio::test(start_paused = true)]
async fn master_http_raw_chunked_request_and_header_case() {
    let master = master(1, |_| {}).await;
    let body = json_body(&subscribe_call(None, 0.0, &[]));
    let (head, rest) = body.split_at(body.len() / 2);
    let mut request = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHOST: {}\r\nCONTENT-TYPE: application/json\r\nACCEPT: application/json\r\n\
         TRANSFER-ENCODING: chunked\r\nConnection: close\r\n\r\n",
        master.addr()
    )
    .into_bytes();
    for part in [head, rest] {
        request.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        request.extend_from_slice(part);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let mut tcp = tokio::net::TcpStream::connect(master.addr()).await.unwrap();
    tcp.write_all(&request).await.unwrap();
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("HEARTBEAT") {
        let mut buf = [0u8; 4096];
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream ended early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&seen).to_lowercase();
    assert!(text.starts_with("http/1.1 200 ok\r\n"), "{text}");
    assert!(text.contains("transfer-encoding: chunked\r\n"), "{text}");
    assert!(text.contains("mesos-stream-id: "), "{text}");
    assert!(text.contains("\r\n\r\n"), "{text}");
    let stream_id = text.split("mesos-stream-id: ").nth(1).unwrap().split("\r\n").next().unwrap().to_owned();
    // A call with an upper-case stream-id header on its own connection.
    let fw_id = String::from_utf8_lossy(&seen)
        .split("\"framework_id\":{\"value\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let revive = json_body(&Call { r#type: Some(call::Type::Revive as i32), ..fw_call(&fw_id) });
    let call = format!(
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nMESOS-STREAM-ID: {stream_id}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        revive.len()
    );
    let mut tcp2 = tokio::net::TcpStream::connect(master.addr()).await.unwrap();
    tcp2.write_all(call.as_bytes()).await.unwrap();
    tcp2.write_all(&revive).await.unwrap();
    let mut answer = String::new();
    tcp2.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 202 Accepted\r\n"), "{answer}");
}

fn fw_call(id: &str) -> Call {
    Call { framework_id: Some(v1::FrameworkId { value: id.into() }), ..Default::default() }
}

fn json_body(c: &Call) -> Vec<u8> {
    offerpack::mesos::json::encode_call(c)
}

fn proto_body(c: &Call) -> Vec<u8> {
    use prost::Message;
    c.encode_to_vec()
}

#[tokio::test(start_paused = true)]
async fn master_http_unknown_type_name_is_501() {
    let master = master(1, |_| {}).await;
    let client = Client::new(master.scheduler_url(), true);
    let fw = Framework::subscribe(&client, subscribe_call(None, 0.0, &[])).await;
    let body = format!(r#"{{"type":"FROM_THE_FUTURE","framework_id":{{"value":"{}"}}}}"#, fw.id);
    let response = client.raw(Some(JSON), &[("Mesos-Stream-Id", &fw.stream.stream_id)], body.into_bytes()).await;
    assert_eq!(response.status(), 501);
}
