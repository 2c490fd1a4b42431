//! The agent's HTTP server: `POST /api/v1/executor` (also `/slave(1)/api/v1/executor`) handed
//! to the shell's loop, and `GET /metrics/snapshot` (fetcher figures, flat JSON object).

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use hyper::{header, Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::executor_api::ExecutorRequest;
use super::fetch_io::Fetcher;

/// Largest executor call body accepted.
const MAX_BODY: usize = 16 << 20;

/// An executor API request for the shell's loop, with where to send the answer.
pub(super) struct ExecutorCall {
    pub(super) request: ExecutorRequest,
    pub(super) reply: oneshot::Sender<Response<AgentBody>>,
}

/// A response body: whole, or a SUBSCRIBE stream fed by the loop.
pub(super) enum AgentBody {
    Full(Option<Bytes>),
    Stream { rx: mpsc::UnboundedReceiver<Bytes>, id: u64, gone: mpsc::UnboundedSender<u64> },
}

impl Drop for AgentBody {
    fn drop(&mut self) {
        if let AgentBody::Stream { id, gone, .. } = self {
            let _ = gone.send(*id);
        }
    }
}

impl Body for AgentBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            AgentBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            AgentBody::Stream { rx, .. } => rx.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, AgentBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            AgentBody::Full(b) => SizeHint::with_exact(b.as_ref().map_or(0, |b| b.len() as u64)),
            AgentBody::Stream { .. } => SizeHint::default(),
        }
    }
}

/// A plain response with a text body.
pub(super) fn plain(status: StatusCode, text: impl Into<String>) -> Response<AgentBody> {
    let text = text.into();
    let mut response = Response::new(AgentBody::Full((!text.is_empty()).then(|| Bytes::from(text))));
    *response.status_mut() = status;
    response
}

/// What the server shares with the loop.
#[derive(Clone)]
pub(super) struct ServerState {
    pub(super) calls: mpsc::UnboundedSender<ExecutorCall>,
    pub(super) fetcher: Fetcher,
    pub(super) registered: Arc<AtomicBool>,
}

/// Serves until `stop` fires.
pub(super) async fn serve(listener: TcpListener, stop: oneshot::Receiver<()>, state: ServerState) {
    crate::http_shell::accept_loop(listener, stop, move || {
        let state = state.clone();
        service_fn(move |request| handle(request, state.clone()))
    })
    .await;
}

async fn handle(request: Request<Incoming>, state: ServerState) -> Result<Response<AgentBody>, Infallible> {
    let path = request.uri().path().to_owned();
    if path == "/metrics/snapshot" {
        return Ok(metrics(request.method(), &state));
    }
    if path != "/api/v1/executor" && path != "/slave(1)/api/v1/executor" {
        return Ok(plain(StatusCode::NOT_FOUND, ""));
    }
    let header = |name: header::HeaderName| {
        request.headers().get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let (content_type, accept) = (header(header::CONTENT_TYPE), header(header::ACCEPT));
    let is_post = request.method() == Method::POST;
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => return Ok(plain(StatusCode::BAD_REQUEST, "Failed to read the request body")),
    };
    let (reply, answer) = oneshot::channel();
    let request = ExecutorRequest { is_post, content_type, accept, body };
    if state.calls.send(ExecutorCall { request, reply }).is_err() {
        return Ok(plain(StatusCode::SERVICE_UNAVAILABLE, "Agent is shutting down"));
    }
    Ok(answer.await.unwrap_or_else(|_| plain(StatusCode::SERVICE_UNAVAILABLE, "Agent is shutting down")))
}

/// `GET /metrics/snapshot`: one flat JSON object of name → number, keys sorted.
fn metrics(method: &Method, state: &ServerState) -> Response<AgentBody> {
    if method != Method::GET {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "");
    }
    let mut pairs: Vec<(&str, f64)> =
        state.fetcher.metrics().named().into_iter().map(|(name, value)| (name, value as f64)).collect();
    pairs.push(("slave/registered", if state.registered.load(Ordering::Relaxed) { 1.0 } else { 0.0 }));
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let fields: Vec<String> = pairs.iter().map(|(k, v)| format!("\"{k}\":{v:?}")).collect();
    let mut response = plain(StatusCode::OK, format!("{{{}}}", fields.join(",")));
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}
