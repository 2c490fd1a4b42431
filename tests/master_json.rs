//! `mesos::json` against the protocol notes: the golden protobuf vectors survive a JSON round
//! trip, the docs' errata forms (OFFERS and ERROR nesting) are the ones produced and read,
//! and the master's leniency rules hold.
#![cfg(feature = "mesos")]

use offerpack::mesos::json::{self, JsonError};
use offerpack::mesos::v1::scheduler::{call, event, Call, Event};
use offerpack::mesos::v1::{self};
use prost::Message;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

const CALLS: [&str; 7] = [
    "0a060a0466772d3110042a120a050a036f2d311209090000000000001440",
    "10011a240a220a04726f6f74120866656e7a6f2d727321000000000075224128015202080662012a",
    "0a060a0466772d3110032282010a050a036f2d31126e0801126a0a680a02743112050a03742d311a050a03612d3122130a046370757310001a0909000000000000e03f3a3f0a230a1d687474703a2f2f31302e302e302e353a383038302f6578656375746f72100118001a0a2e2f6578656375746f7230003a0a2e2f6578656375746f721a0909000000000000f03f",
    "0a060a0466772d31100842200a050a03612d3112050a03742d311a10000102030405060708090a0b0c0d0e0f",
    "0a060a0466772d311005",
    "0a060a0466772d311002",
    "0a060a0466772d3110094a00",
];

const EVENTS: [&str; 4] = [
    "080112110a060a0466772d31110000000000002e40",
    "08021a5b0a590a050a036f2d3112060a0466772d311a050a03612d31220268312a160a046370757310001a0909000000000000104032012a2a150a05706f7274731001220a0a080898f2011080fa013a0e0a047261636b10032a040a027231",
    "08042a260a240a050a03742d3110012a050a03612d3148025a10000102030405060708090a0b0c0d0e0f",
    "0808",
];

#[test]
fn master_json_golden_calls_round_trip_byte_for_byte() {
    for hex in CALLS {
        let proto = Call::decode(unhex(hex).as_slice()).unwrap();
        let text = json::encode_call(&proto);
        let back = json::decode_call(&text).unwrap();
        assert_eq!(back, proto, "{}", String::from_utf8_lossy(&text));
        assert_eq!(back.encode_to_vec(), unhex(hex));
    }
}

#[test]
fn master_json_golden_events_round_trip_byte_for_byte() {
    for hex in EVENTS {
        let proto = Event::decode(unhex(hex).as_slice()).unwrap();
        let back = json::decode_event(&json::encode_event(&proto)).unwrap();
        assert_eq!(back.encode_to_vec(), unhex(hex));
    }
}

