//! Gangs in a workload: `"gang": "name"` (with an optional `"gang_size"`) or
//! `"gang": {"name": .., "size": ..}`, and the check that a gang's members agree on its size.

use super::input::Problem;
use super::schema::{GangDoc, TaskDoc};
use super::WorkloadError;
use crate::model::ModelError;
use crate::spec::{GangSizeError, TaskBuilder, TaskSpec};

/// Puts the task of `doc` (at `place`) in its gang, if it names one.
pub(super) fn gang(b: TaskBuilder, doc: &TaskDoc, place: &str) -> Result<TaskBuilder, WorkloadError> {
    let bad = |size| WorkloadError::at(format!("{place}: gang_size"), Problem::Task(ModelError::BadGangSize(size)));
    match (&doc.gang, doc.gang_size) {
        (None, None) => Ok(b),
        (None, Some(size)) => Err(bad(size)),
        (Some(GangDoc::Name(name)), None) => Ok(b.gang(name)),
        (Some(GangDoc::Name(name)), Some(size)) => Ok(b.gang(name).gang_size(size)),
        (Some(GangDoc::Sized(gang)), None) => Ok(b.gang(&gang.name).gang_size(gang.size)),
        (Some(GangDoc::Sized(_)), Some(size)) => Err(bad(size)),
    }
}

/// Every gang's members agree on its declared size and are not more than it.
pub(super) fn check_sizes(tasks: &[TaskSpec]) -> Result<(), WorkloadError> {
    GangSizeError::check_all(tasks).map_err(|e| WorkloadError::at("tasks", Problem::Task(ModelError::GangSize(e))))
}

#[cfg(test)]
mod tests {
    use crate::workload::Workload;

    /// A workload of one offer and `tasks` (JSON objects, comma-separated).
    fn read(tasks: &str) -> Result<Workload, crate::workload::WorkloadError> {
        let offer = r#"{"id": "o1", "agent_id": "a1", "hostname": "h1", "resources": {"cpus": 4}}"#;
        Workload::from_json(&format!(r#"{{"offers": [{offer}], "tasks": [{tasks}]}}"#))
    }

    #[test]
    fn gangs_read_names_sizes_and_objects() {
        let w = read(
            r#"{"id": "a", "gang": "plain"}, {"id": "b", "gang": "job", "gang_size": 2},
               {"id": "c", "gang": {"name": "job", "size": 2}}"#,
        )
        .unwrap();
        let gangs: Vec<(Option<&str>, Option<u32>)> =
            w.tasks.iter().map(|t| (t.gang.as_deref(), t.gang_size)).collect();
        assert_eq!(gangs, [(Some("plain"), None), (Some("job"), Some(2)), (Some("job"), Some(2))]);
    }

    #[test]
    fn gangs_refuse_sizes_that_disagree_overfill_or_stand_alone() {
        for (tasks, says) in [
            (
                r#"{"id": "a", "gang": "j", "gang_size": 2}, {"id": "b", "gang": "j", "gang_size": 3}"#,
                "declares size 3",
            ),
            (r#"{"id": "a", "gang": "j", "gang_size": 1}, {"id": "b", "gang": "j", "gang_size": 1}"#, "more members"),
            (r#"{"id": "a", "gang": "j", "gang_size": 2}, {"id": "b", "gang": "j"}"#, "declares no size"),
            (r#"{"id": "a", "gang_size": 2}"#, "gang_size"),
            (r#"{"id": "a", "gang": "j", "gang_size": 0}"#, "gang size 0"),
            (r#"{"id": "a", "gang": {"name": "j", "size": 2}, "gang_size": 2}"#, "gang_size"),
            (r#"{"id": "a", "gang": {"name": "j", "size": 2, "extra": 1}}"#, "GangDoc"),
        ] {
            let error = read(tasks).unwrap_err().to_string();
            assert!(error.contains(says), "{tasks}: {error}");
        }
    }
}
