//! `BALANCE n`: Fenzo's balanced host attribute — no value runs ahead of the others.

use std::num::NonZeroU32;
use std::sync::Arc;

use crate::plugins::{AgentView, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// `attr:BALANCE:n` — with `n` expected values of `attr`, a value may take another task of the
/// group only while it holds fewer than `ceil((tasks of the group + 1) / n)`.
#[derive(Debug, Clone)]
pub struct Balance {
    attr: Arc<str>,
    values: u32,
    name: String,
}

impl Balance {
    /// Balance over `values` expected values of `attr`.
    pub fn new(attr: &str, values: NonZeroU32) -> Balance {
        Balance { attr: Arc::from(attr), values: values.get(), name: format!("{attr}:BALANCE:{values}") }
    }

    /// Tasks on this value, and the most a value may hold before taking one more.
    fn counts(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Option<(u32, u32)> {
        let here = agent.attribute(&self.attr)?;
        let group = task.group();
        let cap = (pass.group_total(group) + 1).div_ceil(self.values);
        Some((pass.count(group, &here), cap))
    }
}

impl HardConstraint for Balance {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        Scope::Attribute(self.attr.clone())
    }
    fn allows(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> bool {
        self.counts(task, agent, pass).is_some_and(|(count, cap)| count < cap)
    }
    /// The cap grows with the group's total, so a full value opens up as tasks land elsewhere.
    fn loosens_as_tasks_are_placed(&self) -> bool {
        true
    }
}

impl SoftConstraint for Balance {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        Scope::Attribute(self.attr.clone())
    }
    /// 1 under the cap, falling with every task over it.
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Score {
        match self.counts(task, agent, pass) {
            Some((count, cap)) if count < cap => Score::ONE,
            Some((count, cap)) => super::decay(count - cap + 1),
            None => Score::ZERO,
        }
    }
}
