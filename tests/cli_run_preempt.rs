//! `offerpack run --workload` against the simulated master, with a preemption that happens
//! for certain: two low-priority tasks and a short `gate` task fill the one agent, each told by
//! its `labels` how long the simulated master runs it (`offerpack.sim/duration_ms`); the
//! `urgent` task waits for `gate` (`after`), so it becomes pending exactly when `gate`
//! finished, long before the low ones end. It fits only by evicting one of them: the run
//! prints the preemption, the victim runs again, and every task finishes. A task without such
//! a label would run forever here, so the run finishes only through the labels.
#![cfg(feature = "cli")]

mod cli_support;

use std::process::Output;

use cli_support::{bin, start_master};

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// One agent of 5 cpus: `gate` (1 cpu, 200 ms) and two low tasks (2 cpus, 4 s) fill it at the
/// first pass; `urgent` (2 cpus) follows `gate`. `low-1` has the lowest priority, so it is the
/// one victim; the budget allows one `batch` task down at a time.
const WORKLOAD: &str = r#"{
 "tasks": [
  {"id": "gate", "group": "gate", "resources": {"cpus": 1, "mem": 32},
   "labels": {"offerpack.sim/duration_ms": "200"}},
  {"id": "low-1", "group": "batch", "resources": {"cpus": 2, "mem": 32}, "priority": 0,
   "labels": {"offerpack.sim/duration_ms": "4000"}},
  {"id": "low-2", "group": "batch", "resources": {"cpus": 2, "mem": 32}, "priority": 1,
   "labels": {"offerpack.sim/duration_ms": "4000"}},
  {"id": "urgent", "group": "web", "resources": {"cpus": 2, "mem": 32}, "priority": 10, "after": ["gate"],
   "labels": {"offerpack.sim/duration_ms": "200"}}],
 "groups": {"batch": {"max_unavailable": 1}}}"#;

#[test]
fn cli_run_workload_preempts_a_running_task_which_runs_again() {
    let (_master, url) =
        start_master(&["--agents", "1", "--zones", "1", "--cpus", "5", "--task-duration-ms", "forever"]);
    let path = std::env::temp_dir().join(format!("offerpack-cli-run-preempt-{}.json", std::process::id()));
    std::fs::write(&path, WORKLOAD).expect("workload written");
    let out = bin().args(["run", "--master", &url, "--workload"]).arg(&path).args(["--deadline", "30"]).output();
    let _ = std::fs::remove_file(&path);
    let out = out.expect("the binary runs");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let preempting: Vec<&str> = stdout.lines().filter(|l| l.starts_with("preempting: ")).collect();
    assert_eq!(preempting, ["preempting: urgent evicts low-1"], "{all}");
    let preempted: Vec<&str> = stdout.lines().filter(|l| l.starts_with("preempted: ")).collect();
    assert_eq!(preempted.len(), 1, "{all}");
    assert!(preempted[0].starts_with("preempted: low-1 (on "), "{all}");
    assert!(preempted[0].ends_with(") ended Killed for urgent; pending again"), "{all}");
    let at = |needle: &str| stdout.find(needle).unwrap_or_else(|| panic!("{needle}: {all}"));
    assert!(at("preempting: ") < at("preempted: "), "the kill follows the plan: {all}");
    assert!(stdout.contains("finished 4 of 4 tasks"), "the victim ran again to the end: {all}");
}
