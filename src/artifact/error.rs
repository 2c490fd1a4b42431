//! The error type of the artifact server.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Why an artifact could not be registered or the server could not start. The Display text
/// is meant for people and is not API.
#[derive(Debug)]
#[non_exhaustive]
pub enum ArtifactError {
    /// The name is empty, has a character outside `[A-Za-z0-9._-]`, or contains `..`.
    InvalidName(String),
    /// An artifact of this name is registered already.
    DuplicateName(String),
    /// The file could not be read (or is not a regular file).
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// The bind address, the advertised URL and the master URL do not go together.
    Settings(String),
    /// The listening socket could not be opened.
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What went wrong.
        source: io::Error,
    },
}

impl fmt::Display for ArtifactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(name) => {
                write!(f, "invalid artifact name {name:?}: use [A-Za-z0-9._-], not empty, without \"..\"")
            }
            Self::DuplicateName(name) => write!(f, "artifact {name:?} is registered twice"),
            Self::Read { path, source } => write!(f, "cannot read artifact file {}: {source}", path.display()),
            Self::Settings(message) => f.write_str(message),
            Self::Bind { addr, source } => write!(f, "cannot listen on {addr} (--artifact-bind): {source}"),
        }
    }
}

impl std::error::Error for ArtifactError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Read { source, .. } | Self::Bind { source, .. } => Some(source),
            _ => None,
        }
    }
}
