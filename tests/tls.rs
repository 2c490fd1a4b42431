//! TLS between frameworks, agents and the simulated master. Each test makes its own CA and
//! server certificates with rcgen; the master serves HTTPS in-process (or as the real binary
//! in the CLI tests). A certificate the client cannot trust ends the framework at once with a
//! line naming the cause, after exactly one connection.
#![cfg(feature = "cli")]

#[allow(dead_code)]
mod cli_support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use offerpack::driver::{Framework, FrameworkConfig};
use offerpack::master::{AgentConfig, MasterConfig, MasterHandle, Redirect, SimMaster, TaskTiming};
use offerpack::session::{Backoff, CommandSpec, StopMode, StopReason, TaskRequest, TaskState, Update};
use offerpack::tls::{ServerTls, TlsConfig};
use offerpack::TaskSpec;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::net::{TcpListener, TcpStream};

use cli_support::{bin, KillOnDrop};

/// Bound on every wait for something that should happen soon.
const PATIENCE: Duration = Duration::from_secs(60);

/// A test CA that signs server certificates.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate and its key, PEM.
struct Leaf {
    cert: String,
    key: String,
}

impl Ca {
    fn new() -> Ca {
        Ca::named("offerpack test CA")
    }

    fn named(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().expect("CA key");
        let pem = params.self_signed(&key).expect("CA certificate").pem();
        Ca { pem, issuer: Issuer::new(params, key) }
    }

    /// A certificate for `names` (IP addresses or DNS names); `expired` puts its validity in
    /// the past.
    fn issue(&self, names: &[&str], expired: bool) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, "offerpack test master");
        if expired {
            params.not_before = rcgen::date_time_ymd(2000, 1, 1);
            params.not_after = rcgen::date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf certificate").pem();
        Leaf { cert, key: key.serialize_pem() }
    }

    fn trust(&self) -> TlsConfig {
        TlsConfig::from_pem(self.pem.as_bytes()).expect("the CA parses")
    }
}

/// A fast master with two simulated agents, serving TLS with `leaf` when given.
async fn start_master(leaf: Option<&Leaf>) -> MasterHandle {
    let mut config = MasterConfig::default().with_seed(3).with_uniform_agents(2, &AgentConfig::new("", 4.0, 4096.0));
    config.allocation_interval = Duration::from_millis(50);
    config.tasks = TaskTiming {
        staging: Duration::from_millis(10),
        starting: Duration::from_millis(10),
        run: Some(Duration::from_millis(100)),
        jitter: 0.0,
    };
    config.tls = leaf.map(|l| ServerTls::from_pem(l.cert.as_bytes(), l.key.as_bytes()).expect("server TLS"));
    SimMaster::start(config).await.expect("the master starts")
}

/// A framework for `master`, trusting `tls`; a retry after a failed subscription would wait
/// at least 30 s, so a prompt stop proves there was none.
fn framework(master: &str, tls: TlsConfig) -> FrameworkConfig {
    let mut config = FrameworkConfig::new("tls-test", "root", [master]).tls(tls).refuse_seconds(1.0);
    config.session.schedule_delay = Duration::from_millis(10);
    config.session.reconnect = Backoff { initial: Duration::from_secs(30), max: Duration::from_secs(30) };
    config
}

fn task(id: &str) -> TaskRequest {
    let spec = TaskSpec::builder(id, "tls").scalar("cpus", 0.5).scalar("mem", 64.0).build().expect("task spec");
    TaskRequest::command(spec, CommandSpec::shell("true"))
}

/// Starts the framework and returns how it stopped and whether it ever lost a connection
/// first. Fails when it has not stopped within the reconnect backoff (so it did not retry).
async fn stop_reason(config: FrameworkConfig) -> (StopReason, bool) {
    let bound = config.session.reconnect.initial;
    let (_handle, mut updates) = Framework::start(config).expect("the framework starts");
    let mut disconnected = false;
    let reason = tokio::time::timeout(bound, async {
        loop {
            match updates.recv().await.expect("updates until Stopped") {
                Update::Stopped(reason) => return reason,
                Update::Disconnected { .. } => disconnected = true,
                _ => {}
            }
        }
    })
    .await
    .expect("stopped before any retry was due");
    assert!(updates.recv().await.is_none(), "nothing after Stopped");
    (reason, disconnected)
}

fn connect_failure(reason: StopReason) -> String {
    match reason {
        StopReason::ConnectFailed(message) => message,
        other => panic!("expected a connection failure, got {other:?}"),
    }
}

/// A TCP forwarder to `target` that counts the connections it accepts.
async fn counting_proxy(target: SocketAddr) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut server) = TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (addr, count)
}

