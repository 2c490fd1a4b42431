//! Scenarios of the executor core on a virtual clock.

use std::path::PathBuf;
use std::time::Duration;

use prost::Message;

use super::*;
use crate::mesos::v1::executor::{event, Call, Event};
use crate::mesos::v1::task_status::Source;
use crate::mesos::v1::{
    AgentInfo, CommandInfo, DurationInfo, ExecutorInfo, FrameworkInfo, KillPolicy, TaskId, TaskInfo, TaskState,
    TaskStatus,
};

const SECOND: Duration = Duration::from_secs(1);

fn env(checkpoint: bool) -> ExecutorEnv {
    ExecutorEnv {
        agent_endpoint: "127.0.0.2:5051".into(),
        framework_id: "fw-1".into(),
        executor_id: "e-1".into(),
        sandbox: PathBuf::from("/sandbox"),
        checkpoint,
        recovery_timeout: Duration::from_secs(60),
        backoff_max: Duration::from_secs(2),
        shutdown_grace: Duration::from_secs(5),
    }
}

/// A core driven on a virtual clock, with what it asked for so far.
struct Harness {
    core: ExecutorCore,
    now: Duration,
}

impl Harness {
    /// A core that has sent its SUBSCRIBE (returned) and got SUBSCRIBED.
    fn subscribed(checkpoint: bool) -> (Harness, Call) {
        let mut h = Harness { core: ExecutorCore::new(env(checkpoint), 7), now: Duration::ZERO };
        let subscribe = only_subscribe(h.drain());
        h.core.handle_stream_opened(h.now);
        h.event(subscribed_event());
        assert!(h.drain().is_empty());
        (h, subscribe)
    }

    fn drain(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.core.poll_action()).collect()
    }

    fn event(&mut self, event: Event) {
        self.core.handle_event(self.now, event);
    }

    /// Advances the clock to the core's deadline and fires it.
    fn fire(&mut self) -> Duration {
        let at = self.core.poll_timeout().expect("a deadline");
        assert!(at >= self.now, "deadline {at:?} is in the past ({:?})", self.now);
        self.now = at;
        self.core.handle_timeout(at);
        at
    }

    /// Launches a task and starts its process as `pgid`; returns the STARTING update's call id.
    fn launch_and_start(&mut self, task: TaskInfo, pgid: u32) -> CallId {
        self.launch_and_start_status(task, pgid).0
    }

    /// As `launch_and_start`, with the STARTING status.
    fn launch_and_start_status(&mut self, task: TaskInfo, pgid: u32) -> (CallId, TaskStatus) {
        let id = task.task_id.value.clone();
        self.event(launch_event(task));
        let actions = self.drain();
        let starting = updates(&actions);
        assert_eq!(states(&starting), [TaskState::TaskStarting]);
        assert!(actions.iter().any(|a| matches!(a, Action::Start { task_id, .. } if *task_id == id)));
        self.core.handle_process_started(self.now, &id, pgid);
        starting[0].clone()
    }

    fn accept(&mut self, call: CallId) -> Vec<Action> {
        self.core.handle_call_answered(self.now, call, CallOutcome::Accepted);
        self.drain()
    }
}

fn only_subscribe(actions: Vec<Action>) -> Call {
    match actions.as_slice() {
        [Action::Subscribe(call)] => call.clone(),
        other => panic!("expected one SUBSCRIBE, got {other:?}"),
    }
}

fn subscribed_event() -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            executor_info: ExecutorInfo::default(),
            framework_info: FrameworkInfo::default(),
            agent_info: AgentInfo { hostname: "agent-1".into(), ..Default::default() },
            container_id: None,
        }),
        ..Default::default()
    }
}

fn task(id: &str, line: &str) -> TaskInfo {
    TaskInfo {
        task_id: TaskId { value: id.into() },
        command: Some(CommandInfo { value: Some(line.into()), ..Default::default() }),
        ..Default::default()
    }
}

