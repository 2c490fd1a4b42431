//! `offerpack agent`: a simulated Mesos agent as a real process, joining a simulated master
//! over offerpack's private agent API. Prints `agent listening on http://ADDR` once bound.
//! `--master zk://HOST:PORT[,HOST:PORT]/PATH` follows the leader of masters elected through
//! ZooKeeper (`offerpack master --zk`), re-registering with each new leader.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use offerpack::agent::{parse_attributes, parse_resources, run_agent_until, AgentOptions, AgentStop};

use super::signals::{self, Signals};
use super::CliError;

/// Resources of an agent started without `--resources`.
pub const DEFAULT_RESOURCES: &str = "cpus:4;mem:8192;disk:40960;ports:[31000-32000]";

/// Arguments of `agent`.
#[derive(Debug, PartialEq)]
pub struct AgentArgs {
    /// The master's base URL, or a `zk://` group of masters.
    pub master: String,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Advertised host and, when given, port.
    pub advertise: (String, Option<u16>),
    /// Root of sandboxes and the fetcher cache.
    pub work_dir: PathBuf,
    /// `--resources` text.
    pub resources: String,
    /// `--attributes` text.
    pub attributes: String,
    /// Executor registration timeout.
    pub registration_timeout: Duration,
    /// Seed of ids and uuids.
    pub seed: u64,
    /// What a SIGINT or SIGTERM does to the processes it started (`--on-exit kill|leave`).
    pub on_exit: AgentStop,
    /// Extra CA certificates (PEM) trusted for an `https://` master (`--ca-cert FILE`).
    pub ca_cert: Option<PathBuf>,
}

/// Runs the agent until a SIGINT or SIGTERM (then its task and executor processes are killed,
/// or left running with `--on-exit leave`) or until the process is killed.
pub fn run(args: &AgentArgs) -> Result<(), CliError> {
    let resources = parse_resources(&args.resources).map_err(|e| CliError::Usage(format!("--resources: {e}")))?;
    let attributes = parse_attributes(&args.attributes).map_err(|e| CliError::Usage(format!("--attributes: {e}")))?;
    let options = AgentOptions {
        master: args.master.clone(),
        listen: args.listen,
        advertise_host: args.advertise.0.clone(),
        advertise_port: args.advertise.1,
        work_dir: args.work_dir.clone(),
        resources,
        attributes,
        executor_registration_timeout: args.registration_timeout,
        seed: args.seed,
        tls: super::run::tls_config(args.ca_cert.as_deref())?,
    };
    let host = args.advertise.0.clone();
    let fixed_port = args.advertise.1;
    let on_exit = args.on_exit;
    let ready = |bound: SocketAddr| {
        say!("agent listening on http://{bound}");
        note!("offerpack agent: advertised as {host}:{}; interrupt to stop", fixed_port.unwrap_or(bound.port()));
    };
    let stop = move |_| async move {
        let mut signals = Signals::new();
        let caught = signals::first_or_never(&mut signals).await;
        let what = match on_exit {
            AgentStop::KillTasks => "killing its tasks and executors",
            _ => "leaving its tasks and executors running",
        };
        note!("{}: offerpack agent stopping, {what}", caught.name());
        on_exit
    };
    run_agent_until(options, ready, stop).map_err(|e| CliError::Failed(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::args::{parse_args, Command};
    use super::*;

    fn parse_line(line: &str) -> Result<Command, clap::Error> {
        parse_args(&std::iter::once("agent").chain(line.split_whitespace()).collect::<Vec<_>>())
    }

    #[test]
    fn parse_defaults_advertise_to_a_specific_listen_address() {
        let Command::Agent(a) = parse_line("--master http://m:5050 --listen 127.0.0.4:0 --work-dir /tmp/w").unwrap()
        else {
            panic!("not an agent command")
        };
        assert_eq!(a.advertise, ("127.0.0.4".to_owned(), None));
        assert_eq!(a.registration_timeout, Duration::from_secs(60));
        assert_eq!((a.resources.as_str(), a.attributes.as_str()), (DEFAULT_RESOURCES, ""));
        assert_eq!(a.on_exit, AgentStop::KillTasks);
        let Command::Agent(a) =
            parse_line("--master http://m:5050 --listen 127.0.0.4:0 --work_dir /w --seed 7").unwrap()
        else {
            panic!("not an agent command")
        };
        assert_eq!((a.work_dir, a.seed), (PathBuf::from("/w"), 7));
    }

    #[test]
    fn parse_takes_an_https_master_and_a_ca_cert() {
        let line = "--master https://m:5050 --listen 127.0.0.4:0 --work-dir /w --ca-cert /etc/ca.pem";
        let Command::Agent(a) = parse_line(line).unwrap() else { panic!("not an agent command") };
        assert_eq!((a.master.as_str(), a.ca_cert), ("https://m:5050", Some(PathBuf::from("/etc/ca.pem"))));
        let err = parse_line("--master ftp://m:5050 --listen 127.0.0.4:0 --work-dir /w").unwrap_err();
        assert!(err.to_string().contains("--master <URL>"), "{err}");
    }

    #[test]
    fn parse_requires_advertise_with_a_wildcard_listen() {
        let err = parse_line("--master http://m:5050 --listen 0.0.0.0:5051 --work-dir /w").unwrap_err();
        assert!(err.to_string().contains("--advertise"));
        let ok = parse_line("--master http://m:5050 --listen 0.0.0.0:5051 --advertise h1:6000 --work-dir /w").unwrap();
        let Command::Agent(a) = ok else { panic!("not an agent command") };
        assert_eq!(a.advertise, ("h1".to_owned(), Some(6000)));
    }

    #[test]
    fn parse_takes_a_zookeeper_group_as_master() {
        let line = "--master zk://127.0.0.1:2181,127.0.0.2:2181/mesos --listen 127.0.0.4:0 --work-dir /w";
        let Command::Agent(a) = parse_line(line).unwrap() else { panic!("not an agent command") };
        assert_eq!(a.master, "zk://127.0.0.1:2181,127.0.0.2:2181/mesos");
        let err = parse_line("--master zk://127.0.0.1:2181 --listen 127.0.0.4:0 --work-dir /w").unwrap_err();
        assert!(err.to_string().contains("chroot"), "{err}");
        assert!(parse_line("--master ftp://m --listen 127.0.0.4:0 --work-dir /w").is_err());
    }

    #[test]
    fn parse_rejects_missing_and_bad_flags() {
        for line in [
            "--listen 127.0.0.4:0 --work-dir /w",
            "--master http://m:5050 --work-dir /w",
            "--master http://m:5050 --listen 127.0.0.4:0",
            "--master http://m:5050 --listen 127.0.0.4:0 --work-dir /w --on-exit stay",
            "--master http://m:5050 --listen 127.0.0.4:0 --work-dir /w --advertise h:notaport",
            "--master http://m:5050 --listen 127.0.0.4:0 --work-dir /w --executor-registration-timeout -1",
        ] {
            assert!(parse_line(line).is_err(), "{line}");
        }
    }
}
