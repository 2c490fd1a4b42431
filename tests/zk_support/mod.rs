//! A real ZooKeeper server for tests: Debian's `zookeeper` package's jars run with
//! `ZooKeeperServerMain` on a free loopback port and a temporary data directory, with a short
//! tick ([`TICK_MS`]), killed on drop.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_zookeeper::ZooKeeper;

/// Where Debian (and a ZooKeeper tarball's layout) keep the jars.
const JAR_DIRS: [&str; 2] = ["/usr/share/java", "/usr/share/zookeeper/lib"];

/// The jars the standalone server needs (slf4j's API; without a binding it logs nothing).
const JARS: [&str; 3] = ["zookeeper.jar", "zookeeper-jute.jar", "slf4j-api.jar"];

/// Longest wait for the server to answer.
const STARTUP: Duration = Duration::from_secs(60);

/// The server's tick in milliseconds (its default is 3000): sessions may be as short as two
/// ticks, and expire within about a tick of their timeout, so tests of session expiry stay
/// short.
pub const TICK_MS: u64 = 500;

/// A running standalone ZooKeeper server.
pub struct ZkServer {
    child: Child,
    addr: SocketAddr,
    data: PathBuf,
    classpath: String,
}

impl ZkServer {
    /// Starts a server, or `None` (after saying why) when the jars or java are missing outside
    /// CI; in CI (`CI=true`) a missing server fails the test.
    pub async fn start() -> Option<ZkServer> {
        let classpath = match classpath() {
            Ok(classpath) => classpath,
            Err(why) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
                panic!("ZooKeeper is required in CI: {why} (apt-get install zookeeper)")
            }
            Err(why) => {
                eprintln!("SKIPPED: no ZooKeeper server to test against: {why} (apt-get install zookeeper)");
                return None;
            }
        };
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let data = std::env::temp_dir().join(format!("offerpack-zk-{}-{port}", std::process::id()));
        let child = spawn_server(&classpath, addr, &data);
        let mut server = ZkServer { child, addr, data, classpath };
        server.wait_ready().await;
        Some(server)
    }

    /// Kills the server and starts a new one on the same port with an empty data directory:
    /// every session and node is gone, as after losing a whole ensemble's state.
    pub async fn restart_empty(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
        self.child = spawn_server(&self.classpath, self.addr, &self.data);
        self.wait_ready().await;
    }

    /// The client address, `127.0.0.1:port`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A new client session.
    pub async fn client(&self) -> ZooKeeper {
        let (zk, _events) = ZooKeeper::connect(&self.addr).await.expect("ZooKeeper session");
        zk
    }

    /// Polls until a client session can list `/`, failing if the server exits or is too slow.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + STARTUP;
        loop {
            if let Some(status) = self.child.try_wait().expect("java status") {
                panic!("the ZooKeeper server exited at start: {status}");
            }
            let attempt = tokio::time::timeout(Duration::from_secs(2), async {
                let (zk, _events) = ZooKeeper::connect(&self.addr).await.ok()?;
                zk.get_children("/").await.ok().flatten()
            });
            if let Ok(Some(_)) = attempt.await {
                return;
            }
            assert!(Instant::now() < deadline, "the ZooKeeper server did not answer within {STARTUP:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ZkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// Starts `ZooKeeperServerMain` on `addr`'s port with `data` as its (new) data directory.
fn spawn_server(classpath: &str, addr: SocketAddr, data: &Path) -> Child {
    std::fs::create_dir_all(data).expect("data dir");
    Command::new("java")
        .args(["-Xmx128m", "-Dzookeeper.admin.enableServer=false", "-cp", classpath])
        .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
        .arg(addr.port().to_string())
        .arg(data)
        .arg(TICK_MS.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("java starts")
}

/// The server's class path, or why there is none.
fn classpath() -> Result<String, String> {
    let dir = JAR_DIRS
        .iter()
        .map(Path::new)
        .find(|dir| dir.join(JARS[0]).is_file())
        .ok_or_else(|| format!("no {} under {}", JARS[0], JAR_DIRS.join(" or ")))?;
    let jars: Vec<String> = JARS.iter().map(|jar| dir.join(jar).display().to_string()).collect();
    if let Some(missing) = jars.iter().find(|jar| !Path::new(jar).is_file()) {
        return Err(format!("no {missing}"));
    }
    let java = Command::new("java").arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status();
    if !java.is_ok_and(|s| s.success()) {
        return Err("no java on the PATH".to_owned());
    }
    Ok(jars.join(":"))
}
