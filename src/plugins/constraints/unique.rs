//! `UNIQUE`: at most one task of the group per value of the attribute.

use std::sync::Arc;

use super::{counting_scope, decay};
use crate::plugins::{AgentView, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// `attr:UNIQUE` — no two tasks of a group share a value of `attr` (e.g. one per host).
///
/// ```
/// use offerpack::plugins::constraints::Unique;
/// let one_per_host = Unique::new("hostname");
/// assert_eq!(offerpack::plugins::HardConstraint::name(&one_per_host), "hostname:UNIQUE");
/// ```
#[derive(Debug, Clone)]
pub struct Unique {
    attr: Arc<str>,
    name: String,
}

impl Unique {
    /// One task per value of `attr`.
    pub fn new(attr: &str) -> Unique {
        Unique { attr: Arc::from(attr), name: format!("{attr}:UNIQUE") }
    }

    fn count(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Option<u32> {
        agent.attribute(&self.attr).map(|v| pass.count(task.group(), &v))
    }
}

impl HardConstraint for Unique {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        counting_scope(&self.attr)
    }
    fn allows(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> bool {
        self.count(task, agent, pass) == Some(0)
    }
}

impl SoftConstraint for Unique {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        counting_scope(&self.attr)
    }
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Score {
        self.count(task, agent, pass).map_or(Score::ZERO, decay)
    }
}
