//! The scheduler session: a sans-IO state machine speaking the Mesos v1 scheduler protocol
//! (feature `mesos`).
//!
//! It does no I/O, reads no clock and draws randomness only from a seeded
//! [`SeededRng`](crate::util::SeededRng). Time comes in as `now`, a [`Duration`](std::time::Duration) since any epoch
//! the caller keeps fixed; what to send comes out as values. The async
//! [`driver`](crate::driver) (feature `driver`) wires it to HTTP; tests drive it directly on a
//! virtual clock.
//!
//! # Inputs (`handle_*` and user commands)
//!
//! | input | when |
//! |---|---|
//! | [`Session::handle_timeout`] | the deadline from [`Session::poll_timeout`] has passed (a new session's first deadline is zero: that is when it subscribes) |
//! | [`Session::handle_subscribed`] | the SUBSCRIBE POST was answered `200` with a `Mesos-Stream-Id` |
//! | [`Session::handle_subscribe_failed`] | the SUBSCRIBE POST failed (status other than 200, [`CallOutcome::Redirect`] for a 307, or no connection) |
//! | [`Session::handle_event`] | an `Event` was decoded from the stream |
//! | [`Session::handle_disconnected`] | the event stream ended or broke |
//! | [`Session::handle_call_result`] | a call from [`Action::Send`] was answered (202, 307, 4xx, 5xx) or could not be sent |
//! | [`Session::handle_query_result`] | a read from [`Action::Query`] was answered or failed |
//! | [`Session::submit`], [`Session::kill`], [`Session::stop`] | the user's commands |
//!
//! # Outputs, drained in this order after every input
//!
//! 1. [`Session::poll_action`] until `None`: [`Action::Subscribe`] (open the event stream with
//!    this call, no stream id, at the endpoint named), [`Action::Send`] (POST the call to the
//!    endpoint named, with the current
//!    [`Session::stream_id`], report with `handle_call_result`), [`Action::Disconnect`] (drop the
//!    stream and report every queued, unsent call as [`CallOutcome::NotSent`]), [`Action::Query`]
//!    (read the operator API on a request of its own, report with `handle_query_result`), [`Action::Stopped`]
//!    (the session is over). Actions must be carried out in order. Calls may be sent
//!    concurrently, provided a task's ACKNOWLEDGEs keep their order and SUPPRESS, REVIVE,
//!    KILL and RECONCILE overtake nothing and are overtaken by nothing; a TEARDOWN may overtake
//!    calls not yet sent (it makes them moot) but nothing may follow it. Answers may come back
//!    in any order.
//! 2. [`Session::poll_update`] until `None`: [`Update`]s for the user.
//! 3. [`Session::poll_timeout`]: when to call `handle_timeout` next (`None`: nothing is timed).
//!
//! # Who decides what
//!
//! The session holds every protocol policy; the driver carries out one HTTP request per action
//! at the endpoint the action names and reports the raw result. The session chooses the master
//! (the known leader, else the configured masters in turn after failures), follows `307`
//! redirects ([`CallOutcome::Redirect`], at most [`MAX_REDIRECTS`] per request), and sends
//! calls and operator reads again after `503`s and connection failures with seeded, jittered
//! exponential backoff ([`SessionConfig::call_retry`]); see `masters.rs` and `resend.rs`.
//!
//! # What it does
//!
//! - Subscribes, and re-subscribes after any loss with the framework id it got, with jittered
//!   exponential backoff capped by [`SessionConfig::reconnect`] (15 s by default). Counts the
//!   connection dead after [`SessionConfig::missed_heartbeats`] heartbeat intervals without an
//!   event (75 s by default), including while waiting for `SUBSCRIBED`.
//! - Offers are converted with `model::Offer::try_from` (a malformed one is a
//!   [`Warning::MalformedOffer`] and is declined), held by a [`Scheduler`](crate::Scheduler)
//!   beside their original protos, and used by a scheduling pass
//!   [`SessionConfig::schedule_delay`] after offers or tasks arrive. The scheduler keeps its
//!   compiled state and running set from pass to pass (in step with the tasks' life cycle, see
//!   `running.rs`), so a pass costs what changed since the last one. Each agent with launches gets
//!   one ACCEPT with one LAUNCH whose `TaskInfo.resources` are copies of the offered resources
//!   (keeping `allocation_info`, `reservations`, `role`) in the plan's amounts and roles; ports
//!   become ranges of the assigned ports (and `PORT0`, `PORT1`, … in a command's environment).
//!   Unused offers are declined with [`SessionConfig::refuse_seconds`].
//! - SUPPRESS when nothing is pending or in flight; REVIVE when tasks are pending again.
//! - Every `UPDATE` carrying a uuid is acknowledged (every copy: the agent re-sends until it hears
//!   the ack); updates without uuid never are.
//! - Knows where its tasks run: every offer's hostname and attributes are kept per agent for as
//!   long as the framework has tasks there, and the scheduler counts running tasks on them, so
//!   hard constraints hold across passes. A scheduler taking over a framework (a configured
//!   framework id) first lists the framework's tasks and any unknown agents through the
//!   operator API ([`Action::Query`]) and places nothing until it knows (see `operator.rs` for
//!   the policy when the API fails).
//! - After every (re-)subscription, explicit reconciliation of the launched tasks, repeated with
//!   [`SessionConfig::reconcile`] backoff until each has answered; implicit reconciliation every
//!   [`SessionConfig::implicit_reconcile`].
//! - A launch whose offer was rescinded comes back as `TASK_LOST`/`TASK_DROPPED` with
//!   `REASON_INVALID_OFFERS`: the task is pending again and placed anew. A launch that certainly
//!   never reached the master ([`CallOutcome::NotSent`], 403, 4xx) is pending again too; one whose
//!   fate is unknown (connection lost mid-call, 503) is reconciled. A task is never handed to the
//!   engine while its launch is in flight.
//! - A task that fails or is lost (`TASK_FAILED`, `TASK_ERROR`, `TASK_LOST`, `TASK_DROPPED`,
//!   `TASK_GONE*`, including every task of a removed agent) is retried by its [`RetryPolicy`]
//!   (the request's own, its bucket's in [`SessionConfig::bucket_retry`], else
//!   [`SessionConfig::retry`]; one attempt, no retry, by default): it is
//!   reported pending again and placed no earlier than its ready time, after a capped exponential
//!   backoff with seeded jitter, under the Mesos id `<id>.retry-<n>`. Once out of attempts (or
//!   after a state never retried, such as `TASK_KILLED`) its terminal update is followed by
//!   [`Update::GaveUp`]. See `retry.rs` for the table of states.
//!
//! Scenario:
//!
//! ```
//! use std::time::Duration;
//! use offerpack::mesos::v1::scheduler::{call, event, Event};
//! use offerpack::mesos::v1;
//! use offerpack::session::{Action, Session, SessionConfig};
//!
//! let mut session = Session::new(SessionConfig::new("demo", "root")).unwrap();
//! assert_eq!(session.poll_timeout(), Some(Duration::ZERO));
//! session.handle_timeout(Duration::ZERO);
//! let Some(Action::Subscribe(subscribe, master)) = session.poll_action() else { panic!() };
//! assert_eq!(master.url(), "http://127.0.0.1:5050/api/v1/scheduler");
//! assert_eq!(subscribe.r#type, Some(call::Type::Subscribe as i32));
//!
//! session.handle_subscribed("stream-1".into(), Duration::from_millis(5));
//! let subscribed = Event {
//!     r#type: Some(event::Type::Subscribed as i32),
//!     subscribed: Some(event::Subscribed {
//!         framework_id: v1::FrameworkId { value: "fw-1".into() },
//!         heartbeat_interval_seconds: Some(15.0),
//!         master_info: None,
//!     }),
//!     ..Default::default()
//! };
//! session.handle_event(subscribed, Duration::from_millis(6));
//! assert_eq!(session.framework_id(), Some("fw-1"));
//! assert_eq!(session.stream_id(), Some("stream-1"));
//! ```

