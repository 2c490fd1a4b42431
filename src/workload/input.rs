//! Reading a workload: JSON text → [`schema`](super::schema) mirror → validated library types.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::queues::{self, TaskQueue};
use super::schema::{
    AttrDoc, ConstraintDoc, FitnessDoc, Map, OfferDoc, PortsDoc, ResourcesDoc, RunningDoc, TaskDoc, WorkloadDoc,
};
use crate::model::{
    AttrValue, Attributes, GroupId, ModelError, Offer, OfferedResource, ResourceValue, Role, RunningTask,
};
use crate::plugins::constraints::{self, Builtin, ConstraintError};
use crate::plugins::fitness::{self, FitnessError, Weighted};
use crate::plugins::{Fitness, HardConstraint, SoftConstraint};
use crate::pool::OfferPool;
use crate::preempt::{BudgetError, DisruptionBudgets, MaxUnavailable};
use crate::queue::{QueueConfig, QueueConfigError};
use crate::resources::{PortRange, PortSet, Quantity, QuantityError, PORTS};
use crate::spec::{TaskBuilder, TaskSpec};

/// How long offers are held when the workload does not say.
pub const DEFAULT_HOLD: Duration = Duration::from_secs(60);

/// Most ports a task may ask for (every port number there is).
const MAX_PORT_COUNT: u32 = 65_536;

/// A validated workload: the offers in a pool, the tasks, the running tasks, the fitness and the
/// queue configuration.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Every offer, added at `now = 0`.
    pub pool: OfferPool,
    /// The offers as given, to build a fresh pool for each run.
    pub offers: Vec<Offer>,
    /// Pending tasks, in document order.
    pub tasks: Vec<TaskSpec>,
    /// Running tasks.
    pub running: Vec<RunningTask>,
    /// The fitness calculator (cpu and memory bin packing unless the workload names one).
    pub fitness: Arc<dyn Fitness>,
    /// How long the pool holds an offer.
    pub hold: Duration,
    /// The queue configuration, when the workload gives `buckets` or `tiers`.
    pub queue: Option<QueueConfig>,
    /// Each pending task's tier and bucket, index for index with `tasks`.
    pub task_queues: Vec<TaskQueue>,
    /// The pending tasks each pending task waits for (its `after`), index for index with
    /// `tasks`; checked to name pending tasks of the workload and to form no cycle.
    pub after: Vec<Vec<crate::model::TaskId>>,
    /// Each pending task's `labels` (key, value), in document order, index for index with
    /// `tasks`: what a live run (`offerpack run`) puts in its `TaskInfo.labels`.
    pub labels: Vec<Vec<(String, String)>>,
    /// The autoscaling rules, when the workload gives `autoscale`.
    pub autoscale: Option<crate::autoscale::AutoscaleConfig>,
    /// Disruption budgets, when the workload asks for preemption: it gives `groups`, or a
    /// running task gives a `priority` or `tier`. `None` plans without preemption.
    pub preemption: Option<DisruptionBudgets>,
}

impl Workload {
    /// Parses and validates a workload from JSON text.
    ///
    /// ```
    /// let text = r#"{"offers": [{"id": "o1", "agent_id": "a1", "hostname": "h1",
    ///                              "resources": {"cpus": 4, "mem": 4096}}],
    ///                "tasks": [{"id": "t1", "group": "web", "resources": {"cpus": 1}}]}"#;
    /// let workload = offerpack::workload::Workload::from_json(text).unwrap();
    /// assert_eq!((workload.offers.len(), workload.tasks.len()), (1, 1));
    /// ```
    pub fn from_json(text: &str) -> Result<Workload, WorkloadError> {
        let doc: WorkloadDoc = serde_json::from_str(text).map_err(WorkloadError::json)?;
        Workload::from_doc(doc)
    }

