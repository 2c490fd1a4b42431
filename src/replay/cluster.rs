//! The simulated cluster behind a replay: agents' sizes and free amounts, the offers outstanding
//! on each, and the refuse filters of declines, as a Mesos master's allocator keeps them.
//!
//! An agent is offered what is free and not yet offered, as one new offer per allocation; a
//! launch consumes every offer it names (what it leaves is offered again at the next
//! allocation); a decline consumes the offer and refuses the agent's resources for a while
//! unless more than what was declined becomes free, as Mesos filters match subsets.

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;

use crate::model::{AgentId, Attributes, Offer, OfferId, OfferedResource, ResourceValue, Role};
use crate::queue::ResourceAmounts;
use crate::resources::Quantity;

/// One simulated agent.
#[derive(Debug)]
struct SimAgent {
    id: AgentId,
    hostname: Arc<str>,
    attributes: Attributes,
    /// Resource names, as the agent's size lists them.
    names: Vec<Arc<str>>,
    /// Size in thousandths, by name index.
    size: Vec<i64>,
    /// Free amounts in thousandths, by name index.
    free: Vec<i64>,
    /// Of `free`, the part in outstanding offers.
    offered: Vec<i64>,
    /// Refused until this time, for amounts up to `refused`.
    refused_until: Duration,
    refused: Vec<i64>,
    alive: bool,
}

/// Agents and their offers.
#[derive(Debug, Default)]
pub(super) struct SimCluster {
    agents: Vec<SimAgent>,
    index: FxHashMap<AgentId, usize>,
    /// Outstanding offers: owning agent and amounts by name index.
    outstanding: FxHashMap<OfferId, (usize, Vec<i64>)>,
    next_offer: u64,
    /// Offers made so far.
    pub offers_made: u64,
    /// Tasks started on an agent without room for them: a master would have refused them.
    pub overcommitted: u64,
}

impl SimCluster {
    /// Adds an agent of the size `whole` offers (its id and attributes too).
    pub fn add_agent(&mut self, whole: &Offer) {
        let mut names: Vec<Arc<str>> = Vec::new();
        let mut free: Vec<i64> = Vec::new();
        for r in &whole.resources {
            if let ResourceValue::Scalar(q) = &r.value {
                match names.iter().position(|n| *n == r.name) {
                    Some(i) => free[i] += q.milli(),
                    None => {
                        names.push(r.name.clone());
                        free.push(q.milli());
                    }
                }
            }
        }
        let n = names.len();
        let agent = SimAgent {
            id: whole.agent_id.clone(),
            hostname: whole.hostname.clone(),
            attributes: whole.attributes.clone(),
            names,
            size: free.clone(),
            free,
            offered: vec![0; n],
            refused_until: Duration::ZERO,
            refused: vec![0; n],
            alive: true,
        };
        self.index.insert(agent.id.clone(), self.agents.len());
        self.agents.push(agent);
    }

    /// The agent's hostname and attributes, for running tasks placed there.
    pub fn host(&self, agent: &AgentId) -> Option<(Arc<str>, Attributes)> {
        let a = &self.agents[*self.index.get(agent)?];
        Some((a.hostname.clone(), a.attributes.clone()))
    }

    /// The size of every alive agent together.
    pub fn total(&self) -> ResourceAmounts {
        let mut total = ResourceAmounts::new();
        for a in self.agents.iter().filter(|a| a.alive) {
            for (name, &size) in a.names.iter().zip(&a.size) {
                total.add(name, Quantity::from_milli(size.max(0) as u64));
            }
        }
        total
    }

    /// Whether the agent is known and alive.
    pub fn is_alive(&self, agent: &AgentId) -> bool {
        self.index.get(agent).is_some_and(|&i| self.agents[i].alive)
    }

    /// Takes `resources` off the agent's free amounts (a task starts there); negative `sign`
    /// gives them back (it ended). A task started without room, or on an unknown or lost
    /// agent, counts in [`SimCluster::overcommitted`].
    pub fn charge(&mut self, agent: &AgentId, resources: &[(Arc<str>, Quantity)], sign: i64) {
        let Some(a) = self.index.get(agent).map(|&i| &mut self.agents[i]).filter(|a| a.alive) else {
            self.overcommitted += u64::from(sign > 0);
            return;
        };
        let mut short = false;
        for (name, q) in resources {
            match a.names.iter().position(|n| n == name) {
                Some(d) => {
                    a.free[d] -= sign * q.milli();
                    short |= a.free[d] < 0;
                }
                None => short |= sign > 0 && q.milli() > 0,
            }
        }
        self.overcommitted += u64::from(sign > 0 && short);
    }

