//! The tasks' `after` lists: checked through a [`DependencyGraph`] (known ids, no cycle).

use super::input::{item, Problem, WorkloadError};
use super::schema::TaskDoc;
use crate::deps::{DependencyError, DependencyGraph};
use crate::model::TaskId;

/// Each task's predecessors, index for index with `docs` (whose ids were checked unique).
pub(super) fn task_after(docs: &[TaskDoc]) -> Result<Vec<Vec<TaskId>>, WorkloadError> {
    let after: Vec<Vec<TaskId>> = docs.iter().map(|d| d.after.iter().map(TaskId::new).collect()).collect();
    if after.iter().all(Vec::is_empty) {
        return Ok(after);
    }
    let batch = docs.iter().zip(&after).map(|(d, a)| (TaskId::new(&d.id), a.clone())).collect();
    match DependencyGraph::default().submit(batch) {
        Ok(_) => Ok(after),
        Err(error) => {
            let place = match &error {
                DependencyError::UnknownPredecessor { task, .. } => docs
                    .iter()
                    .position(|d| d.id == task.as_str())
                    .map_or_else(|| "tasks".to_owned(), |i| format!("{}: after", item("tasks", i, task.as_str()))),
                _ => "tasks".to_owned(),
            };
            Err(WorkloadError::at(place, Problem::Dependency(error)))
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::workload::Workload;

    #[test]
    fn after_reads_predecessors_and_names_unknown_ones() {
        let ok = r#"{"tasks": [{"id": "b", "after": ["a", "a"]}, {"id": "a"}]}"#;
        let workload = Workload::from_json(ok).unwrap();
        assert_eq!(workload.after[0].len(), 2);
        assert!(workload.after[1].is_empty());
        let unknown = r#"{"tasks": [{"id": "a"}, {"id": "b", "after": ["zz"]}]}"#;
        let error = Workload::from_json(unknown).unwrap_err().to_string();
        assert_eq!(error, "tasks[1] (id \"b\"): after: task b waits for zz, which is not a known task");
    }
}
