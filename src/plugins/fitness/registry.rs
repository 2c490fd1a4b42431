//! Fitness calculators by name.

use std::fmt;
use std::sync::Arc;

use super::{Balanced, BinPack, Spread};
use crate::plugins::Fitness;

/// A fitness calculator that cannot be built.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FitnessError {
    /// No built-in calculator has this name.
    Unknown(String),
    /// A weight is not finite and positive.
    BadWeight(f64),
    /// A weighted combination of nothing.
    Empty,
}

impl fmt::Display for FitnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(name) => write!(
                f,
                "unknown fitness {name:?} (expected cpu_binpack, mem_binpack, network_binpack, cpu_mem_binpack, spread or balanced)"
            ),
            Self::BadWeight(w) => write!(f, "fitness weight {w} is not finite and positive"),
            Self::Empty => f.write_str("a weighted fitness needs at least one part"),
        }
    }
}

impl std::error::Error for FitnessError {}

/// The built-in fitness calculator called `name`.
pub fn parse(name: &str) -> Result<Arc<dyn Fitness>, FitnessError> {
    Ok(match name {
        "cpu_binpack" => Arc::new(BinPack::cpu()),
        "mem_binpack" => Arc::new(BinPack::mem()),
        "network_binpack" => Arc::new(BinPack::network()),
        "cpu_mem_binpack" => Arc::new(BinPack::cpu_mem()),
        "spread" => Arc::new(Spread),
        "balanced" => Arc::new(Balanced),
        _ => return Err(FitnessError::Unknown(name.to_owned())),
    })
}
