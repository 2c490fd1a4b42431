//! The `offerpack` binary over loopback HTTP: `demo` (plain, multinode and soak), `run` against an
//! unreachable master, and `master` in a child process with `run` against it.
#![cfg(feature = "cli")]

mod cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Output;
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{bin, start_master};

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn cli_demo_runs_every_task_to_the_end() {
    let out = run(&["demo", "--agents", "50", "--tasks", "200", "--deadline", "60"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("launched 200 of 200 tasks, finished 200 of 200 tasks, failed 0, pending 0"), "{stdout}");
    assert!(stdout.contains("all 200 tasks launched by "), "{stdout}");
    assert!(stdout.contains("agents used: ") && stdout.contains(" of 50"), "{stdout}");
    assert!(stdout.contains("wall time: "), "{stdout}");
    assert!(stdout.trim_end().ends_with("every task finished"), "{stdout}");
    assert!(stderr.contains("finished 200, pending 0"), "progress lines on stderr: {stderr}");
}

#[test]
fn cli_run_gives_up_on_an_unreachable_master() {
    let start = Instant::now();
    let out = run(&["run", "--master", "http://127.0.0.1:1", "--tasks", "1", "--connect-timeout", "2"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: could not subscribe to the master at http://127.0.0.1:1 within 2.0 s"), "{stderr}");
    assert!(start.elapsed() < Duration::from_secs(15), "took {:?}", start.elapsed());
}

#[test]
fn cli_run_rejects_bad_flags() {
    for args in [&["run", "--tasks", "1"][..], &["run", "--master", "h:1"], &["master", "--agents", "-1"]] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).starts_with("error: "), "{args:?}");
    }
}

/// Starts `offerpack master` on a free port and returns it with its scheduler URL.
#[test]
fn cli_run_against_a_master_in_a_child_process() {
    let (_master, url) = start_master(&["--agents", "3", "--task-duration-ms", "200"]);
    assert!(url.ends_with("/api/v1/scheduler"), "{url}");
    for encoding in ["protobuf", "json"] {
        let out = run(&["run", "--master", &url, "--tasks", "5", "--encoding", encoding, "--deadline", "30"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{encoding}: stdout:\n{stdout}\nstderr:\n{stderr}");
        assert!(stdout.contains("finished 5 of 5 tasks"), "{stdout}");
        assert!(stdout.contains("agents used: "), "{stdout}");
    }
}

/// A stand-in master that answers every request `400 Bad Request`, as Mesos does for a
/// SUBSCRIBE it cannot validate.
fn rejecting_master() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let _ = answer_400(stream);
        }
    });
    format!("http://{addr}")
}

fn answer_400(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let text = "Failed to validate scheduler::Call: Expecting 'subscribe' to be present";
    let mut stream = stream;
    write!(stream, "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}", text.len())?;
    stream.flush()
}

#[test]
fn cli_run_reports_a_rejected_framework() {
    let url = rejecting_master();
    let out = run(&["run", "--master", &url, "--tasks", "1", "--connect-timeout", "10"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: the master rejected the framework: HTTP 400: Failed to validate"), "{stderr}");
}

/// The amount after `label` in `line` (e.g. `bytes downloaded` → its number).
fn figure_before(line: &str, label: &str) -> f64 {
    let head = &line[..line.find(label).unwrap_or_else(|| panic!("{label:?} in {line:?}"))];
    head.split_whitespace()
        .last()
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("a number before {label:?}: {line:?}"))
}

#[test]
fn cli_demo_multinode_fetches_one_executor_per_agent_then_hits_the_cache() {
    // 12 tasks a round: more than one agent (9 tasks of 0.2 cpus besides the executor) holds.
    let out = run(&["demo", "--multinode", "--agents", "2", "--tasks", "24", "--deadline", "90"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("master: process ") && stdout.contains("at http://127.0.0.2:"), "{stdout}");
    assert!(stdout.contains("agent 1: process ") && stdout.contains("at http://127.0.0.3:"), "{stdout}");
    assert!(stdout.contains("agent 2: process ") && stdout.contains("at http://127.0.0.4:"), "{stdout}");
    assert_eq!(stdout.matches("finished 12 of 12 tasks").count(), 2, "two rounds: {stdout}");
    assert!(stdout.contains("every task finished"), "{stdout}");
    let size = std::fs::metadata(env!("CARGO_BIN_EXE_offerpack")).unwrap().len() as f64;
    for agent in ["agent 1: ", "agent 2: "] {
        let line = stdout.lines().find(|l| l.starts_with(agent) && l.contains("fetch(es)")).expect("fetch figures");
        // Round 1 downloads the executor once; round 2 starts it again from the cache.
        assert_eq!(figure_before(line, "bytes downloaded"), size, "{line}");
        assert_eq!(figure_before(line, "fetch(es) ok"), 2.0, "{line}");
        assert!(line.contains("cache hits 1, misses 1"), "{line}");
    }
}

/// The number before `label` in `line` (`"stream cut 2"` → 2 for label `"stream cut "`).
fn count_after(line: &str, label: &str) -> u64 {
    let at = line.find(label).unwrap_or_else(|| panic!("no {label:?} in {line:?}")) + label.len();
    line[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().expect("a count")
}

#[test]
fn cli_soak_survives_every_fault_kind_with_no_task_lost_or_doubled() {
    let args = ["demo", "--soak", "8", "--agents", "300", "--rate", "150", "--fault-every", "1", "--task-run", "0.5"];
    let out = bin().args(args).output().expect("the binary runs");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let tasks = stdout.lines().find(|l| l.starts_with("tasks: ")).expect("a tasks line");
    let submitted = count_after(tasks, "tasks: ");
    assert!(submitted >= 150, "{tasks}");
    assert_eq!(count_after(tasks, "submitted, "), submitted, "every task finished: {tasks}");
    assert!(tasks.contains(" 0 unfinished, 0 launched twice at once, 0 launched after the framework reported them finished, 0 given up"), "{tasks}");
    let faults = stdout.lines().find(|l| l.starts_with("faults: ")).expect("a faults line");
    for kind in ["stream cut ", "503s ", "agent loss ", "duplicate updates ", "leader change "] {
        assert!(count_after(faults, kind) >= 1, "{kind}never injected: {faults}");
    }
    let resubscribed = count_after(faults, "agents lost in all; ");
    assert!(resubscribed >= 1, "a leader change makes the framework re-subscribe: {faults}");
    assert!(stdout.contains("memory (rss): not judged"), "{stdout}");
    assert!(stdout.contains("soak passed"), "{stdout}");
}

#[test]
fn cli_soak_flags_need_soak() {
    let out = bin().args(["demo", "--rate", "10"]).output().expect("the binary runs");
    assert!(!out.status.success());
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("error: the following required arguments were not provided:"), "{stderr}");
    assert!(stderr.contains("--soak <SECS>"), "{stderr}");
}
