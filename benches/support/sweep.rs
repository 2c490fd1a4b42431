//! Shared by the benches that sweep seeded families before timing: the fastest of a few runs
//! (the least disturbed by other work) and the median and worst of a sweep.

#![allow(dead_code)]

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The fastest of `runs` calls of `f`.
pub fn fastest<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// The median time and the worst with its seed, of `times` as (time, seed); sorts `times`.
pub fn median_worst(times: &mut [(Duration, u64)]) -> (Duration, Duration, u64) {
    times.sort();
    let (worst, seed) = times[times.len() - 1];
    (times[times.len() / 2].0, worst, seed)
}
