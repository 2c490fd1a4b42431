//! What tasks ask for (ports) and tasks already running.
//!
//! The pending-task specification holds plugin objects, so it lives above the plugins, in
//! [`spec`](crate::spec).

use std::sync::Arc;
use std::time::Duration;

use super::{AgentId, Attributes, GroupId, TaskId};
use crate::resources::Quantity;

/// Ports a task asks for: a number of any free ports and/or specific port numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortRequest {
    /// How many ports of the agent's choosing.
    pub count: u32,
    /// Specific ports that must be free, sorted and unique.
    pub specific: Vec<u16>,
}

impl PortRequest {
    /// Total number of ports asked for (saturating: no agent has `u32::MAX` ports).
    pub fn total(&self) -> u32 {
        self.count.saturating_add(u32::try_from(self.specific.len()).unwrap_or(u32::MAX))
    }
}

/// A task already running on an agent; constraints count it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunningTask {
    /// Task id.
    pub id: TaskId,
    /// The group the task belongs to.
    pub group: GroupId,
    /// The agent it runs on.
    pub agent_id: AgentId,
    /// Scalar resources it holds; they count towards the agent's size in fitness scores.
    pub resources: Vec<(Arc<str>, Quantity)>,
    /// Hostname and attributes, used when the agent has no offer in the pool (the task counts
    /// on them, and preemption asks hard constraints of the agent as they describe it).
    /// Without them (and without an offer) the task counts against every attribute value of
    /// its group.
    pub host: Option<(Arc<str>, Attributes)>,
    /// Whether the task claims its agent for its group (it was placed with a constraint such
    /// as `EXCLUSIVE`): no task of another group may join it there.
    pub claims_agent: bool,
    /// The custom executor it runs on (its id), if any: while a task of an executor runs on an
    /// agent, further tasks for that executor there are not charged its resources again.
    pub executor: Option<Arc<str>>,
    /// Priority of the task's request: preemption evicts only tasks of lower standing (see
    /// [`RunningTask::yields_to`]). 0 by default.
    pub priority: i32,
    /// Queue tier of the task's request (0 is served first). 0 by default.
    pub tier: u32,
    /// When the task started, on the caller's clock: preemption evicts the youngest first,
    /// losing the least work. Zero by default.
    pub started: Duration,
}

impl RunningTask {
    /// A running task with no resource figures and no host details.
    pub fn new(id: impl Into<TaskId>, group: impl Into<GroupId>, agent: impl Into<AgentId>) -> Self {
        let (id, group, agent_id) = (id.into(), group.into(), agent.into());
        RunningTask {
            id,
            group,
            agent_id,
            resources: Vec::new(),
            host: None,
            claims_agent: false,
            executor: None,
            priority: 0,
            tier: 0,
            started: Duration::ZERO,
        }
    }

    /// The task with `priority`.
    pub fn with_priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// The task in queue tier `tier`.
    pub fn with_tier(mut self, tier: u32) -> Self {
        self.tier = tier;
        self
    }

    /// The task started at `started` (the caller's clock).
    pub fn started_at(mut self, started: Duration) -> Self {
        self.started = started;
        self
    }

    /// Whether this task may be evicted for a pending task of queue tier `tier` and
    /// `priority`: its tier comes after that one (tier 0 is first), or it is in the same tier
    /// with a strictly lower priority. Equal standing never preempts.
    ///
    /// ```
    /// use offerpack::RunningTask;
    /// let batch = RunningTask::new("b", "batch", "a1").with_priority(1);
    /// assert!(batch.yields_to(0, 2));
    /// assert!(!batch.yields_to(0, 1)); // equal priority: never
    /// assert!(!batch.clone().with_tier(0).yields_to(1, 100)); // a later tier never evicts
    /// assert!(batch.with_tier(2).yields_to(1, -5)); // a later-tier task yields to any earlier
    /// ```
    pub fn yields_to(&self, tier: u32, priority: i32) -> bool {
        self.tier > tier || (self.tier == tier && self.priority < priority)
    }
}
