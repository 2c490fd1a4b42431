//! Resource offers as the engine sees them (no protobuf types here).

use std::sync::Arc;

use super::{AgentId, Attributes, OfferId, Role};
use crate::resources::{PortRange, PortSet, Quantity, QuantityError, PORTS};

/// The amount of one offered resource.
#[derive(Clone, Debug, PartialEq)]
pub enum ResourceValue {
    /// A scalar amount (cpus, mem, disk, network, gpus or any named scalar).
    Scalar(Quantity),
    /// Port ranges (only for the resource named `ports`).
    Ports(PortSet),
}

/// One resource in an offer, with the role it is reserved for (`*` when unreserved).
#[derive(Clone, Debug, PartialEq)]
pub struct OfferedResource {
    /// Resource name, e.g. `cpus` or `ports`.
    pub name: Arc<str>,
    /// The reservation role; `*` for unreserved resources.
    pub role: Role,
    /// The amount offered.
    pub value: ResourceValue,
}

/// A resource offer from one agent.
///
/// ```
/// use offerpack::Offer;
/// let offer = Offer::new("o1", "agent-1", "host-1")
///     .with_scalar("cpus", 8.0).unwrap()
///     .with_scalar("mem", 16384.0).unwrap()
///     .with_ports(31000, 31999).unwrap()
///     .with_text_attribute("zone", "a");
/// assert_eq!(offer.scalar("cpus").to_string(), "8");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Offer {
    /// The offer id.
    pub id: OfferId,
    /// The agent the resources are on.
    pub agent_id: AgentId,
    /// The agent's hostname.
    pub hostname: Arc<str>,
    /// The offered resources.
    pub resources: Vec<OfferedResource>,
    /// The agent's attributes.
    pub attributes: Attributes,
    /// This framework's custom executors running on the agent (Mesos' `Offer.executor_ids`):
    /// a task for one of them is not charged the executor's resources again.
    pub executor_ids: Vec<Arc<str>>,
}

impl Offer {
    /// An offer with no resources yet.
    pub fn new(id: impl Into<OfferId>, agent_id: impl Into<AgentId>, hostname: &str) -> Offer {
        Offer {
            id: id.into(),
            agent_id: agent_id.into(),
            hostname: Arc::from(hostname),
            resources: Vec::new(),
            attributes: Attributes::new(),
            executor_ids: Vec::new(),
        }
    }

    /// Adds an unreserved scalar resource; rejects NaN, infinite and negative amounts.
    pub fn with_scalar(self, name: &str, amount: f64) -> Result<Offer, QuantityError> {
        self.with_reserved_scalar(name, Role::unreserved(), amount)
    }

    /// Adds a scalar resource reserved for `role`.
    pub fn with_reserved_scalar(mut self, name: &str, role: Role, amount: f64) -> Result<Offer, QuantityError> {
        let value = ResourceValue::Scalar(Quantity::new(amount)?);
        self.resources.push(OfferedResource { name: crate::resources::shared_name(name), role, value });
        Ok(self)
    }

    /// Adds an unreserved port range `begin..=end`; `None` when `begin > end`.
    pub fn with_ports(mut self, begin: u16, end: u16) -> Option<Offer> {
        let range = PortRange::new(begin, end)?;
        self.resources.push(OfferedResource {
            name: crate::resources::shared_name(PORTS),
            role: Role::unreserved(),
            value: ResourceValue::Ports(PortSet::from_ranges([range])),
        });
        Some(self)
    }

    /// Adds a text attribute.
    pub fn with_text_attribute(mut self, name: &str, value: &str) -> Offer {
        self.attributes.insert(name, super::AttrValue::text(value));
        self
    }

    /// Total of one scalar resource over all roles.
    pub fn scalar(&self, name: &str) -> Quantity {
        self.resources
            .iter()
            .filter(|r| &*r.name == name)
            .map(|r| match &r.value {
                ResourceValue::Scalar(q) => *q,
                ResourceValue::Ports(_) => Quantity::ZERO,
            })
            .fold(Quantity::ZERO, |a, b| a + b)
    }
}
