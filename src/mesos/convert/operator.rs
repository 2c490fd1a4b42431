//! Conversions of what the operator API (`GET_AGENTS`, `GET_TASKS`) reports into model values,
//! with the same rules as offers: an agent's attributes come out exactly as its offers' would,
//! and a task's scalar resources as an offer's. Error fields are rooted at the message, e.g.
//! `agent_info.attributes[0].text` or `task.resources[1].scalar`, and carry the agent or task
//! id where [`ConvertError::offer_id`] reads it.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Context, ConvertError};
use crate::mesos::v1;
use crate::model::{AgentId, Attributes, ResourceValue, TaskId};
use crate::resources::Quantity;

/// A task the master reports (operator API `Task`), reduced to where it runs and what it holds:
/// what a framework needs to count it again after a failover (see
/// [`RunningTask`](crate::RunningTask)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TaskPlacement {
    /// The task id.
    pub task_id: TaskId,
    /// The agent it was launched on.
    pub agent_id: AgentId,
    /// `Task.labels` as `(key, value)` pairs in order; a label without value has `""`.
    pub labels: Vec<(String, String)>,
    /// Its scalar resources, summed over roles, sorted by name, names unique; ports, sets and
    /// zero amounts are left out.
    pub resources: Vec<(Arc<str>, Quantity)>,
}

/// An agent's id, hostname and attributes from the `AgentInfo` the operator API reports
/// (`GET_AGENTS`), converted by the rules offers follow (`TEXT` and `SCALAR` attributes kept,
/// ranges and sets skipped, a repeated name keeps the last value), so they compare equal to the
/// attributes of the agent's offers.
///
/// ```
/// use offerpack::mesos::{agent_host, v1};
///
/// let info = v1::AgentInfo {
///     hostname: "a1.example".into(),
///     id: Some(v1::AgentId { value: "S1".into() }),
///     attributes: vec![v1::Attribute {
///         name: "rack".into(),
///         r#type: v1::value::Type::Text as i32,
///         text: Some(v1::value::Text { value: "r1".into() }),
///         ..Default::default()
///     }],
///     ..Default::default()
/// };
/// let (id, hostname, attributes) = agent_host(&info).unwrap();
/// assert_eq!((id.as_str(), &*hostname), ("S1", "a1.example"));
/// assert_eq!(attributes.get("rack").unwrap().as_str(), "r1");
/// ```
///
/// # Errors
/// A missing or empty `id` or `hostname`, an attribute without name or value, or a scalar
/// attribute that is not finite.
pub fn agent_host(info: &v1::AgentInfo) -> Result<(AgentId, Arc<str>, Attributes), ConvertError> {
    let id = info.id.as_ref().map_or("", |id| id.value.as_str());
    let cx = Context { offer: id };
    let rooted = |e: ConvertError| root(e, "agent_info");
    cx.require("id", id).map_err(rooted)?;
    cx.require("hostname", &info.hostname).map_err(rooted)?;
    let attributes = cx.attributes(&info.attributes).map_err(rooted)?;
    Ok((AgentId::new(id), Arc::from(info.hostname.as_str()), attributes))
}

/// A `Task` of the operator API (`GET_TASKS`) as a [`TaskPlacement`].
///
/// # Errors
/// A missing or empty task or agent id, a resource without name or value, a scalar amount that
/// is NaN, negative or too large, or a bad `ports` range (the rules of offers).
pub fn task_placement(task: &v1::Task) -> Result<TaskPlacement, ConvertError> {
    let id = task.task_id.value.as_str();
    let cx = Context { offer: id };
    let rooted = |e: ConvertError| root(e, "task");
    cx.require("task_id", id).map_err(rooted)?;
    cx.require("agent_id", &task.agent_id.value).map_err(rooted)?;
    let resources = scalar_sums(&cx, &task.resources).map_err(rooted)?;
    let labels = task
        .labels
        .iter()
        .flat_map(|l| &l.labels)
        .map(|l| (l.key.clone(), l.value.clone().unwrap_or_default()))
        .collect();
    Ok(TaskPlacement { task_id: TaskId::new(id), agent_id: AgentId::new(&task.agent_id.value), labels, resources })
}

/// An agent's total scalar resources as `GET_AGENTS` reports them (`total_resources`), by the
/// rules of offers: summed over roles, sorted by name, zero amounts left out.
///
/// # Errors
/// A resource without name or value, or a scalar amount that is NaN, negative or too large.
pub fn agent_totals(
    agent: &v1::master::response::get_agents::Agent,
) -> Result<Vec<(Arc<str>, Quantity)>, ConvertError> {
    let id = agent.agent_info.id.as_ref().map_or("", |id| id.value.as_str());
    scalar_sums(&Context { offer: id }, &agent.total_resources).map_err(|e| root(e, "total_resources"))
}

/// Scalar amounts of `resources` summed per name, sorted by name, zero amounts left out.
fn scalar_sums(cx: &Context<'_>, resources: &[v1::Resource]) -> Result<Vec<(Arc<str>, Quantity)>, ConvertError> {
    let mut scalars: BTreeMap<Arc<str>, Quantity> = BTreeMap::new();
    for (index, proto) in resources.iter().enumerate() {
        if let Some(resource) = cx.resource(index, proto)? {
            if let ResourceValue::Scalar(amount) = resource.value {
                *scalars.entry(resource.name).or_default() += amount;
            }
        }
    }
    Ok(scalars.into_iter().filter(|(_, q)| !q.is_zero()).collect())
}

