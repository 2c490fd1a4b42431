//! The async driver (feature `driver`): runs a [`Session`](crate::session::Session) against Mesos
//! masters over HTTP, and the API framework authors use.
//!
//! ```text
//!  FrameworkHandle ──commands──▶ ┌──────────── driver task ─────────────┐
//!                                │ select!: SUBSCRIBE · event stream ·   │──POST calls──▶ master
//!  Updates ◀──task updates────── │ call in flight · commands · deadline  │◀─RecordIO────
//!                                │        ▼ handle_*      ▲ poll_*       │
//!                                │             Session (sans-IO)         │
//!                                └───────────────────────────────────────┘
//! ```
//!
//! - The event stream is one long SUBSCRIBE POST read chunk by chunk through the RecordIO
//!   decoder, so memory stays bounded by the largest record, whatever the chunking.
//! - Calls go each on its own request with `Mesos-Stream-Id`, to the master the stream is open
//!   on, up to [`FrameworkConfig::calls_in_flight`] at once over reqwest's keep-alive
//!   connections: launches and declines side by side, a task's acknowledgements in the order
//!   the session made them, other calls (REVIVE, SUPPRESS, KILL, RECONCILE, TEARDOWN) alone
//!   after every earlier one (`calls.rs` says why). 503s and connection failures are retried
//!   with backoff before the session hears of them; 403 makes the session re-subscribe; a 401
//!   on SUBSCRIBE ends the framework with a clear error.
//! - reqwest follows no redirects: a 307's protocol-relative `Location: //host:port/…` is
//!   followed by hand and the leader remembered. The configured masters are tried in turn when
//!   one fails.
//! - Protobuf is the default encoding; [`Encoding::Json`] speaks the master's JSON.
//! - The transport is the [`Transport`] trait ([`HttpTransport`] is reqwest); tests run the
//!   driver against a fake master in memory.
//!
//! A whole framework (see `examples/framework.rs`):
//!
//! ```no_run
//! use offerpack::driver::{Framework, FrameworkConfig};
//! use offerpack::session::{CommandSpec, StopMode, TaskRequest, Update};
//! use offerpack::TaskSpec;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let (handle, mut updates) = Framework::start(FrameworkConfig::new("demo", "root", ["10.0.0.1:5050"]))?;
//! let spec = TaskSpec::builder("sleep-1", "demo").scalar("cpus", 0.1).scalar("mem", 32.0).build()?;
//! handle.submit(TaskRequest::command(spec, CommandSpec::shell("sleep 5"))).await?;
//! while let Some(update) = updates.recv().await {
//!     if let Update::Task(task) = &update {
//!         if task.state.is_terminal() {
//!             handle.stop(StopMode::Teardown);
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod calls;
mod codec;
mod exchange;
mod framework;
mod http;
mod operator;
mod run;
mod transport;

pub use crate::session::{Endpoint, EndpointError, SCHEDULER_PATH};
pub use codec::Encoding;
pub use framework::{Framework, FrameworkConfig, FrameworkHandle, StartError, Updates, DEFAULT_CALLS_IN_FLIGHT};
pub use http::HttpTransport;
pub use operator::{AgentSummary, OperatorClient, OperatorError, OPERATOR_PATH};
pub use run::Driver;
pub use transport::{Body, BoxFuture, HttpRequest, HttpResponse, Transport, TransportError};
