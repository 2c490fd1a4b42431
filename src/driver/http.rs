//! The real transport: reqwest over plain HTTP/1.1, redirects off.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};

use super::transport::{Body, BoxFuture, HttpRequest, HttpResponse, Transport, TransportError};

/// [`Transport`] over reqwest: HTTP/1.1 only (what libprocess speaks), no proxy, no automatic
/// redirects (the driver follows 307 itself to learn the leader).
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// A client that gives up connecting after `connect_timeout`.
    pub fn new(connect_timeout: Duration) -> Result<HttpTransport, TransportError> {
        let client = reqwest::Client::builder()
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
            let response = builder.send().await.map_err(|e| TransportError::new(crate::util::error_chain(&e)))?;
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

/// A reqwest response read with `chunk()`, which is cancel-safe (it polls the next frame).
struct ReqwestBody(reqwest::Response);

impl Body for ReqwestBody {
    fn chunk(&mut self) -> BoxFuture<'_, Result<Option<Bytes>, TransportError>> {
        Box::pin(async move { self.0.chunk().await.map_err(|e| TransportError::new(crate::util::error_chain(&e))) })
    }
}
