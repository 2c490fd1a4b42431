//! Session settings: the framework's identity and the timers of the protocol.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::masters::Endpoint;
use super::retry::RetryPolicy;
use crate::engine::{ConfigError, EngineConfig};
use crate::queue::QueueConfig;
use crate::util::SeededRng;

/// One week, the default failover timeout: tasks keep running that long after the scheduler
/// disappears (Mesos' own default, 0, would kill them at once).
pub const DEFAULT_FAILOVER_TIMEOUT: Duration = Duration::from_secs(604_800);

/// The heartbeat interval assumed until `SUBSCRIBED` says otherwise (Mesos hard-codes 15 s).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

/// The master a session talks to unless told otherwise (Mesos' own default address).
pub const DEFAULT_MASTER: &str = "127.0.0.1:5050";

/// A truncated exponential backoff: `initial * 2^attempt`, capped at `max`, with seeded jitter
/// taking each delay into the upper half of its step (`[step/2, step]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The first step.
    pub initial: Duration,
    /// The largest delay ever returned.
    pub max: Duration,
}

impl Backoff {
    /// The delay before retry number `attempt` (0-based), jittered with `rng`.
    pub fn delay(&self, attempt: u32, rng: &mut SeededRng) -> Duration {
        let step = self.initial.saturating_mul(1u32 << attempt.min(20)).min(self.max);
        let half = step / 2;
        half + half.mul_f64(rng.unit())
    }
}

/// Everything a [`Session`](super::Session) needs to know. Build it with [`SessionConfig::new`]
/// and change the public fields.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Framework name (`FrameworkInfo.name`).
    pub name: String,
    /// The user tasks run as (`FrameworkInfo.user`; mandatory for HTTP frameworks).
    pub user: String,
    /// Roles to subscribe with (MULTI_ROLE); default `["*"]`.
    pub roles: Vec<String>,
    /// How long the master keeps the framework's tasks after the scheduler disconnects.
    pub failover_timeout: Duration,
    /// Whether agents checkpoint the framework's tasks (so they survive agent restarts).
    pub checkpoint: bool,
    /// Principal for authentication and reservations.
    pub principal: Option<String>,
    /// Capabilities announced besides `MULTI_ROLE` (always sent); none by default.
    pub capabilities: Vec<super::Capability>,
    /// Hostname the master shows for the framework.
    pub hostname: Option<String>,
    /// Web UI address the master shows.
    pub webui_url: Option<String>,
    /// Framework id of an earlier incarnation to fail over from (resubscribe as it).
    pub framework_id: Option<String>,
    /// `Filters.refuse_seconds` for declines and accepts: how long unused resources stay away.
    pub refuse_seconds: f64,
    /// The scheduling engine's settings.
    pub engine: EngineConfig,
    /// How long an offer is held before it is declined unused.
    pub offer_hold: Duration,
    /// Delay between a change (offers arrived, task submitted) and the scheduling pass, to batch
    /// offers that arrive together. Zero runs the pass within the input that caused it.
    pub schedule_delay: Duration,
    /// Reconnect backoff (the protocol asks for at most 15 s).
    pub reconnect: Backoff,
    /// Heartbeat intervals without any event after which the connection counts as dead.
    pub missed_heartbeats: u32,
    /// Backoff between explicit reconciliation rounds until every task has answered.
    pub reconcile: Backoff,
    /// Interval of implicit reconciliation (all tasks); `None` turns it off.
    pub implicit_reconcile: Option<Duration>,
    /// How tasks that fail or are lost are retried, unless their request says otherwise
    /// (default: one attempt, no retry; see [`RetryPolicy`]).
    pub retry: RetryPolicy,
    /// Retry policies per queue bucket: a task whose request names no policy follows its
    /// bucket's, else [`SessionConfig::retry`].
    pub bucket_retry: BTreeMap<String, RetryPolicy>,
    /// Tiers and buckets (weights, guarantees, limits) to place pending tasks by, in queue
    /// order (see [`Engine::plan_queued`](crate::Engine::plan_queued)); each task's place is
    /// [`TaskRequest::queue`](super::TaskRequest::queue). `None` places by priority, then
    /// submission order.
    pub queue: Option<QueueConfig>,
    /// What the dependents ([`TaskRequest::after`](super::TaskRequest::after)) of a task that
    /// ended otherwise than finished do: fail (the default) or run anyway.
    pub on_predecessor_failure: crate::deps::OnPredecessorFailure,
    /// Places nothing: passes neither launch nor decline, offers stay in the pool until they
    /// expire, for [`Session::what_if`](super::Session::what_if) questions (`run --dry-run`).
    pub dry_run: bool,
    /// Disruption budgets to preempt under: `Some` lets a pending task that fits nowhere evict
    /// running tasks of lower standing (see [`preempt`](crate::preempt)); the session kills
    /// them and launches the task once their resources are offered again. `None` (the
    /// default) never preempts.
    pub preemption: Option<crate::preempt::DisruptionBudgets>,
    /// Whether a submitted task the session killed for preemption goes back to pending when it
    /// ended (reported with [`Update::Preempted`](super::Update::Preempted)), to be placed again
    /// when there is room, without spending its retries: `true` (the default), as
    /// kube-scheduler and Marathon do. `false` lets victims end `KILLED`, for a framework that
    /// resubmits them itself.
    pub requeue_preempted: bool,
    /// The masters' scheduler API endpoints, tried in turn until one leads (default
    /// [`DEFAULT_MASTER`]; the driver sets them from its `FrameworkConfig::masters`).
    pub masters: Vec<Endpoint>,
    /// How a call or an operator API read that found no master to take it (503, 429, other
    /// transient 5xx, 404, no connection) is sent again: `attempts` in all, the first included
    /// (default 4, first delay 250 ms doubling up to 30 s, ±20 % jitter; the driver sets
    /// `attempts` and `backoff` from its `call_retries` and `retry_delay`).
    pub call_retry: RetryPolicy,
    /// Seed of the jitter.
    pub seed: u64,
    /// Autoscaling rules: with them, each pass also computes autoscaling hints, reported as
    /// [`Update::ScaleHints`](super::Update::ScaleHints) when they change (see
    /// [`crate::autoscale`]); `None` (the default) computes none.
    pub autoscale: Option<crate::autoscale::AutoscaleConfig>,
}

