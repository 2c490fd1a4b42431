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
//! resources) repeats that fill, kind by kind, for as long as each kind still has a shape that
//! fits. Kinds only ever run out, so each repeated choice is still the best kind left — up to the
//! resources the fitness does not pack (disk, ports), which are checked, not scored: there the
//! repeat can differ from a fresh fill, never in soundness.
//!
//! Only tasks without hard or soft constraints, exclusive claims or specific ports, accepting
//! every role, take part; the per-task selector places the others first. Agents held exclusively
//! by a group are left to the per-task selector.

use rustc_hash::FxHashMap;

use super::class::TaskClass;
use super::commit::commit;
use super::launch::Launches;
use super::state::{PassState, NONE};
use crate::model::TaskSpec;
use crate::plugins::Dim;

/// Whether tasks of `class` can be placed by filling agents.
pub(crate) fn eligible(class: &TaskClass, state: &PassState) -> bool {
    class.hard.is_empty()
        && class.soft.is_empty()
        && !class.claims
        && class.ports.specific.is_empty()
        && class.roles == state.default_role_order
}

/// What makes a shape: a class's asks and its port count.
type ShapeKey<'a> = (&'a [(u16, i64)], u32);

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
    dims: Vec<u16>,
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
/// by filling agents; launches and touched agents are appended. Returns the tasks left unplaced.
pub(crate) fn fill(
    state: &mut PassState,
    input: &FillInput<'_>,
    tasks: &[usize],
    launches: &mut Launches,
    log: &mut Vec<u32>,
) -> Vec<usize> {
    let mut filler = Filler::new(input, tasks);
    let mut patterns: FxHashMap<Vec<i64>, Vec<u32>> = FxHashMap::default();
    let mut signature: Vec<i64> = Vec::new();
    let mut picks: Vec<u32> = Vec::new();
    for agent in fill_order(state, input.packs) {
        if filler.live.is_empty() {
            break;
        }
        filler.load(state, agent);
        filler.signature(state, agent, &mut signature);
        picks.clear();
        let mut replayed = true;
        if let Some(pattern) = patterns.get(signature.as_slice()) {
            for &k in pattern {
                let Some(s) = filler.fitting_shape(k) else {
                    replayed = false;
                    break;
                };
                filler.place(state, agent, s, launches, log);
                picks.push(k);
            }
        } else {
            replayed = false;
        }
        if !replayed {
            while let Some((k, s)) = filler.best_kind() {
                filler.place(state, agent, s, launches, log);
                picks.push(k);
            }
            patterns.insert(signature.clone(), picks.clone());
        }
    }
    let mut left: Vec<usize> = filler.shapes.iter().flat_map(|s| s.tasks[s.next..].iter().copied()).collect();
    if left.len() > 1 {
        let rank: FxHashMap<usize, usize> = tasks.iter().enumerate().map(|(i, &t)| (t, i)).collect();
        left.sort_by_key(|t| rank.get(t).copied().unwrap_or(usize::MAX));
    }
    left
}

/// Agents in the order they are filled: fullest first (mean use of the packed resources), then
/// smaller, then by index; agents held exclusively by a group are left out.
fn fill_order(state: &PassState, packs: &[Dim]) -> Vec<u32> {
    let nd = state.n_dims();
    let use_of = |agent: u32| -> f64 {
        let mut sum = 0.0;
        for d in packs {
            let total = state.total[agent as usize * nd + d.0 as usize];
            if total > 0 {
                sum += (total - state.free_all_roles(agent, d.0 as usize)) as f64 / total as f64;
            }
        }
        sum
    };
    let mut keyed: Vec<(f64, i64, u32)> = (0..state.agents.len() as u32)
        .filter(|&a| state.agents[a as usize].owner == NONE)
        .map(|a| {
            let size: i64 = packs.iter().map(|d| state.total[a as usize * nd + d.0 as usize]).sum();
            (use_of(a), size, a)
        })
        .collect();
    keyed.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    keyed.into_iter().map(|(_, _, a)| a).collect()
}

impl<'a> Filler<'a> {
    fn new(input: &'a FillInput<'a>, tasks: &[usize]) -> Filler<'a> {
        let mut by_key: FxHashMap<ShapeKey<'_>, u32> = FxHashMap::default();
        let mut shapes: Vec<Shape> = Vec::new();
        let mut shape_asks: Vec<&[(u16, i64)]> = Vec::new();
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
        let mut dims: Vec<u16> = shape_asks.iter().flat_map(|ask| ask.iter().map(|&(d, _)| d)).collect();
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
        let packed: Vec<usize> = input.packs.iter().filter_map(|d| dims.binary_search(&d.0).ok()).collect();
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

    /// Reads `agent`'s free resources and size.
    fn load(&mut self, state: &PassState, agent: u32) {
        for (j, &d) in self.dims.iter().enumerate() {
            self.free[j] = state.free_all_roles(agent, d as usize);
        }
        self.free_ports = state.agents[agent as usize].ports.iter().map(|(_, set)| set.count()).sum();
        let nd = state.n_dims();
        self.size.clear();
        self.size.extend(self.packed.iter().map(|&j| state.total[agent as usize * nd + self.dims[j] as usize] as f64));
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
    fn signature(&self, state: &PassState, agent: u32, out: &mut Vec<i64>) {
        out.clear();
        out.extend_from_slice(&self.free);
        out.push(i64::from(self.free_ports));
        let nd = state.n_dims();
        out.extend(self.input.packs.iter().map(|d| state.total[agent as usize * nd + d.0 as usize]));
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
    fn place(&mut self, state: &mut PassState, agent: u32, s: u32, launches: &mut Launches, log: &mut Vec<u32>) {
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