    /// Validates a parsed document.
    pub(crate) fn from_doc(doc: WorkloadDoc) -> Result<Workload, WorkloadError> {
        let hold = hold(doc.hold_seconds)?;
        let offers = offers(&doc.offers)?;
        let mut ids = IdSpace::default();
        let tasks = Tasks::new(&offers).build(&doc.tasks, &mut ids)?;
        let running = running(&doc.running, &mut ids)?;
        let fitness = fitness_of(doc.fitness.as_ref())?;
        let queue = queues::config(&doc.buckets, doc.tiers.as_deref())?;
        let task_queues = queues::task_queues(&doc.tasks)?;
        let after = super::after::task_after(&doc.tasks)?;
        let labels = doc.tasks.iter().map(|t| t.labels.0.clone()).collect();
        let preemption = budgets(&doc)?;
        let pool = OfferPool::new(hold);
        let autoscale = super::autoscale::config(doc.autoscale.as_ref())?;
        let mut workload = Workload {
            pool,
            offers,
            tasks,
            running,
            fitness,
            hold,
            queue,
            task_queues,
            after,
            labels,
            autoscale,
            preemption,
        };
        workload.pool = workload.fresh_pool();
        Ok(workload)
    }

    /// A new pool holding every offer, added at `now = 0`.
    pub fn fresh_pool(&self) -> OfferPool {
        let mut pool = OfferPool::new(self.hold);
        for offer in &self.offers {
            // Offer ids were checked unique when the workload was read.
            let _ = pool.add(offer.clone(), Duration::ZERO);
        }
        pool
    }
}

/// A workload that cannot be read: malformed JSON, or a value that fails validation.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum WorkloadError {
    /// Not JSON, or JSON of the wrong shape: a syntax error, an unknown or missing field, a value
    /// of the wrong type (such as the string `"NaN"` where a number belongs).
    Json {
        /// serde_json's description.
        message: String,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error, from 1.
        column: usize,
        /// Whether the text is not JSON at all (rather than JSON of the wrong shape).
        syntax: bool,
    },
    /// A value in the right place with the wrong content.
    Invalid {
        /// Where, e.g. `tasks[3] (id "t4"): resources.cpus`.
        place: String,
        /// What is wrong.
        problem: Problem,
    },
}

impl WorkloadError {
    fn json(e: serde_json::Error) -> WorkloadError {
        let syntax = matches!(e.classify(), serde_json::error::Category::Syntax | serde_json::error::Category::Eof);
        WorkloadError::Json { message: e.to_string(), line: e.line(), column: e.column(), syntax }
    }

    pub(super) fn at(place: impl Into<String>, problem: Problem) -> WorkloadError {
        WorkloadError::Invalid { place: place.into(), problem }
    }
}

impl fmt::Display for WorkloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // serde_json's message already ends with "at line L column C".
            Self::Json { message, syntax: true, .. } => write!(f, "malformed JSON: {message}"),
            Self::Json { message, syntax: false, .. } => write!(f, "invalid workload: {message}"),
            Self::Invalid { place, problem } => write!(f, "{place}: {problem}"),
        }
    }
}

impl std::error::Error for WorkloadError {}

