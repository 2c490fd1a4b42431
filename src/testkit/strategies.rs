//! Proptest strategies: offers, agents, task specs, running tasks and whole workloads.
//!
//! Values are few on purpose (zones `a`–`c`, racks `r1`–`r4`, three groups, a few port
//! numbers) so that tasks compete for the same resources, ports and attribute values, and
//! constraints bite. Whole workloads are half the time small and crowded (up to 8 agents and 16
//! tasks), half the time as large as the [`Profile`] allows, and carry a few agents whose offers
//! some of the pending tasks fill exactly, so that fits are tested at their boundary. Ids are
//! unique within a workload: agents `a{i}` on hosts `h{i}`, offers `o{i}.{k}`, pending tasks
//! `t{i}`, running tasks `r{i}`.

use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use proptest::collection::{vec, SizeRange};
use proptest::prelude::*;
use proptest::sample::{select, subsequence, Index};

use crate::model::{AgentId, AttrValue, Attributes, Offer, OfferId, OfferedResource, ResourceValue, Role};
use crate::model::{RunningTask, TaskId};
use crate::plugins::constraints::{Balance, Cluster, Exclusive, GroupBy, Is, Like, MaxPer, Unique, Unlike};
use crate::plugins::{HardConstraint, SoftConstraint};
use crate::pool::OfferPool;
use crate::resources::{PortRange, PortSet, Quantity, PORTS};
use crate::spec::TaskSpec;

/// The role that generated offers reserve some resources for, and that some tasks accept.
pub const RESERVED_ROLE: &str = "analytics";

/// Values of the `zone` attribute.
pub const ZONES: [&str; 3] = ["a", "b", "c"];

/// Values of the `rack` attribute.
pub const RACKS: [&str; 4] = ["r1", "r2", "r3", "r4"];

/// Groups that generated tasks (pending and running) belong to.
pub const GROUPS: [&str; 3] = ["web", "db", "batch"];

/// Ports generated tasks ask for by number (unreserved and reserved ranges start there).
const SPECIFIC_PORTS: [u16; 3] = [31000, 31001, 32000];

/// Pending tasks, running tasks and the offers they compete for.
#[derive(Clone, Debug, Default)]
pub struct Workload {
    /// Offers, ids unique; all offers of one agent carry the same hostname and attributes.
    pub offers: Vec<Offer>,
    /// Pending tasks, ids unique and distinct from the running tasks' ids.
    pub tasks: Vec<TaskSpec>,
    /// Tasks already running: on pool agents, on agents without offers, or nowhere known.
    pub running: Vec<RunningTask>,
}

impl Workload {
    /// A pool holding every offer, each received at `now` and held for `hold`.
    ///
    /// # Panics
    /// When two offers share an id (generated workloads never do).
    pub fn pool(&self, hold: Duration, now: Duration) -> OfferPool {
        let mut pool = OfferPool::new(hold);
        for offer in &self.offers {
            pool.add(offer.clone(), now).expect("offer ids are unique");
        }
        pool
    }

    /// An agent's attributes as the pool reports them: those of its offer with the smallest id.
    pub fn attributes(&self, agent: &AgentId) -> Option<&Attributes> {
        let offers = self.offers.iter().filter(|o| &o.agent_id == agent);
        offers.min_by(|a, b| a.id.cmp(&b.id)).map(|o| &o.attributes)
    }

    /// The pending task with this id.
    pub fn task(&self, id: &TaskId) -> Option<&TaskSpec> {
        self.tasks.iter().find(|t| &t.id == id)
    }

