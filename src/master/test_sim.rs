//! A master core on a virtual clock for the unit tests: calls go in, outputs are collected,
//! time moves only when a test moves it.

use std::time::Duration;

use super::*;
use crate::mesos::v1::scheduler::{Call, Event};

/// The core, the virtual time and the outputs not yet taken.
pub(super) struct Sim {
    pub(super) core: MasterCore,
    pub(super) now: Duration,
    pub(super) outputs: Vec<Output>,
}

impl Sim {
    /// A core listening (nominally) on 127.0.0.1:5050, at time zero.
    pub(super) fn new(config: MasterConfig) -> Sim {
        Sim { core: MasterCore::new(config, "127.0.0.1:5050".parse().unwrap()), now: Duration::ZERO, outputs: vec![] }
    }

    /// Collects the core's pending outputs.
    pub(super) fn drain(&mut self) {
        while let Some(o) = self.core.poll_output() {
            self.outputs.push(o);
        }
    }

    /// A scheduler API call on `stream_id`'s behalf.
    pub(super) fn call(&mut self, c: Call, stream_id: Option<&str>) -> CallOutcome {
        let outcome = self.core.handle_call(self.now, c, stream_id);
        self.drain();
        outcome
    }

    /// An agent API call.
    pub(super) fn agent_call(&mut self, c: crate::mesos::agent_api::Call) -> AgentAnswer {
        let answer = self.core.handle_agent_call(self.now, c);
        self.drain();
        answer
    }

    /// Jumps to `now` and fires whatever is due.
    pub(super) fn at(&mut self, now: Duration) {
        self.now = now;
        self.core.handle_timeout(now);
        self.drain();
    }

    /// Runs every timer due within `d`, in order.
    pub(super) fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        while let Some(at) = self.core.poll_timeout().filter(|at| *at <= until) {
            self.now = self.now.max(at);
            self.core.handle_timeout(self.now);
            self.drain();
        }
        self.now = until;
    }

    /// Takes the events written to `stream` so far.
    pub(super) fn events(&mut self, stream: StreamKey) -> Vec<Event> {
        let (mine, rest): (Vec<_>, Vec<_>) =
            self.outputs.drain(..).partition(|o| matches!(o, Output::Event { stream: s, .. } if *s == stream));
        self.outputs = rest;
        mine.into_iter()
            .filter_map(|o| match o {
                Output::Event { event, .. } => Some(event),
                Output::Agent { .. } | Output::Close { .. } => None,
            })
            .collect()
    }

    /// Takes the agent API events written to `stream` so far.
    pub(super) fn agent_events(&mut self, stream: StreamKey) -> Vec<crate::mesos::agent_api::Event> {
        let (mine, rest): (Vec<_>, Vec<_>) =
            self.outputs.drain(..).partition(|o| matches!(o, Output::Agent { stream: s, .. } if *s == stream));
        self.outputs = rest;
        mine.into_iter().filter_map(|o| if let Output::Agent { event, .. } = o { Some(event) } else { None }).collect()
    }

    /// Whether `stream` was closed.
    pub(super) fn closed(&self, stream: StreamKey) -> bool {
        self.outputs.contains(&Output::Close { stream })
    }
}
