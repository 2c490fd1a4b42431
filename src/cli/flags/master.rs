//! The flags of `offerpack master`.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use offerpack::session::ZkUrl;

use super::values::{self, TaskDuration};
use crate::cli::args::Command;
use crate::cli::live_args::MasterArgs;

/// Most simulated agents (each costs memory in the master and a hostname).
pub const MAX_AGENTS: u32 = 100_000;

/// Run a simulated Mesos master in the foreground
///
/// Runs a simulated Mesos master (v1 scheduler API, protobuf and JSON) in the foreground with N
/// simulated agents agent-0001 ... carrying a `zone` attribute. Prints the scheduler API URL
/// once listening. SIGINT or SIGTERM shuts it down cleanly (streams closed, exit 0).
///
/// Agent processes (`offerpack agent`) join at /api/offerpack/agent, beside the N simulated
/// agents or instead of them (--agents 0); their tasks really run. `GET /metrics/snapshot`
/// answers as a Mesos master's does.
#[derive(Debug, Args)]
pub struct MasterFlags {
    /// Simulated agents, at most 100000 (0 for none: agent processes only)
    #[arg(long, value_name = "N", value_parser = values::at_most(MAX_AGENTS))]
    agents: u32,
    /// Address to listen on (127.0.0.1:0 picks a free port)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:5050", value_parser = values::socket_addr)]
    listen: SocketAddr,
    /// CPUs of every simulated agent
    #[arg(long, value_name = "C", default_value = "16", value_parser = values::amount)]
    cpus: f64,
    /// Memory of every simulated agent, in MB
    #[arg(long, value_name = "M", default_value = "65536", value_parser = values::amount)]
    mem: f64,
    /// Disk of every simulated agent, in MB
    #[arg(long, value_name = "D", default_value = "500000", value_parser = values::amount)]
    disk: f64,
    /// The agents' port range, inclusive
    #[arg(long, value_name = "B-E", default_value = "31000-32000", value_parser = values::port_range)]
    ports: (u64, u64),
    /// Zones the agents are spread over (attribute `zone`)
    #[arg(long, value_name = "Z", default_value = "3", value_parser = values::at_least_one)]
    zones: u32,
    /// Seed of the master's random choices
    #[arg(long, value_name = "S", default_value = "0")]
    seed: u64,
    /// How long a task runs once RUNNING, in milliseconds, or forever (until killed)
    #[arg(long, value_name = "MS|forever", default_value = "1000", value_parser = values::task_duration)]
    task_duration_ms: TaskDuration,
    /// Launches K, 2K, 3K, ... (counted over every framework) end in TASK_FAILED
    #[arg(long, value_name = "K", value_parser = values::fail_every)]
    fail_every: Option<NonZeroU32>,
    /// How often agent processes ping, in seconds
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = values::seconds)]
    agent_ping: Duration,
    /// An agent process silent this many seconds is lost
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = values::seconds)]
    agent_timeout: Duration,
    /// Require frameworks to authenticate (HTTP Basic) against Mesos' credentials JSON in FILE
    ///
    /// FILE is an object with a "credentials" array of {principal, secret}. Unauthenticated
    /// scheduler API requests get 401 (realm mesos-master-scheduler); 400 when
    /// FrameworkInfo.principal differs from the authenticated one.
    #[arg(long, value_name = "FILE")]
    credentials: Option<PathBuf>,
    /// Be one of several masters elected through ZooKeeper (zk://HOST:PORT[,HOST:PORT]/PATH)
    ///
    /// An ephemeral sequential node PATH/json.info_N holds this master's MasterInfo JSON; it
    /// leads while its N is the smallest (prints `offerpack master: leading (zk node
    /// json.info_N)`), else answers 307 to the leader (503 "No leader elected" when none). A
    /// new leader takes agent processes of the previous one back with their tasks, and
    /// frameworks re-subscribing with their id. Credentials in the URL are not supported.
    #[arg(long, value_name = "URL", value_parser = values::zk_group)]
    zk: Option<ZkUrl>,
    /// ZooKeeper session timeout in seconds; it stops leading before a lost session can expire
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = values::seconds)]
    zk_session_timeout: Duration,
    /// How long, in seconds, a new leader takes agents it never knew
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = values::seconds)]
    agent_reregister_timeout: Duration,
    /// Serve HTTPS only, with this PEM certificate chain (and --tls-key); URLs then say https://
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

impl MasterFlags {
    /// The `master` command these flags ask for.
    pub fn into_command(self) -> Command {
        Command::Master(MasterArgs {
            listen: self.listen,
            agents: self.agents,
            cpus: self.cpus,
            mem: self.mem,
            disk: self.disk,
            ports: self.ports,
            zones: self.zones,
            seed: self.seed,
            task_duration: self.task_duration_ms.0,
            fail_every: self.fail_every,
            agent_ping: self.agent_ping,
            agent_timeout: self.agent_timeout,
            credentials: self.credentials,
            zk: self.zk,
            zk_session_timeout: self.zk_session_timeout,
            agent_reregister_timeout: self.agent_reregister_timeout,
            tls: self.tls_cert.zip(self.tls_key),
        })
    }
}
