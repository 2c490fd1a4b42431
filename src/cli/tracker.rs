//! What `demo` and `run` know about their tasks while they follow them: every task's latest
//! state, the milestones, the scheduling passes' offers and queue buckets, retries and tasks
//! given up. [`Tracker::report`] turns it into the [`Report`] the summary prints.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use offerpack::model::{AgentId, TaskId};
use offerpack::session::{PassReport, TaskRequest, TaskState, TaskUpdate, UnplacedSummary};

use super::reasons::hint;
use super::runner::{BucketLine, GaveUp, OfferTotals, Report};

/// Tasks named when some did not finish.
const SHOWN_FAILURES: usize = 5;

/// One task as the CLI follows it.
#[derive(Debug)]
struct Followed {
    state: TaskState,
    agent: Option<AgentId>,
    launched: bool,
    ran: bool,
    message: String,
    /// When the current attempt was first reported running, and from then to its finish.
    running_since: Option<Duration>,
    took: Option<Duration>,
}

/// Every task's latest state, and when milestones were reached.
#[derive(Debug)]
pub struct Tracker {
    tasks: HashMap<TaskId, Followed>,
    /// Pending updates about tasks that had been launched: attempts retried (and launches sent
    /// back unrun, e.g. when their offers were rescinded).
    retries: u64,
    /// Tasks the session gave up on: attempts, and the state that ended the last one.
    gave_up: HashMap<TaskId, (u32, TaskState)>,
    /// Per queue bucket (tier, name): tasks placed over the run, and the latest pass's figures.
    buckets: BTreeMap<(u32, Arc<str>), BucketLine>,
    offers: OfferTotals,
    /// The unplaced tasks of the latest pass that had offers (a pass without offers explains
    /// nothing new, so it leaves them as they were).
    unplaced: Vec<UnplacedSummary>,
    offered: bool,
    ended: usize,
    ran: usize,
    last_launch: Option<Duration>,
    all_running: Option<Duration>,
}

impl Tracker {
    /// Follows the tasks of `requests`, all pending.
    pub fn new(requests: &[TaskRequest]) -> Tracker {
        let follow = |r: &TaskRequest| {
            let task = Followed {
                state: TaskState::Pending,
                agent: None,
                launched: false,
                ran: false,
                message: String::new(),
                running_since: None,
                took: None,
            };
            (r.spec.id.clone(), task)
        };
        Tracker {
            tasks: requests.iter().map(follow).collect(),
            retries: 0,
            gave_up: HashMap::new(),
            buckets: BTreeMap::new(),
            offers: OfferTotals::default(),
            unplaced: Vec::new(),
            offered: false,
            ended: 0,
            ran: 0,
            last_launch: None,
            all_running: None,
        }
    }

    /// Applies an update received `at` after the start; updates about tasks this
    /// run did not submit are ignored.
    pub fn apply(&mut self, update: &TaskUpdate, at: Duration) {
        let Some(task) = self.tasks.get_mut(&update.task_id) else { return };
        let (was_ended, now_ended) = (task.state.is_terminal(), update.state.is_terminal());
        if update.state == TaskState::Pending && task.state != TaskState::Pending {
            self.retries += 1;
        }
        match update.state {
            TaskState::Running if task.state != TaskState::Running => task.running_since = Some(at),
            TaskState::Finished => task.took = task.running_since.map(|since| at.saturating_sub(since)),
            _ => {}
        }
        task.state = update.state;
        task.message = update.message.clone().unwrap_or_default();
        match update.state {
            TaskState::Pending => task.agent = None,
            _ => task.agent = update.agent_id.clone().or(task.agent.take()),
        }
        if update.state == TaskState::Launched {
            task.launched = true;
            self.last_launch = Some(at);
        }
        if matches!(update.state, TaskState::Running | TaskState::Finished) && !task.ran {
            task.ran = true;
            self.ran += 1;
            if self.ran == self.tasks.len() {
                self.all_running = Some(at);
            }
        }
        self.ended = match (was_ended, now_ended) {
            (false, true) => self.ended + 1,
            (true, false) => self.ended.saturating_sub(1),
            _ => self.ended,
        };
    }

    /// Whether every task has ended.
    pub fn all_ended(&self) -> bool {
        self.ended == self.tasks.len()
    }

    fn count(&self, wanted: impl Fn(&Followed) -> bool) -> usize {
        self.tasks.values().filter(|t| wanted(t)).count()
    }

    /// `[  3.0s] launched 120/200, running 80, finished 40, pending 0`.
    pub fn progress(&self, at: Duration) -> String {
        let failed = self.count(|t| t.state.is_terminal() && t.state != TaskState::Finished);
        let mut line = format!(
            "[{:6.1}s] launched {}/{}, running {}, finished {}, pending {}",
            at.as_secs_f64(),
            self.count(|t| t.launched),
            self.tasks.len(),
            self.count(|t| t.state == TaskState::Running),
            self.count(|t| t.state == TaskState::Finished),
            self.count(|t| t.state == TaskState::Pending),
        );
        if failed > 0 {
            line.push_str(&format!(", failed {failed}"));
        }
        if self.retries > 0 {
            line.push_str(&format!(", retries {}", self.retries));
        }
        line
    }

