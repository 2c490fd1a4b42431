//! Gangs on the live path: task groups, declared sizes, and restarts.
//!
//! # Task groups
//!
//! A pass places a gang whole or not at all (see [`TaskSpec::gang`](crate::TaskSpec::gang)).
//! The command-task members of a gang that landed on one agent launch as one `LAUNCH_GROUP` in
//! that agent's ACCEPT: a `TaskGroupInfo` run by a default executor
//! (`ExecutorInfo.type = DEFAULT`, no command), so the agent starts all of them or fails them
//! all. Mesos has no operation spanning agents, so a gang spread over several agents launches as
//! one `LAUNCH_GROUP` per agent, all in the same pass.
//!
//! The default executor holds resources of its own on the agent (Mesos asks at least 0.01 cpus
//! and 32 MB): [`TaskRequest::command`](super::TaskRequest::command) gives every gang member an
//! [`ExecutorDemand`](crate::ExecutorDemand) of [`GANG_EXECUTOR_RESOURCES`] under
//! [`gang_executor_id`], which the engine charges once per agent a member lands on. Every such
//! agent runs a `LAUNCH_GROUP` on that executor, so what the engine reserves is exactly what
//! the executors hold.
//!
//! # Declared size
//!
//! Members of a gang with a declared size ([`TaskSpec::gang_size`](crate::TaskSpec::gang_size))
//! are held out of the engine's passes until all `size` have been submitted, so a gang
//! submitted over several passes is placed as one. A member whose size disagrees with its
//! gang's, or that would make the gang larger than its size, is refused at submission
//! ([`SubmitError::Gang`](super::SubmitError::Gang)); the members submitted stay.
//!
//! # A member fails
//!
//! Mesos' default executor kills the whole task group when one of its tasks fails; a job of
//! workers spread over agents expects the same (a Kubernetes gang scheduler restarts the whole
//! job). So when a launched member goes back to pending — its attempt failed and its retry
//! policy has attempts left, or its launch was sent back — the session restarts its gang: every
//! other member launched or running is killed (a KILL each, on every agent) and, however its
//! attempt then ends, is pending again under a new attempt. The gang's members are held out of
//! passes until every live member is pending and past its backoff, then placed all or nothing
//! again, as a new gang. A restart counts an attempt for every member; members that had already
//! finished are not run again (a gang with a declared size is then placed with the members
//! left). A member being killed for the restart whose launch is sent back instead (its offer
//! was rescinded, or the master refused the ACCEPT) never ran: it too is pending again at once
//! as its next attempt (`<id>.retry-<n>`), so the gang is placed again whole, no member lost.
//!
//! # A gang breaks
//!
//! When a member gives up (no attempts left, or an end that is not retried), its gang cannot
//! be whole again: every other live member is killed and ends `KILLED`, its update saying
//! `gang G broken: its member X gave up`. A member of a gang with a declared size that ends
//! `KILLED` for good — the user killed it, pending or launched — breaks its gang the same way
//! (`gang G broken: its member X was killed`): a killed member does not come back on its own,
//! and a gang of declared size is never placed short of a member (as a gang scheduler such as
//! Volcano keeps a job's pods all or nothing, and as Mesos' default executor kills a whole task
//! group when one of its tasks is killed). Submitting members under the gang's name afterwards
//! starts a new gang, which again waits for all its members. A gang without a declared size is
//! the members it has: a killed member just leaves it, and the others are placed without it.
//! A kill the user asks for also wins over a restart: that member ends `KILLED`.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::calls;
use super::machine::Session;
use super::update::TaskState;
use crate::mesos::v1;
use crate::model::TaskId;
use crate::plan::Plan;
use crate::queue::QueuePlace;
use crate::spec::TaskSpec;

/// What the default executor of a gang's task group holds on each agent (cpus, memory in MB and
/// a little disk in MB for its sandbox): the engine reserves it beside the members.
pub const GANG_EXECUTOR_RESOURCES: [(&str, f64); 3] = [("cpus", 0.1), ("disk", 16.0), ("mem", 32.0)];

