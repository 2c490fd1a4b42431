//! Tasks waiting for predecessors ([`TaskRequest::after`]): held here, never given to the
//! engine, until every predecessor finished.
//!
//! - A request with `after` is checked at submission: each predecessor must be known to the
//!   session (live, or ended and still remembered), else it is [`SubmitError::Dependency`], as
//!   is a cycle. The [`DependencyGraph`] holds only what open dependencies need: a predecessor
//!   enters it when first named (in its current state), and tasks leave it once they and every
//!   task waiting for them ended ([`DependencyGraph::prune`]), so it does not grow with the
//!   tasks a long-lived framework runs. A request whose predecessors all finished is submitted at
//!   once; otherwise it is reported [`TaskState::Pending`] with the message
//!   `waiting for a, b` and held.
//! - A task's final end (its terminal update once no retry follows, see `retry.rs`) is told to
//!   the graph. `TASK_FINISHED` releases the dependents it was the last to hold back: they are
//!   submitted by the end of the same input (reported pending again, "released"). Any other end
//!   fails the held transitive dependents by [`SessionConfig::on_predecessor_failure`]
//!   (default): each is reported [`TaskState::Failed`] with the message `predecessor X ended
//!   S`, followed by [`Update::GaveUp`] with 0 attempts; or releases them as a finish would.
//! - Killing a held task ends it (killed) and counts as its failure for its dependents; a
//!   stopping session reports every held task killed.
//!
//! [`SessionConfig::on_predecessor_failure`]: super::SessionConfig::on_predecessor_failure

use std::collections::VecDeque;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};

use super::machine::Session;
use super::update::{TaskState, TaskUpdate, Update};
use super::{SubmitError, TaskRequest};
use crate::deps::{DependencyGraph, DependencyStatus, OnPredecessorFailure};
use crate::model::TaskId;

/// The dependency graph and the requests held by it.
#[derive(Debug, Default)]
pub(super) struct Waits {
    graph: DependencyGraph,
    /// Requests whose predecessors have not all finished.
    held: FxHashMap<TaskId, TaskRequest>,
    /// Requests released and not submitted yet (at the end of the input, when `now` is known).
    ready: VecDeque<TaskRequest>,
    /// Held tasks that ended without reaching the tracker (failed by a predecessor, killed), the
    /// latest [`ENDED_MEMORY`]: later tasks may name them (the tracker remembers the others).
    ended: FxHashSet<TaskId>,
    ended_order: VecDeque<TaskId>,
}

/// How many ended held tasks are remembered (as the tracker remembers ended tasks).
const ENDED_MEMORY: usize = 65_536;

impl Waits {
    /// No tasks; failures handled by `policy`.
    pub(super) fn new(policy: OnPredecessorFailure) -> Waits {
        Waits { graph: DependencyGraph::new(policy), ..Waits::default() }
    }

    /// Remembers a held task that ended without being submitted.
    fn remember(&mut self, id: TaskId) {
        if self.ended.insert(id.clone()) {
            self.ended_order.push_back(id);
        }
        while self.ended_order.len() > ENDED_MEMORY {
            if let Some(old) = self.ended_order.pop_front() {
                self.ended.remove(&old);
            }
        }
    }
}

impl Session {
    /// Takes a request with predecessors into the graph: `Some` when it may be submitted now,
    /// `None` when it is held or failed (its update reported).
    pub(super) fn admit(&mut self, request: TaskRequest) -> Result<Option<TaskRequest>, SubmitError> {
        if request.after.is_empty() {
            return Ok(Some(request));
        }
        let id = request.spec.id.clone();
        if self.tasks.phase(&id).is_some() || self.waits.held.contains_key(&id) {
            return Err(SubmitError::DuplicateTask(id));
        }
        if let Some(policy) = request.retry {
            policy.validate().map_err(SubmitError::InvalidRetry)?;
        }
        for pred in &request.after {
            if self.waits.graph.contains(pred) {
                continue;
            }
            let status = match self.tasks.state(pred) {
                _ if self.tasks.phase(pred).is_some() => DependencyStatus::Released,
                Some(TaskState::Finished) => DependencyStatus::Finished,
                Some(_) => DependencyStatus::Failed,
                None if self.waits.ended.contains(pred) => DependencyStatus::Failed,
                None => continue,
            };
            self.waits.graph.know(pred.clone(), status);
        }
        let out = match self.waits.graph.submit(vec![(id.clone(), request.after.clone())]) {
            Ok(out) => out,
            Err(error) => {
                // Ended predecessors recorded just now are needed by nothing.
                request.after.iter().for_each(|p| self.waits.graph.prune(p));
                return Err(SubmitError::Dependency(error));
            }
        };
        if out.released.contains(&id) {
            return Ok(Some(request));
        }
        if out.failed.contains(&id) {
            let failed = request.after.iter().find(|p| self.waits.graph.status(p) == Some(DependencyStatus::Failed));
            let message = match failed {
                Some(p) => format!("predecessor {p} did not finish"),
                None => "a predecessor did not finish".to_owned(),
            };
            self.waits.graph.prune(&id);
            self.fail_held(id, &message);
            return Ok(None);
        }
        let waiting: Vec<String> = self.waits.graph.waiting_for(&id).iter().map(|t| t.to_string()).collect();
        let message = format!("waiting for {}", waiting.join(", "));
        self.updates.push_back(Update::Task(TaskUpdate::session(id.clone(), TaskState::Pending, None, &message)));
        self.waits.held.insert(id, request);
        Ok(None)
    }

