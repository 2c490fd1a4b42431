//! Master addresses ([`Endpoint`], parsed with the `url` crate) and the choice of master
//! ([`Masters`]): which configured master to subscribe to, the leader learned from the
//! subscription and from redirects, and how far a `307` is followed.
//!
//! Policy, sans-IO: the driver sends each request where the session's action says and reports
//! a `307` as [`CallOutcome::Redirect`](super::CallOutcome::Redirect); the session decides
//! whether to follow it.

use std::fmt;
use std::sync::Arc;

use url::Url;

/// The scheduler API path used when a master address gives none.
pub const SCHEDULER_PATH: &str = "/api/v1/scheduler";

/// The operator API's path on a master.
pub const OPERATOR_PATH: &str = "/api/v1";

/// Redirects one request (a SUBSCRIBE, a call or an operator read) follows before it counts as
/// failed: enough to go from a follower to the leader and on through a fail-over or two, short
/// of a loop between confused masters.
pub const MAX_REDIRECTS: u32 = 4;

/// A scheduler API endpoint: an `http` or `https` URL with host, port and path.
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
    /// Shared: every request carries its endpoint, so a copy costs a reference count.
    url: Arc<Url>,
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
    /// Parses `host:port`, `http://host:port`, `https://host:port` or such a URL with a path
    /// (default path [`SCHEDULER_PATH`]); a bare `host:port` means `http`.
    pub fn parse(address: &str) -> Result<Endpoint, EndpointError> {
        let fail = |reason| EndpointError { address: address.to_owned(), reason };
        let trimmed = address.trim();
        // `host:port` alone would parse as scheme `host`: a bare address means http.
        let absolute = if trimmed.contains("://") { trimmed.to_owned() } else { format!("http://{trimmed}") };
        let mut url = Url::parse(&absolute).map_err(|_| fail("no valid host[:port]"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(fail("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) || !url.username().is_empty() || url.password().is_some() {
            return Err(fail("no valid host[:port]"));
        }
        url.set_query(None);
        url.set_fragment(None);
        if url.path().is_empty() || url.path() == "/" {
            url.set_path(SCHEDULER_PATH);
        }
        Ok(Endpoint { url: Arc::new(url) })
    }

    /// The URL to POST to.
    pub fn url(&self) -> String {
        self.url.as_str().to_owned()
    }

    /// The master's operator API endpoint (`/api/v1`) beside this scheduler endpoint: the
    /// path without its last `/scheduler`.
    pub fn operator(&self) -> Endpoint {
        let path = self.url.path();
        let operator = path.strip_suffix("/scheduler").filter(|p| !p.is_empty()).unwrap_or(OPERATOR_PATH).to_owned();
        let mut url = Url::clone(&self.url);
        url.set_path(&operator);
        Endpoint { url: Arc::new(url) }
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.url.scheme()
    }

    /// `host:port` (the port only when it is not the scheme's default).
    pub fn authority(&self) -> &str {
        self.url.authority()
    }

    /// The endpoint a 307 `Location` points to: its host and port with this endpoint's scheme and
    /// path, as real clients do with the master's protocol-relative `//host:port/path`.
    /// `None` when the location names no host.
    pub fn redirect(&self, location: &str) -> Option<Endpoint> {
        let location = location.trim();
        let target = match Url::parse(location) {
            Ok(absolute) => absolute,
            // Only a network-path reference names a host; `/path` stays on this master.
            Err(_) if location.starts_with("//") => self.url.join(location).ok()?,
            Err(_) => return None,
        };
        let host = target.host_str().filter(|h| !h.is_empty())?;
        let mut url = Url::clone(&self.url);
        url.set_host(Some(host)).ok()?;
        url.set_port(target.port()).ok()?;
        Some(Endpoint { url: Arc::new(url) })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.url.as_str())
    }
}

/// The configured masters, tried in turn, and the leader learned from a subscription or a
/// redirected request that was answered.
///
/// - A subscription goes to the known leader, else to the next master of the list.
/// - A failed subscription (or a lost stream) forgets the leader; when no leader was known, the
///   next subscription tries the next master (round robin).
/// - Calls and operator reads go to the leader (the master the stream is open with, or one a
///   redirected call reached and was answered by).
#[derive(Clone, Debug)]
pub(crate) struct Masters {
    list: Vec<Endpoint>,
    next: usize,
    leader: Option<Endpoint>,
    /// Where the SUBSCRIBE in progress goes (after its redirects).
    subscribing: Option<Endpoint>,
    /// Redirects the SUBSCRIBE in progress has followed.
    redirects: u32,
    /// Counts subscriptions started: a request handed out under an older one belongs to a
    /// stream that is gone.
    epoch: u64,
    /// A leader detector said that no master leads: subscribe nowhere until it names one.
    awaiting: bool,
}

impl Masters {
    /// The masters of `list`; `None` when it is empty.
    pub(crate) fn new(list: Vec<Endpoint>) -> Option<Masters> {
        let masters =
            Masters { list, next: 0, leader: None, subscribing: None, redirects: 0, epoch: 0, awaiting: false };
        (!masters.list.is_empty()).then_some(masters)
    }

    /// Starts a subscription: the endpoint to send SUBSCRIBE to.
    pub(crate) fn subscribe(&mut self) -> Endpoint {
        self.epoch += 1;
        self.redirects = 0;
        let target = self.leader.clone().unwrap_or_else(|| self.configured().clone());
        self.subscribing = Some(target.clone());
        target
    }

    /// The configured master whose turn it is (the list is never empty).
    fn configured(&self) -> &Endpoint {
        &self.list[self.next % self.list.len()]
    }

    /// The SUBSCRIBE in progress was redirected to `location`: where to send it now, or `None`
    /// when the location names no host or redirects ran out.
    pub(crate) fn subscribe_redirect(&mut self, location: &str) -> Option<Endpoint> {
        if self.redirects >= MAX_REDIRECTS {
            return None;
        }
        let target = self.subscribing.as_ref()?.redirect(location)?;
        self.redirects += 1;
        self.subscribing = Some(target.clone());
        Some(target)
    }

    /// The stream opened where the SUBSCRIBE went: that master leads.
    pub(crate) fn subscribed(&mut self) {
        if let Some(endpoint) = self.subscribing.take() {
            self.leader = Some(endpoint);
        }
    }

    /// A master other than the leader answered a redirected request: it leads now.
    pub(crate) fn leader_is(&mut self, endpoint: Endpoint) {
        self.leader = Some(endpoint);
    }

    /// The subscription failed or the stream was lost: forget the leader, or, when none was
    /// known, move on to the next master.
    pub(crate) fn failed(&mut self) {
        self.subscribing = None;
        if self.leader.take().is_none() {
            self.next = (self.next + 1) % self.list.len();
        }
    }

    /// Where calls and operator reads go: the leader, else the master being subscribed to.
    pub(crate) fn leader(&self) -> &Endpoint {
        self.leader.as_ref().or(self.subscribing.as_ref()).unwrap_or_else(|| self.configured())
    }

    /// The current subscription's number.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// A leader detector reported the leader, or (`None`) that none leads. A leader replaces
    /// the list; true when it is not the master in use (the leader, else the one being
    /// subscribed to, else the next configured), which is then forgotten.
    pub(crate) fn detected(&mut self, leader: Option<Endpoint>) -> bool {
        let Some(leader) = leader else {
            self.awaiting = true;
            return false;
        };
        self.awaiting = false;
        let changed = *self.leader() != leader;
        if changed {
            self.leader = None;
        }
        self.list = vec![leader];
        self.next = 0;
        changed
    }

    /// Whether a detector said that no master leads (and named none since).
    pub(crate) fn awaiting(&self) -> bool {
        self.awaiting
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
        assert_eq!(Endpoint::parse(" 10.0.0.1:5050?x#y ").unwrap().url(), "http://10.0.0.1:5050/api/v1/scheduler");
        let tls = Endpoint::parse("https://m1:5050").unwrap();
        assert_eq!((tls.url().as_str(), tls.scheme()), ("https://m1:5050/api/v1/scheduler", "https"));
        assert_eq!(Endpoint::parse("https://m1:443").unwrap().authority(), "m1");
        for bad in ["ftp://m1", "", "http://", "https://", "http://a b:1", "http://user@host:1/", "m1:notaport"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
        let refused = Endpoint::parse("ftp://m1:5050").unwrap_err().to_string();
        assert!(refused.contains("http or https"), "{refused}");
    }

    #[test]
    fn endpoint_operator_is_beside_the_scheduler_path() {
        let master = Endpoint::parse("http://m:5050/master/api/v1/scheduler").unwrap();
        assert_eq!(master.operator().url(), "http://m:5050/master/api/v1");
        assert_eq!(Endpoint::parse("m:5050/custom").unwrap().operator().url(), "http://m:5050/api/v1");
        assert_eq!(Endpoint::parse("m:5050/scheduler").unwrap().operator().url(), "http://m:5050/api/v1");
    }

    #[test]
    fn endpoint_redirect_keeps_scheme_and_path() {
        let here = Endpoint::parse("http://m1:5050/master/api/v1/scheduler").unwrap();
        let there = here.redirect("//m2:5051/api/v1/scheduler").unwrap();
        assert_eq!(there.url(), "http://m2:5051/master/api/v1/scheduler");
        assert_eq!(here.redirect("http://m3:5050").unwrap().authority(), "m3:5050");
        assert_eq!(here.redirect("//m4:5050").unwrap().authority(), "m4:5050");
        assert_eq!(here.redirect("//[::1]:5052/x").unwrap().authority(), "[::1]:5052");
        assert_eq!(here.redirect("/relative"), None);
        assert_eq!(here.redirect("//"), None);
        // A scheme-relative Location from a TLS master stays on https.
        let secure = Endpoint::parse("https://m1:5050").unwrap();
        assert_eq!(
            secure.redirect("//m2:5051/master/api/v1/scheduler").unwrap().url(),
            "https://m2:5051/api/v1/scheduler"
        );
    }

    fn masters(addresses: &[&str]) -> Masters {
        Masters::new(addresses.iter().map(|a| Endpoint::parse(a).unwrap()).collect()).unwrap()
    }

    #[test]
    fn masters_rotate_and_prefer_the_leader() {
        let mut masters = masters(&["m1:1", "m2:1"]);
        assert_eq!(masters.subscribe().authority(), "m1:1");
        masters.failed();
        assert_eq!(masters.subscribe().authority(), "m2:1");
        masters.leader_is(Endpoint::parse("m9:1").unwrap());
        assert_eq!(masters.subscribe().authority(), "m9:1");
        masters.failed();
        assert_eq!(masters.subscribe().authority(), "m2:1");
        masters.failed();
        assert_eq!(masters.subscribe().authority(), "m1:1");
        assert_eq!(masters.epoch(), 5);
    }

    #[test]
    fn masters_follow_subscribe_redirects_a_bounded_number_of_times() {
        let mut masters = masters(&["m1:1"]);
        masters.subscribe();
        for hop in 0..MAX_REDIRECTS {
            let target = masters.subscribe_redirect(&format!("//r{hop}:2")).unwrap();
            assert_eq!(target.authority(), format!("r{hop}:2"));
        }
        assert_eq!(masters.subscribe_redirect("//r9:2"), None);
        masters.subscribed();
        assert_eq!(masters.leader().authority(), format!("r{}:2", MAX_REDIRECTS - 1));
        assert_eq!(masters.subscribe().authority(), format!("r{}:2", MAX_REDIRECTS - 1));
        assert_eq!(masters.subscribe_redirect("/nohost"), None);
        assert!(Masters::new(Vec::new()).is_none());
    }

    #[test]
    fn masters_detected_leader_replaces_the_list() {
        let mut masters = masters(&["m1:1", "m2:1"]);
        assert!(!masters.detected(None));
        assert!(masters.awaiting());
        assert!(masters.detected(Some(Endpoint::parse("m3:1").unwrap())));
        assert!(!masters.awaiting());
        assert_eq!(masters.subscribe().authority(), "m3:1");
        masters.subscribed();
        assert!(!masters.detected(Some(Endpoint::parse("m3:1").unwrap())));
        assert_eq!(masters.leader().authority(), "m3:1");
        assert!(masters.detected(Some(Endpoint::parse("m4:1").unwrap())));
        masters.failed();
        assert_eq!(masters.subscribe().authority(), "m4:1");
        masters.failed();
        assert_eq!(masters.subscribe().authority(), "m4:1");
    }
}
