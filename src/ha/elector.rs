//! [`Elector`]: which instance leads (see the [module docs](super) for the recipe).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_zookeeper::ZooKeeper;

use super::{HaConfig, HaUrl};
use crate::session::{Contender, ZkUrl};
use crate::zk_shell::{connect, contender_timing, join_group, request, wait_for_change, Backoff, Lost};

/// The prefix of the election's member nodes.
const MEMBER: &str = "member_";

/// How often a standby tries the lock of a file store.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// Where an instance stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// Not (or no longer) in the election: connecting, or between two ZooKeeper sessions.
    Candidate,
    /// Another instance leads; `leader` is its name when known.
    Standby {
        /// The leading instance's name.
        leader: Option<String>,
    },
    /// This instance leads; `term` names the term (its election node, or the lock).
    Leading {
        /// The term.
        term: String,
    },
}

/// Contends for leadership on the current tokio runtime until dropped (which leaves the
/// election: the ZooKeeper session is closed, or the lock released).
#[derive(Debug)]
pub struct Elector {
    roles: watch::Receiver<Role>,
    task: JoinHandle<()>,
}

impl Drop for Elector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Elector {
    /// Starts contending as `config.instance` at `config.url`. Must be called within a tokio
    /// runtime.
    pub fn start(config: &HaConfig) -> Elector {
        let (tx, roles) = watch::channel(Role::Candidate);
        let instance = config.instance.clone();
        let task = match &config.url {
            HaUrl::ZooKeeper(url) => tokio::spawn(contend(url.clone(), instance, config.session_timeout, tx)),
            HaUrl::File(dir) => tokio::spawn(lock(dir.clone(), instance, tx)),
        };
        Elector { roles, task }
    }

    /// Follows this instance's role.
    pub fn roles(&self) -> watch::Receiver<Role> {
        self.roles.clone()
    }

    /// The current role.
    pub fn role(&self) -> Role {
        self.roles.borrow().clone()
    }
}

/// Publishes `role` when it changed.
fn report(roles: &watch::Sender<Role>, role: Role) {
    roles.send_if_modified(|current| {
        let changed = *current != role;
        *current = role;
        changed
    });
}

/// One term after another, each with a new session and node; never returns.
async fn contend(url: ZkUrl, instance: String, session_timeout: Duration, roles: watch::Sender<Role>) {
    let mut backoff = Backoff::new(Duration::from_secs(2));
    for server in url.servers().iter().cycle() {
        let mut healthy = false;
        let _lost = term(server, &url, &instance, session_timeout, &roles, &mut healthy).await;
        // Whatever ended the term, this instance leads no more: said before anything else.
        report(&roles, Role::Candidate);
        tokio::time::sleep(backoff.after(healthy)).await;
    }
}

/// One session and one member node; why it ended.
async fn term(
    server: &str,
    url: &ZkUrl,
    instance: &str,
    session_timeout: Duration,
    roles: &watch::Sender<Role>,
    healthy: &mut bool,
) -> Lost {
    let (probe, patience) = contender_timing(session_timeout);
    let zk = match connect(server, session_timeout, patience).await {
        Ok(zk) => zk,
        Err(lost) => return lost,
    };
    let group = format!("{}/election", url.path().trim_end_matches('/'));
    let own = match join_group(&zk, &group, MEMBER, instance.as_bytes(), patience).await {
        Ok(own) => own,
        Err(lost) => return lost,
    };
    loop {
        let children = match request("list", patience, zk.get_children(&group)).await {
            Ok(Some(children)) => children,
            Ok(None) => return format!("the election node {group} is gone"),
            Err(lost) => return lost,
        };
        let Some(standing) = predecessor(children.iter().map(String::as_str), &own) else {
            return format!("its node {own} is gone");
        };
        // Wait on the predecessor's node (a standby) or on its own (the leader).
        let watched = standing.as_ref().map_or(own.as_str(), |(before, _)| before.as_str());
        let watch = match request("watch", patience, zk.with_watcher().exists(&format!("{group}/{watched}"))).await {
            Ok((_, None)) => continue,
            Ok((watch, Some(_))) => watch,
            Err(lost) => return lost,
        };
        let role = match &standing {
            None => Role::Leading { term: own.clone() },
            Some((_, leader)) => Role::Standby { leader: leader_name(&zk, &group, leader, patience).await },
        };
        report(roles, role);
        *healthy = true;
        let fired = async {
            let _ = watch.await;
        };
        if let Err(lost) = wait_for_change(&zk, &group, Some(children), fired, (probe, patience)).await {
            return lost;
        }
    }
}

