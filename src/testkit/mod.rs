//! Property testing for framework authors: [`proptest`] strategies
//! that generate offers, agents, tasks and whole [`Workload`]s, and
//! [`check_plan`], a checker that verifies a [`Plan`](crate::Plan)
//! is sound and complete for its workload without trusting the engine (see
//! [`checker`] for exactly what it checks). For task-by-task packing, a brute-force [`oracle`]
//! computes the plan itself, on small workloads with built-in plugins only.
//!
//! Enabled by the `testkit` feature. [`proptest`] is re-exported, so
//! the strategies and the version of proptest you write properties with always match.
//!
//! # Property-testing your own constraint
//! Plug the constraint into generated tasks with
//! [`workloads_with`], plan, and assert both the checker's
//! soundness rules (with [`CheckOptions::replay`], which
//! re-asks your constraint at the moment each task was placed) and your constraint's own promise:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use offerpack::plugins::{HardConstraint, HardFn, Scope};
//! use offerpack::testkit::proptest::prelude::*;
//! use offerpack::testkit::{check_plan_with, workloads_with, CheckOptions};
//! use offerpack::{Engine, EngineConfig};
//!
//! // Ours: keep tasks out of zone c (agents without a zone are fine).
//! let not_c: Arc<dyn HardConstraint> = Arc::new(
//!     HardFn::new("not-zone-c", |_, agent, _| agent.attribute("zone").is_none_or(|z| z.as_str() != "c"))
//!         .with_scope(Scope::Static),
//! );
//! let engine = Engine::new(EngineConfig::default()).unwrap();
//! let now = Duration::ZERO;
//! proptest!(ProptestConfig::with_cases(32), |(w in workloads_with(vec![not_c.clone()]))| {
//!     let plan = engine.plan(&w.pool(Duration::from_secs(60), now), &w.tasks, &w.running, now).unwrap();
//!     let replay = CheckOptions { replay: true, ..CheckOptions::default() };
//!     prop_assert_eq!(check_plan_with(&w, &plan, replay), Ok(()));
//!     for launch in &plan.launches {
//!         let constrained = w.task(&launch.task_id).unwrap().hard.iter().any(|c| Arc::ptr_eq(c, &not_c));
//!         let zone = w.attributes(&launch.agent_id).and_then(|a| a.get("zone")).map(|z| z.as_str());
//!         prop_assert!(!constrained || zone != Some("c"), "{} landed in zone c", launch.task_id);
//!     }
//! });
//! ```
//!
//! Generated workloads are crowded on purpose and sized by a [`Profile`] that the
//! `OFFERPACK_PROPTEST` environment variable picks (see [`strategies`]); ids are unique, so
//! [`Engine::plan`](crate::Engine::plan) never fails on them.

pub mod checker;
mod gangs;
pub mod ledger;
pub mod oracle;
mod rules;
pub mod strategies;

use std::fmt;
use std::sync::Arc;

use crate::model::{AgentId, GroupId, OfferId, Role, TaskId};
use crate::resources::Quantity;

pub use checker::{check_plan, check_plan_with, CheckOptions};
pub use ledger::Ledger;
pub use strategies::{
    agent, agents, offer, running_tasks, task_spec, task_specs, workloads, workloads_from, workloads_sized,
    workloads_with, ConstraintSet, Profile, Sizes, Workload,
};

/// The proptest crate these strategies are built with.
pub use proptest;

