//! The soak's oracle: it reads the simulated master's task ledger (what the master launched and
//! when each task stopped holding its agent), not the framework's own bookkeeping, and checks
//! that no task ran twice at once, none was launched again after the framework had reported it
//! FINISHED, no `hostname:UNIQUE` group ever had two live tasks on one agent, and at the end
//! that every submitted task finished.
//!
//! A task may finish twice without fault of the framework: when it finished on an agent that was
//! then lost (and came back empty) before its update was acknowledged, nobody can tell the
//! framework it finished, reconciliation answers "unknown" and the framework runs it again.
//! Those re-runs are counted apart.
//!
//! Its memory is three bytes per submitted task plus an entry per live task of a unique group,
//! so it does not hide a leak of the process it measures.

use std::collections::HashMap;

use offerpack::master::{LedgerEntry, LedgerEvent};
use offerpack::mesos::v1::TaskState;

/// Prefix of every task id the soak submits: `soak-<n>`; retries add `.retry-<k>`.
pub const TASK_PREFIX: &str = "soak-";

/// What the ledger showed so far.
#[derive(Debug, Default)]
pub struct Audit {
    /// Live attempts per task (0 or 1 unless something went wrong).
    live: Vec<u8>,
    /// FINISHED attempts per task.
    finished: Vec<u8>,
    /// Whether the framework has reported the task FINISHED.
    told: Vec<bool>,
    /// Live tasks per (unique group, agent).
    unique_live: HashMap<(u32, String), u32>,
    /// Launches while another attempt of the same task was live.
    pub double_launches: u64,
    /// Launches of a task after the framework had reported it FINISHED.
    pub launched_after_finish: u64,
    /// Tasks that finished a second time although the framework never heard of the first
    /// finish: its agent was lost, and came back empty, before the update was acknowledged,
    /// so the master answered reconciliation with "unknown" and the task ran again, as it must.
    pub reruns_after_unreported_finish: u64,
    /// Launches that put a second live task of a unique group on one agent.
    pub unique_violations: u64,
    /// Ledger lines about tasks the soak never submitted, or ends without a launch.
    pub foreign: u64,
    /// Launches seen.
    pub launches: u64,
    /// Ends that were not FINISHED (lost, failed, killed, …).
    pub ended_otherwise: u64,
    /// Tasks finished (once).
    pub finished_tasks: u64,
    /// Attempts live now.
    pub live_now: u64,
}

impl Audit {
    /// Makes room for tasks `0..n`.
    pub fn grow_to(&mut self, n: usize) {
        if self.live.len() < n {
            self.live.resize(n, 0);
            self.finished.resize(n, 0);
            self.told.resize(n, false);
        }
    }

    /// Takes one ledger line; `unique` tells whether task `n`'s group is `hostname:UNIQUE`
    /// and which group it is.
    pub fn apply(&mut self, line: &LedgerEntry, unique: impl Fn(u32) -> Option<u32>) {
        let Some(n) = task_number(&line.task_id).filter(|n| (*n as usize) < self.live.len()) else {
            self.foreign += 1;
            return;
        };
        let i = n as usize;
        match line.event {
            LedgerEvent::Launched => {
                self.launches += 1;
                if self.live[i] > 0 {
                    self.double_launches += 1;
                }
                if self.told[i] {
                    self.launched_after_finish += 1;
                }
                self.live[i] = self.live[i].saturating_add(1);
                self.live_now += 1;
                if let Some(group) = unique(n) {
                    let count = self.unique_live.entry((group, line.agent_id.clone())).or_insert(0);
                    *count += 1;
                    if *count > 1 {
                        self.unique_violations += 1;
                    }
                }
            }
            LedgerEvent::Ended(state) => {
                if self.live[i] == 0 {
                    self.foreign += 1;
                    return;
                }
                self.live[i] -= 1;
                self.live_now -= 1;
                if let Some(group) = unique(n) {
                    let key = (group, line.agent_id.clone());
                    if let Some(count) = self.unique_live.get_mut(&key) {
                        *count -= 1;
                        if *count == 0 {
                            self.unique_live.remove(&key);
                        }
                    }
                }
                if state == TaskState::TaskFinished {
                    self.finished[i] = self.finished[i].saturating_add(1);
                    match self.finished[i] {
                        1 => self.finished_tasks += 1,
                        _ if self.told[i] => {}
                        _ => self.reruns_after_unreported_finish += 1,
                    }
                } else {
                    self.ended_otherwise += 1;
                }
            }
        }
    }

