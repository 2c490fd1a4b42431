//! Writing a plan as JSON, through private serde mirrors of the plan types.

use std::io;

use serde::Serialize;

use crate::model::OfferId;
use crate::plan::{Launch, Plan, PreemptionRefusal, Reason, ReasonCount, Unplaced};
use crate::queue::QueueReason;

/// How long the pass took, for the plan's `stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timing {
    /// The pass time in milliseconds (the median when there were several runs).
    pub schedule_ms: f64,
    /// How many runs the time is the median of.
    pub runs: u32,
}

impl Timing {
    /// The median of several run times, in milliseconds; zero runs give zero.
    pub fn median(runs: &[std::time::Duration]) -> Timing {
        let mut ms: Vec<f64> = runs.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let n = ms.len();
        let schedule_ms = match n {
            0 => 0.0,
            _ if n % 2 == 1 => ms[n / 2],
            _ => (ms[n / 2 - 1] + ms[n / 2]) / 2.0,
        };
        Timing { schedule_ms, runs: u32::try_from(n).unwrap_or(u32::MAX) }
    }
}

/// Writes `plan` as one line of JSON (see the [module docs](super) for the format).
pub fn write_plan<W: io::Write>(out: W, plan: &Plan, timing: Timing) -> io::Result<()> {
    serde_json::to_writer(out, &PlanDoc::new(plan, timing)).map_err(io::Error::from)
}

/// The plan as JSON text.
pub fn plan_to_json(plan: &Plan, timing: Timing) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail, and serde_json writes only UTF-8.
    let _ = write_plan(&mut buf, plan, timing);
    String::from_utf8_lossy(&buf).into_owned()
}

#[derive(Serialize)]
struct PlanDoc<'a> {
    launches: Vec<LaunchDoc<'a>>,
    unplaced: Vec<UnplacedDoc<'a>>,
    declined_offer_ids: Vec<&'a str>,
    expired_offer_ids: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    preemptions: Vec<PreemptionDoc<'a>>,
    stats: StatsDoc<'a>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    scale_up: std::collections::BTreeMap<&'a str, u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    scale_down: Vec<&'a str>,
}

#[derive(Serialize)]
struct PreemptionDoc<'a> {
    task_id: &'a str,
    group: &'a str,
    agent_id: &'a str,
    victims: Vec<&'a str>,
    why: Vec<ReasonDoc<'a>>,
}

#[derive(Serialize)]
struct LaunchDoc<'a> {
    task_id: &'a str,
    group: &'a str,
    agent_id: &'a str,
    hostname: &'a str,
    offer_ids: Vec<&'a str>,
    ports: Vec<u16>,
    resources: Vec<AllocationDoc<'a>>,
}

#[derive(Serialize)]
struct AllocationDoc<'a> {
    name: &'a str,
    role: &'a str,
    amount: f64,
}

#[derive(Serialize)]
struct UnplacedDoc<'a> {
    task_id: &'a str,
    agents_considered: u32,
    reasons: Vec<ReasonDoc<'a>>,
}

