//! `run --executor PATH`: the framework's own executor, served from this host and fetched by
//! the agents.
//!
//! PATH is registered with an artifact server listening on `--artifact-bind` and handed to the
//! agents under `--artifact-advertise` (three settings never derived from one another: where the
//! server listens, what agents are told, and the master URL, checked together at start). The
//! URI pins the file's SHA-256 (`?sha256=`), so the agents' fetcher cache, keyed by URI, never
//! serves a stale executor. Every task runs through that executor, its command line as the
//! task's data. The first fetch failure of the URI ends the run, naming the URI, the agent and
//! Mesos' message: retrying a download no agent can make would only hide the misconfiguration.

use std::net::SocketAddr;
use std::path::PathBuf;

use offerpack::artifact::{url_is_loopback, ArtifactServer, ArtifactSettings, Artifacts, RunningServer};
use offerpack::session::{CommandSpec, ExecutorSpec, TaskState, TaskUpdate, UriSpec, ZkUrl};
use offerpack::Quantity;
use url::Url;

use super::CliError;

/// The executor id every task of `run` shares (one executor per agent).
pub const EXECUTOR_ID: &str = "offerpack-run-executor";

/// What `run` was told about its custom executor.
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutorArgs {
    /// The executor file to serve.
    pub path: PathBuf,
    /// The command that starts it in the sandbox; `./NAME` when not given.
    pub command: Option<String>,
    /// Cpus the executor process holds on each agent.
    pub cpus: f64,
    /// Memory (MB) the executor process holds on each agent.
    pub mem: f64,
    /// Where the artifact server listens.
    pub bind: SocketAddr,
    /// The base URL agents are told; required when `bind` is a wildcard address.
    pub advertise: Option<Url>,
}

/// The executor being served: keep it alive for the run.
#[derive(Debug)]
pub struct ServedExecutor {
    /// The server (dropping it stops serving).
    pub server: RunningServer,
    /// The executor every task names.
    pub spec: ExecutorSpec,
    /// The URI agents fetch it from.
    pub uri: String,
}

/// Registers the executor file, checks the settings against `master` and starts serving it;
/// must run inside a tokio runtime.
pub async fn serve(args: &ExecutorArgs, master: &str) -> Result<ServedExecutor, CliError> {
    let fail = |what: String| CliError::Failed(format!("--executor {}: {what}", args.path.display()));
    let name = args
        .path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| fail("the path names no file".to_owned()))?
        .to_owned();
    let mut artifacts = Artifacts::new();
    let sha256 = artifacts.add_file(&name, &args.path).map_err(|e| fail(e.to_string()))?.sha256_hex().to_owned();
    let master_url = master_url(master)?;
    let settings = ArtifactSettings::new(args.bind, args.advertise.clone());
    settings.validate(&master_url).map_err(|e| CliError::Failed(e.to_string()))?;
    let server = ArtifactServer::start(settings, artifacts).await.map_err(|e| CliError::Failed(e.to_string()))?;
    let mut url = server.url_for(&name).ok_or_else(|| fail("not served".to_owned()))?;
    url.set_query(Some(&format!("sha256={sha256}")));
    let uri = url.to_string();
    let command = args.command.clone().unwrap_or_else(|| format!("./{name}"));
    let fetched = UriSpec::new(&uri).executable().cached().output_file(&name);
    let amount = |value: f64, flag: &str| Quantity::new(value).map_err(|e| CliError::Failed(format!("{flag}: {e}")));
    let spec = ExecutorSpec::new(EXECUTOR_ID, CommandSpec::shell(command).uri(fetched))
        .resource("cpus", amount(args.cpus, "--executor-cpus")?)
        .resource("mem", amount(args.mem, "--executor-mem")?);
    Ok(ServedExecutor { server, spec: ExecutorSpec { name: Some("offerpack run".to_owned()), ..spec }, uri })
}

