//! Simulated tasks: the life cycle STAGING → STARTING → RUNNING → FINISHED (or FAILED,
//! KILLED, LOST/UNREACHABLE), reliable status updates (16-byte uuid, one outstanding per
//! task, re-sent with the same uuid and a doubling interval until acknowledged), kills,
//! reconciliation, and agent loss.
//!
//! As on a real agent, a task's state moves on whether or not its updates are acknowledged;
//! the updates queue up behind the unacknowledged head, and the master's view (what
//! reconciliation answers) is the latest state. A task is forgotten once its terminal update
//! is acknowledged.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use super::ledger::LedgerEvent;
use super::operator::{record_status, task_record, task_snapshot};
use super::resources::Resources;
use super::state::{MasterCore, Timer};
use crate::mesos::v1::{self, scheduler::call, scheduler::event, scheduler::Event, TaskState};

/// `TaskStatus.timestamp` is this many seconds since the epoch plus the master's uptime.
pub(crate) const EPOCH_AT_START: f64 = 1_700_000_000.0;

/// The longest run a duration label may ask for (about 100 years).
const MAX_RUN: Duration = Duration::from_secs(3_200_000_000);

/// Task label overriding [`TaskTiming::run`](super::TaskTiming::run), in milliseconds or
/// `"forever"`.
pub const DURATION_LABEL: &str = "offerpack.sim/duration_ms";
/// Task label choosing the end: `"failed"` ends in TASK_FAILED, anything else TASK_FINISHED.
pub const EXIT_LABEL: &str = "offerpack.sim/exit";

#[derive(Debug)]
pub(crate) struct Task {
    pub(crate) agent: usize,
    pub(crate) resources: Resources,
    pub(crate) executor: Option<String>,
    pub(crate) state: TaskState,
    /// Resources returned to the agent (the task reached a terminal state).
    pub(crate) released: bool,
    /// What the operator API reports (its `state` is kept in `state`).
    pub(crate) proto: v1::Task,
    next_step: Option<Duration>,
    run_for: Option<Duration>,
    exit: TaskState,
    /// Reliable updates not yet acknowledged; the head is the one being sent.
    updates: VecDeque<v1::TaskStatus>,
    retry_at: Option<Duration>,
    retry_interval: Duration,
    /// Uuids of the updates an agent process sent for this task (duplicates are dropped).
    pub(crate) agent_uuids: BTreeSet<Vec<u8>>,
}

impl Task {
    /// A task an agent process of an earlier leader runs, as it listed it at re-registration:
    /// moved on only by that agent's updates.
    pub(crate) fn adopted(
        agent: usize,
        resources: Resources,
        executor: Option<String>,
        state: TaskState,
        proto: v1::Task,
        retry_min: Duration,
    ) -> Task {
        Task {
            agent,
            resources,
            executor,
            state,
            released: false,
            proto,
            next_step: None,
            run_for: None,
            exit: TaskState::TaskFinished,
            updates: VecDeque::new(),
            retry_at: None,
            retry_interval: retry_min,
            agent_uuids: BTreeSet::new(),
        }
    }
}

pub(crate) fn is_terminal(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::TaskFinished
            | TaskState::TaskFailed
            | TaskState::TaskKilled
            | TaskState::TaskError
            | TaskState::TaskLost
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator
    )
}

fn label<'a>(task: &'a v1::TaskInfo, key: &str) -> Option<&'a str> {
    task.labels.as_ref()?.labels.iter().find(|l| l.key == key)?.value.as_deref()
}

impl MasterCore {
    /// A duration with the configured relative jitter drawn from the seeded rng.
    fn jitter(&mut self, d: Duration) -> Duration {
        let j = self.config.tasks.jitter.clamp(0.0, 1.0);
        d.mul_f64((1.0 + j * (2.0 * self.rng.unit() - 1.0)).max(0.0))
    }

