//! `offerpack run` with task retries and queues against `offerpack master`: `--retries`
//! validated, a task the master fails (`--fail-every`) retried or given up, and a workload's
//! queue buckets in the summary.
#![cfg(feature = "cli")]

mod cli_support;

use std::path::PathBuf;
use std::process::Output;

use cli_support::{bin, start_master};

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// A master with two roomy agents whose tasks run 100 ms and whose third launch fails.
fn failing_master() -> (cli_support::KillOnDrop, String) {
    start_master(&["--agents", "2", "--task-duration-ms", "100", "--fail-every", "3"])
}

/// Runs 4 synthetic tasks with `retries` launches each against `url`.
fn run_four(url: &str, retries: &str) -> Output {
    run(&["run", "--master", url, "--tasks", "4", "--retries", retries, "--retry-backoff", "50", "--deadline", "30"])
}

#[test]
fn cli_retries_zero_is_rejected_clearly() {
    for command in [&["run", "--master", "http://127.0.0.1:1", "--tasks", "1"][..], &["demo"]] {
        let out = bin().args(command).args(["--retries", "0"]).output().expect("the binary runs");
        let (_, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(
            stderr.contains(
                "error: invalid value '0' for '--retries <N>': give the launches per task in all, from 1 (no retry)"
            ),
            "{stderr}"
        );
    }
}

#[test]
fn cli_retries_run_a_failed_task_again_until_it_finishes() {
    let (_master, url) = failing_master();
    let out = run_four(&url, "3");
    let (stdout, stderr) = text(&out);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(out.status.success(), "{all}");
    assert!(stdout.contains("finished 4 of 4 tasks, failed 0, pending 0"), "{all}");
    // Launches 1-4 are the tasks' first attempts, the third fails; its retry is launch 5.
    assert!(stdout.contains("retries: 1 attempt(s) sent back to pending after a launch, 0 task(s) given up"), "{all}");
    assert!(stdout.trim_end().ends_with("every task finished"), "{all}");
}

#[test]
fn cli_retries_one_attempt_gives_the_failed_task_up() {
    let (_master, url) = failing_master();
    let out = run_four(&url, "1");
    let (stdout, stderr) = text(&out);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(stdout.contains("finished 3 of 4 tasks, failed 1, pending 0"), "{all}");
    assert!(stdout.contains("retries: 0 attempt(s) sent back to pending after a launch, 1 task(s) given up"), "{all}");
    let line = stdout.lines().find(|l| l.contains("given up after 1 attempt(s), last Failed"));
    let task = line.and_then(|l| l.split_whitespace().next()).unwrap_or_else(|| panic!("{all}"));
    assert!(task.starts_with("task-00000"), "{all}");
    let error = format!("error: 1 task(s) did not finish: {task} given up after 1 attempt(s), last Failed");
    assert!(stderr.contains(&error), "{all}");
}

/// A workload of two tasks in bucket `a` (weight 1) and two in bucket `b` (weight 3).
fn two_bucket_workload() -> PathBuf {
    let task = |i: u32, bucket: &str| {
        format!(
            r#"{{"id": "q{i}", "group": "{bucket}", "resources": {{"cpus": 0.1, "mem": 32}}, "bucket": "{bucket}"}}"#
        )
    };
    let tasks = [task(1, "a"), task(2, "a"), task(3, "b"), task(4, "b")].join(",\n");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-retries");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("two-buckets.json");
    let text = format!(r#"{{"tasks": [{tasks}], "buckets": {{"a": {{"weight": 1}}, "b": {{"weight": 3}}}}}}"#);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn cli_run_workload_reports_each_queue_bucket() {
    let (_master, url) = start_master(&["--agents", "2", "--task-duration-ms", "100"]);
    let path = two_bucket_workload();
    let out = run(&["run", "--master", &url, "--workload", path.to_str().unwrap(), "--deadline", "30"]);
    let (stdout, stderr) = text(&out);
    let all = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(out.status.success(), "{all}");
    assert!(stdout.contains("in queue order (2 bucket(s) configured)"), "{all}");
    assert!(stdout.contains("queue: 2 bucket(s)"), "{all}");
    for bucket in ["a", "b"] {
        let line = format!("  bucket {bucket} (tier 0): placed 2 over the run; last pass: 0 unplaced, dominant share ");
        assert!(stdout.contains(&line), "{all}");
    }
}
