//! `offerpack demo --soak SECONDS`: the demo as a long run under faults. A simulated master with
//! (by default) 10,000 agents runs in-process with its task ledger on; a framework subscribes
//! and is given tasks at a steady rate for the whole run; every `--fault-every` seconds one
//! seeded fault hits the master (stream cuts, 503s, agent loss, duplicate updates, a leader
//! change). Every ten seconds or so a line gives the process' resident memory and the heap in
//! use.
//!
//! The verdict comes from the master's ledger ([`audit`]), not from the framework: every task
//! finished, none was launched while another attempt of it was live or after the framework had
//! reported it finished, no `hostname:UNIQUE` group had two live tasks on one agent, no task was
//! given up. Memory is called flat when, for the resident size and for the heap in use alike,
//! the median of the last quarter of the samples is within 10 % of the median of the third.
//!
//! The first half is warm-up: besides the first offers and tasks, it fills what the framework
//! remembers on purpose up to a bound (the last 65,536 ended task ids, against late duplicate
//! updates: 130 s at 500 tasks/s), and the allocator keeps the pages of the largest backlog a
//! fault has caused so far, so the resident size follows the worst burst rather than the live
//! data. Runs under two minutes are not judged.

mod audit;
mod faults;
mod memory;

use std::sync::Arc;
use std::time::Duration;

use offerpack::driver::{Framework, FrameworkConfig, FrameworkHandle};
use offerpack::master::{AgentConfig, MasterConfig, MasterHandle, SimMaster, TaskTiming};
use offerpack::plugins::constraints::Unique;
use offerpack::plugins::HardConstraint;
use offerpack::session::{CommandSpec, RetryPolicy, StopMode, TaskRequest, TaskState, Update};
use offerpack::util::SeededRng;
use offerpack::TaskSpec;
use tokio::time::{interval, Instant, MissedTickBehavior};

use self::audit::{Audit, TASK_PREFIX};
use self::faults::Faults;
use super::master::{hostname, zone_name};
use super::CliError;

/// Tasks per group; every third group is `hostname:UNIQUE`.
const GROUP: u32 = 10;
/// How often tasks are submitted.
const SUBMIT_TICK: Duration = Duration::from_millis(100);
/// How often the master's ledger is read.
const AUDIT_TICK: Duration = Duration::from_millis(500);
/// Zones the agents are spread over.
const ZONES: u32 = 3;
/// Growth of the late median over the early one still called flat.
const FLAT: f64 = 0.10;
/// Shortest run whose memory curve is judged (shorter ones are mostly warm-up).
const MIN_JUDGED: Duration = Duration::from_secs(120);

/// Settings of a soak.
#[derive(Debug, PartialEq)]
pub struct SoakArgs {
    /// How long tasks are submitted and faults injected.
    pub duration: Duration,
    /// Simulated agents.
    pub agents: u32,
    /// Tasks submitted per second.
    pub rate: u32,
    /// Seconds between two faults.
    pub fault_every: Duration,
    /// How long a task runs once RUNNING (jittered by ±50 %).
    pub task_run: Duration,
    /// After the run, how long the remaining tasks may take to finish.
    pub grace: Duration,
    /// Seed of the tasks, the master and the faults.
    pub seed: u64,
}

/// Runs the soak; `Err` when the ledger shows a lost, doubled or misplaced task.
pub fn run(args: &SoakArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let verdict = runtime.block_on(soak(args));
    runtime.shutdown_timeout(Duration::from_secs(1));
    verdict
}

/// What the run saw, besides the audit.
#[derive(Debug, Default)]
struct Seen {
    submitted: usize,
    resubscriptions: u32,
    gave_up: u64,
    rss: Vec<(Duration, u64)>,
    heap: Vec<(Duration, u64)>,
}

