//! Bounded scores and the scope contract plugins declare.

use std::cmp::Ordering;
use std::sync::Arc;

/// A preference in `[0, 1]`; 1 is best. NaN cannot be a score.
///
/// ```
/// use offerpack::plugins::Score;
/// assert!(Score::new(f64::NAN).is_none());
/// assert_eq!(Score::clamped(1.7), Score::ONE);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score(f64);

impl Score {
    /// The worst score.
    pub const ZERO: Score = Score(0.0);
    /// The best score.
    pub const ONE: Score = Score(1.0);

    /// A score from a value in `[0, 1]`; `None` for NaN or values outside the range.
    pub fn new(value: f64) -> Option<Score> {
        (0.0..=1.0).contains(&value).then_some(Score(value))
    }

    /// A score from any value, clamped into `[0, 1]`; NaN becomes zero.
    pub fn clamped(value: f64) -> Score {
        if value.is_nan() {
            Score::ZERO
        } else {
            Score(value.clamp(0.0, 1.0))
        }
    }

    /// 1 when `yes`, else 0.
    pub fn from_bool(yes: bool) -> Score {
        if yes {
            Score::ONE
        } else {
            Score::ZERO
        }
    }

    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// What a plugin's answer depends on, so the engine knows when it must ask again.
///
/// Declaring a scope narrower than the truth gives wrong plans; wider is always safe but slower.
/// [`Scope::Pass`] is the default for user plugins. Tasks with the same group, asks and plugin
/// objects are interchangeable to the engine, so no plugin may tell them apart by task id; and
/// a [`Scope::Static`] plugin is shared by every group that uses the same object, so it must not
/// look at the task's group either.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scope {
    /// Only the task's asks and the agent's fixed properties (attributes, hostname, sizes).
    Static,
    /// The task and the agent, including what is placed on agents with the same hostname.
    Agent,
    /// The task, the agent's value of this attribute, and per-value counts across the pass;
    /// equal for all agents that share the value.
    Attribute(Arc<str>),
    /// Anything in the pass.
    Pass,
}
