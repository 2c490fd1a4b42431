//! The soak's oracle: it reads the simulated master's task ledger (what the master launched and
//! when each task stopped holding its agent), not the framework's own bookkeeping, and checks
//! that no task ran twice at once, none finished twice, no `hostname:UNIQUE` group ever had two
//! live tasks on one agent, and at the end that every submitted task finished exactly once.
//!
//! Its memory is one byte pair per submitted task plus an entry per live task of a unique
//! group, so it does not hide a leak of the process it measures.

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
    /// Live tasks per (unique group, agent).
    unique_live: HashMap<(u32, String), u32>,
    /// Launches while another attempt of the same task was live.
    pub double_launches: u64,
    /// Tasks that finished a second time.
    pub double_finishes: u64,
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
                        _ => self.double_finishes += 1,
                    }
                } else {
                    self.ended_otherwise += 1;
                }
            }
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
        assert_eq!((audit.finished_tasks, audit.double_finishes), (1, 1));
        audit.apply(&line("other", "a", LedgerEvent::Launched), unique);
        audit.apply(&line("soak-2", "a", LedgerEvent::Ended(TaskState::TaskLost)), unique);
        assert_eq!(audit.foreign, 2);
        assert_eq!(audit.unfinished(3), 2);
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
