//! [`OfferPool`]: offers keyed by id and grouped per agent.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::time::Duration;

use priority_queue::PriorityQueue;

use rustc_hash::{FxBuildHasher, FxHashMap};
use smallvec::{smallvec, SmallVec};

use super::PoolError;
use crate::model::{AgentId, Attributes, Offer, OfferId};
use crate::Plan;

#[derive(Debug, Clone)]
struct Held {
    offer: Offer,
    expires_at: Duration,
}

/// Where a held offer sits in [`OfferPool`]'s slots.
type Slot = u32;

/// One agent's slots: most agents have one or two offers, kept inline in the agent's map entry
/// so that walking the agents reads no list of its own per agent.
type AgentSlots = SmallVec<[Slot; 2]>;

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
///
/// The offers live in a slab of slots, reused once freed; the id index, the per-agent lists and
/// the expiry queue name slots. Walking the agents (what every pass does first) so reads each
/// offer by position, with no id hashed or compared, and an agent's list of one or two slots
/// from its map entry.
#[derive(Clone)]
pub struct OfferPool {
    hold: Duration,
    /// Held offers; `None` marks a free slot (listed in `free`).
    slots: Vec<Option<Held>>,
    free: Vec<Slot>,
    /// The slot of each held offer.
    by_id: FxHashMap<OfferId, Slot>,
    /// Each agent's slots, sorted by offer id.
    by_agent: BTreeMap<AgentId, AgentSlots>,
    /// Slots by expiry, soonest first: the next deadline in O(1), expiries in O(k log n).
    expiries: PriorityQueue<Slot, Reverse<Duration>, FxBuildHasher>,
}

impl OfferPool {
    /// An empty pool that holds each offer for `hold` before it expires.
    pub fn new(hold: Duration) -> OfferPool {
        OfferPool {
            hold,
            slots: Vec::new(),
            free: Vec::new(),
            by_id: FxHashMap::default(),
            by_agent: BTreeMap::new(),
            expiries: PriorityQueue::with_default_hasher(),
        }
    }

    /// How long an offer is held.
    pub fn hold(&self) -> Duration {
        self.hold
    }

    /// Number of offers held.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no offer is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The offer with this id.
    pub fn get(&self, id: &OfferId) -> Option<&Offer> {
        self.by_id.get(id).and_then(|&slot| self.held(slot)).map(|h| &h.offer)
    }

    /// A pool holding `offers`, all received at `now`: the pool [`add`](OfferPool::add)ing
    /// each in turn would make, built at once (one sort, no search per offer), for a pool
    /// filled in one go such as the autoscaler's pseudo agents. On an error (a repeated offer
    /// id, more offers than slots) the offers are dropped, so it is not offered for input.
    pub(crate) fn with_offers(hold: Duration, mut offers: Vec<Offer>, now: Duration) -> Result<OfferPool, PoolError> {
        if Slot::try_from(offers.len()).is_err() {
            return Err(PoolError::Full);
        }
        // Each agent's slots in offer id order, as `add` keeps them; already sorted input
        // (pseudo agents come so) costs one comparison per offer.
        offers.sort_by(|a, b| a.agent_id.cmp(&b.agent_id).then_with(|| a.id.cmp(&b.id)));
        let mut pool = OfferPool::new(hold);
        pool.by_id.reserve(offers.len());
        let mut by_agent: Vec<(AgentId, AgentSlots)> = Vec::new();
        for (slot, offer) in (0..).zip(&offers) {
            if pool.by_id.insert(offer.id.clone(), slot).is_some() {
                return Err(PoolError::DuplicateOffer(offer.id.clone()));
            }
            match by_agent.last_mut() {
                Some((agent, slots)) if *agent == offer.agent_id => slots.push(slot),
                _ => by_agent.push((offer.agent_id.clone(), smallvec![slot])),
            }
        }
        // Sorted and distinct: the map is built in one sweep.
        pool.by_agent = by_agent.into_iter().collect();
        let expires_at = now.saturating_add(hold);
        pool.expiries = (0..).zip(&offers).map(|(slot, _)| (slot, Reverse(expires_at))).collect();
        pool.slots = offers.into_iter().map(|offer| Some(Held { offer, expires_at })).collect();
        Ok(pool)
    }

