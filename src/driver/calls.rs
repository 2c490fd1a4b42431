//! Which queued calls may be on the wire together.
//!
//! The session hands out calls in order; the driver sends up to
//! [`FrameworkConfig::calls_in_flight`](super::FrameworkConfig::calls_in_flight) of them at
//! once, each on its own request over the client's pool of keep-alive connections. Every call
//! falls in a [`Lane`] that says what it must not overtake:
//!
//! - `ACKNOWLEDGE` of task *t*: never starts while an earlier acknowledgement of *t* is queued
//!   or in flight. Mesos (and the simulated master) send a task's next update only once the
//!   previous one is acknowledged, and ignore an acknowledgement whose uuid is not the
//!   outstanding one, so a reordering could only let a stale duplicate go last — harmless. The
//!   order is kept anyway: it costs nothing (two acknowledgements of one task are rarely queued
//!   together) and keeps the wire in the order the session decided.
//! - `ACCEPT` and `DECLINE`: independent of every other call (each names its own offers).
//! - `TEARDOWN`: starts as soon as the calls on the wire are answered, ahead of the queued ones,
//!   and nothing starts after it. The master forgets the framework and its tasks, which makes
//!   queued calls moot (the session stops once it is answered, and the driver drops them);
//!   waiting for a backlog of acknowledgements first would only delay it.
//! - Everything else (`SUPPRESS`, `REVIVE`, `KILL`, `RECONCILE`, …) is a barrier: it starts
//!   once every earlier call has been answered, and nothing later starts before it is answered.
//!   A REVIVE then SUPPRESS must reach the master in that order, and a KILL must not overtake
//!   the ACCEPT launching its task.

use std::collections::{HashSet, VecDeque};

use bytes::Bytes;

use crate::mesos::v1::scheduler::{call, Call};
use crate::session::CallId;

/// How many queued calls past the first are looked at for one that may start, so that a long
/// queue of blocked acknowledgements costs a bounded scan.
const LOOKAHEAD: usize = 256;

/// What a call must not overtake (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lane {
    /// Independent of every other call.
    Free,
    /// In order with the other calls of this task.
    Task(String),
    /// In order with every call.
    Barrier,
    /// Ahead of every queued call, after those on the wire; the last call sent.
    Last,
}

impl Lane {
    /// The lane of `call`, from its type.
    pub(crate) fn of(call: &Call) -> Lane {
        match call.r#type.and_then(|t| call::Type::try_from(t).ok()) {
            Some(call::Type::Accept | call::Type::Decline) => Lane::Free,
            Some(call::Type::Teardown) => Lane::Last,
            Some(call::Type::Acknowledge) => match &call.acknowledge {
                Some(ack) => Lane::Task(ack.task_id.value.clone()),
                None => Lane::Barrier,
            },
            _ => Lane::Barrier,
        }
    }
}

/// One call waiting to be sent.
#[derive(Debug)]
struct Queued {
    id: CallId,
    lane: Lane,
    body: Bytes,
}

/// The calls queued and in flight, and the rule for starting the next (sans-IO: the driver
/// owns the requests).
#[derive(Debug)]
pub(crate) struct CallQueue {
    queue: VecDeque<Queued>,
    /// A queued TEARDOWN (it goes ahead of the queue).
    last: Option<Queued>,
    /// Calls on the wire, with their lanes.
    in_flight: Vec<(CallId, Lane)>,
    /// Tasks with an acknowledgement on the wire.
    busy: HashSet<String>,
    limit: usize,
}

impl CallQueue {
    /// A queue sending at most `limit` calls at once (at least one).
    pub(crate) fn new(limit: usize) -> CallQueue {
        CallQueue {
            queue: VecDeque::new(),
            last: None,
            in_flight: Vec::new(),
            busy: HashSet::new(),
            limit: limit.max(1),
        }
    }

    /// Queues a call behind the others.
    pub(crate) fn push(&mut self, id: CallId, lane: Lane, body: Bytes) {
        let queued = Queued { id, lane, body };
        match queued.lane {
            // A second TEARDOWN waits behind the first, in the queue.
            Lane::Last if self.last.is_none() => self.last = Some(queued),
            _ => self.queue.push_back(queued),
        }
    }

    /// Calls on the wire.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// The next call allowed to start now, taken from the queue and counted in flight.
    pub(crate) fn next_ready(&mut self) -> Option<(CallId, Bytes)> {
        let alone = |lane: &Lane| matches!(lane, Lane::Barrier | Lane::Last);
        if self.in_flight.len() >= self.limit || self.in_flight.iter().any(|(_, lane)| alone(lane)) {
            return None;
        }
        let queued = if self.last.is_some() {
            if !self.in_flight.is_empty() {
                return None;
            }
            self.last.take()?
        } else {
            let index = self.ready_index()?;
            self.queue.remove(index)?
        };
        if let Lane::Task(task) = &queued.lane {
            self.busy.insert(task.clone());
        }
        self.in_flight.push((queued.id, queued.lane));
        Some((queued.id, queued.body))
    }

    /// The first queued call that may start, looking at most [`LOOKAHEAD`] calls deep.
    fn ready_index(&self) -> Option<usize> {
        // Tasks with an acknowledgement queued ahead of the one looked at.
        let mut waiting: Vec<&str> = Vec::new();
        for (index, queued) in self.queue.iter().enumerate().take(LOOKAHEAD) {
            match &queued.lane {
                Lane::Barrier | Lane::Last => return (index == 0 && self.in_flight.is_empty()).then_some(0),
                Lane::Free => return Some(index),
                Lane::Task(task) => {
                    if !self.busy.contains(task) && !waiting.contains(&task.as_str()) {
                        return Some(index);
                    }
                    waiting.push(task);
                }
            }
        }
        None
    }

