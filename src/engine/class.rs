//! Task equivalence classes: tasks with the same group, asks and plugins are placed alike.
//!
//! A class is compiled once per pass: resource names become dimension indices, roles become role
//! indices, and the plugins are sorted by [`Scope`] so each stage asks only the ones it must.
//! Everything but the group lives in a [`ClassShape`] that classes of many groups share: a
//! thousand groups with the same asks and constraints compile one shape and a thousand cheap
//! classes.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::state::PassState;
use crate::model::PortRequest;
use crate::plugins::{HardConstraint, Scope, TaskView};
use crate::spec::{SoftTerm, TaskSpec};
use crate::tables::{Dim, GroupIx, Interner, KeyIx, Names, RoleIx, UNOFFERED};

/// One class of interchangeable tasks: a group and a shape.
#[derive(Debug)]
pub(crate) struct TaskClass {
    /// Position in the pass's class list.
    pub id: u32,
    pub group: GroupIx,
    /// The candidate index this class uses, when indexable.
    pub index_slot: u32,
    pub shape: Arc<ClassShape>,
}

impl TaskClass {
    /// The view plugins get of `task`, a task of this class.
    #[inline]
    pub fn view<'a>(&'a self, task: &'a TaskSpec) -> TaskView<'a> {
        TaskView::new(&task.id, &task.group, self.group, &self.ask, &self.ports)
    }
}

impl std::ops::Deref for TaskClass {
    type Target = ClassShape;

    fn deref(&self) -> &ClassShape {
        &self.shape
    }
}

/// Asks as (dimension, thousandths): inline for up to four resources, so a shape of the usual
/// cpus, mem, disk and network allocates nothing for them.
pub(crate) type Asks = smallvec::SmallVec<[(Dim, i64); 4]>;

/// What a class is apart from its group: its asks and the rules it shares with every shape
/// of the same roles and plugins.
#[derive(Debug)]
pub(crate) struct ClassShape {
    /// Position in the pass's shape list.
    pub id: u32,
    /// Non-zero asks as (dimension, thousandths), in the task's resource order.
    pub ask: Asks,
    pub ask_names: smallvec::SmallVec<[Arc<str>; 4]>,
    pub ports: PortRequest,
    pub rules: Arc<ClassRules>,
}

impl std::ops::Deref for ClassShape {
    type Target = ClassRules;

    fn deref(&self) -> &ClassRules {
        &self.rules
    }
}

/// What shapes of the same roles and plugins share: compiled once, however many asks they
/// come with (a workload where every task asks for its own amounts compiles its rules once).
#[derive(Debug)]
pub(crate) struct ClassRules {
    /// Accepted roles, in the order resources are drawn.
    pub roles: Vec<RoleIx>,
    pub hard: Vec<Arc<dyn HardConstraint>>,
    pub soft: Vec<SoftTerm>,
    /// Whether placing a task claims the agent for the group.
    pub claims: bool,
    /// Weights as given: the total score is `fitness_weight * fitness + sum(weight * soft)`.
    /// They are not normalised per class, so that classes sharing an index (see `index`) rank
    /// agents by the very same number.
    pub fitness_weight: f64,
    pub soft_weights: Vec<f64>,
    pub stages: Stages,
    /// The custom executor the class's tasks run on, charged once per agent.
    pub executor: Option<ExecutorAsk>,
}

/// What a custom executor adds to the first of its tasks on an agent.
#[derive(Debug)]
pub(crate) struct ExecutorAsk {
    pub id: Arc<str>,
    /// The executor's asks as (dimension, thousandths), in its resource order.
    pub ask: Asks,
    pub ask_names: smallvec::SmallVec<[Arc<str>; 4]>,
}

impl ExecutorAsk {
    /// What the executor asks of `dim` (zero when nothing).
    #[inline]
    pub fn of(&self, dim: Dim) -> i64 {
        self.ask.iter().find(|&&(d, _)| d == dim).map_or(0, |&(_, amount)| amount)
    }
}