    pub(crate) fn start_task(
        &mut self,
        now: Duration,
        fw: &str,
        agent: usize,
        info: &v1::TaskInfo,
        resources: Resources,
        executor: Option<String>,
    ) {
        let run_for = match label(info, DURATION_LABEL) {
            Some("forever") => None,
            Some(ms) => match ms.trim().parse::<u64>() {
                Ok(ms) => Some(Duration::from_millis(ms).min(MAX_RUN)),
                Err(_) => self.config.tasks.run,
            },
            None => self.config.tasks.run,
        };
        self.launched += 1;
        let nth_fails = self.config.faults.fail_every.is_some_and(|k| self.launched % u64::from(k.get()) == 0);
        let exit = match nth_fails || label(info, EXIT_LABEL) == Some("failed") {
            true => TaskState::TaskFailed,
            false => TaskState::TaskFinished,
        };
        let staging = self.config.tasks.staging;
        let at = now + self.jitter(staging);
        let next_step = (!self.agents[agent].is_remote()).then_some(at);
        let task = Task {
            agent,
            resources,
            executor,
            state: TaskState::TaskStaging,
            released: false,
            next_step,
            run_for,
            exit,
            updates: VecDeque::new(),
            retry_at: None,
            retry_interval: self.config.status_update_retry_min,
            agent_uuids: BTreeSet::new(),
            proto: task_record(fw, info),
        };
        let id = info.task_id.value.clone();
        self.ledger(fw, &id, agent, LedgerEvent::Launched);
        // A task on an agent process moves only by the agent's updates.
        let simulated = !self.agents[agent].is_remote();
        if let Some(f) = self.frameworks.get_mut(fw) {
            f.tasks.insert(id.clone(), task);
            if simulated {
                self.timers.insert((at, Timer::TaskStep(fw.to_owned(), id.clone())));
            }
            if self.config.send_staging_updates {
                self.enqueue_update(now, fw, &id, TaskState::TaskStaging, None, None);
            }
        }
    }

    /// The next step of a task's life, when its timer fires.
    pub(crate) fn task_step(&mut self, now: Duration, at: Duration, fw: &str, id: &str) {
        let Some(task) = self.frameworks.get(fw).and_then(|f| f.tasks.get(id)) else { return };
        if task.next_step != Some(at) {
            return;
        }
        let (next, after) = match task.state {
            TaskState::TaskStaging => (TaskState::TaskStarting, Some(self.config.tasks.starting)),
            TaskState::TaskStarting => (TaskState::TaskRunning, task.run_for),
            TaskState::TaskRunning => (task.exit, None),
            _ => return,
        };
        let next_at = after.map(|d| now + self.jitter(d));
        if let Some(task) = self.frameworks.get_mut(fw).and_then(|f| f.tasks.get_mut(id)) {
            task.state = next;
            task.next_step = next_at;
        }
        if let Some(t) = next_at {
            self.timers.insert((t, Timer::TaskStep(fw.to_owned(), id.to_owned())));
        }
        let message = match next {
            TaskState::TaskFinished => Some("Command exited with status 0".to_owned()),
            TaskState::TaskFailed => Some("Command exited with status 1".to_owned()),
            _ => None,
        };
        let reason = (next == TaskState::TaskFailed).then_some(v1::task_status::Reason::CommandExecutorFailed);
        if is_terminal(next) {
            self.release(now, fw, id);
        }
        self.enqueue_update(now, fw, id, next, reason, message);
    }

    /// Returns a task's resources to the agent, and its executor's with its last task on a
    /// simulated agent (an agent process frees an executor's on EXECUTOR_EXITED).
    pub(crate) fn release(&mut self, now: Duration, fw: &str, id: &str) {
        let Some(task) = self.frameworks.get_mut(fw).and_then(|f| f.tasks.get_mut(id)) else { return };
        if task.released {
            return;
        }
        task.released = true;
        let state = task.state;
        *self.ended.entry(state as i32).or_insert(0) += 1;
        let (agent, resources, executor) = (task.agent, task.resources.clone(), task.executor.clone());
        self.ledger(fw, id, agent, LedgerEvent::Ended(state));
        self.give_back(fw, agent, &resources, executor.as_deref());
        self.request_allocation(now);
    }

    fn give_back(&mut self, fw: &str, agent: usize, resources: &Resources, executor: Option<&str>) {
        let Some(a) = self.agents.get_mut(agent).filter(|a| a.reachable) else { return };
        a.free.add(resources);
        let simulated = !a.is_remote();
        if let Some(exec) = executor {
            let key = (fw.to_owned(), exec.to_owned());
            if let Some(e) = a.executors.get_mut(&key) {
                e.live = e.live.saturating_sub(1);
                if e.live == 0 && simulated {
                    let exec_res = std::mem::take(&mut e.resources);
                    a.free.add(&exec_res);
                    a.executors.remove(&key);
                }
            }
        }
    }

    /// Frees a task being dropped with its framework (no update is sent).
    pub(crate) fn release_task(&mut self, fw: &str, id: &str, task: &Task) {
        if !task.released {
            self.ledger(fw, id, task.agent, LedgerEvent::Ended(TaskState::TaskKilled));
            self.give_back(fw, task.agent, &task.resources, task.executor.as_deref());
        }
    }

