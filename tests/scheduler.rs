//! The incremental [`Scheduler`] across any sequence of operations on a random cluster: offers
//! added (several per agent), rescinded and expired as time passes, agents lost, tasks started
//! by someone else (with their host's attributes) and ended, and passes. After every pass:
//!
//! - every launch, in plan order, is accepted by a [`Ledger`] of the tasks live in the cluster
//!   (the running tasks and every task placed and not ended), and the live set stays sound;
//! - the plan is sound by [`check_plan`] for the pool and the running tasks before the pass;
//! - placing task by task, the plan is the one [`Engine::plan`] makes from the same offers and
//!   running tasks, all of it: launches (agent, offer ids, resources by role, ports), unplaced
//!   tasks with their reasons, declined and expired offers, stats. Passes are not compared
//!   while an agent is claimed by an `EXCLUSIVE` task of an earlier pass (the one-shot engine
//!   cannot know of it), nor when a task carries the soft `GROUP_BY` (a known difference,
//!   reproduced by the ignored test at the end);
//! - filling agents (the default), plans may differ from the one-shot engine's by design, so
//!   soundness and the ledger are checked alone.
//!
//! Agents are named in the order they first offer, so that the scheduler's tie-break (the order
//! it first saw agents) and the one-shot engine's (agent ids) agree (see `scheduler_support`).
//!
//! Failing inputs are persisted in `proptest-regressions/scheduler.txt`; commit that file.
//! `OFFERPACK_PROPTEST=deep` runs sixteen times the cases (`PROPTEST_CASES` sets the number).

mod proptest_support;
mod scheduler_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use offerpack::plugins::constraints::parse;
use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::proptest::sample::Index;
use offerpack::testkit::proptest::test_runner::TestCaseError;
use offerpack::testkit::{check_plan, Ledger, Workload};
use offerpack::{
    AgentId, AttrValue, Attributes, Engine, EngineConfig, GroupId, Offer, OfferId, OfferPool, Packing, Plan, PlanStats,
    Quantity, ResourceValue, Role, RunningTask, Scheduler, Strategy as Selector, TaskId, TaskSpec,
};
use scheduler_support::{case, soft_catalogue, AgentSpec, Case, Op, Size, GROUPS, RESERVED, SOFT_GROUP_BY};

/// How long offers are held (passes advance the clock by a few seconds, now and then by more
/// than that).
const HOLD: Duration = Duration::from_secs(25);

fn cases(default: u32) -> u32 {
    match std::env::var("OFFERPACK_PROPTEST").as_deref() {
        Ok("deep") => default * 16,
        _ => default,
    }
}

fn config(cases: u32) -> ProptestConfig {
    proptest_support::config(cases, "proptest-regressions/scheduler.txt")
}

/// The scheduler under test beside an account of what it should hold, kept by the test: the
/// offers in its pool, the tasks running, the agents claimed exclusively, and a [`Ledger`].
struct Run<'c> {
    case: &'c Case,
    packing: Packing,
    engine: Engine,
    scheduler: Scheduler,
    now: Duration,
    /// Offers held, each with the time it was received, in the order they were added.
    offers: Vec<(Offer, Duration)>,
    running: BTreeMap<TaskId, RunningTask>,
    /// Agents claimed by an `EXCLUSIVE` task: the claim lasts while a task of the owner runs
    /// there (as the scheduler keeps it).
    claims: BTreeMap<AgentId, GroupId>,
    ledger: Ledger,
    /// The last id number given to an offer or a task.
    serial: u32,
    /// Whether the tasks a pass left unplaced are pending again in the next (as a framework
    /// does), so that the scheduler parks them.
    carry: bool,
    /// Those tasks, in pending order.
    carried: Vec<TaskSpec>,
}

type Checked = Result<(), TestCaseError>;

