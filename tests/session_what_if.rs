//! Whole-session what-if scenarios on a virtual clock: `Session::what_if` plans extra tasks
//! over the offers held, the pending and the running tasks without launching, declining or
//! holding anything, and gives the same plan when asked twice; a dry-run session keeps its
//! offers for such questions and places nothing.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use harness::*;
use offerpack::model::TaskId;
use offerpack::session::{CallKind, CommandSpec, TaskRequest, Update};
use offerpack::TaskSpec;

fn request(id: &str, cpus: f64) -> TaskRequest {
    let spec = TaskSpec::builder(id, "batch").scalar("cpus", cpus).scalar("mem", 64.0).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("./work"))
}

fn placed(plan: &offerpack::Plan) -> Vec<String> {
    let mut ids: Vec<String> = plan.launches.iter().map(|l| l.task_id.to_string()).collect();
    ids.sort();
    ids
}

fn calls_of(h: &Harness, kind: CallKind) -> usize {
    h.calls.iter().filter(|(_, c)| CallKind::of(c) == kind).count()
}

/// Between offers and the pass: the extra task is planned beside the pending one, twice alike;
/// the real pass then launches only the pending task.
#[test]
fn session_what_if_plans_extra_tasks_without_launching_them() {
    let mut h = Harness::subscribed();
    h.advance(MS * 20);
    h.accept_all();
    h.session.submit(request("pending", 1.0), h.now).unwrap();
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0)]));
    let extra = [request("extra", 2.0), request("too-big", 64.0)];
    let plan = h.session.what_if(&extra, h.now).unwrap();
    h.drain();
    assert_eq!(placed(&plan), ["extra", "pending"]);
    assert_eq!(plan.unplaced.iter().map(|u| u.task_id.to_string()).collect::<Vec<_>>(), ["too-big"]);
    assert_eq!(h.session.what_if(&extra, h.now).unwrap(), plan, "asking twice gives the same plan");
    assert_eq!(calls_of(&h, CallKind::Accept) + calls_of(&h, CallKind::Decline), 0, "what-if sends nothing");
    h.advance(MS * 20);
    let launched: Vec<String> = h.take(CallKind::Accept).iter().flat_map(launched).collect();
    assert_eq!(launched, ["pending"]);
    assert_eq!(h.states("extra"), [], "the extra task is unknown to the session");
    // A duplicate of a live task is refused by the engine.
    assert!(h.session.what_if(&[request("pending", 1.0)], h.now).is_err());
}

/// A dry-run session keeps its offers (no ACCEPT, no DECLINE before they expire) and answers
/// what-if questions from them; its passes report the agents offered.
#[test]
fn session_what_if_dry_run_keeps_offers_and_places_nothing() {
    let mut config = config();
    config.dry_run = true;
    let mut h = Harness::new(config);
    h.advance(MS);
    h.open_stream("fw-1");
    h.advance(MS * 20);
    h.accept_all();
    h.event(offers(vec![offer("o-1", "a-1", 4.0, 1024.0), offer("o-2", "a-2", 4.0, 1024.0)]));
    h.advance(MS * 100);
    let offered = h.updates.iter().rev().find_map(|u| match u {
        Update::Pass(p) => Some(p.stats.agents_considered),
        _ => None,
    });
    assert_eq!(offered, Some(2));
    let tasks: Vec<TaskRequest> = (0..5).map(|i| request(&format!("t{i}"), 2.0)).collect();
    let plan = h.session.what_if(&tasks, h.now).unwrap();
    assert_eq!(plan.launches.len(), 4, "two agents of 4 cpus hold four tasks of 2");
    assert_eq!(plan.unplaced.len(), 1);
    assert_eq!(h.session.what_if(&tasks, h.now).unwrap(), plan);
    h.advance(MS * 1000);
    assert_eq!(calls_of(&h, CallKind::Accept) + calls_of(&h, CallKind::Decline), 0);
    assert!(h.session.what_if(&[request("after", 1.0).after([TaskId::new("t0")])], h.now).is_ok());
}
