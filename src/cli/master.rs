//! `offerpack master`: the simulated Mesos master in the foreground.
//!
//! Agents are named `agent-0001`, `agent-0002`, … and carry a text attribute `zone`
//! (`zone-a`, `zone-b`, … round-robin over `--zones`). The first line on standard output names
//! the scheduler API URL once the master listens, so `--listen 127.0.0.1:0` is usable; the
//! second names the agent API URL.
//!
//! With `--tls-cert FILE --tls-key FILE` (PEM) the master serves HTTPS only, and both URLs
//! say `https://`.
//!
//! Agent processes (`offerpack agent`) join through the private agent API at
//! `http://ADDR/api/offerpack/agent`, beside or instead of the simulated agents (`--agents 0`);
//! they ping every `--agent-ping` seconds (default 1) and are lost after `--agent-timeout`
//! seconds (default 5) without a call.
//!
//! # Masters elected through ZooKeeper (`--zk zk://HOST:PORT[,HOST:PORT]/PATH`)
//! Several masters given the same group contend as Mesos masters do: each holds an ephemeral
//! sequential node `PATH/json.info_N` with its `MasterInfo` JSON, and the one with the smallest
//! `N` leads. Each change is printed: `offerpack master: leading (zk node json.info_N)`,
//! `offerpack master: following the leader at HOST:PORT` or `offerpack master: no leader
//! elected`. A master that does not lead answers scheduler, operator and agent API calls with
//! `307` to the leader (503 "No leader elected" when it knows none). When the leader's node
//! goes (its process died and its session expired after `--zk-session-timeout`, default 10 s),
//! the next master leads. A master that loses its own session stops leading at once, closes its
//! streams and starts afresh as a follower (a Mesos master exits and is restarted).
//!
//! What a new leader knows: its own simulated agents (`--agents N`, the same ids as the
//! previous leader's when both have the same `--seed`, since ids derive from the seed) and
//! the agent processes that re-register with their ids within `--agent-reregister-timeout`
//! (default 10 s), with the tasks and executors they run. It keeps no tasks of the previous
//! leader's simulated agents: those ran only in the old process, so a re-subscribing
//! framework's reconciliation reports them lost (TASK_LOST, or TASK_GONE for PARTITION_AWARE
//! frameworks) and the framework retries them (`run --retries`). Tasks of agent processes run
//! on: reconciliation reports them in the state their agent listed, their pending updates
//! follow, and tasks on agents that have not re-registered get no answer until the timeout,
//! then TASK_LOST. Give each master its own `--seed` when frameworks may register afresh while
//! agents of the old leader come back: new framework and agent ids skip those the new leader
//! has seen, not those it may still see.

use std::io::Write;

use offerpack::master::{AgentConfig, Leadership, MasterConfig, SimMaster, TaskTiming, ZkElection, AGENT_API_PATH};

use super::live_args::MasterArgs;
use super::signals::{self, Signals};
use super::CliError;

/// Serves until a SIGINT or SIGTERM (then it stops accepting, closes every stream and returns)
/// or until the process is killed; `Err` when the master cannot start.
pub fn run(args: &MasterArgs) -> Result<(), CliError> {
    let mut config = config(args);
    if let Some(path) = &args.credentials {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::Failed(format!("--credentials {}: {e}", path.display())))?;
        let credentials = offerpack::master::Credentials::from_json(&text)
            .map_err(|e| CliError::Failed(format!("--credentials {}: {e}", path.display())))?;
        config.credentials = Some(credentials);
    }
    if let Some((cert, key)) = &args.tls {
        let tls = offerpack::tls::ServerTls::from_pem_files(cert, key).map_err(|e| CliError::Failed(e.to_string()))?;
        config.tls = Some(tls);
    }
    let agents = config.agents.len();
    let mut duration = match args.task_duration {
        Some(d) => format!("tasks run {} ms", d.as_millis()),
        None => "tasks run until killed".to_owned(),
    };
    if let Some(k) = args.fail_every {
        duration.push_str(&format!(", launches {k}, {}, ... end TASK_FAILED", u64::from(k.get()) * 2));
    }
    let fail = |e: &dyn std::fmt::Display| CliError::Failed(format!("master on {}: {e}", args.listen));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| fail(&e))?;
    runtime.block_on(async move {
        let mut signals = Signals::new();
        let handle = SimMaster::start(config).await.map_err(|e| fail(&e))?;
        let mut out = std::io::stdout().lock();
        // Nobody reading standard output is no reason to stop serving.
        let _ =
            writeln!(out, "offerpack master: {agents} agents, {duration}, scheduler API at {}", handle.scheduler_url());
        let _ = writeln!(out, "offerpack master: agent processes register at {}{AGENT_API_PATH}", handle.url());
        let _ = out.flush();
        drop(out);
        let caught = tokio::select! {
            caught = signals::first_or_never(&mut signals) => caught,
            () = print_leadership(handle.leadership()) => signals::first_or_never(&mut signals).await,
        };
        note!("{}: offerpack master shutting down (its streams are closed)", caught.name());
        if let Some(signals) = signals {
            drop(signals::exit_on_second(signals));
        }
        handle.shutdown().await;
        Ok(())
    })
}

