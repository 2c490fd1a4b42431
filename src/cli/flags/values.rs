//! Value parsers of the flags: each checks one value and says what was expected. clap puts the
//! flag and the value given in front of the message (`invalid value '0' for '--repeat <N>': …`),
//! so the messages here do not repeat them.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Longest simulated task run `--task-duration-ms` accepts (about 100 years, as the master's
/// duration label).
pub const MAX_TASK_MS: u64 = 3_200_000_000_000;
/// Longest span given in seconds (`--deadline`, `--connect-timeout`, timeouts): one week.
pub const MAX_WAIT_SECS: f64 = 604_800.0;
/// Largest scalar amount accepted for `--cpus`, `--mem`, `--disk` and the executor's share.
pub const MAX_AMOUNT: f64 = 1e12;
/// Most launches `--retries` allows per task.
pub const MAX_ATTEMPTS: u32 = 1_000;
/// Longest first delay `--retry-backoff` accepts: one day, in milliseconds.
pub const MAX_BACKOFF_MS: u64 = 86_400_000;

/// A number of type `T`, with the parser's own complaint when it is not one.
fn number<T: FromStr>(text: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    text.trim().parse::<T>().map_err(|e| format!("{e}"))
}

/// A whole number of at least 1.
pub fn at_least_one(text: &str) -> Result<u32, String> {
    match number::<u32>(text)? {
        0 => Err("must be at least 1".to_owned()),
        n => Ok(n),
    }
}

/// A whole number from 0 to `max`.
pub fn at_most(max: u32) -> impl Fn(&str) -> Result<u32, String> + Clone + Send + Sync + 'static {
    move |text| match number::<u32>(text)? {
        n if n > max => Err(format!("must be at most {max}")),
        n => Ok(n),
    }
}

/// A whole number from 1 to `max`.
pub fn count(max: u32) -> impl Fn(&str) -> Result<u32, String> + Clone + Send + Sync + 'static {
    move |text| {
        let n = at_least_one(text)?;
        if n > max {
            return Err(format!("must be at most {max}"));
        }
        Ok(n)
    }
}

/// A finite number, not negative.
pub fn non_negative(text: &str) -> Result<f64, String> {
    match number::<f64>(text)? {
        v if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err("must be a finite number, not negative".to_owned()),
    }
}

/// An amount of a resource: a number from 0 to [`MAX_AMOUNT`].
pub fn amount(text: &str) -> Result<f64, String> {
    match number::<f64>(text)? {
        v if v.is_finite() && (0.0..=MAX_AMOUNT).contains(&v) => Ok(v),
        _ => Err(format!("must be a number from 0 to {MAX_AMOUNT:e}")),
    }
}

/// Seconds as a duration: above 0, finite, at most [`MAX_WAIT_SECS`].
pub fn seconds(text: &str) -> Result<Duration, String> {
    match number::<f64>(text)? {
        v if v.is_finite() && v > 0.0 && v <= MAX_WAIT_SECS => Ok(Duration::from_secs_f64(v)),
        _ => Err(format!("must be a number of seconds above 0 and at most {MAX_WAIT_SECS}")),
    }
}

/// Seconds as a duration, 0 allowed (`agent --executor-registration-timeout`).
pub fn seconds_or_zero(text: &str) -> Result<Duration, String> {
    let value = number::<f64>(text)?;
    if !(value.is_finite() && (0.0..=MAX_WAIT_SECS).contains(&value)) {
        return Err(format!("must be a number of seconds from 0 to {MAX_WAIT_SECS}"));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Text that is not blank.
pub fn non_empty(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err("must not be empty".to_owned());
    }
    Ok(text.to_owned())
}

/// A path that is not empty.
pub fn non_empty_path(text: &str) -> Result<PathBuf, String> {
    non_empty(text).map(PathBuf::from)
}

/// `IP:PORT` (port 0 picks a free port).
pub fn socket_addr(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| "expected IP:PORT, e.g. 127.0.0.1:0".to_owned())
}

/// An absolute URL.
pub fn url(text: &str) -> Result<url::Url, String> {
    url::Url::parse(text).map_err(|e| e.to_string())
}

/// `--retries N`: launches per task in all, from 1 (no retry) to [`MAX_ATTEMPTS`].
pub fn attempts(text: &str) -> Result<u32, String> {
    match number::<u32>(text)? {
        n if (1..=MAX_ATTEMPTS).contains(&n) => Ok(n),
        _ => Err(format!("give the launches per task in all, from 1 (no retry) to {MAX_ATTEMPTS}")),
    }
}

/// `--retry-backoff MS`: milliseconds up to [`MAX_BACKOFF_MS`].
pub fn backoff(text: &str) -> Result<Duration, String> {
    match number::<u64>(text)? {
        ms if ms <= MAX_BACKOFF_MS => Ok(Duration::from_millis(ms)),
        _ => Err(format!("expected milliseconds up to {MAX_BACKOFF_MS}")),
    }
}

/// `--fail-every K`: at least 1.
pub fn fail_every(text: &str) -> Result<NonZeroU32, String> {
    NonZeroU32::new(at_least_one(text)?).ok_or_else(|| "must be at least 1".to_owned())
}

/// `BEGIN-END`, both ports, `BEGIN <= END`.
pub fn port_range(text: &str) -> Result<(u64, u64), String> {
    let bad = || "expected BEGIN-END with 0 <= BEGIN <= END <= 65535".to_owned();
    let (begin, end) = text.split_once('-').ok_or_else(bad)?;
    let begin: u16 = begin.trim().parse().map_err(|_| bad())?;
    let end: u16 = end.trim().parse().map_err(|_| bad())?;
    if begin > end {
        return Err(bad());
    }
    Ok((u64::from(begin), u64::from(end)))
}

