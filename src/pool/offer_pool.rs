//! [`OfferPool`]: offers keyed by id and grouped per agent.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::time::Duration;

use priority_queue::PriorityQueue;

use rustc_hash::FxHashMap;

use super::PoolError;
use crate::model::{AgentId, Attributes, Offer, OfferId};
use crate::Plan;

#[derive(Debug, Clone)]
struct Held {
    offer: Offer,
    expires_at: Duration,
}

/// Offers held for scheduling, combined per agent.
///
/// ```
/// use std::time::Duration;
/// use offerpack::{Offer, OfferPool};
/// let mut pool = OfferPool::new(Duration::from_secs(30));
/// let now = Duration::ZERO;
/// pool.add(Offer::new("o1", "a1", "h1").with_scalar("cpus", 2.0).unwrap(), now).unwrap();
/// pool.add(Offer::new("o2", "a1", "h1").with_scalar("cpus", 1.0).unwrap(), now).unwrap();
/// assert_eq!(pool.agents_at(now).count(), 1);
/// let expired = pool.expire(Duration::from_secs(30));
/// assert_eq!(expired.len(), 2);
/// assert!(pool.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct OfferPool {
    hold: Duration,
    offers: FxHashMap<OfferId, Held>,
    /// Offer ids per agent, sorted.
    by_agent: BTreeMap<AgentId, Vec<OfferId>>,
    /// Offers by expiry, soonest first: the next deadline in O(1), expiries in O(k log n).
    expiries: PriorityQueue<OfferId, Reverse<Duration>>,
}

impl OfferPool {
    /// An empty pool that holds each offer for `hold` before it expires.
    pub fn new(hold: Duration) -> OfferPool {
        OfferPool { hold, offers: FxHashMap::default(), by_agent: BTreeMap::new(), expiries: PriorityQueue::new() }
    }

    /// How long an offer is held.
    pub fn hold(&self) -> Duration {
        self.hold
    }

    /// Number of offers held.
    pub fn len(&self) -> usize {
        self.offers.len()
    }

    /// Whether no offer is held.
    pub fn is_empty(&self) -> bool {
        self.offers.is_empty()
    }

    /// The offer with this id.
    pub fn get(&self, id: &OfferId) -> Option<&Offer> {
        self.offers.get(id).map(|h| &h.offer)
    }

    /// Adds an offer received at `now`; it expires at `now + hold`.
    pub fn add(&mut self, offer: Offer, now: Duration) -> Result<(), PoolError> {
        if self.offers.contains_key(&offer.id) {
            return Err(PoolError::DuplicateOffer(offer.id));
        }
        let ids = self.by_agent.entry(offer.agent_id.clone()).or_default();
        let at = ids.partition_point(|id| *id < offer.id);
        ids.insert(at, offer.id.clone());
        let expires_at = now.saturating_add(self.hold);
        self.expiries.push(offer.id.clone(), Reverse(expires_at));
        self.offers.insert(offer.id.clone(), Held { offer, expires_at });
        Ok(())
    }

    /// Removes a rescinded offer at once.
    pub fn rescind(&mut self, id: &OfferId) -> Result<Offer, PoolError> {
        self.take(id).ok_or_else(|| PoolError::UnknownOffer(id.clone()))
    }

    /// Removes every offer of an agent (the agent was lost); returns them sorted by id.
    pub fn remove_agent(&mut self, agent: &AgentId) -> Vec<Offer> {
        let ids = self.by_agent.get(agent).cloned().unwrap_or_default();
        ids.iter().filter_map(|id| self.take(id)).collect()
    }

    /// Removes and returns the offers whose hold has run out at `now`, sorted by id.
    pub fn expire(&mut self, now: Duration) -> Vec<Offer> {
        let mut ids = Vec::new();
        while let Some((_, Reverse(at))) = self.expiries.peek() {
            if *at > now {
                break;
            }
            if let Some((id, _)) = self.expiries.pop() {
                ids.push(id);
            }
        }
        ids.sort();
        ids.iter().filter_map(|id| self.take(id)).collect()
    }

    /// Ids of the offers whose hold has run out at `now` (still held), sorted.
    pub fn expired_ids(&self, now: Duration) -> Vec<OfferId> {
        if self.next_expiry().is_none_or(|first| first > now) {
            return Vec::new();
        }
        let mut ids: Vec<OfferId> =
            self.offers.iter().filter(|(_, h)| h.expires_at <= now).map(|(id, _)| id.clone()).collect();
        ids.sort();
        ids
    }

    /// When the next offer expires, for the caller's timer.
    pub fn next_expiry(&self) -> Option<Duration> {
        self.expiries.peek().map(|(_, Reverse(at))| *at)
    }

