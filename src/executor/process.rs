//! What process a task runs (the multinode contract): its `CommandInfo`, else its `data` as a
//! shell command line; pure, so the shell only carries the answer out.

use std::path::{Path, PathBuf};

use crate::mesos::v1::{environment, CommandInfo, TaskInfo};

/// The shell every shell command runs under (`/bin/sh -c VALUE`).
pub const SHELL: &str = "/bin/sh";

/// A process to start for a task, in a process group of its own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The program to execute (a path, or a name looked up in `PATH`).
    pub program: String,
    /// The name the program sees as `argv[0]`, when it differs from `program`.
    pub arg0: Option<String>,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
    /// Variables set on top of the executor's own environment, in order (later wins).
    pub env: Vec<(String, String)>,
    /// The working directory (the sandbox).
    pub cwd: PathBuf,
}

/// The process that runs `task` in `sandbox`, or why there is none (the message of the
/// task's `TASK_FAILED`).
pub fn process_spec(task: &TaskInfo, sandbox: &Path) -> Result<ProcessSpec, String> {
    let mut spec = match (&task.command, &task.data) {
        (Some(command), _) => command_spec(command)?,
        (None, Some(data)) => {
            let line =
                std::str::from_utf8(data).map_err(|_| "the task's data is not a UTF-8 command line".to_owned())?;
            if line.trim().is_empty() {
                return Err("the task has no command (its data is empty)".to_owned());
            }
            shell_spec(line)
        }
        (None, None) => return Err("the task has no command (neither TaskInfo.command nor TaskInfo.data)".to_owned()),
    };
    if let Some(environment) = task.command.as_ref().and_then(|c| c.environment.as_ref()) {
        spec.env.extend(environment.variables.iter().filter_map(plain_variable));
    }
    spec.env.push(("MESOS_TASK_ID".to_owned(), task.task_id.value.clone()));
    spec.cwd = sandbox.to_path_buf();
    Ok(spec)
}

/// A `CommandInfo`: a shell line unless `shell` is false, then `value` exec'd with `arguments`
/// (whose first element is `argv[0]`, as Mesos passes it).
fn command_spec(command: &CommandInfo) -> Result<ProcessSpec, String> {
    let value = command.value.as_deref().filter(|v| !v.is_empty());
    let value = value.ok_or_else(|| "the task's CommandInfo has no value".to_owned())?;
    if command.shell() {
        return Ok(shell_spec(value));
    }
    let (arg0, args) = match command.arguments.split_first() {
        Some((first, rest)) => (Some(first.clone()), rest.to_vec()),
        None => (None, Vec::new()),
    };
    Ok(ProcessSpec { program: value.to_owned(), arg0, args, env: Vec::new(), cwd: PathBuf::new() })
}

fn shell_spec(line: &str) -> ProcessSpec {
    ProcessSpec {
        program: SHELL.to_owned(),
        arg0: Some("sh".to_owned()),
        args: vec!["-c".to_owned(), line.to_owned()],
        env: Vec::new(),
        cwd: PathBuf::new(),
    }
}

/// A `VALUE` variable (or one without a type) as a pair; secrets cannot be resolved here.
fn plain_variable(variable: &environment::Variable) -> Option<(String, String)> {
    let plain = variable.r#type.is_none_or(|t| t == environment::variable::Type::Value as i32);
    let value = variable.value.as_ref().filter(|_| plain)?;
    Some((variable.name.clone(), value.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::v1::{Environment, TaskId};

    fn task(command: Option<CommandInfo>, data: Option<&[u8]>) -> TaskInfo {
        TaskInfo {
            task_id: TaskId { value: "t-1".into() },
            command,
            data: data.map(<[u8]>::to_vec),
            ..Default::default()
        }
    }

    #[test]
    fn process_spec_shell_command_runs_under_sh_with_env() {
        let variable = |name: &str, value: &str, kind: Option<i32>| environment::Variable {
            name: name.into(),
            value: Some(value.into()),
            r#type: kind,
        };
        let command = CommandInfo {
            value: Some("exit 3".into()),
            environment: Some(Environment {
                variables: vec![variable("A", "1", None), variable("S", "x", Some(2)), variable("B", "2", Some(1))],
            }),
            ..Default::default()
        };
        let spec = process_spec(&task(Some(command), None), Path::new("/sb")).unwrap();
        assert_eq!(spec.program, "/bin/sh");
        assert_eq!(spec.args, ["-c", "exit 3"]);
        assert_eq!(spec.cwd, Path::new("/sb"));
        let env: Vec<(&str, &str)> = spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(env, [("A", "1"), ("B", "2"), ("MESOS_TASK_ID", "t-1")]);
    }

    #[test]
    fn process_spec_exec_command_passes_arguments_as_argv() {
        let command = CommandInfo {
            value: Some("/bin/echo".into()),
            shell: Some(false),
            arguments: vec!["echo".into(), "a".into(), "b".into()],
            ..Default::default()
        };
        let spec = process_spec(&task(Some(command), None), Path::new("/sb")).unwrap();
        assert_eq!((spec.program.as_str(), spec.arg0.as_deref()), ("/bin/echo", Some("echo")));
        assert_eq!(spec.args, ["a", "b"]);
    }

    #[test]
    fn process_spec_data_is_a_shell_line_and_nothing_is_an_error() {
        let spec = process_spec(&task(None, Some(b"sleep 1")), Path::new("/sb")).unwrap();
        assert_eq!(spec.args, ["-c", "sleep 1"]);
        assert!(process_spec(&task(None, None), Path::new("/sb")).unwrap_err().contains("no command"));
        assert!(process_spec(&task(None, Some(&[0xff, 0xfe])), Path::new("/sb")).unwrap_err().contains("UTF-8"));
        let empty = CommandInfo::default();
        assert!(process_spec(&task(Some(empty), None), Path::new("/sb")).unwrap_err().contains("no value"));
    }
}
