//! The soak's faults, drawn from its seed: every period one fault, the kinds taken in turns
//! from a seeded shuffle so that each kind recurs, each with seeded details (how many records
//! before a stream cut, how long the master answers 503, which agents are lost).
//! A fault that lasts ends one period later, before the next one starts.

use std::time::Duration;

use offerpack::master::{MasterHandle, StreamCut, Unavailable};
use offerpack::util::SeededRng;

/// The kinds of fault, in the order the report lists them.
pub const KINDS: [Kind; 5] =
    [Kind::StreamCut, Kind::Unavailable, Kind::AgentLoss, Kind::DuplicateUpdates, Kind::LeaderChange];

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Every event stream is cut after a few records (mid-record or not) until cleared.
    StreamCut,
    /// The master answers 503 for a while.
    Unavailable,
    /// Some agents are lost (their tasks LOST), then come back empty.
    AgentLoss,
    /// Every status update is sent twice for a while.
    DuplicateUpdates,
    /// A new leader is elected: streams end, offers are forgotten, 503 during the election.
    LeaderChange,
}

impl Kind {
    /// The name the report uses.
    pub fn name(self) -> &'static str {
        match self {
            Kind::StreamCut => "stream cut",
            Kind::Unavailable => "503s",
            Kind::AgentLoss => "agent loss",
            Kind::DuplicateUpdates => "duplicate updates",
            Kind::LeaderChange => "leader change",
        }
    }
}

/// The seeded schedule, and what is to be undone when the current fault ends.
#[derive(Debug)]
pub struct Faults {
    rng: SeededRng,
    order: Vec<Kind>,
    next: usize,
    agents: usize,
    /// Agents lost by the current fault, restored when it ends.
    lost: Vec<usize>,
    /// The current fault, if it lasts.
    current: Option<Kind>,
    /// Faults injected, per kind (in [`KINDS`] order).
    pub injected: [u32; KINDS.len()],
    /// Agents lost in all.
    pub agents_lost: u64,
}

impl Faults {
    /// A schedule for a master with `agents` agents.
    pub fn new(seed: u64, agents: usize) -> Faults {
        let mut rng = SeededRng::new(seed ^ 0x5eed_fa17);
        let mut order = KINDS.to_vec();
        shuffle(&mut rng, &mut order);
        Faults {
            rng,
            order,
            next: 0,
            agents,
            lost: Vec::new(),
            current: None,
            injected: [0; KINDS.len()],
            agents_lost: 0,
        }
    }

    /// Ends the current fault, then injects the next one; returns its description.
    pub async fn step(&mut self, master: &MasterHandle) -> String {
        self.end(master).await;
        if self.next == self.order.len() {
            shuffle(&mut self.rng, &mut self.order);
            self.next = 0;
        }
        let kind = self.order[self.next];
        self.next += 1;
        if let Some(i) = KINDS.iter().position(|k| *k == kind) {
            self.injected[i] += 1;
        }
        self.current = Some(kind);
        match kind {
            Kind::StreamCut => {
                let after_events = self.rng.below(40);
                let mid_record = self.rng.below(2) == 1;
                master.set_cut_streams(Some(StreamCut { after_events, mid_record })).await;
                format!("streams cut after {after_events} record(s){}", if mid_record { ", mid-record" } else { "" })
            }
            Kind::Unavailable => {
                let millis = 500 + self.rng.below(4_500);
                let text = if self.rng.below(2) == 0 { Unavailable::NoLeader } else { Unavailable::Recovering };
                master.set_unavailable(Some((Duration::from_millis(millis), text))).await;
                format!("503 for {:.1} s", millis as f64 / 1e3)
            }
            Kind::AgentLoss => {
                let count = 1 + self.rng.below(20) as usize;
                for _ in 0..count {
                    let agent = self.rng.below(self.agents as u64) as usize;
                    if master.lose_agent(agent).await {
                        self.lost.push(agent);
                    }
                }
                self.agents_lost += self.lost.len() as u64;
                format!("{} agent(s) lost", self.lost.len())
            }
            Kind::DuplicateUpdates => {
                master.set_duplicate_updates(true).await;
                "every update sent twice".to_owned()
            }
            Kind::LeaderChange => {
                let millis = 200 + self.rng.below(2_800);
                master.set_unavailable(Some((Duration::from_millis(millis), Unavailable::NoLeader))).await;
                master.change_leader().await;
                format!("new leader elected after a {:.1} s gap", millis as f64 / 1e3)
            }
        }
    }

    /// Undoes what the current fault left in place.
    pub async fn end(&mut self, master: &MasterHandle) {
        match self.current.take() {
            Some(Kind::StreamCut) => master.set_cut_streams(None).await,
            Some(Kind::DuplicateUpdates) => master.set_duplicate_updates(false).await,
            Some(Kind::AgentLoss) => {
                for agent in self.lost.drain(..) {
                    master.restore_agent(agent).await;
                }
            }
            Some(Kind::Unavailable | Kind::LeaderChange) | None => {}
        }
    }

    /// "stream cut 4, 503s 4, …".
    pub fn summary(&self) -> String {
        let parts: Vec<String> = KINDS.iter().zip(self.injected).map(|(k, n)| format!("{} {n}", k.name())).collect();
        parts.join(", ")
    }
}

/// Fisher–Yates with the seeded generator.
fn shuffle(rng: &mut SeededRng, items: &mut [Kind]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}
