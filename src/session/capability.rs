//! The capabilities a framework announces in `FrameworkInfo.capabilities`.
//!
//! `MULTI_ROLE` is always sent: the session relies on it (offers carry `allocation_info`).
//! Without `GPU_RESOURCES` a real master never offers GPU agents to the framework; with
//! `PARTITION_AWARE` tasks of partitioned agents are reported `TASK_UNREACHABLE` (not
//! retried: they may come back) and later `TASK_GONE` instead of `TASK_LOST`.

use std::fmt;
use std::str::FromStr;

use crate::mesos::v1::framework_info::capability::Type;

/// A capability besides `MULTI_ROLE`.
///
/// ```
/// use offerpack::session::Capability;
/// assert_eq!("GPU_RESOURCES".parse::<Capability>(), Ok(Capability::GpuResources));
/// assert!("GPU".parse::<Capability>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Capability {
    /// `REVOCABLE_RESOURCES`: accept revocable resources.
    RevocableResources,
    /// `TASK_KILLING_STATE`: receive `TASK_KILLING` while a task is being killed.
    TaskKillingState,
    /// `GPU_RESOURCES`: be offered agents with GPUs.
    GpuResources,
    /// `SHARED_RESOURCES`: accept shared resources (shared persistent volumes).
    SharedResources,
    /// `PARTITION_AWARE`: `TASK_UNREACHABLE`/`TASK_GONE` instead of `TASK_LOST`.
    PartitionAware,
    /// `RESERVATION_REFINEMENT`: hierarchical reservations.
    ReservationRefinement,
    /// `REGION_AWARE`: be offered agents in other regions.
    RegionAware,
}

const ALL: [(Capability, &str, Type); 7] = [
    (Capability::RevocableResources, "REVOCABLE_RESOURCES", Type::RevocableResources),
    (Capability::TaskKillingState, "TASK_KILLING_STATE", Type::TaskKillingState),
    (Capability::GpuResources, "GPU_RESOURCES", Type::GpuResources),
    (Capability::SharedResources, "SHARED_RESOURCES", Type::SharedResources),
    (Capability::PartitionAware, "PARTITION_AWARE", Type::PartitionAware),
    (Capability::ReservationRefinement, "RESERVATION_REFINEMENT", Type::ReservationRefinement),
    (Capability::RegionAware, "REGION_AWARE", Type::RegionAware),
];

impl Capability {
    /// The Mesos name, e.g. `GPU_RESOURCES`.
    pub fn name(self) -> &'static str {
        ALL.iter().find(|(c, _, _)| *c == self).map_or("UNKNOWN", |(_, name, _)| name)
    }

    pub(crate) fn proto(self) -> Type {
        ALL.iter().find(|(c, _, _)| *c == self).map_or(Type::Unknown, |(_, _, t)| *t)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Capability {
    type Err = String;

    /// A Mesos capability name; `MULTI_ROLE` is not one (it is always sent).
    fn from_str(text: &str) -> Result<Capability, String> {
        ALL.iter().find(|(_, name, _)| *name == text).map(|(c, _, _)| *c).ok_or_else(|| {
            let names: Vec<&str> = ALL.iter().map(|(_, name, _)| *name).collect();
            format!("unknown capability {text:?} (expected one of {}; MULTI_ROLE is always sent)", names.join(", "))
        })
    }
}
