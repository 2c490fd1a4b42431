//! Agent processes in the master core, on a virtual clock: registration, offers from what the
//! agent registered, LAUNCH/KILL/SHUTDOWN_FRAMEWORK events, the agent's updates delivered once
//! with its uuid, loss after the agent timeout, re-registration, and executor accounting.

use std::time::Duration;

use super::test_sim::Sim;
use super::*;
use crate::mesos::agent_api::{self, call as acall, event as aevent};
use crate::mesos::v1::{self, scheduler::call, scheduler::event, scheduler::Call, TaskState};

const SECOND: Duration = Duration::from_secs(1);

struct Fw {
    id: String,
    stream: StreamKey,
    stream_id: String,
}

impl Sim {
    /// A master with `simulated` agents of 4 cpus (no jitter, allocation at once), agents
    /// pinging every 1 s and lost after 5 s.
    fn with_simulated(simulated: usize) -> Sim {
        let mut config = MasterConfig::default()
            .with_uniform_agents(simulated, &AgentConfig::new("", 4.0, 4096.0))
            .with_agent_timing(SECOND, 5 * SECOND);
        config.tasks.jitter = 0.0;
        config.allocation_interval = Duration::ZERO;
        Sim::new(config)
    }

    /// Runs `d` with the agent pinging every second.
    fn run_pinging(&mut self, agent: &str, d: Duration) {
        for _ in 0..d.as_secs() {
            self.run_for(SECOND);
            assert_eq!(self.agent_call(ping(agent)), AgentAnswer::Accepted);
        }
    }

    fn subscribe_roles(&mut self, roles: &[&str]) -> Fw {
        let multi =
            v1::framework_info::Capability { r#type: Some(v1::framework_info::capability::Type::MultiRole as i32) };
        let info = v1::FrameworkInfo {
            user: "root".into(),
            name: "test".into(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            capabilities: if roles.is_empty() { vec![] } else { vec![multi] },
            ..Default::default()
        };
        let c = Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe { framework_info: info, suppressed_roles: vec![] }),
            ..Default::default()
        };
        let CallOutcome::Subscribed { stream, stream_id } = self.core.handle_call(self.now, c, None) else {
            panic!("not subscribed")
        };
        self.drain();
        let fw = Fw { id: String::new(), stream, stream_id };
        let events = self.events(stream);
        Fw { id: events[0].subscribed.as_ref().unwrap().framework_id.value.clone(), ..fw }
    }

    /// The offers the framework got so far (after an allocation run).
    fn offers(&mut self, fw: &Fw) -> Vec<v1::Offer> {
        self.run_for(Duration::ZERO);
        self.events(fw.stream).iter().filter_map(|e| e.offers.as_ref()).flat_map(|o| o.offers.clone()).collect()
    }

    fn updates(&mut self, fw: &Fw) -> Vec<v1::TaskStatus> {
        self.events(fw.stream).iter().filter_map(|e| e.update.as_ref()).map(|u| u.status.clone()).collect()
    }

    /// Registers an agent process: 2 cpus, 1024 MB, ports 100-200, attributes rack=r1 and
    /// gpus-ish scalar `level`=3, role `role`.
    fn register_agent(&mut self, id: Option<&str>, role: &str, tasks: Vec<v1::Task>) -> (String, StreamKey) {
        let answer = self.agent_call(register_call(id, role, tasks));
        let AgentAnswer::Registered { stream, agent_id } = answer else { panic!("not registered: {answer:?}") };
        (agent_id, stream)
    }
}

fn scalar(name: &str, value: f64, role: &str) -> v1::Resource {
    #[allow(deprecated)]
    v1::Resource {
        name: name.into(),
        r#type: v1::value::Type::Scalar as i32,
        scalar: Some(v1::value::Scalar { value }),
        role: (role != "*").then(|| role.to_owned()),
        ..Default::default()
    }
}

