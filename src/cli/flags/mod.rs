//! The command line, defined once with clap's derive: the parser, `offerpack <cmd> --help` and
//! the shell completions all come from these definitions.
//!
//! Each command's flags are one struct in a file of its own; their doc comments are the help.
//! A struct turns into the [`Command`] the commands run; the few rules that span flags and need
//! code live in that step, and their errors are clap errors of that command like the others.

mod agent;
mod artifacts;
mod demo;
mod gen;
mod master;
mod replay;
mod retry;
mod run;
mod solve;
pub mod values;

#[cfg(test)]
mod tests;

#[cfg(test)]
pub use gen::DEFAULT_SHAPE_COUNT;

use std::ffi::OsString;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

use super::args::Command;
use super::logs::LogFormat;

/// Shown under the command list of `offerpack --help`.
const AFTER_HELP: &str = "\
`offerpack <COMMAND> --help` (or `offerpack help <COMMAND>`) shows the flags of one command.

Environment:
  RUST_LOG  which logs to show (default warn), e.g. RUST_LOG=offerpack=debug for the driver's
            work, RUST_LOG=offerpack=trace for every offer";

/// Offer-matching scheduling engine for Apache Mesos frameworks.
#[derive(Debug, Parser)]
#[command(name = "offerpack", version, subcommand_required = true, arg_required_else_help = false, after_help = AFTER_HELP)]
pub struct Cli {
    /// How logs look on standard error; json writes one JSON object per line, the command's own
    /// standard-error lines included (anywhere on the command line)
    #[arg(long, global = true, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Text,
          overrides_with = "log_format", help_heading = "Global options")]
    pub log_format: LogFormat,
    /// The command.
    #[command(subcommand)]
    pub command: Sub,
}

/// The commands; each one's help is the doc comment of its flags' struct.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once, then turned into a `Command`")]
pub enum Sub {
    Solve(solve::SolveFlags),
    Gen(gen::GenFlags),
    Replay(replay::ReplayFlags),
    Master(master::MasterFlags),
    Demo(demo::DemoFlags),
    Run(run::RunFlags),
    Artifacts(artifacts::ArtifactsFlags),
    Agent(agent::AgentFlags),
    Executor(ExecutorFlags),
    Completions(CompletionsFlags),
}

/// Run as a Mesos executor, as started by an agent
///
/// Runs as a Mesos executor (v1 executor HTTP API), as started by an agent: reads
/// MESOS_AGENT_ENDPOINT, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID, MESOS_SANDBOX (or
/// MESOS_DIRECTORY), MESOS_CHECKPOINT, MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD and, when
/// checkpointing, MESOS_RECOVERY_TIMEOUT and MESOS_SUBSCRIPTION_BACKOFF_MAX. Runs each task's
/// command (or its data as a shell line) in a process group of its own in the sandbox until
/// SHUTDOWN (exit 0). Exits 1 when the agent is gone (at once without checkpointing, else after
/// the recovery timeout), 2 when the environment is missing or malformed.
#[derive(Debug, Args)]
pub struct ExecutorFlags {}

/// Write a shell completion script to standard output
///
/// Writes a completion script for SHELL to standard output, e.g.
/// `offerpack completions bash > ~/.local/share/bash-completion/completions/offerpack`.
#[derive(Debug, Args)]
pub struct CompletionsFlags {
    /// The shell to complete in
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// `--encoding`, of `demo` and `run`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Encoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

impl From<Encoding> for offerpack::driver::Encoding {
    fn from(encoding: Encoding) -> Self {
        match encoding {
            Encoding::Protobuf => offerpack::driver::Encoding::Protobuf,
            Encoding::Json => offerpack::driver::Encoding::Json,
        }
    }
}

impl Sub {
    /// The command to run; `Err` for a rule across flags that code checks.
    fn into_command(self) -> Result<Command, clap::Error> {
        let (name, converted) = match self {
            Sub::Solve(flags) => ("solve", Ok(flags.into_command())),
            Sub::Gen(flags) => ("gen", flags.into_command()),
            Sub::Replay(flags) => ("replay", Ok(flags.into_command())),
            Sub::Master(flags) => ("master", Ok(flags.into_command())),
            Sub::Demo(flags) => ("demo", flags.into_command()),
            Sub::Run(flags) => ("run", Ok(flags.into_command())),
            Sub::Artifacts(flags) => ("artifacts", Ok(flags.into_command())),
            Sub::Agent(flags) => ("agent", flags.into_command()),
            Sub::Executor(ExecutorFlags {}) => ("executor", Ok(Command::Executor)),
            Sub::Completions(flags) => ("completions", Ok(Command::Completions(flags.shell))),
        };
        converted.map_err(|message| invalid(name, message))
    }
}

/// The command line as clap sees it: the derived definitions, with every option of a command
/// taking a negative number as its value (`--mem -1`), so that the option's own check rejects
/// it by name instead of clap taking `-1` for an unknown flag.
pub fn command() -> clap::Command {
    let cli = Cli::command();
    let names: Vec<String> = cli.get_subcommands().map(|sub| sub.get_name().to_owned()).collect();
    names.iter().fold(cli, |cli, name| {
        cli.mut_subcommand(name, |sub| {
            let options: Vec<clap::Id> = sub
                .get_arguments()
                .filter(|arg| !arg.is_positional() && arg.get_action().takes_values())
                .map(|arg| arg.get_id().clone())
                .collect();
            options.into_iter().fold(sub, |sub, id| sub.mut_arg(id, |arg| arg.allow_negative_numbers(true)))
        })
    })
}

/// A usage error of the subcommand `name`, formatted as clap formats its own.
fn invalid(name: &str, message: String) -> clap::Error {
    let mut command = command();
    command.build();
    match command.find_subcommand_mut(name) {
        Some(sub) => sub.error(ErrorKind::ArgumentConflict, message),
        None => command.error(ErrorKind::ArgumentConflict, message),
    }
}

/// Parses a whole command line, the program's name first: the log format and the command, or
/// clap's error (which is also how `--help` and `--version` come back, as errors of kinds
/// `DisplayHelp` and `DisplayVersion`).
pub fn parse<I, T>(args: I) -> Result<(LogFormat, Command), clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut matches = command().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches_mut(&mut matches)?;
    Ok((cli.log_format, cli.command.into_command()?))
}

/// The log format a command line asks for even when it does not parse, so that its usage
/// error is written in that format (text unless `--log-format json` stands out clearly).
pub fn log_format_of<I, T>(args: I) -> LogFormat
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = command().ignore_errors(true).try_get_matches_from(args);
    matches.ok().and_then(|m| m.get_one::<LogFormat>("log_format").copied()).unwrap_or_default()
}

/// Writes the completion script for `shell` to `out`, from the same definitions as the parser.
pub fn completions(shell: Shell, out: &mut dyn std::io::Write) {
    clap_complete::generate(shell, &mut command(), "offerpack", out);
}
