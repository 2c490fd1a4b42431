//! Plugins: hard constraints filter agents, soft constraints and fitness calculators score them.
//!
//! Plugins are object-safe traits that see only what they are handed — a [`TaskView`], an
//! [`AgentView`] and a [`PassView`] — so any plugin can be re-run on a hypothetical state. Each
//! declares a [`Scope`], which lets the engine re-ask only when the answer can have changed.
//! Built-ins live in [`constraints`] and [`fitness`]; closures become plugins through
//! [`HardFn`], [`SoftFn`] and [`FitnessFn`].

mod closure;
pub mod constraints;
pub mod fitness;
mod score;
mod traits;
mod views;

pub use closure::{FitnessFn, HardFn, SoftFn};
pub use score::{Scope, Score};
pub use traits::{Fitness, HardConstraint, SoftConstraint};
pub use views::{AgentView, AttrKey, AttrRef, Dim, GroupRef, PassView, TaskView};
