//! Allocation, offers and filters, DECLINE/REVIVE/SUPPRESS, and ACCEPT with LAUNCH and
//! LAUNCH_GROUP validation.
//!
//! The allocator offers all free resources of an agent as one offer to one framework
//! (round-robin over the connected, not fully suppressed frameworks, skipping those with an
//! active filter on the agent), batching one framework's new offers into one OFFERS event.
//! A filter from DECLINE or from the unused part of an ACCEPT keeps the refused resources
//! away from that framework for `refuse_seconds` (default 5, negative ⇒ default, capped at
//! 365 days, 0 ⇒ none), unless the agent has more free than was refused, as in Mesos.

use std::collections::BTreeMap;
use std::time::Duration;

use super::agents::Executor;
use super::resources::Resources;
use super::state::{Filter, MasterCore, OfferRec, Timer};
use crate::mesos::v1::{self, scheduler::call, scheduler::event, scheduler::Event};

/// Longest filter Mesos accepts: 365 days.
const MAX_REFUSE_SECONDS: f64 = 31_536_000.0;

impl MasterCore {
    pub(crate) fn allocate(&mut self, now: Duration) {
        for fw in self.frameworks.values_mut() {
            fw.filters.retain(|f| f.until > now);
        }
        let eligible: Vec<String> = self
            .frameworks
            .values()
            .filter(|f| f.conn.is_some() && f.roles.iter().any(|r| !f.suppressed.contains(r)))
            .map(|f| f.id.clone())
            .collect();
        if eligible.is_empty() {
            return;
        }
        let mut cursor = self.allocation_cursor % eligible.len();
        let mut batches: BTreeMap<String, Vec<v1::Offer>> = BTreeMap::new();
        for agent in 0..self.agents.len() {
            if !self.agents[agent].reachable || !offerable(&self.agents[agent].free) {
                continue;
            }
            let pick = (0..eligible.len())
                .map(|k| (cursor + k) % eligible.len())
                .find(|&i| self.role_fits(&eligible[i], agent) && !self.filtered(&eligible[i], agent));
            let Some(i) = pick else { continue };
            cursor = (i + 1) % eligible.len();
            let offer = self.make_offer(now, &eligible[i], agent);
            batches.entry(eligible[i].clone()).or_default().push(offer);
        }
        self.allocation_cursor = cursor;
        for (fw, offers) in batches {
            let event = Event {
                r#type: Some(event::Type::Offers as i32),
                offers: Some(event::Offers { offers }),
                ..Default::default()
            };
            self.send(&fw, event);
        }
    }

    /// Whether the framework may get the agent's resources: role `*`, or a framework role
    /// (not suppressed) that the agent's resources are reserved for.
    fn role_fits(&self, fw: &str, agent: usize) -> bool {
        let role = &self.agents[agent].role;
        role == "*" || self.frameworks.get(fw).is_some_and(|f| f.roles.contains(role) && !f.suppressed.contains(role))
    }

    fn filtered(&self, fw: &str, agent: usize) -> bool {
        let free = &self.agents[agent].free;
        self.frameworks.get(fw).is_some_and(|f| f.filters.iter().any(|x| x.agent == agent && x.refused.contains(free)))
    }

    fn make_offer(&mut self, now: Duration, fw: &str, agent: usize) -> v1::Offer {
        let id = format!("{}-O{}", self.master_id, self.next_offer);
        self.next_offer += 1;
        let resources = std::mem::take(&mut self.agents[agent].free);
        let reserved = (self.agents[agent].role != "*").then(|| self.agents[agent].role.clone());
        let (role, multi_role) = match self.frameworks.get(fw) {
            Some(f) => {
                let first = || f.roles.iter().find(|r| !f.suppressed.contains(*r)).cloned().unwrap_or_default();
                (reserved.unwrap_or_else(first), f.multi_role())
            }
            None => (String::new(), false),
        };
        let allocation_role = multi_role.then_some(role.as_str());
        let a = &self.agents[agent];
        let ip = self.master_info.address.as_ref().and_then(|x| x.ip.clone());
        let proto = v1::Offer {
            id: v1::OfferId { value: id.clone() },
            framework_id: v1::FrameworkId { value: fw.to_owned() },
            agent_id: v1::AgentId { value: a.id.clone() },
            hostname: a.config.hostname.clone(),
            url: Some(v1::Url {
                scheme: "http".into(),
                address: v1::Address { hostname: Some(a.config.hostname.clone()), ip, port: i32::from(a.port) },
                path: Some("/slave(1)".into()),
                ..Default::default()
            }),
            resources: a.protos(&resources, allocation_role),
            attributes: a.attributes.clone(),
            executor_ids: a
                .executors
                .keys()
                .filter(|(framework, _)| framework == fw)
                .map(|(_, executor)| v1::ExecutorId { value: executor.clone() })
                .collect(),
            allocation_info: allocation_role.map(|r| v1::resource::AllocationInfo { role: Some(r.to_owned()) }),
            ..Default::default()
        };
        let expires = self.config.offer_timeout.map(|t| now + t);
        if let Some(at) = expires {
            self.timers.insert((at, Timer::OfferTimeout(id.clone())));
        }
        let rec = OfferRec { framework: fw.to_owned(), agent, resources, expires, proto: proto.clone() };
        self.offers.insert(id, rec);
        proto
    }

