//! Filling agents one at a time: the packing stage for tasks that only resources constrain.
//!
//! Scoring each task alone against every agent (Fenzo's bin packing) fills agents in the order
//! tasks arrive and strands capacity when task shapes pull in opposite directions: an agent
//! filled with cpu-heavy tasks keeps its memory idle. Here the roles swap. Agents are taken one
//! at a time — fullest first, then smaller, then by id — and each is filled with the waiting task
//! shape that best matches what the agent has left: the largest dot product of the shape's demand
//! and the agent's free capacity, both relative to the agent's size, over the resources the
//! fitness packs. When no shape fits, the next agent is taken. (This is the bin-centric
//! dot-product heuristic of vector bin packing; on shapes that pull cpu and memory apart it lands
//! far closer to the lower bound than task-by-task best fit.)
//!
//! Equivalence classes keep it cheap. Tasks of one shape (asks and port count) are one entry
//! whatever their group, and shapes that ask the same of the packed resources form one *kind*,
//! scored once: the kind with the best score that has a shape fitting every resource wins, and
//! its first such shape is placed. An agent identical to one filled before (same free and total
//! resources) repeats that fill before filling on from what it has left (see [`fill_agents`]).
//! Each agent is filled until no waiting task fits it, so no task is left waiting while a filled
//! agent has room for it.
//!
//! Only tasks without hard or soft constraints, exclusive claims or specific ports, accepting
//! every role, take part; the per-task selector places the others first. An agent a group holds
//! exclusively is filled with that group's tasks alone, before the unclaimed agents.
//!
//! The greedy choice can strand capacity a better mix would use. With a pattern budget and few
//! shapes, agents in use are topped up greedily, then the empty agents are filled by the packing
//! LP's patterns (see `patterns`), and the greedy fill places the rest.

mod patterns;

use rustc_hash::FxHashMap;

use super::class::TaskClass;
use super::commit::commit;
use super::launch::Launches;
use super::state::PassState;
use crate::optimum::Limits;
use crate::plugins::Dim;
use crate::spec::TaskSpec;
use crate::tables::{AgentIx, GroupIx};

/// Whether tasks of `class` can be placed by filling agents.
pub(crate) fn eligible(class: &TaskClass, state: &PassState) -> bool {
    class.hard.is_empty()
        && class.executor.is_none()
        && class.soft.is_empty()
        && !class.claims
        && class.ports.specific.is_empty()
        && class.roles == state.default_role_order()
}

/// What makes a shape: a class's asks and its port count.
type ShapeKey<'a> = (&'a [(Dim, i64)], u32);

/// Tasks of one shape: same asks and port count.
struct Shape {
    /// Tasks waiting, by position in `pending`, in pass order; `next` is the first not placed.
    tasks: Vec<usize>,
    next: usize,
    ports: u32,
}

impl Shape {
    fn waiting(&self) -> bool {
        self.next < self.tasks.len()
    }
}

/// What the fill stage reads besides the pass state.
pub(crate) struct FillInput<'a> {
    pub classes: &'a [TaskClass],
    pub class_of: &'a [u32],
    pub pending: &'a [TaskSpec],
    /// The resources the fitness packs.
    pub packs: &'a [Dim],
    /// The budget of the pattern LP, when empty agents may be filled by its patterns.
    pub patterns: Option<&'a Limits>,
}

/// Shapes asking the same of the packed resources.
struct Kind {
    /// Its shapes, lowest index first.
    shapes: Vec<u32>,
}

