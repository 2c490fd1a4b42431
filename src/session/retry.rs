//! Task retries: how often a task that ended badly is launched again, and after how long.
//!
//! A [`RetryPolicy`] comes from [`SessionConfig::retry`](super::SessionConfig::retry) or, for one
//! task, from [`TaskRequest::retry`](super::TaskRequest::retry). The default allows one attempt
//! (no retry): a session behaves as before unless its user opts in.
//!
//! # Which ends are retried
//!
//! Only a task submitted to this session is retried (an adopted task has no request to launch
//! again), and only while it has attempts left. An attempt is a launch that reached an agent (or
//! the master) and ended there; a launch sent back because its offers were rescinded or the
//! ACCEPT never went through is placed again at once and counts no attempt.
//!
//! | end | retried | why |
//! |---|---|---|
//! | `TASK_FINISHED` | never | the task did its work |
//! | `TASK_KILLED` | never | someone (this framework, an operator, a teardown) wanted it dead |
//! | `TASK_FAILED` | yes | the command failed; it may succeed elsewhere or later |
//! | `TASK_ERROR` | no | the task description is invalid: the same description fails again |
//! | `TASK_LOST`, `TASK_DROPPED` | yes | the agent or the launch went away, not the task's fault (this covers an agent removed while the task was launched or running: the master reports its tasks lost) |
//! | `TASK_GONE`, `TASK_GONE_BY_OPERATOR` | yes | the agent is gone for good; the task can run elsewhere |
//! | a kill asked for by the framework | never | even when the task then ends otherwise |
//!
//! # Attempts and Mesos task ids
//!
//! Mesos lets a framework reuse a task id only once the old task is over, and a late update
//! about the old attempt could not be told apart from the new one. So attempt 1 runs under the
//! user's task id and attempt `n + 1` under `<id>.retry-<n>` (a further suffix is added in the
//! unlikely case that this id is taken). Every [`TaskUpdate`](super::TaskUpdate) and
//! [`Update::GaveUp`](super::Update::GaveUp) names the user's id; updates about earlier
//! attempts are acknowledged and otherwise ignored.
//!
//! # What the framework sees
//!
//! An attempt that is retried is reported as a task update back to
//! [`TaskState::Pending`](super::TaskState::Pending) (with the attempt's agent, reason and
//! source, and a message saying which state ended it and when the next attempt may start),
//! never as a terminal state. Every submitted task then ends in exactly one terminal update:
//! `Finished`, `Killed`, or another terminal state followed by [`Update::GaveUp`](super::Update::GaveUp).

use std::fmt;
use std::time::Duration;

use super::update::TaskState;
use crate::util::SeededRng;

/// How a task is retried: up to `attempts` launches in all, with an exponential, capped and
/// jittered delay before each new one.
///
/// The delay before attempt `n + 1` (after `n` attempts ended) is
/// `min(backoff × multiplier^(n-1), max_backoff)`, then scaled by a factor drawn uniformly from
/// `[1 - jitter, 1 + jitter]` with the session's seeded generator.
///
/// ```
/// use std::time::Duration;
/// use offerpack::session::RetryPolicy;
///
/// let policy = RetryPolicy::attempts(4).with_jitter(0.0);
/// assert_eq!(policy.validate(), Ok(()));
/// assert_eq!(policy.base_delay(1), Duration::from_secs(1));
/// assert_eq!(policy.base_delay(3), Duration::from_secs(4));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Launches in all, the first included: 1 never retries.
    pub attempts: u32,
    /// The delay before the second attempt.
    pub backoff: Duration,
    /// The largest delay before jitter.
    pub max_backoff: Duration,
    /// How much each delay grows over the one before (at least 1).
    pub multiplier: f64,
    /// The share of a delay by which it is moved at random either way, in `[0, 1]`.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    /// One attempt (no retry); were retries turned on by raising `attempts`: 1 s doubling up to
    /// 60 s, ±20 %.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 1,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The default policy with `attempts` launches in all.
    pub fn attempts(attempts: u32) -> RetryPolicy {
        RetryPolicy { attempts, ..RetryPolicy::default() }
    }

    /// Sets the first delay and its cap.
    pub fn with_backoff(mut self, backoff: Duration, max_backoff: Duration) -> RetryPolicy {
        self.backoff = backoff;
        self.max_backoff = max_backoff;
        self
    }

    /// Sets the growth factor.
    pub fn with_multiplier(mut self, multiplier: f64) -> RetryPolicy {
        self.multiplier = multiplier;
        self
    }

    /// Sets the jitter share.
    pub fn with_jitter(mut self, jitter: f64) -> RetryPolicy {
        self.jitter = jitter;
        self
    }

    /// Checks the settings: at least one attempt, `backoff <= max_backoff`, a finite
    /// `multiplier >= 1` and `jitter` in `[0, 1]`.
    pub fn validate(&self) -> Result<(), RetryPolicyError> {
        let bad = |what: &str| Err(RetryPolicyError(what.to_owned()));
        if self.attempts == 0 {
            return bad("attempts must be at least 1");
        }
        if self.max_backoff < self.backoff {
            return bad("max_backoff is below backoff");
        }
        if !(self.multiplier.is_finite() && self.multiplier >= 1.0) {
            return bad("multiplier must be finite and at least 1");
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return bad("jitter must be in [0, 1]");
        }
        Ok(())
    }

    /// The delay before the next attempt once `ended` attempts (at least 1) have ended, before
    /// jitter.
    pub fn base_delay(&self, ended: u32) -> Duration {
        let steps = ended.saturating_sub(1).min(1_000) as i32;
        let factor = self.multiplier.powi(steps);
        let secs = self.backoff.as_secs_f64() * factor;
        let max = self.max_backoff.as_secs_f64();
        if secs.is_finite() && secs < max {
            Duration::from_secs_f64(secs)
        } else {
            self.max_backoff
        }
    }

    /// [`base_delay`](Self::base_delay) moved by a jitter drawn from `rng`.
    pub fn delay(&self, ended: u32, rng: &mut SeededRng) -> Duration {
        let base = self.base_delay(ended);
        let factor = 1.0 + self.jitter * (2.0 * rng.unit() - 1.0);
        base.mul_f64(factor.clamp(0.0, 2.0))
    }
}

