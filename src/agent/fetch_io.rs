//! The fetcher's I/O: downloads (reqwest) and copies the URIs of a command into a sandbox, with
//! the (user, URI) cache under the work directory, `executable`, `extract` and `output_file`
//! (MESOS-PROTOCOL-2 §4), and keeps the figures served at `/metrics/snapshot`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::fetcher::{archive, cache_key, output_path, source, Archive, Source};
use crate::mesos::v1::command_info::Uri;

/// Fetch figures since the agent started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchMetrics {
    /// Containers whose URIs were all fetched.
    pub task_fetches_succeeded: u64,
    /// Containers whose fetch failed.
    pub task_fetches_failed: u64,
    /// Bytes downloaded over HTTP (cache hits excluded).
    pub bytes_downloaded: u64,
    /// URIs served from the cache.
    pub cache_hits: u64,
    /// Cacheable URIs not yet in the cache.
    pub cache_misses: u64,
    /// Milliseconds spent fetching, summed over containers.
    pub fetch_ms_total: u64,
}

impl FetchMetrics {
    /// The figures as `(Mesos-style name, value)` pairs, sorted by name.
    pub fn named(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("containerizer/fetcher/task_fetches_failed", self.task_fetches_failed),
            ("containerizer/fetcher/task_fetches_succeeded", self.task_fetches_succeeded),
            ("offerpack/fetcher/bytes_downloaded", self.bytes_downloaded),
            ("offerpack/fetcher/cache_hits", self.cache_hits),
            ("offerpack/fetcher/cache_misses", self.cache_misses),
            ("offerpack/fetcher/fetch_ms_total", self.fetch_ms_total),
        ]
    }
}

/// Fetches URIs into sandboxes; cheap to clone (shares the client, the cache and the figures).
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    cache_dir: PathBuf,
    metrics: Arc<Mutex<FetchMetrics>>,
}

impl Fetcher {
    /// A fetcher whose cache lives in `cache_dir` (created on first use), trusting the
    /// system's roots for `https://` URIs.
    ///
    /// # Panics
    /// When no HTTP client can be built, as `reqwest::Client::new` does; see
    /// [`with_client`](Self::with_client).
    pub fn new(cache_dir: PathBuf) -> Fetcher {
        let client = crate::tls::client_builder(&crate::tls::TlsConfig::new()).build();
        Fetcher::with_client(cache_dir, client.expect("an HTTP client with default settings"))
    }

    /// A fetcher whose cache lives in `cache_dir`, downloading with `client`.
    pub fn with_client(cache_dir: PathBuf, client: reqwest::Client) -> Fetcher {
        Fetcher { client, cache_dir, metrics: Arc::default() }
    }

    /// The figures so far.
    pub fn metrics(&self) -> FetchMetrics {
        self.metrics.lock().map(|m| *m).unwrap_or_default()
    }

    /// Fetches every URI into `sandbox` in order; the first failure stops and is returned as
    /// `"<uri>: <error>"`. Prints one line per URI on standard error.
    pub async fn fetch_all(&self, container: &str, sandbox: &Path, user: &str, uris: &[Uri]) -> Result<(), String> {
        let started = Instant::now();
        let mut result = Ok(());
        for uri in uris {
            let one = Instant::now();
            match self.fetch_one(sandbox, user, uri).await {
                Ok(how) => eprintln!(
                    "fetch {container}: {} -> {} ({how}, {} ms)",
                    uri.value,
                    sandbox.display(),
                    one.elapsed().as_millis()
                ),
                Err(e) => {
                    eprintln!("fetch {container}: {} failed: {e}", uri.value);
                    result = Err(format!("{}: {e}", uri.value));
                    break;
                }
            }
        }
        self.count(|m| {
            m.fetch_ms_total += started.elapsed().as_millis() as u64;
            match result {
                Ok(()) => m.task_fetches_succeeded += 1,
                Err(_) => m.task_fetches_failed += 1,
            }
        });
        result
    }

    fn count(&self, f: impl FnOnce(&mut FetchMetrics)) {
        if let Ok(mut m) = self.metrics.lock() {
            f(&mut m);
        }
    }

