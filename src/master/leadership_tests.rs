//! Leadership in the master core, on a virtual clock: a ZooKeeper master refuses calls until
//! elected, adopts agents of an earlier leader with their tasks during its re-registration
//! window, holds back reconciliation answers for agents that may still come back, and starts
//! afresh when it stops leading.

use std::time::Duration;

use super::test_sim::Sim;
use super::*;
use crate::mesos::agent_api::{self, call as acall};
use crate::mesos::v1::{self, scheduler::call, scheduler::Call, scheduler::Event, TaskState};
use crate::session::ZkUrl;

const SECOND: Duration = Duration::from_secs(1);

impl Sim {
    /// A master elected through ZooKeeper, with a 10 s re-registration window, no simulated
    /// agents, allocations at once.
    fn elected() -> Sim {
        let mut config = MasterConfig::default().with_agent_timing(SECOND, 60 * SECOND);
        config.allocation_interval = Duration::ZERO;
        config.zookeeper = Some(ZkElection::new(ZkUrl::parse("zk://127.0.0.1:2181/mesos").unwrap()));
        Sim::new(config)
    }

    fn lead(&mut self, leading: bool) {
        self.core.handle_leadership(self.now, leading);
        self.drain();
    }

    fn register(&mut self, id: Option<&str>, tasks: Vec<v1::Task>) -> AgentAnswer {
        let agent_info = v1::AgentInfo {
            hostname: "10.0.0.7".into(),
            port: Some(5151),
            resources: vec![scalar("cpus", 2.0), scalar("mem", 1024.0)],
            id: id.map(|value| v1::AgentId { value: value.into() }),
            ..Default::default()
        };
        let register = acall::Register { agent_info, tasks, executors: vec![] };
        let c = agent_api::Call {
            r#type: Some(acall::Type::Register as i32),
            register: Some(register),
            ..Default::default()
        };
        let answer = self.core.handle_agent_call(self.now, c);
        self.drain();
        answer
    }

    /// SUBSCRIBE, with `id` as a re-registration; the stream, its stream id and the events.
    fn subscribe(&mut self, id: Option<&str>) -> Result<(StreamKey, String, Vec<Event>), CallOutcome> {
        let info = v1::FrameworkInfo {
            user: "root".into(),
            name: "fw".into(),
            id: id.map(|value| v1::FrameworkId { value: value.into() }),
            ..Default::default()
        };
        let c = Call {
            r#type: Some(call::Type::Subscribe as i32),
            framework_id: info.id.clone(),
            subscribe: Some(call::Subscribe { framework_info: info, suppressed_roles: vec![] }),
            ..Default::default()
        };
        match self.core.handle_call(self.now, c, None) {
            CallOutcome::Subscribed { stream, stream_id } => {
                self.drain();
                let events = self.events(stream);
                Ok((stream, stream_id, events))
            }
            other => Err(other),
        }
    }

    /// Explicit reconciliation of `(task, agent)`s; the answers on the stream.
    fn reconcile(
        &mut self,
        fw: &str,
        stream: (StreamKey, &str),
        tasks: &[(&str, Option<&str>)],
    ) -> Vec<v1::TaskStatus> {
        let tasks = tasks
            .iter()
            .map(|(task, agent)| call::reconcile::Task {
                task_id: v1::TaskId { value: (*task).into() },
                agent_id: agent.map(|value| v1::AgentId { value: value.into() }),
            })
            .collect();
        let c = Call {
            r#type: Some(call::Type::Reconcile as i32),
            framework_id: Some(v1::FrameworkId { value: fw.into() }),
            reconcile: Some(call::Reconcile { tasks }),
            ..Default::default()
        };
        assert_eq!(self.core.handle_call(self.now, c, Some(stream.1)), CallOutcome::Accepted);
        self.drain();
        self.events(stream.0).iter().filter_map(|e| e.update.as_ref()).map(|u| u.status.clone()).collect()
    }
}

