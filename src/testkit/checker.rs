//! An independent plan checker: recomputes soundness from the offers, not from engine state.
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
//! - unplaced tasks: each agent considered is counted once under the task's reasons (an agent
//!   passing every stage would have taken the task, so this catches a feasible agent overlooked);
//! - order: launches follow priority, highest first;
//! - stats: the counts in [`Plan::stats`] match the plan.
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

use regex::Regex;

use super::{Violation, Workload};
use crate::engine::class::compile_in;
use crate::engine::state::PassState;
use crate::model::{AgentId, GroupId, Offer, OfferId, ResourceValue, Role, TaskId, TaskSpec, HOSTNAME};
use crate::plan::Plan;
use crate::plugins::{AgentView, HardConstraint, PassView, TaskView};
use crate::pool::OfferPool;
use crate::resources::{PortSet, Quantity};

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

/// Checks that `plan` is a sound plan for `workload` (see the module docs); the first violation
/// found is returned.
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
    check_rules(workload, plan, &agents)?;
    check_unplaced(plan, &agents)?;
    check_order(workload, plan)?;
    check_stats(plan, &agents)?;
    if options.replay {
        replay(workload, plan)?;
    }
    Ok(())
}

/// The live offers of each agent, sorted by id.
struct Agents<'a> {
    by_id: BTreeMap<&'a AgentId, Vec<&'a Offer>>,
}