    /// A call in flight was answered (or given up); false for one not in flight.
    pub(crate) fn finished(&mut self, id: CallId) -> bool {
        let Some(index) = self.in_flight.iter().position(|(i, _)| *i == id) else {
            return false;
        };
        let (_, lane) = self.in_flight.swap_remove(index);
        if let Lane::Task(task) = lane {
            self.busy.remove(&task);
        }
        true
    }

    /// Forgets every call: those that were in flight (in the order they were handed out) and
    /// those still queued (in order).
    pub(crate) fn clear(&mut self) -> (Vec<CallId>, Vec<CallId>) {
        let mut in_flight: Vec<CallId> = self.in_flight.drain(..).map(|(id, _)| id).collect();
        in_flight.sort_unstable();
        self.busy.clear();
        let mut queued: Vec<CallId> = self.last.take().map(|q| q.id).into_iter().collect();
        queued.extend(self.queue.drain(..).map(|q| q.id));
        queued.sort_unstable();
        (in_flight, queued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue_of(limit: usize, lanes: &[Lane]) -> CallQueue {
        let mut queue = CallQueue::new(limit);
        for (i, lane) in lanes.iter().enumerate() {
            queue.push(CallId(i as u64), lane.clone(), Bytes::new());
        }
        queue
    }

    fn start_all(queue: &mut CallQueue) -> Vec<u64> {
        std::iter::from_fn(|| queue.next_ready().map(|(id, _)| id.0)).collect()
    }

    fn task(name: &str) -> Lane {
        Lane::Task(name.to_owned())
    }

    #[test]
    fn call_queue_starts_distinct_tasks_together_up_to_the_limit() {
        let mut queue = queue_of(3, &[task("a"), task("b"), Lane::Free, task("c")]);
        assert_eq!(start_all(&mut queue), [0, 1, 2]);
        assert!(queue.finished(CallId(1)));
        assert_eq!(start_all(&mut queue), [3]);
        assert_eq!(queue.in_flight(), 3);
    }

    #[test]
    fn call_queue_keeps_one_task_in_order() {
        let mut queue = queue_of(8, &[task("a"), task("a"), task("b"), task("a")]);
        assert_eq!(start_all(&mut queue), [0, 2]);
        assert!(queue.finished(CallId(2)));
        assert_eq!(start_all(&mut queue), Vec::<u64>::new(), "the second ack of a waits for the first");
        assert!(queue.finished(CallId(0)));
        assert_eq!(start_all(&mut queue), [1]);
        assert!(queue.finished(CallId(1)));
        assert_eq!(start_all(&mut queue), [3]);
    }

    #[test]
    fn call_queue_runs_barriers_alone() {
        let mut queue = queue_of(8, &[task("a"), Lane::Barrier, Lane::Free, task("b")]);
        assert_eq!(start_all(&mut queue), [0], "nothing passes a queued barrier");
        assert!(queue.finished(CallId(0)));
        assert_eq!(start_all(&mut queue), [1]);
        assert!(queue.finished(CallId(1)));
        assert_eq!(start_all(&mut queue), [2, 3]);
    }

    #[test]
    fn call_queue_sends_teardown_ahead_of_the_queue_and_last() {
        let mut queue = queue_of(8, &[task("a"), task("a"), Lane::Free, Lane::Last, task("b")]);
        assert_eq!(start_all(&mut queue), [3], "the teardown goes first, alone");
        let mut queue = queue_of(8, &[task("a"), task("a"), Lane::Free]);
        assert_eq!(start_all(&mut queue), [0, 2]);
        queue.push(CallId(3), Lane::Last, Bytes::new());
        queue.push(CallId(4), task("b"), Bytes::new());
        assert_eq!(start_all(&mut queue), Vec::<u64>::new(), "the teardown waits for the wire, nothing passes it");
        assert!(queue.finished(CallId(0)) && queue.finished(CallId(2)));
        assert_eq!(start_all(&mut queue), [3], "ahead of the queued acknowledgements");
        assert!(queue.finished(CallId(3)));
        assert_eq!(queue.clear(), (vec![], vec![CallId(1), CallId(4)]));
    }

    #[test]
    fn call_queue_clear_reports_in_flight_then_queued() {
        let mut queue = queue_of(2, &[task("a"), Lane::Free, task("b")]);
        assert_eq!(start_all(&mut queue), [0, 1]);
        assert!(!queue.finished(CallId(7)));
        assert_eq!(queue.clear(), (vec![CallId(0), CallId(1)], vec![CallId(2)]));
        assert_eq!(queue.in_flight(), 0);
        assert!(queue.next_ready().is_none());
    }

    #[test]
    fn lane_of_calls_by_type() {
        use crate::mesos::v1;
        let ack = Call {
            r#type: Some(call::Type::Acknowledge as i32),
            acknowledge: Some(call::Acknowledge {
                agent_id: v1::AgentId { value: "a-1".into() },
                task_id: v1::TaskId { value: "t-1".into() },
                uuid: vec![1; 16],
            }),
            ..Default::default()
        };
        assert_eq!(Lane::of(&ack), task("t-1"));
        let of = |kind: call::Type| Lane::of(&Call { r#type: Some(kind as i32), ..Default::default() });
        assert_eq!(of(call::Type::Accept), Lane::Free);
        assert_eq!(of(call::Type::Decline), Lane::Free);
        assert_eq!(of(call::Type::Revive), Lane::Barrier);
        assert_eq!(of(call::Type::Teardown), Lane::Last);
        assert_eq!(of(call::Type::Acknowledge), Lane::Barrier, "an ack without its body is kept in order");
    }
}
