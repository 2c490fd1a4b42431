//! `offerpack run --executor`: the artifact settings are checked at start, before any
//! connection, and every error names the settings involved.
#![cfg(feature = "cli")]

use std::path::PathBuf;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_offerpack")).args(args).output().expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// An executor file to serve.
fn executor_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-executor");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("my-executor");
    std::fs::write(&path, "#!/bin/sh\nexit 0\n").unwrap();
    path
}

#[test]
fn cli_run_executor_loopback_advertise_fails_at_start_naming_both_settings() {
    let file = executor_file();
    let out = run(&[
        "run",
        "--master",
        "http://10.1.2.3:5050",
        "--tasks",
        "1",
        "--executor",
        file.to_str().unwrap(),
        "--artifact-bind",
        "127.0.0.2:0",
        "--artifact-advertise",
        "http://127.0.0.1:8080/",
        "--connect-timeout",
        "1",
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("--artifact-advertise") && err.contains("http://10.1.2.3:5050"), "{err}");
    assert!(!err.contains("subscribe"), "it stopped before connecting: {err}");
}

#[test]
fn cli_run_executor_needs_bind_and_wildcard_needs_advertise() {
    let file = executor_file();
    let path = file.to_str().unwrap();
    let out = run(&["run", "--master", "http://127.0.0.1:5050", "--tasks", "1", "--executor", path]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--artifact-bind"), "{}", stderr(&out));
    let out = run(&[
        "run",
        "--master",
        "http://127.0.0.1:5050",
        "--tasks",
        "1",
        "--executor",
        path,
        "--artifact-bind",
        "0.0.0.0:0",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--artifact-advertise"), "{}", stderr(&out));
    let out = run(&["run", "--master", "http://127.0.0.1:5050", "--tasks", "1", "--artifact-bind", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--executor"), "{}", stderr(&out));
}

#[test]
fn cli_run_executor_missing_file_is_named() {
    let out = run(&[
        "run",
        "--master",
        "http://127.0.0.1:5050",
        "--tasks",
        "1",
        "--executor",
        "/nonexistent/dir/exec",
        "--artifact-bind",
        "127.0.0.2:0",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("/nonexistent/dir/exec"), "{}", stderr(&out));
}
