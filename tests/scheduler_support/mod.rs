//! Random clusters, kinds of tasks and operation sequences for the scheduler properties.

use std::sync::{Arc, OnceLock};

use offerpack::plugins::constraints::parse;
use offerpack::plugins::{HardConstraint, SoftConstraint};
use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::proptest::sample::{select, subsequence, Index};
use offerpack::{AgentId, AttrValue, Attributes, Role, TaskId, TaskSpec};

/// Groups of tasks, pending and running.
pub const GROUPS: [&str; 4] = ["web", "db", "batch", "cache"];

/// The role some offers reserve cpus for, and some tasks accept.
pub const RESERVED: &str = "analytics";

/// Hard constraints tasks draw from, as (attribute, operator, value): every built-in, on the
/// hostname and on the `zone` and `rack` attributes.
const HARD: [(&str, &str, Option<&str>); 18] = [
    ("hostname", "UNIQUE", None),
    ("zone", "UNIQUE", None),
    ("rack", "MAX_PER", Some("2")),
    ("hostname", "MAX_PER", Some("2")),
    ("zone", "GROUP_BY", None),
    ("rack", "GROUP_BY", Some("2")),
    ("zone", "BALANCE", Some("2")),
    ("hostname", "BALANCE", Some("3")),
    ("zone", "CLUSTER", None),
    ("rack", "CLUSTER", Some("r0")),
    ("hostname", "CLUSTER", None),
    ("zone", "IS", Some("z0")),
    ("hostname", "IS", Some("h1")),
    ("hostname", "LIKE", Some("h[0-3]")),
    ("rack", "LIKE", Some("r[01]")),
    ("zone", "UNLIKE", Some("z1")),
    ("hostname", "UNLIKE", Some("h2")),
    ("", "EXCLUSIVE", None),
];

/// The hard constraints of [`HARD`], built once so that tasks share them (and form classes).
fn hard_catalogue() -> &'static [Arc<dyn HardConstraint>] {
    static SET: OnceLock<Vec<Arc<dyn HardConstraint>>> = OnceLock::new();
    SET.get_or_init(|| HARD.iter().map(|(a, op, v)| parse(a, op, *v).expect("a valid built-in") as _).collect())
}

/// Soft constraints some tasks carry (weight 1).
const SOFT: [(&str, &str, Option<&str>); 3] =
    [("zone", "GROUP_BY", None), ("zone", "BALANCE", Some("2")), ("hostname", "UNIQUE", None)];

/// The soft `GROUP_BY` of [`SOFT`]. It reads how many values of its attribute the pass knows,
/// and a scheduler knows more than the one-shot engine (see the test
/// `scheduler_soft_group_by_knows_the_values_the_one_shot_engine_knows`).
pub const SOFT_GROUP_BY: usize = 0;

/// The soft constraints of [`SOFT`], built once.
pub fn soft_catalogue() -> &'static [Arc<dyn SoftConstraint>] {
    static SET: OnceLock<Vec<Arc<dyn SoftConstraint>>> = OnceLock::new();
    SET.get_or_init(|| SOFT.iter().map(|(a, op, v)| parse(a, op, *v).expect("a valid built-in") as _).collect())
}

/// One agent of the cluster: fixed id, hostname and attributes, whatever it offers.
#[derive(Clone, Debug)]
pub struct AgentSpec {
    pub id: AgentId,
    pub hostname: Arc<str>,
    pub attrs: Attributes,
}

