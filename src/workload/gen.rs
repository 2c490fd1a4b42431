//! A synthetic workload generator: the same options and seed always give the same workload.
//!
//! Randomness comes only from [`SeededRng`]. The generator builds the JSON document mirror, so
//! [`generate_json`] writes exactly what `offerpack solve` reads, and [`generate`] turns the same
//! mirror into a [`Workload`] without going through JSON text.

use std::io;

use super::input::{Workload, WorkloadError};
use super::schema::{
    AttrDoc, ConstraintDoc, FitnessDoc, Map, OfferDoc, PortsDoc, ResourcesDoc, RunningDoc, TaskDoc, WorkloadDoc,
};
use super::shapes::{Dims, ShapeSource};
use crate::util::SeededRng;

/// Tasks per group unless [`ConstraintMix::UniqueHostPerGroup`] says otherwise.
pub const DEFAULT_GROUP_SIZE: u32 = 10;

/// Every this many agents, one is big, unless [`GenOptions::big_every`] says otherwise.
pub const DEFAULT_BIG_EVERY: u32 = 10;

/// Most shapes a [`Shapes::Random`] family holds; a larger count is cut to this.
pub const MAX_SHAPE_COUNT: u32 = 65_536;

/// First and last port every agent offers.
const PORTS: [u64; 2] = [31000, 32000];

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenOptions {
    /// Number of agents, one offer each.
    pub agents: u32,
    /// Number of pending tasks.
    pub tasks: u32,
    /// Seed of the random draws.
    pub seed: u64,
    /// Number of zones (at least 1 is used).
    pub zones: u32,
    /// Racks per zone (at least 1 is used).
    pub racks_per_zone: u32,
    /// Which constraints the tasks carry.
    pub constraints: ConstraintMix,
    /// How task sizes are drawn.
    pub shapes: Shapes,
    /// Whether a group's tasks share one shape.
    pub group_shapes: GroupShapes,
    /// Every `big_every`-th agent is big (32 cpus, 131072 MiB) instead of small (16 cpus,
    /// 65536 MiB); 0 makes none big.
    pub big_every: u32,
}

impl Default for GenOptions {
    /// 100 agents, 500 tasks, seed 0, 3 zones of 20 racks, no constraints, uniform shapes shared
    /// by each group, every tenth agent big.
    fn default() -> Self {
        GenOptions {
            agents: 100,
            tasks: 500,
            seed: 0,
            zones: 3,
            racks_per_zone: 20,
            constraints: ConstraintMix::None,
            shapes: Shapes::Uniform,
            group_shapes: GroupShapes::Same,
            big_every: DEFAULT_BIG_EVERY,
        }
    }
}

/// The constraints generated tasks carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintMix {
    /// No constraints; groups of [`DEFAULT_GROUP_SIZE`].
    None,
    /// Every task: hard `hostname:UNIQUE`, soft `zone:GROUP_BY:<zones>`; groups of `group_size`.
    UniqueHostPerGroup {
        /// Tasks per group (at least 1 is used).
        group_size: u32,
    },
    /// A deterministic mix per group of `UNIQUE`, `MAX_PER`, `GROUP_BY`, `LIKE`, `CLUSTER`,
    /// `UNLIKE` and soft terms, a weighted fitness and a few running tasks; mostly satisfiable.
    Mixed,
}

impl ConstraintMix {
    /// Tasks per group.
    pub fn group_size(&self) -> u32 {
        match self {
            ConstraintMix::UniqueHostPerGroup { group_size } => (*group_size).max(1),
            _ => DEFAULT_GROUP_SIZE,
        }
    }
}