/// What is wrong with a value; see [`WorkloadError::Invalid`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Problem {
    /// A resource amount is NaN, infinite, too large or negative.
    Quantity(QuantityError),
    /// An attribute number is not finite.
    BadAttribute(f64),
    /// An id is empty.
    EmptyId,
    /// Two offers share an id.
    DuplicateOffer(String),
    /// Two tasks (pending or running) share an id; the place of the first is given.
    DuplicateTask {
        /// The id.
        id: String,
        /// Where it was first seen.
        first: String,
    },
    /// A task asks for a scalar resource that no offer provides.
    UnknownResource(String),
    /// A port range has its begin after its end, or a port is above 65535.
    BadPortRange {
        /// First port.
        begin: u64,
        /// Last port.
        end: u64,
    },
    /// A port number above 65535.
    BadPort(u64),
    /// A port count above 65536.
    TooManyPorts(u32),
    /// Ports given where only scalar resources belong.
    PortsNotScalar,
    /// A constraint that cannot be built.
    Constraint(ConstraintError),
    /// A hard constraint with a weight.
    HardWeight,
    /// A task that cannot be built (bad soft weight, no roles, ...).
    Task(ModelError),
    /// A fitness that cannot be built.
    Fitness(FitnessError),
    /// The hold is not a positive, finite number of seconds.
    BadHold(f64),
    /// A running task has attributes but no hostname.
    AttributesWithoutHostname,
    /// A queue bucket or tier that cannot be configured (bad weight, empty name, ...).
    Queue(QueueConfigError),
    /// A task's `after` names no pending task of the workload, or the tasks wait in a cycle.
    Dependency(crate::deps::DependencyError),
    /// Autoscaling rules that cannot work.
    Autoscale(crate::autoscale::AutoscaleConfigError),
    /// A disruption budget that is neither a share below 1 nor a whole count.
    Budget(BudgetError),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Quantity(e) => e.fmt(f),
            Self::BadAttribute(v) => write!(f, "attribute value {v} is not a finite number"),
            Self::EmptyId => f.write_str("id is empty"),
            Self::DuplicateOffer(id) => write!(f, "duplicate offer id {id:?}"),
            Self::DuplicateTask { id, first } => write!(f, "duplicate task id {id:?} (first at {first})"),
            Self::UnknownResource(name) => write!(f, "asks for resource {name:?}, which no offer provides"),
            Self::BadPortRange { begin, end } if begin > end => {
                write!(f, "port range [{begin}, {end}] begins after it ends")
            }
            Self::BadPortRange { begin, end } => write!(f, "port range [{begin}, {end}] goes above 65535"),
            Self::BadPort(p) => write!(f, "port {p} is above 65535"),
            Self::TooManyPorts(n) => write!(f, "{n} ports asked for; there are only {MAX_PORT_COUNT}"),
            Self::PortsNotScalar => {
                f.write_str("ports are asked for with the task's \"ports\" field, not as a resource")
            }
            Self::Constraint(e) => e.fmt(f),
            Self::HardWeight => f.write_str("a hard constraint takes no weight (only soft_constraints do)"),
            Self::Task(e) => e.fmt(f),
            Self::Fitness(e) => e.fmt(f),
            Self::BadHold(v) => write!(f, "{v} is not a positive, finite number of seconds"),
            Self::AttributesWithoutHostname => f.write_str("attributes are given without a hostname"),
            Self::Queue(e) => e.fmt(f),
            Self::Dependency(e) => e.fmt(f),
            Self::Autoscale(e) => e.fmt(f),
            Self::Budget(e) => e.fmt(f),
        }
    }
}

/// `list[i] (id "x")`, the place of one item.
pub(super) fn item(list: &str, i: usize, id: &str) -> String {
    format!("{list}[{i}] (id {id:?})")
}

fn hold(seconds: Option<f64>) -> Result<Duration, WorkloadError> {
    let Some(s) = seconds else {
        return Ok(DEFAULT_HOLD);
    };
    match Duration::try_from_secs_f64(s) {
        Ok(d) if d > Duration::ZERO => Ok(d),
        _ => Err(WorkloadError::at("hold_seconds", Problem::BadHold(s))),
    }
}

pub(super) fn quantity(place: &dyn Fn() -> String, amount: f64) -> Result<Quantity, WorkloadError> {
    if amount < 0.0 {
        return Err(WorkloadError::at(place(), Problem::Quantity(QuantityError::Negative)));
    }
    Quantity::new(amount).map_err(|e| WorkloadError::at(place(), Problem::Quantity(e)))
}

fn port(place: &dyn Fn() -> String, p: u64) -> Result<u16, WorkloadError> {
    u16::try_from(p).map_err(|_| WorkloadError::at(place(), Problem::BadPort(p)))
}

fn offers(docs: &[OfferDoc]) -> Result<Vec<Offer>, WorkloadError> {
    let mut seen: HashSet<&str> = HashSet::with_capacity(docs.len());
    let mut out = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        if !seen.insert(&doc.id) {
            return Err(WorkloadError::at(format!("offers[{i}]"), Problem::DuplicateOffer(doc.id.clone())));
        }
        out.push(offer(doc, &item("offers", i, &doc.id))?);
    }
    Ok(out)
}

