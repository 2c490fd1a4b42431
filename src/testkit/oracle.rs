//! A brute-force reference for [`Packing::TaskByTask`](crate::Packing::TaskByTask): places the
//! tasks of a small workload one at a time, asking every agent, with nothing of the engine but
//! the plugins' names and declared scopes.
//!
//! For each task in the engine's order (higher priority first, then as given), every agent is
//! evaluated as the [`checker`](super::checker) evaluates the end of a pass: free resources and
//! ports per role recomputed from the offers and the placements so far, claims, and every hard
//! constraint by its documented semantics against the counts so far. Among the agents that pass,
//! the best score wins, computed from the documented formulas: the fitness (by its name:
//! `cpu_mem_binpack`, `cpu_binpack`, `mem_binpack`, `network_binpack`, `spread`, `balanced`)
//! times the fitness weight, plus each soft constraint's weight times its score. Ties break as
//! the engine documents: on the agent-local part of the score (fitness and soft constraints of
//! [`Scope::Static`] or [`Scope::Agent`]), then on the lowest agent id. The winner takes the
//! task's resources in the roles it accepts, in order (reserved roles first when it accepts
//! every role), its specific ports, then the lowest free ports.
//!
//! The oracle is quadratic and allocates freely: keep inputs to tens of agents and tasks. It
//! knows only the built-in constraints and fitness calculators; anything else is
//! [`Unsupported`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use super::rules::{Agents, Ledger, Rule, Tally};
use super::Workload;
use crate::model::{AgentId, GroupId, Offer, TaskId};
use crate::plan::Plan;
use crate::plugins::{Fitness, Scope};
use crate::spec::TaskSpec;

/// Where the oracle put each task.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OraclePlan {
    /// Tasks placed, with their agent, in the order they were placed.
    pub placed: Vec<(TaskId, AgentId)>,
    /// Tasks no agent could take at their turn, in the order they came.
    pub unplaced: Vec<TaskId>,
}

impl OraclePlan {
    /// A plan's launches as (task, agent) pairs and its unplaced tasks, in the same form.
    pub fn of(plan: &Plan) -> OraclePlan {
        OraclePlan {
            placed: plan.launches.iter().map(|l| (l.task_id.clone(), l.agent_id.clone())).collect(),
            unplaced: plan.unplaced.iter().map(|u| u.task_id.clone()).collect(),
        }
    }
}

/// Something the oracle has no documented semantics for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsupported {
    /// A fitness calculator that is not a built-in, by name.
    Fitness(String),
    /// A hard or soft constraint that is not a built-in, by name.
    Constraint(String),
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fitness(name) => write!(f, "the oracle knows no fitness called {name}"),
            Self::Constraint(name) => write!(f, "the oracle knows no constraint called {name}"),
        }
    }
}

impl std::error::Error for Unsupported {}

/// A built-in fitness calculator, by its documented formula over the utilisation of cpus and
/// memory (or one resource) once the task is placed.
#[derive(Clone, Copy)]
enum Formula {
    /// The mean utilisation of these resources.
    BinPack(&'static [&'static str]),
    Spread,
    Balanced,
}

impl Formula {
    fn of(fitness: &dyn Fitness) -> Result<Formula, Unsupported> {
        Ok(match fitness.name() {
            "cpu_mem_binpack" => Formula::BinPack(&["cpus", "mem"]),
            "cpu_binpack" => Formula::BinPack(&["cpus"]),
            "mem_binpack" => Formula::BinPack(&["mem"]),
            "network_binpack" => Formula::BinPack(&["network"]),
            "spread" => Formula::Spread,
            "balanced" => Formula::Balanced,
            other => return Err(Unsupported::Fitness(other.to_owned())),
        })
    }

    /// The score, clamped into `[0, 1]` (NaN as 0); `used(r)` is the utilisation of `r`.
    fn score(self, used: impl Fn(&str) -> f64) -> f64 {
        let value = match self {
            Formula::BinPack(names) => names.iter().map(|n| used(n)).sum::<f64>() / names.len() as f64,
            Formula::Spread => 1.0 - (used("cpus") + used("mem")) / 2.0,
            Formula::Balanced => 1.0 - (used("cpus") - used("mem")).abs(),
        };
        if value.is_nan() {
            0.0
        } else {
            value.clamp(0.0, 1.0)
        }
    }
}

/// A task's soft constraints as rules, each with its weight and whether its scope puts it in
/// the agent-local part of the score.
type SoftRules = Vec<(f64, Rule, bool)>;

