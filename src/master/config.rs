//! Configuration of the simulated master: agents, timings, seed and fault knobs.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use crate::session::ZkUrl;

/// One simulated agent: its hostname, resources and text attributes.
///
/// ```
/// use offerpack::master::AgentConfig;
/// let agent = AgentConfig::new("agent-1", 4.0, 8192.0).with_attribute("rack", "r1");
/// assert_eq!(agent.ports, vec![(31000, 32000)]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AgentConfig {
    /// The agent's hostname (also `Offer.hostname`).
    pub hostname: String,
    /// CPUs (scalar resource `cpus`).
    pub cpus: f64,
    /// Memory in MB (scalar resource `mem`).
    pub mem: f64,
    /// Disk in MB (scalar resource `disk`); 0 leaves the resource out.
    pub disk: f64,
    /// Port ranges, inclusive (ranges resource `ports`); empty leaves the resource out.
    pub ports: Vec<(u64, u64)>,
    /// Text attributes (`name`, `value`), offered as `Attribute{type: TEXT}`.
    pub attributes: Vec<(String, String)>,
}

impl AgentConfig {
    /// An agent with `cpus` and `mem` (MB), 10 GB of disk, ports 31000-32000, no attributes.
    pub fn new(hostname: impl Into<String>, cpus: f64, mem: f64) -> AgentConfig {
        AgentConfig {
            hostname: hostname.into(),
            cpus,
            mem,
            disk: 10_240.0,
            ports: vec![(31000, 32000)],
            attributes: Vec::new(),
        }
    }

    /// Adds a text attribute.
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> AgentConfig {
        self.attributes.push((name.into(), value.into()));
        self
    }
}

/// How long simulated tasks take, per step. Every step gets a seeded jitter of up to
/// `jitter` times its length (0.1 = ±10 %).
#[derive(Clone, Debug, PartialEq)]
pub struct TaskTiming {
    /// From the accepted LAUNCH (TASK_STAGING) to TASK_STARTING.
    pub staging: Duration,
    /// From TASK_STARTING to TASK_RUNNING.
    pub starting: Duration,
    /// From TASK_RUNNING to TASK_FINISHED; `None` runs tasks until killed. A task label
    /// `offerpack.sim/duration_ms` overrides it (`"forever"` for none), and a label
    /// `offerpack.sim/exit` of `"failed"` ends the task in TASK_FAILED instead.
    pub run: Option<Duration>,
    /// Relative jitter in `[0, 1]` applied to each step.
    pub jitter: f64,
}

impl Default for TaskTiming {
    fn default() -> TaskTiming {
        TaskTiming {
            staging: Duration::from_millis(100),
            starting: Duration::from_millis(200),
            run: Some(Duration::from_secs(10)),
            jitter: 0.1,
        }
    }
}

/// Where the master answers API requests with `307 Temporary Redirect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The leader as `host:port` (a URL such as `http://host:port/path` is reduced to its
    /// `host:port`); the answer is `Location: //<leader><request path>`.
    pub leader: String,
    /// Redirect only this many more API requests (scheduler or operator); `None` while the
    /// knob is set.
    pub remaining: Option<u32>,
}

/// The two texts a real master answers `503 Service Unavailable` with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// "No leader elected".
    NoLeader,
    /// "Master has not finished recovery".
    Recovering,
}

impl Unavailable {
    /// The response body the real master sends.
    pub fn text(self) -> &'static str {
        match self {
            Unavailable::NoLeader => "No leader elected",
            Unavailable::Recovering => "Master has not finished recovery",
        }
    }
}

/// Cutting event streams: after `after_events` whole records on a stream, the connection is
/// aborted (no final chunk); with `mid_record` the next record is first sent half-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamCut {
    /// Whole records delivered before the cut.
    pub after_events: u64,
    /// Send the first half of one more record before cutting.
    pub mid_record: bool,
}

/// Fault knobs; each but `fail_every` can also be changed at run time through the
/// [`MasterHandle`](crate::master::MasterHandle).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Cut every event stream (applies to streams open when set and to new ones).
    pub cut_streams: Option<StreamCut>,
    /// Answer scheduler and operator API requests with 307 to another master.
    pub redirect: Option<Redirect>,
    /// Answer scheduler and operator API requests with 503 for this long from start.
    pub unavailable: Option<(Duration, Unavailable)>,
    /// Send every status update twice (same uuid), retries included.
    pub duplicate_updates: bool,
    /// Lose agents (by index into [`MasterConfig::agents`]) at these times after start.
    pub lose_agents: Vec<(Duration, usize)>,
    /// End every `k`-th task launched (counted over all frameworks from the start, 1-based) in
    /// TASK_FAILED instead of TASK_FINISHED, to exercise task retries; `None` fails none.
    pub fail_every: Option<NonZeroU32>,
}

/// A master that contends for leadership in a ZooKeeper group (`offerpack master --zk`): it
/// leads while its `json.info_` node has the smallest sequence, and answers API requests with
/// 307 to the leader (or 503 "No leader elected") otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkElection {
    /// The group, e.g. `zk://127.0.0.1:2181/mesos`.
    pub url: ZkUrl,
    /// The ZooKeeper session timeout asked for (Mesos' `--zk_session_timeout`, default 10 s);
    /// the server may round it into its own bounds (2 to 20 ticks).
    pub session_timeout: Duration,
}

impl ZkElection {
    /// Contends in `url`'s group with Mesos' default session timeout of 10 s.
    pub fn new(url: ZkUrl) -> ZkElection {
        ZkElection { url, session_timeout: Duration::from_secs(10) }
    }
}