/// How task sizes are drawn; see [`GroupShapes`] for who draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shapes {
    /// Four sizes, 0.5 to 4 cpus with 2048 MiB of memory per cpu: few distinct shapes.
    Uniform,
    /// Cpu-heavy and memory-heavy shapes on fine steps, pulling in opposite directions.
    Irregular,
    /// A family of `count` shapes drawn from the seed, each picked with a skewed frequency (a
    /// few common, others rare). Each is cpu-heavy or memory-heavy, the share of cpu-heavy ones
    /// drawn per seed, at most a quarter of a small agent (4 cpus, 16384 MiB) on steps of 0.25
    /// cpus and 128 MiB, with little disk and network.
    Random {
        /// Shapes in the family (at least 1 and at most [`MAX_SHAPE_COUNT`] are used).
        count: u32,
    },
}

/// Whether the tasks of a group share a shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GroupShapes {
    /// Each group draws one shape for all its tasks.
    #[default]
    Same,
    /// Each task draws its own shape, so a constrained group holds tasks of different shapes.
    Mixed,
}

/// Generates a workload directly (no JSON text), for benches.
///
/// ```
/// use offerpack::workload::{generate, GenOptions};
/// let w = generate(&GenOptions { agents: 10, tasks: 20, ..GenOptions::default() }).unwrap();
/// assert_eq!((w.offers.len(), w.tasks.len()), (10, 20));
/// ```
pub fn generate(opts: &GenOptions) -> Result<Workload, WorkloadError> {
    Workload::from_doc(document(opts))
}

/// Writes the generated workload as JSON, in the format `offerpack solve` reads.
pub fn write_generated<W: io::Write>(out: W, opts: &GenOptions) -> io::Result<()> {
    serde_json::to_writer(out, &document(opts)).map_err(io::Error::from)
}

/// The generated workload as JSON text.
pub fn generate_json(opts: &GenOptions) -> String {
    let mut buf = Vec::new();
    // Writing into a Vec cannot fail, and serde_json writes only UTF-8.
    let _ = write_generated(&mut buf, opts);
    String::from_utf8_lossy(&buf).into_owned()
}

pub(super) fn document(opts: &GenOptions) -> WorkloadDoc {
    let mut rng = SeededRng::new(opts.seed);
    let offers = (0..opts.agents).map(|i| agent(opts, i, &mut rng)).collect();
    let tasks = tasks(opts, &ShapeSource::new(opts.shapes, opts.seed), &mut rng);
    let mixed = opts.constraints == ConstraintMix::Mixed;
    let running = if mixed { running(opts, &mut rng) } else { Vec::new() };
    let fitness =
        mixed.then(|| FitnessDoc::Mix(Map(vec![("cpu_mem_binpack".to_owned(), 3.0), ("balanced".to_owned(), 1.0)])));
    WorkloadDoc { offers, tasks, running, fitness, hold_seconds: None, ..WorkloadDoc::default() }
}

/// `zone-a` .. `zone-z`, `zone-aa`, ...
fn zone_name(mut z: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'a' + (z % 26) as u8);
        if z < 26 {
            break;
        }
        z = z / 26 - 1;
    }
    letters.reverse();
    format!("zone-{}", String::from_utf8_lossy(&letters))
}

pub(super) fn agent(opts: &GenOptions, i: u32, rng: &mut SeededRng) -> OfferDoc {
    let zones = opts.zones.max(1);
    let racks = opts.racks_per_zone.max(1);
    let zone = i % zones;
    let rack = zone * racks + (i / zones) % racks;
    let big = opts.big_every > 0 && i % opts.big_every == opts.big_every - 1;
    let (cpus, mem) = if big { (32.0, 131072.0) } else { (16.0, 65536.0) };
    let scalars = [("cpus", cpus), ("mem", mem), ("disk", 500000.0), ("network", 1000.0)];
    let attributes = vec![
        ("zone".to_owned(), AttrDoc::Text(zone_name(zone))),
        ("rack".to_owned(), AttrDoc::Text(format!("r{:04}", rack + 1))),
        ("gen".to_owned(), AttrDoc::Number((2 + rng.below(3)) as f64)),
    ];
    OfferDoc {
        id: format!("offer-{:06}", i + 1),
        agent_id: format!("agent-{:06}", i + 1),
        hostname: format!("host-{:05}", i + 1),
        resources: ResourcesDoc {
            scalars: scalars.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect(),
            ports: Some(vec![PORTS]),
        },
        reserved: Map::default(),
        attributes: Map(attributes),
    }
}

