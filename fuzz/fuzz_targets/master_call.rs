//! The simulated master's request path: a scheduler `Call` from arbitrary protobuf bytes,
//! validated and handled by the master core (with a subscribed framework and agents) never
//! panics.
#![no_main]

use std::net::SocketAddr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use offerpack::master::{AgentConfig, MasterConfig, MasterCore};
use offerpack::mesos::v1::scheduler::{call, Call};
use offerpack::mesos::v1::FrameworkInfo;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    let Ok(c) = Call::decode(data) else { return };
    let addr = SocketAddr::from(([127, 0, 0, 1], 5050));
    let config = MasterConfig::new(addr).with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0));
    let mut core = MasterCore::new(config, addr);
    let info = FrameworkInfo { user: "root".into(), name: "fuzz".into(), ..Default::default() };
    let subscribe = Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe { framework_info: info, suppressed_roles: Vec::new() }),
        ..Default::default()
    };
    let _ = core.handle_call(Duration::ZERO, subscribe, None);
    let _ = core.handle_timeout(Duration::from_secs(1));
    while core.poll_output().is_some() {}
    let _ = core.handle_call(Duration::from_secs(2), c, None);
    let _ = core.handle_timeout(Duration::from_secs(30));
    while core.poll_output().is_some() {}
});
