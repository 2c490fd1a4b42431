//! Replays a timed [`Stream`] through the engine on a virtual clock: nothing sleeps.
//!
//! A simulated master's allocator (`cluster`) turns the stream's agents into offers; passes run
//! every [`ReplayOptions::pass_every`] of stream time on the [`Scheduler`](crate::Scheduler) (or,
//! with [`ReplayOptions::full_replan`], a whole [`Engine`] pass over every running task, as Fenzo
//! does). Launched tasks run for their stream duration, then end and free their resources;
//! declined and expired offers are refused for [`ReplayOptions::refuse`] unless more becomes
//! free; a task that arrives while nothing was pending, or arrives and goes unplaced, revives
//! the filters, as the session does.
//!
//! The core reads no clock: the caller's [`Stopwatch`] times each pass, so the same stream
//! gives the same placements, and tests can pass a stopwatch that counts.

mod cluster;
mod planner;
mod shares;
mod summary;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;

use crate::engine::{ConfigError, Engine, EngineConfig, PlanError};
use crate::model::{AgentId, RunningTask, TaskId};
use crate::plan::Plan;
use crate::queue::QueuePlace;
use crate::resources::Quantity;
use crate::spec::TaskSpec;
use crate::workload::{Stream, StreamEvent};
use cluster::SimCluster;
use planner::Planner;
use shares::Shares;
pub use shares::{BucketLine, Fairness};
pub use summary::{OfferCounts, PassPoint, Percentiles, ReplaySummary};

/// Times one pass for the replay.
pub trait Stopwatch {
    /// A pass starts.
    fn start(&mut self);
    /// The pass ended: how long it took.
    fn stop(&mut self) -> Duration;
}

/// How to replay.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// Stream time between passes (not zero).
    pub pass_every: Duration,
    /// A whole engine pass over every running task each time, instead of the scheduler.
    pub full_replan: bool,
    /// How long declined resources stay away (`Filters.refuse_seconds`).
    pub refuse: Duration,
    /// Plan in queue order when the stream has buckets or tiers (false: ignore them, to compare).
    pub queue: bool,
    /// The engine's settings; the stream's fitness replaces `fitness`.
    pub engine: EngineConfig,
}

impl Default for ReplayOptions {
    /// A pass every 50 ms, incremental, refusing declined resources for 5 s, the default engine
    /// but holding unused offers (until the stream's hold runs out) rather than declining them
    /// after every pass: with tasks arriving all the time, a decline would only be revived.
    fn default() -> Self {
        ReplayOptions {
            pass_every: Duration::from_millis(50),
            full_replan: false,
            refuse: Duration::from_secs(5),
            queue: true,
            engine: EngineConfig { decline_unused: false, ..EngineConfig::default() },
        }
    }
}

/// Why a replay could not run.
#[derive(Debug)]
pub enum ReplayError {
    /// The engine settings do not work.
    Config(ConfigError),
    /// A pass refused its input (a task id given twice in the stream).
    Plan(PlanError),
    /// Passes must be some time apart.
    ZeroPassInterval,
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => write!(f, "engine settings: {e}"),
            Self::Plan(e) => write!(f, "stream: {e}"),
            Self::ZeroPassInterval => f.write_str("the time between passes must be above zero"),
        }
    }
}

impl std::error::Error for ReplayError {}

/// Replays `stream` and says what happened.
///
/// ```
/// use std::time::Duration;
/// use offerpack::replay::{replay, ReplayOptions, Stopwatch};
/// use offerpack::workload::{generate_stream, Stream, StreamOptions};
///
/// struct Counting;
/// impl Stopwatch for Counting {
///     fn start(&mut self) {}
///     fn stop(&mut self) -> Duration { Duration::from_micros(100) }
/// }
/// let stream = Stream::from_json_lines(&generate_stream(&StreamOptions::default())).unwrap();
/// let summary = replay(&stream, &ReplayOptions::default(), &mut Counting).unwrap();
/// assert!(summary.placed > 0 && summary.placed <= summary.arrived);
/// ```
pub fn replay(stream: &Stream, opts: &ReplayOptions, watch: &mut dyn Stopwatch) -> Result<ReplaySummary, ReplayError> {
    if opts.pass_every.is_zero() {
        return Err(ReplayError::ZeroPassInterval);
    }
    let config = EngineConfig { fitness: stream.fitness.clone(), ..opts.engine.clone() };
    let engine = Engine::new(config).map_err(ReplayError::Config)?;
    let mut run = Run::new(stream, opts, Planner::new(engine, stream.hold, opts.full_replan));
    let mut now = Duration::ZERO;
    loop {
        run.catch_up(now)?;
        run.pass(now, watch)?;
        now += opts.pass_every;
        if now > stream.length {
            break;
        }
    }
    Ok(run.finish())
}

