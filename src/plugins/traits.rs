//! The plugin traits: hard constraints, soft constraints and fitness calculators.

use std::fmt::Debug;

use super::{AgentView, Dim, PassView, Scope, Score, TaskView};

/// A filter: an agent failing it cannot take the task.
///
/// ```
/// use offerpack::plugins::{AgentView, HardConstraint, PassView, Scope, TaskView};
///
/// /// Only agents whose hostname ends in `.prod`.
/// #[derive(Debug)]
/// struct ProdOnly;
///
/// impl HardConstraint for ProdOnly {
///     fn name(&self) -> &str { "prod-only" }
///     fn scope(&self) -> Scope { Scope::Static }
///     fn allows(&self, _: &TaskView<'_>, agent: &AgentView<'_>, _: &PassView<'_>) -> bool {
///         agent.hostname().ends_with(".prod")
///     }
/// }
/// ```
pub trait HardConstraint: Send + Sync + Debug {
    /// A short name used in explanations, e.g. `hostname:UNIQUE`.
    fn name(&self) -> &str;

    /// What the answer depends on; see [`Scope`].
    fn scope(&self) -> Scope {
        Scope::Pass
    }

    /// Whether `agent` may take `task` given what the pass has placed so far.
    fn allows(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> bool;

    /// Whether placing a task with this constraint reserves the agent for the task's group,
    /// so that the engine keeps every other group's tasks off it.
    fn claims_agent(&self) -> bool {
        false
    }

    /// Whether this constraint can admit an agent later in a pass that it rejected earlier,
    /// because of tasks placed in between (hard `GROUP_BY` and `BALANCE`: a value that is full
    /// now opens up once the others catch up). `false` (the default) promises that placing
    /// tasks only ever turns its answers from yes to no, as for counts with a cap, fixed
    /// attributes and claims.
    ///
    /// The engine places each task once, at its turn, so a task with a loosening constraint can
    /// be left unplaced although some agent would take it by the end of the pass; its
    /// explanation counts such agents under [`Reason::BlockedAtItsTurn`](crate::Reason). For a
    /// task without one, an agent that passes every stage at the end of the pass passed them
    /// at the task's turn too, so it would have been chosen: the test kit's checker reports it.
    /// Override this to return `true` if your constraint loosens; declaring `true` for one that
    /// does not only makes such checks skip its tasks.
    fn loosens_as_tasks_are_placed(&self) -> bool {
        false
    }
}

/// A preference: scores an agent for a task in `[0, 1]`.
pub trait SoftConstraint: Send + Sync + Debug {
    /// A short name used in explanations.
    fn name(&self) -> &str;

    /// What the score depends on; see [`Scope`].
    fn scope(&self) -> Scope {
        Scope::Pass
    }

    /// How much `agent` suits `task` (1 best).
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Score;
}

/// Scores how well a task fits an agent's resources; sees only the task and that agent.
///
/// The score may depend on the task's asks and the agent's resources only (not on the task's id
/// or group): tasks of one shape share the engine's candidate queues whatever their group.
pub trait Fitness: Send + Sync + Debug {
    /// A short name, e.g. `cpu_mem_binpack`.
    fn name(&self) -> &str;

    /// How good placing `task` on `agent` is (1 best).
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>) -> Score;

    /// The resources this fitness packs tightly, if it is a bin-packing fitness; `None` (the
    /// default) for any other. When set, the engine may place unconstrained tasks by filling
    /// agents one at a time (see [`Packing`](crate::Packing)), which packs tighter than scoring
    /// each task alone.
    fn packs(&self) -> Option<&[Dim]> {
        None
    }

    /// Whether [`rank_key`](Self::rank_key) ranks agents for every task alike: for any task and
    /// any two agents with equal totals of every resource that both have room for it,
    /// `score(task, a) > score(task, b)` exactly when `rank_key(a) > rank_key(b)`, and equal
    /// scores come with equal keys. The engine then keeps one candidate order for tasks of every
    /// shape instead of one per shape, so a pass costs the same with ten shapes or ten thousand.
    /// `false` (the default) makes no such promise.
    fn ranks_by_key(&self) -> bool {
        false
    }

    /// The agent's key in the order [`ranks_by_key`](Self::ranks_by_key) promises (finite);
    /// asked only when it returns `true`.
    fn rank_key(&self, agent: &AgentView<'_>) -> f64 {
        let _ = agent;
        0.0
    }
}