    /// Queues a reliable (uuid-carrying) update from the executor; sends it at once when no
    /// other update of the task is outstanding.
    fn enqueue_update(
        &mut self,
        now: Duration,
        fw: &str,
        id: &str,
        state: TaskState,
        reason: Option<v1::task_status::Reason>,
        message: Option<String>,
    ) {
        let uuid = self.new_uuid().to_vec();
        let timestamp = self.timestamp(now);
        let Some(task) = self.frameworks.get(fw).and_then(|f| f.tasks.get(id)) else { return };
        let source = if state == TaskState::TaskStaging {
            v1::task_status::Source::Agent
        } else {
            v1::task_status::Source::Executor
        };
        let status = v1::TaskStatus {
            task_id: v1::TaskId { value: id.to_owned() },
            state: state as i32,
            message,
            source: Some(source as i32),
            reason: reason.map(|r| r as i32),
            agent_id: Some(v1::AgentId { value: self.agents[task.agent].id.clone() }),
            executor_id: Some(v1::ExecutorId { value: task.executor.clone().unwrap_or_else(|| id.to_owned()) }),
            timestamp: Some(timestamp),
            uuid: Some(uuid),
            ..Default::default()
        };
        self.enqueue_status(now, fw, id, status);
    }

    /// Queues a reliable update as it is (its uuid kept); sends it at once when no other
    /// update of the task is outstanding.
    pub(crate) fn enqueue_status(&mut self, now: Duration, fw: &str, id: &str, status: v1::TaskStatus) {
        let Some(task) = self.frameworks.get_mut(fw).and_then(|f| f.tasks.get_mut(id)) else { return };
        task.updates.push_back(status);
        if task.updates.len() == 1 {
            self.deliver_head(now, fw, id);
        }
    }

    /// Sends the task's outstanding update and arms its retry; while the framework is
    /// disconnected the update waits, unsent and without a retry, for its next subscription.
    fn deliver_head(&mut self, now: Duration, fw: &str, id: &str) {
        let Some(f) = self.frameworks.get_mut(fw) else { return };
        let connected = f.conn.is_some();
        let Some(task) = f.tasks.get_mut(id) else { return };
        let Some(status) = task.updates.front().cloned() else { return };
        record_status(&mut task.proto, &status);
        if !connected {
            task.retry_at = None;
            return;
        }
        let at = now + task.retry_interval.max(Duration::from_millis(1));
        task.retry_at = Some(at);
        self.timers.insert((at, Timer::UpdateRetry(fw.to_owned(), id.to_owned())));
        self.send_update(fw, status);
    }

