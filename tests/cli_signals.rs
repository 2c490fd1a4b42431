//! SIGINT and SIGTERM sent to the `offerpack` processes: the first stops them gracefully and
//! says what it does (`run` tears its framework down, or leaves it for a successor with
//! `--on-exit failover`; `master` closes its streams; `agent` kills its tasks), each exits.
#![cfg(feature = "cli")]

mod cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{bin, start_master, KillOnDrop};

/// Guard against a process that never ends; every wait below ends on an event first.
const GUARD: Duration = Duration::from_secs(60);

fn send(child: &Child, signal: &str) {
    let status =
        std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
}

/// Waits for the child to exit.
fn wait_exit(child: &mut KillOnDrop) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.0.try_wait().expect("try_wait") {
            return status;
        }
        assert!(start.elapsed() < GUARD, "the process did not exit");
        thread::sleep(Duration::from_millis(20));
    }
}

fn lines(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads lines until one contains `needle`; all lines read.
fn until(rx: &Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    loop {
        let line = rx.recv_timeout(GUARD).unwrap_or_else(|_| panic!("no line with {needle:?}; seen {seen:?}"));
        seen.push(line.clone());
        if line.contains(needle) {
            return;
        }
    }
}

/// The states of the tasks the master's operator API lists (GET_TASKS, JSON).
fn master_task_states(base: &str) -> Vec<String> {
    let address = base.trim_start_matches("http://").trim_end_matches('/');
    let mut tcp = TcpStream::connect(address).expect("the master is up");
    let body = r#"{"type":"GET_TASKS"}"#;
    write!(
        tcp,
        "POST /api/v1 HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nAccept: application/json\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    let json = &answer[answer.find("\r\n\r\n").expect("a body") + 4..];
    let value: serde_json::Value = serde_json::from_str(json).expect("JSON");
    let tasks = value["get_tasks"]["tasks"].as_array().cloned().unwrap_or_default();
    tasks.iter().map(|t| t["state"].as_str().unwrap_or_default().to_owned()).collect()
}

#[test]
fn cli_signals_run_failover_leaves_its_tasks_running() {
    let (_master, url) = start_master(&["--agents", "2", "--task-duration-ms", "60000"]);
    let base = url.trim_end_matches("/api/v1/scheduler").to_owned();
    for (mode, running_after) in [("teardown", 0), ("failover", 3)] {
        let mut run = KillOnDrop(
            bin()
                .args(["run", "--master", &base, "--tasks", "3", "--on-exit", mode, "--name", mode])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let stderr = lines(run.0.stderr.take().unwrap());
        let mut seen = Vec::new();
        until(&stderr, "running 3", &mut seen);
        let before = master_task_states(&base).iter().filter(|s| *s == "TASK_RUNNING").count();
        send(&run.0, "-TERM");
        let status = wait_exit(&mut run);
        seen.extend(stderr.try_iter());
        assert!(!status.success());
        let all = seen.join("\n");
        assert!(all.contains("stopped by SIGTERM"), "{all}");
        if mode == "failover" {
            assert!(all.contains("SIGTERM: leaving framework") && all.contains("for a successor"), "{all}");
        }
        let after = master_task_states(&base).iter().filter(|s| *s == "TASK_RUNNING").count();
        assert_eq!(after - (before - 3), running_after, "{mode}: running before {before}, after {after}");
    }
}

#[test]
fn cli_signals_master_shuts_down_cleanly() {
    let (mut master, _) = start_master(&["--agents", "1"]);
    send(&master.0, "-TERM");
    assert!(wait_exit(&mut master).success());
}

/// Processes whose working directory lies under `dir` (the agent's sandboxes).
fn processes_under(dir: &std::path::Path) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        if std::fs::read_link(entry.path().join("cwd")).is_ok_and(|cwd| cwd.starts_with(dir)) {
            found.push(pid);
        }
    }
    found
}

/// Polls `test` until it holds; false if it never did within the guard.
fn eventually(mut test: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < GUARD {
        if test() {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn cli_signals_agent_kills_its_tasks() {
    let (_master, url) = start_master(&["--agents", "0", "--agent-ping", "0.2"]);
    let base = url.trim_end_matches("/api/v1/scheduler").to_owned();
    let work =
        std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("signals-agent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let mut agent = KillOnDrop(
        bin()
            .args(["agent", "--master", &base, "--listen", "127.0.0.1:0", "--work-dir", work.to_str().unwrap()])
            .args(["--resources", "cpus:2;mem:1024"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let agent_err = lines(agent.0.stderr.take().unwrap());
    let mut run = KillOnDrop(
        bin()
            .args(["run", "--master", &base, "--tasks", "1", "--command", "sleep 300", "--deadline", "120"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let run_err = lines(run.0.stderr.take().unwrap());
    let mut seen = Vec::new();
    until(&run_err, "running 1", &mut seen);
    let work = work.canonicalize().unwrap();
    assert!(!processes_under(&work).is_empty(), "the task runs in its sandbox");
    let mut agent_seen = Vec::new();
    send(&agent.0, "-TERM");
    until(&agent_err, "SIGTERM: offerpack agent stopping, killing its tasks", &mut agent_seen);
    assert!(wait_exit(&mut agent).success());
    assert!(eventually(|| processes_under(&work).is_empty()), "left: {:?}", processes_under(&work));
    drop(run);
}
