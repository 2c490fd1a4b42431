//! A highly available framework (feature `ha`): several instances of one scheduler, one of
//! which leads, as Marathon and Aurora run theirs.
//!
//! - **Election** ([`Elector`]): with ZooKeeper, ZooKeeper's leader election recipe — every
//!   instance creates an EPHEMERAL_SEQUENTIAL `member_` node under `PATH/election` holding its
//!   instance name; the smallest sequence leads, every other instance watches the node just
//!   before its own. The session is judged by its requests (see the `zk_shell` module): a
//!   probe fails or times out, or its own node is gone, and the leader steps down at once,
//!   before the server can have expired its session and let another instance lead; it then
//!   contends again with a new session. With a file store, the instances of one host take an
//!   exclusive lock (`flock`) on `DIR/leader.lock` instead; the kernel releases it when the
//!   holder dies.
//! - **State** ([`StateStore`]): what a successor needs, persisted by the leader *before* it
//!   acts on it — the run ([`RunMeta`]: the framework id as soon as `SUBSCRIBED` gives one
//!   and before anything is launched, the failover timeout, the application's settings),
//!   every task ([`TaskRecord`]: its definition, written before the task is handed to the
//!   session, then its state, attempt and the wall-clock time a pending retry may start, each
//!   change written when learnt), and at the end a [`Finished`] marker in place of the rest.
//!   [`ZkStore`] keeps one znode per task under `PATH/state/tasks` (a state change rewrites a
//!   few hundred bytes, far below ZooKeeper's default 1 MB `jute.maxbuffer`, and writes are
//!   batched into `multi` requests of at most 128 operations and 512 KiB);
//!   [`FileStore`] one file per task under `DIR/tasks`, each written to a temporary file and
//!   renamed over the old one.
//! - **Fencing**: taking over ([`StateStore::take_over`]) bumps the store's epoch (the
//!   version of `PATH/state/epoch`, or the number in `DIR/epoch`), and every later write
//!   checks that epoch in the same atomic step (a ZooKeeper `multi` whose first operation is
//!   a version `check`), so a deposed leader's write fails with [`StoreError::Fenced`].
//! - **Takeover**: the new leader loads the [`Snapshot`], starts its driver with the stored
//!   framework id and failover timeout, and submits every task that has not ended with
//!   [`TaskRecord::resume`] ([`TaskRequest::resume`](crate::session::TaskRequest::resume)):
//!   the session adopts a task the master reports running instead of launching it again, and
//!   learns how attempts ended while no leader was up from the master's completed tasks and
//!   held status updates (see the session's `resume.rs`).
//!
//! `offerpack run --ha zk://HOST:PORT/PATH` (or `--ha file:///DIR`) is built on this API.

mod elector;
mod file_store;
mod record;
mod zk_store;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

pub use elector::{Elector, Role};
pub use file_store::FileStore;
pub use record::{escape_id, unescape_id, wall_ms, Finished, RunMeta, Snapshot, TaskRecord};
pub use zk_store::ZkStore;

use crate::session::{ZkUrl, ZkUrlError};

/// The ZooKeeper session timeout an instance asks for by default.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the instances meet: a ZooKeeper ensemble and path, or a directory of one host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HaUrl {
    /// `zk://host:port[,host:port…]/path`: election under `path/election`, state under
    /// `path/state`.
    ZooKeeper(ZkUrl),
    /// `file:///absolute/dir`: a lock file and the state in that directory (instances on one
    /// host).
    File(PathBuf),
}

impl HaUrl {
    /// Parses `zk://…` or `file:///…` (an absolute path).
    ///
    /// ```
    /// use offerpack::ha::HaUrl;
    /// assert!(matches!(HaUrl::parse("zk://127.0.0.1:2181/offerpack/run-1"), Ok(HaUrl::ZooKeeper(_))));
    /// assert!(matches!(HaUrl::parse("file:///var/lib/offerpack"), Ok(HaUrl::File(_))));
    /// assert!(HaUrl::parse("file://relative").is_err());
    /// assert!(HaUrl::parse("http://x").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<HaUrl, HaUrlError> {
        if ZkUrl::is_zk(text) {
            return ZkUrl::parse(text).map(HaUrl::ZooKeeper).map_err(HaUrlError::ZooKeeper);
        }
        match text.trim().strip_prefix("file://") {
            Some(path) if path.starts_with('/') && path.len() > 1 => Ok(HaUrl::File(PathBuf::from(path))),
            Some(_) => Err(HaUrlError::Other(format!("{text:?}: expected file:///absolute/dir"))),
            None => Err(HaUrlError::Other(format!("{text:?}: expected zk://HOST:PORT/PATH or file:///DIR"))),
        }
    }
}

