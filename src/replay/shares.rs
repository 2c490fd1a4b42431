//! Per-bucket dominant shares over a replay, and how far apart the buckets still waiting are.
//!
//! A bucket's weighted share is the largest, over resources, of what its running tasks hold
//! divided by the cluster's size, divided by its weight. Weighted DRF with progressive filling
//! gives each free slot to the waiting bucket of the lowest share, so after a pass no bucket that
//! received a task stood, before its last one, above a bucket still waiting: the deviation
//! measured here is by how much it did, and stays within one task's share when the engine
//! follows DRF (a waiting bucket whose tasks fit nowhere may be passed by, as a task that fits
//! nowhere does not hold back others). Without preemption, buckets already above the others
//! when capacity runs out stay above until their tasks end: the spread between waiting buckets
//! is reported too, but DRF cannot bound it.

use std::sync::Arc;

use serde::Serialize;

use crate::queue::{QueueConfig, ResourceAmounts, DEFAULT_BUCKET};
use crate::resources::Quantity;

/// Scalar resources one task holds.
type Held<'a> = &'a [(Arc<str>, Quantity)];

/// How level the buckets stayed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Fairness {
    /// Passes after which two buckets or more still had tasks waiting.
    pub contended_passes: u64,
    /// The largest gap, over those passes, between the weighted shares of the waiting buckets.
    pub max_spread: f64,
    /// The most, over passes, that a bucket given a task in the pass stood (before its last
    /// task) above the lowest weighted share of a bucket left waiting; 0 when DRF was followed.
    pub max_deviation: f64,
    /// The largest weighted share one placed task held on its own: the gap DRF allows.
    pub largest_task_share: f64,
}

/// One bucket at the end of a replay.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BucketLine {
    /// Bucket name.
    pub bucket: String,
    /// Its weight.
    pub weight: f64,
    /// Tasks of it placed.
    pub placed: u64,
    /// Its weighted dominant share at the end.
    pub weighted_share: f64,
}

/// Usage per bucket.
#[derive(Debug, Default)]
pub(super) struct Shares {
    names: Vec<Arc<str>>,
    weights: Vec<f64>,
    usage: Vec<ResourceAmounts>,
    placed: Vec<u64>,
    pub fairness: Fairness,
}

impl Shares {
    /// The buckets of `config` (and the default bucket).
    pub fn new(config: Option<&QueueConfig>) -> Shares {
        let mut shares = Shares::default();
        if let Some(config) = config {
            for (name, bucket) in &config.buckets {
                shares.names.push(Arc::from(name.as_str()));
                shares.weights.push(bucket.weight);
            }
        }
        if !shares.names.iter().any(|n| &**n == DEFAULT_BUCKET) {
            shares.names.push(Arc::from(DEFAULT_BUCKET));
            shares.weights.push(1.0);
        }
        shares.usage = vec![ResourceAmounts::new(); shares.names.len()];
        shares.placed = vec![0; shares.names.len()];
        shares
    }

    /// Whether there is more than one bucket to compare.
    pub fn tracks(&self) -> bool {
        self.names.len() > 1
    }

    /// The index of a bucket (an unknown name counts as the default bucket).
    pub fn index(&self, bucket: &str) -> usize {
        let found = self.names.iter().position(|n| &**n == bucket);
        found.or_else(|| self.names.iter().position(|n| &**n == DEFAULT_BUCKET)).unwrap_or(0)
    }

    /// A task of bucket `b` starts (`sign` 1) or ends (`sign` -1) holding `resources`.
    pub fn charge(&mut self, b: usize, resources: &[(Arc<str>, Quantity)], sign: i64) {
        for (name, q) in resources {
            let now = self.usage[b].amount(name).milli() + sign * q.milli();
            self.usage[b].set(name, Quantity::from_milli(now.max(0) as u64));
        }
        if sign > 0 {
            self.placed[b] += 1;
        }
    }

    /// Weighted dominant share of `amounts` for bucket `b` against `total`.
    fn weighted(&self, b: usize, amounts: &ResourceAmounts, total: &ResourceAmounts) -> f64 {
        let dominant = amounts
            .iter()
            .map(|(name, used)| match total.amount(name).milli() {
                0 => 0.0,
                size => used.milli() as f64 / size as f64,
            })
            .fold(0.0, f64::max);
        dominant / self.weights[b]
    }

    /// Each bucket's weighted share now.
    pub fn current(&self, total: &ResourceAmounts) -> Vec<f64> {
        (0..self.names.len()).map(|b| self.weighted(b, &self.usage[b], total)).collect()
    }

    /// After a pass: `now` is each bucket's weighted share after it ([`Shares::current`]),
    /// `waiting[b]` whether bucket `b` still has tasks waiting, `placed` the tasks the pass
    /// placed (bucket, resources).
    pub fn after_pass<'a>(
        &mut self,
        total: &ResourceAmounts,
        now: &[f64],
        waiting: &[bool],
        placed: impl Iterator<Item = (usize, Held<'a>)>,
    ) {
        // Each bucket's last task of the pass, by bucket.
        let mut last: Vec<Option<Held<'_>>> = vec![None; self.names.len()];
        for (b, resources) in placed {
            let one: ResourceAmounts = resources.iter().map(|(n, q)| (n.clone(), *q)).collect();
            let share = self.weighted(b, &one, total);
            self.fairness.largest_task_share = self.fairness.largest_task_share.max(share);
            last[b] = Some(resources);
        }
        let waiting: Vec<f64> = now.iter().zip(waiting).filter(|(_, w)| **w).map(|(s, _)| *s).collect();
        let Some(lowest) = waiting.iter().copied().reduce(f64::min) else {
            return;
        };
        for (b, resources) in last.iter().enumerate().filter_map(|(b, r)| Some((b, (*r)?))) {
            let mut before = self.usage[b].clone();
            for (name, q) in resources {
                before.set(name, before.amount(name).saturating_sub(*q));
            }
            let deviation = self.weighted(b, &before, total) - lowest;
            self.fairness.max_deviation = self.fairness.max_deviation.max(deviation);
        }
        if waiting.len() >= 2 {
            let spread = waiting.iter().copied().reduce(f64::max).unwrap_or(lowest) - lowest;
            self.fairness.contended_passes += 1;
            self.fairness.max_spread = self.fairness.max_spread.max(spread);
        }
    }

    /// Bucket names, in index order.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// Every bucket at the end.
    pub fn lines(&self, total: &ResourceAmounts) -> Vec<BucketLine> {
        let now = self.current(total);
        (0..self.names.len())
            .map(|b| BucketLine {
                bucket: self.names[b].to_string(),
                weight: self.weights[b],
                placed: self.placed[b],
                weighted_share: now[b],
            })
            .collect()
    }
}
