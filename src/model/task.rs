//! What tasks ask for (ports) and tasks already running.
//!
//! The pending-task specification holds plugin objects, so it lives above the plugins, in
//! [`spec`](crate::spec).

use std::sync::Arc;

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
    /// Hostname and attributes, used when the agent has no offer in the pool. Without them
    /// (and without an offer) the task counts against every attribute value of its group.
    pub host: Option<(Arc<str>, Attributes)>,
    /// Whether the task claims its agent for its group (it was placed with a constraint such
    /// as `EXCLUSIVE`): no task of another group may join it there.
    pub claims_agent: bool,
    /// The custom executor it runs on (its id), if any: while a task of an executor runs on an
    /// agent, further tasks for that executor there are not charged its resources again.
    pub executor: Option<Arc<str>>,
}

impl RunningTask {
    /// A running task with no resource figures and no host details.
    pub fn new(id: impl Into<TaskId>, group: impl Into<GroupId>, agent: impl Into<AgentId>) -> Self {
        let (id, group, agent_id) = (id.into(), group.into(), agent.into());
        RunningTask { id, group, agent_id, resources: Vec::new(), host: None, claims_agent: false, executor: None }
    }
}
