#![cfg(feature = "mesos")]
//! Byte-for-byte checks of the prost subset against the golden protobuf vectors of
//! MESOS-PROTOCOL.md §A13 (produced with `protoc --encode` against the upstream v1 protos).
//!
//! Each vector is checked both ways: the message built here encodes to exactly the golden
//! bytes, and the golden bytes decode to exactly that message.

use bytes::BytesMut;
use offerpack::mesos::recordio::{self, Decoder};
use offerpack::mesos::v1::scheduler::{call, event, Call, Event};
use offerpack::mesos::v1::{
    self, command_info, framework_info, resource, task_status, value, AgentId, CommandInfo, Filters, FrameworkId,
    FrameworkInfo, OfferId, TaskId, TaskInfo, TaskState, TaskStatus,
};
use prost::Message;

/// Decodes lower-case hex; the vectors are literals in this file, so bad hex is a test bug.
fn unhex(hex: &str) -> Vec<u8> {
    assert!(hex.len() % 2 == 0, "odd hex length");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex literal")).collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Asserts `message` encodes to `golden` and `golden` decodes to `message`.
fn assert_golden<M: Message + Default + PartialEq + std::fmt::Debug>(message: &M, golden: &str) {
    assert_eq!(to_hex(&message.encode_to_vec()), golden, "encoding of {message:?}");
    let decoded = M::decode(&unhex(golden)[..]).expect("golden vector decodes");
    assert_eq!(&decoded, message, "decoding of {golden}");
}

fn fw() -> Option<FrameworkId> {
    Some(FrameworkId { value: "fw-1".into() })
}

fn uuid() -> Vec<u8> {
    (0u8..16).collect()
}

fn call(r#type: call::Type) -> Call {
    Call { framework_id: fw(), r#type: Some(r#type as i32), ..Default::default() }
}

fn event(r#type: event::Type) -> Event {
    Event { r#type: Some(r#type as i32), ..Default::default() }
}

const SUBSCRIBED: &str = "080112110a060a0466772d31110000000000002e40";

fn subscribed() -> Event {
    Event {
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId { value: "fw-1".into() },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..event(event::Type::Subscribed)
    }
}

#[test]
fn golden_decline_call() {
    let message = Call {
        decline: Some(call::Decline {
            offer_ids: vec![OfferId { value: "o-1".into() }],
            filters: Some(Filters { refuse_seconds: Some(5.0) }),
        }),
        ..call(call::Type::Decline)
    };
    assert_golden(&message, "0a060a0466772d3110042a120a050a036f2d311209090000000000001440");
}

#[test]
fn golden_subscribe_call() {
    let message = Call {
        framework_id: None,
        subscribe: Some(call::Subscribe {
            framework_info: FrameworkInfo {
                user: "root".into(),
                name: "fenzo-rs".into(),
                failover_timeout: Some(604800.0),
                checkpoint: Some(true),
                roles: vec!["*".into()],
                capabilities: vec![framework_info::Capability {
                    r#type: Some(framework_info::capability::Type::MultiRole as i32),
                }],
                ..Default::default()
            },
            suppressed_roles: vec![],
        }),
        ..call(call::Type::Subscribe)
    };
    assert_golden(&message, "10011a240a220a04726f6f74120866656e7a6f2d727321000000000075224128015202080662012a");
}

#[test]
fn golden_accept_launch_call() {
    let task = TaskInfo {
        name: "t1".into(),
        task_id: TaskId { value: "t-1".into() },
        agent_id: AgentId { value: "a-1".into() },
        resources: vec![v1::Resource {
            name: "cpus".into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value: 0.5 }),
            ..Default::default()
        }],
        command: Some(CommandInfo {
            uris: vec![command_info::Uri {
                value: "http://10.0.0.5:8080/executor".into(),
                executable: Some(true),
                extract: Some(false),
                ..Default::default()
            }],
            shell: Some(false),
            value: Some("./executor".into()),
            arguments: vec!["./executor".into()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let message = Call {
        accept: Some(call::Accept {
            offer_ids: vec![OfferId { value: "o-1".into() }],
            operations: vec![v1::offer::Operation {
                r#type: Some(v1::offer::operation::Type::Launch as i32),
                launch: Some(v1::offer::operation::Launch { task_infos: vec![task] }),
                ..Default::default()
            }],
            filters: Some(Filters { refuse_seconds: Some(1.0) }),
        }),
        ..call(call::Type::Accept)
    };
    assert_golden(
        &message,
        "0a060a0466772d3110032282010a050a036f2d31126e0801126a0a680a02743112050a03742d311a050a03612d\
         3122130a046370757310001a0909000000000000e03f3a3f0a230a1d687474703a2f2f31302e302e302e353a38\
         3038302f6578656375746f72100118001a0a2e2f6578656375746f7230003a0a2e2f6578656375746f721a0909\
         000000000000f03f",
    );
}

#[test]
fn golden_acknowledge_call() {
    let message = Call {
        acknowledge: Some(call::Acknowledge {
            agent_id: AgentId { value: "a-1".into() },
            task_id: TaskId { value: "t-1".into() },
            uuid: uuid(),
        }),
        ..call(call::Type::Acknowledge)
    };
    assert_golden(&message, "0a060a0466772d31100842200a050a03612d3112050a03742d311a10000102030405060708090a0b0c0d0e0f");
}

#[test]
fn golden_subscribed_event() {
    assert_golden(&subscribed(), SUBSCRIBED);
}

#[test]
#[allow(deprecated)] // the vector sets the deprecated `Resource.role`, as masters still do
fn golden_offers_event() {
    let offer = v1::Offer {
        id: OfferId { value: "o-1".into() },
        framework_id: FrameworkId { value: "fw-1".into() },
        agent_id: AgentId { value: "a-1".into() },
        hostname: "h1".into(),
        resources: vec![
            v1::Resource {
                name: "cpus".into(),
                r#type: value::Type::Scalar as i32,
                scalar: Some(value::Scalar { value: 4.0 }),
                role: Some("*".into()),
                ..Default::default()
            },
            v1::Resource {
                name: "ports".into(),
                r#type: value::Type::Ranges as i32,
                ranges: Some(value::Ranges { range: vec![value::Range { begin: 31000, end: 32000 }] }),
                ..Default::default()
            },
        ],
        attributes: vec![v1::Attribute {
            name: "rack".into(),
            r#type: value::Type::Text as i32,
            text: Some(value::Text { value: "r1".into() }),
            ..Default::default()
        }],
        ..Default::default()
    };
    let message = Event { offers: Some(event::Offers { offers: vec![offer.clone()] }), ..event(event::Type::Offers) };
    assert_golden(
        &message,
        "08021a5b0a590a050a036f2d3112060a0466772d311a050a03612d31220268312a160a046370757310001a0909\
         000000000000104032012a2a150a05706f7274731001220a0a080898f2011080fa013a0e0a047261636b1003\
         2a040a027231",
    );

    // The decoded offer also converts into the engine's model.
    let model = offerpack::Offer::try_from(&offer).expect("golden offer converts");
    let expected = offerpack::Offer::new("o-1", "a-1", "h1")
        .with_scalar("cpus", 4.0)
        .expect("valid scalar")
        .with_ports(31000, 32000)
        .expect("valid range")
        .with_text_attribute("rack", "r1");
    assert_eq!(model, expected);
}

#[test]
fn golden_update_event() {
    let message = Event {
        update: Some(event::Update {
            status: TaskStatus {
                task_id: TaskId { value: "t-1".into() },
                state: TaskState::TaskRunning as i32,
                source: Some(task_status::Source::Executor as i32),
                agent_id: Some(AgentId { value: "a-1".into() }),
                uuid: Some(uuid()),
                ..Default::default()
            },
        }),
        ..event(event::Type::Update)
    };
    assert_golden(&message, "08042a260a240a050a03742d3110012a050a03612d3148025a10000102030405060708090a0b0c0d0e0f");
}

#[test]
fn golden_short_vectors() {
    assert_golden(&event(event::Type::Heartbeat), "0808");
    assert_golden(&call(call::Type::Revive), "0a060a0466772d311005");
    assert_golden(&call(call::Type::Teardown), "0a060a0466772d311002");
    let reconcile = Call { reconcile: Some(call::Reconcile { tasks: vec![] }), ..call(call::Type::Reconcile) };
    assert_golden(&reconcile, "0a060a0466772d3110094a00");
}

#[test]
fn golden_recordio_framing_of_subscribed() {
    let golden = format!("32310a{SUBSCRIBED}");
    let mut wire = BytesMut::new();
    recordio::encode_message(&subscribed(), &mut wire);
    assert_eq!(to_hex(&wire), golden);
    assert_eq!(to_hex(&recordio::encode_to_bytes(&unhex(SUBSCRIBED))), golden);

    let mut decoder = Decoder::new();
    for chunk in unhex(&golden).chunks(5) {
        decoder.push(chunk);
    }
    let frame = decoder.next_frame().expect("valid stream").expect("one frame");
    assert_eq!(Event::decode(frame).expect("event decodes"), subscribed());
    assert!(decoder.finish().is_ok());
}

#[test]
#[allow(deprecated)]
fn proto_defaults_match_upstream() {
    assert_eq!(Filters::default().refuse_seconds(), 5.0);
    assert!(CommandInfo::default().shell());
    assert!(command_info::Uri::default().extract());
    assert_eq!(FrameworkInfo::default().failover_timeout(), 0.0);
    assert!(!FrameworkInfo::default().checkpoint());
    assert_eq!(FrameworkInfo::default().role(), "*");
    assert_eq!(v1::Resource::default().role(), "*");
    assert_eq!(v1::MasterInfo::default().port, 5050);
    let variable = v1::environment::Variable::default();
    assert_eq!(variable.r#type(), v1::environment::variable::Type::Value);
    assert_eq!(resource::ReservationInfo::default().r#type(), resource::reservation_info::Type::Unknown);
}

/// The executor API vectors of MESOS-PROTOCOL-2.md §1.9.
mod executor_api {
    use super::{assert_golden, unhex};
    use offerpack::mesos::v1::executor::{call, event, Call, Event};
    use offerpack::mesos::v1::{task_status, ExecutorId, FrameworkId, TaskId, TaskState, TaskStatus};

    fn call(r#type: call::Type) -> Call {
        Call {
            executor_id: ExecutorId { value: "e-1".into() },
            framework_id: FrameworkId { value: "fw-1".into() },
            r#type: Some(r#type as i32),
            ..Default::default()
        }
    }

    fn uuid() -> Vec<u8> {
        unhex("6f1c2a9e3b4d4a119b075c3e2180d455")
    }

    fn task() -> TaskId {
        TaskId { value: "t-1".into() }
    }

    #[test]
    fn golden_executor_subscribe_call() {
        let subscribe = Call { subscribe: Some(call::Subscribe::default()), ..call(call::Type::Subscribe) };
        assert_golden(&subscribe, "0a050a03652d3112060a0466772d3118012200");
    }

    #[test]
    fn golden_executor_update_call() {
        let status = TaskStatus {
            task_id: task(),
            state: TaskState::TaskRunning as i32,
            source: Some(task_status::Source::Executor as i32),
            uuid: Some(uuid()),
            ..Default::default()
        };
        let update = Call { update: Some(call::Update { status }), ..call(call::Type::Update) };
        assert_golden(
            &update,
            "0a050a03652d3112060a0466772d3118022a1f0a1d0a050a03742d31100148025a106f1c2a9e3b4d4a119b075c3e2180d455",
        );
    }

    #[test]
    fn golden_executor_message_and_heartbeat_calls() {
        let message = Call { message: Some(call::Message { data: b"hi".to_vec() }), ..call(call::Type::Message) };
        assert_golden(&message, "0a050a03652d3112060a0466772d311803320412026869");
        assert_golden(&call(call::Type::Heartbeat), "0a050a03652d3112060a0466772d311804");
    }

    #[test]
    fn golden_executor_events() {
        let acknowledged = Event {
            r#type: Some(event::Type::Acknowledged as i32),
            acknowledged: Some(event::Acknowledged { task_id: task(), uuid: uuid() }),
            ..Default::default()
        };
        assert_golden(&acknowledged, "08041a190a050a03742d3112106f1c2a9e3b4d4a119b075c3e2180d455");
        let kill = Event {
            r#type: Some(event::Type::Kill as i32),
            kill: Some(event::Kill { task_id: task(), kill_policy: None }),
            ..Default::default()
        };
        assert_golden(&kill, "08032a070a050a03742d31");
        let bare = |t: event::Type| Event { r#type: Some(t as i32), ..Default::default() };
        assert_golden(&bare(event::Type::Shutdown), "0807");
        assert_golden(&bare(event::Type::Heartbeat), "0809");
    }
}
