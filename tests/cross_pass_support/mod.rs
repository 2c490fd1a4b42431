//! Scenarios and the world that plays them for `tests/cross_pass.rs`: a `Session` and a
//! `MasterCore` wired together in memory on a virtual clock, every launch checked by a
//! [`Ledger`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use offerpack::master::DURATION_LABEL;
use offerpack::master::{AgentConfig, CallOutcome as MasterOutcome, MasterConfig, MasterCore, Output, StreamKey};
use offerpack::mesos::v1::scheduler::{call, Call};
use offerpack::plugins::constraints::parse;
use offerpack::plugins::HardConstraint;
use offerpack::session::{
    Action, CallOutcome, CommandSpec, QueryAnswer, Session, SessionConfig, StopMode, TaskRequest, TaskState, Update,
};
use offerpack::testkit::proptest::prelude::*;
use offerpack::testkit::Ledger;
use offerpack::{AgentId, AttrValue, Attributes, TaskId, TaskSpec};

/// One agent: its size and where it is.
#[derive(Clone, Debug)]
pub struct AgentDef {
    pub cpus: f64,
    pub zone: usize,
    pub rack: usize,
}

/// A group of tasks: one shape, one set of hard constraints, one run time.
#[derive(Clone, Debug)]
pub struct GroupDef {
    pub cpus: f64,
    /// `(attribute, operator, value)` triples, as `parse` takes them.
    pub hard: Vec<(&'static str, &'static str, Option<&'static str>)>,
    /// Run time in milliseconds; `None` runs until the end.
    pub run_ms: Option<u64>,
}

/// What happens next.
#[derive(Clone, Debug)]
pub enum Step {
    /// `count` tasks of group `group` are submitted.
    Arrive { group: usize, count: usize },
    /// Time passes.
    Advance { ms: u64 },
    /// An agent is lost (its tasks with it).
    LoseAgent { agent: usize },
    /// The scheduler fails over: a new session takes the framework over (once per scenario).
    Failover,
}

/// A whole scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub agents: Vec<AgentDef>,
    pub groups: Vec<GroupDef>,
    pub steps: Vec<Step>,
    pub offer_timeout_ms: Option<u64>,
    pub schedule_delay_ms: u64,
    pub seed: u64,
}

/// Memory per cpu everywhere, so a task of an agent's cpus fills it exactly.
const MEM_PER_CPU: f64 = 512.0;

/// Hard constraints a group may carry, every built-in kind on hostname and other attributes.
const HARD: &[(&str, &str, Option<&str>)] = &[
    ("hostname", "UNIQUE", None),
    ("zone", "UNIQUE", None),
    ("rack", "UNIQUE", None),
    ("zone", "MAX_PER", Some("2")),
    ("rack", "MAX_PER", Some("1")),
    ("hostname", "MAX_PER", Some("2")),
    ("zone", "GROUP_BY", None),
    ("zone", "GROUP_BY", Some("2")),
    ("rack", "BALANCE", Some("2")),
    ("zone", "CLUSTER", None),
    ("zone", "CLUSTER", Some("z0")),
    ("hostname", "EXCLUSIVE", None),
    ("zone", "IS", Some("z1")),
    ("rack", "LIKE", Some("r[01]")),
    ("zone", "UNLIKE", Some("z0")),
];

impl Scenario {
    /// Issue 9's first reproduction: six 4-cpu agents in three zones, six tasks of 4 cpus
    /// with `zone:UNIQUE` that run forever.
    pub fn zone_unique_full_agents() -> Scenario {
        let agents = (0..6).map(|i| AgentDef { cpus: 4.0, zone: i % 3, rack: i }).collect();
        let groups = vec![GroupDef { cpus: 4.0, hard: vec![("zone", "UNIQUE", None)], run_ms: None }];
        let mut steps = vec![Step::Arrive { group: 0, count: 6 }];
        steps.extend((0..10).map(|_| Step::Advance { ms: 3_000 }));
        Scenario { agents, groups, steps, offer_timeout_ms: None, schedule_delay_ms: 10, seed: 7 }
    }
}

