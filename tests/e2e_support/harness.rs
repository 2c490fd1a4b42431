//! Masters, frameworks and tasks for the scenarios, and the checks every scenario ends with.

use super::*;

/// A fast master: `agents` agents of 4 cpus / 4096 MB, heartbeats every second, short task steps.
pub fn master_config(agents: usize) -> MasterConfig {
    let mut config =
        MasterConfig::default().with_seed(7).with_uniform_agents(agents, &AgentConfig::new("", 4.0, 4096.0));
    config.heartbeat_interval = Duration::from_secs(1);
    config.allocation_interval = Duration::from_millis(50);
    config.status_update_retry_min = Duration::from_secs(1);
    config.status_update_retry_max = Duration::from_secs(2);
    config.tasks = TaskTiming {
        staging: Duration::from_millis(20),
        starting: Duration::from_millis(20),
        run: Some(Duration::from_millis(300)),
        jitter: 0.2,
    };
    config
}

/// A master with its recording proxy.
pub struct Cluster {
    pub master: MasterHandle,
    pub proxy: Proxy,
    pub log: Arc<Recorder>,
}

impl Cluster {
    pub async fn start(config: MasterConfig) -> Cluster {
        let master = SimMaster::start(config).await.expect("master starts");
        let log = Recorder::new();
        let proxy = Proxy::start("m1", master.addr(), &log).await;
        Cluster { master, proxy, log }
    }
}

/// A driver with backoffs to match the fast master, talking to `masters`.
pub fn framework_config(name: &str, masters: &[String], encoding: Encoding) -> FrameworkConfig {
    let mut config = FrameworkConfig::new(name, "root", masters.iter().cloned()).encoding(encoding).refuse_seconds(1.0);
    config.retry_delay = Duration::from_millis(100);
    config.call_timeout = Duration::from_secs(15);
    config.session.schedule_delay = Duration::from_millis(20);
    config.session.reconnect = Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(500) };
    config.session.reconcile = Backoff { initial: Duration::from_millis(200), max: Duration::from_secs(1) };
    config
}

/// `n` task ids `t-00` … of one group.
pub fn task_ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("t-{i:02}")).collect()
}

/// A task asking for `cpus` and 64 MB.
pub fn task(id: &str, cpus: f64) -> TaskRequest {
    let spec = TaskSpec::builder(id, "e2e").scalar("cpus", cpus).scalar("mem", 64.0).build().expect("task spec");
    TaskRequest::command(spec, CommandSpec::shell("true"))
}

/// A running framework and what it reported.
pub struct Run {
    pub handle: FrameworkHandle,
    pub updates: Updates,
    pub history: Vec<Update>,
    /// The latest state of each task.
    pub states: BTreeMap<String, TaskState>,
    pub(crate) deadline: Instant,
}

impl Run {
    /// Starts the framework and submits `tasks` of `cpus` each.
    pub async fn start(config: FrameworkConfig, tasks: &[String], cpus: f64) -> Run {
        let (handle, updates) = Framework::start(config).expect("framework starts");
        for id in tasks {
            handle.submit(task(id, cpus)).await.expect("submitted");
        }
        Run { handle, updates, history: Vec::new(), states: BTreeMap::new(), deadline: Instant::now() + PATIENCE }
    }

    /// The next update; panics with the log if none comes within [`PATIENCE`] of the start.
    pub async fn next(&mut self, log: &Recorder) -> Update {
        match tokio::time::timeout_at(self.deadline, self.updates.recv()).await {
            Ok(Some(update)) => {
                if let Update::Task(t) = &update {
                    self.states.insert(t.task_id.as_str().to_owned(), t.state);
                }
                self.history.push(update.clone());
                update
            }
            Ok(None) => panic!("the driver stopped\n{:#?}\n{}", self.history.last(), log.dump()),
            Err(_) => panic!("timed out; task states {:?}\n{}", self.states, log.dump()),
        }
    }

    /// Reads updates until `pred` holds for one.
    pub async fn until(&mut self, log: &Recorder, mut pred: impl FnMut(&Update, &Run) -> bool) -> Update {
        loop {
            let update = self.next(log).await;
            if pred(&update, self) {
                return update;
            }
        }
    }

    /// How many of `tasks` are in `state`.
    pub fn count(&self, state: TaskState) -> usize {
        self.states.values().filter(|s| **s == state).count()
    }

    /// Whether every one of `tasks` is FINISHED.
    pub fn all_finished(&self, tasks: &[String]) -> bool {
        tasks.iter().all(|t| self.states.get(t) == Some(&TaskState::Finished))
    }