fn offer(doc: &OfferDoc, place: &str) -> Result<Offer, WorkloadError> {
    for (field, text) in [("id", &doc.id), ("agent_id", &doc.agent_id)] {
        if text.is_empty() {
            return Err(WorkloadError::at(format!("{place}: {field}"), Problem::EmptyId));
        }
    }
    let mut offer = Offer::new(doc.id.as_str(), doc.agent_id.as_str(), &doc.hostname);
    offered(&mut offer.resources, &doc.resources, &Role::unreserved(), &format!("{place}: resources"))?;
    for (role, resources) in &doc.reserved.0 {
        let at = format!("{place}: reserved.{role}");
        if role.is_empty() {
            return Err(WorkloadError::at(at, Problem::EmptyId));
        }
        offered(&mut offer.resources, resources, &Role::new(role), &at)?;
    }
    offer.attributes = attributes(&doc.attributes, &format!("{place}: attributes"))?;
    Ok(offer)
}

fn offered(out: &mut Vec<OfferedResource>, doc: &ResourcesDoc, role: &Role, place: &str) -> Result<(), WorkloadError> {
    for (name, amount) in &doc.scalars {
        let q = quantity(&|| format!("{place}.{name}"), *amount)?;
        out.push(OfferedResource {
            name: crate::resources::shared_name(name),
            role: role.clone(),
            value: ResourceValue::Scalar(q),
        });
    }
    if let Some(ranges) = &doc.ports {
        let mut set = PortSet::new();
        for (i, &[begin, end]) in ranges.iter().enumerate() {
            let range = u16::try_from(begin)
                .ok()
                .zip(u16::try_from(end).ok())
                .and_then(|(b, e)| PortRange::new(b, e))
                .ok_or_else(|| {
                    WorkloadError::at(format!("{place}.ports[{i}]"), Problem::BadPortRange { begin, end })
                })?;
            set.insert(range);
        }
        out.push(OfferedResource {
            name: crate::resources::shared_name(PORTS),
            role: role.clone(),
            value: ResourceValue::Ports(set),
        });
    }
    Ok(())
}

fn attributes(doc: &Map<AttrDoc>, place: &str) -> Result<Attributes, WorkloadError> {
    let mut attrs = Attributes::new();
    for (name, value) in &doc.0 {
        let value = match value {
            AttrDoc::Text(t) => AttrValue::text(t),
            AttrDoc::Number(n) => AttrValue::scalar(*n)
                .ok_or_else(|| WorkloadError::at(format!("{place}.{name}"), Problem::BadAttribute(*n)))?,
        };
        attrs.insert(name, value);
    }
    Ok(attrs)
}

/// Task ids seen so far, pending and running, with where each was first seen.
#[derive(Default)]
struct IdSpace {
    seen: HashMap<String, String>,
}

impl IdSpace {
    fn claim(&mut self, id: &str, list: &str, i: usize) -> Result<(), WorkloadError> {
        let place = format!("{list}[{i}]");
        if id.is_empty() {
            return Err(WorkloadError::at(format!("{place}: id"), Problem::EmptyId));
        }
        if let Some(first) = self.seen.get(id) {
            let problem = Problem::DuplicateTask { id: id.to_owned(), first: first.clone() };
            return Err(WorkloadError::at(place, problem));
        }
        self.seen.insert(id.to_owned(), place);
        Ok(())
    }
}

/// Builds pending tasks, sharing one constraint `Arc` per distinct triple, and one group id
/// between consecutive tasks of a group (tasks then compare groups by pointer).
struct Tasks {
    /// Scalar resource names some offer provides; `None` when there are no offers to check against.
    offered: Option<HashSet<Arc<str>>>,
    interned: HashMap<(String, String, Option<String>), Arc<dyn Builtin>>,
    last_group: Option<GroupId>,
}

