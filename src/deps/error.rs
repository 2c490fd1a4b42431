//! [`DependencyError`]: why a batch of tasks was not accepted.

use std::fmt;

use crate::model::TaskId;

/// Why [`DependencyGraph::submit`](super::DependencyGraph::submit) rejected a batch (nothing
/// of it was added).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DependencyError {
    /// The tasks wait for each other in a circle: each waits for the one before it, and the
    /// first for the last. One task waiting for itself is a cycle of one.
    Cycle(Vec<TaskId>),
    /// A task names a predecessor that is neither known nor in the batch.
    UnknownPredecessor {
        /// The waiting task.
        task: TaskId,
        /// The id it names.
        predecessor: TaskId,
    },
    /// The id is known already, or twice in the batch.
    DuplicateTask(TaskId),
}

impl fmt::Display for DependencyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cycle(tasks) => {
                f.write_str("dependency cycle: ")?;
                for task in tasks {
                    write!(f, "{task} → ")?;
                }
                match tasks.first() {
                    Some(first) => write!(f, "{first} (each task waits for the one before it)"),
                    None => f.write_str("(empty)"),
                }
            }
            Self::UnknownPredecessor { task, predecessor } => {
                write!(f, "task {task} waits for {predecessor}, which is not a known task")
            }
            Self::DuplicateTask(task) => write!(f, "task {task} is already known to the dependency graph"),
        }
    }
}

impl std::error::Error for DependencyError {}
