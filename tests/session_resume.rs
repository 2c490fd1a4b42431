//! A successor taking a framework over with the tasks its predecessor left (high
//! availability): submitted again as resumed, a task the master reports running is adopted
//! where it runs, never launched a second time; an attempt that ended meanwhile counts; the
//! rest of a retry backoff is waited out.

#[path = "session_support/mod.rs"]
mod harness;

use std::time::Duration;

use harness::*;
use offerpack::mesos::v1::task_status::Reason;
use offerpack::mesos::v1::TaskState as P;
use offerpack::session::{
    CallKind, CommandSpec, OperatorQuery, QueryAnswer, Resume, RetryPolicy, TaskReport, TaskRequest, TaskState, Update,
};
use offerpack::{AgentId, GroupId, TaskId, TaskSpec};

/// A task of group `g` with `attempts` launches in all, resumed as `resume` says.
fn resumed(id: &str, attempts: u32, resume: Resume) -> TaskRequest {
    let spec = TaskSpec::builder(id, "g").scalar("cpus", 0.5).build().unwrap();
    let retry = RetryPolicy::attempts(attempts).with_backoff(Duration::from_secs(1), Duration::from_secs(1));
    TaskRequest::command(spec, CommandSpec::shell("true")).retry(retry.with_jitter(0.0)).resume(resume)
}

fn report(mesos: &str, state: TaskState) -> TaskReport {
    TaskReport {
        id: TaskId::new(mesos),
        framework_id: "fw-1".into(),
        agent_id: Some(AgentId::new("a-1")),
        state: Some(state),
        group: Some(GroupId::new("g")),
        claims_agent: false,
        resources: Vec::new(),
    }
}

/// Answers GET_TASKS with `tasks` and any GET_AGENTS with nothing.
fn answer_tasks(h: &mut Harness, tasks: Vec<TaskReport>) {
    h.answer_queries(|q| match q {
        OperatorQuery::GetTasks => Ok(QueryAnswer::Tasks(tasks.clone())),
        _ => Ok(QueryAnswer::Agents(Vec::new())),
    });
    h.answer_queries(|_| Ok(QueryAnswer::Agents(Vec::new())));
}

/// Offers plenty and runs the passes; the Mesos ids launched.
fn launches(h: &mut Harness, offer_id: &str) -> Vec<String> {
    h.event(offers(vec![offer(offer_id, "a-2", 8.0, 8192.0)]));
    h.advance(Duration::from_millis(50));
    h.take(CallKind::Accept).iter().flat_map(launched).collect()
}

fn attempt_of(h: &Harness, task: &str, state: TaskState) -> Option<u32> {
    h.updates.iter().rev().find_map(|u| match u {
        Update::Task(t) if t.task_id.as_str() == task && t.state == state => Some(t.attempt),
        _ => None,
    })
}

#[test]
fn session_resume_adopts_a_submitted_task_the_master_reports_running() {
    let mut h = taking_over();
    // Submitted before the operator API answered, as a successor does at once.
    h.session.submit(resumed("run-1", 1, Resume::default()), h.now).unwrap();
    let plain = TaskRequest::command(TaskSpec::builder("run-2", "g").scalar("cpus", 0.5).build().unwrap(), {
        CommandSpec::shell("true")
    });
    h.session.submit(plain, h.now).unwrap();
    h.session.submit(resumed("new-1", 1, Resume::default()), h.now).unwrap();
    answer_tasks(&mut h, vec![report("run-1", TaskState::Running), report("run-2", TaskState::Staging)]);
    assert_eq!(h.session.task_state(&TaskId::new("run-1")), Some(TaskState::Running));
    assert_eq!(h.session.task_state(&TaskId::new("run-2")), Some(TaskState::Staging));
    assert_eq!(launches(&mut h, "o-1"), ["new-1"], "only the task nobody launched is launched");
    assert_eq!(attempt_of(&h, "run-1", TaskState::Running), Some(1));
    // Its updates go on as for any running task.
    h.event(update("run-1", "a-1", P::TaskFinished, Some(1)));
    assert_eq!(h.session.task_state(&TaskId::new("run-1")), Some(TaskState::Finished));
    assert!(launches(&mut h, "o-2").is_empty());
}

