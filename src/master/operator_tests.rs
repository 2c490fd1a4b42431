//! Unit tests of the operator API core (`MasterCore::handle_operator`) on a virtual clock.

use std::time::Duration;

use super::core_tests::{ack, typed, Fw};
use super::operator::record_status;
use super::resources::Resources;
use super::*;
use crate::mesos::v1::master::{call as op_call, response, Call as OpCall, Response};
use crate::mesos::v1::{self, scheduler::call, scheduler::Call, scheduler::Event, TaskState};

const SECOND: Duration = Duration::from_secs(1);

struct Sim {
    core: MasterCore,
    now: Duration,
    events: Vec<Event>,
}

impl Sim {
    /// Two agents of 4 cpus / 4096 MB, with attributes `rack: r<i>` and `zone: z`, no jitter.
    fn new() -> Sim {
        let template = AgentConfig::new("", 4.0, 4096.0).with_attribute("rack", "r{i}").with_attribute("zone", "z");
        let mut config = MasterConfig::default().with_uniform_agents(2, &template);
        config.tasks.jitter = 0.0;
        Sim { core: MasterCore::new(config, "127.0.0.1:5050".parse().unwrap()), now: Duration::ZERO, events: vec![] }
    }

    fn drain(&mut self) {
        while let Some(output) = self.core.poll_output() {
            if let Output::Event { event, .. } = output {
                self.events.push(event);
            }
        }
    }

    fn call(&mut self, c: Call, fw: Option<&Fw>) -> CallOutcome {
        let outcome = self.core.handle_call(self.now, c, fw.map(|f| f.stream_id.as_str()));
        self.drain();
        outcome
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        while let Some(at) = self.core.poll_timeout().filter(|at| *at <= until) {
            self.now = self.now.max(at);
            self.core.handle_timeout(self.now);
            self.drain();
        }
        self.now = until;
    }

    fn subscribe(&mut self, capabilities: &[v1::framework_info::capability::Type]) -> Fw {
        let info = v1::FrameworkInfo {
            user: "root".into(),
            name: "op".into(),
            failover_timeout: Some(3600.0),
            capabilities: capabilities
                .iter()
                .map(|c| v1::framework_info::Capability { r#type: Some(*c as i32) })
                .collect(),
            ..Default::default()
        };
        let c = Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe { framework_info: info, suppressed_roles: vec![] }),
            ..Default::default()
        };
        let CallOutcome::Subscribed { stream, stream_id } = self.call(c, None) else { panic!("not subscribed") };
        let id = self.events[0].subscribed.as_ref().unwrap().framework_id.value.clone();
        self.events.clear();
        Fw { id, stream, stream_id }
    }

    fn take_offers(&mut self) -> Vec<v1::Offer> {
        let events = std::mem::take(&mut self.events);
        events.into_iter().filter_map(|e| e.offers).flat_map(|o| o.offers).collect()
    }

    fn take_updates(&mut self) -> Vec<v1::TaskStatus> {
        let events = std::mem::take(&mut self.events);
        events.into_iter().filter_map(|e| e.update).map(|u| u.status).collect()
    }

