//! A simulated leader change inside one master process: what a framework sees when the
//! leading Mesos master dies and another one is elected, with the agents re-registering to it.
//! The new leader has a new id, has no connection to any framework and no outstanding offer
//! (offers of the old leader are unknown to it, so accepting one fails as an invalid offer), and
//! learns every agent's tasks from the agents' re-registration, so running tasks keep running and
//! their pending status updates are still delivered. A framework reconnects, re-subscribes with
//! its framework id within its failover timeout and reconciles.
//!
//! This is the fault the soak injects for "leader change" with simulated agents; masters in a
//! real ZooKeeper group are separate processes (`offerpack master --zk`).

use std::time::Duration;

use super::state::{uuid_bytes, uuid_string, MasterCore, Output};

impl MasterCore {
    /// Becomes a newly elected leader: a fresh master id, every framework's stream closed (each
    /// framework disconnected, its failover timeout running), every outstanding offer forgotten
    /// without a RESCIND (its resources offered again after re-subscription). Tasks, agents and
    /// queued status updates stay.
    pub fn handle_leader_change(&mut self, now: Duration) {
        let id = uuid_string(&uuid_bytes(&mut self.rng));
        self.master_info.id.clone_from(&id);
        self.master_id = id;
        let connected: Vec<String> =
            self.frameworks.values().filter(|f| f.conn.is_some()).map(|f| f.id.clone()).collect();
        for fw_id in connected {
            if let Some(stream) = self.disconnect(now, &fw_id) {
                self.out.push_back(Output::Close { stream });
            }
        }
        let offers: Vec<String> = self.offers.keys().cloned().collect();
        for offer in offers {
            self.take_back_offer(&offer);
        }
        self.request_allocation(now);
    }
}
