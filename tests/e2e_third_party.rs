//! A genuinely third-party client against the simulated master: `tests/third_party_client.py`
//! (Python 3, standard library only, written against the Mesos v1 JSON protocol) runs as a child
//! process, subscribes, launches one task on an offer, acknowledges its updates and exits 0 once
//! TASK_FINISHED arrives. Once straight against the master, once through the recording proxy of
//! `e2e_support` to check on the wire what it did. When `python3` is not on PATH, the tests fail
//! in CI (`CI=true`, where `.ci/run` installs it) and elsewhere skip with a `SKIPPED` line on
//! the terminal.
#![cfg(all(feature = "driver", feature = "master"))]

mod e2e_support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use e2e_support::*;
use offerpack::master::{MasterConfig, SimMaster};
use offerpack::session::CallKind;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/third_party_client.py");

/// Whether `python3` runs. Without it, a CI run fails here; any other run says it skips `test`
/// on stderr itself, past the test harness's capture, so the line shows even when tests pass.
fn python(test: &str) -> bool {
    let found = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "python3 is not on PATH; CI must run {test}");
        let line = format!("SKIPPED {test}: python3 is not on PATH\n");
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
    found
}

fn config() -> MasterConfig {
    let mut config = master_config(2);
    config.heartbeat_interval = Duration::from_secs(1);
    config
}

/// Runs the client against `url`; the script bounds itself to 30 s, this waits 60 s at most.
async fn run_client(url: String) -> Output {
    let child = Command::new("python3")
        .arg(SCRIPT)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let pid = child.id();
    let waited =
        tokio::time::timeout(Duration::from_secs(60), tokio::task::spawn_blocking(|| child.wait_with_output()));
    match waited.await {
        Ok(output) => output.expect("joined").expect("child output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("the third-party client did not exit within 60 s");
        }
    }
}

fn assert_finished(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client exited {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", output.status);
    assert!(stdout.contains("TASK_FINISHED py-task-1"), "stdout:\n{stdout}\nstderr:\n{stderr}");
}

#[tokio::test]
async fn e2e_third_party_python_client_runs_a_task() {
    if !python("e2e_third_party_python_client_runs_a_task") {
        return;
    }
    let master = SimMaster::start(config()).await.expect("master starts");
    assert_finished(&run_client(master.url()).await);
}

#[tokio::test]
async fn e2e_third_party_python_client_on_the_wire() {
    if !python("e2e_third_party_python_client_on_the_wire") {
        return;
    }
    let cluster = Cluster::start(config()).await;
    assert_finished(&run_client(format!("{}/api/v1/scheduler", cluster.proxy.url())).await);

    let log = cluster.log.snapshot();
    let dump = || cluster.log.dump();
    let kinds: Vec<CallKind> = log
        .iter()
        .filter_map(|e| match e {
            Entry::Request { call, status, .. } => {
                assert!(call.is_some(), "a call the master's JSON codec reads\n{}", dump());
                assert!(matches!(status, Some(200 | 202)), "answered 200/202\n{}", dump());
                call.as_ref().map(CallKind::of)
            }
            _ => None,
        })
        .collect();
    assert_eq!(kinds.first(), Some(&CallKind::Subscribe));
    assert_eq!(kinds.last(), Some(&CallKind::Teardown));
    let accepts = calls(&log, CallKind::Accept);
    assert_eq!(accepts.len(), 1, "{}", dump());
    assert_eq!(launched_tasks(&accepts[0].1), ["py-task-1"]);
    // The resources came from the offer: the master accepted the LAUNCH and the task ran.
    assert!(finished_in_log(&log).contains("py-task-1"));
    assert!(all_acked(&log, false), "every update with a uuid acknowledged\n{}", dump());
    assert_eq!(acks(&log), uuid_copies(&log), "and nothing else\n{}", dump());
    check_log(&log, &["py-task-1".to_owned()]);
}
