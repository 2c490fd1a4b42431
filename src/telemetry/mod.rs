//! Logs and metrics of the async shells (feature `driver`; the Prometheus parts with feature
//! `metrics`).
//!
//! # Logs
//!
//! The shells (driver, simulated master, agent, executor, artifact server) emit `tracing`
//! events; the sans-IO cores emit none: the shells log what the cores return (the session's
//! updates, actions and call outcomes). The library never installs a subscriber: the `offerpack`
//! binary does (`RUST_LOG`, `--log-format text|json`), an embedding program installs its own.
//!
//! | level | what |
//! |---|---|
//! | `info` | subscribed (framework id, master), disconnected (with the reconnection backoff), leader changes, the session stopping, a summary of the tasks by state at most every 5 s, servers listening |
//! | `debug` | each SUBSCRIBE, call and answer, redirect, each event received (offers count, status updates), each scheduling pass's counts and unplaced kinds, session warnings |
//! | `trace` | each offer, each RecordIO record, each launch of a pass, metrics scrapes |
//!
//! The driver's events sit in a `subscription` span (fields `master`, `framework_id`) and a
//! pass's in a `pass` span (field `pass`, its number). Nothing is logged per (task, agent)
//! pair, and `warn`/`error` are kept for what the caller is not told otherwise: a framework's
//! warnings come to it as [`Update::Warning`](crate::session::Update::Warning) and are logged at
//! `debug`. Secrets never appear: the `Authorization` header is not logged and
//! [`Secret`](crate::driver::Secret) prints redacted.
//!
//! # Metrics
//!
//! [`FrameworkMetrics`] holds what a driver measures; register it into a
//! `prometheus_client` registry and serve that registry, e.g. with [`MetricsServer`]:
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `offerpack_pass_duration_seconds` | histogram | | wall time of each scheduling pass |
//! | `offerpack_tasks_placed_total` | counter | | tasks placed by passes |
//! | `offerpack_tasks_unplaced_total` | counter | `reason` | tasks passes left unplaced, summed over passes |
//! | `offerpack_pass_unplaced_tasks` | gauge | `reason` | tasks the latest pass left unplaced |
//! | `offerpack_offers_received_total` | counter | | offers received |
//! | `offerpack_offers_accepted_total` | counter | | offers used by ACCEPT calls |
//! | `offerpack_offers_declined_total` | counter | | offers declined (unused, expired, malformed) |
//! | `offerpack_offers_rescinded_total` | counter | | offers the master rescinded |
//! | `offerpack_offers_held` | gauge | | offers held for the next pass |
//! | `offerpack_tasks` | gauge | `state` | tasks by latest state (ended ones stay counted) |
//! | `offerpack_acknowledgements_total` | counter | | acknowledgements the master accepted |
//! | `offerpack_calls_total` | counter | `call`, `outcome` | scheduler calls answered |
//! | `offerpack_subscribe_attempts_total` | counter | | SUBSCRIBE requests sent |
//! | `offerpack_resubscriptions_total` | counter | | subscriptions after the first |
//! | `offerpack_disconnections_total` | counter | | subscriptions lost |
//! | `offerpack_leader_changes_total` | counter | | leaders reported by the ZooKeeper detector |
//! | `offerpack_subscribed` | gauge | | 1 while subscribed |
//! | `offerpack_queue_depth` | gauge | `tier`, `bucket` | tasks of a bucket the latest pass left unplaced |
//! | `offerpack_autoscale_scale_up` | gauge | `class` | agents the latest autoscaling hints add to a class |
//! | `offerpack_autoscale_scale_down` | gauge | | idle agents the latest autoscaling hints let go |
//!
//! Label values come from fixed sets ([`REASON_CODES`], [`TASK_STATES`], [`call_label`],
//! [`outcome_label`]) except a bucket's name, which comes from the queue configuration, and a
//! class, which comes from the autoscaling rules.

mod labels;
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "metrics")]
mod record;
#[cfg(feature = "metrics")]
mod scale;
#[cfg(feature = "metrics")]
mod server;

pub use labels::{
    call_label, outcome_label, primary_reason, reason_code, state_index, state_label, REASON_CODES, TASK_STATES,
};
#[cfg(feature = "metrics")]
pub(crate) use metrics::BucketLabels;
#[cfg(feature = "metrics")]
pub use metrics::FrameworkMetrics;
#[cfg(feature = "metrics")]
pub(crate) use record::Recorder;
#[cfg(feature = "metrics")]
pub use server::{MetricsServer, METRICS_PATH};