#[derive(Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
enum ReasonDoc<'a> {
    Shortfall { resource: &'a str, asked: f64, best_available: f64, agents: u32 },
    Ports { asked: u32, best_available: u32, agents: u32 },
    PortTaken { port: u16, agents: u32 },
    ClaimedByOtherGroup { agents: u32 },
    BlockedAtItsTurn { agents: u32 },
    Constraint { index: usize, name: &'a str, agents: u32 },
    LimitReached { bucket: &'a str, resource: &'a str, agents: u32 },
    NoGuaranteedCapacity { bucket: &'a str, agents: u32 },
    TierCapacity { tier: u32, resource: &'a str, agents: u32 },
    GangIncomplete { placed: u32, needed: u32, agents: u32 },
    PreemptionNoLowerPriority { agents: u32 },
    PreemptionBudget { group: &'a str, agents: u32 },
    PreemptionNotAllowed { agents: u32 },
}

#[derive(Serialize)]
struct StatsDoc<'a> {
    tasks_placed: u32,
    tasks_unplaced: u32,
    agents_used: u32,
    agents_considered: u32,
    task_classes: u32,
    schedule_ms: f64,
    schedule_ms_runs: u32,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    buckets: &'a [crate::queue::BucketStats],
}

fn ids(ids: &[OfferId]) -> Vec<&str> {
    ids.iter().map(OfferId::as_str).collect()
}

impl<'a> PlanDoc<'a> {
    fn new(plan: &'a Plan, timing: Timing) -> PlanDoc<'a> {
        let s = &plan.stats;
        PlanDoc {
            launches: plan.launches.iter().map(LaunchDoc::new).collect(),
            unplaced: plan.unplaced.iter().map(UnplacedDoc::new).collect(),
            declined_offer_ids: ids(&plan.declined),
            expired_offer_ids: ids(&plan.expired),
            preemptions: plan
                .preemptions
                .iter()
                .map(|p| PreemptionDoc {
                    task_id: p.task_id.as_str(),
                    group: p.group.as_str(),
                    agent_id: p.agent_id.as_str(),
                    victims: p.victims.iter().map(|v| v.as_str()).collect(),
                    why: p.why.iter().map(ReasonDoc::new).collect(),
                })
                .collect(),
            stats: StatsDoc {
                tasks_placed: s.tasks_placed,
                tasks_unplaced: s.tasks_unplaced,
                agents_used: s.agents_used,
                agents_considered: s.agents_considered,
                task_classes: s.task_classes,
                schedule_ms: timing.schedule_ms,
                schedule_ms_runs: timing.runs,
                buckets: &s.buckets,
            },
            scale_up: plan.scale_up.iter().map(|(class, n)| (&**class, *n)).collect(),
            scale_down: plan.scale_down.iter().map(|a| a.as_str()).collect(),
        }
    }
}

impl<'a> LaunchDoc<'a> {
    fn new(l: &'a Launch) -> LaunchDoc<'a> {
        LaunchDoc {
            task_id: l.task_id.as_str(),
            group: l.group.as_str(),
            agent_id: l.agent_id.as_str(),
            hostname: &l.hostname,
            offer_ids: ids(&l.offer_ids),
            ports: l.ports.iter().map(|(p, _)| *p).collect(),
            resources: l
                .resources
                .iter()
                .map(|a| AllocationDoc { name: &a.name, role: a.role.as_str(), amount: a.amount.as_f64() })
                .collect(),
        }
    }
}

impl<'a> UnplacedDoc<'a> {
    fn new(u: &'a Unplaced) -> UnplacedDoc<'a> {
        UnplacedDoc {
            task_id: u.task_id.as_str(),
            agents_considered: u.agents_considered,
            reasons: u.reasons.iter().map(ReasonDoc::new).collect(),
        }
    }
}

impl<'a> ReasonDoc<'a> {
    fn new(r: &'a ReasonCount) -> ReasonDoc<'a> {
        let agents = r.agents;
        match &r.reason {
            Reason::Shortfall { resource, asked, best_available } => ReasonDoc::Shortfall {
                resource,
                asked: asked.as_f64(),
                best_available: best_available.as_f64(),
                agents,
            },
            Reason::Ports { asked, best_available } => {
                ReasonDoc::Ports { asked: *asked, best_available: *best_available, agents }
            }
            Reason::PortTaken { port } => ReasonDoc::PortTaken { port: *port, agents },
            Reason::ClaimedByOtherGroup => ReasonDoc::ClaimedByOtherGroup { agents },
            Reason::BlockedAtItsTurn => ReasonDoc::BlockedAtItsTurn { agents },
            Reason::Constraint { index, name } => ReasonDoc::Constraint { index: *index, name, agents },
            Reason::Queue(QueueReason::LimitReached { bucket, resource }) => {
                ReasonDoc::LimitReached { bucket, resource, agents }
            }
            Reason::Queue(QueueReason::NoGuaranteedCapacity { bucket }) => {
                ReasonDoc::NoGuaranteedCapacity { bucket, agents }
            }
            Reason::Queue(QueueReason::TierCapacity { tier, resource }) => {
                ReasonDoc::TierCapacity { tier: *tier, resource, agents }
            }
            Reason::GangIncomplete { placed, needed } => {
                ReasonDoc::GangIncomplete { placed: *placed, needed: *needed, agents }
            }
            Reason::Preemption(PreemptionRefusal::NoLowerPriority) => ReasonDoc::PreemptionNoLowerPriority { agents },
            Reason::Preemption(PreemptionRefusal::Budget { group }) => {
                ReasonDoc::PreemptionBudget { group: group.as_str(), agents }
            }
            Reason::Preemption(_) => ReasonDoc::PreemptionNotAllowed { agents },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Allocation, PlanStats};
    use crate::resources::Quantity;
    use crate::Role;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn timing_median_of_odd_and_even_runs() {
        let ms = |v: &[u64]| v.iter().map(|&m| Duration::from_millis(m)).collect::<Vec<_>>();
        assert_eq!(Timing::median(&ms(&[5, 1, 3])), Timing { schedule_ms: 3.0, runs: 3 });
        assert_eq!(Timing::median(&ms(&[4, 1, 3, 2])).schedule_ms, 2.5);
        assert_eq!(Timing::median(&[]), Timing::default());
    }

    #[test]
    fn plan_json_has_every_section() {
        let plan = Plan {
            launches: vec![Launch {
                task_id: "t1".into(),
                group: "g".into(),
                agent_id: "a1".into(),
                hostname: Arc::from("h1"),
                offer_ids: Arc::from(vec![OfferId::new("o1")]),
                resources: Arc::from(vec![Allocation {
                    name: Arc::from("cpus"),
                    role: Role::unreserved(),
                    amount: Quantity::new(1.5).unwrap(),
                }]),
                ports: vec![(31000, Role::unreserved())].into(),
                executor_id: None,
                executor_resources: None,
            }],
            unplaced: vec![Unplaced {
                task_id: "t2".into(),
                agents_considered: 1,
                parked: false,
                reasons: Arc::from(vec![ReasonCount {
                    reason: Reason::Shortfall {
                        resource: Arc::from("cpus"),
                        asked: Quantity::from_units(8),
                        best_available: Quantity::new(2.5).unwrap(),
                    },
                    agents: 1,
                }]),
            }],
            declined: vec!["o2".into()],
            expired: vec![],
            preemptions: vec![],
            stats: PlanStats {
                tasks_placed: 1,
                tasks_unplaced: 1,
                agents_used: 1,
                agents_considered: 1,
                task_classes: 2,
                ..PlanStats::default()
            },
            scale_up: vec![(Arc::from("m5.large"), 3)],
            scale_down: vec!["a9".into()],
        };
        let v: serde_json::Value =
            serde_json::from_str(&plan_to_json(&plan, Timing { schedule_ms: 1.25, runs: 3 })).unwrap();
        assert_eq!(v["launches"][0]["ports"][0], 31000);
        assert_eq!(v["launches"][0]["resources"][0]["amount"], 1.5);
        assert_eq!(v["unplaced"][0]["reasons"][0]["reason"], "shortfall");
        assert_eq!(v["unplaced"][0]["reasons"][0]["best_available"], 2.5);
        assert_eq!(v["declined_offer_ids"][0], "o2");
        assert_eq!(v["stats"]["schedule_ms_runs"], 3);
        assert_eq!(v["stats"]["task_classes"], 2);
        assert_eq!(v["scale_up"]["m5.large"], 3);
        assert_eq!(v["scale_down"][0], "a9");
        let quiet = plan_to_json(&Plan::default(), Timing::default());
        assert!(!quiet.contains("scale_up") && !quiet.contains("scale_down"), "{quiet}");
    }
}
