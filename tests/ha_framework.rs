//! A highly available framework: `offerpack run --ha` instances against one simulated master
//! (in this process, with its task ledger as the oracle), elected through a real ZooKeeper
//! server (see `zk_support`) or a lock file. The leader is killed with SIGKILL mid-run; the
//! standby (or a new instance on the same directory) takes over: every task finishes, none is
//! launched twice, none is forgotten, and the framework id stays the same. Skipped (with a
//! message) without ZooKeeper, except in CI.
//!
//! Every wait ends on an event (a line a process printed, the ledger, a process exit) within a
//! deadline; nothing sleeps in place of synchronisation. The takeover times (kill → the
//! standby subscribed) are printed: run with `--nocapture`; `HA_FRAMEWORK_LOG=1` also prints
//! every process's output, `HA_FRAMEWORK_ROUNDS=N` kills N leaders instead of 3.

#![cfg(feature = "cli")]

mod procs_support;
mod zk_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use offerpack::ha::{HaUrl, StateStore, StoreError, TaskRecord, ZkStore};
use offerpack::master::{AgentConfig, LedgerEntry, LedgerEvent, MasterConfig, MasterHandle, SimMaster};
use offerpack::mesos::v1::TaskState as P;
use offerpack::session::TaskState;
use procs_support::{Procs, PATIENCE};
use zk_support::ZkServer;

/// How long a run may take to end by itself.
const EXIT_PATIENCE: Duration = Duration::from_secs(120);
/// The instances' ZooKeeper session timeout (the test server's tick is 500 ms).
const SESSION_SECS: &str = "2";
/// Tasks per run.
const TASKS: usize = 20;
/// How long a task runs on the simulated master.
const TASK_RUN: Duration = Duration::from_secs(4);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// A simulated master with a task ledger: two agents with room for five tasks each, so the
/// tasks run in two waves of `TASK_RUN`.
fn master(rt: &tokio::runtime::Runtime) -> MasterHandle {
    let mut config = MasterConfig::new("127.0.0.1:0".parse().unwrap())
        .with_uniform_agents(2, &AgentConfig::new("", 0.5, 4096.0))
        .with_seed(7);
    config.tasks.run = Some(TASK_RUN);
    config.task_ledger = true;
    rt.block_on(SimMaster::start(config)).expect("master starts")
}

/// `offerpack run` arguments for an instance `name` of the run at `ha`.
fn instance<'a>(master: &'a str, ha: &'a str, name: &'a str) -> Vec<&'a str> {
    let mut args = vec!["run", "--master", master, "--tasks", "20", "--ha", ha, "--instance", name];
    args.extend(["--ha-session-timeout", SESSION_SECS, "--deadline", "120", "--connect-timeout", "30"]);
    args
}

/// The ledger so far, drained into `ledger`.
fn drain(rt: &tokio::runtime::Runtime, master: &MasterHandle, ledger: &mut Vec<LedgerEntry>) {
    ledger.extend(rt.block_on(master.drain_task_ledger()));
}

/// Waits until the ledger shows `n` launches.
fn wait_launches(
    rt: &tokio::runtime::Runtime,
    master: &MasterHandle,
    ledger: &mut Vec<LedgerEntry>,
    procs: &mut Procs,
    n: usize,
) {
    let deadline = Instant::now() + PATIENCE;
    while ledger.iter().filter(|e| e.event == LedgerEvent::Launched).count() < n {
        assert!(Instant::now() < deadline, "fewer than {n} launches:\n{}", procs.dump());
        // A line, or a short pause before the ledger is read again.
        procs.next(Duration::from_millis(20));
        drain(rt, master, ledger);
    }
}

/// The master's side of the run: every task launched exactly once (no attempt while another
/// was live, and no relaunch), every one finished, all under one framework id; that id.
fn judge(ledger: &[LedgerEntry], log: &str) -> String {
    let mut launches: BTreeMap<&str, usize> = BTreeMap::new();
    let mut finished: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in ledger {
        match entry.event {
            LedgerEvent::Launched => *launches.entry(&entry.task_id).or_default() += 1,
            LedgerEvent::Ended(P::TaskFinished) => *finished.entry(&entry.task_id).or_default() += 1,
            LedgerEvent::Ended(other) => panic!("task {} ended {other:?}:\n{log}", entry.task_id),
        }
    }
    assert_eq!(launches.len(), TASKS, "every task launched: {launches:?}\n{log}");
    assert!(launches.values().all(|n| *n == 1), "a task launched twice: {launches:?}\n{log}");
    assert_eq!(finished.len(), TASKS, "every task finished: {finished:?}\n{log}");
    assert!(finished.values().all(|n| *n == 1), "{finished:?}");
    let frameworks: std::collections::BTreeSet<&str> = ledger.iter().map(|e| e.framework_id.as_str()).collect();
    assert_eq!(frameworks.len(), 1, "one framework throughout: {frameworks:?}\n{log}");
    frameworks.into_iter().next().unwrap().to_owned()
}

