//! Property: after any sequence of life-cycle events, the scheduler counts exactly the tasks the
//! tracker says run, on the same agents, once the touched tasks are synced.

use std::collections::BTreeMap;
use std::time::Duration;

use proptest::prelude::*;

use super::super::{Action, CallId, CallKind, CallOutcome, CommandSpec, Session, SessionConfig, TaskRequest};
use crate::mesos::v1;
use crate::mesos::v1::scheduler::{event, Call, Event};
use crate::model::{AgentId, TaskId};
use crate::TaskSpec;

const AGENTS: usize = 3;
const TASKS: usize = 6;

/// Per task: its agent, and its queue bucket when counted in one.
type Tally = BTreeMap<TaskId, (AgentId, Option<String>)>;

#[derive(Clone, Debug)]
enum Step {
    Submit(usize),
    Offer(usize),
    AnswerAccepts(u8),
    Status(usize, u8, usize),
    Rescind,
    AgentLost(usize),
    Reconnect,
    Kill(usize),
    Advance,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..TASKS).prop_map(Step::Submit),
        (0..AGENTS).prop_map(Step::Offer),
        (0u8..4).prop_map(Step::AnswerAccepts),
        (0..TASKS, 0u8..6, 0..AGENTS).prop_map(|(t, s, a)| Step::Status(t, s, a)),
        Just(Step::Rescind),
        (0..AGENTS).prop_map(Step::AgentLost),
        Just(Step::Reconnect),
        (0..TASKS).prop_map(Step::Kill),
        Just(Step::Advance),
    ]
}

fn event_of(kind: event::Type, fill: impl FnOnce(&mut Event)) -> Event {
    let mut event = Event { r#type: Some(kind as i32), ..Default::default() };
    fill(&mut event);
    event
}

fn scalar(name: &str, amount: f64) -> v1::Resource {
    v1::Resource {
        name: name.into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value: amount }),
        ..Default::default()
    }
}

struct Run {
    session: Session,
    now: Duration,
    /// Calls handed out and not answered.
    calls: Vec<(CallId, Call)>,
    offers: Vec<String>,
    next_offer: u32,
    subscriptions: u32,
}

impl Run {
    fn new(queued: bool) -> Run {
        let mut config = SessionConfig::new("prop", "root");
        config.schedule_delay = Duration::ZERO;
        if queued {
            let mut queue = crate::queue::QueueConfig::default();
            let batch = crate::queue::BucketConfig { weight: 2.0, ..Default::default() };
            queue.buckets.insert("batch".into(), batch);
            config.queue = Some(queue);
        }
        let mut run = Run {
            session: Session::new(config).unwrap(),
            now: Duration::ZERO,
            calls: Vec::new(),
            offers: Vec::new(),
            next_offer: 0,
            subscriptions: 0,
        };
        run.subscribe();
        run
    }

    fn subscribe(&mut self) {
        self.session.handle_timeout(self.now);
        self.subscriptions += 1;
        self.session.handle_subscribed(format!("s-{}", self.subscriptions), self.now);
        let subscribed = event_of(event::Type::Subscribed, |e| {
            e.subscribed = Some(event::Subscribed {
                framework_id: v1::FrameworkId { value: "fw-1".into() },
                heartbeat_interval_seconds: Some(15.0),
                master_info: None,
            })
        });
        self.session.handle_event(subscribed, self.now);
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(action) = self.session.poll_action() {
            if let Action::Send(id, call, _) = action {
                self.calls.push((id, call));
            }
        }
        while self.session.poll_update().is_some() {}
    }

