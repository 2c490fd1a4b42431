//! The status updates the agent has not acknowledged yet: kept in creation order, sent one at a
//! time per task (so a task's updates reach the agent in order), re-sent after a rejection, and
//! listed again in the next SUBSCRIBE.

use std::time::Duration;

use crate::mesos::v1::executor::call;
use crate::mesos::v1::TaskStatus;
use crate::util::SeededRng;

/// Identifies an UPDATE call handed to the shell, so its answer can be matched.
pub type CallId = u64;

/// 16 random bytes shaped as a version-4 UUID (version nibble 4, variant bits `10`).
pub fn uuid_v4(rng: &mut SeededRng) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

/// Where one pending update is in its delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delivery {
    /// Not sent on the current subscription yet.
    Waiting,
    /// Sent as this call; no answer yet.
    InFlight(CallId),
    /// Answered 2xx, or listed in a SUBSCRIBE: only the ACKNOWLEDGED is missing.
    Delivered,
    /// Refused or not sent; send again at this time.
    RetryAt(Duration),
}

#[derive(Clone, Debug)]
struct Pending {
    status: TaskStatus,
    delivery: Delivery,
}

/// The unacknowledged updates.
#[derive(Debug, Default)]
pub(super) struct Updates {
    pending: Vec<Pending>,
    next_call: CallId,
}

impl Updates {
    /// Adds a new update, to be sent when the link allows.
    pub(super) fn push(&mut self, status: TaskStatus) {
        self.pending.push(Pending { status, delivery: Delivery::Waiting });
    }

    /// Whether nothing is waiting for an acknowledgement.
    pub(super) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Every unacknowledged update, for a SUBSCRIBE; they all count as delivered from now on
    /// (answers to calls sent before are ignored).
    pub(super) fn for_subscribe(&mut self) -> Vec<call::Update> {
        self.pending
            .iter_mut()
            .map(|p| {
                p.delivery = Delivery::Delivered;
                call::Update { status: p.status.clone() }
            })
            .collect()
    }

    /// The updates to send now: those waiting (or due for a retry) whose task has no earlier
    /// update still undelivered. Each comes with the id of its call.
    pub(super) fn due(&mut self, now: Duration) -> Vec<(CallId, TaskStatus)> {
        let mut blocked: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for p in &mut self.pending {
            let task = p.status.task_id.value.as_str();
            let ready = match p.delivery {
                Delivery::Waiting => true,
                Delivery::RetryAt(at) => at <= now,
                Delivery::InFlight(_) => false,
                Delivery::Delivered => continue,
            };
            if ready && !blocked.contains(&task) {
                self.next_call += 1;
                p.delivery = Delivery::InFlight(self.next_call);
                out.push((self.next_call, p.status.clone()));
            }
            blocked.push(task);
        }
        out
    }

    /// Records the answer to call `id`: delivered, or to be retried at `retry_at`. Returns the
    /// task of the update, or `None` for a call no longer tracked.
    pub(super) fn answered(&mut self, id: CallId, accepted: bool, retry_at: Duration) -> Option<String> {
        let p = self.pending.iter_mut().find(|p| p.delivery == Delivery::InFlight(id))?;
        p.delivery = if accepted { Delivery::Delivered } else { Delivery::RetryAt(retry_at) };
        Some(p.status.task_id.value.clone())
    }

    /// Drops the update with this uuid; whether there was one.
    pub(super) fn acknowledge(&mut self, task_id: &str, uuid: &[u8]) -> bool {
        let before = self.pending.len();
        self.pending.retain(|p| !(p.status.task_id.value == task_id && p.status.uuid.as_deref() == Some(uuid)));
        self.pending.len() != before
    }

    /// The earliest retry time.
    pub(super) fn next_retry(&self) -> Option<Duration> {
        self.pending
            .iter()
            .filter_map(|p| match p.delivery {
                Delivery::RetryAt(at) => Some(at),
                _ => None,
            })
            .min()
    }
}
