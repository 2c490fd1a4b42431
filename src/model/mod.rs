//! The engine's data model: offers, agents' attributes, running tasks and their identifiers.
//!
//! These are plain values; protobuf types are converted into them at the protocol edge.

mod attributes;
mod ids;
mod offer;
mod task;

use std::fmt;

pub use attributes::{AttrValue, Attributes, HOSTNAME};
pub use ids::{AgentId, GroupId, OfferId, Role, TaskId};
pub use offer::{Offer, OfferedResource, ResourceValue};
pub use task::{PortRequest, RunningTask};

use crate::resources::QuantityError;

/// A task or offer that does not make sense.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ModelError {
    /// A resource amount is NaN, infinite or negative.
    BadQuantity {
        /// The resource.
        resource: String,
        /// What is wrong with the amount.
        error: QuantityError,
    },
    /// A resource is named twice.
    DuplicateResource(String),
    /// A specific port is asked for twice.
    DuplicatePort(u16),
    /// A soft constraint weight is not finite and positive.
    BadWeight(f64),
    /// A task accepts an empty list of roles.
    NoRoles,
    /// A declared gang size is zero, or is given without a gang.
    BadGangSize(u32),
    /// The members of a gang disagree on its size, or outnumber it.
    GangSize(crate::spec::GangSizeError),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadQuantity { resource, error } => write!(f, "resource {resource}: {error}"),
            Self::DuplicateResource(name) => write!(f, "resource {name} is given twice"),
            Self::DuplicatePort(port) => write!(f, "port {port} is asked for twice"),
            Self::BadWeight(w) => write!(f, "soft constraint weight {w} is not finite and positive"),
            Self::NoRoles => f.write_str("the task accepts no role"),
            Self::GangSize(e) => e.fmt(f),
            Self::BadGangSize(n) => write!(f, "gang size {n}: a gang size is at least 1 and comes with a gang"),
        }
    }
}

impl std::error::Error for ModelError {}