/// Random scenarios (see the module docs of `tests/cross_pass.rs`).
pub fn scenarios() -> impl Strategy<Value = Scenario> {
    let shape = (1usize..=5, 1usize..=5);
    shape.prop_flat_map(|(zones, racks)| {
        let agent = (prop::sample::select(vec![2.0, 4.0, 4.0, 8.0]), 0..zones, 0..racks)
            .prop_map(|(cpus, zone, rack)| AgentDef { cpus, zone, rack });
        let hard = prop::collection::vec(prop::sample::select(HARD.to_vec()), 0..=2);
        let run = prop::option::weighted(0.6, 200u64..4_000);
        let group = (prop::sample::select(vec![1.0, 2.0, 4.0]), hard, run).prop_map(|(cpus, hard, run_ms)| GroupDef {
            cpus,
            hard,
            run_ms,
        });
        let step = prop_oneof![
            4 => (0usize..4, 1usize..=6).prop_map(|(group, count)| Step::Arrive { group, count }),
            4 => (50u64..3_000).prop_map(|ms| Step::Advance { ms }),
            1 => (0usize..16).prop_map(|agent| Step::LoseAgent { agent }),
            1 => Just(Step::Failover),
        ];
        (
            prop::collection::vec(agent, 3..=10),
            prop::collection::vec(group, 1..=4),
            prop::collection::vec(step, 4..=24),
            prop::option::of(100u64..2_000),
            prop::sample::select(vec![10u64, 100, 400]),
            any::<u64>(),
        )
            .prop_map(|(agents, groups, steps, offer_timeout_ms, schedule_delay_ms, seed)| Scenario {
                agents,
                groups,
                steps,
                offer_timeout_ms,
                schedule_delay_ms,
                seed,
            })
    })
}

/// A session and a master core wired together, with the checks.
pub struct World {
    master: MasterCore,
    session: Session,
    config: SessionConfig,
    now: Duration,
    stream: Option<(StreamKey, String)>,
    framework_id: Option<String>,
    failed_over: bool,
    /// Every task submitted, by id, and the request to submit it again after a failover.
    specs: BTreeMap<TaskId, TaskRequest>,
    /// The latest state the framework heard of each task.
    states: BTreeMap<TaskId, TaskState>,
    /// Agents by id: hostname and attributes (the master's truth, not the session's).
    hosts: BTreeMap<AgentId, (String, Attributes)>,
    agent_ids: Vec<String>,
    /// Tasks launched and not ended, as the framework knows them.
    ledger: Ledger,
    live: BTreeSet<TaskId>,
    launches: usize,
    /// Launches sent since the last pass report, checked when it names their placement order.
    batch: Vec<(TaskId, AgentId)>,
    constraints: Vec<Vec<Arc<dyn HardConstraint>>>,
    trace: Vec<String>,
}

/// Events handled without time passing before the world counts it as a livelock.
const MAX_STEPS_AT_ONCE: usize = 1_000_000;

impl World {
    /// The cluster of `scenario`, a subscribed-to-be session, nothing submitted.
    pub fn new(scenario: &Scenario) -> World {
        let mut master_config = MasterConfig::new("127.0.0.1:5050".parse().unwrap()).with_seed(scenario.seed);
        master_config.offer_timeout = scenario.offer_timeout_ms.map(Duration::from_millis);
        master_config.tasks.jitter = 0.0;
        for (i, a) in scenario.agents.iter().enumerate() {
            let agent = AgentConfig::new(format!("h{i}"), a.cpus, a.cpus * MEM_PER_CPU)
                .with_attribute("zone", format!("z{}", a.zone))
                .with_attribute("rack", format!("r{}", a.rack));
            master_config.agents.push(agent);
        }
        let master = MasterCore::new(master_config.clone(), "127.0.0.1:5050".parse().unwrap());
        let agent_ids = master.agent_ids();
        let hosts = agent_ids
            .iter()
            .zip(&master_config.agents)
            .map(|(id, a)| {
                let attrs = Attributes::from_pairs(a.attributes.iter().map(|(k, v)| (k, AttrValue::text(v))));
                (AgentId::new(id), (a.hostname.clone(), attrs))
            })
            .collect();
        let mut config = SessionConfig::new("cross-pass", "root");
        config.schedule_delay = Duration::from_millis(scenario.schedule_delay_ms);
        config.refuse_seconds = 1.0;
        config.seed = scenario.seed;
        let constraints = scenario
            .groups
            .iter()
            .map(|g| g.hard.iter().map(|(a, op, v)| -> Arc<dyn HardConstraint> { parse(a, op, *v).unwrap() }).collect())
            .collect();
        World {
            master,
            session: Session::new(config.clone()).unwrap(),
            config,
            now: Duration::ZERO,
            stream: None,
            framework_id: None,
            failed_over: false,
            specs: BTreeMap::new(),
            states: BTreeMap::new(),
            hosts,
            agent_ids,
            ledger: Ledger::new(),
            live: BTreeSet::new(),
            launches: 0,
            batch: Vec::new(),
            constraints,
            trace: Vec::new(),
        }
    }

