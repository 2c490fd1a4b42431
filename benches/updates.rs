//! The status update path through the wire protocol, in updates acknowledged per second: a
//! framework (driver + session) acknowledging the STARTING, RUNNING and FINISHED updates of its
//! tasks to the simulated master over loopback HTTP, beside `e2e` (launches).
//!
//! Each run starts a fresh master with 1,000 agents whose task steps take 1 ms and whose tasks
//! run 1 ms, subscribes a framework, submits 2,000 tasks, and times from the moment the last
//! one is launched until every task's FINISHED update is in. The master sends a task's next
//! update only once the previous one is acknowledged, so by then the STARTING and RUNNING
//! acknowledgements of every task (two per task, the elements counted) have been processed;
//! the FINISHED ones still under way are not waited for (the TEARDOWN that follows overtakes
//! them). Parameterised by how many calls the driver keeps on the wire at once (1 = one at a
//! time, as before concurrent calls).
//!
//! Run: `cargo bench --bench updates` (about a minute and a half).

#[path = "support/updates_until.rs"]
mod updates_until;

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use offerpack::driver::{Framework, FrameworkConfig};
use offerpack::master::{AgentConfig, MasterConfig, SimMaster, TaskTiming};
use offerpack::session::{CommandSpec, StopMode, StopReason, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;
use updates_until::until;

const AGENTS: usize = 1_000;
const TASKS: usize = 2_000;
/// Acknowledgements per task certainly processed once its FINISHED update is in: STARTING's
/// and RUNNING's.
const ACKED_PER_TASK: u64 = 2;

fn master_config() -> MasterConfig {
    let mut config = MasterConfig::default().with_seed(11);
    config.agents = (0..AGENTS).map(|i| AgentConfig::new(format!("agent-{:04}", i + 1), 16.0, 65_536.0)).collect();
    let step = Duration::from_millis(1);
    config.tasks = TaskTiming { staging: step, starting: step, run: Some(step), jitter: 0.0 };
    config
}

fn requests() -> Vec<TaskRequest> {
    (0..TASKS)
        .map(|i| {
            let spec = TaskSpec::builder(format!("task-{i:05}"), "bench")
                .scalar("cpus", 1.0)
                .scalar("mem", 1024.0)
                .build()
                .expect("a valid task");
            TaskRequest::command(spec, CommandSpec::shell("true"))
        })
        .collect()
}

/// One run: the time from the last launch until every task's FINISHED update is in.
async fn one_run(requests: Vec<TaskRequest>, in_flight: usize) -> Duration {
    let master = SimMaster::start(master_config()).await.expect("the master starts");
    let mut config = FrameworkConfig::new("updates", "root", [master.url()]);
    config.calls_in_flight = in_flight;
    let (handle, mut updates) = Framework::start(config).expect("the framework starts");
    until(&mut updates, |u| matches!(u, Update::Subscribed { .. })).await;
    for request in requests {
        handle.submit(request).await.expect("the task is accepted");
    }
    let (mut launched, mut finished) = (0usize, 0usize);
    let mut start = Instant::now();
    until(&mut updates, |u| {
        if let Update::Task(t) = u {
            match t.state {
                TaskState::Launched => {
                    launched += 1;
                    if launched == TASKS {
                        start = Instant::now();
                    }
                }
                TaskState::Finished => finished += 1,
                state => assert!(!state.is_terminal(), "{t:?}"),
            }
        }
        finished == TASKS
    })
    .await;
    let elapsed = start.elapsed();
    handle.stop(StopMode::Teardown);
    until(&mut updates, |u| {
        if let Update::Stopped(reason) = u {
            assert_eq!(*reason, StopReason::Requested(StopMode::Teardown), "the teardown was answered");
            return true;
        }
        false
    })
    .await;
    master.shutdown().await;
    elapsed
}

fn updates(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let requests = requests();
    let mut group = c.benchmark_group("updates");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(TASKS as u64 * ACKED_PER_TASK));
    for in_flight in [1, 8] {
        let id = BenchmarkId::new("acknowledged", format!("{TASKS}_tasks_{in_flight}_in_flight"));
        group.bench_function(id, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| runtime.block_on(one_run(requests.clone(), in_flight))).sum());
        });
    }
    group.finish();
}

criterion_group!(benches, updates);
criterion_main!(benches);