    /// Sends the outstanding updates that waited for `fw`'s subscription (made while it was
    /// disconnected); updates already sent on an earlier stream keep their retry timers.
    pub(crate) fn deliver_waiting(&mut self, now: Duration, fw: &str) {
        let Some(f) = self.frameworks.get(fw) else { return };
        let waiting: Vec<String> = f
            .tasks
            .iter()
            .filter(|(_, t)| !t.updates.is_empty() && t.retry_at.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        for id in waiting {
            self.deliver_head(now, fw, &id);
        }
    }

    pub(crate) fn retry_update(&mut self, now: Duration, at: Duration, fw: &str, id: &str) {
        let max = self.config.status_update_retry_max;
        let Some(task) = self.frameworks.get_mut(fw).and_then(|f| f.tasks.get_mut(id)) else { return };
        if task.retry_at != Some(at) {
            return;
        }
        task.retry_interval = (task.retry_interval * 2).min(max);
        self.deliver_head(now, fw, id);
    }

    fn send_update(&mut self, fw: &str, status: v1::TaskStatus) {
        let event = Event {
            r#type: Some(event::Type::Update as i32),
            update: Some(event::Update { status }),
            ..Default::default()
        };
        if self.duplicate_updates && event.update.as_ref().is_some_and(|u| u.status.uuid.is_some()) {
            self.send(fw, event.clone());
        }
        self.send(fw, event);
    }

    /// Sends a master-generated update (no uuid: not retried, must not be acknowledged).
    pub(crate) fn send_master_update(&mut self, fw: &str, status: v1::TaskStatus) {
        self.send_update(fw, status);
    }

    pub(crate) fn master_status(
        &self,
        task: String,
        agent: Option<String>,
        state: TaskState,
        reason: v1::task_status::Reason,
        message: &str,
    ) -> v1::TaskStatus {
        v1::TaskStatus {
            task_id: v1::TaskId { value: task },
            state: state as i32,
            message: Some(message.to_owned()),
            source: Some(v1::task_status::Source::Master as i32),
            reason: Some(reason as i32),
            agent_id: agent.map(|value| v1::AgentId { value }),
            ..Default::default()
        }
    }

    fn timestamp(&self, now: Duration) -> f64 {
        EPOCH_AT_START + now.as_secs_f64()
    }

    pub(crate) fn acknowledge(&mut self, now: Duration, fw: &str, ack: &call::Acknowledge) {
        let id = ack.task_id.value.as_str();
        let Some(f) = self.frameworks.get_mut(fw) else { return };
        let Some(task) = f.tasks.get_mut(id) else { return };
        if self.agents[task.agent].id != ack.agent_id.value {
            return;
        }
        if task.updates.front().and_then(|s| s.uuid.as_deref()) != Some(ack.uuid.as_slice()) {
            return; // a duplicate or stale acknowledgement: ignored, as the agent does
        }
        task.updates.pop_front();
        task.retry_at = None;
        task.retry_interval = self.config.status_update_retry_min;
        if !task.updates.is_empty() {
            self.deliver_head(now, fw, id);
        } else if is_terminal(task.state) {
            if let Some(task) = f.tasks.remove(id) {
                // The task is gone: its record moves into the history rather than being copied.
                let state = task.state as i32;
                f.history.add_completed(v1::Task { state, ..task.proto });
            }
        }
    }

    pub(crate) fn kill(&mut self, now: Duration, fw: &str, kill: &call::Kill) {
        let id = kill.task_id.value.as_str();
        let Some(f) = self.frameworks.get_mut(fw) else { return };
        let killing = f.has_capability(v1::framework_info::capability::Type::TaskKillingState);
        let Some(task) = f.tasks.get_mut(id) else {
            let agent = kill.agent_id.as_ref().map(|a| a.value.as_str());
            // As reconciliation answers; nothing for a task on an agent that may re-register.
            if let Some(status) = self.reconcile_one(now, fw, id, agent) {
                self.send_master_update(fw, status);
            }
            return;
        };
        if is_terminal(task.state) {
            return;
        }
        let agent = task.agent;
        if self.agents[agent].is_remote() {
            // The agent process kills it; its state comes from the agent's updates.
            let policy = kill.kill_policy.or(task.proto.kill_policy);
            self.send_kill(fw, agent, id, policy);
            return;
        }
        let during_launch = task.state == TaskState::TaskStaging;
        task.state = TaskState::TaskKilled;
        task.next_step = None;
        if killing && !during_launch {
            self.enqueue_update(now, fw, id, TaskState::TaskKilling, None, None);
        }
        self.release(now, fw, id);
        let reason = during_launch.then_some(v1::task_status::Reason::TaskKilledDuringLaunch);
        self.enqueue_update(
            now,
            fw,
            id,
            TaskState::TaskKilled,
            reason,
            Some("Command terminated with signal Killed".into()),
        );
    }

    pub(crate) fn reconcile(&mut self, now: Duration, fw: &str, rec: &call::Reconcile) {
        let statuses: Vec<v1::TaskStatus> = if rec.tasks.is_empty() {
            let Some(f) = self.frameworks.get(fw) else { return };
            let known = f.tasks.keys().filter_map(|t| self.reconcile_one(now, fw, t, None));
            let lost = f
                .unreachable
                .keys()
                .filter(|_| f.partition_aware())
                .filter_map(|t| self.reconcile_one(now, fw, t, None));
            known.chain(lost).collect()
        } else {
            rec.tasks
                .iter()
                .filter_map(|t| {
                    self.reconcile_one(now, fw, &t.task_id.value, t.agent_id.as_ref().map(|a| a.value.as_str()))
                })
                .collect()
        };
        for status in statuses {
            self.send_master_update(fw, status);
        }
    }

    /// The reconciliation answer for one task (`Master::_reconcileTasks`); none for an unknown
    /// task on an agent the master does not know while agents of an earlier leader may still
    /// re-register (Mesos drops those for agents that are recovered but not re-registered: the
    /// framework asks again).
    fn reconcile_one(&self, now: Duration, fw: &str, task: &str, agent: Option<&str>) -> Option<v1::TaskStatus> {
        use TaskState::{TaskGone, TaskLost, TaskUnknown, TaskUnreachable};
        let reason = v1::task_status::Reason::Reconciliation;
        let Some(f) = self.frameworks.get(fw) else {
            return Some(self.master_status(
                task.to_owned(),
                None,
                TaskLost,
                reason,
                "Reconciliation: Task is unknown",
            ));
        };
        let pa = f.partition_aware();
        let pick = |aware: TaskState| if pa { aware } else { TaskLost };
        if let Some(t) = f.tasks.get(task) {
            let agent_id = self.agents[t.agent].id.clone();
            let message = "Reconciliation: Latest task state";
            return Some(self.master_status(task.to_owned(), Some(agent_id), t.state, reason, message));
        }
        if let Some(&a) = f.unreachable.get(task) {
            let agent_id = Some(self.agents[a].id.clone());
            let message = "Reconciliation: Task is unreachable";
            return Some(self.master_status(task.to_owned(), agent_id, pick(TaskUnreachable), reason, message));
        }
        let agent_index = agent.and_then(|a| self.agents.iter().position(|x| x.id == a));
        if agent.is_some() && agent_index.is_none() && self.in_reregister_window(now) {
            return None;
        }
        let state = match agent_index.map(|i| self.agents[i].reachable) {
            Some(true) => pick(TaskGone),
            Some(false) => pick(TaskUnreachable),
            None => pick(TaskUnknown),
        };
        let message = "Reconciliation: Task is unknown";
        Some(self.master_status(task.to_owned(), agent.map(str::to_owned), state, reason, message))
    }

    /// Loses an agent (a network partition the master notices): its offers are rescinded,
    /// its tasks become TASK_UNREACHABLE (PARTITION_AWARE frameworks) or TASK_LOST with
    /// master-generated updates, and every connected framework gets FAILURE{agent_id}.
    /// Returns false for an unknown or already lost agent.
    pub fn handle_lose_agent(&mut self, now: Duration, agent: usize) -> bool {
        if !self.agents.get(agent).is_some_and(|a| a.reachable) {
            return false;
        }
        let offers: Vec<String> =
            self.offers.iter().filter(|(_, o)| o.agent == agent).map(|(id, _)| id.clone()).collect();
        self.close_agent_stream(agent);
        let a = &mut self.agents[agent];
        a.reachable = false;
        a.free = Resources::default();
        a.executors.clear();
        let agent_id = a.id.clone();
        let hostname = a.config.hostname.clone();
        for id in offers {
            self.rescind(now, &id);
        }
        let unreachable_time = v1::TimeInfo { nanoseconds: (self.timestamp(now) * 1e9) as i64 };
        let fws: Vec<String> = self.frameworks.keys().cloned().collect();
        for fw in &fws {
            let Some(f) = self.frameworks.get_mut(fw) else { continue };
            let pa = f.partition_aware();
            let lost: Vec<String> =
                f.tasks.iter().filter(|(_, t)| t.agent == agent).map(|(id, _)| id.clone()).collect();
            let mut live = Vec::new();
            for id in lost {
                if let Some(t) = f.tasks.remove(&id) {
                    if is_terminal(t.state) {
                        f.history.add_unreachable(agent, task_snapshot(&t));
                    } else {
                        f.unreachable.insert(id.clone(), agent);
                        live.push((id, t.proto));
                    }
                }
            }
            for (id, mut record) in live {
                let state = if pa { TaskState::TaskUnreachable } else { TaskState::TaskLost };
                self.ledger(fw, &id, agent, LedgerEvent::Ended(state));
                let message = format!("Agent {hostname} is unreachable");
                let reason = v1::task_status::Reason::AgentRemoved;
                let mut status = self.master_status(id, Some(agent_id.clone()), state, reason, &message);
                if pa {
                    status.unreachable_time = Some(unreachable_time);
                }
                record.state = state as i32;
                record_status(&mut record, &status);
                if let Some(f) = self.frameworks.get_mut(fw) {
                    f.history.add_unreachable(agent, record);
                }
                self.send_master_update(fw, status);
            }
            let failure = Event {
                r#type: Some(event::Type::Failure as i32),
                failure: Some(event::Failure {
                    agent_id: Some(v1::AgentId { value: agent_id.clone() }),
                    ..Default::default()
                }),
                ..Default::default()
            };
            self.send(fw, failure);
        }
        true
    }

    /// Brings a lost agent back, empty (its tasks are gone); its resources are offered again.
    /// Returns false for an unknown or reachable agent, and for an agent process (a lost one
    /// is removed for good).
    pub fn handle_restore_agent(&mut self, now: Duration, agent: usize) -> bool {
        // An agent process that was lost is removed for good: it registers afresh.
        let Some(a) = self.agents.get_mut(agent).filter(|a| !a.reachable && !a.is_remote()) else { return false };
        a.reachable = true;
        a.free = a.total.clone();
        for f in self.frameworks.values_mut() {
            f.unreachable.retain(|_, x| *x != agent);
            f.history.forget_agent(agent);
        }
        self.request_allocation(now);
        true
    }
}
