//! The session's autoscaling hints (`SessionConfig::autoscale`): reported after a pass when
//! they change, idle agents offered for scale-down outside the cooldown only.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use std::sync::Arc;
use std::time::Duration;

use harness::*;
use offerpack::autoscale::{AutoscaleConfig, ClassRule};
use offerpack::mesos::v1;
use offerpack::session::{CommandSpec, ScaleHintsUpdate, TaskRequest, Update};
use offerpack::TaskSpec;

fn class_offer(id: &str, agent: &str, cpus: f64) -> v1::Offer {
    let mut offer = offer(id, agent, cpus, 4096.0);
    offer.attributes.push(v1::Attribute {
        name: "class".into(),
        r#type: v1::value::Type::Text as i32,
        text: Some(v1::value::Text { value: "c4".into() }),
        ..Default::default()
    });
    offer
}

fn session(rule: ClassRule) -> Harness {
    let mut config = config();
    config.autoscale = Some(AutoscaleConfig::new("class", [rule]).unwrap());
    let mut h = Harness::new(config);
    h.advance(Duration::ZERO);
    h.open_stream("fw-1");
    h
}

/// The hints reported since the last call.
fn hints(h: &mut Harness) -> Vec<ScaleHintsUpdate> {
    let hints = h.updates.iter().filter_map(|u| match u {
        Update::ScaleHints(hints) => Some(hints.clone()),
        _ => None,
    });
    let hints = hints.collect();
    h.updates.clear();
    hints
}

#[test]
fn session_autoscale_reports_scale_up_once_while_it_holds() {
    let mut h = session(ClassRule::new("c4").max_size(10));
    for i in 0..3 {
        let spec = TaskSpec::builder(format!("t{i}"), "batch").scalar("cpus", 3.0).scalar("mem", 64.0).build().unwrap();
        h.session.submit(TaskRequest::command(spec, CommandSpec::shell("./work")), h.now).unwrap();
    }
    h.drain();
    h.event(offers(vec![class_offer("o1", "a-1", 4.0)]));
    h.advance(MS * 20);
    // One task fits a-1; two more c4 agents would place the other two.
    let up = vec![(Arc::from("c4"), 2)];
    assert_eq!(hints(&mut h), [ScaleHintsUpdate { scale_up: up, scale_down: vec![] }]);
    h.accept_all();
    // a-1 offers what is left: the same hints, so no new report.
    h.event(offers(vec![class_offer("o2", "a-1", 1.0)]));
    h.advance(MS * 20);
    assert_eq!(hints(&mut h), []);
}

#[test]
fn session_autoscale_lets_idle_agents_go_outside_the_cooldown() {
    let mut h = session(ClassRule::new("c4").max_idle(0).cooldown(Duration::from_secs(60)));
    h.event(offers(vec![class_offer("o1", "a-1", 4.0)]));
    h.advance(MS * 20);
    let idle = ScaleHintsUpdate { scale_up: vec![], scale_down: vec!["a-1".into()] };
    assert_eq!(hints(&mut h), std::slice::from_ref(&idle));
    // Offered again within the cooldown: nothing to let go now.
    h.advance(Duration::from_secs(10));
    h.event(offers(vec![class_offer("o2", "a-1", 4.0)]));
    h.advance(MS * 20);
    assert_eq!(hints(&mut h), [ScaleHintsUpdate::default()]);
    // After it: let go again.
    h.advance(Duration::from_secs(60));
    h.event(offers(vec![class_offer("o3", "a-1", 4.0)]));
    h.advance(MS * 20);
    assert_eq!(hints(&mut h), [idle]);
}

#[test]
fn session_without_autoscale_reports_no_hints() {
    let mut h = Harness::subscribed();
    h.event(offers(vec![class_offer("o1", "a-1", 4.0)]));
    h.advance(MS * 20);
    assert_eq!(hints(&mut h), []);
}

/// What-if adds the shortfall of the extra tasks to its plan, and reports no hint itself.
#[test]
fn session_what_if_shows_the_shortfall_of_extra_tasks() {
    let mut h = session(ClassRule::new("c4").max_size(10));
    h.event(offers(vec![class_offer("o1", "a-1", 4.0)]));
    h.updates.clear();
    let extra: Vec<TaskRequest> = (0..3)
        .map(|i| {
            let spec =
                TaskSpec::builder(format!("t{i}"), "batch").scalar("cpus", 3.0).scalar("mem", 64.0).build().unwrap();
            TaskRequest::command(spec, CommandSpec::shell("./work"))
        })
        .collect();
    let plan = h.session.what_if(&extra, h.now).unwrap();
    assert_eq!(plan.launches.len(), 1);
    assert_eq!(plan.scale_up, [(Arc::from("c4"), 2)], "two more c4 agents would place the other two");
    assert!(hints(&mut h).is_empty(), "what-if is not a pass: no hint reported");
}
