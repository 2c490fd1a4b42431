//! `offerpack artifacts`: serve files to Mesos agents over HTTP until interrupted.
//!
//! Prints one line per artifact once listening, `NAME <url> sha256=<hex> <bytes> bytes`, so a
//! script can read the URLs (and pin the digests) when `--bind 127.0.0.1:0` picked the port.

use std::net::SocketAddr;
use std::path::PathBuf;

use offerpack::artifact::{ArtifactServer, ArtifactSettings, Artifacts};
use url::Url;

use super::CliError;

/// Arguments of `artifacts`.
#[derive(Debug, PartialEq)]
pub struct ArtifactsArgs {
    /// Where to listen.
    pub bind: SocketAddr,
    /// The base URL agents are told, if given.
    pub advertise: Option<Url>,
    /// The master URL the advertised address is checked against, if given.
    pub master: Option<Url>,
    /// `NAME=PATH` pairs, in command-line order.
    pub files: Vec<(String, PathBuf)>,
}

/// Registers the files, checks the settings, and serves until the process is killed; returns
/// only on an error at start.
pub fn run(args: &ArtifactsArgs) -> Result<(), CliError> {
    let mut artifacts = Artifacts::new();
    for (name, path) in &args.files {
        artifacts.add_file(name, path).map_err(|e| CliError::Failed(e.to_string()))?;
    }
    let settings = ArtifactSettings::new(args.bind, args.advertise.clone());
    match &args.master {
        Some(master) => settings.validate(master),
        None => settings.validate_standalone(),
    }
    .map_err(|e| CliError::Failed(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let server = ArtifactServer::start(settings, artifacts).await.map_err(|e| CliError::Failed(e.to_string()))?;
        for (name, artifact) in server.artifacts().iter() {
            let url = server.url_for(name).map_or_else(String::new, |u| u.to_string());
            say!("{name} {url} sha256={} {} bytes", artifact.sha256_hex(), artifact.len());
        }
        note!("offerpack artifacts: listening on {}; interrupt to stop", server.local_addr());
        server.wait().await;
        Ok(())
    })
}
