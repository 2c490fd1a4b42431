//! The names a pass gives dense indices to, as task classes read them.

use super::ix::{Dim, KeyIx, RoleIx};
use super::Interner;
use crate::resources::{CPUS, DISK, GPUS, MEM, NETWORK};

/// Names of the resource dimensions every pass has, in [`Dim`](crate::plugins::Dim) order.
pub(crate) const FIXED_DIMS: [&str; 5] = [CPUS, MEM, DISK, NETWORK, GPUS];

/// The dimension every ask of a resource no agent offers maps to: never offered, so such an
/// ask fits nowhere (and is explained as a shortfall of its own name). Its name cannot come
/// from Mesos or a workload file.
pub(crate) const UNOFFERED: Dim = Dim(FIXED_DIMS.len() as u16);
pub(super) const UNOFFERED_NAME: &str = "\0unoffered";

/// The names tables give dense indices to, as task classes read them.
#[derive(Clone, Copy)]
pub(crate) struct Names<'a> {
    pub dims: &'a Interner<Dim>,
    pub roles: &'a Interner<RoleIx>,
    pub keys: &'a Interner<KeyIx>,
    /// Role indices, reserved roles first (by name), then `*`.
    pub default_role_order: &'a [RoleIx],
}

/// An owned copy of some tables' [`Names`], for compiling on another thread while the tables
/// load their agents (a handful of names: cheap to copy).
#[derive(Clone, Debug)]
pub(crate) struct OwnedNames {
    dims: Interner<Dim>,
    roles: Interner<RoleIx>,
    keys: Interner<KeyIx>,
    default_role_order: Vec<RoleIx>,
}

impl OwnedNames {
    /// Copies `names`.
    pub fn of(names: Names<'_>) -> OwnedNames {
        OwnedNames {
            dims: names.dims.clone(),
            roles: names.roles.clone(),
            keys: names.keys.clone(),
            default_role_order: names.default_role_order.to_vec(),
        }
    }

    /// The copy, as [`Names`].
    pub fn view(&self) -> Names<'_> {
        Names { dims: &self.dims, roles: &self.roles, keys: &self.keys, default_role_order: &self.default_role_order }
    }
}
