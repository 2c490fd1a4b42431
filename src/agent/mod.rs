//! `offerpack agent` (feature `agent`): a simulated Mesos agent that is a real process. It
//! registers with the simulated master over offerpack's private agent API
//! ([`crate::mesos::agent_api`]), keeps the REGISTER stream open, pings, fetches each
//! container's `CommandInfo.uris` (Mesos fetcher semantics, with a cache), runs command tasks
//! itself and custom executors as processes, serves the v1 executor API
//! (`POST /api/v1/executor`) and `GET /metrics/snapshot`, and forwards status updates.
//!
//! Sans-IO core and thin shell, as the session and the driver:
//! - [`AgentCore`] ([`core`], `containers`, [`executor_api`]): registration, containers, kills,
//!   executor API decisions, update forwarding and every deadline; `handle_*(now, …)` in,
//!   [`Action`]s out of [`AgentCore::poll_action`], randomness from a seed, no clock, no I/O.
//! - [`flags`] and [`fetcher`]: pure parsing of `--resources`/`--attributes` and the fetcher's
//!   naming and archive rules.
//! - The shell ([`shell`], `server`, [`fetch_io`], `spawn`): tokio, reqwest, hyper, child
//!   processes; the only code reading the clock. Start it with [`run_agent_blocking`].

mod containers;
pub mod core;
#[cfg(test)]
mod core_tests;
pub mod executor_api;
pub mod fetch_io;
pub mod fetcher;
pub mod flags;
#[cfg(test)]
mod follow_tests;
#[cfg(test)]
mod group_tests;
mod process;
mod server;
pub mod shell;
mod spawn;

pub use self::core::{Action, AgentConfig, AgentCore, Exit, ProcessSpec, Signal};
pub use containers::{DEFAULT_KILL_GRACE, DEFAULT_PATH};
pub use executor_api::{ExecutorReply, ExecutorRequest, Format};
pub use fetch_io::FetchMetrics;
pub use flags::{parse_attributes, parse_resources, FlagError};
pub use shell::{run_agent_blocking, run_agent_until, AgentError, AgentOptions, AgentStop};

/// A UUID's 16 bytes as the usual 8-4-4-4-12 lower-case hex text.
pub fn uuid_text(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if hex.len() != 32 {
        return hex;
    }
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