impl<'a> Agents<'a> {
    fn new(workload: &'a Workload, plan: &Plan) -> Agents<'a> {
        let expired: HashSet<&OfferId> = plan.expired.iter().collect();
        let mut by_id: BTreeMap<&AgentId, Vec<&Offer>> = BTreeMap::new();
        for offer in workload.offers.iter().filter(|o| !expired.contains(&o.id)) {
            by_id.entry(&offer.agent_id).or_default().push(offer);
        }
        for offers in by_id.values_mut() {
            offers.sort_by(|a, b| a.id.cmp(&b.id));
        }
        Agents { by_id }
    }

    fn get(&self, agent: &AgentId) -> Option<&[&'a Offer]> {
        self.by_id.get(agent).map(Vec::as_slice)
    }
}

/// An agent's offered amount of one scalar resource in one role.
fn offered(offers: &[&Offer], name: &str, role: &Role) -> Quantity {
    let mut total = Quantity::ZERO;
    for r in offers.iter().flat_map(|o| &o.resources).filter(|r| &*r.name == name && &r.role == role) {
        if let ResourceValue::Scalar(q) = r.value {
            total += q;
        }
    }
    total
}

/// An agent's offered ports in one role.
fn offered_ports(offers: &[&Offer], role: &Role) -> PortSet {
    let mut set = PortSet::new();
    for r in offers.iter().flat_map(|o| &o.resources).filter(|r| &r.role == role) {
        if let ResourceValue::Ports(ports) = &r.value {
            ports.ranges().iter().for_each(|range| set.insert(*range));
        }
    }
    set
}

fn accepts(task: &TaskSpec, role: &Role) -> bool {
    task.roles.as_ref().is_none_or(|roles| roles.contains(role))
}

fn pending(workload: &Workload) -> HashMap<&TaskId, &TaskSpec> {
    workload.tasks.iter().map(|t| (&t.id, t)).collect()
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

/// Every agent considered is counted once under an unplaced task's reasons: an agent that passed
/// every stage would have taken the task.
fn check_unplaced(plan: &Plan, agents: &Agents<'_>) -> Result<(), Violation> {
    let considered = agents.by_id.len() as u32;
    for u in &plan.unplaced {
        let rejected = u.reasons.iter().map(|r| r.agents).sum();
        if rejected != considered || u.agents_considered != considered {
            return Err(Violation::Unexplained { task: u.task_id.clone(), rejected, considered });
        }
    }
    Ok(())
}

/// Launches come in placement order, highest priority first. (Within a priority the engine may
/// place tasks out of submission order: constrained tasks first, then the rest by filling agents.)
fn check_order(workload: &Workload, plan: &Plan) -> Result<(), Violation> {
    let rank: HashMap<&TaskId, std::cmp::Reverse<i32>> =
        workload.tasks.iter().map(|t| (&t.id, std::cmp::Reverse(t.priority))).collect();
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

/// A built-in constraint's semantics, as its documentation states them.
#[derive(Debug)]
pub(crate) enum Rule {
    Unique(String),
    MaxPer(String, u32),
    Cluster(String, Option<String>),
    GroupBy(String, u32),
    Balance(String, u32),
    Is(String, String),
    Like(String, Regex),
    Unlike(String, Regex),
    Exclusive,
}

impl Rule {
    /// The built-in a constraint is, by its name.
    pub(crate) fn of(c: &dyn HardConstraint) -> Option<Rule> {
        let name = c.name();
        if name == "EXCLUSIVE" {
            return Some(Rule::Exclusive);
        }
        let mut parts = name.splitn(3, ':');
        let (attr, op, value) = (parts.next()?.to_owned(), parts.next()?, parts.next());
        let count = |v: Option<&str>| v.and_then(|v| v.parse::<u32>().ok()).filter(|n| *n > 0);
        let regex = |v: Option<&str>| Regex::new(&format!("^(?:{})$", v?)).ok();
        Some(match op {
            "UNIQUE" if value.is_none() => Rule::Unique(attr),
            "MAX_PER" => Rule::MaxPer(attr, count(value)?),
            "CLUSTER" => Rule::Cluster(attr, value.map(str::to_owned)),
            "GROUP_BY" if value.is_none() => Rule::GroupBy(attr, 0),
            "GROUP_BY" => Rule::GroupBy(attr, count(value)?),
            "BALANCE" => Rule::Balance(attr, count(value)?),
            "IS" => Rule::Is(attr, value?.to_owned()),
            "LIKE" => Rule::Like(attr, regex(value)?),
            "UNLIKE" => Rule::Unlike(attr, regex(value)?),
            _ => return None,
        })
    }

    /// Whether the rule lets a task of `group` onto the agent with `offers`, given `tally`.
    pub(crate) fn allows(&self, tally: &Tally, group: &GroupId, offers: &[&Offer]) -> bool {
        let value = |attr: &str| attribute(offers[0], attr);
        let count = |attr: &str, v: &str| tally.count(group, attr, v);
        match self {
            Rule::Unique(a) => value(a).is_some_and(|v| count(a, &v) == 0),
            Rule::MaxPer(a, n) => value(a).is_some_and(|v| count(a, &v) < *n),
            Rule::Cluster(a, Some(want)) => value(a).is_some_and(|v| v == *want),
            Rule::Cluster(a, None) => value(a).is_some_and(|v| {
                let used = tally.values(group, a).count();
                used == 0 || (used == 1 && count(a, &v) > 0)
            }),
            Rule::GroupBy(a, n) => value(a).is_some_and(|v| {
                let here = count(a, &v);
                here == 0
                    || (tally.values(group, a).count() >= *n as usize && tally.values(group, a).all(|c| c >= here))
            }),
            Rule::Balance(a, n) => value(a).is_some_and(|v| count(a, &v) < (tally.total(group) + 1).div_ceil(*n)),
            Rule::Is(a, want) => {
                let have = if a == HOSTNAME { None } else { offers[0].attributes.get(a) };
                let number = want.parse::<f64>().ok().filter(|n| n.is_finite());
                match (have.and_then(|h| h.as_scalar()), number) {
                    (Some(h), Some(w)) => h == w,
                    _ => value(a).is_some_and(|v| v == *want),
                }
            }
            Rule::Like(a, re) => value(a).is_some_and(|v| re.is_match(&v)),
            Rule::Unlike(a, re) => value(a).is_none_or(|v| !re.is_match(&v)),
            Rule::Exclusive => tally.groups_on.get(&offers[0].agent_id).is_none_or(|gs| gs.iter().all(|g| g == group)),
        }
    }
}

/// The value of `attr` on an offer's agent; `hostname` is the offer's hostname.
pub(crate) fn attribute(offer: &Offer, attr: &str) -> Option<String> {
    if attr == HOSTNAME {
        return Some(offer.hostname.to_string());
    }
    offer.attributes.get(attr).map(|v| v.as_str().to_owned())
}

/// Tasks per group and attribute value, per group, and the groups on each agent.
#[derive(Default)]
pub(crate) struct Tally {
    counts: HashMap<(GroupId, String), BTreeMap<String, u32>>,
    totals: HashMap<GroupId, u32>,
    pub(crate) groups_on: HashMap<AgentId, BTreeSet<GroupId>>,
}

impl Tally {
    fn count(&self, group: &GroupId, attr: &str, value: &str) -> u32 {
        let per_value = self.counts.get(&(group.clone(), attr.to_owned()));
        per_value.and_then(|m| m.get(value)).copied().unwrap_or(0)
    }

    /// Counts of the values of `attr` holding a task of `group`.
    fn values<'s>(&'s self, group: &GroupId, attr: &str) -> impl Iterator<Item = u32> + 's {
        self.counts.get(&(group.clone(), attr.to_owned())).into_iter().flat_map(|m| m.values().copied())
    }

    fn total(&self, group: &GroupId) -> u32 {
        self.totals.get(group).copied().unwrap_or(0)
    }

    /// Counts one task of `group` with these attribute values (hostname included).
    pub(crate) fn add(&mut self, group: &GroupId, values: impl IntoIterator<Item = (String, String)>) {
        *self.totals.entry(group.clone()).or_default() += 1;
        for (attr, value) in values {
            *self.counts.entry((group.clone(), attr)).or_default().entry(value).or_default() += 1;
        }
    }
}

/// Hostname and attributes of an agent or a running task's host, keyed by attribute name.
pub(crate) fn values_of<'a>(
    hostname: &str,
    attrs: &'a crate::model::Attributes,
) -> impl Iterator<Item = (String, String)> + 'a {
    let host = std::iter::once((HOSTNAME.to_owned(), hostname.to_owned()));
    host.chain(attrs.iter().filter(|(k, _)| *k != HOSTNAME).map(|(k, v)| (k.to_owned(), v.as_str().to_owned())))
}

