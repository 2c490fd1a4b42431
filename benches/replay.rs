//! A timed offer stream replayed through the engine: engine time per pass, incremental
//! [`Scheduler`](offerpack::Scheduler) against a whole engine pass each time (`--full-replan`).
//!
//! The stream: 10,000 agents (the `gen` cluster), 50,000 tasks running, 1,000 arrivals a second
//! (unique-host groups of 10 with a soft zone spread, the mix of `offerpack gen --constraints
//! unique-host`), one agent replaced a minute and one rescind a second, a pass every 50 ms of
//! stream time. Criterion times only the passes after the first (the first compiles the whole
//! cluster in both modes), one replay of the stream per iteration; divide by the passes printed,
//! less one, to get the mean per pass. The median and
//! 99th percentile per pass come from `offerpack replay` (see the README). A plan that launches
//! what a master would refuse stops the bench.
//! Run: `cargo bench --bench replay`.

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use offerpack::replay::{replay, ReplayOptions, Stopwatch};
use offerpack::workload::{generate_stream, ConstraintMix, GenOptions, Stream, StreamOptions};

/// Adds up the time of every pass but the first, which compiles the whole cluster in both
/// modes (the steady state is what the bench is about).
#[derive(Default)]
struct Total {
    started: Option<Instant>,
    passes: u32,
    sum: Duration,
}

impl Stopwatch for Total {
    fn start(&mut self) {
        self.started = Some(Instant::now());
    }

    fn stop(&mut self) -> Duration {
        let took = self.started.take().map_or(Duration::ZERO, |t| t.elapsed());
        if self.passes > 0 {
            self.sum += took;
        }
        self.passes += 1;
        took
    }
}

fn stream(seconds: f64) -> Stream {
    let opts = StreamOptions {
        cluster: GenOptions {
            agents: 10_000,
            seed: 42,
            constraints: ConstraintMix::UniqueHostPerGroup { group_size: 10 },
            ..GenOptions::default()
        },
        seconds,
        running: 50_000,
        rate: 1_000.0,
        agent_churn: 1.0,
        rescinds: 1.0,
        mean_duration: None,
        buckets: 0,
    };
    Stream::from_json_lines(&generate_stream(&opts)).expect("generated streams are valid")
}

fn bench_mode(c: &mut Criterion, stream: &Stream, full_replan: bool) {
    let opts = ReplayOptions { full_replan, ..ReplayOptions::default() };
    let probe = replay(stream, &opts, &mut Total::default()).expect("the stream replays");
    assert_eq!(probe.refused_launches, 0, "a plan launched what a master would refuse: {probe:?}");
    eprintln!("replay {}: {}", probe.mode, probe.line());
    let mut group = c.benchmark_group("replay");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    let name = format!("{}/10000_agents_50000_running_1000_per_s_{}_passes", probe.mode, probe.passes);
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            let mut sum = Duration::ZERO;
            for _ in 0..iters {
                let mut watch = Total::default();
                let summary = replay(stream, &opts, &mut watch).expect("the stream replays");
                assert_eq!(summary.refused_launches, 0);
                sum += watch.sum;
            }
            sum
        })
    });
    group.finish();
}

fn replays(c: &mut Criterion) {
    let stream = stream(3.0);
    bench_mode(c, &stream, false);
    bench_mode(c, &stream, true);
}

criterion_group!(benches, replays);
criterion_main!(benches);