#[tokio::test]
async fn tls_framework_runs_tasks_over_https() {
    let ca = Ca::new();
    let master = start_master(Some(&ca.issue(&["127.0.0.1", "localhost"], false))).await;
    assert!(master.scheduler_url().starts_with("https://127.0.0.1:"), "{}", master.scheduler_url());
    for url in [master.scheduler_url(), format!("https://localhost:{}", master.addr().port())] {
        let (handle, mut updates) = Framework::start(framework(&url, ca.trust())).expect("the framework starts");
        let ids = ["t-1", "t-2", "t-3"];
        for id in ids {
            handle.submit(task(id)).await.expect("submitted");
        }
        let mut finished = Vec::new();
        tokio::time::timeout(PATIENCE, async {
            while finished.len() < ids.len() {
                match updates.recv().await.expect("updates") {
                    Update::Task(t) if t.state == TaskState::Finished => finished.push(t.task_id.to_string()),
                    Update::Task(t) => assert!(!t.state.is_terminal(), "{url}: {t:?}"),
                    Update::Stopped(reason) => panic!("{url}: stopped: {reason:?}"),
                    _ => {}
                }
            }
        })
        .await
        .expect("every task finishes");
        finished.sort();
        assert_eq!(finished, ids, "{url}");
        handle.stop(StopMode::Teardown);
        let stopped = tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(Update::Stopped(reason)) = updates.recv().await {
                    return reason;
                }
            }
        })
        .await
        .expect("stops");
        assert_eq!(stopped, StopReason::Requested(StopMode::Teardown));
    }
}

#[tokio::test]
async fn tls_redirect_to_the_leader_stays_on_https() {
    let ca = Ca::new();
    let leaf = ca.issue(&["127.0.0.1"], false);
    let leader = start_master(Some(&leaf)).await;
    // A follower without agents that sends every request to the leader (`Location: //host:port/…`).
    let mut config = MasterConfig {
        tls: Some(ServerTls::from_pem(leaf.cert.as_bytes(), leaf.key.as_bytes()).expect("server TLS")),
        ..MasterConfig::default()
    };
    config.faults.redirect = Some(Redirect { leader: leader.addr().to_string(), remaining: None });
    let follower = SimMaster::start(config).await.expect("the follower starts");
    let (handle, mut updates) = Framework::start(framework(&follower.url(), ca.trust())).expect("the framework starts");
    handle.submit(task("t-1")).await.expect("submitted");
    let finished = tokio::time::timeout(PATIENCE, async {
        loop {
            match updates.recv().await.expect("updates") {
                Update::Task(t) if t.state.is_terminal() => return t.state,
                Update::Stopped(reason) => panic!("stopped: {reason:?}"),
                _ => {}
            }
        }
    })
    .await
    .expect("the task ends");
    // Only the leader has agents: the task ran there, reached over https.
    assert_eq!(finished, TaskState::Finished);
}

#[tokio::test]
async fn tls_unknown_issuer_stops_after_one_connection() {
    let ca = Ca::new();
    let master = start_master(Some(&ca.issue(&["127.0.0.1"], false))).await;
    let (proxy, connections) = counting_proxy(master.addr()).await;
    let (reason, disconnected) = stop_reason(framework(&format!("https://{proxy}"), TlsConfig::new())).await;
    let message = connect_failure(reason);
    assert!(message.contains("127.0.0.1 is not trusted (unknown issuer)"), "{message}");
    assert!(message.contains("--ca-cert"), "{message}");
    assert!(!disconnected, "a failed handshake is not a lost connection to retry");
    assert_eq!(connections.load(Ordering::SeqCst), 1, "one connection, no retry");
    // Another CA is no better than none.
    let (reason, _) = stop_reason(framework(&master.url(), Ca::named("another CA").trust())).await;
    assert!(connect_failure(reason).contains("unknown issuer"));
}

#[tokio::test]
async fn tls_expired_certificate_is_named() {
    let ca = Ca::new();
    let master = start_master(Some(&ca.issue(&["127.0.0.1"], true))).await;
    let (reason, _) = stop_reason(framework(&master.url(), ca.trust())).await;
    let message = connect_failure(reason);
    assert!(message.contains("certificate for 127.0.0.1 has expired"), "{message}");
}

#[tokio::test]
async fn tls_certificate_for_another_name_is_named() {
    let ca = Ca::new();
    let master = start_master(Some(&ca.issue(&["other.example"], false))).await;
    let (reason, _) = stop_reason(framework(&master.url(), ca.trust())).await;
    let message = connect_failure(reason);
    assert!(message.contains("not valid for host name 127.0.0.1"), "{message}");
}

#[tokio::test]
async fn tls_plain_http_to_a_tls_master_is_told_to_use_https() {
    let ca = Ca::new();
    let master = start_master(Some(&ca.issue(&["127.0.0.1"], false))).await;
    let (reason, _) = stop_reason(framework(&format!("http://{}", master.addr()), ca.trust())).await;
    let StopReason::SubscribeRejected { status, message } = reason else { panic!("{reason:?}") };
    assert_eq!(status, 400);
    assert!(message.contains("use https://"), "{message}");
}

#[tokio::test]
async fn tls_https_to_a_plain_master_is_named() {
    let master = start_master(None).await;
    assert!(master.url().starts_with("http://"));
    let (reason, _) = stop_reason(framework(&format!("https://{}", master.addr()), TlsConfig::new())).await;
    let message = connect_failure(reason);
    assert!(message.contains("127.0.0.1 does not speak TLS"), "{message}");
}

