//! Task dependencies: what the dependency graph costs per task.
//!
//! Seeded random DAGs of N tasks from several families (below), each submitted as one batch
//! (cycle check included), then released to the end by finishing every released task in turn,
//! pruning as the session does; and the critical path of the whole graph.
//!
//! Before timing, every family is swept over 10 seeds at 50,000 tasks (submit + release all and
//! critical path, the fastest of three runs each) and the bench prints the median and the worst
//! time with its seed; criterion then times the standard family at 10,000 and 50,000 tasks and
//! each family's worst seed. Run: `cargo bench --bench deps`.

#[path = "support/sweep.rs"]
mod sweep;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offerpack::deps::{DependencyGraph, OnPredecessorFailure};
use offerpack::model::TaskId;
use offerpack::util::SeededRng;
use sweep::{fastest, median_worst};

/// How a family picks each task's predecessors among the tasks before it.
#[derive(Clone, Copy, Debug)]
struct Family {
    name: &'static str,
    /// Each task waits for `0..=max_preds` tasks (uniform)...
    max_preds: u64,
    /// ...chosen among the `window` tasks just before it.
    window: usize,
}

/// The standard family first: up to 3 predecessors among the last 50, so chains run deep.
const FAMILIES: [Family; 5] = [
    Family { name: "window50_fanin3", max_preds: 3, window: 50 },
    Family { name: "chains_fanin1_window1", max_preds: 1, window: 1 },
    Family { name: "wide_window5000_fanin2", max_preds: 2, window: 5_000 },
    Family { name: "fanin20_window200", max_preds: 20, window: 200 },
    Family { name: "sparse_fanin1_window100000", max_preds: 1, window: 100_000 },
];

fn dag(n: usize, seed: u64, family: Family) -> Vec<(TaskId, Vec<TaskId>)> {
    let mut rng = SeededRng::new(seed);
    let ids: Vec<TaskId> = (0..n).map(|i| TaskId::new(format!("t{i:06}"))).collect();
    (0..n)
        .map(|j| {
            let preds = if j == 0 { 0 } else { rng.below(family.max_preds + 1) as usize };
            let reach = j.min(family.window) as u64;
            let mut after: Vec<TaskId> = (0..preds).map(|_| ids[j - 1 - rng.below(reach) as usize].clone()).collect();
            after.sort();
            after.dedup();
            (ids[j].clone(), after)
        })
        .collect()
}

fn run_all(batch: Vec<(TaskId, Vec<TaskId>)>) -> usize {
    let mut graph = DependencyGraph::new(OnPredecessorFailure::FailDependents);
    let mut ready = graph.submit(batch).expect("acyclic").released;
    let mut done = 0;
    while let Some(task) = ready.pop() {
        ready.extend(graph.finished(&task));
        graph.prune(&task);
        done += 1;
    }
    done
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Sweeps every family over 10 seeds at `n` tasks; returns each family's worst seed for
/// submit + release all.
fn sweep_families(n: usize) -> Vec<(Family, u64)> {
    let mut worst_seeds = Vec::new();
    for family in FAMILIES {
        let mut release = Vec::new();
        let mut critical = Vec::new();
        for seed in 0..10u64 {
            let batch = dag(n, seed, family);
            assert_eq!(run_all(batch.clone()), n, "every task released");
            release.push((fastest(3, || run_all(batch.clone())), seed));
            let mut graph = DependencyGraph::default();
            graph.submit(batch).expect("acyclic");
            critical.push((fastest(3, || graph.critical_path(|_| None).tasks.len()), seed));
        }
        let (r_median, r_worst, r_seed) = median_worst(&mut release);
        let (c_median, c_worst, c_seed) = median_worst(&mut critical);
        eprintln!(
            "deps_sweep/{}/{n}: 10 seeds; submit+release all median {:.2} ms, worst {:.2} ms (seed {r_seed}); critical path median {:.2} ms, worst {:.2} ms (seed {c_seed})",
            family.name,
            ms(r_median),
            ms(r_worst),
            ms(c_median),
            ms(c_worst),
        );
        worst_seeds.push((family, r_seed));
    }
    worst_seeds
}

fn deps(c: &mut Criterion) {
    let worst_seeds = sweep_families(50_000);
    let mut group = c.benchmark_group("deps");
    group.sample_size(20);
    for n in [10_000usize, 50_000] {
        let batch = dag(n, 1, FAMILIES[0]);
        assert_eq!(run_all(batch.clone()), n, "every task released");
        group.bench_with_input(BenchmarkId::new("submit", n), &batch, |b, batch| {
            b.iter(|| DependencyGraph::default().submit(black_box(batch.clone())).expect("acyclic"))
        });
        group.bench_with_input(BenchmarkId::new("submit_release_all", n), &batch, |b, batch| {
            b.iter(|| run_all(black_box(batch.clone())))
        });
        let mut graph = DependencyGraph::default();
        graph.submit(batch.clone()).expect("acyclic");
        let path = graph.critical_path(|_| None);
        println!("deps/{n}: critical path {} tasks", path.tasks.len());
        group.bench_with_input(BenchmarkId::new("critical_path", n), &graph, |b, graph| {
            b.iter(|| graph.critical_path(|_| None).tasks.len())
        });
    }
    for (family, seed) in worst_seeds {
        let batch = dag(50_000, seed, family);
        let id = BenchmarkId::new(format!("submit_release_all/worst_seed/{}", family.name), 50_000);
        group.bench_with_input(id, &batch, |b, batch| b.iter(|| run_all(black_box(batch.clone()))));
    }
    group.finish();
}

criterion_group!(benches, deps);
criterion_main!(benches);
