//! Validating conversions from Mesos v1 protos into the engine's model (house rule 3: proto
//! types stop here, and a malformed message is an error value, never a panic).
//!
//! An [`Offer`](v1::Offer) becomes a model [`Offer`]:
//! - ids and the hostname must be present and non-empty;
//! - `SCALAR` resources become [`ResourceValue::Scalar`] (NaN, infinite, negative or absurdly
//!   large amounts are errors); `RANGES` resources named `ports` become
//!   [`ResourceValue::Ports`] (a range with `begin > end` or beyond 65535 is an error); every
//!   other resource (sets, other ranges) is skipped, as the engine cannot place it;
//! - a resource's role is the role of the last entry of `reservations` (the current
//!   reservation of the refinement format), else the deprecated `role` field, else `*`;
//! - `TEXT` and `SCALAR` attributes become [`AttrValue`]s (a non-finite scalar is an error);
//!   ranges and set attributes are skipped; a repeated name keeps the last value.
//!
//! The operator API's `AgentInfo` and `Task` convert by the same rules with [`agent_host`] and
//! [`task_placement`].

use std::fmt;

use super::v1;
use crate::model::{AttrValue, Attributes, Offer, OfferedResource, ResourceValue, Role};
use crate::resources::{PortRange, PortSet, Quantity, QuantityError, PORTS};

mod operator;

pub use operator::{agent_host, agent_totals, task_placement, TaskPlacement};

/// Why a proto message cannot become a model value. Every variant names the offer id (empty
/// when the id itself is missing) and the offending field, e.g. `resources[2].scalar`. For the
/// operator API's messages ([`agent_host`], [`task_placement`]) the id is the agent's or the
/// task's, and the field is rooted at the message: `agent_info.hostname`, `task.resources[0].scalar`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ConvertError {
    /// A required field is absent or empty.
    Missing {
        /// The offer id.
        offer: String,
        /// The field, e.g. `agent_id` or `resources[0].scalar`.
        field: String,
    },
    /// A scalar resource amount is NaN, infinite, negative or too large.
    BadScalar {
        /// The offer id.
        offer: String,
        /// The field, e.g. `resources[0].scalar`.
        field: String,
        /// The resource name.
        resource: String,
        /// The amount as sent.
        value: f64,
        /// What is wrong with it.
        error: QuantityError,
    },
    /// A `ports` range has `begin > end` or lies outside `0..=65535`.
    BadRange {
        /// The offer id.
        offer: String,
        /// The field, e.g. `resources[1].ranges.range[0]`.
        field: String,
        /// The resource name.
        resource: String,
        /// First port as sent.
        begin: u64,
        /// Last port as sent.
        end: u64,
    },
    /// A scalar attribute is NaN or infinite.
    BadAttribute {
        /// The offer id.
        offer: String,
        /// The field, e.g. `attributes[0].scalar`.
        field: String,
        /// The attribute name.
        attribute: String,
        /// The value as sent.
        value: f64,
    },
}

impl ConvertError {
    /// The id of the offer (or, for the operator API's messages, of the agent or task) that failed
    /// to convert; empty when the id itself is missing.
    pub fn offer_id(&self) -> &str {
        match self {
            Self::Missing { offer, .. }
            | Self::BadScalar { offer, .. }
            | Self::BadRange { offer, .. }
            | Self::BadAttribute { offer, .. } => offer,
        }
    }

    /// The offending field, e.g. `resources[0].scalar`.
    pub fn field(&self) -> &str {
        match self {
            Self::Missing { field, .. }
            | Self::BadScalar { field, .. }
            | Self::BadRange { field, .. }
            | Self::BadAttribute { field, .. } => field,
        }
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = match self.field().split('.').next() {
            Some("agent_info") => "agent",
            Some("task") => "task",
            _ => "offer",
        };
        write!(f, "{noun} {:?}, field {}: ", self.offer_id(), self.field())?;
        match self {
            Self::Missing { .. } => f.write_str("required but missing or empty"),
            Self::BadScalar { resource, value, error, .. } => {
                write!(f, "resource {resource} amount {value}: {error}")
            }
            Self::BadRange { resource, begin, end, .. } => {
                write!(f, "resource {resource} range {begin}-{end} is not a valid port range")
            }
            Self::BadAttribute { attribute, value, .. } => {
                write!(f, "attribute {attribute} value {value} is not finite")
            }
        }
    }
}

impl std::error::Error for ConvertError {}

impl TryFrom<&v1::Offer> for Offer {
    type Error = ConvertError;

