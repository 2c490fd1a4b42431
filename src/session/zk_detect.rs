//! Leader detection through ZooKeeper, without ZooKeeper: the `zk://` URL ([`ZkUrl`]), the
//! choice of the leading master among the children of the masters' group node
//! ([`leader_of`]) and the decoding of that node's data into the master's scheduler endpoint
//! ([`Contender::endpoint`]). Pure functions over names and bytes; the ZooKeeper client, its
//! watches and its reconnections live in the driver's shell.
//!
//! What Mesos masters write (MESOS-PROTOCOL-2 §3): each master, as a contender, creates an
//! ephemeral sequential child `<path>/json.info_<10 digits>` holding its `MasterInfo` as JSON.
//! Older masters wrote `info_<n>` (binary protobuf) or bare `<n>` (a `master@ip:port` text).
//! The leader is the child with the smallest sequence number among all children named
//! `[<label>_]<number>`, whatever the label; other names (such as `log_replicas`) are no
//! contenders.

use std::fmt;
use std::net::Ipv4Addr;

use prost::Message;
use serde_json::Value;

use super::masters::Endpoint;
use crate::mesos::v1;

/// The label of the children current masters create (`MASTER_INFO_JSON_LABEL`).
pub const JSON_LABEL: &str = "json.info";

/// The label of the children masters before 0.24 created, holding binary protobuf.
pub const PROTOBUF_LABEL: &str = "info";

/// ZooKeeper's client port, used for a server given without one.
pub const DEFAULT_ZK_PORT: u16 = 2181;

/// The master port when a `MasterInfo` names none (Mesos' default).
const DEFAULT_MASTER_PORT: u64 = 5050;

/// A parsed `zk://[user:password@]host:port[,host:port…]/path` URL.
///
/// ```
/// use offerpack::session::ZkUrl;
/// let url = ZkUrl::parse("zk://zk1:2181,zk2:2182/mesos").unwrap();
/// assert_eq!(url.servers(), ["zk1:2181", "zk2:2182"]);
/// assert_eq!(url.path(), "/mesos");
/// assert!(ZkUrl::parse("zk://zk1:2181").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkUrl {
    servers: Vec<String>,
    path: String,
    credentials: Option<(String, String)>,
}

/// A `zk://` URL that cannot be used; the text says why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZkUrlError {
    url: String,
    reason: String,
}

impl fmt::Display for ZkUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ZooKeeper URL {:?}: {}", self.url, self.reason)
    }
}

impl std::error::Error for ZkUrlError {}

impl ZkUrlError {
    /// An error about `url` for `reason`.
    pub(crate) fn new(url: &str, reason: &str) -> ZkUrlError {
        ZkUrlError { url: url.to_owned(), reason: reason.to_owned() }
    }
}

impl ZkUrl {
    /// Whether `address` is meant as a ZooKeeper URL (starts with `zk://`).
    pub fn is_zk(address: &str) -> bool {
        address.trim_start().starts_with("zk://")
    }

    /// Parses a ZooKeeper URL as Mesos does: whitespace trimmed, `zk://` required, the path runs
    /// from the first `/` after the servers (a trailing `/` is dropped and a path is required),
    /// credentials are the text before the last `@` of the server part. A server without a port
    /// gets [`DEFAULT_ZK_PORT`].
    pub fn parse(url: &str) -> Result<ZkUrl, ZkUrlError> {
        let fail = |reason: &str| ZkUrlError::new(url, reason);
        let rest = url.trim().strip_prefix("zk://").ok_or_else(|| fail("must start with zk://"))?;
        let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
        let path = path.strip_suffix('/').unwrap_or(path);
        if path.is_empty() {
            return Err(fail("expecting a (chroot) path such as /mesos after the servers"));
        }
        if path.split('/').skip(1).any(str::is_empty) {
            return Err(fail("the path has an empty component"));
        }
        let (credentials, servers) = match authority.rfind('@') {
            Some(at) => {
                let (user, password) = authority[..at]
                    .split_once(':')
                    .filter(|(user, _)| !user.is_empty())
                    .ok_or_else(|| fail("credentials must read user:password"))?;
                (Some((user.to_owned(), password.to_owned())), &authority[at + 1..])
            }
            None => (None, authority),
        };
        let servers = servers.split(',').map(|server| parse_server(server.trim())).collect::<Option<Vec<_>>>();
        let servers = servers.ok_or_else(|| fail("every server must read host[:port]"))?;
        Ok(ZkUrl { servers, path: path.to_owned(), credentials })
    }

