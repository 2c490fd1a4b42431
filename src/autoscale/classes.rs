//! The agent classes a pass knows of: each known agent sorted into the class its class
//! attribute names, and each class's shape, the agent a scale-up would add.
//!
//! An agent is known from its offers in the pool and from the running tasks on it (with the
//! task's host details when the agent has no offer; offers that name no class are not
//! overruled by a task's host details). Its total is what it offers plus what all its running
//! tasks hold, those without host details too, in whatever order the tasks come (running
//! tasks hold unreserved resources as far as this census knows). A
//! class's shape is the total most of its agents have — ties go to the total of the agent with
//! the smallest id — with the attributes of that agent (the smallest id among those with the
//! total) and, as ports, the union of the port ranges its agents offer (running tasks do not
//! say which ports they hold). The most common total, not the largest: agents of one instance
//! type mostly agree, and a few odd ones (a reservation, a task the census misses) do not
//! move the shape. A class with no known agent has no shape and is never suggested.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::ahead;
use super::cluster::{Cluster, Tasks};
use super::config::{AutoscaleConfig, ClassRule};
use super::totals::Totals;
use crate::model::{AgentId, Attributes, Offer, ResourceValue, Role, RunningTask};
use crate::plan::Plan;
use crate::resources::{PortSet, Quantity};

/// Scalar totals as (name, role, amount), sorted by name then role.
pub(crate) type Scalars = Vec<(Arc<str>, Role, Quantity)>;

/// What a clone of a class offers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Shape {
    /// Scalar resources by role.
    pub scalars: Scalars,
    /// Ports.
    pub ports: PortSet,
    /// Attributes (the class attribute among them).
    pub attributes: Attributes,
}

/// One known agent of a class.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KnownAgent<'a> {
    /// The agent.
    pub id: &'a AgentId,
    /// Attributes, from its offers or a running task's host details.
    pub attributes: &'a Attributes,
    /// Whether it has live offers.
    pub offered: bool,
    /// Running tasks on it.
    pub running: u32,
    /// Whether the plan launches on it.
    pub launched: bool,
    /// Its class (index into the rules).
    class: u32,
    /// Its row in the census's totals.
    row: u32,
    /// Its offer with the smallest id, if it has offers.
    first: Option<&'a Offer>,
}

impl KnownAgent<'_> {
    /// Idle: offered, no running task, nothing launched on it by the plan.
    pub fn is_idle(&self) -> bool {
        self.offered && self.running == 0 && !self.launched
    }
}

/// One class with a rule: its agents (sorted by id) and its shape.
#[derive(Debug)]
pub(crate) struct ClassInfo<'a> {
    /// The rule.
    pub rule: &'a ClassRule,
    /// Known agents, sorted by id.
    pub agents: Vec<KnownAgent<'a>>,
    /// The shape of a clone; `None` when no agent is known.
    pub shape: Option<Shape>,
}

impl ClassInfo<'_> {
    /// Known agents.
    pub fn size(&self) -> u32 {
        u32::try_from(self.agents.len()).unwrap_or(u32::MAX)
    }

    /// Idle agents.
    pub fn idle(&self) -> u32 {
        u32::try_from(self.agents.iter().filter(|a| a.is_idle()).count()).unwrap_or(u32::MAX)
    }
}

/// Where an agent id stands in the census.
#[derive(Clone, Copy)]
enum Seen<'a> {
    /// A known agent of a class, by index.
    Known(u32),
    /// An agent with offers (the one with the smallest id given) but no class of the rules:
    /// its tasks' host details are asked.
    Unclassed(&'a Offer),
}

/// The hostname and attributes of every agent with live offers, from the census.
pub(crate) struct Hosts<'a> {
    seen: FxHashMap<&'a AgentId, Seen<'a>>,
    agents: Vec<KnownAgent<'a>>,
    /// Per running task (index for index with the census's tasks), the offer with the smallest
    /// id of its agent: found as the census looked the agent up, so that asking again hashes
    /// no id.
    task_hosts: Vec<Option<&'a Offer>>,
}

