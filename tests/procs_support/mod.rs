//! `offerpack` processes for tests that watch what several of them print: every line of their
//! standard output and error arrives on one channel, stamped with when it was read, and waits
//! end on a line or an exit within a deadline (nothing sleeps in place of synchronisation).
//! The processes are killed on drop.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_offerpack");
/// Generous guard for one expected event.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A line a process printed (standard output or error), when it was read.
#[derive(Clone, Debug)]
pub struct Line {
    pub at: Instant,
    pub from: String,
    pub text: String,
}

/// Named `offerpack` processes and a scratch directory for them.
pub struct Procs {
    children: Vec<(String, Child)>,
    tx: Sender<Line>,
    rx: Receiver<Line>,
    /// Every line read so far, in arrival order.
    seen: Vec<Line>,
    /// A fresh directory for this test's files (removed on drop).
    pub dir: PathBuf,
    /// The environment variable that, when set, prints every line on drop.
    log_var: &'static str,
}

impl Procs {
    /// No processes yet; `tag` names the scratch directory, `log_var` the variable that asks
    /// for every process's output on drop.
    pub fn new(tag: &str, log_var: &'static str) -> Procs {
        let (tx, rx) = mpsc::channel();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("procs-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test directory");
        Procs { children: Vec::new(), tx, rx, seen: Vec::new(), dir, log_var }
    }

    /// Starts `offerpack ARGS` as `name`.
    pub fn start(&mut self, name: &str, args: &[&str]) {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("offerpack starts");
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        self.read_lines(name, out);
        self.read_lines(name, err);
        self.children.push((name.to_owned(), child));
    }

    fn read_lines(&self, name: &str, pipe: impl Read + Send + 'static) {
        let (tx, from) = (self.tx.clone(), name.to_owned());
        std::thread::spawn(move || {
            for text in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(Line { at: Instant::now(), from: from.clone(), text }).is_err() {
                    return;
                }
            }
        });
    }

    /// Waits up to `wait` for the next line; it is kept.
    pub fn next(&mut self, wait: Duration) -> Option<Line> {
        let line = self.rx.recv_timeout(wait).ok()?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// The first line of `from` (seen or still to come) containing `text`.
    pub fn wait_for(&mut self, from: &str, text: &str) -> Line {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(line) = self.seen.iter().find(|l| l.from == from && l.text.contains(text)) {
                return line.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{from} printed no line with {text:?} within {PATIENCE:?}:\n{}", self.dump());
            self.next(left);
        }
    }

    /// Kills `name` with SIGKILL; when.
    pub fn kill(&mut self, name: &str) -> Instant {
        let (_, child) = self.children.iter_mut().find(|(n, _)| n == name).expect("a process of that name");
        let at = Instant::now();
        let _ = child.kill();
        let _ = child.wait();
        at
    }

    /// Waits up to `patience` for `name` to exit by itself, collecting lines meanwhile.
    pub fn wait_exit(&mut self, name: &str, patience: Duration) -> ExitStatus {
        let deadline = Instant::now() + patience;
        loop {
            let (_, child) = self.children.iter_mut().find(|(n, _)| n == name).expect("a process of that name");
            if let Some(status) = child.try_wait().expect("child status") {
                while self.next(Duration::from_millis(200)).is_some() {}
                return status;
            }
            assert!(Instant::now() < deadline, "{name} did not exit within {patience:?}:\n{}", self.dump());
            // A line, or a short wait for the exit itself.
            self.next(Duration::from_millis(50));
        }
    }

    /// Every line read so far, in arrival order.
    pub fn seen(&self) -> &[Line] {
        &self.seen
    }

    /// The lines `from` printed so far.
    pub fn lines_of<'a>(&'a self, from: &'a str) -> impl Iterator<Item = &'a Line> + 'a {
        self.seen.iter().filter(move |l| l.from == from)
    }

    /// Every line so far, each after its process's name.
    pub fn dump(&self) -> String {
        self.seen.iter().map(|l| format!("[{}] {}\n", l.from, l.text)).collect()
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::env::var_os(self.log_var).is_some() {
            eprintln!("{}", self.dump());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
