//! `offerpack demo`: the whole pipeline on loopback. A simulated master runs in-process on
//! `127.0.0.1:0` with the agents of a generated workload; a framework (driver + session +
//! engine) subscribes to it over HTTP, submits the workload's tasks and follows them until every
//! one has finished.
//!
//! The workload is `gen --constraints unique-host` (groups of 10, one task per host per group,
//! soft spread over 3 zones). Its tasks also ask for a `network` resource, which simulated
//! agents do not have, so that resource is dropped. Each task runs `sleep 1`, and the master
//! simulates a 1 s run. The framework's session does not report its scheduling passes, so the
//! engine's time is measured by one pass over the same tasks and agents before the run.

use std::time::{Duration, Instant};

use offerpack::master::{AgentConfig, MasterConfig, SimMaster, TaskTiming};
use offerpack::session::{summarize_unplaced, CommandSpec, TaskRequest};
use offerpack::workload::{generate, ConstraintMix, GenOptions, Shapes, Workload};
use offerpack::{Engine, EngineConfig, Plan, TaskSpec};

use super::live_args::DemoArgs;
use super::master::hostname;
use super::reasons;
use super::runner::{self, Report, Settings};
use super::CliError;

/// How many kinds of unplaced task the engine pass explains.
const SHOWN: usize = 5;
/// Tasks per group.
const GROUP: u32 = 10;
/// Zones the agents are spread over.
const ZONES: u32 = 3;
/// What every task runs, and how long the master lets it run.
const COMMAND: &str = "sleep 1";
const RUN: Duration = Duration::from_secs(1);

/// Runs the demo; `Err` unless every task finished.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let options = GenOptions {
        agents: args.agents,
        tasks: args.tasks,
        seed: args.seed,
        zones: ZONES,
        constraints: ConstraintMix::UniqueHostPerGroup { group_size: GROUP },
        shapes: Shapes::Uniform,
        ..GenOptions::default()
    };
    let workload = generate(&options).map_err(|e| CliError::Failed(e.to_string()))?;
    let tasks: Vec<TaskSpec> = workload.tasks.iter().cloned().map(without_network).collect();
    say!(
        "demo: {} agents, {} tasks in groups of {GROUP}, one task per host per group, spread over {ZONES} zones; \
         each runs `{COMMAND}` ({} s simulated)",
        args.agents,
        args.tasks,
        RUN.as_secs()
    );
    let (plan, pass) = engine_pass(&workload, &tasks)?;
    explain_unplaced(&plan, &tasks);
    // Only the counts are needed from here on: the plan and the workload go before the run.
    let stats = plan.stats.clone();
    drop(plan);
    let mut config = master_config(&workload, args.seed);
    config.faults.fail_every = args.fail_every;
    drop(workload);
    let requests = tasks.into_iter().map(|spec| TaskRequest::command(spec, CommandSpec::shell(COMMAND))).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    let report = runtime.block_on(on_master(args, config, requests));
    runtime.shutdown_timeout(Duration::from_secs(1));
    let report = report?;
    let mut lines = runner::summary(&report, Some(args.agents));
    let engine = format!(
        "engine: one pass placing {} of {} tasks on {} agents takes {:.2} ms \
         (timed before the run on the same tasks and agents: the sans-IO session reads no clock)",
        stats.tasks_placed,
        args.tasks,
        stats.agents_used,
        pass.as_secs_f64() * 1e3
    );
    let after_placement = lines.iter().position(|l| l.starts_with("placement:")).map_or(lines.len(), |i| i + 1);
    lines.insert(after_placement, engine);
    for line in lines {
        say!("{line}");
    }
    runner::conclude(report.problem)
}

/// Starts the simulated master, runs the framework against it, stops the master.
async fn on_master(args: &DemoArgs, config: MasterConfig, requests: Vec<TaskRequest>) -> Result<Report, CliError> {
    let master = SimMaster::start(config)
        .await
        .map_err(|e| CliError::Failed(format!("cannot start the simulated master: {e}")))?;
    let metrics = runner::serve_metrics(args.metrics_listen).await?;
    say!(
        "master: simulated, in-process, scheduler API at {} ({})",
        master.scheduler_url(),
        args.encoding.content_type()
    );
    let settings = Settings {
        master: master.url(),
        encoding: args.encoding,
        name: "offerpack-demo".to_owned(),
        user: "root".to_owned(),
        roles: vec!["*".to_owned()],
        fitness: None,
        connect_timeout: Duration::from_secs(30),
        deadline: args.deadline,
        retry: args.retry,
        queue: None,
        preemption: None,
        autoscale: None,
        fetched: Vec::new(),
        on_signal: offerpack::session::StopMode::Teardown,
        credentials: None,
        capabilities: Vec::new(),
        metrics: metrics.as_ref().map(|(metrics, _)| metrics.clone()),
        tls: offerpack::tls::TlsConfig::new(),
    };
    let report = runner::run(&settings, requests).await;
    if let Some((_, server)) = metrics {
        server.shutdown().await;
    }
    master.shutdown().await;
    report
}

/// The task without the `network` resource simulated agents do not offer.
fn without_network(mut spec: TaskSpec) -> TaskSpec {
    spec.resources.retain(|(name, _)| &**name != "network");
    spec
}

/// One engine pass over `tasks` on the workload's offers, and how long it took.
fn engine_pass(workload: &Workload, tasks: &[TaskSpec]) -> Result<(Plan, Duration), CliError> {
    let engine = Engine::new(EngineConfig::default()).map_err(|e| CliError::Failed(e.to_string()))?;
    let pool = workload.fresh_pool();
    let start = Instant::now();
    let plan = engine.plan(&pool, tasks, &[], Duration::ZERO).map_err(|e| CliError::Failed(e.to_string()))?;
    Ok((plan, start.elapsed()))
}

/// The simulated master: one agent per generated offer, same cpus, memory, disk, zone and rack.
fn master_config(workload: &Workload, seed: u64) -> MasterConfig {
    let mut config = MasterConfig::default().with_seed(seed);
    config.tasks = TaskTiming { run: Some(RUN), ..TaskTiming::default() };
    config.agents = workload
        .offers
        .iter()
        .zip(0u32..)
        .map(|(offer, i)| {
            let mut agent = AgentConfig::new(hostname(i), offer.scalar("cpus").as_f64(), offer.scalar("mem").as_f64());
            agent.disk = offer.scalar("disk").as_f64();
            for name in ["zone", "rack"] {
                if let Some(value) = offer.attributes.get(name) {
                    agent = agent.with_attribute(name, value.as_str());
                }
            }
            agent
        })
        .collect();
    config
}

/// Says which kinds of task the engine pass could not place at once, and why: they wait until
/// earlier tasks finish (or, when no agent can ever take them, until the deadline).
fn explain_unplaced(plan: &Plan, tasks: &[TaskSpec]) {
    if plan.unplaced.is_empty() {
        return;
    }
    let kinds = summarize_unplaced(&plan.unplaced, tasks);
    note!("note: {} task(s) do not fit the cluster at once and wait for earlier tasks to finish:", plan.unplaced.len());
    for kind in kinds.iter().take(SHOWN) {
        note!("  {}", reasons::pending_kind(kind));
    }
    if kinds.len() > SHOWN {
        note!("  ... and {} more kinds of task", kinds.len() - SHOWN);
    }
}
