//! The accept loop shared by offerpack's HTTP servers (the simulated master, the artifact
//! server, the agent): accept TCP connections until told to stop, serve each with hyper's
//! HTTP/1 server on its own task (after a TLS handshake, when the server has TLS), and close
//! every connection when stopping.

use std::error::Error as StdError;
use std::time::Duration;

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;

/// How long to wait after a failed `accept` (out of file descriptors and the like) before
/// accepting again, so such a failure does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// What a server presents to TLS clients; never present without the `tls` feature.
#[cfg(feature = "tls")]
pub(crate) type Tls = Option<crate::tls::ServerTls>;
/// What a server presents to TLS clients; never present without the `tls` feature.
#[cfg(not(feature = "tls"))]
pub(crate) type Tls = Option<std::convert::Infallible>;

/// Serves connections from `listener` with a service from `service_for` each, until `stop`
/// fires or its sender is dropped; then aborts the open connections and waits for them.
/// A client going away mid-response ends its connection only, never the loop.
#[cfg_attr(not(any(feature = "artifacts", feature = "agent")), allow(dead_code))]
pub(crate) async fn accept_loop<S, B>(
    listener: TcpListener,
    stop: oneshot::Receiver<()>,
    service_for: impl FnMut() -> S,
) where
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    accept_loop_tls(listener, None, stop, service_for).await;
}

/// As [`accept_loop`], with TLS on every connection when `tls` is given. The handshake runs on
/// the connection's own task: a client that fails it (or never starts it) ends its own
/// connection only.
pub(crate) async fn accept_loop_tls<S, B>(
    listener: TcpListener,
    tls: Tls,
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
                connections.spawn(serve_connection(tcp, tls.clone(), service_for()));
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// Serves one connection, over TLS when `tls` is given.
async fn serve_connection<S, B>(tcp: TcpStream, tls: Tls, service: S)
where
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    match tls {
        None => {
            let _ = http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
        }
        #[cfg(feature = "tls")]
        Some(tls) => {
            if let Some(stream) = crate::tls::accept(&tls, tcp).await {
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            }
        }
        #[cfg(not(feature = "tls"))]
        Some(never) => match never {},
    }
}
