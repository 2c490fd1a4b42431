//! An independent plan checker: recomputes soundness and completeness from the offers, not from
//! engine state.
//!
//! What [`check_plan`] verifies, each rule a [`Violation`] when broken:
//!
//! - tasks: every pending task appears exactly once, launched or unplaced; no other task does;
//! - launches: the agent has live offers (not listed as expired), `offer_ids` are all of them
//!   sorted, hostname and group are right;
//! - resources: each task gets exactly the scalar amounts it asks for, only from roles it accepts,
//!   and no agent gives more of a resource in a role than its live offers hold in that role;
//! - ports: the count asked for, the specific ports among them, each offered by the agent in that
//!   role and in an accepted role, none given twice on one agent;
//! - offers: every offer is accounted exactly once — on an agent with launches, declined or
//!   expired — and the plan names no other offer;
//! - hard constraints: built-in constraints hold, re-evaluated from their documented semantics
//!   (below); no task lands on an agent an `EXCLUSIVE` task of another group claimed;
//! - explanations: each agent considered is counted once under an unplaced task's reasons, and
//!   [`Reason::BlockedAtItsTurn`] counts only for a task with a constraint that loosens as tasks
//!   are placed (see below);
//! - order: launches follow priority, highest first;
//! - gangs: every gang is launched whole, or each member is unplaced with
//!   [`Reason::GangIncomplete`] (such a member is exempt from completeness), and a gang's
//!   members launch at the priority of its highest member;
//! - stats: the counts in [`Plan::stats`] match the plan;
//! - completeness: no unplaced task could go on an agent in the state the pass ended in (below).
//!
//! # Completeness
//! Placing a task only takes resources and ports, claims agents and adds to counts, and most
//! constraints only tighten as counts grow; so an agent that could take an unplaced task at the
//! end of the pass could take it at the task's turn, and the engine should have chosen it. The
//! checker recomputes that end state itself — free resources and ports per role from the offers
//! less the plan's allocations, claims, and the counts after every launch — and evaluates every
//! built-in hard constraint there (a user plugin only with [`CheckOptions::replay`], through
//! the views on the replayed state; without it, a task with one is not checked). Tasks with a
//! constraint that loosens as tasks are placed
//! ([`HardConstraint::loosens_as_tasks_are_placed`], hard `GROUP_BY` and `BALANCE`) are
//! exempt: they may be left unplaced although an agent takes them at the end, and only they may
//! be explained as [`Reason::BlockedAtItsTurn`].
//!
//! # Built-in constraints, and why placement order
//! A built-in is recognised by its [`name`](HardConstraint::name) (`attr:OPERATOR[:value]` or
//! `EXCLUSIVE`), so a user plugin that imitates a built-in's name is checked as that built-in.
//! Counts per (group, attribute value) start from the running tasks and follow
//! [`Plan::launches`], which is in placement order; each launch is checked against the counts
//! before it. A check of the final state alone would be wrong for some rules: a task of a group
//! without `hostname:UNIQUE` may legally join a `UNIQUE` task's host after it, and running tasks
//! may already break a rule the pass cannot undo.
//!
//! `GROUP_BY` and `BALANCE` are order dependent: they constrain each placement, not the end
//! state. In particular the final spread is **not** checked, because it is not implied: running
//! tasks may start skewed (3 tasks in zone `a`, none in `b`: one more placement in `b` leaves a
//! skew of 2), values in use may lack free resources, and tasks of the group without the
//! constraint may pile up anywhere. The placement-time rule is what the ordered recount checks.
//!
//! # User plugins
//! A user's hard constraint has no known semantics, and in general its answer depends on the
//! pass state when it was asked. [`check_plan_with`] with [`CheckOptions::replay`] rebuilds that
//! state launch by launch from the offers and the plan's own allocations, and asks every hard
//! constraint of every launched task again through the same views the engine hands plugins
//! (views read the engine's pass state, so this part goes through it; the checks above do not).
//! It checks that the engine asked at the right moment and obeyed (no stale index, no forgotten
//! constraint), not that the plugin itself is right — that is what your own properties are for.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::rules::{accepts, offered, offered_ports, pending, Agents, Ledger, Rule, Tally};
use super::{Violation, Workload};
use crate::engine::class::{compile_in, TaskClass};
use crate::engine::state::PassState;
use crate::model::{AgentId, GroupId, Offer, OfferId, Role, TaskId};
use crate::plan::{Plan, Reason};
use crate::plugins::{AgentView, HardConstraint, PassView};
use crate::pool::OfferPool;
use crate::resources::Quantity;
use crate::spec::TaskSpec;

