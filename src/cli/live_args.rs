//! Parsing of the commands that speak the Mesos protocol: `master`, `demo` and `run`.
//!
//! Every number is checked here, so the commands never see a value that could make a
//! `Duration` overflow or a port range run backwards.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use lexopt::{Arg, Parser, ValueExt};
use offerpack::driver::Encoding;
use offerpack::session::{RetryPolicy, StopMode};

use super::args::Command;
use super::custom_executor::ExecutorArgs;
use super::soak::SoakArgs;

/// Longest simulated task run `--task-duration-ms` accepts (about 100 years, as the master's
/// duration label).
const MAX_TASK_MS: u64 = 3_200_000_000_000;
/// Longest `--deadline` and `--connect-timeout`: one week.
const MAX_WAIT_SECS: f64 = 604_800.0;
/// Largest scalar amount accepted for an agent's `--cpus`, `--mem` or `--disk`.
const MAX_AMOUNT: f64 = 1e12;
/// Agent processes `demo --multinode` starts at most (each on its own loopback address).
const MAX_MULTINODE_AGENTS: u32 = 200;
/// Most simulated agents (each costs memory in the master and a hostname).
const MAX_AGENTS: u32 = 100_000;
/// Most tasks one `demo` or `run` follows.
const MAX_TASKS: u32 = 1_000_000;
/// Most launches `--retries` allows per task.
const MAX_ATTEMPTS: u32 = 1_000;
/// Longest first delay `--retry-backoff` accepts: one day, in milliseconds.
const MAX_BACKOFF_MS: u64 = 86_400_000;
/// Most tasks per second `demo --soak --rate` submits.
const MAX_SOAK_RATE: u32 = 100_000;
/// Shortest `demo --soak --fault-every`.
const MIN_FAULT_EVERY: Duration = Duration::from_millis(100);

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
}

/// Parses the flags of `master`.
pub fn master(mut p: Parser) -> Result<Command, lexopt::Error> {
    let mut args = MasterArgs {
        listen: SocketAddr::from(([127, 0, 0, 1], 5050)),
        agents: 0,
        cpus: 16.0,
        mem: 65_536.0,
        disk: 500_000.0,
        ports: (31000, 32000),
        zones: 3,
        seed: 0,
        task_duration: Some(Duration::from_secs(1)),
        fail_every: None,
        agent_ping: Duration::from_secs(1),
        agent_timeout: Duration::from_secs(5),
        credentials: None,
        zk: None,
        zk_session_timeout: Duration::from_secs(10),
        agent_reregister_timeout: Duration::from_secs(10),
        tls: None,
    };
    let mut agents = None;
    let (mut tls_cert, mut tls_key) = (None, None);
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Long("listen") => {
                let text = p.value()?.string()?;
                args.listen = text.parse().map_err(|_| format!("--listen {text:?}: expected IP:PORT"))?;
            }
            Arg::Long("agents") => agents = Some(at_most(p.value()?.parse()?, MAX_AGENTS, "--agents")?),
            Arg::Long("agent-ping") => args.agent_ping = seconds(p.value()?.parse()?, "--agent-ping")?,
            Arg::Long("agent-timeout") => args.agent_timeout = seconds(p.value()?.parse()?, "--agent-timeout")?,
            Arg::Long("credentials") => args.credentials = Some(PathBuf::from(p.value()?)),
            Arg::Long("cpus") => args.cpus = amount(p.value()?.parse()?, "--cpus")?,
            Arg::Long("mem") => args.mem = amount(p.value()?.parse()?, "--mem")?,
            Arg::Long("disk") => args.disk = amount(p.value()?.parse()?, "--disk")?,
            Arg::Long("ports") => args.ports = port_range(&p.value()?.string()?)?,
            Arg::Long("zones") => args.zones = positive(p.value()?.parse()?, "--zones")?,
            Arg::Long("seed") => args.seed = p.value()?.parse()?,
            Arg::Long("task-duration-ms") => args.task_duration = task_duration(&p.value()?.string()?)?,
            Arg::Long("fail-every") => args.fail_every = Some(fail_every(p.value()?.parse()?)?),
            Arg::Long("zk") => args.zk = Some(zk_group(&p.value()?.string()?)?),
            Arg::Long("zk-session-timeout") => {
                args.zk_session_timeout = seconds(p.value()?.parse()?, "--zk-session-timeout")?;
            }
            Arg::Long("agent-reregister-timeout") => {
                args.agent_reregister_timeout = seconds(p.value()?.parse()?, "--agent-reregister-timeout")?;
            }
            Arg::Long("tls-cert") => tls_cert = Some(PathBuf::from(p.value()?)),
            Arg::Long("tls-key") => tls_key = Some(PathBuf::from(p.value()?)),
            other => return Err(other.unexpected()),
        }
    }
    args.agents = agents.ok_or("master needs --agents N")?;
    args.tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    Ok(Command::Master(args))
}

