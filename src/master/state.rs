//! The sans-IO core of the simulated master: frameworks, agents, offers, tasks and their
//! status updates, driven only by `handle_*` inputs with the current time, and read back
//! through `poll_*` outputs. No clock, no sockets, randomness only from a [`SeededRng`].
//!
//! # Driving it
//!
//! After **every** `handle_*` call, the caller
//! 1. drains [`MasterCore::poll_output`] until it returns `None`: events for each stream in
//!    the order they must be written, and [`Output::Close`] after a stream's last event;
//! 2. reads [`MasterCore::poll_timeout`] and calls [`MasterCore::handle_timeout`] once that
//!    instant has come (earlier calls are harmless).
//!
//! Time is a [`Duration`] since the master started; it must not go backwards.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use super::agents::Agent;
use super::config::MasterConfig;
use super::resources::Resources;
use super::validate::validate_call;
use crate::mesos::agent_api;
use crate::mesos::v1::{self, scheduler::call, scheduler::event, scheduler::Call, scheduler::Event};
use crate::util::SeededRng;

/// The version this master claims (`MasterInfo.version`, `GET /version`).
pub const MESOS_VERSION: &str = "1.11.0";

/// Identifies one event stream (one SUBSCRIBE response) between the core and its shell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamKey(pub(crate) u64);

/// What the core wants written.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)] // moved once from the core to the shell; boxing buys nothing
pub enum Output {
    /// Send this event on the stream.
    Event {
        /// The stream.
        stream: StreamKey,
        /// The event.
        event: Event,
    },
    /// Send this event on an agent process' stream (`POST /api/offerpack/agent` REGISTER).
    Agent {
        /// The agent's stream.
        stream: StreamKey,
        /// The event.
        event: agent_api::Event,
    },
    /// End the stream (after its earlier events); the framework's (or agent's) connection is
    /// over.
    Close {
        /// The stream.
        stream: StreamKey,
    },
}

/// The synchronous answer to a call, i.e. the HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// `202 Accepted`: results, if any, come as events.
    Accepted,
    /// `200 OK` with an empty body (UPDATE_FRAMEWORK).
    Ok,
    /// `200 OK` streaming events: the SUBSCRIBE was taken (its first event may be an ERROR).
    Subscribed {
        /// The stream the core will send events on.
        stream: StreamKey,
        /// The `Mesos-Stream-Id` header value.
        stream_id: String,
    },
    /// An error status (400, 403, 501, …) with a text body.
    Rejected {
        /// The HTTP status code.
        status: u16,
        /// The body.
        message: String,
    },
}

impl CallOutcome {
    pub(crate) fn rejected(status: u16, message: impl Into<String>) -> CallOutcome {
        CallOutcome::Rejected { status, message: message.into() }
    }
}

/// A deadline of the core; stale entries are ignored when they fire.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    Allocation,
    FilterExpiry,
    Heartbeat(String),
    Failover(String),
    TaskStep(String, String),
    UpdateRetry(String, String),
    OfferTimeout(String),
    LoseAgent(usize),
    /// An agent process' next HEARTBEAT.
    AgentHeartbeat(usize),
    /// An agent process is lost unless it called since.
    AgentTimeout(usize),
}

#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) stream: StreamKey,
    pub(crate) stream_id: String,
}

#[derive(Debug)]
pub(crate) struct Filter {
    pub(crate) agent: usize,
    pub(crate) refused: Resources,
    pub(crate) until: Duration,
}

#[derive(Debug)]
pub(crate) struct Framework {
    pub(crate) id: String,
    pub(crate) info: v1::FrameworkInfo,
    pub(crate) roles: Vec<String>,
    pub(crate) suppressed: BTreeSet<String>,
    pub(crate) conn: Option<Conn>,
    pub(crate) next_heartbeat: Option<Duration>,
    pub(crate) failover_at: Option<Duration>,
    pub(crate) filters: Vec<Filter>,
    pub(crate) tasks: BTreeMap<String, super::tasks::Task>,
    /// Tasks on lost agents: task id → agent index.
    pub(crate) unreachable: BTreeMap<String, usize>,
    /// Ended and unreachable tasks, for the operator API.
    pub(crate) history: super::operator::TaskHistory,
}

