//! A timed stream generator: a cluster in its steady state, tasks arriving at a rate, agents
//! coming and going, offers rescinded. The same options always give the same stream.
//!
//! Agents and task shapes come from the workload generator ([`GenOptions`]), so a stream's
//! cluster and tasks look like the workloads `offerpack gen` writes, constraints included.
//! Arrivals, agent churn and rescinds are Poisson processes; task durations are exponential
//! (cut to between a twentieth and five times the mean). By default the mean duration is
//! `running / rate`, so the cluster stays near `running` tasks as it was at the start.

use std::io;

use super::gen::{agent, document, GenOptions};
use super::schema::{BucketDoc, Map, OfferDoc, ResourcesDoc, RunningDoc, TaskDoc};
use super::stream::{AgentDoc, EventLine, HeaderDoc, HeaderLine};
use crate::util::SeededRng;

/// Mixed into the seed, so a stream's draws differ from its workload generator's.
const STREAM_SALT: u64 = 0x5eed_57ea_0000_0001;

/// What stream to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamOptions {
    /// The cluster and task shapes (`tasks` is ignored: arrivals come from `rate`).
    pub cluster: GenOptions,
    /// Length of the stream in seconds.
    pub seconds: f64,
    /// Tasks running when the stream starts.
    pub running: u32,
    /// Task arrivals per second.
    pub rate: f64,
    /// Mean task duration in seconds; `None` for `running / rate` (a steady state).
    pub mean_duration: Option<f64>,
    /// Agents lost per minute, each replaced by a new agent at once.
    pub agent_churn: f64,
    /// Offer rescinds per second.
    pub rescinds: f64,
    /// Queue buckets the arriving tasks fall into, a group at a time in turn: `b1` of weight 1,
    /// `b2` of weight 2, ... (0 or 1: no buckets).
    pub buckets: u32,
}

impl Default for StreamOptions {
    /// 100 agents, 10 s, 200 running, 20 arrivals/s, one agent replaced per minute, one rescind
    /// every two seconds.
    fn default() -> Self {
        StreamOptions {
            cluster: GenOptions::default(),
            seconds: 10.0,
            running: 200,
            rate: 20.0,
            mean_duration: None,
            agent_churn: 1.0,
            rescinds: 0.5,
            buckets: 0,
        }
    }
}

impl StreamOptions {
    /// Mean task duration in seconds.
    pub fn mean_duration(&self) -> f64 {
        let steady = if self.rate > 0.0 { f64::from(self.running) / self.rate } else { 60.0 };
        self.mean_duration.unwrap_or(steady).max(0.1)
    }
}

/// Writes the stream as JSON lines, in the format `offerpack replay` reads.
pub fn write_stream<W: io::Write>(mut out: W, opts: &StreamOptions) -> io::Result<()> {
    for line in stream_lines(opts) {
        serde_json::to_writer(&mut out, &line).map_err(io::Error::from)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The stream as text.
///
/// ```
/// use offerpack::workload::{generate_stream, Stream, StreamOptions};
/// let text = generate_stream(&StreamOptions { seconds: 2.0, ..StreamOptions::default() });
/// let stream = Stream::from_json_lines(&text).unwrap();
/// assert!(stream.events.len() > 100 + 200);
/// ```
pub fn generate_stream(opts: &StreamOptions) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail, and serde_json writes only UTF-8.
    let _ = write_stream(&mut buf, opts);
    String::from_utf8_lossy(&buf).into_owned()
}

/// A line of the stream: the header, or an event.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Line {
    Header(HeaderLine),
    Event(Box<EventLine>),
}

