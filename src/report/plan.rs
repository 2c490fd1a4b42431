//! The plan page: what one pass did to the cluster, as figures.

use std::collections::HashMap;
use std::time::Duration;

use super::bars::{bar_chart, share_chart, Bar, Share};
use super::page::Page;
use super::svg::num;
use super::utilization::{utilization_map, AgentUse, NEARLY_FULL};
use crate::model::{AgentId, RunningTask};
use crate::plan::{Plan, PreemptionRefusal, Reason, Unplaced};
use crate::pool::OfferPool;
use crate::resources::{CPUS, MEM};

/// Most bars in the unplaced chart; further reasons are summed into one last bar.
pub const MAX_REASON_BARS: usize = 15;

/// Capacity figures of a plan, in the capacity units of
/// [`optimum::CapacityUnit`](crate::optimum::CapacityUnit).
#[derive(Clone, Debug, PartialEq)]
pub struct Capacity {
    /// Units of the agents the plan launches on.
    pub used: f64,
    /// The packing lower bound (see [`optimum::packing_bound`](crate::optimum::packing_bound)).
    pub lower_bound: f64,
    /// Whether the bound is the LP optimum (column generation converged).
    pub proven: bool,
    /// The fewest units any placement of the placeable tasks needs, when it is known (an integer
    /// packing that meets the bound rounded up).
    pub optimum: Option<f64>,
}

/// Everything the plan page shows, gathered from the data (not from the plan's JSON).
#[derive(Clone, Debug, PartialEq)]
pub struct PlanReport {
    /// Page title.
    pub title: String,
    /// Tasks placed.
    pub tasks_placed: u32,
    /// Tasks left unplaced.
    pub tasks_unplaced: u32,
    /// Agents that received a task.
    pub agents_used: u32,
    /// One entry per agent with offers in the pass.
    pub agents: Vec<AgentUse>,
    /// Capacity used against the bound; `Err` says why there is no bound.
    pub capacity: Result<Capacity, String>,
    /// Unplaced tasks per reason (see [`unplaced_by_reason`]).
    pub unplaced: Vec<Bar>,
    /// Per-bucket dominant shares after the pass (`offerpack solve` fills them from the plan's
    /// [`PlanStats::buckets`](crate::PlanStats::buckets)); empty, the page says "no buckets".
    pub buckets: Vec<Share>,
}

impl PlanReport {
    /// Gathers the figures of `plan`, made from `pool` (as it was before the plan settled: the
    /// offers still in it) and the `running` tasks at `now`; no capacity figures and no buckets
    /// (set [`PlanReport::capacity`] and [`PlanReport::buckets`] after).
    pub fn new(pool: &OfferPool, running: &[RunningTask], plan: &Plan, now: Duration) -> PlanReport {
        PlanReport {
            title: "offerpack plan".to_owned(),
            tasks_placed: plan.stats.tasks_placed,
            tasks_unplaced: plan.stats.tasks_unplaced,
            agents_used: plan.stats.agents_used,
            agents: agent_use(pool, running, plan, now),
            capacity: Err("not computed".to_owned()),
            unplaced: unplaced_by_reason(&plan.unplaced),
            buckets: Vec::new(),
        }
    }

    /// The page, as XHTML-well-formed HTML text.
    pub fn render(&self) -> String {
        let mut page = Page::new(&self.title);
        page.facts("summary", &self.summary());
        page.heading("Agents after the plan");
        let map = utilization_map("cpus against memory used, per agent", &self.agents);
        let caption = format!(
            "Each agent's share of its cpus (x) and memory (y) in use after the plan: running tasks plus \
             the plan's launches, over what it runs plus what it offered. Stranded share: when one of the two \
             is at least {} % used, the free share of the other one, which few tasks can use any more; \
             otherwise none. Agents on the dashed diagonal use both alike.",
            num(NEARLY_FULL * 100.0)
        );
        page.figure("utilization", &map, &caption);
        page.heading("Capacity used against the lower bound");
        match &self.capacity {
            Ok(capacity) => {
                let chart = bar_chart("capacity units", &capacity_bars(capacity), "");
                page.figure("capacity", &chart, CAPACITY_CAPTION);
            }
            Err(why) => page.paragraph(&format!("No lower bound: {why}.")),
        }
        page.heading("Unplaced tasks by reason");
        let chart = bar_chart("unplaced tasks by reason", &self.unplaced, "every task was placed");
        page.figure("unplaced", &chart, UNPLACED_CAPTION);
        page.heading("Bucket shares");
        let chart = share_chart("dominant resource share per bucket", &self.buckets);
        page.figure(
            "buckets",
            &chart,
            "Each bucket's dominant resource share after the pass; the dark tick is its fair share.",
        );
        page.finish()
    }