mod agents;
mod autoscale;
mod calls;
mod capability;
mod carve;
mod config;
mod events;
mod groups;
mod leader;
mod machine;
mod masters;
mod operator;
mod preempting;
mod report;
mod request;
mod resend;
mod retry;
mod running;
mod schedule;
mod tasks;
mod update;
mod waits;
mod what_if;
mod zk_detect;

#[cfg(test)]
mod tests;

use std::fmt;

pub use agents::KnownAgent;
pub use autoscale::ScaleHintsUpdate;
pub use capability::Capability;
pub use config::{
    Backoff, SessionConfig, SessionConfigError, DEFAULT_FAILOVER_TIMEOUT, DEFAULT_HEARTBEAT, DEFAULT_MASTER,
};
pub use groups::{gang_executor_id, GANG_EXECUTOR_RESOURCES};
pub use machine::Session;
pub use masters::{Endpoint, EndpointError, MAX_REDIRECTS, OPERATOR_PATH, SCHEDULER_PATH};
#[cfg(feature = "driver")]
pub(crate) use operator::holds_resources;
pub use operator::{AgentReport, OperatorQuery, QueryAnswer, TaskReport, CLAIM_LABEL, GROUP_LABEL, MAX_QUERY_ATTEMPTS};
pub use report::{summarize_unplaced, UnplacedSummary};
pub use request::{CommandSpec, ExecutorSpec, Resume, Run, TaskRequest, UriSpec};
pub use retry::{retries, RetryPolicy, RetryPolicyError};
pub use update::{PassReport, StopReason, TaskState, TaskUpdate, UnknownTaskState, Update, UpdateSource, Warning};
pub use what_if::WhatIfError;
pub use zk_detect::{
    leader_of, master_info_json, redirect_target, standing, Contender, DetectError, Standing, ZkUrl, ZkUrlError,
    DEFAULT_ZK_PORT, JSON_LABEL, PROTOBUF_LABEL,
};

use crate::mesos::v1::scheduler::{call, Call};
use crate::model::TaskId;

