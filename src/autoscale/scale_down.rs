//! Scale-down: the idle agents of a class its rule lets go.
//!
//! Fenzo's `AutoScaleRule` semantics, with `min_idle` allowed to be zero: a class with more
//! idle agents than `max_idle` offers the excess, but never so many that it falls below
//! `min_size`, and none while it is still within `cooldown` of its last scaling or while the
//! same pass asks it to grow. (Keeping `max_idle ≥ min_idle` idle agents keeps `min_idle` too.)
//! With a balancing attribute, each agent let go comes from the value (such as a zone) that has
//! the most agents of the class among the values with an idle agent left, ties to the smaller
//! value; an agent without the attribute counts under the empty value. Within a value, and
//! without balancing, the idle agents with the smallest ids go first.

use std::collections::BTreeMap;
use std::time::Duration;

use super::classes::ClassInfo;
use crate::model::AgentId;

/// The agents of `class` to let go, sorted by id; `growing` when the pass asks the class to
/// grow, `last_scaled` when it was last scaled.
pub(crate) fn choose(
    class: &ClassInfo<'_>,
    growing: bool,
    last_scaled: Option<Duration>,
    now: Duration,
) -> Vec<AgentId> {
    let rule = class.rule;
    if growing || last_scaled.is_some_and(|at| now < at.saturating_add(rule.cooldown)) {
        return Vec::new();
    }
    let idle: Vec<usize> = (0..class.agents.len()).filter(|&i| class.agents[i].is_idle()).collect();
    let excess = idle.len().saturating_sub(to_usize(rule.max_idle));
    let above_min = class.agents.len().saturating_sub(to_usize(rule.min_size));
    let n = excess.min(above_min);
    if n == 0 {
        return Vec::new();
    }
    let mut chosen: Vec<AgentId> = match &rule.balance_by {
        None => idle[..n].iter().map(|&i| class.agents[i].id.clone()).collect(),
        Some(attribute) => balanced(class, &idle, attribute, n),
    };
    chosen.sort();
    chosen
}

/// `n` of the `idle` agents (indexes, sorted by id), one at a time from the value of
/// `attribute` with the most agents left.
fn balanced(class: &ClassInfo<'_>, idle: &[usize], attribute: &str, n: usize) -> Vec<AgentId> {
    let value_of = |i: usize| class.agents[i].attributes.get(attribute).map_or("", |v| v.as_str());
    // Per value: agents of the class, and its idle agents not yet chosen (in id order).
    let mut values: BTreeMap<&str, (usize, std::collections::VecDeque<usize>)> = BTreeMap::new();
    for i in 0..class.agents.len() {
        values.entry(value_of(i)).or_default().0 += 1;
    }
    for &i in idle {
        values.entry(value_of(i)).or_default().1.push_back(i);
    }
    let mut chosen = Vec::with_capacity(n);
    while chosen.len() < n {
        // The first value (in text order) with the most agents and an idle one left.
        let mut best: Option<(&str, usize)> = None;
        for (value, (count, left)) in &values {
            if !left.is_empty() && best.is_none_or(|(_, most)| *count > most) {
                best = Some((value, *count));
            }
        }
        let Some((value, _)) = best else { break };
        let Some(entry) = values.get_mut(value) else { break };
        let Some(i) = entry.1.pop_front() else { break };
        entry.0 -= 1;
        chosen.push(class.agents[i].id.clone());
    }
    chosen
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