#[test]
fn tls_config_files_fail_with_the_path_and_cause() {
    let dir = scratch("files");
    let missing = TlsConfig::from_pem_file(dir.join("missing.pem")).unwrap_err();
    assert_eq!(missing.path(), Some(dir.join("missing.pem").as_path()));
    assert!(missing.to_string().contains("missing.pem: cannot read it"), "{missing}");
    let garbage = write(&dir, "garbage.pem", "not a certificate\n");
    let error = TlsConfig::from_pem_file(&garbage).unwrap_err().to_string();
    assert!(error.contains("garbage.pem: no PEM CERTIFICATE section"), "{error}");
    let broken = write(&dir, "broken.pem", "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n");
    let error = TlsConfig::from_pem_file(&broken).unwrap_err().to_string();
    assert!(error.contains("broken.pem: malformed PEM"), "{error}");
    let ca = Ca::new();
    let ca_file = write(&dir, "ca.pem", &ca.pem);
    assert_eq!(TlsConfig::from_pem_file(&ca_file).expect("a CA file").ca_cert_count(), 1);
    // A key that is not the certificate's.
    let (one, two) = (ca.issue(&["127.0.0.1"], false), ca.issue(&["127.0.0.1"], false));
    let cert = write(&dir, "cert.pem", &one.cert);
    let key = write(&dir, "key.pem", &two.key);
    let error = ServerTls::from_pem_files(&cert, &key).unwrap_err().to_string();
    assert!(error.contains("key.pem: unusable certificate or key"), "{error}");
    let error = ServerTls::from_pem_files(&cert, &cert).unwrap_err().to_string();
    assert!(error.contains("cert.pem: no PEM PRIVATE KEY section"), "{error}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A fresh directory for this test's files.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("offerpack-tls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

/// The child's first line of standard output, read on a thread (bounded by [`PATIENCE`]).
fn first_line(child: &mut KillOnDrop) -> String {
    let stdout = child.0.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(PATIENCE).expect("a first line")
}

/// The first `https://` word of `line`.
fn https_url(line: &str) -> String {
    line.split_whitespace().find(|w| w.starts_with("https://")).unwrap_or_else(|| panic!("no https URL: {line}")).into()
}

/// `offerpack run` with `args`, to completion.
fn run(args: &[&str]) -> Output {
    bin().arg("run").args(args).stdin(Stdio::null()).output().expect("run runs")
}

#[test]
fn tls_cli_master_agent_and_run_over_https() {
    let dir = scratch("cli");
    let ca = Ca::new();
    let leaf = ca.issue(&["127.0.0.1"], false);
    let ca_file = write(&dir, "ca.pem", &ca.pem);
    let (cert, key) = (write(&dir, "master.pem", &leaf.cert), write(&dir, "master-key.pem", &leaf.key));
    let mut master = KillOnDrop(
        bin()
            .args(["master", "--listen", "127.0.0.1:0", "--agents", "0", "--task-duration-ms", "100"])
            .arg("--tls-cert")
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the master starts"),
    );
    let scheduler = https_url(&first_line(&mut master));
    assert!(scheduler.ends_with("/api/v1/scheduler"), "{scheduler}");
    let base = scheduler.trim_end_matches("/api/v1/scheduler").to_owned();
    // An agent without the CA stops at once, naming the cause.
    let refused = bin()
        .args(["agent", "--master", &base, "--listen", "127.0.0.1:0", "--work-dir"])
        .arg(dir.join("refused"))
        .stdout(Stdio::null())
        .output()
        .expect("agent runs");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("cannot register with the master: TLS: certificate for 127.0.0.1 is not trusted"),
        "{stderr}"
    );
    let mut agent = KillOnDrop(
        bin()
            .args(["agent", "--master", &base, "--listen", "127.0.0.1:0", "--resources", "cpus:2;mem:1024"])
            .arg("--work-dir")
            .arg(dir.join("agent"))
            .arg("--ca-cert")
            .arg(&ca_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the agent starts"),
    );
    assert!(first_line(&mut agent).contains("agent listening on"));
    let ca_arg = ca_file.to_str().expect("a UTF-8 path");
    let ok =
        run(&["--master", &scheduler, "--ca-cert", ca_arg, "--tasks", "3", "--command", "true", "--deadline", "60"]);
    let (stdout, stderr) = (String::from_utf8_lossy(&ok.stdout), String::from_utf8_lossy(&ok.stderr));
    assert!(ok.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("finished 3 of 3 tasks"), "{stdout}");
    // Without the CA, `run` ends at once with the cause and no retry.
    let refused = run(&["--master", &scheduler, "--tasks", "1", "--connect-timeout", "120"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("error: cannot connect to the master: TLS: certificate for 127.0.0.1 is not trusted"),
        "{stderr}"
    );
    drop(agent);
    drop(master);
    let _ = std::fs::remove_dir_all(dir);
}