/// Checks beyond the always-on ones, and how the engine was configured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckOptions {
    /// Also replay the launches and re-ask every hard constraint, user plugins included (see the
    /// module docs).
    pub replay: bool,
    /// The engine ran with `decline_unused: false`: offers of agents without launches may be
    /// left out of the plan.
    pub keep_unused: bool,
}

/// Checks that `plan` is a sound and complete plan for `workload` (see the module docs); the
/// first violation found is returned.
///
/// The plan must come from a pool holding exactly the workload's offers (those listed in
/// [`Plan::expired`] are taken as expired), from an engine declining unused offers (the
/// default), with the workload's pending and running tasks.
pub fn check_plan(workload: &Workload, plan: &Plan) -> Result<(), Violation> {
    check_plan_with(workload, plan, CheckOptions::default())
}

/// [`check_plan`] with options: replay user plugins, or allow undeclined offers.
pub fn check_plan_with(workload: &Workload, plan: &Plan, options: CheckOptions) -> Result<(), Violation> {
    let agents = Agents::new(workload, plan);
    check_tasks(workload, plan)?;
    check_launches(workload, plan, &agents)?;
    check_offers(workload, plan, &agents, options.keep_unused)?;
    let end = check_rules(workload, plan, &agents)?;
    check_unplaced(workload, plan, &agents)?;
    check_order(workload, plan)?;
    super::gangs::check_gangs(workload, plan)?;
    check_stats(plan, &agents)?;
    let replayed = if options.replay { Some(replay(workload, plan)?) } else { None };
    check_complete(workload, plan, &agents, &end, replayed.as_ref())
}

fn check_tasks(workload: &Workload, plan: &Plan) -> Result<(), Violation> {
    let pending = pending(workload);
    let mut seen: HashSet<&TaskId> = HashSet::new();
    let ids = plan.launches.iter().map(|l| &l.task_id).chain(plan.unplaced.iter().map(|u| &u.task_id));
    for id in ids {
        if !pending.contains_key(id) {
            return Err(Violation::UnknownTask(id.clone()));
        }
        if !seen.insert(id) {
            return Err(Violation::TaskTwice(id.clone()));
        }
    }
    match workload.tasks.iter().find(|t| !seen.contains(&t.id)) {
        Some(t) => Err(Violation::TaskMissing(t.id.clone())),
        None => Ok(()),
    }
}

fn check_launches(workload: &Workload, plan: &Plan, agents: &Agents<'_>) -> Result<(), Violation> {
    let pending = pending(workload);
    let mut used: BTreeMap<(&AgentId, &Arc<str>, &Role), Quantity> = BTreeMap::new();
    let mut ports_used: HashSet<(&AgentId, u16)> = HashSet::new();
    for launch in &plan.launches {
        let task = pending[&launch.task_id];
        let mismatch = |field| Violation::LaunchMismatch { task: task.id.clone(), field };
        let Some(offers) = agents.get(&launch.agent_id) else {
            return Err(Violation::UnknownAgent { task: task.id.clone(), agent: launch.agent_id.clone() });
        };
        if !launch.offer_ids.iter().eq(offers.iter().map(|o| &o.id)) {
            return Err(mismatch("offer_ids"));
        }
        if launch.hostname != offers[0].hostname {
            return Err(mismatch("hostname"));
        }
        if launch.group != task.group {
            return Err(mismatch("group"));
        }
        for (name, asked) in &task.resources {
            let given = launch.resources.iter().filter(|a| a.name == *name).fold(Quantity::ZERO, |s, a| s + a.amount);
            if given != *asked {
                return Err(Violation::WrongAmount {
                    task: task.id.clone(),
                    resource: name.clone(),
                    asked: *asked,
                    given,
                });
            }
        }
        for a in launch.resources.iter() {
            if task.ask(&a.name).is_zero() {
                let wrong = Violation::WrongAmount {
                    task: task.id.clone(),
                    resource: a.name.clone(),
                    asked: Quantity::ZERO,
                    given: a.amount,
                };
                return Err(wrong);
            }
            if !accepts(task, &a.role) {
                return Err(Violation::WrongRole {
                    task: task.id.clone(),
                    resource: a.name.clone(),
                    role: a.role.clone(),
                });
            }
            *used.entry((&launch.agent_id, &a.name, &a.role)).or_default() += a.amount;
        }
        check_ports(task, launch, offers, &mut ports_used)?;
    }
    for ((agent, name, role), allocated) in used {
        let offered = offered(agents.get(agent).unwrap_or_default(), name, role);
        if allocated > offered {
            let (agent, resource, role) = (agent.clone(), name.clone(), role.clone());
            return Err(Violation::OverCommitted { agent, resource, role, offered, allocated });
        }
    }
    Ok(())
}

