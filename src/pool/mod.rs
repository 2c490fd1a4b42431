//! The offer pool: offers held per agent until they are used, declined, rescinded or expire.
//!
//! Every offer leaves the pool exactly once, through one of [`OfferPool::settle`] (launched on or
//! declined, as a [`Plan`](crate::Plan) says), [`OfferPool::rescind`], [`OfferPool::remove_agent`]
//! or [`OfferPool::expire`]. Time is passed in as `now`, a [`Duration`](std::time::Duration) since any epoch the caller
//! keeps fixed; the pool never reads a clock.

mod offer_pool;

pub use offer_pool::{AgentOffers, OfferPool};

use std::fmt;

use crate::model::OfferId;

/// A pool operation that names offers the pool does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// An offer with this id is already held.
    DuplicateOffer(OfferId),
    /// No offer with this id is held (already used, declined, rescinded or expired).
    UnknownOffer(OfferId),
    /// The pool holds as many offers as it can address (`u32::MAX`).
    Full,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateOffer(id) => write!(f, "offer {id} is already in the pool"),
            Self::UnknownOffer(id) => write!(f, "offer {id} is not in the pool"),
            Self::Full => write!(f, "the pool holds as many offers as it can address ({})", u32::MAX),
        }
    }
}

impl std::error::Error for PoolError {}