impl Tasks {
    fn new(offers: &[Offer]) -> Tasks {
        let offered = (!offers.is_empty()).then(|| {
            let scalars = offers.iter().flat_map(|o| o.resources.iter());
            let scalars = scalars.filter(|r| matches!(r.value, ResourceValue::Scalar(_)));
            scalars.map(|r| r.name.clone()).collect()
        });
        Tasks { offered, interned: HashMap::new(), last_group: None }
    }

    fn build(mut self, docs: &[TaskDoc], ids: &mut IdSpace) -> Result<Vec<TaskSpec>, WorkloadError> {
        let mut out = Vec::with_capacity(docs.len());
        for (i, doc) in docs.iter().enumerate() {
            ids.claim(&doc.id, "tasks", i)?;
            out.push(self.task(doc, &item("tasks", i, &doc.id))?);
        }
        super::gangs::check_sizes(&out)?;
        Ok(out)
    }

    fn task(&mut self, doc: &TaskDoc, place: &str) -> Result<TaskSpec, WorkloadError> {
        let name = doc.group.as_deref().unwrap_or(&doc.id);
        let group = match &self.last_group {
            Some(last) if last.as_str() == name => last.clone(),
            _ => GroupId::new(name),
        };
        self.last_group = Some(group.clone());
        let mut b = TaskSpec::builder(doc.id.as_str(), group).priority(doc.priority);
        b = super::gangs::gang(b, doc, place)?;
        if doc.resources.ports.is_some() {
            return Err(WorkloadError::at(format!("{place}: resources.ports"), Problem::PortsNotScalar));
        }
        for (name, amount) in &doc.resources.scalars {
            let at = || format!("{place}: resources.{name}");
            let q = quantity(&at, *amount)?;
            let known = self.offered.as_ref().is_none_or(|set| set.contains(name.as_str()));
            if !q.is_zero() && !known {
                return Err(WorkloadError::at(at(), Problem::UnknownResource(name.clone())));
            }
            b = b.quantity(name, q);
        }
        b = ports(b, doc.ports.as_ref(), place)?;
        if let Some(roles) = &doc.roles {
            if roles.is_empty() {
                return Err(WorkloadError::at(format!("{place}: roles"), Problem::Task(ModelError::NoRoles)));
            }
            b = b.roles(roles.iter().map(Role::new));
        }
        for (i, c) in doc.constraints.iter().enumerate() {
            let at = || format!("{place}: constraints[{i}]");
            if c.weight.is_some() {
                return Err(WorkloadError::at(at(), Problem::HardWeight));
            }
            let hard: Arc<dyn HardConstraint> = self.constraint(c, &at)?;
            b = b.hard(hard);
        }
        for (i, c) in doc.soft_constraints.iter().enumerate() {
            let at = || format!("{place}: soft_constraints[{i}]");
            let weight = c.weight.unwrap_or(1.0);
            if !(weight.is_finite() && weight > 0.0) {
                return Err(WorkloadError::at(at(), Problem::Task(ModelError::BadWeight(weight))));
            }
            let soft: Arc<dyn SoftConstraint> = self.constraint(c, &at)?;
            b = b.soft(weight, soft);
        }
        b.build().map_err(|e| WorkloadError::at(place, Problem::Task(e)))
    }

    /// The shared constraint for a triple, built on first use.
    fn constraint(&mut self, c: &ConstraintDoc, place: &dyn Fn() -> String) -> Result<Arc<dyn Builtin>, WorkloadError> {
        let key = (c.attribute.clone(), c.operator.to_ascii_uppercase(), c.value.clone());
        if let Some(found) = self.interned.get(&key) {
            return Ok(found.clone());
        }
        let built = constraints::parse(&c.attribute, &c.operator, c.value.as_deref())
            .map_err(|e| WorkloadError::at(place(), Problem::Constraint(e)))?;
        self.interned.insert(key, built.clone());
        Ok(built)
    }
}