impl SessionConfig {
    /// Defaults for a framework `name` running tasks as `user`.
    pub fn new(name: impl Into<String>, user: impl Into<String>) -> SessionConfig {
        SessionConfig {
            name: name.into(),
            user: user.into(),
            roles: vec!["*".to_owned()],
            failover_timeout: DEFAULT_FAILOVER_TIMEOUT,
            checkpoint: true,
            principal: None,
            capabilities: Vec::new(),
            hostname: None,
            webui_url: None,
            framework_id: None,
            refuse_seconds: 5.0,
            engine: EngineConfig::default(),
            offer_hold: Duration::from_secs(60),
            schedule_delay: Duration::from_millis(50),
            reconnect: Backoff { initial: Duration::from_millis(500), max: Duration::from_secs(15) },
            missed_heartbeats: 5,
            reconcile: Backoff { initial: Duration::from_secs(5), max: Duration::from_secs(300) },
            implicit_reconcile: Some(Duration::from_secs(15 * 60)),
            retry: RetryPolicy::default(),
            bucket_retry: BTreeMap::new(),
            queue: None,
            on_predecessor_failure: crate::deps::OnPredecessorFailure::default(),
            dry_run: false,
            preemption: None,
            requeue_preempted: true,
            masters: Endpoint::parse(DEFAULT_MASTER).into_iter().collect(),
            call_retry: RetryPolicy::attempts(4).with_backoff(Duration::from_millis(250), Duration::from_secs(30)),
            seed: 0x6f66_6665_7270_6163,
            autoscale: None,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<(), SessionConfigError> {
        let bad = |what: &str| Err(SessionConfigError::Invalid(what.to_owned()));
        if self.name.is_empty() {
            return bad("name is empty");
        }
        if self.user.is_empty() {
            return bad("user is empty");
        }
        if self.roles.is_empty() || self.roles.iter().any(String::is_empty) {
            return bad("roles must be a non-empty list of non-empty names");
        }
        if !(self.refuse_seconds.is_finite() && self.refuse_seconds >= 0.0) {
            return bad("refuse_seconds must be finite and not negative");
        }
        if self.missed_heartbeats == 0 {
            return bad("missed_heartbeats must be at least 1");
        }
        for (name, backoff) in [("reconnect", self.reconnect), ("reconcile", self.reconcile)] {
            if backoff.initial.is_zero() || backoff.max < backoff.initial {
                return Err(SessionConfigError::Invalid(format!("{name} backoff needs 0 < initial <= max")));
            }
        }
        if self.implicit_reconcile.is_some_and(|d| d.is_zero()) {
            return bad("implicit_reconcile interval is zero");
        }
        if self.framework_id.as_ref().is_some_and(String::is_empty) {
            return bad("framework_id is empty");
        }
        if self.masters.is_empty() {
            return bad("masters is empty");
        }
        self.call_retry.validate().map_err(|e| SessionConfigError::Invalid(format!("call_retry: {e}")))?;
        self.retry.validate().map_err(|e| SessionConfigError::Invalid(e.to_string()))?;
        for (bucket, policy) in &self.bucket_retry {
            policy.validate().map_err(|e| SessionConfigError::Invalid(format!("retry of bucket {bucket}: {e}")))?;
        }
        match &self.queue {
            Some(queue) => queue.validate().map_err(|e| SessionConfigError::Invalid(format!("queue: {e}"))),
            None => Ok(()),
        }
    }
}

/// Settings a session cannot work with.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SessionConfigError {
    /// A setting is out of range; the text says which.
    Invalid(String),
    /// The engine settings are invalid.
    Engine(ConfigError),
}

impl fmt::Display for SessionConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(what) => write!(f, "invalid session config: {what}"),
            Self::Engine(error) => write!(f, "invalid engine config: {error}"),
        }
    }
}

