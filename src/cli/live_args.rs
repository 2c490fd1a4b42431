//! The arguments of the commands that speak the Mesos protocol: `master`, `demo` and `run`.
//!
//! [`flags`](super::flags) checks every number before it lands here, so the commands never see
//! a value that could make a `Duration` overflow or a port range run backwards.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use offerpack::driver::Encoding;
use offerpack::session::{RetryPolicy, StopMode};

use super::custom_executor::ExecutorArgs;

/// Arguments of `master`.
#[derive(Debug, PartialEq)]
pub struct MasterArgs {
    /// Address to listen on (port 0 picks a free port).
    pub listen: SocketAddr,
    /// Number of simulated agents.
    pub agents: u32,
    /// CPUs of every agent.
    pub cpus: f64,
    /// Memory of every agent, in MB.
    pub mem: f64,
    /// Disk of every agent, in MB.
    pub disk: f64,
    /// The agents' port range, inclusive.
    pub ports: (u64, u64),
    /// Number of zones the agents are spread over (attribute `zone`).
    pub zones: u32,
    /// Seed of the master's random choices.
    pub seed: u64,
    /// How long a task runs once RUNNING; `None` runs tasks until killed.
    pub task_duration: Option<Duration>,
    /// Every this many launched tasks, one ends in TASK_FAILED.
    pub fail_every: Option<NonZeroU32>,
    /// How often agent processes must ping (`--agent-ping SECS`, default 1 s).
    pub agent_ping: Duration,
    /// Agent processes silent this long are lost (`--agent-timeout SECS`, default 5 s).
    pub agent_timeout: Duration,
    /// A Mesos credentials file; when given, frameworks must authenticate (`--credentials`).
    pub credentials: Option<PathBuf>,
    /// The ZooKeeper group to be elected in (`--zk zk://HOST:PORT[,HOST:PORT]/PATH`).
    pub zk: Option<offerpack::session::ZkUrl>,
    /// The ZooKeeper session timeout (`--zk-session-timeout SECS`, default 10 s).
    pub zk_session_timeout: Duration,
    /// How long a new leader takes agents of the previous one (`--agent-reregister-timeout
    /// SECS`, default 10 s).
    pub agent_reregister_timeout: Duration,
    /// Serve HTTPS with this certificate chain and private key, both PEM (`--tls-cert FILE
    /// --tls-key FILE`).
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// Arguments of `demo`.
#[derive(Debug, PartialEq)]
pub struct DemoArgs {
    /// Number of simulated agents.
    pub agents: u32,
    /// Number of tasks.
    pub tasks: u32,
    /// Seed of the workload and of the master.
    pub seed: u64,
    /// Wire encoding.
    pub encoding: Encoding,
    /// The whole demo gives up after this long.
    pub deadline: Duration,
    /// How failed or lost tasks are retried.
    pub retry: RetryPolicy,
    /// Every this many launched tasks, the simulated master fails one.
    pub fail_every: Option<NonZeroU32>,
    /// Master, agents and scheduler as separate processes on loopback addresses
    /// (`--multinode`; the defaults are then 2 agents and 24 tasks).
    pub multinode: bool,
    /// Where to serve the framework's Prometheus metrics (`--metrics-listen ADDR:PORT`).
    pub metrics_listen: Option<SocketAddr>,
}

/// Where `run` takes its tasks from.
#[derive(Debug, PartialEq)]
pub enum TaskSource {
    /// This many small synthetic tasks.
    Synthetic(u32),
    /// The tasks of a workload file (the `solve` format; offers are ignored).
    Workload(PathBuf),
}

/// Arguments of `run`.
#[derive(Debug, PartialEq)]
pub struct RunArgs {
    /// The master's address.
    pub master: String,
    /// The tasks to run.
    pub tasks: TaskSource,
    /// Wire encoding.
    pub encoding: Encoding,
    /// Framework name.
    pub name: String,
    /// The user tasks run as.
    pub user: String,
    /// Roles to subscribe with (`*` when none is given).
    pub roles: Vec<String>,
    /// Give up when not subscribed after this long.
    pub connect_timeout: Duration,
    /// Give up when the tasks have not all ended after this long.
    pub deadline: Duration,
    /// How failed or lost tasks are retried.
    pub retry: RetryPolicy,
    /// The custom executor every task runs through (`--executor PATH`), if any.
    pub executor: Option<ExecutorArgs>,
    /// What a SIGINT or SIGTERM does to the framework (`--on-exit teardown|failover`).
    pub on_exit: StopMode,
    /// The shell command line every task runs (`--command`, default `sleep 1`).
    pub command: String,
    /// Authenticate as this principal (`--principal`), with the secret read from
    /// `--secret-file` (never printed).
    pub principal: Option<(String, PathBuf)>,
    /// Capabilities announced besides MULTI_ROLE (`--capability NAME`, repeatable).
    pub capabilities: Vec<offerpack::session::Capability>,
    /// Where to serve the framework's Prometheus metrics (`--metrics-listen ADDR:PORT`).
    pub metrics_listen: Option<SocketAddr>,
    /// Extra CA certificates (PEM) trusted for an `https://` master (`--ca-cert FILE`).
    pub ca_cert: Option<PathBuf>,
    /// Run as one instance of a highly available run meeting the others there
    /// (`--ha zk://HOST:PORT/PATH` or `--ha file:///DIR`).
    pub ha: Option<offerpack::ha::HaUrl>,
    /// This instance's name (`--instance`; default `HOSTNAME-PID`).
    pub instance: Option<String>,
    /// The ZooKeeper session timeout of `--ha zk://…` (`--ha-session-timeout SECS`).
    pub ha_session_timeout: Duration,
    /// Plan without launching (`--dry-run`): print the first pass's plan, then tear down.
    pub dry_run: bool,
}

#[cfg(test)]
mod tests {
    use super::super::args::{parse_args, Command};
    use super::*;

