//! The shortfall: how many clones of each class would place the tasks a pass left unplaced for
//! want of room — a dry pass of those tasks onto pseudo agents, Fenzo's "optimizing shortfall
//! evaluator" without its guess of one agent per task.
//!
//! The candidates are the unplaced tasks the queue did not hold back and that were not merely
//! blocked at their turn (those wait for something other than capacity). Each class with room
//! to grow (`max_size` above its size) gets pseudo agents, each an offer of the class's shape
//! with a hostname of its own: at first twice the agents the asks of the candidates that fit
//! the class need of its shape, plus one (a greedy packing rarely needs more than twice that
//! bound). The engine, with the caller's settings, then places the candidates onto those pseudo
//! agents alone, with the running tasks of the candidates' groups and the plan's launches of
//! those groups counted where they run, so constraints that count (unique, max per value,
//! balance, group by) see the cluster the pass left; tasks no candidate's constraint can read
//! on a pseudo agent (by the constraints' scopes: one per host reads no task on a real host)
//! are left out. A class whose pseudo agents all got tasks
//! while a candidate that fits it went to another class or stayed unplaced may have been too
//! small (a packing worse than twice the bound, tasks that want an agent each): the dry pass
//! runs again with as many pseudo agents for that class as it has room for, but no more than
//! the candidates that fit it, until no class is both full and wanted. A candidate the dry pass
//! cannot place — a hard constraint no class satisfies, an ask larger than any class — is not
//! counted; the count per class is the pseudo agents the dry pass used.
//!
//! Why not size every class for the worst case at once: each candidate lands on one class, so
//! with several classes that fit, most pseudo agents would stay empty, and building them is
//! most of the dry pass's cost; a class found too small is sized anew instead. The property
//! tests (`tests/autoscale.rs`) check that the claimed tasks are those a dry pass onto classes
//! each sized for every task at once places. The split between classes may differ from that
//! pass's: the engine picks its stage by how many agents there are (filling agents only for
//! enough tasks per agent; its packing LP fills empty agents by the counts it has), so the
//! counts depend on the sizes the dry pass starts with, deterministically.
//!
//! The tasks to count are found in one walk of the running tasks that needs nothing of the
//! census, so on a large cluster (the engine's `two_thread_threshold`, with two threads allowed)
//! it runs on a second thread beside the census; the hints are the same either way.
//!
//! The dry pass packs as the engine packs: greedy (with the pattern LP for empty agents when
//! the fitness packs), so the count is not the least that would do in general. On small
//! inputs (one class, up to seven tasks, cpus and memory) the property tests compare it with a
//! brute-force optimum and found no gap in 4,000 cases: the pattern LP packs them optimally. When several classes could take a task, the
//! engine's choice decides (bin packing ties break on the agent id, so on the class name).

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::{FxHashMap, FxHashSet};

use super::ahead;
use super::classes::{ClassInfo, Hosts, Shape};
use super::cluster::Launches;
#[cfg(test)]
use super::cluster::{Cluster, Tasks};
use crate::model::{AgentId, Offer, OfferId, OfferedResource, ResourceValue, RunningTask, TaskId};
use crate::plan::{Plan, Reason};
use crate::plugins::Scope;
use crate::pool::OfferPool;
use crate::resources::{shared_name, Quantity, PORTS};
use crate::spec::TaskSpec;
use crate::{Engine, EngineConfig, PlanError};

/// The prefix of pseudo agents' ids (and hostnames).
pub(crate) const PSEUDO_PREFIX: &str = "offerpack-autoscale/";

/// What the dry pass found.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Shortfall {
    /// Pseudo agents used per class, index for index with the classes.
    pub per_class: Vec<u32>,
    /// The candidates the dry pass placed, in placement order.
    pub claimed: Vec<TaskId>,
}

/// Whether an unplaced task's reasons say it may be waiting for capacity.
fn is_candidate(reasons: &[crate::plan::ReasonCount]) -> bool {
    let queue = reasons.iter().any(|r| matches!(r.reason, Reason::Queue(_)));
    let blocked_only = !reasons.is_empty() && reasons.iter().all(|r| matches!(r.reason, Reason::BlockedAtItsTurn));
    !queue && !blocked_only
}