async fn soak(args: &SoakArgs) -> Result<(), CliError> {
    let master = SimMaster::start(master_config(args))
        .await
        .map_err(|e| CliError::Failed(format!("cannot start the simulated master: {e}")))?;
    say!(
        "soak: {} agents, {} tasks/s for {} s, a fault every {} s, seed {}; master at {}",
        args.agents,
        args.rate,
        args.duration.as_secs(),
        args.fault_every.as_secs(),
        args.seed,
        master.scheduler_url()
    );
    let (handle, mut updates) = Framework::start(framework_config(&master))
        .map_err(|e| CliError::Failed(format!("cannot start the framework: {e}")))?;
    let mut tasks = TaskMaker::new(args.seed);
    let mut audit = Audit::default();
    let mut faults = Faults::new(args.seed, args.agents as usize);
    let mut seen = Seen::default();
    let start = Instant::now();
    let (stop_submitting, give_up) = (start + args.duration, start + args.duration + args.grace);
    let mut submit_tick = interval(SUBMIT_TICK);
    let mut audit_tick = interval(AUDIT_TICK);
    let mut fault_tick = interval(args.fault_every);
    let sample_every = (args.duration / 60).clamp(Duration::from_secs(1), Duration::from_secs(10));
    let mut sample_tick = interval(sample_every);
    for tick in [&mut submit_tick, &mut audit_tick, &mut fault_tick, &mut sample_tick] {
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    }
    fault_tick.tick().await;
    let per_tick = (f64::from(args.rate) * SUBMIT_TICK.as_secs_f64()).round().max(1.0) as usize;
    let mut faulting = true;
    let problem = loop {
        let now = Instant::now();
        if faulting && now >= stop_submitting {
            // The last fault ends with the submissions; the rest is the framework catching up.
            faults.end(&master).await;
            faulting = false;
        }
        if now >= give_up {
            break Some("the grace period ended with tasks unfinished".to_owned());
        }
        if now >= stop_submitting && audit.finished_tasks == seen.submitted as u64 && audit.live_now == 0 {
            break None;
        }
        tokio::select! {
            _ = submit_tick.tick(), if now < stop_submitting => {
                audit.grow_to(seen.submitted + per_tick);
                for _ in 0..per_tick {
                    if let Err(e) = handle.submit(tasks.next()?).await {
                        return Err(CliError::Failed(format!("submit failed: {e}")));
                    }
                    seen.submitted += 1;
                }
            }
            _ = audit_tick.tick() => {
                for line in master.drain_task_ledger().await {
                    audit.apply(&line, |n| tasks.unique_group(n));
                }
            }
            _ = fault_tick.tick(), if faulting => {
                let what = faults.step(&master).await;
                say!("[{:7.1}s] fault: {what}", start.elapsed().as_secs_f64());
            }
            _ = sample_tick.tick() => {
                let (rss, heap) = (memory::resident_bytes().unwrap_or(0), memory::heap_in_use().unwrap_or(0));
                seen.rss.push((start.elapsed(), rss));
                seen.heap.push((start.elapsed(), heap));
                say!(
                    "[{:7.1}s] rss {:.0} MB, heap in use {:.0} MB, submitted {}, finished {}, live {}, resubscribed {}",
                    start.elapsed().as_secs_f64(),
                    rss as f64 / 1048576.0,
                    heap as f64 / 1048576.0,
                    seen.submitted,
                    audit.finished_tasks,
                    audit.live_now,
                    seen.resubscriptions
                );
            }
            update = updates.recv() => match update {
                Some(Update::Subscribed { .. }) => seen.resubscriptions += 1,
                Some(Update::GaveUp { task, attempts, last_state }) => {
                    seen.gave_up += 1;
                    note!("warning: task {task} given up after {attempts} attempt(s), last {last_state}");
                }
                Some(Update::Stopped(reason)) => break Some(format!("the framework stopped: {reason:?}")),
                None => break Some("the framework stopped".to_owned()),
                Some(Update::Task(task)) if task.state == TaskState::Finished => {
                    if let Some(n) = audit::task_number(task.task_id.as_str()) {
                        // Whatever the master launched before this report is in its ledger now.
                        for line in master.drain_task_ledger().await {
                            audit.apply(&line, |n| tasks.unique_group(n));
                        }
                        audit.framework_finished(n);
                    }
                }
                Some(_) => {}
            },
        }
    };
    faults.end(&master).await;
    stop(&handle, &mut updates).await;
    for line in master.drain_task_ledger().await {
        audit.apply(&line, |n| tasks.unique_group(n));
    }
    master.shutdown().await;
    seen.resubscriptions = seen.resubscriptions.saturating_sub(1);
    report(&audit, &faults, &seen, start.elapsed(), problem)
}

