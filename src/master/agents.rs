//! The master's agent table: simulated agents (from [`MasterConfig::agents`](super::MasterConfig))
//! and agent processes (registered through the private agent API, [`super::remote`]) side by
//! side, indexed by their position. An agent is never taken out of the table: a lost one stays
//! with `reachable` false, so indices held by tasks and offers stay valid.

use std::collections::BTreeMap;
use std::time::Duration;

use super::config::AgentConfig;
use super::operator::agent_attributes;
use super::resources::Resources;
use super::state::StreamKey;
use crate::mesos::v1;

/// The port every simulated agent claims (`AgentInfo.port`, offers' URLs).
pub(crate) const SIMULATED_AGENT_PORT: u16 = 5051;

/// A custom executor running on an agent for a framework.
#[derive(Debug)]
pub(crate) struct Executor {
    /// The `ExecutorInfo` it was started with (tasks naming its id must carry the same).
    pub(crate) info: v1::ExecutorInfo,
    /// What it holds, charged once when its first task was launched.
    pub(crate) resources: Resources,
    /// Tasks launched on it that have not ended.
    pub(crate) live: usize,
}

/// What the master knows of an agent process beyond a simulated agent.
#[derive(Debug)]
pub(crate) struct RemoteAgent {
    /// Its open REGISTER stream, if any.
    pub(crate) stream: Option<StreamKey>,
    /// When it last called (any call counts as a ping).
    pub(crate) last_seen: Duration,
    /// When its next HEARTBEAT is due (`None` without a stream).
    pub(crate) next_heartbeat: Option<Duration>,
}

#[derive(Debug)]
pub(crate) struct Agent {
    pub(crate) id: String,
    /// Hostname (the advertised address of an agent process); the other fields describe a
    /// simulated agent's configuration.
    pub(crate) config: AgentConfig,
    /// The port in `AgentInfo` and offers' URLs.
    pub(crate) port: u16,
    /// The role of all its resources: `*`, or a static reservation of an agent process.
    pub(crate) role: String,
    /// The attributes its offers and `AgentInfo` carry.
    pub(crate) attributes: Vec<v1::Attribute>,
    pub(crate) total: Resources,
    /// Neither used by tasks and executors nor offered.
    pub(crate) free: Resources,
    pub(crate) reachable: bool,
    /// Custom executors by (framework, executor id).
    pub(crate) executors: BTreeMap<(String, String), Executor>,
    /// Set for an agent process; `None` for a simulated agent.
    pub(crate) remote: Option<RemoteAgent>,
}

impl Agent {
    /// A simulated agent with role `*` resources.
    pub(crate) fn simulated(id: String, config: &AgentConfig) -> Agent {
        let mut total = Resources::default();
        total.add_scalar("cpus", config.cpus);
        total.add_scalar("mem", config.mem);
        total.add_scalar("disk", config.disk);
        total.add_ranges("ports", &config.ports);
        Agent {
            id,
            attributes: agent_attributes(config),
            config: config.clone(),
            port: SIMULATED_AGENT_PORT,
            role: "*".to_owned(),
            free: total.clone(),
            total,
            reachable: true,
            executors: BTreeMap::new(),
            remote: None,
        }
    }

    /// Whether this is an agent process rather than a simulated one.
    pub(crate) fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// Its resources as `Resource` protos: role `*`, or its static reservation, with
    /// `allocation_info` when `allocation_role` is set.
    pub(crate) fn protos(&self, resources: &Resources, allocation_role: Option<&str>) -> Vec<v1::Resource> {
        let reserved = (self.role != "*").then_some(self.role.as_str());
        resources.to_protos_reserved(reserved, allocation_role)
    }
}
