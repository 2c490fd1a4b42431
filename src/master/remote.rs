//! The private agent API (`POST /api/offerpack/agent`, package `offerpack.agent`): agent
//! processes register, ping, forward their tasks' status updates and report ended executors;
//! the master sends them REGISTERED, HEARTBEAT, LAUNCH, KILL and SHUTDOWN_FRAMEWORK on their
//! REGISTER stream. Sans-IO like the rest of the core: the shell hands calls in with `now` and
//! writes [`Output::Agent`] events.
//!
//! Tasks on an agent process have no simulated timing: their states come only from the
//! agent's UPDATE calls, which the master delivers reliably to the framework with the agent's
//! uuid (duplicates by uuid are dropped). An agent that makes no call for
//! [`MasterConfig::agent_timeout`](super::MasterConfig::agent_timeout) is lost as a simulated
//! agent is ([`MasterCore::handle_lose_agent`]) and its stream closed; it is then removed for
//! good (re-registration with its id: 403, other calls: 404).

use std::collections::BTreeSet;
use std::time::Duration;

use super::agents::{Agent, RemoteAgent};
use super::config::AgentConfig;
use super::resources::Resources;
use super::state::{MasterCore, Output, StreamKey, Timer};
use super::tasks::{is_terminal, EPOCH_AT_START};
use crate::mesos::agent_api::{self, call, event};
use crate::mesos::v1::{self, TaskState};

/// The path of the private agent API on the master.
pub const AGENT_API_PATH: &str = "/api/offerpack/agent";

/// The answer to an agent API call, i.e. the HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentAnswer {
    /// `200 OK` streaming [`Output::Agent`] events: REGISTER was taken.
    Registered {
        /// The stream the core will send the agent's events on.
        stream: StreamKey,
        /// The agent's id (as in the REGISTERED event).
        agent_id: String,
    },
    /// `202 Accepted` (PING, UPDATE, EXECUTOR_EXITED).
    Accepted,
    /// An error status (400, 403, 404) with a text body.
    Rejected {
        /// The HTTP status code.
        status: u16,
        /// The body.
        message: String,
    },
}

fn rejected(status: u16, message: impl Into<String>) -> AgentAnswer {
    AgentAnswer::Rejected { status, message: message.into() }
}

