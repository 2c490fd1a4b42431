//! The `offerpack` binary end to end: gen, solve, errors, repeat, help, completions.
#![cfg(feature = "cli")]

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_offerpack"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `offerpack solve -` with `text` on its standard input.
fn solve_stdin(text: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut cmd = bin();
    cmd.args(["solve", "-"]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// A scratch file path unique to this test.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn read_json(path: &PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn str_of(v: &Value) -> &str {
    v.as_str().expect("a string")
}

#[test]
fn cli_gen_then_solve_gives_a_sound_plan() {
    let workload = scratch("unique-200x1000.json");
    let plan = scratch("unique-200x1000.plan.json");
    let w = workload.to_str().unwrap();
    let gen = run(&["gen", "--agents", "200", "--tasks", "1000", "--constraints", "unique-host", "--out", w]);
    assert!(gen.status.success(), "{}", stderr(&gen));
    let solve = run(&["solve", w, "--out", plan.to_str().unwrap()]);
    assert!(solve.status.success(), "{}", stderr(&solve));
    assert!(stderr(&solve).contains("of 1000 tasks"), "{}", stderr(&solve));
    check_plan(&read_json(&workload), &read_json(&plan), true);
}

/// Every task once; ports offered and unique per agent; with `unique_host`, one task per group
/// per agent.
fn check_plan(input: &Value, plan: &Value, unique_host: bool) {
    let group_of: HashMap<&str, &str> =
        input["tasks"].as_array().unwrap().iter().map(|t| (str_of(&t["id"]), str_of(&t["group"]))).collect();
    let mut offered: HashMap<&str, Vec<(u64, u64)>> = HashMap::new();
    for o in input["offers"].as_array().unwrap() {
        let ranges = o["resources"]["ports"].as_array().unwrap();
        let ranges = ranges.iter().map(|r| (r[0].as_u64().unwrap(), r[1].as_u64().unwrap()));
        offered.entry(str_of(&o["agent_id"])).or_default().extend(ranges);
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut group_on_agent: HashSet<(&str, &str)> = HashSet::new();
    let mut port_on_agent: HashSet<(&str, u64)> = HashSet::new();
    let launches = plan["launches"].as_array().unwrap();
    for l in launches {
        let (task, agent) = (str_of(&l["task_id"]), str_of(&l["agent_id"]));
        assert!(seen.insert(task), "{task} placed twice");
        let fresh = group_on_agent.insert((group_of[task], agent));
        assert!(fresh || !unique_host, "two tasks of one group on {agent}");
        for p in l["ports"].as_array().unwrap() {
            let p = p.as_u64().unwrap();
            assert!(offered[agent].iter().any(|&(b, e)| b <= p && p <= e), "port {p} not offered by {agent}");
            assert!(port_on_agent.insert((agent, p)), "port {p} given twice on {agent}");
        }
    }
    let unplaced = plan["unplaced"].as_array().unwrap();
    for u in unplaced {
        assert!(seen.insert(str_of(&u["task_id"])), "task both placed and unplaced, or unplaced twice");
        assert!(!u["reasons"].as_array().unwrap().is_empty());
    }
    assert_eq!(seen.len(), group_of.len(), "every task is launched or unplaced");
    assert_eq!(plan["stats"]["tasks_placed"].as_u64().unwrap() as usize, launches.len());
    assert_eq!(plan["stats"]["tasks_unplaced"].as_u64().unwrap() as usize, unplaced.len());
}

#[test]
fn cli_gen_random_mixed_shapes_then_solve() {
    let workload = scratch("random-mixed.json");
    let plan = scratch("random-mixed.plan.json");
    let w = workload.to_str().unwrap();
    let gen = run(&[
        "gen",
        "--agents",
        "90",
        "--tasks",
        "600",
        "--constraints",
        "unique-host",
        "--shapes",
        "random",
        "--shape-count",
        "5",
        "--group-shapes",
        "mixed",
        "--big-every",
        "0",
        "--seed",
        "3",
        "--out",
        w,
    ]);
    assert!(gen.status.success(), "{}", stderr(&gen));
    let input = read_json(&workload);
    let offers = input["offers"].as_array().unwrap();
    assert!(offers.iter().all(|o| o["resources"]["cpus"] == 16.0), "--big-every 0 makes no big agents");
    let mut shapes: Vec<(f64, f64)> = Vec::new();
    for t in input["tasks"].as_array().unwrap() {
        let shape = (t["resources"]["cpus"].as_f64().unwrap(), t["resources"]["mem"].as_f64().unwrap());
        assert!(shape.0 <= 4.0 && shape.1 <= 16384.0, "{shape:?}");
        if !shapes.contains(&shape) {
            shapes.push(shape);
        }
    }
    assert!((2..=5).contains(&shapes.len()), "{shapes:?}");
    let solve = run(&["solve", w, "--out", plan.to_str().unwrap()]);
    assert!(solve.status.success(), "{}", stderr(&solve));
    check_plan(&input, &read_json(&plan), true);
}

#[test]
fn cli_gen_rejects_bad_shape_flags_clearly() {
    for (extra, wanted) in [
        (
            &["--shapes", "random", "--shape-count", "0"][..],
            "invalid value '0' for '--shape-count <K>': must be at least 1",
        ),
        (
            &["--group-shapes", "foo"],
            "invalid value 'foo' for '--group-shapes <HOW>'\n  [possible values: same, mixed]",
        ),
        (
            &["--shapes", "blobs"],
            "invalid value 'blobs' for '--shapes <SHAPES>'\n  [possible values: uniform, irregular, random]",
        ),
        (&["--shape-count", "4"], "--shape-count applies to --shapes random"),
        (&["--big-every", "often"], "invalid value 'often' for '--big-every <N>'"),
    ] {
        let out = run(&[&["gen", "--agents", "5", "--tasks", "5"][..], extra].concat());
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
        let err = stderr(&out);
        assert!(err.starts_with("error: ") && err.contains(wanted), "{extra:?}: {err}");
        assert!(out.stdout.is_empty(), "{extra:?}: wrote a workload");
    }
}

#[test]
fn cli_repeat_reports_the_number_of_runs() {
    let workload = scratch("repeat.json");
    let w = workload.to_str().unwrap();
    assert!(run(&["gen", "--agents", "20", "--tasks", "50", "--seed", "7", "--out", w]).status.success());
    let out = run(&["solve", w, "--repeat", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["stats"]["schedule_ms_runs"], 3);
    assert!(plan["stats"]["schedule_ms"].as_f64().unwrap() >= 0.0);
    assert!(stderr(&out).contains("(median of 3)"), "{}", stderr(&out));
}

#[test]
fn cli_indexed_and_scan_agree_on_a_mixed_workload() {
    let workload = scratch("mixed.json");
    let w = workload.to_str().unwrap();
    let args = ["gen", "--agents", "60", "--tasks", "400", "--constraints", "mixed", "--shapes", "irregular"];
    let gen = run(&[&args[..], &["--seed", "11", "--out", w]].concat());
    assert!(gen.status.success(), "{}", stderr(&gen));
    let mut plans: Vec<Value> = ["indexed", "scan"]
        .iter()
        .map(|s| {
            let out = run(&["solve", w, "--strategy", s]);
            assert!(out.status.success(), "{}", stderr(&out));
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    for plan in &mut plans {
        plan["stats"]["schedule_ms"] = Value::Null;
    }
    check_plan(&read_json(&workload), &plans[0], false);
    assert_eq!(plans[0], plans[1]);
}

/// One bad workload per validation error class, with what stderr must name.
const BAD: &[(&str, &str, &str)] = &[
    ("malformed", r#"{"offers": [ {"id": "o1",, }]}"#, "line 1 column"),
    ("unknown-field", r#"{"offers": [], "taks": []}"#, "unknown field `taks`"),
    ("nan-string", r#"{"tasks": [{"id": "t1", "group": "g", "resources": {"cpus": "NaN"}}]}"#, "NaN"),
    (
        "negative",
        r#"{"tasks": [{"id": "t1", "group": "g", "resources": {"mem": -5}}]}"#,
        r#"tasks[0] (id "t1"): resources.mem"#,
    ),
    ("too-large", r#"{"tasks": [{"id": "t1", "group": "g", "resources": {"mem": 1e300}}]}"#, "resources.mem"),
    ("infinite", r#"{"tasks": [{"id": "t1", "group": "g", "resources": {"mem": 1e999}}]}"#, "line 1 column"),
    (
        "dup-offer",
        r#"{"offers": [{"id": "o1", "agent_id": "a", "hostname": "h"}, {"id": "o1", "agent_id": "b", "hostname": "h"}]}"#,
        r#"offers[1]: duplicate offer id "o1""#,
    ),
    (
        "dup-task",
        r#"{"tasks": [{"id": "t1", "group": "g"}], "running": [{"id": "t1", "group": "g", "agent_id": "a"}]}"#,
        r#"running[0]: duplicate task id "t1""#,
    ),
    (
        "unknown-resource",
        r#"{"offers": [{"id": "o1", "agent_id": "a", "hostname": "h", "resources": {"cpus": 1}}],
            "tasks": [{"id": "t1", "group": "g", "resources": {"gpus": 1}}]}"#,
        r#"tasks[0] (id "t1"): resources.gpus"#,
    ),
    (
        "unknown-operator",
        r#"{"tasks": [{"id": "t1", "group": "g"}, {"id": "t2", "group": "g", "constraints": [["zone", "NEAR"]]}]}"#,
        r#"tasks[1] (id "t2"): constraints[0]"#,
    ),
    (
        "port-range-order",
        r#"{"offers": [{"id": "o1", "agent_id": "a", "hostname": "h", "resources": {"ports": [[32000, 31000]]}}]}"#,
        r#"offers[0] (id "o1"): resources.ports[0]"#,
    ),
    (
        "port-range-high",
        r#"{"offers": [{"id": "o1", "agent_id": "a", "hostname": "h", "reserved": {"r": {"ports": [[31000, 70000]]}}}]}"#,
        r#"offers[0] (id "o1"): reserved.r.ports[0]"#,
    ),
    ("unknown-fitness", r#"{"fitness": "tightest"}"#, "fitness: unknown fitness"),
];

#[test]
fn cli_rejects_each_kind_of_bad_input_naming_the_place() {
    for (name, text, wanted) in BAD {
        let path = scratch(&format!("bad-{name}.json"));
        std::fs::write(&path, text).unwrap();
        let out = run(&["solve", path.to_str().unwrap()]);
        let err = stderr(&out);
        assert!(!out.status.success(), "{name}: accepted");
        assert!(out.stdout.is_empty(), "{name}: wrote a plan");
        assert!(err.starts_with("error: ") && err.contains(wanted), "{name}: {err}");
    }
}

#[test]
fn cli_reports_unreadable_files_and_bad_flags() {
    let out = run(&["solve", "/nonexistent/workload.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("error: cannot read /nonexistent/workload.json"), "{}", stderr(&out));
    for args in [
        &["solve"][..],
        &["solve", "x.json", "--repeat", "0"],
        &["solve", "x.json", "--strategy", "fastest"],
        &["solve", "x.json", "--bogus"],
        &["gen", "--tasks", "5"],
        &["gen", "--agents", "5", "--tasks", "five"],
        &["launch"],
        &[],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).starts_with("error: "), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn cli_help_lists_the_commands() {
    for args in [&["help"][..], &["--help"], &["-h"]] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: offerpack [OPTIONS] <COMMAND>"), "{args:?}: {text}");
        for command in ["solve", "gen", "replay", "master", "demo", "run", "artifacts", "agent", "executor"] {
            assert!(text.lines().any(|l| l.trim_start().starts_with(command)), "{args:?}: no {command}: {text}");
        }
        assert!(!text.contains("--repeat"), "{args:?}: the list shows no command's flags: {text}");
    }
    let out = run(&["--version"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("offerpack {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn cli_command_help_shows_that_command_only() {
    for args in [&["solve", "--help"][..], &["help", "solve"], &["solve", "-h"]] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: offerpack solve [OPTIONS] <INPUT.json>"), "{args:?}: {text}");
        assert!(text.contains("--repeat <N>") && text.contains("--packing <PACKING>"), "{args:?}: {text}");
        assert!(!text.contains("--agents") && !text.contains("--master"), "{args:?}: other commands' flags: {text}");
    }
    let out = run(&["run", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Usage: offerpack run [OPTIONS] --master <URL>"), "{text}");
    for flag in ["--tasks <N>", "--workload <FILE>", "--retries <N>", "--executor <PATH>", "--ha <URL>", "--log-format"]
    {
        assert!(text.contains(flag), "run --help lacks {flag}: {text}");
    }
    assert!(text.contains("[default: 600]"), "defaults are shown: {text}");
    assert!(!text.contains("--repeat") && !text.contains("--soak"), "{text}");
}

#[test]
fn cli_completions_come_from_the_definitions() {
    let out = run(&["completions", "bash"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(script.contains("_offerpack()") && script.contains("complete -F _offerpack"), "{script}");
    for word in ["solve", "completions", "--repeat", "--ha-session-timeout", "--log-format"] {
        assert!(script.contains(word), "the bash script lacks {word}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success() && !out.stdout.is_empty(), "{shell}: {}", stderr(&out));
    }
    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: ") && stderr(&out).contains("[possible values: bash"), "{}", stderr(&out));
}

#[test]
fn cli_solve_reads_standard_input() {
    let text = r#"{"offers": [{"id": "o1", "agent_id": "a1", "hostname": "h1", "resources": {"cpus": 2}}],
                   "tasks": [{"id": "t1", "group": "g", "resources": {"cpus": 1}},
                             {"id": "t2", "group": "g", "resources": {"cpus": 5}}]}"#;
    let out = solve_stdin(text);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["launches"][0]["task_id"], "t1");
    let reason = &plan["unplaced"][0]["reasons"][0];
    assert_eq!((reason["reason"].as_str(), reason["resource"].as_str()), (Some("shortfall"), Some("cpus")));
    assert_eq!((reason["asked"].as_f64(), reason["best_available"].as_f64()), (Some(5.0), Some(1.0)));
    assert!(stderr(&out).starts_with("placed 1 of 2 tasks on 1 agents (1 agents offered)"));
}

/// The README's main command, as it stands: every one of the default 5,000 tasks finishes.
#[test]
fn cli_demo_runs_the_readme_default() {
    let out = run(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("finished 5000 of 5000 tasks"), "{stdout}");
    assert!(stdout.contains("every task finished"), "{stdout}");
}

/// `solve` plans with preemption when the workload gives `groups` or ranked running tasks.
#[test]
fn solve_lists_preemptions() {
    let text = r#"{"offers": [{"id": "o1", "agent_id": "a1", "hostname": "h1", "resources": {"cpus": 1}}],
                   "tasks": [{"id": "urgent", "group": "web", "resources": {"cpus": 2}, "priority": 5}],
                   "running": [{"id": "b1", "group": "low", "agent_id": "a1", "resources": {"cpus": 1}, "priority": 1}],
                   "groups": {"low": {"max_unavailable": 1}}}"#;
    let out = solve_stdin(text);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["preemptions"][0]["task_id"], "urgent");
    assert_eq!(plan["preemptions"][0]["victims"][0], "b1");
    assert_eq!(plan["launches"].as_array().map(Vec::len), Some(0));
    assert!(stderr(&out).contains("1 by preemption"), "{}", stderr(&out));
}
