//! Built-in constraints: Marathon's operators with Marathon's semantics, plus Fenzo's exclusive
//! host and balanced-by-attribute. Each works as a hard constraint and as a soft one.
//!
//! An agent that lacks the constrained attribute fails every operator except `UNLIKE`, as in
//! Marathon. Counting is per group and includes running tasks and tasks placed earlier in the pass.

/// Implements both plugin traits for a rule that depends only on the agent's attributes: the
/// type has a `name: String` field and a `holds(&self, &AgentView) -> bool` method; as a soft
/// constraint it scores 1 where the rule holds and 0 elsewhere.
macro_rules! agent_attribute_rule {
    ($ty:ty) => {
        impl $crate::plugins::HardConstraint for $ty {
            fn name(&self) -> &str {
                &self.name
            }
            fn scope(&self) -> $crate::plugins::Scope {
                $crate::plugins::Scope::Static
            }
            fn allows(
                &self,
                _: &$crate::plugins::TaskView<'_>,
                agent: &$crate::plugins::AgentView<'_>,
                _: &$crate::plugins::PassView<'_>,
            ) -> bool {
                self.holds(agent)
            }
        }

        impl $crate::plugins::SoftConstraint for $ty {
            fn name(&self) -> &str {
                &self.name
            }
            fn scope(&self) -> $crate::plugins::Scope {
                $crate::plugins::Scope::Static
            }
            fn score(
                &self,
                _: &$crate::plugins::TaskView<'_>,
                agent: &$crate::plugins::AgentView<'_>,
                _: &$crate::plugins::PassView<'_>,
            ) -> $crate::plugins::Score {
                $crate::plugins::Score::from_bool(self.holds(agent))
            }
        }
    };
}

mod balance;
mod cluster;
mod exclusive;
mod group_by;
mod is;
mod like;
mod max_per;
mod registry;
mod unique;
mod unlike;

pub use balance::Balance;
pub use cluster::Cluster;
pub use exclusive::Exclusive;
pub use group_by::GroupBy;
pub use is::Is;
pub use like::Like;
pub use max_per::MaxPer;
pub use registry::{parse, Builtin, ConstraintError};
pub use unique::Unique;
pub use unlike::Unlike;

use std::sync::Arc;

use super::Scope;
use crate::model::HOSTNAME;

/// The scope of a rule that counts tasks per value of `attr`: per agent for hostnames (agents
/// sharing a hostname are re-evaluated together), per value otherwise.
fn counting_scope(attr: &Arc<str>) -> Scope {
    if &**attr == HOSTNAME {
        Scope::Agent
    } else {
        Scope::Attribute(attr.clone())
    }
}

/// Soft score from a count: 1 with none, falling as the count grows.
fn decay(count: u32) -> super::Score {
    super::Score::clamped(1.0 / (1.0 + f64::from(count)))
}