    /// Removes an offer and gives its resources back to the agent (if it is still there).
    pub(crate) fn take_back_offer(&mut self, id: &str) -> Option<OfferRec> {
        let offer = self.offers.remove(id)?;
        if let Some(agent) = self.agents.get_mut(offer.agent).filter(|a| a.reachable) {
            agent.free.add(&offer.resources);
        }
        Some(offer)
    }

    /// Withdraws an offer, telling its framework with RESCIND.
    pub(crate) fn rescind(&mut self, now: Duration, id: &str) {
        if let Some(offer) = self.take_back_offer(id) {
            self.send(&offer.framework, rescind_event(id));
            self.request_allocation(now);
        }
    }

    /// Takes back every offer of a framework, with RESCIND events when `tell` is set.
    pub(crate) fn recover_offers_of(&mut self, now: Duration, fw: &str, tell: bool) {
        let ids: Vec<String> =
            self.offers.iter().filter(|(_, o)| o.framework == fw).map(|(id, _)| id.clone()).collect();
        for id in &ids {
            self.take_back_offer(id);
            if tell {
                self.send(fw, rescind_event(id));
            }
        }
        if !ids.is_empty() {
            self.request_allocation(now);
        }
    }

    pub(crate) fn decline(&mut self, now: Duration, fw: &str, ids: &[v1::OfferId], filters: Option<&v1::Filters>) {
        for id in ids {
            if self.offers.get(&id.value).is_some_and(|o| o.framework == fw) {
                if let Some(offer) = self.take_back_offer(&id.value) {
                    self.add_filter(now, fw, offer.agent, offer.resources, filters);
                }
            }
        }
        self.request_allocation(now);
    }

    fn add_filter(&mut self, now: Duration, fw: &str, agent: usize, refused: Resources, filters: Option<&v1::Filters>) {
        let Some(duration) = refuse_duration(filters) else { return };
        if refused.is_empty() {
            return;
        }
        let until = now + duration;
        if let Some(f) = self.frameworks.get_mut(fw) {
            f.filters.push(Filter { agent, refused, until });
            self.timers.insert((until, Timer::FilterExpiry));
        }
    }

    pub(crate) fn revive(&mut self, now: Duration, fw: &str, roles: &[String]) {
        if let Some(f) = self.frameworks.get_mut(fw) {
            if roles.is_empty() {
                f.suppressed.clear();
            } else {
                f.suppressed.retain(|r| !roles.contains(r));
            }
            f.filters.clear();
        }
        self.request_allocation(now);
    }

    pub(crate) fn suppress(&mut self, fw: &str, roles: &[String]) {
        if let Some(f) = self.frameworks.get_mut(fw) {
            let roles = if roles.is_empty() { f.roles.clone() } else { roles.to_vec() };
            f.suppressed.extend(roles);
        }
    }

