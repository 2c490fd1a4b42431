//! What the session tells its user: task state changes, connection changes and warnings.

use std::fmt;

use super::{CallKind, CallOutcome, StopMode};
use crate::mesos::v1;
use crate::mesos::ConvertError;
use crate::model::{AgentId, OfferId, TaskId};

/// Where a task is in its life: the session's own phases (`Pending`, `Launched`) followed by the
/// Mesos task states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Submitted (or placed back after a failed launch) and waiting for an offer that fits.
    Pending,
    /// Sent to the master in an ACCEPT; no status update yet.
    Launched,
    /// `TASK_STAGING`: the master knows the task.
    Staging,
    /// `TASK_STARTING`: the executor is starting it.
    Starting,
    /// `TASK_RUNNING`.
    Running,
    /// `TASK_KILLING`: a kill is in progress.
    Killing,
    /// `TASK_FINISHED` (terminal).
    Finished,
    /// `TASK_FAILED` (terminal).
    Failed,
    /// `TASK_KILLED` (terminal).
    Killed,
    /// `TASK_ERROR` (terminal): the task description was invalid.
    Error,
    /// `TASK_LOST` (terminal).
    Lost,
    /// `TASK_DROPPED` (terminal).
    Dropped,
    /// `TASK_UNREACHABLE`: the agent is partitioned away.
    Unreachable,
    /// `TASK_GONE` (terminal).
    Gone,
    /// `TASK_GONE_BY_OPERATOR` (terminal).
    GoneByOperator,
    /// `TASK_UNKNOWN`: the master does not know the task.
    Unknown,
}

impl TaskState {
    /// Every state, in declaration order.
    pub const ALL: [TaskState; 16] = [
        Self::Pending,
        Self::Launched,
        Self::Staging,
        Self::Starting,
        Self::Running,
        Self::Killing,
        Self::Finished,
        Self::Failed,
        Self::Killed,
        Self::Error,
        Self::Lost,
        Self::Dropped,
        Self::Unreachable,
        Self::Gone,
        Self::GoneByOperator,
        Self::Unknown,
    ];

    /// Whether the task has ended and will get no further update.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Finished
                | Self::Failed
                | Self::Killed
                | Self::Error
                | Self::Lost
                | Self::Dropped
                | Self::Gone
                | Self::GoneByOperator
        )
    }

    /// The state of a Mesos `TaskState` enum value; `None` for values this crate does not know.
    pub fn from_proto(state: i32) -> Option<TaskState> {
        use v1::TaskState as P;
        Some(match P::try_from(state).ok()? {
            P::TaskStaging => Self::Staging,
            P::TaskStarting => Self::Starting,
            P::TaskRunning => Self::Running,
            P::TaskKilling => Self::Killing,
            P::TaskFinished => Self::Finished,
            P::TaskFailed => Self::Failed,
            P::TaskKilled => Self::Killed,
            P::TaskError => Self::Error,
            P::TaskLost => Self::Lost,
            P::TaskDropped => Self::Dropped,
            P::TaskUnreachable => Self::Unreachable,
            P::TaskGone => Self::Gone,
            P::TaskGoneByOperator => Self::GoneByOperator,
            P::TaskUnknown => Self::Unknown,
        })
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Parses the name [`Display`](fmt::Display) writes (`"Running"`, `"GoneByOperator"`, …).
///
/// ```
/// use offerpack::session::TaskState;
/// assert_eq!("Finished".parse::<TaskState>(), Ok(TaskState::Finished));
/// assert!("TASK_FINISHED".parse::<TaskState>().is_err());
/// ```
impl std::str::FromStr for TaskState {
    type Err = UnknownTaskState;

    fn from_str(name: &str) -> Result<TaskState, UnknownTaskState> {
        let mut text = String::new();
        for state in Self::ALL {
            text.clear();
            let _ = fmt::write(&mut text, format_args!("{state}"));
            if text == name {
                return Ok(state);
            }
        }
        Err(UnknownTaskState(name.to_owned()))
    }
}

/// A name that is not one of [`TaskState`]'s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTaskState(pub String);

impl fmt::Display for UnknownTaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown task state {:?}", self.0)
    }
}

impl std::error::Error for UnknownTaskState {}

/// Who produced a task update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpdateSource {
    /// The session itself (pending, launched, killed before launch, stopped).
    Session,
    /// The master (reconciliation answers, invalid offers, agent removal).
    Master,
    /// The agent.
    Agent,
    /// The executor.
    Executor,
}

impl UpdateSource {
    fn from_proto(source: Option<i32>) -> UpdateSource {
        match source.and_then(|s| v1::task_status::Source::try_from(s).ok()) {
            Some(v1::task_status::Source::Agent) => Self::Agent,
            Some(v1::task_status::Source::Executor) => Self::Executor,
            _ => Self::Master,
        }
    }
}

