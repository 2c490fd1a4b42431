//! What the checker and the oracle evaluate on their own, from offers and documented semantics:
//! live offers per agent, free resources and ports, task counts per attribute value, and the
//! built-in constraints (hard and soft). Nothing here reads the engine's pass state.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use regex::Regex;

use super::Workload;
use crate::model::{AgentId, GroupId, Offer, OfferId, ResourceValue, Role, TaskId, HOSTNAME};
use crate::plan::{Launch, Plan};
use crate::plugins::{HardConstraint, SoftConstraint};
use crate::resources::{PortSet, Quantity};
use crate::spec::TaskSpec;

/// The live offers of each agent, sorted by id; agents in id order.
pub(crate) struct Agents<'a> {
    pub by_id: BTreeMap<&'a AgentId, Vec<&'a Offer>>,
}

impl<'a> Agents<'a> {
    /// The workload's offers, less those `plan` lists as expired.
    pub fn new(workload: &'a Workload, plan: &Plan) -> Agents<'a> {
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

    pub fn get(&self, agent: &AgentId) -> Option<&[&'a Offer]> {
        self.by_id.get(agent).map(Vec::as_slice)
    }
}

/// An agent's offered amount of one scalar resource in one role.
pub(crate) fn offered(offers: &[&Offer], name: &str, role: &Role) -> Quantity {
    let mut total = Quantity::ZERO;
    for r in offers.iter().flat_map(|o| &o.resources).filter(|r| &*r.name == name && &r.role == role) {
        if let ResourceValue::Scalar(q) = r.value {
            total += q;
        }
    }
    total
}

/// An agent's offered ports in one role.
pub(crate) fn offered_ports(offers: &[&Offer], role: &Role) -> PortSet {
    let mut set = PortSet::new();
    for r in offers.iter().flat_map(|o| &o.resources).filter(|r| &r.role == role) {
        if let ResourceValue::Ports(ports) = &r.value {
            ports.ranges().iter().for_each(|range| set.insert(*range));
        }
    }
    set
}

/// Whether the task may use resources of `role`.
pub(crate) fn accepts(task: &TaskSpec, role: &Role) -> bool {
    task.roles.as_ref().is_none_or(|roles| roles.contains(role))
}

/// The pending tasks by id.
pub(crate) fn pending(workload: &Workload) -> HashMap<&TaskId, &TaskSpec> {
    workload.tasks.iter().map(|t| (&t.id, t)).collect()
}

/// The value of `attr` on an offer's agent; `hostname` is the offer's hostname.
pub(crate) fn attribute(offer: &Offer, attr: &str) -> Option<String> {
    if attr == HOSTNAME {
        return Some(offer.hostname.to_string());
    }
    offer.attributes.get(attr).map(|v| v.as_str().to_owned())
}

/// Hostname and attributes of an agent or a running task's host, keyed by attribute name.
pub(crate) fn values_of<'a>(
    hostname: &str,
    attrs: &'a crate::model::Attributes,
) -> impl Iterator<Item = (String, String)> + 'a {
    let host = std::iter::once((HOSTNAME.to_owned(), hostname.to_owned()));
    host.chain(attrs.iter().filter(|(k, _)| *k != HOSTNAME).map(|(k, v)| (k.to_owned(), v.as_str().to_owned())))
}

/// Free scalar resources (thousandths) and ports of every agent, per role.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ledger {
    agents: HashMap<AgentId, Free>,
}

/// What one agent has free.
#[derive(Clone, Debug, Default)]
struct Free {
    scalars: HashMap<(Arc<str>, Role), i64>,
    ports: BTreeMap<Role, BTreeSet<u16>>,
    /// The agent's roles, reserved ones by name first, then `*`: the order a task accepting
    /// every role draws from.
    roles: Vec<Role>,
}

impl Free {
    fn scalar(&self, name: &Arc<str>, role: &Role) -> i64 {
        self.scalars.get(&(name.clone(), role.clone())).copied().unwrap_or(0)
    }

