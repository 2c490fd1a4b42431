//! The census's and the dry pass count's shortcuts against straight computations on random
//! clusters: running tasks sharing their group's storage or not (the count remembers the last
//! group's answer by address), agents known from their tasks alone in any order (the census
//! sorts a class's agents only when it got such an agent), the count leaving out tasks the
//! candidates' constraints cannot read.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;

use super::classes::census;
use super::cluster::Cluster;
use super::config::{AutoscaleConfig, ClassRule};
use super::shortfall::counted_running;
use crate::model::{AttrValue, Attributes, GroupId, Offer, RunningTask, TaskId};
use crate::plan::Plan;
use crate::plugins::constraints::{MaxPer, Unique};
use crate::pool::OfferPool;
use crate::resources::Quantity;
use crate::spec::TaskSpec;

const NOW: Duration = Duration::ZERO;

/// A running task: agent (those past the offered ones are known from tasks alone), group,
/// whether it shares its group's storage with the other tasks of the group, cpus.
type TaskCase = (usize, usize, bool, u32);

fn attrs(class: usize, zone: usize) -> Attributes {
    Attributes::from_pairs([
        ("class", AttrValue::text(["a", "b", "c", "none"][class])),
        ("zone", AttrValue::text(format!("z{zone}"))),
    ])
}

/// The pool of `offered` agents (classes by index) and the running tasks of `tasks`.
fn cluster(offered: &[usize], tasks: &[TaskCase]) -> (OfferPool, Vec<RunningTask>) {
    let mut pool = OfferPool::new(Duration::from_secs(60));
    for (i, &class) in offered.iter().enumerate() {
        let id = format!("agent-{i:02}");
        let mut offer = Offer::new(format!("o-{i:02}").as_str(), id.as_str(), &id).with_scalar("cpus", 1.0).unwrap();
        offer.attributes = attrs(class, i % 3);
        pool.add(offer, NOW).unwrap();
    }
    let shared: Vec<GroupId> = (0..4).map(|g| GroupId::from(format!("g{g}"))).collect();
    let running = tasks
        .iter()
        .enumerate()
        .map(|(k, &(agent, group, share, cpus))| {
            let mut task =
                RunningTask::new(format!("t{k:03}"), format!("g{group}"), format!("agent-{agent:02}").as_str());
            if share {
                task.group = shared[group].clone();
            }
            task.resources = vec![(Arc::from("cpus"), Quantity::from_milli(u64::from(cpus) * 1_000))];
            if agent >= offered.len() && has_host(agent) {
                task.host = Some((Arc::from(format!("agent-{agent:02}").as_str()), attrs(agent % 4, agent % 3)));
            }
            task
        })
        .collect();
    (pool, running)
}

/// Whether an agent without offers is known from its tasks' host details (else their place is
/// unknown).
fn has_host(agent: usize) -> bool {
    agent % 5 != 4
}

fn task_case(agents: usize) -> impl Strategy<Value = TaskCase> {
    (0..agents, 0usize..4, any::<bool>(), 1u32..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn census_and_count_agree_with_straight_computations(
        offered in prop::collection::vec(0usize..4, 0..8),
        tasks in prop::collection::vec(task_case(14), 0..40),
        wanted in prop::collection::vec((0usize..4, 0usize..3), 1..4),
    ) {
        let (pool, running) = cluster(&offered, &tasks);
        let refs: Vec<&RunningTask> = running.iter().collect();
        let config = AutoscaleConfig::new("class", ["a", "b", "c"].map(ClassRule::new)).unwrap();
        let cluster = Cluster::before(&pool, || running.iter(), NOW);
        let plan = Plan::default();
        let (classes, hosts) = census(&config, &cluster, &refs, &plan);
        for class in &classes {
            let ids: Vec<&str> = class.agents.iter().map(|a| a.id.as_str()).collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(&ids, &sorted, "agents of {} sorted by id, each once", class.rule.class);
            // Every agent of the class: offered with its class, or known from a task's host.
            let mut straight: Vec<String> = offered
                .iter()
                .enumerate()
                .filter(|(_, &c)| ["a", "b", "c"].get(c) == Some(&&*class.rule.class))
                .map(|(i, _)| format!("agent-{i:02}"))
                .collect();
            straight.extend(
                tasks
                    .iter()
                    .filter(|t| t.0 >= offered.len() && has_host(t.0) && ["a", "b", "c"].get(t.0 % 4) == Some(&&*class.rule.class))
                    .map(|t| format!("agent-{:02}", t.0)),
            );
            straight.sort_unstable();
            straight.dedup();
            prop_assert_eq!(ids, straight.iter().map(String::as_str).collect::<Vec<_>>());
        }
        // Kinds: plain (reads no running task), one per host (reads those of unknown place),
        // at most two per zone (reads all).
        let unique = Arc::new(Unique::new("hostname"));
        let capped = Arc::new(MaxPer::new("zone", NonZeroU32::new(2).unwrap()));
        let candidates: Vec<TaskSpec> = wanted
            .iter()
            .enumerate()
            .map(|(i, &(g, kind))| {
                let builder = TaskSpec::builder(format!("p{i}"), format!("g{g}")).scalar("cpus", 1.0);
                match kind {
                    1 => builder.hard(unique.clone()),
                    2 => builder.hard(capped.clone()),
                    _ => builder,
                }
                .build()
                .unwrap()
            })
            .collect();
        let counted = counted_running(&cluster, &refs, &hosts, &candidates, &plan);
        let counted: Vec<&TaskId> = counted.iter().map(|t| &t.id).collect();
        let unknown_place = |k: usize| tasks[k].0 >= offered.len() && !has_host(tasks[k].0);
        let mut straight: Vec<&TaskId> = running
            .iter()
            .enumerate()
            .filter(|(k, t)| {
                let kinds = || wanted.iter().filter(|(g, _)| format!("g{g}") == t.group.as_str()).map(|(_, kind)| *kind);
                kinds().any(|kind| kind == 2) || (kinds().any(|kind| kind == 1) && unknown_place(*k))
            })
            .map(|(_, t)| &t.id)
            .collect();
        straight.sort();
        prop_assert_eq!(counted, straight);
    }
}
