//! Why tasks wait, in words: the one formatter of the engine's rejection reasons, shared by
//! `demo` and `run`.

use offerpack::session::UnplacedSummary;
use offerpack::{Reason, ReasonCount};

/// Kinds of pending task explained at the end of a run.
const SHOWN_KINDS: usize = 10;

/// Why `pending` tasks wait at the end of a run: one line per kind of task that the latest pass
/// with offers left unplaced (`unplaced`; the most tasks first), or one hint when that pass gave
/// no reasons; nothing when no task is pending. `offered`: whether any pass had offers.
pub fn why_pending(pending: usize, unplaced: &[UnplacedSummary], offered: bool) -> Vec<String> {
    if pending == 0 {
        return Vec::new();
    }
    if let Some(hint) = hint(unplaced, offered) {
        return vec![format!("pending tasks: {hint}")];
    }
    let mut kinds: Vec<&UnplacedSummary> = unplaced.iter().collect();
    kinds.sort_by_key(|kind| std::cmp::Reverse(kind.tasks));
    let mut lines: Vec<String> = kinds.iter().take(SHOWN_KINDS).map(|kind| pending_kind(kind)).collect();
    if kinds.len() > SHOWN_KINDS {
        lines.push(format!("... and {} more kinds of task", kinds.len() - SHOWN_KINDS));
    }
    lines
}

/// What to say of pending tasks that the latest pass with offers did not explain: `None` when it
/// gave reasons.
pub fn hint(unplaced: &[UnplacedSummary], offered: bool) -> Option<&'static str> {
    if !offered {
        Some("no offer ever arrived: does the master have agents with free resources for the framework's roles?")
    } else if unplaced.is_empty() {
        Some("no scheduling pass with offers ran since they became pending")
    } else if unplaced.iter().all(|kind| kind.reasons.is_empty()) {
        Some("pending tasks never found an offer that fits: do the agents offer every resource they ask for?")
    } else {
        None
    }
}

/// One line for one kind of pending task:
/// `3 tasks of group g pending: zone:UNIQUE rejected 3 of 3 offered agents (e.g. t4)`.
pub fn pending_kind(summary: &UnplacedSummary) -> String {
    let tasks = summary.tasks;
    let plural = if tasks == 1 { "" } else { "s" };
    format!(
        "{tasks} task{plural} of group {} pending: {} (e.g. {})",
        summary.group,
        reasons(&summary.reasons, summary.agents_considered),
        summary.example
    )
}

/// Every reason, the one that rejected the most agents first (ties keep the engine's order),
/// joined with `; `; `considered` is how many agents had offers in the pass.
pub fn reasons(list: &[ReasonCount], considered: u32) -> String {
    if list.is_empty() {
        return if considered == 0 { "no agent had an offer".to_owned() } else { "no reason recorded".to_owned() };
    }
    let mut order: Vec<&ReasonCount> = list.iter().collect();
    order.sort_by_key(|r| std::cmp::Reverse(r.agents));
    order.iter().map(|r| reason(r, considered)).collect::<Vec<_>>().join("; ")
}