impl<'a> Hosts<'a> {
    /// Hostname and attributes of `agent` from its offer with the smallest id, if it has one.
    pub fn of(&self, agent: &AgentId) -> Option<(&'a Arc<str>, &'a Attributes)> {
        let first = match self.seen.get(agent)? {
            Seen::Known(i) => self.agents.get(*i as usize)?.first?,
            Seen::Unclassed(first) => first,
        };
        Some((&first.hostname, &first.attributes))
    }

    /// What [`Hosts::of`] says of the agent of the census's running task `k`.
    pub fn of_task(&self, k: usize) -> Option<(&'a Arc<str>, &'a Attributes)> {
        let first = (*self.task_hosts.get(k)?)?;
        Some((&first.hostname, &first.attributes))
    }
}

/// Finds the class an agent's attributes name, remembering the last value seen (agents share
/// their attribute values' storage more often than not).
struct ClassOf<'a> {
    config: &'a AutoscaleConfig,
    last: Option<(*const u8, Option<usize>)>,
}

impl ClassOf<'_> {
    fn of(&mut self, attrs: &Attributes) -> Option<usize> {
        let value = attrs.get(self.config.attribute())?.shared_text();
        let key = Arc::as_ptr(value).cast::<u8>();
        if let Some((ptr, class)) = self.last {
            if ptr == key {
                return class;
            }
        }
        let class = self.config.rules().position(|r| *r.class == **value);
        self.last = Some((key, class));
        class
    }
}