#[test]
fn master_json_shapes_follow_the_proto_not_the_docs() {
    let offers = Event::decode(unhex(EVENTS[1]).as_slice()).unwrap();
    let text = String::from_utf8(json::encode_event(&offers)).unwrap();
    assert!(text.starts_with(r#"{"type":"OFFERS","offers":{"offers":[{"id":{"value":"o-1"}"#), "{text}");
    assert!(text.contains(r#""ranges":{"range":[{"begin":31000,"end":32000}]}"#), "{text}");
    assert!(text.contains(r#""attributes":[{"name":"rack","type":"TEXT","text":{"value":"r1"}}]"#), "{text}");
    // The docs' bare array is not an Offers message.
    let docs = br#"{"type":"OFFERS","offers":[{"id":{"value":"o-1"}}]}"#;
    assert!(matches!(json::decode_event(docs), Err(JsonError::WrongType { ref path, .. }) if path == "offers"));
    let request =
        br#"{"type":"REQUEST","framework_id":{"value":"f"},"request":{"requests":[{"agent_id":{"value":"a"}}]}}"#;
    assert_eq!(json::decode_call(request).unwrap().request.unwrap().requests.len(), 1);
    let update = Event::decode(unhex(EVENTS[2]).as_slice()).unwrap();
    let text = String::from_utf8(json::encode_event(&update)).unwrap();
    assert_eq!(
        text,
        r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t-1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","agent_id":{"value":"a-1"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}}"#
    );
}

#[test]
fn master_json_writes_explicit_defaults_like_the_master() {
    let subscribe = Call::decode(unhex(CALLS[1]).as_slice()).unwrap();
    let text = String::from_utf8(json::encode_call(&subscribe)).unwrap();
    assert!(text.contains(r#""failover_timeout":604800.0,"checkpoint":true,"roles":["*"]"#), "{text}");
    let minimal = Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: v1::FrameworkInfo { user: "u".into(), name: "n".into(), ..Default::default() },
            suppressed_roles: vec![],
        }),
        ..Default::default()
    };
    let text = String::from_utf8(json::encode_call(&minimal)).unwrap();
    // Explicit defaults appear; the deprecated `role` (default "*") does not.
    assert!(text.contains(r#""failover_timeout":0.0,"checkpoint":false"#), "{text}");
    assert!(!text.contains("\"role\""), "{text}");
    let accept = Call::decode(unhex(CALLS[2]).as_slice()).unwrap();
    let text = String::from_utf8(json::encode_call(&accept)).unwrap();
    assert!(text.contains(r#""executable":true,"extract":false"#), "{text}");
    assert!(text.contains(r#""shell":false,"value":"./executor""#), "{text}");
}

#[test]
fn master_json_leniency_rules() {
    // 64-bit integers as strings, doubles as "Infinity", nulls everywhere, unknown keys.
    let body = br#"{"type":"ACCEPT","framework_id":{"value":"f"},"slave_id":{"value":"x"},"accept":{
        "offer_ids":[{"value":"o"},null],"filters":{"refuse_seconds":"Infinity"},
        "operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},
        "agent_id":{"value":"a"},"slave_id":{"value":"a"},"command":null,"labels":null,
        "resources":[{"name":"ports","type":"RANGES","ranges":{"range":[{"begin":"31000","end":31001}]}}]}]}}]}}"#;
    let c = json::decode_call(body).unwrap();
    let accept = c.accept.unwrap();
    assert_eq!(accept.offer_ids.len(), 1);
    assert_eq!(accept.filters.unwrap().refuse_seconds(), f64::INFINITY);
    let task = &accept.operations[0].launch.as_ref().unwrap().task_infos[0];
    assert_eq!(task.resources[0].ranges.as_ref().unwrap().range[0].begin, 31000);
    // A required enum with an unknown name is an error naming the path.
    let bad = br#"{"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"operations":[{"type":"LAUNCH",
        "launch":{"task_infos":[{"name":"t","task_id":{"value":"t"},"agent_id":{"value":"a"},
        "resources":[{"name":"cpus","type":"NUMBER"}]}]}}]}}"#;
    let err = json::decode_call(bad).unwrap_err();
    assert_eq!(err.path(), "accept.operations[0].launch.task_infos[0].resources[0].type");
    assert!(err.to_string().contains("NUMBER"), "{err}");
    // camelCase keys are ignored, so required fields go missing.
    let camel = br#"{"type":"ACKNOWLEDGE","frameworkId":{"value":"f"},"acknowledge":{"agentId":{"value":"a"},
        "taskId":{"value":"t"},"uuid":"AAECAwQFBgcICQoLDA0ODw"}}"#;
    let err = json::decode_call(camel).unwrap_err();
    assert_eq!(err.to_string(), "Missing required fields: acknowledge.agent_id, acknowledge.task_id");
    // Unpadded base64 is fine.
    let ack = br#"{"type":"ACKNOWLEDGE","acknowledge":{"agent_id":{"value":"a"},"task_id":{"value":"t"},"uuid":"AAECAwQFBgcICQoLDA0ODw"}}"#;
    assert_eq!(json::decode_call(ack).unwrap().acknowledge.unwrap().uuid.len(), 16);
    // Non-finite doubles are written as strings, and read back.
    let heartbeat = Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: v1::FrameworkId { value: "f".into() },
            heartbeat_interval_seconds: Some(f64::INFINITY),
            master_info: None,
        }),
        ..Default::default()
    };
    let text = json::encode_event(&heartbeat);
    assert!(String::from_utf8_lossy(&text).contains(r#""heartbeat_interval_seconds":"Infinity""#));
    assert_eq!(json::decode_event(&text).unwrap(), heartbeat);
}
