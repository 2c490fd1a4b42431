//! The outcome of a scheduling pass: launches, unplaced tasks with reasons, offers to decline.

use std::sync::Arc;

use crate::model::{AgentId, GroupId, OfferId, Role, TaskId};
use crate::queue::{BucketStats, QueueReason};
use crate::resources::Quantity;

/// What one pass decided.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Tasks placed, in the order they were placed.
    pub launches: Vec<Launch>,
    /// Tasks not placed, each with the reasons agents were rejected.
    pub unplaced: Vec<Unplaced>,
    /// Offers to decline (their agent received no task), sorted by id.
    pub declined: Vec<OfferId>,
    /// Offers whose hold ran out before the pass, sorted by id; decline them too.
    pub expired: Vec<OfferId>,
    /// Tasks no agent had room for that fit once lower-standing running tasks are evicted (see
    /// [`PreemptionInput`](crate::PreemptionInput)); empty unless the pass was asked to
    /// preempt. Such a task is launched by a later pass, once its victims' resources are back.
    pub preemptions: Vec<Preemption>,
    /// Counts describing the pass.
    pub stats: PlanStats,
    /// Autoscaling: agents to add per class, sorted by class (see
    /// [`autoscale`](crate::autoscale)); empty unless asked for.
    pub scale_up: Vec<(Arc<str>, u32)>,
    /// Autoscaling: idle agents the class rules let go, sorted by id; empty unless asked for.
    pub scale_down: Vec<AgentId>,
}

/// One task placed on one agent.
#[derive(Clone, Debug, PartialEq)]
pub struct Launch {
    /// The task.
    pub task_id: TaskId,
    /// The task's group.
    pub group: GroupId,
    /// The agent chosen.
    pub agent_id: AgentId,
    /// The agent's hostname.
    pub hostname: Arc<str>,
    /// Every offer of the agent: Mesos takes one ACCEPT per agent naming all of them.
    pub offer_ids: Arc<[OfferId]>,
    /// Scalar resources given, split by the role they were offered under (shared by launches of
    /// one kind of task that took the same split).
    pub resources: Arc<[Allocation]>,
    /// Ports given, with their role.
    pub ports: GrantedPorts,
    /// The custom executor the task runs on (its id), if any.
    pub executor_id: Option<Arc<str>>,
    /// When the task runs on a custom executor that this launch starts on the agent: the
    /// resources the executor takes from the same offers, by role. `None` when the task has no
    /// executor or its executor already runs there (it is not charged again).
    pub executor_resources: Option<Arc<[Allocation]>>,
}

/// A pending task that fits an agent once running tasks of lower standing are killed.
#[derive(Clone, Debug, PartialEq)]
pub struct Preemption {
    /// The pending task (the preemptor).
    pub task_id: TaskId,
    /// The task's group.
    pub group: GroupId,
    /// The agent its victims run on.
    pub agent_id: AgentId,
    /// The running tasks to kill, sorted by id.
    pub victims: Vec<TaskId>,
    /// Why the task was not placed without preemption: the reasons the pass gave (empty when
    /// the pass did not explain).
    pub why: Arc<[ReasonCount]>,
}

/// The ports a launch was given, each with the role it was offered under.
///
/// A list that keeps up to two ports inline, so the usual launch asks the allocator for none.
///
/// ```
/// use offerpack::{GrantedPorts, Role};
/// let mut ports = GrantedPorts::new();
/// ports.push((31000, Role::unreserved()));
/// assert_eq!(ports.len(), 1);
/// assert_eq!(ports[0].0, 31000);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GrantedPorts(smallvec::SmallVec<[(u16, Role); 2]>);

impl GrantedPorts {
    /// No ports.
    pub fn new() -> GrantedPorts {
        GrantedPorts::default()
    }

    /// Room for `n` ports.
    pub fn with_capacity(n: usize) -> GrantedPorts {
        GrantedPorts(smallvec::SmallVec::with_capacity(n))
    }

    /// Adds a port.
    pub fn push(&mut self, port: (u16, Role)) {
        self.0.push(port);
    }
}

impl std::ops::Deref for GrantedPorts {
    type Target = [(u16, Role)];

    fn deref(&self) -> &[(u16, Role)] {
        &self.0
    }
}

impl std::ops::DerefMut for GrantedPorts {
    fn deref_mut(&mut self) -> &mut [(u16, Role)] {
        &mut self.0
    }
}

impl<'a> IntoIterator for &'a GrantedPorts {
    type Item = &'a (u16, Role);
    type IntoIter = std::slice::Iter<'a, (u16, Role)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<(u16, Role)> for GrantedPorts {
    fn from_iter<I: IntoIterator<Item = (u16, Role)>>(iter: I) -> GrantedPorts {
        GrantedPorts(iter.into_iter().collect())
    }
}

impl From<Vec<(u16, Role)>> for GrantedPorts {
    fn from(ports: Vec<(u16, Role)>) -> GrantedPorts {
        GrantedPorts(smallvec::SmallVec::from_vec(ports))
    }
}

/// An amount of one resource taken from one role.
#[derive(Clone, Debug, PartialEq)]
pub struct Allocation {
    /// Resource name.
    pub name: Arc<str>,
    /// Role the resource was offered under (`*` for unreserved).
    pub role: Role,
    /// Amount given.
    pub amount: Quantity,
}