/// The master URL the advertised address is checked against. For `zk://` masters (their
/// address comes from ZooKeeper), the ZooKeeper servers stand for it: on loopback only when
/// every one is.
fn master_url(master: &str) -> Result<Url, CliError> {
    let bad = |e: &dyn std::fmt::Display| CliError::Failed(format!("--master {master:?}: {e}"));
    if !ZkUrl::is_zk(master) {
        return Url::parse(master).map_err(|e| bad(&e));
    }
    let zk = ZkUrl::parse(master).map_err(|e| bad(&e))?;
    let urls: Vec<Url> = zk
        .servers()
        .iter()
        .map(|s| Url::parse(&format!("http://{s}")))
        .collect::<Result<_, _>>()
        .map_err(|e| bad(&e))?;
    // The first server that is not on loopback, if any; else any of them (all on loopback).
    let off_loopback = urls.iter().find(|u| !url_is_loopback(u)).or(urls.first());
    off_loopback.cloned().ok_or_else(|| bad(&"no ZooKeeper server"))
}

/// Why the run must stop when `update` reports that an agent could not fetch `uri` (Mesos:
/// `TASK_FAILED`, `REASON_CONTAINER_LAUNCH_FAILED`, a message naming the URI); `None` otherwise.
pub fn fetch_failure(update: &TaskUpdate, uri: &str) -> Option<String> {
    let message = update.message.as_deref()?;
    let without_query = uri.split('?').next().unwrap_or(uri);
    let names_uri = message.contains(uri) || message.contains(without_query);
    let launch_failed = update.reason.is_none_or(|r| r == "REASON_CONTAINER_LAUNCH_FAILED");
    if update.state != TaskState::Failed || !names_uri || !launch_failed {
        return None;
    }
    let agent = update.agent_id.as_ref().map_or_else(|| "an unknown agent".to_owned(), |a| format!("agent {a}"));
    Some(format!("{agent} could not fetch {uri} (task {}): {message}; not retrying it", update.task_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use offerpack::session::UpdateSource;

    fn update(state: TaskState, reason: Option<&'static str>, message: &str) -> TaskUpdate {
        TaskUpdate {
            task_id: "t-1".into(),
            state,
            agent_id: Some("a-2".into()),
            message: Some(message.to_owned()),
            reason,
            source: UpdateSource::Agent,
            known: true,
            attempt: 1,
            retry_in: None,
        }
    }

    const URI: &str = "http://10.0.0.9:8080/artifacts/offerpack?sha256=ab";

    #[test]
    fn master_url_of_zk_masters_is_off_loopback_when_any_server_is() {
        let local = master_url("zk://127.0.0.1:2181,127.0.0.2:2181/mesos").unwrap();
        assert_eq!(local.host_str(), Some("127.0.0.1"));
        let remote = master_url("zk://127.0.0.1:2181,10.0.1.12:2181/mesos").unwrap();
        assert_eq!(remote.host_str(), Some("10.0.1.12"));
        assert!(master_url("zk://10.0.1.12:2181").is_err(), "no path");
    }

    #[test]
    fn fetch_failure_names_uri_agent_and_message() {
        let message = "Failed to launch container: Failed to fetch all URIs for container 'c1': \
                       http://10.0.0.9:8080/artifacts/offerpack?sha256=ab: connection refused";
        let why = fetch_failure(&update(TaskState::Failed, Some("REASON_CONTAINER_LAUNCH_FAILED"), message), URI);
        let why = why.expect("a fetch failure");
        assert!(why.contains(URI) && why.contains("agent a-2") && why.contains("connection refused"), "{why}");
    }

    #[test]
    fn fetch_failure_ignores_other_failures() {
        let launch = Some("REASON_CONTAINER_LAUNCH_FAILED");
        assert!(fetch_failure(&update(TaskState::Failed, launch, "exited with status 1"), URI).is_none());
        assert!(fetch_failure(&update(TaskState::Finished, launch, URI), URI).is_none());
        assert!(fetch_failure(&update(TaskState::Failed, Some("REASON_EXECUTOR_TERMINATED"), URI), URI).is_none());
    }
}
