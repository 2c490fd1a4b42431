//! The environment the agent gives an executor (MESOS-PROTOCOL-2 §1.5), parsed by a pure
//! function over the variables so that every error case is testable without touching the
//! process environment.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The agent's default executor shutdown grace period, used when
/// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` is absent.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What an executor learns from its environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecutorEnv {
    /// `MESOS_AGENT_ENDPOINT`: the agent's `host:port`, where `/api/v1/executor` is served.
    pub agent_endpoint: String,
    /// `MESOS_FRAMEWORK_ID`.
    pub framework_id: String,
    /// `MESOS_EXECUTOR_ID`.
    pub executor_id: String,
    /// `MESOS_SANDBOX`, else `MESOS_DIRECTORY`: the tasks' working directory.
    pub sandbox: PathBuf,
    /// `MESOS_CHECKPOINT` is `1`: reconnect after losing the agent instead of exiting.
    pub checkpoint: bool,
    /// `MESOS_RECOVERY_TIMEOUT` (checkpointing only): how long to keep trying to reconnect,
    /// counted from the first failure.
    pub recovery_timeout: Duration,
    /// `MESOS_SUBSCRIPTION_BACKOFF_MAX` (checkpointing only): the longest wait between two
    /// attempts to re-subscribe.
    pub backoff_max: Duration,
    /// `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD` (default [`DEFAULT_SHUTDOWN_GRACE`]).
    pub shutdown_grace: Duration,
}

/// A missing or malformed executor environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    variable: &'static str,
    problem: String,
}

impl EnvError {
    fn new(variable: &'static str, problem: impl Into<String>) -> EnvError {
        EnvError { variable, problem: problem.into() }
    }

    /// The name of the offending variable (`MESOS_...`).
    pub fn variable(&self) -> &'static str {
        self.variable
    }
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "executor environment variable {}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for EnvError {}

impl ExecutorEnv {
    /// Parses the variables (e.g. `std::env::vars()` collected into a map).
    pub fn from_map(vars: &BTreeMap<String, String>) -> Result<ExecutorEnv, EnvError> {
        let get = |name: &'static str| vars.get(name).map(String::as_str);
        let required = |name: &'static str| match get(name) {
            Some(value) if !value.is_empty() => Ok(value.to_owned()),
            Some(_) => Err(EnvError::new(name, "is empty")),
            None => Err(EnvError::new(name, "is not set (is this process started by a Mesos agent?)")),
        };
        let agent_endpoint = required("MESOS_AGENT_ENDPOINT")?;
        check_endpoint(&agent_endpoint)?;
        let framework_id = required("MESOS_FRAMEWORK_ID")?;
        let executor_id = required("MESOS_EXECUTOR_ID")?;
        let sandbox = match (get("MESOS_SANDBOX").filter(|s| !s.is_empty()), get("MESOS_DIRECTORY")) {
            (Some(sandbox), _) => PathBuf::from(sandbox),
            (None, Some(directory)) if !directory.is_empty() => PathBuf::from(directory),
            _ => return Err(EnvError::new("MESOS_DIRECTORY", "is not set, nor is MESOS_SANDBOX")),
        };
        let checkpoint = match required("MESOS_CHECKPOINT")?.as_str() {
            "1" => true,
            "0" => false,
            other => return Err(EnvError::new("MESOS_CHECKPOINT", format!("{other:?} is neither \"1\" nor \"0\""))),
        };
        let duration = |name: &'static str| -> Result<Option<Duration>, EnvError> {
            get(name).map(|text| parse_duration(text).map_err(|problem| EnvError::new(name, problem))).transpose()
        };
        let shutdown_grace = duration("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD")?.unwrap_or(DEFAULT_SHUTDOWN_GRACE);
        let (recovery_timeout, backoff_max) = if checkpoint {
            let need = |name: &'static str| {
                duration(name)?.ok_or_else(|| EnvError::new(name, "is not set although MESOS_CHECKPOINT is 1"))
            };
            (need("MESOS_RECOVERY_TIMEOUT")?, need("MESOS_SUBSCRIPTION_BACKOFF_MAX")?)
        } else {
            (
                duration("MESOS_RECOVERY_TIMEOUT")?.unwrap_or_default(),
                duration("MESOS_SUBSCRIPTION_BACKOFF_MAX")?.unwrap_or_default(),
            )
        };
        Ok(ExecutorEnv {
            agent_endpoint,
            framework_id,
            executor_id,
            sandbox,
            checkpoint,
            recovery_timeout,
            backoff_max,
            shutdown_grace,
        })
    }

    /// Parses the variables of the current process.
    pub fn from_process() -> Result<ExecutorEnv, EnvError> {
        ExecutorEnv::from_map(&std::env::vars().collect())
    }

    /// The executor API URL, `http://<agent endpoint>/api/v1/executor`.
    pub fn api_url(&self) -> String {
        format!("http://{}/api/v1/executor", self.agent_endpoint)
    }
}

