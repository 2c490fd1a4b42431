//! The ZooKeeper side of leader election, shared by every shell that talks to a group:
//! the scheduler driver and the agent follow the leader ([`spawn_detector`]), the simulated
//! master contends (`master::zk_member`) and so do the instances of a highly available
//! framework (`ha::elector`), both built on [`connect`], [`request`], [`ensure_path`],
//! [`join_group`], [`wait_for_change`] and [`Backoff`]. Which child leads and what its data says is decided by the sans-IO
//! [`leader_of`], [`standing`](crate::session::standing) and [`Contender::endpoint`]; this file
//! only talks to ZooKeeper.
//!
//! Detector loop: connect to one server of the ensemble (in turn, after a failure), list the
//! group's children with a watch, read the leader's data, report, and wait for the watch to
//! fire. A probe lists the children every [`PROBE_INTERVAL`] without a watch: it notices a
//! change whose watch was lost with a connection, and any failure or timeout of it (connection
//! loss, session expiry, a server that stopped answering) drops the client and starts over
//! with a new session after a backoff. Nothing is fatal: the detector runs until its receiver
//! is dropped.
//!
//! Client choice: `tokio-zookeeper` runs on the tokio runtime the shells already use and adds
//! about fifteen small crates (futures, snafu, pin-project, byteorder). `zookeeper-client`,
//! the other maintained async client, brings its own reactor (async-io, a second I/O thread)
//! and about eighty crates, two of them old `syn` 1 macro stacks, for features (TLS, SASL,
//! session reconnection across servers) offerpack does not need: readers need no credentials
//! (MESOS-PROTOCOL-2 §3.1: groups are world-readable), and both the detector and the master
//! rebuild their session themselves. Both are pure Rust and need no system package. The
//! client reports no session state changes (no Disconnected or Expired events), so sessions
//! are judged by their requests: a request that fails or times out ends the session.
//! Dropping the client closes its session (CloseSession), which deletes its ephemeral nodes at
//! once when the server is still reachable.

use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::timeout;
use tokio_zookeeper::{error, Acl, CreateMode, ZooKeeper, ZooKeeperBuilder};

use crate::session::{leader_of, Endpoint, ZkUrl};

/// How often the detector lists the group without a watch (see the module docs).
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// The session timeout the detector asks for (Mesos' `--zk_session_timeout` default).
pub(crate) const SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// The detector's longest wait for a connection or one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a session ended.
pub(crate) type Lost = String;

/// How often a contender probes its session, and how long one request may take, for a
/// session timeout: a failed probe is noticed within `timeout / 4 + timeout / 3`, before the
/// server may expire the session and let another contender lead.
pub(crate) fn contender_timing(session_timeout: Duration) -> (Duration, Duration) {
    let floor = Duration::from_millis(50);
    ((session_timeout / 4).max(floor), (session_timeout / 3).max(floor))
}

/// Pauses between sessions: 100 ms doubling up to a maximum; a session that went well resets it.
#[derive(Debug)]
pub(crate) struct Backoff {
    failures: u32,
    max: Duration,
}

impl Backoff {
    /// No failure yet; pauses never exceed `max`.
    pub(crate) fn new(max: Duration) -> Backoff {
        Backoff { failures: 0, max }
    }

    /// The pause after a session that ended; `healthy` when it got as far as reporting.
    pub(crate) fn after(&mut self, healthy: bool) -> Duration {
        self.failures = if healthy { 0 } else { self.failures.saturating_add(1) };
        Duration::from_millis(100).saturating_mul(1 << self.failures.min(6)).min(self.max)
    }
}

/// A new session with `server` (`host:port`), asking for `session_timeout`, within
/// `patience`.
pub(crate) async fn connect(server: &str, session_timeout: Duration, patience: Duration) -> Result<ZooKeeper, Lost> {
    let mut addresses = tokio::net::lookup_host(server).await.map_err(|e| format!("{server}: {e}"))?;
    let address: SocketAddr = addresses.next().ok_or_else(|| format!("{server}: no address"))?;
    let mut builder = ZooKeeperBuilder::default();
    builder.set_timeout(session_timeout);
    // The default watcher carries only watch events nobody asked for: dropped.
    let (zk, _default_watcher) = request("connect", patience, builder.connect(&address)).await?;
    Ok(zk)
}

/// Awaits one ZooKeeper request for at most `patience`; its client error or its timeout is the
/// session's end, named after `what`.
pub(crate) async fn request<T, E: Display>(
    what: &str,
    patience: Duration,
    sent: impl Future<Output = Result<T, E>>,
) -> Result<T, Lost> {
    match timeout(patience, sent).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(format!("ZooKeeper {what}: {e}")),
        Err(_) => Err(format!("ZooKeeper {what} timed out after {:.1}s", patience.as_secs_f64())),
    }
}

