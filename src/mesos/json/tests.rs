//! Unit tests of the JSON transcoder.

use super::*;
use v1::scheduler::{call, event, Call, Event};

fn call(json: &str) -> Result<Call, JsonError> {
    decode_call(json.as_bytes())
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn schema_loads_call_and_event() {
    let s = schema().unwrap();
    assert!(s.messages.contains_key(CALL) && s.messages.contains_key(EVENT));
    assert!(s.enums.contains_key(".mesos.v1.TaskState"));
}

#[test]
fn json_encode_subscribed_keeps_field_names_and_order() {
    let event = Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: v1::FrameworkId { value: "fw-1".into() },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    };
    assert_eq!(
        text(encode_event(&event)),
        r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"fw-1"},"heartbeat_interval_seconds":15.0}}"#
    );
    assert_eq!(decode_event(&encode_event(&event)).unwrap(), event);
}

#[test]
fn json_error_event_is_nested() {
    let event = Event {
        r#type: Some(event::Type::Error as i32),
        error: Some(event::Error { message: "Framework failed over".into() }),
        ..Default::default()
    };
    assert_eq!(text(encode_event(&event)), r#"{"type":"ERROR","error":{"message":"Framework failed over"}}"#);
    // The docs' top-level `message` is the MESSAGE event's field, a message: an error.
    let err = decode_event(br#"{"type":"ERROR","message":"x"}"#).unwrap_err();
    assert_eq!(err.to_string(), "field 'message': expected an object");
}

#[test]
fn json_decode_null_unknown_keys_and_camel_case() {
    let c = call(
        r#"{"type":"SUBSCRIBE","framework_id":null,"stray":[1,2],"subscribe":{"framework_info":
           {"user":"u","name":"n","capabilities":null,"roles":["a",null,"b"],"failoverTimeout":9}}}"#,
    )
    .unwrap();
    let info = &c.subscribe.unwrap().framework_info;
    assert_eq!(info.roles, ["a", "b"]);
    assert_eq!(info.failover_timeout, None);
    let err = call(r#"{"type":"SUBSCRIBE","subscribe":{"frameworkInfo":{"user":"u","name":"n"}}}"#).unwrap_err();
    assert_eq!(err.path(), "subscribe.framework_info");
}

#[test]
fn json_decode_numbers_from_strings_and_infinity() {
    let c =
        call(r#"{"type":"DECLINE","framework_id":{"value":"f"},"decline":{"filters":{"refuse_seconds":"Infinity"}}}"#)
            .unwrap();
    assert_eq!(c.decline.unwrap().filters.unwrap().refuse_seconds(), f64::INFINITY);
    let c =
        call(r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":"7.5"}}}"#)
            .unwrap();
    assert_eq!(c.subscribe.unwrap().framework_info.failover_timeout, Some(7.5));
}

#[test]
fn json_decode_rejects_enum_numbers_and_bad_integers() {
    let err = call(r#"{"type":3}"#).unwrap_err();
    assert!(matches!(err, JsonError::WrongType { ref path, .. } if path == "type"), "{err}");
    // An unknown name in an optional enum is dropped.
    assert_eq!(call(r#"{"type":"NOPE"}"#).unwrap().r#type, None);
    let status = r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_NOPE"}}}"#;
    let err = decode_event(status.as_bytes()).unwrap_err();
    assert_eq!(err.path(), "update.status.state");
    let err = decode_event(br#"{"type":"FAILURE","failure":{"status":1.5}}"#).unwrap_err();
    assert_eq!(err.path(), "failure.status");
    let err = decode_event(br#"{"type":"FAILURE","failure":{"status":"4294967296"}}"#).unwrap_err();
    assert!(err.to_string().contains("out of range"), "{err}");
    assert_eq!(decode_event(br#"{"failure":{"status":-3}}"#).unwrap().failure.unwrap().status, Some(-3));
}

#[test]
fn json_bytes_are_base64() {
    let body = r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},
                  "task_id":{"value":"t"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}"#;
    let c = call(body).unwrap();
    assert_eq!(c.acknowledge.as_ref().unwrap().uuid, (0u8..16).collect::<Vec<_>>());
    assert!(text(encode_call(&c)).contains(r#""uuid":"AAECAwQFBgcICQoLDA0ODw==""#));
    let err = call(&body.replace("AAECAwQFBgcICQoLDA0ODw==", "not base64!")).unwrap_err();
    assert_eq!(err.path(), "acknowledge.uuid");
}

#[test]
fn json_encode_writes_explicit_defaults_but_not_deprecated_ones() {
    let c = Call {
        framework_id: Some(v1::FrameworkId { value: "f".into() }),
        r#type: Some(call::Type::Decline as i32),
        decline: Some(call::Decline { offer_ids: vec![], filters: Some(v1::Filters::default()) }),
        ..Default::default()
    };
    assert!(text(encode_call(&c)).ends_with(r#""decline":{"filters":{"refuse_seconds":5.0}}}"#));
    let r = v1::Resource { name: "cpus".into(), r#type: v1::value::Type::Scalar as i32, ..Default::default() };
    let offer = v1::Offer { resources: vec![r], ..Default::default() };
    let e = Event {
        r#type: Some(event::Type::Offers as i32),
        offers: Some(event::Offers { offers: vec![offer] }),
        ..Default::default()
    };
    let json = text(encode_event(&e));
    assert!(json.contains(r#""resources":[{"name":"cpus","type":"SCALAR"}]"#), "{json}");
    assert!(json.starts_with(r#"{"type":"OFFERS","offers":{"offers":[{"id":{"value":""}"#), "{json}");
}

#[test]
fn json_check_call_required_fields_finds_nested_gaps() {
    let c = Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe::default()),
        ..Default::default()
    };
    // prost writes required strings even when empty, so the bytes are complete.
    check_call_required_fields(&c.encode_to_vec()).unwrap();
    // SUBSCRIBE with an empty `subscribe` message: framework_info is missing.
    let err = check_call_required_fields(&[0x10, 0x01, 0x1a, 0x00]).unwrap_err();
    assert_eq!(err.to_string(), "Missing required fields: subscribe.framework_info");
}

#[test]
fn json_errors_for_non_objects_and_syntax() {
    assert!(call("[1]").unwrap_err().to_string().contains("expected an object"));
    assert!(call("{").unwrap_err().is_syntax());
    let err =
        call(r#"{"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"offer_ids":{"value":"o"}}}"#).unwrap_err();
    assert_eq!(err.to_string(), "field 'accept.offer_ids': expected an array");
}

#[test]
fn json_operator_response_writes_empty_top_level_arrays_only() {
    use v1::master::{response, Response};
    let tasks = Response {
        r#type: Some(response::Type::GetTasks as i32),
        get_tasks: Some(response::GetTasks::default()),
        ..Default::default()
    };
    assert_eq!(
        text(encode_operator_response(&tasks)),
        r#"{"type":"GET_TASKS","get_tasks":{"tasks":[],"unreachable_tasks":[],"completed_tasks":[]}}"#
    );
    // Nested messages follow the generic rules: empty arrays left out, explicit defaults written.
    let agent = response::get_agents::Agent {
        agent_info: v1::AgentInfo { hostname: "h1".into(), ..Default::default() },
        active: true,
        version: "1.11.0".into(),
        ..Default::default()
    };
    let agents = Response {
        r#type: Some(response::Type::GetAgents as i32),
        get_agents: Some(response::GetAgents { agents: vec![agent], recovered_agents: vec![] }),
        ..Default::default()
    };
    let json = text(encode_operator_response(&agents));
    assert_eq!(
        json,
        r#"{"type":"GET_AGENTS","get_agents":{"agents":[{"agent_info":{"hostname":"h1","port":5051},"active":true,"version":"1.11.0"}],"recovered_agents":[]}}"#
    );
    let back = decode_operator_response(json.as_bytes()).unwrap();
    assert_eq!(back.get_agents.unwrap().agents[0].agent_info.port(), 5051);
}

#[test]
fn json_operator_call_by_name_and_required_fields() {
    use v1::master::call;
    assert_eq!(decode_operator_call(br#"{"type":"GET_TASKS"}"#).unwrap().r#type(), call::Type::GetTasks);
    // An unknown name in the optional `type` is dropped; a number is an error.
    assert_eq!(decode_operator_call(br#"{"type":"GET_EVERYTHING"}"#).unwrap().r#type, None);
    assert!(decode_operator_call(br#"{"type":10}"#).is_err());
    assert!(check_operator_call_required_fields(&[0x08, 0x0a]).is_ok());
    // The upstream vector of a GET_AGENTS response (MESOS-PROTOCOL-2.md §2.4) decodes.
    let hex = "080952190a170a0b0a02683132050a03612d3110011a06312e31312e30";
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    let response = v1::master::Response::decode(bytes.as_slice()).unwrap();
    let agent = &response.get_agents.as_ref().unwrap().agents[0];
    assert_eq!((agent.agent_info.hostname.as_str(), agent.version.as_str()), ("h1", "1.11.0"));
    assert_eq!(response.encode_to_vec(), bytes);
}
