//! HTTP Basic authentication of frameworks, as a Mesos master with
//! `--authenticate_http_frameworks --http_framework_authenticators=basic --credentials=FILE`
//! does it: every `/api/v1/scheduler` request must carry `Authorization: Basic …` naming a
//! stored principal and secret, checked before anything else (a non-leader answers 401 before
//! it would redirect). Sans-IO: the shell hands the header in and sends what comes out.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The realm of `/api/v1/scheduler` in `WWW-Authenticate`.
pub const SCHEDULER_REALM: &str = "mesos-master-scheduler";

/// Principals and their secrets (Mesos' `--credentials` file). Secrets never appear in `Debug`.
///
/// ```
/// use offerpack::master::Credentials;
/// let credentials = Credentials::from_json(r#"{"credentials":[{"principal":"sched","secret":"s3cret"}]}"#).unwrap();
/// assert_eq!(credentials.authenticate(Some("Basic c2NoZWQ6czNjcmV0")).as_deref(), Some("sched"));
/// assert_eq!(credentials.authenticate(Some("Basic c2NoZWQ6d3Jvbmc=")), None);
/// assert!(!format!("{credentials:?}").contains("s3cret"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pairs: Vec<(String, String)>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let principals: Vec<&str> = self.pairs.iter().map(|(p, _)| p.as_str()).collect();
        f.debug_struct("Credentials").field("principals", &principals).field("secrets", &"<redacted>").finish()
    }
}

impl Credentials {
    /// No credentials yet.
    pub fn new() -> Credentials {
        Credentials::default()
    }

    /// Adds a principal with its secret.
    pub fn with(mut self, principal: impl Into<String>, secret: impl Into<String>) -> Credentials {
        self.pairs.push((principal.into(), secret.into()));
        self
    }

    /// Reads Mesos' credentials JSON, `{"credentials":[{"principal":…,"secret":…},…]}`; the
    /// error says what is wrong without quoting any secret.
    pub fn from_json(text: &str) -> Result<Credentials, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let list = value
            .get("credentials")
            .and_then(serde_json::Value::as_array)
            .ok_or("expected an object with a \"credentials\" array")?;
        let mut credentials = Credentials::new();
        for (i, entry) in list.iter().enumerate() {
            let field = |name: &str| entry.get(name).and_then(serde_json::Value::as_str).filter(|s| !s.is_empty());
            let (Some(principal), Some(secret)) = (field("principal"), field("secret")) else {
                return Err(format!("credentials[{i}]: expected non-empty \"principal\" and \"secret\" strings"));
            };
            credentials = credentials.with(principal, secret);
        }
        if credentials.pairs.is_empty() {
            return Err("the \"credentials\" array is empty".to_owned());
        }
        Ok(credentials)
    }

    /// The principal an `Authorization` header authenticates, by Mesos' rules: exactly a
    /// scheme and a token separated by one space, the scheme exactly `Basic`, the token base64
    /// of `principal:secret` splitting on `:` into exactly two parts that match a stored pair.
    pub fn authenticate(&self, header: Option<&str>) -> Option<String> {
        let mut parts = header?.split(' ');
        let (Some("Basic"), Some(token), None) = (parts.next(), parts.next(), parts.next()) else { return None };
        let decoded = String::from_utf8(STANDARD.decode(token).ok()?).ok()?;
        let mut halves = decoded.split(':');
        let (Some(principal), Some(secret), None) = (halves.next(), halves.next(), halves.next()) else { return None };
        self.pairs.iter().any(|(p, s)| p == principal && s == secret).then(|| principal.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(principal_secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(principal_secret))
    }

    #[test]
    fn auth_follows_the_masters_rules() {
        let c = Credentials::new().with("a", "x").with("b", "y");
        assert_eq!(c.authenticate(Some(&header("b:y"))).as_deref(), Some("b"));
        assert_eq!(c.authenticate(None), None);
        assert_eq!(c.authenticate(Some(&header("b:x"))), None, "another principal's secret");
        assert_eq!(c.authenticate(Some(&header("c:y"))), None, "unknown principal");
        assert_eq!(c.authenticate(Some(&header("a:x:z"))), None, "a third part");
        assert_eq!(c.authenticate(Some(&header("a:x").replace("Basic", "basic"))), None, "scheme case");
        assert_eq!(c.authenticate(Some(&header("a:x").replace(' ', "  "))), None, "two spaces");
        assert_eq!(c.authenticate(Some("Basic !!!")), None, "not base64");
    }

    #[test]
    fn auth_credentials_json_errors_name_the_entry_not_the_secret() {
        assert!(Credentials::from_json(r#"{"credentials":[{"principal":"p","secret":"s"}]}"#).is_ok());
        let e = Credentials::from_json(r#"{"credentials":[{"principal":"p","secret":"s"},{"principal":"q"}]}"#);
        assert_eq!(e.unwrap_err(), "credentials[1]: expected non-empty \"principal\" and \"secret\" strings");
        assert!(Credentials::from_json(r#"{"credentials":[]}"#).is_err());
        assert!(Credentials::from_json("[1]").is_err());
        let e = Credentials::from_json(r#"{"credentials":[{"principal":"p","secret":"hunter2"}"#).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
