//! Bin packing: prefer the agent the task fills the most.

use crate::plugins::{AgentView, Dim, Fitness, Score, TaskView};

/// Fenzo's bin packing: the fraction of the agent's resources in use once the task is placed,
/// averaged over the chosen resources. Fuller agents score higher, so tasks pack tightly.
///
/// ```
/// use offerpack::plugins::{fitness::BinPack, Fitness};
/// assert_eq!(BinPack::cpu_mem().name(), "cpu_mem_binpack");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BinPack {
    dims: &'static [Dim],
    name: &'static str,
}

impl BinPack {
    /// Packs by cpus.
    pub fn cpu() -> BinPack {
        BinPack { dims: &[Dim::CPUS], name: "cpu_binpack" }
    }

    /// Packs by memory.
    pub fn mem() -> BinPack {
        BinPack { dims: &[Dim::MEM], name: "mem_binpack" }
    }

    /// Packs by network bandwidth.
    pub fn network() -> BinPack {
        BinPack { dims: &[Dim::NETWORK], name: "network_binpack" }
    }

    /// Packs by cpus and memory together (their mean).
    pub fn cpu_mem() -> BinPack {
        BinPack { dims: &[Dim::CPUS, Dim::MEM], name: "cpu_mem_binpack" }
    }
}

impl Fitness for BinPack {
    fn name(&self) -> &str {
        self.name
    }

    #[inline]
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>) -> Score {
        let sum: f64 = self.dims.iter().map(|&d| agent.utilisation_after(task, d)).sum();
        Score::clamped(sum / self.dims.len() as f64)
    }

    fn packs(&self) -> Option<&[Dim]> {
        Some(self.dims)
    }

    /// The score is the mean of `(used + ask) / total` over the dimensions: for agents of equal
    /// totals, the ask adds the same to every agent, so the sum of `used / total` ranks them.
    /// (Exact while distinct sums differ by more than rounding: two such sums differ by at
    /// least 1 / (product of the totals in thousandths), far above an ulp for any agent below
    /// 2^48 in that product, e.g. 256 cpus and 1 TiB of memory.)
    fn ranks_by_key(&self) -> bool {
        true
    }

    fn rank_key(&self, agent: &AgentView<'_>) -> f64 {
        self.dims.iter().map(|&d| agent.utilisation(d)).sum()
    }
}
