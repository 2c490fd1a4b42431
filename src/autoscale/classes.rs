//! The agent classes a pass knows of: each known agent sorted into the class its class
//! attribute names, and each class's shape, the agent a scale-up would add.
//!
//! An agent is known from its offers in the pool and from the running tasks on it (with the
//! task's host details when the agent has no offer). Its total is what it offers plus what its
//! running tasks hold (running tasks hold unreserved resources as far as this census knows). A
//! class's shape is the total most of its agents have — ties go to the total of the agent with
//! the smallest id — with the attributes of that agent (the smallest id among those with the
//! total) and, as ports, the union of the port ranges its agents offer (running tasks do not
//! say which ports they hold). The most common total, not the largest: agents of one instance
//! type mostly agree, and a few odd ones (a reservation, a task the census misses) do not
//! move the shape. A class with no known agent has no shape and is never suggested.

use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};

use super::config::{AutoscaleConfig, ClassRule};
use crate::model::{AgentId, Attributes, ResourceValue, Role, RunningTask};
use crate::plan::Plan;
use crate::pool::OfferPool;
use crate::resources::{PortSet, Quantity};

/// Scalar totals as (name, role, amount), sorted by name then role.
pub(crate) type Scalars = Vec<(std::sync::Arc<str>, Role, Quantity)>;

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
#[derive(Clone, Debug)]
pub(crate) struct KnownAgent<'a> {
    /// The agent.
    pub id: AgentId,
    /// Attributes, from its offers or a running task's host details.
    pub attributes: &'a Attributes,
    /// Whether it has live offers.
    pub offered: bool,
    /// Running tasks on it.
    pub running: u32,
    /// Whether the plan launches on it.
    pub launched: bool,
    total: Scalars,
    ports: PortSet,
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

/// Sorts the known agents into the classes of `config`'s rules (in class order).
pub(crate) fn census<'a>(
    config: &'a AutoscaleConfig,
    pool: &'a OfferPool,
    running: &'a [RunningTask],
    plan: &Plan,
    now: Duration,
) -> Vec<ClassInfo<'a>> {
    let mut classes: Vec<ClassInfo<'a>> =
        config.rules().map(|rule| ClassInfo { rule, agents: Vec::new(), shape: None }).collect();
    let class_of = |attrs: &Attributes| -> Option<usize> {
        let value = attrs.get(config.attribute())?;
        classes_index(config, value.as_str())
    };
    let mut where_is: FxHashMap<AgentId, (usize, usize)> = FxHashMap::default();
    for agent in pool.agents_at(now) {
        let Some(c) = class_of(agent.attributes()) else { continue };
        let mut known = KnownAgent {
            id: agent.id().clone(),
            attributes: agent.attributes(),
            offered: true,
            running: 0,
            launched: false,
            total: Vec::new(),
            ports: PortSet::new(),
        };
        for offer in agent.offers() {
            for r in &offer.resources {
                match &r.value {
                    ResourceValue::Scalar(q) => add(&mut known.total, &r.name, &r.role, *q),
                    ResourceValue::Ports(set) => set.ranges().iter().for_each(|range| known.ports.insert(*range)),
                }
            }
        }
        where_is.insert(known.id.clone(), (c, classes[c].agents.len()));
        classes[c].agents.push(known);
    }
    let unreserved = Role::unreserved();
    // Running tasks usually come grouped by agent: the last agent found is asked first.
    let mut last: Option<(&AgentId, (usize, usize))> = None;
    for task in running {
        let cached = last.filter(|(id, _)| **id == task.agent_id).map(|(_, at)| at);
        let at = match cached.or_else(|| where_is.get(&task.agent_id).copied()) {
            Some(at) => at,
            None => {
                let Some((_, attrs)) = &task.host else { continue };
                let Some(c) = class_of(attrs) else { continue };
                let known = KnownAgent {
                    id: task.agent_id.clone(),
                    attributes: attrs,
                    offered: false,
                    running: 0,
                    launched: false,
                    total: Vec::new(),
                    ports: PortSet::new(),
                };
                let at = (c, classes[c].agents.len());
                where_is.insert(known.id.clone(), at);
                classes[c].agents.push(known);
                at
            }
        };
        last = Some((&task.agent_id, at));
        let known = &mut classes[at.0].agents[at.1];
        known.running += 1;
        for (name, q) in &task.resources {
            add(&mut known.total, name, &unreserved, *q);
        }
    }
    let launched: FxHashSet<&AgentId> = plan.launches.iter().map(|l| &l.agent_id).collect();
    for class in &mut classes {
        for agent in &mut class.agents {
            agent.launched = launched.contains(&agent.id);
        }
        class.agents.sort_by(|a, b| a.id.cmp(&b.id));
        class.shape = shape_of(&class.agents);
    }
    classes
}

fn classes_index(config: &AutoscaleConfig, class: &str) -> Option<usize> {
    config.rules().position(|r| &*r.class == class)
}

/// Adds `q` of (`name`, `role`) to a sorted list of totals (a few entries: scanned, names and
/// roles compared by pointer first).
fn add(total: &mut Scalars, name: &std::sync::Arc<str>, role: &Role, q: Quantity) {
    let same = |(n, r, _): &(std::sync::Arc<str>, Role, Quantity)| {
        (std::sync::Arc::ptr_eq(n, name) || **n == **name) && r == role
    };
    if let Some(entry) = total.iter_mut().find(|e| same(e)) {
        entry.2 += q;
        return;
    }
    let at = total.partition_point(|(n, r, _)| (&**n, r.as_str()) < (&**name, role.as_str()));
    total.insert(at, (name.clone(), role.clone(), q));
}

/// The most common total of `agents` (sorted by id), see the module docs.
fn shape_of(agents: &[KnownAgent<'_>]) -> Option<Shape> {
    // (count, first agent) per distinct total; agents come in id order, so the first is the
    // smallest id.
    let mut seen: FxHashMap<&Scalars, (u32, usize)> = FxHashMap::default();
    for (i, agent) in agents.iter().enumerate() {
        seen.entry(&agent.total).or_insert((0, i)).0 += 1;
    }
    let &(_, first) = seen.values().max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)))?;
    let mut ports = PortSet::new();
    for agent in agents {
        agent.ports.ranges().iter().for_each(|r| ports.insert(*r));
    }
    let model = &agents[first];
    Some(Shape { scalars: model.total.clone(), ports, attributes: model.attributes.clone() })
}
