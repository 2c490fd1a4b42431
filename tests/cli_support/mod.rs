//! The `offerpack` binary as a child process, for the command-line tests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_offerpack"))
}

/// Kills and reaps the child when dropped, also when the test fails.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `offerpack master --listen 127.0.0.1:0` with `args` in a child process; the child and the
/// URL it prints once listening.
pub fn start_master(args: &[&str]) -> (KillOnDrop, String) {
    let mut child = bin()
        .args(["master", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the master starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let child = KillOnDrop(child);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(20)).expect("the master prints its URL");
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_owned();
    (child, url)
}