impl<'c> Run<'c> {
    fn new(case: &'c Case, packing: Packing, strategy: Selector) -> Run<'c> {
        let engine = Engine::new(EngineConfig { packing, strategy, ..EngineConfig::default() }).unwrap();
        Run {
            case,
            packing,
            scheduler: Scheduler::new(engine.clone(), HOLD),
            engine,
            now: Duration::ZERO,
            offers: Vec::new(),
            running: BTreeMap::new(),
            claims: BTreeMap::new(),
            ledger: Ledger::new(),
            serial: 0,
            carry: false,
            carried: Vec::new(),
        }
    }

    fn serial(&mut self) -> u32 {
        self.serial += 1;
        self.serial
    }

    fn agent(&self, pick: &Index) -> &'c AgentSpec {
        pick.get(&self.case.agents)
    }

    fn spec_of(&self, agent: &AgentId) -> &'c AgentSpec {
        self.case.agents.iter().find(|a| &a.id == agent).expect("launches go to the cluster's agents")
    }

    fn apply(&mut self, op: &Op) -> Checked {
        match op {
            Op::Offer { agent, size, ports, reserved } => self.offer(agent, size, *ports, *reserved),
            Op::Rescind(pick) => self.rescind(pick),
            Op::RemoveAgent { agent, lose_tasks } => self.remove_agent(agent, *lose_tasks),
            Op::Running { group, agent, held } => self.task_running(group, agent, *held),
            Op::End(pick) => match self.running.keys().nth(pick.index(self.running.len().max(1))).cloned() {
                Some(id) => self.end(&id),
                None => {
                    prop_assert!(!self.scheduler.task_ended(&TaskId::new("never-ran")));
                    Ok(())
                }
            },
            Op::Schedule { tasks, advance } => self.schedule(tasks, *advance),
        }
    }

    fn offer(&mut self, agent: &Index, size: &Size, ports: Option<u16>, reserved: Option<u32>) -> Checked {
        let serial = self.serial();
        let spec = self.agent(agent);
        let mut offer = Offer::new(format!("o{serial}"), spec.id.clone(), &spec.hostname);
        offer.attributes = spec.attrs.clone();
        let (cpus, mem) = match size {
            Size::Exact(kind, k) => kind.get(&self.case.templates).size.map_or((0, 0), |(c, m)| (c * k, m * k)),
            Size::Room(cpus, mem) => (*cpus, *mem),
        };
        for (name, amount) in [("cpus", f64::from(cpus) * 0.5), ("mem", f64::from(mem) * 256.0)] {
            if amount > 0.0 {
                offer = offer.with_scalar(name, amount).unwrap();
            }
        }
        if let Some(half_cpus) = reserved {
            offer = offer.with_reserved_scalar("cpus", Role::new(RESERVED), f64::from(half_cpus) * 0.5).unwrap();
        }
        if let Some(extra) = ports {
            // The lowest block of five ports none of the agent's held offers has: an agent
            // never offers one port twice at once.
            let taken = |begin: u16| {
                let mine = self.offers.iter().filter(|(o, _)| o.agent_id == spec.id);
                mine.flat_map(|(o, _)| &o.resources)
                    .any(|r| matches!(&r.value, ResourceValue::Ports(p) if p.contains(begin)))
            };
            let begin = (0..).map(|k| 31000 + 5 * k).find(|b| !taken(*b)).expect("a free block");
            offer = offer.with_ports(begin, begin + extra).unwrap();
        }
        prop_assert_eq!(self.scheduler.add_offer(offer.clone(), self.now), Ok(()));
        self.offers.push((offer, self.now));
        Ok(())
    }

    fn rescind(&mut self, pick: &Index) -> Checked {
        if self.offers.is_empty() {
            return Ok(());
        }
        let (offer, _) = self.offers.remove(pick.index(self.offers.len()));
        prop_assert_eq!(self.scheduler.rescind(&offer.id, self.now), Ok(offer));
        Ok(())
    }

    fn remove_agent(&mut self, agent: &Index, lose_tasks: bool) -> Checked {
        let id = &self.agent(agent).id;
        let (gone, kept): (Vec<_>, Vec<_>) = self.offers.drain(..).partition(|(o, _)| &o.agent_id == id);
        self.offers = kept;
        let mut gone: Vec<Offer> = gone.into_iter().map(|(o, _)| o).collect();
        gone.sort_by(|a, b| a.id.cmp(&b.id));
        prop_assert_eq!(self.scheduler.remove_agent(id, self.now), gone);
        if lose_tasks {
            let lost: Vec<TaskId> = self.running.values().filter(|t| &t.agent_id == id).map(|t| t.id.clone()).collect();
            for task in lost {
                self.end(&task)?;
            }
        }
        Ok(())
    }

    /// A task started by someone else: never on an agent another group holds exclusively (the
    /// scheduler's own launches could not have put it there).
    fn task_running(&mut self, group: &Index, agent: &Index, held: Option<(u32, u32)>) -> Checked {
        let (group, spec) = (GroupId::new(group.get(&GROUPS)), self.agent(agent));
        if self.claims.get(&spec.id).is_some_and(|owner| *owner != group) {
            return Ok(());
        }
        let id = TaskId::new(format!("r{}", self.serial()));
        let mut task = RunningTask::new(id.clone(), group.clone(), spec.id.clone());
        task.host = Some((spec.hostname.clone(), spec.attrs.clone()));
        if let Some((cpus, mem)) = held {
            let q = |v: f64| Quantity::new(v).unwrap();
            task.resources =
                vec![(Arc::from("cpus"), q(f64::from(cpus) * 0.5)), (Arc::from("mem"), q(f64::from(mem) * 256.0))];
        }
        prop_assert_eq!(self.scheduler.task_running(task.clone()), Ok(()));
        let as_spec = TaskSpec::builder(id.clone(), group).build().unwrap();
        prop_assert_eq!(self.ledger.adopt(&as_spec, &spec.id, &spec.hostname, &spec.attrs), Ok(()));
        self.running.insert(id, task);
        Ok(())
    }

    fn end(&mut self, id: &TaskId) -> Checked {
        prop_assert!(self.scheduler.task_ended(id), "{} was running", id);
        prop_assert!(self.ledger.end(id));
        let task = self.running.remove(id).expect("a live task");
        if let Some(owner) = self.claims.get(&task.agent_id) {
            if !self.running.values().any(|t| t.agent_id == task.agent_id && t.group == *owner) {
                self.claims.remove(&task.agent_id);
            }
        }
        Ok(())
    }

    /// A pool holding the offers the scheduler holds, received when it received them.
    fn pool_copy(&self) -> OfferPool {
        let mut pool = OfferPool::new(HOLD);
        for (offer, at) in &self.offers {
            pool.add(offer.clone(), *at).unwrap();
        }
        pool
    }

    fn schedule(&mut self, kinds: &[Index], advance: u64) -> Checked {
        self.now += Duration::from_secs(advance);
        let mut pending: Vec<TaskSpec> = std::mem::take(&mut self.carried);
        for kind in kinds {
            let id = TaskId::new(format!("t{}", self.serial()));
            pending.push(kind.get(&self.case.templates).build(id));
        }
        // A claim lasts while its group has a task on the agent (the claiming one or not).
        let claimed = |t: &RunningTask| self.claims.get(&t.agent_id) == Some(&t.group);
        let running: Vec<RunningTask> =
            self.running.values().map(|t| RunningTask { claims_agent: claimed(t), ..t.clone() }).collect();
        // The one-shot engine cannot know of claims made in earlier passes, nor the values the
        // scheduler still knows from agents without offers (see SOFT_GROUP_BY).
        let spreads =
            |t: &TaskSpec| t.soft.iter().any(|s| Arc::ptr_eq(&s.constraint, &soft_catalogue()[SOFT_GROUP_BY]));
        let comparable = self.claims.is_empty() && !pending.iter().any(spreads);
        let one_shot = match self.packing {
            Packing::TaskByTask if comparable => {
                Some(self.engine.plan(&self.pool_copy(), &pending, &running, self.now).unwrap())
            }
            _ => None,
        };
        let plan = self.scheduler.schedule(&pending, self.now).unwrap();

        let offers = self.offers.iter().map(|(o, _)| o.clone()).collect();
        let workload = Workload { offers, tasks: pending.clone(), running };
        prop_assert_eq!(check_plan(&workload, &plan), Ok(()), "plan {:#?}", plan);
        self.record(&pending, &plan)?;
        match one_shot {
            Some(one_shot) if plan.stats.tasks_parked > 0 => {
                // Parked tasks keep the explanation of the pass that parked them, and come
                // after the others: the rest is the one-shot engine's plan.
                prop_assert_eq!(&plan.launches, &one_shot.launches);
                prop_assert_eq!(&plan.declined, &one_shot.declined);
                prop_assert_eq!(&plan.expired, &one_shot.expired);
                let ids = |p: &Plan| {
                    let mut ids: Vec<TaskId> = p.unplaced.iter().map(|u| u.task_id.clone()).collect();
                    ids.sort();
                    ids
                };
                prop_assert_eq!(ids(&plan), ids(&one_shot));
                let stats = PlanStats { tasks_parked: 0, ..plan.stats.clone() };
                prop_assert_eq!(
                    PlanStats { task_classes: 0, ..stats },
                    PlanStats { task_classes: 0, ..one_shot.stats }
                );
            }
            Some(one_shot) => prop_assert_eq!(&plan, &one_shot),
            None => {}
        }
        if self.carry {
            let unplaced: Vec<&TaskId> = plan.unplaced.iter().map(|u| &u.task_id).collect();
            self.carried = pending.into_iter().filter(|t| unplaced.contains(&&t.id)).collect();
        }
        self.settle(&plan)
    }

    /// Every launch, in plan order, into the ledger; then the live set's rules.
    fn record(&mut self, pending: &[TaskSpec], plan: &Plan) -> Checked {
        for launch in &plan.launches {
            let task = pending.iter().find(|t| t.id == launch.task_id).expect("check_plan: launched tasks are pending");
            let agent = self.spec_of(&launch.agent_id);
            let accepted = self.ledger.launch(task, &agent.id, &agent.hostname, &agent.attrs);
            prop_assert_eq!(accepted, Ok(()), "launch of {} at {:?}", task.id, self.now);
            let held = launch.resources.iter().fold(Vec::<(Arc<str>, Quantity)>::new(), |mut held, a| {
                match held.iter_mut().find(|(n, _)| *n == a.name) {
                    Some((_, q)) => *q += a.amount,
                    None => held.push((a.name.clone(), a.amount)),
                }
                held
            });
            let mut running = RunningTask::new(task.id.clone(), task.group.clone(), agent.id.clone());
            running.resources = held;
            running.host = Some((agent.hostname.clone(), agent.attrs.clone()));
            self.running.insert(task.id.clone(), running);
            if task.hard.iter().any(|c| c.claims_agent()) {
                self.claims.insert(agent.id.clone(), task.group.clone());
            }
        }
        prop_assert_eq!(self.ledger.check_state(), Ok(()));
        prop_assert_eq!(self.scheduler.running_tasks(), self.running.len());
        prop_assert_eq!(self.ledger.live(), self.running.len());
        Ok(())
    }

    /// Offers launched on, declined or expired leave the pool, and only they.
    fn settle(&mut self, plan: &Plan) -> Checked {
        let used = plan.launches.iter().flat_map(|l| l.offer_ids.iter());
        let consumed: Vec<&OfferId> = used.chain(&plan.declined).chain(&plan.expired).collect();
        self.offers.retain(|(o, _)| !consumed.contains(&&o.id));
        prop_assert_eq!(self.scheduler.pool().len(), self.offers.len());
        for (offer, _) in &self.offers {
            prop_assert!(self.scheduler.pool().get(&offer.id).is_some(), "{} is held", offer.id);
        }
        Ok(())
    }
}

