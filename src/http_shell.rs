//! The accept loop shared by offerpack's HTTP servers (the simulated master, the artifact
//! server): accept TCP connections until told to stop, serve each with hyper's HTTP/1 server on
//! its own task, and close every connection when stopping.

use std::error::Error as StdError;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// How long to wait after a failed `accept` (out of file descriptors and the like) before
/// accepting again, so such a failure does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Serves connections from `listener` with a service from `service_for` each, until `stop`
/// fires or its sender is dropped; then aborts the open connections and waits for them.
/// A client going away mid-response ends its connection only, never the loop.
pub(crate) async fn accept_loop<S, B>(
    listener: TcpListener,
    mut stop: oneshot::Receiver<()>,
    mut service_for: impl FnMut() -> S,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((tcp, _peer)) = accepted else {
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                };
                let service = service_for();
                connections.spawn(async move {
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}