    fn try_from(proto: &v1::Offer) -> Result<Offer, ConvertError> {
        let cx = Context { offer: &proto.id.value };
        cx.require("id", &proto.id.value)?;
        cx.require("framework_id", &proto.framework_id.value)?;
        cx.require("agent_id", &proto.agent_id.value)?;
        cx.require("hostname", &proto.hostname)?;
        let mut offer = Offer::new(cx.offer, proto.agent_id.value.as_str(), &proto.hostname);
        for (index, resource) in proto.resources.iter().enumerate() {
            if let Some(resource) = cx.resource(index, resource)? {
                offer.resources.push(resource);
            }
        }
        offer.attributes = cx.attributes(&proto.attributes)?;
        offer.executor_ids = proto.executor_ids.iter().map(|e| std::sync::Arc::from(e.value.as_str())).collect();
        Ok(offer)
    }
}

impl TryFrom<v1::Offer> for Offer {
    type Error = ConvertError;

    fn try_from(proto: v1::Offer) -> Result<Offer, ConvertError> {
        Offer::try_from(&proto)
    }
}

/// The offer being converted, for error values.
struct Context<'a> {
    offer: &'a str,
}

impl Context<'_> {
    fn missing(&self, field: String) -> ConvertError {
        ConvertError::Missing { offer: self.offer.to_owned(), field }
    }

    fn require(&self, field: &str, value: &str) -> Result<(), ConvertError> {
        if value.is_empty() {
            return Err(self.missing(field.to_owned()));
        }
        Ok(())
    }

    /// One resource, or `None` for kinds the engine does not place.
    fn resource(&self, index: usize, proto: &v1::Resource) -> Result<Option<OfferedResource>, ConvertError> {
        let field = |suffix: &str| format!("resources[{index}].{suffix}");
        self.require(&field("name"), &proto.name)?;
        let value = match v1::value::Type::try_from(proto.r#type) {
            Ok(v1::value::Type::Scalar) => {
                let scalar = proto.scalar.as_ref().ok_or_else(|| self.missing(field("scalar")))?;
                let quantity = Quantity::new(scalar.value).map_err(|error| ConvertError::BadScalar {
                    offer: self.offer.to_owned(),
                    field: field("scalar"),
                    resource: proto.name.clone(),
                    value: scalar.value,
                    error,
                })?;
                ResourceValue::Scalar(quantity)
            }
            Ok(v1::value::Type::Ranges) if proto.name == PORTS => {
                let ranges = proto.ranges.as_ref().ok_or_else(|| self.missing(field("ranges")))?;
                ResourceValue::Ports(self.ports(index, &proto.name, ranges)?)
            }
            _ => return Ok(None),
        };
        let role = self.role(index, proto)?;
        Ok(Some(OfferedResource { name: crate::resources::shared_name(&proto.name), role, value }))
    }

    fn ports(&self, index: usize, name: &str, ranges: &v1::value::Ranges) -> Result<PortSet, ConvertError> {
        let mut ports = PortSet::new();
        for (at, range) in ranges.range.iter().enumerate() {
            let valid = u16::try_from(range.begin)
                .ok()
                .zip(u16::try_from(range.end).ok())
                .and_then(|(begin, end)| PortRange::new(begin, end));
            let range = valid.ok_or_else(|| ConvertError::BadRange {
                offer: self.offer.to_owned(),
                field: format!("resources[{index}].ranges.range[{at}]"),
                resource: name.to_owned(),
                begin: range.begin,
                end: range.end,
            })?;
            ports.insert(range);
        }
        Ok(ports)
    }

    /// The current reservation's role, else the deprecated `role`, else `*`.
    #[allow(deprecated)] // `Resource.role` is how pre-refinement frameworks see reservations.
    fn role(&self, index: usize, proto: &v1::Resource) -> Result<Role, ConvertError> {
        if let Some(last) = proto.reservations.last() {
            return match last.role.as_deref() {
                Some(role) if !role.is_empty() => Ok(Role::new(role)),
                _ => {
                    Err(self.missing(format!("resources[{index}].reservations[{}].role", proto.reservations.len() - 1)))
                }
            };
        }
        Ok(match proto.role.as_deref() {
            Some(role) if !role.is_empty() => Role::new(role),
            _ => Role::unreserved(),
        })
    }

    fn attributes(&self, protos: &[v1::Attribute]) -> Result<Attributes, ConvertError> {
        let mut attributes = Attributes::new();
        for (index, proto) in protos.iter().enumerate() {
            let field = |suffix: &str| format!("attributes[{index}].{suffix}");
            self.require(&field("name"), &proto.name)?;
            let value = match v1::value::Type::try_from(proto.r#type) {
                Ok(v1::value::Type::Text) => {
                    let text = proto.text.as_ref().ok_or_else(|| self.missing(field("text")))?;
                    AttrValue::text(&text.value)
                }
                Ok(v1::value::Type::Scalar) => {
                    let scalar = proto.scalar.as_ref().ok_or_else(|| self.missing(field("scalar")))?;
                    AttrValue::scalar(scalar.value).ok_or_else(|| ConvertError::BadAttribute {
                        offer: self.offer.to_owned(),
                        field: field("scalar"),
                        attribute: proto.name.clone(),
                        value: scalar.value,
                    })?
                }
                _ => continue,
            };
            attributes.insert(&proto.name, value);
        }
        Ok(attributes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use v1::value::{Range, Ranges, Scalar, Text, Type};

    fn scalar(name: &str, value: f64) -> v1::Resource {
        v1::Resource {
            name: name.into(),
            r#type: Type::Scalar as i32,
            scalar: Some(Scalar { value }),
            ..Default::default()
        }
    }

    fn ports(ranges: &[(u64, u64)]) -> v1::Resource {
        let range = ranges.iter().map(|&(begin, end)| Range { begin, end }).collect();
        v1::Resource {
            name: PORTS.into(),
            r#type: Type::Ranges as i32,
            ranges: Some(Ranges { range }),
            ..Default::default()
        }
    }

    fn attribute(name: &str, r#type: Type) -> v1::Attribute {
        v1::Attribute { name: name.into(), r#type: r#type as i32, ..Default::default() }
    }

    fn reservation(role: Option<&str>) -> v1::resource::ReservationInfo {
        v1::resource::ReservationInfo { role: role.map(Into::into), ..Default::default() }
    }

    fn proto_offer() -> v1::Offer {
        v1::Offer {
            id: v1::OfferId { value: "o-1".into() },
            framework_id: v1::FrameworkId { value: "fw-1".into() },
            agent_id: v1::AgentId { value: "a-1".into() },
            hostname: "h1".into(),
            resources: vec![scalar("cpus", 4.0), ports(&[(31000, 32000)])],
            attributes: vec![v1::Attribute {
                text: Some(Text { value: "r1".into() }),
                ..attribute("rack", Type::Text)
            }],
            ..Default::default()
        }
    }

    fn convert(proto: v1::Offer) -> Result<Offer, ConvertError> {
        Offer::try_from(proto)
    }

    #[test]
    fn offer_converts_resources_and_attributes() {
        let offer = convert(proto_offer()).unwrap();
        let expected = Offer::new("o-1", "a-1", "h1")
            .with_scalar("cpus", 4.0)
            .unwrap()
            .with_ports(31000, 32000)
            .unwrap()
            .with_text_attribute("rack", "r1");
        assert_eq!(offer, expected);
    }

    #[test]
    fn offer_merges_port_ranges_and_keeps_scalar_attributes() {
        let mut proto = proto_offer();
        proto.resources = vec![ports(&[(10, 20), (0, 9), (65535, 65535)])];
        proto.attributes =
            vec![v1::Attribute { scalar: Some(Scalar { value: 2.5 }), ..attribute("cores", Type::Scalar) }];
        let offer = convert(proto).unwrap();
        let ResourceValue::Ports(set) = &offer.resources[0].value else {
            panic!("not ports: {offer:?}");
        };
        assert_eq!(set.ranges(), [PortRange { begin: 0, end: 20 }, PortRange::new(65535, 65535).unwrap()]);
        assert_eq!(offer.attributes.get("cores").and_then(AttrValue::as_scalar), Some(2.5));
    }

    #[test]
    #[allow(deprecated)]
    fn resource_role_prefers_last_reservation_then_role_then_star() {
        let mut refined = scalar("cpus", 1.0);
        refined.role = Some("ignored".into());
        refined.reservations = vec![reservation(Some("eng")), reservation(Some("eng/web"))];
        let mut legacy = scalar("mem", 1.0);
        legacy.role = Some("eng".into());
        let plain = scalar("disk", 1.0);
        let mut proto = proto_offer();
        proto.resources = vec![refined, legacy, plain];
        let roles: Vec<_> = convert(proto).unwrap().resources.into_iter().map(|r| r.role).collect();
        assert_eq!(roles, [Role::new("eng/web"), Role::new("eng"), Role::unreserved()]);
    }

    #[test]
    fn resource_skips_sets_other_ranges_and_unknown_types() {
        let mut proto = proto_offer();
        let set = v1::Resource {
            name: "gpus_models".into(),
            r#type: Type::Set as i32,
            set: Some(v1::value::Set { item: vec!["a100".into()] }),
            ..Default::default()
        };
        let other_ranges = v1::Resource { name: "vlans".into(), ..ports(&[(5, 1)]) };
        let unknown = v1::Resource { r#type: 42, ..scalar("odd", 1.0) };
        proto.resources = vec![set, other_ranges, unknown, scalar("cpus", 1.0)];
        proto.attributes = vec![attribute("zones", Type::Set)];
        let offer = convert(proto).unwrap();
        assert_eq!(offer.resources.len(), 1);
        assert!(offer.attributes.is_empty());
    }

    fn missing_field(proto: v1::Offer) -> (String, String) {
        match convert(proto) {
            Err(ConvertError::Missing { offer, field }) => (offer, field),
            other => panic!("expected Missing, got {other:?}"),
        }
    }

    #[test]
    fn offer_rejects_missing_ids_and_hostname() {
        let mut proto = proto_offer();
        proto.id.value.clear();
        assert_eq!(missing_field(proto), (String::new(), "id".into()));
        let mut proto = proto_offer();
        proto.framework_id.value.clear();
        assert_eq!(missing_field(proto), ("o-1".into(), "framework_id".into()));
        let mut proto = proto_offer();
        proto.agent_id.value.clear();
        assert_eq!(missing_field(proto), ("o-1".into(), "agent_id".into()));
        let mut proto = proto_offer();
        proto.hostname.clear();
        assert_eq!(missing_field(proto), ("o-1".into(), "hostname".into()));
    }

    #[test]
    fn resource_rejects_missing_name_value_and_reservation_role() {
        let mut proto = proto_offer();
        proto.resources[1].name.clear();
        assert_eq!(missing_field(proto).1, "resources[1].name");
        let mut proto = proto_offer();
        proto.resources[0].scalar = None;
        assert_eq!(missing_field(proto).1, "resources[0].scalar");
        let mut proto = proto_offer();
        proto.resources[1].ranges = None;
        assert_eq!(missing_field(proto).1, "resources[1].ranges");
        let mut proto = proto_offer();
        proto.resources[0].reservations = vec![reservation(Some("eng")), reservation(None)];
        assert_eq!(missing_field(proto).1, "resources[0].reservations[1].role");
    }

    #[test]
    fn resource_rejects_bad_scalars() {
        let cases = [
            (f64::NAN, QuantityError::NotANumber),
            (-1.0, QuantityError::Negative),
            (f64::INFINITY, QuantityError::OutOfRange),
        ];
        for (value, expected) in cases {
            let mut proto = proto_offer();
            proto.resources[0] = scalar("mem", value);
            match convert(proto) {
                Err(ConvertError::BadScalar { offer, field, resource, error, .. }) => {
                    assert_eq!((offer.as_str(), field.as_str()), ("o-1", "resources[0].scalar"));
                    assert_eq!((resource.as_str(), error), ("mem", expected));
                }
                other => panic!("{value}: expected BadScalar, got {other:?}"),
            }
        }
    }

    #[test]
    fn resource_rejects_bad_port_ranges() {
        for (begin, end) in [(32000, 31000), (65535, 65536), (70000, 80000)] {
            let mut proto = proto_offer();
            proto.resources[1] = ports(&[(1, 2), (begin, end)]);
            let error = convert(proto).unwrap_err();
            let expected = ConvertError::BadRange {
                offer: "o-1".into(),
                field: "resources[1].ranges.range[1]".into(),
                resource: PORTS.into(),
                begin,
                end,
            };
            assert_eq!(error, expected);
        }
    }

    #[test]
    fn attribute_rejects_missing_value_and_non_finite_scalar() {
        let mut proto = proto_offer();
        proto.attributes = vec![attribute("rack", Type::Text)];
        assert_eq!(missing_field(proto).1, "attributes[0].text");
        let mut proto = proto_offer();
        proto.attributes[0].name.clear();
        assert_eq!(missing_field(proto).1, "attributes[0].name");
        let mut proto = proto_offer();
        proto.attributes =
            vec![v1::Attribute { scalar: Some(Scalar { value: f64::NAN }), ..attribute("cores", Type::Scalar) }];
        let error = convert(proto).unwrap_err();
        assert!(matches!(&error, ConvertError::BadAttribute { attribute, .. } if attribute == "cores"));
        assert_eq!((error.offer_id(), error.field()), ("o-1", "attributes[0].scalar"));
    }

    #[test]
    fn convert_error_display_names_offer_and_field() {
        let error = ConvertError::Missing { offer: "o-9".into(), field: "agent_id".into() };
        assert_eq!(error.to_string(), "offer \"o-9\", field agent_id: required but missing or empty");
    }
}
