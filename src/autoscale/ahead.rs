//! Asking for the heap-held parts of running tasks ahead of the walks that read them.
//!
//! The census and the dry pass's count walk every running task once, and each task keeps its
//! agent id, group and resources in allocations of their own: read in turn, each is a cache
//! miss that stalls the walk. Asked for some tasks ahead, the misses of the tasks coming next
//! overlap with the work on this one. The walks' results do not depend on it.

use crate::engine::prefetch::prefetch;
use crate::model::RunningTask;
use crate::pool::AgentOffers;

/// How many tasks ahead the resource names are asked for; the agent id and the resource list
/// (which the names are read from) twice as far ahead.
const AHEAD: usize = 8;

/// Asks for what the census reads of the tasks ahead of `at`: agent ids, resource lists and
/// their names.
#[inline]
pub(crate) fn census(tasks: &[&RunningTask], at: usize) {
    if let Some(far) = tasks.get(at + 2 * AHEAD) {
        prefetch(far.agent_id.as_str().as_ptr());
        prefetch(far.resources.as_ptr());
    }
    if let Some(near) = tasks.get(at + AHEAD) {
        for (name, _) in &near.resources {
            prefetch(name.as_ptr());
        }
    }
}

/// Asks for the group names of the tasks ahead of `at`.
#[inline]
pub(crate) fn groups(tasks: &[&RunningTask], at: usize) {
    if let Some(far) = tasks.get(at + 2 * AHEAD) {
        prefetch(far.group.as_str().as_ptr());
    }
}

/// Asks for what the census reads of the agents ahead of `at`: agent ids, attributes and the
/// value of `attribute` among them, the resources of their first offers.
#[inline]
pub(crate) fn agents(agents: &[AgentOffers<'_>], at: usize, attribute: &str) {
    if let Some(far) = agents.get(at + 2 * AHEAD) {
        prefetch(far.id().as_str().as_ptr());
        prefetch(far.attributes().storage());
        // The agent's first offer (most agents have one); the others would take a lookup.
        if let Some(first) = far.offers().next() {
            prefetch(first.resources.as_ptr());
        }
    }
    if let Some(near) = agents.get(at + AHEAD) {
        if let Some(value) = near.attributes().get(attribute) {
            prefetch(value.shared_text().as_ptr());
        }
    }
}
