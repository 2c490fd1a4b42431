//! `UNLIKE regex`: the attribute's value must not match a regular expression.

use std::sync::Arc;

use regex::Regex;

use super::like::{anchored, strip};
use crate::plugins::{AgentView, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// `attr:UNLIKE:regex` — the value of `attr` does not fully match `regex`; an agent without the
/// attribute passes.
#[derive(Debug, Clone)]
pub struct Unlike {
    attr: Arc<str>,
    pattern: Regex,
    name: String,
}

impl Unlike {
    /// Rejects agents whose `attr` matches `pattern`; errors when the pattern does not compile.
    pub fn new(attr: &str, pattern: &str) -> Result<Unlike, regex::Error> {
        let pattern = anchored(pattern)?;
        Ok(Unlike { attr: Arc::from(attr), name: format!("{attr}:UNLIKE:{}", strip(&pattern)), pattern })
    }

    fn holds(&self, agent: &AgentView<'_>) -> bool {
        agent.attribute(&self.attr).is_none_or(|v| !self.pattern.is_match(v.as_str()))
    }
}

impl HardConstraint for Unlike {
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

impl SoftConstraint for Unlike {
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