fn run(case: &Case, packing: Packing, strategy: Selector) -> Checked {
    run_carrying(case, packing, strategy, false)
}

fn run_carrying(case: &Case, packing: Packing, strategy: Selector, carry: bool) -> Checked {
    let mut run = Run::new(case, packing, strategy);
    run.carry = carry;
    for op in &case.ops {
        run.apply(op)?;
    }
    run.apply(&Op::Schedule { tasks: Vec::new(), advance: 0 })
}

proptest! {
    #![proptest_config(config(cases(384)))]

    /// Task by task: every pass is sound, agrees with the ledger, and is the one-shot engine's.
    #[test]
    fn scheduler_task_by_task_is_sound_and_equals_one_shot_engine(case in case()) {
        run(&case, Packing::TaskByTask, Selector::Indexed)?;
    }

    /// The same with every shape in the keyed index, kept between passes.
    #[test]
    fn scheduler_keyed_is_sound_and_equals_one_shot_engine(case in case()) {
        run(&case, Packing::TaskByTask, Selector::Keyed)?;
    }

    /// Filling agents: every pass is sound and agrees with the ledger.
    #[test]
    fn scheduler_filling_agents_is_sound_across_operations(case in case()) {
        run(&case, Packing::FillAgents, Selector::Indexed)?;
    }

    /// Tasks left unplaced are pending again in the next pass: those the scheduler parks (skips
    /// until something could let them fit) change nothing — the launches, declines and
    /// unplaced tasks are the one-shot engine's, which looks at every task every time.
    #[test]
    fn scheduler_parking_unplaced_tasks_plans_as_the_one_shot_engine(case in case()) {
        run_carrying(&case, Packing::TaskByTask, Selector::Indexed, true)?;
    }
}

