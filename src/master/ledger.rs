//! The task ledger: an optional record of every task the master launched and of the moment
//! each one stopped holding its agent, in order, for harnesses that check a framework from the
//! master's side (the soak counts launches per task from it, independently of the framework's
//! own bookkeeping). Off unless [`MasterConfig::task_ledger`](super::MasterConfig::task_ledger)
//! is set; the harness drains it ([`MasterHandle::drain_task_ledger`](super::MasterHandle::drain_task_ledger)),
//! so it holds only what happened since the last drain.

use crate::mesos::v1::TaskState;

use super::state::MasterCore;

/// One line of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The framework the task belongs to.
    pub framework_id: String,
    /// The task id as launched.
    pub task_id: String,
    /// The agent the task was launched on.
    pub agent_id: String,
    /// What happened to it.
    pub event: LedgerEvent,
}

/// What a ledger line records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LedgerEvent {
    /// The master took a LAUNCH of the task (it holds the task from now on).
    Launched,
    /// The task no longer holds its agent's resources: it reached this terminal state, or its
    /// agent was lost (the state sent to the framework, TASK_LOST or TASK_UNREACHABLE), or it
    /// was dropped with its framework (TASK_KILLED).
    Ended(TaskState),
}

impl MasterCore {
    /// Appends a line when the ledger is on.
    pub(crate) fn ledger(&mut self, framework_id: &str, task_id: &str, agent: usize, event: LedgerEvent) {
        let Some(ledger) = self.ledger.as_mut() else { return };
        let agent_id = self.agents.get(agent).map(|a| a.id.clone()).unwrap_or_default();
        ledger.push(LedgerEntry {
            framework_id: framework_id.to_owned(),
            task_id: task_id.to_owned(),
            agent_id,
            event,
        });
    }

    /// Takes the ledger's lines since the last call (none when the ledger is off).
    pub fn drain_task_ledger(&mut self) -> Vec<LedgerEntry> {
        self.ledger.as_mut().map(std::mem::take).unwrap_or_default()
    }
}
