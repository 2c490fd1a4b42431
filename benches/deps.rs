//! Task dependencies: what the dependency graph costs per task.
//!
//! A seeded random DAG of N tasks (each waits for up to 3 of the 50 tasks before it, so chains
//! run deep), submitted as one batch (cycle check included), then released to the end by
//! finishing every released task in turn, pruning as the session does; and the critical path
//! of the whole graph. Run: `cargo bench --bench deps`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use offerpack::deps::{DependencyGraph, OnPredecessorFailure};
use offerpack::model::TaskId;
use offerpack::util::SeededRng;

fn dag(n: usize, seed: u64) -> Vec<(TaskId, Vec<TaskId>)> {
    let mut rng = SeededRng::new(seed);
    let ids: Vec<TaskId> = (0..n).map(|i| TaskId::new(format!("t{i:06}"))).collect();
    (0..n)
        .map(|j| {
            let preds = if j == 0 { 0 } else { rng.below(4) as usize };
            let after = (0..preds).map(|_| ids[j - 1 - rng.below(j.min(50) as u64) as usize].clone()).collect();
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

fn deps(c: &mut Criterion) {
    let mut group = c.benchmark_group("deps");
    group.sample_size(20);
    for n in [10_000usize, 50_000] {
        let batch = dag(n, 1);
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
    group.finish();
}

criterion_group!(benches, deps);
criterion_main!(benches);
