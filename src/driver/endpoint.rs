//! Master addresses: parsing the configured list, following protocol-relative redirects, and
//! trying the masters in turn.

use std::fmt;

/// The scheduler API path used when a master address gives none.
pub const SCHEDULER_PATH: &str = "/api/v1/scheduler";

/// A scheduler API endpoint: scheme, `host:port` and path.
///
/// ```
/// use offerpack::driver::Endpoint;
/// let master = Endpoint::parse("10.0.0.1:5050").unwrap();
/// assert_eq!(master.url(), "http://10.0.0.1:5050/api/v1/scheduler");
/// let leader = master.redirect("//10.0.0.2:5050/master/api/v1/scheduler").unwrap();
/// assert_eq!(leader.url(), "http://10.0.0.2:5050/api/v1/scheduler");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    scheme: String,
    authority: String,
    path: String,
}

/// A master address that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointError {
    address: String,
    reason: &'static str,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "master address {:?}: {}", self.address, self.reason)
    }
}

impl std::error::Error for EndpointError {}

impl Endpoint {
    /// Parses `host:port`, `http://host:port` or `http://host:port/path` (default path
    /// [`SCHEDULER_PATH`]). `https` is refused: this build carries no TLS stack.
    pub fn parse(address: &str) -> Result<Endpoint, EndpointError> {
        let fail = |reason| EndpointError { address: address.to_owned(), reason };
        let trimmed = address.trim();
        let (scheme, rest) = match trimmed.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("http".to_owned(), trimmed),
        };
        match scheme.as_str() {
            "http" => {}
            "https" => return Err(fail("https is not supported (no TLS in this build)")),
            _ => return Err(fail("the scheme must be http")),
        }
        let (authority, path) = split_authority(rest);
        if !valid_authority(authority) {
            return Err(fail("no valid host[:port]"));
        }
        let path = if path.is_empty() || path == "/" { SCHEDULER_PATH } else { path };
        Ok(Endpoint { scheme, authority: authority.to_owned(), path: path.to_owned() })
    }

    /// The URL to POST to.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.path)
    }

    /// The master's operator API endpoint (`/api/v1`) beside this scheduler endpoint: the
    /// path without its last `/scheduler`.
    pub fn operator(&self) -> Endpoint {
        let path = self.path.strip_suffix("/scheduler").unwrap_or(&self.path);
        let path = if path == self.path { super::OPERATOR_PATH } else { path };
        Endpoint { path: path.to_owned(), ..self.clone() }
    }

    /// `host:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The endpoint a 307 `Location` points to: its `host:port` with this endpoint's scheme and
    /// path, as real clients do with the master's protocol-relative `//host:port/path`.
    /// `None` when the location names no host.
    pub fn redirect(&self, location: &str) -> Option<Endpoint> {
        let location = location.trim();
        let rest = match location.split_once("://") {
            Some((_, rest)) => rest,
            None => location.strip_prefix("//")?,
        };
        let (authority, _) = split_authority(rest);
        valid_authority(authority).then(|| Endpoint { authority: authority.to_owned(), ..self.clone() })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

fn split_authority(rest: &str) -> (&str, &str) {
    match rest.find(['/', '?', '#']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    }
}

fn valid_authority(authority: &str) -> bool {
    !authority.is_empty()
        && !authority.starts_with(':')
        && authority.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']' | '%'))
}

/// The configured masters, tried in turn, and the leader learned from redirects.
#[derive(Clone, Debug)]
pub(crate) struct Masters {
    list: Vec<Endpoint>,
    next: usize,
    leader: Option<Endpoint>,
}

impl Masters {
    /// At least one endpoint is required (checked by the caller).
    pub(crate) fn new(list: Vec<Endpoint>) -> Masters {
        Masters { list, next: 0, leader: None }
    }

    /// Where to subscribe next: the known leader, else the next master in the list.
    pub(crate) fn current(&self) -> Option<&Endpoint> {
        self.leader.as_ref().or_else(|| self.list.get(self.next))
    }

    /// The master at hand answered (subscribed there).
    pub(crate) fn leader_is(&mut self, endpoint: Endpoint) {
        self.leader = Some(endpoint);
    }

    /// Subscribing failed: forget the leader, move on to the next master.
    pub(crate) fn failed(&mut self) {
        if self.leader.take().is_none() && !self.list.is_empty() {
            self.next = (self.next + 1) % self.list.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_parses_addresses_and_refuses_bad_ones() {
        assert_eq!(Endpoint::parse("http://m1:5050").unwrap().url(), "http://m1:5050/api/v1/scheduler");
        assert_eq!(
            Endpoint::parse("m1:5050/master/api/v1/scheduler").unwrap().url(),
            "http://m1:5050/master/api/v1/scheduler"
        );
        assert_eq!(Endpoint::parse("HTTP://[::1]:5050/").unwrap().authority(), "[::1]:5050");
        for bad in ["https://m1:5050", "ftp://m1", "", "http://", "http://a b:1", "http://user@host:1/"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoint_operator_is_beside_the_scheduler_path() {
        let master = Endpoint::parse("http://m:5050/master/api/v1/scheduler").unwrap();
        assert_eq!(master.operator().url(), "http://m:5050/master/api/v1");
        assert_eq!(Endpoint::parse("m:5050/custom").unwrap().operator().url(), "http://m:5050/api/v1");
    }

    #[test]
    fn endpoint_redirect_keeps_scheme_and_path() {
        let here = Endpoint::parse("http://m1:5050/master/api/v1/scheduler").unwrap();
        let there = here.redirect("//m2:5051/api/v1/scheduler").unwrap();
        assert_eq!(there.url(), "http://m2:5051/master/api/v1/scheduler");
        assert_eq!(here.redirect("http://m3:5050").unwrap().authority(), "m3:5050");
        assert_eq!(here.redirect("//m4:5050").unwrap().authority(), "m4:5050");
        assert_eq!(here.redirect("/relative"), None);
        assert_eq!(here.redirect("//"), None);
    }

    #[test]
    fn masters_rotate_and_prefer_the_leader() {
        let list: Vec<Endpoint> = ["m1:1", "m2:1"].iter().map(|a| Endpoint::parse(a).unwrap()).collect();
        let mut masters = Masters::new(list);
        assert_eq!(masters.current().unwrap().authority(), "m1:1");
        masters.failed();
        assert_eq!(masters.current().unwrap().authority(), "m2:1");
        masters.leader_is(Endpoint::parse("m9:1").unwrap());
        assert_eq!(masters.current().unwrap().authority(), "m9:1");
        masters.failed();
        assert_eq!(masters.current().unwrap().authority(), "m2:1");
        masters.failed();
        assert_eq!(masters.current().unwrap().authority(), "m1:1");
    }
}