/// One failover through ZooKeeper; the takeover time (kill → the standby subscribed).
fn failover_once(rt: &tokio::runtime::Runtime, zk: &ZkServer, round: usize) -> Duration {
    let master = master(rt);
    let address = master.addr().to_string();
    let ha = format!("zk://{}/offerpack/ha-{round}", zk.addr());
    let mut procs = Procs::new("ha-framework", "HA_FRAMEWORK_LOG");
    procs.start("alpha", &instance(&address, &ha, "alpha"));
    procs.wait_for("alpha", "leading as alpha");
    procs.start("beta", &instance(&address, &ha, "beta"));
    procs.wait_for("beta", "standby: leader is alpha");
    let subscribed = procs.wait_for("alpha", "as framework ");
    let framework = subscribed.text.rsplit(' ').next().unwrap().to_owned();

    // Kill the leader once some tasks were launched (the first wave runs TASK_RUN).
    let mut ledger = Vec::new();
    wait_launches(rt, &master, &mut ledger, &mut procs, 3);
    let killed = procs.kill("alpha");
    procs.wait_for("beta", "leading as beta");
    let resumed = procs.wait_for("beta", "resuming the stored run of framework");
    assert!(resumed.text.contains(&framework), "{}", resumed.text);
    let back = procs.wait_for("beta", &format!("as framework {framework}"));
    let status = procs.wait_exit("beta", EXIT_PATIENCE);
    let log = procs.dump();
    assert!(status.success(), "the standby's run failed:\n{log}");
    assert!(log.contains("[beta] every task finished"), "{log}");
    drain(rt, &master, &mut ledger);
    assert_eq!(judge(&ledger, &log), framework);
    back.at - killed
}