/// A change in one task's state.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskUpdate {
    /// The task.
    pub task_id: TaskId,
    /// Its new state.
    pub state: TaskState,
    /// The agent it was placed on, when known.
    pub agent_id: Option<AgentId>,
    /// A human-readable explanation (from Mesos or from the session).
    pub message: Option<String>,
    /// The Mesos reason name, e.g. `REASON_INVALID_OFFERS`.
    pub reason: Option<&'static str>,
    /// Who produced the update.
    pub source: UpdateSource,
    /// False for tasks this session was never given (reported by reconciliation).
    pub known: bool,
    /// The attempt the update is about, from 1 (see [`RetryPolicy`](super::RetryPolicy)); 0 for
    /// a task this session was never given.
    pub attempt: u32,
    /// Set on the `Pending` update of an attempt that ended and is retried: how long from now
    /// until the next attempt (`attempt`) may be placed.
    pub retry_in: Option<std::time::Duration>,
}

impl TaskUpdate {
    /// An update the session makes itself.
    pub(crate) fn session(task_id: TaskId, state: TaskState, agent_id: Option<AgentId>, message: &str) -> TaskUpdate {
        TaskUpdate {
            task_id,
            state,
            agent_id,
            message: Some(message.to_owned()),
            reason: None,
            source: UpdateSource::Session,
            known: true,
            attempt: 0,
            retry_in: None,
        }
    }

    /// An update from a Mesos `TaskStatus` whose state is already decoded.
    pub(crate) fn from_status(status: &v1::TaskStatus, state: TaskState, known: bool) -> TaskUpdate {
        TaskUpdate {
            task_id: TaskId::new(&status.task_id.value),
            state,
            agent_id: status.agent_id.as_ref().map(|a| AgentId::new(&a.value)),
            message: status.message.clone(),
            reason: reason_name(status.reason),
            source: UpdateSource::from_proto(status.source),
            known,
            attempt: 0,
            retry_in: None,
        }
    }
}

/// The proto name of a `TaskStatus.Reason` value.
pub(crate) fn reason_name(reason: Option<i32>) -> Option<&'static str> {
    reason.and_then(|r| v1::task_status::Reason::try_from(r).ok()).map(|r| r.as_str_name())
}

/// Why the session ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StopReason {
    /// The user asked for it.
    Requested(StopMode),
    /// The master sent an `ERROR` event (e.g. "Framework failed over" or removed).
    MasterError(String),
    /// The master refused the subscription (bad configuration or credentials).
    SubscribeRejected {
        /// The HTTP status.
        status: u16,
        /// The master's explanation.
        message: String,
    },
    /// The master cannot be reached for a reason retrying cannot fix, e.g. its TLS
    /// certificate is not trusted ([`CallOutcome::Fatal`](super::CallOutcome::Fatal) on
    /// SUBSCRIBE); the text says why.
    ConnectFailed(String),
}

/// Something the session noticed but handled on its own; worth logging.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Warning {
    /// An offer could not be converted; it was declined.
    MalformedOffer(ConvertError),
    /// An offer id arrived twice; the second copy was ignored.
    DuplicateOffer(OfferId),
    /// An event or status update was malformed and skipped (or could not be acknowledged).
    MalformedEvent(String),
    /// A call did not go through.
    CallFailed {
        /// Which call.
        kind: CallKind,
        /// What happened.
        outcome: CallOutcome,
    },
    /// A planned launch could not be turned into Mesos resources; the task stays pending.
    LaunchSkipped {
        /// The task.
        task_id: TaskId,
        /// Why.
        reason: String,
    },
    /// The engine refused a pass.
    PlanFailed(String),
    /// The operator API could not say where adopted tasks run; passes go on counting each such
    /// task against every attribute value of its group.
    LookupGivenUp(String),
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedOffer(error) => write!(f, "declined malformed offer: {error}"),
            Self::DuplicateOffer(id) => write!(f, "offer {id} received twice"),
            Self::MalformedEvent(what) => write!(f, "malformed event: {what}"),
            Self::CallFailed { kind, outcome } => write!(f, "{kind:?} call failed: {outcome:?}"),
            Self::LaunchSkipped { task_id, reason } => write!(f, "launch of {task_id} skipped: {reason}"),
            Self::PlanFailed(error) => write!(f, "scheduling pass failed: {error}"),
            Self::LookupGivenUp(reason) => write!(
                f,
                "operator API lookup given up ({reason}): tasks of unknown place count against every attribute value"
            ),
        }
    }
}