/// One to six agents on hosts `h{i}`, now and then on the previous agent's host (an agent that
/// re-registered under a new id); one to five zones and racks, each attribute sometimes
/// missing. Their ids are given by [`case`].
fn cluster() -> impl Strategy<Value = Vec<AgentSpec>> {
    (1usize..=5, 1usize..=5).prop_flat_map(|(zones, racks)| {
        let zone = proptest::option::weighted(0.9, 0..zones);
        let rack = proptest::option::weighted(0.85, 0..racks);
        let one = (zone, rack, proptest::bool::weighted(0.2));
        proptest::collection::vec(one, 1..=6).prop_map(|agents| {
            let mut out: Vec<AgentSpec> = Vec::new();
            for (i, (zone, rack, share)) in agents.into_iter().enumerate() {
                let hostname = match out.last() {
                    Some(prev) if share => prev.hostname.clone(),
                    _ => Arc::from(format!("h{i}").as_str()),
                };
                let mut attrs = Attributes::new();
                zone.into_iter().for_each(|z| attrs.insert("zone", AttrValue::text(format!("z{z}"))));
                rack.into_iter().for_each(|r| attrs.insert("rack", AttrValue::text(format!("r{r}"))));
                out.push(AgentSpec { id: AgentId::new(format!("a{i}")), hostname, attrs });
            }
            out
        })
    })
}

/// What the tasks of one kind share.
#[derive(Clone, Debug)]
pub struct Template {
    /// One of [`GROUPS`].
    pub group: &'static str,
    /// Cpus in halves and mem in 256 MiB; `None` for a task asking for no scalar at all.
    pub size: Option<(u32, u32)>,
    /// Ports of any number asked for, and a specific one.
    pub ports: u32,
    pub specific: Option<u16>,
    /// The roles accepted (`None`: every role).
    pub roles: Option<Vec<&'static str>>,
    /// Indices into [`HARD`].
    pub hard: Vec<usize>,
    /// Index into [`SOFT`].
    pub soft: Option<usize>,
    /// Priority 0, now and then 1.
    pub priority: i32,
}

impl Template {
    /// A task of this kind with id `id`.
    pub fn build(&self, id: TaskId) -> TaskSpec {
        let mut b = TaskSpec::builder(id, self.group).ports(self.ports).priority(self.priority);
        if let Some((cpus, mem)) = self.size {
            b = b.scalar("cpus", f64::from(cpus) * 0.5).scalar("mem", f64::from(mem) * 256.0);
        }
        if let Some(port) = self.specific {
            b = b.specific_port(port);
        }
        if let Some(roles) = &self.roles {
            b = b.roles(roles.iter().map(Role::new));
        }
        for &c in &self.hard {
            b = b.hard(hard_catalogue()[c].clone());
        }
        if let Some(c) = self.soft {
            b = b.soft(1.0, soft_catalogue()[c].clone());
        }
        b.build().expect("generated tasks are valid")
    }
}

/// Small tasks of a group, some asking for ports (rarely a specific one) or for reserved cpus,
/// with up to two hard constraints of [`HARD`] and sometimes a soft one; one in thirty asks for
/// no scalar at all.
fn template() -> impl Strategy<Value = Template> {
    let shape = (
        select(GROUPS.to_vec()),
        proptest::option::weighted(0.97, (1u32..=4, 1u32..=4)),
        prop_oneof![3 => Just(0u32), 1 => 1u32..=2],
        proptest::option::weighted(0.05, select(vec![31000u16, 31005])),
        prop_oneof![8 => Just(None), 1 => Just(Some(vec![RESERVED])), 1 => Just(Some(vec![RESERVED, "*"]))],
    );
    let rules =
        (subsequence((0..HARD.len()).collect::<Vec<_>>(), 0..=2), proptest::option::weighted(0.3, 0..SOFT.len()));
    (shape, rules, prop_oneof![4 => Just(0i32), 1 => Just(1i32)]).prop_map(|(shape, (hard, soft), priority)| {
        let (group, size, ports, specific, roles) = shape;
        Template { group, size, ports, specific, roles, hard, soft, priority }
    })
}

/// What an offer holds.
#[derive(Clone, Debug)]
pub enum Size {
    /// `k` times what one kind of task asks for (`k` such tasks fill it exactly).
    Exact(Index, u32),
    /// Cpus in halves and mem in 256 MiB.
    Room(u32, u32),
}

