//! The flags of `offerpack demo`, plain, `--multinode` and `--soak`.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use clap::Args;

use super::master::MAX_AGENTS;
use super::retry::RetryFlags;
use super::values;
use super::Encoding;
use crate::cli::args::Command;
use crate::cli::live_args::DemoArgs;
use crate::cli::soak::SoakArgs;

/// Most tasks one `demo` or `run` follows.
pub const MAX_TASKS: u32 = 1_000_000;
/// Agent processes `demo --multinode` starts at most (each on its own loopback address).
const MAX_MULTINODE_AGENTS: u32 = 200;
/// Most tasks per second `demo --soak --rate` submits.
const MAX_SOAK_RATE: u32 = 100_000;
/// Shortest `demo --soak --fault-every`.
const MIN_FAULT_EVERY: Duration = Duration::from_millis(100);

/// Run a framework against a simulated master in this process, or a soak, or the multinode path
///
/// Starts a simulated master in-process, runs a framework against it over HTTP with a
/// generated unique-host workload (groups of 10, `sleep 1` each, spread over 3 zones), shows
/// progress every second and a summary. Tasks still pending at the end are explained per kind
/// of task, as for `run`. Exits 0 only when every task finished.
///
/// --multinode: the multinode path on one machine, no root needed: `offerpack master --agents 0`
/// on 127.0.0.2 and N `offerpack agent` processes on 127.0.0.3, .4, … (default 2), this process
/// the scheduler serving its own binary as the custom executor from 127.0.0.254. M tasks
/// (default 24, `sleep 1` each) run in two rounds (frameworks): each agent fetches the executor
/// in the first and starts it from its fetcher cache in the second. Prints each round's
/// summary, tasks per executor and each agent's fetch figures (downloads, bytes, time, cache
/// hits).
///
/// --soak SECS: a long run under faults: an in-process simulated master with N agents (default
/// 10000) and its task ledger on; --rate tasks/s (groups of 10, every third hostname:UNIQUE,
/// each RUNNING for --task-run s, ±50 %) for SECS seconds; every --fault-every s one seeded
/// fault: stream cut, 503s, agent loss, duplicate updates or a leader change. Prints the
/// resident memory every few seconds. Exits 0 only when the master's ledger shows every task
/// finished exactly once, none launched while another attempt of it was live, no unique-host
/// clash, and memory flat after warm-up (within 10 %; runs under two minutes are not judged).
#[derive(Debug, Args)]
pub struct DemoFlags {
    /// Simulated agents, at most 100000 [default: 1000; 2 with --multinode, at most 200;
    /// 10000 with --soak]
    #[arg(long, value_name = "N", value_parser = values::count(MAX_AGENTS))]
    agents: Option<u32>,
    /// Tasks, at most 1000000 [default: 5000; 24 with --multinode]
    #[arg(long, value_name = "M", value_parser = values::count(MAX_TASKS))]
    tasks: Option<u32>,
    /// Seed of the workload, the master and (with --soak) the faults
    #[arg(long, value_name = "S", default_value = "1")]
    seed: u64,
    /// Wire encoding between framework and master
    #[arg(long, value_enum, value_name = "ENCODING", default_value_t = Encoding::Protobuf)]
    encoding: Encoding,
    /// Give up after this many seconds
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = values::seconds)]
    deadline: Duration,
    #[command(flatten)]
    retry: RetryFlags,
    /// The simulated master fails launches K, 2K, 3K, ... (TASK_FAILED)
    #[arg(long, value_name = "K", value_parser = values::fail_every)]
    fail_every: Option<NonZeroU32>,
    /// Serve the framework's Prometheus metrics at http://ADDR/metrics (port 0 picks one)
    #[arg(long, value_name = "ADDR:PORT", value_parser = values::socket_addr, conflicts_with = "multinode")]
    metrics_listen: Option<SocketAddr>,
    /// Master, agents and scheduler as separate processes on loopback addresses
    #[arg(long, conflicts_with_all = ["encoding", "fail_every", "seed"])]
    multinode: bool,
    #[command(flatten)]
    soak: SoakFlags,
}

/// The flags of `demo --soak`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Soak options")]
struct SoakFlags {
    /// Run a soak of SECS seconds under faults instead of the demo
    #[arg(long = "soak", value_name = "SECS", value_parser = values::seconds,
          conflicts_with_all = ["multinode", "tasks", "encoding", "deadline", "retries", "retry_backoff",
                                "fail_every", "metrics_listen"])]
    duration: Option<Duration>,
    /// Tasks submitted per second, at most 100000
    #[arg(long, value_name = "R", default_value = "500", requires = "duration", value_parser = values::count(MAX_SOAK_RATE))]
    rate: u32,
    /// Seconds between two faults (at least 0.1)
    #[arg(long, value_name = "SECS", default_value = "15", requires = "duration", value_parser = values::seconds)]
    fault_every: Duration,
    /// Seconds a task runs once RUNNING (jittered by ±50 %)
    #[arg(long, value_name = "SECS", default_value = "5", requires = "duration", value_parser = values::seconds)]
    task_run: Duration,
    /// Seconds the remaining tasks may take to finish after the run
    #[arg(long, value_name = "SECS", default_value = "120", requires = "duration", value_parser = values::seconds)]
    grace: Duration,
}

impl DemoFlags {
    /// The `demo` (or soak) command these flags ask for; `Err` when --multinode is asked for
    /// more agent processes than it starts.
    pub fn into_command(self) -> Result<Command, String> {
        if let Some(duration) = self.soak.duration {
            return Ok(Command::Soak(SoakArgs {
                duration,
                agents: self.agents.unwrap_or(10_000),
                rate: self.soak.rate,
                fault_every: self.soak.fault_every.max(MIN_FAULT_EVERY),
                task_run: self.soak.task_run,
                grace: self.soak.grace,
                seed: self.seed,
            }));
        }
        let (agents, tasks) = if self.multinode {
            let agents = self.agents.unwrap_or(2);
            if agents > MAX_MULTINODE_AGENTS {
                return Err(format!("--multinode runs at most {MAX_MULTINODE_AGENTS} agent processes"));
            }
            (agents, self.tasks.unwrap_or(24))
        } else {
            (self.agents.unwrap_or(1_000), self.tasks.unwrap_or(5_000))
        };
        Ok(Command::Demo(DemoArgs {
            agents,
            tasks,
            seed: self.seed,
            encoding: self.encoding.into(),
            deadline: self.deadline,
            retry: self.retry.policy(),
            fail_every: self.fail_every,
            multinode: self.multinode,
            metrics_listen: self.metrics_listen,
        }))
    }
}