impl std::error::Error for SessionConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters_within_upper_half() {
        let backoff = Backoff { initial: Duration::from_secs(1), max: Duration::from_secs(15) };
        let mut rng = SeededRng::new(3);
        for (attempt, step) in [(0, 1), (1, 2), (2, 4), (3, 8), (4, 15), (30, 15)] {
            let delay = backoff.delay(attempt, &mut rng);
            let step = Duration::from_secs(step);
            assert!(delay >= step / 2 && delay <= step, "attempt {attempt}: {delay:?}");
        }
    }

    #[test]
    fn config_validate_rejects_bad_settings() {
        let good = SessionConfig::new("fw", "root");
        assert_eq!(good.validate(), Ok(()));
        assert_eq!(good.failover_timeout, Duration::from_secs(604_800));
        let mut bad = good.clone();
        bad.user.clear();
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.refuse_seconds = f64::NAN;
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.roles.clear();
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.reconnect.initial = Duration::ZERO;
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.masters.clear();
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.call_retry.attempts = 0;
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.retry.jitter = 2.0;
        assert!(bad.validate().is_err());
        let mut bad = good.clone();
        bad.bucket_retry.insert("batch".into(), RetryPolicy { attempts: 0, ..RetryPolicy::default() });
        assert!(bad.validate().is_err());
        let mut bad = good;
        let mut queue = QueueConfig::default();
        queue.buckets.insert("batch".into(), crate::queue::BucketConfig { weight: -1.0, ..Default::default() });
        bad.queue = Some(queue);
        assert!(bad.validate().is_err());
    }
}
