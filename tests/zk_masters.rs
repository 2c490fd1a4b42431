//! Masters elected through ZooKeeper, as processes against a real ZooKeeper server (see
//! `zk_support`): `offerpack master --zk` contenders, `offerpack agent`s and `offerpack run`
//! following the leader through `zk://` URLs. Skipped (with a message) without ZooKeeper,
//! except in CI.
//!
//! Every wait ends on an event (a line a process printed, a status the leader reports, a
//! process exit) within a deadline; nothing sleeps in place of synchronisation. The failover
//! test prints its recovery times (run with `--nocapture`); `ZK_MASTERS_LOG=1` also prints every
//! process's output.

#![cfg(feature = "cli")]

mod procs_support;
mod zk_support;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use procs_support::{Procs, PATIENCE};
use zk_support::ZkServer;

/// The masters' ZooKeeper session timeout (the server's tick is 500 ms, so it is honoured).
const SESSION_TIMEOUT: Duration = Duration::from_secs(4);

fn master_args<'a>(group: &'a str, seed: &'a str, agents: &'a str) -> Vec<&'a str> {
    let mut args = vec!["master", "--listen", "127.0.0.1:0", "--agents", agents, "--seed", seed, "--zk", group];
    args.extend(["--zk-session-timeout", "4", "--agent-ping", "0.5"]);
    args
}