/// Plugin positions split by the stage that asks them.
#[derive(Debug, Default)]
pub(crate) struct Stages {
    /// Every hard constraint, in the task's order.
    pub all_hard: Vec<usize>,
    pub static_hard: Vec<usize>,
    pub agent_hard: Vec<usize>,
    /// Hard constraints asked once per bucket (attribute scope) or per agent (pass scope).
    pub shared_hard: Vec<usize>,
    /// Soft terms in the agent-local part of the score.
    pub local_soft: Vec<usize>,
    /// Soft terms in the shared part of the score (attribute or pass scope).
    pub shared_soft: Vec<usize>,
    /// Attribute keys whose values split agents into buckets.
    pub bucket_keys: Vec<KeyIx>,
    /// False when a plugin has pass scope: every agent must then be asked for every task.
    pub indexable: bool,
}

/// What makes a shape: asks, ports and rules (by number).
#[derive(PartialEq, Eq, Hash)]
struct ShapeKey {
    ask: Asks,
    ports: PortRequest,
    rules: u32,
}

/// What makes rules: roles and plugins (by address), as dense indices.
#[derive(PartialEq, Eq, Hash)]
struct RulesKey {
    roles: Option<Vec<Option<RoleIx>>>,
    hard: Vec<usize>,
    soft: Vec<(usize, u64)>,
    /// The executor's id and asks.
    executor: Option<(Arc<str>, Asks)>,
}

/// What makes two classes rank agents identically: same asks, same static filters, same
/// buckets, and a local score that is fitness alone. Such classes share one candidate index;
/// their group-dependent checks run when candidates are taken from it.
///
/// A shared key names its static constraints by address, so whoever keeps an index beyond the
/// pass must keep those constraints alive with it (see `select::IndexCache`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum IndexKey {
    /// Classes of any asks, when the fitness ranks agents by a key (see `keyed`).
    Keyed {
        static_hard: Vec<usize>,
        buckets: Vec<KeyIx>,
    },
    Shared {
        ask: Vec<(Dim, i64)>,
        ports: PortRequest,
        roles: Vec<RoleIx>,
        static_hard: Vec<usize>,
        buckets: Vec<KeyIx>,
    },
    Own(u32),
}

/// Assigns each indexable class its candidate index slot; returns each slot's key.
///
/// With `keyed` (the fitness ranks agents by a key), classes whose local score is fitness alone
/// and whose shape `few` says has few tasks share one keyed index whatever their asks; a shape
/// with many tasks gets an index of its own, whose scoring of every agent its tasks repay (its
/// queue tops are cheaper to read than a search of the keyed trees).
pub(crate) fn assign_indexes(classes: &mut [TaskClass], keyed: bool, few: impl Fn(u32) -> bool) -> Vec<IndexKey> {
    let mut slots: FxHashMap<IndexKey, u32> = FxHashMap::default();
    let mut keys: Vec<IndexKey> = Vec::new();
    // The slot of each shared shape, so the key is built once per shape, not per class.
    let mut by_shape: FxHashMap<u32, u32> = FxHashMap::default();
    for (c, class) in classes.iter_mut().enumerate() {
        if !class.stages.indexable {
            continue;
        }
        let shared = class.stages.local_soft.is_empty();
        if let Some(&slot) = by_shape.get(&class.shape.id).filter(|_| shared) {
            class.index_slot = slot;
            continue;
        }
        let static_hard =
            || class.stages.static_hard.iter().map(|&i| Arc::as_ptr(&class.hard[i]) as *const () as usize).collect();
        let key = if shared && keyed && few(class.shape.id) {
            IndexKey::Keyed { static_hard: static_hard(), buckets: class.stages.bucket_keys.clone() }
        } else if shared {
            IndexKey::Shared {
                ask: class.ask.to_vec(),
                ports: class.ports.clone(),
                roles: class.roles.clone(),
                static_hard: static_hard(),
                buckets: class.stages.bucket_keys.clone(),
            }
        } else {
            IndexKey::Own(c as u32)
        };
        let next = slots.len() as u32;
        class.index_slot = *slots.entry(key).or_insert_with_key(|key| {
            keys.push(key.clone());
            next
        });
        if shared {
            by_shape.insert(class.shape.id, class.index_slot);
        }
    }
    keys
}

