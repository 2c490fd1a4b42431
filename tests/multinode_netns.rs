//! The multinode path across hosts, proved with network namespaces (run as root, as CI does).
//!
//! Each test builds its own small network: a bridge in one namespace and, each in its own
//! namespace joined to the bridge by a veth pair, the master (10.88.0.2), two agents (.3, .4)
//! and the scheduler with its artifact server (.5). Every process is the real `offerpack`
//! binary started with `ip netns exec`, so nothing reaches another "host" but over the bridge.
//! A test skips, saying why, only when the machine does not allow network namespaces (not root,
//! or `ip netns add` refused); it never skips in CI, which runs as root.

#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_offerpack");
const MASTER: &str = "http://10.88.0.2:5050";
/// Generous guard against a stuck process; every wait below ends on an event first.
const GUARD: Duration = Duration::from_secs(120);

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A network of namespaces, deleted (with their veths and every process still in them) on drop.
struct Net {
    tag: String,
    namespaces: Vec<String>,
    dir: PathBuf,
}

impl Net {
    /// Builds the network, or says why the machine does not allow it.
    fn build() -> Result<Net, String> {
        let tag = format!("op{}x{}", std::process::id() % 100_000, NEXT.fetch_add(1, Ordering::Relaxed));
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("netns-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut net = Net { tag: tag.clone(), namespaces: Vec::new(), dir };
        let bridge = net.add_namespace("b")?;
        ip(&["-n", &bridge, "link", "add", "br0", "type", "bridge"])?;
        ip(&["-n", &bridge, "link", "set", "br0", "up"])?;
        for (role, address) in [("m", "10.88.0.2"), ("a1", "10.88.0.3"), ("a2", "10.88.0.4"), ("s", "10.88.0.5")] {
            let ns = net.add_namespace(role)?;
            let (inside, outside) = (format!("v{tag}{role}"), format!("p{tag}{role}"));
            ip(&["link", "add", &inside, "netns", &ns, "type", "veth", "peer", "name", &outside, "netns", &bridge])?;
            ip(&["-n", &bridge, "link", "set", &outside, "master", "br0"])?;
            ip(&["-n", &bridge, "link", "set", &outside, "up"])?;
            ip(&["-n", &ns, "addr", "add", &format!("{address}/24"), "dev", &inside])?;
            ip(&["-n", &ns, "link", "set", &inside, "up"])?;
        }
        Ok(net)
    }

    fn add_namespace(&mut self, role: &str) -> Result<String, String> {
        let name = format!("{}{role}", self.tag);
        ip(&["netns", "add", &name])?;
        self.namespaces.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"])?;
        Ok(name)
    }

    fn ns(&self, role: &str) -> String {
        format!("{}{role}", self.tag)
    }

    /// `offerpack ARGS` inside namespace `role`.
    fn offerpack(&self, role: &str, args: &[&str]) -> Command {
        let mut command = Command::new("ip");
        command.args(["netns", "exec", &self.ns(role), BIN]).args(args);
        command
    }

    /// Starts the master and both agents; returns them with the agents' standard error lines.
    fn start_cluster(&self) -> Cluster {
        let mut master = Spawned::start(self.offerpack(
            "m",
            &["master", "--listen", "10.88.0.2:5050", "--agents", "0", "--agent-ping", "0.2", "--agent-timeout", "2"],
        ));
        master.wait_stdout("scheduler API at");
        let agents = ["a1", "a2"].map(|role| {
            let address = if role == "a1" { "10.88.0.3" } else { "10.88.0.4" };
            let work = self.dir.join(role);
            let mut agent = Spawned::start(self.offerpack(
                role,
                &[
                    "agent",
                    "--master",
                    MASTER,
                    "--listen",
                    &format!("{address}:5051"),
                    "--advertise",
                    address,
                    "--work-dir",
                    work.to_str().unwrap(),
                    "--resources",
                    "cpus:1;mem:1024;ports:[31000-31099]",
                    "--attributes",
                    &format!("zone:{role}"),
                ],
            ));
            agent.wait_stdout("listening on");
            agent
        });
        Cluster { master, agents }
    }

    /// `offerpack run` from the scheduler's namespace, with the executor advertised at `advertise`.
    fn run_command(&self, advertise: &str, tasks: &str) -> Command {
        self.offerpack(
            "s",
            &[
                "run",
                "--master",
                MASTER,
                "--tasks",
                tasks,
                "--executor",
                BIN,
                "--executor-command",
                "./offerpack executor",
                "--artifact-bind",
                "0.0.0.0:8080",
                "--artifact-advertise",
                advertise,
                "--retries",
                "4",
                "--retry-backoff",
                "100",
                "--deadline",
                "100",
                "--connect-timeout",
                "20",
            ],
        )
    }

    /// [`Net::run_command`] to its end.
    fn run(&self, advertise: &str, tasks: &str) -> Output {
        self.run_command(advertise, tasks).output().expect("ip netns exec runs")
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for ns in self.namespaces.iter().rev() {
            // Deleting a namespace does not kill its processes: do that first.
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
        // The agents' sandboxes hold copies of the executor; kept only when the test failed.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// The network, or `None` after saying why this machine cannot build one.
fn network() -> Option<Net> {
    match Net::build() {
        Ok(net) => Some(net),
        Err(why) => {
            eprintln!("skipping: this machine does not allow network namespaces ({why}); CI runs this as root");
            None
        }
    }
}

/// A process with its standard output and error read line by line on threads.
struct Spawned {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    seen: Vec<String>,
}

impl Spawned {
    fn start(mut command: Command) -> Spawned {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        Spawned { child, stdout, stderr, seen: Vec::new() }
    }

    fn wait_stdout(&mut self, needle: &str) -> String {
        loop {
            match self.stdout.recv_timeout(GUARD) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no {needle:?} on standard output; stderr so far: {:?}", self.drain_stderr()),
            }
        }
    }

    /// Waits for a standard error line containing `needle`.
    fn wait_stderr(&mut self, needle: &str) -> String {
        loop {
            match self.stderr.recv_timeout(GUARD) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no {needle:?} on standard error; seen: {:?}", self.seen),
            }
        }
    }

    fn drain_stderr(&mut self) -> Vec<String> {
        self.seen.extend(self.stderr.try_iter());
        self.seen.clone()
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines(pipe: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

struct Cluster {
    #[allow(dead_code)]
    master: Spawned,
    agents: [Spawned; 2],
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The executor's log files under an agent's work directory (one per executor run).
fn executor_logs(work: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![work.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && !path.is_symlink() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "stderr") && path.to_string_lossy().contains("/executors/")
            {
                found.push(std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    found
}

#[test]
fn netns_executor_fetched_across_hosts_and_lost_agent_tasks_replaced() {
    let Some(net) = network() else { return };
    let mut cluster = net.start_cluster();
    let mut run = Spawned::start(net.run_command("http://10.88.0.5:8080/", "14"));
    // Both agents fetch the executor from the scheduler's host and start it.
    for agent in &mut cluster.agents {
        let fetched = agent.wait_stderr("10.88.0.5:8080");
        assert!(fetched.contains("/artifacts/offerpack"), "{fetched}");
        agent.wait_stderr("started");
    }
    // Killing the first agent's process: its tasks are lost and placed again on the second.
    let [first, second] = &mut cluster.agents;
    let _ = first.child.kill();
    let status = run.child.wait().expect("run ends");
    let stdout: Vec<String> = run.stdout.try_iter().collect();
    let stderr: Vec<String> = run.stderr.try_iter().collect();
    assert!(status.success(), "run failed: {stdout:?} {stderr:?}");
    let all = stdout.join("\n");
    assert!(all.contains("finished 14 of 14"), "{all}");
    assert!(stderr.iter().any(|l| l.contains("lost")), "the killed agent's tasks were lost: {stderr:?}");
    second.drain_stderr();
    // One executor on the surviving agent ran several tasks.
    let logs = executor_logs(&net.dir.join("a2"));
    let finished: Vec<usize> = logs.iter().map(|log| log.matches("TASK_FINISHED").count()).collect();
    assert!(finished.iter().any(|&n| n >= 2), "tasks finished per executor run on a2: {finished:?}");
}

#[test]
fn netns_loopback_advertise_fails_at_start() {
    let Some(net) = network() else { return };
    let out = net.run("http://127.0.0.1:8080/", "2");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("--artifact-advertise") && err.contains(MASTER), "{err}");
}

#[test]
fn netns_unroutable_advertise_fails_at_first_fetch_naming_uri_and_agent() {
    let Some(net) = network() else { return };
    let _cluster = net.start_cluster();
    let out = net.run("http://10.88.0.99:8080/", "2");
    assert!(!out.status.success());
    let all = format!("{}\n{}", text(&out.stdout), text(&out.stderr));
    // One line names the agent (by its master-given id, `<master>-S<n>`) and the URI.
    let named = all.lines().any(|line| {
        let Some((head, _)) = line.split_once(" could not fetch http://10.88.0.99:8080/artifacts/offerpack") else {
            return false;
        };
        head.rsplit_once("agent ").is_some_and(|(_, id)| id.contains("-S"))
    });
    assert!(named, "the agent and the URI are named: {all}");
    assert!(!all.contains("deadline"), "it failed at the fetch, not at the deadline: {all}");
}