/// `host:port` of the scheduler API URL a master printed.
fn address_of(procs: &mut Procs, master: &str) -> String {
    let line = procs.wait_for(master, "scheduler API at http://");
    let url = line.text.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL");
    url.trim_start_matches("http://").split('/').next().expect("an authority").to_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    // This test builds its own reqwest clients, which need rustls' provider.
    offerpack::tls::install_default_provider();
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// A master's `/metrics/snapshot` value.
async fn metric(address: &str, name: &str) -> f64 {
    let url = format!("http://{address}/metrics/snapshot");
    let body = reqwest::get(url).await.expect("metrics answer").bytes().await.expect("metrics body");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("metrics JSON");
    json[name].as_f64().unwrap_or_else(|| panic!("no {name} in {json}"))
}

#[test]
fn zk_masters_follower_redirects_to_the_leader_and_detectors_read_the_group() {
    let rt = runtime();
    let Some(zk) = rt.block_on(ZkServer::start()) else { return };
    let group = format!("zk://{}/offerpack/masters", zk.addr());
    let mut procs = Procs::new("zk-masters-redirect", "ZK_MASTERS_LOG");
    procs.start("first", &master_args(&group, "1", "1"));
    let first = address_of(&mut procs, "first");
    let leading = procs.wait_for("first", "offerpack master: leading (zk node json.info_");
    let node = leading.text.trim_end_matches(')').rsplit(' ').next().expect("a node name").to_owned();
    procs.start("second", &master_args(&group, "2", "1"));
    let second = address_of(&mut procs, "second");
    procs.wait_for("second", &format!("offerpack master: following the leader at {first}"));

    rt.block_on(async {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for path in ["/api/v1/scheduler", "/master/api/v1/scheduler", "/api/v1", "/api/offerpack/agent"] {
            let response = client.post(format!("http://{second}{path}")).body("{}").send().await.unwrap();
            assert_eq!(response.status(), 307, "{path}");
            assert_eq!(response.headers()["location"], format!("//{first}{path}"), "{path}");
        }
        assert_eq!((metric(&first, "master/elected").await, metric(&second, "master/elected").await), (1.0, 0.0));

        // The group as a Mesos detector reads it: the smallest sequence leads, its JSON names it.
        let zk_client = zk.client().await;
        let children = zk_client.get_children("/offerpack/masters").await.unwrap().expect("the group node");
        assert_eq!(children.len(), 2, "{children:?}");
        assert!(children.iter().all(|c| c.starts_with("json.info_") && c.len() == "json.info_".len() + 10));
        let smallest = children.iter().min_by_key(|c| c["json.info_".len()..].parse::<u64>().unwrap()).unwrap();
        assert_eq!(*smallest, node);
        for (child, address) in
            [(smallest.clone(), &first), (children.iter().find(|c| **c != node).unwrap().clone(), &second)]
        {
            let (data, stat) = zk_client.get_data(&format!("/offerpack/masters/{child}")).await.unwrap().unwrap();
            assert_ne!(stat.ephemeral_owner, 0, "{child} is ephemeral");
            let info: serde_json::Value = serde_json::from_slice(&data).expect("MasterInfo JSON");
            let (host, port) = address.split_once(':').unwrap();
            let port: u64 = port.parse().unwrap();
            let ip = u32::try_from(info["ip"].as_u64().expect("ip")).unwrap();
            assert_eq!(Ipv4Addr::from(ip.to_le_bytes()).to_string(), host, "ip as the s_addr uint32");
            assert_eq!((info["port"].as_u64(), info["hostname"].as_str()), (Some(port), Some(host)));
            assert_eq!(info["pid"].as_str(), Some(format!("master@{address}").as_str()));
            assert_eq!((info["address"]["ip"].as_str(), info["address"]["port"].as_u64()), (Some(host), Some(port)));
            assert!(info["id"].as_str().is_some_and(|id| !id.is_empty()) && info["version"].is_string());
        }
    });

    // The leader dies: the second leads once the first's session expires.
    let killed = procs.kill("first");
    let took = procs.wait_for("second", "offerpack master: leading (zk node json.info_").at - killed;
    assert!(took <= SESSION_TIMEOUT + Duration::from_secs(5), "took {took:?}");
    assert_eq!(rt.block_on(metric(&second, "master/elected")), 1.0);
    eprintln!("zk_masters: the follower led {:.2} s after the leader was killed", took.as_secs_f64());
}

/// `offerpack agent --master GROUP` arguments: room for four 0.1-cpu tasks.
fn agent_args(group: &str, work: &str) -> Vec<String> {
    let args = ["agent", "--master", group, "--listen", "127.0.0.1:0", "--work-dir", work];
    let mut args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    args.extend(["--resources".to_owned(), "cpus:0.4;mem:1024;disk:1024;ports:[31000-31099]".to_owned()]);
    args
}

/// The task ids an agent's `agent: LAUNCH ID… of framework F` line names, retries counted under
/// their task's own id (`task-000003.retry-1` is `task-000003`).
fn launched(text: &str) -> Vec<String> {
    let Some(rest) = text.strip_prefix("agent: LAUNCH ") else { return Vec::new() };
    let ids = rest.split(" of framework").next().unwrap_or_default();
    ids.split_whitespace().map(|id| id.split(".retry-").next().unwrap_or(id).to_owned()).collect()
}

#[test]
fn zk_masters_failover_mid_run_keeps_every_task_once() {
    const TASKS: usize = 16;
    let rt = runtime();
    let Some(zk) = rt.block_on(ZkServer::start()) else { return };
    let group = format!("zk://{}/mesos", zk.addr());
    let mut procs = Procs::new("zk-masters-failover", "ZK_MASTERS_LOG");
    procs.start("leader", &master_args(&group, "1", "0"));
    let leader = address_of(&mut procs, "leader");
    procs.wait_for("leader", "offerpack master: leading (zk node");
    procs.start("standby", &master_args(&group, "2", "0"));
    let standby = address_of(&mut procs, "standby");
    procs.wait_for("standby", &format!("following the leader at {leader}"));
    let agents = ["agent-1", "agent-2"];
    for agent in agents {
        let work = procs.dir.join(agent).display().to_string();
        let args = agent_args(&group, &work);
        procs.start(agent, &args.iter().map(String::as_str).collect::<Vec<_>>());
        let registered = procs.wait_for(agent, "agent: registered as");
        assert!(registered.text.ends_with(&format!("{leader}/api/offerpack/agent")), "{}", registered.text);
    }
    let tasks = TASKS.to_string();
    let run = ["run", "--master", &group, "--tasks", &tasks, "--command", "sleep 2", "--retries", "3"];
    procs.start("run", &[&run[..], &["--connect-timeout", "30", "--deadline", "120"]].concat());

    // Kill the leader once some tasks run (their processes started).
    let deadline = Instant::now() + PATIENCE;
    while procs.seen().iter().filter(|l| l.text.starts_with("agent: started")).count() < 3 {
        assert!(Instant::now() < deadline, "no tasks started:\n{}", procs.dump());
        procs.next(Duration::from_millis(100));
    }
    let killed = procs.kill("leader");

    // The framework is subscribed to the new leader within the session timeout and 5 s.
    let resubscribed = rt.block_on(async {
        let deadline = killed + SESSION_TIMEOUT + Duration::from_secs(5);
        loop {
            let elected = metric(&standby, "master/elected").await == 1.0;
            if elected && metric(&standby, "master/frameworks_connected").await >= 1.0 {
                return Instant::now();
            }
            assert!(Instant::now() < deadline, "no framework at the new leader in time:\n{}", procs.dump());
            procs.next(Duration::from_millis(20));
        }
    });
    let status = procs.wait_exit("run", Duration::from_secs(120));
    let log = procs.dump();
    assert!(status.success(), "run failed:\n{log}");
    assert!(procs.lines_of("run").any(|l| l.text.contains("every task finished")), "{log}");

    // Each task launched exactly once, over both agents and both masters.
    let mut launches: std::collections::BTreeMap<String, usize> = Default::default();
    for line in procs.seen().iter().filter(|l| agents.contains(&l.from.as_str())) {
        for id in launched(&line.text) {
            *launches.entry(id).or_default() += 1;
        }
    }
    assert_eq!(launches.len(), TASKS, "{launches:?}\n{log}");
    assert!(launches.values().all(|n| *n == 1), "a task launched twice: {launches:?}\n{log}");

    // Recovery: the first task process started by an agent after it registered with the new leader.
    let next_running = agents
        .iter()
        .filter_map(|agent| {
            let back =
                procs.lines_of(agent).find(|l| l.text.contains("registered as") && l.text.contains(&standby))?.at;
            procs.lines_of(agent).find(|l| l.at >= back && l.text.starts_with("agent: started")).map(|l| l.at)
        })
        .min()
        .expect("a task started after the failover");
    let leads = procs.wait_for("standby", "offerpack master: leading").at;
    eprintln!(
        "zk_masters: leader change recovery: kill -> new leader {:.2} s, kill -> re-subscribed {:.2} s, kill -> next task \
         RUNNING {:.2} s",
        (leads - killed).as_secs_f64(),
        (resubscribed - killed).as_secs_f64(),
        (next_running - killed).as_secs_f64()
    );
}
