//! What a framework asks the session to run: the engine's [`TaskSpec`] plus what Mesos needs to
//! start it (a command or a custom executor, files to fetch, an optional container image).

use super::retry::RetryPolicy;
use crate::mesos::v1;
use crate::queue::QueuePlace;
use crate::spec::TaskSpec;

/// A task to place and launch.
///
/// ```
/// use offerpack::session::{CommandSpec, TaskRequest, UriSpec};
/// use offerpack::TaskSpec;
///
/// let spec = TaskSpec::builder("sleep-1", "sleepers").scalar("cpus", 0.1).scalar("mem", 32.0).build().unwrap();
/// let request = TaskRequest::command(spec, CommandSpec::shell("sleep 5").env("MODE", "demo"))
///     .name("sleep one");
/// assert_eq!(request.name, "sleep one");
/// let with_binary = CommandSpec::exec("./worker", ["--fast"]).uri(UriSpec::new("http://repo/worker").executable());
/// assert_eq!(with_binary.arguments, ["./worker", "--fast"]);
/// ```
#[derive(Clone, Debug)]
pub struct TaskRequest {
    /// Placement: id, group, resources, ports, roles, constraints, priority.
    pub spec: TaskSpec,
    /// The task name Mesos shows (`TaskInfo.name`); defaults to the task id.
    pub name: String,
    /// How to run it.
    pub run: Run,
    /// A Docker image to run the task in with the Mesos containerizer.
    pub container_image: Option<String>,
    /// Key/value labels (`TaskInfo.labels`), in order.
    pub labels: Vec<(String, String)>,
    /// How this task is retried; `None` follows its bucket's policy in
    /// [`SessionConfig::bucket_retry`](super::SessionConfig::bucket_retry), else
    /// [`SessionConfig::retry`](super::SessionConfig::retry).
    pub retry: Option<RetryPolicy>,
    /// Its tier and bucket in the queue (with [`SessionConfig::queue`](super::SessionConfig::queue));
    /// tier 0, bucket `default` unless set.
    pub queue: QueuePlace,
    /// Opaque data for the executor (`TaskInfo.data`); `offerpack executor` runs it as a shell
    /// command line when the task has no command.
    pub data: Option<Vec<u8>>,
    /// Where an earlier scheduler of the same framework left the task; `None` for a new task.
    pub resume: Option<Resume>,
    /// Tasks that must finish before this one is placed (see [`Session::submit`](super::Session::submit));
    /// each must be submitted before it.
    pub after: Vec<crate::model::TaskId>,
}

/// Where an earlier scheduler of the same framework left a task, for a successor that submits
/// it again (high availability, see [`TaskRequest::resume`]): the attempts already spent, and
/// what is left of a retry backoff. Such a task may have been launched by the earlier
/// scheduler under its current Mesos id; the session then adopts it where the master reports
/// it (running, or ended) instead of launching it again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// Attempts that ended under earlier schedulers; the current attempt is the next one, and
    /// runs under the Mesos id `<id>.retry-<attempts_ended>` when this is above zero.
    pub attempts_ended: u32,
    /// How long after submission the current attempt may be placed (what is left of its
    /// retry backoff; zero: at once).
    pub ready_in: std::time::Duration,
}

impl TaskRequest {
    /// A task run by the built-in command executor.
    ///
    /// A task of a gang ([`TaskSpec::gang`]) without an executor of its own is given the
    /// gang's default executor as an [`ExecutorDemand`](crate::ExecutorDemand)
    /// ([`gang_executor_id`](super::gang_executor_id),
    /// [`GANG_EXECUTOR_RESOURCES`](super::GANG_EXECUTOR_RESOURCES)): the engine reserves room
    /// for it where the gang lands, so a gang on one agent can launch as one task group.
    pub fn command(mut spec: TaskSpec, command: CommandSpec) -> TaskRequest {
        if let (Some(gang), None) = (&spec.gang, &spec.executor) {
            let resources = super::GANG_EXECUTOR_RESOURCES
                .iter()
                .filter_map(|&(name, amount)| {
                    Some((crate::resources::shared_name(name), crate::Quantity::new(amount).ok()?))
                })
                .collect();
            spec.executor = Some(crate::spec::ExecutorDemand { id: super::gang_executor_id(gang).into(), resources });
        }
        let name = spec.id.as_str().to_owned();
        TaskRequest {
            spec,
            name,
            run: Run::Command(command),
            container_image: None,
            labels: Vec::new(),
            retry: None,
            queue: QueuePlace::default(),
            data: None,
            resume: None,
            after: Vec::new(),
        }
    }

