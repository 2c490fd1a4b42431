//! [`ZkStore`]: the state under `PATH/state` in ZooKeeper.
//!
//! Layout: `epoch` (its version is the fencing token; its data names the leader), `meta`
//! (the [`RunMeta`]), `finished` (the [`Finished`] marker), and `tasks/<escaped id>`, one
//! persistent znode per task. Every write is a `multi` whose first operation checks the
//! epoch's version taken at [`StateStore::take_over`]. The store keeps its own session,
//! opened on first use and again after any failure (the servers tried in turn).

use std::collections::BTreeSet;
use std::time::Duration;

use tokio_zookeeper::{error, Acl, CreateMode, ZooKeeper};

use super::TaskRecord;
use super::{batches, escape_id, Finished, RunMeta, Snapshot, StateStore, StoreError, StoreFuture};
use crate::session::ZkUrl;
use crate::zk_shell::{connect, ensure_path, request};

/// Operations in one `multi` besides the epoch check.
const MAX_OPS: usize = 128;
/// Bytes of data in one `multi` (ZooKeeper refuses requests above `jute.maxbuffer`, 1 MB by
/// default).
const MAX_BYTES: usize = 512 * 1024;
/// The largest record accepted.
const MAX_RECORD: usize = 900 * 1024;
/// Reads in flight at once while loading.
const PARALLEL_READS: usize = 64;

/// The ZooKeeper state store (see the [module docs](super)).
#[derive(Debug)]
pub struct ZkStore {
    url: ZkUrl,
    session_timeout: Duration,
    zk: Option<ZooKeeper>,
    /// The next server to try.
    next_server: usize,
    /// The epoch version this writer took over with.
    epoch: Option<i32>,
    /// Task nodes known to exist (written or loaded).
    known: BTreeSet<String>,
}

impl ZkStore {
    /// A store under `url`'s path (`PATH/state`); connects on first use.
    pub fn new(url: ZkUrl, session_timeout: Duration) -> ZkStore {
        ZkStore { url, session_timeout, zk: None, next_server: 0, epoch: None, known: BTreeSet::new() }
    }

    fn path(&self, leaf: &str) -> String {
        format!("{}/state{leaf}", self.url.path().trim_end_matches('/'))
    }

    fn patience(&self) -> Duration {
        (self.session_timeout / 3).max(Duration::from_millis(200))
    }

    /// The session, opened if needed.
    async fn client(&mut self) -> Result<ZooKeeper, StoreError> {
        if let Some(zk) = &self.zk {
            return Ok(zk.clone());
        }
        let servers = self.url.servers().len().max(1);
        let mut last = String::new();
        for _ in 0..servers {
            let server = self.url.servers()[self.next_server % servers].clone();
            self.next_server = self.next_server.wrapping_add(1);
            match connect(&server, self.session_timeout, self.patience()).await {
                Ok(zk) => {
                    self.zk = Some(zk.clone());
                    return Ok(zk);
                }
                Err(lost) => last = lost,
            }
        }
        Err(StoreError::Io(last))
    }

    /// Drops the session after a failure; `error` as a store error.
    fn lost(&mut self, error: String) -> StoreError {
        self.zk = None;
        StoreError::Io(error)
    }

    /// Runs `ops` (path, data or `None` to delete, create) in batches, each after the epoch
    /// check.
    async fn write(&mut self, ops: Vec<(String, Option<Vec<u8>>, bool)>) -> Result<(), StoreError> {
        let epoch = self.epoch.ok_or_else(|| StoreError::Io("write before take_over".to_owned()))?;
        if let Some((path, data, _)) = ops.iter().find(|(_, d, _)| d.as_ref().is_some_and(|d| d.len() > MAX_RECORD)) {
            let size = data.as_ref().map_or(0, Vec::len);
            return Err(StoreError::TooLarge(format!("{path}: {size} bytes (at most {MAX_RECORD})")));
        }
        let zk = self.client().await?;
        let epoch_path = self.path("/epoch");
        let sizes = ops.iter().map(|(p, d, _)| p.len() + d.as_ref().map_or(0, Vec::len));
        let mut rest = ops.as_slice();
        for len in batches(sizes, MAX_OPS, MAX_BYTES) {
            let (batch, later) = rest.split_at(len);
            rest = later;
            let mut multi = zk.multi().check(&epoch_path, epoch);
            for (path, data, create) in batch {
                multi = match (data, create) {
                    (Some(data), true) => multi.create(path, data.clone(), Acl::open_unsafe(), CreateMode::Persistent),
                    (Some(data), false) => multi.set_data(path, None, data.clone()),
                    (None, _) => multi.delete(path, None),
                };
            }
            let results = match request("multi", self.patience(), multi.run()).await {
                Ok(results) => results,
                Err(lost) => return Err(self.lost(lost)),
            };
            if let Some(Err(error::Multi::Check { .. })) = results.first() {
                return Err(StoreError::Fenced);
            }
            if let Some(Err(e)) = results.iter().find(|r| !matches!(r, Ok(_) | Err(error::Multi::RolledBack))) {
                return Err(StoreError::Io(format!("multi write: {e}")));
            }
            if let Some(Err(e)) = results.iter().find(|r| r.is_err()) {
                return Err(StoreError::Io(format!("multi write: {e}")));
            }
        }
        Ok(())
    }

