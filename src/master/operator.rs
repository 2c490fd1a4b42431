//! The operator API of the simulated master (`POST /api/v1`, `mesos.v1.master.Call`): the
//! read-only calls GET_HEALTH, GET_MASTER, GET_AGENTS, GET_FRAMEWORKS and GET_TASKS, answered
//! from the core's state, which answering never changes.
//!
//! What the answers hold, as upstream builds them (`createAgentResponse`, `model(Framework)`,
//! the GET_TASKS serialiser):
//! - GET_AGENTS lists the registered agents; a lost (unreachable) agent is left out until it
//!   comes back, as upstream keeps unreachable agents apart from registered ones. Each carries
//!   its `AgentInfo` (id, hostname, port 5051, its total resources, and the attributes its
//!   offers carry), its total, allocated (tasks and executors) and offered resources, `pid`,
//!   `version` and `registered_time`. `recovered_agents` is empty: this master never fails over.
//! - GET_FRAMEWORKS lists the frameworks known to the master, connected or not, with their
//!   outstanding offers and their allocated and offered resources.
//! - GET_TASKS lists, over all frameworks, the tasks the master holds (live ones, and terminal
//!   ones whose last update is not acknowledged yet) under `tasks`, those of lost agents under
//!   `unreachable_tasks`, and those whose terminal update was acknowledged under
//!   `completed_tasks` (the last 1,000 per framework). A task carries what it was launched
//!   with (name, resources, labels, executor id, container, kill policy, user), its latest
//!   state, and the status updates the master has seen, the latest one per state, without
//!   their `data`.
//!
//! Where it differs, on purpose: no registration times for frameworks and no re-registration
//! times for agents; allocated resources are sums per allocation role (executors counted under
//! their first task's role); a torn-down framework and its tasks are forgotten (no
//! `completed_frameworks`); the other call types (GET_STATE, GET_EXECUTORS, SUBSCRIBE, …)
//! answer `501`.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use super::agents::Agent;
use super::config::AgentConfig;
use super::resources::Resources;
use super::state::{MasterCore, MESOS_VERSION};
use super::tasks::{Task, EPOCH_AT_START};
use crate::mesos::v1::master::{call, response, Call, Response};
use crate::mesos::v1::{self, agent_info};

/// Completed tasks kept per framework (upstream `--max_completed_tasks_per_framework`).
const MAX_COMPLETED_TASKS: usize = 1000;

/// Why an operator call gets no `200 OK`: the HTTP status and the response body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperatorRejection {
    /// The HTTP status code (400 for an invalid call, 501 for an unknown or unsupported type).
    pub status: u16,
    /// The body text.
    pub message: String,
}

impl OperatorRejection {
    fn new(status: u16, message: impl Into<String>) -> OperatorRejection {
        OperatorRejection { status, message: message.into() }
    }
}

/// The tasks a framework no longer holds as live, kept for GET_TASKS.
#[derive(Debug, Default)]
pub(crate) struct TaskHistory {
    /// Tasks whose terminal update was acknowledged, oldest first.
    completed: VecDeque<v1::Task>,
    /// Tasks of lost agents: task id → (agent index, task).
    unreachable: BTreeMap<String, (usize, v1::Task)>,
}

impl TaskHistory {
    /// A task whose terminal update was acknowledged.
    pub(crate) fn add_completed(&mut self, task: v1::Task) {
        if self.completed.len() == MAX_COMPLETED_TASKS {
            self.completed.pop_front();
        }
        self.completed.push_back(task);
    }

    /// A task on an agent that was lost.
    pub(crate) fn add_unreachable(&mut self, agent: usize, task: v1::Task) {
        self.unreachable.insert(task.task_id.value.clone(), (agent, task));
    }

    /// The agent came back empty: its tasks are gone.
    pub(crate) fn forget_agent(&mut self, agent: usize) {
        self.unreachable.retain(|_, (a, _)| *a != agent);
    }
}

/// The master's record of a task it launched, as upstream's `createTask` makes it: state
/// TASK_STAGING, no statuses yet.
pub(crate) fn task_record(fw: &str, info: &v1::TaskInfo) -> v1::Task {
    let command_user = info.command.as_ref().and_then(|c| c.user.clone());
    let executor_user = info.executor.as_ref().and_then(|e| e.command.as_ref()).and_then(|c| c.user.clone());
    v1::Task {
        name: info.name.clone(),
        task_id: info.task_id.clone(),
        framework_id: v1::FrameworkId { value: fw.to_owned() },
        executor_id: info.executor.as_ref().map(|e| e.executor_id.clone()),
        agent_id: info.agent_id.clone(),
        state: v1::TaskState::TaskStaging as i32,
        resources: info.resources.clone(),
        labels: info.labels.clone(),
        container: info.container.clone(),
        kill_policy: info.kill_policy,
        user: command_user.or(executor_user),
        ..Default::default()
    }
}