fn launch_event(task: TaskInfo) -> Event {
    Event { r#type: Some(event::Type::Launch as i32), launch: Some(event::Launch { task }), ..Default::default() }
}

fn kill_event(id: &str, grace: Option<Duration>) -> Event {
    let kill_policy =
        grace.map(|g| KillPolicy { grace_period: Some(DurationInfo { nanoseconds: g.as_nanos() as i64 }) });
    Event {
        r#type: Some(event::Type::Kill as i32),
        kill: Some(event::Kill { task_id: TaskId { value: id.into() }, kill_policy }),
        ..Default::default()
    }
}

fn ack_event(status: &TaskStatus) -> Event {
    Event {
        r#type: Some(event::Type::Acknowledged as i32),
        acknowledged: Some(event::Acknowledged { task_id: status.task_id.clone(), uuid: status.uuid.clone().unwrap() }),
        ..Default::default()
    }
}

fn bare_event(kind: event::Type) -> Event {
    Event { r#type: Some(kind as i32), ..Default::default() }
}

/// The UPDATE calls among the actions, checked for a well-formed call and status.
fn updates(actions: &[Action]) -> Vec<(CallId, TaskStatus)> {
    let mut out = Vec::new();
    for action in actions {
        if let Action::Send { id, call } = action {
            assert_eq!(call.r#type(), crate::mesos::v1::executor::call::Type::Update);
            assert_eq!((call.executor_id.value.as_str(), call.framework_id.value.as_str()), ("e-1", "fw-1"));
            let status = call.update.as_ref().expect("update payload").status.clone();
            assert_eq!(status.source, Some(Source::Executor as i32));
            assert_eq!(status.executor_id.as_ref().map(|e| e.value.as_str()), Some("e-1"));
            let uuid = status.uuid.as_deref().expect("uuid");
            assert_eq!(uuid.len(), 16);
            assert_eq!(uuid[6] >> 4, 4, "version nibble of {uuid:02x?}");
            assert_eq!(uuid[8] >> 6, 0b10, "variant bits of {uuid:02x?}");
            out.push((*id, status));
        }
    }
    out
}

fn states(updates: &[(CallId, TaskStatus)]) -> Vec<TaskState> {
    updates.iter().map(|(_, s)| s.state()).collect()
}

fn signals(actions: &[Action]) -> Vec<(u32, Signal)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Signal { pgid, signal, .. } => Some((*pgid, *signal)),
            _ => None,
        })
        .collect()
}

fn exit_of(actions: &[Action]) -> Option<ExitReason> {
    actions.iter().find_map(|a| match a {
        Action::Exit(reason) => Some(*reason),
        _ => None,
    })
}

#[test]
fn executor_core_subscribe_call_matches_the_golden_vector() {
    let mut core = ExecutorCore::new(env(false), 1);
    let call = only_subscribe(std::iter::from_fn(|| core.poll_action()).collect());
    let hex: String = call.encode_to_vec().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, "0a050a03652d3112060a0466772d3118012200");
    assert_eq!(core.poll_timeout(), None);
}

#[test]
fn executor_core_launch_reports_starting_then_running_in_order() {
    let (mut h, _) = Harness::subscribed(false);
    let starting = h.launch_and_start(task("t-1", "exit 0"), 4242);
    // RUNNING waits until STARTING is answered, so the agent gets them in order.
    assert!(updates(&h.drain()).is_empty());
    let running = updates(&h.accept(starting));
    assert_eq!(states(&running), [TaskState::TaskRunning]);
    assert_ne!(running[0].0, starting);
}

#[test]
fn executor_core_launch_spec_runs_the_command_in_the_sandbox() {
    let (mut h, _) = Harness::subscribed(false);
    h.event(launch_event(task("t-1", "exit 0")));
    let spec = h.drain().into_iter().find_map(|a| match a {
        Action::Start { spec, .. } => Some(spec),
        _ => None,
    });
    let spec = spec.expect("a Start action");
    assert_eq!(
        (spec.program.as_str(), spec.args.as_slice()),
        ("/bin/sh", ["-c".to_owned(), "exit 0".to_owned()].as_slice())
    );
    assert_eq!(spec.cwd, PathBuf::from("/sandbox"));
}

