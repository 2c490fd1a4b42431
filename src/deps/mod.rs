//! Task dependencies: a task may run only after other tasks finished.
//!
//! [`DependencyGraph`] is sans-IO bookkeeping over a [`petgraph`] graph (an edge runs from a
//! predecessor to the task that waits for it). A task is
//!
//! - **waiting** while some predecessor has not finished (it is not handed to the engine),
//! - **released** once every predecessor finished (it is pending for the engine from then on),
//! - **finished** or **failed** once it ended.
//!
//! Rules:
//!
//! - Tasks are submitted in batches ([`DependencyGraph::submit`]); a batch may name its own
//!   members as predecessors, in any order. A batch that closes a cycle is rejected whole with
//!   [`DependencyError::Cycle`], naming one cycle's task ids in order (found through the
//!   strongly connected components of the batch, [`petgraph::algo::tarjan_scc`]). Only a batch
//!   can close a cycle: tasks submitted earlier never wait for later ones.
//! - A predecessor must be known: submitted earlier (in any state, finished included) or in the
//!   same batch; an unknown id is [`DependencyError::UnknownPredecessor`]. So a dependent is
//!   submitted after (or with) its predecessors, and a typo is an error, not a task that waits
//!   forever.
//! - When a predecessor ends otherwise than finished, [`OnPredecessorFailure`] decides:
//!   [`OnPredecessorFailure::FailDependents`] (the default) fails every transitive dependent
//!   still waiting; [`OnPredecessorFailure::RunAnyway`] counts the end like a finish.
//! - Ended tasks are kept (their ids and ends), so that later batches may name them, until
//!   [`DependencyGraph::prune`] forgets those no open dependency needs; [`DependencyGraph::know`]
//!   records a task that waits for nothing (e.g. one that ended before anything named it).
//!
//! [`DependencyGraph::critical_path`] gives the longest chain of dependent tasks, by count of
//! tasks and (given each task's duration) by time.
//!
//! ```
//! use offerpack::deps::{DependencyGraph, OnPredecessorFailure};
//! use offerpack::model::TaskId;
//!
//! let id = |s: &str| TaskId::new(s);
//! let mut graph = DependencyGraph::new(OnPredecessorFailure::FailDependents);
//! let out = graph
//!     .submit(vec![(id("a"), vec![]), (id("b"), vec![id("a")]), (id("c"), vec![id("a")]), (id("d"), vec![id("b"), id("c")])])
//!     .unwrap();
//! assert_eq!(out.released, [id("a")]);
//! assert_eq!(graph.finished(&id("a")), [id("b"), id("c")]);
//! assert_eq!(graph.finished(&id("b")), []);
//! assert_eq!(graph.failed(&id("c")).failed, [id("d")]);
//! assert_eq!(graph.critical_path(|_| None).tasks, [id("a"), id("b"), id("d")]);
//!
//! let cycle = graph.submit(vec![(id("x"), vec![id("y")]), (id("y"), vec![id("x")])]).unwrap_err();
//! assert_eq!(cycle.to_string(), "dependency cycle: x → y → x (each task waits for the one before it)");
//! ```

mod critical;
mod error;
mod graph;

#[cfg(test)]
mod tests;

pub use critical::CriticalPath;
pub use error::DependencyError;
pub use graph::{DependencyGraph, DependencyStatus, OnPredecessorFailure, Resolution};
