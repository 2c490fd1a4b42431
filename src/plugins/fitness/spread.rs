//! Spread: prefer the least allocated agent.

use crate::plugins::{AgentView, Dim, Fitness, Score, TaskView};

/// Least allocated: `1 -` the mean cpu and memory utilisation once the task is placed, so
/// emptier agents score higher and load spreads out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spread;

impl Fitness for Spread {
    fn name(&self) -> &str {
        "spread"
    }

    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>) -> Score {
        let cpu = agent.utilisation_after(task, Dim::CPUS);
        let mem = agent.utilisation_after(task, Dim::MEM);
        Score::clamped(1.0 - (cpu + mem) / 2.0)
    }
}