    #[test]
    fn live_args_parse_master_flags() {
        let cmd = parse_args(&[
            "master",
            "--listen",
            "127.0.0.1:0",
            "--agents",
            "3",
            "--ports",
            "1000-1010",
            "--task-duration-ms",
            "250",
        ]);
        let Command::Master(m) = cmd.unwrap() else { panic!("not master") };
        assert_eq!((m.listen.port(), m.agents, m.ports), (0, 3, (1000, 1010)));
        assert_eq!(m.task_duration, Some(Duration::from_millis(250)));
    }

    #[test]
    fn live_args_parse_run_and_demo_flags() {
        let cmd = parse_args(&["run", "--master", "m:5050", "--tasks", "4", "--role", "a", "--role", "b"]);
        let Command::Run(r) = cmd.unwrap() else { panic!("not run") };
        assert_eq!((r.tasks, r.roles), (TaskSource::Synthetic(4), vec!["a".to_owned(), "b".to_owned()]));
        let cmd = parse_args(&["run", "--master", "m", "--workload", "w.json", "--connect-timeout", "0.5"]);
        let Command::Run(r) = cmd.unwrap() else { panic!("not run") };
        assert_eq!((r.roles, r.connect_timeout), (vec!["*".to_owned()], Duration::from_millis(500)));
        let cmd = parse_args(&["demo", "--agents", "5", "--tasks", "9", "--encoding", "json"]);
        let Command::Demo(d) = cmd.unwrap() else { panic!("not demo") };
        assert_eq!((d.agents, d.tasks, d.encoding), (5, 9, Encoding::Json));
        assert_eq!((d.retry, d.fail_every), (RetryPolicy::default(), None));
    }

    #[test]
    fn live_args_parse_retry_and_failure_flags() {
        let cmd = parse_args(&["run", "--master", "m", "--tasks", "2", "--retries", "3", "--retry-backoff", "250"]);
        let Command::Run(r) = cmd.unwrap() else { panic!("not run") };
        let want =
            RetryPolicy::attempts(3).with_backoff(Duration::from_millis(250), RetryPolicy::default().max_backoff);
        assert_eq!(r.retry, want);
        assert_eq!(r.retry.validate(), Ok(()));
        // A first delay above the default cap raises the cap with it.
        let cmd = parse_args(&["demo", "--retry-backoff", "90000", "--fail-every", "7"]);
        let Command::Demo(d) = cmd.unwrap() else { panic!("not demo") };
        assert_eq!((d.retry.backoff, d.retry.max_backoff), (Duration::from_secs(90), Duration::from_secs(90)));
        assert_eq!((d.retry.attempts, d.fail_every), (1, NonZeroU32::new(7)));
        let cmd = parse_args(&["master", "--agents", "1", "--fail-every", "2"]);
        let Command::Master(m) = cmd.unwrap() else { panic!("not master") };
        assert_eq!(m.fail_every, NonZeroU32::new(2));
        assert_eq!((m.agent_ping, m.agent_timeout), (Duration::from_secs(1), Duration::from_secs(5)));
        let cmd = parse_args(&["master", "--agents", "0", "--agent-ping", "0.5", "--agent-timeout", "3"]);
        let Command::Master(m) = cmd.unwrap() else { panic!("not master") };
        assert_eq!((m.agents, m.agent_ping, m.agent_timeout), (0, Duration::from_millis(500), Duration::from_secs(3)));
    }

