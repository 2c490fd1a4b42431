//! End to end what-if: the real driver against the simulated master over loopback HTTP. A
//! dry-run framework holds the master's offers, `FrameworkHandle::what_if` plans tasks on them
//! (the same plan twice), and the master launches nothing: no ACCEPT is sent and its task
//! ledger stays empty.
#![cfg(all(feature = "driver", feature = "master"))]

mod e2e_support;

use e2e_support::*;
use offerpack::driver::Encoding;
use offerpack::session::{CallKind, Update};

#[tokio::test]
async fn e2e_what_if_plans_on_held_offers_and_launches_nothing() {
    let cluster = Cluster::start(master_config(2)).await;
    let mut config = framework_config("what-if", &[cluster.proxy.url()], Encoding::Protobuf);
    config.session.dry_run = true;
    let mut run = Run::start(config, &[], 1.0).await;
    run.until(&cluster.log, |u, _| matches!(u, Update::Pass(p) if p.stats.agents_considered > 0)).await;
    let tasks: Vec<_> = task_ids(3).iter().map(|id| task(id, 3.0)).collect();
    let plan = run.handle.what_if(tasks.clone()).await.expect("a plan");
    assert_eq!(plan.launches.len(), 2, "two agents of 4 cpus hold two tasks of 3: {plan:?}");
    assert_eq!(plan.unplaced.len(), 1);
    assert_eq!(run.handle.what_if(tasks).await.expect("a plan"), plan, "asking twice gives the same plan");
    assert!(cluster.log.with(|log| calls(log, CallKind::Accept)).is_empty(), "an ACCEPT was sent");
    assert!(cluster.master.drain_task_ledger().await.is_empty(), "the master launched a task");
    run.stop_failover(&cluster.log).await;
}