/// Everything the simulated master needs to start.
///
/// For a command line such as `offerpack master --listen ADDR --agents N --cpus C --mem M`,
/// build it with [`MasterConfig::new`] and [`MasterConfig::with_uniform_agents`]:
///
/// ```
/// use offerpack::master::{AgentConfig, MasterConfig};
/// let config = MasterConfig::new("127.0.0.1:5050".parse().unwrap())
///     .with_uniform_agents(3, &AgentConfig::new("", 4.0, 8192.0).with_attribute("zone", "a"));
/// assert_eq!(config.agents[2].hostname, "agent-3");
/// assert_eq!(config.heartbeat_interval.as_secs(), 15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MasterConfig {
    /// Address to listen on; port 0 picks a free port (see `MasterHandle::addr`).
    pub listen: SocketAddr,
    /// Hostname announced in `MasterInfo` and `/version`'s peers; defaults to the listen IP.
    pub hostname: Option<String>,
    /// The simulated agents.
    pub agents: Vec<AgentConfig>,
    /// Seed of every random choice (ids, uuids, jitter): same seed and inputs, same run.
    pub seed: u64,
    /// `Subscribed.heartbeat_interval_seconds` and the heartbeat period (Mesos: 15 s).
    pub heartbeat_interval: Duration,
    /// Outstanding offers are rescinded after this long (`--offer_timeout`); `None`: never.
    pub offer_timeout: Option<Duration>,
    /// Minimum time between two allocation runs (`--allocation_interval`, Mesos: 1 s).
    pub allocation_interval: Duration,
    /// First re-send of an unacknowledged status update (Mesos agent: 10 s), doubling up
    /// to `status_update_retry_max` (10 min).
    pub status_update_retry_min: Duration,
    /// Longest interval between re-sends of an unacknowledged status update.
    pub status_update_retry_max: Duration,
    /// Task step durations.
    pub tasks: TaskTiming,
    /// Also send a TASK_STAGING update (a real master never does; off by default).
    pub send_staging_updates: bool,
    /// Fault knobs at start.
    pub faults: Faults,
    /// How often agent processes (`POST /api/offerpack/agent`) must PING, and the period of
    /// the HEARTBEATs on their streams (`Registered.ping_interval_seconds`; default 1 s).
    pub agent_ping_interval: Duration,
    /// An agent process that made no call for this long is removed as a lost agent
    /// (`Registered.agent_timeout_seconds`; default 5 s).
    pub agent_timeout: Duration,
    /// When set, every scheduler API request must authenticate with one of these (HTTP Basic);
    /// others get 401 (see [`Credentials`](super::Credentials)).
    pub credentials: Option<super::Credentials>,
    /// Keep a [task ledger](super::LedgerEntry) of launches and ends for a harness to drain
    /// (off by default).
    pub task_ledger: bool,
    /// When set, the master leads only when elected in this ZooKeeper group; `None`: it always
    /// leads.
    pub zookeeper: Option<ZkElection>,
    /// How long a master that came to lead takes re-registrations of agent processes whose ids
    /// it never knew (agents of the previous leader; Mesos' `--agent_reregister_timeout`);
    /// default 10 s. After it, such a re-registration gets 403 as any unknown id.
    pub agent_reregister_timeout: Duration,
    /// When set, the master serves HTTPS only (every API, `/version` included), presenting
    /// this certificate; [`MasterHandle::url`](crate::master::MasterHandle::url) then says
    /// `https://`.
    pub tls: Option<crate::tls::ServerTls>,
}

impl MasterConfig {
    /// Defaults as a real master has them (heartbeats every 15 s, 1 s allocation interval,
    /// no offer timeout, 10 s → 10 min update retries), no agents, seed 0; agent processes
    /// ping every 1 s and are lost after 5 s without a call.
    pub fn new(listen: SocketAddr) -> MasterConfig {
        MasterConfig {
            listen,
            hostname: None,
            agents: Vec::new(),
            seed: 0,
            heartbeat_interval: Duration::from_secs(15),
            offer_timeout: None,
            allocation_interval: Duration::from_secs(1),
            status_update_retry_min: Duration::from_secs(10),
            status_update_retry_max: Duration::from_secs(600),
            tasks: TaskTiming::default(),
            send_staging_updates: false,
            faults: Faults::default(),
            agent_ping_interval: Duration::from_secs(1),
            agent_timeout: Duration::from_secs(5),
            credentials: None,
            task_ledger: false,
            zookeeper: None,
            agent_reregister_timeout: Duration::from_secs(10),
            tls: None,
        }
    }

    /// Adds `n` agents like `template`, named `agent-1` … `agent-n` (the template's hostname
    /// is ignored); a `{i}` in an attribute value is replaced by the agent's number.
    pub fn with_uniform_agents(mut self, n: usize, template: &AgentConfig) -> MasterConfig {
        let first = self.agents.len() + 1;
        for i in first..first + n {
            let mut agent = template.clone();
            agent.hostname = format!("agent-{i}");
            for (_, value) in &mut agent.attributes {
                *value = value.replace("{i}", &i.to_string());
            }
            self.agents.push(agent);
        }
        self
    }

    /// Sets how often agent processes ping and how long the master waits for a call before
    /// it removes one (see [`MasterConfig::agent_ping_interval`], [`MasterConfig::agent_timeout`]).
    pub fn with_agent_timing(mut self, ping_interval: Duration, timeout: Duration) -> MasterConfig {
        self.agent_ping_interval = ping_interval;
        self.agent_timeout = timeout;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> MasterConfig {
        self.seed = seed;
        self
    }
}

impl Default for MasterConfig {
    /// Loopback, any free port; see [`MasterConfig::new`].
    fn default() -> MasterConfig {
        MasterConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)))
    }
}
