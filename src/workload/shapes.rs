//! Task shapes for the generator: the fixed `uniform` and `irregular` draws, and `random`
//! families of a few shapes drawn per seed and picked with skewed frequencies.

use super::gen::{Shapes, MAX_SHAPE_COUNT};
use crate::util::SeededRng;

/// cpus, mem, disk, network of one task.
pub(super) type Dims = [f64; 4];

/// Cpus and memory of the small agent; a `random` shape asks for at most a quarter of each.
const SMALL_AGENT: [f64; 2] = [16.0, 65536.0];

/// Grid steps (and minimums) of cpus and memory in `random` shapes.
const CPU_STEP: f64 = 0.25;
const MEM_STEP: f64 = 128.0;

/// Largest drawn ratio between a `random` shape's dominant share of the small agent and its other
/// share; the ratio is drawn log-uniformly from 1 (balanced) to this. Rounding the other share
/// down to the grid may raise the ratio of the smallest shapes up to twice this.
const MAX_SKEW: f64 = 8.0;

/// Where task shapes come from for one generated workload.
#[derive(Clone, Debug)]
pub(super) enum ShapeSource {
    /// [`Shapes::Uniform`].
    Uniform,
    /// [`Shapes::Irregular`].
    Irregular,
    /// [`Shapes::Random`]: the family's shapes and their cumulative weights.
    Family {
        /// The drawn shapes.
        shapes: Vec<Dims>,
        /// `cumulative[i]` is the sum of the weights of shapes `0..=i`.
        cumulative: Vec<f64>,
    },
}

impl ShapeSource {
    /// The source for `shapes`; a `random` family is drawn from `seed` alone, so it does not
    /// depend on the number of agents or tasks.
    pub(super) fn new(shapes: Shapes, seed: u64) -> ShapeSource {
        match shapes {
            Shapes::Uniform => ShapeSource::Uniform,
            Shapes::Irregular => ShapeSource::Irregular,
            Shapes::Random { count } => {
                family(count.clamp(1, MAX_SHAPE_COUNT), &mut SeededRng::new(seed ^ FAMILY_STREAM))
            }
        }
    }

    /// One task's shape.
    pub(super) fn draw(&self, rng: &mut SeededRng) -> Dims {
        match self {
            ShapeSource::Uniform => {
                let cpus = [0.5, 1.0, 2.0, 4.0][rng.below(4) as usize];
                [cpus, cpus * 2048.0, 1024.0, 10.0]
            }
            ShapeSource::Irregular if rng.below(2) == 0 => [
                grid(rng, 2.0, 8.0, 0.25),
                grid(rng, 256.0, 2048.0, 128.0),
                grid(rng, 512.0, 4096.0, 512.0),
                grid(rng, 5.0, 50.0, 5.0),
            ],
            ShapeSource::Irregular => [
                grid(rng, 0.25, 1.0, 0.25),
                grid(rng, 8192.0, 24576.0, 512.0),
                grid(rng, 512.0, 4096.0, 512.0),
                grid(rng, 5.0, 50.0, 5.0),
            ],
            ShapeSource::Family { shapes, cumulative } => {
                let total = cumulative.last().copied().unwrap_or(0.0);
                let target = rng.unit() * total;
                let i = cumulative.partition_point(|&c| c <= target).min(shapes.len() - 1);
                shapes[i]
            }
        }
    }
}

/// Mixed into the seed for the stream that draws a `random` family ("SHAPES" in ASCII).
const FAMILY_STREAM: u64 = 0x5348_4150_4553_0000;

/// `count` shapes, a per-seed share of them cpu-heavy, with Pareto weights (shape `i` has weight
/// `1 / (1 - u)` for a uniform `u`), so a few shapes are common and others rare.
fn family(count: u32, rng: &mut SeededRng) -> ShapeSource {
    let cpu_share = rng.unit();
    let mut shapes = Vec::with_capacity(count as usize);
    let mut cumulative = Vec::with_capacity(count as usize);
    let mut total = 0.0;
    for _ in 0..count {
        let cpu_heavy = rng.unit() < cpu_share;
        shapes.push(random_shape(cpu_heavy, rng));
        total += 1.0 / (1.0 - rng.unit());
        cumulative.push(total);
    }
    ShapeSource::Family { shapes, cumulative }
}