/// [`compile`] against `state`'s names, interning the groups in the state.
pub(crate) fn compile_in(state: &mut PassState, tasks: &[TaskSpec], fitness_weight: f64) -> (Vec<TaskClass>, Vec<u32>) {
    state.tables_mut().with_groups(|tables, groups| compile(tables.names(), groups, tasks, fitness_weight))
}

/// Groups `tasks` into classes, interning their groups in `groups`; returns the classes and each
/// task's class index.
pub(crate) fn compile(
    names: Names<'_>,
    groups: &mut Interner<GroupIx>,
    tasks: &[TaskSpec],
    fitness_weight: f64,
) -> (Vec<TaskClass>, Vec<u32>) {
    let mut classes: Vec<TaskClass> = Vec::new();
    let mut shapes: Vec<Arc<ClassShape>> = Vec::new();
    let mut shape_index: FxHashMap<ShapeKey, u32> = FxHashMap::default();
    let mut rules: Vec<Arc<ClassRules>> = Vec::new();
    let mut rules_index: FxHashMap<RulesKey, u32> = FxHashMap::default();
    let mut class_index: FxHashMap<(u32, GroupIx), u32> = FxHashMap::default();
    // The task that made the last new class, to try its shape first, and the task that made
    // the last rules looked up, with their number, to try them first.
    let mut last_maker: Option<usize> = None;
    let mut last_rules: Option<(usize, u32)> = None;
    let mut of_task = Vec::with_capacity(tasks.len());
    for (t, task) in tasks.iter().enumerate() {
        // Tasks usually come in runs of one class: check against the previous one first,
        // without building a key.
        if let Some(prev) = t.checked_sub(1).filter(|&p| same_class(&tasks[p], task)) {
            of_task.push(of_task[prev]);
            continue;
        }
        let group = groups.intern(task.group.as_str());
        let shape = match last_maker.filter(|&m| same_shape(&tasks[m], task)) {
            Some(m) => classes[of_task[m] as usize].shape.id,
            None => {
                let r = match last_rules.filter(|&(m, _)| same_rules(&tasks[m], task)) {
                    Some((_, r)) => r,
                    None => {
                        let next = rules.len() as u32;
                        *rules_index.entry(rules_key(names, task)).or_insert_with_key(|key| {
                            rules.push(Arc::new(build_rules(names, task, key, fitness_weight)));
                            next
                        })
                    }
                };
                last_rules = Some((t, r));
                let key = ShapeKey { ask: asks(names, task), ports: task.ports.clone(), rules: r };
                let next = shapes.len() as u32;
                *shape_index.entry(key).or_insert_with_key(|key| {
                    let ask_names = task.resources.iter().map(|(n, _)| n.clone()).collect();
                    let (ask, ports, rules) = (key.ask.clone(), key.ports.clone(), rules[r as usize].clone());
                    shapes.push(Arc::new(ClassShape { id: next, ask, ask_names, ports, rules }));
                    next
                })
            }
        };
        let next = classes.len() as u32;
        let c = *class_index.entry((shape, group)).or_insert_with(|| {
            classes.push(TaskClass { id: next, group, index_slot: u32::MAX, shape: shapes[shape as usize].clone() });
            next
        });
        if c == next {
            last_maker = Some(t);
        }
        of_task.push(c);
    }
    (classes, of_task)
}

/// A task's asks as dense dimension indices.
fn asks(names: Names<'_>, task: &TaskSpec) -> Asks {
    scalar_asks(names, &task.resources)
}

/// Scalar amounts as dense dimension indices (a resource no agent offers is [`UNOFFERED`]).
fn scalar_asks(names: Names<'_>, resources: &[(Arc<str>, crate::resources::Quantity)]) -> Asks {
    resources.iter().map(|(name, q)| (names.dims.get_shared(name).unwrap_or(UNOFFERED), q.milli())).collect()
}

/// The rules key of a task: roles and plugins (by address), as dense indices.
fn rules_key(names: Names<'_>, task: &TaskSpec) -> RulesKey {
    RulesKey {
        roles: task.roles.as_ref().map(|rs| rs.iter().map(|r| names.roles.get(r.as_str())).collect()),
        hard: task.hard.iter().map(|c| Arc::as_ptr(c) as *const () as usize).collect(),
        soft: task
            .soft
            .iter()
            .map(|t| (Arc::as_ptr(&t.constraint) as *const () as usize, t.weight.to_bits()))
            .collect(),
        executor: task.executor.as_ref().map(|e| (e.id.clone(), scalar_asks(names, &e.resources))),
    }
}