    /// A task run by a custom executor. Unless `spec` names an executor already, the engine
    /// places it as a task of `executor` (its resources charged once per agent).
    pub fn executor(mut spec: TaskSpec, executor: ExecutorSpec) -> TaskRequest {
        if spec.executor.is_none() {
            let id = executor.executor_id.as_str().into();
            spec.executor = Some(crate::spec::ExecutorDemand { id, resources: executor.resources.clone() });
        }
        let mut request = TaskRequest::command(spec, CommandSpec::shell(""));
        request.run = Run::Executor(executor);
        request
    }

    /// Puts the task in `bucket` of `tier` (used with [`SessionConfig::queue`](super::SessionConfig::queue),
    /// and for [`SessionConfig::bucket_retry`](super::SessionConfig::bucket_retry)).
    pub fn queue(mut self, tier: u32, bucket: &str) -> TaskRequest {
        self.queue = QueuePlace { tier, bucket: bucket.into() };
        self
    }

    /// Sets the data handed to the executor (`TaskInfo.data`).
    pub fn data(mut self, data: impl Into<Vec<u8>>) -> TaskRequest {
        self.data = Some(data.into());
        self
    }

    /// Places the task only after these tasks finished (see [`TaskRequest::after`]).
    pub fn after(mut self, tasks: impl IntoIterator<Item = impl Into<crate::model::TaskId>>) -> TaskRequest {
        self.after = tasks.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the task name.
    pub fn name(mut self, name: impl Into<String>) -> TaskRequest {
        self.name = name.into();
        self
    }

    /// Adds a label (`TaskInfo.labels`).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> TaskRequest {
        self.labels.push((key.into(), value.into()));
        self
    }

    /// Retries this task by `policy` instead of the session's default (checked by
    /// [`Session::submit`](super::Session::submit)).
    pub fn retry(mut self, policy: RetryPolicy) -> TaskRequest {
        self.retry = Some(policy);
        self
    }

    /// Submits the task as a successor of an earlier scheduler left it (see [`Resume`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use offerpack::session::{CommandSpec, Resume, TaskRequest};
    /// use offerpack::TaskSpec;
    /// let spec = TaskSpec::builder("t1", "g").scalar("cpus", 0.1).build().unwrap();
    /// let request = TaskRequest::command(spec, CommandSpec::shell("true"))
    ///     .resume(Resume { attempts_ended: 1, ready_in: Duration::from_secs(2) });
    /// assert_eq!(request.resume.unwrap().attempts_ended, 1);
    /// ```
    pub fn resume(mut self, resume: Resume) -> TaskRequest {
        self.resume = Some(resume);
        self
    }

    /// Runs the task in a Docker image (Mesos containerizer).
    pub fn container_image(mut self, image: impl Into<String>) -> TaskRequest {
        self.container_image = Some(image.into());
        self
    }
}

/// How a task is run.
#[derive(Clone, Debug, PartialEq)]
pub enum Run {
    /// The built-in command executor runs this command (`TaskInfo.command`).
    Command(CommandSpec),
    /// A custom executor runs the task (`TaskInfo.executor`).
    Executor(ExecutorSpec),
}

/// A command and what it needs (`CommandInfo`).
#[derive(Clone, Debug, PartialEq)]
pub struct CommandSpec {
    /// The command line (shell) or program path (exec).
    pub value: String,
    /// Run `value` with `/bin/sh -c` (true) or exec it with `arguments` (false).
    pub shell: bool,
    /// The argument vector for exec, `argv[0]` first.
    pub arguments: Vec<String>,
    /// Files the fetcher downloads into the sandbox first.
    pub uris: Vec<UriSpec>,
    /// Environment variables.
    pub environment: Vec<(String, String)>,
    /// Run as this user instead of the framework's.
    pub user: Option<String>,
}

