//! Committing a placement: take resources and ports, update counters. The launch is made of
//! what was taken afterwards (see `launch`), possibly on another thread.

use std::sync::Arc;

use super::class::TaskClass;
use super::state::PassState;
use crate::plan::{Allocation, GrantedPorts};
use crate::resources::Quantity;
use crate::tables::AgentIx;

/// What one placement took from its agent.
#[derive(Debug)]
pub(crate) struct Granted {
    pub resources: Arc<[Allocation]>,
    pub ports: GrantedPorts,
    /// What the task's custom executor took, when this placement starts it on the agent.
    pub executor: Option<Arc<[Allocation]>>,
}

/// Places a task of `class` on `agent`; the caller has checked that it fits.
pub(crate) fn commit(state: &mut PassState, class: &TaskClass, agent: AgentIx) -> Granted {
    let mut split = std::mem::take(&mut state.split_scratch);
    let mut parts = std::mem::take(&mut state.parts_scratch);
    parts.clear();
    for (i, &(dim, amount)) in class.ask.iter().enumerate() {
        split.clear();
        state.tables.take(agent, dim, &class.roles, amount, &mut split);
        parts.extend(split.iter().map(|&(role, part)| (i as u16, role, part)));
    }
    state.split_scratch = split;
    let c = class.id as usize;
    if state.allocation_memo.len() <= c {
        state.allocation_memo.resize_with(c + 1, || None);
    }
    let PassState { tables, allocation_memo, parts_scratch, .. } = state;
    let resources = match &mut allocation_memo[c] {
        Some((previous, shared)) if *previous == parts => {
            *parts_scratch = parts;
            shared.clone()
        }
        memo => {
            let made: Arc<[Allocation]> = parts
                .iter()
                .map(|&(i, role, part)| Allocation {
                    name: class.ask_names[i as usize].clone(),
                    role: tables.role_value(role).clone(),
                    amount: Quantity::from_milli(part as u64),
                })
                .collect();
            // The old split's buffer becomes the scratch for the next commit.
            let old = memo.replace((parts, made.clone()));
            *parts_scratch = old.map(|(buffer, _)| buffer).unwrap_or_default();
            made
        }
    };
    let ports = take_ports(state, class, agent);
    let executor = class.executor.as_ref().and_then(|executor| {
        let starts = !state.executor_on(agent, &executor.id);
        state.tables_mut().count_executor_task(agent, &executor.id);
        starts.then(|| take_executor(state, class, agent))
    });
    state.count_on_agent(agent, class.group);
    if class.claims {
        state.tables_mut().claim(agent, class.group);
    }
    Granted { resources, ports, executor }
}

/// Takes what the class's executor asks from `agent` (it is not there yet), in accepted roles.
/// Executors are rare: this allocates, unlike the task's part.
fn take_executor(state: &mut PassState, class: &TaskClass, agent: AgentIx) -> Arc<[Allocation]> {
    let Some(executor) = &class.executor else { return Arc::from([]) };
    let mut split = Vec::new();
    let mut out = Vec::new();
    for (i, &(dim, amount)) in executor.ask.iter().enumerate() {
        split.clear();
        state.tables.take(agent, dim, &class.roles, amount, &mut split);
        out.extend(split.iter().map(|&(role, part)| Allocation {
            name: executor.ask_names[i].clone(),
            role: state.tables.role_value(role).clone(),
            amount: Quantity::from_milli(part as u64),
        }));
    }
    Arc::from(out)
}

/// Takes the specific ports, then the lowest free ones, from accepted roles in order.
fn take_ports(state: &mut PassState, class: &TaskClass, agent: AgentIx) -> GrantedPorts {
    let total = class.ports.total() as usize;
    if total == 0 {
        return GrantedPorts::new();
    }
    let (sets, role_values) = state.tables_mut().ports_mut(agent);
    let mut given = GrantedPorts::with_capacity(total);
    for &port in &class.ports.specific {
        for &role in &class.roles {
            if let Some((_, set)) = sets.iter_mut().find(|(r, _)| *r == role) {
                if set.remove(port) {
                    given.push((port, role_values[role.get()].clone()));
                    break;
                }
            }
        }
    }
    let mut left = class.ports.count;
    for &role in &class.roles {
        if left == 0 {
            break;
        }
        if let Some((_, set)) = sets.iter_mut().find(|(r, _)| *r == role) {
            let n = left.min(set.count());
            let role_value = &role_values[role.get()];
            if set.take_lowest_with(n, |port| given.push((port, role_value.clone()))) {
                left -= n;
            }
        }
    }
    given
}