/// A running task as the replay follows it.
#[derive(Debug)]
struct Live {
    agent: AgentId,
    resources: Vec<(Arc<str>, Quantity)>,
    /// Its queue bucket, for tasks that arrived in the stream.
    bucket: Option<usize>,
}

/// Scalar resources a task holds.
type Held = Vec<(Arc<str>, Quantity)>;

/// What the replay keeps beside each pending task.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    arrival: Duration,
    length: Duration,
    bucket: usize,
}

/// The replay's state between passes.
struct Run<'a> {
    stream: &'a Stream,
    opts: &'a ReplayOptions,
    cluster: SimCluster,
    planner: Planner,
    next_event: usize,
    /// Pending tasks, with what the replay knows of each and their queue places alongside.
    pending: Vec<TaskSpec>,
    waiting: Vec<Waiting>,
    places: Vec<QueuePlace>,
    running: FxHashMap<TaskId, Live>,
    ends: BinaryHeap<Reverse<(Duration, TaskId)>>,
    /// Whether a task arrived since the last pass.
    fresh: bool,
    suppressed: bool,
    latencies: Vec<f64>,
    engine_ms: Vec<f64>,
    held: Vec<f64>,
    shares: Shares,
    /// Tasks placed by the current pass: bucket and resources.
    placed_now: Vec<(usize, Held)>,
    summary: ReplaySummary,
}