/// Replays counts in placement order and checks every built-in hard constraint and claim.
fn check_rules(workload: &Workload, plan: &Plan, agents: &Agents<'_>) -> Result<(), Violation> {
    let mut tally = Tally::default();
    for task in &workload.running {
        if let Some(offers) = agents.get(&task.agent_id) {
            tally.add(&task.group, values_of(&offers[0].hostname, &offers[0].attributes));
            tally.groups_on.entry(task.agent_id.clone()).or_default().insert(task.group.clone());
        } else if let Some((hostname, attrs)) = &task.host {
            tally.add(&task.group, values_of(hostname, attrs));
        } else {
            tally.add(&task.group, []);
        }
    }
    let pending = pending(workload);
    let mut owner: HashMap<&AgentId, &GroupId> = HashMap::new();
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
        tally.add(&task.group, values_of(&offers[0].hostname, &offers[0].attributes));
        tally.groups_on.entry(launch.agent_id.clone()).or_default().insert(task.group.clone());
        if task.hard.iter().any(|c| c.claims_agent()) {
            owner.insert(&launch.agent_id, &task.group);
        }
    }
    Ok(())
}

/// Rebuilds the pass state launch by launch and asks each launched task's hard constraints
/// through the plugin views, before committing the launch's own allocations and ports.
fn replay(workload: &Workload, plan: &Plan) -> Result<(), Violation> {
    let expired: HashSet<&OfferId> = plan.expired.iter().collect();
    let mut pool = OfferPool::new(Duration::MAX);
    for offer in workload.offers.iter().filter(|o| !expired.contains(&o.id)) {
        pool.add(offer.clone(), Duration::ZERO).map_err(|_| Violation::OfferTwice(offer.id.clone()))?;
    }
    let pending = pending(workload);
    let launched: Vec<TaskSpec> = plan.launches.iter().map(|l| pending[&l.task_id].clone()).collect();
    let mut state = PassState::build(&pool, Duration::ZERO, &workload.running);
    let (classes, class_of) = compile_in(&mut state, &launched, 1.0);
    let mut split = Vec::new();
    for ((launch, task), &c) in plan.launches.iter().zip(&launched).zip(&class_of) {
        let class = &classes[c as usize];
        let agent = state.agent_index[&launch.agent_id];
        let view = TaskView { id: &task.id, group_id: &task.group, class };
        let (agent_view, pass) = (AgentView { state: &state, agent }, PassView { state: &state });
        if let Some(c) = class.hard.iter().find(|c| !c.allows(&view, &agent_view, &pass)) {
            let (task, agent) = (task.id.clone(), launch.agent_id.clone());
            return Err(Violation::ConstraintBroken { task, agent, constraint: c.name().to_owned() });
        }
        for a in launch.resources.iter() {
            if let (Some(dim), Some(role)) = (state.dims.get(&a.name), state.roles.get(a.role.as_str())) {
                split.clear();
                state.take(agent, dim as usize, &[role as u16], a.amount.milli(), &mut split);
            }
        }
        for (port, role) in &launch.ports {
            let role = state.roles.get(role.as_str());
            let sets = &mut state.agents[agent as usize].ports;
            if let Some((_, set)) = sets.iter_mut().find(|(r, _)| Some(u32::from(*r)) == role) {
                set.remove(*port);
            }
        }
        state.count_on_agent(agent, class.group);
        if class.claims {
            state.agents[agent as usize].owner = class.group;
        }
    }
    Ok(())
}
