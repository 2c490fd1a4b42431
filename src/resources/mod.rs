//! The resource model: fixed-point scalars and port ranges.

mod ports;
mod quantity;

pub use ports::{PortRange, PortSet};
pub use quantity::{Quantity, QuantityError};

use std::sync::{Arc, OnceLock};

/// Name of the cpu resource.
pub const CPUS: &str = "cpus";
/// Name of the memory resource (MiB).
pub const MEM: &str = "mem";
/// Name of the disk resource (MiB).
pub const DISK: &str = "disk";
/// Name of the network bandwidth resource (Mbps), as Fenzo names it.
pub const NETWORK: &str = "network";
/// Name of the gpu resource.
pub const GPUS: &str = "gpus";
/// Name of the port ranges resource.
pub const PORTS: &str = "ports";

/// The well-known names, each allocated once per process.
const WELL_KNOWN: [&str; 6] = [CPUS, MEM, DISK, NETWORK, GPUS, PORTS];

/// A resource name as shared storage: the well-known names come from one allocation each, so
/// the engine can recognise them by pointer instead of comparing bytes; other names are copied.
pub(crate) fn shared_name(name: &str) -> Arc<str> {
    static SHARED: OnceLock<[Arc<str>; 6]> = OnceLock::new();
    let shared = SHARED.get_or_init(|| WELL_KNOWN.map(Arc::from));
    match WELL_KNOWN.iter().position(|known| *known == name) {
        Some(i) => shared[i].clone(),
        None => Arc::from(name),
    }
}