fn check_ports<'p>(
    task: &TaskSpec,
    launch: &'p crate::plan::Launch,
    offers: &[&Offer],
    ports_used: &mut HashSet<(&'p AgentId, u16)>,
) -> Result<(), Violation> {
    let id = || task.id.clone();
    let (asked, given) = (task.ports.total(), launch.ports.len() as u32);
    if asked != given {
        return Err(Violation::PortCount { task: id(), asked, given });
    }
    if let Some(&port) = task.ports.specific.iter().find(|p| !launch.ports.iter().any(|(g, _)| g == *p)) {
        return Err(Violation::SpecificPortMissing { task: id(), port });
    }
    for (port, role) in &launch.ports {
        if !accepts(task, role) {
            return Err(Violation::WrongRole {
                task: id(),
                resource: Arc::from(crate::resources::PORTS),
                role: role.clone(),
            });
        }
        if !offered_ports(offers, role).contains(*port) {
            return Err(Violation::PortNotOffered { task: id(), port: *port, role: role.clone() });
        }
        if !ports_used.insert((&launch.agent_id, *port)) {
            return Err(Violation::PortShared { agent: launch.agent_id.clone(), port: *port });
        }
    }
    Ok(())
}

fn check_offers(workload: &Workload, plan: &Plan, agents: &Agents<'_>, keep_unused: bool) -> Result<(), Violation> {
    let mut seen: HashMap<&OfferId, u32> = HashMap::new();
    let launched: BTreeSet<&AgentId> = plan.launches.iter().map(|l| &l.agent_id).collect();
    let accepted = launched.iter().flat_map(|a| agents.get(a).unwrap_or_default().iter().map(|o| &o.id));
    for id in accepted.chain(&plan.declined).chain(&plan.expired) {
        *seen.entry(id).or_default() += 1;
    }
    let known: HashSet<&OfferId> = workload.offers.iter().map(|o| &o.id).collect();
    let mut ids: Vec<&&OfferId> = seen.keys().collect();
    ids.sort();
    if let Some(id) = ids.iter().find(|id| !known.contains(**id)) {
        return Err(Violation::UnknownOffer((**id).clone()));
    }
    for offer in &workload.offers {
        match seen.get(&offer.id).copied().unwrap_or(0) {
            0 if keep_unused && !launched.contains(&offer.agent_id) => {}
            0 => return Err(Violation::OfferUnaccounted(offer.id.clone())),
            1 => {}
            _ => return Err(Violation::OfferTwice(offer.id.clone())),
        }
    }
    Ok(())
}

/// Every agent considered is counted once under an unplaced task's reasons; an agent counted
/// as blocked at the task's turn counts only for a task with a constraint that loosens.
fn check_unplaced(workload: &Workload, plan: &Plan, agents: &Agents<'_>) -> Result<(), Violation> {
    let considered = agents.by_id.len() as u32;
    let pending = pending(workload);
    // A parked task's explanation is from the pass that parked it (it still must not be
    // overlooked: see `check_overlooked`).
    for u in plan.unplaced.iter().filter(|u| !u.parked) {
        let loosens = pending.get(&u.task_id).is_some_and(|t| loosens(t));
        let reasons = u.reasons.iter().filter(|r| loosens || r.reason != Reason::BlockedAtItsTurn);
        let (gang, own): (Vec<_>, Vec<_>) = reasons.partition(|r| super::gangs::is_gang_reason(&r.reason));
        let rejected: u32 = own.iter().map(|r| r.agents).sum();
        // A gang member's own reasons, if any, explain every agent; the gang's reason does too.
        let explained = match gang.as_slice() {
            [] => rejected == considered,
            [g] => g.agents == considered && (own.is_empty() || rejected == considered),
            _ => false,
        };
        if !explained || u.agents_considered != considered {
            return Err(Violation::Unexplained { task: u.task_id.clone(), rejected, considered });
        }
    }
    Ok(())
}