fn ports(mut b: TaskBuilder, doc: Option<&PortsDoc>, place: &str) -> Result<TaskBuilder, WorkloadError> {
    let (count, specific): (u32, &[u64]) = match doc {
        None => return Ok(b),
        Some(PortsDoc::Count(n)) => (*n, &[]),
        Some(PortsDoc::Detail(d)) => (d.count, &d.specific),
    };
    let total = u64::from(count) + specific.len() as u64;
    if total > u64::from(MAX_PORT_COUNT) {
        let n = u32::try_from(total).unwrap_or(u32::MAX);
        return Err(WorkloadError::at(format!("{place}: ports"), Problem::TooManyPorts(n)));
    }
    b = b.ports(count);
    for (i, &p) in specific.iter().enumerate() {
        let at = || format!("{place}: ports.specific[{i}]");
        let p = port(&at, p)?;
        if specific[..i].contains(&u64::from(p)) {
            return Err(WorkloadError::at(at(), Problem::Task(ModelError::DuplicatePort(p))));
        }
        b = b.specific_port(p);
    }
    Ok(b)
}

fn running(docs: &[RunningDoc], ids: &mut IdSpace) -> Result<Vec<RunningTask>, WorkloadError> {
    let mut out = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        ids.claim(&doc.id, "running", i)?;
        let place = item("running", i, &doc.id);
        if doc.agent_id.is_empty() {
            return Err(WorkloadError::at(format!("{place}: agent_id"), Problem::EmptyId));
        }
        if doc.resources.ports.is_some() {
            return Err(WorkloadError::at(format!("{place}: resources.ports"), Problem::PortsNotScalar));
        }
        let group = doc.group.as_deref().unwrap_or(&doc.id);
        let mut task = RunningTask::new(doc.id.as_str(), group, doc.agent_id.as_str())
            .with_priority(doc.priority)
            .with_tier(doc.tier);
        for (name, amount) in &doc.resources.scalars {
            let q = quantity(&|| format!("{place}: resources.{name}"), *amount)?;
            task.resources.push((Arc::from(name.as_str()), q));
        }
        task.resources.sort_by(|a, b| a.0.cmp(&b.0));
        task.host = match (&doc.hostname, &doc.attributes) {
            (Some(host), attrs) => {
                let attrs = match attrs {
                    Some(a) => attributes(a, &format!("{place}: attributes"))?,
                    None => Attributes::new(),
                };
                Some((Arc::from(host.as_str()), attrs))
            }
            (None, Some(_)) => {
                return Err(WorkloadError::at(format!("{place}: attributes"), Problem::AttributesWithoutHostname))
            }
            (None, None) => None,
        };
        out.push(task);
    }
    Ok(out)
}

/// The disruption budgets of `groups`, when the document asks for preemption.
fn budgets(doc: &WorkloadDoc) -> Result<Option<DisruptionBudgets>, WorkloadError> {
    let ranked = doc.running.iter().any(|r| r.priority != 0 || r.tier != 0);
    if doc.groups.0.is_empty() && !ranked {
        return Ok(None);
    }
    let mut budgets = DisruptionBudgets::new();
    for (group, settings) in &doc.groups.0 {
        if group.is_empty() {
            return Err(WorkloadError::at("groups", Problem::EmptyId));
        }
        if let Some(max) = settings.max_unavailable {
            let place = || format!("groups.{group}: max_unavailable");
            budgets.set(
                group.as_str(),
                MaxUnavailable::from_number(max).map_err(|e| WorkloadError::at(place(), Problem::Budget(e)))?,
            );
        }
    }
    Ok(Some(budgets))
}

fn fitness_of(doc: Option<&FitnessDoc>) -> Result<Arc<dyn Fitness>, WorkloadError> {
    let err = |e| WorkloadError::at("fitness", Problem::Fitness(e));
    match doc {
        None => fitness::parse("cpu_mem_binpack").map_err(err),
        Some(FitnessDoc::Name(name)) => fitness::parse(name).map_err(err),
        Some(FitnessDoc::Mix(parts)) => {
            let mut built = Vec::with_capacity(parts.0.len());
            for (name, weight) in &parts.0 {
                built.push((*weight, fitness::parse(name).map_err(err)?));
            }
            Ok(Arc::new(Weighted::new(built).map_err(err)?))
        }
    }
}