/// Records a status update the master has seen (upstream `updateTask`): it replaces the last
/// status when that has the same state, else it is appended; its `data` is dropped. A
/// reliable update (with a uuid) also becomes the task's `status_update_state`/`_uuid`.
pub(crate) fn record_status(task: &mut v1::Task, status: &v1::TaskStatus) {
    if task.statuses.last().is_some_and(|last| last.state == status.state) {
        task.statuses.pop();
    }
    task.statuses.push(v1::TaskStatus { data: None, ..status.clone() });
    if let Some(uuid) = &status.uuid {
        task.status_update_state = Some(status.state);
        task.status_update_uuid = Some(uuid.clone());
    }
}

/// An agent's attributes as its offers and its `AgentInfo` carry them (all TEXT).
pub(crate) fn agent_attributes(config: &AgentConfig) -> Vec<v1::Attribute> {
    config
        .attributes
        .iter()
        .map(|(name, value)| v1::Attribute {
            name: name.clone(),
            r#type: v1::value::Type::Text as i32,
            text: Some(v1::value::Text { value: value.clone() }),
            ..Default::default()
        })
        .collect()
}

/// The master's validation of an operator call (`validation::master::call::validate`): a
/// `type` it knows must be present (a number outside the enum is an unknown field upstream,
/// so it counts as absent). Returns the type.
pub(crate) fn validate_operator_call(c: &Call) -> Result<call::Type, String> {
    c.r#type.and_then(|t| call::Type::try_from(t).ok()).ok_or_else(|| "Expecting 'type' to be present".to_owned())
}

/// Resources summed per allocation role (`None`: no `allocation_info`).
#[derive(Debug, Default)]
struct ByRole(BTreeMap<Option<String>, Resources>);

impl ByRole {
    fn add(&mut self, role: Option<&str>, resources: &Resources) {
        self.0.entry(role.map(str::to_owned)).or_default().add(resources);
    }

    fn protos(&self) -> Vec<v1::Resource> {
        self.0.iter().flat_map(|(role, r)| r.to_protos(role.as_deref())).collect()
    }
}

/// The allocation role of resources as sent: the first `allocation_info.role` found.
fn allocation_role(resources: &[v1::Resource]) -> Option<&str> {
    resources.iter().find_map(|r| r.allocation_info.as_ref()?.role.as_deref())
}

/// Allocated resources (tasks not yet ended, and their executors) per agent and framework.
#[derive(Debug, Default)]
struct Allocations {
    agents: BTreeMap<usize, ByRole>,
    frameworks: BTreeMap<String, ByRole>,
}

