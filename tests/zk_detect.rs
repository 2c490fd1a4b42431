//! Leader detection against a real ZooKeeper server (see `zk_support`): a framework given
//! `zk://127.0.0.1:PORT/mesos` subscribes to the master whose `json.info_` node has the smallest
//! sequence, and when that node goes it re-subscribes to the next master with the same
//! framework id. Skipped (with a message) without ZooKeeper, except in CI.

mod zk_support;

use std::time::Duration;

use offerpack::driver::{Framework, FrameworkConfig, Updates};
use offerpack::master::{AgentConfig, MasterConfig, MasterHandle, SimMaster};
use offerpack::session::{StopMode, Update};
use tokio_zookeeper::{Acl, CreateMode, ZooKeeper};
use zk_support::ZkServer;

/// Longest real-time wait for one expected update.
const PATIENCE: Duration = Duration::from_secs(60);

async fn sim_master(seed: u64) -> MasterHandle {
    let config = MasterConfig::default().with_seed(seed).with_uniform_agents(1, &AgentConfig::new("", 4.0, 4096.0));
    SimMaster::start(config).await.expect("master starts")
}

/// `MasterInfo` JSON as a Mesos master writes it for `master` (§3.3 of MESOS-PROTOCOL-2).
fn master_info(master: &MasterHandle) -> Vec<u8> {
    let addr = master.addr();
    let std::net::IpAddr::V4(ip) = addr.ip() else { panic!("IPv4 loopback expected") };
    let info = serde_json::json!({
        "id": master.master_id(),
        "ip": u32::from_le_bytes(ip.octets()),
        "port": addr.port(),
        "pid": format!("master@{addr}"),
        "hostname": "localhost",
        "address": {"hostname": "localhost", "ip": ip.to_string(), "port": addr.port()},
    });
    info.to_string().into_bytes()
}

async fn create(zk: &ZooKeeper, path: &str, data: Vec<u8>, mode: CreateMode) -> String {
    zk.create(path, data, Acl::open_unsafe(), mode).await.expect("ZooKeeper answers").expect("node created")
}

/// The next update that `pick` accepts, skipping others.
async fn next<T>(updates: &mut Updates, what: &str, mut pick: impl FnMut(&Update) -> Option<T>) -> T {
    let found = tokio::time::timeout(PATIENCE, async {
        while let Some(update) = updates.recv().await {
            if let Some(found) = pick(&update) {
                return Some(found);
            }
        }
        None
    });
    found
        .await
        .unwrap_or_else(|_| panic!("no {what} within {PATIENCE:?}"))
        .unwrap_or_else(|| panic!("updates ended before {what}"))
}