/// One reason with its count, e.g. `short of cpus (asks 4, best offered 2) on 5 of 6 agents` or
/// `zone:UNIQUE rejected 3 of 3 offered agents`.
pub fn reason(r: &ReasonCount, considered: u32) -> String {
    let on = format!("on {} of {considered} agents", r.agents);
    match &r.reason {
        Reason::Shortfall { resource, asked, best_available } => {
            format!("short of {resource} (asks {asked}, best offered {best_available}) {on}")
        }
        Reason::Ports { asked, best_available } => {
            format!("too few free ports (asks {asked}, best offered {best_available}) {on}")
        }
        Reason::PortTaken { port } => format!("port {port} taken {on}"),
        Reason::ClaimedByOtherGroup => format!("held exclusively by another group {on}"),
        Reason::Constraint { name, .. } => format!("{name} rejected {} of {considered} offered agents", r.agents),
        Reason::BlockedAtItsTurn => format!("fit only once later tasks were placed (may place next pass) {on}"),
        Reason::GangIncomplete { placed, needed } => {
            format!("its gang could not be placed whole ({placed} of {needed} members fit)")
        }
        other => format!("{other:?} {on}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use offerpack::model::{GroupId, TaskId};
    use offerpack::Quantity;

    use super::*;

    fn count(reason: Reason, agents: u32) -> ReasonCount {
        ReasonCount { reason, agents }
    }

    #[test]
    fn reasons_puts_the_largest_count_first() {
        let short = Reason::Shortfall {
            resource: Arc::from("cpus"),
            asked: Quantity::new(4.0).unwrap(),
            best_available: Quantity::new(2.0).unwrap(),
        };
        let unique = Reason::Constraint { index: 0, name: Arc::from("zone:UNIQUE") };
        let list = [count(Reason::PortTaken { port: 31000 }, 1), count(unique, 3), count(short, 2)];
        assert_eq!(
            reasons(&list, 6),
            "zone:UNIQUE rejected 3 of 6 offered agents; short of cpus (asks 4, best offered 2) on 2 of 6 agents; \
             port 31000 taken on 1 of 6 agents"
        );
        assert_eq!(reasons(&[], 0), "no agent had an offer");
    }

    #[test]
    fn reason_names_every_kind() {
        let ports = count(Reason::Ports { asked: 2, best_available: 1 }, 4);
        assert_eq!(reason(&ports, 5), "too few free ports (asks 2, best offered 1) on 4 of 5 agents");
        let claimed = count(Reason::ClaimedByOtherGroup, 1);
        assert_eq!(reason(&claimed, 5), "held exclusively by another group on 1 of 5 agents");
        let blocked = count(Reason::BlockedAtItsTurn, 2);
        assert!(reason(&blocked, 5).ends_with("(may place next pass) on 2 of 5 agents"), "{}", reason(&blocked, 5));
    }

    fn kind(group: &str, tasks: u32, reasons: Vec<ReasonCount>) -> UnplacedSummary {
        UnplacedSummary {
            group: GroupId::new(group),
            tasks,
            example: TaskId::new(format!("{group}-1")),
            agents_considered: 4,
            reasons: reasons.into(),
        }
    }

    #[test]
    fn why_pending_lists_kinds_the_most_tasks_first() {
        let claimed = vec![count(Reason::ClaimedByOtherGroup, 4)];
        let taken = vec![count(Reason::PortTaken { port: 80 }, 4)];
        let lines = why_pending(5, &[kind("a", 1, claimed), kind("b", 4, taken)], true);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], "4 tasks of group b pending: port 80 taken on 4 of 4 agents (e.g. b-1)");
        assert!(lines[1].starts_with("1 task of group a pending: "), "{lines:?}");
        let kinds: Vec<UnplacedSummary> =
            (0..12).map(|i| kind(&format!("g{i}"), 1, vec![count(Reason::BlockedAtItsTurn, 1)])).collect();
        let lines = why_pending(12, &kinds, true);
        assert_eq!((lines.len(), lines[10].as_str()), (11, "... and 2 more kinds of task"));
    }

    #[test]
    fn why_pending_hints_when_no_pass_gave_reasons() {
        let lines = why_pending(3, &[], false);
        assert!(lines.len() == 1 && lines[0].contains("no offer ever arrived"), "{lines:?}");
        let lines = why_pending(3, &[kind("a", 3, Vec::new())], true);
        assert!(lines.len() == 1 && lines[0].contains("never found an offer that fits"), "{lines:?}");
        let lines = why_pending(3, &[], true);
        assert!(lines.len() == 1 && lines[0].contains("since they became pending"), "{lines:?}");
        assert!(why_pending(0, &[kind("a", 3, vec![count(Reason::ClaimedByOtherGroup, 4)])], true).is_empty());
    }

    #[test]
    fn pending_kind_says_how_many_tasks_of_which_group() {
        let unique = Reason::Constraint { index: 0, name: Arc::from("zone:UNIQUE") };
        let mut summary = UnplacedSummary {
            group: GroupId::new("g"),
            tasks: 3,
            example: TaskId::new("t4"),
            agents_considered: 3,
            reasons: Arc::from([count(unique, 3)]),
        };
        assert_eq!(
            pending_kind(&summary),
            "3 tasks of group g pending: zone:UNIQUE rejected 3 of 3 offered agents (e.g. t4)"
        );
        summary.tasks = 1;
        assert!(pending_kind(&summary).starts_with("1 task of group g pending: "));
    }
}