impl MasterCore {
    /// Answers an operator API call that arrived at `now` (no call depends on the time yet; it
    /// is taken like every other input's). The HTTP-level checks that come first (method,
    /// content type, parsing, `Accept`) are the shell's. Reading calls leave the state as it
    /// was: no output, no timer.
    ///
    /// - GET_AGENTS: the registered agents (a lost one is left out until it comes back), each
    ///   with its `AgentInfo` (id, hostname, port 5051, total resources, the attributes its
    ///   offers carry), total, allocated and offered resources, `pid`, `version`,
    ///   `registered_time`; no `recovered_agents`.
    /// - GET_FRAMEWORKS: every framework the master knows, connected or not, with its
    ///   outstanding offers and its allocated and offered resources; no registration times and
    ///   no `completed_frameworks` (a torn-down framework is forgotten).
    /// - GET_TASKS: `tasks` (live, or terminal with the last update unacknowledged),
    ///   `unreachable_tasks` (on lost agents) and `completed_tasks` (terminal update
    ///   acknowledged, the last 1,000 per framework), each with its latest state and the
    ///   updates the master has seen, the latest one per state, without `data`.
    /// - GET_HEALTH (healthy) and GET_MASTER (`master_info`, start and election time).
    ///
    /// # Errors
    /// `400` "Failed to validate master::Call: Expecting 'type' to be present" when the type
    /// is absent or unknown; `501` for `UNKNOWN` (the master's "501 Not Implemented.") and for
    /// the call types this master does not simulate.
    pub fn handle_operator(&mut self, _now: Duration, c: Call) -> Result<Response, OperatorRejection> {
        let kind = validate_operator_call(&c)
            .map_err(|e| OperatorRejection::new(400, format!("Failed to validate master::Call: {e}")))?;
        let answer = |kind: response::Type| Response { r#type: Some(kind as i32), ..Default::default() };
        Ok(match kind {
            call::Type::Unknown => return Err(OperatorRejection::new(501, "501 Not Implemented.")),
            call::Type::GetHealth => Response {
                get_health: Some(response::GetHealth { healthy: true }),
                ..answer(response::Type::GetHealth)
            },
            call::Type::GetMaster => Response {
                get_master: Some(response::GetMaster {
                    master_info: Some(self.master_info.clone()),
                    start_time: Some(EPOCH_AT_START),
                    elected_time: Some(EPOCH_AT_START),
                }),
                ..answer(response::Type::GetMaster)
            },
            call::Type::GetAgents => {
                Response { get_agents: Some(self.get_agents()), ..answer(response::Type::GetAgents) }
            }
            call::Type::GetFrameworks => {
                Response { get_frameworks: Some(self.get_frameworks()), ..answer(response::Type::GetFrameworks) }
            }
            call::Type::GetTasks => Response { get_tasks: Some(self.get_tasks()), ..answer(response::Type::GetTasks) },
            other => {
                let text = format!("The simulated master does not implement operator call {}", other.as_str_name());
                return Err(OperatorRejection::new(501, text));
            }
        })
    }

    fn get_agents(&self) -> response::GetAgents {
        let allocations = self.allocations();
        let mut offered: BTreeMap<usize, ByRole> = BTreeMap::new();
        for offer in self.offers.values() {
            let role = offer.proto.allocation_info.as_ref().and_then(|a| a.role.as_deref());
            offered.entry(offer.agent).or_default().add(role, &offer.resources);
        }
        let ip = self.master_info.address.as_ref().and_then(|a| a.ip.clone()).unwrap_or_default();
        let registered = v1::TimeInfo { nanoseconds: (EPOCH_AT_START * 1e9) as i64 };
        let agents = self
            .agents
            .iter()
            .enumerate()
            .filter(|(_, a)| a.reachable)
            .map(|(i, a)| response::get_agents::Agent {
                agent_info: agent_info(a),
                active: true,
                deactivated: Some(false),
                version: MESOS_VERSION.to_owned(),
                pid: Some(match a.is_remote() {
                    true => format!("slave(1)@{}:{}", a.config.hostname, a.port),
                    false => format!("slave(1)@{ip}:{}", a.port),
                }),
                registered_time: Some(registered),
                reregistered_time: None,
                total_resources: a.protos(&a.total, None),
                allocated_resources: allocations.agents.get(&i).map(ByRole::protos).unwrap_or_default(),
                offered_resources: offered.get(&i).map(ByRole::protos).unwrap_or_default(),
                capabilities: vec![agent_info::Capability {
                    r#type: Some(agent_info::capability::Type::MultiRole as i32),
                }],
            })
            .collect();
        response::GetAgents { agents, recovered_agents: Vec::new() }
    }

    fn get_frameworks(&self) -> response::GetFrameworks {
        let allocations = self.allocations();
        let frameworks = self
            .frameworks
            .values()
            .map(|f| {
                let offers: Vec<v1::Offer> =
                    self.offers.values().filter(|o| o.framework == f.id).map(|o| o.proto.clone()).collect();
                let mut offered = ByRole::default();
                for o in self.offers.values().filter(|o| o.framework == f.id) {
                    offered.add(o.proto.allocation_info.as_ref().and_then(|a| a.role.as_deref()), &o.resources);
                }
                let connected = f.conn.is_some();
                response::get_frameworks::Framework {
                    framework_info: f.info.clone(),
                    active: connected,
                    connected,
                    recovered: false,
                    offers,
                    allocated_resources: allocations.frameworks.get(&f.id).map(ByRole::protos).unwrap_or_default(),
                    offered_resources: offered.protos(),
                    ..Default::default()
                }
            })
            .collect();
        response::GetFrameworks { frameworks, ..Default::default() }
    }

    fn get_tasks(&self) -> response::GetTasks {
        let mut out = response::GetTasks::default();
        for f in self.frameworks.values() {
            out.tasks.extend(f.tasks.values().map(task_snapshot));
            out.unreachable_tasks.extend(f.history.unreachable.values().map(|(_, t)| t.clone()));
            out.completed_tasks.extend(f.history.completed.iter().cloned());
        }
        out
    }

    /// What the tasks not yet ended (and their executors) hold, per agent and per framework.
    fn allocations(&self) -> Allocations {
        let mut out = Allocations::default();
        for f in self.frameworks.values() {
            let mut executors_seen: BTreeSet<(usize, &str)> = BTreeSet::new();
            for task in f.tasks.values().filter(|t| !t.released) {
                let role = allocation_role(&task.proto.resources);
                let mut held = task.resources.clone();
                let executor = task.executor.as_deref().filter(|e| executors_seen.insert((task.agent, e)));
                let executor_resources = executor
                    .and_then(|e| self.agents.get(task.agent)?.executors.get(&(f.id.clone(), e.to_owned())))
                    .map(|e| &e.resources);
                if let Some(resources) = executor_resources {
                    held.add(resources);
                }
                out.agents.entry(task.agent).or_default().add(role, &held);
                out.frameworks.entry(f.id.clone()).or_default().add(role, &held);
            }
        }
        out
    }
}

/// An agent's `AgentInfo`: id, hostname, port, its total resources and its attributes.
fn agent_info(a: &Agent) -> v1::AgentInfo {
    v1::AgentInfo {
        hostname: a.config.hostname.clone(),
        port: Some(i32::from(a.port)),
        resources: a.protos(&a.total, None),
        attributes: a.attributes.clone(),
        id: Some(v1::AgentId { value: a.id.clone() }),
        domain: None,
    }
}

/// A live task as GET_TASKS reports it: its record with the latest state.
pub(crate) fn task_snapshot(task: &Task) -> v1::Task {
    v1::Task { state: task.state as i32, ..task.proto.clone() }
}
