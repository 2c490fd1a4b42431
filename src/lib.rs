//! offerpack: an offer-matching scheduling engine for Apache Mesos frameworks.
//!
//! The core is sans-IO: an [`OfferPool`] holds offers per agent, an [`Engine`] turns the pool,
//! pending [`TaskSpec`]s and running tasks into a [`Plan`] of launches, declines and explained
//! unplaced tasks. Time is passed in as `now`; nothing here reads a clock or does I/O.
//!
//! ```text
//!  offers ─▶ OfferPool ─▶ Engine: fit ▶ hard constraints ▶ score ▶ select ▶ commit ─▶ Plan
//!                                        ▲ plugins: constraints (hard/soft), fitness
//! ```
#![deny(missing_docs)]

#[cfg(feature = "agent")]
pub mod agent;
#[cfg(feature = "artifacts")]
pub mod artifact;
pub mod autoscale;
pub mod deps;
#[cfg(feature = "driver")]
pub mod driver;
pub mod engine;
#[cfg(feature = "executor")]
pub mod executor;
#[cfg(feature = "ha")]
pub mod ha;
#[cfg(any(feature = "master", feature = "artifacts", feature = "agent", feature = "metrics"))]
pub(crate) mod http_shell;
#[cfg(feature = "master")]
pub mod master;
#[cfg(feature = "mesos")]
pub mod mesos;
pub mod model;
pub mod optimum;
pub mod plan;
pub mod plugins;
pub mod pool;
pub mod queue;
#[cfg(feature = "workload")]
pub mod replay;
#[cfg(feature = "report")]
pub mod report;
pub mod resources;
#[cfg(feature = "mesos")]
pub mod session;
pub mod spec;
pub(crate) mod tables;
#[cfg(feature = "driver")]
pub mod telemetry;
#[cfg(feature = "testkit")]
pub mod testkit;
#[cfg(feature = "tls")]
pub mod tls;
pub mod util;
#[cfg(feature = "workload")]
pub mod workload;
#[cfg(any(feature = "driver", feature = "master", feature = "agent"))]
#[cfg_attr(not(all(feature = "driver", feature = "master", feature = "agent")), allow(dead_code))]
pub(crate) mod zk_shell;

pub use engine::preempt;
pub use engine::preempt::PreemptionInput;
pub use engine::{
    running_usage, ConfigError, Engine, EngineConfig, Packing, PlanError, QueueInput, Scheduler, Strategy,
    PATTERN_BUDGET,
};
pub use model::{
    AgentId, AttrValue, Attributes, GroupId, ModelError, Offer, OfferId, OfferedResource, PortRequest, ResourceValue,
    Role, RunningTask, TaskId,
};
pub use plan::{
    Accept, Allocation, GrantedPorts, Launch, Plan, PlanStats, Preemption, PreemptionRefusal, Reason, ReasonCount,
    Unplaced,
};
pub use pool::{OfferPool, PoolError};
pub use queue::{BucketConfig, BucketStats, Queue, QueueConfig, QueuePlace, QueueReason, TierConfig};
pub use resources::{PortRange, PortSet, Quantity, QuantityError};
pub use spec::{ExecutorDemand, GangSizeError, SoftTerm, TaskBuilder, TaskSpec};

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "metrics"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