    /// The ensemble's servers, `host:port` each.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// The masters' group node, e.g. `/mesos`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The `digest` credentials, `(user, password)`; readers of the group need none.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials.as_ref().map(|(user, password)| (user.as_str(), password.as_str()))
    }
}

/// `host[:port]` with a non-empty host and a valid port; IPv6 hosts in brackets.
fn parse_server(server: &str) -> Option<String> {
    let (host, port) = match server.strip_prefix('[') {
        Some(bracketed) => {
            let (inside, after) = bracketed.split_once(']')?;
            (format!("[{inside}]"), if after.is_empty() { None } else { Some(after.strip_prefix(':')?) })
        }
        None => match server.split_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port)),
            None => (server.to_owned(), None),
        },
    };
    let port = match port {
        Some(port) => port.parse::<u16>().ok().filter(|p| *p > 0)?,
        None => DEFAULT_ZK_PORT,
    };
    let valid = host.len() > 2 || (!host.is_empty() && !host.starts_with('['));
    (valid && !host.contains(['/', '@', ' ', ','])).then(|| format!("{host}:{port}"))
}

/// A child of the group node that stands for a master: its name, label and sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contender {
    name: String,
    label: Option<String>,
    sequence: u64,
}

impl Contender {
    /// Reads a child's name as `[<label>_]<number>` (split on `_`: the last token is the
    /// number, the first, if there are several, the label); `None` for other names.
    pub fn parse(name: &str) -> Option<Contender> {
        let tokens: Vec<&str> = name.split('_').filter(|t| !t.is_empty()).collect();
        let (number, rest) = tokens.split_last()?;
        if !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let sequence = number.parse::<u64>().ok()?;
        let label = rest.first().map(|label| (*label).to_owned());
        Some(Contender { name: name.to_owned(), label, sequence })
    }

    /// The child's name (read its data at `<path>/<name>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The label (`json.info` for current masters), if any.
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// ZooKeeper's sequence number.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// The leading master's scheduler endpoint from this node's data, decoded by label:
    /// `json.info` as `MasterInfo` JSON, `info` as binary `MasterInfo`, no label as a
    /// `master@ip:port` text; any other label is an error, as in Mesos.
    pub fn endpoint(&self, data: &[u8]) -> Result<Endpoint, DetectError> {
        let fail = |reason: String| DetectError { node: self.name.clone(), reason };
        let address = match self.label() {
            Some(JSON_LABEL) => {
                let json: Value = serde_json::from_slice(data).map_err(|e| fail(format!("not JSON: {e}")))?;
                json_address(&json).map_err(|e| fail(e.to_owned()))?
            }
            Some(PROTOBUF_LABEL) => {
                let info = v1::MasterInfo::decode(data).map_err(|e| fail(format!("not a MasterInfo: {e}")))?;
                protobuf_address(&info)
            }
            None => {
                let text = std::str::from_utf8(data).map_err(|_| fail("not UTF-8".to_owned()))?;
                pid_address(text.trim()).ok_or_else(|| fail(format!("not a master@ip:port pid: {text:?}")))?
            }
            Some(other) => return Err(fail(format!("unknown label {other:?}"))),
        };
        Endpoint::parse(&format!("http://{address}")).map_err(|e| fail(e.to_string()))
    }
}

