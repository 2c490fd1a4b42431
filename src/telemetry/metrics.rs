//! [`FrameworkMetrics`]: the Prometheus metrics a driver keeps, as handles an embedding program
//! registers into its own [`Registry`].

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// One label.
pub(crate) type Label = [(&'static str, &'static str); 1];
/// Two labels.
pub(crate) type Labels2 = [(&'static str, &'static str); 2];
/// A queue bucket's labels: its tier and its name (names come from the configuration, so the set
/// is bounded by it).
pub(crate) type BucketLabels = [(&'static str, String); 2];
/// An agent class's label (classes come from the autoscaling rules, so the set is bounded).
pub(crate) type ClassLabel = [(&'static str, String); 1];

/// The metrics of one framework (or of several that share it: counters and gauges then add up).
///
/// Cheap to clone (every metric is shared); hand a clone to
/// [`FrameworkConfig::metrics`](crate::driver::FrameworkConfig::metrics) and register another
/// into the program's registry. The driver updates them from what its session reports; see the
/// [module docs](super) for the names.
///
/// ```
/// use prometheus_client::registry::Registry;
/// use offerpack::driver::FrameworkConfig;
/// use offerpack::telemetry::FrameworkMetrics;
///
/// let metrics = FrameworkMetrics::new();
/// let mut registry = Registry::default();
/// metrics.register(&mut registry);
/// let config = FrameworkConfig::new("sleepers", "root", ["10.0.0.1:5050"]).metrics(metrics.clone());
/// # let _ = config;
/// let mut text = String::new();
/// prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
/// assert!(text.contains("offerpack_offers_received_total 0"));
/// ```
#[derive(Clone, Debug)]
pub struct FrameworkMetrics {
    pub(crate) pass_duration: Histogram,
    pub(crate) tasks_placed: Counter,
    pub(crate) tasks_unplaced: Family<Label, Counter>,
    pub(crate) pass_unplaced: Family<Label, Gauge>,
    pub(crate) offers_received: Counter,
    pub(crate) offers_accepted: Counter,
    pub(crate) offers_declined: Counter,
    pub(crate) offers_rescinded: Counter,
    pub(crate) offers_held: Gauge,
    pub(crate) tasks: Family<Label, Gauge>,
    pub(crate) acknowledgements: Counter,
    pub(crate) calls: Family<Labels2, Counter>,
    pub(crate) subscribe_attempts: Counter,
    pub(crate) resubscriptions: Counter,
    pub(crate) disconnections: Counter,
    pub(crate) leader_changes: Counter,
    pub(crate) subscribed: Gauge,
    pub(crate) queue_depth: Family<BucketLabels, Gauge>,
    pub(crate) autoscale_scale_up: Family<ClassLabel, Gauge>,
    pub(crate) autoscale_scale_down: Gauge,
}

impl Default for FrameworkMetrics {
    fn default() -> FrameworkMetrics {
        FrameworkMetrics::new()
    }
}

impl FrameworkMetrics {
    /// Fresh metrics, all zero. Pass durations fall into buckets from 100 µs to about 13 s.
    pub fn new() -> FrameworkMetrics {
        FrameworkMetrics {
            pass_duration: Histogram::new(exponential_buckets(0.0001, 2.0, 18)),
            tasks_placed: Counter::default(),
            tasks_unplaced: Family::default(),
            pass_unplaced: Family::default(),
            offers_received: Counter::default(),
            offers_accepted: Counter::default(),
            offers_declined: Counter::default(),
            offers_rescinded: Counter::default(),
            offers_held: Gauge::default(),
            tasks: Family::default(),
            acknowledgements: Counter::default(),
            calls: Family::default(),
            subscribe_attempts: Counter::default(),
            resubscriptions: Counter::default(),
            disconnections: Counter::default(),
            leader_changes: Counter::default(),
            subscribed: Gauge::default(),
            queue_depth: Family::default(),
            autoscale_scale_up: Family::default(),
            autoscale_scale_down: Gauge::default(),
        }
    }

    /// Registers every metric into `registry` under the names of the [module docs](super)
    /// (`offerpack_…`; counters get `_total` appended by the registry). Register one set once
    /// per registry: registering twice would list every name twice.
    pub fn register(&self, registry: &mut Registry) {
        let m = self.clone();
        registry.register_with_unit(
            "offerpack_pass_duration",
            "Wall time of a scheduling pass: from handing the session the input that ran it to its report",
            Unit::Seconds,
            m.pass_duration,
        );
        registry.register("offerpack_tasks_placed", "Tasks placed by scheduling passes", m.tasks_placed);
        registry.register(
            "offerpack_tasks_unplaced",
            "Tasks scheduling passes left unplaced, summed over passes, by the reason that rejected most agents",
            m.tasks_unplaced,
        );
        registry.register(
            "offerpack_pass_unplaced_tasks",
            "Tasks the latest scheduling pass left unplaced, by the reason that rejected most agents",
            m.pass_unplaced,
        );
        registry.register("offerpack_offers_received", "Offers received from the master", m.offers_received);
        registry.register("offerpack_offers_accepted", "Offers used by ACCEPT calls", m.offers_accepted);
        registry.register(
            "offerpack_offers_declined",
            "Offers declined (unused, expired or malformed)",
            m.offers_declined,
        );
        registry.register("offerpack_offers_rescinded", "Offers the master rescinded", m.offers_rescinded);
        registry.register("offerpack_offers_held", "Offers held for the next scheduling pass", m.offers_held);
        registry.register("offerpack_tasks", "Tasks by their latest state (ended tasks stay counted)", m.tasks);
        registry.register(
            "offerpack_acknowledgements",
            "Status update acknowledgements the master accepted",
            m.acknowledgements,
        );
        registry.register("offerpack_calls", "Scheduler calls answered, by call and outcome", m.calls);
        registry.register("offerpack_subscribe_attempts", "SUBSCRIBE requests sent", m.subscribe_attempts);
        registry.register(
            "offerpack_resubscriptions",
            "Subscriptions after the first (reconnections that completed)",
            m.resubscriptions,
        );
        registry.register("offerpack_disconnections", "Subscriptions lost", m.disconnections);
        registry.register("offerpack_leader_changes", "Leading masters reported by the detector", m.leader_changes);
        registry.register("offerpack_subscribed", "Frameworks subscribed now (1 each)", m.subscribed);
        registry.register(
            "offerpack_queue_depth",
            "Tasks of a queue bucket the latest scheduling pass tried and left unplaced",
            m.queue_depth,
        );
        registry.register(
            "offerpack_autoscale_scale_up",
            "Agents the latest autoscaling hints add to a class",
            m.autoscale_scale_up,
        );
        registry.register(
            "offerpack_autoscale_scale_down",
            "Idle agents the latest autoscaling hints let go",
            m.autoscale_scale_down,
        );
    }
}