/// Parses the flags of `demo`.
pub fn demo(mut p: Parser) -> Result<Command, lexopt::Error> {
    let mut args = DemoArgs {
        agents: 1_000,
        tasks: 5_000,
        seed: 1,
        encoding: Encoding::Protobuf,
        deadline: Duration::from_secs(300),
        retry: RetryPolicy::default(),
        fail_every: None,
        multinode: false,
        metrics_listen: None,
    };
    let (mut agents, mut tasks) = (None, None);
    let mut soak = SoakArgs {
        duration: Duration::ZERO,
        agents: 10_000,
        rate: 500,
        fault_every: Duration::from_secs(15),
        task_run: Duration::from_secs(5),
        grace: Duration::from_secs(120),
        seed: 1,
    };
    let (mut soaking, mut soak_flag) = (false, None);
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Long("soak") => {
                soaking = true;
                soak.duration = seconds(p.value()?.parse()?, "--soak")?;
            }
            Arg::Long(flag @ ("rate" | "fault-every" | "task-run" | "grace")) => {
                let flag = format!("--{flag}");
                match flag.as_str() {
                    "--rate" => soak.rate = count(p.value()?.parse()?, MAX_SOAK_RATE, &flag)?,
                    "--fault-every" => soak.fault_every = seconds(p.value()?.parse()?, &flag)?.max(MIN_FAULT_EVERY),
                    "--task-run" => soak.task_run = seconds(p.value()?.parse()?, &flag)?,
                    _ => soak.grace = seconds(p.value()?.parse()?, &flag)?,
                }
                soak_flag = Some(flag);
            }
            Arg::Long("agents") => agents = Some(count(p.value()?.parse()?, MAX_AGENTS, "--agents")?),
            Arg::Long("tasks") => tasks = Some(count(p.value()?.parse()?, MAX_TASKS, "--tasks")?),
            Arg::Long("multinode") => args.multinode = true,
            Arg::Long("seed") => args.seed = p.value()?.parse()?,
            Arg::Long("encoding") => args.encoding = encoding(&p.value()?.string()?)?,
            Arg::Long("deadline") => args.deadline = seconds(p.value()?.parse()?, "--deadline")?,
            Arg::Long("fail-every") => args.fail_every = Some(fail_every(p.value()?.parse()?)?),
            Arg::Long("retries") => args.retry.attempts = attempts(p.value()?.parse()?)?,
            Arg::Long("retry-backoff") => retry_backoff(p.value()?.parse()?, &mut args.retry)?,
            Arg::Long("metrics-listen") => args.metrics_listen = Some(metrics_listen(&p.value()?.string()?)?),
            other => return Err(other.unexpected()),
        }
    }
    if let (false, Some(flag)) = (soaking, &soak_flag) {
        return Err(format!("{flag} needs --soak SECONDS").into());
    }
    if soaking {
        soak.agents = agents.unwrap_or(soak.agents);
        soak.seed = args.seed;
        return Ok(Command::Soak(soak));
    }
    if args.multinode {
        if args.metrics_listen.is_some() {
            return Err("--metrics-listen is not available with --multinode".into());
        }
        args.agents = agents.unwrap_or(2);
        args.tasks = tasks.unwrap_or(24);
        if args.agents > MAX_MULTINODE_AGENTS {
            return Err(format!("--multinode runs at most {MAX_MULTINODE_AGENTS} agent processes").into());
        }
    } else {
        args.agents = agents.unwrap_or(args.agents);
        args.tasks = tasks.unwrap_or(args.tasks);
    }
    Ok(Command::Demo(args))
}