/// The leading contender among a group's children: the smallest sequence of any label; `None`
/// when no child is a contender (no leader).
///
/// ```
/// use offerpack::session::leader_of;
/// let leader = leader_of(["log_replicas", "json.info_0000000009", "json.info_0000000004"]);
/// assert_eq!(leader.unwrap().name(), "json.info_0000000004");
/// assert!(leader_of(["log_replicas"]).is_none());
/// ```
pub fn leader_of<'a>(children: impl IntoIterator<Item = &'a str>) -> Option<Contender> {
    children.into_iter().filter_map(Contender::parse).min_by(|a, b| (a.sequence, &a.name).cmp(&(b.sequence, &b.name)))
}

/// Where a master stands in its group, from the children's names and its own node's name
/// (the election recipe: the contender with the smallest sequence leads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Its own node has the smallest sequence: it leads.
    Leading,
    /// Another contender leads: read `leader`'s data to learn where to redirect.
    Following {
        /// The leading contender.
        leader: Contender,
    },
    /// Its own node is not among the children (deleted, or gone with an expired session): it
    /// must not lead and must create a new node.
    Absent,
}

/// Where the master whose node is `own` (a child name such as `json.info_0000000003`) stands
/// among `children`.
///
/// ```
/// use offerpack::session::{standing, Standing};
/// let children = ["json.info_0000000004", "json.info_0000000002", "log_replicas"];
/// assert_eq!(standing(children, "json.info_0000000002"), Standing::Leading);
/// let Standing::Following { leader } = standing(children, "json.info_0000000004") else { panic!() };
/// assert_eq!(leader.name(), "json.info_0000000002");
/// assert_eq!(standing(children, "json.info_0000000003"), Standing::Absent);
/// ```
pub fn standing<'a>(children: impl IntoIterator<Item = &'a str> + Clone, own: &str) -> Standing {
    if !children.clone().into_iter().any(|child| child == own) {
        return Standing::Absent;
    }
    match leader_of(children) {
        Some(leader) if leader.name() != own => Standing::Following { leader },
        // Its own node is a child, so some contender leads; `own` is not one only when its name
        // is no contender's, which a master never creates.
        _ => Standing::Leading,
    }
}

/// Where a following master sends API requests: the leader's `host:port` from its node's data
/// (see [`Contender::endpoint`]), or `None` ("No leader elected") when the data names no
/// master or names this master itself (`own`, its advertised `host:port`) — an older node of
/// its own whose session has not expired yet, which must not be redirected to.
///
/// ```
/// use offerpack::session::{redirect_target, Contender};
/// let leader = Contender::parse("0000000001").unwrap();
/// assert_eq!(redirect_target(&leader, b"master@10.0.0.5:5050", "10.0.0.6:5050").as_deref(), Some("10.0.0.5:5050"));
/// assert_eq!(redirect_target(&leader, b"master@10.0.0.6:5050", "10.0.0.6:5050"), None);
/// assert_eq!(redirect_target(&leader, b"garbage", "10.0.0.6:5050"), None);
/// ```
pub fn redirect_target(leader: &Contender, data: &[u8], own: &str) -> Option<String> {
    let endpoint = leader.endpoint(data).ok()?;
    (endpoint.authority() != own).then(|| endpoint.authority().to_owned())
}

/// The data of a master's `json.info_` node: its `MasterInfo` as the JSON a Mesos master
/// writes (`JSON::protobuf`, fields in declaration order): `id`, `ip` (the IPv4 `s_addr` as
/// Mesos stores it), `port`, `pid`, `hostname`, `version` and `address`, the unset optional
/// ones left out. [`Contender::endpoint`] reads it back.
///
/// ```
/// use offerpack::mesos::v1;
/// use offerpack::session::{master_info_json, Contender};
/// let info = v1::MasterInfo {
///     id: "m-1".into(), ip: 16777343, port: 5050, pid: Some("master@127.0.0.1:5050".into()),
///     hostname: Some("localhost".into()), version: Some("1.11.0".into()),
///     address: Some(v1::Address { hostname: Some("localhost".into()), ip: Some("127.0.0.1".into()), port: 5050 }),
///     capabilities: Vec::new(),
/// };
/// let data = master_info_json(&info);
/// let leader = Contender::parse("json.info_0000000000").unwrap();
/// assert_eq!(leader.endpoint(&data).unwrap().authority(), "127.0.0.1:5050");
/// ```
pub fn master_info_json(info: &v1::MasterInfo) -> Vec<u8> {
    let text = |s: &str| Value::from(s).to_string();
    let mut fields =
        vec![format!("\"id\":{}", text(&info.id)), format!("\"ip\":{}", info.ip), format!("\"port\":{}", info.port)];
    for (key, value) in [("pid", &info.pid), ("hostname", &info.hostname), ("version", &info.version)] {
        if let Some(value) = value {
            fields.push(format!("\"{key}\":{}", text(value)));
        }
    }
    if let Some(address) = &info.address {
        let mut inner = Vec::new();
        for (key, value) in [("hostname", &address.hostname), ("ip", &address.ip)] {
            if let Some(value) = value {
                inner.push(format!("\"{key}\":{}", text(value)));
            }
        }
        inner.push(format!("\"port\":{}", address.port));
        fields.push(format!("\"address\":{{{}}}", inner.join(",")));
    }
    format!("{{{}}}", fields.join(",")).into_bytes()
}