/// Tears the framework down and waits for its session to end.
async fn stop(handle: &FrameworkHandle, updates: &mut offerpack::driver::Updates) {
    handle.stop(StopMode::Teardown);
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(update) = updates.recv().await {
            if matches!(update, Update::Stopped(_)) {
                break;
            }
        }
    })
    .await;
}

fn report(
    audit: &Audit,
    faults: &Faults,
    seen: &Seen,
    wall: Duration,
    problem: Option<String>,
) -> Result<(), CliError> {
    let unfinished = audit.unfinished(seen.submitted);
    say!(
        "tasks: {} submitted, {} finished, {} unfinished, {} launched twice at once, {} launched after the \
         framework reported them finished, {} given up",
        seen.submitted,
        audit.finished_tasks,
        unfinished,
        audit.double_launches,
        audit.launched_after_finish,
        seen.gave_up
    );
    say!(
        "launches: {} ({} attempts ended otherwise than FINISHED; {} re-runs of a task whose finish was lost with its \
         agent before anyone heard of it), unique-host clashes {}, ledger lines not ours {}",
        audit.launches,
        audit.ended_otherwise,
        audit.reruns_after_unreported_finish,
        audit.unique_violations,
        audit.foreign
    );
    say!(
        "faults: {}; {} agents lost in all; {} re-subscriptions",
        faults.summary(),
        faults.agents_lost,
        seen.resubscriptions
    );
    say!("{}", curve(&seen.rss, &seen.heap));
    let flat = memory_verdict("rss", &seen.rss);
    say!("{}", flat.1);
    let heap_flat = memory_verdict("heap in use", &seen.heap);
    say!("{}", heap_flat.1);
    say!("wall time: {:.1} s", wall.as_secs_f64());
    let mut failures = Vec::new();
    if unfinished > 0 {
        failures.push(format!(
            "{unfinished} task(s) never finished (e.g. {})",
            audit.some_unfinished(seen.submitted, 5).join(", ")
        ));
    }
    for (count, what) in [
        (audit.double_launches, "launch(es) while another attempt was live"),
        (audit.launched_after_finish, "launch(es) of a task the framework had reported finished"),
        (audit.unique_violations, "unique-host clash(es)"),
        (seen.gave_up, "task(s) given up"),
    ] {
        if count > 0 {
            failures.push(format!("{count} {what}"));
        }
    }
    failures.extend(problem);
    if !flat.0 || !heap_flat.0 {
        failures.push("memory grew after warm-up".to_owned());
    }
    if failures.is_empty() {
        say!("soak passed: 0 tasks lost, 0 launched twice, memory flat after warm-up");
        Ok(())
    } else {
        Err(CliError::Failed(format!("soak failed: {}", failures.join("; "))))
    }
}

/// Up to a dozen evenly spaced samples: `memory curve (s: rss/heap MB): 0: 44/34, 60: 365/108, …`.
fn curve(rss: &[(Duration, u64)], heap: &[(Duration, u64)]) -> String {
    let step = rss.len().div_ceil(12).max(1);
    let points: Vec<String> = rss
        .iter()
        .zip(heap)
        .step_by(step)
        .map(|((at, r), (_, h))| {
            format!("{:.0}: {:.0}/{:.0}", at.as_secs_f64(), *r as f64 / 1048576.0, *h as f64 / 1048576.0)
        })
        .collect();
    format!("memory curve (s: rss/heap MB): {}", points.join(", "))
}

