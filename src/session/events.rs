//! Handling the events of the stream.

use std::time::Duration;

use super::machine::{Link, Reconciliation, Session};
use super::update::{StopReason, TaskState, Update, Warning};
use super::{calls, config::DEFAULT_HEARTBEAT};
use crate::mesos::v1;
use crate::mesos::v1::scheduler::{event, Event};
use crate::model::{AgentId, Offer, OfferId, TaskId};
use crate::pool::PoolError;

/// Heartbeat intervals outside this range are taken as the default.
const HEARTBEAT_RANGE: (f64, f64) = (0.001, 3600.0);

impl Session {
    /// An event decoded from the stream. Events before `SUBSCRIBED` other than `ERROR` and
    /// `HEARTBEAT` are ignored, and so is everything while no stream is open.
    pub fn handle_event(&mut self, event: Event, now: Duration) {
        if !matches!(self.link, Link::Connected { .. } | Link::Subscribed { .. }) {
            return;
        }
        self.last_heard = now;
        let Some(kind) = event.r#type.and_then(|t| event::Type::try_from(t).ok()) else {
            return;
        };
        match kind {
            event::Type::Subscribed => match event.subscribed {
                Some(subscribed) => self.on_subscribed(subscribed, now),
                None => self.warn_event("SUBSCRIBED without its body"),
            },
            event::Type::Error => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                self.finish(StopReason::MasterError(message));
            }
            _ if !self.is_subscribed() => {}
            event::Type::Offers => self.on_offers(event.offers.map(|o| o.offers).unwrap_or_default(), now),
            event::Type::Rescind => {
                if let Some(rescind) = event.rescind {
                    let id = OfferId::new(&rescind.offer_id.value);
                    // Unknown here when already used or declined: nothing to do.
                    let _ = self.scheduler.rescind(&id, now);
                    self.offers.remove(&id);
                }
            }
            event::Type::Update => match event.update {
                Some(update) => self.on_update(update.status, now),
                None => self.warn_event("UPDATE without its status"),
            },
            event::Type::Message => {
                if let Some(m) = event.message {
                    let agent_id = AgentId::new(&m.agent_id.value);
                    self.updates.push_back(Update::Message {
                        agent_id,
                        executor_id: m.executor_id.value,
                        data: m.data,
                    });
                }
            }
            event::Type::Failure => {
                if let Some(failure) = event.failure {
                    self.on_failure(failure, now);
                }
            }
            // Heartbeats only feed the watchdog; inverse offers (maintenance) and operation
            // feedback (never asked for: launches carry no operation id) are ignored.
            _ => {}
        }
        self.run_due(now);
    }

    fn warn_event(&mut self, what: &str) {
        self.updates.push_back(Update::Warning(Warning::MalformedEvent(what.to_owned())));
    }

    fn on_subscribed(&mut self, subscribed: event::Subscribed, now: Duration) {
        let Link::Connected { stream_id } = &self.link else {
            return;
        };
        self.link = Link::Subscribed { stream_id: stream_id.clone() };
        let framework_id = subscribed.framework_id.value;
        self.framework_id = Some(framework_id.clone());
        self.heartbeat = match subscribed.heartbeat_interval_seconds {
            Some(s) if (HEARTBEAT_RANGE.0..=HEARTBEAT_RANGE.1).contains(&s) => Duration::from_secs_f64(s),
            _ => DEFAULT_HEARTBEAT,
        };
        self.reconnects = 0;
        self.suppressed = false;
        // Taking over a framework: its tasks and their agents are unknown until listed.
        let takeover = !self.subscribed_once && self.config.framework_id.is_some();
        self.subscribed_once = true;
        let unknown_agents = self.has_unknown_agents();
        self.lookup.subscribed(takeover, unknown_agents);
        self.updates.push_back(Update::Subscribed { framework_id });
        if self.teardown.is_some() {
            self.send_teardown();
            return;
        }
        let tasks = self.tasks.reconcilable();
        self.reconciliation =
            Reconciliation { remaining: tasks.iter().map(|(t, _)| t.clone()).collect(), ..Default::default() };
        if !tasks.is_empty() {
            self.reconcile_round(now);
        }
        for (task, agent) in self.tasks.kills() {
            self.send(calls::kill(self.fw(), &task, agent.as_ref()));
        }
        self.implicit_at = self.config.implicit_reconcile.map(|every| now.saturating_add(every));
        self.query_if_needed(now);
        self.request_pass(now);
    }

    fn on_offers(&mut self, offers: Vec<v1::Offer>, now: Duration) {
        let mut refused: Vec<OfferId> = Vec::new();
        for proto in offers {
            match Offer::try_from(&proto) {
                Ok(offer) => {
                    if self.agents.learn_offer(&offer) {
                        // Running tasks there are now counted on its hostname and attributes.
                        self.tasks.touch(self.scheduler.tasks_on(&offer.agent_id).iter().cloned());
                    }
                    match self.scheduler.add_offer(offer, now) {
                        Ok(()) => {
                            self.offers.insert(OfferId::new(&proto.id.value), proto);
                        }
                        Err(PoolError::DuplicateOffer(id)) | Err(PoolError::UnknownOffer(id)) => {
                            self.updates.push_back(Update::Warning(Warning::DuplicateOffer(id)));
                        }
                        // Declined at once rather than hoarded outside the pool.
                        Err(PoolError::Full) => refused.push(OfferId::new(&proto.id.value)),
                    }
                }
                Err(error) => {
                    if !proto.id.value.is_empty() {
                        refused.push(OfferId::new(&proto.id.value));
                    }
                    self.updates.push_back(Update::Warning(Warning::MalformedOffer(error)));
                }
            }
        }
        if !refused.is_empty() {
            self.send(calls::decline(self.fw(), &refused, self.config.refuse_seconds));
        }
        self.request_pass(now);
    }

    fn on_update(&mut self, status: v1::TaskStatus, now: Duration) {
        if status.task_id.value.is_empty() {
            return self.warn_event("update without a task id");
        }
        let task = TaskId::new(&status.task_id.value);
        match TaskState::from_proto(status.state) {
            None => self.warn_event(&format!("update for task {task} has unknown state {}", status.state)),
            Some(state) => {
                let asked = self.reconciliation.remaining.remove(&task);
                let new = self.tasks.phase(&task).is_none();
                if let Some(update) = self.tasks.apply(&status, state, asked, now) {
                    if new && self.tasks.phase(&task).is_some() && self.tasks.has_ungrouped() {
                        // Adopted from an earlier scheduler: its group is in its launch's labels.
                        self.lookup.want_tasks = true;
                    }
                    let agent = self.tasks.agent(&task).cloned();
                    self.note_task_agent(agent.as_ref());
                    if !update.state.is_terminal() {
                        // A kill asked for while the launch was on its way (or waiting to be
                        // sent again) may have reached the master before the task: ask again
                        // now that it runs.
                        let own = self.tasks.resolve(&task).clone();
                        if let Some((mesos, agent)) = self.tasks.kill_wanted(&own) {
                            self.send(calls::kill(self.fw(), &mesos, agent.as_ref()));
                        }
                    }
                    self.push_task(update);
                    self.query_if_needed(now);
                    self.request_pass(now);
                }
            }
        }
        // Acknowledge after the state is recorded, every copy that carries a uuid.
        if let Some(uuid) = status.uuid {
            let agent = status.agent_id.map(|a| a.value).or_else(|| self.tasks.agent(&task).map(|a| a.to_string()));
            match agent {
                Some(agent) => {
                    self.send(calls::acknowledge(self.fw(), &agent, task.as_str(), uuid));
                }
                None => self.warn_event(&format!("update for task {task} has a uuid but no agent id to acknowledge")),
            }
        }
    }

    fn on_failure(&mut self, failure: event::Failure, now: Duration) {
        let agent = failure.agent_id.map(|a| AgentId::new(&a.value));
        match (failure.executor_id, agent) {
            (Some(executor), agent_id) => {
                let executor_id = executor.value;
                if let Some(agent) = &agent_id {
                    self.executors.remove(&(agent.clone(), executor_id.clone()));
                }
                self.updates.push_back(Update::ExecutorExited { agent_id, executor_id, status: failure.status });
            }
            (None, Some(agent_id)) => {
                for offer in self.scheduler.remove_agent(&agent_id, now) {
                    self.offers.remove(&offer.id);
                }
                self.executors.retain(|(agent, _), _| *agent != agent_id);
                self.updates.push_back(Update::AgentLost { agent_id });
            }
            (None, None) => self.warn_event("FAILURE without agent or executor"),
        }
    }
}
