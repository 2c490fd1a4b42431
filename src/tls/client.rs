//! The client side: the rustls configuration reqwest is handed (ring, the system's roots plus
//! the configured CAs, HTTP/1.1 by ALPN) and the classification of handshake failures.

use std::error::Error as StdError;
use std::io;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::{CertificateError, DigitallySignedStruct, Error as RustlsError, InvalidMessage, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use super::{TlsConfig, TlsFailure};

/// The system's root certificates, read once per process (they are many files; nothing reads
/// them again per client or per connection).
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    // Unreadable system certificates leave the system's share empty: the configured CAs still
    // work, and a server signed by neither fails as an unknown issuer.
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The rustls client configuration for `tls`: ring, TLS 1.2 and 1.3, HTTP/1.1 by ALPN (what
/// libprocess speaks), no client certificate.
pub(crate) fn client_config(tls: &TlsConfig) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = base(&provider);
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(system_roots().iter().cloned());
    // Checked to parse when the TlsConfig was made.
    roots.add_parsable_certificates(tls.ca_certs.iter().cloned());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider)).build();
    let mut config = match verifier {
        Ok(verifier) => builder.with_webpki_verifier(verifier).with_no_client_auth(),
        // No root at all (no system store, no CA given): every server is of unknown issuer.
        Err(_) => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(NoRoots(provider))).with_no_client_auth()
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config
}

/// A reqwest client builder whose TLS is [`client_config`] of `tls`.
pub(crate) fn client_builder(tls: &TlsConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_backend_preconfigured(client_config(tls))
}

/// A reqwest client builder for plain HTTP peers: TLS with no trust anchor at all, so that
/// building it reads no certificate store (an `https://` URL fails as of unknown issuer).
pub(crate) fn plain_client_builder() -> reqwest::ClientBuilder {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config =
        base(&provider).dangerous().with_custom_certificate_verifier(Arc::new(NoRoots(provider))).with_no_client_auth();
    reqwest::Client::builder().tls_backend_preconfigured(config)
}

/// The start of every client configuration: ring, TLS 1.2 and 1.3.
fn base(provider: &Arc<CryptoProvider>) -> rustls::ConfigBuilder<rustls::ClientConfig, rustls::WantsVerifier> {
    rustls::ClientConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        // ring's provider has cipher suites and groups for both versions: a static fact.
        .expect("ring supports TLS 1.2 and 1.3")
}

/// The verifier when there are no trust anchors: it refuses every certificate as of unknown
/// issuer (what it is), and checks handshake signatures as usual.
#[derive(Debug)]
struct NoRoots(Arc<CryptoProvider>);

impl ServerCertVerifier for NoRoots {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, RustlsError> {
        Err(RustlsError::InvalidCertificate(CertificateError::UnknownIssuer))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, RustlsError> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The permanent TLS failure behind `error`, found by walking its source chain to a
/// `rustls::Error` (typed, no Display text is read); `None` for anything else, which may be
/// transient.
pub(crate) fn failure_of(error: &(dyn StdError + 'static)) -> Option<TlsFailure> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(tls) = error.downcast_ref::<RustlsError>() {
            return classify(tls);
        }
        // tokio-rustls reports a failed handshake as an `io::Error` wrapping the rustls error,
        // and connectors wrap that in another `io::Error`; `io::Error::source` skips the error
        // it wraps (it returns that one's source), so step into the wrapped error itself.
        next = match error.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(wrapped) => Some(wrapped as &(dyn StdError + 'static)),
            None => error.source(),
        };
    }
    None
}

/// The permanent failures among rustls' errors.
fn classify(error: &RustlsError) -> Option<TlsFailure> {
    use CertificateError as C;
    match error {
        RustlsError::InvalidCertificate(cert) => Some(match cert {
            C::UnknownIssuer => TlsFailure::UnknownIssuer,
            C::Expired | C::ExpiredContext { .. } => TlsFailure::Expired,
            C::NotValidYet | C::NotValidYetContext { .. } => TlsFailure::NotYetValid,
            C::NotValidForName | C::NotValidForNameContext { .. } => TlsFailure::WrongName,
            _ => TlsFailure::BadCertificate,
        }),
        // The first bytes back were no TLS record: a plain HTTP answer to the ClientHello.
        RustlsError::InvalidMessage(InvalidMessage::InvalidContentType | InvalidMessage::UnknownProtocolVersion) => {
            Some(TlsFailure::NotTls)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_of_finds_rustls_errors_through_io_errors() {
        let expired = RustlsError::InvalidCertificate(CertificateError::Expired);
        let io = io::Error::new(io::ErrorKind::InvalidData, expired);
        assert_eq!(failure_of(&io), Some(TlsFailure::Expired));
        // As a connector reports it: wrapped twice.
        let issuer = io::Error::other(RustlsError::InvalidCertificate(CertificateError::UnknownIssuer));
        assert_eq!(failure_of(&io::Error::other(issuer)), Some(TlsFailure::UnknownIssuer));
        let name = RustlsError::InvalidCertificate(CertificateError::NotValidForName);
        assert_eq!(failure_of(&name), Some(TlsFailure::WrongName));
        let plain = RustlsError::InvalidMessage(InvalidMessage::InvalidContentType);
        assert_eq!(failure_of(&io::Error::other(plain)), Some(TlsFailure::NotTls));
        assert_eq!(failure_of(&io::Error::from(io::ErrorKind::ConnectionRefused)), None);
        assert_eq!(failure_of(&RustlsError::DecryptError), None);
    }

    #[test]
    fn client_config_offers_http1_only() {
        let config = client_config(&TlsConfig::new());
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }
}