/// The fill stage over one priority tier.
struct Filler<'a> {
    input: &'a FillInput<'a>,
    shapes: Vec<Shape>,
    kinds: Vec<Kind>,
    /// Kinds with tasks waiting (order irrelevant; ties break on the kind index).
    live: Vec<u32>,
    kind_of: Vec<u32>,
    /// The dimensions any shape asks for; `demand[s * dims.len() + j]` is shape `s`'s ask of
    /// `dims[j]`.
    dims: Vec<Dim>,
    demand: Vec<i64>,
    /// For each packed resource, its position in `dims` (absent when no shape asks for it).
    packed: Vec<usize>,
    /// The agent being filled: free amount per `dims` entry, and free ports.
    free: Vec<i64>,
    free_ports: u32,
    /// Its size per packed resource.
    size: Vec<f64>,
    /// Each kind's demand of the packed resources, `kind_demand[k * packed.len() + i]`.
    kind_demand: Vec<i64>,
    /// Per packed resource: the agent's free amount, and its weight in the dot product (free
    /// over size squared, so a kind's score is its demand times the weights).
    free_packed: Vec<i64>,
    weights: Vec<f64>,
}

/// Places the tasks at `tasks` (positions in `pending`, all of eligible classes, in pass order)
/// by filling agents; launches and touched agents are appended. Returns the tasks left unplaced,
/// in pass order.
///
/// Agents a group holds exclusively go first, each filled with that group's tasks alone (only
/// they may use it); then the unclaimed agents, with every task still waiting.
pub(crate) fn fill(
    state: &mut PassState,
    input: &FillInput<'_>,
    tasks: &[usize],
    launches: &mut Launches,
    log: &mut Vec<AgentIx>,
) -> Vec<usize> {
    let (open, claimed) = fill_order(state, input, tasks);
    let rest;
    let waiting = if claimed.is_empty() {
        tasks
    } else {
        rest = fill_claimed(state, input, tasks, &claimed, launches, log);
        &rest
    };
    let mut filler = Filler::new(input, waiting);
    match input.patterns {
        Some(limits) if filler.shapes.len() <= patterns::MAX_SHAPES => {
            // Agents in use first, topped up by the greedy fill as before; then the empty ones
            // by the LP's patterns; then the greedy fill again for what rounding left.
            let empty_from = open.partition_point(|&a| !is_empty(state, input, a));
            let (busy, empty) = open.split_at(empty_from);
            fill_agents(&mut filler, state, busy, launches, log);
            let mut rest = patterns::fill_by_patterns(&mut filler, state, empty, limits, launches, log);
            let mut taken = vec![false; state.n_agents()];
            for &a in &rest {
                taken[a.get()] = true;
            }
            rest.extend(empty.iter().copied().filter(|&a| !taken[a.get()]));
            fill_agents(&mut filler, state, &rest, launches, log);
        }
        _ => fill_agents(&mut filler, state, &open, launches, log),
    }
    let mut left = filler.waiting();
    if left.len() > 1 {
        let rank: FxHashMap<usize, usize> = tasks.iter().enumerate().map(|(i, &t)| (t, i)).collect();
        left.sort_by_key(|t| rank.get(t).copied().unwrap_or(usize::MAX));
    }
    left
}

/// Whether nothing of the packed resources is in use on `agent`.
fn is_empty(state: &PassState, input: &FillInput<'_>, agent: AgentIx) -> bool {
    input.packs.iter().all(|&d| state.free_all_roles(agent, d) == state.total(agent, d))
}

