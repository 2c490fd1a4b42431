//! Preemption against a brute-force oracle on small clusters: the victim set chosen is the
//! cheapest by the documented order, no budget is broken, and no task is preempted for when it
//! can be placed without. With a hard constraint (`UNIQUE` hostname in the pending task's group)
//! the cheapest sets often fail it, and the chosen set is then the cheapest that passes: at most
//! six running tasks keep every agent below the search's bound of sets tried per agent. Failing
//! inputs are persisted in `proptest-regressions/preemption.txt`.

use std::cmp::Reverse;
use std::sync::Arc;
use std::time::Duration;

use offerpack::preempt::{DisruptionBudgets, MaxUnavailable, PreemptionInput};
use offerpack::{
    AgentId, Engine, EngineConfig, GroupId, Offer, OfferPool, Plan, PreemptionRefusal, Quantity, Reason, RunningTask,
    TaskId, TaskSpec,
};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

const NOW: Duration = Duration::from_secs(100);
const AGENTS: usize = 3;
const GROUPS: [&str; 3] = ["g0", "g1", "g2"];

/// One running task: agent, group, cpus, mem (x 256), priority, tier, start second, dying.
type RunningParts = (usize, usize, u32, u32, i32, u32, u64, bool);

#[derive(Clone, Debug)]
struct Cluster {
    /// Per agent: free cpus and mem (x 256) offered, or no offer.
    offers: Vec<Option<(u32, u32)>>,
    running: Vec<RunningParts>,
    /// Per group: none, a count, or a share in tenths.
    budgets: Vec<Option<(bool, u32)>>,
}

fn clusters() -> impl Strategy<Value = Cluster> {
    let offer = proptest::option::weighted(0.6, (0u32..=3, 0u32..=4));
    let task =
        (0..AGENTS, 0..GROUPS.len(), 0u32..=3, 0u32..=3, 0i32..=3, 0u32..=1, 0u64..=5, proptest::bool::weighted(0.15));
    let budget = proptest::option::weighted(0.5, (any::<bool>(), 0u32..=9));
    (
        proptest::collection::vec(offer, AGENTS),
        proptest::collection::vec(task, 0..=9),
        proptest::collection::vec(budget, GROUPS.len()),
    )
        .prop_map(|(offers, running, budgets)| Cluster { offers, running, budgets })
}

fn q(v: f64) -> Quantity {
    Quantity::new(v).unwrap()
}

fn agent(a: usize) -> AgentId {
    AgentId::new(format!("a{a}"))
}

fn pool(cluster: &Cluster) -> OfferPool {
    let mut pool = OfferPool::new(Duration::from_secs(600));
    for (a, offer) in cluster.offers.iter().enumerate() {
        if let Some((cpus, mem)) = offer {
            let mut o = Offer::new(format!("o{a}").as_str(), agent(a), &format!("h{a}"));
            if *cpus > 0 {
                o = o.with_scalar("cpus", f64::from(*cpus)).unwrap();
            }
            if *mem > 0 {
                o = o.with_scalar("mem", f64::from(*mem) * 256.0).unwrap();
            }
            pool.add(o, NOW).unwrap();
        }
    }
    pool
}

fn running(cluster: &Cluster) -> Vec<RunningTask> {
    let tasks = cluster.running.iter().enumerate();
    tasks
        .map(|(i, &(a, g, cpus, mem, priority, tier, start, _))| {
            let mut t = RunningTask::new(format!("r{i}").as_str(), GROUPS[g], agent(a))
                .with_priority(priority)
                .with_tier(tier)
                .started_at(Duration::from_secs(start));
            t.host = Some((Arc::from(format!("h{a}").as_str()), Default::default()));
            t.resources = [("cpus", f64::from(cpus)), ("mem", f64::from(mem) * 256.0)]
                .into_iter()
                .filter(|&(_, v)| v > 0.0)
                .map(|(n, v)| (Arc::from(n), q(v)))
                .collect();
            t
        })
        .collect()
}

fn dying(cluster: &Cluster) -> Vec<TaskId> {
    let tasks = cluster.running.iter().enumerate();
    tasks.filter(|(_, t)| t.7).map(|(i, _)| TaskId::new(format!("r{i}"))).collect()
}

