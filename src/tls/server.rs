//! The server side: [`ServerTls`] (a certificate chain and its key) and the handshake the
//! shared accept loop runs on each connection.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::{certificates, read, TlsSetupError};

/// How long a client may take to start and finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// The first byte of a TLS connection: a handshake record (the ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;
/// What a client speaking plain HTTP to a TLS port is told.
const PLAIN_HTTP_ANSWER: &str = "This port speaks TLS: use https:// (the request came as plain HTTP)";
/// Bytes of a plain HTTP request read (and dropped) after answering it, so that closing does
/// not reset the connection before the client has read the answer.
const PLAIN_HTTP_DRAIN: u64 = 1 << 20;

/// What a TLS server presents: a certificate chain (leaf first) and its private key, checked
/// to match. Cheap to clone.
///
/// ```no_run
/// use offerpack::master::MasterConfig;
/// use offerpack::tls::ServerTls;
/// # fn main() -> Result<(), offerpack::tls::TlsSetupError> {
/// let mut config = MasterConfig::default();
/// config.tls = Some(ServerTls::from_pem_files("master.pem", "master-key.pem")?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    chain: Arc<[CertificateDer<'static>]>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").field("chain", &self.chain.len()).finish_non_exhaustive()
    }
}

/// Two are equal when they present the same chain.
impl PartialEq for ServerTls {
    fn eq(&self, other: &ServerTls) -> bool {
        self.chain == other.chain
    }
}

impl ServerTls {
    /// The chain of the PEM file `cert` and the private key (PKCS#8, PKCS#1 or SEC1) of the
    /// PEM file `key`.
    ///
    /// # Errors
    /// A file cannot be read or holds no certificate or key, or the key does not match the
    /// certificate.
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<ServerTls, TlsSetupError> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let chain = certificates(&read(cert, "certificate file")?).map_err(|e| e.in_file(cert, "certificate file"))?;
        let key_pem = read(key, "private key file")?;
        let key_der = private_key(&key_pem).map_err(|e| e.in_file(key, "private key file"))?;
        ServerTls::new(chain, key_der).map_err(|e| e.in_file(key, "private key file"))
    }

    /// As [`from_pem_files`](Self::from_pem_files), from PEM text.
    ///
    /// # Errors
    /// No certificate or key, or they do not match.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> Result<ServerTls, TlsSetupError> {
        ServerTls::new(certificates(cert)?, private_key(key)?)
    }

    fn new(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<ServerTls, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain.clone(), key))
            .map_err(|e| TlsSetupError::new(format!("unusable certificate or key: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls { config: Arc::new(config), chain: chain.into() })
    }
}

/// The first private key of `pem`.
fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, TlsSetupError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls_pki_types::pem::Error::NoItemsFound => TlsSetupError::new("no PEM PRIVATE KEY section"),
        e => TlsSetupError::new(format!("malformed PEM: {e}")),
    })
}

/// Runs the server side of the handshake on `tcp`; `None` when it fails or takes too long (the
/// connection is then closed). A client that sent plain HTTP is answered `400` first, so it
/// learns why.
pub(crate) async fn accept(tls: &ServerTls, tcp: TcpStream) -> Option<TlsStream<TcpStream>> {
    let mut first = [0u8; 1];
    match timeout(HANDSHAKE_TIMEOUT, tcp.peek(&mut first)).await {
        Ok(Ok(1)) if first[0] == TLS_HANDSHAKE_RECORD => {}
        Ok(Ok(1)) => {
            answer_plain_http(tcp).await;
            return None;
        }
        _ => return None,
    }
    let acceptor = TlsAcceptor::from(Arc::clone(&tls.config));
    timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await.ok()?.ok()
}

/// Answers a plain HTTP request on a TLS port with `400` and closes the connection.
async fn answer_plain_http(mut tcp: TcpStream) {
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        PLAIN_HTTP_ANSWER.len(),
        PLAIN_HTTP_ANSWER
    );
    if tcp.write_all(answer.as_bytes()).await.is_err() || tcp.shutdown().await.is_err() {
        return;
    }
    // Read what the client still sends until it closes (bounded in bytes and time): closing
    // with unread bytes would reset the connection and could lose the answer.
    let mut sink = tokio::io::sink();
    let _ = timeout(HANDSHAKE_TIMEOUT, tokio::io::copy(&mut (&mut tcp).take(PLAIN_HTTP_DRAIN), &mut sink)).await;
}
