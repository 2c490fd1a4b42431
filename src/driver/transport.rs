//! The transport seam: one HTTP POST with a streamed response body. The reqwest implementation
//! is [`HttpTransport`](super::HttpTransport); tests plug in a fake master held in memory.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;

use crate::tls::TlsFailure;

/// A boxed, sendable future (the transport trait is object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One POST to the scheduler endpoint. `Debug` leaves the `Authorization` value out.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The full URL, e.g. `http://10.0.0.1:5050/api/v1/scheduler`.
    pub url: String,
    /// `Content-Type` (exactly `application/x-protobuf` or `application/json`).
    pub content_type: &'static str,
    /// `Accept`, the same type.
    pub accept: &'static str,
    /// `Mesos-Stream-Id`, on every call but SUBSCRIBE.
    pub stream_id: Option<String>,
    /// `Authorization` header value, when credentials are configured.
    pub authorization: Option<String>,
    /// The encoded `Call`.
    pub body: Bytes,
    /// Timeout for the whole exchange (calls); `None` for the streaming SUBSCRIBE.
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("url", &self.url)
            .field("content_type", &self.content_type)
            .field("accept", &self.accept)
            .field("stream_id", &self.stream_id)
            .field("authorization", &self.authorization.as_ref().map(|_| "<redacted>"))
            .field("body", &self.body)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The answer: status, the headers the protocol needs, and the body as a stream of chunks.
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// `Location` (for 307 redirects).
    pub location: Option<String>,
    /// `Mesos-Stream-Id` (on the 200 answer to SUBSCRIBE).
    pub stream_id: Option<String>,
    /// The body, read chunk by chunk.
    pub body: Box<dyn Body>,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("location", &self.location)
            .field("stream_id", &self.stream_id)
            .finish_non_exhaustive()
    }
}

/// A response body read incrementally.
pub trait Body: Send {
    /// The next chunk; `Ok(None)` at the end. Must be cancel-safe: dropping the returned future
    /// before it completes loses no bytes (the driver polls it inside `select!`).
    fn chunk(&mut self) -> BoxFuture<'_, Result<Option<Bytes>, TransportError>>;
}

/// Sends HTTP POSTs. Implementations must not follow redirects: the driver handles 307 itself
/// to learn the leading master.
pub trait Transport: Send + Sync + 'static {
    /// Sends one request; resolves when the status and headers are in.
    fn post(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, TransportError>>;
}

/// A request that got no HTTP answer (connection refused or reset, timeout, bad URL, failed
/// TLS handshake). [`TransportError::kind`] tells whether asking again may help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransportError {
    message: String,
    kind: TransportErrorKind,
}

/// What kind of failure a [`TransportError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// Refused, reset, timed out, unresolved…: asking again (later, or another master) may work.
    Transient,
    /// The TLS handshake failed in a way asking again cannot fix (an untrusted, expired or
    /// misnamed certificate; a server that does not speak TLS).
    Tls(TlsFailure),
}

impl TransportError {
    /// A transient error with this explanation.
    pub fn new(message: impl Into<String>) -> TransportError {
        TransportError { message: message.into(), kind: TransportErrorKind::Transient }
    }

    /// A permanent TLS failure connecting to `host`, explained in one line.
    pub fn tls(failure: TlsFailure, host: &str) -> TransportError {
        TransportError { message: failure.describe(host), kind: TransportErrorKind::Tls(failure) }
    }

    /// The explanation.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether asking again would fail the same way (so the request is not retried).
    pub fn is_permanent(&self) -> bool {
        !matches!(self.kind, TransportErrorKind::Transient)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

/// Reads at most `limit` bytes of a body as text (for error messages).
pub(crate) async fn read_text(body: &mut dyn Body, limit: usize) -> String {
    let mut text = Vec::new();
    while text.len() < limit {
        match body.chunk().await {
            Ok(Some(chunk)) => text.extend_from_slice(&chunk[..chunk.len().min(limit - text.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&text).trim().to_owned()
}
