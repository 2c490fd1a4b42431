//! The driver sends calls concurrently yet keeps each task's acknowledgements in order: the real
//! driver (reqwest) against the simulated master on loopback, through a transport that watches
//! every ACKNOWLEDGE on its way. The master sends every status update twice (same uuid), so the
//! session queues two acknowledgements of one task back to back: sent side by side they would
//! both be on the wire at once.
//!
//! The first acknowledgements are held until [`GATE`] of them are on the wire together: a driver
//! sending one call at a time never gets there and the run times out instead of finishing.
#![cfg(all(feature = "driver", feature = "master"))]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use offerpack::driver::{
    BoxFuture, Framework, FrameworkConfig, HttpRequest, HttpResponse, HttpTransport, Transport, TransportError,
};
use offerpack::master::{AgentConfig, MasterConfig, SimMaster, TaskTiming};
use offerpack::mesos::v1::scheduler::{call, Call};
use offerpack::session::{CommandSpec, StopMode, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;
use prost::Message;
use tokio::sync::watch;

/// Calls the driver may have on the wire at once.
const LIMIT: usize = 8;
/// Acknowledgements held until this many are on the wire together.
const GATE: usize = LIMIT;
const TASKS: usize = 40;
/// Bound on the whole run (it takes well under a second when the driver behaves).
const LIMIT_RUN: Duration = Duration::from_secs(60);

/// What the watching transport saw.
#[derive(Default)]
struct Seen {
    in_flight: usize,
    most_in_flight: usize,
    per_task: HashMap<String, usize>,
    most_per_task: usize,
    /// Every acknowledged uuid per task, in the order the requests were made.
    acks: HashMap<String, Vec<Vec<u8>>>,
}

/// HTTP as usual, watching acknowledgements and holding the first ones at the gate.
struct Watching {
    inner: HttpTransport,
    seen: Arc<Mutex<Seen>>,
    posted: watch::Sender<usize>,
}

impl Transport for Watching {
    fn post(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, TransportError>> {
        let ack = Call::decode(request.body.clone())
            .ok()
            .filter(|c| c.r#type == Some(call::Type::Acknowledge as i32))
            .and_then(|c| c.acknowledge)
            .map(|a| (a.task_id.value, a.uuid));
        let Some((task, uuid)) = ack else { return self.inner.post(request) };
        {
            let mut seen = self.seen.lock().unwrap();
            seen.in_flight += 1;
            seen.most_in_flight = seen.most_in_flight.max(seen.in_flight);
            let count = seen.per_task.entry(task.clone()).or_default();
            *count += 1;
            let count = *count;
            seen.most_per_task = seen.most_per_task.max(count);
            seen.acks.entry(task.clone()).or_default().push(uuid);
        }
        self.posted.send_modify(|n| *n += 1);
        let mut gate = self.posted.subscribe();
        let answer = self.inner.post(request);
        let seen = Arc::clone(&self.seen);
        Box::pin(async move {
            let _ = gate.wait_for(|n| *n >= GATE).await;
            let result = answer.await;
            let mut seen = seen.lock().unwrap();
            seen.in_flight -= 1;
            if let Some(count) = seen.per_task.get_mut(&task) {
                *count -= 1;
            }
            result
        })
    }
}

/// How many different uuids `acks` holds.
fn distinct(acks: &[Vec<u8>]) -> usize {
    let mut seen: Vec<&Vec<u8>> = Vec::new();
    for uuid in acks {
        if !seen.contains(&uuid) {
            seen.push(uuid);
        }
    }
    seen.len()
}

fn master_config() -> MasterConfig {
    let mut config = MasterConfig::default().with_seed(7);
    config.agents = (0..TASKS).map(|i| AgentConfig::new(format!("agent-{i}"), 4.0, 4096.0)).collect();
    let step = Duration::from_millis(1);
    config.tasks = TaskTiming { staging: step, starting: step, run: Some(Duration::from_millis(5)), jitter: 0.0 };
    config.faults.duplicate_updates = true;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn driver_acks_concurrently_in_task_order() {
    let master = SimMaster::start(master_config()).await.expect("the master starts");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (posted, mut posted_rx) = watch::channel(0);
    let transport = Watching {
        inner: HttpTransport::new(Duration::from_secs(5)).expect("a client"),
        seen: Arc::clone(&seen),
        posted,
    };
    let mut config = FrameworkConfig::new("acks", "root", [master.url()]);
    config.calls_in_flight = LIMIT;
    let (handle, mut updates) = Framework::start_with(config, transport).expect("the framework starts");
    for i in 0..TASKS {
        let spec = TaskSpec::builder(format!("t-{i:02}"), "g").scalar("cpus", 1.0).scalar("mem", 64.0).build().unwrap();
        handle.submit(TaskRequest::command(spec, CommandSpec::shell("true"))).await.expect("accepted");
    }
    let mut finished = 0;
    tokio::time::timeout(LIMIT_RUN, async {
        while finished < TASKS {
            match updates.recv().await {
                Some(Update::Task(t)) if t.state == TaskState::Finished => finished += 1,
                Some(Update::Task(t)) => assert!(!t.state.is_terminal(), "{t:?}"),
                Some(Update::Stopped(reason)) => panic!("stopped: {reason:?}"),
                Some(_) => {}
                None => panic!("the framework went away"),
            }
        }
    })
    .await
    .expect("every task finishes (a driver sending one call at a time stalls at the gate)");
    // A task's FINISHED reaches the framework before its acknowledgement is sent: wait until
    // every task's three updates were acknowledged, so the TEARDOWN cannot overtake any.
    let all_acknowledged = |_: &usize| {
        let seen = seen.lock().unwrap();
        seen.acks.len() == TASKS && seen.acks.values().all(|acks| distinct(acks) >= 3)
    };
    tokio::time::timeout(LIMIT_RUN, posted_rx.wait_for(all_acknowledged))
        .await
        .expect("every update is acknowledged")
        .expect("the transport is alive");
    handle.stop(StopMode::Teardown);
    while let Some(update) = updates.recv().await {
        if let Update::Stopped(_) = update {
            break;
        }
    }
    master.shutdown().await;

    let seen = seen.lock().unwrap();
    assert_eq!(seen.most_in_flight, LIMIT, "acknowledgements went side by side, never more than the limit");
    assert_eq!(seen.most_per_task, 1, "never two acknowledgements of one task on the wire at once");
    assert_eq!(seen.acks.len(), TASKS);
    for (task, acks) in &seen.acks {
        // STARTING, RUNNING, FINISHED, copies side by side: [a, a, b, b, c, c].
        let mut distinct: Vec<&Vec<u8>> = Vec::new();
        for uuid in acks {
            if distinct.last() != Some(&uuid) {
                assert!(!distinct.contains(&uuid), "{task}: an acknowledgement went back to an earlier update");
                distinct.push(uuid);
            }
        }
        assert_eq!(distinct.len(), 3, "{task}: three updates acknowledged, in order: {acks:?}");
    }
}
