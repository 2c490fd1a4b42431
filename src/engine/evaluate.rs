//! The per-(task, agent) stages: resource fit, hard constraints, score. Nothing here allocates.

use super::class::TaskClass;
use super::state::PassState;
use crate::plugins::{AgentView, Fitness, PassView, TaskView};
use crate::tables::AgentIx;

/// Why an agent failed the built-in fit stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// Ask entry `index` is short: `asked` thousandths (the task's, plus its executor's when the
    /// executor is not on the agent yet) against `available` in accepted roles. An `index` past
    /// the task's asks is entry `index - ask.len()` of the executor's asks, a resource only the
    /// executor asks for.
    Resource { index: usize, asked: i64, available: i64 },
    /// Too few ports in accepted roles.
    Ports { available: u32 },
    /// A specific port (by position) is not free.
    PortTaken { index: usize },
    /// Another group holds the agent exclusively.
    Claimed,
}

/// The built-in stage: resources and ports in accepted roles, and exclusivity.
#[inline]
pub(crate) fn fits(state: &PassState, class: &TaskClass, agent: AgentIx) -> Result<(), Miss> {
    fits_resources(state, class, agent)?;
    if claimed_by_other(state, class, agent) {
        return Err(Miss::Claimed);
    }
    Ok(())
}

/// Whether another group holds the agent exclusively.
#[inline]
pub(crate) fn claimed_by_other(state: &PassState, class: &TaskClass, agent: AgentIx) -> bool {
    state.slot(agent).owner().is_some_and(|owner| owner != class.group)
}

/// Resources and ports in accepted roles: the part of the fit that ignores the group.
#[inline]
pub(crate) fn fits_resources(state: &PassState, class: &TaskClass, agent: AgentIx) -> Result<(), Miss> {
    let available = |dim| -> i64 { class.roles.iter().map(|&r| state.free_in_role(agent, dim, r)).sum() };
    let executor = class.executor.as_ref().filter(|e| !state.executor_on(agent, &e.id));
    for (index, &(dim, amount)) in class.ask.iter().enumerate() {
        let asked = amount + executor.map_or(0, |e| e.of(dim));
        let available = available(dim);
        if available < asked {
            return Err(Miss::Resource { index, asked, available });
        }
    }
    if let Some(executor) = executor {
        for (i, &(dim, asked)) in executor.ask.iter().enumerate() {
            if class.ask.iter().any(|&(d, _)| d == dim) {
                continue;
            }
            let available = available(dim);
            if available < asked {
                return Err(Miss::Resource { index: class.ask.len() + i, asked, available });
            }
        }
    }
    if class.ports.total() > 0 {
        let slot = state.slot(agent);
        let accepted = || slot.ports().iter().filter(|(r, _)| class.roles.contains(r)).map(|(_, set)| set);
        let available: u32 = accepted().map(|set| set.count()).sum();
        if available < class.ports.total() {
            return Err(Miss::Ports { available });
        }
        for (index, &port) in class.ports.specific.iter().enumerate() {
            if !accepted().any(|set| set.contains(port)) {
                return Err(Miss::PortTaken { index });
            }
        }
    }
    Ok(())
}

/// The first of the class's hard constraints at `which` positions that rejects the agent.
#[inline]
pub(crate) fn first_failing(
    class: &TaskClass,
    which: &[usize],
    task: &TaskView<'_>,
    agent: &AgentView<'_>,
    pass: &PassView<'_>,
) -> Option<usize> {
    which.iter().copied().find(|&i| !class.hard[i].allows(task, agent, pass))
}

/// The agent-local part of the score: fitness and static or agent-scoped soft terms.
#[inline]
pub(crate) fn local_score(
    class: &TaskClass,
    fitness: &dyn Fitness,
    task: &TaskView<'_>,
    agent: &AgentView<'_>,
    pass: &PassView<'_>,
) -> f64 {
    let mut score = class.fitness_weight * fitness.score(task, agent).get();
    for &i in &class.stages.local_soft {
        score += class.soft_weights[i] * class.soft[i].constraint.score(task, agent, pass).get();
    }
    score
}

/// The shared part of the score: attribute- or pass-scoped soft terms.
#[inline]
pub(crate) fn shared_score(class: &TaskClass, task: &TaskView<'_>, agent: &AgentView<'_>, pass: &PassView<'_>) -> f64 {
    let mut score = 0.0;
    for &i in &class.stages.shared_soft {
        score += class.soft_weights[i] * class.soft[i].constraint.score(task, agent, pass).get();
    }
    score
}

/// A candidate's ranking: total score, its agent-local part, and the agent index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rank {
    pub total: f64,
    pub local: f64,
    pub agent: AgentIx,
}

/// Whether `candidate` beats `best`: the higher total, then the higher agent-local part, then the
/// lower agent index (agent id order).
///
/// The middle key matters because float addition can round two different local parts to the
/// same total; ranking on it too keeps the indexed selector (whose queues order by the local
/// part) exactly equal to the scan.
#[inline]
pub(crate) fn better(candidate: Rank, best: Option<Rank>) -> bool {
    let Some(best) = best else {
        return true;
    };
    candidate
        .total
        .total_cmp(&best.total)
        .then(candidate.local.total_cmp(&best.local))
        .then(best.agent.cmp(&candidate.agent))
        .is_gt()
}