    /// Adds an offer received at `now`; it expires at `now + hold`.
    pub fn add(&mut self, offer: Offer, now: Duration) -> Result<(), PoolError> {
        if self.by_id.contains_key(&offer.id) {
            return Err(PoolError::DuplicateOffer(offer.id));
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let Ok(slot) = Slot::try_from(self.slots.len()) else {
                    return Err(PoolError::Full);
                };
                self.slots.push(None);
                slot
            }
        };
        let slots = &self.slots;
        let ids = self.by_agent.entry(offer.agent_id.clone()).or_default();
        let at = ids.partition_point(|&s| slots[s as usize].as_ref().is_some_and(|h| h.offer.id < offer.id));
        ids.insert(at, slot);
        let expires_at = now.saturating_add(self.hold);
        self.expiries.push(slot, Reverse(expires_at));
        self.by_id.insert(offer.id.clone(), slot);
        self.slots[slot as usize] = Some(Held { offer, expires_at });
        Ok(())
    }

    /// Removes a rescinded offer at once.
    pub fn rescind(&mut self, id: &OfferId) -> Result<Offer, PoolError> {
        self.take(id).ok_or_else(|| PoolError::UnknownOffer(id.clone()))
    }

    /// Removes every offer of an agent (the agent was lost); returns them sorted by id.
    pub fn remove_agent(&mut self, agent: &AgentId) -> Vec<Offer> {
        let slots = self.by_agent.remove(agent).unwrap_or_default();
        slots.into_iter().filter_map(|slot| self.take_slot(slot)).collect()
    }

    /// Removes and returns the offers whose hold has run out at `now`, sorted by id.
    pub fn expire(&mut self, now: Duration) -> Vec<Offer> {
        let mut due = Vec::new();
        while let Some((_, Reverse(at))) = self.expiries.peek() {
            if *at > now {
                break;
            }
            if let Some((slot, _)) = self.expiries.pop() {
                due.push(slot);
            }
        }
        let mut offers: Vec<Offer> = due.into_iter().filter_map(|slot| self.take_slot(slot)).collect();
        offers.sort_by(|a, b| a.id.cmp(&b.id));
        offers
    }

    /// Ids of the offers whose hold has run out at `now` (still held), sorted.
    pub fn expired_ids(&self, now: Duration) -> Vec<OfferId> {
        if self.next_expiry().is_none_or(|first| first > now) {
            return Vec::new();
        }
        let mut ids: Vec<OfferId> =
            self.slots.iter().flatten().filter(|h| h.expires_at <= now).map(|h| h.offer.id.clone()).collect();
        ids.sort();
        ids
    }

    /// When the next offer expires, for the caller's timer.
    pub fn next_expiry(&self) -> Option<Duration> {
        self.expiries.peek().map(|(_, Reverse(at))| *at)
    }

    /// Agents with at least one offer still live at `now`, sorted by agent id.
    pub fn agents_at(&self, now: Duration) -> impl Iterator<Item = AgentOffers<'_>> {
        self.by_agent.iter().filter_map(move |(id, slots)| {
            let (at, first) = slots.iter().enumerate().find_map(|(at, &s)| Some((at, self.live(s, now)?)))?;
            Some(AgentOffers { pool: self, id, slots: &slots[at + 1..], first, now })
        })
    }

    /// Whether an offer is held and not expired at `now`.
    pub fn is_live(&self, id: &OfferId, now: Duration) -> bool {
        self.by_id.get(id).is_some_and(|&slot| self.live(slot, now).is_some())
    }

    /// Removes every offer a plan launched on, declined or found expired.
    ///
    /// All-or-nothing: if the plan names an offer the pool does not hold (a stale plan), nothing
    /// is removed and the error names that offer.
    pub fn settle(&mut self, plan: &Plan) -> Result<(), PoolError> {
        let ids = plan.consumed_offer_ids();
        if let Some(missing) = ids.iter().find(|id| !self.by_id.contains_key(**id)) {
            return Err(PoolError::UnknownOffer((*missing).clone()));
        }
        for id in ids {
            self.take(id);
        }
        Ok(())
    }

    /// The live offers of one agent at `now`, sorted by id.
    pub(crate) fn offers_of(&self, agent: &AgentId, now: Duration) -> Vec<&Offer> {
        self.by_agent
            .get(agent)
            .map_or(&[][..], AgentSlots::as_slice)
            .iter()
            .filter_map(|&s| self.live(s, now))
            .collect()
    }

    /// Removes one offer (used or declined by a plan), if held.
    pub(crate) fn remove(&mut self, id: &OfferId) -> Option<Offer> {
        self.take(id)
    }

    fn held(&self, slot: Slot) -> Option<&Held> {
        self.slots.get(slot as usize)?.as_ref()
    }

    fn live(&self, slot: Slot, now: Duration) -> Option<&Offer> {
        self.held(slot).filter(|h| h.expires_at > now).map(|h| &h.offer)
    }

    fn take(&mut self, id: &OfferId) -> Option<Offer> {
        let slot = *self.by_id.get(id)?;
        self.take_slot(slot)
    }

    /// Frees `slot` and forgets its offer everywhere.
    fn take_slot(&mut self, slot: Slot) -> Option<Offer> {
        let held = self.slots.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        self.by_id.remove(&held.offer.id);
        self.expiries.remove(&slot);
        if let Some(slots) = self.by_agent.get_mut(&held.offer.agent_id) {
            slots.retain(|s| *s != slot);
            if slots.is_empty() {
                self.by_agent.remove(&held.offer.agent_id);
            }
        }
        Some(held.offer)
    }
}

impl std::fmt::Debug for OfferPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut offers: Vec<(&OfferId, &Held)> =
            self.by_id.iter().filter_map(|(id, &slot)| Some((id, self.held(slot)?))).collect();
        offers.sort_by(|a, b| a.0.cmp(b.0));
        f.debug_struct("OfferPool").field("hold", &self.hold).field("offers", &offers).finish()
    }
}

