//! `offerpack run --workload` with a workload's `groups` (disruption budgets) and `autoscale`
//! rules, against the simulated master: the run says it preempts, prints the autoscaling hints
//! as they change, and every task finishes. (Preemption itself in a live run, victims killed,
//! placed again and finished, is `tests/cli_run_preempt.rs`, where task labels give each task
//! its run time, and `tests/e2e_preempt_requeue.rs`.)
#![cfg(feature = "cli")]

mod cli_support;

use std::process::Output;

use cli_support::{bin, start_master};

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

const WORKLOAD: &str = r#"{
 "tasks": [{"id": "batch-1", "group": "batch", "resources": {"cpus": 1, "mem": 32}, "priority": 0},
           {"id": "batch-2", "group": "batch", "resources": {"cpus": 1, "mem": 32}, "priority": 0},
           {"id": "web-1", "group": "web", "resources": {"cpus": 1, "mem": 32}, "priority": 10}],
 "groups": {"batch": {"max_unavailable": 1}},
 "autoscale": {"attribute": "zone", "classes": {"zone-a": {"max_idle": 0}}}}"#;

#[test]
fn cli_run_workload_preempts_and_prints_scale_hints() {
    let (_master, url) = start_master(&["--agents", "3", "--zones", "1", "--cpus", "4", "--task-duration-ms", "300"]);
    let path = std::env::temp_dir().join(format!("offerpack-cli-run-rules-{}.json", std::process::id()));
    std::fs::write(&path, WORKLOAD).expect("workload written");
    let out = bin().args(["run", "--master", &url, "--workload"]).arg(&path).args(["--deadline", "30"]).output();
    let out = out.expect("the binary runs");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("preempting lower priorities (victims run again)"), "{all}");
    assert!(stdout.contains("with autoscaling hints (1 class rule(s))"), "{all}");
    // Three tasks fit on one agent: the two others are idle, and `max_idle: 0` lets them go.
    let hints = stdout.lines().find(|l| l.starts_with("scale hints: ")).unwrap_or_else(|| panic!("{all}"));
    assert!(hints.starts_with("scale hints: up none; down ") && !hints.ends_with("down none"), "{all}");
    assert_eq!(hints.matches(", ").count(), 1, "two idle agents: {all}");
    assert!(stdout.contains("finished 3 of 3 tasks"), "{all}");
    let _ = std::fs::remove_file(path);
}
