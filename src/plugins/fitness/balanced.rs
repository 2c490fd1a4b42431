//! Balanced allocation: keep an agent's cpu and memory use level.

use crate::plugins::{AgentView, Dim, Fitness, Score, TaskView};

/// `1 - |cpu use - memory use|` once the task is placed: prefers agents where the task evens
/// out the two, so neither runs out while the other sits idle.
#[derive(Debug, Clone, Copy, Default)]
pub struct Balanced;

impl Fitness for Balanced {
    fn name(&self) -> &str {
        "balanced"
    }

    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>) -> Score {
        let cpu = agent.utilisation_after(task, Dim::CPUS);
        let mem = agent.utilisation_after(task, Dim::MEM);
        Score::clamped(1.0 - (cpu - mem).abs())
    }
}
