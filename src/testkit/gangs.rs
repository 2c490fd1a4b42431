//! The checker's gang rules: a gang is launched whole or left out whole, each member left out
//! saying so; members launch at the priority of their gang's highest member.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use super::{Violation, Workload};
use crate::model::TaskId;
use crate::plan::{Plan, Reason};
use crate::spec::TaskSpec;

/// Whether `reason` says a task was left out with its gang.
pub(super) fn is_gang_reason(reason: &Reason) -> bool {
    matches!(reason, Reason::GangIncomplete { .. })
}

/// Per task, the priority it is placed at: its gang's highest, or its own.
pub(super) fn effective_priority(tasks: &[TaskSpec]) -> Vec<i32> {
    let mut top: BTreeMap<&str, i32> = BTreeMap::new();
    for task in tasks {
        if let Some(gang) = task.gang.as_deref() {
            let p = top.entry(gang).or_insert(task.priority);
            *p = (*p).max(task.priority);
        }
    }
    tasks.iter().map(|t| t.gang.as_deref().map_or(t.priority, |g| top[g])).collect()
}

/// Every gang launched whole, or each member unplaced with [`Reason::GangIncomplete`] whose
/// `needed` is the gang's size; a task outside any gang never has that reason.
pub(super) fn check_gangs(workload: &Workload, plan: &Plan) -> Result<(), Violation> {
    let launched: HashSet<&TaskId> = plan.launches.iter().map(|l| &l.task_id).collect();
    let mut gangs: BTreeMap<&Arc<str>, Vec<&TaskSpec>> = BTreeMap::new();
    for task in &workload.tasks {
        if let Some(gang) = &task.gang {
            gangs.entry(gang).or_default().push(task);
        }
    }
    let by_id: std::collections::HashMap<&TaskId, &TaskSpec> = workload.tasks.iter().map(|t| (&t.id, t)).collect();
    for u in &plan.unplaced {
        let task = by_id.get(&u.task_id);
        let gang_reason = u.reasons.iter().find(|r| is_gang_reason(&r.reason));
        match (task.and_then(|t| t.gang.as_ref()), gang_reason) {
            (None, Some(_)) => return Err(Violation::GangSplit(Arc::from(u.task_id.as_str()))),
            (Some(gang), reason) => {
                // A declared size (the largest declared) is what the gang needs; else its members.
                let members = gangs.get(gang).map_or(&[][..], Vec::as_slice);
                let declared = members.iter().filter_map(|t| t.gang_size).max();
                let size = declared.unwrap_or(members.len() as u32);
                let says = reason.is_some_and(|r| matches!(r.reason, Reason::GangIncomplete { needed, placed } if needed == size && placed < size));
                if !says {
                    return Err(Violation::GangSplit(gang.clone()));
                }
            }
            (None, None) => {}
        }
    }
    for (gang, members) in &gangs {
        let placed = members.iter().filter(|t| launched.contains(&t.id)).count();
        if placed != 0 && placed != members.len() {
            return Err(Violation::GangSplit((*gang).clone()));
        }
    }
    Ok(())
}