/// One operation on the scheduler.
#[derive(Clone, Debug)]
pub enum Op {
    /// A fresh offer from an agent: a size, sometimes ports, sometimes cpus reserved for
    /// [`RESERVED`].
    Offer { agent: Index, size: Size, ports: Option<u16>, reserved: Option<u32> },
    /// One of the held offers is rescinded.
    Rescind(Index),
    /// An agent is lost; its tasks end too, or keep running until told otherwise.
    RemoveAgent { agent: Index, lose_tasks: bool },
    /// A task the scheduler did not place runs on an agent (found by reconciliation).
    Running { group: Index, agent: Index, held: Option<(u32, u32)> },
    /// A live task ends (or, with none live, an unknown one is reported ended).
    End(Index),
    /// Time advances by `advance` seconds, then a pass places tasks of the kinds picked.
    Schedule { tasks: Vec<Index>, advance: u64 },
}

/// Any operation but a pass.
fn event() -> impl Strategy<Value = Op> {
    let size = prop_oneof![
        (any::<Index>(), 1u32..=4).prop_map(|(t, k)| Size::Exact(t, k)),
        (1u32..=12, 1u32..=16).prop_map(|(c, m)| Size::Room(c, m)),
    ];
    let offer =
        (any::<Index>(), size, proptest::option::weighted(0.6, 0u16..=3), proptest::option::weighted(0.2, 1u32..=4))
            .prop_map(|(agent, size, ports, reserved)| Op::Offer { agent, size, ports, reserved });
    let running = (any::<Index>(), any::<Index>(), proptest::option::weighted(0.5, (1u32..=2, 1u32..=4)))
        .prop_map(|(group, agent, held)| Op::Running { group, agent, held });
    prop_oneof![
        10 => offer,
        1 => any::<Index>().prop_map(Op::Rescind),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(agent, lose_tasks)| Op::RemoveAgent { agent, lose_tasks }),
        2 => running,
        2 => any::<Index>().prop_map(Op::End),
    ]
}

/// Rounds of one to eight events, each round ending in a pass.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    let advance = prop_oneof![4 => 0u64..=5, 1 => 20u64..=30];
    let schedule = (proptest::collection::vec(any::<Index>(), 0..=6), advance)
        .prop_map(|(tasks, advance)| Op::Schedule { tasks, advance });
    let round = (proptest::collection::vec(event(), 1..=8), schedule).prop_map(|(mut events, pass)| {
        events.push(pass);
        events
    });
    proptest::collection::vec(round, 1..=8).prop_map(|rounds| rounds.concat())
}

/// A random cluster, kinds of tasks, and a sequence of operations.
#[derive(Clone, Debug)]
pub struct Case {
    /// The agents, named in the order they first offer (see `name_agents`).
    pub agents: Vec<AgentSpec>,
    /// One to five kinds of tasks.
    pub templates: Vec<Template>,
    /// Rounds of events, each ending in a pass.
    pub ops: Vec<Op>,
}

/// Random cases.
pub fn case() -> impl Strategy<Value = Case> {
    (cluster(), proptest::collection::vec(template(), 1..=5), ops()).prop_map(|(mut agents, templates, ops)| {
        name_agents(&mut agents, &ops);
        Case { agents, templates, ops }
    })
}

/// Names the agents `a0`, `a1`, ... in the order of their first offers (agents that never offer
/// come last). The scheduler breaks equal scores on the order it first saw agents, the one-shot
/// engine on agent ids: with ids in first-offer order both orders are one, so task-by-task
/// plans can be compared exactly. (Today the scheduler also orders agents by id, rebuilding
/// when a new agent offers; the naming keeps the comparison exact should that change.)
fn name_agents(agents: &mut [AgentSpec], ops: &[Op]) {
    let mut order: Vec<usize> = Vec::new();
    let offered = ops.iter().filter_map(|op| match op {
        Op::Offer { agent, .. } => Some(agent.index(agents.len())),
        _ => None,
    });
    for i in offered.chain(0..agents.len()) {
        if !order.contains(&i) {
            order.push(i);
        }
    }
    for (rank, &i) in order.iter().enumerate() {
        agents[i].id = AgentId::new(format!("a{rank}"));
    }
}