    /// Plays every step, checking as it goes; the first failure is the error.
    pub fn play(&mut self, scenario: &Scenario) -> Result<(), String> {
        self.run_for(Duration::from_millis(50))?;
        for (i, step) in scenario.steps.iter().enumerate() {
            self.trace.push(format!("[{:>6} ms] step {i}: {step:?}", self.now.as_millis()));
            match step {
                Step::Arrive { group, count } => self.arrive(scenario, *group, *count)?,
                Step::Advance { ms } => self.run_for(Duration::from_millis(*ms))?,
                Step::LoseAgent { agent } => {
                    let agent = agent % self.agent_ids.len();
                    self.master.handle_lose_agent(self.now, agent);
                    self.pump()?;
                }
                Step::Failover => self.failover()?,
            }
            self.run_for(Duration::from_millis(20))?;
            self.check_master_truth()?;
            self.ledger.check_state().map_err(|v| format!("the framework's live tasks break a rule: {v}"))?;
        }
        Ok(())
    }

    /// Tasks launched in all.
    pub fn launches(&self) -> usize {
        self.launches
    }

    /// Tasks the master holds live now.
    pub fn master_live_tasks(&mut self) -> usize {
        self.master_live().map_or(0, |tasks| tasks.len())
    }

    /// The last lines of the trace, for a failure message.
    pub fn trace_tail(&self) -> String {
        let start = self.trace.len().saturating_sub(60);
        self.trace[start..].join("\n")
    }

    fn arrive(&mut self, scenario: &Scenario, group: usize, count: usize) -> Result<(), String> {
        let g = group % scenario.groups.len();
        let def = &scenario.groups[g];
        for _ in 0..count {
            let id = format!("t{}", self.specs.len());
            let mut spec = TaskSpec::builder(id.as_str(), format!("g{g}").as_str())
                .scalar("cpus", def.cpus)
                .scalar("mem", def.cpus * MEM_PER_CPU);
            for c in &self.constraints[g] {
                spec = spec.hard(c.clone());
            }
            let spec = spec.build().map_err(|e| e.to_string())?;
            let run = def.run_ms.map_or("forever".to_owned(), |ms| ms.to_string());
            let request = TaskRequest::command(spec, CommandSpec::shell("true")).label(DURATION_LABEL, run);
            self.specs.insert(TaskId::new(&id), request.clone());
            self.session.submit(request, self.now).map_err(|e| e.to_string())?;
        }
        self.pump()
    }

    /// The old scheduler goes away (its tasks keep running); a new one takes the framework
    /// over, and the user submits again what never launched.
    fn failover(&mut self) -> Result<(), String> {
        let Some(framework_id) = self.framework_id.clone().filter(|_| !self.failed_over) else {
            return Ok(());
        };
        self.failed_over = true;
        let pending: Vec<TaskId> =
            self.states.iter().filter(|(_, s)| **s == TaskState::Pending).map(|(id, _)| id.clone()).collect();
        self.session.stop(StopMode::Failover);
        self.pump()?;
        // What the old scheduler never heard of ending ended all the same: the new one learns
        // the truth from the master, and so does the ledger.
        let truth: BTreeSet<TaskId> = self.master_live()?.into_iter().map(|(id, _)| id).collect();
        for id in self.live.clone() {
            if !truth.contains(&id) {
                self.end(&id);
            }
        }
        let mut config = self.config.clone();
        config.framework_id = Some(framework_id);
        self.session = Session::new(config).map_err(|e| e.to_string())?;
        self.trace.push(format!("[{:>6} ms] failover; {} pending resubmitted", self.now.as_millis(), pending.len()));
        self.pump()?;
        for id in pending {
            self.session.submit(self.specs[&id].clone(), self.now).map_err(|e| e.to_string())?;
        }
        self.pump()
    }