#[test]
fn executor_core_exit_codes_map_to_terminal_states() {
    let cases = [
        (ProcessExit::Code(0), TaskState::TaskFinished, "status 0"),
        (ProcessExit::Code(3), TaskState::TaskFailed, "status 3"),
        (ProcessExit::Signal(9), TaskState::TaskFailed, "signal 9"),
    ];
    for (exit, state, text) in cases {
        let (mut h, _) = Harness::subscribed(false);
        let starting = h.launch_and_start(task("t-1", "x"), 10);
        let running = updates(&h.accept(starting));
        h.accept(running[0].0);
        h.core.handle_process_exited(h.now, "t-1", exit);
        let done = updates(&h.drain());
        assert_eq!(states(&done), [state], "{exit:?}");
        assert!(done[0].1.message().contains(text), "{:?}", done[0].1.message);
    }
}

#[test]
fn executor_core_spawn_failure_and_missing_command_fail_the_task() {
    let (mut h, _) = Harness::subscribed(false);
    h.event(launch_event(task("t-1", "x")));
    let starting = updates(&h.drain())[0].0;
    h.core.handle_spawn_failed(h.now, "t-1", "No such file");
    let failed = updates(&h.accept(starting));
    assert_eq!(states(&failed), [TaskState::TaskFailed]);
    assert!(failed[0].1.message().contains("No such file"));

    let bare = TaskInfo { task_id: TaskId { value: "t-2".into() }, ..Default::default() };
    h.event(launch_event(bare));
    let actions = h.drain();
    assert!(!actions.iter().any(|a| matches!(a, Action::Start { .. })));
    let failed = updates(&actions);
    assert_eq!(states(&failed), [TaskState::TaskFailed]);
    assert!(failed[0].1.message().contains("no command"));
}

#[test]
fn executor_core_kill_sends_term_then_kill_at_the_grace_deadline() {
    let (mut h, _) = Harness::subscribed(false);
    let starting = h.launch_and_start(task("t-1", "sleep 30"), 77);
    h.now += SECOND;
    h.event(kill_event("t-1", Some(Duration::from_secs(3))));
    assert_eq!(signals(&h.drain()), [(77, Signal::Term)]);
    assert_eq!(h.core.poll_timeout(), Some(Duration::from_secs(4)));
    assert_eq!(h.fire(), Duration::from_secs(4));
    assert_eq!(signals(&h.drain()), [(77, Signal::Kill)]);
    h.core.handle_process_exited(h.now, "t-1", ProcessExit::Signal(9));
    assert!(updates(&h.drain()).is_empty(), "STARTING is still unanswered");
    let running = updates(&h.accept(starting));
    assert_eq!(states(&running), [TaskState::TaskRunning]);
    let killed = updates(&h.accept(running[0].0));
    assert_eq!(states(&killed), [TaskState::TaskKilled]);
    assert!(killed[0].1.message().contains("signal 9"));
}

#[test]
fn executor_core_kill_grace_falls_back_to_task_policy_then_shutdown_grace() {
    let mut with_policy = task("t-1", "sleep 30");
    with_policy.kill_policy = Some(KillPolicy { grace_period: Some(DurationInfo { nanoseconds: 2_000_000_000 }) });
    for (task, grace) in [(with_policy, 2), (task("t-1", "sleep 30"), 5)] {
        let (mut h, _) = Harness::subscribed(false);
        h.launch_and_start(task, 9);
        h.event(kill_event("t-1", None));
        assert_eq!(signals(&h.drain()), [(9, Signal::Term)]);
        assert_eq!(h.core.poll_timeout(), Some(Duration::from_secs(grace)));
    }
}

#[test]
fn executor_core_killed_task_reports_killed_even_after_a_clean_exit() {
    let (mut h, _) = Harness::subscribed(false);
    let starting = h.launch_and_start(task("t-1", "sleep 30"), 5);
    let running = updates(&h.accept(starting))[0].0;
    h.accept(running);
    h.event(kill_event("t-1", None));
    h.drain();
    h.core.handle_process_exited(h.now, "t-1", ProcessExit::Code(0));
    let killed = updates(&h.drain());
    assert_eq!(states(&killed), [TaskState::TaskKilled]);
    assert_eq!(h.core.poll_timeout(), None, "no SIGKILL is due for an ended task");
}