    /// The framework reported task `n` FINISHED; call it after applying every ledger line the
    /// master had written by then, so that any later launch of the task is one made after.
    pub fn framework_finished(&mut self, n: u32) {
        if let Some(told) = self.told.get_mut(n as usize) {
            *told = true;
        }
    }

    /// Tasks among the first `submitted` that have not finished.
    pub fn unfinished(&self, submitted: usize) -> u64 {
        self.finished.iter().take(submitted).filter(|f| **f == 0).count() as u64
    }

    /// The first few unfinished tasks, for the report.
    pub fn some_unfinished(&self, submitted: usize, most: usize) -> Vec<String> {
        let ids = self.finished.iter().take(submitted).enumerate().filter(|(_, f)| **f == 0);
        ids.take(most).map(|(n, _)| format!("{TASK_PREFIX}{n}")).collect()
    }
}

/// `n` of `soak-<n>` or `soak-<n>.<suffix>`.
pub fn task_number(id: &str) -> Option<u32> {
    let rest = id.strip_prefix(TASK_PREFIX)?;
    let digits = rest.split('.').next()?;
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(task: &str, agent: &str, event: LedgerEvent) -> LedgerEntry {
        LedgerEntry { framework_id: "f".into(), task_id: task.into(), agent_id: agent.into(), event }
    }

    #[test]
    fn audit_counts_overlapping_attempts_and_unique_clashes() {
        let mut audit = Audit::default();
        audit.grow_to(3);
        let unique = |n: u32| (n < 2).then_some(0);
        audit.apply(&line("soak-0", "a", LedgerEvent::Launched), unique);
        audit.apply(&line("soak-1", "a", LedgerEvent::Launched), unique);
        assert_eq!(audit.unique_violations, 1);
        audit.apply(&line("soak-0.retry-1", "b", LedgerEvent::Launched), unique);
        assert_eq!(audit.double_launches, 1);
        audit.apply(&line("soak-0", "a", LedgerEvent::Ended(TaskState::TaskFinished)), unique);
        audit.apply(&line("soak-0.retry-1", "b", LedgerEvent::Ended(TaskState::TaskFinished)), unique);
        assert_eq!((audit.finished_tasks, audit.reruns_after_unreported_finish), (1, 1));
        audit.framework_finished(0);
        audit.apply(&line("soak-0.retry-2", "b", LedgerEvent::Launched), unique);
        assert_eq!(audit.launched_after_finish, 1);
        audit.apply(&line("other", "a", LedgerEvent::Launched), unique);
        audit.apply(&line("soak-2", "a", LedgerEvent::Ended(TaskState::TaskLost)), unique);
        assert_eq!(audit.foreign, 2);
        assert_eq!(audit.unfinished(3), 2);
        assert_eq!(audit.double_launches, 1, "a retry after the framework's FINISHED is counted apart");
        assert_eq!(audit.some_unfinished(3, 1), ["soak-1"]);
    }

    #[test]
    fn audit_retry_after_an_end_is_not_a_double_launch() {
        let mut audit = Audit::default();
        audit.grow_to(1);
        let none = |_| None;
        audit.apply(&line("soak-0", "a", LedgerEvent::Launched), none);
        audit.apply(&line("soak-0", "a", LedgerEvent::Ended(TaskState::TaskLost)), none);
        audit.apply(&line("soak-0.retry-1", "b", LedgerEvent::Launched), none);
        audit.apply(&line("soak-0.retry-1", "b", LedgerEvent::Ended(TaskState::TaskFinished)), none);
        assert_eq!((audit.double_launches, audit.ended_otherwise, audit.finished_tasks, audit.live_now), (0, 1, 1, 0));
        assert_eq!(task_number("soak-12.retry-3"), Some(12));
        assert_eq!(task_number("soak-x"), None);
    }
}