#[test]
fn scheduler_rejects_a_pending_id_that_is_running() {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let mut scheduler = Scheduler::new(engine, HOLD);
    scheduler.task_running(RunningTask::new("t1", "g", "a1")).unwrap();
    let t1 = TaskSpec::builder("t1", "g").scalar("cpus", 1.0).build().unwrap();
    assert!(scheduler.schedule(&[t1], Duration::ZERO).is_err());
    assert!(scheduler.task_running(RunningTask::new("t1", "g", "a1")).is_err());
}

#[test]
fn scheduler_expires_held_offers_and_reports_them() {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    let mut scheduler = Scheduler::new(engine, Duration::from_secs(10));
    let offer = Offer::new("o1", "a1", "h1").with_scalar("cpus", 1.0).unwrap();
    scheduler.add_offer(offer, Duration::ZERO).unwrap();
    let big = TaskSpec::builder("t1", "g").scalar("cpus", 2.0).build().unwrap();
    let plan = scheduler.schedule(std::slice::from_ref(&big), Duration::from_secs(1)).unwrap();
    assert_eq!((plan.launches.len(), plan.unplaced.len()), (0, 1));
    assert!(plan.declined.iter().any(|o| o.as_str() == "o1"), "an unused offer is declined by default");
    assert!(scheduler.pool().is_empty());
    let offer = Offer::new("o2", "a1", "h1").with_scalar("cpus", 1.0).unwrap();
    scheduler.add_offer(offer, Duration::from_secs(2)).unwrap();
    let plan = scheduler.schedule(&[], Duration::from_secs(12)).unwrap();
    assert_eq!(plan.expired.iter().map(|o| o.as_str()).collect::<Vec<_>>(), vec!["o2"]);
    assert!(scheduler.pool().is_empty());
}

