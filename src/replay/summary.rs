//! What a replay measured, as JSON and as one line.

use std::sync::Arc;

use serde::Serialize;

use super::shares::{BucketLine, Fairness};

/// Median, 99th percentile and maximum of a series, in milliseconds (nearest rank).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

impl Percentiles {
    /// The percentiles of `values` (all zero when there are none); sorts them.
    ///
    /// ```
    /// let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
    /// let p = offerpack::replay::Percentiles::of(&mut v);
    /// assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
    /// ```
    pub fn of(values: &mut [f64]) -> Percentiles {
        if values.is_empty() {
            return Percentiles::default();
        }
        values.sort_by(f64::total_cmp);
        let rank = |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
        Percentiles { p50: rank(0.50), p99: rank(0.99), max: values[values.len() - 1] }
    }
}

/// Offers over the replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct OfferCounts {
    /// Offers the simulated master made.
    pub made: u64,
    /// Offers the plans declined.
    pub declined: u64,
    /// Offers rescinded (by the stream, or with a lost agent).
    pub rescinded: u64,
    /// Offers held past the pool's hold.
    pub expired: u64,
    /// Mean of the offers held at the start of each pass.
    pub held_mean: f64,
    /// Most offers held at the start of a pass.
    pub held_max: u64,
    /// REVIVE calls (a task arrived while offers were suppressed, or a new task went unplaced).
    pub revives: u64,
}

/// What a replay measured. Latencies are stream time (arrival to the pass that placed the
/// task); engine times are what the caller's stopwatch measured around each pass.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReplaySummary {
    /// `incremental` or `full-replan`.
    pub mode: &'static str,
    /// Length of the stream in seconds.
    pub stream_seconds: f64,
    /// Stream time between passes, in milliseconds.
    pub pass_every_ms: f64,
    /// Passes run.
    pub passes: u64,
    /// Tasks that arrived.
    pub arrived: u64,
    /// Tasks placed.
    pub placed: u64,
    /// Tasks still pending when the stream ended.
    pub pending_at_end: u64,
    /// Tasks that finished.
    pub finished: u64,
    /// Running tasks lost with their agent.
    pub lost: u64,
    /// Launches a master would have refused: onto an agent without room for the task, or on
    /// an offer no longer outstanding. Always 0 unless the engine is wrong.
    pub refused_launches: u64,
    /// Placement latency, arrival to placement, in stream milliseconds.
    pub latency_ms: Percentiles,
    /// Engine time per pass, in milliseconds.
    pub engine_ms: Percentiles,
    /// Engine time over all passes, in milliseconds.
    pub engine_total_ms: f64,
    /// Tasks placed per second of engine time.
    pub placements_per_engine_second: f64,
    /// Offers.
    pub offers: OfferCounts,
    /// Every bucket at the end (empty when the stream has no buckets).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<BucketLine>,
    /// How level the waiting buckets stayed (when the stream has buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fairness: Option<Fairness>,
    /// Bucket names in the order of [`PassPoint::shares`].
    #[serde(skip)]
    pub bucket_names: Vec<Arc<str>>,
    /// One point per pass, for reports (not in the JSON summary).
    #[serde(skip)]
    pub series: Vec<PassPoint>,
}

/// One pass of a replay.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PassPoint {
    /// Stream time of the pass, in milliseconds.
    pub t_ms: f64,
    /// Engine time of the pass, in milliseconds.
    pub engine_ms: f64,
    /// Tasks the pass placed.
    pub placed: u64,
    /// Tasks still waiting after it.
    pub pending: u64,
    /// Median latency of the tasks it placed (0 when none).
    pub latency_p50_ms: f64,
    /// 99th percentile latency of the tasks it placed (0 when none).
    pub latency_p99_ms: f64,
    /// Each bucket's weighted dominant share after it (see [`ReplaySummary::bucket_names`]).
    pub shares: Vec<f64>,
}

impl ReplaySummary {
    /// One line for people.
    pub fn line(&self) -> String {
        let (l, e) = (&self.latency_ms, &self.engine_ms);
        format!(
            "replay ({}): {} placed of {} arrived, {} pending at the end; latency p50 {:.0} ms, p99 {:.0} ms, \
             max {:.0} ms; engine p50 {:.3} ms, p99 {:.3} ms per pass over {} passes; {:.0} placements per \
             engine second; offers {} made, {} declined, {} held at most",
            self.mode,
            self.placed,
            self.arrived,
            self.pending_at_end,
            l.p50,
            l.p99,
            l.max,
            e.p50,
            e.p99,
            self.passes,
            self.placements_per_engine_second,
            self.offers.made,
            self.offers.declined,
            self.offers.held_max
        )
    }
}
