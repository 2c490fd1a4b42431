//! Constructors for the scheduler `Call`s the session sends.

use super::operator::{CLAIM_LABEL, GROUP_LABEL};
use super::request::{container_info, Run, TaskRequest};
use super::SessionConfig;
use crate::mesos::v1::{self, scheduler::call, scheduler::Call};
use crate::model::{AgentId, OfferId, TaskId};

fn framework_id(id: &str) -> Option<v1::FrameworkId> {
    Some(v1::FrameworkId { value: id.to_owned() })
}

fn call(fw: &str, kind: call::Type) -> Call {
    Call { framework_id: framework_id(fw), r#type: Some(kind as i32), ..Default::default() }
}

fn filters(refuse_seconds: f64) -> Option<v1::Filters> {
    Some(v1::Filters { refuse_seconds: Some(refuse_seconds) })
}

fn offer_ids<'a>(ids: impl IntoIterator<Item = &'a OfferId>) -> Vec<v1::OfferId> {
    ids.into_iter().map(|id| v1::OfferId { value: id.as_str().to_owned() }).collect()
}

/// `SUBSCRIBE`; with a framework id both `Call.framework_id` and `framework_info.id` carry it.
pub(crate) fn subscribe(config: &SessionConfig, fw: Option<&str>) -> Call {
    let capability =
        |t: v1::framework_info::capability::Type| v1::framework_info::Capability { r#type: Some(t as i32) };
    let framework_info = v1::FrameworkInfo {
        user: config.user.clone(),
        name: config.name.clone(),
        id: fw.and_then(framework_id),
        failover_timeout: Some(config.failover_timeout.as_secs_f64()),
        checkpoint: Some(config.checkpoint),
        roles: config.roles.clone(),
        hostname: config.hostname.clone(),
        principal: config.principal.clone(),
        webui_url: config.webui_url.clone(),
        capabilities: std::iter::once(v1::framework_info::capability::Type::MultiRole)
            .chain(config.capabilities.iter().collect::<std::collections::BTreeSet<_>>().into_iter().map(|c| c.proto()))
            .map(capability)
            .collect(),
        ..Default::default()
    };
    Call {
        framework_id: fw.and_then(framework_id),
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe { framework_info, suppressed_roles: Vec::new() }),
        ..Default::default()
    }
}

/// `ACCEPT` of one agent's offers with one `LAUNCH` of these tasks (the golden vector's call).
#[cfg(test)]
pub(crate) fn accept(fw: &str, offers: &[OfferId], tasks: Vec<v1::TaskInfo>, refuse_seconds: f64) -> Call {
    accept_operations(fw, offers, vec![launch(tasks)], refuse_seconds)
}

/// A `LAUNCH` operation of these tasks.
pub(crate) fn launch(tasks: Vec<v1::TaskInfo>) -> v1::offer::Operation {
    v1::offer::Operation {
        r#type: Some(v1::offer::operation::Type::Launch as i32),
        launch: Some(v1::offer::operation::Launch { task_infos: tasks }),
        ..Default::default()
    }
}

/// A `LAUNCH_GROUP` operation: these tasks as one task group run by `executor`.
pub(crate) fn launch_group(executor: v1::ExecutorInfo, tasks: Vec<v1::TaskInfo>) -> v1::offer::Operation {
    v1::offer::Operation {
        r#type: Some(v1::offer::operation::Type::LaunchGroup as i32),
        launch_group: Some(v1::offer::operation::LaunchGroup { executor, task_group: v1::TaskGroupInfo { tasks } }),
        ..Default::default()
    }
}

/// `ACCEPT` of one agent's offers with these operations, in order.
pub(crate) fn accept_operations(
    fw: &str,
    offers: &[OfferId],
    operations: Vec<v1::offer::Operation>,
    refuse_seconds: f64,
) -> Call {
    Call {
        accept: Some(call::Accept { offer_ids: offer_ids(offers), operations, filters: filters(refuse_seconds) }),
        ..self::call(fw, call::Type::Accept)
    }
}

/// `DECLINE` of offers.
pub(crate) fn decline<'a>(fw: &str, offers: impl IntoIterator<Item = &'a OfferId>, refuse_seconds: f64) -> Call {
    Call {
        decline: Some(call::Decline { offer_ids: offer_ids(offers), filters: filters(refuse_seconds) }),
        ..call(fw, call::Type::Decline)
    }
}