/// What one scheduling pass did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PassReport {
    /// The engine's counts (tasks placed and unplaced, agents used and considered).
    pub stats: crate::plan::PlanStats,
    /// ACCEPT calls queued (one per agent that received tasks).
    pub accept_calls: u32,
    /// Offers named in those ACCEPT calls.
    pub offers_accepted: u32,
    /// Offers declined (unused or expired), including agents whose launches could not be built.
    pub offers_declined: u32,
    /// The tasks the pass left pending and why, one entry per group and list of reasons (see
    /// [`summarize_unplaced`](super::summarize_unplaced)); empty when every task was placed.
    pub unplaced: Vec<super::UnplacedSummary>,
    /// The tasks this pass put into ACCEPTs, with their agents, in the order the engine placed
    /// them (ACCEPTs go one per agent, so their order differs): the order in which constraints
    /// that loosen as tasks are placed (`GROUP_BY`, `BALANCE`) admitted each.
    pub launched: Vec<(TaskId, AgentId)>,
    /// The tasks this pass placed by preemption, each with the victims it sent KILLs for; such
    /// a task stays pending until they ended.
    pub preempting: Vec<(TaskId, Vec<TaskId>)>,
}

/// One thing the session reports to its user, taken with [`Session::poll_update`](super::Session::poll_update).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Update {
    /// A task changed state.
    Task(TaskUpdate),
    /// The framework is (re-)subscribed.
    Subscribed {
        /// The framework id; keep it to fail over to a new process.
        framework_id: String,
    },
    /// The subscription was lost; the session reconnects on its own.
    Disconnected {
        /// Why.
        reason: String,
    },
    /// An agent was lost; its tasks' fate follows as task updates.
    AgentLost {
        /// The agent.
        agent_id: AgentId,
    },
    /// A custom executor ended.
    ExecutorExited {
        /// The agent it ran on, when given.
        agent_id: Option<AgentId>,
        /// The executor.
        executor_id: String,
        /// Its wait status, when given.
        status: Option<i32>,
    },
    /// Opaque data sent by an executor.
    Message {
        /// The agent.
        agent_id: AgentId,
        /// The executor.
        executor_id: String,
        /// The data.
        data: Vec<u8>,
    },
    /// A submitted task ended without finishing and will not be launched again: its retry
    /// policy is used up or its last state is not retried. Follows the task's terminal
    /// [`TaskUpdate`]; never follows `Finished` or `Killed`.
    GaveUp {
        /// The task (the id it was submitted with).
        task: TaskId,
        /// Attempts launched, the last one included.
        attempts: u32,
        /// The state that ended the last attempt.
        last_state: TaskState,
    },
    /// A task killed for preemption ended and is pending again (with
    /// [`SessionConfig::requeue_preempted`](super::SessionConfig::requeue_preempted)): it is
    /// placed again when there is room, as its next attempt, without spending its retries.
    /// Precedes the task's [`TaskState::Pending`] update.
    Preempted {
        /// The victim (the id it was submitted with).
        task: TaskId,
        /// The task placed in its stead.
        by: TaskId,
        /// The agent it was killed on, when known.
        agent_id: Option<AgentId>,
        /// How its killed attempt ended (`Killed`, usually).
        state: TaskState,
    },
    /// A scheduling pass ran and its calls were queued.
    Pass(PassReport),
    /// The autoscaling hints changed (with
    /// [`SessionConfig::autoscale`](super::SessionConfig::autoscale) set); follows the pass's
    /// [`Update::Pass`].
    ScaleHints(super::ScaleHintsUpdate),
    /// Something handled that is worth logging.
    Warning(Warning),
    /// The session has ended; nothing follows.
    Stopped(StopReason),
}

#[cfg(test)]
mod tests {
    use super::TaskState;

    /// The position of `state` in the declaration; a match, so a new state fails to compile
    /// here until it is placed in [`TaskState::ALL`] as well.
    fn position(state: TaskState) -> usize {
        use TaskState::*;
        match state {
            Pending => 0,
            Launched => 1,
            Staging => 2,
            Starting => 3,
            Running => 4,
            Killing => 5,
            Finished => 6,
            Failed => 7,
            Killed => 8,
            Error => 9,
            Lost => 10,
            Dropped => 11,
            Unreachable => 12,
            Gone => 13,
            GoneByOperator => 14,
            Unknown => 15,
        }
    }

    #[test]
    fn task_state_all_lists_every_state_once_and_names_parse_back() {
        for (i, state) in TaskState::ALL.into_iter().enumerate() {
            assert_eq!(position(state), i);
            assert_eq!(state.to_string().parse::<TaskState>(), Ok(state));
        }
        assert!("running".parse::<TaskState>().is_err());
    }
}
