//! The real transport: reqwest over HTTP/1.1 (`http://`, or `https://` with rustls, see
//! [`crate::tls`]), redirects off.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};

use super::transport::{Body, BoxFuture, HttpRequest, HttpResponse, Transport, TransportError};
use crate::tls::TlsConfig;

/// [`Transport`] over reqwest: HTTP/1.1 only (what libprocess speaks), no proxy, no automatic
/// redirects (the driver follows 307 itself to learn the leader). `https://` masters are
/// checked against the system's roots and the [`TlsConfig`]'s CAs; a certificate that fails
/// the check is a permanent [`TransportError`] ([`TransportError::is_permanent`]).
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// A client that gives up connecting after `connect_timeout`, trusting the system's roots.
    pub fn new(connect_timeout: Duration) -> Result<HttpTransport, TransportError> {
        HttpTransport::with_tls(connect_timeout, &TlsConfig::new())
    }

    /// A client that gives up connecting after `connect_timeout`, trusting the system's roots
    /// and the CAs of `tls`.
    pub fn with_tls(connect_timeout: Duration, tls: &TlsConfig) -> Result<HttpTransport, TransportError> {
        let client = crate::tls::client_builder(tls)
            .redirect(reqwest::redirect::Policy::none())
            .http1_only()
            .no_proxy()
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| TransportError::new(crate::util::error_chain(&e)))?;
        Ok(HttpTransport { client })
    }
}

impl Transport for HttpTransport {
    fn post(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, TransportError>> {
        let client = self.client.clone();
        Box::pin(async move {
            let mut builder = client
                .post(&request.url)
                .header(CONTENT_TYPE, request.content_type)
                .header(ACCEPT, request.accept)
                .body(request.body);
            if let Some(stream_id) = &request.stream_id {
                builder = builder.header("Mesos-Stream-Id", stream_id);
            }
            if let Some(authorization) = &request.authorization {
                builder = builder.header(AUTHORIZATION, authorization);
            }
            if let Some(timeout) = request.timeout {
                builder = builder.timeout(timeout);
            }
            let response = builder.send().await.map_err(|e| send_error(&e))?;
            let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
            Ok(HttpResponse {
                status: response.status().as_u16(),
                location: header(LOCATION.as_str()),
                stream_id: header("mesos-stream-id"),
                body: Box::new(ReqwestBody(response)),
            })
        })
    }
}

/// A request that got no answer: a permanent TLS failure (found in the error's source chain)
/// names the host; anything else is transient, with the whole chain as its message.
fn send_error(error: &reqwest::Error) -> TransportError {
    match crate::tls::failure_of(error) {
        Some(failure) => {
            let host = error.url().and_then(|url| url.host_str()).unwrap_or("the master");
            TransportError::tls(failure, host)
        }
        None => TransportError::new(crate::util::error_chain(error)),
    }
}

/// A reqwest response read with `chunk()`, which is cancel-safe (it polls the next frame).
struct ReqwestBody(reqwest::Response);

impl Body for ReqwestBody {
    fn chunk(&mut self) -> BoxFuture<'_, Result<Option<Bytes>, TransportError>> {
        Box::pin(async move { self.0.chunk().await.map_err(|e| TransportError::new(crate::util::error_chain(&e))) })
    }
}
