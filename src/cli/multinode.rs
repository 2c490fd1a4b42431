//! `offerpack demo --multinode`: the multinode path on one machine, without root.
//!
//! A master (`offerpack master --agents 0`) and N agents (`offerpack agent`) run as separate
//! processes on their own loopback addresses (master 127.0.0.2, agents 127.0.0.3, 127.0.0.4, …);
//! this process is the scheduler: it serves its own binary from an artifact server on
//! 127.0.0.254 as the custom executor (`./offerpack executor`), runs every task through it, and
//! follows the tasks to the end. The agents fetch the executor over HTTP into their sandboxes
//! and start it as a process; one executor per agent runs all of that agent's tasks. The tasks
//! run in two rounds, each a framework of its own: the first round's teardown shuts its
//! executors down, so the second round's are fetched again — from the agents' fetcher caches
//! (same URI, SHA-256 pinned). At the end each agent's fetch figures (`/metrics/snapshot`) are
//! printed: downloads, bytes, time, cache hits. Work directories live in a temporary directory
//! removed at the end, with the agents' logs kept there if the run fails.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use offerpack::session::{RetryPolicy, TaskRequest};
use offerpack::TaskSpec;

use super::custom_executor::{self, ExecutorArgs, ServedExecutor};
use super::runner::{self, Report, Settings};
use super::CliError;

/// What the command runs in each task.
const COMMAND: &str = "sleep 1";
/// How long a process may take to say where it listens.
const START_WAIT: Duration = Duration::from_secs(30);
/// The scheduler's (artifact server's) address.
const SCHEDULER_HOST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 254);

/// What `demo --multinode` runs.
#[derive(Clone, Debug, PartialEq)]
pub struct MultinodeArgs {
    /// Agent processes.
    pub agents: u32,
    /// Tasks.
    pub tasks: u32,
    /// Give up after this long.
    pub deadline: Duration,
    /// Retries of failed or lost tasks.
    pub retry: RetryPolicy,
}