    fn run_for(&mut self, d: Duration) -> Result<(), String> {
        let until = self.now + d;
        let mut rounds = 0;
        loop {
            let next = [self.session.poll_timeout(), self.master.poll_timeout()].into_iter().flatten().min();
            let Some(at) = next.filter(|at| *at <= until) else {
                break;
            };
            self.now = self.now.max(at);
            if self.session.poll_timeout().is_some_and(|t| t <= self.now) {
                self.session.handle_timeout(self.now);
            }
            if self.master.poll_timeout().is_some_and(|t| t <= self.now) {
                self.master.handle_timeout(self.now);
            }
            self.pump()?;
            rounds += 1;
            if rounds > MAX_STEPS_AT_ONCE {
                return Err(format!("no progress at {} ms", self.now.as_millis()));
            }
            let stuck = [self.session.poll_timeout(), self.master.poll_timeout()].into_iter().flatten().min();
            if stuck.is_some_and(|t| t <= self.now) && stuck == next {
                break;
            }
        }
        self.now = until;
        Ok(())
    }

    /// Hands outputs across until both sides are quiet.
    fn pump(&mut self) -> Result<(), String> {
        for _ in 0..MAX_STEPS_AT_ONCE {
            let mut moved = false;
            while let Some(action) = self.session.poll_action() {
                moved = true;
                self.act(action)?;
            }
            while let Some(output) = self.master.poll_output() {
                moved = true;
                self.deliver(output);
            }
            while let Some(update) = self.session.poll_update() {
                self.note(update)?;
            }
            if !moved {
                return Ok(());
            }
        }
        Err("the session and the master never went quiet".into())
    }

