//! Builds built-in constraints from Marathon-style `[attribute, OPERATOR, value]` triples.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use super::{Balance, Cluster, Exclusive, GroupBy, Is, Like, MaxPer, Unique, Unlike};
use crate::plugins::{HardConstraint, SoftConstraint};

/// A built-in constraint: usable as a hard or a soft constraint.
pub trait Builtin: HardConstraint + SoftConstraint {}

impl<T: HardConstraint + SoftConstraint> Builtin for T {}

/// A constraint triple that cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConstraintError {
    /// The operator is not one of the built-ins.
    UnknownOperator(String),
    /// The operator needs a value and none was given.
    MissingValue(&'static str),
    /// The value is not what the operator takes.
    BadValue {
        /// The operator.
        operator: &'static str,
        /// The value given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}

impl fmt::Display for ConstraintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownOperator(op) => write!(
                f,
                "unknown operator {op:?} (expected UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS, EXCLUSIVE or BALANCE)"
            ),
            Self::MissingValue(op) => write!(f, "{op} needs a value"),
            Self::BadValue { operator, value, expected } => {
                write!(f, "{operator} value {value:?}: expected {expected}")
            }
        }
    }
}

impl std::error::Error for ConstraintError {}

/// Builds a built-in constraint from `attribute`, `operator` (case-insensitive) and `value`.
///
/// ```
/// use offerpack::plugins::constraints::parse;
/// let spread = parse("zone", "GROUP_BY", Some("3")).unwrap();
/// assert_eq!(offerpack::plugins::HardConstraint::name(&*spread), "zone:GROUP_BY:3");
/// assert!(parse("zone", "NEAR", None).is_err());
/// ```
pub fn parse(attribute: &str, operator: &str, value: Option<&str>) -> Result<Arc<dyn Builtin>, ConstraintError> {
    let op = operator.to_ascii_uppercase();
    let need = |name: &'static str| value.ok_or(ConstraintError::MissingValue(name));
    let count = |name: &'static str, v: &str| {
        v.trim().parse::<u32>().ok().and_then(NonZeroU32::new).ok_or(ConstraintError::BadValue {
            operator: name,
            value: v.to_owned(),
            expected: "a positive whole number",
        })
    };
    let regex = |name: &'static str, e: regex::Error| ConstraintError::BadValue {
        operator: name,
        value: value.unwrap_or_default().to_owned(),
        expected: if matches!(e, regex::Error::CompiledTooBig(_)) { "a smaller regex" } else { "a valid regex" },
    };
    Ok(match op.as_str() {
        "UNIQUE" => Arc::new(Unique::new(attribute)),
        "CLUSTER" => Arc::new(Cluster::new(attribute, value)),
        "GROUP_BY" => Arc::new(GroupBy::new(
            attribute,
            value.map(|v| count("GROUP_BY", v)).transpose()?.map_or(0, NonZeroU32::get),
        )),
        "LIKE" => Arc::new(Like::new(attribute, need("LIKE")?).map_err(|e| regex("LIKE", e))?),
        "UNLIKE" => Arc::new(Unlike::new(attribute, need("UNLIKE")?).map_err(|e| regex("UNLIKE", e))?),
        "MAX_PER" => Arc::new(MaxPer::new(attribute, count("MAX_PER", need("MAX_PER")?)?)),
        "IS" => Arc::new(Is::new(attribute, need("IS")?)),
        "EXCLUSIVE" => Arc::new(Exclusive::new()),
        "BALANCE" => Arc::new(Balance::new(attribute, count("BALANCE", need("BALANCE")?)?)),
        _ => return Err(ConstraintError::UnknownOperator(operator.to_owned())),
    })
}