/// Whether the task has a hard constraint that may admit an agent later in a pass that it
/// rejected earlier: declared so, or a built-in known to (by name, as the checks read them).
fn loosens(task: &TaskSpec) -> bool {
    task.hard.iter().any(|c| c.loosens_as_tasks_are_placed() || Rule::of(&**c).is_some_and(|r| r.loosens()))
}

/// Launches come in placement order, highest priority first. (Within a priority the engine may
/// place tasks out of submission order: constrained tasks first, then the rest by filling agents.)
fn check_order(workload: &Workload, plan: &Plan) -> Result<(), Violation> {
    let priority = super::gangs::effective_priority(&workload.tasks);
    let rank: HashMap<&TaskId, std::cmp::Reverse<i32>> =
        workload.tasks.iter().zip(priority).map(|(t, p)| (&t.id, std::cmp::Reverse(p))).collect();
    match plan.launches.windows(2).find(|w| rank[&w[0].task_id] > rank[&w[1].task_id]) {
        Some(w) => Err(Violation::LaunchOrder(w[1].task_id.clone())),
        None => Ok(()),
    }
}

fn check_stats(plan: &Plan, agents: &Agents<'_>) -> Result<(), Violation> {
    let used = plan.launches.iter().map(|l| &l.agent_id).collect::<BTreeSet<_>>().len();
    let s = &plan.stats;
    let fields = [
        ("tasks_placed", plan.launches.len(), s.tasks_placed),
        ("tasks_unplaced", plan.unplaced.len(), s.tasks_unplaced),
        ("agents_used", used, s.agents_used),
        ("agents_considered", agents.by_id.len(), s.agents_considered),
    ];
    match fields.into_iter().find(|(_, expected, got)| *expected as u32 != *got) {
        Some((field, expected, got)) => Err(Violation::Stats { field, expected: expected as u32, got }),
        None => Ok(()),
    }
}

/// The state a pass ended in, as the checker recounts it: the counts after every launch, and
/// the agents claimed exclusively, by group.
struct End<'w> {
    tally: Tally,
    owner: HashMap<&'w AgentId, &'w GroupId>,
}

/// Replays counts in placement order and checks every built-in hard constraint and claim;
/// returns the counts and claims the pass ended with.
fn check_rules<'w>(workload: &'w Workload, plan: &'w Plan, agents: &Agents<'w>) -> Result<End<'w>, Violation> {
    let mut tally = Tally::with_running(workload, agents);
    let pending = pending(workload);
    // Running tasks' claims on agents in the pool hold from the start.
    let mut owner: HashMap<&AgentId, &GroupId> = workload
        .running
        .iter()
        .filter(|t| t.claims_agent && agents.get(&t.agent_id).is_some())
        .map(|t| (&t.agent_id, &t.group))
        .collect();
    for launch in &plan.launches {
        let task = pending[&launch.task_id];
        let offers = agents.get(&launch.agent_id).unwrap_or_default();
        if let Some(&owner) = owner.get(&launch.agent_id).filter(|g| ***g != task.group) {
            return Err(Violation::Claimed {
                task: task.id.clone(),
                agent: launch.agent_id.clone(),
                owner: owner.clone(),
            });
        }
        for c in &task.hard {
            if Rule::of(&**c).is_some_and(|rule| !rule.allows(&tally, &task.group, offers)) {
                let (task, agent) = (task.id.clone(), launch.agent_id.clone());
                return Err(Violation::ConstraintBroken { task, agent, constraint: c.name().to_owned() });
            }
        }
        tally.place(&task.group, &launch.agent_id, offers);
        if task.hard.iter().any(|c| c.claims_agent()) {
            owner.insert(&launch.agent_id, &task.group);
        }
    }
    Ok(End { tally, owner })
}

/// The engine's pass state rebuilt from the plan, with a class for every launched and every
/// unplaced task, to ask user plugins through the views.
struct Replayed {
    state: PassState,
    classes: Vec<TaskClass>,
    class_of: HashMap<TaskId, u32>,
}

impl Replayed {
    /// Whether `c`, a hard constraint of `task`, lets it onto `agent` in the replayed state.
    fn allows(&self, c: &dyn HardConstraint, task: &TaskSpec, agent: &AgentId) -> bool {
        let (Some(&class), Some(agent)) = (self.class_of.get(&task.id), self.state.agent(agent)) else {
            return false;
        };
        let class = &self.classes[class as usize];
        let view = class.view(task);
        c.allows(&view, &AgentView::new(&self.state, agent), &PassView::new(&self.state))
    }
}

