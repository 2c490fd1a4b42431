//! A simulated Mesos master (feature `master`): a test double that speaks the real v1
//! scheduler HTTP API on loopback, with simulated agents and tasks, so that a framework which
//! works against it works against Mesos. It also answers the read-only calls of the v1
//! operator API (`POST /api/v1`: GET_HEALTH, GET_MASTER, GET_AGENTS, GET_FRAMEWORKS,
//! GET_TASKS) through [`MasterCore::handle_operator`].
//!
//! - [`MasterCore`] (`state`, `offers`, `tasks`): the sans-IO state machine — frameworks,
//!   agents, offers and filters, tasks and their reliable status updates, reconciliation,
//!   failover — driven by `handle_*(now, …)` and read through `poll_*` (see its docs for the
//!   order). Randomness comes only from the seed. `operator`: the operator API's answers,
//!   read from that state without changing it.
//! - [`SimMaster`] / [`MasterHandle`] (`server`, `actor`, `body`): the hyper 1 shell; the only
//!   place that reads the clock (tokio time) and touches sockets.
//! - [`MasterConfig`]: agents, timings, seed and [`Faults`]; [`run_master_blocking`] for a CLI.
//!
//! ```no_run
//! # async fn demo() -> Result<(), offerpack::master::MasterError> {
//! use offerpack::master::{AgentConfig, MasterConfig, SimMaster};
//! let config = MasterConfig::default().with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0));
//! let master = SimMaster::start(config).await?;
//! println!("scheduler API at {}", master.scheduler_url());
//! master.lose_agent(0).await;
//! master.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Agent processes (private agent API)
//! Besides its simulated agents, the master takes agents that are real processes
//! (`offerpack agent`, possibly on other hosts; `offerpack master --agents 0` has only those)
//! through `POST /api/offerpack/agent`, protobuf only (`offerpack.agent.Call`,
//! [`crate::mesos::agent_api`]); the core side is [`MasterCore::handle_agent_call`]:
//! - REGISTER → 200 with a chunked RecordIO stream of `offerpack.agent.Event`s: REGISTERED
//!   (agent id, [`MasterConfig::agent_ping_interval`], [`MasterConfig::agent_timeout`]), then
//!   HEARTBEAT every ping interval and LAUNCH, KILL, SHUTDOWN_FRAMEWORK as they happen. Its
//!   `AgentInfo` gives the offers' hostname, port, resources (scalars and ranges, all of role
//!   `*` or all statically reserved for one role, then offered only to that role) and
//!   attributes (any type). With the `id` of an agent the master still has: the same agent,
//!   its old stream closed, its tasks not listed ended TASK_LOST (TASK_DROPPED for
//!   PARTITION_AWARE); resources stay as first registered. With any other id: 403 "Agent
//!   `<id>` was removed; register without an id". No hostname or port, bad resources: 400.
//! - PING, UPDATE, EXECUTOR_EXITED → 202; 404 for an agent the master does not have. An
//!   UPDATE is delivered to the framework reliably with the agent's uuid (the master is the
//!   status update manager); a uuid seen before is dropped. EXECUTOR_EXITED frees the
//!   executor's resources and fails its tasks not yet ended (TASK_FAILED, SOURCE_AGENT,
//!   REASON_EXECUTOR_TERMINATED).
//! - Loss: no call for the agent timeout ⇒ lost as a simulated agent is (TASK_LOST or
//!   TASK_UNREACHABLE, FAILURE, offers rescinded), its stream closed, and removed for good. A
//!   broken stream alone removes nothing.
//! - Tasks on agent processes have no simulated timing ([`TaskTiming`] and the task labels do
//!   not apply): their states come from the agent's updates only; KILL and TEARDOWN (or the
//!   failover timeout) become KILL and SHUTDOWN_FRAMEWORK events on the agent's stream.
//!
//! Executors, on both kinds of agents: a task with `TaskInfo.executor` charges
//! `ExecutorInfo.resources` once per (agent, framework, executor id); ACCEPT answers
//! TASK_ERROR (REASON_TASK_INVALID, or REASON_TASK_GROUP_INVALID for LAUNCH_GROUP) when tasks
//! and new executors exceed the offers, or when an `ExecutorInfo` differs from the one already
//! running under its id. A simulated agent frees an executor's resources with its last task;
//! an agent process on EXECUTOR_EXITED.
//!
//! # Masters elected through ZooKeeper
//! With [`MasterConfig::zookeeper`] set, the master contends in a ZooKeeper group as a Mesos
//! master does (`zk_member`: an ephemeral sequential `json.info_` node holding its `MasterInfo`
//! JSON) and leads only while elected; [`MasterHandle::leadership`] reports where it stands.
//! A follower answers scheduler, operator and agent calls with 307 to the leader (503 "No
//! leader elected" when it knows none). The core learns it through
//! [`MasterCore::handle_leadership`] (`leadership`): a new leader takes back the agent processes
//! of the previous one with their tasks during [`MasterConfig::agent_reregister_timeout`], and
//! a master that stops leading starts afresh.
//!
//! # What it does like Mesos
//! Status codes, texts and headers of `/api/v1/scheduler` (405, 415 on an inexact
//! `Content-Type`, 406, 400s with the master's texts, 403 while disconnected, 202, 200 with a
//! chunked RecordIO stream and `Mesos-Stream-Id`, 307 with a protocol-relative `Location`,
//! 503 "No leader elected" / "Master has not finished recovery"); JSON by proto field names
//! and protobuf; SUBSCRIBED (with `master_info`) then an immediate HEARTBEAT, then one per
//! interval; ERROR "Framework failed over" on the old stream at re-subscription; offers
//! rescinded and regenerated on (re-)subscription; DECLINE filters; REVIVE/SUPPRESS; ACCEPT
//! validation (TASK_LOST/TASK_DROPPED with REASON_INVALID_OFFERS, TASK_ERROR for invalid
//! tasks); reliable updates with 16-byte uuids, one outstanding per task; reconciliation;
//! failover timeout; TEARDOWN; agent loss (FAILURE, TASK_LOST/TASK_UNREACHABLE). The operator
//! API checks requests in the master's order (307/503 knobs, 405, 400/415 `Content-Type`, 400
//! parse and "Expecting 'type' to be present", 406 `Accept`, 501 for `UNKNOWN`) and answers 200
//! with one `Response` in the accepted encoding, JSON arrays of GET_* answers always present.
//!
//! # Where it differs, on purpose
//! - Every simulated agent has only role `*` resources (an agent process may have one static
//!   role); offers carry `allocation_info` only for
//!   MULTI_ROLE frameworks; reservations, volumes, inverse offers, operation feedback,
//!   executor MESSAGEs and SHUTDOWN are accepted and ignored.
//! - One offer per agent holds all its free resources; frameworks are served round-robin
//!   (no DRF, no quota, no weights).
//! - The master never sends TASK_STAGING (as Mesos); [`MasterConfig::send_staging_updates`]
//!   turns it on for tests that want it.
//! - Status update timestamps count from a fixed epoch plus uptime, not the wall clock.
//! - Operator calls other than the five read-only ones answer 501; see
//!   [`MasterCore::handle_operator`] for what GET_* leave out (registration times, completed
//!   frameworks).
//! - Losing leadership (307/503 knobs) does not break open streams; combine with
//!   [`MasterHandle::set_cut_streams`] for that.

mod actor;
mod agents;
mod auth;
mod body;
mod config;
#[cfg(test)]
mod core_tests;
#[cfg(test)]
mod group_tests;
mod leader_change;
mod leadership;
#[cfg(test)]
mod leadership_tests;
mod ledger;
mod metrics;
mod offers;
mod operator;
#[cfg(test)]
mod operator_tests;
mod remote;
#[cfg(test)]
mod remote_tests;
mod resources;
mod server;
mod state;
mod tasks;
#[cfg(test)]
mod test_sim;
mod validate;
mod zk_member;

pub use auth::{Credentials, SCHEDULER_REALM};
pub use config::{AgentConfig, Faults, MasterConfig, Redirect, StreamCut, TaskTiming, Unavailable, ZkElection};
pub use ledger::{LedgerEntry, LedgerEvent};
pub use operator::OperatorRejection;
pub use remote::{AgentAnswer, AGENT_API_PATH};
pub use server::{run_master_blocking, MasterError, MasterHandle, SimMaster};
pub use state::{CallOutcome, MasterCore, Output, StreamKey, MESOS_VERSION};
pub use tasks::{DURATION_LABEL, EXIT_LABEL};
pub use zk_member::Leadership;
