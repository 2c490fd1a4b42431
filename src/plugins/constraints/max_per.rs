//! `MAX_PER n`: at most `n` tasks of the group per value of the attribute.

use std::num::NonZeroU32;
use std::sync::Arc;

use super::counting_scope;
use crate::plugins::{AgentView, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// `attr:MAX_PER:n` — at most `n` tasks of a group per value of `attr`.
#[derive(Debug, Clone)]
pub struct MaxPer {
    attr: Arc<str>,
    limit: u32,
    name: String,
}

impl MaxPer {
    /// At most `limit` tasks per value of `attr`.
    pub fn new(attr: &str, limit: NonZeroU32) -> MaxPer {
        MaxPer { attr: Arc::from(attr), limit: limit.get(), name: format!("{attr}:MAX_PER:{limit}") }
    }

    fn count(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Option<u32> {
        agent.attribute(&self.attr).map(|v| pass.count(task.group(), &v))
    }
}

impl HardConstraint for MaxPer {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        counting_scope(&self.attr)
    }
    fn allows(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> bool {
        self.count(task, agent, pass).is_some_and(|c| c < self.limit)
    }
}

impl SoftConstraint for MaxPer {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        counting_scope(&self.attr)
    }
    /// 1 while under the limit, then halving with every task over it.
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Score {
        match self.count(task, agent, pass) {
            Some(c) if c < self.limit => Score::ONE,
            Some(c) => Score::clamped(0.5f64.powi((c - self.limit + 1).min(64) as i32)),
            None => Score::ZERO,
        }
    }
}
