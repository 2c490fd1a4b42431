//! The flags of `offerpack run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, ValueEnum};
use offerpack::ha::HaUrl;
use offerpack::session::{Capability, StopMode};

use super::demo::MAX_TASKS;
use super::retry::RetryFlags;
use super::values;
use super::Encoding;
use crate::cli::args::Command;
use crate::cli::custom_executor::ExecutorArgs;
use crate::cli::live_args::{RunArgs, TaskSource};

/// Run tasks on any master speaking the v1 scheduler API
///
/// Runs N small synthetic tasks (0.1 cpus, 32 MB, --command each) or the tasks of a workload
/// file (the `solve` format; its offers are ignored, and a task asking for a resource no agent
/// has, such as the `network` of `gen`'s tasks on the simulated master, stays pending) on any
/// master speaking the v1 scheduler API.
///
/// Exits 0 only when every task finished; non-zero when the master cannot be reached within the
/// connect timeout, rejects the framework, or the deadline passes. Tasks still pending at the
/// end are explained per kind of task (group and the engine's reasons, e.g. `zone:UNIQUE
/// rejected 3 of 3 offered agents`), as the latest scheduling pass with offers left them.
///
/// A workload with `buckets`, `tiers` or tasks with `tier`/`bucket` is placed in queue order
/// (weighted DRF), and the summary shows each bucket's placed tasks and dominant share.
///
/// With --ha, instances elect a leader (ZooKeeper's ephemeral-sequential recipe under
/// PATH/election, or a lock file in DIR); a standby prints `standby: leader is NAME` and
/// waits, the leader prints `leading as NAME` and runs. The leader persists the framework id,
/// every task and each task's state, attempt and retry time (under PATH/state, or in DIR)
/// before acting on them; a successor re-subscribes with the same framework id, adopts the
/// tasks still running and goes on. A stored run wins over this instance's --tasks/--workload
/// (said on standard output). When every task has ended the leader leaves a finished marker,
/// tears the framework down and exits; a signal leaves the run to a standby (failover).
#[derive(Debug, Args)]
#[command(group = ArgGroup::new("source").required(true).args(["tasks", "workload"]))]
pub struct RunFlags {
    /// The master: http://HOST:PORT, https://HOST:PORT or zk://HOST:PORT[,HOST:PORT]/PATH
    #[arg(long, value_name = "URL")]
    master: String,
    /// Run N small synthetic tasks, at most 1000000
    #[arg(long, value_name = "N", value_parser = values::count(MAX_TASKS))]
    tasks: Option<u32>,
    /// Run the tasks of a workload file (the `solve` format)
    #[arg(long, value_name = "FILE")]
    workload: Option<PathBuf>,
    /// Wire encoding between framework and master
    #[arg(long, value_enum, value_name = "ENCODING", default_value_t = Encoding::Protobuf)]
    encoding: Encoding,
    /// Framework name
    #[arg(long, value_name = "NAME", default_value = "offerpack", value_parser = values::non_empty)]
    name: String,
    /// The user tasks run as [default: $USER, else root]
    #[arg(long, value_name = "USER", value_parser = values::non_empty)]
    user: Option<String>,
    /// A role to subscribe with, repeatable [default: *]
    #[arg(long = "role", value_name = "ROLE", value_parser = values::non_empty)]
    roles: Vec<String>,
    /// Give up when not subscribed after this many seconds
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = values::seconds)]
    connect_timeout: Duration,
    /// Give up when the tasks have not all ended after this many seconds
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = values::seconds)]
    deadline: Duration,
    #[command(flatten)]
    retry: RetryFlags,
    /// Launch nothing: wait for the first offers, print the plan the first pass would make for
    /// the tasks (JSON, as solve prints it), tear the framework down
    #[arg(long, conflicts_with = "url")]
    dry_run: bool,
    /// The shell command line every task runs
    #[arg(long = "command", id = "task_command", value_name = "CMD", default_value = "sleep 1",
          value_parser = values::non_empty)]
    task_command: String,
    /// What SIGINT/SIGTERM does; a second signal exits at once
    ///
    /// teardown: the framework is torn down, the master kills its tasks; failover: the
    /// framework and its tasks are left for a successor, and its id is printed.
    #[arg(long, value_enum, value_name = "WHAT", default_value_t = OnExit::Teardown)]
    on_exit: OnExit,
    /// Authenticate with HTTP Basic as principal P (also FrameworkInfo.principal); with
    /// --secret-file
    #[arg(long, value_name = "P", value_parser = values::non_empty, requires = "secret_file")]
    principal: Option<String>,
    /// The secret of --principal, read from FILE (a trailing newline dropped; never printed)
    #[arg(long, value_name = "FILE", requires = "principal")]
    secret_file: Option<PathBuf>,
    /// Announce a capability besides MULTI_ROLE (GPU_RESOURCES, PARTITION_AWARE, REGION_AWARE,
    /// …), repeatable
    #[arg(long = "capability", value_name = "NAME", value_parser = values::capability)]
    capabilities: Vec<Capability>,
    /// Serve the framework's Prometheus metrics at http://ADDR/metrics (port 0 picks one)
    #[arg(long, value_name = "ADDR:PORT", value_parser = values::socket_addr)]
    metrics_listen: Option<SocketAddr>,
    /// For an https:// master: trust the CA certificates of this PEM file besides the system's
    ///
    /// An untrusted, expired or misnamed certificate ends the run at once with the cause.
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    #[command(flatten)]
    executor: ExecutorFlags,
    #[command(flatten)]
    ha: HaFlags,
}