    pub(crate) fn accept(&mut self, now: Duration, fw: &str, accept: call::Accept) {
        let ids: Vec<String> = accept.offer_ids.iter().map(|o| o.value.clone()).collect();
        if let Some(error) = self.offers_error(fw, &ids) {
            for id in &ids {
                if self.offers.get(id).is_some_and(|o| o.framework == fw) {
                    self.take_back_offer(id);
                }
            }
            let partition_aware = self.frameworks.get(fw).is_some_and(|f| f.partition_aware());
            let state = if partition_aware { v1::TaskState::TaskDropped } else { v1::TaskState::TaskLost };
            let message = format!("Task launched with invalid offers: {error}");
            for task in launched_tasks(&accept.operations) {
                let status = self.master_status(
                    task.task_id.value.clone(),
                    Some(task.agent_id.value.clone()),
                    state,
                    v1::task_status::Reason::InvalidOffers,
                    &message,
                );
                self.send_master_update(fw, status);
            }
            self.request_allocation(now);
            return;
        }
        let agent = self.offers.get(&ids[0]).map_or(0, |o| o.agent);
        let mut available = Resources::default();
        for id in &ids {
            if let Some(offer) = self.offers.remove(id) {
                available.add(&offer.resources);
            }
        }
        for op in accept.operations {
            match v1::offer::operation::Type::try_from(op.r#type.unwrap_or(0)) {
                Ok(v1::offer::operation::Type::Launch) => {
                    for task in op.launch.unwrap_or_default().task_infos {
                        self.launch(now, fw, agent, &mut available, vec![task], None);
                    }
                }
                Ok(v1::offer::operation::Type::LaunchGroup) => {
                    if let Some(group) = op.launch_group {
                        self.launch(now, fw, agent, &mut available, group.task_group.tasks, Some(group.executor));
                    }
                }
                // Reservations, volumes and disks are not simulated: the operation is dropped.
                _ => {}
            }
        }
        if let Some(a) = self.agents.get_mut(agent).filter(|a| a.reachable) {
            a.free.add(&available);
            self.add_filter(now, fw, agent, available, accept.filters.as_ref());
        }
        self.request_allocation(now);
    }

    /// Why the offers of an ACCEPT cannot be used, in the real master's words.
    fn offers_error(&self, fw: &str, ids: &[String]) -> Option<String> {
        if ids.is_empty() {
            return Some("No offers specified".into());
        }
        let mut agent = None;
        for (i, id) in ids.iter().enumerate() {
            if ids[..i].contains(id) {
                return Some(format!("Duplicate offer {id} in accept"));
            }
            let Some(offer) = self.offers.get(id) else { return Some(format!("Offer {id} is no longer valid")) };
            if offer.framework != fw {
                return Some(format!(
                    "Offer {id} has invalid framework {} while framework {fw} is expected",
                    offer.framework
                ));
            }
            if agent.is_some_and(|a| a != offer.agent) {
                return Some("Aggregated offers must belong to one single agent".into());
            }
            agent = Some(offer.agent);
        }
        None
    }

