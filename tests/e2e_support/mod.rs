//! End-to-end harness: the real driver ([`Framework::start`], reqwest) against the real simulated
//! master ([`SimMaster::start`], hyper) over loopback HTTP, with a recording HTTP proxy in between.
//!
//! ```text
//!  Framework::start ──HTTP──▶ Proxy (records, can hold/blackhole) ──HTTP──▶ SimMaster
//!        ▲ Updates                 │ Recorder: calls, statuses, events, stream ends
//!        └── the test ─────────────┘ (waits on the log and on updates, with timeouts)
//! ```
//!
//! # Why a proxy
//! `MasterHandle` exposes fault knobs but no state: it cannot say which LAUNCHes it got or which
//! updates were acknowledged. The proxy sees both directions on the wire: every call (decoded,
//! with the HTTP status the master gave it) and every event the driver was actually given, in
//! one causally ordered log (an event is logged before its bytes are passed on; a call is logged
//! when it arrives, before it is forwarded). From that log the tests check: each task LAUNCHed
//! once (or once more per launch the master reported failed), never twice while in flight; every
//! copy of every update with a uuid acknowledged; no acknowledgement without a uuid. The proxy
//! also supplies the faults the master has no knob for: a silent stream (heartbeat loss: bytes
//! are read from the master and dropped), an ACCEPT held on its way (so an offer can be rescinded
//! while its launch is in flight) and an ACCEPT's answer held back (the master launched, the
//! driver does not know). At the end, the master's own view is read through
//! the protocol: a raw client fails over to the framework id and reconciles every task; a task
//! whose last update was acknowledged is forgotten by the master and answered `TASK_LOST`
//! "Reconciliation: Task is unknown" (or "unreachable" after an agent loss).
//!
//! # Real time, short intervals
//! Everything runs on tokio's real clock with a fast master (heartbeats every second, tasks
//! staging/starting in 20 ms and running 300 ms, 50 ms allocation interval, update re-sends after
//! 1 s) and a driver with matching short backoffs. Under tokio's paused clock reqwest stalls when
//! it reuses a pooled keep-alive connection for the SUBSCRIBE stream, and the driver's
//! `HttpTransport` pools connections (as it should in production); rather than test a
//! differently configured client, the suites use real time and never sleep to synchronise: they
//! wait on driver updates or on the proxy's log, with `tokio::time::timeout` only as a failure
//! bound ([`PATIENCE`]). A whole scenario takes one to four seconds.
//!
//! Parts: `log` (the log and its checks), `proxy`, `harness` (masters, frameworks, tasks, the
//! closing checks) and `raw` (a bare client).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use offerpack::driver::{Encoding, Framework, FrameworkConfig, FrameworkHandle, Updates};
use offerpack::master::{AgentConfig, MasterConfig, MasterHandle, SimMaster, TaskTiming};
use offerpack::mesos::v1::scheduler::{call, event, Call, Event};
use offerpack::mesos::v1::{self, task_status::Reason, TaskState as P};
use offerpack::mesos::{json, RecordIoDecoder};
use offerpack::session::{Backoff, CallKind, CommandSpec, StopMode, TaskRequest, TaskState, Update};
use offerpack::TaskSpec;
use prost::Message;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Notify};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// Failure bound of one scenario step (never a synchronisation delay).
pub const PATIENCE: Duration = Duration::from_secs(20);

mod harness;
mod log;
mod proxy;
mod raw;

pub use harness::*;
pub use log::*;
pub use proxy::*;
pub use raw::*;