    /// The roles `task` draws from here, in order: its own list (first mention of each), or
    /// every role of the agent.
    fn draw_order(&self, task: &TaskSpec) -> Vec<Role> {
        match &task.roles {
            Some(list) => {
                let mut out: Vec<Role> = Vec::with_capacity(list.len());
                for role in list {
                    if !out.contains(role) {
                        out.push(role.clone());
                    }
                }
                out
            }
            None => self.roles.clone(),
        }
    }
}

impl Ledger {
    /// What the agents' live offers hold.
    pub fn new(agents: &Agents<'_>) -> Ledger {
        let mut ledger = Ledger::default();
        for (&agent, offers) in &agents.by_id {
            let free = ledger.agents.entry(agent.clone()).or_default();
            let mut roles: BTreeSet<&Role> = BTreeSet::new();
            for r in offers.iter().flat_map(|o| &o.resources) {
                roles.insert(&r.role);
                match &r.value {
                    ResourceValue::Scalar(q) => {
                        *free.scalars.entry((r.name.clone(), r.role.clone())).or_default() += q.milli();
                    }
                    ResourceValue::Ports(set) => {
                        let ports = free.ports.entry(r.role.clone()).or_default();
                        ports.extend(set.ranges().iter().flat_map(|range| range.begin..=range.end));
                    }
                }
            }
            let star = Role::unreserved();
            free.roles = roles.into_iter().filter(|r| **r != star).cloned().collect();
            free.roles.push(star);
        }
        ledger
    }

    /// Takes what a launch of the plan was given.
    pub fn take_launch(&mut self, launch: &Launch) {
        let free = self.agents.entry(launch.agent_id.clone()).or_default();
        for a in launch.resources.iter() {
            *free.scalars.entry((a.name.clone(), a.role.clone())).or_default() -= a.amount.milli();
        }
        for (port, role) in &launch.ports {
            if let Some(set) = free.ports.get_mut(role) {
                set.remove(port);
            }
        }
    }

    /// Free amount of a resource on `agent` over every role.
    pub fn free_all_roles(&self, agent: &AgentId, name: &Arc<str>) -> i64 {
        self.agents.get(agent).map_or(0, |free| free.roles.iter().map(|r| free.scalar(name, r)).sum())
    }

    /// Whether `agent` holds the task's resources and ports in roles it accepts.
    pub fn fits(&self, task: &TaskSpec, agent: &AgentId) -> bool {
        let Some(free) = self.agents.get(agent) else { return false };
        let roles = free.draw_order(task);
        let in_roles = |name: &Arc<str>| roles.iter().map(|r| free.scalar(name, r)).sum::<i64>();
        if !task.resources.iter().all(|(name, asked)| in_roles(name) >= asked.milli()) {
            return false;
        }
        if task.ports.total() == 0 {
            return true;
        }
        let sets: Vec<&BTreeSet<u16>> = roles.iter().filter_map(|r| free.ports.get(r)).collect();
        sets.iter().map(|s| s.len()).sum::<usize>() >= task.ports.total() as usize
            && task.ports.specific.iter().all(|p| sets.iter().any(|s| s.contains(p)))
    }

    /// Takes the task's resources from `agent` in its draw order, then its specific ports, then
    /// the lowest free ones, role by role. The caller has checked [`Ledger::fits`].
    pub fn draw(&mut self, task: &TaskSpec, agent: &AgentId) {
        let Some(free) = self.agents.get_mut(agent) else { return };
        let roles = free.draw_order(task);
        for (name, asked) in &task.resources {
            let mut left = asked.milli();
            for role in &roles {
                if let Some(cell) = free.scalars.get_mut(&(name.clone(), role.clone())) {
                    let part = left.min(*cell).max(0);
                    *cell -= part;
                    left -= part;
                }
            }
        }
        for port in &task.ports.specific {
            let role = roles.iter().find(|r| free.ports.get(*r).is_some_and(|s| s.contains(port)));
            if let Some(set) = role.and_then(|r| free.ports.get_mut(r)) {
                set.remove(port);
            }
        }
        let mut left = task.ports.count as usize;
        for role in &roles {
            if let Some(set) = free.ports.get_mut(role) {
                while left > 0 && set.pop_first().is_some() {
                    left -= 1;
                }
            }
        }
    }
}