fn scalar(name: &str, value: f64) -> v1::Resource {
    v1::Resource {
        name: name.into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value }),
        ..Default::default()
    }
}

/// A task an agent lists at re-registration.
fn listed(fw: &str, task: &str, state: TaskState) -> v1::Task {
    v1::Task {
        name: task.into(),
        task_id: v1::TaskId { value: task.into() },
        framework_id: v1::FrameworkId { value: fw.into() },
        agent_id: v1::AgentId { value: String::new() },
        state: state as i32,
        resources: vec![scalar("cpus", 1.5)],
        ..Default::default()
    }
}

fn states(statuses: &[v1::TaskStatus]) -> Vec<(String, TaskState)> {
    statuses.iter().map(|s| (s.task_id.value.clone(), s.state())).collect()
}

#[test]
fn leadership_follower_refuses_calls_until_elected() {
    let mut sim = Sim::elected();
    assert!(!sim.core.is_leading());
    let refused = CallOutcome::Rejected { status: 503, message: "No leader elected".into() };
    assert_eq!(sim.subscribe(None).unwrap_err(), refused);
    assert_eq!(sim.register(None, vec![]), AgentAnswer::Rejected { status: 503, message: "No leader elected".into() });
    sim.lead(true);
    assert!(sim.core.is_leading());
    assert!(sim.subscribe(None).is_ok());
    assert!(matches!(sim.register(None, vec![]), AgentAnswer::Registered { .. }));
    // A master without ZooKeeper leads from the start.
    let plain = MasterCore::new(MasterConfig::default(), "127.0.0.1:5050".parse().unwrap());
    assert!(plain.is_leading());
}

#[test]
fn leadership_adopts_agents_of_an_earlier_leader_with_their_tasks() {
    let mut sim = Sim::elected();
    sim.at(5 * SECOND);
    sim.lead(true);
    sim.at(7 * SECOND);
    let tasks =
        vec![listed("old-0000", "t-1", TaskState::TaskRunning), listed("old-0000", "t-2", TaskState::TaskFinished)];
    let AgentAnswer::Registered { agent_id, .. } = sim.register(Some("old-S0"), tasks) else { panic!("refused") };
    assert_eq!(agent_id, "old-S0");
    // The framework re-subscribes with its id and is taken; its running task is charged.
    let (stream, stream_id, events) = sim.subscribe(Some("old-0000")).unwrap();
    assert_eq!(events[0].subscribed.as_ref().unwrap().framework_id.value, "old-0000");
    sim.at(7 * SECOND);
    let offers: Vec<v1::Offer> =
        sim.events(stream).iter().filter_map(|e| e.offers.as_ref()).flat_map(|o| o.offers.clone()).collect();
    let cpus: f64 = offers[0].resources.iter().filter(|r| r.name == "cpus").map(|r| r.scalar.unwrap().value).sum();
    assert_eq!((offers.len(), cpus), (1, 0.5));
    // Reconciliation: the adopted task runs; the ended one is unknown on a known agent; one on
    // an agent that has not come back gets no answer yet; one without agent is lost.
    let asked = [("t-1", Some("old-S0")), ("t-2", Some("old-S0")), ("t-3", Some("old-S1")), ("t-4", None)];
    let answers = sim.reconcile("old-0000", (stream, &stream_id), &asked);
    let expected = [("t-1", TaskState::TaskRunning), ("t-2", TaskState::TaskLost), ("t-4", TaskState::TaskLost)];
    assert_eq!(states(&answers), expected.map(|(t, s)| (t.to_owned(), s)));
    // After the window, the missing agent's task is lost too.
    sim.at(15 * SECOND);
    let answers = sim.reconcile("old-0000", (stream, &stream_id), &asked[2..3]);
    assert_eq!(states(&answers), [("t-3".to_owned(), TaskState::TaskLost)]);
}

