//! Where the artifact server listens and what URL agents are told, checked against the master
//! URL before anything starts.
//!
//! Three settings, never derived from one another: the bind address (`--artifact-bind`), the
//! advertised URL (`--artifact-advertise`) and the master URL. The one derivation is from the
//! bind address alone: with no advertised URL and a concrete bind address, agents are told
//! `http://<bind address>` (with the port actually bound when port 0 was asked for).

use std::net::{IpAddr, SocketAddr};

use url::{Host, Url};

use super::ArtifactError;

/// The artifact server's network settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactSettings {
    /// Where to listen (`--artifact-bind`); `0.0.0.0:0` and `[::]:0` are allowed.
    pub bind: SocketAddr,
    /// The base URL agents are told (`--artifact-advertise`); required when `bind` is a
    /// wildcard address.
    pub advertise: Option<Url>,
}

impl ArtifactSettings {
    /// Settings listening on `bind`, advertising `advertise` if given.
    pub fn new(bind: SocketAddr, advertise: Option<Url>) -> ArtifactSettings {
        ArtifactSettings { bind, advertise }
    }

    /// Checks the settings alone: an advertised URL must be `http` or `https` with a host, and
    /// a wildcard bind address needs one.
    pub fn validate_standalone(&self) -> Result<(), ArtifactError> {
        if let Some(url) = &self.advertise {
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(settings(format!(
                    "--artifact-advertise {url} must be an http:// or https:// URL with a host"
                )));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(settings(format!("--artifact-advertise {url} must have no query or fragment")));
            }
        } else if self.bind.ip().is_unspecified() {
            return Err(settings(format!(
                "--artifact-bind {} is a wildcard address: give --artifact-advertise URL, the address agents \
                 reach this host at",
                self.bind
            )));
        }
        Ok(())
    }

    /// Checks the settings against the master URL: [`validate_standalone`](Self::validate_standalone),
    /// and an advertised loopback address (127.0.0.0/8, `::1`, `localhost`) is an error when
    /// the master is not on loopback, since agents on other hosts could not fetch from it.
    pub fn validate(&self, master: &Url) -> Result<(), ArtifactError> {
        self.validate_standalone()?;
        let (advertised, setting) = match &self.advertise {
            Some(url) => (url.clone(), "--artifact-advertise"),
            None => (base_for(self.bind), "--artifact-bind (advertised, as no --artifact-advertise was given)"),
        };
        if url_is_loopback(&advertised) && !url_is_loopback(master) {
            return Err(settings(format!(
                "{setting} {advertised} is a loopback address but the master URL {master} is not on loopback: \
                 agents on other hosts could not fetch artifacts; give --artifact-advertise with an address \
                 they can reach"
            )));
        }
        Ok(())
    }

    /// The base URL to advertise once bound to `local`: the advertised URL, or else
    /// `http://<local>`.
    pub fn advertised_base(&self, local: SocketAddr) -> Url {
        self.advertise.clone().unwrap_or_else(|| base_for(local))
    }
}

/// `http://<addr>/` (an IPv6 scope id is left out: URLs cannot carry one).
fn base_for(addr: SocketAddr) -> Url {
    let mut url = Url::parse("http://0.0.0.0/").expect("a literal URL parses");
    // Setting an IP host and a port on an http URL cannot fail.
    let _ = url.set_ip_host(addr.ip());
    let _ = url.set_port(Some(addr.port()));
    url
}

fn settings(message: String) -> ArtifactError {
    ArtifactError::Settings(message)
}

/// True when the URL's host is a loopback address or `localhost` (or a name under it).
pub fn url_is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).to_canonical().is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn bind(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn settings_wildcard_bind_needs_advertise() {
        for wildcard in ["0.0.0.0:0", "[::]:8080"] {
            let err = ArtifactSettings::new(bind(wildcard), None).validate_standalone().unwrap_err();
            let text = err.to_string();
            assert!(text.contains("--artifact-bind") && text.contains("--artifact-advertise"), "{text}");
        }
        let ok = ArtifactSettings::new(bind("0.0.0.0:0"), Some(url("http://10.0.0.5:8000/")));
        ok.validate(&url("http://10.0.0.1:5050")).unwrap();
    }

    #[test]
    fn settings_loopback_advertise_with_remote_master_names_both() {
        let master = url("http://mesos-master.example:5050/");
        for advertised in ["http://127.0.0.1:9000", "http://127.8.9.10/", "http://localhost:1/", "http://[::1]:2/"] {
            let settings = ArtifactSettings::new(bind("0.0.0.0:9000"), Some(url(advertised)));
            let text = settings.validate(&master).unwrap_err().to_string();
            assert!(text.contains("--artifact-advertise"), "{text}");
            assert!(text.contains("http://mesos-master.example:5050/"), "{text}");
        }
    }

    #[test]
    fn settings_loopback_bind_default_with_remote_master_is_error() {
        let settings = ArtifactSettings::new(bind("127.0.0.1:0"), None);
        let text = settings.validate(&url("http://10.1.1.1:5050")).unwrap_err().to_string();
        assert!(text.contains("--artifact-bind") && text.contains("http://10.1.1.1:5050/"), "{text}");
        settings.validate(&url("http://127.0.0.1:5050")).unwrap();
        settings.validate(&url("http://localhost:5050")).unwrap();
    }

    #[test]
    fn settings_advertise_must_be_http_with_host() {
        for bad in ["ftp://host/", "file:///tmp/x", "http://host/?q=1", "unix:/run/x"] {
            let settings = ArtifactSettings::new(bind("127.0.0.1:0"), Some(url(bad)));
            assert!(settings.validate_standalone().is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_advertised_base_defaults_to_bound_address() {
        let settings = ArtifactSettings::new(bind("127.0.0.2:0"), None);
        assert_eq!(settings.advertised_base(bind("127.0.0.2:4321")).as_str(), "http://127.0.0.2:4321/");
        let settings = ArtifactSettings::new(bind("0.0.0.0:0"), Some(url("https://files.example/x/")));
        assert_eq!(settings.advertised_base(bind("0.0.0.0:1")).as_str(), "https://files.example/x/");
    }

    #[test]
    fn url_is_loopback_recognises_loopback_hosts() {
        for yes in ["http://127.0.0.1/", "http://LOCALHOST/", "http://a.localhost/", "http://[::ffff:127.0.0.1]/"] {
            assert!(url_is_loopback(&url(yes)), "{yes}");
        }
        for no in ["http://10.0.0.1/", "http://example.com/", "http://[::2]/", "http://localhost.example/"] {
            assert!(!url_is_loopback(&url(no)), "{no}");
        }
    }
}
