//! The flags of `offerpack agent`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use offerpack::agent::AgentStop;

use super::values;
use crate::cli::agent::{AgentArgs, DEFAULT_RESOURCES};
use crate::cli::args::Command;

/// Run a simulated Mesos agent as a real process joining a simulated master
///
/// Runs a simulated Mesos agent as a real process joining a simulated master (offerpack's
/// private agent API at URL/api/offerpack/agent): registers, pings, fetches each task's
/// CommandInfo URIs into its sandbox under --work-dir (http://, file:// and absolute paths;
/// executable, extract of .tar/.tgz/.tar.gz/.gz, output_file, cache under DIR/fetch_cache), runs
/// command tasks and custom executors as processes, and serves POST /api/v1/executor and GET
/// /metrics/snapshot. Prints `agent listening on http://ADDR` once bound.
///
/// A first SIGINT or SIGTERM kills the processes of its tasks and executors (--on-exit leave
/// leaves them) and exits 0; a second exits at once.
#[derive(Debug, Args)]
pub struct AgentFlags {
    /// The master: http://HOST:PORT, https://HOST:PORT, or zk://HOST:PORT[,HOST:PORT]/PATH
    ///
    /// With zk://, masters elected through ZooKeeper: the agent follows the leader,
    /// re-registering with its id and running tasks at each change.
    #[arg(long, value_name = "URL", value_parser = values::agent_master)]
    master: String,
    /// Where to listen (port 0 picks one; the advertised port then follows it)
    #[arg(long, value_name = "ADDR:PORT", value_parser = values::socket_addr)]
    listen: SocketAddr,
    /// Root of the sandboxes and of the fetcher cache
    #[arg(long, alias = "work_dir", value_name = "DIR")]
    work_dir: PathBuf,
    /// The address the master and executors are told: HOST, HOST:PORT or [V6]:PORT; required
    /// with a wildcard --listen [default: the listen address]
    #[arg(long, value_name = "ADDR[:PORT]", value_parser = values::advertise)]
    advertise: Option<(String, Option<u16>)>,
    /// Resources in Mesos syntax, e.g. 'cpus:4;mem:8192;ports:[31000-31999]'
    #[arg(long, value_name = "TEXT", default_value = DEFAULT_RESOURCES)]
    resources: String,
    /// Attributes in Mesos syntax, e.g. 'zone:a;rack:r1' (zone:01 is the number 1, as in Mesos)
    #[arg(long, value_name = "TEXT", default_value = "")]
    attributes: String,
    /// Executors not subscribed after this many seconds are killed
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = values::seconds_or_zero)]
    executor_registration_timeout: Duration,
    /// Seed of ids and uuids [default: from the process id and the port]
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// What SIGINT/SIGTERM does to its task and executor processes
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnExit::Kill)]
    on_exit: OnExit,
    /// For an https:// master: trust the CA certificates of this PEM file too
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
}

/// `--on-exit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OnExit {
    /// Kill them.
    Kill,
    /// Leave them running.
    Leave,
}

impl AgentFlags {
    /// The `agent` command these flags ask for; `Err` when a wildcard --listen has no
    /// --advertise.
    pub fn into_command(self) -> Result<Command, String> {
        let advertise = match self.advertise {
            Some(a) => a,
            None if self.listen.ip().is_unspecified() => {
                return Err("--listen is a wildcard address: --advertise ADDR is required".to_owned())
            }
            None => (self.listen.ip().to_string(), None),
        };
        let seed = self.seed.unwrap_or_else(|| u64::from(std::process::id()) ^ u64::from(self.listen.port()));
        Ok(Command::Agent(AgentArgs {
            master: self.master,
            listen: self.listen,
            advertise,
            work_dir: self.work_dir,
            resources: self.resources,
            attributes: self.attributes,
            registration_timeout: self.executor_registration_timeout,
            seed,
            on_exit: match self.on_exit {
                OnExit::Kill => AgentStop::KillTasks,
                OnExit::Leave => AgentStop::LeaveTasks,
            },
            ca_cert: self.ca_cert,
        }))
    }
}