fn stream_lines(opts: &StreamOptions) -> Vec<Line> {
    let mut rng = SeededRng::new(opts.cluster.seed ^ STREAM_SALT);
    let seconds = if opts.seconds.is_finite() { opts.seconds.max(0.0) } else { 0.0 };
    let arrivals = poisson_times(opts.rate, seconds, &mut rng);
    let cluster = GenOptions { tasks: opts.running.saturating_add(arrivals.len() as u32), ..opts.cluster.clone() };
    let mut doc = document(&cluster);
    if opts.buckets >= 2 {
        let weights = (1..=opts.buckets)
            .map(|b| (format!("b{b}"), BucketDoc { weight: Some(f64::from(b)), ..BucketDoc::default() }));
        doc.buckets = Map(weights.collect());
        let size = cluster.constraints.group_size() as usize;
        for (i, task) in doc.tasks.iter_mut().skip(opts.running as usize).enumerate() {
            task.bucket = Some(format!("b{}", (i / size) as u32 % opts.buckets + 1));
        }
    }
    let mean = opts.mean_duration();
    let mut lines = vec![Line::Header(HeaderLine {
        stream: HeaderDoc {
            seconds,
            fitness: doc.fitness.clone(),
            hold_seconds: None,
            buckets: doc.buckets.clone(),
            tiers: doc.tiers.clone(),
        },
    })];
    let mut space: Vec<Vec<(String, f64)>> = doc.offers.iter().map(|o| o.resources.scalars.clone()).collect();
    lines.extend(doc.offers.into_iter().map(|o| event(0.0, |l| l.agent = Some(agent_doc(o)))));
    let mut tasks = doc.tasks.into_iter().map(without_ports);
    let mut cursor = 0;
    for task in tasks.by_ref().take(opts.running as usize) {
        let Some(at) = first_fit(&mut space, &task.resources.scalars, &mut cursor) else {
            continue;
        };
        let running = RunningDoc {
            id: task.id,
            group: task.group,
            agent_id: format!("agent-{:06}", at + 1),
            resources: ResourcesDoc { scalars: task.resources.scalars, ports: None },
            hostname: None,
            attributes: None,
            priority: 0,
            tier: 0,
        };
        let left = mean * (0.05 + 1.95 * rng.unit());
        lines.push(event(0.0, |l| (l.running, l.duration_ms) = (Some(running), Some(millis(left)))));
    }
    let mut timed: Vec<(f64, EventLine)> = arrivals
        .iter()
        .zip(tasks)
        .map(|(&t, task)| {
            let length = (-(1.0 - rng.unit()).ln() * mean).clamp(mean / 20.0, mean * 5.0);
            (t, EventLine { task: Some(task), duration_ms: Some(millis(length)), ..EventLine::default() })
        })
        .collect();
    timed.extend(churn_and_rescinds(opts, seconds, &mut rng));
    timed.sort_by(|a, b| a.0.total_cmp(&b.0));
    lines.extend(timed.into_iter().map(|(t, l)| Line::Event(Box::new(EventLine { t_ms: millis(t), ..l }))));
    lines
}

fn event(t: f64, fill: impl FnOnce(&mut EventLine)) -> Line {
    let mut line = EventLine { t_ms: millis(t), ..EventLine::default() };
    fill(&mut line);
    Line::Event(Box::new(line))
}

fn millis(seconds: f64) -> u64 {
    (seconds * 1000.0).round() as u64
}

/// Event times of a Poisson process of `rate` per second over `seconds`.
fn poisson_times(rate: f64, seconds: f64, rng: &mut SeededRng) -> Vec<f64> {
    let mut times = Vec::new();
    if !(rate > 0.0 && rate.is_finite()) {
        return times;
    }
    let mut t = 0.0;
    loop {
        t += -(1.0 - rng.unit()).ln() / rate;
        if t >= seconds {
            return times;
        }
        times.push(t);
    }
}

fn agent_doc(offer: OfferDoc) -> AgentDoc {
    let resources = ResourcesDoc { scalars: offer.resources.scalars, ports: None };
    AgentDoc { agent_id: offer.agent_id, hostname: offer.hostname, resources, attributes: offer.attributes }
}

fn without_ports(task: TaskDoc) -> TaskDoc {
    TaskDoc { ports: None, ..task }
}

/// The first agent from `cursor` on with room for `ask`, which it takes; the cursor moves past
/// it, so consecutive tasks (of one group) land on different agents.
fn first_fit(space: &mut [Vec<(String, f64)>], ask: &[(String, f64)], cursor: &mut usize) -> Option<usize> {
    let n = space.len();
    for step in 0..n {
        let at = (*cursor + step) % n;
        let fits = ask.iter().all(|(name, amount)| space[at].iter().any(|(n, free)| n == name && free >= amount));
        if fits {
            for (name, amount) in ask {
                if let Some((_, free)) = space[at].iter_mut().find(|(n, _)| n == name) {
                    *free -= amount;
                }
            }
            *cursor = at + 1;
            return Some(at);
        }
    }
    None
}

/// Agents lost (each replaced by a new one at the same time) and offers rescinded, on agents
/// alive at the time.
fn churn_and_rescinds(opts: &StreamOptions, seconds: f64, rng: &mut SeededRng) -> Vec<(f64, EventLine)> {
    let mut times: Vec<(f64, bool)> = poisson_times(opts.agent_churn / 60.0, seconds, rng)
        .into_iter()
        .map(|t| (t, true))
        .chain(poisson_times(opts.rescinds, seconds, rng).into_iter().map(|t| (t, false)))
        .collect();
    times.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut alive: Vec<u32> = (0..opts.cluster.agents).collect();
    let mut next = opts.cluster.agents;
    let mut out = Vec::new();
    for (t, churn) in times {
        if alive.is_empty() {
            break;
        }
        let pick = rng.below(alive.len() as u64) as usize;
        let id = format!("agent-{:06}", alive[pick] + 1);
        if !churn {
            out.push((t, EventLine { rescind: Some(id), ..EventLine::default() }));
            continue;
        }
        out.push((t, EventLine { agent_lost: Some(id), ..EventLine::default() }));
        alive.swap_remove(pick);
        let fresh = agent(&opts.cluster, next, rng);
        out.push((t, EventLine { agent: Some(agent_doc(fresh)), ..EventLine::default() }));
        alive.push(next);
        next += 1;
    }
    out
}