#[test]
fn leadership_refuses_unknown_agent_ids_after_the_window() {
    let mut sim = Sim::elected();
    sim.lead(true);
    sim.at(10 * SECOND);
    let answer = sim.register(Some("old-S0"), vec![listed("old-0000", "t-1", TaskState::TaskRunning)]);
    let AgentAnswer::Rejected { status, message } = answer else { panic!("taken after the window") };
    assert_eq!((status, message.as_str()), (403, "Agent old-S0 was removed; register without an id"));
}

#[test]
fn leadership_updates_of_adopted_tasks_reach_the_framework_in_order() {
    let mut sim = Sim::elected();
    sim.lead(true);
    let AgentAnswer::Registered { agent_id, .. } =
        sim.register(Some("old-S3"), vec![listed("old-0000", "t-1", TaskState::TaskStarting)])
    else {
        panic!("refused")
    };
    // Updates the agent could not deliver before: RUNNING then FINISHED, before the framework
    // is back; it gets them at its subscription.
    for (n, state) in [(1u8, TaskState::TaskRunning), (2, TaskState::TaskFinished)] {
        let mut uuid = vec![n; 16];
        uuid[6] = 0x40;
        let status = v1::TaskStatus {
            task_id: v1::TaskId { value: "t-1".into() },
            state: state as i32,
            uuid: Some(uuid),
            ..Default::default()
        };
        let update = acall::Update { framework_id: v1::FrameworkId { value: "old-0000".into() }, status };
        let c = agent_api::Call {
            r#type: Some(acall::Type::Update as i32),
            agent_id: Some(v1::AgentId { value: agent_id.clone() }),
            update: Some(update),
            ..Default::default()
        };
        assert_eq!(sim.core.handle_agent_call(sim.now, c), AgentAnswer::Accepted);
        sim.drain();
    }
    let (_, _, events) = sim.subscribe(Some("old-0000")).unwrap();
    let updates: Vec<_> = events.iter().filter_map(|e| e.update.as_ref()).map(|u| u.status.clone()).collect();
    // One outstanding update per task: RUNNING first, FINISHED after its acknowledgement.
    assert_eq!(states(&updates), [("t-1".to_owned(), TaskState::TaskRunning)]);
    assert_eq!(updates[0].uuid.as_ref().map(|u| u[0]), Some(1));
}

#[test]
fn leadership_new_ids_skip_the_ids_of_an_earlier_leader() {
    let mut sim = Sim::elected();
    sim.lead(true);
    let master = sim.core.master_id().to_owned();
    let old_agent = format!("{master}-S1");
    let old_framework = format!("{master}-0000");
    let AgentAnswer::Registered { .. } =
        sim.register(Some(&old_agent), vec![listed(&old_framework, "t-1", TaskState::TaskRunning)])
    else {
        panic!("refused")
    };
    let AgentAnswer::Registered { agent_id, .. } = sim.register(None, vec![]) else { panic!("refused") };
    assert_eq!(agent_id, format!("{master}-S2"));
    let (_, _, events) = sim.subscribe(None).unwrap();
    assert_eq!(events[0].subscribed.as_ref().unwrap().framework_id.value, format!("{master}-0001"));
}

#[test]
fn leadership_loss_closes_every_stream_and_starts_afresh() {
    let mut sim = Sim::elected();
    sim.lead(true);
    let AgentAnswer::Registered { agent_id, stream: agent_stream } = sim.register(None, vec![]) else {
        panic!("refused")
    };
    let (stream, _, _) = sim.subscribe(None).unwrap();
    sim.at(30 * SECOND);
    sim.lead(false);
    assert!(!sim.core.is_leading());
    assert!(sim.outputs.contains(&Output::Close { stream }));
    assert!(sim.outputs.contains(&Output::Close { stream: agent_stream }));
    assert!(sim.subscribe(None).is_err());
    // Elected again later: the agent is unknown, and re-registers within the new window.
    sim.at(40 * SECOND);
    sim.lead(true);
    let AgentAnswer::Registered { stream: again, .. } = sim.register(Some(&agent_id), vec![]) else {
        panic!("refused")
    };
    assert!(again > agent_stream, "stream keys go on: {again:?} after {agent_stream:?}");
}