/// Whether a task that ended in `state` may be launched again: after FAILED, ERROR, LOST,
/// DROPPED, GONE and GONE_BY_OPERATOR; never after FINISHED or KILLED. An ERROR can depend on
/// where the task went (an executor's resources over-committing its agent), so another attempt
/// elsewhere may run; a launch the master refused outright three times is given up by the
/// session without a retry.
pub fn retries(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::Failed
            | TaskState::Error
            | TaskState::Lost
            | TaskState::Dropped
            | TaskState::Gone
            | TaskState::GoneByOperator
    )
}

/// A [`RetryPolicy`] that cannot be used; the text says why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicyError(String);

impl fmt::Display for RetryPolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid retry policy: {}", self.0)
    }
}

impl std::error::Error for RetryPolicyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_policy_backoff_grows_and_is_capped() {
        let policy = RetryPolicy::attempts(10)
            .with_backoff(Duration::from_millis(100), Duration::from_secs(1))
            .with_multiplier(3.0);
        let delays: Vec<u128> = (1..=5).map(|n| policy.base_delay(n).as_millis()).collect();
        assert_eq!(delays, [100, 300, 900, 1000, 1000]);
        assert_eq!(policy.base_delay(u32::MAX), Duration::from_secs(1));
        let flat = policy.with_multiplier(1.0);
        assert_eq!(flat.base_delay(7), Duration::from_millis(100));
    }

    #[test]
    fn retry_policy_jitter_stays_within_bounds_and_follows_the_seed() {
        let policy = RetryPolicy::attempts(5).with_backoff(Duration::from_secs(10), Duration::from_secs(10));
        let draw = |seed| {
            let mut rng = SeededRng::new(seed);
            (0..200).map(|_| policy.delay(1, &mut rng)).collect::<Vec<_>>()
        };
        let delays = draw(7);
        assert!(delays.iter().all(|d| *d >= Duration::from_secs(8) && *d <= Duration::from_secs(12)));
        assert!(delays.iter().any(|d| *d < Duration::from_secs(9)), "jitter reaches down");
        assert!(delays.iter().any(|d| *d > Duration::from_secs(11)), "jitter reaches up");
        assert_eq!(delays, draw(7));
        assert_ne!(delays, draw(8));
        let mut rng = SeededRng::new(1);
        assert_eq!(policy.with_jitter(0.0).delay(3, &mut rng), Duration::from_secs(10));
    }

    #[test]
    fn retry_policy_validate_rejects_bad_settings() {
        assert_eq!(RetryPolicy::default().validate(), Ok(()));
        assert_eq!(RetryPolicy::default().attempts, 1);
        assert!(RetryPolicy::attempts(0).validate().is_err());
        assert!(RetryPolicy::attempts(2).with_multiplier(0.5).validate().is_err());
        assert!(RetryPolicy::attempts(2).with_multiplier(f64::NAN).validate().is_err());
        assert!(RetryPolicy::attempts(2).with_jitter(1.5).validate().is_err());
        assert!(RetryPolicy::attempts(2).with_jitter(-0.1).validate().is_err());
        let inverted = RetryPolicy::attempts(2).with_backoff(Duration::from_secs(2), Duration::from_secs(1));
        assert!(inverted.validate().is_err());
    }

    #[test]
    fn retries_only_failures_and_losses() {
        use TaskState::*;
        for state in [Failed, Error, Lost, Dropped, Gone, GoneByOperator] {
            assert!(retries(state), "{state}");
        }
        for state in [Finished, Killed, Running, Pending, Unreachable] {
            assert!(!retries(state), "{state}");
        }
    }
}