#[test]
fn ha_framework_standby_takes_over_after_the_leader_is_killed() {
    let rt = runtime();
    let Some(zk) = rt.block_on(ZkServer::start()) else { return };
    // Three rounds by default; `HA_FRAMEWORK_ROUNDS=N` for a larger sample of takeover times.
    let rounds = std::env::var("HA_FRAMEWORK_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(3usize).max(1);
    let mut took: Vec<Duration> = (0..rounds).map(|round| failover_once(&rt, &zk, round)).collect();
    took.sort();
    let secs: Vec<String> = took.iter().map(|d| format!("{:.2}", d.as_secs_f64())).collect();
    eprintln!(
        "ha_framework: takeover (kill -9 -> standby subscribed) over {} runs: median {:.2} s, worst {:.2} s ({} s; \
         session timeout {SESSION_SECS} s)",
        took.len(),
        took[took.len() / 2].as_secs_f64(),
        took[took.len() - 1].as_secs_f64(),
        secs.join(", ")
    );
    // Within the session timeout, the server's tick and the new subscription.
    assert!(took.iter().all(|d| *d < Duration::from_secs(10)), "{took:?}");
}

#[test]
fn ha_framework_file_store_resumes_after_sigkill() {
    let rt = runtime();
    let master = master(&rt);
    let address = master.addr().to_string();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ha-file-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ha = format!("file://{}", dir.display());
    let mut procs = Procs::new("ha-framework", "HA_FRAMEWORK_LOG");
    procs.start("first", &instance(&address, &ha, "first"));
    procs.wait_for("first", "leading as first");
    let subscribed = procs.wait_for("first", "as framework ");
    let framework = subscribed.text.rsplit(' ').next().unwrap().to_owned();
    let mut ledger = Vec::new();
    wait_launches(&rt, &master, &mut ledger, &mut procs, 3);
    procs.kill("first");
    // A new instance on the same directory: its own task list is not the stored one.
    let args = ["run", "--master", &address, "--tasks", "3", "--ha", &ha, "--instance", "second"];
    procs.start("second", &args);
    procs.wait_for("second", "leading as second");
    let resumed = procs.wait_for("second", "resuming the stored run of framework");
    assert!(resumed.text.contains(&framework) && resumed.text.contains("20 task(s)"), "{}", resumed.text);
    let status = procs.wait_exit("second", EXIT_PATIENCE);
    let log = procs.dump();
    assert!(status.success(), "{log}");
    drain(&rt, &master, &mut ledger);
    assert_eq!(judge(&ledger, &log), framework);
    // The run is over: a third instance given the same tasks finds the marker and exits.
    procs.start("third", &instance(&address, &ha, "third"));
    assert!(procs.wait_exit("third", EXIT_PATIENCE).success(), "{}", procs.dump());
    procs.wait_for("third", "the run is over: framework");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ha_framework_zk_store_fences_a_deposed_leader() {
    let rt = runtime();
    let Some(zk) = rt.block_on(ZkServer::start()) else { return };
    let url = format!("zk://{}/offerpack/fenced", zk.addr());
    let HaUrl::ZooKeeper(url) = HaUrl::parse(&url).unwrap() else { panic!("a zk URL") };
    rt.block_on(async {
        let mut first = ZkStore::new(url.clone(), Duration::from_secs(4));
        first.take_over("first").await.unwrap();
        let mut record = TaskRecord::new("web/1", "{\"id\":\"web/1\"}");
        first.put_tasks(std::slice::from_ref(&record)).await.unwrap();
        record.state = TaskState::Running;
        first.put_tasks(std::slice::from_ref(&record)).await.unwrap();

        let mut second = ZkStore::new(url.clone(), Duration::from_secs(4));
        second.take_over("second").await.unwrap();
        let snapshot = second.load().await.unwrap();
        assert_eq!(snapshot.tasks, [record.clone()]);
        // The first writer's epoch is stale: its writes fail and change nothing.
        let stale = TaskRecord::new("web/2", "{}");
        assert_eq!(first.put_tasks(std::slice::from_ref(&stale)).await, Err(StoreError::Fenced));
        assert_eq!(second.load().await.unwrap().tasks, [record.clone()]);
        second.put_tasks(std::slice::from_ref(&stale)).await.unwrap();

        // One znode per task, named by the escaped id, holding the record's JSON.
        let client = zk.client().await;
        let mut nodes = client.get_children("/offerpack/fenced/state/tasks").await.unwrap().unwrap();
        nodes.sort();
        assert_eq!(nodes, ["web%2F1", "web%2F2"]);
        let (data, _) = client.get_data("/offerpack/fenced/state/tasks/web%2F1").await.unwrap().unwrap();
        assert_eq!(TaskRecord::decode(&data).unwrap(), record);
    });
}

/// Every role `roles` takes until `until` holds of one, in order.
async fn roles_until(
    roles: &mut tokio::sync::watch::Receiver<offerpack::ha::Role>,
    until: impl Fn(&offerpack::ha::Role) -> bool,
) -> Vec<offerpack::ha::Role> {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let role = roles.borrow_and_update().clone();
        let done = until(&role);
        if seen.last() != Some(&role) {
            seen.push(role);
        }
        if done {
            return seen;
        }
        let changed = tokio::time::timeout_at(deadline, roles.changed()).await;
        assert!(matches!(changed, Ok(Ok(()))), "no such role within {PATIENCE:?}: {seen:?}");
    }
}

#[test]
fn ha_framework_elector_hands_over_and_steps_down_when_its_session_is_lost() {
    use offerpack::ha::{Elector, HaConfig, Role};
    let rt = runtime();
    let Some(mut zk) = rt.block_on(ZkServer::start()) else { return };
    let url = HaUrl::parse(&format!("zk://{}/offerpack/elect", zk.addr())).unwrap();
    let config = |name: &str| HaConfig { session_timeout: Duration::from_secs(2), ..HaConfig::new(url.clone(), name) };
    rt.block_on(async {
        let first = Elector::start(&config("first"));
        let mut roles = first.roles();
        roles_until(&mut roles, |r| matches!(r, Role::Leading { .. })).await;
        let second = Elector::start(&config("second"));
        let mut others = second.roles();
        let standby = Role::Standby { leader: Some("first".to_owned()) };
        roles_until(&mut others, |r| *r == standby).await;
        // A leader that leaves (its session closed) hands over at once.
        drop(first);
        let Role::Leading { term } =
            roles_until(&mut others, |r| matches!(r, Role::Leading { .. })).await.pop().unwrap()
        else {
            unreachable!()
        };
        // The server goes away (and comes back empty): the leader steps down before anything
        // else, then leads again in a new term (a new session and node).
        let watching = tokio::spawn(async move {
            roles_until(&mut others, move |r| matches!(r, Role::Leading { term: t } if *t != term)).await
        });
        zk.restart_empty().await;
        let seen = watching.await.expect("the role watch");
        let (last, before) = seen.split_last().unwrap();
        assert!(
            matches!(last, Role::Leading { .. }) && before.contains(&Role::Candidate),
            "stepped down first: {seen:?}"
        );
    });
}
