//! A scheduler `Event` from arbitrary protobuf bytes, fed to a subscribed session: decoding,
//! the conversion of offers and updates into the model, and the session's handling never
//! panic.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use offerpack::mesos::v1::scheduler::{event, Event};
use offerpack::mesos::v1::FrameworkId;
use offerpack::session::{Session, SessionConfig};
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = Event::decode(data) else { return };
    let Ok(mut session) = Session::new(SessionConfig::new("fuzz", "root")) else { return };
    let subscribed = Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId { value: "fw".into() },
            heartbeat_interval_seconds: Some(15.0),
            ..Default::default()
        }),
        ..Default::default()
    };
    session.handle_timeout(Duration::ZERO);
    session.handle_subscribed("stream".into(), Duration::ZERO);
    session.handle_event(subscribed, Duration::from_millis(1));
    session.handle_event(event, Duration::from_millis(2));
    session.handle_timeout(Duration::from_secs(1));
    while session.poll_action().is_some() {}
    while session.poll_update().is_some() {}
});