impl Framework {
    /// A framework known by `info` (its id set to `id`), not connected, with no tasks.
    pub(crate) fn new(id: &str, mut info: v1::FrameworkInfo) -> Framework {
        info.id = Some(v1::FrameworkId { value: id.to_owned() });
        Framework {
            id: id.to_owned(),
            roles: roles_of(&info),
            info,
            suppressed: BTreeSet::new(),
            conn: None,
            next_heartbeat: None,
            failover_at: None,
            filters: Vec::new(),
            tasks: BTreeMap::new(),
            unreachable: BTreeMap::new(),
            history: Default::default(),
        }
    }

    pub(crate) fn has_capability(&self, kind: v1::framework_info::capability::Type) -> bool {
        self.info.capabilities.iter().any(|c| c.r#type == Some(kind as i32))
    }

    pub(crate) fn multi_role(&self) -> bool {
        self.has_capability(v1::framework_info::capability::Type::MultiRole)
    }

    pub(crate) fn partition_aware(&self) -> bool {
        self.has_capability(v1::framework_info::capability::Type::PartitionAware)
    }
}

#[derive(Debug)]
pub(crate) struct OfferRec {
    pub(crate) framework: String,
    pub(crate) agent: usize,
    pub(crate) resources: Resources,
    pub(crate) expires: Option<Duration>,
    /// The offer as sent (for the operator API).
    pub(crate) proto: v1::Offer,
}

/// The simulated master's state machine. See the module docs of `offerpack::master` for how to drive it.
#[derive(Debug)]
pub struct MasterCore {
    pub(crate) config: MasterConfig,
    pub(crate) rng: SeededRng,
    pub(crate) master_id: String,
    pub(crate) master_info: v1::MasterInfo,
    pub(crate) agents: Vec<Agent>,
    pub(crate) frameworks: BTreeMap<String, Framework>,
    pub(crate) removed: BTreeSet<String>,
    pub(crate) offers: BTreeMap<String, OfferRec>,
    pub(crate) out: VecDeque<Output>,
    pub(crate) timers: BTreeSet<(Duration, Timer)>,
    pub(crate) allocation_due: Option<Duration>,
    pub(crate) last_allocation: Option<Duration>,
    pub(crate) allocation_cursor: usize,
    pub(crate) duplicate_updates: bool,
    pub(crate) next_stream: u64,
    next_framework: u64,
    pub(crate) next_offer: u64,
    /// Tasks launched so far (for [`Faults::fail_every`](super::Faults::fail_every)).
    pub(crate) launched: u64,
    /// Tasks that ended, by the terminal state they ended in (`/metrics/snapshot` counters).
    pub(crate) ended: BTreeMap<i32, u64>,
    /// Launches and ends since the last drain, when [`MasterConfig::task_ledger`] is on.
    pub(crate) ledger: Option<Vec<super::ledger::LedgerEntry>>,
    /// The address the master announces (kept to start afresh after losing leadership).
    pub(crate) advertised: SocketAddr,
    /// Whether this master leads (always, without ZooKeeper; see `leadership`).
    pub(crate) leading: bool,
    /// Until when re-registrations of unknown agent ids are taken (after coming to lead).
    pub(crate) reregister_until: Option<Duration>,
}

/// Shortest period accepted for heartbeats, retries and the like (avoids busy loops).
const MIN_PERIOD: Duration = Duration::from_millis(1);

impl MasterCore {
    /// A master with the configured agents, announcing itself at `advertised` (the address
    /// the shell actually listens on).
    pub fn new(config: MasterConfig, advertised: SocketAddr) -> MasterCore {
        let mut rng = SeededRng::new(config.seed);
        let master_id = uuid_string(&uuid_bytes(&mut rng));
        let ip = advertised.ip().to_string();
        let hostname = config.hostname.clone().unwrap_or_else(|| ip.clone());
        let master_info = v1::MasterInfo {
            id: master_id.clone(),
            // Mesos puts the in_addr bytes (network order) into a uint32 on little-endian hosts.
            ip: match advertised.ip() {
                std::net::IpAddr::V4(v4) => u32::from_le_bytes(v4.octets()),
                std::net::IpAddr::V6(_) => 0,
            },
            port: u32::from(advertised.port()),
            pid: Some(format!("master@{ip}:{}", advertised.port())),
            hostname: Some(hostname.clone()),
            version: Some(MESOS_VERSION.to_owned()),
            address: Some(v1::Address { hostname: Some(hostname), ip: Some(ip), port: i32::from(advertised.port()) }),
            capabilities: Vec::new(),
        };
        let agents =
            config.agents.iter().enumerate().map(|(i, a)| Agent::simulated(format!("{master_id}-S{i}"), a)).collect();
        let mut core = MasterCore {
            duplicate_updates: config.faults.duplicate_updates,
            config,
            rng,
            master_id,
            master_info,
            agents,
            frameworks: BTreeMap::new(),
            removed: BTreeSet::new(),
            offers: BTreeMap::new(),
            out: VecDeque::new(),
            timers: BTreeSet::new(),
            allocation_due: None,
            last_allocation: None,
            allocation_cursor: 0,
            next_stream: 0,
            next_framework: 0,
            next_offer: 0,
            launched: 0,
            ended: BTreeMap::new(),
            ledger: None,
            advertised,
            leading: true,
            reregister_until: None,
        };
        if core.config.task_ledger {
            core.ledger = Some(Vec::new());
        }
        // A master elected through ZooKeeper starts as a follower that knows no leader.
        core.leading = core.config.zookeeper.is_none();
        for (at, agent) in core.config.faults.lose_agents.clone() {
            core.timers.insert((at, Timer::LoseAgent(agent)));
        }
        core
    }