impl CommandSpec {
    /// A shell command line.
    pub fn shell(command: impl Into<String>) -> CommandSpec {
        CommandSpec {
            value: command.into(),
            shell: true,
            arguments: Vec::new(),
            uris: Vec::new(),
            environment: Vec::new(),
            user: None,
        }
    }

    /// A program run without a shell; `program` is also `argv[0]`.
    pub fn exec(program: impl Into<String>, args: impl IntoIterator<Item = impl Into<String>>) -> CommandSpec {
        let program = program.into();
        let mut arguments = vec![program.clone()];
        arguments.extend(args.into_iter().map(Into::into));
        CommandSpec { value: program, shell: false, arguments, ..CommandSpec::shell("") }
    }

    /// Adds a file to fetch.
    pub fn uri(mut self, uri: UriSpec) -> CommandSpec {
        self.uris.push(uri);
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> CommandSpec {
        self.environment.push((name.into(), value.into()));
        self
    }

    /// The proto `CommandInfo`, with `extra_env` appended to the environment.
    pub(crate) fn to_proto(&self, extra_env: &[(String, String)]) -> v1::CommandInfo {
        let variables: Vec<v1::environment::Variable> = self
            .environment
            .iter()
            .chain(extra_env)
            .map(|(name, value)| v1::environment::Variable {
                name: name.clone(),
                r#type: Some(v1::environment::variable::Type::Value as i32),
                value: Some(value.clone()),
            })
            .collect();
        v1::CommandInfo {
            uris: self.uris.iter().map(UriSpec::to_proto).collect(),
            environment: (!variables.is_empty()).then_some(v1::Environment { variables }),
            shell: Some(self.shell),
            value: Some(self.value.clone()),
            arguments: self.arguments.clone(),
            user: self.user.clone(),
        }
    }
}

/// A file for the Mesos fetcher (`CommandInfo.URI`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UriSpec {
    /// Where to download from (http, https, ftp, hdfs, s3 or a local path on the agent).
    pub value: String,
    /// Make the file executable (then `extract` is ignored).
    pub executable: bool,
    /// Unpack recognised archives (Mesos' default: true).
    pub extract: bool,
    /// Use the agent's fetcher cache.
    pub cache: bool,
    /// Name of the file in the sandbox instead of the URI's basename.
    pub output_file: Option<String>,
}

impl UriSpec {
    /// A URI with Mesos' defaults (extract archives, not executable, not cached).
    pub fn new(value: impl Into<String>) -> UriSpec {
        UriSpec { value: value.into(), executable: false, extract: true, cache: false, output_file: None }
    }

    /// Marks the file executable.
    pub fn executable(mut self) -> UriSpec {
        self.executable = true;
        self.extract = false;
        self
    }

    /// Does not unpack the file.
    pub fn no_extract(mut self) -> UriSpec {
        self.extract = false;
        self
    }

    /// Uses the fetcher cache.
    pub fn cached(mut self) -> UriSpec {
        self.cache = true;
        self
    }

    /// Saves the file under this name in the sandbox.
    pub fn output_file(mut self, name: impl Into<String>) -> UriSpec {
        self.output_file = Some(name.into());
        self
    }

    fn to_proto(&self) -> v1::command_info::Uri {
        v1::command_info::Uri {
            value: self.value.clone(),
            executable: Some(self.executable),
            extract: Some(self.extract),
            cache: self.cache.then_some(true),
            output_file: self.output_file.clone(),
        }
    }
}

