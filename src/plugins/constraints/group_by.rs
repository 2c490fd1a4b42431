//! `GROUP_BY [n]`: spread the group evenly over the attribute's values.

use std::sync::Arc;

use crate::plugins::{AgentView, AttrRef, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// `attr:GROUP_BY[:n]` — even spread over the values of `attr`.
///
/// As in Marathon, a value is acceptable when no task of the group uses it yet, or when at least
/// `n` values are in use and this value holds the fewest tasks among them. The soft form scores
/// `1 / (1 + count - fewest)`, counting values that agents have but the group does not use yet as
/// holding none, so emptier values are preferred.
#[derive(Debug, Clone)]
pub struct GroupBy {
    attr: Arc<str>,
    expected: u32,
    name: String,
}

impl GroupBy {
    /// Spread over `attr`, expecting at least `expected` values (0 or 1: no expectation).
    pub fn new(attr: &str, expected: u32) -> GroupBy {
        let name = match expected {
            0 => format!("{attr}:GROUP_BY"),
            n => format!("{attr}:GROUP_BY:{n}"),
        };
        GroupBy { attr: Arc::from(attr), expected, name }
    }

    /// Tasks on this value, and the fewest on any value (0 while some known or expected value
    /// holds none).
    fn counts(&self, task: &TaskView<'_>, here: &AttrRef<'_>, pass: &PassView<'_>) -> (u32, u32) {
        let group = task.group();
        let count = pass.count(group, here);
        let in_use = pass.distinct_values(group, here.key());
        let values = pass.known_values(here.key()).max(self.expected as usize);
        if count == 0 || in_use < values {
            return (count, 0);
        }
        (count, pass.value_counts(group, here.key()).min().unwrap_or(0))
    }
}

impl HardConstraint for GroupBy {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        Scope::Attribute(self.attr.clone())
    }
    fn allows(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> bool {
        let Some(here) = agent.attribute(&self.attr) else {
            return false;
        };
        let group = task.group();
        let count = pass.count(group, &here);
        if count == 0 {
            return true;
        }
        let in_use = pass.distinct_values(group, here.key());
        in_use >= self.expected as usize && pass.value_counts(group, here.key()).all(|c| c >= count)
    }
    /// A value held back for being ahead opens up as other values catch up.
    fn loosens_as_tasks_are_placed(&self) -> bool {
        true
    }
}

impl SoftConstraint for GroupBy {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        Scope::Attribute(self.attr.clone())
    }
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Score {
        let Some(here) = agent.attribute(&self.attr) else {
            return Score::ZERO;
        };
        let (count, fewest) = self.counts(task, &here, pass);
        super::decay(count.saturating_sub(fewest))
    }
}