    fn summary(&self) -> Vec<(&'static str, String)> {
        let count = self.agents.len().max(1) as f64;
        let mean = |f: fn(&AgentUse) -> f64| self.agents.iter().map(f).sum::<f64>() / count * 100.0;
        let stranded = self.agents.iter().filter(|a| a.stranded() >= 0.25).count();
        let mut rows = vec![
            ("tasks placed", self.tasks_placed.to_string()),
            ("tasks unplaced", self.tasks_unplaced.to_string()),
            ("agents used", self.agents_used.to_string()),
            ("agents offered", self.agents.len().to_string()),
            ("mean cpus used", format!("{:.1} %", mean(AgentUse::cpu_share))),
            ("mean memory used", format!("{:.1} %", mean(AgentUse::mem_share))),
            ("agents stranding 25 % or more", stranded.to_string()),
        ];
        if let Ok(c) = &self.capacity {
            rows.push(("capacity used (units)", format!("{:.0}", c.used)));
            rows.push(("lower bound (units)", format!("{:.1}", c.lower_bound)));
            if let Some(optimum) = c.optimum {
                rows.push(("optimum (units)", format!("{optimum:.0}")));
            }
            if c.lower_bound > 0.0 {
                rows.push(("over the bound", format!("{:.2} %", (c.used / c.lower_bound - 1.0) * 100.0)));
            }
        }
        rows
    }
}

const CAPACITY_CAPTION: &str = "Capacity units: an agent counts for the mean, over cpus and memory, of its size \
over the smallest agent's. The lower bound is the pattern LP of vector bin packing over the pending tasks, \
constraints ignored: no placement of them all uses less. The optimum is shown when an integer packing meets \
the bound rounded up.";

const UNPLACED_CAPTION: &str = "Each unplaced task counts once, under its main reason: the one that rejected the \
most agents (the engine's first on ties).";

fn capacity_bars(c: &Capacity) -> Vec<Bar> {
    let kind = if c.proven { "LP optimum" } else { "proven bound, LP not converged" };
    let mut bars = vec![
        Bar { label: "used by this plan".to_owned(), value: c.used, note: format!("{:.0} units", c.used) },
        Bar {
            label: "lower bound".to_owned(),
            value: c.lower_bound,
            note: format!("{:.1} units ({kind})", c.lower_bound),
        },
    ];
    if let Some(optimum) = c.optimum {
        bars.push(Bar { label: "optimum".to_owned(), value: optimum, note: format!("{optimum:.0} units") });
    }
    bars
}

/// Each agent with live offers at `now`: cpus and memory used after `plan` (its running tasks'
/// plus the plan's launches') and in all (running plus offered). Agents without offers are left
/// out: what they hold in all is unknown. Sorted by agent id.
pub fn agent_use(pool: &OfferPool, running: &[RunningTask], plan: &Plan, now: Duration) -> Vec<AgentUse> {
    let mut held: HashMap<&AgentId, (f64, f64)> = HashMap::new();
    for task in running {
        let entry = held.entry(&task.agent_id).or_default();
        for (name, amount) in &task.resources {
            add(entry, name, amount.as_f64());
        }
    }
    let mut launched: HashMap<&AgentId, (f64, f64)> = HashMap::new();
    for launch in &plan.launches {
        let entry = launched.entry(&launch.agent_id).or_default();
        for a in launch.resources.iter() {
            add(entry, &a.name, a.amount.as_f64());
        }
    }
    let mut agents: Vec<AgentUse> = pool
        .agents_at(now)
        .map(|agent| {
            let free =
                agent.offers().fold((0.0, 0.0), |(c, m), o| (c + o.scalar(CPUS).as_f64(), m + o.scalar(MEM).as_f64()));
            let run = held.get(agent.id()).copied().unwrap_or_default();
            let new = launched.get(agent.id()).copied().unwrap_or_default();
            AgentUse {
                id: agent.id().as_str().to_owned(),
                cpus_used: run.0 + new.0,
                cpus_total: run.0 + free.0,
                mem_used: run.1 + new.1,
                mem_total: run.1 + free.1,
            }
        })
        .collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    agents
}

fn add(entry: &mut (f64, f64), name: &str, amount: f64) {
    match name {
        CPUS => entry.0 += amount,
        MEM => entry.1 += amount,
        _ => {}
    }
}

