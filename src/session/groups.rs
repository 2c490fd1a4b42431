//! Gangs on the live path: which placed gangs launch as one Mesos task group, and the default
//! executor that runs a group.
//!
//! A pass places a gang whole or not at all (see [`TaskSpec::gang`](crate::TaskSpec::gang)).
//! A gang of command tasks whose members all landed on one agent launches as one
//! `LAUNCH_GROUP` in that agent's ACCEPT: a `TaskGroupInfo` run by a default executor
//! (`ExecutorInfo.type = DEFAULT`, no command), so the agent starts all members or fails them
//! all. Mesos has no operation spanning agents, so the members of a gang spread over several
//! agents launch as plain `LAUNCH` tasks in their agents' ACCEPTs, all in the same pass.
//!
//! The default executor holds resources of its own on the agent (Mesos asks at least 0.01 cpus
//! and 32 MB): [`TaskRequest::command`](super::TaskRequest::command) gives every gang member an
//! [`ExecutorDemand`](crate::ExecutorDemand) of [`GANG_EXECUTOR_RESOURCES`] under
//! [`gang_executor_id`], which the engine charges once per agent a member lands on. Where the
//! members launch as plain tasks, that share goes back to the master with the offers' unused
//! resources.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::mesos::v1;
use crate::model::{AgentId, TaskId};
use crate::plan::Plan;

/// What the default executor of a gang's task group holds on each agent: the engine reserves
/// it beside the members.
pub const GANG_EXECUTOR_RESOURCES: [(&str, f64); 2] = [("cpus", 0.1), ("mem", 32.0)];

/// The executor id of gang `gang`'s default executor.
///
/// ```
/// assert_eq!(offerpack::session::gang_executor_id("train"), "offerpack-gang-train");
/// ```
pub fn gang_executor_id(gang: &str) -> String {
    format!("offerpack-gang-{gang}")
}

/// The gangs of `plan` whose members all landed on one agent; `gang_of` gives a task's gang.
pub(super) fn single_agent_gangs<'a>(
    plan: &'a Plan,
    gang_of: impl Fn(&TaskId) -> Option<Arc<str>>,
) -> FxHashSet<Arc<str>> {
    let mut agent_of: FxHashMap<Arc<str>, Option<&'a AgentId>> = FxHashMap::default();
    for launch in &plan.launches {
        let Some(gang) = gang_of(&launch.task_id) else { continue };
        let seen = agent_of.entry(gang).or_insert(Some(&launch.agent_id));
        if *seen != Some(&launch.agent_id) {
            *seen = None;
        }
    }
    agent_of.into_iter().filter(|(_, agent)| agent.is_some()).map(|(gang, _)| gang).collect()
}

/// A new default executor for gang `gang`'s task group, holding `resources`.
pub(super) fn default_executor(fw: &str, gang: &str, resources: Vec<v1::Resource>) -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        r#type: Some(v1::executor_info::Type::Default as i32),
        executor_id: v1::ExecutorId { value: gang_executor_id(gang) },
        framework_id: Some(v1::FrameworkId { value: fw.to_owned() }),
        name: Some(format!("gang {gang}")),
        resources,
        ..Default::default()
    }
}

/// The members of a task group: each under our id, with its `TaskInfo`.
pub(super) type Members = Vec<(TaskId, v1::TaskInfo)>;

/// The task groups of one ACCEPT being built: per gang, its executor and tasks.
#[derive(Default)]
pub(super) struct Groups {
    groups: Vec<(Arc<str>, v1::ExecutorInfo, Members)>,
}

impl Groups {
    /// Adds a member of `gang` (launched under our id `task`); the executor given with the
    /// gang's first member runs the group.
    pub fn add(
        &mut self,
        gang: &Arc<str>,
        executor: impl FnOnce() -> v1::ExecutorInfo,
        task: TaskId,
        info: v1::TaskInfo,
    ) {
        match self.groups.iter_mut().find(|(g, _, _)| g == gang) {
            Some((_, _, tasks)) => tasks.push((task, info)),
            None => self.groups.push((gang.clone(), executor(), vec![(task, info)])),
        }
    }

    /// Whether no group has a task.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The groups whose every member in the accept (`expected` counts them per gang) was
    /// carved, as (executor, tasks); the members of the others, which launch not at all.
    pub fn into_whole(self, expected: &FxHashMap<Arc<str>, usize>) -> (Vec<(v1::ExecutorInfo, Members)>, Vec<TaskId>) {
        let mut whole = Vec::new();
        let mut dropped = Vec::new();
        for (gang, executor, tasks) in self.groups {
            if expected.get(&gang).copied() == Some(tasks.len()) {
                whole.push((executor, tasks));
            } else {
                dropped.extend(tasks.into_iter().map(|(id, _)| id));
            }
        }
        (whole, dropped)
    }
}