/// Rebuilds the pass state launch by launch and asks each launched task's hard constraints
/// through the plugin views, before committing the launch's own allocations and ports; returns
/// the state the pass ended in.
fn replay(workload: &Workload, plan: &Plan) -> Result<Replayed, Violation> {
    let expired: HashSet<&OfferId> = plan.expired.iter().collect();
    let mut pool = OfferPool::new(Duration::MAX);
    for offer in workload.offers.iter().filter(|o| !expired.contains(&o.id)) {
        pool.add(offer.clone(), Duration::ZERO).map_err(|_| Violation::OfferTwice(offer.id.clone()))?;
    }
    let pending = pending(workload);
    let ids = plan.launches.iter().map(|l| &l.task_id).chain(plan.unplaced.iter().map(|u| &u.task_id));
    let tasks: Vec<TaskSpec> = ids.map(|id| pending[id].clone()).collect();
    let mut state = PassState::build(&pool, Duration::ZERO, &workload.running);
    let (classes, class_of) = compile_in(&mut state, &tasks, 1.0);
    let mut split = Vec::new();
    for ((launch, task), &c) in plan.launches.iter().zip(&tasks).zip(&class_of) {
        let class = &classes[c as usize];
        let Some(agent) = state.agent(&launch.agent_id) else { continue };
        let view = class.view(task);
        let (agent_view, pass) = (AgentView::new(&state, agent), PassView::new(&state));
        if let Some(c) = class.hard.iter().find(|c| !c.allows(&view, &agent_view, &pass)) {
            let (task, agent) = (task.id.clone(), launch.agent_id.clone());
            return Err(Violation::ConstraintBroken { task, agent, constraint: c.name().to_owned() });
        }
        for a in launch.resources.iter() {
            if let (Some(dim), Some(role)) = (state.dims().get(&a.name), state.roles().get(a.role.as_str())) {
                split.clear();
                state.tables_mut().take(agent, dim, &[role], a.amount.milli(), &mut split);
            }
        }
        for (port, role) in &launch.ports {
            let role = state.roles().get(role.as_str());
            let (sets, _) = state.tables_mut().ports_mut(agent);
            if let Some((_, set)) = sets.iter_mut().find(|(r, _)| Some(*r) == role) {
                set.remove(*port);
            }
        }
        state.count_on_agent(agent, class.group);
        if class.claims {
            state.tables_mut().claim(agent, class.group);
        }
    }
    let class_of = tasks.iter().zip(class_of).map(|(t, c)| (t.id.clone(), c)).collect();
    Ok(Replayed { state, classes, class_of })
}

/// No unplaced task without a loosening constraint could go on an agent in the state the pass
/// ended in (see the module docs).
fn check_complete(
    workload: &Workload,
    plan: &Plan,
    agents: &Agents<'_>,
    end: &End<'_>,
    replayed: Option<&Replayed>,
) -> Result<(), Violation> {
    if plan.unplaced.is_empty() {
        return Ok(());
    }
    let mut ledger = Ledger::new(agents);
    plan.launches.iter().for_each(|l| ledger.take_launch(l));
    let pending = pending(workload);
    let rules: HashMap<*const (), Option<Rule>> =
        workload.tasks.iter().flat_map(|t| &t.hard).map(|c| (Arc::as_ptr(c) as *const (), Rule::of(&**c))).collect();
    // A gang member given up with its gang may well fit alone.
    let alone = plan.unplaced.iter().filter(|u| !u.reasons.iter().any(|r| super::gangs::is_gang_reason(&r.reason)));
    for task in alone.filter_map(|u| pending.get(&u.task_id)).filter(|t| !loosens(t)) {
        let takes = |agent: &AgentId, offers: &[&Offer]| {
            ledger.fits(task, agent)
                && end.owner.get(agent).is_none_or(|g| **g == task.group)
                && task.hard.iter().all(|c| match (&rules[&(Arc::as_ptr(c) as *const ())], replayed) {
                    (Some(rule), _) => rule.allows(&end.tally, &task.group, offers),
                    (None, Some(replayed)) => replayed.allows(&**c, task, agent),
                    (None, None) => false,
                })
        };
        if let Some((&agent, _)) = agents.by_id.iter().find(|(a, offers)| takes(a, offers)) {
            return Err(Violation::Overlooked { task: task.id.clone(), agent: agent.clone() });
        }
    }
    Ok(())
}
