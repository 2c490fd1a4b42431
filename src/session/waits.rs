//! Tasks waiting for predecessors ([`TaskRequest::after`]): held here, never given to the
//! engine, until every predecessor finished.
//!
//! - Every submitted task is recorded in a [`DependencyGraph`], so that later tasks may name
//!   it. A request with `after` is checked at submission: an unknown predecessor or a cycle is
//!   [`SubmitError::Dependency`]. A request whose predecessors all finished is submitted at
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

use rustc_hash::FxHashMap;

use super::machine::Session;
use super::update::{TaskState, TaskUpdate, Update};
use super::{SubmitError, TaskRequest};
use crate::deps::{DependencyGraph, OnPredecessorFailure};
use crate::model::TaskId;

/// The dependency graph and the requests held by it.
#[derive(Debug, Default)]
pub(super) struct Waits {
    graph: DependencyGraph,
    /// Requests whose predecessors have not all finished.
    held: FxHashMap<TaskId, TaskRequest>,
    /// Requests released and not submitted yet (at the end of the input, when `now` is known).
    ready: VecDeque<TaskRequest>,
}

impl Waits {
    /// No tasks; failures handled by `policy`.
    pub(super) fn new(policy: OnPredecessorFailure) -> Waits {
        Waits { graph: DependencyGraph::new(policy), ..Waits::default() }
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
        let out =
            self.waits.graph.submit(vec![(id.clone(), request.after.clone())]).map_err(SubmitError::Dependency)?;
        if out.released.contains(&id) {
            return Ok(Some(request));
        }
        if out.failed.contains(&id) {
            let failed = request.after.iter().find(|p| self.tasks.state(p).is_some_and(|s| s != TaskState::Finished));
            let message = match failed {
                Some(p) => format!("predecessor {p} did not finish"),
                None => "a predecessor did not finish".to_owned(),
            };
            self.fail_held(id, &message);
            return Ok(None);
        }
        let waiting: Vec<String> = self.waits.graph.waiting_for(&id).iter().map(|t| t.to_string()).collect();
        let message = format!("waiting for {}", waiting.join(", "));
        self.updates.push_back(Update::Task(TaskUpdate::session(id.clone(), TaskState::Pending, None, &message)));
        self.waits.held.insert(id, request);
        Ok(None)
    }

    /// Records a task submitted to the tracker (so that later tasks may name it). A task the
    /// graph knows already (it had predecessors, or its id was submitted before) keeps its
    /// record.
    pub(super) fn note_submitted(&mut self, id: &TaskId) {
        let _ = self.waits.graph.submit(vec![(id.clone(), Vec::new())]);
    }

    /// A submitted task whose tracker refused it after the graph took it: it counts as failed.
    pub(super) fn refused(&mut self, id: &TaskId) {
        self.ended(id, TaskState::Error);
    }

    /// A task ended for good in `state`: releases or fails its held dependents.
    pub(super) fn ended(&mut self, id: &TaskId, state: TaskState) {
        if self.waits.graph.is_empty() {
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
                self.fail_held(task, &message);
            }
        }
    }

    /// Reports a held task failed by a predecessor, then given up.
    fn fail_held(&mut self, task: TaskId, message: &str) {
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
        for id in ids {
            self.updates.push_back(Update::Task(TaskUpdate::session(id, TaskState::Killed, None, message)));
        }
    }

    /// The dependency graph of the tasks submitted (for the critical path).
    pub fn dependencies(&self) -> &DependencyGraph {
        &self.waits.graph
    }
}