fn cpus_offer(id: &str, agent: &str, cpus: f64) -> Offer {
    Offer::new(id, agent, &format!("host-{agent}")).with_scalar("cpus", cpus).unwrap()
}

fn cpus_task(id: &str, group: &str, cpus: f64) -> TaskSpec {
    TaskSpec::builder(id, group).scalar("cpus", cpus).build().unwrap()
}

fn agents_of(plan: &Plan) -> Vec<&str> {
    plan.launches.iter().map(|l| l.agent_id.as_str()).collect()
}

#[test]
fn scheduler_keeps_an_exclusive_claim_across_a_rebuild() {
    let mut scheduler = Scheduler::new(Engine::new(EngineConfig::default()).unwrap(), HOLD);
    let t0 = Duration::ZERO;
    scheduler.add_offer(cpus_offer("o1", "a1", 4.0), t0).unwrap();
    let exclusive = TaskSpec::builder("web-1", "web")
        .scalar("cpus", 1.0)
        .hard(parse("", "EXCLUSIVE", None).unwrap())
        .build()
        .unwrap();
    assert_eq!(agents_of(&scheduler.schedule(&[exclusive], t0).unwrap()), ["a1"]);
    // A new agent means a rebuild of the compiled state; a1 is the fuller agent, which bin
    // packing prefers, but web holds it.
    scheduler.add_offer(cpus_offer("o2", "a1", 3.0), t0).unwrap();
    scheduler.add_offer(cpus_offer("o3", "a2", 16.0), t0).unwrap();
    assert_eq!(agents_of(&scheduler.schedule(&[cpus_task("db-1", "db", 1.0)], t0).unwrap()), ["a2"]);
    // The claim ends with the claiming group's last task there.
    assert!(scheduler.task_ended(&TaskId::new("web-1")));
    scheduler.add_offer(cpus_offer("o4", "a1", 3.0), t0).unwrap();
    scheduler.add_offer(cpus_offer("o5", "a3", 16.0), t0).unwrap();
    assert_eq!(agents_of(&scheduler.schedule(&[cpus_task("db-2", "db", 1.0)], t0).unwrap()), ["a1"]);
}

