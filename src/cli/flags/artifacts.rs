//! The flags of `offerpack artifacts`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use url::Url;

use super::values;
use crate::cli::args::Command;
use crate::cli::artifacts::ArtifactsArgs;

/// Serve files to Mesos agents over HTTP until interrupted
///
/// Serves the given files to Mesos agents over HTTP (GET/HEAD at /artifacts/NAME, with ETag and
/// byte ranges; nothing else is served) until interrupted. Prints one line per file once
/// listening: `NAME URL sha256=HEX N bytes`.
#[derive(Debug, Args)]
pub struct ArtifactsFlags {
    /// Where to listen (0.0.0.0:0 allowed; port 0 picks one)
    #[arg(long, visible_alias = "artifact-bind", value_name = "ADDR:PORT", value_parser = values::socket_addr)]
    bind: SocketAddr,
    /// The base URL agents are told; required with a wildcard bind [default: http://ADDR:PORT
    /// of the bound address]
    #[arg(long, visible_alias = "artifact-advertise", value_name = "URL", value_parser = values::url)]
    advertise: Option<Url>,
    /// The master's URL: an advertised loopback address while the master is not on loopback is
    /// an error
    #[arg(long, value_name = "URL", value_parser = values::url)]
    master: Option<Url>,
    /// The files to serve, each as NAME=PATH
    #[arg(value_name = "NAME=PATH", required = true, value_parser = values::named_file)]
    files: Vec<(String, PathBuf)>,
}

impl ArtifactsFlags {
    /// The `artifacts` command these flags ask for.
    pub fn into_command(self) -> Command {
        Command::Artifacts(ArtifactsArgs {
            bind: self.bind,
            advertise: self.advertise,
            master: self.master,
            files: self.files,
        })
    }
}