fn register_call(id: Option<&str>, role: &str, tasks: Vec<v1::Task>) -> agent_api::Call {
    let ports = v1::Resource {
        name: "ports".into(),
        r#type: v1::value::Type::Ranges as i32,
        ranges: Some(v1::value::Ranges { range: vec![v1::value::Range { begin: 100, end: 200 }] }),
        ..scalar("ports", 0.0, role)
    };
    let ports = v1::Resource { scalar: None, ..ports };
    let attributes = vec![
        v1::Attribute {
            name: "rack".into(),
            r#type: v1::value::Type::Text as i32,
            text: Some(v1::value::Text { value: "r1".into() }),
            ..Default::default()
        },
        v1::Attribute {
            name: "level".into(),
            r#type: v1::value::Type::Scalar as i32,
            scalar: Some(v1::value::Scalar { value: 3.0 }),
            ..Default::default()
        },
    ];
    let agent_info = v1::AgentInfo {
        hostname: "10.0.0.7".into(),
        port: Some(5151),
        resources: vec![scalar("cpus", 2.0, role), scalar("mem", 1024.0, role), ports],
        attributes,
        id: id.map(|v| v1::AgentId { value: v.into() }),
        domain: None,
    };
    agent_api::Call {
        r#type: Some(acall::Type::Register as i32),
        register: Some(acall::Register { agent_info, tasks, executors: vec![] }),
        ..Default::default()
    }
}

fn agent_typed(agent: &str, kind: acall::Type) -> agent_api::Call {
    agent_api::Call {
        r#type: Some(kind as i32),
        agent_id: Some(v1::AgentId { value: agent.into() }),
        ..Default::default()
    }
}

fn ping(agent: &str) -> agent_api::Call {
    agent_typed(agent, acall::Type::Ping)
}

fn update(agent: &str, fw: &Fw, task: &str, state: TaskState, uuid: u8) -> agent_api::Call {
    let mut uuid = vec![uuid; 16];
    uuid[6] = 0x40 | (uuid[6] & 0x0f);
    let status = v1::TaskStatus {
        task_id: v1::TaskId { value: task.into() },
        state: state as i32,
        source: Some(v1::task_status::Source::Executor as i32),
        uuid: Some(uuid),
        ..Default::default()
    };
    let update = acall::Update { framework_id: v1::FrameworkId { value: fw.id.clone() }, status };
    agent_api::Call { update: Some(update), ..agent_typed(agent, acall::Type::Update) }
}

fn task(offer: &v1::Offer, id: &str, cpus: f64, executor: Option<v1::ExecutorInfo>) -> v1::TaskInfo {
    let command = executor.is_none().then(|| v1::CommandInfo { value: Some("true".into()), ..Default::default() });
    v1::TaskInfo {
        name: id.into(),
        task_id: v1::TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![scalar("cpus", cpus, "*")],
        command,
        executor,
        ..Default::default()
    }
}

fn executor(id: &str, cpus: f64) -> v1::ExecutorInfo {
    v1::ExecutorInfo {
        executor_id: v1::ExecutorId { value: id.into() },
        resources: vec![scalar("cpus", cpus, "*")],
        command: Some(v1::CommandInfo { value: Some("offerpack executor".into()), ..Default::default() }),
        ..Default::default()
    }
}

fn accept(fw: &Fw, offer: &v1::Offer, tasks: Vec<v1::TaskInfo>) -> Call {
    let op = v1::offer::Operation {
        r#type: Some(v1::offer::operation::Type::Launch as i32),
        launch: Some(v1::offer::operation::Launch { task_infos: tasks }),
        ..Default::default()
    };
    Call {
        framework_id: Some(v1::FrameworkId { value: fw.id.clone() }),
        r#type: Some(call::Type::Accept as i32),
        accept: Some(call::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: vec![op],
            filters: Some(v1::Filters { refuse_seconds: Some(0.0) }),
        }),
        ..Default::default()
    }
}

