//! Leadership of a master elected through ZooKeeper ([`MasterConfig::zookeeper`]): the shell
//! (`zk_member`) reports whether the master leads through [`MasterCore::handle_leadership`];
//! the core reads no ZooKeeper and no clock.
//!
//! - A master without ZooKeeper always leads. One with ZooKeeper starts as a follower; while it
//!   follows, scheduler and agent calls are refused with 503 "No leader elected" (the shell
//!   answers 307 to the leader before they reach the core, when it knows one).
//! - Coming to lead opens the re-registration window ([`MasterConfig::agent_reregister_timeout`]):
//!   an agent process re-registering with an id this master never knew is an agent of the
//!   previous leader, and is taken with what it lists ([`MasterCore::adopt_running`]): its
//!   tasks run on (charged to it, reported by reconciliation with the listed state) and their
//!   frameworks are known from then on, waiting for their SUBSCRIBE with their id, as Mesos
//!   keeps the frameworks its agents report after a failover. Reconciliation of an unknown
//!   task on an unknown agent gets no answer during the window (the framework asks again), as
//!   Mesos drops it for agents it recovered that have not re-registered yet. After the window,
//!   unknown ids get 403 as before.
//! - Losing leadership closes every framework and agent stream and starts the master afresh
//!   (its configuration, its simulated agents, no frameworks or tasks), as a Mesos master that
//!   lost its candidacy exits and is restarted by its supervisor; frameworks and agents follow
//!   the new leader.
//!
//! [`MasterConfig::zookeeper`]: super::MasterConfig::zookeeper
//! [`MasterConfig::agent_reregister_timeout`]: super::MasterConfig::agent_reregister_timeout

use std::time::Duration;

use super::agents::Executor;
use super::resources::Resources;
use super::state::{Framework, MasterCore, Output};
use super::tasks::{is_terminal, Task};
use crate::mesos::agent_api::call;
use crate::mesos::v1::{self, TaskState};

impl MasterCore {
    /// Whether this master leads: always without ZooKeeper, else as last reported.
    pub fn is_leading(&self) -> bool {
        self.leading
    }

    /// The shell reports at `now` whether this master leads (it won the election) or not (it
    /// follows another master, knows no leader, or lost its ZooKeeper session). Only a change
    /// does anything: coming to lead opens the agents' re-registration window and schedules an
    /// allocation; ceasing to lead closes every stream and starts afresh (see the module docs).
    pub fn handle_leadership(&mut self, now: Duration, leading: bool) {
        match (self.leading, leading) {
            (false, true) => {
                self.leading = true;
                self.reregister_until = Some(now.saturating_add(self.config.agent_reregister_timeout));
                self.request_allocation(now);
            }
            (true, false) => self.step_down(),
            _ => {}
        }
    }

    /// Whether re-registrations of unknown agent ids are still taken at `now`.
    pub(crate) fn in_reregister_window(&self, now: Duration) -> bool {
        self.leading && self.reregister_until.is_some_and(|until| now < until)
    }

    /// Whether an agent re-registering with `id` at `now` is adopted: in the window, with an id
    /// no agent of this master has (a removed one keeps its id, and gets 403).
    pub(crate) fn may_adopt(&self, now: Duration, id: &str) -> bool {
        self.in_reregister_window(now) && self.agents.iter().all(|a| a.id != id)
    }

    /// Closes every stream and becomes a fresh follower with the same configuration, master
    /// id and advertised address; stream keys and the random sequence go on.
    fn step_down(&mut self) {
        let framework_streams = self.frameworks.values().filter_map(|f| f.conn.as_ref().map(|c| c.stream));
        let agent_streams = self.agents.iter().filter_map(|a| a.remote.as_ref().and_then(|r| r.stream));
        let streams: Vec<_> = framework_streams.chain(agent_streams).collect();
        let mut fresh = MasterCore::new(self.config.clone(), self.advertised);
        fresh.leading = false;
        fresh.next_stream = self.next_stream;
        fresh.duplicate_updates = self.duplicate_updates;
        std::mem::swap(&mut fresh.rng, &mut self.rng);
        std::mem::swap(&mut fresh.out, &mut self.out);
        fresh.out.extend(streams.into_iter().map(|stream| Output::Close { stream }));
        *self = fresh;
    }

    /// Takes what an adopted agent lists: its executors (charged once each) and its tasks not
    /// ended (charged, in their listed state, their frameworks known from now on). Tasks of
    /// frameworks this master removed are not taken: the agent gets SHUTDOWN_FRAMEWORK.
    pub(crate) fn adopt_running(&mut self, agent: usize, register: &call::Register) {
        let agent_id = self.agents[agent].id.clone();
        let mut removed = Vec::new();
        let running = register.tasks.iter().filter(|t| !TaskState::try_from(t.state).is_ok_and(is_terminal));
        for listed in running {
            let fw = listed.framework_id.value.clone();
            if self.removed.contains(&fw) {
                removed.push(fw);
                continue;
            }
            let resources = Resources::from_protos(&listed.resources).unwrap_or_default();
            let executor = listed.executor_id.as_ref().map(|e| e.value.clone());
            let state = TaskState::try_from(listed.state).unwrap_or(TaskState::TaskStaging);
            let mut proto = listed.clone();
            proto.agent_id = v1::AgentId { value: agent_id.clone() };
            let task =
                Task::adopted(agent, resources.clone(), executor, state, proto, self.config.status_update_retry_min);
            self.agents[agent].free.subtract(&resources);
            let info = v1::FrameworkInfo { id: Some(listed.framework_id.clone()), ..Default::default() };
            let framework = self.frameworks.entry(fw.clone()).or_insert_with(|| Framework::new(&fw, info));
            framework.tasks.insert(listed.task_id.value.clone(), task);
        }
        for info in &register.executors {
            let Some(fw) = info.framework_id.as_ref().map(|f| f.value.clone()) else { continue };
            let key = (fw.clone(), info.executor_id.value.clone());
            let live = self.frameworks.get(&fw).map_or(0, |f| {
                f.tasks.values().filter(|t| t.agent == agent && t.executor.as_deref() == Some(key.1.as_str())).count()
            });
            if self.removed.contains(&fw) || self.agents[agent].executors.contains_key(&key) {
                continue;
            }
            let resources = Resources::from_protos(&info.resources).unwrap_or_default();
            let a = &mut self.agents[agent];
            a.free.subtract(&resources);
            a.executors.insert(key, Executor { info: info.clone(), resources, live });
        }
        removed.sort_unstable();
        removed.dedup();
        for fw in removed {
            self.send_shutdown_framework(agent, &fw);
        }
    }
}
