//! `UNLIKE regex`: the attribute's value must not match a regular expression.

use std::sync::Arc;

use regex::Regex;

use super::like::{anchored, strip};
use crate::plugins::AgentView;

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

agent_attribute_rule!(Unlike);
