//! The values the executor core takes in and hands out: actions for the shell, answers and
//! process exits reported back, exit reasons and notes for the log.

use std::fmt;
use std::time::Duration;

use crate::mesos::v1::executor::Call;
use crate::mesos::v1::TaskState;

use super::process::ProcessSpec;
use super::updates::CallId;

/// Something for the shell to do; carry them out in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Open the event stream with this SUBSCRIBE (dropping the current stream, if any), then
    /// report `handle_stream_opened`, `handle_subscribe_failed` or later `handle_disconnected`.
    Subscribe(Call),
    /// POST this call; report the answer with `handle_call_answered`.
    Send {
        /// Matches the answer to the call.
        id: CallId,
        /// The call.
        call: Call,
    },
    /// Start a process for the task in a new process group; report `handle_process_started`
    /// or `handle_spawn_failed`, then `handle_process_exited`.
    Start {
        /// The task.
        task_id: String,
        /// What to run.
        spec: ProcessSpec,
    },
    /// Send a signal to the task's process group (errors such as "no such group" are moot).
    Signal {
        /// The task.
        task_id: String,
        /// The process group id (the pid of the task's first process).
        pgid: u32,
        /// Which signal.
        signal: Signal,
    },
    /// Exit the process; nothing more will happen.
    Exit(ExitReason),
}

/// The signals the executor sends to tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: please stop.
    Term,
    /// SIGKILL: the grace period is over.
    Kill,
}

/// How a call was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// A 2xx status.
    Accepted,
    /// Any other status.
    Status(u16),
    /// No answer (no connection, broken connection).
    Failed(String),
}

/// How a task's process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessExit {
    /// It exited with this status.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
}

/// Why the executor exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExitReason {
    /// The agent sent SHUTDOWN (or the process was asked to stop); exit code 0.
    Shutdown,
    /// The link to the agent broke and checkpointing is off; exit code 1.
    AgentGone,
    /// The agent could not be reached again within the recovery timeout; exit code 1.
    RecoveryTimedOut,
}

impl ExitReason {
    /// The process exit code for this reason.
    pub fn code(self) -> i32 {
        match self {
            ExitReason::Shutdown => 0,
            ExitReason::AgentGone | ExitReason::RecoveryTimedOut => 1,
        }
    }
}

/// What happened, for the shell's log.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// SUBSCRIBED arrived from the agent on this host.
    Subscribed {
        /// The agent's hostname.
        agent: String,
    },
    /// The link to the agent is down; a new SUBSCRIBE follows after `retry_in` (`None`: never).
    LinkLost {
        /// What broke.
        reason: String,
        /// The wait before the next attempt.
        retry_in: Option<Duration>,
    },
    /// A MESSAGE event carried this many bytes (they are ignored).
    Message(usize),
    /// An ERROR event.
    AgentError(String),
    /// An UPDATE call for the task was not accepted; it is retried.
    UpdateRefused {
        /// The task.
        task_id: String,
        /// The answer.
        outcome: String,
    },
    /// An event that could not be acted on.
    Ignored(String),
    /// A task's status changed.
    TaskState {
        /// The task.
        task_id: String,
        /// The new state.
        state: TaskState,
        /// The status message, if any.
        message: Option<String>,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Subscribed { agent } => write!(f, "subscribed to the agent on {agent}"),
            Note::LinkLost { reason, retry_in: Some(wait) } => {
                write!(f, "lost the agent ({reason}); subscribing again in {wait:?}")
            }
            Note::LinkLost { reason, retry_in: None } => write!(f, "lost the agent ({reason})"),
            Note::Message(len) => write!(f, "message from the scheduler ({len} bytes) ignored"),
            Note::AgentError(message) => write!(f, "error from the agent: {message}; subscribing again"),
            Note::UpdateRefused { task_id, outcome } => write!(f, "update of task {task_id} not taken ({outcome})"),
            Note::Ignored(what) => write!(f, "ignored: {what}"),
            Note::TaskState { task_id, state, message } => {
                write!(f, "task {task_id}: {}", state.as_str_name())?;
                message.iter().try_for_each(|m| write!(f, " ({m})"))
            }
        }
    }
}