fn budgets(cluster: &Cluster) -> DisruptionBudgets {
    let mut budgets = DisruptionBudgets::new();
    for (g, budget) in cluster.budgets.iter().enumerate() {
        match budget {
            Some((true, n)) => budgets.set(GROUPS[g], MaxUnavailable::Count(n % 3)),
            Some((false, tenths)) => budgets.set(GROUPS[g], MaxUnavailable::Share(f64::from(*tenths) / 10.0)),
            None => {}
        }
    }
    budgets
}

fn pending(cpus: u32, mem: u32, priority: i32, id: &str) -> TaskSpec {
    pending_in("p", cpus, mem, priority, id)
}

/// A pending task of group `g0` that must be alone of its group on its host.
fn unique_pending(cpus: u32, mem: u32, priority: i32, id: &str) -> TaskSpec {
    let mut task = pending_in("g0", cpus, mem, priority, id);
    task.hard.push(Arc::new(offerpack::plugins::constraints::Unique::new("hostname")));
    task
}

fn pending_in(group: &str, cpus: u32, mem: u32, priority: i32, id: &str) -> TaskSpec {
    let mut b = TaskSpec::builder(id, group).priority(priority);
    if cpus > 0 {
        b = b.scalar("cpus", f64::from(cpus));
    }
    if mem > 0 {
        b = b.scalar("mem", f64::from(mem) * 256.0);
    }
    b.build().unwrap()
}

fn plan(cluster: &Cluster, tasks: &[TaskSpec]) -> Plan {
    let (budgets, dying) = (budgets(cluster), dying(cluster));
    let input = PreemptionInput { budgets: &budgets, dying: &dying };
    let engine = Engine::new(EngineConfig::default()).unwrap();
    engine.plan_preempting(&pool(cluster), tasks, &running(cluster), None, input, NOW).unwrap()
}

/// The oracle's cost of a victim set: (count, standings most important first, work lost,
/// waste, ids), with a standing as (earlier tier, priority).
type OracleCost = (usize, Vec<(Reverse<u32>, i32)>, u128, i64, Vec<String>);

/// Every subset of every agent's tasks, costed from the definitions: the cheapest allowed
/// (agent, victims), if any. With `unique`, agents with room enough are not asked (the
/// constraint kept the task off, not room) and a set must take every task of `g0` there; agents
/// without offers are asked too, compiled from their tasks' host (every running task gives it).
fn oracle(cluster: &Cluster, ask: (u32, u32), priority: i32, unique: bool) -> Option<(String, Vec<String>)> {
    let running = running(cluster);
    let budgets = budgets(cluster);
    let dying = dying(cluster);
    let in_group = |g: &GroupId| running.iter().filter(|t| &t.group == g).count() as u32;
    let dying_in = |g: &GroupId| running.iter().filter(|t| &t.group == g && dying.contains(&t.id)).count() as u32;
    let ask = [i64::from(ask.0) * 1000, i64::from(ask.1) * 256_000];
    let mut best: Option<(OracleCost, String, Vec<String>)> = None;
    for a in 0..AGENTS {
        let on: Vec<&RunningTask> = running.iter().filter(|t| t.agent_id == agent(a)).collect();
        let free = cluster.offers[a].map_or([0, 0], |(c, m)| [i64::from(c) * 1000, i64::from(m) * 256_000]);
        let need: Vec<i64> = (0..2).map(|d| (ask[d] - free[d]).max(0)).collect();
        // Preemption frees resources: an agent with room enough already (kept off by the
        // constraint) is not evicted on.
        if unique && need.iter().all(|&n| n == 0) {
            continue;
        }
        for mask in 1u32..(1 << on.len()) {
            let set: Vec<&RunningTask> = (0..on.len()).filter(|i| mask & (1 << i) != 0).map(|i| on[i]).collect();
            let g0 = GroupId::new("g0");
            if unique && on.iter().any(|t| t.group == g0 && !set.iter().any(|s| s.id == t.id)) {
                continue;
            }
            let eligible = set.iter().all(|t| !dying.contains(&t.id) && (t.tier > 0 || t.priority < priority));
            let held =
                |t: &RunningTask, n: &str| t.resources.iter().filter(|r| &*r.0 == n).map(|r| r.1.milli()).sum::<i64>();
            let frees =
                ["cpus", "mem"].iter().enumerate().all(|(d, n)| set.iter().map(|t| held(t, n)).sum::<i64>() >= need[d]);
            let within = GROUPS.iter().all(|g| {
                let g = GroupId::new(*g);
                let Some(max) = budgets.get(&g) else { return true };
                let taken = set.iter().filter(|t| t.group == g).count() as u32;
                taken == 0 || dying_in(&g) + taken <= max.allowed(in_group(&g))
            });
            if !(eligible && frees && within) {
                continue;
            }
            let mut standings: Vec<(Reverse<u32>, i32)> = set.iter().map(|t| (Reverse(t.tier), t.priority)).collect();
            standings.sort_by(|x, y| y.cmp(x));
            let work = set.iter().map(|t| (NOW - t.started).as_nanos()).sum();
            let total: i64 = set.iter().flat_map(|t| t.resources.iter()).map(|r| r.1.milli()).sum();
            let mut ids: Vec<String> = set.iter().map(|t| t.id.as_str().to_owned()).collect();
            ids.sort();
            let cost = (set.len(), standings, work, total - need.iter().sum::<i64>(), ids.clone());
            let name = format!("a{a}");
            if best.as_ref().is_none_or(|(c, n, _)| (&cost, &name) < (c, n)) {
                best = Some((cost, name, ids));
            }
        }
    }
    best.map(|(_, a, ids)| (a, ids))
}

