//! The command-line tool's commands: `solve`, `gen`, `replay`, `master`, `demo`, `run`, `artifacts`,
//! `agent`, `executor`, `completions`, `help`.
//!
//! Binary-only: the library knows nothing of this module. Each command is one file; `flags`
//! defines the command line with clap (the parser, each command's `--help` and the shell
//! completions come from it) and turns it into a [`Command`](args::Command), whose arguments
//! are in `args` and `live_args`. `runner` follows a framework's tasks for `demo` and `run`.

/// `println!` that ignores a closed standard output instead of panicking (`offerpack demo |
/// head -1` must not panic). Defined before the modules, so it is in scope in all of them.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a closed standard error instead of panicking; with `--log-format
/// json`, a JSON log event of target `offerpack::output` instead (see [`logs`]).
macro_rules! note {
    ($($arg:tt)*) => {{
        if $crate::cli::logs::json() {
            tracing::info!(target: "offerpack::output", "{}", format_args!($($arg)*));
        } else {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr().lock(), $($arg)*);
        }
    }};
}

pub mod agent;
pub mod args;
pub mod artifacts;
pub mod custom_executor;
pub mod demo;
pub mod deps;
pub mod dry_run;
pub mod executor;
pub mod flags;
pub mod gen;
pub mod ha_run;
pub mod live_args;
pub mod live_lines;
pub mod logs;
pub mod master;
pub mod multinode;
pub mod reasons;
pub mod replay;
pub mod run;
pub mod runner;
pub mod signals;
pub mod soak;
pub mod solve;
pub mod tracker;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The command line is wrong.
    Usage(String),
    /// The command could not do its work (bad input, I/O).
    Failed(String),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) | Self::Failed(m) => f.write_str(m),
        }
    }
}

/// Prints the error and picks the exit code: 2 for usage errors, 1 otherwise.
pub fn report(error: &CliError) -> ExitCode {
    let usage = matches!(error, CliError::Usage(_));
    if logs::json() {
        let hint = if usage { "; run `offerpack help` for usage" } else { "" };
        tracing::error!(target: "offerpack::output", "error: {error}{hint}");
    } else {
        let _ = writeln!(io::stderr().lock(), "error: {error}");
        if usage {
            let _ = writeln!(io::stderr().lock(), "run `offerpack help` for usage");
        }
    }
    if usage {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// Answers a command line that did not parse into a command: help and version go to standard
/// output with exit 0; a usage error goes to standard error (as a JSON log event when the
/// command line asks for `--log-format json`) with clap's exit code, 2.
pub fn refuse(error: &clap::Error, format: logs::LogFormat) -> ExitCode {
    if !error.use_stderr() {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }
    if format == logs::LogFormat::Json {
        logs::init(format);
        let text = error.render().to_string();
        tracing::error!(target: "offerpack::output", "{}", text.trim_end());
    } else {
        let _ = error.print();
    }
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}

/// `offerpack completions SHELL`: the completion script on standard output.
pub fn completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut script = Vec::new();
    flags::completions(shell, &mut script);
    let mut out = io::stdout().lock();
    out.write_all(&script)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Failed(format!("cannot write standard output: {e}")))
}

/// Runs `write` into `path`, or into standard output when `path` is `None`, then adds a newline.
pub fn write_output(path: Option<&Path>, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), CliError> {
    let name = path.map_or_else(|| "standard output".to_owned(), |p| p.display().to_string());
    let fail = |e: io::Error| CliError::Failed(format!("cannot write {name}: {e}"));
    let mut out: BufWriter<Box<dyn Write>> = match path {
        Some(p) => BufWriter::new(Box::new(File::create(p).map_err(fail)?)),
        None => BufWriter::new(Box::new(io::stdout().lock())),
    };
    write(&mut out).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()).map_err(fail)
}
