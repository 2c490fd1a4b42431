//! `offerpack executor` (feature `executor`): a Mesos executor speaking the v1 executor HTTP API
//! (`POST http://<agent>/api/v1/executor`, protobuf, RecordIO event stream) to its agent.
//!
//! One executor runs many tasks, one after another or side by side: each task's command (its
//! `CommandInfo`, else its `data` as a shell line) runs as a child process in a process group
//! of its own, in the sandbox, and the executor reports `TASK_STARTING`, `TASK_RUNNING` and a
//! terminal state for it (`TASK_FINISHED`, `TASK_FAILED`, `TASK_KILLED`), each with a fresh
//! random UUID v4 and `SOURCE_EXECUTOR`.
//!
//! As the scheduler session and the master, it is a sans-IO core plus a thin shell:
//!
//! - [`ExecutorEnv`]: the `MESOS_*` environment, parsed by a pure function
//!   ([`ExecutorEnv::from_map`]); stout durations with [`parse_duration`].
//! - [`ExecutorCore`]: the protocol. Inputs: [`ExecutorCore::handle_event`] (a decoded
//!   event), [`ExecutorCore::handle_stream_opened`] / [`ExecutorCore::handle_subscribe_failed`] /
//!   [`ExecutorCore::handle_disconnected`] (the stream), [`ExecutorCore::handle_call_answered`]
//!   (an UPDATE's answer), [`ExecutorCore::handle_process_started`] /
//!   [`ExecutorCore::handle_spawn_failed`] / [`ExecutorCore::handle_process_exited`] (children),
//!   [`ExecutorCore::handle_stop`] (SIGTERM) and [`ExecutorCore::handle_timeout`]. Outputs,
//!   drained in this order after every input: [`ExecutorCore::poll_action`] ([`Action`]s carried
//!   out in order), [`ExecutorCore::poll_note`] (for the log), [`ExecutorCore::poll_timeout`].
//!   No clock, no I/O; uuids and reconnection waits come from a seed.
//! - [`run`] / [`run_from_env`]: the tokio shell (reqwest, `tokio::process`, rustix signals).
//!
//! Policies (MESOS-PROTOCOL-2 §1): UPDATEs not answered 2xx are sent again after
//! [`UPDATE_RETRY`]; a task's updates go one at a time, in order; updates stay pending until
//! `ACKNOWLEDGED` and are listed, with the tasks none of whose updates were acknowledged, in
//! the next SUBSCRIBE. KILL sends SIGTERM to the task's group and SIGKILL after the grace period
//! (the KILL's kill policy, else the task's, else `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`).
//! SHUTDOWN kills every task that way (SIGKILL at 80 % of the shutdown grace period at the
//! latest), reports them `TASK_KILLED` and exits 0 once they are acknowledged, within the grace
//! period. When the agent is gone: with `MESOS_CHECKPOINT` other than `1` the executor exits at
//! once (code 1); else it subscribes again after random waits in
//! `[0, MESOS_SUBSCRIPTION_BACKOFF_MAX]` until `MESOS_RECOVERY_TIMEOUT` after the first failure,
//! then exits (code 1). On any exit but SHUTDOWN's, tasks still running are SIGKILLed.

mod core;
mod env;
mod process;
mod shell;
mod updates;
mod values;

#[cfg(test)]
mod core_tests;

pub use self::core::{Action, CallOutcome, ExecutorCore, ExitReason, Note, ProcessExit, Signal, UPDATE_RETRY};
pub use env::{parse_duration, EnvError, ExecutorEnv, DEFAULT_SHUTDOWN_GRACE};
pub use process::{process_spec, ProcessSpec, SHELL};
pub use shell::{run, run_from_env, ExecutorError};
pub use updates::{uuid_v4, CallId};