/// `REVIVE` of every subscribed role.
pub(crate) fn revive(fw: &str) -> Call {
    call(fw, call::Type::Revive)
}

/// `SUPPRESS` of every subscribed role.
pub(crate) fn suppress(fw: &str) -> Call {
    call(fw, call::Type::Suppress)
}

/// `KILL`, naming the agent when known.
pub(crate) fn kill(fw: &str, task: &TaskId, agent: Option<&AgentId>) -> Call {
    Call {
        kill: Some(call::Kill {
            task_id: v1::TaskId { value: task.as_str().to_owned() },
            agent_id: agent.map(|a| v1::AgentId { value: a.as_str().to_owned() }),
            kill_policy: None,
        }),
        ..call(fw, call::Type::Kill)
    }
}

/// `ACKNOWLEDGE` of a status update, the uuid copied byte for byte.
pub(crate) fn acknowledge(fw: &str, agent: &str, task: &str, uuid: Vec<u8>) -> Call {
    Call {
        acknowledge: Some(call::Acknowledge {
            agent_id: v1::AgentId { value: agent.to_owned() },
            task_id: v1::TaskId { value: task.to_owned() },
            uuid,
        }),
        ..call(fw, call::Type::Acknowledge)
    }
}

/// `RECONCILE` of these tasks (explicit), or of all tasks when empty (implicit).
pub(crate) fn reconcile<'a>(fw: &str, tasks: impl IntoIterator<Item = (&'a TaskId, Option<&'a AgentId>)>) -> Call {
    let tasks = tasks
        .into_iter()
        .map(|(task, agent)| call::reconcile::Task {
            task_id: v1::TaskId { value: task.as_str().to_owned() },
            agent_id: agent.map(|a| v1::AgentId { value: a.as_str().to_owned() }),
        })
        .collect();
    Call { reconcile: Some(call::Reconcile { tasks }), ..call(fw, call::Type::Reconcile) }
}

/// `TEARDOWN`.
pub(crate) fn teardown(fw: &str) -> Call {
    call(fw, call::Type::Teardown)
}

