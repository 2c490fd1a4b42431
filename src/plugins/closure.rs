//! Adapters that turn closures into plugins.

use std::fmt;

use super::{AgentView, Fitness, HardConstraint, PassView, Scope, Score, SoftConstraint, TaskView};

/// A hard constraint from a closure; its scope is [`Scope::Pass`] unless narrowed.
///
/// ```
/// use std::sync::Arc;
/// use offerpack::plugins::{HardFn, Scope};
/// let no_gpu_hosts = HardFn::new("no-gpu-hosts", |_, agent, _| agent.attribute("gpu").is_none())
///     .with_scope(Scope::Static);
/// let _as_plugin: Arc<dyn offerpack::plugins::HardConstraint> = Arc::new(no_gpu_hosts);
/// ```
pub struct HardFn<F> {
    name: String,
    scope: Scope,
    check: F,
}

impl<F> HardFn<F>
where
    F: Fn(&TaskView<'_>, &AgentView<'_>, &PassView<'_>) -> bool + Send + Sync,
{
    /// Wraps `check` under `name`.
    pub fn new(name: &str, check: F) -> Self {
        HardFn { name: name.to_owned(), scope: Scope::Pass, check }
    }

    /// Declares a narrower scope (see [`Scope`]).
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }
}

impl<F> fmt::Debug for HardFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HardFn").field("name", &self.name).finish()
    }
}

impl<F> HardConstraint for HardFn<F>
where
    F: Fn(&TaskView<'_>, &AgentView<'_>, &PassView<'_>) -> bool + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        self.scope.clone()
    }
    fn allows(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> bool {
        (self.check)(task, agent, pass)
    }
}

/// A soft constraint from a closure returning a value clamped into `[0, 1]`.
pub struct SoftFn<F> {
    name: String,
    scope: Scope,
    score: F,
}

impl<F> SoftFn<F>
where
    F: Fn(&TaskView<'_>, &AgentView<'_>, &PassView<'_>) -> f64 + Send + Sync,
{
    /// Wraps `score` under `name`.
    pub fn new(name: &str, score: F) -> Self {
        SoftFn { name: name.to_owned(), scope: Scope::Pass, score }
    }

    /// Declares a narrower scope (see [`Scope`]).
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }
}

impl<F> fmt::Debug for SoftFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftFn").field("name", &self.name).finish()
    }
}

impl<F> SoftConstraint for SoftFn<F>
where
    F: Fn(&TaskView<'_>, &AgentView<'_>, &PassView<'_>) -> f64 + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn scope(&self) -> Scope {
        self.scope.clone()
    }
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> Score {
        Score::clamped((self.score)(task, agent, pass))
    }
}

/// A fitness calculator from a closure returning a value clamped into `[0, 1]`.
pub struct FitnessFn<F> {
    name: String,
    score: F,
}

impl<F> FitnessFn<F>
where
    F: Fn(&TaskView<'_>, &AgentView<'_>) -> f64 + Send + Sync,
{
    /// Wraps `score` under `name`.
    pub fn new(name: &str, score: F) -> Self {
        FitnessFn { name: name.to_owned(), score }
    }
}

impl<F> fmt::Debug for FitnessFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FitnessFn").field("name", &self.name).finish()
    }
}

impl<F> Fitness for FitnessFn<F>
where
    F: Fn(&TaskView<'_>, &AgentView<'_>) -> f64 + Send + Sync,
{
    fn name(&self) -> &str {
        &self.name
    }
    fn score(&self, task: &TaskView<'_>, agent: &AgentView<'_>) -> Score {
        Score::clamped((self.score)(task, agent))
    }
}