/// Fills each agent in `claimed` — (owner, agent), by owner, then in fill order — with its
/// owner's tasks; returns the tasks still waiting, in pass order.
fn fill_claimed(
    state: &mut PassState,
    input: &FillInput<'_>,
    tasks: &[usize],
    claimed: &[(GroupIx, AgentIx)],
    launches: &mut Launches,
    log: &mut Vec<AgentIx>,
) -> Vec<usize> {
    let group_of = |t: usize| input.classes[input.class_of[t] as usize].group;
    let owns = |g: GroupIx| claimed.binary_search_by_key(&g, |&(owner, _)| owner).is_ok();
    // The owners' tasks, by owner and then in pass order (the sort is stable).
    let mut owned: Vec<(GroupIx, usize)> = tasks.iter().map(|&t| (group_of(t), t)).filter(|&(g, _)| owns(g)).collect();
    owned.sort_by_key(|&(g, _)| g);
    let mut placed = vec![false; input.pending.len()];
    let (mut agents, mut mine): (Vec<AgentIx>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut owned = owned.as_slice();
    for run in claimed.chunk_by(|x, y| x.0 == y.0) {
        let owner = run[0].0;
        let n = owned.iter().take_while(|&&(g, _)| g == owner).count();
        mine.clear();
        mine.extend(owned[..n].iter().map(|&(_, t)| t));
        owned = &owned[n..];
        agents.clear();
        agents.extend(run.iter().map(|&(_, agent)| agent));
        let mut filler = Filler::new(input, &mine);
        fill_agents(&mut filler, state, &agents, launches, log);
        for shape in &filler.shapes {
            for &t in &shape.tasks[..shape.next] {
                placed[t] = true;
            }
        }
    }
    tasks.iter().copied().filter(|&t| !placed[t]).collect()
}

/// Fills `agents` in order from `filler`'s waiting tasks, until no task waits.
///
/// An agent identical to one filled before (same free and total resources) first repeats that
/// fill, kind by kind, for as long as each kind still has a shape that fits; then, as any agent,
/// it takes the best kind that fits what it has left until none does. Kinds only ever run out,
/// so each repeated choice is still the best kind left — up to the resources the fitness does not
/// pack (disk, ports), which are checked, not scored: there the repeat can differ from a fresh
/// fill and leave room a fresh fill would not have left, which the fill that follows it takes.
fn fill_agents(
    filler: &mut Filler<'_>,
    state: &mut PassState,
    agents: &[AgentIx],
    launches: &mut Launches,
    log: &mut Vec<AgentIx>,
) {
    let mut patterns: FxHashMap<Vec<i64>, Pattern> = FxHashMap::default();
    let mut signature: Vec<i64> = Vec::new();
    let mut picks: Vec<u32> = Vec::new();
    for &agent in agents {
        if filler.live.is_empty() {
            break;
        }
        filler.load(state, agent);
        filler.signature(state, agent, &mut signature);
        picks.clear();
        // Whether this fill is the remembered one for its signature, placed again unchanged.
        let mut repeated = false;
        if let Some(pattern) = patterns.get(signature.as_slice()) {
            repeated = true;
            for &k in &pattern.picks {
                let Some(s) = filler.fitting_shape(k) else {
                    repeated = false;
                    break;
                };
                filler.place(state, agent, s, launches, log);
                picks.push(k);
            }
            // The remembered fill stopped when no waiting task fitted the room it left. Its kinds
            // ask the same of the packed resources, so this agent has the same packed room left:
            // only the kinds that fitted that room may find a shape fitting the rest of it.
            if repeated && !pattern.open.iter().any(|&k| filler.fitting_shape(k).is_some()) {
                continue;
            }
        }
        while let Some((k, s)) = filler.best_kind() {
            repeated = false;
            filler.place(state, agent, s, launches, log);
            picks.push(k);
        }
        if !repeated {
            let mut open = Vec::new();
            filler.packed_fitting(&mut open);
            patterns.insert(signature.clone(), Pattern { picks: picks.clone(), open });
        }
    }
}

/// A fill remembered for agents alike: the kinds it placed, in order, and the live kinds whose
/// packed demand fitted the room it left.
struct Pattern {
    picks: Vec<u32>,
    open: Vec<u32>,
}

/// The agents to fill, in the order they are filled: fullest first (mean use of the packed
/// resources), then smaller, then by index. Returns the unclaimed agents, and as (owner, agent)
/// the agents held exclusively by a group some of `tasks` belong to, by owner and then in that
/// order; agents held by other groups are left out.
fn fill_order(state: &PassState, input: &FillInput<'_>, tasks: &[usize]) -> (Vec<AgentIx>, Vec<(GroupIx, AgentIx)>) {
    let packs = input.packs;
    let use_of = |agent: AgentIx| -> f64 {
        let mut sum = 0.0;
        for &d in packs {
            let total = state.total(agent, d);
            if total > 0 {
                sum += (total - state.free_all_roles(agent, d)) as f64 / total as f64;
            }
        }
        sum
    };
    let mut keyed: Vec<(f64, i64, AgentIx)> = state
        .agent_ixs()
        .map(|a| {
            let size: i64 = packs.iter().map(|&d| state.total(a, d)).sum();
            (use_of(a), size, a)
        })
        .collect();
    keyed.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let owner = |a: AgentIx| state.slot(a).owner();
    let open: Vec<AgentIx> = keyed.iter().map(|&(_, _, a)| a).filter(|&a| owner(a).is_none()).collect();
    if open.len() == keyed.len() {
        return (open, Vec::new());
    }
    let mut groups: Vec<GroupIx> = Vec::new();
    let mut previous = u32::MAX;
    for &t in tasks {
        let c = input.class_of[t];
        if c != previous {
            groups.push(input.classes[c as usize].group);
            previous = c;
        }
    }
    groups.sort_unstable();
    groups.dedup();
    let mut claimed: Vec<(GroupIx, AgentIx)> = keyed
        .iter()
        .filter_map(|&(_, _, a)| Some((owner(a)?, a)))
        .filter(|(g, _)| groups.binary_search(g).is_ok())
        .collect();
    // Stable: each owner's agents stay in fill order.
    claimed.sort_by_key(|&(g, _)| g);
    (open, claimed)
}

impl<'a> Filler<'a> {
    fn new(input: &'a FillInput<'a>, tasks: &[usize]) -> Filler<'a> {
        let mut by_key: FxHashMap<ShapeKey<'_>, u32> = FxHashMap::default();
        let mut shapes: Vec<Shape> = Vec::new();
        let mut shape_asks: Vec<&[(Dim, i64)]> = Vec::new();
        // (class, shape) of the previous task: tasks come in runs of one class.
        let mut previous: Option<(u32, u32)> = None;
        for &t in tasks {
            let c = input.class_of[t];
            let s = match previous {
                Some((pc, ps)) if pc == c => ps,
                _ => {
                    let class = &input.classes[c as usize];
                    let key = (class.ask.as_slice(), class.ports.count);
                    *by_key.entry(key).or_insert_with(|| {
                        shapes.push(Shape { tasks: Vec::new(), next: 0, ports: class.ports.count });
                        shape_asks.push(&class.ask);
                        shapes.len() as u32 - 1
                    })
                }
            };
            previous = Some((c, s));
            shapes[s as usize].tasks.push(t);
        }
        let mut dims: Vec<Dim> = shape_asks.iter().flat_map(|ask| ask.iter().map(|&(d, _)| d)).collect();
        dims.sort_unstable();
        dims.dedup();
        let mut demand = vec![0i64; shapes.len() * dims.len()];
        for (s, ask) in shape_asks.iter().enumerate() {
            for &(d, amount) in ask.iter() {
                if let Ok(j) = dims.binary_search(&d) {
                    demand[s * dims.len() + j] += amount;
                }
            }
        }
        let packed: Vec<usize> = input.packs.iter().filter_map(|d| dims.binary_search(d).ok()).collect();
        let n = dims.len();
        let mut kind_by_demand: FxHashMap<Vec<i64>, u32> = FxHashMap::default();
        let mut kinds: Vec<Kind> = Vec::new();
        let mut kind_of = Vec::with_capacity(shapes.len());
        for s in 0..shapes.len() {
            let key: Vec<i64> = packed.iter().map(|&j| demand[s * n + j]).collect();
            let k = *kind_by_demand.entry(key).or_insert_with(|| {
                kinds.push(Kind { shapes: Vec::new() });
                kinds.len() as u32 - 1
            });
            kinds[k as usize].shapes.push(s as u32);
            kind_of.push(k);
        }
        let kind_demand = kinds
            .iter()
            .flat_map(|kind| {
                let first = kind.shapes[0] as usize;
                packed.iter().map(move |&j| (first, j))
            })
            .map(|(first, j)| demand[first * n + j])
            .collect();
        Filler {
            input,
            kind_demand,
            free_packed: vec![0; packed.len()],
            weights: vec![0.0; packed.len()],
            live: (0..kinds.len() as u32).collect(),
            kinds,
            kind_of,
            free: vec![0; dims.len()],
            size: Vec::new(),
            free_ports: 0,
            shapes,
            dims,
            demand,
            packed,
        }
    }

    /// The tasks still waiting, shape by shape.
    fn waiting(&self) -> Vec<usize> {
        self.shapes.iter().flat_map(|s| s.tasks[s.next..].iter().copied()).collect()
    }

    /// Reads `agent`'s free resources and size.
    fn load(&mut self, state: &PassState, agent: AgentIx) {
        for (j, &d) in self.dims.iter().enumerate() {
            self.free[j] = state.free_all_roles(agent, d);
        }
        self.free_ports = state.slot(agent).free_ports();
        self.size.clear();
        self.size.extend(self.packed.iter().map(|&j| state.total(agent, self.dims[j]) as f64));
        self.reweigh();
    }

    /// Recomputes the packed free amounts and the dot-product weights of the loaded agent.
    fn reweigh(&mut self) {
        for (i, &j) in self.packed.iter().enumerate() {
            let size = self.size[i];
            self.free_packed[i] = self.free[j];
            self.weights[i] = if size > 0.0 { self.free[j] as f64 / (size * size) } else { 0.0 };
        }
    }

    /// What makes two agents fill alike: free resources, free ports and size.
    fn signature(&self, state: &PassState, agent: AgentIx, out: &mut Vec<i64>) {
        out.clear();
        out.extend_from_slice(&self.free);
        out.push(i64::from(self.free_ports));
        out.extend(self.input.packs.iter().map(|&d| state.total(agent, d)));
    }

    /// Whether shape `s` has a task waiting and fits the loaded agent.
    fn fits(&self, s: u32) -> bool {
        let n = self.dims.len();
        let shape = &self.shapes[s as usize];
        shape.waiting()
            && shape.ports <= self.free_ports
            && self.demand[s as usize * n..(s as usize + 1) * n].iter().zip(&self.free).all(|(d, f)| d <= f)
    }

    /// The first shape of kind `k` that has a task waiting and fits the loaded agent.
    fn fitting_shape(&self, k: u32) -> Option<u32> {
        self.kinds[k as usize].shapes.iter().copied().find(|&s| self.fits(s))
    }

    /// Appends the live kinds whose demand of the packed resources fits the loaded agent.
    fn packed_fitting(&self, out: &mut Vec<u32>) {
        let np = self.packed.len();
        out.extend(self.live.iter().copied().filter(|&k| {
            let demand = &self.kind_demand[k as usize * np..(k as usize + 1) * np];
            demand.iter().zip(&self.free_packed).all(|(d, free)| d <= free)
        }));
    }

    /// The kind with the largest dot product of its demand and the loaded agent's free capacity
    /// (relative to the agent's size) that has a fitting shape, and that shape; ties go to the
    /// lower kind index.
    fn best_kind(&self) -> Option<(u32, u32)> {
        let np = self.packed.len();
        let mut best: Option<(f64, u32, u32)> = None;
        for &k in &self.live {
            let demand = &self.kind_demand[k as usize * np..(k as usize + 1) * np];
            let mut score = 0.0;
            let mut packed_fit = true;
            for ((&d, &free), &w) in demand.iter().zip(&self.free_packed).zip(&self.weights) {
                packed_fit &= d <= free;
                score += d as f64 * w;
            }
            let beats = match best {
                None => true,
                Some((top, at, _)) => score > top || (score == top && k < at),
            };
            if !(packed_fit && beats) {
                continue;
            }
            if let Some(s) = self.fitting_shape(k) {
                best = Some((score, k, s));
            }
        }
        best.map(|(_, k, s)| (k, s))
    }

    /// Places the next task of shape `s` on `agent`.
    fn place(
        &mut self,
        state: &mut PassState,
        agent: AgentIx,
        s: u32,
        launches: &mut Launches,
        log: &mut Vec<AgentIx>,
    ) {
        let n = self.dims.len();
        let shape = &mut self.shapes[s as usize];
        let t = shape.tasks[shape.next];
        shape.next += 1;
        if let Some(&next) = shape.tasks.get(shape.next) {
            let after = shape.tasks.get(shape.next + 1).map(|&t| &self.input.pending[t]);
            launches.read_ahead(&self.input.pending[next], after);
        }
        self.free_ports -= shape.ports;
        let k = self.kind_of[s as usize];
        let exhausted = self.kinds[k as usize].shapes.iter().all(|&x| !self.shapes[x as usize].waiting());
        for (free, demand) in self.free.iter_mut().zip(&self.demand[s as usize * n..(s as usize + 1) * n]) {
            *free -= demand;
        }
        self.reweigh();
        let class = &self.input.classes[self.input.class_of[t] as usize];
        let granted = commit(state, class, agent);
        launches.push(state, self.input.pending, t, agent, granted);
        log.push(agent);
        if exhausted {
            self.live.retain(|&x| x != k);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use crate::plugins::constraints::Exclusive;
    use crate::plugins::HardConstraint;
    use crate::{Engine, EngineConfig, Offer, OfferPool, Plan, Strategy, TaskSpec};

    const NOW: Duration = Duration::from_secs(10);

    fn pool(cpus: &[f64]) -> OfferPool {
        let mut pool = OfferPool::new(Duration::from_secs(60));
        for (i, &c) in cpus.iter().enumerate() {
            let offer = Offer::new(format!("o{i}").as_str(), format!("a{i}").as_str(), &format!("h{i}"));
            pool.add(offer.with_scalar("cpus", c).unwrap().with_scalar("mem", 1024.0 * c).unwrap(), NOW).unwrap();
        }
        pool
    }

    fn task(id: &str, group: &str, hard: Option<Arc<dyn HardConstraint>>) -> TaskSpec {
        let builder = TaskSpec::builder(id, group).scalar("cpus", 1.0).scalar("mem", 1024.0);
        match hard {
            Some(c) => builder.hard(c).build().unwrap(),
            None => builder.build().unwrap(),
        }
    }

    fn agent_of<'a>(plan: &'a Plan, task: &str) -> &'a str {
        plan.launches.iter().find(|l| l.task_id.as_str() == task).map_or("", |l| l.agent_id.as_str())
    }

    #[test]
    fn fill_claimed_agents_take_their_owners_tasks_first_and_no_others() {
        let exclusive: Arc<dyn HardConstraint> = Arc::new(Exclusive::new());
        let mut tasks = vec![task("x", "g1", Some(exclusive.clone())), task("y", "g2", Some(exclusive))];
        for group in ["g1", "g2", "g3"] {
            tasks.extend((0..3).map(|i| task(&format!("{group}-{i}"), group, None)));
        }
        let mut plans = [Strategy::Indexed, Strategy::Scan].map(|strategy| {
            let engine = Engine::new(EngineConfig { strategy, ..EngineConfig::default() }).unwrap();
            engine.plan(&pool(&[4.0, 4.0, 8.0]), &tasks, &[], NOW).unwrap()
        });
        let plan = &plans[0];
        assert_eq!(plan.launches.len(), tasks.len(), "{plan:#?}");
        let (x, y) = (agent_of(plan, "x"), agent_of(plan, "y"));
        assert_ne!(x, y);
        for launch in &plan.launches {
            let on = launch.agent_id.as_str();
            let expected = match launch.group.as_str() {
                "g1" => on == x,
                "g2" => on == y,
                _ => on != x && on != y,
            };
            assert!(expected, "{} of {} on {on}: {plan:#?}", launch.task_id, launch.group);
        }
        let [indexed, scan] = &mut plans;
        assert!(indexed == scan);
    }
}
