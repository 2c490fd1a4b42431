//! Where a task stands in the queue: its tier and bucket.

use std::sync::Arc;

use super::DEFAULT_BUCKET;

/// A task's place in the queue: its tier (0 is served first) and its bucket (tasks of one
/// bucket share an allocation and a weight).
///
/// ```
/// let place = offerpack::queue::QueuePlace::default();
/// assert_eq!((place.tier, &*place.bucket), (0, "default"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct QueuePlace {
    /// The tier.
    pub tier: u32,
    /// The bucket.
    pub bucket: Arc<str>,
}

impl Default for QueuePlace {
    /// Tier 0, the default bucket.
    fn default() -> Self {
        QueuePlace { tier: 0, bucket: Arc::from(DEFAULT_BUCKET) }
    }
}
