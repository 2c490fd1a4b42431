//! `CLUSTER [value]`: all tasks of the group on one value of the attribute.

use std::sync::Arc;

use crate::plugins::{AgentView, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// `attr:CLUSTER[:value]` — every task on agents whose `attr` equals `value`; without a value,
/// on the value of the first task placed (Marathon's semantics).
#[derive(Debug, Clone)]
pub struct Cluster {
    attr: Arc<str>,
    value: Option<Arc<str>>,
    name: String,
}

impl Cluster {
    /// Tasks on `attr == value`, or together on any one value when `value` is `None`.
    pub fn new(attr: &str, value: Option<&str>) -> Cluster {
        let name = match value {
            Some(v) => format!("{attr}:CLUSTER:{v}"),
            None => format!("{attr}:CLUSTER"),
        };
        Cluster { attr: Arc::from(attr), value: value.map(Arc::from), name }
    }

    fn holds(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> bool {
        let Some(here) = agent.attribute(&self.attr) else {
            return false;
        };
        match &self.value {
            Some(v) => here.as_str() == &**v,
            None => {
                let used = pass.distinct_values(task.group(), here.key());
                used == 0 || (used == 1 && pass.count(task.group(), &here) > 0)
            }
        }
    }
}

impl HardConstraint for Cluster {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        if self.value.is_some() {
            Scope::Static
        } else {
            Scope::Attribute(self.attr.clone())
        }
    }
    fn allows(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> bool {
        self.holds(task, agent, pass)
    }
}

impl SoftConstraint for Cluster {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        HardConstraint::scope(self)
    }
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Score {
        Score::from_bool(self.holds(task, agent, pass))
    }
}