#[test]
fn session_resume_takes_ends_of_earlier_attempts_from_the_completed_tasks() {
    let mut h = taking_over();
    h.session.submit(resumed("done-1", 1, Resume::default()), h.now).unwrap();
    h.session.submit(resumed("failed-1", 2, Resume::default()), h.now).unwrap();
    answer_tasks(&mut h, vec![report("done-1", TaskState::Finished), report("failed-1", TaskState::Failed)]);
    assert_eq!(h.session.task_state(&TaskId::new("done-1")), Some(TaskState::Finished));
    assert_eq!(h.states("done-1").last(), Some(&TaskState::Finished));
    // The failed attempt counts: the second and last one waits out its backoff.
    assert_eq!(h.session.task_state(&TaskId::new("failed-1")), Some(TaskState::Pending));
    assert_eq!(attempt_of(&h, "failed-1", TaskState::Pending), Some(2));
    assert!(launches(&mut h, "o-1").is_empty(), "within the backoff");
    h.advance(Duration::from_secs(2));
    assert_eq!(launches(&mut h, "o-2"), ["failed-1.retry-1"]);
}

#[test]
fn session_resume_adopts_a_later_attempt_its_predecessor_did_not_record() {
    let mut h = taking_over();
    h.session.submit(resumed("web-1", 3, Resume::default()), h.now).unwrap();
    answer_tasks(&mut h, vec![report("web-1", TaskState::Failed), report("web-1.retry-1", TaskState::Running)]);
    assert_eq!(h.session.task_state(&TaskId::new("web-1")), Some(TaskState::Running));
    assert_eq!(attempt_of(&h, "web-1", TaskState::Running), Some(2));
    assert!(launches(&mut h, "o-1").is_empty());
    h.event(update("web-1.retry-1", "a-1", P::TaskFinished, Some(1)));
    assert_eq!(h.states("web-1").last(), Some(&TaskState::Finished));
}

#[test]
fn session_resume_learns_an_end_from_a_queued_update_and_ignores_unknown_answers() {
    let mut h = taking_over();
    h.session.submit(resumed("t-1", 1, Resume::default()), h.now).unwrap();
    h.session.submit(resumed("t-2", 1, Resume::default()), h.now).unwrap();
    // The master held t-1's end while no scheduler was subscribed; it does not know t-2.
    h.event(update("t-1", "a-1", P::TaskFinished, Some(7)));
    h.event(master_update("t-2", P::TaskLost, Reason::Reconciliation));
    assert_eq!(h.states("t-1").last(), Some(&TaskState::Finished));
    assert_eq!(h.session.task_state(&TaskId::new("t-2")), Some(TaskState::Pending));
    answer_tasks(&mut h, Vec::new());
    assert_eq!(launches(&mut h, "o-1"), ["t-2"]);
}

#[test]
fn session_resume_waits_out_the_rest_of_a_backoff_under_the_attempts_id() {
    let mut h = taking_over();
    let resume = Resume { attempts_ended: 1, ready_in: Duration::from_secs(5) };
    h.session.submit(resumed("slow-1", 3, resume), h.now).unwrap();
    h.drain();
    assert_eq!(attempt_of(&h, "slow-1", TaskState::Pending), Some(2));
    answer_tasks(&mut h, Vec::new());
    assert!(launches(&mut h, "o-1").is_empty(), "still within the backoff");
    h.advance(Duration::from_secs(5));
    assert_eq!(launches(&mut h, "o-2"), ["slow-1.retry-1"]);
    // That attempt fails too: the third is the last.
    h.event(update("slow-1.retry-1", "a-2", P::TaskFailed, Some(1)));
    assert_eq!(attempt_of(&h, "slow-1", TaskState::Pending), Some(3));
}
