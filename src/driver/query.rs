//! The session's operator API reads ([`Action::Query`](crate::session::Action::Query)): the
//! call to send and what its answer says, in the session's terms.

use super::operator::{expect, is_live, typed, OperatorError};
use crate::mesos::v1::master::{call, response, Call, Response};
use crate::mesos::{agent_host, agent_totals, task_placement};
use crate::model::GroupId;
use crate::session::{AgentReport, OperatorQuery, QueryAnswer, TaskReport, TaskState, GROUP_LABEL};

/// The operator call that answers `query`.
pub(crate) fn query_call(query: OperatorQuery) -> Call {
    match query {
        OperatorQuery::GetAgents => typed(call::Type::GetAgents),
        OperatorQuery::GetTasks => typed(call::Type::GetTasks),
    }
}

/// The session's view of the master's answer to `query`: every agent, or the live tasks (those
/// that neither ended nor sit on unreachable agents).
pub(crate) fn query_answer(query: OperatorQuery, answer: Response) -> Result<QueryAnswer, OperatorError> {
    match query {
        OperatorQuery::GetAgents => {
            let agents = expect(answer.get_agents, answer.r#type, response::Type::GetAgents)?.agents;
            let report = |agent: &response::get_agents::Agent| {
                let (id, hostname, attributes) = agent_host(&agent.agent_info)?;
                Ok(AgentReport { id, hostname, attributes, resources: agent_totals(agent)? })
            };
            agents.iter().map(report).collect::<Result<_, _>>().map(QueryAnswer::Agents).map_err(OperatorError::Convert)
        }
        OperatorQuery::GetTasks => {
            let tasks = expect(answer.get_tasks, answer.r#type, response::Type::GetTasks)?.tasks;
            let report = |task: &crate::mesos::v1::Task| {
                let placement = task_placement(task)?;
                let group = placement.labels.iter().find(|(k, _)| k == GROUP_LABEL).map(|(_, v)| GroupId::new(v));
                Ok(TaskReport {
                    id: placement.task_id,
                    framework_id: task.framework_id.value.clone(),
                    agent_id: Some(placement.agent_id),
                    state: TaskState::from_proto(task.state),
                    group,
                    resources: placement.resources,
                })
            };
            let live = tasks.iter().filter(|t| is_live(t.state()));
            live.map(report).collect::<Result<_, _>>().map(QueryAnswer::Tasks).map_err(OperatorError::Convert)
        }
    }
}