#[test]
fn executor_core_refused_update_is_sent_again_after_the_retry_delay() {
    let (mut h, _) = Harness::subscribed(false);
    let starting = h.launch_and_start(task("t-1", "x"), 5);
    h.core.handle_call_answered(h.now, starting, CallOutcome::Status(503));
    assert!(updates(&h.drain()).is_empty());
    assert_eq!(h.fire(), UPDATE_RETRY);
    let again = updates(&h.drain());
    assert_eq!(states(&again), [TaskState::TaskStarting]);
    assert_ne!(again[0].0, starting);
}

#[test]
fn executor_core_reconnect_resends_unacknowledged_updates_and_tasks() {
    let (mut h, _) = Harness::subscribed(true);
    let (a, starting_a) = h.launch_and_start_status(task("t-a", "x"), 5);
    let b = h.launch_and_start(task("t-b", "x"), 6);
    let running_a = updates(&h.accept(a));
    let running_b = updates(&h.accept(b));
    h.accept(running_a[0].0);
    // The agent acknowledges both updates of t-a, none of t-b.
    h.event(ack_event(&starting_a));
    h.event(ack_event(&running_a[0].1));
    assert!(h.drain().is_empty());
    h.now = Duration::from_secs(10);
    h.core.handle_disconnected(h.now, "gone".into());
    let retry = h.fire();
    assert!(retry >= Duration::from_secs(10) && retry <= Duration::from_secs(12), "{retry:?}");
    let call = only_subscribe(h.drain());
    let subscribe = call.subscribe.expect("subscribe payload");
    let tasks: Vec<&str> = subscribe.unacknowledged_tasks.iter().map(|t| t.task_id.value.as_str()).collect();
    assert_eq!(tasks, ["t-b"]);
    let resent: Vec<(&str, TaskState)> =
        subscribe.unacknowledged_updates.iter().map(|u| (u.status.task_id.value.as_str(), u.status.state())).collect();
    assert_eq!(resent, [("t-b", TaskState::TaskStarting), ("t-b", TaskState::TaskRunning)]);
    assert_eq!(subscribe.unacknowledged_updates[1].status.uuid, running_b[0].1.uuid);
}

#[test]
fn executor_core_acknowledged_drops_the_update_and_the_task() {
    let (mut h, _) = Harness::subscribed(true);
    let (starting, status) = h.launch_and_start_status(task("t-1", "x"), 5);
    let running = updates(&h.accept(starting));
    h.accept(running[0].0);
    h.event(ack_event(&running[0].1));
    h.core.handle_disconnected(h.now, "gone".into());
    h.fire();
    let subscribe = only_subscribe(h.drain()).subscribe.unwrap();
    assert!(subscribe.unacknowledged_tasks.is_empty(), "t-1 had an update acknowledged");
    let left: Vec<_> = subscribe.unacknowledged_updates.iter().map(|u| u.status.uuid.clone()).collect();
    assert_eq!(left, std::slice::from_ref(&status.uuid));
    // A second, unknown acknowledgement changes nothing and is only noted.
    h.event(ack_event(&running[0].1));
    assert!(std::iter::from_fn(|| h.core.poll_note()).any(|n| matches!(n, Note::Ignored(_))));
}

#[test]
fn executor_core_updates_wait_for_subscribed_after_reconnecting() {
    let (mut h, _) = Harness::subscribed(true);
    h.core.handle_disconnected(h.now, "gone".into());
    h.fire();
    only_subscribe(h.drain());
    // A launch queued by the agent before SUBSCRIBED: its update waits for the subscription.
    h.event(launch_event(task("t-1", "x")));
    assert!(updates(&h.drain()).is_empty());
    h.event(subscribed_event());
    assert_eq!(states(&updates(&h.drain())), [TaskState::TaskStarting]);
}

#[test]
fn executor_core_shutdown_kills_reports_killed_and_exits_after_the_ack() {
    let (mut h, _) = Harness::subscribed(false);
    let starting = h.launch_and_start(task("t-1", "sleep 30"), 31);
    let running = updates(&h.accept(starting));
    h.now = SECOND;
    h.event(bare_event(event::Type::Shutdown));
    assert_eq!(signals(&h.drain()), [(31, Signal::Term)]);
    // SIGKILL at 80 % of the 5 s shutdown grace period.
    assert_eq!(h.fire(), SECOND + Duration::from_secs(4));
    assert_eq!(signals(&h.drain()), [(31, Signal::Kill)]);
    h.core.handle_process_exited(h.now, "t-1", ProcessExit::Signal(9));
    let actions = h.drain();
    assert_eq!(exit_of(&actions), None, "updates are still unacknowledged");
    // KILLED waits for RUNNING's answer, then goes out.
    assert!(updates(&actions).is_empty());
    assert_eq!(states(&updates(&h.accept(running[0].0))), [TaskState::TaskKilled]);
    assert!(!h.core.has_exited());
}

