//! Reads from the master's operator API (`POST /api/v1`): where the framework's tasks run.
//!
//! A scheduler that takes over from an earlier one (failover, restart) inherits tasks on agents
//! it has never been offered, so it knows neither their hostnames nor their attributes, and
//! hard constraints would not count them. Before any pass that could place tasks, the session
//! asks the master: `GET_TASKS` lists the framework's tasks with the group label their launch
//! carried ([`GROUP_LABEL`]), `GET_AGENTS` every agent's hostname and attributes. The driver
//! carries out an [`Action::Query`](super::Action::Query) and reports the answer with
//! [`Session::handle_query_result`].
//!
//! Policy: passes wait while a read is needed or in flight. A read that fails for a reason that
//! may pass (503, no connection) is retried with the reconciliation backoff, up to
//! [`MAX_QUERY_ATTEMPTS`] times; a rejected read (the master has no operator API, or refuses
//! it) is given up at once. After giving up, passes go on: a task whose agent is still unknown
//! counts against every value of every attribute for its group (it could be on any), and an
//! adopted task whose group is unknown is in no group of this framework until the user submits
//! it again under its id (see [`Session::submit`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::machine::Session;
use super::update::{Update, Warning};
use super::{CallId, CallOutcome, TaskState};
use crate::mesos::v1::{self, master};
use crate::mesos::{agent_host, agent_totals, task_placement, ConvertError};
use crate::model::{AgentId, Attributes, GroupId, TaskId};
use crate::resources::Quantity;

/// The label every launch carries with the task's group, so that a later scheduler of the same
/// framework can tell the group of a task it adopts.
pub const GROUP_LABEL: &str = "offerpack.group";

/// The label a launch carries, `"true"`, when the task claims its agent for its group (an
/// `EXCLUSIVE` constraint), so that a later scheduler keeps other groups off that agent.
pub const CLAIM_LABEL: &str = "offerpack.claims_agent";

/// Reads of the operator API given up after this many failures that might have passed.
pub const MAX_QUERY_ATTEMPTS: u32 = 5;

/// A read of the operator API the session needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OperatorQuery {
    /// `GET_AGENTS`: every agent's id, hostname, attributes and resources.
    GetAgents,
    /// `GET_TASKS`: every task the master knows, with agent, state, labels and resources.
    GetTasks,
}

impl OperatorQuery {
    /// The operator API call that answers this query.
    pub fn call(self) -> master::Call {
        let kind = match self {
            OperatorQuery::GetAgents => master::call::Type::GetAgents,
            OperatorQuery::GetTasks => master::call::Type::GetTasks,
        };
        master::Call { r#type: Some(kind as i32) }
    }
}

/// One agent as `GET_AGENTS` describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentReport {
    /// The agent id.
    pub id: AgentId,
    /// Its hostname.
    pub hostname: Arc<str>,
    /// Its attributes.
    pub attributes: Attributes,
    /// Its total scalar resources.
    pub resources: Vec<(Arc<str>, Quantity)>,
}

/// One task as `GET_TASKS` describes it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskReport {
    /// The task id.
    pub id: TaskId,
    /// The framework it belongs to.
    pub framework_id: String,
    /// The agent it was launched on.
    pub agent_id: Option<AgentId>,
    /// Its latest state; `None` when the master reported one this crate does not know.
    pub state: Option<TaskState>,
    /// The group from its [`GROUP_LABEL`] label.
    pub group: Option<GroupId>,
    /// Whether it claims its agent ([`CLAIM_LABEL`]).
    pub claims_agent: bool,
    /// Its scalar resources.
    pub resources: Vec<(Arc<str>, Quantity)>,
}

/// The answer to an [`OperatorQuery`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum QueryAnswer {
    /// The agents (`GET_AGENTS`).
    Agents(Vec<AgentReport>),
    /// The tasks (`GET_TASKS`).
    Tasks(Vec<TaskReport>),
}

