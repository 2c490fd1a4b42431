//! The HTTP shell: hyper 1 HTTP/1.1 on a tokio `TcpListener`. Every decision is made by the
//! sans-IO `http` module; this file reads request headers, opens files, checks that a file is
//! still the one registered, and streams it.

use std::convert::Infallible;
use std::fs::File;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use url::Url;

use super::body::ArtifactBody;
use super::http::{self, Body, PREFIX};
use super::registry::{Artifact, Source};
use super::{ArtifactError, ArtifactSettings, Artifacts};

/// The artifact server: start one with [`ArtifactServer::start`].
#[derive(Debug)]
pub struct ArtifactServer;

impl ArtifactServer {
    /// Checks `settings` alone ([`ArtifactSettings::validate_standalone`]; check them against
    /// the master URL with [`ArtifactSettings::validate`] first), binds `settings.bind` and
    /// serves `artifacts` in background tasks of the current tokio runtime until
    /// [`RunningServer::shutdown`] or until the handle is dropped.
    pub async fn start(settings: ArtifactSettings, artifacts: Artifacts) -> Result<RunningServer, ArtifactError> {
        settings.validate_standalone()?;
        let bind_error = |source| ArtifactError::Bind { addr: settings.bind, source };
        let listener = TcpListener::bind(settings.bind).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let mut base = settings.advertised_base(addr);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let artifacts = Arc::new(artifacts);
        let (stop, stop_rx) = oneshot::channel();
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(listener, Arc::clone(&artifacts), stop_rx));
        tracing::info!(%addr, advertised = base.as_str(), "artifact server listening");
        Ok(RunningServer { addr, base, artifacts, stop: Some(stop), tasks })
    }
}

/// A running artifact server: its address, the URLs to hand out, and shutdown. Dropping it
/// stops the server too.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    base: Url,
    artifacts: Arc<Artifacts>,
    stop: Option<oneshot::Sender<()>>,
    tasks: JoinSet<()>,
}

impl RunningServer {
    /// The address listened on (the real port when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The advertised base URL, ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The URL agents fetch artifact `name` from: the advertised base joined with
    /// `artifacts/<name>`; `None` when no such artifact is registered.
    pub fn url_for(&self, name: &str) -> Option<Url> {
        self.artifacts.get(name)?;
        self.base.join(&format!("{}{name}", &PREFIX[1..])).ok()
    }

    /// The artifacts served.
    pub fn artifacts(&self) -> &Artifacts {
        &self.artifacts
    }

    /// Stops accepting, closes every connection and waits for the server's tasks to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        while self.tasks.join_next().await.is_some() {}
    }

    /// Serves until the process ends (the server never stops by itself).
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn accept_loop(listener: TcpListener, artifacts: Arc<Artifacts>, stop: oneshot::Receiver<()>) {
    crate::http_shell::accept_loop(listener, stop, move || {
        let artifacts = Arc::clone(&artifacts);
        service_fn(move |request| serve(request, Arc::clone(&artifacts)))
    })
    .await;
}

/// One request: the decision from `http::respond`, then the bytes it names.
async fn serve(request: Request<Incoming>, artifacts: Arc<Artifacts>) -> Result<Response<ArtifactBody>, Infallible> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let ask = http::Request {
        method: request.method().as_str(),
        path: request.uri().path(),
        if_none_match: header("if-none-match"),
        if_range: header("if-range"),
        range: header("range"),
    };
    let decision = http::respond(&artifacts, &ask);
    tracing::debug!(method = ask.method, path = ask.path, status = decision.status, "artifact request");
    let Body::Artifact { ref name, start, len } = decision.body else {
        let body = body_of(&decision);
        return Ok(build(decision, body));
    };
    let found = match artifacts.get(name) {
        Some(artifact) => artifact_body(artifact, start, len).await,
        None => Err("artifact vanished\n".to_owned()),
    };
    match found {
        Ok(body) => Ok(build(decision, body)),
        Err(message) => {
            let failure = http::Response::text(500, message);
            let body = body_of(&failure);
            Ok(build(failure, body))
        }
    }
}

/// The body of a text or empty decision.
fn body_of(response: &http::Response) -> ArtifactBody {
    match &response.body {
        Body::Text(text) => ArtifactBody::full(Bytes::from(text.clone())),
        _ => ArtifactBody::Full(None),
    }
}

/// `len` bytes of `artifact` from `start`: a slice of its bytes, or its file streamed after
/// checking the file is still the one registered (else a message for a 500).
async fn artifact_body(artifact: &Artifact, start: u64, len: u64) -> Result<ArtifactBody, String> {
    let path = match artifact.source() {
        Source::Bytes(bytes) => {
            let (from, to) = (usize::try_from(start), usize::try_from(start + len));
            return match (from, to) {
                (Ok(from), Ok(to)) if to <= bytes.len() => Ok(ArtifactBody::full(bytes.slice(from..to))),
                _ => Err("artifact range out of bounds\n".to_owned()),
            };
        }
        Source::File { path, .. } => path.clone(),
    };
    let artifact = artifact.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let file = File::open(&path).map_err(|e| format!("cannot open artifact file: {e}\n"))?;
        let meta = file.metadata().map_err(|e| format!("cannot read artifact file: {e}\n"))?;
        if !artifact.unchanged(meta.len(), meta.modified().ok()) {
            return Err("artifact changed since registration: refusing to serve bytes that may not match its \
                        SHA-256\n"
                .to_owned());
        }
        Ok(file)
    })
    .await
    .map_err(|e| format!("artifact reader failed: {e}\n"))??;
    Ok(ArtifactBody::stream(opened, start, len))
}

/// A hyper response from a decision and its body.
fn build(decision: http::Response, body: ArtifactBody) -> Response<ArtifactBody> {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(decision.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in decision.headers {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    response
}