/// Whether some offered agent has room for the ask as it is (and, with `unique`, runs no task
/// of `g0`).
fn fits_now(cluster: &Cluster, ask: (u32, u32), unique: bool) -> bool {
    let alone = |a: usize| !unique || !cluster.running.iter().any(|t| t.0 == a && t.1 == 0);
    let offers = cluster.offers.iter().enumerate();
    offers.filter_map(|(a, o)| o.map(|o| (a, o))).any(|(a, (c, m))| c >= ask.0 && m >= ask.1 && alone(a))
}

/// Clusters of at most six running tasks: every agent's sets stay below the bound of sets the
/// search tries per agent.
fn small_clusters() -> impl Strategy<Value = Cluster> {
    clusters().prop_map(|mut c| {
        c.running.truncate(6);
        c
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct("proptest-regressions/preemption.txt"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn preemption_matches_the_oracle(cluster in clusters(), cpus in 0u32..=6, mem in 0u32..=6, priority in 0i32..=4) {
        prop_assume!(cpus + mem > 0);
        let plan = plan(&cluster, &[pending(cpus, mem, priority, "p")]);
        if fits_now(&cluster, (cpus, mem), false) {
            prop_assert_eq!(plan.launches.len(), 1);
            prop_assert!(plan.preemptions.is_empty(), "preempted although it fits: {:?}", plan.preemptions);
            return Ok(());
        }
        let got = plan.preemptions.first().map(|p| {
            (p.agent_id.as_str().to_owned(), p.victims.iter().map(|v| v.as_str().to_owned()).collect::<Vec<_>>())
        });
        prop_assert_eq!(&got, &oracle(&cluster, (cpus, mem), priority, false));
        prop_assert_eq!(plan.preemptions.len() + plan.unplaced.len(), 1);
        prop_assert_eq!(plan.stats.tasks_unplaced as usize, plan.unplaced.len());
    }

    #[test]
    fn preemption_under_constraints_matches_the_oracle(cluster in small_clusters(), cpus in 0u32..=6, mem in 0u32..=6, priority in 0i32..=4) {
        prop_assume!(cpus + mem > 0);
        let plan = plan(&cluster, &[unique_pending(cpus, mem, priority, "p")]);
        if fits_now(&cluster, (cpus, mem), true) {
            prop_assert_eq!(plan.launches.len(), 1);
            prop_assert!(plan.preemptions.is_empty(), "preempted although it fits: {:?}", plan.preemptions);
            return Ok(());
        }
        let got = plan.preemptions.first().map(|p| {
            (p.agent_id.as_str().to_owned(), p.victims.iter().map(|v| v.as_str().to_owned()).collect::<Vec<_>>())
        });
        prop_assert_eq!(&got, &oracle(&cluster, (cpus, mem), priority, true));
        prop_assert_eq!(plan.preemptions.len() + plan.unplaced.len(), 1);
    }

    #[test]
    fn preemptions_of_a_pass_keep_every_budget(cluster in clusters(), asks in proptest::collection::vec((1u32..=4, 0u32..=3, 0i32..=4), 1..=4)) {
        let tasks: Vec<TaskSpec> = asks.iter().enumerate().map(|(i, &(c, m, p))| pending(c, m, p, &format!("p{i}"))).collect();
        let plan = plan(&cluster, &tasks);
        let running = running(&cluster);
        let dying = dying(&cluster);
        let budgets = budgets(&cluster);
        let mut victims: Vec<&TaskId> = plan.preemptions.iter().flat_map(|p| &p.victims).collect();
        let n = victims.len();
        victims.sort();
        victims.dedup();
        prop_assert_eq!(victims.len(), n, "a task chosen twice");
        for p in &plan.preemptions {
            let task = tasks.iter().find(|t| t.id == p.task_id).unwrap();
            for v in &p.victims {
                let r = running.iter().find(|r| &r.id == v).unwrap();
                prop_assert!(r.yields_to(0, task.priority), "{} does not yield to {}", v, task.id);
                prop_assert!(!dying.contains(v));
                prop_assert_eq!(&r.agent_id, &p.agent_id);
            }
        }
        for (group, max) in budgets.iter() {
            let size = running.iter().filter(|r| &r.group == group).count() as u32;
            let down = running
                .iter()
                .filter(|r| &r.group == group && (dying.contains(&r.id) || victims.contains(&&r.id)))
                .count() as u32;
            let taken = victims.iter().filter(|v| running.iter().any(|r| &r.id == **v && &r.group == group)).count() as u32;
            prop_assert!(taken == 0 || down <= max.allowed(size), "group {} broke its budget", group);
        }
    }
}

#[test]
fn preemption_tries_the_next_set_when_constraints_refuse_the_cheapest() {
    // On a0: r0 (g1, younger, the cheapest victim) and r1 (g0). The task must be alone of g0 on
    // its host: evicting r0 leaves r1 there, so the next-cheapest set, r1, is taken.
    let cluster = Cluster {
        offers: vec![Some((0, 1)), None, None],
        running: vec![(0, 1, 2, 0, 0, 0, 5, false), (0, 0, 2, 0, 0, 0, 1, false)],
        budgets: vec![None; 3],
    };
    let plan = plan(&cluster, &[unique_pending(2, 0, 3, "p")]);
    assert_eq!(plan.preemptions.len(), 1, "{plan:?}");
    assert_eq!(plan.preemptions[0].victims, [TaskId::new("r1")]);
    assert_eq!(oracle(&cluster, (2, 0), 3, true), Some(("a0".to_owned(), vec!["r1".to_owned()])));
}

#[test]
fn preemption_refused_says_why() {
    // One agent, no offers, a lower-priority task of a group whose budget is spent.
    let cluster = Cluster {
        offers: vec![None, None, None],
        running: vec![(0, 0, 4, 0, 0, 0, 1, false), (1, 1, 4, 0, 5, 0, 1, false)],
        budgets: vec![Some((true, 0)), None, None],
    };
    let plan = plan(&cluster, &[pending(2, 0, 3, "p")]);
    assert!(plan.preemptions.is_empty());
    let reasons: Vec<&Reason> = plan.unplaced[0].reasons.iter().map(|r| &r.reason).collect();
    assert!(reasons.contains(&&Reason::Preemption(PreemptionRefusal::Budget { group: "g0".into() })), "{reasons:?}");
    assert!(reasons.contains(&&Reason::Preemption(PreemptionRefusal::NoLowerPriority)), "{reasons:?}");
}

#[test]
fn preemption_never_evicts_equal_standing() {
    let cluster =
        Cluster { offers: vec![None; 3], running: vec![(0, 0, 4, 0, 3, 0, 1, false)], budgets: vec![None; 3] };
    assert!(plan(&cluster, &[pending(2, 0, 3, "p")]).preemptions.is_empty());
    let later_tier = Cluster { running: vec![(0, 0, 4, 0, 9, 1, 1, false)], ..cluster };
    assert_eq!(plan(&later_tier, &[pending(2, 0, 0, "p")]).preemptions.len(), 1, "a later tier yields to any priority");
}

#[test]
fn preemption_picks_youngest_among_equals_and_is_deterministic() {
    // Two equal victims on one agent: the younger (started later) loses less work.
    let cluster = Cluster {
        offers: vec![None; 3],
        running: vec![(0, 0, 2, 0, 0, 0, 1, false), (0, 0, 2, 0, 0, 0, 4, false)],
        budgets: vec![None; 3],
    };
    let first = plan(&cluster, &[pending(2, 0, 1, "p")]);
    assert_eq!(first.preemptions[0].victims, [TaskId::new("r1")]);
    assert_eq!(first, plan(&cluster, &[pending(2, 0, 1, "p")]));
}