/// Identifies one call handed out with [`Action::Send`], for [`Session::handle_call_result`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// What the session asks its driver to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open the event stream: POST this SUBSCRIBE without a stream id to this endpoint (once,
    /// following no redirect), then report with [`Session::handle_subscribed`] or
    /// [`Session::handle_subscribe_failed`].
    Subscribe(Call, Endpoint),
    /// POST this call with the current stream id on its own request to this endpoint (once:
    /// the session itself retries and follows redirects); report the answer with
    /// [`Session::handle_call_result`]. The same [`CallId`] comes again when the session sends
    /// a call again.
    Send(CallId, Call, Endpoint),
    /// Read this from the master's operator API at this endpoint (`POST /api/v1`, not on the
    /// event stream's connection; once) and report the answer with
    /// [`Session::handle_query_result`].
    Query(CallId, OperatorQuery, Endpoint),
    /// Close the event stream; report queued calls as [`CallOutcome::NotSent`].
    Disconnect,
    /// The session is over; no further action follows.
    Stopped,
}

/// The kind of a call, from its `type` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CallKind {
    /// `SUBSCRIBE`.
    Subscribe,
    /// `TEARDOWN`.
    Teardown,
    /// `ACCEPT`.
    Accept,
    /// `DECLINE`.
    Decline,
    /// `REVIVE`.
    Revive,
    /// `SUPPRESS`.
    Suppress,
    /// `KILL`.
    Kill,
    /// `ACKNOWLEDGE`.
    Acknowledge,
    /// `RECONCILE`.
    Reconcile,
    /// Any other call type.
    Other,
}

impl CallKind {
    /// The kind of `call`.
    pub fn of(call: &Call) -> CallKind {
        match call.r#type.and_then(|t| call::Type::try_from(t).ok()) {
            Some(call::Type::Subscribe) => Self::Subscribe,
            Some(call::Type::Teardown) => Self::Teardown,
            Some(call::Type::Accept) => Self::Accept,
            Some(call::Type::Decline) => Self::Decline,
            Some(call::Type::Revive) => Self::Revive,
            Some(call::Type::Suppress) => Self::Suppress,
            Some(call::Type::Kill) => Self::Kill,
            Some(call::Type::Acknowledge) => Self::Acknowledge,
            Some(call::Type::Reconcile) => Self::Reconcile,
            _ => Self::Other,
        }
    }
}

/// How a call (or the SUBSCRIBE request) ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallOutcome {
    /// 2xx: the master took it.
    Accepted,
    /// 403: the master says the framework is not subscribed; the call was not processed.
    NotSubscribed,
    /// Another 4xx (or a non-retryable 5xx such as 501): the call was not processed.
    Rejected {
        /// HTTP status.
        status: u16,
        /// The master's explanation (the response body).
        message: String,
    },
    /// 503, 429, another transient 5xx, 404 or a connection failure: the call may or may not
    /// have been processed. The session sends a call or read again on this outcome (see
    /// [`SessionConfig::call_retry`]); only when the attempts are spent does it count as failed.
    Unavailable(String),
    /// 307: another master leads. `location` is the `Location` header (often protocol-relative,
    /// `//host:port/path`); the session follows it, up to [`MAX_REDIRECTS`] times per request.
    Redirect {
        /// The `Location` header.
        location: String,
    },
    /// The driver dropped it before sending (the stream was closed first).
    NotSent,
    /// No connection, for a reason asking again cannot fix (e.g. the master's TLS certificate
    /// is not trusted, has expired or names another host). Never retried; on SUBSCRIBE it
    /// stops the session ([`StopReason::ConnectFailed`]).
    Fatal(String),
}

/// How to stop a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopMode {
    /// Send TEARDOWN: the master kills every task and forgets the framework.
    Teardown,
    /// Just disconnect: tasks keep running for the failover timeout, so that a new scheduler
    /// subscribing with the same framework id takes them over.
    Failover,
}

/// Why a task was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubmitError {
    /// A task with this id is pending, launched or running.
    DuplicateTask(TaskId),
    /// The session is stopping or stopped.
    Stopped,
    /// The request's retry policy is invalid.
    InvalidRetry(RetryPolicyError),
    /// The request's [`TaskRequest::after`] names an unknown task or closes a cycle.
    Dependency(crate::deps::DependencyError),
    /// The task's declared gang size disagrees with its gang's members, or the gang is full.
    Gang(crate::spec::GangSizeError),
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateTask(id) => write!(f, "task {id} is already pending or running"),
            Self::InvalidRetry(error) => write!(f, "{error}"),
            Self::Dependency(error) => write!(f, "{error}"),
            Self::Gang(error) => write!(f, "{error}"),
            Self::Stopped => f.write_str("the session is stopped"),
        }
    }
}

impl std::error::Error for SubmitError {}

/// Why a kill was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KillError {
    /// No live task has this id.
    UnknownTask(TaskId),
    /// The session is stopped.
    Stopped,
}

impl fmt::Display for KillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownTask(id) => write!(f, "no live task {id}"),
            Self::Stopped => f.write_str("the session is stopped"),
        }
    }
}

impl std::error::Error for KillError {}
