//! Agents compiled from their running tasks' host details instead of from offers: nothing free,
//! no ports, the hostname and attributes the tasks say the agent has.

use std::sync::Arc;

use super::agents::{AgentIdentity, AgentSlot};
use super::ix::{AgentIx, KeyIx};
use super::{AgentPorts, Tables};
use crate::model::{AgentId, Attributes};

impl Tables {
    /// Appends agent `id`, with nothing offered, on host `hostname` with `attrs` (attribute
    /// keys the tables do not know are left out, as [`Tables::add_running`] leaves them out of
    /// the counts); returns its index. No running task counts on it yet: a caller moving tasks
    /// onto it takes them back with [`Tables::remove_running`] first and adds them again after.
    pub fn add_offerless_agent(&mut self, id: &AgentId, hostname: &Arc<str>, attrs: &Attributes) -> AgentIx {
        debug_assert!(self.agent(id).is_none());
        let (nd, nr, nk) = (self.n_dims(), self.n_roles(), self.n_keys());
        let idx = AgentIx::new(self.agents.len());
        self.free.resize(self.free.len() + nd * nr, 0);
        self.total.resize(self.total.len() + nd, 0);
        self.held.resize(self.held.len() + nd, 0);
        self.agent_values.resize(self.agent_values.len() + nk, None);
        self.offered_executors.push(Vec::new());
        let host_value = self.intern_value(KeyIx::HOSTNAME, hostname, Some(hostname), None);
        self.agent_values[idx.get() * nk + KeyIx::HOSTNAME.get()] = Some(host_value);
        for (k, v) in attrs.iter_shared() {
            if let Some(key) = self.keys.get_shared(k).filter(|&key| key != KeyIx::HOSTNAME) {
                let value = self.intern_value(key, v.as_str(), Some(v.shared_text()), v.as_scalar());
                self.agent_values[idx.get() * nk + key.get()] = Some(value);
            }
        }
        if self.host_first.len() <= host_value.get() {
            self.host_first.resize(self.values.len().max(host_value.get() + 1), None);
        }
        self.next_on_host.push(self.host_first[host_value.get()]);
        self.host_first[host_value.get()] = Some(idx);
        let identity = AgentIdentity { id: id.clone(), hostname: hostname.clone(), offer_ids: Default::default() };
        Arc::make_mut(&mut self.identities).push(identity);
        self.agent_index.insert(id.clone(), idx);
        self.agents.push(AgentSlot::empty(host_value, AgentPorts::new()));
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AttrValue, RunningTask};
    use crate::tables::OfferWalk;

    #[test]
    fn offerless_agent_counts_tasks_moved_onto_it_on_the_same_values() {
        let attrs = Attributes::from_pairs([("rack", AttrValue::text("r1"))]);
        let mut task = RunningTask::new("t", "g", "a1");
        task.host = Some((Arc::from("h1"), attrs.clone()));
        let mut tables = Tables::with_names(&OfferWalk::with_capacity(0), std::slice::from_ref(&task));
        tables.add_agents(&OfferWalk::with_capacity(0));
        tables.add_running(std::slice::from_ref(&task));
        let group = tables.group(&"g".into());
        let rack = tables.keys().get("rack").unwrap();
        let before: Vec<u32> = tables.used_values(group, rack).map(|v| tables.count(group, v)).collect();
        tables.remove_running(&task);
        let a = tables.add_offerless_agent(&"a1".into(), &Arc::from("h1"), &attrs);
        tables.add_running(std::slice::from_ref(&task));
        assert_eq!(tables.agent(&"a1".into()), Some(a));
        let after: Vec<u32> = tables.used_values(group, rack).map(|v| tables.count(group, v)).collect();
        assert_eq!((before, after), (vec![1], vec![1]));
        assert_eq!(tables.slot(a).tasks(), 1);
        assert_eq!(tables.group_total(group), 1);
        assert_eq!(tables.value(tables.value_of(a, rack).unwrap()).text(), "r1");
        assert!(tables.identity(a).offer_ids.is_empty());
        assert_eq!(tables.agents_on_host(tables.slot(a).host_value()).collect::<Vec<_>>(), [a]);
    }
}
