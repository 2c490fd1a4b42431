//! The fetcher's pure decisions (MESOS-PROTOCOL-2 §4): where a `CommandInfo.URI` comes from,
//! what it is called in the sandbox, whether it is an archive, and its cache key. The I/O is in
//! [`super::fetch_io`].
//!
//! Supported sources: `http://` (and `https://` only as far as the HTTP client allows), `file://`
//! and absolute paths. Archives: `.tar`, `.tgz`, `.tar.gz`, and bare `.gz` (gunzipped to the name
//! without `.gz`). Left out: `.tbz2`, `.tar.bz2`, `.txz`, `.tar.xz`, `.zip` (copied as they are,
//! as Mesos does for unknown types), `ftp://`, and Hadoop schemes (an error).

use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where a URI's bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Downloaded over HTTP.
    Http(String),
    /// Copied from a local file.
    File(PathBuf),
}

/// How a fetched file is unpacked into the sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Archive {
    /// A plain tar archive.
    Tar,
    /// A gzipped tar archive (`.tgz`, `.tar.gz`).
    TarGz,
    /// A single gzipped file (`.gz`): gunzipped beside it, without the suffix.
    Gz,
}

/// Classifies a URI's `value` (leading whitespace trimmed).
pub fn source(value: &str) -> Result<Source, String> {
    let value = value.trim_start();
    if value.contains(['\\', '\'', '\0']) {
        return Err("Illegal characters in URI".into());
    }
    if let Some(path) = value.strip_prefix("file://") {
        return Ok(Source::File(PathBuf::from(path)));
    }
    if value.starts_with("http://") || value.starts_with("https://") {
        return Ok(Source::Http(value.to_owned()));
    }
    if value.starts_with('/') {
        return Ok(Source::File(PathBuf::from(value)));
    }
    if let Some((scheme, _)) = value.split_once("://") {
        return Err(format!("Unsupported URI scheme '{scheme}'"));
    }
    Err("A relative path was passed for the resource but the Mesos framework home was not specified".into())
}

/// The default name in the sandbox: the text after the last `/`, query string included.
///
/// ```
/// use offerpack::agent::fetcher::basename;
/// assert_eq!(basename("http://h/x/a.tgz?sig=1").unwrap(), "a.tgz?sig=1");
/// assert!(basename("http://h").is_err());
/// ```
pub fn basename(value: &str) -> Result<String, String> {
    let value = value.trim_start();
    let path = match value.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).ok_or_else(|| format!("Malformed URI: {value}"))?,
        None => value,
    };
    match path.rsplit('/').next() {
        Some(name) if !name.is_empty() && name != "." && name != ".." => Ok(name.to_owned()),
        _ => Err(format!("Malformed URI: {value}")),
    }
}

/// The path (relative to the sandbox) a URI is written to: `output_file` when set (relative,
/// directories allowed, no `..`), else the [`basename`].
pub fn output_path(value: &str, output_file: Option<&str>) -> Result<PathBuf, String> {
    let Some(out) = output_file.filter(|o| !o.is_empty()) else {
        return basename(value).map(PathBuf::from);
    };
    let path = Path::new(out);
    if path.is_absolute() {
        return Err(format!("Absolute output file '{out}' is not allowed"));
    }
    if path.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(format!("Output file '{out}' leaves the sandbox"));
    }
    Ok(path.to_path_buf())
}

/// The archive type by name ending, `None` for a file copied as it is.
pub fn archive(name: &str) -> Option<Archive> {
    if name.ends_with(".tar") {
        Some(Archive::Tar)
    } else if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
        Some(Archive::TarGz)
    } else if name.ends_with(".gz") {
        Some(Archive::Gz)
    } else {
        None
    }
}

/// The cache entry name of (user, URI): hex SHA-256, so any URI makes a safe file name.
pub fn cache_key(user: &str, value: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(user.as_bytes());
    hasher.update([0u8]);
    hasher.update(value.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basename_keeps_query_strings_and_rejects_bare_hosts() {
        assert_eq!(basename("http://h:80/a/b/run.sh").unwrap(), "run.sh");
        assert_eq!(basename("http://h/x.tgz?sig=1&b=2").unwrap(), "x.tgz?sig=1&b=2");
        assert_eq!(basename("  /opt/pkg/tool").unwrap(), "tool");
        assert_eq!(basename("file:///opt/x.tar").unwrap(), "x.tar");
        assert!(basename("http://host").is_err());
        assert!(basename("http://host/dir/").is_err());
    }

    #[test]
    fn output_path_allows_relative_dirs_and_rejects_absolute_or_escaping() {
        assert_eq!(output_path("http://h/a", Some("bin/tool")).unwrap(), PathBuf::from("bin/tool"));
        assert_eq!(output_path("http://h/a", None).unwrap(), PathBuf::from("a"));
        assert_eq!(output_path("http://h/a", Some("")).unwrap(), PathBuf::from("a"));
        assert!(output_path("http://h/a", Some("/etc/passwd")).unwrap_err().contains("Absolute"));
        assert!(output_path("http://h/a", Some("../x")).is_err());
    }

    #[test]
    fn archive_is_chosen_by_name_ending() {
        assert_eq!(archive("a.tar"), Some(Archive::Tar));
        assert_eq!(archive("a.tgz"), Some(Archive::TarGz));
        assert_eq!(archive("a.tar.gz"), Some(Archive::TarGz));
        assert_eq!(archive("a.gz"), Some(Archive::Gz));
        assert_eq!(archive("a.tgz?sig=1"), None);
        assert_eq!(archive("a.zip"), None);
        assert_eq!(archive("a.tar.bz2"), None);
    }

    #[test]
    fn source_classifies_schemes() {
        assert_eq!(source("http://h/a").unwrap(), Source::Http("http://h/a".into()));
        assert_eq!(source("file:///x/y").unwrap(), Source::File("/x/y".into()));
        assert_eq!(source(" /x/y").unwrap(), Source::File("/x/y".into()));
        assert!(source("hdfs://n/x").unwrap_err().contains("hdfs"));
        assert!(source("rel/x").unwrap_err().contains("relative"));
        assert!(source("/x/it's").is_err());
    }

    #[test]
    fn cache_key_differs_by_user_and_uri() {
        let a = cache_key("u", "http://h/a");
        assert_eq!(a.len(), 64);
        assert_ne!(a, cache_key("v", "http://h/a"));
        assert_ne!(a, cache_key("u", "http://h/b"));
        assert_eq!(a, cache_key("u", "http://h/a"));
    }
}