fn c(attribute: &str, operator: &str, value: Option<String>, weight: Option<f64>) -> ConstraintDoc {
    ConstraintDoc { attribute: attribute.to_owned(), operator: operator.to_owned(), value, weight }
}

/// Hard constraints, soft constraints and priority of group `g`.
fn rules(opts: &GenOptions, g: u32) -> (Vec<ConstraintDoc>, Vec<ConstraintDoc>, i32) {
    let zones = Some(opts.zones.max(1).to_string());
    match opts.constraints {
        ConstraintMix::None => (vec![], vec![], 0),
        ConstraintMix::UniqueHostPerGroup { .. } => {
            (vec![c("hostname", "UNIQUE", None, None)], vec![c("zone", "GROUP_BY", zones, None)], 0)
        }
        ConstraintMix::Mixed => {
            let priority = i32::from(g % 5 == 0);
            let (hard, soft) = match g % 7 {
                0 => (vec![c("hostname", "UNIQUE", None, None)], vec![c("zone", "GROUP_BY", zones, None)]),
                1 => (vec![c("rack", "MAX_PER", Some("2".into()), None)], vec![]),
                2 => (vec![c("zone", "GROUP_BY", zones, None), c("hostname", "UNIQUE", None, None)], vec![]),
                3 => (vec![c("rack", "LIKE", Some("r\\d*[02468]".into()), None)], vec![]),
                4 => (vec![c("zone", "CLUSTER", None, None)], vec![c("hostname", "UNIQUE", None, Some(2.0))]),
                5 => (vec![], vec![c("hostname", "UNIQUE", None, Some(2.0)), c("rack", "GROUP_BY", None, None)]),
                _ => (vec![c("zone", "UNLIKE", Some(zone_name(0)), None)], vec![]),
            };
            (hard, soft, priority)
        }
    }
}

fn tasks(opts: &GenOptions, source: &ShapeSource, rng: &mut SeededRng) -> Vec<TaskDoc> {
    let size = opts.constraints.group_size();
    let mut out = Vec::with_capacity(opts.tasks.min(1 << 20) as usize);
    let mut current: Option<(u32, Dims)> = None;
    for t in 0..opts.tasks {
        let g = t / size;
        let dims = match current {
            Some((cg, dims)) if cg == g && opts.group_shapes == GroupShapes::Same => dims,
            _ => {
                let dims = source.draw(rng);
                current = Some((g, dims));
                dims
            }
        };
        let (constraints, soft_constraints, priority) = rules(opts, g);
        let names = ["cpus", "mem", "disk", "network"];
        out.push(TaskDoc {
            id: format!("task-{:06}", t + 1),
            group: Some(format!("group-{:05}", g + 1)),
            resources: ResourcesDoc {
                scalars: names.iter().zip(dims).map(|(n, v)| ((*n).to_owned(), v)).collect(),
                ports: None,
            },
            ports: Some(PortsDoc::Count(1)),
            roles: None,
            priority,
            constraints,
            soft_constraints,
            tier: 0,
            bucket: None,
            after: Vec::new(),
            gang: None,
            gang_size: None,
            labels: Map::default(),
        });
    }
    out
}

/// One running task per 20 agents, of a random group, on a random agent.
fn running(opts: &GenOptions, rng: &mut SeededRng) -> Vec<RunningDoc> {
    let groups = opts.tasks.div_ceil(opts.constraints.group_size()).max(1);
    (0..opts.agents / 20)
        .map(|r| RunningDoc {
            id: format!("running-{:06}", r + 1),
            group: Some(format!("group-{:05}", running_group(rng.below(u64::from(groups)) as u32, groups) + 1)),
            agent_id: format!("agent-{:06}", rng.below(u64::from(opts.agents)) + 1),
            resources: ResourcesDoc { scalars: vec![("cpus".into(), 1.0), ("mem".into(), 1024.0)], ports: None },
            hostname: None,
            attributes: None,
            priority: 0,
            tier: 0,
        })
        .collect()
}

