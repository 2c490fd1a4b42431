//! The agent core following a new leading master, on a virtual clock: it re-registers at once
//! with its id, listing running tasks and tasks whose updates are still queued in the state a
//! master last took, then sends those updates to the new master in order.

use std::time::Duration;

use super::core::{Action, AgentCore, NOT_LEADING_RETRY};
use super::core_tests::{
    ack_all, command_task, config, container_of, drain, launch, registered, registered_event, updates, S,
};
use super::Exit;
use crate::mesos::v1::{TaskState, TaskStatus};

/// The REGISTER among `actions`: its attempt, agent id and listed `(task, state)`s.
fn register_of(actions: &[Action]) -> (u64, Option<String>, Vec<(String, TaskState)>) {
    let (attempt, call) = actions
        .iter()
        .find_map(|a| match a {
            Action::Register { attempt, call } => Some((*attempt, call.register.clone().unwrap())),
            _ => None,
        })
        .expect("a Register action");
    let listed = call.tasks.iter().map(|t| (t.task_id.value.clone(), t.state())).collect();
    (attempt, call.agent_info.id.map(|id| id.value), listed)
}

#[test]
fn follow_reregisters_at_once_with_a_new_leader_and_resends_queued_updates_in_order() {
    let (mut core, attempt) = registered();
    // t-1 runs, its RUNNING taken by the old master; t-2 ran and ended while no master took
    // its updates.
    launch(&mut core, S, attempt, command_task("t-1", &[]));
    let one = container_of(&drain(&mut core));
    core.handle_fetched(S, &one, Ok(()));
    core.handle_spawned(S, &one, Ok(()));
    let actions = drain(&mut core);
    let taken = ack_all(&mut core, S, actions);
    assert_eq!(
        taken.iter().map(TaskStatus::state).collect::<Vec<_>>(),
        [TaskState::TaskStarting, TaskState::TaskRunning]
    );
    launch(&mut core, S, attempt, command_task("t-2", &[]));
    let two = container_of(&drain(&mut core));
    core.handle_fetched(S, &two, Ok(()));
    core.handle_spawned(S, &two, Ok(()));
    core.handle_stream_closed(2 * S, attempt);
    for (key, _) in updates(&drain(&mut core)) {
        core.handle_update_answer(2 * S, key, None);
    }
    core.handle_exited(3 * S, &two, Exit::Code(0));
    drain(&mut core);

    core.handle_master_changed(4 * S);
    let (again, id, listed) = register_of(&drain(&mut core));
    assert_eq!(id.as_deref(), Some("a-1"));
    let expected = [("t-1", TaskState::TaskRunning), ("t-2", TaskState::TaskStaging)];
    assert_eq!(listed, expected.map(|(t, s)| (t.to_owned(), s)));
    // Nothing goes to the new master before it registered the agent; then t-2's updates
    // follow in order, each after the previous one's 202.
    core.handle_timer(5 * S);
    assert!(updates(&drain(&mut core)).is_empty());
    core.handle_event(5 * S, again, registered_event("a-1", 10.0));
    let actions = drain(&mut core);
    let sent = ack_all(&mut core, 5 * S, actions);
    let states: Vec<TaskState> = sent.iter().map(TaskStatus::state).collect();
    assert_eq!(states, [TaskState::TaskStarting, TaskState::TaskRunning, TaskState::TaskFinished]);
    assert!(sent.iter().all(|s| s.task_id.value == "t-2"));
    // Once taken, the ended task is listed no more.
    core.handle_master_changed(6 * S);
    let (_, _, listed) = register_of(&drain(&mut core));
    assert_eq!(listed, [("t-1".to_owned(), TaskState::TaskRunning)]);
}

#[test]
fn follow_retries_soon_with_a_master_that_does_not_lead() {
    let mut core = AgentCore::new(config());
    // No leader known before the start: nothing to re-register.
    core.handle_master_changed(Duration::ZERO);
    assert!(drain(&mut core).is_empty());
    core.handle_start(Duration::ZERO);
    let (attempt, _, _) = register_of(&drain(&mut core));
    core.handle_register_failed(S, attempt, Some(503));
    assert_eq!(core.poll_timeout(), Some(S + NOT_LEADING_RETRY));
    core.handle_timer(S + NOT_LEADING_RETRY);
    let (second, _, _) = register_of(&drain(&mut core));
    core.handle_register_failed(2 * S, second, None);
    assert_eq!(core.poll_timeout(), Some(3 * S), "an unreachable master is retried after a second");
}
