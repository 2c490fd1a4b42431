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
//! - The driver carries out the session's actions and decides no protocol policy: every
//!   SUBSCRIBE, call and operator read goes once to the endpoint its action names, and its
//!   answer goes back as it came. The session (see [`session`](crate::session), `resend.rs`)
//!   chooses the master (the leader, else the configured masters in turn after failures),
//!   follows 307s (reqwest follows none; the driver reports them as
//!   [`CallOutcome::Redirect`](crate::session::CallOutcome::Redirect)) and retries 503s and
//!   connection failures with seeded, jittered backoff ([`FrameworkConfig::call_retries`] and
//!   [`FrameworkConfig::retry_delay`] are forwarded to it).
//! - Calls go each on its own request with `Mesos-Stream-Id`, up to
//!   [`FrameworkConfig::calls_in_flight`] at once over reqwest's keep-alive connections:
//!   launches and declines side by side, a task's acknowledgements in the order the session
//!   made them, other calls (REVIVE, SUPPRESS, KILL, RECONCILE, TEARDOWN) alone after every
//!   earlier one (`calls.rs` says why). A call waiting out a retry delay is not in the driver
//!   at all, so it holds up nothing. 403 makes the session re-subscribe; a 401 on SUBSCRIBE
//!   ends the framework with a clear error.
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
mod observe;
mod operator;
mod run;
mod secret;
mod transport;
mod zk;

pub use crate::session::{Endpoint, EndpointError, SCHEDULER_PATH};
pub use codec::Encoding;
pub use framework::{Framework, FrameworkConfig, FrameworkHandle, StartError, Updates, DEFAULT_CALLS_IN_FLIGHT};
pub use http::HttpTransport;
pub use operator::{AgentSummary, OperatorClient, OperatorError, OPERATOR_PATH};
pub use run::Driver;
pub use secret::Secret;
pub use transport::{Body, BoxFuture, HttpRequest, HttpResponse, Transport, TransportError, TransportErrorKind};