    /// The master's id (a UUID string made from the seed).
    pub fn master_id(&self) -> &str {
        &self.master_id
    }

    /// The `MasterInfo` sent in SUBSCRIBED.
    pub fn master_info(&self) -> &v1::MasterInfo {
        &self.master_info
    }

    /// The agent ids, in configuration order.
    pub fn agent_ids(&self) -> Vec<String> {
        self.agents.iter().map(|a| a.id.clone()).collect()
    }

    /// Switches duplicated status updates (every update sent twice, same uuid) on or off.
    pub fn set_duplicate_updates(&mut self, on: bool) {
        self.duplicate_updates = on;
    }

    /// The next output to write, in order; `None` when drained.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest instant at which [`MasterCore::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// Handles a validated-or-not call that arrived at `now`, with the request's
    /// `Mesos-Stream-Id` header (ignored for SUBSCRIBE). The HTTP-level checks that come
    /// before it (method, content type, parsing, `Accept`, a stream id on SUBSCRIBE) are the
    /// shell's.
    pub fn handle_call(&mut self, now: Duration, c: Call, stream_id: Option<&str>) -> CallOutcome {
        if let Err(e) = validate_call(&c) {
            return CallOutcome::rejected(400, format!("Failed to validate scheduler::Call: {e}"));
        }
        if !self.leading {
            return CallOutcome::rejected(503, super::Unavailable::NoLeader.text());
        }
        let kind = c.r#type.and_then(|t| call::Type::try_from(t).ok()).unwrap_or(call::Type::Unknown);
        if kind == call::Type::Subscribe {
            return self.subscribe(now, c);
        }
        let fw_id = c.framework_id.as_ref().map(|f| f.value.clone()).unwrap_or_default();
        let Some(fw) = self.frameworks.get(&fw_id) else {
            return CallOutcome::rejected(400, "Framework cannot be found");
        };
        let Some(conn) = &fw.conn else { return CallOutcome::rejected(403, "Framework is not subscribed") };
        let Some(stream_id) = stream_id else {
            return CallOutcome::rejected(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
        };
        if stream_id != conn.stream_id {
            return CallOutcome::rejected(
                400,
                format!(
                    "The stream ID '{stream_id}' included in this request didn't match the stream ID currently \
                     associated with framework ID {fw_id}"
                ),
            );
        }
        self.dispatch(now, &fw_id, kind, c)
    }

    fn dispatch(&mut self, now: Duration, fw: &str, kind: call::Type, c: Call) -> CallOutcome {
        match kind {
            call::Type::Teardown => self.remove_framework(now, fw),
            call::Type::Accept => self.accept(now, fw, c.accept.unwrap_or_default()),
            call::Type::Decline => {
                let d = c.decline.unwrap_or_default();
                self.decline(now, fw, &d.offer_ids, d.filters.as_ref());
            }
            call::Type::Revive => self.revive(now, fw, &c.revive.unwrap_or_default().roles),
            call::Type::Suppress => self.suppress(fw, &c.suppress.unwrap_or_default().roles),
            call::Type::Kill => self.kill(now, fw, &c.kill.unwrap_or_default()),
            call::Type::Acknowledge => self.acknowledge(now, fw, &c.acknowledge.unwrap_or_default()),
            call::Type::Reconcile => self.reconcile(now, fw, &c.reconcile.unwrap_or_default()),
            call::Type::UpdateFramework => {
                let update = c.update_framework.unwrap_or_default();
                if let Some(f) = self.frameworks.get_mut(fw) {
                    f.roles = roles_of(&update.framework_info);
                    f.info = update.framework_info;
                    f.suppressed = update.suppressed_roles.into_iter().collect();
                }
                self.request_allocation(now);
                return CallOutcome::Ok;
            }
            // Nothing to simulate: no executors to message, no inverse offers, no operations.
            call::Type::Shutdown
            | call::Type::Message
            | call::Type::Request
            | call::Type::AcceptInverseOffers
            | call::Type::DeclineInverseOffers
            | call::Type::AcknowledgeOperationStatus
            | call::Type::ReconcileOperations => {}
            call::Type::Unknown | call::Type::Subscribe => return CallOutcome::rejected(501, ""),
        }
        CallOutcome::Accepted
    }

    /// The stream's connection is gone (client closed it, or the shell cut it). The framework
    /// becomes disconnected: its offers are withdrawn and its failover timeout starts.
    /// An agent process' stream closing only detaches it: the agent stays until it stops
    /// calling for the agent timeout.
    pub fn handle_stream_closed(&mut self, now: Duration, stream: StreamKey) {
        if self.detach_agent_stream(stream) {
            return;
        }
        let id = self
            .frameworks
            .values()
            .find(|f| f.conn.as_ref().is_some_and(|c| c.stream == stream))
            .map(|f| f.id.clone());
        if let Some(id) = id {
            self.disconnect(now, &id);
        }
    }

    /// Marks a connected framework disconnected: its failover timeout starts and its offers are
    /// withdrawn without RESCIND. Returns the stream it was connected on.
    pub(crate) fn disconnect(&mut self, now: Duration, id: &str) -> Option<StreamKey> {
        let fw = self.frameworks.get_mut(id)?;
        let conn = fw.conn.take()?;
        fw.next_heartbeat = None;
        let timeout = fw.info.failover_timeout.unwrap_or(0.0);
        let timeout = Duration::try_from_secs_f64(timeout.clamp(0.0, 3.2e9)).unwrap_or_default();
        let at = now + timeout;
        fw.failover_at = Some(at);
        self.timers.insert((at, Timer::Failover(id.to_owned())));
        self.recover_offers_of(now, id, false);
        Some(conn.stream)
    }

    /// Handles every deadline up to `now`.
    pub fn handle_timeout(&mut self, now: Duration) {
        while self.timers.first().is_some_and(|(at, _)| *at <= now) {
            let Some((at, timer)) = self.timers.pop_first() else { break };
            self.fire(now, at, timer);
        }
    }

    fn fire(&mut self, now: Duration, at: Duration, timer: Timer) {
        match timer {
            Timer::Allocation => {
                if self.allocation_due == Some(at) {
                    self.allocation_due = None;
                    self.last_allocation = Some(now);
                    self.allocate(now);
                }
            }
            Timer::FilterExpiry => self.request_allocation(now),
            Timer::Heartbeat(fw) => {
                let interval = self.config.heartbeat_interval.max(MIN_PERIOD);
                let Some(f) = self.frameworks.get_mut(&fw) else { return };
                if f.conn.is_none() || f.next_heartbeat != Some(at) {
                    return;
                }
                let next = at + interval;
                f.next_heartbeat = Some(next);
                self.timers.insert((next, Timer::Heartbeat(fw.clone())));
                self.send(&fw, heartbeat());
            }
            Timer::Failover(fw) => {
                let due = self.frameworks.get(&fw).is_some_and(|f| f.conn.is_none() && f.failover_at == Some(at));
                if due {
                    self.remove_framework(now, &fw);
                }
            }
            Timer::TaskStep(fw, task) => self.task_step(now, at, &fw, &task),
            Timer::UpdateRetry(fw, task) => self.retry_update(now, at, &fw, &task),
            Timer::OfferTimeout(offer) => {
                if self.offers.get(&offer).is_some_and(|o| o.expires == Some(at)) {
                    self.rescind(now, &offer);
                }
            }
            Timer::LoseAgent(agent) => {
                self.handle_lose_agent(now, agent);
            }
            Timer::AgentHeartbeat(agent) => self.agent_heartbeat(at, agent),
            Timer::AgentTimeout(agent) => self.agent_timeout(now, agent),
        }
    }

    /// Queues `event` for the framework's stream; dropped when it is disconnected.
    pub(crate) fn send(&mut self, fw: &str, event: Event) {
        if let Some(stream) = self.frameworks.get(fw).and_then(|f| f.conn.as_ref()).map(|c| c.stream) {
            self.out.push_back(Output::Event { stream, event });
        }
    }

    /// A key for a new event stream.
    pub(crate) fn new_stream_key(&mut self) -> StreamKey {
        let stream = StreamKey(self.next_stream);
        self.next_stream += 1;
        stream
    }

    pub(crate) fn new_uuid(&mut self) -> [u8; 16] {
        uuid_bytes(&mut self.rng)
    }

    fn subscribe(&mut self, now: Duration, c: Call) -> CallOutcome {
        let sub = c.subscribe.unwrap_or_default();
        let info = sub.framework_info;
        let stream = self.new_stream_key();
        let stream_id = uuid_string(&self.new_uuid());
        let subscribed = CallOutcome::Subscribed { stream, stream_id: stream_id.clone() };
        let requested = info.id.as_ref().map(|id| id.value.clone());
        let error = if requested.as_ref().is_some_and(|id| self.removed.contains(id)) {
            Some("Framework has been removed".to_owned())
        } else {
            framework_info_error(&info)
        };
        if let Some(error) = error {
            self.out.push_back(Output::Event { stream, event: error_event(&error) });
            self.out.push_back(Output::Close { stream });
            return subscribed;
        }
        let id = match requested {
            Some(id) => id,
            None => self.new_framework_id(),
        };
        if let Some(old) = self.frameworks.get(&id).and_then(|f| f.conn.as_ref()).map(|c| c.stream) {
            self.out.push_back(Output::Event { stream: old, event: error_event("Framework failed over") });
            self.out.push_back(Output::Close { stream: old });
        }
        let fw = self.frameworks.entry(id.clone()).or_insert_with(|| Framework::new(&id, info.clone()));
        let mut info = info;
        info.id = Some(v1::FrameworkId { value: id.clone() });
        fw.roles = roles_of(&info);
        fw.info = info;
        fw.suppressed = sub.suppressed_roles.into_iter().collect();
        fw.conn = Some(Conn { stream, stream_id });
        fw.failover_at = None;
        let interval = self.config.heartbeat_interval.max(MIN_PERIOD);
        fw.next_heartbeat = Some(now + interval);
        self.timers.insert((now + interval, Timer::Heartbeat(id.clone())));
        let subscribed_event = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: v1::FrameworkId { value: id.clone() },
                heartbeat_interval_seconds: Some(interval.as_secs_f64()),
                master_info: Some(self.master_info.clone()),
            }),
            ..Default::default()
        };
        self.send(&id, subscribed_event);
        self.send(&id, heartbeat());
        self.deliver_waiting(now, &id);
        // Offers are rescinded and regenerated on every (re-)subscription.
        self.recover_offers_of(now, &id, true);
        self.request_allocation(now);
        subscribed
    }

    /// `<master id>-<n>` for the next `n` whose id no framework has or had (a framework of an
    /// earlier leader with the same master id may have it).
    fn new_framework_id(&mut self) -> String {
        loop {
            let id = format!("{}-{:04}", self.master_id, self.next_framework);
            self.next_framework += 1;
            if !self.frameworks.contains_key(&id) && !self.removed.contains(&id) {
                return id;
            }
        }
    }

    /// Tears a framework down: kills its tasks (no updates), withdraws its offers, closes
    /// its stream, and forgets it (a later SUBSCRIBE with its id gets an ERROR).
    pub(crate) fn remove_framework(&mut self, now: Duration, id: &str) {
        self.recover_offers_of(now, id, false);
        self.shutdown_framework_on_agents(id);
        let Some(mut fw) = self.frameworks.remove(id) else { return };
        for (task_id, task) in std::mem::take(&mut fw.tasks) {
            self.release_task(id, &task_id, &task);
        }
        if let Some(conn) = fw.conn {
            self.out.push_back(Output::Close { stream: conn.stream });
        }
        self.removed.insert(id.to_owned());
        self.request_allocation(now);
    }

    /// Schedules an allocation run, no sooner than `allocation_interval` after the last.
    pub(crate) fn request_allocation(&mut self, now: Duration) {
        if self.allocation_due.is_some() {
            return;
        }
        let due = match self.last_allocation {
            Some(last) => now.max(last + self.config.allocation_interval),
            None => now,
        };
        self.allocation_due = Some(due);
        self.timers.insert((due, Timer::Allocation));
    }
}