/// The framework ids the master's operator API lists (GET_FRAMEWORKS, JSON).
async fn frameworks_of(master: &MasterHandle) -> Vec<String> {
    offerpack::tls::install_default_provider();
    let response = reqwest::Client::new()
        .post(master.operator_url())
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(r#"{"type":"GET_FRAMEWORKS"}"#)
        .send()
        .await
        .expect("operator API answers");
    let body = response.bytes().await.expect("operator answer");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON answer");
    let frameworks = json["get_frameworks"]["frameworks"].as_array().cloned().unwrap_or_default();
    frameworks.iter().filter_map(|f| f["framework_info"]["id"]["value"].as_str().map(str::to_owned)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zk_detect_framework_follows_the_leader_to_the_next_master() {
    let Some(zk_server) = ZkServer::start().await else {
        return;
    };
    let (first, second) = (sim_master(1).await, sim_master(2).await);
    assert_ne!(first.master_id(), second.master_id());
    // Two contenders, each on its own ZooKeeper session as masters are, and a node that is no
    // contender (the replicated log's).
    let (first_zk, second_zk) = (zk_server.client().await, zk_server.client().await);
    create(&first_zk, "/mesos", Vec::new(), CreateMode::Persistent).await;
    create(&first_zk, "/mesos/log_replicas", Vec::new(), CreateMode::Persistent).await;
    let first_node = create(&first_zk, "/mesos/json.info_", master_info(&first), CreateMode::EphemeralSequential).await;
    create(&second_zk, "/mesos/json.info_", master_info(&second), CreateMode::EphemeralSequential).await;

    let url = format!("zk://{}/mesos", zk_server.addr());
    let (handle, mut updates) = Framework::start(FrameworkConfig::new("zk-detect", "root", [url])).expect("starts");
    let framework_id = next(&mut updates, "first subscription", |u| match u {
        Update::Subscribed { framework_id } => Some(framework_id.clone()),
        _ => None,
    })
    .await;
    // The first master (smallest sequence) assigned the id.
    assert!(framework_id.starts_with(first.master_id()), "{framework_id} not from {}", first.master_id());
    assert!(frameworks_of(&second).await.is_empty());

    // The leader's node goes: the framework drops the stream and follows the detector.
    first_zk.delete(&first_node, None).await.expect("ZooKeeper answers").expect("node deleted");
    let reason = next(&mut updates, "disconnection", |u| match u {
        Update::Disconnected { reason } => Some(reason.clone()),
        _ => None,
    })
    .await;
    assert!(reason.contains(&second.addr().to_string()), "{reason}");
    let again = next(&mut updates, "second subscription", |u| match u {
        Update::Subscribed { framework_id } => Some(framework_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(again, framework_id);
    assert_eq!(frameworks_of(&second).await, [framework_id]);

    handle.stop(StopMode::Failover);
    next(&mut updates, "stop", |u| matches!(u, Update::Stopped(_)).then_some(())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zk_detect_survives_losing_the_zookeeper_server_and_its_sessions() {
    let Some(mut zk_server) = ZkServer::start().await else {
        return;
    };
    let (first, second) = (sim_master(3).await, sim_master(4).await);
    let first_zk = zk_server.client().await;
    create(&first_zk, "/mesos", Vec::new(), CreateMode::Persistent).await;
    create(&first_zk, "/mesos/json.info_", master_info(&first), CreateMode::EphemeralSequential).await;
    let url = format!("zk://{}/mesos", zk_server.addr());
    let (handle, mut updates) = Framework::start(FrameworkConfig::new("zk-restart", "root", [url])).expect("starts");
    let framework_id = next(&mut updates, "first subscription", |u| match u {
        Update::Subscribed { framework_id } => Some(framework_id.clone()),
        _ => None,
    })
    .await;
    assert!(framework_id.starts_with(first.master_id()), "{framework_id}");

    // The server goes away and comes back empty: the detector's connection is lost and its
    // session unknown to the new server, so it must open a new one; the stream to the first
    // master is not touched meanwhile.
    drop(first_zk);
    zk_server.restart_empty().await;
    let second_zk = zk_server.client().await;
    create(&second_zk, "/mesos", Vec::new(), CreateMode::Persistent).await;
    create(&second_zk, "/mesos/json.info_", master_info(&second), CreateMode::EphemeralSequential).await;
    let reason = next(&mut updates, "disconnection", |u| match u {
        Update::Disconnected { reason } => Some(reason.clone()),
        Update::Subscribed { .. } => panic!("subscribed again before the leader changed: {u:?}"),
        _ => None,
    })
    .await;
    assert!(reason.contains(&second.addr().to_string()), "{reason}");
    let again = next(&mut updates, "second subscription", |u| match u {
        Update::Subscribed { framework_id } => Some(framework_id.clone()),
        _ => None,
    })
    .await;
    assert_eq!(again, framework_id);
    assert_eq!(frameworks_of(&second).await, [framework_id]);
    handle.stop(StopMode::Failover);
}

#[tokio::test]
async fn zk_detect_refuses_a_bad_url_at_start() {
    for bad in ["zk://127.0.0.1:2181", "zk://127.0.0.1:notaport/mesos"] {
        let error = Framework::start(FrameworkConfig::new("zk", "root", [bad])).unwrap_err().to_string();
        assert!(error.contains("ZooKeeper URL") && error.contains(bad), "{error}");
    }
    let mixed = FrameworkConfig::new("zk", "root", ["127.0.0.1:5050", "zk://127.0.0.1:2181/mesos"]);
    let error = Framework::start(mixed).unwrap_err().to_string();
    assert!(error.contains("must be the only master address"), "{error}");
}