impl<'a> Run<'a> {
    fn new(stream: &'a Stream, opts: &'a ReplayOptions, planner: Planner) -> Run<'a> {
        let summary = ReplaySummary {
            mode: if opts.full_replan { "full-replan" } else { "incremental" },
            stream_seconds: stream.length.as_secs_f64(),
            pass_every_ms: opts.pass_every.as_secs_f64() * 1e3,
            ..ReplaySummary::default()
        };
        Run {
            stream,
            opts,
            cluster: SimCluster::default(),
            planner,
            next_event: 0,
            pending: Vec::new(),
            waiting: Vec::new(),
            places: Vec::new(),
            running: FxHashMap::default(),
            ends: BinaryHeap::new(),
            fresh: false,
            suppressed: false,
            latencies: Vec::new(),
            engine_ms: Vec::new(),
            held: Vec::new(),
            shares: Shares::new(stream.queue.as_ref()),
            placed_now: Vec::new(),
            summary,
        }
    }

    /// Applies every task end and stream event due by `now`, in time order (ends first on a tie).
    fn catch_up(&mut self, now: Duration) -> Result<(), ReplayError> {
        loop {
            let end = self.ends.peek().map(|Reverse((at, _))| *at).filter(|&at| at <= now);
            let event = self.stream.events.get(self.next_event).map(|(at, _)| *at).filter(|&at| at <= now);
            match (end, event) {
                (Some(e), ev) if ev.is_none_or(|ev| e <= ev) => {
                    if let Some(Reverse((_, id))) = self.ends.pop() {
                        self.end_task(&id, false);
                    }
                }
                (_, Some(_)) => {
                    let (at, event) = &self.stream.events[self.next_event];
                    self.next_event += 1;
                    self.apply(*at, event, now)?;
                }
                _ => return Ok(()),
            }
        }
    }

    fn apply(&mut self, at: Duration, event: &StreamEvent, now: Duration) -> Result<(), ReplayError> {
        match event {
            StreamEvent::Agent(whole) => self.cluster.add_agent(whole),
            StreamEvent::Running(task, length) => {
                let mut task = task.clone();
                task.host = self.cluster.host(&task.agent_id).or(task.host);
                // What the stream says runs, runs: only the engine's launches can be refused.
                let refused = self.cluster.overcommitted;
                self.start(task, at + *length, None)?;
                self.cluster.overcommitted = refused;
            }
            StreamEvent::Task(spec, queue, length) => {
                self.pending.push(spec.clone());
                self.places.push(queue.clone());
                let bucket = self.shares.index(&queue.bucket);
                self.waiting.push(Waiting { arrival: at, length: *length, bucket });
                self.summary.arrived += 1;
                self.fresh = true;
            }
            StreamEvent::Rescind(agent) => {
                for id in self.cluster.take_offers(agent) {
                    self.planner.rescind(&id, now);
                    self.summary.offers.rescinded += 1;
                }
            }
            StreamEvent::AgentLost(agent) => {
                self.summary.offers.rescinded += self.cluster.lose(agent).len() as u64;
                self.planner.remove_agent(agent, now);
                let mut gone: Vec<TaskId> =
                    self.running.iter().filter(|(_, l)| l.agent == *agent).map(|(id, _)| id.clone()).collect();
                gone.sort();
                for id in gone {
                    self.end_task(&id, true);
                }
            }
        }
        Ok(())
    }

    /// A task starts running on its agent until `end`.
    fn start(&mut self, task: RunningTask, end: Duration, place: Option<QueuePlace>) -> Result<(), ReplayError> {
        self.cluster.charge(&task.agent_id, &task.resources, 1);
        let live = Live { agent: task.agent_id.clone(), resources: task.resources.clone(), bucket: None };
        self.ends.push(Reverse((end, task.id.clone())));
        self.running.insert(task.id.clone(), live);
        self.planner.task_running(task, place).map_err(ReplayError::Plan)
    }

    fn end_task(&mut self, id: &TaskId, lost: bool) {
        let Some(live) = self.running.remove(id) else {
            return;
        };
        if self.cluster.is_alive(&live.agent) {
            self.cluster.charge(&live.agent, &live.resources, -1);
        }
        if let Some(b) = live.bucket {
            self.shares.charge(b, &live.resources, -1);
        }
        self.planner.task_ended(id);
        if lost {
            self.summary.lost += 1;
        } else {
            self.summary.finished += 1;
        }
    }

    /// Offers, one timed pass, and what it decided.
    fn pass(&mut self, now: Duration, watch: &mut dyn Stopwatch) -> Result<(), ReplayError> {
        if self.pending.is_empty() {
            self.suppressed = true;
        } else if self.suppressed {
            self.suppressed = false;
            self.revive();
        }
        if !self.suppressed {
            for offer in self.cluster.allocate(now) {
                self.planner.add_offer(offer, now);
            }
        }
        self.held.push(self.planner.held() as f64);
        watch.start();
        let config = self.stream.queue.as_ref().filter(|_| self.opts.queue);
        let queue = config.map(|config| (&self.places[..], config));
        let plan = self.planner.schedule(&self.pending, queue, now).map_err(ReplayError::Plan)?;
        let took = watch.stop().as_secs_f64() * 1e3;
        self.engine_ms.push(took);
        self.summary.passes += 1;
        let mut latencies = self.settle(&plan, now)?;
        self.record(now, took, &mut latencies);
        let fresh_unplaced = self.fresh && !plan.unplaced.is_empty();
        self.fresh = false;
        if fresh_unplaced {
            self.revive();
        }
        Ok(())
    }

    /// The pass's point of the series, and the buckets' fairness after it.
    fn record(&mut self, now: Duration, engine_ms: f64, latencies: &mut [f64]) {
        let placed = std::mem::take(&mut self.placed_now);
        let mut shares = Vec::new();
        if self.shares.tracks() {
            let total = self.cluster.total();
            shares = self.shares.current(&total);
            let mut waiting = vec![false; self.shares.names().len()];
            for w in &self.waiting {
                waiting[w.bucket] = true;
            }
            let placed = placed.iter().map(|(b, r)| (*b, r.as_slice()));
            self.shares.after_pass(&total, &shares, &waiting, placed);
        }
        let latency = Percentiles::of(latencies);
        self.summary.series.push(PassPoint {
            t_ms: now.as_secs_f64() * 1e3,
            engine_ms,
            placed: placed.len() as u64,
            pending: self.pending.len() as u64,
            latency_p50_ms: latency.p50,
            latency_p99_ms: latency.p99,
            shares,
        });
    }

    fn revive(&mut self) {
        self.cluster.revive();
        self.summary.offers.revives += 1;
    }

    /// Launched tasks start, declined and expired offers go back, placed tasks leave the queue;
    /// returns the placed tasks' latencies in milliseconds.
    fn settle(&mut self, plan: &Plan, now: Duration) -> Result<Vec<f64>, ReplayError> {
        let mut used: Vec<&crate::model::OfferId> = plan.launches.iter().flat_map(|l| l.offer_ids.iter()).collect();
        used.sort();
        used.dedup();
        for id in used {
            if !self.cluster.consume(id) {
                self.summary.refused_launches += 1;
            }
        }
        self.summary.offers.expired += plan.expired.len() as u64;
        for id in plan.declined.iter().chain(&plan.expired) {
            self.cluster.decline(id, now + self.opts.refuse);
        }
        self.summary.offers.declined += plan.declined.len() as u64;
        if plan.launches.is_empty() {
            return Ok(Vec::new());
        }
        let mut placed: FxHashMap<&TaskId, usize> = FxHashMap::default();
        placed.extend(plan.launches.iter().enumerate().map(|(i, l)| (&l.task_id, i)));
        let mut keep = 0;
        let mut pass_latencies = Vec::with_capacity(plan.launches.len());
        for i in 0..self.pending.len() {
            let Some(&l) = placed.get(&self.pending[i].id) else {
                self.pending.swap(keep, i);
                self.waiting.swap(keep, i);
                self.places.swap(keep, i);
                keep += 1;
                continue;
            };
            let w = self.waiting[i];
            pass_latencies.push((now.saturating_sub(w.arrival)).as_secs_f64() * 1e3);
            let place = self.places[i].clone();
            self.launch(&plan.launches[l], now + w.length, (w.bucket, place))?;
        }
        self.pending.truncate(keep);
        self.waiting.truncate(keep);
        self.places.truncate(keep);
        self.summary.placed += plan.launches.len() as u64;
        self.latencies.extend_from_slice(&pass_latencies);
        Ok(pass_latencies)
    }

    fn launch(
        &mut self,
        launch: &crate::plan::Launch,
        end: Duration,
        (bucket, place): (usize, QueuePlace),
    ) -> Result<(), ReplayError> {
        let mut resources: Vec<(Arc<str>, Quantity)> = Vec::new();
        for a in launch.resources.iter() {
            match resources.iter_mut().find(|(n, _)| *n == a.name) {
                Some((_, q)) => *q += a.amount,
                None => resources.push((a.name.clone(), a.amount)),
            }
        }
        let task = RunningTask {
            id: launch.task_id.clone(),
            group: launch.group.clone(),
            agent_id: launch.agent_id.clone(),
            resources,
            host: self.cluster.host(&launch.agent_id),
            claims_agent: false,
            executor: launch.executor_id.clone(),
            priority: 0,
            tier: 0,
            started: Duration::ZERO,
        };
        self.shares.charge(bucket, &task.resources, 1);
        self.placed_now.push((bucket, task.resources.clone()));
        let id = task.id.clone();
        if self.planner.needs_launched() {
            self.start(task, end, Some(place))?;
        } else {
            self.cluster.charge(&task.agent_id, &task.resources, 1);
            self.ends.push(Reverse((end, task.id.clone())));
            self.running
                .insert(task.id.clone(), Live { agent: task.agent_id, resources: task.resources, bucket: None });
        }
        if let Some(live) = self.running.get_mut(&id) {
            live.bucket = Some(bucket);
        }
        Ok(())
    }

    fn finish(mut self) -> ReplaySummary {
        let mut s = self.summary;
        s.pending_at_end = self.pending.len() as u64;
        s.latency_ms = Percentiles::of(&mut self.latencies);
        s.engine_total_ms = self.engine_ms.iter().sum();
        s.engine_ms = Percentiles::of(&mut self.engine_ms);
        s.placements_per_engine_second =
            if s.engine_total_ms > 0.0 { s.placed as f64 / (s.engine_total_ms / 1e3) } else { 0.0 };
        s.offers.made = self.cluster.offers_made;
        s.refused_launches += self.cluster.overcommitted;
        if self.shares.tracks() {
            s.buckets = self.shares.lines(&self.cluster.total());
            s.fairness = Some(self.shares.fairness.clone());
            s.bucket_names = self.shares.names().to_vec();
        }
        s.offers.held_mean = self.held.iter().sum::<f64>() / self.held.len().max(1) as f64;
        s.offers.held_max = self.held.iter().fold(0.0f64, |m, &h| m.max(h)) as u64;
        s
    }
}