/// Sorts the known agents of `cluster` into the classes of `config`'s rules (in class order);
/// also returns where every agent with offers is, for its host details.
///
/// Linear in agents and running tasks: agent ids are hashed once per agent (running tasks
/// usually come grouped by agent and are matched to the last agent first), totals are kept in
/// one flat table of interned (name, role) columns, and no agent allocates.
pub(crate) fn census<'a, R>(
    config: &'a AutoscaleConfig,
    cluster: &Cluster<'a, R>,
    running: &[&'a RunningTask],
    plan: &Plan,
) -> (Vec<ClassInfo<'a>>, Hosts<'a>)
where
    R: Tasks<'a>,
{
    let rules: Vec<&'a ClassRule> = config.rules().collect();
    let mut class_of = ClassOf { config, last: None };
    let mut agents: Vec<KnownAgent<'a>> = Vec::with_capacity(cluster.offers_held());
    let mut seen: FxHashMap<&'a AgentId, Seen<'a>> = FxHashMap::default();
    seen.reserve(cluster.offers_held());
    let mut totals = Totals::default();
    let mut ports: Vec<PortSet> = vec![PortSet::new(); rules.len()];
    cluster.for_each_agent(config.attribute(), |id, first, offers| {
        let Some(c) = class_of.of(&first.attributes) else {
            seen.insert(id, Seen::Unclassed(first));
            return;
        };
        let row = totals.push_row();
        for offer in offers {
            for r in &offer.resources {
                match &r.value {
                    ResourceValue::Scalar(q) => totals.add(row, &r.name, &r.role, *q),
                    ResourceValue::Ports(set) => set.ranges().iter().for_each(|range| ports[c].insert(*range)),
                }
            }
        }
        seen.insert(id, Seen::Known(index(agents.len())));
        agents.push(KnownAgent {
            id,
            attributes: &first.attributes,
            offered: true,
            running: 0,
            launched: false,
            class: index(c),
            row,
            first: Some(first),
        });
    });
    for launch in &plan.launches {
        if let Some(Seen::Known(i)) = seen.get(&launch.agent_id) {
            agents[*i as usize].launched = true;
        }
    }
    let unreserved = Role::unreserved();
    // The last agent a task was found on, asked first.
    let mut last: Option<(&'a AgentId, u32)> = None;
    // Whether a class got an agent known from its tasks alone (after those with offers, which
    // come in id order).
    let mut unordered = vec![false; rules.len()];
    let mut task_hosts = Vec::with_capacity(running.len());
    // Tasks without host details on an agent not known (yet): counted at the end if a task
    // with host details made their agent known, wherever it came in the order.
    let mut unknown: Vec<&'a RunningTask> = Vec::new();
    for (k, &task) in running.iter().enumerate() {
        ahead::census(running, k);
        let cached = last.filter(|(id, _)| **id == task.agent_id).map(|(_, at)| Seen::Known(at));
        let found = cached.or_else(|| seen.get(&task.agent_id).copied());
        task_hosts.push(match found {
            Some(Seen::Known(i)) => agents[i as usize].first,
            Some(Seen::Unclassed(first)) => Some(first),
            None => None,
        });
        let at = match found {
            Some(Seen::Known(at)) => at,
            // Its offers name no class; a task's host details do not overrule them.
            Some(Seen::Unclassed(_)) => continue,
            None => {
                let Some((_, attrs)) = &task.host else {
                    unknown.push(task);
                    continue;
                };
                let Some(c) = class_of.of(attrs) else { continue };
                if cluster.is_launch(task) {
                    continue;
                }
                let at = index(agents.len());
                unordered[c] = true;
                agents.push(KnownAgent {
                    id: &task.agent_id,
                    attributes: attrs,
                    offered: false,
                    running: 0,
                    launched: false,
                    class: index(c),
                    row: totals.push_row(),
                    first: None,
                });
                seen.insert(&task.agent_id, Seen::Known(at));
                at
            }
        };
        last = Some((&task.agent_id, at));
        count_task(&mut agents[at as usize], &mut totals, cluster, task, &unreserved);
    }
    for task in unknown {
        if let Some(Seen::Known(at)) = seen.get(&task.agent_id) {
            count_task(&mut agents[*at as usize], &mut totals, cluster, task, &unreserved);
        }
    }
    let mut classes: Vec<ClassInfo<'a>> =
        rules.iter().map(|&rule| ClassInfo { rule, agents: Vec::new(), shape: None }).collect();
    for agent in &agents {
        classes[agent.class as usize].agents.push(*agent);
    }
    for ((class, ports), unordered) in classes.iter_mut().zip(ports).zip(unordered) {
        // Agents with offers come in id order; those known from tasks alone after them.
        if unordered && !class.agents.is_sorted_by(|a, b| a.id <= b.id) {
            class.agents.sort_by(|a, b| a.id.cmp(b.id));
        }
        class.shape = shape_of(&class.agents, &totals, ports);
    }
    (classes, Hosts { seen, agents, task_hosts })
}

/// Counts running `task` on its agent `known`: one task more, its resources added to the
/// agent's total (launches of the pass are left out).
fn count_task<'a, R: Tasks<'a>>(
    known: &mut KnownAgent<'a>,
    totals: &mut Totals,
    cluster: &Cluster<'a, R>,
    task: &RunningTask,
    unreserved: &Role,
) {
    // Launches of the pass are on agents it launched on; only there is a task looked up.
    if known.launched && cluster.is_launch(task) {
        return;
    }
    known.running += 1;
    for (name, q) in &task.resources {
        totals.add(known.row, name, unreserved, *q);
    }
}

fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The most common total of `agents` (sorted by id), see the module docs.
fn shape_of(agents: &[KnownAgent<'_>], totals: &Totals, ports: PortSet) -> Option<Shape> {
    // (count, first agent) per distinct total; agents come in id order, so the first is the
    // smallest id.
    let mut seen: FxHashMap<&[i64], (u32, usize)> = FxHashMap::default();
    for (i, agent) in agents.iter().enumerate() {
        seen.entry(totals.row(agent.row)).or_insert((0, i)).0 += 1;
    }
    let &(_, first) = seen.values().max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))?;
    let model = &agents[first];
    Some(Shape { scalars: totals.scalars(model.row), ports, attributes: model.attributes.clone() })
}