/// `host:port` with a non-empty host and a port number (IPv6 hosts in brackets).
fn check_endpoint(endpoint: &str) -> Result<(), EnvError> {
    let bad = |why: &str| EnvError::new("MESOS_AGENT_ENDPOINT", format!("{endpoint:?} is not HOST:PORT ({why})"));
    let (host, port) = endpoint.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    port.parse::<u16>().map_err(|_| bad("bad port"))?;
    let bracketed = host.starts_with('[') && host.ends_with(']');
    if host.is_empty() || host.contains(['/', ' ']) || (host.contains(':') && !bracketed) {
        return Err(bad("bad host"));
    }
    Ok(())
}

/// Parses a stout duration: a non-negative decimal number followed directly by one of the
/// units `ns`, `us`, `ms`, `secs`, `mins`, `hrs`, `days`, `weeks` (`5secs`, `250ms`, `1.5hrs`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let nanos_per_unit = match unit {
        "ns" => 1.0,
        "us" => 1e3,
        "ms" => 1e6,
        "secs" => 1e9,
        "mins" => 60e9,
        "hrs" => 3600e9,
        "days" => 86_400e9,
        "weeks" => 604_800e9,
        "" => return Err(format!("{text:?} has no unit (ns, us, ms, secs, mins, hrs, days, weeks)")),
        other => return Err(format!("{text:?} has an unknown unit {other:?}")),
    };
    let value: f64 = number.parse().map_err(|_| format!("{text:?} does not start with a number"))?;
    let nanos = value * nanos_per_unit;
    if !nanos.is_finite() || nanos >= u64::MAX as f64 {
        return Err(format!("{text:?} is too long"));
    }
    Ok(Duration::from_nanos(nanos.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const BASE: [(&str, &str); 5] = [
        ("MESOS_AGENT_ENDPOINT", "10.0.0.7:5051"),
        ("MESOS_FRAMEWORK_ID", "fw-1"),
        ("MESOS_EXECUTOR_ID", "e-1"),
        ("MESOS_DIRECTORY", "/var/sandbox"),
        ("MESOS_CHECKPOINT", "0"),
    ];

    #[test]
    fn executor_env_parses_the_agent_environment() {
        let mut all = vars(&BASE);
        all.extend(vars(&[
            ("MESOS_CHECKPOINT", "1"),
            ("MESOS_SANDBOX", "/mnt/mesos/sandbox"),
            ("MESOS_RECOVERY_TIMEOUT", "15mins"),
            ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "250ms"),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "1.5hrs"),
        ]));
        let env = ExecutorEnv::from_map(&all).unwrap();
        assert_eq!(env.api_url(), "http://10.0.0.7:5051/api/v1/executor");
        assert_eq!((env.framework_id.as_str(), env.executor_id.as_str()), ("fw-1", "e-1"));
        assert_eq!(env.sandbox, PathBuf::from("/mnt/mesos/sandbox"));
        assert!(env.checkpoint);
        assert_eq!(env.recovery_timeout, Duration::from_secs(900));
        assert_eq!(env.backoff_max, Duration::from_millis(250));
        assert_eq!(env.shutdown_grace, Duration::from_secs(5400));

        let plain = ExecutorEnv::from_map(&vars(&BASE)).unwrap();
        assert!(!plain.checkpoint);
        assert_eq!(plain.sandbox, PathBuf::from("/var/sandbox"));
        assert_eq!(plain.shutdown_grace, DEFAULT_SHUTDOWN_GRACE);
    }

    #[test]
    fn executor_env_names_the_missing_or_garbled_variable() {
        let cases: [(&str, Option<&str>, &str); 9] = [
            ("MESOS_AGENT_ENDPOINT", None, "MESOS_AGENT_ENDPOINT"),
            ("MESOS_AGENT_ENDPOINT", Some("10.0.0.7"), "MESOS_AGENT_ENDPOINT"),
            ("MESOS_AGENT_ENDPOINT", Some("10.0.0.7:http"), "MESOS_AGENT_ENDPOINT"),
            ("MESOS_FRAMEWORK_ID", None, "MESOS_FRAMEWORK_ID"),
            ("MESOS_EXECUTOR_ID", Some(""), "MESOS_EXECUTOR_ID"),
            ("MESOS_DIRECTORY", None, "MESOS_DIRECTORY"),
            ("MESOS_CHECKPOINT", Some("true"), "MESOS_CHECKPOINT"),
            ("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", Some("5s"), "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"),
            ("MESOS_CHECKPOINT", Some("1"), "MESOS_RECOVERY_TIMEOUT"),
        ];
        for (name, value, blamed) in cases {
            let mut map = vars(&BASE);
            match value {
                Some(v) => map.insert(name.to_owned(), v.to_owned()),
                None => map.remove(name),
            };
            let error = ExecutorEnv::from_map(&map).unwrap_err();
            assert_eq!(error.variable(), blamed, "{name}={value:?}");
            assert!(error.to_string().contains(blamed));
        }
    }

    #[test]
    fn parse_duration_reads_stout_units() {
        let ok = [
            ("5secs", Duration::from_secs(5)),
            ("250ms", Duration::from_millis(250)),
            ("15mins", Duration::from_secs(900)),
            ("1.5hrs", Duration::from_secs(5400)),
            ("2days", Duration::from_secs(172_800)),
            ("1weeks", Duration::from_secs(604_800)),
            ("10us", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
        ];
        for (text, want) in ok {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        for bad in ["", "5", "secs", "5 secs", "5s", "-1secs", "1e9weeks", "1.2.3secs", "99999999999999weeks"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
    }
}