fn agent_event(kind: event::Type) -> agent_api::Event {
    agent_api::Event { r#type: Some(kind as i32), ..Default::default() }
}

/// The one role of an agent's resources (`*` when none is named), or why there is none.
fn single_role(resources: &[v1::Resource]) -> Result<String, String> {
    #[allow(deprecated)]
    let roles: BTreeSet<String> = resources
        .iter()
        .map(|r| r.reservations.last().and_then(|x| x.role.clone()).or_else(|| r.role.clone()))
        .map(|role| role.unwrap_or_else(|| "*".to_owned()))
        .collect();
    match roles.len() {
        0 => Ok("*".to_owned()),
        1 => Ok(roles.into_iter().next().unwrap_or_default()),
        _ => Err(format!("All resources of an agent must have one role, not {roles:?}")),
    }
}

impl MasterCore {
    /// Handles an agent API call that arrived at `now`: REGISTER (see
    /// [`MasterCore::handle_agent_register`]), PING, UPDATE or EXECUTOR_EXITED (202, or 404
    /// "Agent … is not registered" for an unknown or removed agent; 400 for a malformed call).
    /// Any call from a registered agent counts as a ping.
    pub fn handle_agent_call(&mut self, now: Duration, c: agent_api::Call) -> AgentAnswer {
        if !self.leading {
            return rejected(503, super::Unavailable::NoLeader.text());
        }
        let kind = c.r#type.and_then(|t| call::Type::try_from(t).ok()).unwrap_or(call::Type::Unknown);
        if kind == call::Type::Register {
            return match c.register {
                Some(register) => self.handle_agent_register(now, register),
                None => rejected(400, "Expecting 'register' to be present"),
            };
        }
        if kind == call::Type::Unknown {
            return rejected(400, "Expecting 'type' to be present");
        }
        let Some(id) = c.agent_id else { return rejected(400, "Expecting 'agent_id' to be present") };
        let Some(agent) = self.agents.iter().position(|a| a.id == id.value && a.is_remote() && a.reachable) else {
            return rejected(404, format!("Agent {} is not registered", id.value));
        };
        self.touch_agent(now, agent);
        match kind {
            call::Type::Update => match c.update {
                Some(update) => self.agent_update(now, agent, update),
                None => rejected(400, "Expecting 'update' to be present"),
            },
            call::Type::ExecutorExited => match c.executor_exited {
                Some(exited) => {
                    self.executor_exited(now, agent, &exited.framework_id.value, &exited.executor_id.value);
                    AgentAnswer::Accepted
                }
                None => rejected(400, "Expecting 'executor_exited' to be present"),
            },
            _ => AgentAnswer::Accepted,
        }
    }

    /// Registers an agent process: without `agent_info.id` a new agent with a fresh id; with
    /// the id of an agent the master still has, the same agent on a new stream (its old stream
    /// is closed; its tasks the agent no longer lists end TASK_LOST, or TASK_DROPPED for
    /// PARTITION_AWARE frameworks; listed tasks of removed frameworks get SHUTDOWN_FRAMEWORK).
    /// With an id the master never knew, while the re-registration window of a master that came
    /// to lead is open, the agent of an earlier leader is adopted with what it runs (see
    /// `leadership`). Answers 200 with REGISTERED first on the stream; 403 "Agent `<id>` was
    /// removed; register without an id" for an id the master removed or never knew (outside
    /// that window); 400 for a missing hostname or port, bad resources, or resources of more
    /// than one role.
    pub fn handle_agent_register(&mut self, now: Duration, register: call::Register) -> AgentAnswer {
        let info = register.agent_info.clone();
        let port = match info.port.map(u16::try_from) {
            Some(Ok(port)) if port > 0 => port,
            _ => return rejected(400, "Expecting 'agent_info.port' to be a port number"),
        };
        if info.hostname.is_empty() {
            return rejected(400, "Expecting 'agent_info.hostname' to be present");
        }
        let total = match Resources::from_protos(&info.resources) {
            Ok(total) => total,
            Err(e) => return rejected(400, e),
        };
        let role = match single_role(&info.resources) {
            Ok(role) => role,
            Err(e) => return rejected(400, e),
        };
        let mut adopted = false;
        let agent = match &info.id {
            Some(id) => {
                let known = self.agents.iter().position(|a| a.id == id.value && a.is_remote() && a.reachable);
                match known {
                    Some(agent) => {
                        if let Some(old) = self.agents[agent].remote.as_mut().and_then(|r| r.stream.take()) {
                            self.out.push_back(Output::Close { stream: old });
                        }
                        agent
                    }
                    None if self.may_adopt(now, &id.value) => {
                        adopted = true;
                        self.new_remote_agent(now, id.value.clone(), total, role)
                    }
                    None => return rejected(403, format!("Agent {} was removed; register without an id", id.value)),
                }
            }
            None => {
                let id = self.new_agent_id();
                self.new_remote_agent(now, id, total, role)
            }
        };
        let a = &mut self.agents[agent];
        a.config.hostname = info.hostname.clone();
        a.port = port;
        a.attributes = info.attributes;
        let stream = self.new_stream_key();
        let ping = self.config.agent_ping_interval.max(Duration::from_millis(1));
        if let Some(remote) = self.agents[agent].remote.as_mut() {
            remote.stream = Some(stream);
            remote.next_heartbeat = Some(now + ping);
        }
        self.timers.insert((now + ping, Timer::AgentHeartbeat(agent)));
        self.touch_agent(now, agent);
        let agent_id = self.agents[agent].id.clone();
        let mut registered = agent_event(event::Type::Registered);
        registered.registered = Some(event::Registered {
            agent_id: v1::AgentId { value: agent_id.clone() },
            ping_interval_seconds: ping.as_secs_f64(),
            agent_timeout_seconds: self.config.agent_timeout.as_secs_f64(),
        });
        self.out.push_back(Output::Agent { stream, event: registered });
        if adopted {
            self.adopt_running(agent, &register);
        } else if info.id.is_some() {
            self.reconcile_agent(now, agent, &register.tasks);
        }
        self.request_allocation(now);
        AgentAnswer::Registered { stream, agent_id }
    }

    /// Adds an agent process with `id` and `total` resources of `role`; its index.
    fn new_remote_agent(&mut self, now: Duration, id: String, total: Resources, role: String) -> usize {
        let config = AgentConfig { disk: 0.0, ports: Vec::new(), ..AgentConfig::new("", 0.0, 0.0) };
        let mut a = Agent::simulated(id, &config);
        a.free = total.clone();
        a.total = total;
        a.role = role;
        a.remote = Some(RemoteAgent { stream: None, last_seen: now, next_heartbeat: None });
        self.agents.push(a);
        self.agents.len() - 1
    }

    /// `<master id>-S<n>` for the smallest `n` from the agent count that no agent has (an
    /// adopted agent of an earlier leader may have one).
    fn new_agent_id(&self) -> String {
        (self.agents.len()..)
            .map(|n| format!("{}-S{n}", self.master_id))
            .find(|id| self.agents.iter().all(|a| a.id != *id))
            .unwrap_or_default()
    }

    /// Notes a call from the agent and arms its loss timer.
    fn touch_agent(&mut self, now: Duration, agent: usize) {
        if let Some(remote) = self.agents[agent].remote.as_mut() {
            remote.last_seen = now;
            self.timers.insert((now + self.config.agent_timeout, Timer::AgentTimeout(agent)));
        }
    }

    /// Compares what a re-registering agent runs with what the master holds on it.
    fn reconcile_agent(&mut self, now: Duration, agent: usize, tasks: &[v1::Task]) {
        let listed: BTreeSet<(&str, &str)> =
            tasks.iter().map(|t| (t.framework_id.value.as_str(), t.task_id.value.as_str())).collect();
        let agent_id = self.agents[agent].id.clone();
        let fws: Vec<String> = self.frameworks.keys().cloned().collect();
        for fw in &fws {
            let Some(f) = self.frameworks.get_mut(fw) else { continue };
            let state = if f.partition_aware() { TaskState::TaskDropped } else { TaskState::TaskLost };
            let missing: Vec<String> = f
                .tasks
                .iter()
                .filter(|(id, t)| t.agent == agent && !is_terminal(t.state) && !listed.contains(&(fw.as_str(), id)))
                .map(|(id, _)| id.clone())
                .collect();
            for id in missing {
                self.release(now, fw, &id);
                let reason = v1::task_status::Reason::Reconciliation;
                let status = self.master_status(
                    id.clone(),
                    Some(agent_id.clone()),
                    state,
                    reason,
                    "Task is unknown to the agent",
                );
                if let Some(mut task) = self.frameworks.get_mut(fw).and_then(|f| f.tasks.remove(&id)) {
                    task.proto.state = state as i32;
                    super::operator::record_status(&mut task.proto, &status);
                    if let Some(f) = self.frameworks.get_mut(fw) {
                        f.history.add_completed(task.proto);
                    }
                }
                self.send_master_update(fw, status);
            }
        }
        let gone: BTreeSet<&str> =
            tasks.iter().map(|t| t.framework_id.value.as_str()).filter(|f| !self.frameworks.contains_key(*f)).collect();
        for fw in gone {
            self.send_shutdown_framework(agent, fw);
        }
    }

    /// An UPDATE from an agent process: delivered reliably with the agent's uuid, once.
    fn agent_update(&mut self, now: Duration, agent: usize, update: call::Update) -> AgentAnswer {
        let fw = update.framework_id.value;
        let mut status = update.status;
        let Some(uuid) = status.uuid.clone().filter(|u| u.len() == 16) else {
            return rejected(400, "Expecting 'update.status.uuid' of 16 bytes");
        };
        let Ok(state) = TaskState::try_from(status.state) else {
            return rejected(400, format!("Unknown task state {}", status.state));
        };
        if !self.frameworks.contains_key(&fw) {
            // The framework is gone: the agent is to stop what it runs for it.
            self.send_shutdown_framework(agent, &fw);
            return AgentAnswer::Accepted;
        }
        let id = status.task_id.value.clone();
        let Some(task) = self.frameworks.get_mut(&fw).and_then(|f| f.tasks.get_mut(&id)) else {
            return AgentAnswer::Accepted; // a task already forgotten: nothing to deliver
        };
        if task.agent != agent || is_terminal(task.state) || !task.agent_uuids.insert(uuid) {
            return AgentAnswer::Accepted; // a duplicate, or an update after the end
        }
        task.state = state;
        status.agent_id = Some(v1::AgentId { value: self.agents[agent].id.clone() });
        if status.timestamp.is_none() {
            status.timestamp = Some(EPOCH_AT_START + now.as_secs_f64());
        }
        if is_terminal(state) {
            self.release(now, &fw, &id);
        }
        self.enqueue_status(now, &fw, &id, status);
        AgentAnswer::Accepted
    }

    /// An executor process ended: its resources are free again, and its tasks not yet ended
    /// fail (TASK_FAILED, SOURCE_AGENT, REASON_EXECUTOR_TERMINATED).
    fn executor_exited(&mut self, now: Duration, agent: usize, fw: &str, executor: &str) {
        let a = &mut self.agents[agent];
        let agent_id = a.id.clone();
        if let Some(exec) = a.executors.remove(&(fw.to_owned(), executor.to_owned())) {
            a.free.add(&exec.resources);
            self.request_allocation(now);
        }
        let Some(f) = self.frameworks.get(fw) else { return };
        let orphans: Vec<String> = f
            .tasks
            .iter()
            .filter(|(_, t)| t.agent == agent && t.executor.as_deref() == Some(executor) && !is_terminal(t.state))
            .map(|(id, _)| id.clone())
            .collect();
        for id in orphans {
            if let Some(t) = self.frameworks.get_mut(fw).and_then(|f| f.tasks.get_mut(&id)) {
                t.state = TaskState::TaskFailed;
            }
            self.release(now, fw, &id);
            let status = v1::TaskStatus {
                task_id: v1::TaskId { value: id.clone() },
                state: TaskState::TaskFailed as i32,
                message: Some("Executor terminated".to_owned()),
                source: Some(v1::task_status::Source::Agent as i32),
                reason: Some(v1::task_status::Reason::ExecutorTerminated as i32),
                agent_id: Some(v1::AgentId { value: agent_id.clone() }),
                executor_id: Some(v1::ExecutorId { value: executor.to_owned() }),
                timestamp: Some(EPOCH_AT_START + now.as_secs_f64()),
                uuid: Some(self.new_uuid().to_vec()),
                ..Default::default()
            };
            self.enqueue_status(now, fw, &id, status);
        }
    }

    /// The agent's HEARTBEAT timer fired.
    pub(crate) fn agent_heartbeat(&mut self, at: Duration, agent: usize) {
        let ping = self.config.agent_ping_interval.max(Duration::from_millis(1));
        let Some(a) = self.agents.get_mut(agent).filter(|a| a.reachable) else { return };
        let Some(remote) = a.remote.as_mut().filter(|r| r.next_heartbeat == Some(at)) else { return };
        let Some(stream) = remote.stream else { return };
        remote.next_heartbeat = Some(at + ping);
        self.timers.insert((at + ping, Timer::AgentHeartbeat(agent)));
        self.out.push_back(Output::Agent { stream, event: agent_event(event::Type::Heartbeat) });
    }

    /// The agent's loss timer fired: lost unless it called since.
    pub(crate) fn agent_timeout(&mut self, now: Duration, agent: usize) {
        let timeout = self.config.agent_timeout;
        let due = self
            .agents
            .get(agent)
            .and_then(|a| a.remote.as_ref().filter(|_| a.reachable))
            .is_some_and(|r| r.last_seen + timeout <= now);
        if due {
            self.handle_lose_agent(now, agent);
        }
    }

    /// Forgets an agent's stream when its connection is gone; true if it was an agent's.
    pub(crate) fn detach_agent_stream(&mut self, stream: StreamKey) -> bool {
        let remote = self.agents.iter_mut().filter_map(|a| a.remote.as_mut()).find(|r| r.stream == Some(stream));
        match remote {
            Some(r) => {
                r.stream = None;
                r.next_heartbeat = None;
                true
            }
            None => false,
        }
    }

    /// Closes a lost agent's stream.
    pub(crate) fn close_agent_stream(&mut self, agent: usize) {
        let remote = self.agents.get_mut(agent).and_then(|a| a.remote.as_mut());
        if let Some(stream) = remote.and_then(|r| {
            r.next_heartbeat = None;
            r.stream.take()
        }) {
            self.out.push_back(Output::Close { stream });
        }
    }

    /// Queues an event on an agent's stream; dropped without a stream (a re-registering agent
    /// lists what it runs, and the master reconciles).
    fn send_agent(&mut self, agent: usize, event: agent_api::Event) {
        if let Some(stream) = self.agents.get(agent).and_then(|a| a.remote.as_ref()).and_then(|r| r.stream) {
            self.out.push_back(Output::Agent { stream, event });
        }
    }

    pub(crate) fn send_shutdown_framework(&mut self, agent: usize, fw: &str) {
        let mut e = agent_event(event::Type::ShutdownFramework);
        e.shutdown_framework =
            Some(event::ShutdownFramework { framework_id: v1::FrameworkId { value: fw.to_owned() } });
        self.send_agent(agent, e);
    }

    /// SHUTDOWN_FRAMEWORK to every agent process running tasks or executors of `fw`.
    pub(crate) fn shutdown_framework_on_agents(&mut self, fw: &str) {
        let mut agents: BTreeSet<usize> = self
            .frameworks
            .get(fw)
            .map(|f| f.tasks.values().filter(|t| !is_terminal(t.state)).map(|t| t.agent).collect())
            .unwrap_or_default();
        for (i, a) in self.agents.iter().enumerate() {
            if a.executors.keys().any(|(f, _)| f == fw) {
                agents.insert(i);
            }
        }
        for agent in agents {
            if self.agents[agent].is_remote() {
                self.send_shutdown_framework(agent, fw);
            }
        }
    }

    /// LAUNCH on an agent process: one task, or a task group with its executor (set on every
    /// task too); executors carry the framework's id.
    pub(crate) fn send_launch(
        &mut self,
        fw: &str,
        agent: usize,
        mut tasks: Vec<v1::TaskInfo>,
        group: Option<v1::ExecutorInfo>,
    ) {
        let Some(f) = self.frameworks.get(fw) else { return };
        let framework_id = v1::FrameworkId { value: fw.to_owned() };
        let group = group.map(|e| v1::ExecutorInfo { framework_id: Some(framework_id.clone()), ..e });
        for task in &mut tasks {
            if let Some(e) = group.as_ref().or(task.executor.as_ref()) {
                task.executor = Some(v1::ExecutorInfo { framework_id: Some(framework_id.clone()), ..e.clone() });
            }
        }
        let mut e = agent_event(event::Type::Launch);
        e.launch = Some(event::Launch { framework_info: f.info.clone(), tasks, executor: group });
        self.send_agent(agent, e);
    }

    /// KILL on an agent process.
    pub(crate) fn send_kill(&mut self, fw: &str, agent: usize, task: &str, kill_policy: Option<v1::KillPolicy>) {
        let mut e = agent_event(event::Type::Kill);
        e.kill = Some(event::Kill {
            framework_id: v1::FrameworkId { value: fw.to_owned() },
            task_id: v1::TaskId { value: task.to_owned() },
            kill_policy,
        });
        self.send_agent(agent, e);
    }
}
