//! Why the queue held a task back, how the caller reports a miss, and misuse errors.

use std::fmt;
use std::sync::Arc;

/// Why [`Queue::admit`](super::Queue::admit) held a task back; shown beside placement reasons.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueueReason {
    /// Placing the task would take the bucket past its limit of `resource`.
    LimitReached {
        /// The bucket.
        bucket: Arc<str>,
        /// The first resource (by name) that would go past the limit.
        resource: Arc<str>,
    },
    /// What is left beyond the bucket's own guarantee is held for other buckets' guarantees.
    NoGuaranteedCapacity {
        /// The bucket.
        bucket: Arc<str>,
    },
    /// The tier's capacity of `resource` is used up.
    TierCapacity {
        /// The tier.
        tier: u32,
        /// The first resource (by name) short.
        resource: Arc<str>,
    },
}

impl fmt::Display for QueueReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LimitReached { bucket, resource } => write!(f, "bucket {bucket:?} reached its {resource} limit"),
            Self::NoGuaranteedCapacity { bucket } => {
                write!(f, "bucket {bucket:?}: the rest is held for other buckets' guarantees")
            }
            Self::TierCapacity { tier, resource } => write!(f, "tier {tier} has no {resource} capacity left"),
        }
    }
}

/// Why a task handed out by [`Queue::next`](super::Queue::next) was not placed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnplacedCause {
    /// No agent could take it; counts toward starvation.
    NoFit,
    /// [`Queue::admit`](super::Queue::admit) held it back; resets its starvation count.
    Queue(QueueReason),
}

/// A call the queue cannot carry out (a bug in the caller, not bad input).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueError {
    /// The entry was removed or placed, or never existed.
    UnknownEntry,
    /// The entry was not handed out by [`Queue::next`](super::Queue::next) in this pass, or was
    /// already reported.
    NotInFlight,
}

impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownEntry => "no such queue entry",
            Self::NotInFlight => "the entry was not handed out by next() or was already reported",
        })
    }
}

impl std::error::Error for QueueError {}
