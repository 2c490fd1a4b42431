//! TLS to and from masters (feature `tls`, part of `driver`, `master` and `agent`).
//!
//! - Clients (the scheduler driver, the operator client, agent processes) reach `https://`
//!   masters through reqwest with rustls. They trust the system's root certificates plus the
//!   extra CAs of a [`TlsConfig`] (`--ca-cert FILE`).
//! - The simulated master serves TLS when given a [`ServerTls`] (`--tls-cert`, `--tls-key`); its
//!   accept loop runs the handshake per connection, so a failed handshake ends that connection
//!   only. A client that speaks plain HTTP to the TLS port gets a `400` naming the cause.
//! - A handshake that fails on the certificate (unknown issuer, expired, issued for another
//!   name) or because the server does not speak TLS is a [`TlsFailure`]: asking again would
//!   fail the same way, so the driver reports it as permanent and the framework stops with one
//!   clear line instead of retrying with backoff.
//!
//! # Why ring
//!
//! rustls needs a crypto provider. We use `ring`, never `aws-lc-rs` (rustls' and reqwest's
//! default): aws-lc needs cmake (and nasm on some targets) to build, is much larger to
//! compile, and buys nothing the master link needs. Nor OpenSSL: no system package is needed
//! to build offerpack. The provider is named explicitly in every configuration this crate
//! builds, so nothing depends on rustls' process-wide default.
//!
//! With this feature on, reqwest is built with `rustls-no-provider`: a `reqwest::Client` built
//! by other code in the same program (`reqwest::Client::new()`) needs a process-wide provider
//! first; [`install_default_provider`] installs ring as that.
//!
//! Certificates are read once, when a [`TlsConfig`] or [`ServerTls`] is made, and the system's
//! roots once per process; nothing is read per connection.
// The client half serves the driver, the agent and the executor, the server half the master;
// a build with only some of those leaves parts unused.
#![cfg_attr(
    not(all(feature = "driver", feature = "master", feature = "agent", feature = "executor")),
    allow(dead_code, unused_imports)
)]

#[cfg(any(feature = "driver", feature = "agent", feature = "executor"))]
mod client;
mod server;

use std::fmt;
use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

#[cfg(any(feature = "driver", feature = "agent", feature = "executor"))]
pub(crate) use client::{client_builder, failure_of, plain_client_builder};
pub(crate) use server::accept;
pub use server::ServerTls;

/// Installs ring as rustls' process-wide crypto provider, unless one is installed already.
/// Only needed by programs that build their own `reqwest::Client` besides offerpack's (reqwest
/// is built without a provider of its own; see the module docs). Safe to call many times.
pub fn install_default_provider() {
    // An error means another provider was installed first: that one stays, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How a client checks the servers it connects to: the system's root certificates plus extra
/// CA certificates (e.g. a private CA that signed the masters' certificates).
///
/// ```no_run
/// use offerpack::driver::FrameworkConfig;
/// use offerpack::tls::TlsConfig;
/// # fn main() -> Result<(), offerpack::tls::TlsSetupError> {
/// let tls = TlsConfig::from_pem_file("ca.pem")?;
/// let config = FrameworkConfig::new("demo", "root", ["https://10.0.0.1:5050"]).tls(tls);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// Extra trust anchors, each checked to parse when added.
    ca_certs: Vec<CertificateDer<'static>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig").field("ca_certs", &self.ca_certs.len()).finish()
    }
}

impl TlsConfig {
    /// The system's roots only.
    pub fn new() -> TlsConfig {
        TlsConfig::default()
    }

    /// The system's roots plus every certificate of the PEM file at `path`.
    ///
    /// # Errors
    /// The file cannot be read, holds no `CERTIFICATE` section, or one does not parse.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<TlsConfig, TlsSetupError> {
        let path = path.as_ref();
        let pem = read(path, "CA certificate file")?;
        TlsConfig::from_pem(&pem).map_err(|e| e.in_file(path, "CA certificate file"))
    }

    /// The system's roots plus every certificate of `pem` (PEM text).
    ///
    /// # Errors
    /// No `CERTIFICATE` section, bad base64, or a certificate that does not parse.
    pub fn from_pem(pem: &[u8]) -> Result<TlsConfig, TlsSetupError> {
        let ca_certs = certificates(pem)?;
        // A trust anchor is taken from each certificate here, so a bad one fails now and not
        // at the first connection.
        let mut store = rustls::RootCertStore::empty();
        for cert in &ca_certs {
            store.add(cert.clone()).map_err(|e| TlsSetupError::new(format!("not a usable CA certificate: {e}")))?;
        }
        Ok(TlsConfig { ca_certs })
    }

    /// How many extra CA certificates there are.
    pub fn ca_cert_count(&self) -> usize {
        self.ca_certs.len()
    }
}

/// Every `CERTIFICATE` section of `pem`, at least one.
fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSetupError::new(format!("malformed PEM: {e}")))?;
    if certs.is_empty() {
        return Err(TlsSetupError::new("no PEM CERTIFICATE section"));
    }
    Ok(certs)
}

/// The bytes of `path`, or an error naming it as `what`.
fn read(path: &Path, what: &str) -> Result<Vec<u8>, TlsSetupError> {
    std::fs::read(path).map_err(|e| TlsSetupError::new(format!("cannot read it: {e}")).in_file(path, what))
}

/// A certificate, key or CA file that cannot be used.
#[derive(Debug)]
pub struct TlsSetupError {
    /// What was being read and where, e.g. `CA certificate file ca.pem`.
    file: Option<(String, PathBuf)>,
    reason: String,
}

impl TlsSetupError {
    fn new(reason: impl Into<String>) -> TlsSetupError {
        TlsSetupError { file: None, reason: reason.into() }
    }

    fn in_file(mut self, path: &Path, what: &str) -> TlsSetupError {
        self.file = Some((what.to_owned(), path.to_owned()));
        self
    }

    /// The file at fault, when the error came from reading one.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|(_, path)| path.as_path())
    }
}

impl fmt::Display for TlsSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some((what, path)) => write!(f, "{what} {}: {}", path.display(), self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for TlsSetupError {}

/// Why a TLS handshake with a server failed, when connecting again would fail the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The certificate was not issued by a trusted CA (give the CA: [`TlsConfig`]).
    UnknownIssuer,
    /// The certificate has expired.
    Expired,
    /// The certificate is not valid yet (or a clock is wrong).
    NotYetValid,
    /// The certificate names other hosts than the one connected to.
    WrongName,
    /// The certificate is otherwise unusable (bad signature or encoding, wrong purpose,
    /// revoked, unsupported algorithm).
    BadCertificate,
    /// The server answered something that is not TLS (a plain HTTP server on that port).
    NotTls,
}

impl TlsFailure {
    /// One line for a person, naming `host` and what to do.
    pub fn describe(self, host: &str) -> String {
        match self {
            Self::UnknownIssuer => format!(
                "TLS: certificate for {host} is not trusted (unknown issuer); pass the CA that signed it (--ca-cert FILE)"
            ),
            Self::Expired => format!("TLS: certificate for {host} has expired"),
            Self::NotYetValid => format!("TLS: certificate for {host} is not valid yet (check the clocks)"),
            Self::WrongName => {
                format!("TLS: certificate is not valid for host name {host}; connect by a name the certificate lists")
            }
            Self::BadCertificate => format!(
                "TLS: certificate for {host} is invalid (bad signature, encoding or purpose; is --ca-cert the CA that signed it?)"
            ),
            Self::NotTls => format!("TLS: {host} does not speak TLS (is it a plain http:// master?)"),
        }
    }
}