/// Parses the flags of `run`.
pub fn run(mut p: Parser) -> Result<Command, lexopt::Error> {
    let (mut master, mut tasks, mut roles) = (None, None, Vec::new());
    let mut args = RunArgs {
        master: String::new(),
        tasks: TaskSource::Synthetic(0),
        encoding: Encoding::Protobuf,
        name: "offerpack".to_owned(),
        user: std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".to_owned()),
        roles: Vec::new(),
        connect_timeout: Duration::from_secs(30),
        deadline: Duration::from_secs(600),
        retry: RetryPolicy::default(),
        executor: None,
        on_exit: StopMode::Teardown,
        command: "sleep 1".to_owned(),
        principal: None,
        capabilities: Vec::new(),
        metrics_listen: None,
        ca_cert: None,
        ha: None,
        instance: None,
        ha_session_timeout: offerpack::ha::DEFAULT_SESSION_TIMEOUT,
    };
    let (mut principal, mut secret_file) = (None, None);
    let mut executor = ExecutorFlags::default();
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Long("master") => master = Some(p.value()?.string()?),
            Arg::Long(
                flag @ ("executor" | "executor-command" | "executor-cpus" | "executor-mem" | "artifact-bind"
                | "artifact-advertise"),
            ) => {
                let flag = flag.to_owned();
                executor.set(&flag, p.value()?.string()?)?;
            }
            Arg::Long("tasks") if tasks.is_none() => {
                tasks = Some(TaskSource::Synthetic(count(p.value()?.parse()?, MAX_TASKS, "--tasks")?));
            }
            Arg::Long("workload") if tasks.is_none() => tasks = Some(TaskSource::Workload(p.value()?.into())),
            Arg::Long("tasks" | "workload") => return Err("give either --tasks N or --workload FILE, once".into()),
            Arg::Long("encoding") => args.encoding = encoding(&p.value()?.string()?)?,
            Arg::Long("name") => args.name = non_empty(p.value()?.string()?, "--name")?,
            Arg::Long("user") => args.user = non_empty(p.value()?.string()?, "--user")?,
            Arg::Long("role") => roles.push(non_empty(p.value()?.string()?, "--role")?),
            Arg::Long("connect-timeout") => {
                args.connect_timeout = seconds(p.value()?.parse()?, "--connect-timeout")?;
            }
            Arg::Long("deadline") => args.deadline = seconds(p.value()?.parse()?, "--deadline")?,
            Arg::Long("retries") => args.retry.attempts = attempts(p.value()?.parse()?)?,
            Arg::Long("retry-backoff") => retry_backoff(p.value()?.parse()?, &mut args.retry)?,
            Arg::Long("principal") => principal = Some(non_empty(p.value()?.string()?, "--principal")?),
            Arg::Long("secret-file") => secret_file = Some(PathBuf::from(p.value()?)),
            Arg::Long("capability") => {
                args.capabilities.push(p.value()?.string()?.parse().map_err(|e: String| format!("--capability: {e}"))?)
            }
            Arg::Long("command") => args.command = non_empty(p.value()?.string()?, "--command")?,
            Arg::Long("metrics-listen") => args.metrics_listen = Some(metrics_listen(&p.value()?.string()?)?),
            Arg::Long("ca-cert") => args.ca_cert = Some(PathBuf::from(p.value()?)),
            Arg::Long("on-exit") => {
                args.on_exit = match p.value()?.string()?.as_str() {
                    "teardown" => StopMode::Teardown,
                    "failover" => StopMode::Failover,
                    other => return Err(format!("--on-exit {other:?}: expected teardown or failover").into()),
                }
            }
            Arg::Long("ha") => {
                args.ha = Some(offerpack::ha::HaUrl::parse(&p.value()?.string()?).map_err(|e| format!("--ha: {e}"))?)
            }
            Arg::Long("instance") => args.instance = Some(non_empty(p.value()?.string()?, "--instance")?),
            Arg::Long("ha-session-timeout") => {
                args.ha_session_timeout = seconds(p.value()?.parse()?, "--ha-session-timeout")?;
            }
            other => return Err(other.unexpected()),
        }
    }
    if args.ha.is_none() && args.instance.is_some() {
        return Err("--instance goes with --ha".into());
    }
    args.master = master.ok_or("run needs --master URL")?;
    args.tasks = tasks.ok_or("run needs --tasks N or --workload FILE")?;
    args.roles = if roles.is_empty() { vec!["*".to_owned()] } else { roles };
    args.executor = executor.finish()?;
    args.principal = match (principal, secret_file) {
        (Some(principal), Some(file)) => Some((principal, file)),
        (None, None) => None,
        _ => return Err("--principal and --secret-file go together".into()),
    };
    Ok(Command::Run(Box::new(args)))
}

