//! Queue configuration: tiers, buckets and the serving policy, with validation.

use std::collections::BTreeMap;
use std::fmt;

use super::ResourceAmounts;

/// The bucket a task belongs to when it names none.
pub const DEFAULT_BUCKET: &str = "default";

/// One tier: tasks of tier 0 are all tried before any task of tier 1, and so on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TierConfig {
    /// Most the tier's buckets may hold together, per resource (running tasks included); a
    /// resource not named, or no capacity at all, leaves the tier bounded only by the cluster.
    pub capacity: Option<ResourceAmounts>,
}

/// One bucket (an app, a team, a job family): its fair-share weight, guarantee and limit.
#[derive(Clone, Debug, PartialEq)]
pub struct BucketConfig {
    /// Fair-share weight (positive, finite): a bucket of weight 2 is served to twice the
    /// dominant share of a bucket of weight 1.
    pub weight: f64,
    /// Resources held for the bucket while it has pending tasks; others may borrow what it does
    /// not use while it has none.
    pub guarantee: ResourceAmounts,
    /// A cap the bucket never exceeds, running tasks included; a resource not named is uncapped.
    pub limit: ResourceAmounts,
}

impl Default for BucketConfig {
    /// Weight 1, no guarantee, no limit.
    fn default() -> BucketConfig {
        BucketConfig { weight: 1.0, guarantee: ResourceAmounts::new(), limit: ResourceAmounts::new() }
    }
}

/// How entries age and when a waiting head counts as starving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueuePolicy {
    /// An entry waiting this many passes longer than another ranks as if its priority were one
    /// higher (0 turns aging off); see the [module docs](super).
    pub aging_passes: u32,
    /// A bucket's head unplaced for want of an agent in this many consecutive passes is starving
    /// (at least 1).
    pub starving_after: u32,
}

impl Default for QueuePolicy {
    /// Aging by one priority level every 10 passes; starving after 3 passes without a fit.
    fn default() -> QueuePolicy {
        QueuePolicy { aging_passes: 10, starving_after: 3 }
    }
}

/// The whole queue configuration; buckets not named here get [`BucketConfig::default`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueConfig {
    /// Tiers by number (index 0 is tier 0); tiers past the end have no capacity.
    pub tiers: Vec<TierConfig>,
    /// Buckets by name.
    pub buckets: BTreeMap<String, BucketConfig>,
    /// Aging and starvation.
    pub policy: QueuePolicy,
}

impl QueueConfig {
    /// Checks every weight, name, guarantee and the policy.
    pub fn validate(&self) -> Result<(), QueueConfigError> {
        for (name, bucket) in &self.buckets {
            if name.is_empty() {
                return Err(QueueConfigError::EmptyBucketName);
            }
            if !(bucket.weight.is_finite() && bucket.weight > 0.0) {
                return Err(QueueConfigError::BadWeight { bucket: name.clone(), weight: bucket.weight });
            }
            for (resource, guaranteed) in bucket.guarantee.iter() {
                if bucket.limit.get(resource).is_some_and(|limit| guaranteed > limit) {
                    let resource = resource.to_owned();
                    return Err(QueueConfigError::GuaranteeAboveLimit { bucket: name.clone(), resource });
                }
            }
        }
        if self.policy.starving_after == 0 {
            return Err(QueueConfigError::ZeroStarvingAfter);
        }
        Ok(())
    }

    /// The configuration of bucket `name` (the default when not named).
    pub fn bucket(&self, name: &str) -> BucketConfig {
        self.buckets.get(name).cloned().unwrap_or_default()
    }
}

/// Why a [`QueueConfig`] is rejected.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum QueueConfigError {
    /// A bucket has an empty name.
    EmptyBucketName,
    /// A weight is NaN, infinite, zero or negative.
    BadWeight {
        /// The bucket.
        bucket: String,
        /// The weight given.
        weight: f64,
    },
    /// A bucket's guarantee of a resource exceeds its limit of it.
    GuaranteeAboveLimit {
        /// The bucket.
        bucket: String,
        /// The resource.
        resource: String,
    },
    /// `starving_after` is zero.
    ZeroStarvingAfter,
}

impl fmt::Display for QueueConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyBucketName => f.write_str("a bucket name is empty"),
            Self::BadWeight { bucket, weight } => {
                write!(f, "bucket {bucket:?}: weight {weight} is not a positive, finite number")
            }
            Self::GuaranteeAboveLimit { bucket, resource } => {
                write!(f, "bucket {bucket:?}: guarantee of {resource:?} is above its limit")
            }
            Self::ZeroStarvingAfter => f.write_str("starving_after must be at least 1 pass"),
        }
    }
}

impl std::error::Error for QueueConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::Quantity;

    fn with_bucket(bucket: BucketConfig) -> QueueConfig {
        QueueConfig { buckets: [("b".to_owned(), bucket)].into_iter().collect(), ..QueueConfig::default() }
    }

    #[test]
    fn config_rejects_bad_weights() {
        for weight in [f64::NAN, f64::INFINITY, 0.0, -1.0] {
            let err = with_bucket(BucketConfig { weight, ..BucketConfig::default() }).validate().unwrap_err();
            assert!(matches!(err, QueueConfigError::BadWeight { ref bucket, .. } if bucket == "b"), "{err}");
        }
        assert_eq!(with_bucket(BucketConfig { weight: 0.5, ..BucketConfig::default() }).validate(), Ok(()));
    }

    #[test]
    fn config_rejects_guarantee_above_limit_and_empty_names() {
        let q = Quantity::from_units;
        let bucket = BucketConfig {
            guarantee: ResourceAmounts::new().with("cpus", q(5)),
            limit: ResourceAmounts::new().with("cpus", q(4)),
            ..BucketConfig::default()
        };
        let err = with_bucket(bucket).validate().unwrap_err();
        assert_eq!(err, QueueConfigError::GuaranteeAboveLimit { bucket: "b".into(), resource: "cpus".into() });
        let mut empty = with_bucket(BucketConfig::default());
        empty.buckets.insert(String::new(), BucketConfig::default());
        assert_eq!(empty.validate(), Err(QueueConfigError::EmptyBucketName));
        let mut policy = QueueConfig::default();
        policy.policy.starving_after = 0;
        assert_eq!(policy.validate(), Err(QueueConfigError::ZeroStarvingAfter));
    }

    #[test]
    fn config_defaults_unnamed_buckets() {
        let config = QueueConfig::default();
        assert_eq!(config.bucket("anything"), BucketConfig::default());
        assert_eq!(config.bucket(DEFAULT_BUCKET).weight, 1.0);
    }
}
