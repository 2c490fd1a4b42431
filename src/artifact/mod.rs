//! The artifact server: files (or bytes) registered by name, served over HTTP for Mesos agents
//! to fetch, e.g. a framework's executor living on the scheduler's host.
//!
//! Only what was registered is served, at `/artifacts/<name>`, by `GET` and `HEAD`, with
//! `Content-Length`, a strong `ETag` (the artifact's SHA-256, which the scheduler can also pin
//! in the URIs it hands out), `If-None-Match` and single byte ranges. There is no listing and no
//! path is ever mapped onto the file system.
//!
//! - [`registry`]: the [`Artifacts`] registry (names, lengths, SHA-256 digests).
//! - `http`: sans-IO request → response decisions (methods, paths, ranges, validators).
//! - [`settings`]: [`ArtifactSettings`], where to listen and what URL to advertise, checked
//!   against the master URL.
//! - [`server`]: the tokio + hyper shell, [`ArtifactServer::start`] → [`RunningServer`].

mod body;
mod error;
pub(crate) mod http;
pub mod registry;
pub mod server;
pub mod settings;

pub use error::ArtifactError;
pub use registry::{valid_name, Artifact, Artifacts};
pub use server::{ArtifactServer, RunningServer};
pub use settings::{url_is_loopback, ArtifactSettings};
