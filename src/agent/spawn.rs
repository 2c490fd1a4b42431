//! Child processes of the shell: start a [`ProcessSpec`] in its own process group with only
//! its own environment, and signal a process group.

use std::fs::{self, File};

use tokio::process::{Child, Command};

use super::core::{Exit, ProcessSpec, Signal};

/// Starts the process (standard output and error appended to `stdout`/`stderr` in its working
/// directory); the child is its own process group leader.
pub(super) fn start(spec: &ProcessSpec) -> std::io::Result<Child> {
    fs::create_dir_all(&spec.cwd)?;
    let open = |name: &str| File::options().create(true).append(true).open(spec.cwd.join(name));
    let (stdout, stderr) = (open("stdout")?, open("stderr")?);
    Command::new(&spec.program)
        .args(&spec.args)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .kill_on_drop(false)
        .spawn()
}

/// Sends `signal` to the process group led by `pid`.
pub(super) fn signal_group(pid: u32, signal: Signal) {
    let Ok(pid) = i32::try_from(pid) else { return };
    let sig = match signal {
        Signal::Term => libc::SIGTERM,
        Signal::Kill => libc::SIGKILL,
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours; a group that is
    // already gone gives ESRCH, which is ignored.
    unsafe {
        libc::kill(-pid, sig);
    }
}

/// Waits for the child and says how it ended.
pub(super) async fn wait(mut child: Child) -> Exit {
    use std::os::unix::process::ExitStatusExt;
    match child.wait().await {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => Exit::Code(code),
            (None, Some(sig)) => Exit::Signal(sig),
            (None, None) => Exit::Code(-1),
        },
        Err(_) => Exit::Code(-1),
    }
}
