//! The session placing by a queue (`SessionConfig::queue`): pending tasks of weighted buckets
//! share what is offered by weighted dominant resource fairness, and running tasks count
//! towards their bucket in later passes.
#![cfg(feature = "mesos")]

#[path = "session_support/mod.rs"]
mod harness;

use std::time::Duration;

use harness::*;
use offerpack::mesos::v1::TaskState as P;
use offerpack::queue::{BucketConfig, QueueConfig};
use offerpack::session::{CallKind, CommandSpec, SessionConfig, TaskRequest};
use offerpack::TaskSpec;

fn request(id: &str, bucket: &str) -> TaskRequest {
    let spec = TaskSpec::builder(id, bucket).scalar("cpus", 1.0).scalar("mem", 64.0).build().unwrap();
    TaskRequest::command(spec, CommandSpec::shell("./work")).queue(0, bucket)
}

fn queued_session(weights: &[(&str, f64)]) -> Harness {
    let mut queue = QueueConfig::default();
    for (bucket, weight) in weights {
        queue.buckets.insert((*bucket).into(), BucketConfig { weight: *weight, ..BucketConfig::default() });
    }
    let mut config: SessionConfig = config();
    config.queue = Some(queue);
    let mut h = Harness::new(config);
    h.advance(Duration::ZERO);
    h.open_stream("fw-1");
    h.advance(MS * 20);
    h.accept_all();
    h
}

/// Launches of one pass over one offer, by bucket (task ids start with the bucket's name).
fn launched_by_bucket(h: &mut Harness, offer_id: &str, cpus: f64) -> (usize, usize) {
    h.event(offers(vec![offer(offer_id, "a-1", cpus, 64.0 * cpus)]));
    h.advance(MS * 10);
    let launched: Vec<String> = h.take(CallKind::Accept).iter().flat_map(launched).collect();
    h.accept_all();
    let small = launched.iter().filter(|t| t.starts_with("small")).count();
    (small, launched.len() - small)
}

/// Eight cpus for two buckets that each want more: weight 1 gets 2, weight 3 gets 6; after
/// most weight-3 tasks end, the next offer goes first to the bucket that holds less for its
/// weight.
#[test]
fn session_queue_shares_offers_by_weighted_drf_and_counts_running_tasks() {
    let mut h = queued_session(&[("small", 1.0), ("large", 3.0)]);
    for i in 0..10 {
        h.session.submit(request(&format!("small-{i}"), "small"), h.now).unwrap();
        h.session.submit(request(&format!("large-{i}"), "large"), h.now).unwrap();
    }
    h.drain();
    h.advance(MS * 20);
    assert_eq!(launched_by_bucket(&mut h, "o-1", 8.0), (2, 6));
    // Running: small 2, large 6 — equal weighted shares. Two more cpus: one each.
    assert_eq!(launched_by_bucket(&mut h, "o-2", 2.0), (1, 1));
    // Six large tasks end: large holds 1 (weighted share 1/3 cpu) against small's 3: large's
    // three waiting tasks go first, and small takes what is left.
    for i in 0..6 {
        h.event(update(&format!("large-{i}"), "a-1", P::TaskFinished, Some(1)));
    }
    h.accept_all();
    h.event(offers(vec![offer("o-3", "a-1", 6.0, 64.0 * 6.0)]));
    h.advance(MS * 10);
    let launched: Vec<String> = h.take(CallKind::Accept).iter().flat_map(launched).collect();
    assert_eq!(launched.len(), 6);
    assert!(launched[..3].iter().all(|t| t.starts_with("large")), "large first: {launched:?}");
    assert!(launched[3..].iter().all(|t| t.starts_with("small")), "{launched:?}");
}
