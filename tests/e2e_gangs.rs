//! End to end, gangs: the real driver against the real simulated master over loopback HTTP. A
//! gang that fits one agent goes out as one LAUNCH_GROUP (default executor) and every member
//! runs and finishes; a gang spread over agents goes out as one LAUNCH_GROUP per agent; every
//! group's executor holds its disk share, and the master takes it.
#![cfg(all(feature = "driver", feature = "master"))]

mod e2e_support;

use e2e_support::*;
use offerpack::driver::Encoding;
use offerpack::mesos::v1;
use offerpack::session::{gang_executor_id, CallKind, CommandSpec, TaskRequest, Update};
use offerpack::TaskSpec;

fn member(id: &str, gang: &str, cpus: f64) -> TaskRequest {
    let spec = TaskSpec::builder(id, gang).scalar("cpus", cpus).scalar("mem", 64.0).gang(gang).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("true"))
}

async fn gangs(encoding: Encoding) {
    let cluster = Cluster::start(master_config(3)).await;
    let config = framework_config("gangs", &[cluster.proxy.url()], encoding);
    let mut run = Run::start(config, &[], 1.0).await;
    let pack = ["p-0", "p-1", "p-2"];
    let spread = ["s-0", "s-1"];
    for id in pack {
        run.handle.submit(member(id, "pack", 1.0)).await.unwrap();
    }
    for id in spread {
        run.handle.submit(member(id, "spread", 3.0)).await.unwrap();
    }
    let all: Vec<String> = pack.iter().chain(&spread).map(|s| s.to_string()).collect();
    run.finish_all(&cluster.log, &all).await;

    let log = cluster.log.snapshot();
    let accepts = calls(&log, CallKind::Accept);
    assert!(accepts.iter().all(|(_, _, status, _)| *status == Some(202)), "{}", cluster.log.dump());
    let ops: Vec<&v1::offer::Operation> =
        accepts.iter().flat_map(|(_, c, _, _)| c.accept.as_ref().unwrap().operations.iter()).collect();
    let groups: Vec<&v1::offer::operation::LaunchGroup> = ops.iter().filter_map(|o| o.launch_group.as_ref()).collect();
    assert!(ops.iter().all(|o| o.launch.is_none()), "every member goes out in a task group\n{}", cluster.log.dump());
    let members = |g: &v1::offer::operation::LaunchGroup| -> Vec<String> {
        g.task_group.tasks.iter().map(|t| t.task_id.value.clone()).collect()
    };
    let agent = |g: &v1::offer::operation::LaunchGroup| g.task_group.tasks[0].agent_id.value.clone();
    let (packed, spread_groups): (Vec<_>, Vec<_>) =
        groups.iter().partition(|g| g.executor.executor_id.value == gang_executor_id("pack"));
    assert_eq!(packed.len(), 1, "one task group: the gang on one agent\n{}", cluster.log.dump());
    assert_eq!(members(packed[0]), pack);
    assert_eq!(packed[0].executor.r#type, Some(v1::executor_info::Type::Default as i32));
    assert!(packed[0].task_group.tasks.iter().all(|t| t.agent_id.value == agent(packed[0])));
    assert_eq!(spread_groups.len(), 2, "three cpus each: one task group per agent\n{}", cluster.log.dump());
    let mut launched: Vec<String> = spread_groups.iter().flat_map(|g| members(g)).collect();
    launched.sort();
    assert_eq!(launched, spread);
    let spread_agents: std::collections::BTreeSet<String> = spread_groups.iter().map(|g| agent(g)).collect();
    assert_eq!(spread_agents.len(), 2);
    for group in &groups {
        let disk = group.executor.resources.iter().find(|r| r.name == "disk").and_then(|r| r.scalar.as_ref());
        assert_eq!(disk.map(|d| d.value), Some(16.0), "the executor's disk share, accepted by the master");
    }
    for update in &run.history {
        assert!(!matches!(update, Update::Warning(_)), "unexpected {update:?}\n{}", cluster.log.dump());
    }
}

#[tokio::test]
async fn e2e_gangs_protobuf() {
    gangs(Encoding::Protobuf).await;
}

#[tokio::test]
async fn e2e_gangs_json() {
    gangs(Encoding::Json).await;
}
