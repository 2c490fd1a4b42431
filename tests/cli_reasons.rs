//! `offerpack run` against `offerpack master` when a hard constraint keeps tasks pending: exactly
//! the tasks the constraint admits launch, across every pass of the run, and the summary names
//! the constraint as the reason the others wait.
#![cfg(feature = "cli")]

mod cli_support;

use std::path::{Path, PathBuf};

use cli_support::{bin, start_master, KillOnDrop};

/// How long each run follows its tasks: long enough for several passes (the session revives
/// offers after its first pass leaves tasks pending), short enough for a test.
const DEADLINE_SECS: &str = "5";

/// `offerpack master` on a free loopback port with `agents` agents that each fit exactly one
/// task (4 cpus, 1024 MB, 100 MB disk, one port) over 3 zones, running tasks until killed; the
/// master and its URL.
fn master(agents: u32) -> (KillOnDrop, String) {
    let agents = agents.to_string();
    start_master(&[
        "--agents",
        &agents,
        "--cpus",
        "4",
        "--mem",
        "1024",
        "--disk",
        "100",
        "--ports",
        "31000-31000",
        "--zones",
        "3",
        "--task-duration-ms",
        "forever",
    ])
}

/// A workload file of `tasks` tasks of group `g`, each asking for a whole agent and one port,
/// under `constraint`.
fn workload(name: &str, tasks: u32, constraint: &str) -> PathBuf {
    let task = |i: u32| {
        format!(
            r#"{{"id": "t{i}", "group": "g", "resources": {{"cpus": 4, "mem": 1024, "disk": 100}}, "ports": 1,
                "constraints": [{constraint}]}}"#
        )
    };
    let tasks: Vec<String> = (1..=tasks).map(task).collect();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-reasons");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!(r#"{{"tasks": [{}]}}"#, tasks.join(",\n"))).unwrap();
    path
}

/// Runs the workload against a fresh master until the deadline; its standard output and error.
fn run_until_deadline(agents: u32, path: &Path) -> (String, String) {
    let (_master, url) = master(agents);
    let out = bin()
        .args(["run", "--master", &url, "--workload", path.to_str().unwrap(), "--deadline", DEADLINE_SECS])
        .output()
        .expect("the binary runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // Tasks that run forever never finish: the run always ends at the deadline, as a failure.
    assert_eq!(out.status.code(), Some(1), "stdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout.into_owned(), stderr.into_owned())
}

#[test]
fn cli_run_launches_one_task_per_zone_and_says_unique_blocks_the_rest() {
    let path = workload("unique.json", 6, r#"["zone", "UNIQUE"]"#);
    let (stdout, stderr) = run_until_deadline(6, &path);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("tasks: launched 3 of 6 tasks, finished 0 of 6 tasks, failed 0, pending 3"), "{all}");
    let why = stdout.lines().find(|l| l.contains("tasks of group g pending:")).unwrap_or_else(|| panic!("{all}"));
    assert!(why.trim_start().starts_with("3 tasks of group g pending: "), "{all}");
    assert!(why.contains("zone:UNIQUE rejected 3 of "), "{all}");
    assert!(stderr.contains("error: the deadline passed with 3 task(s) pending and 3 launched"), "{all}");
    assert!(!stderr.contains("never found an offer that fits"), "{all}");
}

#[test]
fn cli_run_launches_two_tasks_per_zone_and_says_max_per_blocks_the_rest() {
    let path = workload("max-per.json", 12, r#"["zone", "MAX_PER", "2"]"#);
    let (stdout, stderr) = run_until_deadline(12, &path);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("tasks: launched 6 of 12 tasks, finished 0 of 12 tasks, failed 0, pending 6"), "{all}");
    let why = stdout.lines().find(|l| l.contains("tasks of group g pending:")).unwrap_or_else(|| panic!("{all}"));
    assert!(why.trim_start().starts_with("6 tasks of group g pending: "), "{all}");
    assert!(why.contains("zone:MAX_PER:2 rejected 6 of "), "{all}");
    assert!(stderr.contains("error: the deadline passed with 6 task(s) pending and 6 launched"), "{all}");
}
