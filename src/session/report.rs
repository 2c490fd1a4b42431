//! What a pass reports about the tasks it left pending: the engine's reasons, one entry per kind
//! of task rather than per task.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::update::PassReport;
use crate::model::{GroupId, TaskId};
use crate::plan::{Plan, ReasonCount, Unplaced};
use crate::spec::TaskSpec;

/// Tasks of one group that a pass left unplaced for the same reasons.
///
/// Built without formatting anything: the reasons are the engine's shared list (one `Arc` per
/// kind of task), so a pass that leaves thousands of tasks pending reports a handful of these.
#[derive(Clone, Debug, PartialEq)]
pub struct UnplacedSummary {
    /// The tasks' group.
    pub group: GroupId,
    /// How many tasks of this kind the pass left unplaced.
    pub tasks: u32,
    /// The first of them, as an example.
    pub example: TaskId,
    /// Agents with live offers in the pass.
    pub agents_considered: u32,
    /// Each reason with the number of agents it rejected (the engine's counts, in its order).
    pub reasons: Arc<[ReasonCount]>,
}

impl PassReport {
    /// The report of a pass that made `plan` from `pending`: the plan's counts and its unplaced
    /// tasks summarised per kind; the offer counts start at zero.
    pub(super) fn of_plan(plan: &Plan, pending: &[TaskSpec]) -> PassReport {
        PassReport {
            stats: plan.stats.clone(),
            unplaced: summarize_unplaced(&plan.unplaced, pending),
            ..PassReport::default()
        }
    }
}