/// Child processes, killed and reaped when dropped.
struct Children(Vec<(String, Child)>);

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A temporary directory removed when dropped unless `keep` was set.
struct Scratch {
    path: PathBuf,
    keep: bool,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs the multinode demo; `Err` unless every task finished.
pub fn run(args: &MultinodeArgs) -> Result<(), CliError> {
    let fail = |what: String| CliError::Failed(what);
    let exe = std::env::current_exe().map_err(|e| fail(format!("cannot find this program: {e}")))?;
    let path = std::env::temp_dir().join(format!("offerpack-multinode-{}", std::process::id()));
    std::fs::create_dir_all(&path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let mut scratch = Scratch { path, keep: false };
    let mut children = Children(Vec::new());
    let start = Instant::now();
    let master = start_master(&exe, &scratch.path, &mut children)?;
    say!("master: process {} at {master}", children.0[0].1.id());
    let mut agent_urls = Vec::new();
    for i in 0..args.agents {
        let url = start_agent(&exe, &scratch.path, i, &master, &mut children)?;
        say!("agent {}: process {} at {url}", i + 1, children.0.last().map_or(0, |(_, c)| c.id()));
        agent_urls.push(url);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start the async runtime: {e}")))?;
    let outcome = runtime.block_on(rounds(args, &exe, &master));
    let figures = runtime.block_on(fetch_figures(&agent_urls));
    runtime.shutdown_timeout(Duration::from_secs(1));
    for (i, line) in figures.iter().enumerate() {
        say!("agent {}: {line}", i + 1);
    }
    say!("multinode wall time: {:.2} s (processes started, both rounds, teardown)", start.elapsed().as_secs_f64());
    let problem = match outcome {
        Ok(problem) => problem,
        Err(error) => Some(error.to_string()),
    };
    if problem.is_some() {
        scratch.keep = true;
        note!("the processes' logs are kept in {}", scratch.path.display());
    }
    drop(children);
    runner::conclude(problem)
}

/// Serves the executor and runs the tasks in two rounds (frameworks), printing each round's
/// summary; the first problem met, if any.
async fn rounds(args: &MultinodeArgs, exe: &Path, master: &str) -> Result<Option<String>, CliError> {
    let executor = ExecutorArgs {
        path: exe.to_owned(),
        command: Some(format!("./{} executor", file_name(exe))),
        cpus: 0.1,
        mem: 32.0,
        bind: SocketAddr::from((SCHEDULER_HOST, 0)),
        advertise: None,
    };
    let served = custom_executor::serve(&executor, master).await?;
    say!("scheduler: this process, serving the executor at {}", served.uri);
    let mut problem = None;
    for (round, tasks) in [(1, args.tasks - args.tasks / 2), (2, args.tasks / 2)] {
        if tasks == 0 || problem.is_some() {
            continue;
        }
        say!("round {round}: {tasks} tasks running `{COMMAND}` through the executor, as framework offerpack-multinode-{round}");
        let report = schedule(args, &served, master, (round, tasks)).await?;
        for line in runner::summary(&report, None) {
            say!("{line}");
        }
        say!(
            "executors: {} (one per agent used), {:.1} tasks per executor",
            report.agents_used,
            report.launched as f64 / report.agents_used.max(1) as f64
        );
        problem = report.problem;
    }
    served.server.shutdown().await;
    Ok(problem)
}

/// Starts the master on 127.0.0.2 (a free port); its URL.
fn start_master(exe: &Path, dir: &Path, children: &mut Children) -> Result<String, CliError> {
    let mut command = Command::new(exe);
    command.args(["master", "--listen", "127.0.0.2:0", "--agents", "0", "--agent-ping", "0.5", "--agent-timeout", "5"]);
    let line = spawn_and_read(command, "master", &dir.join("master.log"), children)?;
    let url = first_url(&line).ok_or_else(|| CliError::Failed(format!("the master said {line:?}, no URL")))?;
    Ok(url.trim_end_matches("/api/v1/scheduler").to_owned())
}

/// Starts agent `i` on 127.0.0.(3 + i); the URL it serves at.
fn start_agent(exe: &Path, dir: &Path, i: u32, master: &str, children: &mut Children) -> Result<String, CliError> {
    let host = Ipv4Addr::new(127, 0, 0, 3 + (i % 250) as u8);
    let work = dir.join(format!("agent-{}", i + 1));
    let resources = "cpus:2;mem:2048;disk:4096;ports:[31000-31099]";
    let attributes = format!("zone:z{};rack:r{}", i % 2 + 1, i + 1);
    let mut command = Command::new(exe);
    command
        .args(["agent", "--master", master, "--listen", &format!("{host}:0"), "--advertise", &host.to_string()])
        .arg("--work-dir")
        .arg(&work)
        .args(["--resources", resources, "--attributes", &attributes]);
    let name = format!("agent {}", i + 1);
    let line = spawn_and_read(command, &name, &dir.join(format!("agent-{}.log", i + 1)), children)?;
    first_url(&line).map(str::to_owned).ok_or_else(|| CliError::Failed(format!("{name} said {line:?}, no URL")))
}

/// Spawns `command` with standard error into `log`, keeps it in `children`, and returns the
/// first line of its standard output (where the master and agents say where they listen).
fn spawn_and_read(mut command: Command, name: &str, log: &Path, children: &mut Children) -> Result<String, CliError> {
    let fail = |what: String| CliError::Failed(format!("{name}: {what}"));
    let log = std::fs::File::create(log).map_err(|e| fail(format!("{}: {e}", log.display())))?;
    let mut child =
        command.stdout(Stdio::piped()).stderr(log).spawn().map_err(|e| fail(format!("cannot start: {e}")))?;
    let stdout = child.stdout.take();
    children.0.push((name.to_owned(), child));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = stdout.map(|out| BufReader::new(out).lines());
        let first = lines.as_mut().and_then(|l| l.next()).and_then(Result::ok);
        let _ = tx.send(first);
        // Keep draining, so the process never blocks on a full pipe.
        if let Some(lines) = lines {
            for _ in lines {}
        }
    });
    match rx.recv_timeout(START_WAIT) {
        Ok(Some(line)) => Ok(line),
        Ok(None) => Err(fail("exited before saying where it listens (see its log)".to_owned())),
        Err(_) => Err(fail(format!("said nothing within {} s", START_WAIT.as_secs()))),
    }
}

/// The first `http://…` word of a line.
fn first_url(line: &str) -> Option<&str> {
    line.split_whitespace().find(|w| w.starts_with("http://")).map(|w| w.trim_end_matches([',', '.']))
}

/// One round: a framework running `tasks` tasks through the served executor.
async fn schedule(
    args: &MultinodeArgs,
    served: &ServedExecutor,
    master: &str,
    (round, tasks): (u32, u32),
) -> Result<Report, CliError> {
    let requests: Vec<TaskRequest> = (0..tasks)
        .map(|i| {
            let spec = TaskSpec::builder(format!("r{round}-task-{:03}", i + 1).as_str(), "multinode")
                .scalar("cpus", 0.2)
                .scalar("mem", 64.0)
                .build()
                .map_err(|e| CliError::Failed(e.to_string()))?;
            Ok(TaskRequest::executor(spec, served.spec.clone()).data(COMMAND))
        })
        .collect::<Result<_, CliError>>()?;
    let settings = Settings {
        master: master.to_owned(),
        encoding: offerpack::driver::Encoding::Protobuf,
        name: format!("offerpack-multinode-{round}"),
        user: std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".to_owned()),
        roles: vec!["*".to_owned()],
        fitness: None,
        connect_timeout: Duration::from_secs(30),
        deadline: args.deadline,
        retry: args.retry,
        queue: None,
        preemption: None,
        autoscale: None,
        fetched: vec![served.uri.clone()],
        on_signal: offerpack::session::StopMode::Teardown,
        credentials: None,
        capabilities: Vec::new(),
        metrics: None,
        tls: offerpack::tls::TlsConfig::new(),
    };
    runner::run(&settings, requests).await
}

fn file_name(path: &Path) -> String {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("offerpack").to_owned()
}

/// One line per agent from its `/metrics/snapshot`: fetches, bytes, time and cache hits.
async fn fetch_figures(agents: &[String]) -> Vec<String> {
    // reqwest has no crypto provider of its own in this build (see offerpack::tls).
    offerpack::tls::install_default_provider();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build();
    let mut out = Vec::new();
    for url in agents {
        let got = match &client {
            Ok(client) => snapshot(client, url).await,
            Err(e) => Err(e.to_string()),
        };
        out.push(match got {
            Ok(m) => {
                let n = |name: &str| m.get(name).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
                format!(
                    "{} fetch(es) ok, {} failed, {} bytes downloaded in {:.0} ms, cache hits {}, misses {}",
                    n("containerizer/fetcher/task_fetches_succeeded"),
                    n("containerizer/fetcher/task_fetches_failed"),
                    n("offerpack/fetcher/bytes_downloaded"),
                    n("offerpack/fetcher/fetch_ms_total"),
                    n("offerpack/fetcher/cache_hits"),
                    n("offerpack/fetcher/cache_misses"),
                )
            }
            Err(e) => format!("no figures ({e})"),
        });
    }
    out
}

async fn snapshot(client: &reqwest::Client, agent: &str) -> Result<serde_json::Value, String> {
    let url = format!("{}/metrics/snapshot", agent.trim_end_matches('/'));
    let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multinode_first_url_finds_the_address() {
        let line =
            "offerpack master: 0 agents, tasks run 1000 ms, scheduler API at http://127.0.0.2:4100/api/v1/scheduler";
        assert_eq!(first_url(line), Some("http://127.0.0.2:4100/api/v1/scheduler"));
        assert_eq!(first_url("nothing here"), None);
    }
}
