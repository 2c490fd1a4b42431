//! The registry of artifacts: name → bytes in memory, or name → file on disk with the length,
//! modification time and SHA-256 taken when it was registered.
//!
//! Registering a file reads it once, to compute its digest; nothing else here does I/O. The
//! server streams a file from disk on each request and refuses (500) to serve one whose length
//! or modification time changed since registration, rather than send bytes that do not match
//! the advertised digest.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::ArtifactError;

/// Read size when hashing a file at registration.
const HASH_CHUNK: usize = 64 * 1024;

/// True when `name` can name an artifact: not empty, only `[A-Za-z0-9._-]`, no `..`. Such a
/// name never needs percent-encoding in a URL path and can never climb out of one.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains("..")
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Where an artifact's bytes come from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// Held in memory.
    Bytes(Bytes),
    /// Read from this file on each request; `modified` as it was at registration.
    File { path: PathBuf, modified: Option<SystemTime> },
}

/// One registered artifact: its length, digest and source.
#[derive(Debug, Clone)]
pub struct Artifact {
    len: u64,
    sha256: String,
    source: Source,
}

impl Artifact {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when the artifact has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The SHA-256 of the content, 64 lowercase hex digits.
    pub fn sha256_hex(&self) -> &str {
        &self.sha256
    }

    /// The file served, when the artifact is a file.
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::File { path, .. } => Some(path),
            Source::Bytes(_) => None,
        }
    }

    pub(crate) fn source(&self) -> &Source {
        &self.source
    }

    /// True when a file's current length and modification time are those seen at registration
    /// (always true for bytes).
    pub(crate) fn unchanged(&self, len: u64, modified: Option<SystemTime>) -> bool {
        match &self.source {
            Source::Bytes(_) => true,
            Source::File { modified: registered, .. } => len == self.len && modified == *registered,
        }
    }
}

/// The artifacts a server may serve, by name.
#[derive(Debug, Clone, Default)]
pub struct Artifacts {
    entries: BTreeMap<String, Artifact>,
}

impl Artifacts {
    /// An empty registry.
    pub fn new() -> Artifacts {
        Artifacts::default()
    }

    /// Registers the regular file at `path` as `name`, reading it once to compute its SHA-256
    /// and length. Errors on a bad or duplicate name, or a file that cannot be read.
    pub fn add_file(&mut self, name: &str, path: impl Into<PathBuf>) -> Result<&Artifact, ArtifactError> {
        self.check_new(name)?;
        let path = path.into();
        let (len, sha256, modified) =
            hash_file(&path).map_err(|source| ArtifactError::Read { path: path.clone(), source })?;
        Ok(self.insert(name, Artifact { len, sha256, source: Source::File { path, modified } }))
    }

    /// Registers `bytes` as `name`. Errors on a bad or duplicate name.
    pub fn add_bytes(&mut self, name: &str, bytes: Bytes) -> Result<&Artifact, ArtifactError> {
        self.check_new(name)?;
        let sha256 = hex(&Sha256::digest(&bytes));
        let len = bytes.len() as u64;
        Ok(self.insert(name, Artifact { len, sha256, source: Source::Bytes(bytes) }))
    }

    /// The artifact registered as `name`.
    pub fn get(&self, name: &str) -> Option<&Artifact> {
        self.entries.get(name)
    }

    /// The SHA-256 (hex) of the artifact `name`.
    pub fn sha256_hex(&self, name: &str) -> Option<&str> {
        self.get(name).map(Artifact::sha256_hex)
    }

    /// The length in bytes of the artifact `name`.
    pub fn len(&self, name: &str) -> Option<u64> {
        self.get(name).map(Artifact::len)
    }

    /// The number of artifacts.
    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Names and artifacts, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Artifact)> {
        self.entries.iter().map(|(name, artifact)| (name.as_str(), artifact))
    }

    fn check_new(&self, name: &str) -> Result<(), ArtifactError> {
        if !valid_name(name) {
            return Err(ArtifactError::InvalidName(name.to_owned()));
        }
        if self.entries.contains_key(name) {
            return Err(ArtifactError::DuplicateName(name.to_owned()));
        }
        Ok(())
    }

    fn insert(&mut self, name: &str, artifact: Artifact) -> &Artifact {
        self.entries.entry(name.to_owned()).or_insert(artifact)
    }
}

/// Reads a regular file through once: its length, SHA-256 and modification time. Fails when
/// the file changed length while it was read.
fn hash_file(path: &Path) -> io::Result<(u64, String, Option<SystemTime>)> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a regular file"));
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_CHUNK];
    let mut len = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    let after = file.metadata()?;
    if len != meta.len() || after.len() != len {
        return Err(io::Error::other("the file changed while it was read"));
    }
    Ok((len, hex(&hasher.finalize()), after.modified().ok()))
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_name_accepts_plain_names_only() {
        for good in ["executor", "exec-1.2_linux.tar.gz", "a", ".hidden", "x.y"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "..", "a..b", "a/b", "/a", "a b", "a%2e", "ü", "a\\b", "a?b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn artifacts_add_bytes_hashes_known_vector() {
        let mut artifacts = Artifacts::new();
        artifacts.add_bytes("abc", Bytes::from_static(b"abc")).unwrap();
        // FIPS 180-2 test vector for "abc".
        assert_eq!(
            artifacts.sha256_hex("abc"),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(artifacts.len("abc"), Some(3));
        assert_eq!(artifacts.len("other"), None);
    }

    #[test]
    fn artifacts_reject_duplicate_and_bad_names() {
        let mut artifacts = Artifacts::new();
        artifacts.add_bytes("x", Bytes::new()).unwrap();
        assert!(matches!(artifacts.add_bytes("x", Bytes::new()), Err(ArtifactError::DuplicateName(_))));
        assert!(matches!(artifacts.add_bytes("../x", Bytes::new()), Err(ArtifactError::InvalidName(_))));
        assert_eq!(artifacts.count(), 1);
    }

    #[test]
    fn artifacts_add_file_matches_add_bytes() {
        let dir = std::env::temp_dir().join(format!("offerpack-registry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let mut artifacts = Artifacts::new();
        artifacts.add_file("f", &path).unwrap();
        artifacts.add_bytes("b", Bytes::from(content.clone())).unwrap();
        assert_eq!(artifacts.sha256_hex("f"), artifacts.sha256_hex("b"));
        assert_eq!(artifacts.len("f"), Some(content.len() as u64));
        assert_eq!(artifacts.get("f").unwrap().path(), Some(path.as_path()));
        let dir_err = artifacts.add_file("d", &dir).unwrap_err();
        assert!(matches!(dir_err, ArtifactError::Read { .. }), "{dir_err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn artifact_unchanged_compares_length_and_time() {
        let artifact = Artifact {
            len: 5,
            sha256: String::new(),
            source: Source::File { path: PathBuf::from("x"), modified: Some(SystemTime::UNIX_EPOCH) },
        };
        assert!(artifact.unchanged(5, Some(SystemTime::UNIX_EPOCH)));
        assert!(!artifact.unchanged(6, Some(SystemTime::UNIX_EPOCH)));
        assert!(!artifact.unchanged(5, Some(SystemTime::now())));
    }
}
