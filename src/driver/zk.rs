//! The ZooKeeper leader detector: a task beside the driver that follows the masters' group node
//! of a `zk://` URL and reports the leading master's scheduler endpoint on a `watch` channel
//! (`None` while no master leads). Which child leads and what its data says is decided by the
//! sans-IO [`leader_of`] and [`Contender::endpoint`]; this file only talks to ZooKeeper.
//!
//! Loop: connect to one server of the ensemble (in turn, after a failure), list the group's
//! children with a watch, read the leader's data, report, and wait for the watch to fire. A
//! probe lists the children every [`PROBE_INTERVAL`] without a watch: it notices a change
//! whose watch was lost with a connection, and any failure or timeout of it (connection loss,
//! session expiry, a server that stopped answering) drops the client and starts over with a
//! new session after a backoff. Nothing is fatal: the detector runs until the driver drops its
//! receiver.
//!
//! Client choice: `tokio-zookeeper` runs on the tokio runtime the driver already uses and adds
//! about fifteen small crates (futures, snafu, pin-project, byteorder). `zookeeper-client`,
//! the other maintained async client, brings its own reactor (async-io, a second I/O thread)
//! and about eighty crates, two of them old `syn` 1 macro stacks, for features (TLS, SASL,
//! session reconnection across servers) the detector does not need: it only reads, needs no
//! credentials (MESOS-PROTOCOL-2 §3.1: groups are world-readable) and rebuilds its session
//! itself. Both are pure Rust and need no system package.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::timeout;
use tokio_zookeeper::{ZooKeeper, ZooKeeperBuilder};

use crate::session::{leader_of, Endpoint, ZkUrl};

/// How often the group is listed without a watch (see the module docs).
pub const PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// The session timeout asked for (Mesos' `--zk_session_timeout` default).
const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest wait for a connection or one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Longest pause between two connection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Starts the detector on the current runtime; it ends when the receiver is dropped.
pub(crate) fn spawn(url: ZkUrl) -> watch::Receiver<Option<Endpoint>> {
    let (leaders, receiver) = watch::channel(None);
    tokio::spawn(async move {
        tokio::select! {
            () = detect(&url, &leaders) => {}
            () = leaders.closed() => {}
        }
    });
    receiver
}

/// Follows the group through one session after another, never returning.
async fn detect(url: &ZkUrl, leaders: &watch::Sender<Option<Endpoint>>) {
    let mut failures: u32 = 0;
    for server in url.servers().iter().cycle() {
        let mut healthy = false;
        // Every way out of `follow` is a failure; a session that reported anything resets the
        // backoff.
        let _ = follow(server, url.path(), leaders, &mut healthy).await;
        failures = if healthy { 0 } else { failures.saturating_add(1) };
        let backoff = Duration::from_millis(100).saturating_mul(1 << failures.min(6)).min(MAX_BACKOFF);
        tokio::time::sleep(backoff).await;
    }
}

/// Why a session ended.
type Lost = String;

/// One session: connect to `server`, then report the leader after every change until
/// something fails.
async fn follow(
    server: &str,
    path: &str,
    leaders: &watch::Sender<Option<Endpoint>>,
    healthy: &mut bool,
) -> Result<(), Lost> {
    let address = resolve(server).await?;
    let mut builder = ZooKeeperBuilder::default();
    builder.set_timeout(SESSION_TIMEOUT);
    let connected = timeout(REQUEST_TIMEOUT, builder.connect(&address)).await;
    // The default watcher (session events) is kept open but not read: the probe notices a
    // session that is gone.
    let (zk, _session_events) = connected.map_err(|_| timed_out("connect"))?.map_err(|e| e.to_string())?;
    loop {
        let listed = timeout(REQUEST_TIMEOUT, zk.with_watcher().get_children(path)).await;
        let Some((watch, children)) = listed.map_err(|_| timed_out("list"))?.map_err(|e| e.to_string())? else {
            // No group yet: no leader; the probe sees it appear.
            report(leaders, None);
            *healthy = true;
            wait_for_change(&zk, path, None, std::future::pending::<()>()).await?;
            continue;
        };
        let leader = match leader_of(children.iter().map(String::as_str)) {
            None => None,
            Some(contender) => {
                let node = format!("{}/{}", path.trim_end_matches('/'), contender.name());
                let read = timeout(REQUEST_TIMEOUT, zk.get_data(&node)).await;
                match read.map_err(|_| timed_out("read"))?.map_err(|e| e.to_string())? {
                    // Gone between the two reads: its watch fires, or the probe sees it.
                    None => None,
                    // A leader whose data names no master: no usable leader (Mesos fails the
                    // detection alike).
                    Some((data, _)) => contender.endpoint(&data).ok(),
                }
            }
        };
        report(leaders, leader);
        *healthy = true;
        wait_for_change(&zk, path, Some(children), async {
            let _ = watch.await;
        })
        .await?;
    }
}

/// Waits until `watch` fires or a probe lists children other than `seen`; `Err` when a probe
/// fails.
async fn wait_for_change(
    zk: &ZooKeeper,
    path: &str,
    seen: Option<Vec<String>>,
    watch: impl std::future::Future<Output = ()>,
) -> Result<(), Lost> {
    let mut watch = std::pin::pin!(watch);
    let mut seen = seen;
    if let Some(children) = seen.as_mut() {
        children.sort_unstable();
    }
    loop {
        tokio::select! {
            () = &mut watch => return Ok(()),
            () = tokio::time::sleep(PROBE_INTERVAL) => {}
        }
        let probe = timeout(REQUEST_TIMEOUT, zk.get_children(path)).await;
        let mut now = probe.map_err(|_| timed_out("probe"))?.map_err(|e| e.to_string())?;
        if let Some(children) = now.as_mut() {
            children.sort_unstable();
        }
        if now != seen {
            return Ok(());
        }
    }
}

/// Publishes `leader` when it differs from the last report.
fn report(leaders: &watch::Sender<Option<Endpoint>>, leader: Option<Endpoint>) {
    leaders.send_if_modified(|current| {
        let changed = *current != leader;
        *current = leader;
        changed
    });
}

/// The first address of `server` (`host:port`).
async fn resolve(server: &str) -> Result<SocketAddr, Lost> {
    let mut addresses = tokio::net::lookup_host(server).await.map_err(|e| format!("{server}: {e}"))?;
    addresses.next().ok_or_else(|| format!("{server}: no address"))
}

fn timed_out(what: &str) -> Lost {
    format!("ZooKeeper {what} timed out after {}s", REQUEST_TIMEOUT.as_secs())
}