/// Creates `path` and each missing parent as persistent nodes with an open ACL (nodes that
/// exist already are fine).
pub(crate) async fn ensure_path(zk: &ZooKeeper, path: &str, patience: Duration) -> Result<(), Lost> {
    let mut prefix = String::new();
    for component in path.split('/').filter(|c| !c.is_empty()) {
        prefix.push('/');
        prefix.push_str(component);
        let created =
            request("create", patience, zk.create(&prefix, &b""[..], Acl::open_unsafe(), CreateMode::Persistent));
        match created.await? {
            Ok(_) | Err(error::Create::NodeExists) => {}
            Err(e) => return Err(format!("ZooKeeper create {prefix}: {e}")),
        }
    }
    Ok(())
}

/// Joins the group at `path` (created if needed): an EPHEMERAL_SEQUENTIAL child
/// `<prefix><10 digits>` holding `data`, which lives as long as this session; its name.
pub(crate) async fn join_group(
    zk: &ZooKeeper,
    path: &str,
    prefix: &str,
    data: &[u8],
    patience: Duration,
) -> Result<String, Lost> {
    ensure_path(zk, path, patience).await?;
    let child = format!("{}/{prefix}", path.trim_end_matches('/'));
    let created = zk.create(&child, data.to_vec(), Acl::open_unsafe(), CreateMode::EphemeralSequential);
    let created = request("create", patience, created).await?.map_err(|e| format!("ZooKeeper create {child}: {e}"))?;
    Ok(created.rsplit('/').next().unwrap_or_default().to_owned())
}

/// Waits until `watch` fires or a probe (every `every`, each answered within `patience`)
/// lists children of `path` other than `seen`; `Err` when a probe fails.
pub(crate) async fn wait_for_change(
    zk: &ZooKeeper,
    path: &str,
    seen: Option<Vec<String>>,
    watch: impl Future<Output = ()>,
    (every, patience): (Duration, Duration),
) -> Result<(), Lost> {
    let mut watch = std::pin::pin!(watch);
    let sorted = |children: Option<Vec<String>>| {
        children.map(|mut children| {
            children.sort_unstable();
            children
        })
    };
    let seen = sorted(seen);
    loop {
        tokio::select! {
            () = &mut watch => return Ok(()),
            () = tokio::time::sleep(every) => {}
        }
        let now = sorted(request("probe", patience, zk.get_children(path)).await?);
        if now != seen {
            return Ok(());
        }
    }
}

/// Starts a leader detector for `url` on the current runtime: the leading master's scheduler
/// endpoint on a `watch` channel, `None` while no master leads. It ends when the receiver is
/// dropped.
pub(crate) fn spawn_detector(url: ZkUrl) -> watch::Receiver<Option<Endpoint>> {
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
    let mut backoff = Backoff::new(Duration::from_secs(5));
    for server in url.servers().iter().cycle() {
        let mut healthy = false;
        // Every way out of `follow` is a failure.
        let _ = follow(server, url.path(), leaders, &mut healthy).await;
        tokio::time::sleep(backoff.after(healthy)).await;
    }
}

/// One session: connect to `server`, then report the leader after every change until
/// something fails.
async fn follow(
    server: &str,
    path: &str,
    leaders: &watch::Sender<Option<Endpoint>>,
    healthy: &mut bool,
) -> Result<(), Lost> {
    let zk = connect(server, SESSION_TIMEOUT, REQUEST_TIMEOUT).await?;
    let probing = (PROBE_INTERVAL, REQUEST_TIMEOUT);
    loop {
        let listed = request("list", REQUEST_TIMEOUT, zk.with_watcher().get_children(path)).await?;
        let Some((watch, children)) = listed else {
            // No group yet: no leader; the probe sees it appear.
            report(leaders, None);
            *healthy = true;
            wait_for_change(&zk, path, None, std::future::pending::<()>(), probing).await?;
            continue;
        };
        let leader = match leader_of(children.iter().map(String::as_str)) {
            None => None,
            Some(contender) => {
                let node = format!("{}/{}", path.trim_end_matches('/'), contender.name());
                match request("read", REQUEST_TIMEOUT, zk.get_data(&node)).await? {
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
        let fired = async {
            let _ = watch.await;
        };
        wait_for_change(&zk, path, Some(children), fired, probing).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contender_timing_probes_well_within_the_session_timeout() {
        let (probe, patience) = contender_timing(Duration::from_secs(4));
        assert_eq!((probe.as_millis(), patience.as_millis()), (1000, 1333));
        // A failed probe is noticed before the server may expire the session.
        assert!(probe + patience < Duration::from_secs(4));
        assert_eq!(contender_timing(Duration::ZERO), (Duration::from_millis(50), Duration::from_millis(50)));
    }

    #[test]
    fn backoff_doubles_up_to_its_maximum_and_resets_after_a_healthy_session() {
        let mut backoff = Backoff::new(Duration::from_secs(1));
        let pauses: Vec<u128> = (0..6).map(|_| backoff.after(false).as_millis()).collect();
        assert_eq!(pauses, [200, 400, 800, 1000, 1000, 1000]);
        assert_eq!(backoff.after(true), Duration::from_millis(100));
        assert_eq!(backoff.after(false), Duration::from_millis(200));
    }
}