/// Whether memory stayed flat after warm-up, and the line saying so.
fn memory_verdict(what: &str, samples: &[(Duration, u64)]) -> (bool, String) {
    let bytes: Vec<u64> = samples.iter().map(|(_, b)| *b).collect();
    let span = samples.last().map_or(Duration::ZERO, |(at, _)| *at);
    if span < MIN_JUDGED {
        return (true, format!("memory ({what}): not judged, the run is shorter than {} s", MIN_JUDGED.as_secs()));
    }
    let quarter = bytes.len() / 4;
    let early = memory::median(&bytes[2 * quarter..3 * quarter]);
    let late = memory::median(&bytes[bytes.len() - quarter..]);
    let peak = bytes.iter().max().copied().unwrap_or(0);
    match (early, late) {
        (Some(early), Some(late)) if early > 0 => {
            let growth = late as f64 / early as f64 - 1.0;
            let line = format!(
                "memory ({what}): median {:.0} MB after warm-up (3rd quarter), {:.0} MB at the end (last quarter), \
                 {:+.1} %, peak {:.0} MB, {} samples",
                early as f64 / 1048576.0,
                late as f64 / 1048576.0,
                growth * 100.0,
                peak as f64 / 1048576.0,
                bytes.len()
            );
            (growth <= FLAT, line)
        }
        _ => (true, format!("memory ({what}): too few samples ({}) to judge", bytes.len())),
    }
}

fn master_config(args: &SoakArgs) -> MasterConfig {
    let mut config = MasterConfig::default().with_seed(args.seed);
    config.task_ledger = true;
    config.tasks = TaskTiming { run: Some(args.task_run), jitter: 0.5, ..TaskTiming::default() };
    config.agents = (0..args.agents)
        .map(|i| AgentConfig::new(hostname(i), 16.0, 65_536.0).with_attribute("zone", zone_name(i % ZONES)))
        .collect();
    config
}

fn framework_config(master: &MasterHandle) -> FrameworkConfig {
    let mut config = FrameworkConfig::new("offerpack-soak", "root", [master.url()]);
    config.session.retry = RetryPolicy {
        attempts: 50,
        backoff: Duration::from_millis(200),
        max_backoff: Duration::from_secs(5),
        ..RetryPolicy::default()
    };
    config
}

/// Makes the soak's tasks: groups of [`GROUP`] of one seeded shape, every third group
/// `hostname:UNIQUE`.
struct TaskMaker {
    rng: SeededRng,
    next: u32,
    shape: (f64, f64),
    unique: Arc<dyn HardConstraint>,
}

impl TaskMaker {
    fn new(seed: u64) -> TaskMaker {
        TaskMaker {
            rng: SeededRng::new(seed),
            next: 0,
            shape: (1.0, 1024.0),
            unique: Arc::new(Unique::new("hostname")),
        }
    }

    /// The group of task `n` when it is `hostname:UNIQUE`.
    fn unique_group(&self, n: u32) -> Option<u32> {
        let group = n / GROUP;
        (group % 3 == 0).then_some(group)
    }

    fn next(&mut self) -> Result<TaskRequest, CliError> {
        let n = self.next;
        self.next += 1;
        if n % GROUP == 0 {
            const CPUS: [f64; 4] = [0.25, 0.5, 1.0, 2.0];
            const MEM: [f64; 5] = [128.0, 256.0, 512.0, 1024.0, 2048.0];
            self.shape = (CPUS[self.rng.below(4) as usize], MEM[self.rng.below(5) as usize]);
        }
        let group = n / GROUP;
        let mut builder = TaskSpec::builder(format!("{TASK_PREFIX}{n}"), format!("soak-g{group}"))
            .scalar("cpus", self.shape.0)
            .scalar("mem", self.shape.1);
        if self.unique_group(n).is_some() {
            builder = builder.hard(Arc::clone(&self.unique));
        }
        let spec = builder.build().map_err(|e| CliError::Failed(format!("soak task {n}: {e}")))?;
        Ok(TaskRequest::command(spec, CommandSpec::shell("sleep 1")))
    }
}