    #[test]
    fn live_args_parse_tls_flags() {
        let cmd = parse_args(&["master", "--agents", "0", "--tls-cert", "c.pem", "--tls-key", "k.pem"]);
        let Command::Master(m) = cmd.unwrap() else { panic!("not master") };
        assert_eq!(m.tls, Some((PathBuf::from("c.pem"), PathBuf::from("k.pem"))));
        let cmd = parse_args(&["run", "--master", "https://m:5050", "--tasks", "1", "--ca-cert", "ca.pem"]);
        let Command::Run(r) = cmd.unwrap() else { panic!("not run") };
        assert_eq!((r.master.as_str(), r.ca_cert), ("https://m:5050", Some(PathBuf::from("ca.pem"))));
    }

    #[test]
    fn live_args_reject_bad_input() {
        for bad in [
            &["master"][..],
            &["master", "--agents", "100001"],
            &["master", "--agents", "0", "--agent-ping", "0"],
            &["master", "--agents", "0", "--agent-timeout", "NaN"],
            &["master", "--agents", "1", "--listen", "localhost"],
            &["master", "--agents", "1", "--ports", "32000-31000"],
            &["master", "--agents", "1", "--ports", "1-70000"],
            &["master", "--agents", "1", "--cpus", "NaN"],
            &["master", "--agents", "1", "--mem", "-1"],
            &["master", "--agents", "1", "--task-duration-ms", "-5"],
            &["demo", "--tasks", "0"],
            &["demo", "--agents", "100001"],
            &["run", "--master", "m", "--tasks", "1000001"],
            &["demo", "--encoding", "xml"],
            &["demo", "--deadline", "inf"],
            &["run", "--tasks", "1"],
            &["run", "--master", "m"],
            &["run", "--master", "m", "--tasks", "1", "--workload", "w"],
            &["run", "--master", "m", "--tasks", "1", "--connect-timeout", "0"],
            &["run", "--master", "m", "--tasks", "1", "--role", ""],
            &["run", "--master", "m", "--tasks", "1", "--retries", "0"],
            &["run", "--master", "m", "--tasks", "1", "--retries", "1001"],
            &["run", "--master", "m", "--tasks", "1", "--retry-backoff", "-1"],
            &["demo", "--retry-backoff", "86400001"],
            &["demo", "--fail-every", "0"],
            &["master", "--agents", "1", "--fail-every", "0"],
            &["master", "--agents", "1", "--tls-cert", "c.pem"],
            &["master", "--agents", "1", "--tls-key", "k.pem"],
        ] {
            assert!(parse_args(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn live_args_parse_metrics_listen() {
        let cmd = parse_args(&["run", "--master", "m", "--tasks", "1", "--metrics-listen", "127.0.0.1:0"]);
        let Command::Run(run) = cmd.unwrap() else { panic!("not run") };
        assert_eq!(run.metrics_listen, Some(SocketAddr::from(([127, 0, 0, 1], 0))));
        let Command::Demo(demo) = parse_args(&["demo", "--metrics-listen", "[::1]:9100"]).unwrap() else { panic!() };
        assert_eq!(demo.metrics_listen.map(|a| a.port()), Some(9100));
        assert!(parse_args(&["demo", "--metrics-listen", "localhost"]).is_err());
        assert!(parse_args(&["demo", "--multinode", "--metrics-listen", "127.0.0.1:0"]).is_err());
    }
}