    /// Agents with at least one offer still live at `now`, sorted by agent id.
    pub fn agents_at(&self, now: Duration) -> impl Iterator<Item = AgentOffers<'_>> {
        self.by_agent.iter().filter_map(move |(id, ids)| {
            let (at, first) = ids.iter().enumerate().find_map(|(at, o)| Some((at, self.live(o, now)?)))?;
            Some(AgentOffers { pool: self, id, ids: &ids[at + 1..], first, now })
        })
    }

    /// Whether an offer is held and not expired at `now`.
    pub fn is_live(&self, id: &OfferId, now: Duration) -> bool {
        self.live(id, now).is_some()
    }

    /// Removes every offer a plan launched on, declined or found expired.
    ///
    /// All-or-nothing: if the plan names an offer the pool does not hold (a stale plan), nothing
    /// is removed and the error names that offer.
    pub fn settle(&mut self, plan: &Plan) -> Result<(), PoolError> {
        let ids = plan.consumed_offer_ids();
        if let Some(missing) = ids.iter().find(|id| !self.offers.contains_key(**id)) {
            return Err(PoolError::UnknownOffer((*missing).clone()));
        }
        for id in ids {
            self.take(id);
        }
        Ok(())
    }

    /// The live offers of one agent at `now`, sorted by id.
    pub(crate) fn offers_of(&self, agent: &AgentId, now: Duration) -> Vec<&Offer> {
        self.by_agent.get(agent).map_or(&[][..], Vec::as_slice).iter().filter_map(|id| self.live(id, now)).collect()
    }

    /// Removes one offer (used or declined by a plan), if held.
    pub(crate) fn remove(&mut self, id: &OfferId) -> Option<Offer> {
        self.take(id)
    }

    fn live(&self, id: &OfferId, now: Duration) -> Option<&Offer> {
        self.offers.get(id).filter(|h| h.expires_at > now).map(|h| &h.offer)
    }

    fn take(&mut self, id: &OfferId) -> Option<Offer> {
        let held = self.offers.remove(id)?;
        self.expiries.remove(id);
        if let Some(ids) = self.by_agent.get_mut(&held.offer.agent_id) {
            ids.retain(|o| o != id);
            if ids.is_empty() {
                self.by_agent.remove(&held.offer.agent_id);
            }
        }
        Some(held.offer)
    }
}

/// One agent's live offers, as the pass sees them.
#[derive(Debug, Clone, Copy)]
pub struct AgentOffers<'a> {
    pool: &'a OfferPool,
    id: &'a AgentId,
    /// The agent's live offer with the smallest id.
    first: &'a Offer,
    /// The agent's offer ids after `first`'s, sorted, not yet checked for expiry.
    ids: &'a [OfferId],
    now: Duration,
}

impl<'a> AgentOffers<'a> {
    /// The agent id.
    pub fn id(&self) -> &'a AgentId {
        self.id
    }

    /// Hostname, from the agent's offer with the smallest id.
    pub fn hostname(&self) -> &'a str {
        &self.first.hostname
    }

    /// Attributes, from the agent's offer with the smallest id.
    pub fn attributes(&self) -> &'a Attributes {
        &self.first.attributes
    }

    /// The agent's live offers, sorted by id.
    pub fn offers(&self) -> impl Iterator<Item = &'a Offer> + 'a {
        let (pool, now) = (self.pool, self.now);
        std::iter::once(self.first).chain(self.ids.iter().filter_map(move |id| pool.live(id, now)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(id: &str, agent: &str) -> Offer {
        Offer::new(id, agent, agent).with_scalar("cpus", 1.0).unwrap()
    }

    #[test]
    fn pool_rejects_duplicate_and_unknown_offers() {
        let mut pool = OfferPool::new(Duration::from_secs(10));
        pool.add(offer("o1", "a"), Duration::ZERO).unwrap();
        assert_eq!(pool.add(offer("o1", "a"), Duration::ZERO), Err(PoolError::DuplicateOffer("o1".into())));
        assert_eq!(pool.rescind(&"nope".into()), Err(PoolError::UnknownOffer("nope".into())));
        assert_eq!(pool.rescind(&"o1".into()).unwrap().id.as_str(), "o1");
        assert!(pool.is_empty());
        assert_eq!(pool.agents_at(Duration::ZERO).count(), 0);
    }

    #[test]
    fn pool_expires_only_due_offers() {
        let mut pool = OfferPool::new(Duration::from_secs(10));
        pool.add(offer("o1", "a"), Duration::ZERO).unwrap();
        pool.add(offer("o2", "b"), Duration::from_secs(5)).unwrap();
        assert_eq!(pool.next_expiry(), Some(Duration::from_secs(10)));
        let live: Vec<_> = pool.agents_at(Duration::from_secs(10)).map(|a| a.id().clone()).collect();
        assert_eq!(live, vec![AgentId::from("b")]);
        let gone = pool.expire(Duration::from_secs(10));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].id.as_str(), "o1");
        assert_eq!(pool.len(), 1);
    }

    #[test]
    fn pool_combines_offers_per_agent_in_id_order() {
        let mut pool = OfferPool::new(Duration::from_secs(10));
        pool.add(offer("o2", "a"), Duration::ZERO).unwrap();
        pool.add(offer("o1", "a"), Duration::ZERO).unwrap();
        pool.add(offer("o3", "b"), Duration::ZERO).unwrap();
        let agents: Vec<_> = pool.agents_at(Duration::ZERO).collect();
        assert_eq!(agents.len(), 2);
        let ids: Vec<_> = agents[0].offers().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["o1", "o2"]);
        assert_eq!(pool.remove_agent(&"a".into()).len(), 2);
        assert_eq!(pool.len(), 1);
    }
}