/// Tasks per group and attribute value, per group, the groups on each agent, and the values of
/// each attribute the pass knows (pool agents and the hosts of running tasks elsewhere).
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    counts: HashMap<(GroupId, String), BTreeMap<String, u32>>,
    totals: HashMap<GroupId, u32>,
    pub groups_on: HashMap<AgentId, BTreeSet<GroupId>>,
    known: HashMap<String, BTreeSet<String>>,
    /// Running tasks per group with no pool agent and no host: as documented for the engine,
    /// each counts on every value of every attribute.
    unlocated: HashMap<GroupId, u32>,
}

impl Tally {
    /// The running tasks: on their pool agent, else on their host's values when known, else
    /// on every value (place unknown).
    pub fn with_running(workload: &Workload, agents: &Agents<'_>) -> Tally {
        let mut tally = Tally::default();
        for offers in agents.by_id.values() {
            for (attr, value) in values_of(&offers[0].hostname, &offers[0].attributes) {
                tally.known.entry(attr).or_default().insert(value);
            }
        }
        for task in &workload.running {
            if let Some(offers) = agents.get(&task.agent_id) {
                tally.place(&task.group, &task.agent_id, offers);
            } else if let Some((hostname, attrs)) = &task.host {
                for (attr, value) in values_of(hostname, attrs) {
                    tally.known.entry(attr).or_default().insert(value);
                }
                tally.add(&task.group, values_of(hostname, attrs));
            } else {
                tally.add(&task.group, []);
                *tally.unlocated.entry(task.group.clone()).or_default() += 1;
            }
        }
        tally
    }

    /// Counts one task of `group` placed on `agent`.
    pub fn place(&mut self, group: &GroupId, agent: &AgentId, offers: &[&Offer]) {
        self.add(group, values_of(&offers[0].hostname, &offers[0].attributes));
        self.groups_on.entry(agent.clone()).or_default().insert(group.clone());
    }

    fn count(&self, group: &GroupId, attr: &str, value: &str) -> u32 {
        let per_value = self.counts.get(&(group.clone(), attr.to_owned()));
        per_value.and_then(|m| m.get(value)).copied().unwrap_or(0) + self.unlocated(group)
    }

    fn unlocated(&self, group: &GroupId) -> u32 {
        self.unlocated.get(group).copied().unwrap_or(0)
    }

    fn known_values(&self, attr: &str) -> usize {
        self.known.get(attr).map_or(0, BTreeSet::len)
    }

    /// Number of values of `attr` holding a task of `group` (all known values when one of its
    /// tasks could be anywhere).
    fn distinct(&self, group: &GroupId, attr: &str) -> usize {
        let located = self.counts.get(&(group.clone(), attr.to_owned())).map_or(0, BTreeMap::len);
        if self.unlocated(group) > 0 {
            return located.max(self.known_values(attr));
        }
        located
    }

    /// Counts of the values of `attr` holding a task of `group`; with tasks of unknown place,
    /// the values without a located task appear once, with the unknown count.
    fn values<'s>(&'s self, group: &GroupId, attr: &str) -> impl Iterator<Item = u32> + 's {
        let located = self.counts.get(&(group.clone(), attr.to_owned()));
        let u = self.unlocated(group);
        let rest = (u > 0 && located.map_or(0, BTreeMap::len) < self.known_values(attr)).then_some(u);
        located.into_iter().flat_map(move |m| m.values().map(move |c| c + u)).chain(rest)
    }

    fn total(&self, group: &GroupId) -> u32 {
        self.totals.get(group).copied().unwrap_or(0)
    }

    /// Counts one task of `group` with these attribute values (hostname included).
    pub fn add(&mut self, group: &GroupId, values: impl IntoIterator<Item = (String, String)>) {
        *self.totals.entry(group.clone()).or_default() += 1;
        for (attr, value) in values {
            *self.counts.entry((group.clone(), attr)).or_default().entry(value).or_default() += 1;
        }
    }

    /// Whether every task on the agent is of `group` (true for an agent without tasks).
    fn only(&self, agent: &AgentId, group: &GroupId) -> bool {
        self.groups_on.get(agent).is_none_or(|gs| gs.iter().all(|g| g == group))
    }
}