    /// Launches tasks (one task of LAUNCH, or a whole task group) out of `available`, or
    /// answers each with a master-generated TASK_ERROR.
    fn launch(
        &mut self,
        now: Duration,
        fw: &str,
        agent: usize,
        available: &mut Resources,
        tasks: Vec<v1::TaskInfo>,
        group_executor: Option<v1::ExecutorInfo>,
    ) {
        let group = group_executor.is_some();
        let mut left = available.clone();
        let mut new_executors: Vec<v1::ExecutorInfo> = Vec::new();
        let mut planned = Vec::new();
        let mut error = group_executor.as_ref().and_then(executor_too_small);
        for task in tasks.iter().filter(|_| error.is_none()) {
            let executor = group_executor.as_ref().or(task.executor.as_ref());
            match self.check_task(fw, agent, task, executor, group, &left, &new_executors, &planned) {
                Ok((resources, executor_resources)) => {
                    if let (Some(exec), Some(exec_res)) = (executor, &executor_resources) {
                        left.subtract(exec_res);
                        new_executors.push(exec.clone());
                    }
                    left.subtract(&resources);
                    planned.push((task.task_id.value.clone(), resources, executor_resources));
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        if let Some(error) = error {
            let reason =
                if group { v1::task_status::Reason::TaskGroupInvalid } else { v1::task_status::Reason::TaskInvalid };
            for task in &tasks {
                let status = self.master_status(
                    task.task_id.value.clone(),
                    Some(task.agent_id.value.clone()),
                    v1::TaskState::TaskError,
                    reason,
                    &error,
                );
                self.send_master_update(fw, status);
            }
            return;
        }
        *available = left;
        for (task, (_, resources, executor_resources)) in tasks.iter().zip(planned) {
            let executor = group_executor.as_ref().or(task.executor.as_ref());
            if let Some(exec) = executor {
                let key = (fw.to_owned(), exec.executor_id.value.clone());
                let entry = self.agents[agent].executors.entry(key).or_insert_with(|| Executor {
                    info: exec.clone(),
                    resources: Resources::default(),
                    live: 0,
                });
                if let Some(r) = executor_resources {
                    entry.resources = r;
                }
                entry.live += 1;
            }
            let executor = executor.map(|e| e.executor_id.value.clone());
            self.start_task(now, fw, agent, task, resources, executor);
        }
        if self.agents[agent].is_remote() {
            self.send_launch(fw, agent, tasks, group_executor);
        }
    }

    /// The task's resources, plus its executor's when the executor is new on the agent.
    #[allow(clippy::too_many_arguments)]
    fn check_task(
        &self,
        fw: &str,
        agent: usize,
        task: &v1::TaskInfo,
        executor: Option<&v1::ExecutorInfo>,
        group: bool,
        left: &Resources,
        new_executors: &[v1::ExecutorInfo],
        planned: &[(String, Resources, Option<Resources>)],
    ) -> Result<(Resources, Option<Resources>), String> {
        let id = &task.task_id.value;
        if id.is_empty() {
            return Err("Task ID must not be empty".into());
        }
        let known = self.frameworks.get(fw).is_some_and(|f| f.tasks.contains_key(id));
        if known || planned.iter().any(|(t, _, _)| t == id) {
            return Err(format!("Task has duplicate ID: {id}"));
        }
        let agent_id = &self.agents[agent].id;
        if &task.agent_id.value != agent_id {
            return Err(format!("Task uses invalid agent: {}", task.agent_id.value));
        }
        if !group && task.command.is_some() == task.executor.is_some() {
            return Err("Task should have at least one (but not both) of CommandInfo or ExecutorInfo present".into());
        }
        let resources = Resources::from_protos(&task.resources)?;
        let executor_resources = match executor {
            Some(e) => {
                let exec = &e.executor_id.value;
                let running = self.agents[agent].executors.get(&(fw.to_owned(), exec.clone())).map(|x| &x.info);
                let existing = running.or_else(|| new_executors.iter().find(|x| x.executor_id == e.executor_id));
                match existing {
                    Some(existing) if !same_executor(existing, e) => {
                        return Err(format!(
                            "ExecutorInfo of executor '{exec}' differs from the one already running under that id on \
                             the agent"
                        ));
                    }
                    Some(_) => None,
                    None => Some(Resources::from_protos(&e.resources)?),
                }
            }
            None => None,
        };
        let mut needed = resources.clone();
        if let Some(r) = &executor_resources {
            needed.add(r);
        }
        if !left.contains(&needed) {
            return Err(match executor_resources {
                Some(_) => "Task and its new executor use more resources than available in the offers".into(),
                None => "Task uses more resources than available in the offers".into(),
            });
        }
        Ok((resources, executor_resources))
    }
}

/// Whether two `ExecutorInfo`s describe the same executor (the framework id, which the
/// master fills in, left aside).
fn same_executor(a: &v1::ExecutorInfo, b: &v1::ExecutorInfo) -> bool {
    let strip = |e: &v1::ExecutorInfo| v1::ExecutorInfo { framework_id: None, ..e.clone() };
    strip(a) == strip(b)
}

/// Why a task group's executor holds too little, in the real master's words: Mesos asks at
/// least 0.01 cpus and 32 MB of memory of it.
fn executor_too_small(executor: &v1::ExecutorInfo) -> Option<String> {
    let held = Resources::from_protos(&executor.resources).unwrap_or_default();
    let id = &executor.executor_id.value;
    let (cpus, mem) = (held.scalar("cpus"), held.scalar("mem"));
    if cpus < 0.01 {
        return Some(format!("Executor '{id}' uses less CPUs ({cpus}) than the minimum required (0.01)"));
    }
    (mem < 32.0).then(|| format!("Executor '{id}' uses less memory ({mem}) than the minimum required (32MB)"))
}

/// Whether an agent's free resources are worth offering (Mesos' minimum allocatable
/// resources: 0.01 cpus or 32 MB of memory).
fn offerable(free: &Resources) -> bool {
    free.scalar("cpus") >= 0.01 || free.scalar("mem") >= 32.0
}

/// How long a filter lasts; `None` for none.
fn refuse_duration(filters: Option<&v1::Filters>) -> Option<Duration> {
    let secs = filters.map_or(5.0, v1::Filters::refuse_seconds);
    let secs = if secs.is_nan() || secs < 0.0 { 5.0 } else { secs.min(MAX_REFUSE_SECONDS) };
    (secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

fn rescind_event(id: &str) -> Event {
    Event {
        r#type: Some(event::Type::Rescind as i32),
        rescind: Some(event::Rescind { offer_id: v1::OfferId { value: id.to_owned() } }),
        ..Default::default()
    }
}

/// Every task of the LAUNCH and LAUNCH_GROUP operations.
fn launched_tasks(ops: &[v1::offer::Operation]) -> Vec<&v1::TaskInfo> {
    let mut out = Vec::new();
    for op in ops {
        if let Some(launch) = &op.launch {
            out.extend(&launch.task_infos);
        }
        if let Some(group) = &op.launch_group {
            out.extend(&group.task_group.tasks);
        }
    }
    out
}
