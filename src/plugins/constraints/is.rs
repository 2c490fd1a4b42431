//! `IS value`: the attribute must equal a value.

use std::sync::Arc;

use crate::plugins::{AgentView, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// `attr:IS:value` — the value of `attr` equals `value`; scalar attributes compare as numbers.
#[derive(Debug, Clone)]
pub struct Is {
    attr: Arc<str>,
    value: Arc<str>,
    number: Option<f64>,
    name: String,
}

impl Is {
    /// Requires `attr == value`.
    pub fn new(attr: &str, value: &str) -> Is {
        let number = value.parse::<f64>().ok().filter(|n| n.is_finite());
        Is { attr: Arc::from(attr), value: Arc::from(value), number, name: format!("{attr}:IS:{value}") }
    }

    fn holds(&self, agent: &AgentView<'_>) -> bool {
        agent.attribute(&self.attr).is_some_and(|v| match (v.as_scalar(), self.number) {
            (Some(have), Some(want)) => have == want,
            _ => v.as_str() == &*self.value,
        })
    }
}

impl HardConstraint for Is {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        Scope::Static
    }
    fn allows(&self, _: &TaskView<'_>, agent: &AgentView<'_>, _: &PassView<'_>) -> bool {
        self.holds(agent)
    }
}

impl SoftConstraint for Is {
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        Scope::Static
    }
    fn score(&self, _: &TaskView<'_>, agent: &AgentView<'_>, _: &PassView<'_>) -> Score {
        Score::from_bool(self.holds(agent))
    }
}
