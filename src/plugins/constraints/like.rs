//! `LIKE regex`: the attribute's value must match a regular expression.

use std::sync::Arc;

use regex::Regex;

use crate::plugins::AgentView;

/// `attr:LIKE:regex` — the whole value of `attr` matches `regex` (anchored, as in Marathon).
#[derive(Debug, Clone)]
pub struct Like {
    attr: Arc<str>,
    pattern: Regex,
    name: String,
}

impl Like {
    /// Matches `attr` against `pattern`; errors when the pattern does not compile.
    pub fn new(attr: &str, pattern: &str) -> Result<Like, regex::Error> {
        let pattern = anchored(pattern)?;
        Ok(Like { attr: Arc::from(attr), name: format!("{attr}:LIKE:{}", strip(&pattern)), pattern })
    }

    fn holds(&self, agent: &AgentView<'_>) -> bool {
        agent.attribute(&self.attr).is_some_and(|v| self.pattern.is_match(v.as_str()))
    }
}

/// Compiles `pattern` so it must match the whole value.
pub(super) fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// The user's pattern back from an anchored regex.
pub(super) fn strip(re: &Regex) -> &str {
    let s = re.as_str();
    &s[4..s.len() - 2]
}

agent_attribute_rule!(Like);