impl QueryAnswer {
    /// What the master's `response` to `query` says, in the session's terms: every agent, or
    /// the framework's completed tasks (terminal: how attempts of a scheduler that died before
    /// it heard or recorded their end ended; a launch that never ran, `REASON_INVALID_OFFERS`,
    /// is left out) followed by the tasks that still hold resources (staging, starting,
    /// running or killing), so that a later report of a task id wins.
    ///
    /// # Errors
    /// A response of another type, or an agent or task that does not convert (see
    /// [`agent_host`], [`task_placement`]).
    pub fn from_response(query: OperatorQuery, response: &master::Response) -> Result<QueryAnswer, String> {
        use master::response::Type;
        let wrong = || format!("expected the answer to {query:?}, got response type {:?}", response.r#type);
        match query {
            OperatorQuery::GetAgents => {
                let agents = response.get_agents.as_ref().filter(|_| response.r#type == Some(Type::GetAgents as i32));
                let report = |agent: &master::response::get_agents::Agent| {
                    let (id, hostname, attributes) = agent_host(&agent.agent_info)?;
                    Ok(AgentReport { id, hostname, attributes, resources: agent_totals(agent)? })
                };
                let agents = agents.ok_or_else(wrong)?.agents.iter().map(report);
                agents.collect::<Result<_, ConvertError>>().map(QueryAnswer::Agents).map_err(|e| e.to_string())
            }
            OperatorQuery::GetTasks => {
                let tasks = response.get_tasks.as_ref().filter(|_| response.r#type == Some(Type::GetTasks as i32));
                let tasks = tasks.ok_or_else(wrong)?;
                let live = |t: &&v1::Task| TaskState::from_proto(t.state).is_some_and(holds_resources);
                let ran = |t: &&v1::Task| {
                    let last = t.statuses.last().and_then(|s| s.reason);
                    last != Some(v1::task_status::Reason::InvalidOffers as i32)
                };
                let completed = tasks.completed_tasks.iter().filter(ran);
                let all = completed.chain(tasks.tasks.iter().filter(live)).map(task_report);
                all.collect::<Result<_, ConvertError>>().map(QueryAnswer::Tasks).map_err(|e| e.to_string())
            }
        }
    }
}

/// A task of `GET_TASKS` as the session needs it: group and claim from its launch's labels.
fn task_report(task: &v1::Task) -> Result<TaskReport, ConvertError> {
    let placement = task_placement(task)?;
    let label = |key: &str| placement.labels.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    Ok(TaskReport {
        group: label(GROUP_LABEL).map(GroupId::new),
        claims_agent: label(CLAIM_LABEL) == Some("true"),
        id: placement.task_id,
        framework_id: task.framework_id.value.clone(),
        agent_id: Some(placement.agent_id),
        state: TaskState::from_proto(task.state),
        resources: placement.resources,
    })
}

/// Whether a task in `state` holds resources on its agent.
pub(crate) fn holds_resources(state: TaskState) -> bool {
    matches!(state, TaskState::Staging | TaskState::Starting | TaskState::Running | TaskState::Killing)
}

/// Where the session's reads of the operator API stand.
#[derive(Clone, Debug, Default)]
pub(super) struct Lookup {
    /// The read in flight.
    in_flight: Option<(CallId, OperatorQuery)>,
    /// The framework's tasks must be listed (taking over from an earlier scheduler, or a task
    /// of one was adopted).
    pub(super) want_tasks: bool,
    /// Some task runs on an agent the session has no record of (set where that can happen, so
    /// that no event has to scan every task).
    want_agents: bool,
    /// Agents asked for that the master did not list: not asked again.
    not_listed: BTreeSet<AgentId>,
    retry_at: Option<Duration>,
    failures: u32,
    /// The operator API cannot be used until the next subscription.
    given_up: bool,
}

impl Lookup {
    /// A new subscription: try again; list the tasks when taking over (`takeover`).
    pub(super) fn subscribed(&mut self, takeover: bool, unknown_agents: bool) {
        let not_listed = std::mem::take(&mut self.not_listed);
        *self = Lookup { want_tasks: takeover, want_agents: unknown_agents, not_listed, ..Lookup::default() };
    }

    /// When a failed read is due again.
    pub(super) fn retry_at(&self) -> Option<Duration> {
        self.retry_at.filter(|_| self.in_flight.is_none() && !self.given_up)
    }
}

impl Session {
    /// The answer to an [`Action::Query`](super::Action::Query): the decoded answer, or how the request failed.
    pub fn handle_query_result(&mut self, id: CallId, result: Result<QueryAnswer, CallOutcome>, now: Duration) {
        // Redirects and retries first (see `resend.rs`).
        let Some(result) = self.screen_query_result(id, result, now) else {
            return;
        };
        let Some((_, query)) = self.lookup.in_flight.filter(|(sent, _)| *sent == id) else {
            return;
        };
        self.lookup.in_flight = None;
        match result {
            Ok(QueryAnswer::Tasks(tasks)) if query == OperatorQuery::GetTasks => {
                self.lookup.want_tasks = false;
                self.lookup.failures = 0;
                let ours = tasks.into_iter().filter(|t| t.framework_id == self.fw());
                for report in ours.collect::<Vec<_>>() {
                    if let Some(update) = self.tasks.learn(report, now) {
                        self.push_task(update);
                    }
                }
                self.lookup.want_agents = !self.unknown_agents().is_empty();
            }
            Ok(QueryAnswer::Agents(agents)) if query == OperatorQuery::GetAgents => {
                self.lookup.failures = 0;
                let wanted = self.unknown_agents();
                for a in agents {
                    if self.agents.learn_agent(a.id.clone(), a.hostname, a.attributes, a.resources) {
                        self.tasks.touch(self.scheduler.tasks_on(&a.id).iter().cloned());
                    }
                }
                self.lookup.not_listed.extend(wanted.into_iter().filter(|a| !self.agents.knows(a)));
                self.lookup.want_agents = false;
            }
            Ok(_) => self.give_up_lookup("the master answered another query than the one asked".to_owned()),
            Err(CallOutcome::NotSent) => {}
            Err(outcome @ (CallOutcome::Unavailable(_) | CallOutcome::NotSubscribed)) => {
                self.lookup.failures += 1;
                if self.lookup.failures >= MAX_QUERY_ATTEMPTS {
                    self.give_up_lookup(format!("{query:?} failed {} times: {outcome:?}", self.lookup.failures));
                } else {
                    let delay = self.config.reconcile.delay(self.lookup.failures - 1, &mut self.rng);
                    self.lookup.retry_at = Some(now.saturating_add(delay));
                }
            }
            Err(outcome) => self.give_up_lookup(format!("{query:?} was refused: {outcome:?}")),
        }
        self.query_if_needed(now);
        self.request_pass(now);
        self.run_due(now);
    }

    /// Whether passes must wait for the operator API (a read is needed or in flight).
    pub(super) fn lookup_pending(&self) -> bool {
        let lookup = &self.lookup;
        !lookup.given_up && (lookup.in_flight.is_some() || lookup.want_tasks || lookup.want_agents)
    }

    /// A task's agent became known to the session (launch, status update): if the session has no
    /// record of that agent, it must be asked for.
    pub(super) fn note_task_agent(&mut self, agent: Option<&AgentId>) {
        if agent.is_some_and(|a| !self.agents.knows(a) && !self.lookup.not_listed.contains(a)) {
            self.lookup.want_agents = true;
        }
    }

    /// Whether some task runs on an agent the session has no record of.
    pub(super) fn has_unknown_agents(&self) -> bool {
        !self.unknown_agents().is_empty()
    }

    /// Sends the next read the session needs, unless one is in flight or waits for its retry.
    pub(super) fn query_if_needed(&mut self, now: Duration) {
        let lookup = &self.lookup;
        if !self.is_subscribed() || lookup.given_up || lookup.in_flight.is_some() {
            return;
        }
        if lookup.retry_at.is_some_and(|at| at > now) {
            return;
        }
        let query = if lookup.want_tasks {
            OperatorQuery::GetTasks
        } else if lookup.want_agents {
            OperatorQuery::GetAgents
        } else {
            return;
        };
        let id = CallId(self.next_call);
        self.next_call += 1;
        self.lookup.retry_at = None;
        self.lookup.in_flight = Some((id, query));
        self.hand_out_query(id, query);
    }

    /// Agents of launched or running tasks that the session has no record of and has not asked
    /// the master about in vain.
    fn unknown_agents(&self) -> Vec<AgentId> {
        let unknown = |a: &&AgentId| !self.agents.knows(a) && !self.lookup.not_listed.contains(*a);
        self.tasks.agents_in_use().into_iter().filter(unknown).cloned().collect()
    }

    fn give_up_lookup(&mut self, reason: String) {
        self.lookup.given_up = true;
        self.lookup.want_tasks = false;
        self.lookup.retry_at = None;
        self.updates.push_back(Update::Warning(Warning::LookupGivenUp(reason)));
    }
}
