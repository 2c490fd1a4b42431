//! What the session knows of each agent: hostname, attributes and resources, learnt from every
//! offer and from the master's operator API.
//!
//! Hard constraints count a framework's running tasks per attribute value, so the engine must
//! be told where every running task is — also once its agent is full and offered no more. The
//! book outlives offers: an agent's record stays while the framework has tasks on it or offers
//! from it, and goes with the last of both ([`AgentBook::retain`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::{AgentId, Attributes, Offer, ResourceValue};
use crate::resources::Quantity;

/// One agent as the session knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct KnownAgent {
    /// The agent's hostname.
    pub hostname: Arc<str>,
    /// The agent's attributes (as its offers carry them).
    pub attributes: Attributes,
    /// The agent's total scalar resources, from the operator API (`GET_AGENTS`); empty when
    /// only offers were seen.
    pub total: Vec<(Arc<str>, Quantity)>,
    /// The largest amount of each scalar resource one offer of the agent held: a lower bound of
    /// its size when `total` is unknown.
    pub largest_offer: Vec<(Arc<str>, Quantity)>,
}

/// Known agents by id.
#[derive(Clone, Debug, Default)]
pub(crate) struct AgentBook {
    known: BTreeMap<AgentId, KnownAgent>,
}

impl AgentBook {
    /// Learns (or refreshes) an agent from one of its offers; true when its hostname and
    /// attributes were unknown or changed.
    pub fn learn_offer(&mut self, offer: &Offer) -> bool {
        let mut changed = false;
        let record = self.known.entry(offer.agent_id.clone()).or_insert_with(|| {
            changed = true;
            KnownAgent {
                hostname: offer.hostname.clone(),
                attributes: offer.attributes.clone(),
                total: Vec::new(),
                largest_offer: Vec::new(),
            }
        });
        if record.hostname != offer.hostname || record.attributes != offer.attributes {
            // An agent that re-registered with other attributes: the offer is the latest word.
            record.hostname = offer.hostname.clone();
            record.attributes = offer.attributes.clone();
            changed = true;
        }
        for r in &offer.resources {
            if let ResourceValue::Scalar(q) = r.value {
                raise(&mut record.largest_offer, &r.name, q);
            }
        }
        changed
    }

    /// Learns an agent as the operator API describes it; true when its hostname and
    /// attributes were unknown or changed.
    pub fn learn_agent(
        &mut self,
        id: AgentId,
        hostname: Arc<str>,
        attributes: Attributes,
        total: Vec<(Arc<str>, Quantity)>,
    ) -> bool {
        match self.known.get_mut(&id) {
            Some(record) => {
                let changed = record.hostname != hostname || record.attributes != attributes;
                record.hostname = hostname;
                record.attributes = attributes;
                record.total = total;
                changed
            }
            None => {
                self.known.insert(id, KnownAgent { hostname, attributes, total, largest_offer: Vec::new() });
                true
            }
        }
    }

    /// The record of an agent.
    pub fn get(&self, id: &AgentId) -> Option<&KnownAgent> {
        self.known.get(id)
    }

    /// Hostname and attributes of an agent, as a running task's `host`.
    pub fn host(&self, id: &AgentId) -> Option<(Arc<str>, Attributes)> {
        self.known.get(id).map(|a| (a.hostname.clone(), a.attributes.clone()))
    }

    /// Whether the agent is known.
    pub fn knows(&self, id: &AgentId) -> bool {
        self.known.contains_key(id)
    }

    /// Number of agents known.
    pub fn len(&self) -> usize {
        self.known.len()
    }

    /// Keeps only the agents `keep` says are still needed.
    pub fn retain(&mut self, mut keep: impl FnMut(&AgentId) -> bool) {
        self.known.retain(|id, _| keep(id));
    }
}

/// Raises the amount of `name` in `amounts` to at least `q`.
fn raise(amounts: &mut Vec<(Arc<str>, Quantity)>, name: &Arc<str>, q: Quantity) {
    match amounts.iter_mut().find(|(n, _)| n == name) {
        Some((_, old)) => *old = (*old).max(q),
        None => amounts.push((name.clone(), q)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(id: &str, agent: &str, zone: &str, cpus: f64) -> Offer {
        Offer::new(id, agent, "h1").with_scalar("cpus", cpus).unwrap().with_text_attribute("zone", zone)
    }

    #[test]
    fn agent_book_keeps_the_largest_offer_and_the_latest_attributes() {
        let mut book = AgentBook::default();
        book.learn_offer(&offer("o1", "a1", "x", 4.0));
        book.learn_offer(&offer("o2", "a1", "y", 2.0));
        let record = book.get(&AgentId::new("a1")).unwrap();
        assert_eq!(record.attributes.get("zone").unwrap().as_str(), "y");
        assert_eq!(record.largest_offer, vec![(Arc::from("cpus"), Quantity::from_milli(4000))]);
        let (host, attrs) = book.host(&AgentId::new("a1")).unwrap();
        assert_eq!((&*host, attrs.len()), ("h1", 1));
    }

    #[test]
    fn agent_book_forgets_what_retain_drops() {
        let mut book = AgentBook::default();
        book.learn_offer(&offer("o1", "a1", "x", 1.0));
        book.learn_agent(AgentId::new("a2"), Arc::from("h2"), Attributes::default(), Vec::new());
        book.retain(|id| id.as_str() == "a2");
        assert!(!book.knows(&AgentId::new("a1")));
        assert!(book.knows(&AgentId::new("a2")));
    }
}
