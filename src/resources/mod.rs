//! The resource model: fixed-point scalars and port ranges.

mod ports;
mod quantity;

pub use ports::{PortRange, PortSet};
pub use quantity::{Quantity, QuantityError};

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
