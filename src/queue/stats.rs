//! Per-bucket figures after a pass.

use std::sync::Arc;

use super::ResourceAmounts;

/// One bucket within one tier, after a pass (the plan's `stats.buckets`).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "workload", derive(serde::Serialize))]
pub struct BucketStats {
    /// The tier.
    pub tier: u32,
    /// The bucket.
    #[cfg_attr(feature = "workload", serde(serialize_with = "name"))]
    pub bucket: Arc<str>,
    /// Tasks placed in this pass.
    pub placed: u32,
    /// Tasks tried and not placed in this pass.
    pub unplaced: u32,
    /// Everything the bucket holds in the tier after the pass: running tasks plus those placed.
    pub allocated: ResourceAmounts,
    /// Largest share of any resource the bucket holds, of the pass's cluster total (offered plus
    /// running), in [0, 1] when the total includes the bucket's usage.
    pub dominant_share: f64,
    /// `dominant_share` divided by the bucket's weight: what the queue equalises.
    pub weighted_share: f64,
}

#[cfg(feature = "workload")]
fn name<S: serde::Serializer>(name: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(name)
}