/// One agent's live offers, as the pass sees them.
#[derive(Debug, Clone, Copy)]
pub struct AgentOffers<'a> {
    pool: &'a OfferPool,
    id: &'a AgentId,
    /// The agent's live offer with the smallest id.
    first: &'a Offer,
    /// The agent's slots after `first`'s, sorted by offer id, not yet checked for expiry.
    slots: &'a [Slot],
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
        std::iter::once(self.first).chain(self.slots.iter().filter_map(move |&s| pool.live(s, now)))
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

    #[test]
    fn pool_reuses_freed_slots_without_mixing_agents() {
        let mut pool = OfferPool::new(Duration::from_secs(10));
        pool.add(offer("o1", "a"), Duration::ZERO).unwrap();
        pool.add(offer("o2", "b"), Duration::ZERO).unwrap();
        pool.add(offer("o3", "a"), Duration::from_secs(5)).unwrap();
        // o1 and o2 expire, o3 is rescinded: every slot is freed by another path.
        assert_eq!(pool.expire(Duration::from_secs(10)).len(), 2);
        assert_eq!(pool.rescind(&"o3".into()).unwrap().id.as_str(), "o3");
        assert_eq!(pool.agents_at(Duration::from_secs(10)).count(), 0);
        pool.add(offer("o5", "c"), Duration::from_secs(10)).unwrap();
        pool.add(offer("o4", "c"), Duration::from_secs(10)).unwrap();
        pool.add(offer("o6", "a"), Duration::from_secs(10)).unwrap();
        let now = Duration::from_secs(10);
        let seen: Vec<(String, Vec<String>)> =
            pool.agents_at(now).map(|a| (a.id().to_string(), a.offers().map(|o| o.id.to_string()).collect())).collect();
        let want = [("a", vec!["o6"]), ("c", vec!["o4", "o5"])]
            .map(|(a, ids)| (a.to_owned(), ids.into_iter().map(str::to_owned).collect::<Vec<_>>()));
        assert_eq!(seen, want);
        assert_eq!(pool.len(), 3);
        assert_eq!(pool.get(&"o4".into()).map(|o| o.agent_id.as_str()), Some("c"));
        assert!(pool.get(&"o1".into()).is_none());
        assert_eq!(pool.remove_agent(&"c".into()).iter().map(|o| o.id.as_str()).collect::<Vec<_>>(), ["o4", "o5"]);
        assert_eq!(pool.next_expiry(), Some(Duration::from_secs(20)));
    }

    /// Offers as (offer id, agent id) by number: `o<i>` on `a<j>`.
    fn numbered(pairs: &[(u8, u8)]) -> Vec<Offer> {
        pairs.iter().map(|&(o, a)| offer(&format!("o{o}"), &format!("a{a}"))).collect()
    }

    /// What a pool shows of itself: each live agent with its offers' ids, in order, and the
    /// next expiry.
    fn shown(pool: &OfferPool, now: Duration) -> (Vec<(String, Vec<String>)>, Option<Duration>) {
        let agents = pool
            .agents_at(now)
            .map(|a| (a.id().as_str().to_owned(), a.offers().map(|o| o.id.as_str().to_owned()).collect()))
            .collect();
        (agents, pool.next_expiry())
    }

    proptest::proptest! {
        /// Built at once, a pool is the pool adding each offer in turn makes: the same agents
        /// and offers in the same order, the same expiry, the same refusal of a repeated id;
        /// and it goes on the same after more offers are added, taken and expired.
        #[test]
        fn pool_built_at_once_equals_pool_added_in_turn(
            pairs in proptest::collection::vec((0u8..30, 0u8..6), 0..25),
            later in proptest::collection::vec((30u8..40, 0u8..6), 0..5),
        ) {
            let (hold, now) = (Duration::from_secs(10), Duration::from_secs(3));
            let built = OfferPool::with_offers(hold, numbered(&pairs), now);
            let mut added = OfferPool::new(hold);
            let turn: Result<(), PoolError> = numbered(&pairs).into_iter().try_for_each(|o| added.add(o, now));
            match (built, turn) {
                (Ok(mut built), Ok(())) => {
                    proptest::prop_assert_eq!(shown(&built, now), shown(&added, now));
                    proptest::prop_assert_eq!(built.len(), added.len());
                    for o in numbered(&later) {
                        proptest::prop_assert_eq!(built.add(o.clone(), now + hold / 2), added.add(o, now + hold / 2));
                    }
                    if let Some(first) = pairs.first() {
                        let id = OfferId::from(format!("o{}", first.0).as_str());
                        proptest::prop_assert_eq!(built.rescind(&id), added.rescind(&id));
                    }
                    proptest::prop_assert_eq!(built.expire(now + hold), added.expire(now + hold));
                    proptest::prop_assert_eq!(shown(&built, now + hold), shown(&added, now + hold));
                }
                (Err(PoolError::DuplicateOffer(_)), Err(PoolError::DuplicateOffer(_))) => {}
                (built, turn) => proptest::prop_assert!(false, "built {:?}, added in turn {:?}", built.err(), turn.err()),
            }
        }
    }
}