#[test]
fn scheduler_launches_a_task_asking_nothing_only_where_offers_are() {
    let mut scheduler = Scheduler::new(Engine::new(EngineConfig::default()).unwrap(), HOLD);
    let t0 = Duration::ZERO;
    scheduler.add_offer(cpus_offer("o1", "a1", 1.0), t0).unwrap();
    scheduler.add_offer(cpus_offer("o2", "a2", 8.0), t0).unwrap();
    let plan = scheduler.schedule(&[cpus_task("t1", "g", 1.0)], t0).unwrap();
    assert_eq!((agents_of(&plan), plan.declined.as_slice()), (vec!["a1"], &[OfferId::new("o2")][..]));
    // Both agents are compiled and without offers now; a1, full, would score best.
    scheduler.add_offer(cpus_offer("o3", "a2", 8.0), t0).unwrap();
    let nothing = TaskSpec::builder("t2", "g").build().unwrap();
    let plan = scheduler.schedule(&[nothing], t0).unwrap();
    assert_eq!(agents_of(&plan), ["a2"]);
    assert_eq!(&*plan.launches[0].offer_ids, &[OfferId::new("o3")]);
}

#[test]
fn scheduler_explains_unplaced_tasks_by_the_agents_with_offers() {
    let mut scheduler = Scheduler::new(Engine::new(EngineConfig::default()).unwrap(), HOLD);
    let t0 = Duration::ZERO;
    for (offer, agent) in [("o1", "a1"), ("o2", "a2"), ("o3", "a3")] {
        scheduler.add_offer(cpus_offer(offer, agent, 2.0), t0).unwrap();
    }
    scheduler.schedule(&[cpus_task("t1", "g", 1.0)], t0).unwrap();
    scheduler.add_offer(cpus_offer("o4", "a2", 2.0), t0).unwrap();
    let plan = scheduler.schedule(&[cpus_task("big", "g", 8.0)], t0).unwrap();
    assert_eq!(plan.stats.agents_considered, 1, "a1 and a3 have no offer");
    let unplaced = &plan.unplaced[0];
    assert_eq!(unplaced.agents_considered, 1);
    assert_eq!(unplaced.reasons.iter().map(|r| r.agents).sum::<u32>(), 1);
}