#[test]
fn executor_core_shutdown_exits_once_everything_is_acknowledged() {
    let (mut h, _) = Harness::subscribed(false);
    let (starting, starting_status) = h.launch_and_start_status(task("t-1", "sleep 30"), 31);
    let running = updates(&h.accept(starting));
    h.accept(running[0].0);
    h.event(bare_event(event::Type::Shutdown));
    h.drain();
    h.core.handle_process_exited(h.now, "t-1", ProcessExit::Signal(15));
    let killed = updates(&h.drain());
    assert_eq!(states(&killed), [TaskState::TaskKilled]);
    h.accept(killed[0].0);
    for status in [&starting_status, &running[0].1] {
        h.event(ack_event(status));
        assert_eq!(exit_of(&h.drain()), None);
    }
    h.event(ack_event(&killed[0].1));
    assert_eq!(exit_of(&h.drain()), Some(ExitReason::Shutdown));
    assert_eq!(ExitReason::Shutdown.code(), 0);
    assert_eq!(h.core.poll_timeout(), None);
}

#[test]
fn executor_core_shutdown_without_tasks_exits_at_once_and_at_the_deadline_otherwise() {
    let (mut h, _) = Harness::subscribed(false);
    h.event(bare_event(event::Type::Shutdown));
    assert_eq!(exit_of(&h.drain()), Some(ExitReason::Shutdown));

    // A task that ignores even SIGKILL (stuck in the kernel): exit at the grace deadline.
    let (mut h, _) = Harness::subscribed(false);
    h.launch_and_start(task("t-1", "x"), 8);
    h.event(bare_event(event::Type::Shutdown));
    h.drain();
    h.fire();
    h.drain();
    assert_eq!(h.fire(), Duration::from_secs(5));
    let actions = h.drain();
    assert_eq!(exit_of(&actions), Some(ExitReason::Shutdown));
    assert_eq!(signals(&actions), [(8, Signal::Kill)]);
}

#[test]
fn executor_core_without_checkpoint_exits_when_the_agent_is_gone() {
    let (mut h, _) = Harness::subscribed(false);
    h.launch_and_start(task("t-1", "sleep 30"), 12);
    h.drain();
    h.core.handle_disconnected(h.now, "stream ended".into());
    let actions = h.drain();
    assert_eq!(exit_of(&actions), Some(ExitReason::AgentGone));
    assert_eq!(signals(&actions), [(12, Signal::Kill)], "tasks do not outlive the executor");
    assert_ne!(ExitReason::AgentGone.code(), 0);
}

#[test]
fn executor_core_recovery_gives_up_at_the_recovery_timeout() {
    let (mut h, _) = Harness::subscribed(true);
    h.now = Duration::from_secs(100);
    h.core.handle_disconnected(h.now, "stream ended".into());
    let give_up = Duration::from_secs(160);
    let mut attempts = 0;
    loop {
        let at = h.fire();
        assert!(at <= give_up, "{at:?}");
        let actions = h.drain();
        if let Some(reason) = exit_of(&actions) {
            assert_eq!(reason, ExitReason::RecoveryTimedOut);
            assert_eq!(at, give_up);
            break;
        }
        only_subscribe(actions);
        attempts += 1;
        h.core.handle_subscribe_failed(h.now, "connection refused".into());
    }
    // Waits are random in [0, 2 s]: some 60 attempts fit in a minute.
    assert!(attempts >= 30, "{attempts} attempts");
}

#[test]
fn executor_core_subscribed_again_ends_the_recovery() {
    let (mut h, _) = Harness::subscribed(true);
    h.core.handle_disconnected(h.now, "stream ended".into());
    h.fire();
    only_subscribe(h.drain());
    h.event(subscribed_event());
    assert_eq!(h.core.poll_timeout(), None);
    // Lost again much later: a fresh recovery period starts.
    h.now = Duration::from_secs(1000);
    h.core.handle_disconnected(h.now, "stream ended".into());
    assert!(h.core.poll_timeout().is_some_and(|t| t >= h.now));
    h.fire();
    assert_eq!(exit_of(&h.drain()), None);
}