/// A `--ha` URL that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HaUrlError {
    /// An unusable `zk://` URL.
    ZooKeeper(ZkUrlError),
    /// Anything else; the text says why.
    Other(String),
}

impl fmt::Display for HaUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZooKeeper(e) => e.fmt(f),
            Self::Other(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for HaUrlError {}

/// One instance's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HaConfig {
    /// Where the instances meet.
    pub url: HaUrl,
    /// This instance's name, shown to the others (`standby: leader is NAME`).
    pub instance: String,
    /// The ZooKeeper session timeout to ask for (the server bounds it by its tick).
    pub session_timeout: Duration,
}

impl HaConfig {
    /// An instance named `instance` meeting at `url`, with the default session timeout.
    pub fn new(url: HaUrl, instance: impl Into<String>) -> HaConfig {
        HaConfig { url, instance: instance.into(), session_timeout: DEFAULT_SESSION_TIMEOUT }
    }

    /// The store at the configured place (not connected yet).
    pub fn store(&self) -> Box<dyn StateStore> {
        match &self.url {
            HaUrl::ZooKeeper(url) => Box::new(ZkStore::new(url.clone(), self.session_timeout)),
            HaUrl::File(dir) => Box::new(FileStore::new(dir.clone())),
        }
    }
}

/// Why a store operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// Another leader took the store over since this one did: stop acting.
    Fenced,
    /// The store could not be reached or written.
    Io(String),
    /// What the store holds does not decode.
    Corrupt(String),
    /// A record is larger than the store takes.
    TooLarge(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fenced => f.write_str("another leader took the state store over (fenced)"),
            Self::Io(why) => write!(f, "state store: {why}"),
            Self::Corrupt(why) => write!(f, "state store holds something unreadable: {why}"),
            Self::TooLarge(why) => write!(f, "state store: too large: {why}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A store operation in progress.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Where a leader persists what a successor needs (see the [module docs](self)). Every write
/// after [`StateStore::take_over`] fails with [`StoreError::Fenced`] once another writer has
/// taken the store over.
pub trait StateStore: Send + fmt::Debug {
    /// Becomes the store's writer as `instance`, fencing off every earlier writer.
    fn take_over<'a>(&'a mut self, instance: &'a str) -> StoreFuture<'a, ()>;
    /// Reads everything stored.
    fn load(&mut self) -> StoreFuture<'_, Snapshot>;
    /// Writes the run.
    fn put_meta<'a>(&'a mut self, meta: &'a RunMeta) -> StoreFuture<'a, ()>;
    /// Writes (creates or replaces) these task records.
    fn put_tasks<'a>(&'a mut self, tasks: &'a [TaskRecord]) -> StoreFuture<'a, ()>;
    /// Leaves `finished` in place of the run and its tasks.
    fn finish<'a>(&'a mut self, finished: &'a Finished) -> StoreFuture<'a, ()>;
    /// Removes the run, its tasks and any finished marker (a new run starts).
    fn clear(&mut self) -> StoreFuture<'_, ()>;
}

/// Groups records of `sizes` bytes into batches of at most `max_ops` records and
/// `max_bytes` bytes (a record larger than `max_bytes` goes alone); the batches' lengths.
pub(crate) fn batches(sizes: impl IntoIterator<Item = usize>, max_ops: usize, max_bytes: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut ops, mut bytes) = (0usize, 0usize);
    for size in sizes {
        if ops > 0 && (ops == max_ops || bytes.saturating_add(size) > max_bytes) {
            out.push(ops);
            (ops, bytes) = (0, 0);
        }
        ops += 1;
        bytes = bytes.saturating_add(size);
    }
    if ops > 0 {
        out.push(ops);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_and_size() {
        assert_eq!(batches([10, 10, 10, 10, 10], 2, 100), [2, 2, 1]);
        assert_eq!(batches([60, 60, 30, 10], 10, 100), [1, 3]);
        assert_eq!(batches([500, 1], 10, 100), [1, 1], "an oversized record goes alone");
        assert!(batches([], 10, 100).is_empty());
    }
}