/// Whether two tasks are in one class: same group and shape.
fn same_class(a: &TaskSpec, b: &TaskSpec) -> bool {
    a.group == b.group && same_shape(a, b)
}

/// Whether two tasks have one shape (the fields the shape key is made of, compared in place).
fn same_shape(a: &TaskSpec, b: &TaskSpec) -> bool {
    let same_names = |x: &Arc<str>, y: &Arc<str>| Arc::ptr_eq(x, y) || x == y;
    a.resources.len() == b.resources.len()
        && a.resources.iter().zip(&b.resources).all(|((xn, xq), (yn, yq))| xq == yq && same_names(xn, yn))
        && a.ports.count == b.ports.count
        && a.ports.specific.len() == b.ports.specific.len()
        && (a.ports.specific.is_empty() || a.ports.specific == b.ports.specific)
        && same_rules(a, b)
}

/// Whether two tasks have the same rules: roles and plugins (compared in place).
fn same_rules(a: &TaskSpec, b: &TaskSpec) -> bool {
    a.roles == b.roles
        && a.hard.len() == b.hard.len()
        && a.hard.iter().zip(&b.hard).all(|(x, y)| Arc::ptr_eq(x, y))
        && a.soft.len() == b.soft.len()
        && a.soft
            .iter()
            .zip(&b.soft)
            .all(|(x, y)| Arc::ptr_eq(&x.constraint, &y.constraint) && x.weight.to_bits() == y.weight.to_bits())
        && a.executor == b.executor
}

fn build_rules(names: Names<'_>, task: &TaskSpec, key: &RulesKey, fitness_weight: f64) -> ClassRules {
    let roles = match &key.roles {
        None => names.default_role_order.to_vec(),
        Some(list) => {
            let mut out: Vec<RoleIx> = Vec::new();
            for &r in list.iter().flatten() {
                if !out.contains(&r) {
                    out.push(r);
                }
            }
            out
        }
    };
    ClassRules {
        roles,
        hard: task.hard.clone(),
        soft: task.soft.clone(),
        claims: task.hard.iter().any(|c| c.claims_agent()),
        fitness_weight,
        soft_weights: task.soft.iter().map(|t| t.weight).collect(),
        stages: stages(names, task),
        executor: key.executor.as_ref().zip(task.executor.as_ref()).map(|((id, ask), demand)| ExecutorAsk {
            id: id.clone(),
            ask: ask.clone(),
            ask_names: demand.resources.iter().map(|(n, _)| n.clone()).collect(),
        }),
    }
}

fn stages(names: Names<'_>, task: &TaskSpec) -> Stages {
    let mut s = Stages { indexable: true, all_hard: (0..task.hard.len()).collect(), ..Stages::default() };
    let bucket = |s: &mut Stages, name: &str| {
        if let Some(k) = names.keys.get(name) {
            if !s.bucket_keys.contains(&k) {
                s.bucket_keys.push(k);
            }
        }
    };
    for (i, c) in task.hard.iter().enumerate() {
        match c.scope() {
            Scope::Static => s.static_hard.push(i),
            Scope::Agent => s.agent_hard.push(i),
            Scope::Attribute(name) => {
                bucket(&mut s, &name);
                s.shared_hard.push(i);
            }
            _ => {
                s.indexable = false;
                s.shared_hard.push(i);
            }
        }
    }
    for (i, t) in task.soft.iter().enumerate() {
        match t.constraint.scope() {
            Scope::Static | Scope::Agent => s.local_soft.push(i),
            Scope::Attribute(name) => {
                bucket(&mut s, &name);
                s.shared_soft.push(i);
            }
            _ => {
                s.indexable = false;
                s.shared_soft.push(i);
            }
        }
    }
    // Whether an executor's resources are charged depends on the agent (is the executor
    // there?), which no candidate index orders by: every agent is asked.
    s.indexable &= task.executor.is_none();
    s.bucket_keys.sort_unstable();
    s
}