/// A group for a running task: not a `CLUSTER` group of the mix, which a running task in another
/// zone would make unsatisfiable.
fn running_group(g: u32, groups: u32) -> u32 {
    if g % 7 == 4 {
        (g + 1) % groups
    } else {
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(constraints: ConstraintMix, shapes: Shapes, seed: u64) -> GenOptions {
        GenOptions { agents: 40, tasks: 120, seed, constraints, shapes, ..GenOptions::default() }
    }

    const MIXES: [ConstraintMix; 3] =
        [ConstraintMix::None, ConstraintMix::UniqueHostPerGroup { group_size: 7 }, ConstraintMix::Mixed];

    const SHAPES: [Shapes; 4] =
        [Shapes::Uniform, Shapes::Irregular, Shapes::Random { count: 1 }, Shapes::Random { count: 8 }];

    /// Every combination of constraints, shapes and group shapes, with `seed`.
    fn every_option(seed: u64) -> impl Iterator<Item = GenOptions> {
        MIXES.into_iter().flat_map(move |mix| {
            SHAPES.into_iter().flat_map(move |shapes| {
                [GroupShapes::Same, GroupShapes::Mixed]
                    .map(|group_shapes| GenOptions { group_shapes, ..opts(mix, shapes, seed) })
            })
        })
    }

    #[test]
    fn gen_same_seed_same_json() {
        for o in every_option(42) {
            assert_eq!(generate_json(&o), generate_json(&o.clone()), "{o:?}");
        }
    }

    #[test]
    fn gen_different_seed_different_json() {
        for (a, b) in every_option(1).zip(every_option(2)) {
            assert_ne!(generate_json(&a), generate_json(&b), "{a:?}");
        }
    }

    /// The (cpus, mem, disk, network) of each generated task, with its group.
    fn task_dims(o: &GenOptions) -> Vec<(String, Vec<f64>)> {
        let doc = document(o);
        let dims = |t: &TaskDoc| t.resources.scalars.iter().map(|(_, v)| *v).collect();
        doc.tasks.iter().map(|t| (t.group.clone().unwrap_or_default(), dims(t))).collect()
    }

    #[test]
    fn gen_random_shapes_are_few_small_and_of_both_kinds() {
        let (mut cpu_heavy, mut mem_heavy) = (0, 0);
        for seed in 0..20 {
            for count in [1, 3, 8] {
                let o = GenOptions { tasks: 400, ..opts(ConstraintMix::None, Shapes::Random { count }, seed) };
                let mut distinct: Vec<(f64, f64)> = Vec::new();
                for (_, d) in task_dims(&o) {
                    let (cpus, mem) = (d[0], d[1]);
                    assert!(cpus <= 16.0 / 4.0 && mem <= 65536.0 / 4.0, "{d:?}");
                    assert!(d[2] <= 4096.0 && (1.0..=10.0).contains(&d[3]), "{d:?}");
                    if !distinct.contains(&(cpus, mem)) {
                        distinct.push((cpus, mem));
                        cpu_heavy += usize::from(cpus / 16.0 > mem / 65536.0);
                        mem_heavy += usize::from(mem / 65536.0 > cpus / 16.0);
                    }
                }
                assert!(!distinct.is_empty() && distinct.len() <= count as usize, "seed {seed}: {distinct:?}");
            }
        }
        assert!(cpu_heavy > 0 && mem_heavy > 0, "{cpu_heavy} cpu-heavy, {mem_heavy} memory-heavy");
    }

    /// The most distinct shapes any one group holds.
    fn most_shapes_in_a_group(o: &GenOptions) -> usize {
        let mut per_group: Vec<(String, Vec<Vec<f64>>)> = Vec::new();
        for (group, d) in task_dims(o) {
            match per_group.iter_mut().find(|(g, _)| *g == group) {
                Some((_, shapes)) if !shapes.contains(&d) => shapes.push(d),
                Some(_) => {}
                None => per_group.push((group, vec![d])),
            }
        }
        per_group.iter().map(|(_, shapes)| shapes.len()).max().unwrap_or(0)
    }

    #[test]
    fn gen_mixed_group_shapes_vary_within_a_group() {
        let unique = ConstraintMix::UniqueHostPerGroup { group_size: 20 };
        for shapes in [Shapes::Irregular, Shapes::Random { count: 8 }] {
            let same = opts(unique, shapes, 4);
            assert_eq!(most_shapes_in_a_group(&same), 1, "{shapes:?}");
            let mixed = GenOptions { group_shapes: GroupShapes::Mixed, ..same };
            assert!(most_shapes_in_a_group(&mixed) > 1, "{shapes:?}");
        }
    }

    #[test]
    fn gen_big_every_sets_which_agents_are_big() {
        let cpus = |big_every| {
            let w = generate(&GenOptions { agents: 12, tasks: 0, big_every, ..GenOptions::default() }).unwrap();
            w.offers.iter().map(|o| o.scalar("cpus").to_string()).collect::<Vec<_>>()
        };
        assert!(cpus(0).iter().all(|c| c == "16"));
        for (i, c) in cpus(3).iter().enumerate() {
            assert_eq!(c, if i % 3 == 2 { "32" } else { "16" }, "agent {i}");
        }
        assert_eq!(cpus(1).iter().filter(|c| *c == "32").count(), 12);
    }

    #[test]
    fn gen_json_round_trips_to_the_direct_workload() {
        for mix in MIXES {
            let o = opts(mix, Shapes::Irregular, 9);
            let direct = generate(&o).unwrap();
            let parsed = Workload::from_json(&generate_json(&o)).unwrap();
            assert_eq!(direct.offers, parsed.offers);
            let ids = |w: &Workload| w.tasks.iter().map(|t| (t.id.clone(), t.resources.clone())).collect::<Vec<_>>();
            assert_eq!(ids(&direct), ids(&parsed));
            assert_eq!(direct.running, parsed.running);
            assert_eq!(direct.fitness.name(), parsed.fitness.name());
        }
    }

    #[test]
    fn gen_agents_follow_the_layout() {
        let w = generate(&GenOptions { agents: 20, tasks: 0, ..GenOptions::default() }).unwrap();
        let tenth = &w.offers[9];
        assert_eq!(tenth.agent_id.as_str(), "agent-000010");
        assert_eq!(&*tenth.hostname, "host-00010");
        assert_eq!(tenth.scalar("cpus").to_string(), "32");
        assert_eq!(w.offers[0].scalar("mem").to_string(), "65536");
        assert_eq!(w.offers[4].attributes.get("zone").unwrap().as_str(), "zone-b");
        assert_eq!(zone_name(25), "zone-z");
        assert_eq!(zone_name(26), "zone-aa");
    }

    #[test]
    fn gen_unique_host_groups_share_constraints() {
        let o = opts(ConstraintMix::UniqueHostPerGroup { group_size: 10 }, Shapes::Uniform, 3);
        let w = generate(&o).unwrap();
        let first = &w.tasks[0].hard[0];
        assert!(w.tasks.iter().all(|t| std::sync::Arc::ptr_eq(&t.hard[0], first)));
        assert_eq!(w.tasks[9].group, w.tasks[0].group);
        assert_ne!(w.tasks[10].group, w.tasks[0].group);
    }

    #[test]
    fn gen_degenerate_options_still_build() {
        for (agents, tasks, zones) in [(0, 5, 0), (3, 0, 1), (1, 1, 40)] {
            let mut o = opts(ConstraintMix::Mixed, Shapes::Irregular, 5);
            (o.agents, o.tasks, o.zones, o.racks_per_zone) = (agents, tasks, zones, 0);
            assert!(generate(&o).is_ok());
        }
    }
}