    async fn do_take_over(&mut self, instance: &str) -> Result<(), StoreError> {
        let zk = self.client().await?;
        let patience = self.patience();
        if let Err(lost) = ensure_path(&zk, &self.path("/tasks"), patience).await {
            return Err(self.lost(lost));
        }
        let epoch = self.path("/epoch");
        let created = zk.create(&epoch, instance.as_bytes().to_vec(), Acl::open_unsafe(), CreateMode::Persistent);
        match request("create", patience, created).await {
            Ok(Ok(_) | Err(error::Create::NodeExists)) => {}
            Ok(Err(e)) => return Err(StoreError::Io(format!("create {epoch}: {e}"))),
            Err(lost) => return Err(self.lost(lost)),
        }
        match request("set", patience, zk.set_data(&epoch, None, instance.as_bytes().to_vec())).await {
            Ok(Ok(stat)) => self.epoch = Some(stat.version),
            Ok(Err(e)) => return Err(StoreError::Io(format!("set {epoch}: {e}"))),
            Err(lost) => return Err(self.lost(lost)),
        }
        Ok(())
    }

    async fn read(&mut self, leaf: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let zk = self.client().await?;
        match request("read", self.patience(), zk.get_data(&self.path(leaf))).await {
            Ok(read) => Ok(read.map(|(data, _)| data)),
            Err(lost) => Err(self.lost(lost)),
        }
    }

    async fn do_load(&mut self) -> Result<Snapshot, StoreError> {
        if let Some(data) = self.read("/finished").await? {
            return Ok(Snapshot { finished: Some(Finished::decode(&data)?), ..Snapshot::default() });
        }
        let meta = self.read("/meta").await?.map(|d| RunMeta::decode(&d)).transpose()?;
        let zk = self.client().await?;
        let names = match request("list", self.patience(), zk.get_children(&self.path("/tasks"))).await {
            Ok(names) => names.unwrap_or_default(),
            Err(lost) => return Err(self.lost(lost)),
        };
        let mut tasks = Vec::with_capacity(names.len());
        for chunk in names.chunks(PARALLEL_READS) {
            let mut reads = tokio::task::JoinSet::new();
            for name in chunk {
                let (zk, path, patience) = (zk.clone(), self.path(&format!("/tasks/{name}")), self.patience());
                reads.spawn(async move { request("read", patience, zk.get_data(&path)).await });
            }
            while let Some(read) = reads.join_next().await {
                match read {
                    Ok(Ok(Some((data, _)))) => tasks.push(TaskRecord::decode(&data)?),
                    // Deleted since the listing.
                    Ok(Ok(None)) => {}
                    Ok(Err(lost)) => return Err(self.lost(lost)),
                    Err(e) => return Err(StoreError::Io(format!("read task: {e}"))),
                }
            }
        }
        self.known = names.into_iter().collect();
        tasks.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Snapshot { meta, tasks, finished: None })
    }

    /// Whether a node exists (for choosing create or set).
    async fn exists(&mut self, leaf: &str) -> Result<bool, StoreError> {
        let zk = self.client().await?;
        match request("exists", self.patience(), zk.exists(&self.path(leaf))).await {
            Ok(stat) => Ok(stat.is_some()),
            Err(lost) => Err(self.lost(lost)),
        }
    }

    async fn do_put_meta(&mut self, meta: &RunMeta) -> Result<(), StoreError> {
        let create = !self.exists("/meta").await?;
        self.write(vec![(self.path("/meta"), Some(meta.encode()), create)]).await
    }

    async fn do_put_tasks(&mut self, tasks: &[TaskRecord]) -> Result<(), StoreError> {
        let ops: Vec<_> = tasks
            .iter()
            .map(|t| {
                let name = escape_id(&t.id);
                let create = !self.known.contains(&name);
                (self.path(&format!("/tasks/{name}")), Some(t.encode()), create)
            })
            .collect();
        self.write(ops).await?;
        self.known.extend(tasks.iter().map(|t| escape_id(&t.id)));
        Ok(())
    }

    /// Deletes every task node, the run, and (with `marker`) the finished marker.
    async fn remove_all(&mut self, marker: bool) -> Result<(), StoreError> {
        let zk = self.client().await?;
        let names = match request("list", self.patience(), zk.get_children(&self.path("/tasks"))).await {
            Ok(names) => names.unwrap_or_default(),
            Err(lost) => return Err(self.lost(lost)),
        };
        let mut ops: Vec<_> = names.iter().map(|n| (self.path(&format!("/tasks/{n}")), None, false)).collect();
        for (leaf, wanted) in [("/meta", true), ("/finished", marker)] {
            if wanted && self.exists(leaf).await? {
                ops.push((self.path(leaf), None, false));
            }
        }
        self.write(ops).await?;
        self.known.clear();
        Ok(())
    }

    async fn do_finish(&mut self, finished: &Finished) -> Result<(), StoreError> {
        // The marker first: a leader that dies half-way leaves a finished run, not a torn one.
        let create = !self.exists("/finished").await?;
        self.write(vec![(self.path("/finished"), Some(finished.encode()), create)]).await?;
        self.remove_all(false).await
    }
}

impl StateStore for ZkStore {
    fn take_over<'a>(&'a mut self, instance: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(self.do_take_over(instance))
    }

    fn load(&mut self) -> StoreFuture<'_, Snapshot> {
        Box::pin(self.do_load())
    }

    fn put_meta<'a>(&'a mut self, meta: &'a RunMeta) -> StoreFuture<'a, ()> {
        Box::pin(self.do_put_meta(meta))
    }

    fn put_tasks<'a>(&'a mut self, tasks: &'a [TaskRecord]) -> StoreFuture<'a, ()> {
        Box::pin(self.do_put_tasks(tasks))
    }

    fn finish<'a>(&'a mut self, finished: &'a Finished) -> StoreFuture<'a, ()> {
        Box::pin(self.do_finish(finished))
    }

    fn clear(&mut self) -> StoreFuture<'_, ()> {
        Box::pin(self.remove_all(true))
    }
}