/// A built-in constraint's semantics, as its documentation states them; a constraint is
/// recognised by its name (`attr:OPERATOR[:value]` or `EXCLUSIVE`).
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
    /// The built-in a hard constraint is, by its name.
    pub fn of(c: &dyn HardConstraint) -> Option<Rule> {
        Rule::named(c.name())
    }

    /// The built-in a soft constraint is, by its name.
    pub fn of_soft(c: &dyn SoftConstraint) -> Option<Rule> {
        Rule::named(c.name())
    }

    fn named(name: &str) -> Option<Rule> {
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

    /// Whether the rule can admit later what it rejects now (`GROUP_BY`, `BALANCE`).
    pub fn loosens(&self) -> bool {
        matches!(self, Rule::GroupBy(..) | Rule::Balance(..))
    }

    /// Whether the rule lets a task of `group` onto the agent with `offers`, given `tally`.
    pub fn allows(&self, tally: &Tally, group: &GroupId, offers: &[&Offer]) -> bool {
        let value = |attr: &str| attribute(offers[0], attr);
        let count = |attr: &str, v: &str| tally.count(group, attr, v);
        match self {
            Rule::Unique(a) => value(a).is_some_and(|v| count(a, &v) == 0),
            Rule::MaxPer(a, n) => value(a).is_some_and(|v| count(a, &v) < *n),
            Rule::Cluster(a, Some(want)) => value(a).is_some_and(|v| v == *want),
            Rule::Cluster(a, None) => value(a).is_some_and(|v| {
                let used = tally.distinct(group, a);
                used == 0 || (used == 1 && count(a, &v) > 0)
            }),
            Rule::GroupBy(a, n) => value(a).is_some_and(|v| {
                let here = count(a, &v);
                here == 0 || (tally.distinct(group, a) >= *n as usize && tally.values(group, a).all(|c| c >= here))
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
            Rule::Exclusive => tally.only(&offers[0].agent_id, group),
        }
    }

    /// The rule's score as a soft constraint, as its documentation states it: `1 / (1 + n)`
    /// with `n` tasks over what the rule allows for counting rules, 1 or 0 for the others.
    pub fn score(&self, tally: &Tally, group: &GroupId, offers: &[&Offer]) -> f64 {
        let decay = |n: u32| 1.0 / (1.0 + f64::from(n));
        let counted = |a: &str| attribute(offers[0], a).map(|v| tally.count(group, a, &v));
        match self {
            Rule::Unique(a) => counted(a).map_or(0.0, decay),
            Rule::MaxPer(a, n) => match counted(a) {
                Some(c) if c < *n => 1.0,
                Some(c) => 0.5f64.powi((c - n + 1).min(64) as i32),
                None => 0.0,
            },
            Rule::GroupBy(a, expected) => counted(a).map_or(0.0, |here| {
                let in_use = tally.distinct(group, a);
                let known = tally.known_values(a).max(*expected as usize);
                let fewest = if here == 0 || in_use < known { 0 } else { tally.values(group, a).min().unwrap_or(0) };
                decay(here.saturating_sub(fewest))
            }),
            Rule::Balance(a, n) => counted(a).map_or(0.0, |here| {
                let cap = (tally.total(group) + 1).div_ceil(*n);
                if here < cap {
                    1.0
                } else {
                    decay(here - cap + 1)
                }
            }),
            _ => f64::from(u8::from(self.allows(tally, group, offers))),
        }
    }
}