/// The `run` flags of a custom executor, as given.
#[derive(Default)]
struct ExecutorFlags {
    path: Option<PathBuf>,
    command: Option<String>,
    cpus: Option<f64>,
    mem: Option<f64>,
    bind: Option<SocketAddr>,
    advertise: Option<url::Url>,
}

impl ExecutorFlags {
    fn set(&mut self, flag: &str, value: String) -> Result<(), lexopt::Error> {
        let number = |v: &str| -> Result<f64, lexopt::Error> {
            let x = v.parse::<f64>().map_err(|_| format!("--{flag} {v:?}: expected a number"))?;
            amount(x, &format!("--{flag}"))
        };
        match flag {
            "executor" => self.path = Some(PathBuf::from(non_empty(value, "--executor")?)),
            "executor-command" => self.command = Some(non_empty(value, "--executor-command")?),
            "executor-cpus" => self.cpus = Some(number(&value)?),
            "executor-mem" => self.mem = Some(number(&value)?),
            "artifact-bind" => {
                self.bind = Some(value.parse().map_err(|_| format!("--artifact-bind {value:?}: expected IP:PORT"))?);
            }
            _ => {
                self.advertise =
                    Some(url::Url::parse(&value).map_err(|e| format!("--artifact-advertise {value:?}: {e}"))?)
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Option<ExecutorArgs>, lexopt::Error> {
        let Some(path) = self.path else {
            let stray = self.command.is_some()
                || self.cpus.is_some()
                || self.mem.is_some()
                || self.bind.is_some()
                || self.advertise.is_some();
            return if stray { Err("the executor and artifact flags need --executor PATH".into()) } else { Ok(None) };
        };
        let bind = self.bind.ok_or("--executor needs --artifact-bind ADDR:PORT (where the artifact server listens)")?;
        Ok(Some(ExecutorArgs {
            path,
            command: self.command,
            cpus: self.cpus.unwrap_or(0.1),
            mem: self.mem.unwrap_or(32.0),
            bind,
            advertise: self.advertise,
        }))
    }
}

/// `--zk URL`: a ZooKeeper group without credentials (the master writes open nodes).
fn zk_group(text: &str) -> Result<offerpack::session::ZkUrl, lexopt::Error> {
    let url = offerpack::session::ZkUrl::parse(text).map_err(|e| format!("--zk: {e}"))?;
    if url.credentials().is_some() {
        return Err(format!("--zk {text:?}: credentials are not supported (the group's nodes are open)").into());
    }
    Ok(url)
}

/// `--retries N`: launches per task in all, from 1 (no retry) to [`MAX_ATTEMPTS`].
fn attempts(n: u32) -> Result<u32, lexopt::Error> {
    if n == 0 || n > MAX_ATTEMPTS {
        let text = format!("--retries {n}: give the launches per task in all, from 1 (no retry) to {MAX_ATTEMPTS}");
        return Err(text.into());
    }
    Ok(n)
}

/// `--retry-backoff MS`: the delay before a task's second launch; the cap stays the default's
/// unless this first delay is longer.
fn retry_backoff(ms: u64, policy: &mut RetryPolicy) -> Result<(), lexopt::Error> {
    if ms > MAX_BACKOFF_MS {
        return Err(format!("--retry-backoff {ms}: expected milliseconds up to {MAX_BACKOFF_MS}").into());
    }
    policy.backoff = Duration::from_millis(ms);
    policy.max_backoff = policy.max_backoff.max(policy.backoff);
    Ok(())
}

/// `--fail-every K`: at least 1.
fn fail_every(k: u32) -> Result<NonZeroU32, lexopt::Error> {
    NonZeroU32::new(k).ok_or_else(|| "--fail-every must be at least 1".into())
}

fn positive(n: u32, flag: &str) -> Result<u32, lexopt::Error> {
    if n == 0 {
        return Err(format!("{flag} must be at least 1").into());
    }
    Ok(n)
}

/// A count from 1 to `max`.
fn count(n: u32, max: u32, flag: &str) -> Result<u32, lexopt::Error> {
    positive(at_most(n, max, flag)?, flag)
}

fn at_most(n: u32, max: u32, flag: &str) -> Result<u32, lexopt::Error> {
    if n > max {
        return Err(format!("{flag} must be at most {max}").into());
    }
    Ok(n)
}

fn non_empty(text: String, flag: &str) -> Result<String, lexopt::Error> {
    if text.trim().is_empty() {
        return Err(format!("{flag} must not be empty").into());
    }
    Ok(text)
}

fn amount(value: f64, flag: &str) -> Result<f64, lexopt::Error> {
    if !(value.is_finite() && (0.0..=MAX_AMOUNT).contains(&value)) {
        return Err(format!("{flag} must be a number from 0 to {MAX_AMOUNT:e}").into());
    }
    Ok(value)
}

/// Seconds as a duration: positive, finite, at most a week.
fn seconds(value: f64, flag: &str) -> Result<Duration, lexopt::Error> {
    if !(value.is_finite() && value > 0.0 && value <= MAX_WAIT_SECS) {
        return Err(format!("{flag} must be a number of seconds above 0 and at most {MAX_WAIT_SECS}").into());
    }
    Ok(Duration::from_secs_f64(value))
}

fn encoding(text: &str) -> Result<Encoding, lexopt::Error> {
    match text {
        "protobuf" => Ok(Encoding::Protobuf),
        "json" => Ok(Encoding::Json),
        other => Err(format!("unknown encoding {other:?} (expected protobuf or json)").into()),
    }
}

/// `BEGIN-END`, both ports, `BEGIN <= END`.
fn port_range(text: &str) -> Result<(u64, u64), lexopt::Error> {
    let bad = || lexopt::Error::from(format!("--ports {text:?}: expected BEGIN-END with 0 <= BEGIN <= END <= 65535"));
    let (begin, end) = text.split_once('-').ok_or_else(bad)?;
    let begin: u16 = begin.trim().parse().map_err(|_| bad())?;
    let end: u16 = end.trim().parse().map_err(|_| bad())?;
    if begin > end {
        return Err(bad());
    }
    Ok((u64::from(begin), u64::from(end)))
}

/// Milliseconds, or `forever`.
fn task_duration(text: &str) -> Result<Option<Duration>, lexopt::Error> {
    if text == "forever" {
        return Ok(None);
    }
    match text.parse::<u64>() {
        Ok(ms) if ms <= MAX_TASK_MS => Ok(Some(Duration::from_millis(ms))),
        _ => Err(format!("--task-duration-ms {text:?}: expected milliseconds up to {MAX_TASK_MS}, or forever").into()),
    }
}

/// The address of `--metrics-listen` (port 0 picks a free port).
fn metrics_listen(text: &str) -> Result<SocketAddr, lexopt::Error> {
    text.parse().map_err(|_| format!("--metrics-listen {text:?}: expected IP:PORT").into())
}

#[cfg(test)]
mod tests {
    use super::super::args::parse_args;
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
