//! Short, stable names for the values that label logs and metrics: a rejection reason's code, a
//! task state, a call kind, a call outcome. Each set is fixed and small, so a metric labelled
//! with them has a bounded number of series whatever the workload.

use crate::plan::{PreemptionRefusal, Reason, ReasonCount};
use crate::queue::QueueReason;
use crate::session::{CallKind, CallOutcome, TaskState};

/// Every code [`reason_code`] and [`primary_reason`] return, in a fixed order.
pub const REASON_CODES: [&str; 12] = [
    "shortfall",
    "ports",
    "port_taken",
    "claimed_by_other_group",
    "blocked_at_its_turn",
    "constraint",
    "queue_limit",
    "queue_guarantee",
    "tier_capacity",
    "gang_incomplete",
    "no_offers",
    "unexplained",
];

/// The code of a rejection reason: its kind without its details (no resource, constraint or
/// bucket name), one of [`REASON_CODES`].
///
/// ```
/// use offerpack::telemetry::reason_code;
/// use offerpack::Reason;
/// assert_eq!(reason_code(&Reason::ClaimedByOtherGroup), "claimed_by_other_group");
/// ```
pub fn reason_code(reason: &Reason) -> &'static str {
    match reason {
        Reason::Shortfall { .. } => "shortfall",
        Reason::Ports { .. } => "ports",
        Reason::PortTaken { .. } => "port_taken",
        Reason::ClaimedByOtherGroup => "claimed_by_other_group",
        Reason::BlockedAtItsTurn => "blocked_at_its_turn",
        Reason::Constraint { .. } => "constraint",
        Reason::Queue(QueueReason::LimitReached { .. }) => "queue_limit",
        Reason::Queue(QueueReason::NoGuaranteedCapacity { .. }) => "queue_guarantee",
        Reason::Queue(QueueReason::TierCapacity { .. }) => "tier_capacity",
        Reason::GangIncomplete { .. } => "gang_incomplete",
        Reason::Preemption(PreemptionRefusal::NoLowerPriority) => "preemption_no_lower_priority",
        Reason::Preemption(PreemptionRefusal::Budget { .. }) => "preemption_budget",
        Reason::Preemption(_) => "preemption_not_allowed",
    }
}

/// The code that explains a kind of unplaced task in one word: the reason that rejected the
/// most agents (the first such in the engine's order), `no_offers` when no agent had an
/// offer, `unexplained` when agents had offers but no reason was recorded.
pub fn primary_reason(reasons: &[ReasonCount], agents_considered: u32) -> &'static str {
    let mut best: Option<&ReasonCount> = None;
    for r in reasons {
        if best.is_none_or(|b| r.agents > b.agents) {
            best = Some(r);
        }
    }
    match best {
        Some(r) => reason_code(&r.reason),
        None if agents_considered == 0 => "no_offers",
        None => "unexplained",
    }
}

/// Every task state label, in the order of [`state_index`].
pub const TASK_STATES: [&str; 16] = [
    "pending",
    "launched",
    "staging",
    "starting",
    "running",
    "killing",
    "finished",
    "failed",
    "killed",
    "error",
    "lost",
    "dropped",
    "unreachable",
    "gone",
    "gone_by_operator",
    "unknown",
];

/// The position of `state` in [`TASK_STATES`].
pub fn state_index(state: TaskState) -> usize {
    match state {
        TaskState::Pending => 0,
        TaskState::Launched => 1,
        TaskState::Staging => 2,
        TaskState::Starting => 3,
        TaskState::Running => 4,
        TaskState::Killing => 5,
        TaskState::Finished => 6,
        TaskState::Failed => 7,
        TaskState::Killed => 8,
        TaskState::Error => 9,
        TaskState::Lost => 10,
        TaskState::Dropped => 11,
        TaskState::Unreachable => 12,
        TaskState::Gone => 13,
        TaskState::GoneByOperator => 14,
        TaskState::Unknown => 15,
    }
}

/// The label of a task state, e.g. `running`.
pub fn state_label(state: TaskState) -> &'static str {
    TASK_STATES[state_index(state)]
}

/// The label of a call kind, e.g. `acknowledge`.
pub fn call_label(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Subscribe => "subscribe",
        CallKind::Teardown => "teardown",
        CallKind::Accept => "accept",
        CallKind::Decline => "decline",
        CallKind::Revive => "revive",
        CallKind::Suppress => "suppress",
        CallKind::Kill => "kill",
        CallKind::Acknowledge => "acknowledge",
        CallKind::Reconcile => "reconcile",
        CallKind::Other => "other",
    }
}

/// The label of how a request ended, e.g. `accepted` or `unavailable`.
pub fn outcome_label(outcome: &CallOutcome) -> &'static str {
    match outcome {
        CallOutcome::Accepted => "accepted",
        CallOutcome::NotSubscribed => "not_subscribed",
        CallOutcome::Rejected { .. } => "rejected",
        CallOutcome::Unavailable(_) => "unavailable",
        CallOutcome::Redirect { .. } => "redirect",
        CallOutcome::NotSent => "not_sent",
        CallOutcome::Fatal(_) => "fatal",
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::resources::Quantity;

    fn count(reason: Reason, agents: u32) -> ReasonCount {
        ReasonCount { reason, agents }
    }

    #[test]
    fn primary_reason_takes_the_most_agents_then_the_first() {
        let short =
            Reason::Shortfall { resource: Arc::from("cpus"), asked: Quantity::ZERO, best_available: Quantity::ZERO };
        let unique = Reason::Constraint { index: 0, name: Arc::from("host:UNIQUE") };
        assert_eq!(primary_reason(&[count(short.clone(), 2), count(unique.clone(), 5)], 7), "constraint");
        assert_eq!(primary_reason(&[count(short, 3), count(unique, 3)], 6), "shortfall");
        assert_eq!(primary_reason(&[], 0), "no_offers");
        assert_eq!(primary_reason(&[], 4), "unexplained");
    }

    #[test]
    fn reason_code_is_listed_and_queue_reasons_split() {
        let reasons = [
            Reason::Ports { asked: 2, best_available: 1 },
            Reason::PortTaken { port: 80 },
            Reason::BlockedAtItsTurn,
            Reason::Queue(QueueReason::LimitReached { bucket: Arc::from("b"), resource: Arc::from("cpus") }),
            Reason::Queue(QueueReason::NoGuaranteedCapacity { bucket: Arc::from("b") }),
            Reason::Queue(QueueReason::TierCapacity { tier: 1, resource: Arc::from("mem") }),
        ];
        let codes: Vec<&str> = reasons.iter().map(reason_code).collect();
        assert_eq!(
            codes,
            ["ports", "port_taken", "blocked_at_its_turn", "queue_limit", "queue_guarantee", "tier_capacity"]
        );
        assert!(codes.iter().all(|c| REASON_CODES.contains(c)));
    }

    #[test]
    fn state_label_round_trips_through_the_table() {
        for (i, label) in TASK_STATES.iter().enumerate() {
            let state = (0..=15)
                .filter_map(TaskState::from_proto)
                .chain([TaskState::Pending, TaskState::Launched])
                .find(|s| state_label(*s) == *label);
            assert!(state.is_some_and(|s| state_index(s) == i), "{label}");
        }
    }
}
