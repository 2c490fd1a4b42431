//! `offerpack artifacts`: serve files to Mesos agents over HTTP until interrupted.
//!
//! Prints one line per artifact once listening, `NAME <url> sha256=<hex> <bytes> bytes`, so a
//! script can read the URLs (and pin the digests) when `--bind 127.0.0.1:0` picked the port.

use std::net::SocketAddr;
use std::path::PathBuf;

use lexopt::{Arg, Parser, ValueExt};
use offerpack::artifact::{ArtifactServer, ArtifactSettings, Artifacts};
use url::Url;

use super::args::Command;
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

/// Parses the flags of `artifacts`. `--artifact-bind` and `--artifact-advertise` are accepted
/// as other spellings of `--bind` and `--advertise` (the names the settings' errors use).
pub fn parse(mut p: Parser) -> Result<Command, lexopt::Error> {
    let (mut bind, mut advertise, mut master, mut files) = (None, None, None, Vec::new());
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Long("bind" | "artifact-bind") => {
                let text = p.value()?.string()?;
                bind = Some(text.parse().map_err(|_| format!("--bind {text:?}: expected IP:PORT"))?);
            }
            Arg::Long("advertise" | "artifact-advertise") => {
                advertise = Some(url(&p.value()?.string()?, "--advertise")?)
            }
            Arg::Long("master") => master = Some(url(&p.value()?.string()?, "--master")?),
            Arg::Value(value) => {
                let text = value.string()?;
                let Some((name, path)) = text.split_once('=').filter(|(n, p)| !n.is_empty() && !p.is_empty()) else {
                    return Err(format!("{text:?}: expected NAME=PATH").into());
                };
                files.push((name.to_owned(), PathBuf::from(path)));
            }
            other => return Err(other.unexpected()),
        }
    }
    let bind = bind.ok_or("artifacts needs --bind ADDR:PORT")?;
    if files.is_empty() {
        return Err("artifacts needs at least one NAME=PATH".into());
    }
    Ok(Command::Artifacts(ArtifactsArgs { bind, advertise, master, files }))
}

fn url(text: &str, flag: &str) -> Result<Url, lexopt::Error> {
    Url::parse(text).map_err(|e| format!("{flag} {text:?}: {e}").into())
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
