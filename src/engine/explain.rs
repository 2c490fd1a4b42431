//! Explaining an unplaced task: how many agents each reason rejected.
//!
//! Counts live in arrays sized by the class (one slot per asked resource, specific port and hard
//! constraint); nothing is formatted or allocated per agent.

use super::class::TaskClass;
use super::evaluate::{first_failing, fits, Miss};
use super::state::PassState;
use crate::plan::{Reason, ReasonCount};
use crate::plugins::{AgentView, PassView, TaskView};
use crate::resources::Quantity;

/// Every agent's first failing stage for the task, counted per reason.
pub(crate) fn explain(state: &PassState, class: &TaskClass, task: &TaskView<'_>) -> Vec<ReasonCount> {
    let pass = PassView { state };
    // (agents, best available) per asked resource; per-port and per-constraint counts.
    let mut short = vec![(0u32, 0i64); class.ask.len()];
    let mut ports = (0u32, 0u32);
    let mut taken = vec![0u32; class.ports.specific.len()];
    let mut claimed = 0u32;
    let mut constraint = vec![0u32; class.hard.len()];
    for agent in 0..state.agents.len() as u32 {
        match fits(state, class, agent) {
            Err(Miss::Resource { index, available }) => {
                short[index].0 += 1;
                short[index].1 = short[index].1.max(available);
            }
            Err(Miss::Ports { available }) => {
                ports.0 += 1;
                ports.1 = ports.1.max(available);
            }
            Err(Miss::PortTaken { index }) => taken[index] += 1,
            Err(Miss::Claimed) => claimed += 1,
            Ok(()) => {
                let view = AgentView { state, agent };
                if let Some(i) = first_failing(class, &class.stages.all_hard, task, &view, &pass) {
                    constraint[i] += 1;
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, &(agents, best)) in short.iter().enumerate() {
        if agents > 0 {
            let reason = Reason::Shortfall {
                resource: class.ask_names[i].clone(),
                asked: Quantity::from_milli(class.ask[i].1 as u64),
                best_available: Quantity::from_milli(best.max(0) as u64),
            };
            out.push(ReasonCount { reason, agents });
        }
    }
    if ports.0 > 0 {
        let reason = Reason::Ports { asked: class.ports.total(), best_available: ports.1 };
        out.push(ReasonCount { reason, agents: ports.0 });
    }
    for (i, &agents) in taken.iter().enumerate() {
        if agents > 0 {
            out.push(ReasonCount { reason: Reason::PortTaken { port: class.ports.specific[i] }, agents });
        }
    }
    if claimed > 0 {
        out.push(ReasonCount { reason: Reason::ClaimedByOtherGroup, agents: claimed });
    }
    for (index, &agents) in constraint.iter().enumerate() {
        if agents > 0 {
            let name = class.hard[index].name().into();
            out.push(ReasonCount { reason: Reason::Constraint { index, name }, agents });
        }
    }
    out
}