/// The label of a reason in the unplaced chart: `short of cpus`, `too few free ports`,
/// `port 80 taken`, `agent held by another group`, `blocked at its turn`, `constraint NAME`.
pub fn reason_label(reason: &Reason) -> String {
    match reason {
        Reason::Shortfall { resource, .. } => format!("short of {resource}"),
        Reason::Ports { .. } => "too few free ports".to_owned(),
        Reason::PortTaken { port } => format!("port {port} taken"),
        Reason::ClaimedByOtherGroup => "agent held by another group".to_owned(),
        Reason::BlockedAtItsTurn => "blocked at its turn".to_owned(),
        Reason::Constraint { name, .. } => format!("constraint {name}"),
        Reason::Queue(reason) => format!("queue: {reason}"),
        Reason::GangIncomplete { placed, needed } => format!("gang incomplete ({placed} of {needed} placed)"),
        Reason::Preemption(PreemptionRefusal::NoLowerPriority) => "nothing of lower priority to preempt".to_owned(),
        Reason::Preemption(PreemptionRefusal::Budget { group }) => format!("disruption budget of {group}"),
        Reason::Preemption(_) => "preemption not allowed".to_owned(),
    }
}

/// The main reason of an unplaced task: the reason that rejected the most agents (the first
/// on ties), or `no agent had an offer` / `no reason recorded` when there is none.
pub fn main_reason(task: &Unplaced) -> String {
    let mut best: Option<&crate::plan::ReasonCount> = None;
    for r in task.reasons.iter() {
        if best.is_none_or(|b| r.agents > b.agents) {
            best = Some(r);
        }
    }
    match best {
        Some(r) => reason_label(&r.reason),
        None if task.agents_considered == 0 => "no agent had an offer".to_owned(),
        None => "no reason recorded".to_owned(),
    }
}

/// Unplaced tasks counted per [`main_reason`], the most first (then by label); beyond
/// [`MAX_REASON_BARS`] bars the rest are summed into `N other reasons`. A bar's note names an
/// example task.
pub fn unplaced_by_reason(unplaced: &[Unplaced]) -> Vec<Bar> {
    let mut counts: HashMap<String, (u32, &str)> = HashMap::new();
    for task in unplaced {
        let entry = counts.entry(main_reason(task)).or_insert((0, task.task_id.as_str()));
        entry.0 += 1;
    }
    let mut list: Vec<(String, u32, &str)> =
        counts.into_iter().map(|(label, (n, example))| (label, n, example)).collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let note = |label: &str, n: u32, example: &str| format!("{label}: {n} tasks, e.g. {example}");
    let mut bars: Vec<Bar> = list
        .iter()
        .take(MAX_REASON_BARS)
        .map(|(label, n, example)| Bar { label: label.clone(), value: f64::from(*n), note: note(label, *n, example) })
        .collect();
    if list.len() > MAX_REASON_BARS {
        let rest = &list[MAX_REASON_BARS..];
        let n: u32 = rest.iter().map(|r| r.1).sum();
        let label = format!("{} other reasons", rest.len());
        bars.push(Bar { note: format!("{label}: {n} tasks"), label, value: f64::from(n) });
    }
    bars
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::plan::ReasonCount;

    fn unplaced(id: &str, reasons: Vec<(Reason, u32)>, considered: u32) -> Unplaced {
        let reasons: Vec<ReasonCount> =
            reasons.into_iter().map(|(reason, agents)| ReasonCount { reason, agents }).collect();
        Unplaced { task_id: id.into(), reasons: Arc::from(reasons), agents_considered: considered, parked: false }
    }

    fn constraint(name: &str) -> Reason {
        Reason::Constraint { index: 0, name: Arc::from(name) }
    }

    #[test]
    fn main_reason_takes_the_most_agents_and_the_first_on_ties() {
        let task = unplaced(
            "t",
            vec![(Reason::ClaimedByOtherGroup, 2), (constraint("c"), 5), (Reason::PortTaken { port: 80 }, 5)],
            9,
        );
        assert_eq!(main_reason(&task), "constraint c");
        assert_eq!(main_reason(&unplaced("t", vec![], 0)), "no agent had an offer");
        assert_eq!(main_reason(&unplaced("t", vec![], 3)), "no reason recorded");
    }

    #[test]
    fn unplaced_by_reason_sorts_and_sums_the_tail() {
        let mut tasks = Vec::new();
        for kind in 0..20u32 {
            for i in 0..=kind {
                tasks.push(unplaced(&format!("t{kind}-{i}"), vec![(constraint(&format!("c{kind:02}")), 1)], 1));
            }
        }
        let bars = unplaced_by_reason(&tasks);
        assert_eq!(bars.len(), MAX_REASON_BARS + 1);
        assert_eq!((bars[0].label.as_str(), bars[0].value), ("constraint c19", 20.0));
        assert!(bars[0].note.ends_with("e.g. t19-0"), "{}", bars[0].note);
        let last = bars.last().unwrap();
        assert_eq!((last.label.as_str(), last.value), ("5 other reasons", 15.0));
        assert_eq!(bars.iter().map(|b| b.value).sum::<f64>(), tasks.len() as f64);
    }
}
