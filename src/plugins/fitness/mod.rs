//! Built-in fitness calculators: Fenzo's bin packers, spread, balanced allocation, and a weighted
//! combination.

mod balanced;
mod binpack;
mod registry;
mod spread;
mod weighted;

pub use balanced::Balanced;
pub use binpack::BinPack;
pub use registry::{parse, FitnessError};
pub use spread::Spread;
pub use weighted::Weighted;