    fn operator(&mut self, kind: op_call::Type) -> Response {
        let answer = self.core.handle_operator(self.now, OpCall { r#type: Some(kind as i32) });
        answer.unwrap_or_else(|e| panic!("{kind:?} rejected: {e:?}"))
    }

    fn agents(&mut self) -> Vec<response::get_agents::Agent> {
        let answer = self.operator(op_call::Type::GetAgents);
        assert_eq!(answer.r#type(), response::Type::GetAgents);
        answer.get_agents.unwrap().agents
    }

    fn tasks(&mut self) -> response::GetTasks {
        let answer = self.operator(op_call::Type::GetTasks);
        assert_eq!(answer.r#type(), response::Type::GetTasks);
        answer.get_tasks.unwrap()
    }
}

fn cpus(amount: f64) -> v1::Resource {
    v1::Resource {
        name: "cpus".into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value: amount }),
        ..Default::default()
    }
}

fn launch(fw: &Fw, offer: &v1::Offer, task: &str, amount: f64) -> Call {
    let info = v1::TaskInfo {
        name: format!("{task}-name"),
        task_id: v1::TaskId { value: task.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![cpus(amount)],
        command: Some(v1::CommandInfo {
            value: Some("true".into()),
            user: Some("nobody".into()),
            ..Default::default()
        }),
        labels: Some(v1::Labels {
            labels: vec![
                v1::Label { key: "team".into(), value: Some("blue".into()) },
                v1::Label { key: "flag".into(), value: None },
            ],
        }),
        ..Default::default()
    };
    let op = v1::offer::Operation {
        r#type: Some(v1::offer::operation::Type::Launch as i32),
        launch: Some(v1::offer::operation::Launch { task_infos: vec![info] }),
        ..Default::default()
    };
    let mut c = typed(fw, call::Type::Accept);
    c.accept = Some(call::Accept { offer_ids: vec![offer.id.clone()], operations: vec![op], filters: None });
    c
}

fn scalar(resources: &[v1::Resource], name: &str) -> f64 {
    Resources::from_protos(resources).unwrap().scalar(name)
}

#[test]
fn operator_get_agents_lists_agents_as_their_offers_show_them() {
    let mut sim = Sim::new();
    let fw = sim.subscribe(&[]);
    sim.run_for(Duration::ZERO);
    let offers = sim.take_offers();
    assert_eq!(offers.len(), 2);
    let agents = sim.agents();
    assert_eq!(agents.len(), 2);
    for offer in &offers {
        let agent = agents.iter().find(|a| a.agent_info.id.as_ref() == Some(&offer.agent_id)).expect("listed");
        assert_eq!(agent.agent_info.hostname, offer.hostname);
        assert_eq!(agent.agent_info.attributes, offer.attributes);
        assert_eq!(agent.agent_info.port(), 5051);
        assert_eq!(agent.agent_info.resources, agent.total_resources);
        assert_eq!(Resources::from_protos(&agent.offered_resources), Resources::from_protos(&offer.resources));
        assert!(agent.allocated_resources.is_empty());
        assert!(agent.active);
        assert_eq!(agent.version, MESOS_VERSION);
        assert_eq!(agent.pid.as_deref(), Some("slave(1)@127.0.0.1:5051"));
    }
    assert_eq!(scalar(&agents[0].total_resources, "cpus"), 4.0);
    // Launching 1.5 cpus moves them from offered to allocated (the rest goes back to free).
    sim.call(launch(&fw, &offers[0], "t1", 1.5), Some(&fw));
    let agents = sim.agents();
    let first = agents.iter().find(|a| a.agent_info.id.as_ref() == Some(&offers[0].agent_id)).unwrap();
    assert_eq!(scalar(&first.allocated_resources, "cpus"), 1.5);
    assert!(first.offered_resources.is_empty());
}

#[test]
fn operator_get_agents_leaves_out_lost_agents_until_they_return() {
    let mut sim = Sim::new();
    let ids = sim.core.agent_ids();
    assert!(sim.core.handle_lose_agent(sim.now, 1));
    let listed: Vec<String> = sim.agents().iter().map(|a| a.agent_info.id.clone().unwrap().value).collect();
    assert_eq!(listed, [ids[0].clone()]);
    assert!(sim.core.handle_restore_agent(sim.now, 1));
    assert_eq!(sim.agents().len(), 2);
}

#[test]
fn operator_get_tasks_follows_a_task_from_launch_to_completed() {
    let mut sim = Sim::new();
    let fw = sim.subscribe(&[]);
    sim.run_for(Duration::ZERO);
    let offer = sim.take_offers().remove(0);
    sim.call(launch(&fw, &offer, "t1", 1.0), Some(&fw));
    let tasks = sim.tasks();
    assert_eq!(tasks.tasks.len(), 1);
    let task = &tasks.tasks[0];
    assert_eq!((task.name.as_str(), task.task_id.value.as_str()), ("t1-name", "t1"));
    assert_eq!((task.framework_id.value.as_str(), &task.agent_id), (fw.id.as_str(), &offer.agent_id));
    assert_eq!(task.state(), TaskState::TaskStaging);
    assert!(task.statuses.is_empty());
    assert_eq!(task.resources, [cpus(1.0)]);
    assert_eq!(task.labels.as_ref().unwrap().labels.len(), 2);
    assert_eq!(task.user.as_deref(), Some("nobody"));
    assert_eq!(task.executor_id, None, "command tasks have no executor id");
    // STARTING is sent and seen; RUNNING waits behind it, but the state moves on.
    sim.run_for(SECOND);
    let starting = sim.take_updates().remove(0);
    let task = sim.tasks().tasks.remove(0);
    assert_eq!(task.state(), TaskState::TaskRunning);
    assert_eq!(task.statuses.iter().map(|s| s.state()).collect::<Vec<_>>(), [TaskState::TaskStarting]);
    assert_eq!(task.status_update_state(), TaskState::TaskStarting);
    assert_eq!(task.status_update_uuid, starting.uuid);
    sim.call(ack(&fw, &starting), Some(&fw));
    let running = sim.take_updates().remove(0);
    sim.call(ack(&fw, &running), Some(&fw));
    sim.run_for(20 * SECOND);
    let finished = sim.take_updates().remove(0);
    assert_eq!(finished.state(), TaskState::TaskFinished);
    let tasks = sim.tasks();
    assert_eq!(tasks.tasks[0].state(), TaskState::TaskFinished, "held until the terminal update is acknowledged");
    assert!(tasks.completed_tasks.is_empty());
    sim.call(ack(&fw, &finished), Some(&fw));
    let tasks = sim.tasks();
    assert!(tasks.tasks.is_empty());
    let done = &tasks.completed_tasks[0];
    let states: Vec<TaskState> = done.statuses.iter().map(|s| s.state()).collect();
    assert_eq!(states, [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);
    assert_eq!(done.state(), TaskState::TaskFinished);
}

#[test]
fn operator_get_tasks_puts_tasks_of_lost_agents_under_unreachable() {
    for (capabilities, state) in [
        (vec![], TaskState::TaskLost),
        (vec![v1::framework_info::capability::Type::PartitionAware], TaskState::TaskUnreachable),
    ] {
        let mut sim = Sim::new();
        let fw = sim.subscribe(&capabilities);
        sim.run_for(Duration::ZERO);
        let offers = sim.take_offers();
        sim.call(launch(&fw, &offers[0], "t1", 1.0), Some(&fw));
        let agent = sim.core.agent_ids().iter().position(|a| *a == offers[0].agent_id.value).unwrap();
        sim.core.handle_lose_agent(sim.now, agent);
        let tasks = sim.tasks();
        assert!(tasks.tasks.is_empty());
        let lost = &tasks.unreachable_tasks[0];
        assert_eq!((lost.task_id.value.as_str(), lost.state()), ("t1", state));
        assert_eq!(lost.statuses.last().unwrap().reason(), v1::task_status::Reason::AgentRemoved);
        sim.core.handle_restore_agent(sim.now, agent);
        assert!(sim.tasks().unreachable_tasks.is_empty(), "the agent came back without its tasks");
    }
}

#[test]
fn operator_get_frameworks_shows_offers_and_connection() {
    let mut sim = Sim::new();
    let fw = sim.subscribe(&[]);
    sim.run_for(Duration::ZERO);
    let offers = sim.take_offers();
    let answer = sim.operator(op_call::Type::GetFrameworks);
    assert_eq!(answer.r#type(), response::Type::GetFrameworks);
    let frameworks = answer.get_frameworks.unwrap().frameworks;
    assert_eq!(frameworks.len(), 1);
    let f = &frameworks[0];
    assert_eq!(f.framework_info.id.as_ref().unwrap().value, fw.id);
    assert_eq!(f.framework_info.name, "op");
    assert!(f.active && f.connected && !f.recovered);
    let mut listed: Vec<String> = f.offers.iter().map(|o| o.id.value.clone()).collect();
    let mut sent: Vec<String> = offers.iter().map(|o| o.id.value.clone()).collect();
    listed.sort();
    sent.sort();
    assert_eq!(listed, sent);
    assert_eq!(scalar(&f.offered_resources, "cpus"), 8.0);
    sim.core.handle_stream_closed(sim.now, fw.stream);
    sim.drain();
    let f = sim.operator(op_call::Type::GetFrameworks).get_frameworks.unwrap().frameworks.remove(0);
    assert!(!f.active && !f.connected);
    assert!(f.offers.is_empty(), "a disconnected framework's offers are withdrawn");
}

#[test]
fn operator_rejects_untyped_unknown_and_unsupported_calls() {
    let mut sim = Sim::new();
    let reject = |sim: &mut Sim, r#type: Option<i32>| sim.core.handle_operator(sim.now, OpCall { r#type }).unwrap_err();
    let untyped = reject(&mut sim, None);
    assert_eq!(untyped.status, 400);
    assert_eq!(untyped.message, "Failed to validate master::Call: Expecting 'type' to be present");
    assert_eq!(reject(&mut sim, Some(99)).status, 400, "a number outside the enum is no type");
    let unknown = reject(&mut sim, Some(op_call::Type::Unknown as i32));
    assert_eq!((unknown.status, unknown.message.as_str()), (501, "501 Not Implemented."));
    let state = reject(&mut sim, Some(op_call::Type::GetState as i32));
    assert_eq!(state.status, 501);
    assert!(state.message.contains("GET_STATE"), "{}", state.message);
}

#[test]
fn operator_get_master_and_health_answer() {
    let mut sim = Sim::new();
    let master = sim.operator(op_call::Type::GetMaster);
    assert_eq!(master.r#type(), response::Type::GetMaster);
    let master = master.get_master.unwrap();
    assert_eq!(master.master_info.as_ref().unwrap().id, sim.core.master_id());
    assert!(master.start_time.unwrap() > 0.0);
    let health = sim.operator(op_call::Type::GetHealth);
    assert_eq!((health.r#type(), health.get_health.unwrap().healthy), (response::Type::GetHealth, true));
}

#[test]
fn operator_reads_change_nothing() {
    // Two cores run the same script; one also answers every read call after every step. Their
    // outputs and timers must stay the same.
    let mut plain = Sim::new();
    let mut read = Sim::new();
    let reads = [op_call::Type::GetAgents, op_call::Type::GetFrameworks, op_call::Type::GetTasks];
    let step = |plain: &mut Sim, read: &mut Sim| {
        let answers: Vec<Response> = reads.iter().map(|k| read.operator(*k)).collect();
        assert_eq!(read.core.poll_output(), None);
        assert_eq!(read.core.poll_timeout(), plain.core.poll_timeout());
        let again: Vec<Response> = reads.iter().map(|k| read.operator(*k)).collect();
        assert_eq!(answers, again);
    };
    let (fa, fb) = (plain.subscribe(&[]), read.subscribe(&[]));
    step(&mut plain, &mut read);
    plain.run_for(Duration::ZERO);
    read.run_for(Duration::ZERO);
    let (oa, ob) = (plain.take_offers(), read.take_offers());
    assert_eq!(oa, ob);
    step(&mut plain, &mut read);
    plain.call(launch(&fa, &oa[0], "t1", 1.0), Some(&fa));
    read.call(launch(&fb, &ob[0], "t1", 1.0), Some(&fb));
    step(&mut plain, &mut read);
    plain.run_for(30 * SECOND);
    read.run_for(30 * SECOND);
    assert_eq!(plain.events, read.events);
    step(&mut plain, &mut read);
}

#[test]
fn record_status_keeps_the_latest_per_state_without_data() {
    let mut task = v1::Task::default();
    let status = |state: TaskState, uuid: Option<u8>| v1::TaskStatus {
        state: state as i32,
        data: Some(b"big".to_vec()),
        uuid: uuid.map(|u| vec![u; 16]),
        ..Default::default()
    };
    record_status(&mut task, &status(TaskState::TaskStarting, Some(1)));
    record_status(&mut task, &status(TaskState::TaskRunning, Some(2)));
    record_status(&mut task, &status(TaskState::TaskRunning, Some(3)));
    record_status(&mut task, &status(TaskState::TaskLost, None));
    let states: Vec<TaskState> = task.statuses.iter().map(|s| s.state()).collect();
    assert_eq!(states, [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskLost]);
    assert_eq!(task.statuses[1].uuid, Some(vec![3; 16]));
    assert!(task.statuses.iter().all(|s| s.data.is_none()));
    // The last reliable update is what `status_update_*` names; the master's own does not count.
    assert_eq!(task.status_update_state(), TaskState::TaskRunning);
    assert_eq!(task.status_update_uuid, Some(vec![3; 16]));
}