    /// The distinct agent ids of the offers, sorted.
    pub fn agent_ids(&self) -> Vec<AgentId> {
        let mut ids: Vec<AgentId> = self.offers.iter().map(|o| o.agent_id.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

/// The constraints generated tasks draw from: a small fixed set of shared `Arc`s, so that tasks
/// carrying the same ones (and asking for the same resources) form equivalence classes.
#[derive(Clone, Debug)]
pub struct ConstraintSet {
    hard: Vec<Arc<dyn HardConstraint>>,
    soft: Vec<Arc<dyn SoftConstraint>>,
    extra: Vec<Arc<dyn HardConstraint>>,
}

impl ConstraintSet {
    /// The built-ins: hard `hostname:UNIQUE`, `zone:GROUP_BY`, `zone:GROUP_BY:2`,
    /// `rack:MAX_PER:2`, `zone:CLUSTER`, `zone:CLUSTER:a`, `zone:LIKE:a|b`, `zone:UNLIKE:c`,
    /// `rack:IS:r1`, `EXCLUSIVE`, `zone:BALANCE:3`, and a few of them as soft constraints.
    /// Every call returns the same `Arc`s.
    pub fn builtins() -> ConstraintSet {
        static SET: OnceLock<ConstraintSet> = OnceLock::new();
        SET.get_or_init(|| {
            let (two, three) = (NonZeroU32::new(2).expect("2 > 0"), NonZeroU32::new(3).expect("3 > 0"));
            let hard: Vec<Arc<dyn HardConstraint>> = vec![
                Arc::new(Unique::new("hostname")),
                Arc::new(GroupBy::new("zone", 0)),
                Arc::new(GroupBy::new("zone", 2)),
                Arc::new(MaxPer::new("rack", two)),
                Arc::new(Cluster::new("zone", None)),
                Arc::new(Cluster::new("zone", Some("a"))),
                Arc::new(Like::new("zone", "a|b").expect("pattern compiles")),
                Arc::new(Unlike::new("zone", "c").expect("pattern compiles")),
                Arc::new(Is::new("rack", "r1")),
                Arc::new(Exclusive::new()),
                Arc::new(Balance::new("zone", three)),
            ];
            let soft: Vec<Arc<dyn SoftConstraint>> = vec![
                Arc::new(Unique::new("hostname")),
                Arc::new(GroupBy::new("zone", 0)),
                Arc::new(MaxPer::new("rack", two)),
                Arc::new(Balance::new("zone", three)),
                Arc::new(Cluster::new("zone", None)),
                Arc::new(Exclusive::new()),
                Arc::new(Like::new("zone", "a").expect("pattern compiles")),
            ];
            ConstraintSet { hard, soft, extra: Vec::new() }
        })
        .clone()
    }

    /// Adds the caller's own hard constraints; each generated task class carries each of them
    /// with probability one half, besides any built-ins.
    pub fn with_hard(mut self, extra: impl IntoIterator<Item = Arc<dyn HardConstraint>>) -> ConstraintSet {
        self.extra.extend(extra);
        self
    }

    /// The built-in hard constraints tasks draw from.
    pub fn hard(&self) -> &[Arc<dyn HardConstraint>] {
        &self.hard
    }

    /// The soft constraints tasks draw from.
    pub fn soft(&self) -> &[Arc<dyn SoftConstraint>] {
        &self.soft
    }

    /// The caller's own hard constraints.
    pub fn extra(&self) -> &[Arc<dyn HardConstraint>] {
        &self.extra
    }
}

/// The resources of one generated offer, in small units.
#[derive(Clone, Debug)]
struct OfferParts {
    half_cpus: u32,
    mem_256: u32,
    disk_1024: Option<u32>,
    /// (first port offset, extra ports) of an unreserved range.
    ports: Option<(u16, u16)>,
    /// (half cpus, 256 MiB, reserved ports too) reserved for [`RESERVED_ROLE`].
    reserved: Option<(u32, u32, bool)>,
}

fn offer_parts() -> impl Strategy<Value = OfferParts> {
    (
        prop_oneof![1 => Just(0u32), 9 => 1u32..=16],
        prop_oneof![1 => Just(0u32), 9 => 1u32..=32],
        proptest::option::weighted(0.5, 1u32..=8),
        proptest::option::weighted(0.7, (0u16..4, 0u16..=4)),
        proptest::option::weighted(0.3, (0u32..=8, 0u32..=16, proptest::bool::weighted(0.3))),
    )
        .prop_map(|(half_cpus, mem_256, disk_1024, ports, reserved)| OfferParts {
            half_cpus,
            mem_256,
            disk_1024,
            ports,
            reserved,
        })
}

/// Zone and rack, each sometimes missing (such agents fail most constraints on the attribute).
fn attributes() -> impl Strategy<Value = Attributes> {
    (proptest::option::weighted(0.9, select(ZONES.to_vec())), proptest::option::weighted(0.8, select(RACKS.to_vec())))
        .prop_map(|(zone, rack)| {
            let mut attrs = Attributes::new();
            if let Some(zone) = zone {
                attrs.insert("zone", AttrValue::text(zone));
            }
            if let Some(rack) = rack {
                attrs.insert("rack", AttrValue::text(rack));
            }
            attrs
        })
}

/// Builds offer number `k` of an agent; port ranges of different `k` never overlap.
fn build_offer(id: OfferId, agent: AgentId, host: &str, k: u16, parts: &OfferParts, attrs: &Attributes) -> Offer {
    let mut offer = Offer::new(id, agent, host);
    offer.attributes = attrs.clone();
    let mut scalar = |name: &str, role: &str, amount: f64| {
        if amount > 0.0 {
            let value = ResourceValue::Scalar(Quantity::new(amount).expect("small positive amount"));
            offer.resources.push(OfferedResource { name: Arc::from(name), role: Role::new(role), value });
        }
    };
    scalar("cpus", "*", f64::from(parts.half_cpus) * 0.5);
    scalar("mem", "*", f64::from(parts.mem_256) * 256.0);
    scalar("disk", "*", f64::from(parts.disk_1024.unwrap_or(0)) * 1024.0);
    if let Some((cpus, mem, _)) = parts.reserved {
        scalar("cpus", RESERVED_ROLE, f64::from(cpus) * 0.5);
        scalar("mem", RESERVED_ROLE, f64::from(mem) * 256.0);
    }
    let mut ports = |role: &str, base: u16, offset: u16, extra: u16| {
        let begin = base + 10 * k + offset;
        let set = PortSet::from_ranges(PortRange::new(begin, begin + extra));
        let value = ResourceValue::Ports(set);
        offer.resources.push(OfferedResource { name: Arc::from(PORTS), role: Role::new(role), value });
    };
    if let Some((offset, extra)) = parts.ports {
        ports("*", 31000, offset, extra);
    }
    if let Some((_, _, true)) = parts.reserved {
        ports(RESERVED_ROLE, 32000, 0, 1);
    }
    offer
}

/// One offer `id` from agent `agent_id` (whose hostname is its id): unreserved cpus, mem,
/// sometimes disk and a port range near 31000, sometimes cpus, mem and ports reserved for
/// [`RESERVED_ROLE`], and `zone`/`rack` attributes.
pub fn offer(id: impl Into<OfferId>, agent_id: impl Into<AgentId>) -> impl Strategy<Value = Offer> {
    let (id, agent): (OfferId, AgentId) = (id.into(), agent_id.into());
    (offer_parts(), attributes())
        .prop_map(move |(parts, attrs)| build_offer(id.clone(), agent.clone(), agent.as_str(), 0, &parts, &attrs))
}

/// All offers of agent `a{index}` on host `h{index}`: one to three offers `o{index}.{k}` sharing
/// the agent's attributes, with disjoint port ranges.
pub fn agent(index: usize) -> impl Strategy<Value = Vec<Offer>> {
    (attributes(), vec(offer_parts(), 1..=3))
        .prop_map(move |(attrs, parts)| agent_offers(index, &format!("h{index}"), &attrs, &parts))
}

fn agent_offers(index: usize, host: &str, attrs: &Attributes, parts: &[OfferParts]) -> Vec<Offer> {
    let agent = AgentId::new(format!("a{index}"));
    let offers = parts
        .iter()
        .enumerate()
        .map(|(k, p)| build_offer(OfferId::new(format!("o{index}.{k}")), agent.clone(), host, k as u16, p, attrs));
    offers.collect()
}

/// The offers of several agents (`a0`, `a1`, ...), each as [`agent`] makes them; now and then an
/// agent shares the previous agent's hostname (an agent that re-registered under a new id).
pub fn agents(count: impl Into<SizeRange>) -> impl Strategy<Value = Vec<Offer>> {
    vec((attributes(), vec(offer_parts(), 1..=3), proptest::bool::weighted(0.15)), count).prop_map(|agents| {
        let mut offers = Vec::new();
        let mut host = String::new();
        for (i, (attrs, parts, share)) in agents.iter().enumerate() {
            if i == 0 || !share {
                host = format!("h{i}");
            }
            offers.extend(agent_offers(i, &host, attrs, parts));
        }
        offers
    })
}

/// Which roles a generated task accepts.
fn roles() -> impl Strategy<Value = Option<Vec<Role>>> {
    let some = |roles: &[&str]| Just(Some(roles.iter().map(Role::new).collect::<Vec<_>>()));
    prop_oneof![
        8 => Just(None),
        1 => some(&[RESERVED_ROLE]),
        2 => some(&[RESERVED_ROLE, "*"]),
        1 => some(&["*"]),
        1 => some(&["nobody"]),
    ]
}

/// Everything about a task but its id: what tasks of one class share.
#[derive(Clone, Debug)]
struct Template {
    group: &'static str,
    quarter_cpus: u32,
    mem_128: u32,
    disk_512: Option<u32>,
    ports: u32,
    specific: Option<u16>,
    roles: Option<Vec<Role>>,
    hard: Vec<Arc<dyn HardConstraint>>,
    soft: Vec<(f64, Arc<dyn SoftConstraint>)>,
    priority: i32,
}

impl Template {
    fn build(&self, id: TaskId) -> TaskSpec {
        let mut b = TaskSpec::builder(id, self.group)
            .scalar("cpus", f64::from(self.quarter_cpus) * 0.25)
            .scalar("mem", f64::from(self.mem_128) * 128.0)
            .ports(self.ports)
            .priority(self.priority);
        if let Some(disk) = self.disk_512 {
            b = b.scalar("disk", f64::from(disk) * 512.0);
        }
        if let Some(port) = self.specific {
            b = b.specific_port(port);
        }
        if let Some(roles) = &self.roles {
            b = b.roles(roles.iter().cloned());
        }
        for c in &self.hard {
            b = b.hard(c.clone());
        }
        for (w, c) in &self.soft {
            b = b.soft(*w, c.clone());
        }
        b.build().expect("generated tasks are valid")
    }
}

fn template(set: &ConstraintSet) -> impl Strategy<Value = Template> {
    let (hard, soft, extra) = (set.hard.clone(), set.soft.clone(), set.extra.clone());
    let shape = (
        select(GROUPS.to_vec()),
        1u32..=10,
        1u32..=16,
        proptest::option::weighted(0.2, 1u32..=4),
        prop_oneof![3 => Just(0u32), 1 => 1u32..=2],
        proptest::option::weighted(0.1, select(SPECIFIC_PORTS.to_vec())),
        roles(),
    );
    let plugins = (
        subsequence(hard, 0..=2),
        vec(proptest::bool::ANY, extra.len()),
        subsequence(soft, 0..=2),
        vec(select(vec![0.5, 1.0, 2.0]), 2),
        prop_oneof![3 => Just(0i32), 1 => 0i32..=2],
    );
    (shape, plugins).prop_map(move |(shape, plugins)| {
        let (group, quarter_cpus, mem_128, disk_512, ports, specific, roles) = shape;
        let (mut hard, with_extra, soft, weights, priority) = plugins;
        hard.extend(extra.iter().zip(with_extra).filter(|(_, on)| *on).map(|(c, _)| c.clone()));
        let soft = soft.into_iter().zip(weights).map(|(c, w)| (w, c)).collect();
        Template { group, quarter_cpus, mem_128, disk_512, ports, specific, roles, hard, soft, priority }
    })
}

/// One pending task `id`: cpus, mem, sometimes disk, a few ports (now and then a specific one),
/// sometimes a restricted list of roles, and zero to two hard and soft constraints from `set`.
pub fn task_spec(id: impl Into<TaskId>, set: &ConstraintSet) -> impl Strategy<Value = TaskSpec> {
    let id: TaskId = id.into();
    template(set).prop_map(move |t| t.build(id.clone()))
}

/// Pending tasks `t0`, `t1`, ...: drawn from one to four class templates, so that several tasks
/// share a group, resources and constraint `Arc`s.
pub fn task_specs(set: &ConstraintSet, count: impl Into<SizeRange>) -> impl Strategy<Value = Vec<TaskSpec>> {
    (vec(template(set), 1..=4), vec(any::<Index>(), count)).prop_map(|(templates, picks)| {
        let tasks = picks.iter().enumerate();
        tasks.map(|(i, pick)| pick.get(&templates).build(TaskId::new(format!("t{i}")))).collect()
    })
}

/// Where a generated running task is.
#[derive(Clone, Debug)]
enum Place {
    /// On one of the given agents.
    Agent(Index),
    /// On an agent with no offer, known by hostname and attributes.
    Ghost(&'static str, Attributes),
    /// On an agent the pass knows nothing about.
    Unknown,
}

/// Running tasks `r0`, `r1`, ... of the generated groups: on the given agents, on agents with
/// no offers whose hostname (sometimes one of the pool's) and attributes are known, or nowhere
/// known; some declare the cpus and mem they hold.
pub fn running_tasks(agents: Vec<AgentId>, count: impl Into<SizeRange>) -> impl Strategy<Value = Vec<RunningTask>> {
    running_parts(count).prop_map(move |parts| place_running(parts, &agents))
}

/// What makes a running task: group, place, and the (half cpus, 256 MiB) it holds, if declared.
type RunningParts = (&'static str, Place, Option<(u32, u32)>);

fn running_parts(count: impl Into<SizeRange>) -> impl Strategy<Value = Vec<RunningParts>> {
    let ghost = (select(vec!["h0", "h1", "g0", "g1"]), attributes()).prop_map(|(h, a)| Place::Ghost(h, a));
    let place = prop_oneof![
        4 => any::<Index>().prop_map(Place::Agent),
        2 => ghost,
        1 => Just(Place::Unknown),
    ];
    vec((select(GROUPS.to_vec()), place, proptest::option::weighted(0.5, (1u32..=4, 1u32..=8))), count)
}

/// Running tasks `r0`, `r1`, ... from their parts, on `agents` where they are on an agent.
fn place_running(parts: Vec<RunningParts>, agents: &[AgentId]) -> Vec<RunningTask> {
    let tasks = parts.into_iter().enumerate();
    tasks.map(|(i, (group, place, held))| running_task(i, group, place, held, agents)).collect()
}

fn running_task(i: usize, group: &str, place: Place, held: Option<(u32, u32)>, agents: &[AgentId]) -> RunningTask {
    let (agent, host) = match place {
        Place::Agent(pick) if !agents.is_empty() => (pick.get(agents).clone(), None),
        Place::Ghost(host, attrs) => (AgentId::new(format!("ghost-{host}")), Some((Arc::from(host), attrs))),
        _ => (AgentId::new(format!("lost-{i}")), None),
    };
    let mut task = RunningTask::new(format!("r{i}").as_str(), group, agent);
    task.host = host;
    if let Some((cpus, mem)) = held {
        let q = |v: f64| Quantity::new(v).expect("small positive amount");
        task.resources =
            vec![(Arc::from("cpus"), q(f64::from(cpus) * 0.5)), (Arc::from("mem"), q(f64::from(mem) * 256.0))];
    }
    task
}

/// How hard property tests push: how large generated workloads get and how many cases run.
///
/// Proptest records a failure as the seed that generated it, and a seed generates other inputs
/// under other bounds: a failure found in one profile replays in that profile only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Profile {
    /// The default, sized for CI: up to 40 agents and 120 pending tasks.
    Quick,
    /// Eight times the cases, and workloads up to 80 agents and 300 pending tasks: for a long
    /// run by hand (`OFFERPACK_PROPTEST=deep cargo test --all-features`).
    Deep,
}

impl Profile {
    /// The profile the `OFFERPACK_PROPTEST` environment variable names: `deep`, or the quick
    /// one when it is unset or says anything else.
    pub fn from_env() -> Profile {
        match std::env::var("OFFERPACK_PROPTEST").as_deref().map(str::trim) {
            Ok(v) if v.eq_ignore_ascii_case("deep") => Profile::Deep,
            _ => Profile::Quick,
        }
    }

    /// The bounds of the workloads [`workloads`] makes in this profile.
    pub fn sizes(self) -> Sizes {
        match self {
            Profile::Quick => Sizes { agents: 40, tasks: 120, min_tasks: 0, running: 16, exact_agents: 4 },
            Profile::Deep => Sizes { agents: 80, tasks: 300, min_tasks: 0, running: 40, exact_agents: 10 },
        }
    }

    /// The number of cases a property should run that runs `quick` cases in the quick profile.
    pub fn cases(self, quick: u32) -> u32 {
        match self {
            Profile::Quick => quick,
            Profile::Deep => quick.saturating_mul(8),
        }
    }
}

/// Bounds of generated workloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Most agents made as [`agents`] makes them (at least one is always made).
    pub agents: usize,
    /// Most pending tasks.
    pub tasks: usize,
    /// Fewest pending tasks (at most `tasks`).
    pub min_tasks: usize,
    /// Most running tasks.
    pub running: usize,
    /// Most agents besides, each offering exactly what one to four of the pending tasks ask for
    /// (resources in a role those tasks accept, their specific ports, and as many others).
    pub exact_agents: usize,
}

impl Sizes {
    /// These bounds, capped at a small and crowded workload's.
    fn small(self) -> Sizes {
        let tasks = self.tasks.min(16).max(self.min_tasks);
        Sizes {
            agents: self.agents.min(8),
            tasks,
            running: self.running.min(8),
            exact_agents: self.exact_agents.min(2),
            ..self
        }
    }
}

/// Whole workloads with the built-in [`ConstraintSet`], sized by [`Profile::from_env`].
pub fn workloads() -> impl Strategy<Value = Workload> {
    workloads_from(ConstraintSet::builtins())
}

/// Whole workloads whose task classes also carry the caller's own hard constraints (each class
/// carries each with probability one half), to property-test a plugin.
pub fn workloads_with(extra_hard: Vec<Arc<dyn HardConstraint>>) -> impl Strategy<Value = Workload> {
    workloads_from(ConstraintSet::builtins().with_hard(extra_hard))
}

/// Whole workloads whose tasks draw their constraints from `set`, sized by
/// [`Profile::from_env`].
pub fn workloads_from(set: ConstraintSet) -> impl Strategy<Value = Workload> {
    workloads_sized(set, Profile::from_env().sizes())
}

/// Whole workloads within `sizes` whose tasks draw their constraints from `set`: half of them
/// small and crowded (up to 8 agents and 16 tasks, within `sizes`), half up to `sizes`.
pub fn workloads_sized(set: ConstraintSet, sizes: Sizes) -> impl Strategy<Value = Workload> {
    prop_oneof![sized(set.clone(), sizes.small()), sized(set, sizes)]
}

fn sized(set: ConstraintSet, sizes: Sizes) -> impl Strategy<Value = Workload> {
    let exact = vec((vec(any::<Index>(), 1..=4), attributes()), 0..=sizes.exact_agents);
    let tasks = task_specs(&set, sizes.min_tasks.min(sizes.tasks)..=sizes.tasks);
    // One map over independent parts (no flat map), so that every part shrinks.
    (agents(1..=sizes.agents.max(1)), tasks, exact, running_parts(0..=sizes.running)).prop_map(
        |(mut offers, tasks, exact, running)| {
            let first = Workload { offers: offers.clone(), ..Workload::default() }.agent_ids().len();
            for (j, (picks, attrs)) in exact.iter().enumerate().filter(|_| !tasks.is_empty()) {
                let picked: Vec<&TaskSpec> = picks.iter().map(|i| i.get(&tasks)).collect();
                offers.push(exact_offer(first + j, &picked, attrs));
            }
            let ids = Workload { offers: offers.clone(), ..Workload::default() }.agent_ids();
            Workload { running: place_running(running, &ids), offers, tasks }
        },
    )
}

/// The one offer of agent `a{index}` on host `h{index}`: what `tasks` ask for together, each
/// task's resources in the first role it accepts of `*` and [`RESERVED_ROLE`] (`*` if neither),
/// their specific ports, and as many more ports as they ask for besides, from 33000 up.
fn exact_offer(index: usize, tasks: &[&TaskSpec], attrs: &Attributes) -> Offer {
    let agent = AgentId::new(format!("a{index}"));
    let mut offer = Offer::new(OfferId::new(format!("o{index}.0")), agent, &format!("h{index}"));
    offer.attributes = attrs.clone();
    let mut scalars: Vec<(Arc<str>, Role, i64)> = Vec::new();
    let mut ports: Vec<(Role, Vec<u16>)> = Vec::new();
    let mut next_port = 33000u16;
    // A port is offered once, in one role, even when two of the tasks ask for it.
    let mut specific: Vec<u16> = Vec::new();
    for task in tasks {
        let accepts = |role: &str| task.roles.as_ref().is_none_or(|rs| rs.iter().any(|r| r.as_str() == role));
        let role = Role::new(if !accepts("*") && accepts(RESERVED_ROLE) { RESERVED_ROLE } else { "*" });
        for (name, q) in &task.resources {
            match scalars.iter_mut().find(|(n, r, _)| n == name && *r == role) {
                Some((_, _, total)) => *total += q.milli(),
                None => scalars.push((name.clone(), role.clone(), q.milli())),
            }
        }
        let mut mine: Vec<u16> = task.ports.specific.iter().copied().filter(|p| !specific.contains(p)).collect();
        specific.extend(&mine);
        mine.extend((0..task.ports.count).map(|k| next_port + k as u16));
        next_port += task.ports.count as u16;
        match ports.iter_mut().find(|(r, _)| *r == role) {
            Some((_, list)) => list.extend(mine),
            None => ports.push((role, mine)),
        }
    }
    for (name, role, milli) in scalars.into_iter().filter(|(_, _, m)| *m > 0) {
        let value = ResourceValue::Scalar(Quantity::from_milli(milli as u64));
        offer.resources.push(OfferedResource { name, role, value });
    }
    for (role, list) in ports.into_iter().filter(|(_, list)| !list.is_empty()) {
        let set = PortSet::from_ranges(list.into_iter().filter_map(|p| PortRange::new(p, p)));
        offer.resources.push(OfferedResource { name: Arc::from(PORTS), role, value: ResourceValue::Ports(set) });
    }
    offer
}
