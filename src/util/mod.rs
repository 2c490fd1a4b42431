//! Small helpers shared by the engine's tools.

mod rng;

pub use rng::SeededRng;