/// The unplaced tasks of a pass over `pending`, one summary per group and list of reasons, in
/// the order each kind first appears in `unplaced`.
///
/// Tasks whose reasons are one shared `Arc` are matched by pointer; lists that are equal but not
/// shared are merged too. A task missing from `pending` is left out (it has no known group).
///
/// ```
/// use std::sync::Arc;
/// use offerpack::session::summarize_unplaced;
/// use offerpack::{Reason, ReasonCount, TaskSpec, Unplaced};
///
/// let pending: Vec<TaskSpec> =
///     ["t1", "t2"].iter().map(|id| TaskSpec::builder(*id, "web").scalar("cpus", 8.0).build().unwrap()).collect();
/// let reasons: Arc<[ReasonCount]> = Arc::from([ReasonCount { reason: Reason::ClaimedByOtherGroup, agents: 2 }]);
/// let unplaced: Vec<Unplaced> = pending
///     .iter()
///     .map(|t| Unplaced { task_id: t.id.clone(), reasons: reasons.clone(), agents_considered: 2, parked: false })
///     .collect();
/// let summaries = summarize_unplaced(&unplaced, &pending);
/// assert_eq!((summaries.len(), summaries[0].tasks, summaries[0].example.as_str()), (1, 2, "t1"));
/// ```
pub fn summarize_unplaced(unplaced: &[Unplaced], pending: &[TaskSpec]) -> Vec<UnplacedSummary> {
    if unplaced.is_empty() {
        return Vec::new();
    }
    let group_of: FxHashMap<&TaskId, &GroupId> = pending.iter().map(|t| (&t.id, &t.group)).collect();
    let mut summaries: Vec<UnplacedSummary> = Vec::new();
    // The summaries of each group, by position in `summaries`.
    let mut of_group: FxHashMap<&GroupId, Vec<usize>> = FxHashMap::default();
    for task in unplaced {
        let Some(&group) = group_of.get(&task.task_id) else { continue };
        let kinds = of_group.entry(group).or_default();
        let same = |s: &UnplacedSummary| {
            s.agents_considered == task.agents_considered
                && (Arc::ptr_eq(&s.reasons, &task.reasons) || s.reasons == task.reasons)
        };
        match kinds.iter().find(|&&i| same(&summaries[i])) {
            Some(&i) => summaries[i].tasks += 1,
            None => {
                kinds.push(summaries.len());
                summaries.push(UnplacedSummary {
                    group: group.clone(),
                    tasks: 1,
                    example: task.task_id.clone(),
                    agents_considered: task.agents_considered,
                    reasons: task.reasons.clone(),
                });
            }
        }
    }
    summaries
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Reason;
    use crate::resources::Quantity;

    fn task(id: &str, group: &str) -> TaskSpec {
        TaskSpec::builder(id, group).scalar("cpus", 4.0).build().unwrap()
    }

    fn unplaced(id: &str, reasons: &Arc<[ReasonCount]>) -> Unplaced {
        Unplaced { task_id: TaskId::new(id), reasons: reasons.clone(), agents_considered: 6, parked: false }
    }

    fn constraint(agents: u32) -> Arc<[ReasonCount]> {
        let reason = Reason::Constraint { index: 0, name: Arc::from("zone:UNIQUE") };
        Arc::from([ReasonCount { reason, agents }])
    }

    #[test]
    fn summarize_unplaced_counts_each_kind_once() {
        let pending: Vec<TaskSpec> =
            vec![task("a1", "a"), task("b1", "b"), task("a2", "a"), task("b2", "b"), task("b3", "b"), task("c1", "c")];
        let short: Arc<[ReasonCount]> = Arc::from([ReasonCount {
            reason: Reason::Shortfall {
                resource: Arc::from("cpus"),
                asked: Quantity::from_milli(4000),
                best_available: Quantity::ZERO,
            },
            agents: 6,
        }]);
        let unique = constraint(3);
        // b3 has an equal list that is not the same allocation: still the same kind.
        let list = [
            unplaced("a1", &short),
            unplaced("b1", &unique),
            unplaced("a2", &short),
            unplaced("b2", &unique),
            unplaced("b3", &constraint(3)),
        ];
        let summaries = summarize_unplaced(&list, &pending);
        let got: Vec<(&str, u32, &str)> =
            summaries.iter().map(|s| (s.group.as_str(), s.tasks, s.example.as_str())).collect();
        assert_eq!(got, [("a", 2, "a1"), ("b", 3, "b1")]);
        assert!(Arc::ptr_eq(&summaries[0].reasons, &short) && Arc::ptr_eq(&summaries[1].reasons, &unique));
        assert_eq!(summaries[1].agents_considered, 6);
    }

    #[test]
    fn summarize_unplaced_splits_groups_and_reasons() {
        // One shared list across two groups (the engine shares it when nothing depends on the
        // group), and one group with two different lists: three kinds.
        let pending = vec![task("a1", "a"), task("b1", "b"), task("b2", "b")];
        let shared = constraint(2);
        let list = [unplaced("a1", &shared), unplaced("b1", &shared), unplaced("b2", &constraint(1))];
        let summaries = summarize_unplaced(&list, &pending);
        let got: Vec<(&str, u32)> = summaries.iter().map(|s| (s.group.as_str(), s.tasks)).collect();
        assert_eq!(got, [("a", 1), ("b", 1), ("b", 1)]);
        assert_eq!(summaries[2].reasons[0].agents, 1);
    }

    #[test]
    fn pass_report_of_plan_summarizes_an_engine_pass() {
        use std::time::Duration;

        use crate::engine::{Engine, EngineConfig};
        use crate::model::Offer;
        use crate::plugins::constraints::Unique;
        use crate::pool::OfferPool;

        let mut pool = OfferPool::new(Duration::from_secs(60));
        for (i, zone) in ["z1", "z2"].iter().enumerate() {
            let offer =
                Offer::new(format!("o{i}"), format!("a{i}"), &format!("h{i}")).with_scalar("cpus", 8.0).unwrap();
            pool.add(offer.with_text_attribute("zone", zone), Duration::ZERO).unwrap();
        }
        let unique: Arc<dyn crate::plugins::HardConstraint> = Arc::new(Unique::new("zone"));
        let mut pending: Vec<TaskSpec> = (1..=3)
            .map(|i| TaskSpec::builder(format!("u{i}"), "u").scalar("cpus", 1.0).hard(unique.clone()).build().unwrap())
            .collect();
        pending
            .extend((1..=2).map(|i| TaskSpec::builder(format!("big{i}"), "big").scalar("cpus", 16.0).build().unwrap()));
        let engine = Engine::new(EngineConfig::default()).unwrap();
        let plan = engine.plan(&pool, &pending, &[], Duration::ZERO).unwrap();
        let report = PassReport::of_plan(&plan, &pending);
        assert_eq!((report.stats.tasks_placed, report.stats.tasks_unplaced), (2, 3));
        let got: Vec<(&str, u32, u32)> =
            report.unplaced.iter().map(|s| (s.group.as_str(), s.tasks, s.agents_considered)).collect();
        assert_eq!(got.len(), 2, "{:?}", report.unplaced);
        assert!(got.contains(&("u", 1, 2)) && got.contains(&("big", 2, 2)), "{got:?}");
        let unique_reasons = &report.unplaced.iter().find(|s| s.group.as_str() == "u").unwrap().reasons;
        assert!(matches!(&unique_reasons[0].reason, Reason::Constraint { name, .. } if &**name == "zone:UNIQUE"));
        assert_eq!(report.accept_calls, 0);
    }

    #[test]
    fn summarize_unplaced_skips_unknown_tasks_and_empty_input() {
        assert!(summarize_unplaced(&[], &[task("a1", "a")]).is_empty());
        let list = [unplaced("ghost", &constraint(1))];
        assert!(summarize_unplaced(&list, &[task("a1", "a")]).is_empty());
    }
}