/// A task the pass could not place, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Unplaced {
    /// The task.
    pub task_id: TaskId,
    /// Each reason with the number of agents rejected for it; each agent counts once, under the
    /// first stage it failed (resources, then ports, then exclusivity, then hard constraints).
    /// Shared by the tasks of one kind that a pass left unplaced for the same reasons.
    pub reasons: Arc<[ReasonCount]>,
    /// Agents with live offers in the pass.
    pub agents_considered: u32,
    /// Whether a [`Scheduler`](crate::Scheduler) pass skipped the task because nothing that
    /// could let it fit happened since an earlier pass left it unplaced: the reasons and
    /// `agents_considered` are that earlier pass's.
    pub parked: bool,
}

/// A rejection reason and how many agents it rejected.
#[derive(Clone, Debug, PartialEq)]
pub struct ReasonCount {
    /// The reason.
    pub reason: Reason,
    /// How many agents were rejected for it.
    pub agents: u32,
}

/// Why an agent could not take a task.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Reason {
    /// Not enough of a scalar resource in the roles the task accepts.
    Shortfall {
        /// Resource name.
        resource: Arc<str>,
        /// Amount the task asks for.
        asked: Quantity,
        /// The most any of the rejected agents had free.
        best_available: Quantity,
    },
    /// Not enough free ports.
    Ports {
        /// Ports asked for.
        asked: u32,
        /// The most any of the rejected agents had free.
        best_available: u32,
    },
    /// A specific port asked for is not free.
    PortTaken {
        /// The port.
        port: u16,
    },
    /// The agent is held exclusively by another group.
    ClaimedByOtherGroup,
    /// The agent fits the task now, after the pass, but did not when the task's turn came: a
    /// constraint that loosens as tasks are placed (hard `GROUP_BY`, `BALANCE`) admitted it only
    /// later. Placing the task again in the next pass can succeed.
    BlockedAtItsTurn,
    /// A hard constraint failed.
    Constraint {
        /// Position of the constraint in the task's hard constraints.
        index: usize,
        /// The constraint's name.
        name: Arc<str>,
    },
    /// The queue held the task back before any agent was asked (a limit, a guarantee of
    /// another bucket, a tier's capacity); counted against every agent.
    Queue(QueueReason),
    /// The task's gang could not be placed whole in this pass, so none of it was (counted
    /// against every agent).
    GangIncomplete {
        /// Members the pass could place before the gang was given up.
        placed: u32,
        /// Members of the gang in the pass.
        needed: u32,
    },
    /// Preemption could not make room on the agent (counted only for tasks a pass asked to
    /// preempt for found no victims).
    Preemption(PreemptionRefusal),
}

/// Why preemption could not make room for a task on an agent.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PreemptionRefusal {
    /// Killing every running task of lower standing there would not free enough.
    NoLowerPriority,
    /// Victims that would free enough exist, but every such set breaks this group's
    /// disruption budget.
    Budget {
        /// The group whose budget the first set tried would break.
        group: GroupId,
    },
    /// Room could be made, but a hard constraint, an exclusive claim, ports, or an agent
    /// known only through running tasks that give no host (constraints cannot be asked there)
    /// rule it out.
    NotAllowed,
}

/// Counts describing a pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlanStats {
    /// Tasks placed.
    pub tasks_placed: u32,
    /// Tasks left unplaced.
    pub tasks_unplaced: u32,
    /// Agents that received at least one task.
    pub agents_used: u32,
    /// Agents with live offers.
    pub agents_considered: u32,
    /// Equivalence classes the pending tasks formed.
    pub task_classes: u32,
    /// Whether a second thread checked and compiled the tasks while the agents loaded (see
    /// [`EngineConfig::two_thread_threshold`](crate::EngineConfig::two_thread_threshold)).
    pub prepared_on_two_threads: bool,
    /// Whether a second thread made the launches while placing went on (see
    /// [`EngineConfig::launch_helper_threshold`](crate::EngineConfig::launch_helper_threshold)).
    /// With the flag above, the only part of a plan that depends on the number of threads.
    pub launches_on_helper: bool,
    /// Per queue bucket and tier, for a pass planned with a queue (see
    /// [`Engine::plan_queued`](crate::Engine::plan_queued)); empty otherwise.
    pub buckets: Vec<BucketStats>,
    /// Unplaced tasks a [`Scheduler`](crate::Scheduler) pass skipped because nothing that
    /// could let them fit happened since a pass left them unplaced (counted in
    /// `tasks_unplaced`, explained as that pass explained them).
    pub tasks_parked: u32,
}

/// All launches on one agent: one ACCEPT call.
#[derive(Clone, Debug, PartialEq)]
pub struct Accept<'a> {
    /// The agent.
    pub agent_id: &'a AgentId,
    /// Every offer of the agent.
    pub offer_ids: &'a [OfferId],
    /// The launches, in placement order.
    pub launches: Vec<&'a Launch>,
}

impl Plan {
    /// Launches grouped per agent, sorted by agent id: one ACCEPT each.
    pub fn accepts(&self) -> Vec<Accept<'_>> {
        let mut order: Vec<&Launch> = self.launches.iter().collect();
        order.sort_by(|a, b| a.agent_id.cmp(&b.agent_id));
        let mut accepts: Vec<Accept<'_>> = Vec::new();
        for launch in order {
            match accepts.last_mut() {
                Some(acc) if acc.agent_id == &launch.agent_id => acc.launches.push(launch),
                _ => accepts.push(Accept {
                    agent_id: &launch.agent_id,
                    offer_ids: &launch.offer_ids,
                    launches: vec![launch],
                }),
            }
        }
        accepts
    }

    /// Every offer the plan uses up: launched-on, declined and expired, each once.
    pub fn consumed_offer_ids(&self) -> Vec<&OfferId> {
        let mut ids: Vec<&OfferId> = self.accepts().iter().flat_map(|a| a.offer_ids.iter()).collect();
        ids.extend(self.declined.iter());
        ids.extend(self.expired.iter());
        ids
    }
}