/// Places `workload`'s tasks one by one as [`Packing::TaskByTask`](crate::Packing::TaskByTask)
/// documents it (see the module docs), scoring with `fitness` weighted by `fitness_weight`.
/// Every offer counts as live.
pub fn task_by_task(
    workload: &Workload,
    fitness: &dyn Fitness,
    fitness_weight: f64,
) -> Result<OraclePlan, Unsupported> {
    let formula = Formula::of(fitness)?;
    let mut rules: Vec<(Vec<Rule>, SoftRules)> = Vec::with_capacity(workload.tasks.len());
    for task in &workload.tasks {
        let hard = task.hard.iter().map(|c| Rule::of(&**c).ok_or_else(|| Unsupported::Constraint(c.name().into())));
        let soft = task.soft.iter().map(|t| {
            let local = matches!(t.constraint.scope(), Scope::Static | Scope::Agent);
            let rule = Rule::of_soft(&*t.constraint).ok_or_else(|| Unsupported::Constraint(t.constraint.name().into()));
            rule.map(|rule| (t.weight, rule, local))
        });
        rules.push((hard.collect::<Result<_, _>>()?, soft.collect::<Result<_, _>>()?));
    }
    let agents = Agents::new(workload, &Plan::default());
    let mut pass = Pass {
        ledger: Ledger::new(&agents),
        tally: Tally::with_running(workload, &agents),
        owner: HashMap::new(),
        size: sizes(workload, &agents),
        agents: &agents,
    };
    let mut order: Vec<usize> = (0..workload.tasks.len()).collect();
    order.sort_by_key(|&t| std::cmp::Reverse(workload.tasks[t].priority));
    let mut out = OraclePlan::default();
    for t in order {
        let task = &workload.tasks[t];
        let (hard, soft) = &rules[t];
        let score = |agent: &AgentId, offers: &[&Offer]| pass.score(task, agent, offers, soft, formula, fitness_weight);
        let mut best: Option<(f64, f64, &AgentId)> = None;
        for (&agent, offers) in pass.agents.by_id.iter().filter(|(a, offers)| pass.takes(task, a, offers, hard)) {
            let (total, local) = score(agent, offers);
            let beats = best.is_none_or(|(t, l, _)| total.total_cmp(&t).then(local.total_cmp(&l)).is_gt());
            if beats {
                best = Some((total, local, agent));
            }
        }
        match best.map(|(_, _, agent)| agent.clone()) {
            Some(agent) => {
                pass.commit(task, &agent);
                out.placed.push((task.id.clone(), agent));
            }
            None => out.unplaced.push(task.id.clone()),
        }
    }
    Ok(out)
}

/// Each agent's size per resource: its offers over every role, plus what its running tasks
/// declare they hold.
fn sizes(workload: &Workload, agents: &Agents<'_>) -> HashMap<(AgentId, Arc<str>), i64> {
    let mut size: HashMap<(AgentId, Arc<str>), i64> = HashMap::new();
    for (&agent, offers) in &agents.by_id {
        for r in offers.iter().flat_map(|o| &o.resources) {
            if let crate::model::ResourceValue::Scalar(q) = &r.value {
                *size.entry((agent.clone(), r.name.clone())).or_default() += q.milli();
            }
        }
    }
    for task in workload.running.iter().filter(|t| agents.get(&t.agent_id).is_some()) {
        for (name, q) in &task.resources {
            *size.entry((task.agent_id.clone(), name.clone())).or_default() += q.milli();
        }
    }
    size
}

/// The oracle's pass so far.
struct Pass<'a> {
    ledger: Ledger,
    tally: Tally,
    owner: HashMap<AgentId, GroupId>,
    size: HashMap<(AgentId, Arc<str>), i64>,
    agents: &'a Agents<'a>,
}

impl Pass<'_> {
    /// Whether `agent` can take `task` now: room, no other group's claim, every hard rule.
    fn takes(&self, task: &TaskSpec, agent: &AgentId, offers: &[&Offer], hard: &[Rule]) -> bool {
        self.ledger.fits(task, agent)
            && self.owner.get(agent).is_none_or(|g| *g == task.group)
            && hard.iter().all(|rule| rule.allows(&self.tally, &task.group, offers))
    }

    /// The total score and its agent-local part, summed in the order the engine documents.
    fn score(
        &self,
        task: &TaskSpec,
        agent: &AgentId,
        offers: &[&Offer],
        soft: &SoftRules,
        formula: Formula,
        weight: f64,
    ) -> (f64, f64) {
        let used = |name: &str| {
            let size = self.size.get(&(agent.clone(), Arc::from(name))).copied().unwrap_or(0);
            if size <= 0 {
                return 0.0;
            }
            let free = self.ledger.free_all_roles(agent, &Arc::from(name)).max(0);
            let ask = task.resources.iter().find(|(n, _)| &**n == name).map_or(0, |(_, q)| q.milli());
            ((size - free + ask) as f64 / size as f64).clamp(0.0, 1.0)
        };
        let mut local = weight * formula.score(used);
        let mut shared = 0.0;
        for (w, rule, is_local) in soft {
            let term = w * rule.score(&self.tally, &task.group, offers);
            if *is_local {
                local += term;
            } else {
                shared += term;
            }
        }
        (shared + local, local)
    }

    /// Places `task` on `agent`.
    fn commit(&mut self, task: &TaskSpec, agent: &AgentId) {
        self.ledger.draw(task, agent);
        self.tally.place(&task.group, agent, self.agents.get(agent).unwrap_or_default());
        if task.hard.iter().any(|c| c.claims_agent()) {
            self.owner.insert(agent.clone(), task.group.clone());
        }
    }
}