/// Reproduces a difference between the scheduler and the one-shot engine (state and views, not
/// the scheduler): `PassView::known_values`, which the soft `GROUP_BY` reads, counts the values
/// of agents the scheduler keeps compiled after their offers went, so on the same offers and
/// running tasks the scheduler spreads over three zones where the one-shot engine sees two.
#[test]
#[ignore = "known_values counts zones of agents without offers in a Scheduler (state.rs, views.rs)"]
fn scheduler_soft_group_by_knows_the_values_the_one_shot_engine_knows() {
    let engine = Engine::new(EngineConfig { packing: Packing::TaskByTask, ..EngineConfig::default() }).unwrap();
    let mut scheduler = Scheduler::new(engine.clone(), HOLD);
    let t0 = Duration::ZERO;
    let offer = |id: &str, agent: &str, zone: &str| cpus_offer(id, agent, 1.0).with_text_attribute("zone", zone);
    for (id, agent, zone) in [("o1", "a1", "z1"), ("o2", "a2", "z2"), ("o3", "a3", "z3")] {
        scheduler.add_offer(offer(id, agent, zone), t0).unwrap();
    }
    scheduler.schedule(&[], t0).unwrap(); // all declined: a3 (zone z3) stays compiled, offerless
    let mut running = Vec::new();
    for (id, agent, zone) in [("r1", "a1", "z1"), ("r2", "a1", "z1"), ("r3", "a2", "z2")] {
        let mut task = RunningTask::new(id, "web", agent);
        let attrs = Attributes::from_pairs([("zone", AttrValue::text(zone))]);
        task.host = Some((Arc::from(format!("host-{agent}").as_str()), attrs));
        if agent == "a1" {
            task.resources = vec![(Arc::from("cpus"), Quantity::new(1.0).unwrap())];
        }
        scheduler.task_running(task.clone()).unwrap();
        running.push(task);
    }
    let mut pool = OfferPool::new(HOLD);
    for (id, agent, zone) in [("o4", "a1", "z1"), ("o5", "a2", "z2")] {
        scheduler.add_offer(offer(id, agent, zone), t0).unwrap();
        pool.add(offer(id, agent, zone), t0).unwrap();
    }
    let spread = parse("zone", "GROUP_BY", None).unwrap();
    let task = TaskSpec::builder("t1", "web").scalar("cpus", 0.5).soft(1.0, spread).build().unwrap();
    let one_shot = engine.plan(&pool, std::slice::from_ref(&task), &running, t0).unwrap();
    let plan = scheduler.schedule(&[task], t0).unwrap();
    assert_eq!(agents_of(&plan), agents_of(&one_shot));
}

