//! What process a container runs and with which environment (the shared contract, and
//! MESOS-PROTOCOL-2 §1.5/§1.8 for executors). Pure.

use super::containers::{stout, Container, DEFAULT_PATH};
use super::core::{AgentCore, ProcessSpec};
use crate::mesos::v1::CommandInfo;

/// Recovery timeout given to checkpointing executors.
const RECOVERY_TIMEOUT: &str = "15mins";
/// Subscription backoff bound given to checkpointing executors.
const SUBSCRIPTION_BACKOFF_MAX: &str = "2secs";

/// `/bin/sh -c value` for shell commands, else `value` with `arguments[1..]` (`arguments[0]`
/// is argv0, as in Mesos).
pub(super) fn program_and_args(command: &CommandInfo) -> (String, Vec<String>) {
    let value = command.value.clone().unwrap_or_default();
    if command.shell() {
        ("/bin/sh".to_owned(), vec!["-c".to_owned(), value])
    } else {
        (value, command.arguments.iter().skip(1).cloned().collect())
    }
}

fn command_env(command: &CommandInfo, env: &mut Vec<(String, String)>) {
    for var in command.environment.iter().flat_map(|e| e.variables.iter()) {
        let value = var.value.clone().unwrap_or_default();
        env.retain(|(k, _)| *k != var.name);
        env.push((var.name.clone(), value));
    }
}

/// The process of a container: its command task, or its executor.
pub(crate) fn process_spec_for(core: &AgentCore, container: &str, c: &Container) -> Option<ProcessSpec> {
    let sandbox = c.sandbox.to_string_lossy().into_owned();
    let framework = c.framework_id().to_owned();
    let agent_id = core.agent_id().unwrap_or_default().to_owned();
    let endpoint = format!("{}:{}", core.config.hostname, core.config.port);
    let mut env = vec![
        ("PATH".to_owned(), DEFAULT_PATH.to_owned()),
        ("MESOS_FRAMEWORK_ID".to_owned(), framework),
        ("MESOS_EXECUTOR_ID".to_owned(), c.executor_id.clone()),
        ("MESOS_AGENT_ENDPOINT".to_owned(), endpoint.clone()),
        ("MESOS_SLAVE_PID".to_owned(), format!("slave(1)@{endpoint}")),
        ("MESOS_SLAVE_ID".to_owned(), agent_id),
        ("MESOS_DIRECTORY".to_owned(), sandbox.clone()),
        ("MESOS_SANDBOX".to_owned(), sandbox),
        ("MESOS_CONTAINER_ID".to_owned(), container.to_owned()),
    ];
    let command = match &c.executor {
        None => {
            let (task, entry) = c.tasks.iter().next()?;
            env.push(("MESOS_TASK_ID".to_owned(), task.clone()));
            entry.info.command.clone()?
        }
        Some(info) => {
            let checkpoint = c.framework.checkpoint.unwrap_or(false);
            let grace = info
                .shutdown_grace_period
                .as_ref()
                .and_then(|d| u64::try_from(d.nanoseconds).ok())
                .map_or(core.config.executor_shutdown_grace_period, std::time::Duration::from_nanos);
            env.push(("MESOS_CHECKPOINT".to_owned(), if checkpoint { "1" } else { "0" }.to_owned()));
            env.push(("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD".to_owned(), stout(grace)));
            env.push(("MESOS_HTTP_COMMAND_EXECUTOR".to_owned(), "0".to_owned()));
            if checkpoint {
                env.push(("MESOS_RECOVERY_TIMEOUT".to_owned(), RECOVERY_TIMEOUT.to_owned()));
                env.push(("MESOS_SUBSCRIPTION_BACKOFF_MAX".to_owned(), SUBSCRIPTION_BACKOFF_MAX.to_owned()));
            }
            match &info.command {
                Some(command) => command.clone(),
                // The default executor of a task group names no command: run our own.
                None => {
                    let program = core.config.default_executor.as_ref()?.to_string_lossy().into_owned();
                    let args = vec!["executor".to_owned()];
                    return Some(ProcessSpec { program, args, env, cwd: c.sandbox.clone() });
                }
            }
        }
    };
    command_env(&command, &mut env);
    let (program, args) = program_and_args(&command);
    Some(ProcessSpec { program, args, env, cwd: c.sandbox.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_and_args_shell_or_exec() {
        let shell = CommandInfo { value: Some("echo hi".into()), ..Default::default() };
        assert_eq!(program_and_args(&shell), ("/bin/sh".into(), vec!["-c".into(), "echo hi".into()]));
        let exec = CommandInfo {
            value: Some("/bin/echo".into()),
            shell: Some(false),
            arguments: vec!["echo".into(), "a".into(), "b".into()],
            ..Default::default()
        };
        assert_eq!(program_and_args(&exec), ("/bin/echo".into(), vec!["a".into(), "b".into()]));
    }
}
