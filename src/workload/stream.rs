//! Timed streams: a cluster and its tasks over time, as JSON lines, for `offerpack replay`.
//!
//! The first line is a header, `{"stream": {"seconds": 60}}` (optionally with `fitness` and
//! `hold_seconds`, as in a workload). Every other line is one event at `t_ms` milliseconds of
//! stream time, lines in time order:
//!
//! ```text
//! {"t_ms": 0, "agent": {"agent_id": "a1", "hostname": "h1", "resources": {"cpus": 16, "mem": 65536}}}
//! {"t_ms": 0, "running": {"id": "r1", "group": "g", "agent_id": "a1", "resources": {"cpus": 1}}, "duration_ms": 900}
//! {"t_ms": 3, "task": {"id": "t1", "group": "web", "resources": {"cpus": 2}}, "duration_ms": 5000}
//! {"t_ms": 40, "rescind": "a1"}
//! {"t_ms": 70, "agent_lost": "a1"}
//! ```
//!
//! An `agent` line gives the agent's whole size (its first offer, and what later offers are cut
//! from); `running` is a task already running when the stream starts or an agent joins, ending
//! after `duration_ms`; `task` is a task arriving, running for `duration_ms` once launched;
//! `rescind` takes back the agent's outstanding offers; `agent_lost` removes the agent and its
//! tasks. Tasks, running tasks and agents are validated exactly as in a workload file, so
//! constraints and fitness read the same way.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::input::{Workload, WorkloadError};
use super::queues::TaskQueue;
use super::schema::{
    AttrDoc, BucketDoc, FitnessDoc, Map, OfferDoc, ResourcesDoc, RunningDoc, TaskDoc, TierDoc, WorkloadDoc,
};
use crate::model::{AgentId, Offer, RunningTask};
use crate::plugins::Fitness;
use crate::queue::QueueConfig;
use crate::spec::TaskSpec;

/// The longest stream: a week of stream time.
const MAX_LENGTH: Duration = Duration::from_secs(7 * 24 * 3600);

/// The header line.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeaderLine {
    pub stream: HeaderDoc,
}

/// What the header says.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeaderDoc {
    /// Length of the stream in seconds.
    pub seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fitness: Option<FitnessDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub buckets: Map<BucketDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierDoc>>,
}

/// An agent as a stream gives it: its whole size.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AgentDoc {
    pub agent_id: String,
    pub hostname: String,
    #[serde(default)]
    pub resources: ResourcesDoc,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<AttrDoc>,
}

/// One event line; exactly one of the optional event fields is set.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventLine {
    pub t_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<RunningDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_lost: Option<String>,
}

/// One validated event.
#[derive(Clone, Debug)]
pub enum StreamEvent {
    /// An agent joins; its whole size as an offer (the offer id is the agent id).
    Agent(Offer),
    /// A task already running, ending after the given time.
    Running(RunningTask, Duration),
    /// A task arrives, with its queue place; once launched it runs for the given time.
    Task(TaskSpec, TaskQueue, Duration),
    /// The agent's outstanding offers are taken back.
    Rescind(AgentId),
    /// The agent is gone, with its tasks.
    AgentLost(AgentId),
}

/// A validated stream: events in time order.
#[derive(Clone, Debug)]
pub struct Stream {
    /// Length of the stream.
    pub length: Duration,
    /// The fitness calculator (cpu and memory bin packing unless the header names one).
    pub fitness: Arc<dyn Fitness>,
    /// How long offers are held.
    pub hold: Duration,
    /// The queue's buckets and tiers, when the header gives them.
    pub queue: Option<QueueConfig>,
    /// Events with their stream time, in time order.
    pub events: Vec<(Duration, StreamEvent)>,
}

/// What is wrong with a stream.
#[derive(Debug)]
pub enum StreamError {
    /// A line that is not a valid header or event; `line` counts from 1.
    Line {
        /// Line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An agent, task or running task that does not validate.
    Invalid(WorkloadError),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line { line, message } => write!(f, "line {line}: {message}"),
            Self::Invalid(e) => write!(f, "stream: {e}"),
        }
    }
}

impl std::error::Error for StreamError {}

/// What each event line turned into, before validation as one workload.
enum Slot {
    Agent,
    Running(Duration),
    Task(Duration),
    Rescind(AgentId),
    AgentLost(AgentId),
}