/// A way in which a plan is unsound for its workload.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Violation {
    /// The plan launches or leaves unplaced a task that is not pending.
    UnknownTask(TaskId),
    /// A task appears more than once among launches and unplaced tasks.
    TaskTwice(TaskId),
    /// A pending task is neither launched nor unplaced.
    TaskMissing(TaskId),
    /// A task is launched on an agent with no live offer.
    UnknownAgent {
        /// The task.
        task: TaskId,
        /// The agent.
        agent: AgentId,
    },
    /// A launch's offer ids, hostname or group are not the agent's or the task's.
    LaunchMismatch {
        /// The task.
        task: TaskId,
        /// Which field is wrong: `offer_ids`, `hostname` or `group`.
        field: &'static str,
    },
    /// A task is given another amount of a resource than it asks for.
    WrongAmount {
        /// The task.
        task: TaskId,
        /// The resource.
        resource: Arc<str>,
        /// What the task asks for.
        asked: Quantity,
        /// What the launch gives.
        given: Quantity,
    },
    /// A task is given a resource (or a port) of a role it does not accept.
    WrongRole {
        /// The task.
        task: TaskId,
        /// The resource.
        resource: Arc<str>,
        /// The role.
        role: Role,
    },
    /// An agent gives more of a resource in a role than its offers hold.
    OverCommitted {
        /// The agent.
        agent: AgentId,
        /// The resource.
        resource: Arc<str>,
        /// The role.
        role: Role,
        /// What the agent's live offers hold.
        offered: Quantity,
        /// What the launches take.
        allocated: Quantity,
    },
    /// A task is given another number of ports than it asks for.
    PortCount {
        /// The task.
        task: TaskId,
        /// Ports asked for.
        asked: u32,
        /// Ports given.
        given: u32,
    },
    /// A specific port the task asks for is not among its ports.
    SpecificPortMissing {
        /// The task.
        task: TaskId,
        /// The port.
        port: u16,
    },
    /// A port given is not offered by the agent in that role.
    PortNotOffered {
        /// The task.
        task: TaskId,
        /// The port.
        port: u16,
        /// The role it was given under.
        role: Role,
    },
    /// One port of one agent is given twice.
    PortShared {
        /// The agent.
        agent: AgentId,
        /// The port.
        port: u16,
    },
    /// The plan names an offer that is not in the workload.
    UnknownOffer(OfferId),
    /// An offer is accounted more than once (accepted, declined, expired).
    OfferTwice(OfferId),
    /// An offer is neither accepted, declined nor expired.
    OfferUnaccounted(OfferId),
    /// A launched task's hard constraint does not hold where and when it was placed.
    ConstraintBroken {
        /// The task.
        task: TaskId,
        /// The agent it was placed on.
        agent: AgentId,
        /// The constraint's name.
        constraint: String,
    },
    /// A task is placed on an agent that a task of another group claimed exclusively.
    Claimed {
        /// The task.
        task: TaskId,
        /// The agent.
        agent: AgentId,
        /// The group that claimed the agent.
        owner: GroupId,
    },
    /// An unplaced task's reasons do not account for every agent considered: some agent was
    /// rejected for no reason (a feasible agent was overlooked), or counted twice. Agents under
    /// [`Reason::BlockedAtItsTurn`](crate::Reason::BlockedAtItsTurn) count only for a task with
    /// a constraint that loosens as tasks are placed
    /// ([`HardConstraint::loosens_as_tasks_are_placed`](crate::plugins::HardConstraint::loosens_as_tasks_are_placed)):
    /// for any other task, an agent that passes every stage at the end passed them at its turn.
    Unexplained {
        /// The task.
        task: TaskId,
        /// Agents counted under the reasons.
        rejected: u32,
        /// Agents with live offers.
        considered: u32,
    },
    /// An unplaced task could go on this agent in the state the pass ended in — resources and
    /// ports free in roles it accepts, no other group's claim, every hard constraint holding —
    /// and none of its constraints loosens as tasks are placed, so the agent could take it at
    /// its turn too: the engine overlooked it (see [`checker`] on completeness).
    Overlooked {
        /// The task.
        task: TaskId,
        /// The first such agent, by id.
        agent: AgentId,
    },
    /// A task is launched before one of higher priority.
    LaunchOrder(TaskId),
    /// A gang is launched in part, or a member of a gang left out lacks
    /// [`Reason::GangIncomplete`](crate::Reason::GangIncomplete).
    GangSplit(std::sync::Arc<str>),
    /// A task is launched (or adopted) by a [`Ledger`] while it is live already.
    LaunchedTwice(TaskId),
    /// A count in [`Plan::stats`](crate::Plan::stats) does not match the plan.
    Stats {
        /// The field.
        field: &'static str,
        /// The count the plan implies.
        expected: u32,
        /// The count reported.
        got: u32,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownTask(t) => write!(f, "task {t} is in the plan but not pending"),
            Self::TaskTwice(t) => write!(f, "task {t} appears twice in the plan"),
            Self::TaskMissing(t) => write!(f, "pending task {t} is neither launched nor unplaced"),
            Self::UnknownAgent { task, agent } => {
                write!(f, "task {task} is launched on agent {agent} with no live offer")
            }
            Self::LaunchMismatch { task, field } => write!(f, "launch of task {task} has a wrong {field}"),
            Self::WrongAmount { task, resource, asked, given } => {
                write!(f, "task {task} asks for {asked} {resource} but is given {given}")
            }
            Self::WrongRole { task, resource, role } => {
                write!(f, "task {task} is given {resource} of role {role} it does not accept")
            }
            Self::OverCommitted { agent, resource, role, offered, allocated } => {
                write!(f, "agent {agent} gives {allocated} {resource} of role {role} but offers {offered}")
            }
            Self::PortCount { task, asked, given } => {
                write!(f, "task {task} asks for {asked} ports but is given {given}")
            }
            Self::SpecificPortMissing { task, port } => write!(f, "task {task} is not given port {port} it asks for"),
            Self::PortNotOffered { task, port, role } => {
                write!(f, "task {task} is given port {port} not offered in role {role}")
            }
            Self::PortShared { agent, port } => write!(f, "port {port} of agent {agent} is given twice"),
            Self::UnknownOffer(o) => write!(f, "offer {o} is not in the workload"),
            Self::OfferTwice(o) => write!(f, "offer {o} is accounted more than once"),
            Self::OfferUnaccounted(o) => write!(f, "offer {o} is neither accepted, declined nor expired"),
            Self::ConstraintBroken { task, agent, constraint } => {
                write!(f, "task {task} on agent {agent} breaks its hard constraint {constraint}")
            }
            Self::Claimed { task, agent, owner } => {
                write!(f, "task {task} is placed on agent {agent} claimed by group {owner}")
            }
            Self::Unexplained { task, rejected, considered } => {
                write!(f, "task {task} is unplaced but its reasons reject {rejected} of {considered} agents")
            }
            Self::Overlooked { task, agent } => {
                write!(f, "task {task} is unplaced but agent {agent} could take it at the end of the pass")
            }
            Self::LaunchOrder(t) => write!(f, "task {t} is launched after a task of lower priority"),
            Self::GangSplit(g) => write!(f, "gang {g} is neither launched whole nor left out whole"),
            Self::LaunchedTwice(t) => write!(f, "task {t} is launched while it is live"),
            Self::Stats { field, expected, got } => write!(f, "stats.{field} is {got}, the plan implies {expected}"),
        }
    }
}

impl std::error::Error for Violation {}
