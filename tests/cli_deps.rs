//! `offerpack run --workload` and `offerpack solve` with task dependencies (`"after"`):
//! `run` finishes a diamond and prints its critical path, a cycle is refused naming it, and
//! `solve` lists the tasks that wait instead of placing them.
#![cfg(feature = "cli")]

mod cli_support;

use std::path::PathBuf;
use std::process::Output;

use cli_support::{bin, start_master};

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Writes `json` to a fresh file named after the test.
fn workload(name: &str, json: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("offerpack-cli-deps-{name}-{}.json", std::process::id()));
    std::fs::write(&path, json).expect("workload written");
    path
}

const DIAMOND: &str = r#"{"tasks": [
    {"id": "d", "resources": {"cpus": 0.1, "mem": 32}, "after": ["b", "c"]},
    {"id": "b", "resources": {"cpus": 0.1, "mem": 32}, "after": ["a"]},
    {"id": "c", "resources": {"cpus": 0.1, "mem": 32}, "after": ["a"]},
    {"id": "a", "resources": {"cpus": 0.1, "mem": 32}}]}"#;

#[test]
fn cli_deps_run_finishes_a_diamond_and_prints_the_critical_path() {
    let (_master, url) = start_master(&["--agents", "2", "--task-duration-ms", "100"]);
    let path = workload("diamond", DIAMOND);
    let out = bin().args(["run", "--master", &url, "--workload"]).arg(&path).args(["--deadline", "30"]).output();
    let out = out.expect("the binary runs");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("finished 4 of 4 tasks"), "{all}");
    assert!(stdout.contains("critical path: 3 tasks (a → b → d), "), "{all}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn cli_deps_cycle_is_refused_naming_it() {
    let path = workload(
        "cycle",
        r#"{"tasks": [{"id": "x", "after": ["z"]}, {"id": "y", "after": ["x"]}, {"id": "z", "after": ["y"]}]}"#,
    );
    let out = bin().args(["solve"]).arg(&path).output().expect("the binary runs");
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("tasks: dependency cycle: x → y → z → x"), "{all}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn cli_deps_solve_lists_waiting_tasks_unplaced() {
    let with_offer = DIAMOND.replacen(
        "{\"tasks\"",
        r#"{"offers": [{"id": "o1", "agent_id": "a1", "hostname": "h1", "resources": {"cpus": 4, "mem": 4096}}], "tasks""#,
        1,
    );
    let path = workload("solve", &with_offer);
    let out = bin().args(["solve"]).arg(&path).output().expect("the binary runs");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the plan is JSON");
    assert_eq!(launched(&plan), ["a"], "{all}");
    let waiting = &plan["waiting"];
    assert_eq!(waiting[0]["task_id"], "d", "{all}");
    assert_eq!(waiting[0]["after"], serde_json::json!(["b", "c"]), "{all}");
    assert_eq!(waiting.as_array().unwrap().len(), 3, "{all}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn cli_deps_dry_run_prints_the_first_plan_and_launches_nothing() {
    let (_master, url) = start_master(&["--agents", "2", "--task-duration-ms", "100"]);
    let path = workload("dry-run", DIAMOND);
    let mut command = bin();
    command.args(["run", "--dry-run", "--master", &url, "--workload"]).arg(&path).args(["--deadline", "20"]);
    let out = command.output().expect("the binary runs");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the plan is JSON");
    assert_eq!(launched(&plan), ["a"], "{all}");
    assert_eq!(plan["waiting"].as_array().unwrap().len(), 3, "{all}");
    assert!(all.contains("dry run: 1 of 4 tasks would be placed"), "{all}");
    assert!(all.contains("nothing launched"), "{all}");
    let _ = std::fs::remove_file(path);
}

/// The ids of a plan's launches, in order.
fn launched(plan: &serde_json::Value) -> Vec<&str> {
    let launches = plan["launches"].as_array().expect("launches is a list");
    launches.iter().map(|l| l["task_id"].as_str().expect("a task id")).collect()
}