impl Stream {
    /// Parses and validates a stream from JSON lines (blank lines are skipped).
    ///
    /// ```
    /// let text = r#"{"stream": {"seconds": 1}}
    /// {"t_ms": 0, "agent": {"agent_id": "a1", "hostname": "h1", "resources": {"cpus": 4}}}
    /// {"t_ms": 5, "task": {"id": "t1", "resources": {"cpus": 1}}, "duration_ms": 100}"#;
    /// let stream = offerpack::workload::Stream::from_json_lines(text).unwrap();
    /// assert_eq!(stream.events.len(), 2);
    /// ```
    pub fn from_json_lines(text: &str) -> Result<Stream, StreamError> {
        let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
        let header: HeaderLine = match lines.next() {
            Some((i, l)) => serde_json::from_str(l).map_err(|e| line_error(i, &e))?,
            None => return Err(StreamError::Line { line: 1, message: "empty stream: no header".into() }),
        };
        let length =
            Duration::try_from_secs_f64(header.stream.seconds).ok().filter(|l| *l <= MAX_LENGTH).ok_or_else(|| {
                StreamError::Line { line: 1, message: "seconds must be a number from 0 to 604800 (a week)".into() }
            })?;
        let mut doc = WorkloadDoc {
            fitness: header.stream.fitness,
            hold_seconds: header.stream.hold_seconds,
            buckets: header.stream.buckets,
            tiers: header.stream.tiers,
            ..WorkloadDoc::default()
        };
        let mut slots: Vec<(Duration, Slot)> = Vec::new();
        let mut last = 0;
        for (i, text) in lines {
            let line: EventLine = serde_json::from_str(text).map_err(|e| line_error(i, &e))?;
            if line.t_ms < last {
                return Err(StreamError::Line {
                    line: i + 1,
                    message: format!("t_ms {} goes back in time", line.t_ms),
                });
            }
            last = line.t_ms;
            let slot = slot(line, &mut doc).map_err(|message| StreamError::Line { line: i + 1, message })?;
            slots.push(slot);
        }
        let workload = Workload::from_doc(doc).map_err(StreamError::Invalid)?;
        let Workload { offers, tasks, running, fitness, hold, queue, task_queues, .. } = workload;
        let (mut offers, mut running) = (offers.into_iter(), running.into_iter());
        let mut tasks = tasks.into_iter().zip(task_queues);
        let mut events = Vec::with_capacity(slots.len());
        for (at, slot) in slots {
            // Each slot took its item in document order, so the iterators line up.
            let event = match slot {
                Slot::Agent => offers.next().map(StreamEvent::Agent),
                Slot::Running(d) => running.next().map(|t| StreamEvent::Running(t, d)),
                Slot::Task(d) => tasks.next().map(|(t, q)| StreamEvent::Task(t, q, d)),
                Slot::Rescind(a) => Some(StreamEvent::Rescind(a)),
                Slot::AgentLost(a) => Some(StreamEvent::AgentLost(a)),
            };
            events.extend(event.map(|e| (at, e)));
        }
        Ok(Stream { length, fitness, hold, queue, events })
    }
}

fn line_error(i: usize, e: &serde_json::Error) -> StreamError {
    StreamError::Line { line: i + 1, message: e.to_string() }
}

/// Moves the line's item into `doc` and says where it went.
fn slot(line: EventLine, doc: &mut WorkloadDoc) -> Result<(Duration, Slot), String> {
    let at = Duration::from_millis(line.t_ms);
    let duration = line.duration_ms.map(Duration::from_millis);
    let given = [line.agent.is_some(), line.running.is_some(), line.task.is_some()]
        .into_iter()
        .chain([line.rescind.is_some(), line.agent_lost.is_some()])
        .filter(|g| *g)
        .count();
    if given != 1 {
        return Err("an event line has exactly one of agent, running, task, rescind, agent_lost".into());
    }
    let needs_duration = line.running.is_some() || line.task.is_some();
    if needs_duration != duration.is_some() {
        return Err("duration_ms belongs to running and task lines, and they need it".into());
    }
    let slot = if let Some(agent) = line.agent {
        if agent.resources.ports.is_some() {
            return Err("replay simulates scalar resources only: an agent offers no ports".into());
        }
        doc.offers.push(OfferDoc {
            id: agent.agent_id.clone(),
            agent_id: agent.agent_id,
            hostname: agent.hostname,
            resources: agent.resources,
            reserved: Map::default(),
            attributes: agent.attributes,
        });
        Slot::Agent
    } else if let Some(task) = line.running {
        doc.running.push(task);
        Slot::Running(duration.unwrap_or_default())
    } else if let Some(task) = line.task {
        if task.ports.is_some() {
            return Err("replay simulates scalar resources only: a task asks for no ports".into());
        }
        doc.tasks.push(task);
        Slot::Task(duration.unwrap_or_default())
    } else if let Some(agent) = line.rescind {
        Slot::Rescind(AgentId::from(agent.as_str()))
    } else {
        Slot::AgentLost(AgentId::from(line.agent_lost.unwrap_or_default().as_str()))
    };
    Ok((at, slot))
}
