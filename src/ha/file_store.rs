//! [`FileStore`]: the state in a directory of one host.
//!
//! Layout: `epoch` (a number: the fencing token), `meta.json`, `finished.json` and
//! `tasks/<escaped id>.json`, one file per task. Every file is written to a temporary file
//! beside it, synced, and renamed over the old one, so a reader (or a successor after a
//! crash) sees the old content or the new, never a torn one. A write first checks that
//! `epoch` still holds the number this writer took over with; with the election's lock file
//! only one live process writes anyway, so the check guards against a stale handle.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{escape_id, Finished, RunMeta, Snapshot, StateStore, StoreError, StoreFuture, TaskRecord};

/// The file state store (see the [module docs](super)).
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    epoch: Option<u64>,
}

impl FileStore {
    /// A store in `dir` (created when first written).
    pub fn new(dir: PathBuf) -> FileStore {
        FileStore { dir, epoch: None }
    }

    fn tasks(&self) -> PathBuf {
        self.dir.join("tasks")
    }

    fn stored_epoch(&self) -> Result<u64, StoreError> {
        match fs::read_to_string(self.dir.join("epoch")) {
            Ok(text) => text.trim().parse().map_err(|_| StoreError::Corrupt(format!("epoch {text:?}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io("epoch", &e)),
        }
    }

    /// Fails with [`StoreError::Fenced`] unless this writer's epoch is still the stored one.
    fn check(&self) -> Result<(), StoreError> {
        let mine = self.epoch.ok_or_else(|| StoreError::Io("write before take_over".to_owned()))?;
        if self.stored_epoch()? == mine {
            Ok(())
        } else {
            Err(StoreError::Fenced)
        }
    }

    fn do_take_over(&mut self) -> Result<(), StoreError> {
        fs::create_dir_all(self.tasks()).map_err(|e| io("create the store directory", &e))?;
        let next = self.stored_epoch()?.saturating_add(1);
        write_atomic(&self.dir.join("epoch"), next.to_string().as_bytes())?;
        sync_dir(&self.dir)?;
        self.epoch = Some(next);
        Ok(())
    }

    fn do_load(&self) -> Result<Snapshot, StoreError> {
        if let Some(data) = read(&self.dir.join("finished.json"))? {
            return Ok(Snapshot { finished: Some(Finished::decode(&data)?), ..Snapshot::default() });
        }
        let meta = read(&self.dir.join("meta.json"))?.map(|d| RunMeta::decode(&d)).transpose()?;
        let mut tasks = Vec::new();
        match fs::read_dir(self.tasks()) {
            Ok(entries) => {
                for entry in entries {
                    let path = entry.map_err(|e| io("list tasks", &e))?.path();
                    if path.extension().is_some_and(|e| e == "json") {
                        if let Some(data) = read(&path)? {
                            tasks.push(TaskRecord::decode(&data)?);
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("list tasks", &e)),
        }
        tasks.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Snapshot { meta, tasks, finished: None })
    }

    fn do_put_tasks(&self, tasks: &[TaskRecord]) -> Result<(), StoreError> {
        self.check()?;
        for task in tasks {
            write_atomic(&self.tasks().join(format!("{}.json", escape_id(&task.id))), &task.encode())?;
        }
        sync_dir(&self.tasks())
    }

    fn remove_all(&self, marker: bool) -> Result<(), StoreError> {
        self.check()?;
        match fs::remove_dir_all(self.tasks()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove tasks", &e)),
        }
        let mut leaves = vec!["meta.json"];
        if marker {
            leaves.push("finished.json");
        }
        for leaf in leaves {
            match fs::remove_file(self.dir.join(leaf)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(leaf, &e)),
            }
        }
        fs::create_dir_all(self.tasks()).map_err(|e| io("create tasks", &e))?;
        sync_dir(&self.dir)
    }
}

impl StateStore for FileStore {
    fn take_over<'a>(&'a mut self, _instance: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(self.do_take_over()))
    }

    fn load(&mut self) -> StoreFuture<'_, Snapshot> {
        Box::pin(std::future::ready(self.do_load()))
    }

    fn put_meta<'a>(&'a mut self, meta: &'a RunMeta) -> StoreFuture<'a, ()> {
        let done = self.check().and_then(|()| write_atomic(&self.dir.join("meta.json"), &meta.encode()));
        Box::pin(std::future::ready(done.and_then(|()| sync_dir(&self.dir))))
    }

    fn put_tasks<'a>(&'a mut self, tasks: &'a [TaskRecord]) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(self.do_put_tasks(tasks)))
    }

    fn finish<'a>(&'a mut self, finished: &'a Finished) -> StoreFuture<'a, ()> {
        let done = self.check().and_then(|()| write_atomic(&self.dir.join("finished.json"), &finished.encode()));
        Box::pin(std::future::ready(done.and_then(|()| self.remove_all(false))))
    }

    fn clear(&mut self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(self.remove_all(true)))
    }
}

fn io(what: &str, error: &std::io::Error) -> StoreError {
    StoreError::Io(format!("{what}: {error}"))
}

/// The content of `path`, `None` when it does not exist.
fn read(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::read(path) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(&path.display().to_string(), &e)),
    }
}

/// Writes `data` to a temporary file beside `path`, syncs it and renames it over `path`.
fn write_atomic(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let fail = |e: std::io::Error| io(&path.display().to_string(), &e);
    let mut file = fs::File::create(&temporary).map_err(fail)?;
    file.write_all(data).and_then(|()| file.sync_all()).map_err(fail)?;
    fs::rename(&temporary, path).map_err(fail)
}

/// Syncs a directory, so that renames in it survive a crash of the host.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(&dir.display().to_string(), &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::TaskState;

    fn block<T>(future: StoreFuture<'_, T>) -> Result<T, StoreError> {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    fn dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("offerpack-ha-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn file_store_keeps_records_and_fences_an_earlier_writer() {
        let dir = dir("fence");
        let mut first = FileStore::new(dir.clone());
        block(first.take_over("one")).unwrap();
        let mut record = TaskRecord::new("a/1", "{}");
        block(first.put_tasks(std::slice::from_ref(&record))).unwrap();
        record.state = TaskState::Running;
        block(first.put_tasks(std::slice::from_ref(&record))).unwrap();

        let mut second = FileStore::new(dir.clone());
        block(second.take_over("two")).unwrap();
        let snapshot = block(second.load()).unwrap();
        assert_eq!(snapshot.tasks, [record.clone()]);
        // The first writer was fenced off by the takeover: its writes fail, the store keeps
        // what the second wrote.
        assert_eq!(block(first.put_tasks(&[TaskRecord::new("b", "{}")])), Err(StoreError::Fenced));
        let meta = RunMeta {
            framework_id: None,
            framework_name: "n".into(),
            failover_timeout: std::time::Duration::from_secs(1),
            fingerprint: "f".into(),
            app: String::new(),
        };
        assert_eq!(block(first.put_meta(&meta)), Err(StoreError::Fenced));
        block(second.put_meta(&meta)).unwrap();
        assert_eq!(block(second.load()).unwrap().tasks.len(), 1);

        let finished = Finished { framework_id: None, fingerprint: "f".into(), instance: "two".into(), at_ms: 1 };
        block(second.finish(&finished)).unwrap();
        let snapshot = block(second.load()).unwrap();
        assert_eq!((snapshot.finished, snapshot.meta, snapshot.tasks.len()), (Some(finished), None, 0));
        block(second.clear()).unwrap();
        assert_eq!(block(second.load()).unwrap(), Snapshot::default());
        let _ = fs::remove_dir_all(&dir);
    }
}
