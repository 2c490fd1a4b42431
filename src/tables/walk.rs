//! The live offers of a pool's agents at one instant, read in one walk.

use crate::model::Offer;

/// Agents with live offers (in the order they were added, by agent id from a pool), each with
/// its offers: agent `i`'s are `offers[ends[i - 1]..ends[i]]`, the first of them the one its
/// identity (id, hostname, attributes) is read from.
#[derive(Debug, Default)]
pub(crate) struct OfferWalk<'a> {
    offers: Vec<&'a Offer>,
    ends: Vec<usize>,
}

impl<'a> OfferWalk<'a> {
    /// An empty walk with room for `offers` offers (and as many agents).
    pub fn with_capacity(offers: usize) -> OfferWalk<'a> {
        OfferWalk { offers: Vec::with_capacity(offers), ends: Vec::with_capacity(offers) }
    }

    /// Adds one agent with its live offers; an agent without any is left out.
    pub fn push_agent(&mut self, offers: impl IntoIterator<Item = &'a Offer>) {
        self.offers.extend(offers);
        if self.ends.last().copied().unwrap_or(0) < self.offers.len() {
            self.ends.push(self.offers.len());
        }
    }

    /// Every offer of the walk.
    pub fn offers(&self) -> &[&'a Offer] {
        &self.offers
    }

    /// Each agent's offers, in order (never empty).
    pub fn agents(&self) -> impl Iterator<Item = &[&'a Offer]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(start, &end)| &self.offers[start..end])
    }

    /// Number of agents.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
}