/// The leading member's instance name from its node's data.
async fn leader_name(zk: &ZooKeeper, group: &str, leader: &str, patience: Duration) -> Option<String> {
    let read = request("read", patience, zk.get_data(&format!("{group}/{leader}"))).await.ok()??;
    String::from_utf8(read.0).ok()
}

/// Where the member `own` stands among `children`: `None` when its node is not among them,
/// `Some(None)` when it leads (the smallest sequence), else `Some((predecessor, leader))`:
/// the member just before it, which it watches, and the leading member.
fn predecessor<'a>(children: impl Iterator<Item = &'a str>, own: &str) -> Option<Option<(String, String)>> {
    let mut members: Vec<Contender> = children.filter(|c| c.starts_with(MEMBER)).filter_map(Contender::parse).collect();
    members.sort_by(|a, b| (a.sequence(), a.name()).cmp(&(b.sequence(), b.name())));
    let at = members.iter().position(|m| m.name() == own)?;
    if at == 0 {
        return Some(None);
    }
    Some(Some((members[at - 1].name().to_owned(), members[0].name().to_owned())))
}

/// The file store's election: an exclusive lock on `dir/leader.lock`, tried every
/// [`LOCK_POLL`]; the holder writes its name to `dir/leader.name`. Never returns while the
/// lock is held (the lock goes with the process or with this task).
async fn lock(dir: PathBuf, instance: String, roles: watch::Sender<Role>) {
    let mut held: Option<File> = None;
    loop {
        if held.is_none() {
            match try_lock(&dir) {
                Ok(Some(file)) => {
                    let _ = std::fs::write(dir.join("leader.name"), instance.as_bytes());
                    held = Some(file);
                    report(&roles, Role::Leading { term: format!("{}/leader.lock", dir.display()) });
                }
                Ok(None) => {
                    let leader = std::fs::read_to_string(dir.join("leader.name")).ok().filter(|n| !n.is_empty());
                    report(&roles, Role::Standby { leader });
                }
                Err(_) => report(&roles, Role::Candidate),
            }
        }
        tokio::time::sleep(LOCK_POLL).await;
    }
}

/// The lock file, locked exclusively, or `None` when another process holds it.
fn try_lock(dir: &Path) -> std::io::Result<Option<File>> {
    use std::os::fd::AsRawFd;
    std::fs::create_dir_all(dir)?;
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("leader.lock"))?;
    // SAFETY: flock on a descriptor this function owns; no memory is passed.
    let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if locked == 0 {
        return Ok(Some(file));
    }
    let error = std::io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(None)
    } else {
        Err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predecessor_is_the_member_just_before() {
        let children = ["member_0000000007", "member_0000000003", "member_0000000005", "other"];
        assert_eq!(predecessor(children.into_iter(), "member_0000000003"), Some(None));
        assert_eq!(
            predecessor(children.into_iter(), "member_0000000007"),
            Some(Some(("member_0000000005".to_owned(), "member_0000000003".to_owned())))
        );
        assert_eq!(predecessor(children.into_iter(), "member_0000000004"), None);
    }

    #[test]
    fn file_lock_excludes_a_second_holder_until_released() {
        let dir = std::env::temp_dir().join(format!("offerpack-ha-lock-{}", std::process::id()));
        let first = try_lock(&dir).unwrap().expect("the first takes the lock");
        assert!(try_lock(&dir).unwrap().is_none(), "held by the first");
        drop(first);
        assert!(try_lock(&dir).unwrap().is_some(), "released with its file");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
