//! Agents compiled from their running tasks' host details instead of from offers: nothing free,
//! no ports, the hostname and attributes the tasks say the agent has.

use std::sync::Arc;

use super::agents::{AgentIdentity, AgentSlot};
use super::ix::{AgentIx, KeyIx};
use super::{AgentPorts, Tables};
use crate::model::{AgentId, Attributes, RunningTask};

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

    /// Moves onto `agent` a running task that [`Tables::add_running`] counted on its host's
    /// values while the agent was not in the tables, when the agent was compiled from that very
    /// host (so the counts per value stay as they are): what it holds, its group on the agent,
    /// its executor and its claim, as `add_running` would have counted them there. Cheaper
    /// than taking the task back and adding it again, which relinks every value.
    pub fn move_onto_offerless_agent(&mut self, agent: AgentIx, task: &RunningTask) {
        let group = self.group(&task.group);
        self.agents[agent.get()].add_task(group);
        self.charge_agent(agent, group, task);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AttrValue;
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

    #[test]
    fn offerless_agent_takes_a_task_of_its_host_as_if_added_there() {
        let mut task = RunningTask::new("t", "g", "a1");
        task.host = Some((Arc::from("h1"), Attributes::default()));
        task.resources = vec![(crate::resources::shared_name("cpus"), crate::Quantity::new(2.0).unwrap())];
        task.claims_agent = true;
        let offer = crate::model::Offer::new("o", "a0", "h0").with_scalar("cpus", 1.0).unwrap();
        let tables = || {
            let mut walk = OfferWalk::with_capacity(1);
            walk.push_agent([&offer]);
            let mut tables = Tables::with_names(&walk, std::slice::from_ref(&task));
            tables.add_agents(&walk);
            tables
        };
        let (mut moved, mut readded) = (tables(), tables());
        for tables in [&mut moved, &mut readded] {
            tables.add_running(std::slice::from_ref(&task));
        }
        let a = moved.add_offerless_agent(&"a1".into(), &Arc::from("h1"), &Attributes::default());
        moved.move_onto_offerless_agent(a, &task);
        readded.remove_running(&task);
        let b = readded.add_offerless_agent(&"a1".into(), &Arc::from("h1"), &Attributes::default());
        readded.add_running(std::slice::from_ref(&task));
        let group = moved.groups.get("g").unwrap();
        let host = moved.slot(a).host_value();
        let cpus = moved.dims().get("cpus").unwrap();
        let seen = |t: &Tables, a: AgentIx| {
            let slot = t.slot(a);
            (t.count(group, host), t.group_total(group), slot.tasks(), slot.owner(), t.total(a, cpus))
        };
        assert_eq!(seen(&moved, a), seen(&readded, b));
        assert_eq!(seen(&moved, a), (1, 1, 1, Some(group), 2000));
    }
}
