//! `offerpack executor`: run as a Mesos executor, as started by an agent with the `MESOS_*`
//! environment (see [`offerpack::executor`]).

use offerpack::executor::{run_from_env, ExecutorError, ExitReason};

use super::CliError;

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
