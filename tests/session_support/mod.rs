//! A virtual-clock harness for whole-session scenarios: feeds events, collects calls (decoded
//! from their protobuf bytes, as a master would see them) and updates. Included by the
//! `session_*` scenario files with `#[path]`; compiled alone it holds no tests.
#![cfg(feature = "mesos")]
#![allow(dead_code)]

use std::time::Duration;

use offerpack::mesos::v1::scheduler::{event, Call, Event};
use offerpack::mesos::v1::{self, value};
use offerpack::session::{
    Action, CallId, CallKind, CallOutcome, Endpoint, OperatorQuery, QueryAnswer, Session, SessionConfig, TaskState,
    Update,
};
use prost::Message;

pub const MS: Duration = Duration::from_millis(1);

/// A session on a virtual clock.
pub struct Harness {
    pub session: Session,
    pub now: Duration,
    /// Calls handed out and not answered yet, in order.
    pub calls: Vec<(CallId, Call)>,
    pub subscribes: Vec<Call>,
    /// Where each SUBSCRIBE went, in order.
    pub subscribe_targets: Vec<Endpoint>,
    /// Where each call or read was sent, in the order handed out (a call sent again appears
    /// again).
    pub targets: Vec<(CallId, Endpoint)>,
    pub disconnects: usize,
    /// Operator API reads handed out and not answered yet.
    pub queries: Vec<(CallId, OperatorQuery)>,
    pub stopped: bool,
    pub updates: Vec<Update>,
}

/// The scenarios' settings: a failed call is final at once (one attempt, no retry), so that
/// the task logic's answer to a failure shows at the first answer; `session_policy.rs` turns
/// call retries on.
pub fn config() -> SessionConfig {
    let mut config = SessionConfig::new("scenario", "root");
    config.schedule_delay = Duration::from_millis(10);
    config.call_retry.attempts = 1;
    config
}

impl Harness {
    pub fn new(config: SessionConfig) -> Harness {
        let session = Session::new(config).expect("valid config");
        let mut harness = Harness {
            session,
            now: Duration::ZERO,
            calls: Vec::new(),
            subscribes: Vec::new(),
            subscribe_targets: Vec::new(),
            targets: Vec::new(),
            disconnects: 0,
            queries: Vec::new(),
            stopped: false,
            updates: Vec::new(),
        };
        harness.drain();
        harness
    }

    /// A harness subscribed as `fw-1`.
    pub fn subscribed() -> Harness {
        let mut harness = Harness::new(config());
        harness.advance(Duration::ZERO);
        harness.open_stream("fw-1");
        harness
    }

    /// Drains actions (re-encoding each call to bytes and decoding it, as the wire would) and
    /// updates, in the documented order.
    pub fn drain(&mut self) {
        while let Some(action) = self.session.poll_action() {
            match action {
                Action::Subscribe(call, endpoint) => {
                    self.subscribes.push(wire(&call));
                    self.subscribe_targets.push(endpoint);
                }
                Action::Send(id, call, endpoint) => {
                    self.calls.push((id, wire(&call)));
                    self.targets.push((id, endpoint));
                }
                Action::Query(id, query, endpoint) => {
                    self.queries.push((id, query));
                    self.targets.push((id, endpoint));
                }
                Action::Disconnect => self.disconnects += 1,
                Action::Stopped => self.stopped = true,
            }
        }
        self.updates.extend(std::iter::from_fn(|| self.session.poll_update()));
    }

    /// Moves the clock forward by `by`, firing every deadline on the way.
    pub fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        while let Some(at) = self.session.poll_timeout().filter(|at| *at <= until) {
            self.now = self.now.max(at);
            self.session.handle_timeout(self.now);
            self.drain();
            if self.session.poll_timeout() == Some(at) && at <= self.now {
                break;
            }
        }
        self.now = until;
    }

    /// Answers the pending SUBSCRIBE with 200 and a `SUBSCRIBED` event.
    pub fn open_stream(&mut self, framework_id: &str) {
        self.session.handle_subscribed(format!("stream-{}", self.subscribes.len()), self.now);
        self.event(subscribed(framework_id));
    }

    pub fn event(&mut self, event: Event) {
        self.session.handle_event(event, self.now);
        self.drain();
    }

    /// Takes the unanswered calls of one kind, answering them with `outcome`.
    pub fn answer(&mut self, kind: CallKind, outcome: CallOutcome) -> Vec<Call> {
        let (taken, kept): (Vec<_>, Vec<_>) = self.calls.drain(..).partition(|(_, c)| CallKind::of(c) == kind);
        self.calls = kept;
        for (id, _) in &taken {
            self.session.handle_call_result(*id, outcome.clone(), self.now);
        }
        self.drain();
        taken.into_iter().map(|(_, call)| call).collect()
    }

    /// Answers every unanswered operator API read with what `answer` makes of it.
    pub fn answer_queries(&mut self, mut answer: impl FnMut(OperatorQuery) -> Result<QueryAnswer, CallOutcome>) {
        for (id, query) in std::mem::take(&mut self.queries) {
            self.session.handle_query_result(id, answer(query), self.now);
            self.drain();
        }
    }

    /// Takes and accepts (202) the unanswered calls of one kind.
    pub fn take(&mut self, kind: CallKind) -> Vec<Call> {
        self.answer(kind, CallOutcome::Accepted)
    }

    /// Accepts every unanswered call.
    pub fn accept_all(&mut self) -> Vec<Call> {
        let taken: Vec<_> = self.calls.drain(..).collect();
        for (id, _) in &taken {
            self.session.handle_call_result(*id, CallOutcome::Accepted, self.now);
        }
        self.drain();
        taken.into_iter().map(|(_, call)| call).collect()
    }

    /// The states reported for one task, in order.
    pub fn states(&self, task: &str) -> Vec<TaskState> {
        self.updates
            .iter()
            .filter_map(|u| match u {
                Update::Task(t) if t.task_id.as_str() == task => Some(t.state),
                _ => None,
            })
            .collect()
    }
}