    /// New offers of what is free and not offered on every alive agent not refusing it.
    pub fn allocate(&mut self, now: Duration) -> Vec<Offer> {
        let mut out = Vec::new();
        for (i, a) in self.agents.iter_mut().enumerate() {
            if !a.alive {
                continue;
            }
            let spare = |d: usize| a.free[d] - a.offered[d];
            if (0..a.free.len()).all(|d| spare(d) <= 0) {
                continue;
            }
            if now < a.refused_until && (0..a.free.len()).all(|d| spare(d) <= a.refused[d]) {
                continue;
            }
            let spare: Vec<i64> = (0..a.free.len()).map(|d| spare(d).max(0)).collect();
            self.next_offer += 1;
            let id = OfferId::from(format!("replay-offer-{}", self.next_offer).as_str());
            let mut offer = Offer::new(id.clone(), a.id.clone(), &a.hostname);
            offer.hostname = a.hostname.clone();
            offer.attributes = a.attributes.clone();
            for (name, &amount) in a.names.iter().zip(&spare) {
                if amount > 0 {
                    offer.resources.push(OfferedResource {
                        name: name.clone(),
                        role: Role::unreserved(),
                        value: ResourceValue::Scalar(Quantity::from_milli(amount as u64)),
                    });
                }
            }
            for (o, s) in a.offered.iter_mut().zip(&spare) {
                *o += s;
            }
            self.outstanding.insert(id, (i, spare));
            self.offers_made += 1;
            out.push(offer);
        }
        out
    }

    /// The offer is gone from the framework (launched on, rescinded, expired): its amounts are
    /// no longer outstanding. False when it was not outstanding.
    pub fn consume(&mut self, id: &OfferId) -> bool {
        let Some((i, amounts)) = self.outstanding.remove(id) else {
            return false;
        };
        for (o, s) in self.agents[i].offered.iter_mut().zip(&amounts) {
            *o -= s;
        }
        true
    }

    /// The offer was declined: consumed, and what it held is refused until `until`.
    pub fn decline(&mut self, id: &OfferId, until: Duration) {
        let Some(&(i, ref amounts)) = self.outstanding.get(id) else {
            return;
        };
        let a = &mut self.agents[i];
        a.refused_until = until;
        a.refused.clone_from(amounts);
        self.consume(id);
    }

    /// Clears every refuse filter (a REVIVE).
    pub fn revive(&mut self) {
        for a in &mut self.agents {
            a.refused_until = Duration::ZERO;
        }
    }

    /// The agent's outstanding offers, now no longer outstanding (rescinded or lost).
    pub fn take_offers(&mut self, agent: &AgentId) -> Vec<OfferId> {
        let Some(&i) = self.index.get(agent) else {
            return Vec::new();
        };
        let mut ids: Vec<OfferId> =
            self.outstanding.iter().filter(|(_, (owner, _))| *owner == i).map(|(id, _)| id.clone()).collect();
        ids.sort();
        for id in &ids {
            self.consume(id);
        }
        ids
    }

    /// The agent is gone: no more offers from it. Returns its outstanding offers.
    pub fn lose(&mut self, agent: &AgentId) -> Vec<OfferId> {
        let ids = self.take_offers(agent);
        if let Some(&i) = self.index.get(agent) {
            self.agents[i].alive = false;
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent() -> Offer {
        Offer::new("whole", "a1", "h1").with_scalar("cpus", 4.0).unwrap().with_scalar("mem", 100.0).unwrap()
    }

    fn cpus(offer: &Offer) -> String {
        offer.scalar("cpus").to_string()
    }

    #[test]
    fn cluster_offers_what_is_free_once() {
        let mut c = SimCluster::default();
        c.add_agent(&agent());
        let first = c.allocate(Duration::ZERO);
        assert_eq!(first.len(), 1);
        assert_eq!(cpus(&first[0]), "4");
        assert!(c.allocate(Duration::ZERO).is_empty(), "all of it is outstanding");
        c.charge(&"a1".into(), &[(Arc::from("cpus"), Quantity::from_milli(1000))], 1);
        assert!(c.consume(&first[0].id));
        let second = c.allocate(Duration::ZERO);
        assert_eq!(cpus(&second[0]), "3", "the launch's remainder comes back");
    }

    #[test]
    fn cluster_decline_refuses_until_more_is_free() {
        let mut c = SimCluster::default();
        c.add_agent(&agent());
        let offer = c.allocate(Duration::ZERO).remove(0);
        c.decline(&offer.id, Duration::from_secs(5));
        assert!(c.allocate(Duration::from_secs(1)).is_empty(), "refused");
        assert_eq!(c.allocate(Duration::from_secs(5)).len(), 1, "the filter ran out");
        let again = c.take_offers(&"a1".into());
        c.decline(&again[0], Duration::from_secs(100));
        c.revive();
        assert_eq!(c.allocate(Duration::from_secs(6)).len(), 1, "a revive clears filters");
    }

    #[test]
    fn cluster_lost_agent_offers_nothing() {
        let mut c = SimCluster::default();
        c.add_agent(&agent());
        let offer = c.allocate(Duration::ZERO).remove(0);
        assert_eq!(c.lose(&"a1".into()), vec![offer.id]);
        assert!(!c.is_alive(&"a1".into()));
        assert!(c.allocate(Duration::ZERO).is_empty());
    }
}