/// How long a simulated task runs: milliseconds, or `forever` (`None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskDuration(pub Option<Duration>);

/// `--task-duration-ms MS|forever`.
pub fn task_duration(text: &str) -> Result<TaskDuration, String> {
    if text == "forever" {
        return Ok(TaskDuration(None));
    }
    match text.parse::<u64>() {
        Ok(ms) if ms <= MAX_TASK_MS => Ok(TaskDuration(Some(Duration::from_millis(ms)))),
        _ => Err(format!("expected milliseconds up to {MAX_TASK_MS}, or forever")),
    }
}

/// `--zk URL`: a ZooKeeper group without credentials (the master writes open nodes).
pub fn zk_group(text: &str) -> Result<offerpack::session::ZkUrl, String> {
    let url = offerpack::session::ZkUrl::parse(text).map_err(|e| e.to_string())?;
    if url.credentials().is_some() {
        return Err("credentials are not supported (the group's nodes are open)".to_owned());
    }
    Ok(url)
}

/// `--ha zk://HOST:PORT/PATH` or `--ha file:///DIR`.
pub fn ha_url(text: &str) -> Result<offerpack::ha::HaUrl, String> {
    offerpack::ha::HaUrl::parse(text).map_err(|e| e.to_string())
}

/// `--capability NAME`: a Mesos framework capability.
pub fn capability(text: &str) -> Result<offerpack::session::Capability, String> {
    text.parse()
}

/// A master to join: `http://`, `https://` or a `zk://` group (checked as one).
pub fn agent_master(text: &str) -> Result<String, String> {
    if offerpack::session::ZkUrl::is_zk(text) {
        offerpack::session::ZkUrl::parse(text).map_err(|e| e.to_string())?;
    } else if !text.starts_with("http://") && !text.starts_with("https://") {
        return Err("expected http://HOST:PORT, https://HOST:PORT or zk://HOST:PORT/PATH".to_owned());
    }
    Ok(text.to_owned())
}

/// An advertised address: `HOST`, `HOST:PORT` or `[V6]:PORT`.
pub fn advertise(text: &str) -> Result<(String, Option<u16>), String> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok((addr.ip().to_string(), Some(addr.port())));
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && !host.is_empty() => {
            let port = port.parse().map_err(|_| format!("bad port {port:?}"))?;
            Ok((host.to_owned(), Some(port)))
        }
        _ if !text.is_empty() => Ok((text.trim_matches(['[', ']']).to_owned(), None)),
        _ => Err("empty".to_owned()),
    }
}

/// A file to serve: `NAME=PATH`, both non-empty.
pub fn named_file(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((name, path)) if !name.is_empty() && !path.is_empty() => Ok((name.to_owned(), PathBuf::from(path))),
        _ => Err("expected NAME=PATH".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_check_ranges_and_say_what_was_expected() {
        assert_eq!(at_least_one("3"), Ok(3));
        assert_eq!(at_least_one("0").unwrap_err(), "must be at least 1");
        assert_eq!(count(5)("6").unwrap_err(), "must be at most 5");
        assert_eq!(at_most(5)("0"), Ok(0));
        assert!(non_negative("-1").is_err() && non_negative("NaN").is_err());
        assert!(amount("inf").is_err() && amount("2e12").is_err());
        assert_eq!(amount("0.5"), Ok(0.5));
        assert!(seconds("0").is_err() && seconds("604801").is_err());
        assert_eq!(seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(seconds_or_zero("0"), Ok(Duration::ZERO));
        assert!(non_empty(" ").is_err());
        assert!(attempts("0").unwrap_err().contains("from 1 (no retry) to 1000"));
        assert_eq!(backoff("90000"), Ok(Duration::from_secs(90)));
        assert!(backoff("86400001").is_err());
        assert!(fail_every("0").is_err());
    }

    #[test]
    fn values_parse_ports_durations_and_addresses() {
        assert_eq!(port_range("1000-1010"), Ok((1000, 1010)));
        for bad in ["32000-31000", "1-70000", "1", "a-b"] {
            assert!(port_range(bad).is_err(), "{bad}");
        }
        assert_eq!(task_duration("forever"), Ok(TaskDuration(None)));
        assert_eq!(task_duration("250"), Ok(TaskDuration(Some(Duration::from_millis(250)))));
        assert!(task_duration("-5").is_err() && task_duration("3200000000001").is_err());
        assert!(socket_addr("localhost").is_err());
        assert_eq!(socket_addr("[::1]:9100").map(|a| a.port()), Ok(9100));
        assert_eq!(named_file("exe=./a.out"), Ok(("exe".to_owned(), PathBuf::from("./a.out"))));
        assert!(named_file("=x").is_err() && named_file("x=").is_err() && named_file("x").is_err());
    }

    #[test]
    fn advertise_accepts_hosts_ports_and_v6() {
        assert_eq!(advertise("10.0.0.7").unwrap(), ("10.0.0.7".into(), None));
        assert_eq!(advertise("[::1]:5051").unwrap(), ("::1".into(), Some(5051)));
        assert!(advertise("h:notaport").is_err());
    }

    #[test]
    fn values_check_masters_and_groups() {
        assert!(agent_master("http://m:5050").is_ok() && agent_master("https://m:5050").is_ok());
        assert!(agent_master("ftp://m").is_err());
        assert!(agent_master("zk://127.0.0.1:2181").unwrap_err().contains("chroot"));
        assert!(zk_group("zk://u:p@127.0.0.1:2181/mesos").is_err());
        assert!(zk_group("zk://127.0.0.1:2181/mesos").is_ok());
    }
}
