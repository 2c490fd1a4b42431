//! `IS value`: the attribute must equal a value.

use std::sync::Arc;

use crate::plugins::AgentView;

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

agent_attribute_rule!(Is);
