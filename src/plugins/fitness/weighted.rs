//! A weighted mean of fitness calculators.

use std::sync::Arc;

use super::FitnessError;
use crate::plugins::{AgentView, Fitness, Score, TaskView};

/// A weighted mean of several fitness calculators; weights are checked once, when built.
///
/// ```
/// use std::sync::Arc;
/// use offerpack::plugins::fitness::{BinPack, Balanced, Weighted};
/// let mix = Weighted::new(vec![(3.0, Arc::new(BinPack::cpu_mem()) as _), (1.0, Arc::new(Balanced) as _)]);
/// assert!(mix.is_ok());
/// assert!(Weighted::new(vec![(f64::NAN, Arc::new(Balanced) as _)]).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct Weighted {
    parts: Vec<(f64, Arc<dyn Fitness>)>,
    name: String,
}

impl Weighted {
    /// Combines `parts`; every weight must be finite and positive, and there must be a part.
    pub fn new(parts: Vec<(f64, Arc<dyn Fitness>)>) -> Result<Weighted, FitnessError> {
        if parts.is_empty() {
            return Err(FitnessError::Empty);
        }
        if let Some((w, _)) = parts.iter().find(|(w, _)| !(w.is_finite() && *w > 0.0)) {
            return Err(FitnessError::BadWeight(*w));
        }
        let sum: f64 = parts.iter().map(|(w, _)| w).sum();
        let name = parts.iter().map(|(w, f)| format!("{w}*{}", f.name())).collect::<Vec<_>>().join("+");
        let parts = parts.into_iter().map(|(w, f)| (w / sum, f)).collect();
        Ok(Weighted { parts, name })
    }
}

impl Fitness for Weighted {
    fn name(&self) -> &str {
        &self.name
    }

    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>) -> Score {
        Score::clamped(self.parts.iter().map(|(w, f)| w * f.score(task, agent).get()).sum())
    }
}
