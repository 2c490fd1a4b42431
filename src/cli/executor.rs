//! `offerpack executor`: run as a Mesos executor, as started by an agent with the `MESOS_*`
//! environment (see [`offerpack::executor`]).

use lexopt::{Arg, Parser};
use offerpack::executor::{run_from_env, ExecutorError, ExitReason};

use super::args::Command;
use super::CliError;

/// Parses the (absent) flags of `executor`.
pub fn parse(mut p: Parser) -> Result<Command, lexopt::Error> {
    match p.next()? {
        None => Ok(Command::Executor),
        Some(Arg::Short('h') | Arg::Long("help")) => Ok(Command::Help),
        Some(other) => Err(other.unexpected()),
    }
}

/// Runs the executor until SHUTDOWN (exit 0) or until the agent is gone (exit 1); a missing or
/// malformed environment is a usage error (exit 2).
pub fn run() -> Result<(), CliError> {
    match run_from_env() {
        Ok(ExitReason::Shutdown) => Ok(()),
        Ok(reason) => Err(CliError::Failed(format!("executor exits: {}", describe(reason)))),
        Err(ExecutorError::Env(e)) => Err(CliError::Usage(e.to_string())),
        Err(e) => Err(CliError::Failed(e.to_string())),
    }
}

fn describe(reason: ExitReason) -> &'static str {
    match reason {
        ExitReason::AgentGone => "lost the agent and checkpointing is off",
        ExitReason::RecoveryTimedOut => "could not reach the agent again within MESOS_RECOVERY_TIMEOUT",
        _ => "stopped",
    }
}