    /// A submitted task whose tracker refused it after the graph took it: it counts as failed.
    pub(super) fn refused(&mut self, id: &TaskId) {
        self.ended(id, TaskState::Error);
    }

    /// A task ended for good in `state`: releases or fails its held dependents.
    pub(super) fn ended(&mut self, id: &TaskId, state: TaskState) {
        if !self.waits.graph.contains(id) {
            // No task waits for it.
            return;
        }
        let resolution = match state {
            TaskState::Finished => {
                crate::deps::Resolution { released: self.waits.graph.finished(id), failed: Vec::new() }
            }
            _ => self.waits.graph.failed(id),
        };
        for task in resolution.released {
            if let Some(request) = self.waits.held.remove(&task) {
                self.waits.ready.push_back(request);
            }
        }
        let message = format!("predecessor {id} ended {state}");
        for task in resolution.failed {
            if self.waits.held.remove(&task).is_some() {
                self.waits.graph.prune(&task);
                self.fail_held(task, &message);
            }
        }
        self.waits.graph.prune(id);
    }

    /// Reports a held task failed by a predecessor, then given up.
    fn fail_held(&mut self, task: TaskId, message: &str) {
        self.waits.remember(task.clone());
        let update = TaskUpdate::session(task.clone(), TaskState::Failed, None, message);
        self.updates.push_back(Update::Task(update));
        self.updates.push_back(Update::GaveUp { task, attempts: 0, last_state: TaskState::Failed });
    }

    /// Submits the released requests (see [`Session::ended`]).
    pub(super) fn submit_released(&mut self, now: Duration) {
        while let Some(request) = self.waits.ready.pop_front() {
            let id = request.spec.id.clone();
            match self.tasks.submit(request, now) {
                Ok(mut update) => {
                    update.message = Some("released: every predecessor finished".to_owned());
                    self.updates.push_back(Update::Task(update));
                    self.request_pass(now);
                }
                Err(error) => {
                    let message = format!("cannot be placed: {error}");
                    self.updates.push_back(Update::Task(TaskUpdate::session(
                        id.clone(),
                        TaskState::Error,
                        None,
                        &message,
                    )));
                    self.updates.push_back(Update::GaveUp {
                        task: id.clone(),
                        attempts: 0,
                        last_state: TaskState::Error,
                    });
                    self.refused(&id);
                }
            }
        }
    }

    /// Kills a held task: reported killed, a failure for its dependents. False when it is not
    /// held.
    pub(super) fn kill_held(&mut self, id: &TaskId) -> bool {
        let held = self.waits.held.remove(id).is_some();
        let ready = self.waits.ready.iter().position(|r| r.spec.id == *id).and_then(|at| self.waits.ready.remove(at));
        if !held && ready.is_none() {
            return false;
        }
        self.waits.remember(id.clone());
        let update = TaskUpdate::session(id.clone(), TaskState::Killed, None, "killed before it was launched");
        self.updates.push_back(Update::Task(update));
        self.ended(id, TaskState::Killed);
        true
    }

    /// Ends every held task as the session stops, reporting each killed with `message`.
    pub(super) fn end_held(&mut self, message: &str) {
        let mut ids: Vec<TaskId> = self.waits.held.drain().map(|(id, _)| id).collect();
        ids.extend(self.waits.ready.drain(..).map(|r| r.spec.id));
        ids.sort_unstable();
        for id in &ids {
            // Their dependents are all among them: nothing else is reported.
            let _ = self.waits.graph.failed(id);
        }
        for id in &ids {
            self.waits.graph.prune(id);
        }
        for id in ids {
            self.updates.push_back(Update::Task(TaskUpdate::session(id, TaskState::Killed, None, message)));
        }
    }

    /// The open dependencies: tasks waiting, and the tasks they wait for (see `waits.rs`).
    pub fn dependencies(&self) -> &DependencyGraph {
        &self.waits.graph
    }

    /// Whether a task finished, as far as the session knows (for what-if).
    pub(super) fn has_finished(&self, id: &TaskId) -> bool {
        match self.waits.graph.status(id) {
            Some(status) => status == DependencyStatus::Finished,
            None => self.tasks.state(id) == Some(TaskState::Finished),
        }
    }
}