    /// One URI; says how it was fetched.
    async fn fetch_one(&self, sandbox: &Path, user: &str, uri: &Uri) -> Result<&'static str, String> {
        let src = source(&uri.value)?;
        let dest = sandbox.join(output_path(&uri.value, uri.output_file.as_deref())?);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let how = if uri.cache() {
            self.fetch_cached(&src, &dest, user, &uri.value).await?
        } else {
            self.fetch_plain(&src, &dest).await?;
            "fetched"
        };
        let (executable, extract) = (uri.executable(), uri.extract());
        let sandbox = sandbox.to_path_buf();
        tokio::task::spawn_blocking(move || finish(&dest, &sandbox, executable, extract))
            .await
            .map_err(|e| format!("fetch task failed: {e}"))??;
        Ok(how)
    }

    /// Through the cache: a hit is copied; a miss is fetched and kept when its size was known.
    async fn fetch_cached(&self, src: &Source, dest: &Path, user: &str, value: &str) -> Result<&'static str, String> {
        let entry = self.cache_dir.join(cache_key(user, value));
        if entry.is_file() && fs::copy(&entry, dest).is_ok() {
            self.count(|m| m.cache_hits += 1);
            return Ok("cache hit");
        }
        self.count(|m| m.cache_misses += 1);
        let size_known = self.fetch_plain(src, dest).await?;
        if size_known {
            let tmp = entry.with_extension("part");
            let stored = fs::create_dir_all(&self.cache_dir)
                .and_then(|()| fs::copy(dest, &tmp))
                .and_then(|_| fs::rename(&tmp, &entry));
            if let Err(e) = stored {
                // The task still runs from its sandbox copy; the next container fetches again.
                eprintln!("fetch: {value} not kept in the cache {}: {e}", self.cache_dir.display());
                let _ = fs::remove_file(&tmp);
            }
        }
        Ok("cache miss")
    }

    /// Downloads or copies `src` to `dest`; true when the size was known up front.
    async fn fetch_plain(&self, src: &Source, dest: &Path) -> Result<bool, String> {
        match src {
            Source::File(path) => {
                fs::copy(path, dest).map_err(|e| format!("cannot copy {}: {e}", path.display()))?;
                Ok(true)
            }
            Source::Http(url) => self.download(url, dest).await,
        }
    }

    async fn download(&self, url: &str, dest: &Path) -> Result<bool, String> {
        let mut response = self.client.get(url).send().await.map_err(|e| format!("download failed: {e}"))?;
        let status = response.status();
        if status != reqwest::StatusCode::OK {
            return Err(format!("Error downloading resource, received HTTP return code {}", status.as_u16()));
        }
        let known = response.content_length().is_some_and(|n| n > 0);
        let mut file = File::create(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("download failed: {e}"))? {
            file.write_all(&chunk).map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
            self.count(|m| m.bytes_downloaded += chunk.len() as u64);
        }
        file.flush().map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
        Ok(known)
    }
}

/// After the bytes are in place: chmod 0755 (executable), or unpack a recognised archive.
fn finish(dest: &Path, sandbox: &Path, executable: bool, extract: bool) -> Result<(), String> {
    if executable {
        use std::os::unix::fs::PermissionsExt;
        return fs::set_permissions(dest, fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot chmod {}: {e}", dest.display()));
    }
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match archive(&name).filter(|_| extract) {
        None => Ok(()),
        Some(kind) => unpack(kind, dest, sandbox).map_err(|e| format!("Failed to extract {}: {e}", dest.display())),
    }
}

fn unpack(kind: Archive, file: &Path, sandbox: &Path) -> io::Result<()> {
    let input = io::BufReader::new(File::open(file)?);
    match kind {
        Archive::Tar => tar::Archive::new(input).unpack(sandbox),
        Archive::TarGz => tar::Archive::new(flate2::read::GzDecoder::new(input)).unpack(sandbox),
        Archive::Gz => {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let target = file.with_file_name(name.trim_end_matches(".gz"));
            let mut out = File::create(target)?;
            io::copy(&mut flate2::read::GzDecoder::new(input), &mut out).map(|_| ())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("offerpack-fetch-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn unpack_tar_gz_and_gz_into_the_sandbox() {
        let dir = temp_dir("unpack");
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, "inner/hello.txt", &b"hello"[..]).unwrap();
        let bytes = builder.into_inner().unwrap().finish().unwrap();
        fs::write(dir.join("pkg.tgz"), &bytes).unwrap();
        finish(&dir.join("pkg.tgz"), &dir, false, true).unwrap();
        assert_eq!(fs::read(dir.join("inner/hello.txt")).unwrap(), b"hello");

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"plain").unwrap();
        fs::write(dir.join("note.txt.gz"), gz.finish().unwrap()).unwrap();
        finish(&dir.join("note.txt.gz"), &dir, false, true).unwrap();
        assert_eq!(fs::read(dir.join("note.txt")).unwrap(), b"plain");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn unpack_of_a_broken_archive_fails() {
        let dir = temp_dir("broken");
        fs::write(dir.join("bad.tgz"), b"not gzip").unwrap();
        assert!(finish(&dir.join("bad.tgz"), &dir, false, true).unwrap_err().contains("Failed to extract"));
        // extract off: copied as it is.
        assert!(finish(&dir.join("bad.tgz"), &dir, false, false).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }
}