/// A custom executor (`ExecutorInfo`): its id, name and the command that starts it (usually
/// with a URI that fetches the executor binary).
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutorSpec {
    /// The executor id; tasks with the same id on one agent share the executor.
    pub executor_id: String,
    /// A name the master shows.
    pub name: Option<String>,
    /// The command that starts the executor.
    pub command: CommandSpec,
    /// Scalar resources the executor process holds on its agent, sorted by name (see
    /// [`ExecutorSpec::resource`]); charged once per agent, with the first task started there.
    pub resources: Vec<(std::sync::Arc<str>, crate::resources::Quantity)>,
    /// Opaque data for the executor (`ExecutorInfo.data`).
    pub data: Option<Vec<u8>>,
}

impl ExecutorSpec {
    /// An executor started by `command`.
    pub fn new(executor_id: impl Into<String>, command: CommandSpec) -> ExecutorSpec {
        ExecutorSpec { executor_id: executor_id.into(), name: None, command, resources: Vec::new(), data: None }
    }

    /// Sets what the executor process holds of one scalar resource (replacing an earlier
    /// amount of it; zero removes it).
    ///
    /// ```
    /// use offerpack::session::{CommandSpec, ExecutorSpec};
    /// use offerpack::Quantity;
    /// let executor = ExecutorSpec::new("ex", CommandSpec::shell("./executor"))
    ///     .resource("cpus", Quantity::new(0.1).unwrap())
    ///     .resource("mem", Quantity::new(32.0).unwrap());
    /// assert_eq!(executor.resources.len(), 2);
    /// ```
    pub fn resource(mut self, name: &str, amount: crate::resources::Quantity) -> ExecutorSpec {
        match self.resources.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(i) if amount.is_zero() => {
                self.resources.remove(i);
            }
            Ok(i) => self.resources[i].1 = amount,
            Err(_) if amount.is_zero() => {}
            Err(i) => self.resources.insert(i, (crate::resources::shared_name(name), amount)),
        }
        self
    }

    /// The proto `ExecutorInfo` of this framework, holding `resources` (carved from the offers
    /// of the launch that starts it).
    pub(crate) fn to_proto(&self, framework_id: &str, resources: Vec<v1::Resource>) -> v1::ExecutorInfo {
        v1::ExecutorInfo {
            resources,
            data: self.data.clone(),
            r#type: Some(v1::executor_info::Type::Custom as i32),
            executor_id: v1::ExecutorId { value: self.executor_id.clone() },
            framework_id: Some(v1::FrameworkId { value: framework_id.to_owned() }),
            command: Some(self.command.to_proto(&[])),
            name: self.name.clone(),
            ..Default::default()
        }
    }
}

/// `ContainerInfo` for a Docker image run by the Mesos containerizer.
pub(crate) fn container_info(image: &str) -> v1::ContainerInfo {
    v1::ContainerInfo {
        r#type: v1::container_info::Type::Mesos as i32,
        mesos: Some(v1::container_info::MesosInfo {
            image: Some(v1::Image {
                r#type: v1::image::Type::Docker as i32,
                docker: Some(v1::image::Docker { name: image.to_owned() }),
                cached: None,
            }),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_spec_exec_sets_argv_and_explicit_defaults() {
        let cmd = CommandSpec::exec("./executor", Vec::<String>::new())
            .uri(UriSpec::new("http://10.0.0.5:8080/executor").executable());
        let proto = cmd.to_proto(&[]);
        assert_eq!(proto.shell, Some(false));
        assert_eq!(proto.arguments, ["./executor"]);
        assert_eq!(proto.uris[0].executable, Some(true));
        assert_eq!(proto.uris[0].extract, Some(false));
        assert_eq!(proto.uris[0].cache, None);
        assert!(proto.environment.is_none());
    }

    #[test]
    fn command_spec_environment_includes_extra_variables() {
        let cmd = CommandSpec::shell("echo $PORT0").env("A", "1");
        let proto = cmd.to_proto(&[("PORT0".into(), "31000".into())]);
        let names: Vec<_> = proto.environment.unwrap().variables.into_iter().map(|v| (v.name, v.value)).collect();
        assert_eq!(names, [("A".into(), Some("1".into())), ("PORT0".into(), Some("31000".into()))]);
        assert_eq!(proto.shell, Some(true));
    }
}
