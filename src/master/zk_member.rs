//! The master as a contender in a ZooKeeper group ([`MasterConfig::zookeeper`]): the shell's
//! side of the election. Which child leads, whether that is this master and where to redirect
//! are decided by the sans-IO [`standing`] and [`redirect_target`]; the news goes to the actor
//! as [`Leadership`], which tells the core ([`MasterCore::handle_leadership`]) and answers API
//! requests with 307 to the leader or 503 while it does not lead.
//!
//! One term: connect to a server of the ensemble (in turn), create the group's path if needed
//! (persistent nodes, open ACL), create an EPHEMERAL_SEQUENTIAL child `json.info_` holding
//! the master's `MasterInfo` JSON ([`master_info_json`], as a Mesos master writes it), then
//! list the children with a watch, report where it stands, and wait for the watch or a probe
//! to see a change. The client reports no session state (see [`crate::zk_shell`]), so the
//! session is judged by its requests: a probe every quarter of the session timeout, each given
//! a third of it; any failure, a timeout, or its own node gone ends the term. The master then
//! stops leading at once — before the server can have expired its session, which it does no
//! sooner than a session timeout after the last exchange — drops the client (closing the
//! session, which deletes its node when the server still hears it), and starts a new term with
//! a new session and a new node after a backoff. Nothing is fatal, nothing panics; the task
//! ends with the actor.
//!
//! [`MasterConfig::zookeeper`]: super::MasterConfig::zookeeper
//! [`MasterCore::handle_leadership`]: super::MasterCore::handle_leadership

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_zookeeper::ZooKeeper;

use super::actor::Command;
use super::config::ZkElection;
use crate::session::{master_info_json, redirect_target, standing, Contender, Standing, JSON_LABEL};
use crate::zk_shell::{connect, contender_timing, join_group, request, wait_for_change, Backoff, Lost};

/// Where a master stands in its election, as [`MasterHandle::leadership`] reports it.
///
/// [`MasterHandle::leadership`]: super::MasterHandle::leadership
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Leadership {
    /// This master leads; `node` is its group child (`json.info_0000000003`), `None` for a
    /// master without ZooKeeper, which always leads.
    Leading {
        /// Its `json.info_` node.
        node: Option<String>,
    },
    /// Another master leads at `leader` (`host:port`, where requests are redirected), or no
    /// leader is known (`None`: requests get 503 "No leader elected").
    Following {
        /// The leader's `host:port`.
        leader: Option<String>,
    },
}

impl Leadership {
    /// A follower that knows no leader: how a ZooKeeper master starts.
    pub const NO_LEADER: Leadership = Leadership::Following { leader: None };
}

/// Contends in `election`'s group with `info` until the actor behind `commands` is gone.
pub(crate) async fn contend(
    election: ZkElection,
    info: crate::mesos::v1::MasterInfo,
    commands: mpsc::UnboundedSender<Command>,
) {
    let data = master_info_json(&info);
    // The address other masters' redirects name, read back as any detector reads it.
    let own = Contender::parse(&format!("{JSON_LABEL}_0000000000"))
        .and_then(|c| c.endpoint(&data).ok())
        .map(|e| e.authority().to_owned())
        .unwrap_or_default();
    let mut backoff = Backoff::new(Duration::from_secs(2));
    for server in election.url.servers().iter().cycle() {
        let mut healthy = false;
        tokio::select! {
            _ = term(server, &election, &data, &own, &commands, &mut healthy) => {}
            () = commands.closed() => return,
        }
        // Whatever ended the term, this master leads no more.
        let _ = commands.send(Command::Leadership(Leadership::NO_LEADER));
        tokio::time::sleep(backoff.after(healthy)).await;
    }
}

/// One session and one node; returns why it ended.
async fn term(
    server: &str,
    election: &ZkElection,
    data: &[u8],
    own: &str,
    commands: &mpsc::UnboundedSender<Command>,
    healthy: &mut bool,
) -> Lost {
    let (probe, patience) = contender_timing(election.session_timeout);
    let zk = match connect(server, election.session_timeout, patience).await {
        Ok(zk) => zk,
        Err(lost) => return lost,
    };
    let path = election.url.path();
    let node = match join(&zk, path, data, patience).await {
        Ok(node) => node,
        Err(lost) => return lost,
    };
    loop {
        let listed = match request("list", patience, zk.with_watcher().get_children(path)).await {
            Ok(Some(listed)) => listed,
            Ok(None) => return format!("the group node {path} is gone"),
            Err(lost) => return lost,
        };
        let (watch, children) = listed;
        let news = match standing(children.iter().map(String::as_str), &node) {
            Standing::Absent => return format!("its node {node} is gone"),
            Standing::Leading => Leadership::Leading { node: Some(node.clone()) },
            Standing::Following { leader } => {
                let at = format!("{}/{}", path.trim_end_matches('/'), leader.name());
                match request("read", patience, zk.get_data(&at)).await {
                    // Gone since the listing: its watch has fired.
                    Ok(read) => {
                        Leadership::Following { leader: read.and_then(|(d, _)| redirect_target(&leader, &d, own)) }
                    }
                    Err(lost) => return lost,
                }
            }
        };
        if commands.send(Command::Leadership(news)).is_err() {
            return "the master stopped".to_owned();
        }
        *healthy = true;
        let fired = async {
            let _ = watch.await;
        };
        if let Err(lost) = wait_for_change(&zk, path, Some(children), fired, (probe, patience)).await {
            return lost;
        }
    }
}

/// Creates the group's path if needed and this master's EPHEMERAL_SEQUENTIAL `json.info_`
/// child holding `data`; the child's name.
async fn join(zk: &ZooKeeper, path: &str, data: &[u8], patience: Duration) -> Result<String, Lost> {
    join_group(zk, path, &format!("{JSON_LABEL}_"), data, patience).await
}