/// A leader node whose data names no usable master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectError {
    node: String,
    reason: String,
}

impl DetectError {
    /// The child whose data was read.
    pub fn node(&self) -> &str {
        &self.node
    }
}

impl fmt::Display for DetectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "leader node {}: {}", self.node, self.reason)
    }
}

impl std::error::Error for DetectError {}

/// `host:port` from `MasterInfo` JSON: `address` first, then `pid`, then `ip` (an IPv4
/// `s_addr` read as little-endian) or `hostname` with `port`.
fn json_address(json: &Value) -> Result<String, &'static str> {
    let text =
        |value: &Value, key: &str| value.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let port = |value: &Value| value.get("port").and_then(Value::as_u64);
    if !json.is_object() {
        return Err("MasterInfo JSON is not an object");
    }
    if let Some(address) = json.get("address") {
        let host = text(address, "ip").or_else(|| text(address, "hostname"));
        if let (Some(host), Some(port)) = (host, port(address)) {
            return host_port(&host, port).ok_or("address.port is out of range");
        }
    }
    if let Some(address) = text(json, "pid").and_then(|pid| pid_address(&pid)) {
        return Ok(address);
    }
    let ip = json.get("ip").and_then(Value::as_u64).and_then(|ip| u32::try_from(ip).ok());
    let host = ip.map(|ip| Ipv4Addr::from(ip.to_le_bytes()).to_string()).or_else(|| text(json, "hostname"));
    let host = host.ok_or("MasterInfo names no address, pid, ip or hostname")?;
    host_port(&host, port(json).unwrap_or(DEFAULT_MASTER_PORT)).ok_or("port is out of range")
}

/// `host:port` from a binary `MasterInfo`, in the same order of preference.
fn protobuf_address(info: &v1::MasterInfo) -> String {
    let from_address = info.address.as_ref().and_then(|a| {
        let host = a.ip.clone().or_else(|| a.hostname.clone()).filter(|h| !h.is_empty())?;
        host_port(&host, u64::try_from(a.port).ok()?)
    });
    from_address
        .or_else(|| info.pid.as_deref().and_then(pid_address))
        .unwrap_or_else(|| format!("{}:{}", Ipv4Addr::from(info.ip.to_le_bytes()), info.port))
}

/// `ip:port` from a libprocess pid `name@ip:port`.
fn pid_address(pid: &str) -> Option<String> {
    let (_, address) = pid.split_once('@')?;
    let (host, port) = address.rsplit_once(':')?;
    host_port(host, port.parse().ok()?)
}

/// `host:port`, IPv6 literals in brackets; `None` when the port does not fit or the host is empty.
fn host_port(host: &str, port: u64) -> Option<String> {
    let port = u16::try_from(port).ok()?;
    match host {
        "" => None,
        h if h.contains(':') && !h.starts_with('[') => Some(format!("[{h}]:{port}")),
        h => Some(format!("{h}:{port}")),
    }
}

#[cfg(test)]
#[path = "zk_detect_tests.rs"]
mod tests;
