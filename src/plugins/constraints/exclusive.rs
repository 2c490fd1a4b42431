//! `EXCLUSIVE`: Fenzo's exclusive host — the group takes agents for itself alone.

use crate::plugins::{AgentView, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// A task with this constraint goes only to an agent running no other group's tasks, and once
/// placed there the engine keeps every other group's tasks off that agent for the pass.
///
/// Running tasks do not say whether they were exclusive, so agents are claimed only by tasks
/// placed in the pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct Exclusive;

impl Exclusive {
    /// The exclusive-host constraint.
    pub fn new() -> Exclusive {
        Exclusive
    }
}

impl HardConstraint for Exclusive {
    fn name(&self) -> &str {
        "EXCLUSIVE"
    }
    fn scope(&self) -> Scope {
        Scope::Agent
    }
    fn allows(&self, task: &TaskView<'_>, agent: &AgentView<'_>, _: &PassView<'_>) -> bool {
        agent.only_group(task.group())
    }
    fn claims_agent(&self) -> bool {
        true
    }
}

impl SoftConstraint for Exclusive {
    fn name(&self) -> &str {
        "EXCLUSIVE"
    }
    fn scope(&self) -> Scope {
        Scope::Agent
    }
    /// As a preference: 1 on agents with only this group's tasks; it claims nothing.
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>, _: &PassView<'_>) -> Score {
        Score::from_bool(agent.only_group(task.group()))
    }
}