/// The executor id of gang `gang`'s default executor.
///
/// ```
/// assert_eq!(offerpack::session::gang_executor_id("train"), "offerpack-gang-train");
/// ```
pub fn gang_executor_id(gang: &str) -> String {
    format!("offerpack-gang-{gang}")
}

/// The gangs of `plan`'s launches, whose members launch as task groups; `gang_of` gives a
/// task's gang.
pub(super) fn planned_gangs(plan: &Plan, gang_of: impl Fn(&TaskId) -> Option<Arc<str>>) -> FxHashSet<Arc<str>> {
    plan.launches.iter().filter_map(|launch| gang_of(&launch.task_id)).collect()
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

impl Session {
    /// Takes out of `pending` (and `places`, when given) the members of gangs that may not be
    /// placed yet: a declared size not all submitted, or (a declared size, or a restarted gang)
    /// some live member not pending. A member launched or running while another waits is
    /// restarted; a declared gang handed over short of members that ended is handed with the
    /// size it has left.
    pub(super) fn hold_gangs(&mut self, pending: &mut Vec<TaskSpec>, places: Option<&mut Vec<QueuePlace>>) {
        if pending.iter().all(|t| t.gang.is_none()) {
            return;
        }
        let mut ready: FxHashMap<Arc<str>, usize> = FxHashMap::default();
        for gang in pending.iter().filter_map(|t| t.gang.as_ref()) {
            *ready.entry(gang.clone()).or_default() += 1;
        }
        let mut held: FxHashSet<Arc<str>> = FxHashSet::default();
        let mut resized: FxHashMap<Arc<str>, u32> = FxHashMap::default();
        let mut kills = Vec::new();
        for (gang, &n) in &ready {
            let Some(view) = self.tasks.gang_view(gang) else { continue };
            let missing = view.size.is_some_and(|size| view.submitted < size as usize);
            let apart = (view.size.is_some() || view.restarted) && n < view.live;
            if missing || apart {
                held.insert(gang.clone());
            }
            if apart && !missing {
                kills.extend(self.tasks.restart_gang(gang));
            }
            if !missing && !apart && view.size.is_some_and(|size| (n as u32) < size) {
                resized.insert(gang.clone(), n as u32);
            }
        }
        self.send_kills(kills);
        if !held.is_empty() {
            let keep = |t: &TaskSpec| t.gang.as_ref().is_none_or(|g| !held.contains(g));
            if let Some(places) = places {
                let mut kept = pending.iter().map(keep);
                places.retain(|_| kept.next().unwrap_or(true));
            }
            pending.retain(keep);
        }
        for task in pending.iter_mut() {
            if let Some(&size) = task.gang.as_ref().and_then(|g| resized.get(g)) {
                task.gang_size = Some(size);
            }
        }
    }

    /// After a task update: a gang member back to pending restarts its gang; the gang of a
    /// member that gave up is killed.
    pub(super) fn follow_gangs(&mut self, task: &TaskId, state: TaskState) {
        if state == TaskState::Pending {
            if let Some(gang) = self.tasks.gang_of(task) {
                let kills = self.tasks.restart_gang(&gang);
                self.send_kills(kills);
            }
        }
        for (gang, why) in self.tasks.take_failed_gangs() {
            for member in self.tasks.give_up_gang(&gang, &why) {
                match self.tasks.kill(&member) {
                    super::tasks::KillStep::Send(mesos, agent) => self.send_kills(vec![(mesos, agent)]),
                    super::tasks::KillStep::Removed(mut killed) => {
                        killed.message = Some(why.to_string());
                        self.push_task(killed);
                    }
                    super::tasks::KillStep::Unknown => {}
                }
            }
        }
    }

    /// Sends a KILL for each (Mesos id, agent) while subscribed (a re-subscription sends the
    /// kills still wanted).
    fn send_kills(&mut self, kills: Vec<(TaskId, Option<crate::model::AgentId>)>) {
        if !self.is_subscribed() {
            return;
        }
        for (mesos, agent) in kills {
            self.send(calls::kill(self.fw(), &mesos, agent.as_ref()));
        }
    }
}