/// One shape of at most a quarter of the small agent. Its dominant resource (cpus when
/// `cpu_heavy`) is on the grid; the other is that share divided by a ratio from 1 to
/// [`MAX_SKEW`], rounded down to the grid, so the dominant share is never the smaller one.
fn random_shape(cpu_heavy: bool, rng: &mut SeededRng) -> Dims {
    let [agent_cpus, agent_mem] = SMALL_AGENT;
    let skew = MAX_SKEW.powf(rng.unit());
    let down = |amount: f64, step: f64| ((amount / step).floor() * step).max(step);
    let (cpus, mem) = if cpu_heavy {
        let cpus = grid(rng, CPU_STEP, agent_cpus / 4.0, CPU_STEP);
        (cpus, down(cpus / agent_cpus * agent_mem / skew, MEM_STEP))
    } else {
        // From the memory of the smallest cpu ask up, so the cpu minimum cannot outweigh it.
        let least = CPU_STEP / agent_cpus * agent_mem;
        let mem = grid(rng, least, agent_mem / 4.0, MEM_STEP);
        (down(mem / agent_mem * agent_cpus / skew, CPU_STEP), mem)
    };
    [cpus, mem, grid(rng, 256.0, 4096.0, 256.0), grid(rng, 1.0, 10.0, 1.0)]
}

/// A value on a grid: `lo + step * k` for a random `k` with the result at most `hi`.
fn grid(rng: &mut SeededRng, lo: f64, hi: f64, step: f64) -> f64 {
    let steps = ((hi - lo) / step).round() as u64;
    lo + step * rng.below(steps + 1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family_of(count: u32, seed: u64) -> Vec<Dims> {
        match ShapeSource::new(Shapes::Random { count }, seed) {
            ShapeSource::Family { shapes, .. } => shapes,
            other => panic!("not a family: {other:?}"),
        }
    }

    #[test]
    fn shapes_random_count_is_cut_to_the_bounds() {
        assert_eq!(family_of(0, 1).len(), 1);
        assert_eq!(family_of(u32::MAX, 1).len(), MAX_SHAPE_COUNT as usize);
    }

    #[test]
    fn shapes_random_stay_on_the_grid_within_a_quarter_agent() {
        for seed in 0..50 {
            for [cpus, mem, disk, network] in family_of(12, seed) {
                assert!((CPU_STEP..=4.0).contains(&cpus) && (cpus / CPU_STEP).fract() == 0.0, "{cpus}");
                assert!((MEM_STEP..=16384.0).contains(&mem) && (mem / MEM_STEP).fract() == 0.0, "{mem}");
                assert!((256.0..=4096.0).contains(&disk) && (1.0..=10.0).contains(&network));
            }
        }
    }

    #[test]
    fn shapes_random_dominant_share_within_the_skew() {
        let (mut near_balanced, mut skewed) = (0, 0);
        for seed in 0..50 {
            for [cpus, mem, ..] in family_of(12, seed) {
                let (c, m) = (cpus / 16.0, mem / 65536.0);
                let ratio = c.max(m) / c.min(m);
                assert!(ratio <= 2.0 * MAX_SKEW, "{cpus} cpus, {mem} mem");
                near_balanced += usize::from(ratio < 1.5);
                skewed += usize::from(ratio > 4.0);
            }
        }
        assert!(near_balanced > 0 && skewed > 0, "{near_balanced} near balanced, {skewed} skewed");
    }

    #[test]
    fn shapes_random_frequencies_are_skewed() {
        // Over many seeds, the most common of 8 shapes is drawn far more often than the rarest.
        let mut spread = Vec::new();
        for seed in 0..20 {
            let source = ShapeSource::new(Shapes::Random { count: 8 }, seed);
            let ShapeSource::Family { shapes, .. } = &source else { unreachable!() };
            let mut counts = vec![0u32; shapes.len()];
            let mut rng = SeededRng::new(seed);
            for _ in 0..4000 {
                let drawn = source.draw(&mut rng);
                counts[shapes.iter().position(|s| *s == drawn).unwrap()] += 1;
            }
            let (most, least) = (*counts.iter().max().unwrap(), *counts.iter().min().unwrap());
            spread.push(f64::from(most) / f64::from(least.max(1)));
        }
        spread.sort_by(f64::total_cmp);
        assert!(spread[spread.len() / 2] > 4.0, "median most/least ratio {spread:?}");
    }

    #[test]
    fn shapes_random_cpu_share_varies_by_seed() {
        let heavy = |seed| family_of(16, seed).iter().filter(|[c, m, ..]| c / 16.0 > m / 65536.0).count();
        let counts: Vec<usize> = (0..30).map(heavy).collect();
        assert!(counts.iter().any(|&n| n <= 4), "{counts:?}");
        assert!(counts.iter().any(|&n| n >= 12), "{counts:?}");
    }
}