fn ack(fw: &Fw, status: &v1::TaskStatus) -> Call {
    Call {
        framework_id: Some(v1::FrameworkId { value: fw.id.clone() }),
        r#type: Some(call::Type::Acknowledge as i32),
        acknowledge: Some(call::Acknowledge {
            agent_id: status.agent_id.clone().unwrap(),
            task_id: status.task_id.clone(),
            uuid: status.uuid.clone().unwrap(),
        }),
        ..Default::default()
    }
}

fn cpus(offer: &v1::Offer) -> f64 {
    offer.resources.iter().filter(|r| r.name == "cpus").filter_map(|r| r.scalar.as_ref()).map(|s| s.value).sum()
}

/// A framework with the agent process' one offer (the agent registered with role `*`).
fn agent_and_offer(sim: &mut Sim) -> (String, StreamKey, Fw, v1::Offer) {
    let (agent, stream) = sim.register_agent(None, "*", vec![]);
    let fw = sim.subscribe_roles(&[]);
    let offers = sim.offers(&fw);
    assert_eq!(offers.len(), 1);
    (agent, stream, fw, offers[0].clone())
}

#[test]
fn remote_register_offers_the_agents_resources_and_attributes() {
    let mut sim = Sim::with_simulated(0);
    let (agent, stream) = sim.register_agent(None, "*", vec![]);
    let events = sim.agent_events(stream);
    assert_eq!(events[0].r#type(), aevent::Type::Registered);
    let registered = events[0].registered.clone().unwrap();
    assert_eq!(registered.agent_id.value, agent);
    assert_eq!((registered.ping_interval_seconds, registered.agent_timeout_seconds), (1.0, 5.0));
    let fw = sim.subscribe_roles(&[]);
    let offer = sim.offers(&fw).pop().expect("an offer");
    assert_eq!((offer.agent_id.value.as_str(), offer.hostname.as_str()), (agent.as_str(), "10.0.0.7"));
    assert_eq!(offer.url.as_ref().unwrap().address.port, 5151);
    assert_eq!(cpus(&offer), 2.0);
    let ports = offer.resources.iter().find(|r| r.name == "ports").and_then(|r| r.ranges.clone()).unwrap();
    assert_eq!((ports.range[0].begin, ports.range[0].end), (100, 200));
    assert_eq!(offer.attributes.len(), 2);
    assert_eq!(offer.attributes[1].scalar.as_ref().map(|s| s.value), Some(3.0));
    // HEARTBEAT every ping interval while it pings.
    sim.run_pinging(&agent, 3 * SECOND);
    let beats = sim.agent_events(stream).iter().filter(|e| e.r#type() == aevent::Type::Heartbeat).count();
    assert_eq!(beats, 3);
}

#[test]
fn remote_static_role_is_offered_only_to_that_role() {
    let mut sim = Sim::with_simulated(0);
    sim.register_agent(None, "web", vec![]);
    let other = sim.subscribe_roles(&["batch"]);
    assert!(sim.offers(&other).is_empty());
    let web = sim.subscribe_roles(&["web"]);
    let offer = sim.offers(&web).pop().expect("an offer for role web");
    #[allow(deprecated)]
    let role = offer.resources[0].role.clone();
    assert_eq!(role.as_deref(), Some("web"));
    assert_eq!(offer.resources[0].reservations[0].role.as_deref(), Some("web"));
    assert_eq!(offer.allocation_info.as_ref().and_then(|a| a.role.as_deref()), Some("web"));
}

#[test]
fn remote_accept_sends_launch_and_simulates_nothing() {
    let mut sim = Sim::with_simulated(0);
    let (agent, stream, fw, offer) = agent_and_offer(&mut sim);
    sim.agent_events(stream);
    assert_eq!(
        sim.call(accept(&fw, &offer, vec![task(&offer, "t1", 1.0, None)]), Some(&fw.stream_id)),
        CallOutcome::Accepted
    );
    let launch = sim.agent_events(stream).pop().expect("LAUNCH");
    assert_eq!(launch.r#type(), aevent::Type::Launch);
    let launch = launch.launch.unwrap();
    assert_eq!(launch.framework_info.id.as_ref().map(|f| f.value.as_str()), Some(fw.id.as_str()));
    assert_eq!(launch.tasks.len(), 1);
    assert_eq!(launch.tasks[0].task_id.value, "t1");
    // No simulated STARTING/RUNNING/FINISHED however long it waits.
    sim.run_pinging(&agent, 30 * SECOND);
    let events = sim.events(fw.stream);
    assert!(events.iter().all(|e| e.update.is_none()), "{events:?}");
    // The rest of the agent was offered again.
    let offered: f64 = events.iter().filter_map(|e| e.offers.as_ref()).flat_map(|o| &o.offers).map(cpus).sum();
    assert_eq!(offered, 1.0);
}

#[test]
fn remote_updates_keep_the_agents_uuid_and_drop_duplicates() {
    let mut sim = Sim::with_simulated(0);
    let (agent, _stream, fw, offer) = agent_and_offer(&mut sim);
    sim.call(accept(&fw, &offer, vec![task(&offer, "t1", 2.0, None)]), Some(&fw.stream_id));
    assert_eq!(sim.agent_call(update(&agent, &fw, "t1", TaskState::TaskRunning, 7)), AgentAnswer::Accepted);
    assert_eq!(sim.agent_call(update(&agent, &fw, "t1", TaskState::TaskRunning, 7)), AgentAnswer::Accepted);
    let running = sim.updates(&fw);
    assert_eq!(running.len(), 1, "the duplicate is dropped: {running:?}");
    assert_eq!(running[0].uuid, update(&agent, &fw, "t1", TaskState::TaskRunning, 7).update.unwrap().status.uuid);
    assert_eq!(running[0].agent_id.as_ref().map(|a| a.value.as_str()), Some(agent.as_str()));
    assert_eq!(running[0].state(), TaskState::TaskRunning);
    // Queued behind the unacknowledged RUNNING, then delivered on its acknowledgement.
    sim.agent_call(update(&agent, &fw, "t1", TaskState::TaskFinished, 8));
    assert!(sim.updates(&fw).is_empty());
    sim.call(ack(&fw, &running[0]), Some(&fw.stream_id));
    let finished = sim.updates(&fw);
    assert_eq!(finished.len(), 1);
    assert_eq!((finished[0].state(), finished[0].uuid.as_ref().unwrap()[0]), (TaskState::TaskFinished, 8));
    // The task's resources are back.
    assert_eq!(sim.offers(&fw).iter().map(cpus).sum::<f64>(), 2.0);
    // Unknown agents are told so.
    let answer = sim.agent_call(update("nobody", &fw, "t1", TaskState::TaskRunning, 9));
    assert!(matches!(answer, AgentAnswer::Rejected { status: 404, .. }), "{answer:?}");
}

#[test]
fn remote_agent_without_pings_is_lost() {
    let mut sim = Sim::with_simulated(0);
    let (agent, stream, fw, offer) = agent_and_offer(&mut sim);
    sim.call(accept(&fw, &offer, vec![task(&offer, "t1", 1.0, None)]), Some(&fw.stream_id));
    sim.agent_call(update(&agent, &fw, "t1", TaskState::TaskRunning, 1));
    sim.updates(&fw);
    sim.run_pinging(&agent, 4 * SECOND);
    assert!(!sim.closed(stream));
    sim.run_for(4 * SECOND);
    assert!(!sim.closed(stream), "pinged 4 s ago: not lost yet");
    sim.run_for(SECOND);
    assert!(sim.closed(stream));
    let events = sim.events(fw.stream);
    let lost: Vec<_> = events.iter().filter_map(|e| e.update.as_ref()).map(|u| u.status.clone()).collect();
    assert_eq!(lost.len(), 1);
    assert_eq!((lost[0].state(), lost[0].reason()), (TaskState::TaskLost, v1::task_status::Reason::AgentRemoved));
    let failure = events.iter().find(|e| e.r#type() == event::Type::Failure).expect("FAILURE");
    assert_eq!(failure.failure.as_ref().unwrap().agent_id.as_ref().unwrap().value, agent);
    assert!(matches!(sim.agent_call(ping(&agent)), AgentAnswer::Rejected { status: 404, .. }));
    let again = sim.agent_call(register_call(Some(&agent), "*", vec![]));
    let expected = format!("Agent {agent} was removed; register without an id");
    assert_eq!(again, AgentAnswer::Rejected { status: 403, message: expected });
    assert!(!sim.core.handle_restore_agent(sim.now, 0), "a lost agent process is not restored");
}

#[test]
fn remote_reregistration_keeps_listed_tasks_and_loses_the_others() {
    let mut sim = Sim::with_simulated(0);
    let (agent, old, fw, offer) = agent_and_offer(&mut sim);
    let tasks = vec![task(&offer, "kept", 0.5, None), task(&offer, "gone", 0.5, None)];
    sim.call(accept(&fw, &offer, tasks), Some(&fw.stream_id));
    let kept = v1::Task {
        name: "kept".into(),
        task_id: v1::TaskId { value: "kept".into() },
        framework_id: v1::FrameworkId { value: fw.id.clone() },
        agent_id: v1::AgentId { value: agent.clone() },
        state: TaskState::TaskRunning as i32,
        ..Default::default()
    };
    let (same, new) = sim.register_agent(Some(&agent), "*", vec![kept]);
    assert_eq!(same, agent);
    assert!(sim.closed(old) && old != new);
    let lost = sim.updates(&fw);
    assert_eq!(lost.len(), 1);
    assert_eq!((lost[0].task_id.value.as_str(), lost[0].state()), ("gone", TaskState::TaskLost));
    // The kept task still takes the agent's updates; its and the lost task's cpus are right.
    sim.agent_call(update(&agent, &fw, "kept", TaskState::TaskRunning, 3));
    assert_eq!(sim.updates(&fw)[0].task_id.value, "kept");
    assert_eq!(sim.offers(&fw).iter().map(cpus).sum::<f64>(), 1.5);
}

#[test]
fn remote_kill_and_teardown_go_to_the_agent() {
    let mut sim = Sim::with_simulated(0);
    let (_agent, stream, fw, offer) = agent_and_offer(&mut sim);
    sim.call(accept(&fw, &offer, vec![task(&offer, "t1", 1.0, None)]), Some(&fw.stream_id));
    sim.agent_events(stream);
    let kill = Call {
        framework_id: Some(v1::FrameworkId { value: fw.id.clone() }),
        r#type: Some(call::Type::Kill as i32),
        kill: Some(call::Kill { task_id: v1::TaskId { value: "t1".into() }, agent_id: None, kill_policy: None }),
        ..Default::default()
    };
    sim.call(kill, Some(&fw.stream_id));
    let events = sim.agent_events(stream);
    assert_eq!(events[0].kill.as_ref().map(|k| k.task_id.value.as_str()), Some("t1"));
    assert!(sim.updates(&fw).is_empty(), "the state comes from the agent");
    let teardown = Call {
        framework_id: Some(v1::FrameworkId { value: fw.id.clone() }),
        r#type: Some(call::Type::Teardown as i32),
        ..Default::default()
    };
    sim.call(teardown, Some(&fw.stream_id));
    let events = sim.agent_events(stream);
    assert_eq!(events[0].shutdown_framework.as_ref().map(|s| s.framework_id.value.as_str()), Some(fw.id.as_str()));
}

#[test]
fn remote_executor_is_charged_once_and_freed_when_it_exits() {
    let mut sim = Sim::with_simulated(0);
    let (agent, stream, fw, offer) = agent_and_offer(&mut sim);
    sim.agent_events(stream);
    let tasks =
        vec![task(&offer, "a", 0.5, Some(executor("e", 0.5))), task(&offer, "b", 0.5, Some(executor("e", 0.5)))];
    sim.call(accept(&fw, &offer, tasks), Some(&fw.stream_id));
    assert!(sim.updates(&fw).is_empty(), "both tasks fit: {:?}", sim.outputs);
    let launches = sim.agent_events(stream);
    assert_eq!(launches.len(), 2);
    let sent = launches[0].launch.as_ref().unwrap().tasks[0].executor.clone().unwrap();
    assert_eq!(sent.framework_id.map(|f| f.value), Some(fw.id.clone()));
    let rest = sim.offers(&fw).pop().expect("the rest offered");
    assert_eq!(cpus(&rest), 0.5, "2 cpus - 2 x 0.5 - one executor's 0.5");
    let running: Vec<&str> = rest.executor_ids.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(running, ["e"], "offers name the framework's executors on the agent");
    // A new executor that does not fit, and an ExecutorInfo differing from the running one.
    let too_big = task(&rest, "c", 0.5, Some(executor("f", 0.5)));
    sim.call(accept(&fw, &rest, vec![too_big]), Some(&fw.stream_id));
    let error = sim.updates(&fw).pop().unwrap();
    assert_eq!((error.state(), error.reason()), (TaskState::TaskError, v1::task_status::Reason::TaskInvalid));
    assert!(error.message().contains("executor"), "{}", error.message());
    let rest = sim.offers(&fw).pop().expect("offered again");
    let differs = task(&rest, "d", 0.5, Some(executor("e", 0.25)));
    sim.call(accept(&fw, &rest, vec![differs]), Some(&fw.stream_id));
    let error = sim.updates(&fw).pop().unwrap();
    assert_eq!(error.state(), TaskState::TaskError);
    assert!(error.message().contains("differs"), "{}", error.message());
    // The executor exits: its tasks fail, and its resources come back.
    let exited = acall::ExecutorExited {
        framework_id: v1::FrameworkId { value: fw.id.clone() },
        executor_id: v1::ExecutorId { value: "e".into() },
        status: Some(0),
    };
    let c = agent_api::Call { executor_exited: Some(exited), ..agent_typed(&agent, acall::Type::ExecutorExited) };
    assert_eq!(sim.agent_call(c), AgentAnswer::Accepted);
    let failed = sim.updates(&fw);
    assert_eq!(failed.len(), 2, "one head per task: {failed:?}");
    assert!(failed.iter().all(|s| s.state() == TaskState::TaskFailed
        && s.reason() == v1::task_status::Reason::ExecutorTerminated
        && s.source() == v1::task_status::Source::Agent));
    let offers = sim.offers(&fw);
    assert_eq!(offers.iter().map(cpus).sum::<f64>(), 2.0);
    assert!(offers.iter().all(|o| o.executor_ids.is_empty()), "the executor is gone");
}

#[test]
fn remote_simulated_executor_is_freed_with_its_last_task() {
    let mut sim = Sim::with_simulated(1);
    let fw = sim.subscribe_roles(&[]);
    let offer = sim.offers(&fw).pop().unwrap();
    let tasks =
        vec![task(&offer, "a", 1.0, Some(executor("e", 1.0))), task(&offer, "b", 1.0, Some(executor("e", 1.0)))];
    sim.call(accept(&fw, &offer, tasks), Some(&fw.stream_id));
    assert_eq!(sim.offers(&fw).iter().map(cpus).sum::<f64>(), 1.0, "4 - 2 tasks - 1 executor");
    // Tasks run 10 s by default; once both ended, the other 3 cpus (executor included) are
    // offered again beside the outstanding 1.
    sim.run_for(20 * SECOND);
    assert_eq!(sim.offers(&fw).iter().map(cpus).sum::<f64>(), 3.0);
}