    /// Reads updates until every task is FINISHED; any other terminal state fails the test.
    pub async fn finish_all(&mut self, log: &Recorder, tasks: &[String]) {
        while !self.all_finished(tasks) {
            if let Update::Task(t) = self.next(log).await {
                assert!(
                    !t.state.is_terminal() || t.state == TaskState::Finished,
                    "task {} ended {:?}: {:?}\n{}",
                    t.task_id,
                    t.state,
                    t.message,
                    log.dump()
                );
            }
        }
    }

    /// Framework ids of the `Subscribed` updates.
    pub fn subscribed_ids(&self) -> Vec<String> {
        self.history
            .iter()
            .filter_map(|u| match u {
                Update::Subscribed { framework_id } => Some(framework_id.clone()),
                _ => None,
            })
            .collect()
    }

    /// Stops the framework leaving its tasks to the master (failover) and waits for the end.
    pub async fn stop_failover(&mut self, log: &Recorder) {
        self.handle.stop(StopMode::Failover);
        while !matches!(self.next(log).await, Update::Stopped(_)) {}
    }
}

/// The end-of-scenario checks every test makes, then the master's view:
/// 1. every task FINISHED for the driver and in the log;
/// 2. [`check_log`] (launches, no launch twice in flight, acks only of delivered uuids);
/// 3. every copy with a uuid acknowledged (`exact`: as many acks as copies, at the same time);
/// 4. the driver stopped (failover), a raw client re-subscribes as the framework and reconciles
///    every task: the master has forgotten each (its terminal update was acknowledged).
///
/// Returns the accepted LAUNCH count per task.
pub async fn finish_and_check(
    run: &mut Run,
    cluster_log: &Recorder,
    master_url: &str,
    tasks: &[String],
    exact: bool,
) -> BTreeMap<String, usize> {
    run.finish_all(cluster_log, tasks).await;
    let finished = cluster_log.with(finished_in_log);
    for t in tasks {
        assert!(finished.contains(t), "no TASK_FINISHED for {t} reached the driver\n{}", cluster_log.dump());
    }
    // A task can be FINISHED for the driver through a reconciliation answer (no uuid) while its
    // reliable TASK_FINISHED was lost with a stream: the master re-sends that one until it is
    // acknowledged, so wait for it too.
    let what = "a TASK_FINISHED with a uuid for every task, and every update with a uuid acknowledged";
    cluster_log
        .wait_until(what, |log| {
            let reliable: BTreeSet<String> = statuses(log)
                .into_iter()
                .filter(|s| s.state() == P::TaskFinished && s.uuid.is_some())
                .map(|s| s.task_id.value)
                .collect();
            tasks.iter().all(|t| reliable.contains(t)) && all_acked(log, !exact)
        })
        .await;
    if std::env::var_os("E2E_DUMP").is_some() {
        eprintln!("{}", cluster_log.dump());
    }
    let launches = cluster_log.with(|log| check_log(log, tasks));
    let framework_id = run.subscribed_ids().last().cloned().expect("subscribed");
    run.stop_failover(cluster_log).await;
    let answers = reconcile_as(master_url, &framework_id, tasks).await;
    for (task, status) in answers {
        assert_eq!(
            (status.state(), status.reason()),
            (P::TaskLost, Reason::Reconciliation),
            "the master still has task {task}: {:?} ({:?}); its last update was not acknowledged",
            status.state(),
            status.message
        );
    }
    launches
}

/// Asserts at least `min` subscriptions, all with the same framework id, each re-SUBSCRIBE
/// carrying that id (in `Call.framework_id` and `FrameworkInfo.id`), and the driver's
/// `Subscribed` updates agreeing. Returns the id.
pub fn assert_same_framework_id(log: &Recorder, run: &Run, min: usize) -> String {
    let ids = log.with(subscribed_ids);
    assert!(ids.len() >= min, "{} subscriptions, wanted at least {min}\n{}", ids.len(), log.dump());
    let id = ids[0].clone();
    assert!(ids.iter().all(|i| *i == id), "framework id changed: {ids:?}");
    assert_eq!(run.subscribed_ids(), ids, "the driver reported every SUBSCRIBED it got");
    let subscribes = log.with(|l| calls(l, CallKind::Subscribe));
    let answered: Vec<_> = subscribes.iter().filter(|(_, _, status, _)| *status == Some(200)).collect();
    for (n, (_, c, _, _)) in answered.iter().enumerate() {
        let info_id = c.subscribe.as_ref().and_then(|s| s.framework_info.id.as_ref()).map(|f| f.value.clone());
        let call_id = c.framework_id.as_ref().map(|f| f.value.clone());
        if n == 0 {
            assert_eq!((call_id, info_id), (None, None), "the first SUBSCRIBE asks for a new id");
        } else {
            assert_eq!((call_id, info_id), (Some(id.clone()), Some(id.clone())), "re-SUBSCRIBE #{n} keeps the id");
        }
    }
    id
}