    /// Why the deadline passed.
    pub fn overdue(&self) -> String {
        let pending = self.count(|t| t.state == TaskState::Pending);
        let active = self.count(|t| t.state != TaskState::Pending && !t.state.is_terminal());
        let mut text =
            format!("the deadline passed with {pending} task(s) pending and {active} launched but not ended");
        if pending > 0 {
            text.push_str(&match hint(&self.unplaced, self.offered) {
                Some(hint) => format!(" ({hint})"),
                None => " (the summary says why they wait)".to_owned(),
            });
        }
        text
    }

    /// Why the run failed although every task ended; tasks given up say so.
    pub fn failure(&self) -> Option<String> {
        let mut failed: Vec<(&TaskId, &Followed)> =
            self.tasks.iter().filter(|(_, t)| t.state.is_terminal() && t.state != TaskState::Finished).collect();
        if failed.is_empty() {
            return None;
        }
        failed.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let name = |(id, t): &(&TaskId, &Followed)| match self.gave_up.get(*id) {
            Some((attempts, _)) => {
                format!("{id} given up after {attempts} attempt(s), last {} ({})", t.state, t.message)
            }
            None => format!("{id} {} ({})", t.state, t.message),
        };
        let named: Vec<String> = failed.iter().take(SHOWN_FAILURES).map(name).collect();
        let more = failed.len().saturating_sub(SHOWN_FAILURES);
        let tail = if more > 0 { format!("; and {more} more") } else { String::new() };
        Some(format!("{} task(s) did not finish: {}{tail}", failed.len(), named.join("; ")))
    }

    /// Records that the session gave up on `task` after `attempts`; true for the first few,
    /// worth a line on standard error.
    pub fn give_up(&mut self, task: TaskId, attempts: u32, last_state: TaskState) -> bool {
        if !self.tasks.contains_key(&task) {
            return false;
        }
        self.gave_up.insert(task, (attempts, last_state));
        self.gave_up.len() <= SHOWN_FAILURES
    }

    /// Adds a scheduling pass: its offers, its unplaced tasks, its queue buckets.
    pub fn add_pass(&mut self, pass: &PassReport) {
        for b in &pass.stats.buckets {
            let line = self.buckets.entry((b.tier, Arc::clone(&b.bucket))).or_insert_with(|| BucketLine {
                tier: b.tier,
                bucket: Arc::clone(&b.bucket),
                placed: 0,
                unplaced: 0,
                dominant_share: 0.0,
            });
            line.placed += u64::from(b.placed);
            line.unplaced = b.unplaced;
            line.dominant_share = b.dominant_share;
        }
        self.offers.passes += 1;
        self.offers.accept_calls += u64::from(pass.accept_calls);
        self.offers.accepted += u64::from(pass.offers_accepted);
        self.offers.declined += u64::from(pass.offers_declined);
        if pass.stats.agents_considered > 0 {
            self.offered = true;
            self.unplaced.clone_from(&pass.unplaced);
        }
    }

    /// The report at the end of the run.
    pub fn report(&self, subscribed_after: Duration, wall: Duration, problem: Option<String>) -> Report {
        let agents: HashSet<&AgentId> =
            self.tasks.values().filter(|t| t.ran || t.launched).filter_map(|t| t.agent.as_ref()).collect();
        let mut failed: Vec<(TaskId, TaskState, String)> = self
            .tasks
            .iter()
            .filter(|(_, t)| t.state.is_terminal() && t.state != TaskState::Finished)
            .map(|(id, t)| (id.clone(), t.state, t.message.clone()))
            .collect();
        failed.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let launched = self.count(|t| t.launched);
        let mut gave_up: Vec<GaveUp> = self
            .gave_up
            .iter()
            .map(|(task, (attempts, last_state))| GaveUp {
                task: task.clone(),
                attempts: *attempts,
                last_state: *last_state,
            })
            .collect();
        gave_up.sort_by(|a, b| a.task.as_str().cmp(b.task.as_str()));
        Report {
            durations: self.tasks.iter().filter_map(|(id, t)| Some((id.clone(), t.took?))).collect(),
            submitted: self.tasks.len(),
            launched,
            finished: self.count(|t| t.state == TaskState::Finished),
            failed,
            pending: self.count(|t| t.state == TaskState::Pending),
            agents_used: agents.len(),
            subscribed_after,
            launched_after: self.last_launch.filter(|_| launched == self.tasks.len()),
            running_after: self.all_running,
            offers: self.offers,
            unplaced: self.unplaced.clone(),
            offered: self.offered,
            retries: self.retries,
            gave_up,
            buckets: self.buckets.values().cloned().collect(),
            wall,
            problem,
        }
    }
}