/// The ERROR event with `message`.
pub(crate) fn error_event(message: &str) -> Event {
    Event {
        r#type: Some(event::Type::Error as i32),
        error: Some(event::Error { message: message.to_owned() }),
        ..Default::default()
    }
}

fn heartbeat() -> Event {
    Event { r#type: Some(event::Type::Heartbeat as i32), ..Default::default() }
}

/// The roles a framework subscribes with: `roles` (MULTI_ROLE) or the deprecated `role`.
fn roles_of(info: &v1::FrameworkInfo) -> Vec<String> {
    let multi =
        info.capabilities.iter().any(|c| c.r#type == Some(v1::framework_info::capability::Type::MultiRole as i32));
    if multi {
        info.roles.clone()
    } else {
        #[allow(deprecated)]
        let role = info.role.clone().unwrap_or_else(|| "*".to_owned());
        vec![role]
    }
}

/// The master's FrameworkInfo checks (answered with an ERROR event on the new stream).
fn framework_info_error(info: &v1::FrameworkInfo) -> Option<String> {
    let multi =
        info.capabilities.iter().any(|c| c.r#type == Some(v1::framework_info::capability::Type::MultiRole as i32));
    #[allow(deprecated)]
    let has_role = info.role.is_some();
    if multi && has_role {
        Some("'FrameworkInfo.role' must not be present when the MULTI_ROLE capability is enabled".into())
    } else if !multi && !info.roles.is_empty() {
        Some("'FrameworkInfo.roles' must not be set when the MULTI_ROLE capability is not enabled".into())
    } else if info.user.is_empty() {
        Some("'FrameworkInfo.user' must not be empty".into())
    } else {
        None
    }
}

/// 16 random bytes shaped as a version-4 UUID.
pub(crate) fn uuid_bytes(rng: &mut SeededRng) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    b[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    b
}

/// The 8-4-4-4-12 hex form of a UUID.
pub(crate) fn uuid_string(b: &[u8; 16]) -> String {
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
