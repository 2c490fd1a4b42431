//! The command-line tool's commands: `solve`, `gen`, `demo`, `help`.
//!
//! Binary-only: the library knows nothing of this module. Each command is one file; `args`
//! turns the command line into a [`Command`](args::Command).

pub mod args;
pub mod demo;
pub mod gen;
pub mod solve;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

/// Usage text for `offerpack help`.
pub const USAGE: &str = "\
offerpack: offer-matching scheduling engine for Apache Mesos frameworks

usage:
  offerpack solve INPUT.json [--out FILE] [--repeat N] [--strategy indexed|scan]
      Plan one scheduling pass over a workload (INPUT.json, or - for standard input).
      Writes the plan as JSON to standard output (or FILE) and a summary to standard error.
      --repeat N  time N passes, each on a fresh pool, and report the median (default 1)
  offerpack gen --agents N --tasks M [--seed S] [--constraints none|unique-host|mixed]
                [--shapes uniform|irregular] [--group-size G] [--zones Z]
                [--racks-per-zone R] [--out FILE]
      Generate a synthetic workload as JSON (group size applies to unique-host).
  offerpack demo
      Generate a 1,000-agent, 5,000-task unique-host workload, solve it, print a summary.
  offerpack help
      Show this text.
";

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

impl From<lexopt::Error> for CliError {
    fn from(e: lexopt::Error) -> Self {
        CliError::Usage(e.to_string())
    }
}

/// Prints the error and picks the exit code: 2 for usage errors, 1 otherwise.
pub fn report(error: &CliError) -> ExitCode {
    eprintln!("error: {error}");
    match error {
        CliError::Usage(_) => {
            eprintln!("run `offerpack help` for usage");
            ExitCode::from(2)
        }
        CliError::Failed(_) => ExitCode::FAILURE,
    }
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