    fn apply(&mut self, step: &Step) {
        self.now += Duration::from_millis(5);
        match step {
            Step::Submit(t) => {
                let spec = TaskSpec::builder(format!("t-{t}"), format!("g-{}", t % 2)).scalar("cpus", 1.0).build();
                let bucket = if t % 3 == 0 { "batch" } else { "default" };
                let request = TaskRequest::command(spec.unwrap(), CommandSpec::shell("true")).queue(0, bucket);
                let _ = self.session.submit(request, self.now);
            }
            Step::Offer(a) => {
                self.next_offer += 1;
                let id = format!("o-{}", self.next_offer);
                let offer = v1::Offer {
                    id: v1::OfferId { value: id.clone() },
                    framework_id: v1::FrameworkId { value: "fw-1".into() },
                    agent_id: v1::AgentId { value: format!("a-{a}") },
                    hostname: format!("host-{a}"),
                    resources: vec![scalar("cpus", 2.0), scalar("mem", 1024.0)],
                    ..Default::default()
                };
                self.offers.push(id);
                let event = event_of(event::Type::Offers, |e| e.offers = Some(event::Offers { offers: vec![offer] }));
                self.session.handle_event(event, self.now);
            }
            Step::AnswerAccepts(how) => {
                let outcome = match how {
                    0 => CallOutcome::Accepted,
                    1 => CallOutcome::NotSent,
                    2 => CallOutcome::Rejected { status: 400, message: "bad".into() },
                    _ => CallOutcome::Unavailable("503".into()),
                };
                let accepts: Vec<CallId> =
                    self.calls.iter().filter(|(_, c)| CallKind::of(c) == CallKind::Accept).map(|(id, _)| *id).collect();
                self.calls.retain(|(_, c)| CallKind::of(c) != CallKind::Accept);
                for id in accepts {
                    self.session.handle_call_result(id, outcome.clone(), self.now);
                }
            }
            Step::Status(t, s, a) => {
                let state = [
                    v1::TaskState::TaskStarting,
                    v1::TaskState::TaskRunning,
                    v1::TaskState::TaskFinished,
                    v1::TaskState::TaskFailed,
                    v1::TaskState::TaskLost,
                    v1::TaskState::TaskKilled,
                ][usize::from(*s)];
                let status = v1::TaskStatus {
                    task_id: v1::TaskId { value: format!("t-{t}") },
                    state: state as i32,
                    agent_id: Some(v1::AgentId { value: format!("a-{a}") }),
                    ..Default::default()
                };
                let event = event_of(event::Type::Update, |e| e.update = Some(event::Update { status }));
                self.session.handle_event(event, self.now);
            }
            Step::Rescind => {
                if let Some(id) = self.offers.pop() {
                    let rescind = event::Rescind { offer_id: v1::OfferId { value: id } };
                    self.session.handle_event(event_of(event::Type::Rescind, |e| e.rescind = Some(rescind)), self.now);
                }
            }
            Step::AgentLost(a) => {
                let failure = event::Failure {
                    agent_id: Some(v1::AgentId { value: format!("a-{a}") }),
                    executor_id: None,
                    status: None,
                };
                self.session.handle_event(event_of(event::Type::Failure, |e| e.failure = Some(failure)), self.now);
            }
            Step::Reconnect => {
                self.session.handle_disconnected(self.now);
                self.drain();
                for (id, _) in std::mem::take(&mut self.calls) {
                    self.session.handle_call_result(id, CallOutcome::NotSent, self.now);
                }
                self.now = self.session.poll_timeout().unwrap_or(self.now).max(self.now);
                self.subscribe();
            }
            Step::Kill(t) => {
                let _ = self.session.kill(&TaskId::new(format!("t-{t}")), self.now);
            }
            Step::Advance => {
                self.now += Duration::from_secs(1);
                self.session.handle_timeout(self.now);
            }
        }
        self.drain();
    }

    /// What the tracker says runs, and what the scheduler counts, by task: agent and queue
    /// bucket (when the session has a queue).
    fn both(&mut self) -> (Tally, Tally) {
        self.session.sync_running();
        let session = &self.session;
        let queued = session.config.queue.is_some();
        let ids: Vec<TaskId> = session.tasks.live_ids().cloned().collect();
        let tracked = ids
            .iter()
            .filter_map(|id| session.tasks.running_one(id, &session.agents))
            .map(|t| {
                let bucket = session.tasks.place_of(&t.id).filter(|_| queued).map(|p| p.bucket.to_string());
                (t.id, (t.agent_id, bucket))
            })
            .collect();
        let counted = session
            .scheduler
            .running()
            .map(|t| {
                let bucket = session.scheduler.place_of(&t.id).map(|p| p.bucket.to_string());
                (t.id.clone(), (t.agent_id.clone(), bucket))
            })
            .collect();
        (tracked, counted)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn session_scheduler_counts_what_the_tracker_runs(
        steps in proptest::collection::vec(step(), 1..60),
        queued in any::<bool>(),
    ) {
        let mut run = Run::new(queued);
        for (at, step) in steps.iter().enumerate() {
            run.apply(step);
            let (tracked, counted) = run.both();
            prop_assert_eq!(&tracked, &counted, "after step {} ({:?})", at, step);
        }
    }
}