/// Prints a line on standard output at every change of the master's election, until the
/// master stops.
async fn print_leadership(mut leadership: tokio::sync::watch::Receiver<Leadership>) {
    while leadership.changed().await.is_ok() {
        let line = match &*leadership.borrow_and_update() {
            Leadership::Leading { node: Some(node) } => format!("leading (zk node {node})"),
            Leadership::Leading { node: None } => "leading".to_owned(),
            Leadership::Following { leader: Some(leader) } => format!("following the leader at {leader}"),
            Leadership::Following { leader: None } => "no leader elected".to_owned(),
        };
        say!("offerpack master: {line}");
    }
}

/// The master's configuration for the command line's agents and timings.
pub fn config(args: &MasterArgs) -> MasterConfig {
    let mut config =
        MasterConfig::new(args.listen).with_seed(args.seed).with_agent_timing(args.agent_ping, args.agent_timeout);
    config.tasks = TaskTiming { run: args.task_duration, ..TaskTiming::default() };
    config.faults.fail_every = args.fail_every;
    config.zookeeper =
        args.zk.clone().map(|url| ZkElection { session_timeout: args.zk_session_timeout, ..ZkElection::new(url) });
    config.agent_reregister_timeout = args.agent_reregister_timeout;
    config.agents = (0..args.agents)
        .map(|i| {
            let mut agent = AgentConfig::new(hostname(i), args.cpus, args.mem)
                .with_attribute("zone", zone_name(i % args.zones.max(1)));
            agent.disk = args.disk;
            agent.ports = vec![args.ports];
            agent
        })
        .collect();
    config
}

/// `agent-0001` for index 0.
pub fn hostname(index: u32) -> String {
    format!("agent-{:04}", u64::from(index) + 1)
}

/// `zone-a` … `zone-z`, `zone-aa`, … (the generator's names, so workloads line up).
pub fn zone_name(mut z: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'a' + (z % 26) as u8));
        if z < 26 {
            break;
        }
        z = z / 26 - 1;
    }
    letters.iter().rev().fold("zone-".to_owned(), |mut name, c| {
        name.push(*c);
        name
    })
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;

    #[test]
    fn master_config_names_agents_and_zones() {
        let args = MasterArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            agents: 4,
            cpus: 2.0,
            mem: 1024.0,
            disk: 0.0,
            ports: (100, 200),
            zones: 3,
            seed: 7,
            task_duration: None,
            fail_every: std::num::NonZeroU32::new(4),
            agent_ping: std::time::Duration::from_millis(250),
            agent_timeout: std::time::Duration::from_secs(2),
            credentials: None,
            zk: None,
            zk_session_timeout: std::time::Duration::from_secs(10),
            agent_reregister_timeout: std::time::Duration::from_secs(10),
            tls: None,
        };
        let config = config(&args);
        let names: Vec<&str> = config.agents.iter().map(|a| a.hostname.as_str()).collect();
        assert_eq!(names, ["agent-0001", "agent-0002", "agent-0003", "agent-0004"]);
        assert_eq!(config.agents[3].attributes, [("zone".to_owned(), "zone-a".to_owned())]);
        assert_eq!((config.agents[0].ports.clone(), config.tasks.run, config.seed), (vec![(100, 200)], None, 7));
        assert_eq!(config.faults.fail_every.map(|k| k.get()), Some(4));
        assert_eq!((config.agent_ping_interval.as_millis(), config.agent_timeout.as_secs()), (250, 2));
        assert_eq!(
            (zone_name(25), zone_name(26), zone_name(27)),
            ("zone-z".into(), "zone-aa".into(), "zone-ab".into())
        );
    }
}
