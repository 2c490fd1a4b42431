//! End to end through the wire protocol: a framework (driver + session + engine) launching tasks
//! on the simulated master over loopback HTTP, in launches per second.
//!
//! Each run starts a fresh master with 1,000 agents (16 cpus, 64 GB) whose task steps take
//! 1 ms and whose tasks run 10 ms, subscribes a framework, then times from submitting 2,000
//! tasks (`gen` unique-host groups of 10, without the `network` resource simulated agents lack)
//! until every one has been RUNNING: placement, ACCEPT calls, and the STARTING/RUNNING updates
//! with their acknowledgements. Then it waits for every task to finish (counted, as a sanity
//! check printed at the end), tears the framework down and stops the master.
//!
//! Run: `cargo bench --bench e2e` (about a minute).

#[path = "support/updates_until.rs"]
mod updates_until;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use offerpack::driver::{Framework, FrameworkConfig, FrameworkHandle};
use offerpack::master::{AgentConfig, MasterConfig, SimMaster, TaskTiming};
use offerpack::model::TaskId;
use offerpack::session::{CommandSpec, StopMode, TaskRequest, TaskState, Update};
use offerpack::workload::{generate, ConstraintMix, GenOptions};
use updates_until::until;

const AGENTS: usize = 1_000;
const TASKS: usize = 2_000;

/// What one run measured.
struct Outcome {
    until_running: Duration,
    finished: usize,
}

fn master_config() -> MasterConfig {
    let mut config = MasterConfig::default().with_seed(42);
    config.agents = (0..AGENTS)
        .map(|i| {
            let zone = ["zone-a", "zone-b", "zone-c"][i % 3];
            AgentConfig::new(format!("agent-{:04}", i + 1), 16.0, 65_536.0).with_attribute("zone", zone)
        })
        .collect();
    let step = Duration::from_millis(1);
    config.tasks = TaskTiming { staging: step, starting: step, run: Some(Duration::from_millis(10)), jitter: 0.0 };
    config
}

fn requests() -> Vec<TaskRequest> {
    let options = GenOptions {
        agents: AGENTS as u32,
        tasks: TASKS as u32,
        seed: 42,
        constraints: ConstraintMix::UniqueHostPerGroup { group_size: 10 },
        ..GenOptions::default()
    };
    let workload = generate(&options).expect("the generator's options are valid");
    workload
        .tasks
        .into_iter()
        .map(|mut spec| {
            spec.resources.retain(|(name, _)| &**name != "network");
            TaskRequest::command(spec, CommandSpec::shell("sleep 0.01"))
        })
        .collect()
}

async fn one_run(requests: Vec<TaskRequest>) -> Outcome {
    let master = SimMaster::start(master_config()).await.expect("the master starts");
    let (handle, mut updates) =
        Framework::start(FrameworkConfig::new("e2e", "root", [master.url()])).expect("the framework starts");
    until(&mut updates, |u| matches!(u, Update::Subscribed { .. })).await;
    let start = Instant::now();
    submit(&handle, requests).await;
    let (mut running, mut finished) = (HashSet::<TaskId>::new(), 0usize);
    until(&mut updates, |u| {
        if let Update::Task(t) = u {
            if matches!(t.state, TaskState::Running | TaskState::Finished) {
                running.insert(t.task_id.clone());
            }
            finished += usize::from(t.state == TaskState::Finished);
        }
        running.len() == TASKS
    })
    .await;
    let until_running = start.elapsed();
    if finished < TASKS {
        until(&mut updates, |u| {
            if let Update::Task(t) = u {
                finished += usize::from(t.state == TaskState::Finished);
                assert!(!t.state.is_terminal() || t.state == TaskState::Finished, "{t:?}");
            }
            finished == TASKS
        })
        .await;
    }
    handle.stop(StopMode::Teardown);
    until(&mut updates, |u| matches!(u, Update::Stopped(_))).await;
    master.shutdown().await;
    Outcome { until_running, finished }
}

async fn submit(handle: &FrameworkHandle, requests: Vec<TaskRequest>) {
    for request in requests {
        handle.submit(request).await.expect("the task is accepted");
    }
}

fn e2e(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    let requests = requests();
    let (mut runs, mut finished) = (0usize, 0usize);
    let mut group = c.benchmark_group("e2e");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(TASKS as u64));
    group.bench_function(BenchmarkId::new("launch_until_running", format!("{AGENTS}_agents_{TASKS}_tasks")), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let outcome = runtime.block_on(one_run(requests.clone()));
                total += outcome.until_running;
                finished += outcome.finished;
                runs += 1;
            }
            total
        });
    });
    group.finish();
    println!("e2e sanity: {finished} of {} tasks finished over {runs} runs", runs * TASKS);
}

criterion_group!(benches, e2e);
criterion_main!(benches);