/// The `TaskInfo` for a placed task under the Mesos id `task` (its own, or its retry's): its
/// carved resources, its command or executor, the ports it was given as `PORT0`, `PORT1`, … in
/// a command's environment.
pub(crate) fn task_info(
    fw: &str,
    request: &TaskRequest,
    task: &TaskId,
    agent: &AgentId,
    resources: Vec<v1::Resource>,
    ports: &[u16],
    executor: Option<v1::ExecutorInfo>,
) -> v1::TaskInfo {
    let env: Vec<(String, String)> =
        ports.iter().enumerate().map(|(i, p)| (format!("PORT{i}"), p.to_string())).collect();
    let (command, executor) = match &request.run {
        Run::Command(command) => (Some(command.to_proto(&env)), None),
        Run::Executor(spec) => (None, Some(executor.unwrap_or_else(|| spec.to_proto(fw, Vec::new())))),
    };
    v1::TaskInfo {
        name: request.name.clone(),
        task_id: v1::TaskId { value: task.as_str().to_owned() },
        agent_id: v1::AgentId { value: agent.as_str().to_owned() },
        resources,
        executor,
        command,
        container: request.container_image.as_deref().map(container_info),
        data: request.data.clone(),
        labels: Some(v1::Labels {
            labels: request
                .labels
                .iter()
                .map(|(key, value)| v1::Label { key: key.clone(), value: Some(value.clone()) })
                .chain(std::iter::once(v1::Label {
                    key: GROUP_LABEL.to_owned(),
                    value: Some(request.spec.group.as_str().to_owned()),
                }))
                .chain(
                    request
                        .spec
                        .hard
                        .iter()
                        .any(|c| c.claims_agent())
                        .then(|| v1::Label { key: CLAIM_LABEL.to_owned(), value: Some("true".to_owned()) }),
                )
                .collect(),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use crate::session::request::{CommandSpec, UriSpec};
    use crate::TaskSpec;

    fn hex(call: &Call) -> String {
        call.encode_to_vec().iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn subscribe_announces_capabilities_once_each_after_multi_role() {
        use crate::session::Capability;
        let mut config = SessionConfig::new("fw", "root");
        config.capabilities = vec![Capability::PartitionAware, Capability::GpuResources, Capability::PartitionAware];
        let info = subscribe(&config, None).subscribe.unwrap().framework_info;
        let types: Vec<Option<i32>> = info.capabilities.iter().map(|c| c.r#type).collect();
        assert_eq!(types, [Some(6), Some(3), Some(5)], "MULTI_ROLE, GPU_RESOURCES, PARTITION_AWARE");
    }

    #[test]
    fn calls_match_golden_vectors() {
        let mut config = SessionConfig::new("fenzo-rs", "root");
        config.failover_timeout = std::time::Duration::from_secs(604_800);
        assert_eq!(
            hex(&subscribe(&config, None)),
            "10011a240a220a04726f6f74120866656e7a6f2d727321000000000075224128015202080662012a"
        );
        assert_eq!(
            hex(&decline("fw-1", [&OfferId::from("o-1")], 5.0)),
            "0a060a0466772d3110042a120a050a036f2d311209090000000000001440"
        );
        assert_eq!(hex(&revive("fw-1")), "0a060a0466772d311005");
        assert_eq!(hex(&teardown("fw-1")), "0a060a0466772d311002");
        assert_eq!(hex(&reconcile("fw-1", [])), "0a060a0466772d3110094a00");
        let uuid: Vec<u8> = (0..16).collect();
        assert_eq!(
            hex(&acknowledge("fw-1", "a-1", "t-1", uuid)),
            "0a060a0466772d31100842200a050a03612d3112050a03742d311a10000102030405060708090a0b0c0d0e0f"
        );
    }

    #[test]
    fn accept_matches_golden_vector() {
        let spec = TaskSpec::builder("t-1", "g").build().unwrap();
        let command = CommandSpec::exec("./executor", Vec::<String>::new())
            .uri(UriSpec::new("http://10.0.0.5:8080/executor").executable());
        let request = TaskRequest::command(spec, command).name("t1");
        let cpus = v1::Resource {
            name: "cpus".into(),
            r#type: v1::value::Type::Scalar as i32,
            scalar: Some(v1::value::Scalar { value: 0.5 }),
            ..Default::default()
        };
        let info = task_info("fw-1", &request, &request.spec.id, &AgentId::from("a-1"), vec![cpus], &[], None);
        let call = accept("fw-1", &[OfferId::from("o-1")], vec![info], 1.0);
        assert_eq!(
            hex(&call),
            // The task carries its group as label `offerpack.group` (field 10: 52 16 0a 14 …).
            "0a060a0466772d311003229d010a050a036f2d3112880108011283010a80010a02743112050a03742d311a050a03\
             612d3122130a046370757310001a0909000000000000e03f3a3f0a230a1d687474703a2f2f31302e302e302e353a\
             383038302f6578656375746f72100118001a0a2e2f6578656375746f7230003a0a2e2f6578656375746f7252160a\
             140a0f6f666665727061636b2e67726f75701201671a0909000000000000f03f"
        );
    }

    #[test]
    fn task_info_runs_custom_executor_in_container_image() {
        use crate::session::request::ExecutorSpec;
        let spec = TaskSpec::builder("t-1", "g").build().unwrap();
        let command = CommandSpec::exec("./exec", ["--v"]).uri(UriSpec::new("http://h/exec").executable().cached());
        let request = TaskRequest::executor(spec, ExecutorSpec::new("ex-1", command)).container_image("alpine:3");
        let info = task_info("fw-1", &request, &request.spec.id, &AgentId::from("a-1"), Vec::new(), &[31000], None);
        assert!(info.command.is_none(), "exactly one of command and executor");
        let executor = info.executor.unwrap();
        assert_eq!(executor.executor_id.value, "ex-1");
        assert_eq!(executor.framework_id.unwrap().value, "fw-1");
        assert_eq!(executor.r#type, Some(v1::executor_info::Type::Custom as i32));
        let command = executor.command.unwrap();
        assert_eq!(command.uris[0].cache, Some(true));
        assert!(command.environment.is_none(), "port variables only go to command tasks");
        let image = info.container.unwrap().mesos.unwrap().image.unwrap();
        assert_eq!(image.docker.unwrap().name, "alpine:3");
    }

    #[test]
    fn subscribe_with_framework_id_sets_both_ids() {
        let call = subscribe(&SessionConfig::new("fw", "root"), Some("fw-9"));
        assert_eq!(call.framework_id.unwrap().value, "fw-9");
        assert_eq!(call.subscribe.unwrap().framework_info.id.unwrap().value, "fw-9");
    }
}
