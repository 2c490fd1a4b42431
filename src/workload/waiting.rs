//! The plan of a workload whose tasks wait for others: the plan's JSON with `waiting` added.

use std::io;

use serde::Serialize;

use super::output::{plan_to_json, Timing};
use crate::model::TaskId;
use crate::plan::Plan;

/// One task not handed to the pass because its predecessors have not finished.
#[derive(Serialize)]
struct WaitingDoc<'a> {
    task_id: &'a str,
    after: Vec<&'a str>,
}

/// Writes `plan` as [`write_plan`](super::write_plan) does, with a last member `waiting`
/// listing each task held back and the tasks it waits for (nothing added when none waits).
pub fn write_plan_waiting<W: io::Write>(
    mut out: W,
    plan: &Plan,
    timing: Timing,
    waiting: &[(TaskId, Vec<TaskId>)],
) -> io::Result<()> {
    let json = plan_to_json(plan, timing);
    let Some(body) = json.strip_suffix('}').filter(|_| !waiting.is_empty()) else {
        return out.write_all(json.as_bytes());
    };
    let docs: Vec<WaitingDoc<'_>> = waiting
        .iter()
        .map(|(task, after)| WaitingDoc { task_id: task.as_str(), after: after.iter().map(TaskId::as_str).collect() })
        .collect();
    out.write_all(body.as_bytes())?;
    out.write_all(b",\"waiting\":")?;
    serde_json::to_writer(&mut out, &docs).map_err(io::Error::from)?;
    out.write_all(b"}")
}
