//! End to end, gangs: the real driver against the real simulated master over loopback HTTP. A
//! gang that fits one agent goes out as one LAUNCH_GROUP (default executor) and every member
//! runs and finishes; a gang spread over agents goes out as LAUNCHes in each agent's ACCEPT.
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
    assert_eq!(groups.len(), 1, "one task group: the gang on one agent\n{}", cluster.log.dump());
    let ids: Vec<&str> = groups[0].task_group.tasks.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(ids, pack);
    assert_eq!(groups[0].executor.executor_id.value, gang_executor_id("pack"));
    assert_eq!(groups[0].executor.r#type, Some(v1::executor_info::Type::Default as i32));
    let agents: std::collections::BTreeSet<&str> =
        groups[0].task_group.tasks.iter().map(|t| t.agent_id.value.as_str()).collect();
    assert_eq!(agents.len(), 1);
    let mut launched: Vec<String> = accepts.iter().flat_map(|(_, c, _, _)| launched_tasks(c)).collect();
    launched.sort();
    assert_eq!(launched, spread, "the spread gang's members go out as plain LAUNCHes");
    let spread_agents: std::collections::BTreeSet<String> = ops
        .iter()
        .filter_map(|o| o.launch.as_ref())
        .flat_map(|l| &l.task_infos)
        .map(|t| t.agent_id.value.clone())
        .collect();
    assert_eq!(spread_agents.len(), 2, "three cpus each: one agent per member");
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