#[test]
fn executor_core_error_event_subscribes_again() {
    let (mut h, _) = Harness::subscribed(false);
    let mut error = bare_event(event::Type::Error);
    error.error = Some(event::Error { message: "boom".into() });
    h.event(error);
    only_subscribe(h.drain());
    assert!(std::iter::from_fn(|| h.core.poll_note()).any(|n| n == Note::AgentError("boom".into())));
}

#[test]
fn executor_core_launch_group_starts_every_task() {
    let (mut h, _) = Harness::subscribed(false);
    let group = crate::mesos::v1::TaskGroupInfo { tasks: vec![task("g-1", "x"), task("g-2", "y")] };
    h.event(Event {
        r#type: Some(event::Type::LaunchGroup as i32),
        launch_group: Some(event::LaunchGroup { task_group: group }),
        ..Default::default()
    });
    let actions = h.drain();
    let started: Vec<&str> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Start { task_id, .. } => Some(task_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(started, ["g-1", "g-2"]);
    let tasks: Vec<String> = updates(&actions).iter().map(|(_, s)| s.task_id.value.clone()).collect();
    assert_eq!(tasks, ["g-1", "g-2"], "one STARTING each, sent side by side");
}

#[test]
fn executor_core_kill_before_the_process_started_signals_it_once_started() {
    let (mut h, _) = Harness::subscribed(false);
    h.event(launch_event(task("t-1", "sleep 30")));
    h.drain();
    h.event(kill_event("t-1", Some(SECOND)));
    assert!(signals(&h.drain()).is_empty(), "no process group yet");
    h.core.handle_process_started(h.now, "t-1", 55);
    assert_eq!(signals(&h.drain()), [(55, Signal::Term)]);
    h.fire();
    assert_eq!(signals(&h.drain()), [(55, Signal::Kill)]);
}

fn launch_group_event(tasks: Vec<TaskInfo>) -> Event {
    Event {
        r#type: Some(event::Type::LaunchGroup as i32),
        launch_group: Some(event::LaunchGroup { task_group: crate::mesos::v1::TaskGroupInfo { tasks } }),
        ..Default::default()
    }
}

#[test]
fn executor_core_failed_group_member_kills_the_rest_of_its_group() {
    let (mut h, _) = Harness::subscribed(false);
    h.event(launch_group_event(vec![task("g-1", "false"), task("g-2", "sleep 30"), task("g-3", "sleep 30")]));
    h.drain();
    h.event(launch_event(task("solo", "sleep 30")));
    h.drain();
    for (id, pgid) in [("g-1", 11), ("g-2", 12), ("g-3", 13), ("solo", 14)] {
        h.core.handle_process_started(h.now, id, pgid);
    }
    h.drain();
    h.core.handle_process_exited(h.now, "g-1", ProcessExit::Code(1));
    let actions = h.drain();
    assert_eq!(signals(&actions), [(12, Signal::Term), (13, Signal::Term)], "the task outside the group runs on");
    h.core.handle_process_exited(h.now, "g-2", ProcessExit::Signal(15));
    assert!(signals(&h.drain()).is_empty(), "killed members do not kill again");
}

#[test]
fn executor_core_group_with_a_task_that_cannot_start_starts_none() {
    let (mut h, _) = Harness::subscribed(false);
    let no_command = TaskInfo { task_id: TaskId { value: "g-2".into() }, ..Default::default() };
    h.event(launch_group_event(vec![task("g-1", "true"), no_command]));
    let actions = h.drain();
    assert!(!actions.iter().any(|a| matches!(a, Action::Start { .. })), "no task of the group starts");
    let failed: Vec<(String, TaskState)> =
        updates(&actions).into_iter().map(|(_, s)| (s.task_id.value.clone(), s.state())).collect();
    assert_eq!(failed, [("g-1".into(), TaskState::TaskFailed), ("g-2".into(), TaskState::TaskFailed)]);
}
