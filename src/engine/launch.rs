//! Turning committed placements into launches: right away, or on a helper thread that takes
//! them in batches while placing goes on.
//!
//! Making a launch clones the task's id and group and the agent's id, hostname and offer ids.
//! On a large pass that memory has long gone cold, so this costs about a third of filling
//! agents, yet nothing placing decides depends on it. A pass allowed a second thread hands it
//! over; batches keep their order, so the launches, and the plan, are the same.

use std::sync::{mpsc, Arc};

use super::commit::Granted;
use super::handoff::receive_soon;
use super::prefetch::prefetch;
use super::state::PassState;
use crate::model::OfferId;
use crate::plan::Launch;
use crate::spec::TaskSpec;
use crate::tables::{AgentIdentity, AgentIx};

/// Placements sent to the helper at a time: one wake-up of the helper per 1,024 placements costs
/// nothing per placement, and the batch (about 80 KB) is still in cache when the helper reads it.
/// (Measured on 2 cores against batches of 256 with a helper polling instead of sleeping: as
/// fast, and steadier.)
const BATCH: usize = 1024;

/// A committed placement whose launch is still to be made.
#[derive(Debug)]
pub(crate) struct Placement {
    /// Position of the task in the pass's pending tasks.
    task: u32,
    agent: AgentIx,
    granted: Granted,
}

/// Where committed placements go.
#[derive(Debug)]
pub(crate) enum Launches {
    /// Launches made as placements come.
    Here(Vec<Launch>),
    /// Placements batched to a helper thread that makes the launches.
    Helper { batch: Vec<Placement>, send: mpsc::Sender<Vec<Placement>> },
}

impl Launches {
    /// Launches made here, with room for `capacity`.
    pub fn here(capacity: usize) -> Launches {
        Launches::Here(Vec::with_capacity(capacity))
    }

    /// Adds the launch of `pending[task]` on `agent`, which was granted `granted`.
    #[inline]
    pub fn push(&mut self, state: &mut PassState, pending: &[TaskSpec], task: usize, agent: AgentIx, granted: Granted) {
        match self {
            Launches::Here(launches) => {
                let shared_ids = &mut state.shared_offer_ids[agent.get()];
                launches.push(make(&pending[task], state.tables.identity(agent), shared_ids, granted));
            }
            Launches::Helper { batch, send } => {
                batch.push(Placement { task: task as u32, agent, granted });
                if batch.len() == BATCH {
                    // The helper stops early only by panicking, which its join reports.
                    let _ = send.send(std::mem::replace(batch, Vec::with_capacity(BATCH)));
                }
            }
        }
    }

    /// Hands over the placements batched so far, so that the helper makes their launches while
    /// this thread goes on with other work (explanations).
    pub fn flush(&mut self) {
        if let Launches::Helper { batch, send } = self {
            if !batch.is_empty() {
                let _ = send.send(std::mem::take(batch));
            }
        }
    }

    /// Starts loading what the launches made here soon read: the id and group of `next`, and
    /// the task `after` it. On a large pass all of it is cold.
    #[inline]
    pub fn read_ahead(&self, next: &TaskSpec, after: Option<&TaskSpec>) {
        if let Launches::Here(_) = self {
            read_ahead(next);
            if let Some(after) = after {
                prefetch(after);
            }
        }
    }

    /// The launches made here; empty for a helper's (see [`with_helper`]).
    pub fn into_vec(self) -> Vec<Launch> {
        match self {
            Launches::Here(launches) => launches,
            Launches::Helper { .. } => Vec::new(),
        }
    }
}

/// Runs `place` with a helper thread making the launches of what it commits; returns what
/// `place` returns and the launches, in the order they were committed.
pub(crate) fn with_helper<R>(
    state: &mut PassState,
    pending: &[TaskSpec],
    place: impl FnOnce(&mut PassState, &mut Launches) -> R,
) -> (R, Vec<Launch>) {
    let identities = Arc::clone(state.identities());
    let mut shared_ids = std::mem::take(&mut state.shared_offer_ids);
    let (result, launches) = std::thread::scope(|scope| {
        let (send, receive) = mpsc::channel::<Vec<Placement>>();
        let (identities, shared_ids) = (&*identities, &mut shared_ids);
        let helper = scope.spawn(move || {
            let mut launches = Vec::with_capacity(pending.len());
            let mut tasks: Vec<u32> = Vec::with_capacity(BATCH);
            while let Some(batch) = receive_soon(&receive) {
                tasks.clear();
                tasks.extend(batch.iter().map(|p| p.task));
                for (i, Placement { task, agent, granted }) in batch.into_iter().enumerate() {
                    // The task spec four launches ahead, the id and group two ahead (read from
                    // the spec fetched two launches ago).
                    if let Some(&later) = tasks.get(i + 4) {
                        prefetch(&pending[later as usize]);
                    }
                    if let Some(&next) = tasks.get(i + 2) {
                        read_ahead(&pending[next as usize]);
                    }
                    let a = agent.get();
                    launches.push(make(&pending[task as usize], &identities[a], &mut shared_ids[a], granted));
                }
            }
            launches
        });
        let mut launches = Launches::Helper { batch: Vec::with_capacity(BATCH), send };
        let result = place(state, &mut launches);
        launches.flush();
        drop(launches);
        match helper.join() {
            Ok(made) => (result, made),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    state.shared_offer_ids = shared_ids;
    (result, launches)
}

/// Starts loading `task`'s id and group, whose reference counts its launch bumps.
#[inline]
fn read_ahead(task: &TaskSpec) {
    prefetch(task.id.as_str());
    prefetch(task.group.as_str());
}

/// The launch of `task` on `agent`; the agent's offer ids are shared by every launch on it.
#[inline]
fn make(task: &TaskSpec, agent: &AgentIdentity, shared_ids: &mut Option<Arc<[OfferId]>>, granted: Granted) -> Launch {
    Launch {
        task_id: task.id.clone(),
        group: task.group.clone(),
        agent_id: agent.id.clone(),
        hostname: agent.hostname.clone(),
        offer_ids: shared_ids.get_or_insert_with(|| Arc::from(agent.offer_ids.as_slice())).clone(),
        resources: granted.resources,
        ports: granted.ports,
        executor_id: task.executor.as_ref().map(|e| e.id.clone()),
        executor_resources: granted.executor,
    }
}
