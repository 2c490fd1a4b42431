//! The lines `run` prints as preemption and autoscaling happen in a live run.

use offerpack::model::{AgentId, TaskId};
use offerpack::session::{ScaleHintsUpdate, TaskState};

/// `preempting: urgent evicts low-1, low-2`: a pass placed `task` by killing `victims`.
pub fn preempting(task: &TaskId, victims: &[TaskId]) -> String {
    let victims: Vec<&str> = victims.iter().map(|v| v.as_str()).collect();
    format!("preempting: {task} evicts {}", victims.join(", "))
}

/// `preempted: low-1 (on a-1) ended Killed for urgent; pending again`.
pub fn preempted(task: &TaskId, by: &TaskId, agent: Option<&AgentId>, state: TaskState) -> String {
    let on = agent.map(|a| format!(" (on {a})")).unwrap_or_default();
    format!("preempted: {task}{on} ended {state} for {by}; pending again")
}

/// `scale hints: up m5.large +2, c4 +1; down a-7, a-9` (or `none`).
pub fn scale_hints(hints: &ScaleHintsUpdate) -> String {
    let up: Vec<String> = hints.scale_up.iter().map(|(class, n)| format!("{class} +{n}")).collect();
    let down: Vec<&str> = hints.scale_down.iter().map(|a| a.as_str()).collect();
    let part = |name: &str, items: Vec<String>| match items.is_empty() {
        true => format!("{name} none"),
        false => format!("{name} {}", items.join(", ")),
    };
    format!("scale hints: {}; {}", part("up", up), part("down", down.iter().map(|s| s.to_string()).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_lines_read_well() {
        let victims = [TaskId::new("low-1"), TaskId::new("low-2")];
        assert_eq!(preempting(&"urgent".into(), &victims), "preempting: urgent evicts low-1, low-2");
        let line = preempted(&"low-1".into(), &"urgent".into(), Some(&"a-1".into()), TaskState::Killed);
        assert_eq!(line, "preempted: low-1 (on a-1) ended Killed for urgent; pending again");
        let hints = ScaleHintsUpdate { scale_up: vec![("c4".into(), 3)], scale_down: vec!["g2".into()] };
        assert_eq!(scale_hints(&hints), "scale hints: up c4 +3; down g2");
        assert_eq!(scale_hints(&ScaleHintsUpdate::default()), "scale hints: up none; down none");
    }
}