/// The unplaced tasks the shortfall places (see the module docs), in pending order.
pub(super) fn candidates(pending: &[TaskSpec], plan: &Plan) -> Vec<TaskSpec> {
    let wanted: FxHashSet<&TaskId> =
        plan.unplaced.iter().filter(|u| is_candidate(&u.reasons)).map(|u| &u.task_id).collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    pending.iter().filter(|t| wanted.contains(&t.id)).cloned().collect()
}

/// Runs the dry pass of `candidates` with the tasks `order` gives counted (asked for only when
/// a class has room); see the module docs.
pub(crate) fn evaluate<'a>(
    engine: &Engine,
    classes: &[ClassInfo<'_>],
    hosts: &Hosts<'_>,
    candidates: &[TaskSpec],
    order: impl FnOnce() -> Vec<(u64, Counted<'a>)>,
    now: Duration,
) -> Result<Shortfall, PlanError> {
    let mut out = Shortfall { per_class: vec![0; classes.len()], claimed: Vec::new() };
    if candidates.is_empty() {
        return Ok(out);
    }
    // Per class: (the most pseudo agents it may get, a first guess, the candidates that fit).
    let sizes: Vec<Option<(usize, usize, Vec<usize>)>> = classes
        .iter()
        .map(|class| {
            let shape = class.shape.as_ref()?;
            let fitting: Vec<usize> = (0..candidates.len()).filter(|&i| fits_empty(&candidates[i], shape)).collect();
            let most = usize::try_from(class.rule.max_size.saturating_sub(class.size())).unwrap_or(usize::MAX);
            let most = most.min(fitting.len());
            let guess = guess(candidates, &fitting, shape).min(most);
            Some((most, guess, fitting))
        })
        .collect();
    if sizes.iter().flatten().all(|(most, _, _)| *most == 0) {
        return Ok(out);
    }
    let counted = counted_tasks(order(), hosts);
    let dry = dry_engine(engine);
    let dry = dry.as_ref().unwrap_or(engine);
    let mut counts: Vec<usize> = sizes.iter().map(|s| s.as_ref().map_or(0, |s| s.1)).collect();
    // Each class grows at most once (to its most), so this ends after at most one pass per class
    // more.
    loop {
        let found = dry_pass(dry, classes, &counts, candidates, &counted, now)?;
        let mut grown = false;
        for (c, size) in sizes.iter().enumerate() {
            let Some((most, _, fitting)) = size else { continue };
            let full = usize::try_from(found.per_class[c]).unwrap_or(usize::MAX) >= counts[c] && counts[c] < *most;
            if full && fitting.iter().any(|&i| found.class_of[i] != Some(c)) {
                counts[c] = *most;
                grown = true;
            }
        }
        if !grown {
            out.per_class = found.per_class;
            out.claimed = found.claimed;
            return Ok(out);
        }
    }
}

/// Pseudo agents a class gets at first: twice what the fitting candidates' asks need of its
/// shape, plus one.
fn guess(candidates: &[TaskSpec], fitting: &[usize], shape: &Shape) -> usize {
    let mut bound = 0usize;
    for (name, _, _) in &shape.scalars {
        let have: i64 = shape.scalars.iter().filter(|(n, _, _)| n == name).map(|(_, _, q)| q.milli()).sum();
        let need: i64 = fitting.iter().map(|&i| candidates[i].ask(name).milli()).sum();
        if have > 0 {
            bound = bound.max(usize::try_from(need.div_euclid(have) + 1).unwrap_or(usize::MAX));
        }
    }
    let ports = i64::from(shape.ports.count());
    if ports > 0 {
        let need: i64 = fitting.iter().map(|&i| i64::from(candidates[i].ports.total())).sum();
        bound = bound.max(usize::try_from(need / ports + 1).unwrap_or(usize::MAX));
    }
    bound.saturating_mul(2).saturating_add(1)
}

/// What one dry pass found.
struct DryPass {
    /// Pseudo agents used per class.
    per_class: Vec<u32>,
    /// The candidates placed, in placement order.
    claimed: Vec<TaskId>,
    /// The class each candidate was placed on, index for index with the candidates.
    class_of: Vec<Option<usize>>,
}

/// The dry pass onto `counts[c]` pseudo agents of each class `c`.
fn dry_pass(
    dry: &Engine,
    classes: &[ClassInfo<'_>],
    counts: &[usize],
    candidates: &[TaskSpec],
    counted: &[RunningTask],
    now: Duration,
) -> Result<DryPass, PlanError> {
    let mut offers = Vec::with_capacity(counts.iter().sum());
    let mut id = String::new();
    for (c, class) in classes.iter().enumerate() {
        let Some(shape) = &class.shape else { continue };
        for i in 0..counts[c] {
            offers.push(pseudo_offer(&mut id, &class.rule.class, i, shape));
        }
    }
    let mut found =
        DryPass { per_class: vec![0; classes.len()], claimed: Vec::new(), class_of: vec![None; candidates.len()] };
    // Ids are distinct (so are the classes' names) and far fewer than a pool can hold, so the
    // pool is always built.
    let Ok(scratch) = OfferPool::with_offers(Duration::from_secs(3_600), offers, now) else { return Ok(found) };
    if scratch.is_empty() {
        return Ok(found);
    }
    let dry_plan = dry.plan(&scratch, candidates, counted, now)?;
    let index: FxHashMap<&TaskId, usize> = candidates.iter().enumerate().map(|(i, t)| (&t.id, i)).collect();
    let by_name: FxHashMap<&str, usize> =
        classes.iter().enumerate().map(|(c, class)| (&*class.rule.class, c)).collect();
    let mut used: FxHashSet<&AgentId> = FxHashSet::default();
    for launch in &dry_plan.launches {
        if let Some(&c) = pseudo_class_name(&launch.agent_id).and_then(|name| by_name.get(name)) {
            if used.insert(&launch.agent_id) {
                found.per_class[c] += 1;
            }
            if let Some(&i) = index.get(&launch.task_id) {
                found.class_of[i] = Some(c);
            }
            found.claimed.push(launch.task_id.clone());
        }
    }
    Ok(found)
}

/// The caller's engine without explanations or declines (the dry pass reads only its
/// launches), on one thread; `None` if those settings were refused (they are the caller's, so
/// they are not).
fn dry_engine(engine: &Engine) -> Option<Engine> {
    let config = EngineConfig { explain_unplaced: false, decline_unused: false, threads: 1, ..engine.config().clone() };
    Engine::new(config).ok()
}

/// Whether `task` fits an empty agent of `shape`: its asks (with its executor's) within the
/// roles it accepts, its ports within the shape's.
fn fits_empty(task: &TaskSpec, shape: &Shape) -> bool {
    let accepts = |role: &crate::model::Role| task.roles.as_ref().is_none_or(|roles| roles.contains(role));
    let has = |name: &str| -> Quantity {
        shape
            .scalars
            .iter()
            .filter(|(n, r, _)| &**n == name && accepts(r))
            .fold(Quantity::ZERO, |sum, (_, _, q)| sum + *q)
    };
    let executor = task.executor.as_ref().map_or(&[][..], |e| &e.resources[..]);
    let mut asks: Vec<(&str, Quantity)> = task.resources.iter().map(|(n, q)| (&**n, *q)).collect();
    for (name, q) in executor {
        match asks.iter_mut().find(|(n, _)| *n == &**name) {
            Some(entry) => entry.1 += *q,
            None => asks.push((name, *q)),
        }
    }
    let ports_ok =
        task.ports.total() <= shape.ports.count() && task.ports.specific.iter().all(|p| shape.ports.contains(*p));
    ports_ok && asks.iter().all(|(name, q)| has(name) >= *q)
}

/// The `i`-th pseudo agent of `class`: one offer of `shape`, with id, agent id and hostname
/// `offerpack-autoscale/<class>/<i>` (`i` zero-padded to six digits, so ids sort by number),
/// written in `id` (a buffer reused from agent to agent).
pub(crate) fn pseudo_offer(id: &mut String, class: &str, i: usize, shape: &Shape) -> Offer {
    id.clear();
    id.push_str(PSEUDO_PREFIX);
    id.push_str(class);
    id.push('/');
    push_padded(id, i);
    // One allocation for the id, the agent id and the hostname.
    let id: Arc<str> = Arc::from(id.as_str());
    let mut offer = Offer {
        id: OfferId::from_shared(id.clone()),
        agent_id: AgentId::from_shared(id.clone()),
        hostname: id,
        resources: Vec::with_capacity(shape.scalars.len() + 1),
        attributes: shape.attributes.clone(),
        executor_ids: Vec::new(),
    };
    for (name, role, q) in &shape.scalars {
        offer.resources.push(OfferedResource {
            name: name.clone(),
            role: role.clone(),
            value: ResourceValue::Scalar(*q),
        });
    }
    if !shape.ports.is_empty() {
        offer.resources.push(OfferedResource {
            name: shared_name(PORTS),
            role: crate::model::Role::unreserved(),
            value: ResourceValue::Ports(shape.ports.clone()),
        });
    }
    offer
}

/// Appends `n` in decimal, zero-padded to at least six digits.
fn push_padded(out: &mut String, n: usize) {
    let mut digits = [b'0'; 20];
    let (mut rest, mut at) = (n, digits.len());
    while rest > 0 || digits.len() - at < 6 {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    digits[at..].iter().for_each(|&d| out.push(char::from(d)));
}

/// The class name in a pseudo agent's id, `None` for an id of no pseudo agent.
fn pseudo_class_name(agent: &AgentId) -> Option<&str> {
    let (class, number) = agent.as_str().strip_prefix(PSEUDO_PREFIX)?.rsplit_once('/')?;
    number.bytes().all(|b| b.is_ascii_digit()).then_some(class)
}

/// The tasks the dry pass counts: running tasks of the candidates' groups and the plan's
/// launches of those groups, as far as the candidates' constraints can read them (see
/// [`Reads`]), each with the host details of its agent (the dry pool does not hold the real
/// agents), sorted by id (the same tasks in any order count the same).
#[cfg(test)]
pub(super) fn counted_running<'a, R>(
    cluster: &Cluster<'a, R>,
    running: &[&'a RunningTask],
    hosts: &Hosts<'_>,
    candidates: &[TaskSpec],
    plan: &'a Plan,
) -> Vec<RunningTask>
where
    R: Tasks<'a>,
{
    counted_tasks(counted_order(running, cluster.launches(), candidates, plan), hosts)
}

/// What the constraints of a group's candidates can read of the group's tasks that run on
/// real agents, by their [`Scope`]s; the dry pass counts no more than that.
///
/// A pseudo agent has a hostname of its own, so a constraint scoped to the agent (such as
/// `hostname:UNIQUE`) reads only tasks whose place is unknown, which count against every
/// agent; a static one reads none; one scoped to an attribute or the pass may read all.
/// Leaving the others out changes no answer and spares copying them and the dry pass loading
/// them (on a cluster where most tasks are one per host, nearly all of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Reads {
    /// No task of the group.
    Nothing,
    /// Only tasks of unknown place: no host details, agent without offers.
    UnknownPlace,
    /// Every task of the group.
    All,
}

impl Reads {
    /// What `task`'s constraints read (the most any of them reads).
    fn of(task: &TaskSpec) -> Reads {
        let scopes = task.hard.iter().map(|c| c.scope()).chain(task.soft.iter().map(|t| t.constraint.scope()));
        scopes
            .map(|scope| match scope {
                Scope::Static => Reads::Nothing,
                Scope::Agent => Reads::UnknownPlace,
                Scope::Attribute(_) | Scope::Pass => Reads::All,
            })
            .max()
            .unwrap_or(Reads::Nothing)
    }
}

/// The tasks the dry pass counts, sorted, before they are copied: the part of
/// [`counted_running`]'s work that needs no census, so it can run beside it. A task listed
/// with [`Reads::UnknownPlace`] counts only if the census does not know its agent either.
pub(super) fn counted_order<'a>(
    running: &[&'a RunningTask],
    launches: Launches<'_>,
    candidates: &[TaskSpec],
    plan: &'a Plan,
) -> Vec<(u64, Counted<'a>)> {
    // (the id's first bytes as a number, the task): sorted by that number first, which orders
    // as the ids do, so most comparisons read no id.
    let mut order: Vec<(u64, Counted<'a>)> = Vec::new();
    let mut groups: FxHashMap<&str, Reads> = FxHashMap::default();
    for task in candidates {
        let reads = Reads::of(task);
        if reads > Reads::Nothing {
            let entry = groups.entry(task.group.as_str()).or_insert(reads);
            *entry = (*entry).max(reads);
        }
    }
    if groups.is_empty() {
        return order;
    }
    // The last group asked about (its storage) and the answer: tasks of a group often share it.
    let mut last: Option<(*const u8, usize, Option<Reads>)> = None;
    for (k, &task) in running.iter().enumerate() {
        ahead::groups(running, k);
        let group = task.group.as_str();
        let reads = match last {
            Some((ptr, len, reads)) if ptr == group.as_ptr() && len == group.len() => reads,
            _ => groups.get(group).copied(),
        };
        last = Some((group.as_ptr(), group.len(), reads));
        let counts = match reads {
            Some(Reads::All) => true,
            // A task with host details has a place, and it is no pseudo agent's.
            Some(Reads::UnknownPlace) => task.host.is_none(),
            Some(Reads::Nothing) | None => false,
        };
        if counts && !launches.contains(task) {
            order.push((prefix(&task.id), Counted::Running(task, k, reads == Some(Reads::UnknownPlace))));
        }
    }
    // A launch's place is known: only groups whose tasks are read wherever they run.
    let all = |group: &str| groups.get(group) == Some(&Reads::All);
    for launch in plan.launches.iter().filter(|l| all(l.group.as_str())) {
        order.push((prefix(&launch.task_id), Counted::Launch(launch)));
    }
    order.sort_unstable_by(|(p, a), (q, b)| p.cmp(q).then_with(|| a.id().cmp(b.id())));
    order
}

/// The counted tasks of `order`, with host details from `hosts` where a task has none.
fn counted_tasks(order: Vec<(u64, Counted<'_>)>, hosts: &Hosts<'_>) -> Vec<RunningTask> {
    // Only what the dry pass reads of a task on an agent it does not hold: the id (checked
    // against the candidates'), the group and the host details it is counted under. Its
    // resources, executor and claim would charge its agent, which is never a pseudo agent.
    let mut counted = Vec::with_capacity(order.len());
    for (_, source) in order {
        let (id, group, agent_id, host) = match source {
            Counted::Running(task, k, unknown_place_only) => {
                let host = match &task.host {
                    Some(host) => Some(host.clone()),
                    None => match hosts.of_task(k) {
                        // Its agent is known after all, so the task is not read.
                        Some(_) if unknown_place_only => continue,
                        Some((name, attrs)) => Some((name.clone(), attrs.clone())),
                        None => None,
                    },
                };
                (&task.id, &task.group, &task.agent_id, host)
            }
            Counted::Launch(launch) => {
                let attributes = hosts.of(&launch.agent_id).map(|(_, attrs)| attrs.clone()).unwrap_or_default();
                (&launch.task_id, &launch.group, &launch.agent_id, Some((launch.hostname.clone(), attributes)))
            }
        };
        let mut task = RunningTask::new(id.clone(), group.clone(), agent_id.clone());
        task.host = host;
        counted.push(task);
    }
    counted
}

/// A task the dry pass counts, before it is copied.
pub(super) enum Counted<'a> {
    /// A running task, its index among the census's tasks, and `true` if it counts only when
    /// its agent is unknown (see [`Reads`]).
    Running(&'a RunningTask, usize, bool),
    /// A launch of the plan.
    Launch(&'a crate::plan::Launch),
}

impl Counted<'_> {
    fn id(&self) -> &TaskId {
        match self {
            Counted::Running(task, _, _) => &task.id,
            Counted::Launch(launch) => &launch.task_id,
        }
    }
}

/// The first eight bytes of `id` as a big-endian number (zeros past its end): ordered as the
/// ids are, ties aside.
fn prefix(id: &TaskId) -> u64 {
    let mut bytes = [0u8; 8];
    let text = id.as_str().as_bytes();
    let n = text.len().min(8);
    bytes[..n].copy_from_slice(&text[..n]);
    u64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::PortSet;

    #[test]
    fn pseudo_ids_are_padded_numbers_that_name_their_class() {
        let mut buf = String::new();
        for n in (0..2_000).chain([99_999, 999_999, 1_000_000, 123_456_789, usize::MAX]) {
            buf.clear();
            push_padded(&mut buf, n);
            assert_eq!(buf, format!("{n:06}"));
        }
        let shape = Shape { scalars: Vec::new(), ports: PortSet::new(), attributes: Default::default() };
        let offer = pseudo_offer(&mut buf, "m5/large", 42, &shape);
        assert_eq!(offer.agent_id.as_str(), "offerpack-autoscale/m5/large/000042");
        assert_eq!(offer.hostname.as_ref(), offer.id.as_str());
        assert_eq!(pseudo_class_name(&offer.agent_id), Some("m5/large"));
        assert_eq!(pseudo_class_name(&AgentId::from("offerpack-autoscale/m5/x")), None);
        assert_eq!(pseudo_class_name(&AgentId::from("agent-1")), None);
    }
}