/// The flags of a custom executor served by an artifact server on this host.
#[derive(Debug, Args)]
#[command(next_help_heading = "Custom executor")]
struct ExecutorFlags {
    /// Serve PATH from an artifact server on this host and run every task through it
    ///
    /// A custom executor, one per agent, holding --executor-cpus and --executor-mem once per
    /// agent; each task's command line is its TaskInfo.data. Agents fetch it (cached, its
    /// SHA-256 in the URI) and start it with --executor-command. The first failed fetch of it
    /// ends the run, naming the URI, the agent and the message. Needs --artifact-bind.
    #[arg(long = "executor", value_name = "PATH", value_parser = values::non_empty_path, requires = "bind")]
    path: Option<PathBuf>,
    /// Where the artifact server listens (0.0.0.0:0 allowed)
    #[arg(long = "artifact-bind", value_name = "ADDR:PORT", value_parser = values::socket_addr, requires = "path")]
    bind: Option<SocketAddr>,
    /// The base URL agents are told (required with a wildcard bind; a loopback URL with a
    /// master not on loopback fails at start)
    #[arg(long = "artifact-advertise", value_name = "URL", value_parser = values::url, requires = "path")]
    advertise: Option<url::Url>,
    /// How agents start the executor [default: ./NAME; `./offerpack executor` for
    /// offerpack's own]
    #[arg(long = "executor-command", value_name = "CMD", value_parser = values::non_empty, requires = "path")]
    command: Option<String>,
    /// CPUs the executor holds on each agent
    #[arg(long = "executor-cpus", value_name = "C", default_value = "0.1", value_parser = values::amount,
          requires = "path")]
    cpus: f64,
    /// Memory (MB) the executor holds on each agent
    #[arg(long = "executor-mem", value_name = "MB", default_value = "32", value_parser = values::amount,
          requires = "path")]
    mem: f64,
}

/// The flags of a highly available run.
#[derive(Debug, Args)]
#[command(next_help_heading = "High availability")]
struct HaFlags {
    /// Run as one instance of a highly available run: zk://HOST:PORT/PATH or file:///DIR (not
    /// with --executor)
    #[arg(long = "ha", value_name = "URL", value_parser = values::ha_url, conflicts_with = "path")]
    url: Option<HaUrl>,
    /// This instance's name [default: HOSTNAME-PID]
    #[arg(long, value_name = "NAME", value_parser = values::non_empty, requires = "url")]
    instance: Option<String>,
    /// The ZooKeeper session timeout of --ha zk://…, in seconds [default: 10]
    #[arg(long, value_name = "SECS", value_parser = values::seconds, requires = "url")]
    ha_session_timeout: Option<Duration>,
}

/// `--on-exit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OnExit {
    /// Tear the framework down.
    Teardown,
    /// Leave the framework and its tasks for a successor.
    Failover,
}

impl RunFlags {
    /// The `run` command these flags ask for.
    pub fn into_command(self) -> Command {
        let tasks = match (self.tasks, self.workload) {
            (_, Some(file)) => TaskSource::Workload(file),
            (n, None) => TaskSource::Synthetic(n.unwrap_or(0)),
        };
        let user = self.user.or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()));
        let e = self.executor;
        let executor = e.path.zip(e.bind).map(|(path, bind)| ExecutorArgs {
            path,
            command: e.command,
            cpus: e.cpus,
            mem: e.mem,
            bind,
            advertise: e.advertise,
        });
        Command::Run(Box::new(RunArgs {
            master: self.master,
            tasks,
            encoding: self.encoding.into(),
            name: self.name,
            user: user.unwrap_or_else(|| "root".to_owned()),
            roles: if self.roles.is_empty() { vec!["*".to_owned()] } else { self.roles },
            connect_timeout: self.connect_timeout,
            deadline: self.deadline,
            retry: self.retry.policy(),
            executor,
            on_exit: match self.on_exit {
                OnExit::Teardown => StopMode::Teardown,
                OnExit::Failover => StopMode::Failover,
            },
            command: self.task_command,
            principal: self.principal.zip(self.secret_file),
            capabilities: self.capabilities,
            metrics_listen: self.metrics_listen,
            ca_cert: self.ca_cert,
            ha: self.ha.url,
            instance: self.ha.instance,
            ha_session_timeout: self.ha.ha_session_timeout.unwrap_or(offerpack::ha::DEFAULT_SESSION_TIMEOUT),
            dry_run: self.dry_run,
        }))
    }
}
