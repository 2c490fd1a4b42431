//! The command-line tool's commands: `solve`, `gen`, `replay`, `master`, `demo`, `run`, `artifacts`,
//! `agent`, `executor`, `help`.
//!
//! Binary-only: the library knows nothing of this module. Each command is one file; `args`
//! (and `live_args` for the commands that speak the Mesos protocol) turn the command line into
//! a [`Command`](args::Command). `runner` follows a framework's tasks for `demo` and `run`.

/// `println!` that ignores a closed standard output instead of panicking (`offerpack demo |
/// head -1` must not panic). Defined before the modules, so it is in scope in all of them.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed standard error instead of panicking; with `--log-format
/// json`, a JSON log event of target `offerpack::output` instead (see [`logs`]).
macro_rules! note {
    ($($arg:tt)*) => {{
        if $crate::cli::logs::json() {
            tracing::info!(target: "offerpack::output", "{}", format_args!($($arg)*));
        } else {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), $($arg)*);
        }
    }};
}

pub mod agent;
pub mod args;
pub mod artifacts;
pub mod custom_executor;
pub mod demo;
pub mod executor;
pub mod gen;
pub mod ha_run;
pub mod live_args;
pub mod logs;
pub mod master;
pub mod multinode;
pub mod reasons;
pub mod replay;
pub mod run;
pub mod runner;
pub mod signals;
pub mod soak;
pub mod solve;
pub mod tracker;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

/// Usage text for `offerpack help`.
pub const USAGE: &str = "\
offerpack: offer-matching scheduling engine for Apache Mesos frameworks