/// One cpu-short task parked, then woken only by what could let it fit: offers without enough
/// cpus on one agent, or with other resources only, leave it parked; an agent offering enough
/// cpus in total (over several offers) wakes it.
#[test]
fn scheduler_parks_a_short_task_until_an_agent_offers_enough() {
    let engine = Engine::new(EngineConfig { decline_unused: false, ..EngineConfig::default() }).unwrap();
    let mut scheduler = Scheduler::new(engine, HOLD);
    let offer = |id: &str, agent: &str, cpus: f64, mem: f64| {
        Offer::new(id, agent, agent).with_scalar("cpus", cpus).unwrap().with_scalar("mem", mem).unwrap()
    };
    let big = TaskSpec::builder("big", "g").scalar("cpus", 4.0).build().unwrap();
    let pass = |scheduler: &mut Scheduler, at: u64| {
        let plan = scheduler.schedule(std::slice::from_ref(&big), Duration::from_secs(at)).unwrap();
        (plan.launches.len(), plan.stats.tasks_unplaced, plan.stats.tasks_parked)
    };
    scheduler.add_offer(offer("o1", "a1", 2.0, 1024.0), Duration::ZERO).unwrap();
    assert_eq!(pass(&mut scheduler, 0), (0, 1, 0), "looked at and left unplaced: parked");
    assert_eq!(pass(&mut scheduler, 1), (0, 1, 1), "nothing happened: skipped");
    scheduler.add_offer(offer("o2", "a2", 3.0, 1024.0), Duration::from_secs(2)).unwrap();
    scheduler.add_offer(offer("o3", "a1", 0.0, 4096.0), Duration::from_secs(2)).unwrap();
    assert_eq!(pass(&mut scheduler, 2), (0, 1, 1), "no agent offers 4 cpus: still skipped");
    scheduler.add_offer(offer("o4", "a1", 1.0, 0.0), Duration::from_secs(3)).unwrap();
    scheduler.add_offer(offer("o5", "a1", 1.0, 0.0), Duration::from_secs(3)).unwrap();
    assert_eq!(pass(&mut scheduler, 3), (1, 0, 0), "a1 offers 2 + 1 + 1 cpus now: placed");
    let mut unparked = Scheduler::new(Engine::new(EngineConfig::default()).unwrap(), HOLD);
    unparked.set_parking(false);
    unparked.add_offer(offer("o1", "a1", 2.0, 1024.0), Duration::ZERO).unwrap();
    assert_eq!((pass(&mut unparked, 0), pass(&mut unparked, 1)), ((0, 1, 0), (0, 1, 0)), "parking off");
}

/// A task kept out by a hard constraint stays parked while nothing happens, is looked at again
/// when given with another spec under its id, and wakes when a task ends (it may have been the
/// one the constraint counted).
#[test]
fn scheduler_wakes_a_constrained_task_when_a_task_ends_or_its_spec_changes() {
    let engine = Engine::new(EngineConfig { decline_unused: false, ..EngineConfig::default() }).unwrap();
    let mut scheduler = Scheduler::new(engine, HOLD);
    let mut r1 = RunningTask::new("r1", "web", "a1");
    r1.host = Some((Arc::from("h1"), Attributes::new()));
    scheduler.task_running(r1).unwrap();
    let offer = Offer::new("o1", "a1", "h1").with_scalar("cpus", 4.0).unwrap();
    scheduler.add_offer(offer, Duration::ZERO).unwrap();
    let unique = parse("hostname", "UNIQUE", None).unwrap();
    let spec = |cpus: f64| TaskSpec::builder("w2", "web").scalar("cpus", cpus).hard(unique.clone()).build().unwrap();
    let mut pass = |task: &TaskSpec, at: u64| {
        let plan = scheduler.schedule(std::slice::from_ref(task), Duration::from_secs(at)).unwrap();
        (plan.launches.len(), plan.stats.tasks_unplaced, plan.stats.tasks_parked)
    };
    assert_eq!(pass(&spec(1.0), 0), (0, 1, 0), "r1 holds h1: unplaced, parked");
    assert_eq!(pass(&spec(1.0), 1), (0, 1, 1), "nothing happened: skipped");
    assert_eq!(pass(&spec(2.0), 2), (0, 1, 0), "another spec under the id: looked at again");
    assert_eq!(pass(&spec(2.0), 3), (0, 1, 1));
    assert!(scheduler.task_ended(&"r1".into()));
    let plan = scheduler.schedule(&[spec(2.0)], Duration::from_secs(4)).unwrap();
    assert_eq!(plan.launches.len(), 1, "r1 ended: looked at again and placed");
}