/// Prefixes the error's field with the message it belongs to (`agent_info`, `task`).
fn root(mut error: ConvertError, message: &str) -> ConvertError {
    match &mut error {
        ConvertError::Missing { field, .. }
        | ConvertError::BadScalar { field, .. }
        | ConvertError::BadRange { field, .. }
        | ConvertError::BadAttribute { field, .. } => *field = format!("{message}.{field}"),
    }
    error
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttrValue, Offer};
    use v1::value::{Scalar, Text, Type};

    fn text_attribute(name: &str, value: &str) -> v1::Attribute {
        v1::Attribute {
            name: name.into(),
            r#type: Type::Text as i32,
            text: Some(Text { value: value.into() }),
            ..Default::default()
        }
    }

    fn scalar_attribute(name: &str, value: f64) -> v1::Attribute {
        v1::Attribute {
            name: name.into(),
            r#type: Type::Scalar as i32,
            scalar: Some(Scalar { value }),
            ..Default::default()
        }
    }

    fn scalar(name: &str, value: f64, role: Option<&str>) -> v1::Resource {
        v1::Resource {
            name: name.into(),
            r#type: Type::Scalar as i32,
            scalar: Some(Scalar { value }),
            reservations: role
                .map(|r| vec![v1::resource::ReservationInfo { role: Some(r.into()), ..Default::default() }])
                .unwrap_or_default(),
            ..Default::default()
        }
    }

    fn info() -> v1::AgentInfo {
        v1::AgentInfo {
            hostname: "h1".into(),
            id: Some(v1::AgentId { value: "a-1".into() }),
            attributes: vec![
                text_attribute("rack", "r1"),
                scalar_attribute("cores", 2.0),
                v1::Attribute { name: "ids".into(), r#type: Type::Set as i32, ..Default::default() },
            ],
            ..Default::default()
        }
    }

    fn task() -> v1::Task {
        v1::Task {
            name: "t".into(),
            task_id: v1::TaskId { value: "t-1".into() },
            framework_id: v1::FrameworkId { value: "fw".into() },
            agent_id: v1::AgentId { value: "a-1".into() },
            resources: vec![scalar("cpus", 0.5, None), scalar("mem", 64.0, None), scalar("cpus", 1.0, Some("eng"))],
            labels: Some(v1::Labels {
                labels: vec![
                    v1::Label { key: "k".into(), value: Some("v".into()) },
                    v1::Label { key: "bare".into(), value: None },
                ],
            }),
            ..Default::default()
        }
    }

    #[test]
    fn agent_host_attributes_equal_those_of_an_offer() {
        let info = info();
        let offer = v1::Offer {
            id: v1::OfferId { value: "o-1".into() },
            framework_id: v1::FrameworkId { value: "fw".into() },
            agent_id: info.id.clone().unwrap(),
            hostname: info.hostname.clone(),
            attributes: info.attributes.clone(),
            ..Default::default()
        };
        let (id, hostname, attributes) = agent_host(&info).unwrap();
        let offer = Offer::try_from(&offer).unwrap();
        assert_eq!((&id, &hostname), (&offer.agent_id, &offer.hostname));
        assert_eq!(attributes, offer.attributes);
        assert_eq!(attributes.get("cores").and_then(AttrValue::as_scalar), Some(2.0));
        assert_eq!(attributes.len(), 2, "the set attribute is skipped");
    }

    #[test]
    fn agent_host_rejects_missing_id_hostname_and_bad_attributes() {
        let mut no_id = info();
        no_id.id = None;
        let error = agent_host(&no_id).unwrap_err();
        assert_eq!((error.offer_id(), error.field()), ("", "agent_info.id"));
        let mut no_host = info();
        no_host.hostname.clear();
        assert_eq!(agent_host(&no_host).unwrap_err().field(), "agent_info.hostname");
        let mut bad = info();
        bad.attributes[1].scalar = Some(Scalar { value: f64::INFINITY });
        let error = agent_host(&bad).unwrap_err();
        assert!(matches!(&error, ConvertError::BadAttribute { attribute, .. } if attribute == "cores"));
        assert_eq!((error.offer_id(), error.field()), ("a-1", "agent_info.attributes[1].scalar"));
        assert!(error.to_string().starts_with("agent \"a-1\", field agent_info.attributes[1].scalar"), "{error}");
    }

    #[test]
    fn task_placement_sums_scalars_and_keeps_labels() {
        let placement = task_placement(&task()).unwrap();
        assert_eq!((placement.task_id.as_str(), placement.agent_id.as_str()), ("t-1", "a-1"));
        assert_eq!(placement.labels, [("k".to_owned(), "v".to_owned()), ("bare".to_owned(), String::new())]);
        let expected: Vec<(Arc<str>, Quantity)> =
            vec![(Arc::from("cpus"), Quantity::new(1.5).unwrap()), (Arc::from("mem"), Quantity::new(64.0).unwrap())];
        assert_eq!(placement.resources, expected);
    }

    #[test]
    fn task_placement_rejects_missing_ids_and_bad_amounts() {
        let mut no_agent = task();
        no_agent.agent_id.value.clear();
        let error = task_placement(&no_agent).unwrap_err();
        assert_eq!((error.offer_id(), error.field()), ("t-1", "task.agent_id"));
        let mut no_id = task();
        no_id.task_id.value.clear();
        assert_eq!(task_placement(&no_id).unwrap_err().field(), "task.task_id");
        let mut negative = task();
        negative.resources[1] = scalar("mem", -1.0, None);
        let error = task_placement(&negative).unwrap_err();
        assert!(matches!(error, ConvertError::BadScalar { ref field, .. } if field == "task.resources[1].scalar"));
        assert!(error.to_string().starts_with("task \"t-1\""), "{error}");
    }
}
