//! Autoscaling's scale-down: only idle agents, never below `min_size` or `min_idle`, nothing
//! within the cooldown, the balancing attribute kept even, the same answer in any order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use offerpack::autoscale::{hints, AutoscaleConfig, AutoscaleInput, ClassRule};
use offerpack::model::{AttrValue, Attributes};
use offerpack::{AgentId, Engine, EngineConfig, Offer, OfferPool, Quantity, RunningTask};
use proptest::prelude::*;

const ZONES: [&str; 3] = ["z1", "z2", "z3"];

/// One agent: its zone (index; 3 for none) and its state (0 idle, 1 offered with a running
/// task, 2 busy without an offer).
#[derive(Clone, Debug)]
struct AgentCase {
    zone: usize,
    state: u8,
}

#[derive(Clone, Debug)]
struct Case {
    agents: Vec<AgentCase>,
    min_idle: u32,
    extra_idle: u32,
    min_size: u32,
    cooldown: u64,
    last_scaled: Option<u64>,
    now: u64,
    balance: bool,
}

fn attrs(zone: usize) -> Attributes {
    let mut attrs = Attributes::from_pairs([("class", AttrValue::text("c"))]);
    if let Some(z) = ZONES.get(zone) {
        attrs.insert("zone", AttrValue::text(z));
    }
    attrs
}

fn rule(case: &Case) -> ClassRule {
    let rule = ClassRule::new("c")
        .min_idle(case.min_idle)
        .max_idle(case.min_idle + case.extra_idle)
        .min_size(case.min_size)
        .cooldown(Duration::from_secs(case.cooldown));
    if case.balance {
        rule.balance_by("zone")
    } else {
        rule
    }
}

/// Scale-down of the case, agents given in `order`.
fn scale_down(case: &Case, order: &[usize]) -> Vec<AgentId> {
    let now = Duration::from_secs(case.now);
    let mut pool = OfferPool::new(Duration::from_secs(3_600));
    let mut running = Vec::new();
    for &i in order {
        let agent = &case.agents[i];
        let id = format!("ag{i:02}");
        if agent.state != 2 {
            let mut offer = Offer::new(id.as_str(), id.as_str(), &id).with_scalar("cpus", 4.0).unwrap();
            offer.attributes = attrs(agent.zone);
            pool.add(offer, now).unwrap();
        }
        if agent.state != 0 {
            let mut task = RunningTask::new(format!("run-{i}"), "svc", id.as_str());
            task.resources = vec![(Arc::from("cpus"), Quantity::from_units(1))];
            task.host = Some((Arc::from(id.as_str()), attrs(agent.zone)));
            running.push(task);
        }
    }
    let config = AutoscaleConfig::new("class", [rule(case)]).unwrap();
    let mut last = BTreeMap::new();
    if let Some(at) = case.last_scaled {
        last.insert(Arc::from("c"), Duration::from_secs(at));
    }
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let plan = engine.plan(&pool, &[], &running, now).unwrap();
    let input = AutoscaleInput { config: &config, last_scaled: &last };
    let hints = hints(&engine, input, &pool, &[], &running, &plan, now).unwrap();
    assert!(hints.scale_up.is_empty() || hints.scale_down.is_empty());
    hints.scale_down
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0usize..4, 0u8..3).prop_map(|(zone, state)| AgentCase { zone, state }), 0..=14),
        (0u32..4, 0u32..4, 0u32..10),
        (0u64..100, prop::option::of(0u64..200), 0u64..300, any::<bool>()),
    )
        .prop_map(|(agents, (min_idle, extra_idle, min_size), (cooldown, last_scaled, now, balance))| Case {
            agents,
            min_idle,
            extra_idle,
            min_size,
            cooldown,
            last_scaled,
            now,
            balance,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scale_down_respects_every_rule(case in case(), seed in any::<u64>()) {
        let order: Vec<usize> = (0..case.agents.len()).collect();
        let chosen = scale_down(&case, &order);
        let index = |id: &AgentId| id.as_str()[2..].parse::<usize>().unwrap();
        let picked: Vec<usize> = chosen.iter().map(index).collect();
        // Sorted, distinct, idle only.
        prop_assert!(picked.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(picked.iter().all(|&i| case.agents[i].state == 0));
        let size = case.agents.len() as u32;
        let idle = case.agents.iter().filter(|a| a.state == 0).count() as u32;
        let n = picked.len() as u32;
        let max_idle = case.min_idle + case.extra_idle;
        let cooling = case.last_scaled.is_some_and(|at| case.now < at + case.cooldown);
        let growing = idle < case.min_idle;
        // Exactly the excess over max_idle, within min_size; none while cooling or growing.
        let expected = if cooling || growing { 0 } else { idle.saturating_sub(max_idle).min(size.saturating_sub(case.min_size)) };
        prop_assert_eq!(n, expected);
        prop_assert!(n == 0 || (size - n >= case.min_size && idle - n >= case.min_idle));
        if case.balance {
            // The last agent taken from any zone came from a zone at least as full as every
            // zone that keeps an idle agent.
            let zone_count = |z: usize, after: bool| {
                case.agents.iter().enumerate().filter(|(i, a)| a.zone == z && !(after && picked.contains(i))).count()
            };
            for &v in &picked {
                let v = case.agents[v].zone;
                for w in 0..4 {
                    let idle_left = case.agents.iter().enumerate().any(|(i, a)| a.zone == w && a.state == 0 && !picked.contains(&i));
                    if idle_left {
                        prop_assert!(zone_count(v, true) + 1 >= zone_count(w, true), "zone {} emptied before {}", v, w);
                    }
                }
            }
        }
        // Any order of the agents gives the same answer.
        let mut shuffled = order.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(scale_down(&case, &shuffled), chosen);
    }
}

#[test]
fn scale_down_balances_zones() {
    // Zone z2 has two agents, both idle; z1 three, one idle. Two of the three idle agents go:
    // first z1's (the fuller zone), then one of z2's; without balancing, the smallest ids.
    let agents = [(1, 0), (1, 0), (0, 0), (0, 1), (0, 2)].map(|(zone, state)| AgentCase { zone, state });
    let case = Case {
        agents: agents.to_vec(),
        min_idle: 0,
        extra_idle: 1,
        min_size: 0,
        cooldown: 0,
        last_scaled: None,
        now: 0,
        balance: true,
    };
    let chosen = scale_down(&case, &[0, 1, 2, 3, 4]);
    let ids: Vec<&str> = chosen.iter().map(|a| a.as_str()).collect();
    assert_eq!(ids, ["ag00", "ag02"]);
    let unbalanced = Case { balance: false, ..case };
    let ids: Vec<String> = scale_down(&unbalanced, &[0, 1, 2, 3, 4]).iter().map(|a| a.to_string()).collect();
    assert_eq!(ids, ["ag00", "ag01"]);
}
