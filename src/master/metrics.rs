//! `GET /metrics/snapshot`: the figures a Mesos master publishes there, under Mesos' names, read
//! from the core's state (one flat object, name → number, keys sorted).

use std::collections::BTreeMap;
use std::time::Duration;

use super::state::MasterCore;
use crate::mesos::v1::TaskState;

/// Current task states and the gauge each counts towards.
const CURRENT: [(TaskState, &str); 5] = [
    (TaskState::TaskStaging, "master/tasks_staging"),
    (TaskState::TaskStarting, "master/tasks_starting"),
    (TaskState::TaskRunning, "master/tasks_running"),
    (TaskState::TaskKilling, "master/tasks_killing"),
    (TaskState::TaskUnreachable, "master/tasks_unreachable"),
];

/// Terminal task states and the counter of tasks that ended in each.
const ENDED: [(TaskState, &str); 8] = [
    (TaskState::TaskFinished, "master/tasks_finished"),
    (TaskState::TaskFailed, "master/tasks_failed"),
    (TaskState::TaskKilled, "master/tasks_killed"),
    (TaskState::TaskLost, "master/tasks_lost"),
    (TaskState::TaskError, "master/tasks_error"),
    (TaskState::TaskDropped, "master/tasks_dropped"),
    (TaskState::TaskGone, "master/tasks_gone"),
    (TaskState::TaskGoneByOperator, "master/tasks_gone_by_operator"),
];

impl MasterCore {
    /// The `/metrics/snapshot` figures at `now` (time since the master started); `elected` is
    /// whether this master leads (the shell knows when it is told to redirect).
    pub fn metrics_snapshot(&self, now: Duration, elected: bool) -> BTreeMap<&'static str, f64> {
        let mut m: BTreeMap<&'static str, f64> = BTreeMap::new();
        m.insert("master/elected", f64::from(u8::from(elected)));
        m.insert("master/uptime_secs", now.as_secs_f64());
        let active = self.agents.iter().filter(|a| a.reachable).count() as f64;
        m.insert("master/slaves_active", active);
        m.insert("master/slaves_connected", active);
        m.insert("master/slaves_disconnected", self.agents.len() as f64 - active);
        m.insert("master/slaves_unreachable", self.agents.len() as f64 - active);
        let connected = self.frameworks.values().filter(|f| f.conn.is_some()).count() as f64;
        m.insert("master/frameworks_active", self.frameworks.len() as f64);
        m.insert("master/frameworks_connected", connected);
        m.insert("master/frameworks_disconnected", self.frameworks.len() as f64 - connected);
        m.insert("master/outstanding_offers", self.offers.len() as f64);
        for (state, name) in CURRENT {
            let n = self.frameworks.values().flat_map(|f| f.tasks.values()).filter(|t| t.state == state).count();
            m.insert(name, n as f64);
        }
        for (state, name) in ENDED {
            m.insert(name, self.ended.get(&(state as i32)).copied().unwrap_or(0) as f64);
        }
        for (resource, total_key, used_key, percent_key) in [
            ("cpus", "master/cpus_total", "master/cpus_used", "master/cpus_percent"),
            ("mem", "master/mem_total", "master/mem_used", "master/mem_percent"),
            ("disk", "master/disk_total", "master/disk_used", "master/disk_percent"),
        ] {
            let reachable = || self.agents.iter().filter(|a| a.reachable);
            let total: f64 = reachable().map(|a| a.total.scalar(resource)).sum();
            let free: f64 = reachable().map(|a| a.free.scalar(resource)).sum();
            let offered: f64 = self.offers.values().map(|o| o.resources.scalar(resource)).sum();
            let used = (total - free - offered).max(0.0);
            m.insert(total_key, total);
            m.insert(used_key, used);
            m.insert(percent_key, if total > 0.0 { used / total } else { 0.0 });
        }
        m
    }
}

/// The snapshot as Mesos writes it: one JSON object, keys sorted, every value a double.
pub(crate) fn snapshot_json(metrics: &BTreeMap<&'static str, f64>) -> String {
    let fields: Vec<String> = metrics
        .iter()
        .map(|(name, value)| {
            let value = if value.is_finite() { *value } else { 0.0 };
            format!("{}:{}", serde_json::Value::from(*name), serde_json::Value::from(value))
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}
