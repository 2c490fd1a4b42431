//! The reference selector: asks every agent for every task, as Fenzo does.
//!
//! Used for classes with pass-scoped plugins, and as the oracle the indexed selector is tested
//! against (both must give the same plan).

use super::class::TaskClass;
use super::evaluate::{better, first_failing, fits, local_score, shared_score, Rank};
use super::state::PassState;
use crate::plugins::{AgentView, Fitness, PassView, TaskView};
use crate::tables::AgentIx;

/// The best agent for the task, or `None` when no agent passes every stage.
pub(crate) fn select(
    state: &PassState,
    class: &TaskClass,
    fitness: &dyn Fitness,
    task: &TaskView<'_>,
) -> Option<AgentIx> {
    let pass = PassView::new(state);
    let mut best: Option<Rank> = None;
    for agent in state.agent_ixs() {
        if fits(state, class, agent).is_err() {
            continue;
        }
        let view = AgentView::new(state, agent);
        if first_failing(class, &class.stages.all_hard, task, &view, &pass).is_some() {
            continue;
        }
        let local = local_score(class, fitness, task, &view, &pass);
        let rank = Rank { total: shared_score(class, task, &view, &pass) + local, local, agent };
        if better(rank, best) {
            best = Some(rank);
        }
    }
    best.map(|rank| rank.agent)
}