    fn act(&mut self, action: Action) -> Result<(), String> {
        let now = self.now;
        match action {
            Action::Subscribe(call, _) => match self.master.handle_call(now, call, None) {
                MasterOutcome::Subscribed { stream, stream_id } => {
                    self.stream = Some((stream, stream_id.clone()));
                    self.session.handle_subscribed(stream_id, now);
                }
                other => self.session.handle_subscribe_failed(session_outcome(other), now),
            },
            Action::Send(id, call, _) => {
                let Some((_, stream_id)) = self.stream.clone() else {
                    self.session.handle_call_result(id, CallOutcome::NotSent, now);
                    return Ok(());
                };
                if call.r#type == Some(call::Type::Accept as i32) {
                    self.collect_launches(&call);
                }
                let outcome = self.master.handle_call(now, call, Some(&stream_id));
                self.session.handle_call_result(id, session_outcome(outcome), now);
            }
            Action::Query(id, query, _) => {
                let answer = match self.master.handle_operator(now, query.call()) {
                    Ok(response) => QueryAnswer::from_response(query, &response)
                        .map_err(|message| CallOutcome::Rejected { status: 200, message }),
                    Err(rejected) => Err(CallOutcome::Rejected { status: rejected.status, message: rejected.message }),
                };
                self.trace.push(format!("[{:>6} ms] operator {query:?}", now.as_millis()));
                self.session.handle_query_result(id, answer, now);
            }
            Action::Disconnect => {
                if let Some((stream, _)) = self.stream.take() {
                    self.master.handle_stream_closed(now, stream);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn deliver(&mut self, output: Output) {
        let current = self.stream.as_ref().map(|(s, _)| *s);
        match output {
            Output::Event { stream, event } if Some(stream) == current => self.session.handle_event(event, self.now),
            Output::Close { stream } if Some(stream) == current => {
                self.stream = None;
                self.session.handle_disconnected(self.now);
            }
            _ => {}
        }
    }

    fn note(&mut self, update: Update) -> Result<(), String> {
        if let Update::Pass(report) = &update {
            self.check_pass(&report.launched)?;
        }
        match update {
            Update::Subscribed { framework_id } => self.framework_id = Some(framework_id),
            Update::Task(u) => {
                if u.state == TaskState::Pending || u.state.is_terminal() {
                    self.end(&u.task_id);
                }
                self.states.insert(u.task_id, u.state);
            }
            Update::Pass(report) if report.stats.tasks_placed + report.stats.tasks_unplaced > 0 => {
                let s = &report.stats;
                let line = format!(
                    "[{:>6} ms] pass: {} placed, {} unplaced",
                    self.now.as_millis(),
                    s.tasks_placed,
                    s.tasks_unplaced
                );
                self.trace.push(line);
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, id: &TaskId) {
        if self.live.remove(id) {
            self.ledger.end(id);
        }
    }

    /// The launches of an ACCEPT, for the batch of the pass.
    fn collect_launches(&mut self, call: &Call) {
        let operations = call.accept.iter().flat_map(|a| &a.operations);
        for info in operations.filter_map(|o| o.launch.as_ref()).flat_map(|l| &l.task_infos) {
            self.batch.push((TaskId::new(&info.task_id.value), AgentId::new(&info.agent_id.value)));
        }
    }

    /// Records a pass's launches against the tasks live now, in the order the pass placed
    /// them (its report says); every one must be admitted at its turn, and the report must name
    /// exactly the launches the ACCEPTs carried.
    fn check_pass(&mut self, order: &[(TaskId, AgentId)]) -> Result<(), String> {
        let mut sent = std::mem::take(&mut self.batch);
        let mut named = order.to_vec();
        sent.sort();
        named.sort();
        if sent != named {
            return Err(format!("the pass report names {named:?} but the ACCEPTs launched {sent:?}"));
        }
        for (id, agent) in order {
            let spec = &self.specs.get(id).ok_or_else(|| format!("launch of a task never submitted: {id}"))?.spec;
            let (hostname, attrs) = self.hosts.get(agent).ok_or_else(|| format!("launch on unknown agent {agent}"))?;
            if let Err(v) = self.ledger.launch(spec, agent, hostname, attrs) {
                let mut text = format!("launch of {id} on {hostname} {attrs:?}: {v}\nlive:");
                for t in &self.live {
                    let _ = write!(text, " {t}");
                }
                return Err(text);
            }
            let group = &spec.group;
            self.trace.push(format!("[{:>6} ms] launch {id} ({group}) on {hostname}", self.now.as_millis()));
            self.live.insert(id.clone());
            self.launches += 1;
        }
        Ok(())
    }

    /// The tasks the master holds live (with their agents).
    fn master_live(&mut self) -> Result<Vec<(TaskId, AgentId)>, String> {
        let query = offerpack::session::OperatorQuery::GetTasks;
        let response = self.master.handle_operator(self.now, query.call()).map_err(|r| r.message)?;
        match QueryAnswer::from_response(query, &response)? {
            // GET_TASKS also lists completed tasks: only those still holding resources run.
            QueryAnswer::Tasks(tasks) => Ok(tasks
                .into_iter()
                .filter(|t| t.state.is_some_and(|s| !s.is_terminal()))
                .filter_map(|t| Some((t.id, t.agent_id?)))
                .collect()),
            _ => Err("GET_TASKS answered with something else".into()),
        }
    }

    /// What runs on the cluster satisfies every rule that does not depend on placement order.
    fn check_master_truth(&mut self) -> Result<(), String> {
        let mut truth = Ledger::new();
        for (id, agent) in self.master_live()? {
            let spec = &self.specs.get(&id).ok_or_else(|| format!("the master runs unknown task {id}"))?.spec;
            let (hostname, attrs) = &self.hosts[&agent];
            truth.adopt(spec, &agent, hostname, attrs).map_err(|v| format!("master truth: {v}"))?;
        }
        truth.check_state().map_err(|v| format!("the tasks running on the cluster break a rule: {v}"))
    }
}

/// The HTTP answer as the driver would report it to the session.
fn session_outcome(outcome: MasterOutcome) -> CallOutcome {
    match outcome {
        MasterOutcome::Rejected { status: 403, .. } => CallOutcome::NotSubscribed,
        MasterOutcome::Rejected { status: 503, message } => CallOutcome::Unavailable(message),
        MasterOutcome::Rejected { status, message } => CallOutcome::Rejected { status, message },
        _ => CallOutcome::Accepted,
    }
}