/// The call as the master would decode it from the wire.
fn wire(call: &Call) -> Call {
    Call::decode(call.encode_to_vec().as_slice()).expect("calls decode")
}

/// A session taking over framework `fw-1` (a successor's): its stream open, subscribed.
pub fn taking_over() -> Harness {
    let mut config = config();
    config.framework_id = Some("fw-1".into());
    let mut h = Harness::new(config);
    h.advance(Duration::ZERO);
    h.open_stream("fw-1");
    h
}

pub fn subscribed(framework_id: &str) -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: v1::FrameworkId { value: framework_id.into() },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    }
}

pub fn heartbeat() -> Event {
    Event { r#type: Some(event::Type::Heartbeat as i32), ..Default::default() }
}

pub fn scalar(name: &str, amount: f64) -> v1::Resource {
    v1::Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value: amount }),
        allocation_info: Some(v1::resource::AllocationInfo { role: Some("*".into()) }),
        ..Default::default()
    }
}

pub fn ports(begin: u64, end: u64) -> v1::Resource {
    v1::Resource {
        name: "ports".into(),
        r#type: value::Type::Ranges as i32,
        ranges: Some(value::Ranges { range: vec![value::Range { begin, end }] }),
        allocation_info: Some(v1::resource::AllocationInfo { role: Some("*".into()) }),
        ..Default::default()
    }
}

/// An offer of `cpus` and `mem` (and ports 31000-31009) from `agent`.
pub fn offer(id: &str, agent: &str, cpus: f64, mem: f64) -> v1::Offer {
    v1::Offer {
        id: v1::OfferId { value: id.into() },
        framework_id: v1::FrameworkId { value: "fw-1".into() },
        agent_id: v1::AgentId { value: agent.into() },
        hostname: format!("host-{agent}"),
        resources: vec![scalar("cpus", cpus), scalar("mem", mem), ports(31000, 31009)],
        allocation_info: Some(v1::resource::AllocationInfo { role: Some("*".into()) }),
        ..Default::default()
    }
}

pub fn offers(offers: Vec<v1::Offer>) -> Event {
    Event { r#type: Some(event::Type::Offers as i32), offers: Some(event::Offers { offers }), ..Default::default() }
}

pub fn rescind(offer: &str) -> Event {
    Event {
        r#type: Some(event::Type::Rescind as i32),
        rescind: Some(event::Rescind { offer_id: v1::OfferId { value: offer.into() } }),
        ..Default::default()
    }
}

pub fn update(task: &str, agent: &str, state: v1::TaskState, uuid: Option<u8>) -> Event {
    status_event(v1::TaskStatus {
        task_id: v1::TaskId { value: task.into() },
        state: state as i32,
        agent_id: Some(v1::AgentId { value: agent.into() }),
        source: Some(v1::task_status::Source::Executor as i32),
        uuid: uuid.map(|b| vec![b; 16]),
        ..Default::default()
    })
}

/// A master-generated update (no uuid) with a reason.
pub fn master_update(task: &str, state: v1::TaskState, reason: v1::task_status::Reason) -> Event {
    status_event(v1::TaskStatus {
        task_id: v1::TaskId { value: task.into() },
        state: state as i32,
        source: Some(v1::task_status::Source::Master as i32),
        reason: Some(reason as i32),
        message: Some("from the master".into()),
        ..Default::default()
    })
}

pub fn status_event(status: v1::TaskStatus) -> Event {
    Event { r#type: Some(event::Type::Update as i32), update: Some(event::Update { status }), ..Default::default() }
}

pub fn failure(agent: &str) -> Event {
    Event {
        r#type: Some(event::Type::Failure as i32),
        failure: Some(event::Failure {
            agent_id: Some(v1::AgentId { value: agent.into() }),
            executor_id: None,
            status: None,
        }),
        ..Default::default()
    }
}

/// Task ids launched by an ACCEPT.
pub fn launched(accept: &Call) -> Vec<String> {
    accept
        .accept
        .iter()
        .flat_map(|a| &a.operations)
        .flat_map(|op| op.launch.iter())
        .flat_map(|l| &l.task_infos)
        .map(|t| t.task_id.value.clone())
        .collect()
}

/// Offer ids named by an ACCEPT or DECLINE.
pub fn offer_ids(call: &Call) -> Vec<String> {
    let ids = match (&call.accept, &call.decline) {
        (Some(accept), _) => &accept.offer_ids,
        (_, Some(decline)) => &decline.offer_ids,
        _ => return Vec::new(),
    };
    ids.iter().map(|id| id.value.clone()).collect()
}
