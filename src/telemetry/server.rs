//! [`MetricsServer`]: `GET /metrics` in the Prometheus text format, on the accept loop the
//! simulated master and the artifact server use.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{header, Method, Request, Response, StatusCode};
use prometheus_client::encoding::prometheus_text;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The path metrics are served at.
pub const METRICS_PATH: &str = "/metrics";

/// Serves a registry at `GET /metrics` (and `HEAD`) until shut down; every other path is a
/// 404. Each scrape encodes the registry anew, in the Prometheus text format 0.0.4.
///
/// ```no_run
/// use std::sync::Arc;
/// use prometheus_client::registry::Registry;
/// use offerpack::telemetry::{FrameworkMetrics, MetricsServer};
///
/// # async fn serve() -> std::io::Result<()> {
/// let metrics = FrameworkMetrics::new();
/// let mut registry = Registry::default();
/// metrics.register(&mut registry);
/// let server = MetricsServer::start("127.0.0.1:9100".parse().unwrap(), Arc::new(registry)).await?;
/// println!("scrape {}", server.url());
/// // ... run frameworks with `FrameworkConfig::metrics(metrics.clone())` ...
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `listen` (port 0 picks a free port) and serves `registry` on the current tokio
    /// runtime.
    pub async fn start(listen: SocketAddr, registry: Arc<Registry>) -> std::io::Result<MetricsServer> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(crate::http_shell::accept_loop(listener, stop_rx, move || {
            let registry = Arc::clone(&registry);
            service_fn(move |request| {
                let registry = Arc::clone(&registry);
                async move { Ok::<_, Infallible>(answer(&request, &registry)) }
            })
        }));
        tracing::info!(%addr, "serving metrics");
        Ok(MetricsServer { addr, stop: Some(stop), task })
    }

    /// The address it listens on (the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/metrics`.
    pub fn url(&self) -> String {
        format!("http://{}{METRICS_PATH}", self.addr)
    }

    /// Stops accepting, closes the open connections and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The answer to one request.
fn answer(request: &Request<Incoming>, registry: &Registry) -> Response<Full<Bytes>> {
    if request.uri().path() != METRICS_PATH {
        return plain(StatusCode::NOT_FOUND, String::new());
    }
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, String::new());
        response.headers_mut().insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let mut text = String::new();
    if prometheus_text::encode(&mut text, registry).is_err() {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot encode the metrics".to_owned());
    }
    tracing::trace!(bytes = text.len(), "metrics scraped");
    let mut response = plain(StatusCode::OK, if method == Method::HEAD { String::new() } else { text });
    let content_type = header::HeaderValue::from_static(prometheus_text::CONTENT_TYPE);
    response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    response
}

fn plain(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