usage:
  offerpack solve INPUT.json [--out FILE] [--repeat N] [--strategy indexed|keyed|scan]
                  [--packing fill|greedy-fill|task-by-task] [--threads T] [--bound] [--report FILE]
      Plan one scheduling pass over a workload (INPUT.json, or - for standard input).
      Writes the plan as JSON to standard output (or FILE) and a summary to standard error.
      --repeat N  time N passes, each on a fresh pool, and report the median (default 1)
      --packing   fill (default: unconstrained tasks fill agents, empty ones by the patterns
                  of the packing LP when they come in few shapes), greedy-fill (without the
                  LP) or task-by-task (each task to its best agent alone, as Fenzo does)
      --threads T most threads a pass may use (default 1); the plan is the same for any T
      --bound     also print the capacity used against the packing lower bound (pattern LP)
      --report F  also write a self-contained HTML page of pictures of the plan to F: agents'
                  cpu against memory use, capacity against the bound, unplaced tasks by reason
  offerpack gen --agents N --tasks M [--seed S] [--constraints none|unique-host|mixed]
                [--shapes uniform|irregular|random] [--shape-count K] [--group-shapes same|mixed]
                [--big-every N] [--group-size G] [--zones Z] [--racks-per-zone R] [--out FILE]
      Generate a synthetic workload as JSON (group size applies to unique-host).
      --shapes random  a family of K shapes drawn from the seed (default 8), picked with skewed
                       frequencies; each cpu- or memory-heavy, at most a quarter of a small agent
      --group-shapes   same (default: one shape per group) or mixed (one per task)
      --big-every N    every Nth agent has 32 cpus / 131072 MB instead of 16 / 65536 (default 10,
                       0 for none)
  offerpack gen --stream --agents N [--seconds S] [--running R] [--rate A] [--mean-duration D]
                [--agent-churn C] [--rescinds X] [--buckets B] [gen's shape and constraint flags]
                [--out FILE]
      Generate a timed stream (JSON lines) for `replay`: N agents with R tasks running, tasks
      arriving at A per second for S seconds, each running D seconds on average (default R/A, a
      steady state), C agents replaced per minute, X offer rescinds per second, arriving groups
      taking turns in B queue buckets b1..bB of weights 1..B. Defaults: 10 s, 200 running, 20 per
      second, 1 agent a minute, 0.5 rescinds a second, no buckets.
  offerpack replay STREAM [--pass-every MS] [--full-replan] [--no-queue] [--out FILE]
                  [--report FILE.html]
      Drive the incremental scheduler through a stream on a virtual clock (no sleeping), a pass
      every MS milliseconds of stream time (default 50). Writes a JSON summary and prints one
      line: placements, placement latency in stream time, engine time per pass (measured),
      placements per engine second, offers. --full-replan plans each pass with a whole engine
      pass over every running task instead, as Fenzo does. A stream with buckets or tiers is
      planned in queue order (weighted DRF between buckets); --no-queue ignores them, to compare.
      --report writes an HTML page of latency, engine time, queue depth and bucket shares over
      stream time.
  offerpack master --agents N [--listen ADDR] [--cpus C] [--mem M] [--disk D] [--ports B-E]
                   [--zones Z] [--seed S] [--task-duration-ms MS|forever] [--fail-every K]
                   [--agent-ping SECS] [--agent-timeout SECS] [--credentials FILE]
      Run a simulated Mesos master (v1 scheduler API, protobuf and JSON) in the foreground with
      N agents (at most 100000) agent-0001 ... carrying a `zone` attribute. Prints the scheduler API URL once
      listening (--listen 127.0.0.1:0 picks a free port). Defaults: 127.0.0.1:5050, 16 cpus,
      65536 MB memory, 500000 MB disk, ports 31000-32000, 3 zones, seed 0, tasks run 1000 ms.
      --fail-every K  launches K, 2K, 3K, ... (counted over every framework) end in TASK_FAILED
      SIGINT or SIGTERM shuts it down cleanly (streams closed, exit 0).
      --credentials FILE  Mesos' credentials JSON, an object with a \"credentials\" array of
                      {principal, secret}: scheduler API requests must authenticate (HTTP Basic;
                      401 otherwise, realm mesos-master-scheduler; 400 when FrameworkInfo.principal
                      differs)
      Agent processes (`offerpack agent`) join at /api/offerpack/agent, beside the N simulated
      agents or instead of them (--agents 0); their tasks really run.
      --agent-ping SECS     how often agent processes ping (default 1)
      --agent-timeout SECS  an agent process silent this long is lost (default 5)
      --zk zk://HOST:PORT[,HOST:PORT]/PATH  be one of several masters elected through
                      ZooKeeper: an ephemeral sequential node PATH/json.info_N holds its
                      MasterInfo JSON; it leads while its N is the smallest (prints
                      `offerpack master: leading (zk node json.info_N)`), else answers 307 to
                      the leader (503 \"No leader elected\" when none). A new leader takes agent
                      processes of the previous one back with their tasks, and frameworks
                      re-subscribing with their id.
      --zk-session-timeout SECS  ZooKeeper session timeout (default 10); it stops leading
                      before a lost session can expire
      --agent-reregister-timeout SECS  how long a new leader takes agents it never knew
                      (default 10)
      --tls-cert FILE --tls-key FILE  serve HTTPS only, with this PEM certificate chain and
                      private key; the printed URLs then say https://
  offerpack demo [--agents N] [--tasks M] [--seed S] [--encoding protobuf|json] [--deadline SECS]
                 [--retries N] [--retry-backoff MS] [--fail-every K]
      Start a simulated master in-process, run a framework against it over HTTP with a generated
      unique-host workload (groups of 10, `sleep 1` each), show progress every second and a
      summary. Defaults: 1000 agents, 5000 tasks, seed 1, protobuf, deadline 300 s.
      --retries, --retry-backoff as for run; --fail-every as for master.
      Exits 0 only when every task finished.
  offerpack demo --soak SECS [--agents N] [--rate R] [--fault-every SECS] [--task-run SECS]
                 [--grace SECS] [--seed S]
      A long run under faults: an in-process simulated master with N agents (default 10000) and
      its task ledger on; R tasks/s (default 500, groups of 10, every third hostname:UNIQUE,
      each RUNNING for --task-run s, default 5, ±50 %) for SECS seconds; every --fault-every s
      (default 15) one seeded fault: stream cut, 503s, agent loss, duplicate updates or a leader
      change. Prints the resident memory every few seconds. Exits 0 only when the master's
      ledger shows every task finished exactly once, none launched while another attempt of it
      was live, no unique-host clash, and memory flat after warm-up (within 10 %).
  offerpack demo --multinode [--agents N] [--tasks M] [--deadline SECS] [--retries N]
      The multinode path on one machine, no root needed: `offerpack master --agents 0` on
      127.0.0.2 and N `offerpack agent` processes on 127.0.0.3, .4, … (default 2), this process
      the scheduler serving its own binary as the custom executor from 127.0.0.254. M tasks
      (default 24, `sleep 1` each) run in two rounds (frameworks): each agent fetches the
      executor in the first and starts it from its fetcher cache in the second. Prints each
      round's summary, tasks per executor and each agent's fetch figures (downloads, bytes,
      time, cache hits). Exits 0 only when every task finished.
  offerpack run --master URL (--tasks N | --workload FILE) [--encoding protobuf|json]
                [--name NAME] [--user USER] [--role ROLE]... [--connect-timeout SECS]
                [--deadline SECS] [--retries N] [--retry-backoff MS]
                [--executor PATH --artifact-bind ADDR:PORT [--artifact-advertise URL]
                 [--executor-command CMD] [--executor-cpus C] [--executor-mem MB]]
                [--command CMD] [--on-exit teardown|failover]
                [--principal P --secret-file FILE] [--capability NAME]...
                [--ca-cert FILE]
      Run tasks on any master speaking the v1 scheduler API: N small synthetic tasks
      (0.1 cpus, 32 MB, `sleep 1`) or the tasks of a workload file (solve format; its offers
      are ignored, and a task asking for a resource no agent has, such as the `network` of
      `gen`'s tasks on the simulated master, stays pending). Exits 0 only when every task finished; non-zero when the master cannot be
      reached within the connect timeout (default 30 s), rejects the framework, or the deadline
      (default 600 s) passes. Tasks still pending at the end are explained per kind of task
      (group and the engine's reasons, e.g. `zone:UNIQUE rejected 3 of 3 offered agents`), as
      the latest scheduling pass with offers left them; `demo` does the same.
      --retries N        launches per task in all, at least 1 (default 1: no retry); a task that
                         fails or is lost is launched again until it runs out, then given up
                         (named in the summary; the run exits non-zero)
      --retry-backoff MS delay before the first retry (default 1000; doubling, capped at 60 s or
                         MS if longer, with ±20 % jitter)
      --executor PATH    serve PATH from an artifact server on this host and run every task
                         through it (a custom executor, one per agent, holding --executor-cpus
                         (default 0.1) and --executor-mem (default 32) once per agent); each
                         task's command line is its TaskInfo.data. Agents fetch it (cached, its
                         SHA-256 in the URI) and start it with --executor-command (default
                         ./NAME; `./offerpack executor` for offerpack's own). The first failed
                         fetch of it ends the run, naming the URI, the agent and the message.
      --command CMD      the shell command line every task runs (default `sleep 1`)
      --principal P --secret-file FILE  authenticate with HTTP Basic (the secret is read
                         from FILE, a trailing newline dropped, and never printed); P is also
                         FrameworkInfo.principal
      --capability NAME  announce a capability besides MULTI_ROLE (GPU_RESOURCES,
                         PARTITION_AWARE, REGION_AWARE, …), repeatable
      --ca-cert FILE     for an https:// master: trust the CA certificates of this PEM file
                         besides the system's; an untrusted, expired or misnamed certificate
                         ends the run at once with the cause
      --on-exit          what SIGINT/SIGTERM does: teardown (default: the framework is torn
                         down, the master kills its tasks) or failover (the framework and its
                         tasks are left for a successor; its id is printed); a second signal
                         exits at once
      --artifact-bind    where the artifact server listens (0.0.0.0:0 allowed)
      --artifact-advertise  the base URL agents are told (required with a wildcard bind; a
                         loopback URL with a master not on loopback fails at start)
      A workload with `buckets`, `tiers` or tasks with `tier`/`bucket` is placed in queue order
      (weighted DRF), and the summary shows each bucket's placed tasks and dominant share.
      Defaults: name offerpack, user $USER (else root), role *.
      --ha zk://HOST:PORT/PATH | file:///DIR [--instance NAME] [--ha-session-timeout SECS]
                         run as one instance of a highly available run: instances elect a
                         leader (ZooKeeper's ephemeral-sequential recipe under PATH/election,
                         or a lock file in DIR); a standby prints `standby: leader is NAME` and
                         waits, the leader prints `leading as NAME` and runs. The leader
                         persists the framework id, every task and each task's state, attempt
                         and retry time (under PATH/state, or in DIR) before acting on them; a
                         successor re-subscribes with the same framework id, adopts the tasks
                         still running and goes on. A stored run wins over this instance's
                         --tasks/--workload (said on stdout). When every task has ended the
                         leader leaves a finished marker, tears the framework down and exits;
                         a signal leaves the run to a standby (failover). --instance defaults
                         to HOSTNAME-PID, --ha-session-timeout to 10 s; not with --executor.
  offerpack artifacts --bind ADDR:PORT [--advertise URL] [--master URL] NAME=PATH...
      Serve the given files to Mesos agents over HTTP (GET/HEAD at /artifacts/NAME, with ETag
      and byte ranges; nothing else is served) until interrupted. Prints one line per file:
      `NAME URL sha256=HEX N bytes`. --bind is where it listens (0.0.0.0:0 allowed; port 0
      picks one); --advertise is the base URL agents are told, required with a wildcard bind
      (default http://ADDR:PORT of the bound address). With --master, an advertised loopback
      address while the master is not on loopback is an error. Also spelled --artifact-bind,
      --artifact-advertise.
  offerpack agent --master URL --listen ADDR:PORT --work-dir DIR [--advertise ADDR[:PORT]]
                  [--resources TEXT] [--attributes TEXT] [--executor-registration-timeout SECS]
                  [--seed S] [--on-exit kill|leave] [--ca-cert FILE]
      Run a simulated Mesos agent as a real process joining a simulated master (offerpack's
      private agent API at URL/api/offerpack/agent): registers, pings, fetches each task's
      CommandInfo URIs into its sandbox under DIR (http://, file:// and absolute paths;
      executable, extract of .tar/.tgz/.tar.gz/.gz, output_file, cache under DIR/fetch_cache),
      runs command tasks and custom executors as processes, and serves POST /api/v1/executor
      and GET /metrics/snapshot. Prints `agent listening on http://ADDR` once bound.
      URL may be zk://HOST:PORT[,HOST:PORT]/PATH (masters elected through ZooKeeper): the agent
      follows the leader, re-registering with its id and running tasks at each change.
      --listen     port 0 picks one; the advertised port then follows it
      --advertise  address the master and executors are told; required with a wildcard
                   --listen (default: the listen address)
      --resources  Mesos syntax, e.g. 'cpus:4;mem:8192;ports:[31000-31999]' (the default,
                   with disk:40960 and ports to 32000)
      --attributes Mesos syntax, e.g. 'zone:a;rack:r1' (zone:01 is the number 1, as in Mesos)
      --executor-registration-timeout  executors not subscribed by then are killed (default 60)
      --on-exit    what SIGINT/SIGTERM does to its task and executor processes: kill (default)
                   or leave them running; the agent then exits 0
      --ca-cert    for an https:// master: trust the CA certificates of this PEM file too
  offerpack executor
      Run as a Mesos executor (v1 executor HTTP API), as started by an agent: reads
      MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_SANDBOX (or
      MESOS_DIRECTORY), MESOS_CHECKPOINT, MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD and, when
      checkpointing, MESOS_RECOVERY_TIMEOUT and MESOS_SUBSCRIPTION_BACKOFF_MAX. Runs each task's
      command (or its data as a shell line) in a process group of its own in the sandbox until
      SHUTDOWN (exit 0). Exits 1 when the agent is gone (at once without checkpointing, else
      after the recovery timeout), 2 when the environment is missing or malformed.
  offerpack help
      Show this text.

global options, anywhere on the command line:
  --log-format text|json  how logs look on standard error (default text); json writes one JSON
                          object per line, the command's own standard-error lines included
  RUST_LOG (environment)  which logs to show (default warn), e.g. RUST_LOG=offerpack=debug for
                          the driver's work, RUST_LOG=offerpack=trace for every offer
";

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The command line is wrong.
    Usage(String),
    /// The command could not do its work (bad input, I/O).
    Failed(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) | Self::Failed(m) => f.write_str(m),
        }
    }
}

impl From<lexopt::Error> for CliError {
    fn from(e: lexopt::Error) -> Self {
        CliError::Usage(e.to_string())
    }
}

/// Prints the error and picks the exit code: 2 for usage errors, 1 otherwise.
pub fn report(error: &CliError) -> ExitCode {
    let usage = matches!(error, CliError::Usage(_));
    if logs::json() {
        let hint = if usage { "; run `offerpack help` for usage" } else { "" };
        tracing::error!(target: "offerpack::output", "error: {error}{hint}");
    } else {
        eprintln!("error: {error}");
        if usage {
            eprintln!("run `offerpack help` for usage");
        }
    }
    if usage {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// Runs `write` into `path`, or into standard output when `path` is `None`, then adds a newline.
pub fn write_output(path: Option<&Path>, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), CliError> {
    let name = path.map_or_else(|| "standard output".to_owned(), |p| p.display().to_string());
    let fail = |e: io::Error| CliError::Failed(format!("cannot write {name}: {e}"));
    let mut out: BufWriter<Box<dyn Write>> = match path {
        Some(p) => BufWriter::new(Box::new(File::create(p).map_err(fail)?)),
        None => BufWriter::new(Box::new(io::stdout().lock())),
    };
    write(&mut out).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()).map_err(fail)
}
