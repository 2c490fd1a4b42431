//! The recording HTTP proxy between the driver and the master, with the faults the master has no knob for.

use super::*;

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) upstream: String,
    pub(crate) log: Arc<Recorder>,
    pub(crate) client: reqwest::Client,
    pub(crate) open: Mutex<BTreeSet<u64>>,
    pub(crate) blackholed: Mutex<BTreeSet<u64>>,
    pub(crate) hold: watch::Sender<bool>,
    pub(crate) hold_answers: watch::Sender<bool>,
}

/// A recording HTTP/1.1 proxy in front of one master.
#[derive(Debug)]
pub struct Proxy {
    pub(crate) addr: SocketAddr,
    pub(crate) shared: Arc<Shared>,
    pub(crate) task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
    pub async fn start(name: &str, upstream: SocketAddr, log: &Arc<Recorder>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("proxy address");
        offerpack::tls::install_default_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            .tcp_nodelay(true)
            .build()
            .expect("proxy client");
        let shared = Arc::new(Shared {
            name: name.to_owned(),
            upstream: format!("http://{upstream}"),
            log: Arc::clone(log),
            client,
            open: Mutex::default(),
            blackholed: Mutex::default(),
            hold: watch::Sender::new(false),
            hold_answers: watch::Sender::new(false),
        });
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Proxy { addr, shared, task }
    }

    /// `host:port` of the proxy.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// `http://host:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Silences every stream open now: their bytes are read from the master and dropped (the
    /// connections stay up). Streams opened later pass. Returns how many were silenced.
    pub fn blackhole_open_streams(&self) -> usize {
        let open = self.shared.open.lock().unwrap().clone();
        let n = open.len();
        self.shared.blackholed.lock().unwrap().extend(open);
        n
    }

    /// Holds ACCEPT requests (logged on arrival, forwarded when released) while `on`.
    pub fn hold_accepts(&self, on: bool) {
        self.shared.hold.send_replace(on);
    }

    /// Holds the master's answers to ACCEPTs (the call is processed and its status logged; the
    /// driver gets the answer when released) while `on`.
    pub fn hold_accept_answers(&self, on: bool) {
        self.shared.hold_answers.send_replace(on);
    }
}

pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                let shared = Arc::clone(&shared);
                connections.spawn(async move {
                    let service = service_fn(move |request| forward(request, Arc::clone(&shared)));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(tcp), service).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

pub(crate) fn decode_call(content_type: Option<&str>, body: &[u8]) -> Option<Call> {
    match content_type {
        Some("application/json") => json::decode_call(body).ok(),
        Some("application/x-protobuf") => Call::decode(body).ok(),
        _ => None,
    }
}

pub(crate) async fn forward(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<ProxyBody>, Infallible> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let forwarded: Vec<(&'static str, String)> = ["content-type", "accept", "mesos-stream-id", "authorization"]
        .into_iter()
        .filter_map(|name| header(name).map(|v| (name, v)))
        .collect();
    let content_type = header("content-type");
    let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes()).expect("method");
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let c = decode_call(content_type.as_deref(), &body);
    let accept = c.as_ref().is_some_and(|c| CallKind::of(c) == CallKind::Accept);
    // Only scheduler API requests are logged (not `GET /version` and the like).
    let logged = path.ends_with("/scheduler");
    let index = logged.then(|| {
        shared.log.push(Entry::Request {
            proxy: shared.name.clone(),
            at: Instant::now(),
            call: c,
            status: None,
            location: None,
        })
    });
    // The rest runs in its own task: a request that arrived whole reaches the master and its
    // answer is logged even when the driver hangs up meanwhile (as a real server would process
    // it); the driver then just never hears the answer.
    let relay = relay(shared, index, accept, method, path, forwarded, body);
    Ok(tokio::spawn(relay).await.expect("relay task"))
}

/// Forwards one logged request to the master and turns the answer into the driver's response.
pub(crate) async fn relay(
    shared: Arc<Shared>,
    index: Option<usize>,
    accept: bool,
    method: reqwest::Method,
    path: String,
    forwarded: Vec<(&'static str, String)>,
    body: Bytes,
) -> Response<ProxyBody> {
    if accept {
        let mut held = shared.hold.subscribe();
        let _ = held.wait_for(|on| !*on).await;
    }
    let mut upstream = shared.client.request(method, format!("{}{path}", shared.upstream)).body(body);
    for (name, value) in &forwarded {
        upstream = upstream.header(*name, value);
    }
    let response = match upstream.send().await {
        Ok(response) => response,
        Err(error) => {
            if let Some(i) = index {
                shared.log.answered(i, 502, None);
            }
            return plain(502, Some(format!("proxy: {error}")), &[]);
        }
    };
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let location = header("location");
    let stream_id = header("mesos-stream-id");
    let response_type = header("content-type");
    if let Some(i) = index {
        shared.log.answered(i, status, location.clone());
    }
    if accept {
        let mut held = shared.hold_answers.subscribe();
        let _ = held.wait_for(|on| !*on).await;
    }
    let mut headers: Vec<(&'static str, String)> = Vec::new();
    for (name, value) in [("location", &location), ("mesos-stream-id", &stream_id), ("content-type", &response_type)] {
        if let Some(value) = value {
            headers.push((name, value.clone()));
        }
    }
    match (status, stream_id) {
        (200, Some(stream_id)) => {
            let stream = shared.log.next_stream.fetch_add(1, Ordering::Relaxed);
            shared.open.lock().unwrap().insert(stream);
            shared.log.push(Entry::StreamOpen { proxy: shared.name.clone(), stream, stream_id, at: Instant::now() });
            let (tx, rx) = mpsc::unbounded_channel();
            let json = response_type.as_deref() == Some("application/json");
            tokio::spawn(pump(shared, stream, response, json, tx));
            let mut answer = Response::new(ProxyBody::Stream { rx, failing: None });
            for (name, value) in headers {
                answer.headers_mut().insert(name, value.parse().expect("header value"));
            }
            answer
        }
        _ => {
            let bytes = response.bytes().await.unwrap_or_default();
            let mut answer = plain(status, None, &headers);
            *answer.body_mut() = ProxyBody::Full((!bytes.is_empty()).then_some(bytes));
            answer
        }
    }
}

pub(crate) fn plain(status: u16, text: Option<String>, headers: &[(&'static str, String)]) -> Response<ProxyBody> {
    let mut response = Response::new(ProxyBody::Full(text.map(Bytes::from)));
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
    for (name, value) in headers {
        response.headers_mut().insert(*name, value.parse().expect("header value"));
    }
    response
}

/// Copies one event stream from the master to the driver, logging each whole record before its
/// bytes go on. A broken upstream breaks the downstream connection too (no final chunk); a
/// driver that hangs up makes the proxy hang up on the master.
pub(crate) async fn pump(
    shared: Arc<Shared>,
    stream: u64,
    mut upstream: reqwest::Response,
    json: bool,
    tx: mpsc::UnboundedSender<Result<Bytes, io::Error>>,
) {
    let mut decoder = RecordIoDecoder::new();
    let end = |broken: bool, partial: bool, by_client: bool| {
        shared.open.lock().unwrap().remove(&stream);
        let proxy = shared.name.clone();
        shared.log.push(Entry::StreamEnd { proxy, stream, broken, partial, by_client, at: Instant::now() });
    };
    loop {
        let chunk = tokio::select! {
            biased;
            () = tx.closed() => return end(false, !decoder.is_idle(), true),
            chunk = upstream.chunk() => chunk,
        };
        match chunk {
            Ok(Some(bytes)) => {
                if shared.blackholed.lock().unwrap().contains(&stream) {
                    continue;
                }
                decoder.push(&bytes);
                while let Ok(Some(record)) = decoder.next_frame() {
                    let event = if json {
                        json::decode_event(&record).expect("the master's JSON event decodes")
                    } else {
                        Event::decode(record.as_ref()).expect("the master's protobuf event decodes")
                    };
                    shared.log.push(Entry::Event { proxy: shared.name.clone(), stream, event, at: Instant::now() });
                }
                if tx.send(Ok(bytes)).is_err() {
                    return end(false, !decoder.is_idle(), true);
                }
            }
            Ok(None) => return end(false, !decoder.is_idle(), false),
            Err(error) => {
                end(true, !decoder.is_idle(), false);
                let _ = tx.send(Err(io::Error::new(io::ErrorKind::ConnectionAborted, error.to_string())));
                return;
            }
        }
    }
}

/// A response body: whole, or an event stream fed by [`pump`].
pub(crate) enum ProxyBody {
    Full(Option<Bytes>),
    Stream { rx: mpsc::UnboundedReceiver<Result<Bytes, io::Error>>, failing: Option<io::Error> },
}

impl hyper::body::Body for ProxyBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ProxyBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ProxyBody::Stream { rx, failing } => {
                if let Some(error) = failing.take() {
                    return Poll::Ready(Some(Err(error)));
                }
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(Ok(bytes))) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                    Poll::Ready(Some(Err(error))) => {
                        // As the master does: yield once so hyper flushes the bytes it holds
                        // (half a record, after a mid-record cut), then fail, which makes hyper
                        // drop the connection without the final chunk.
                        *failing = Some(error);
                        cx.waker().wake_by_ref();
                        Poll::Pending
                    }
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ProxyBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ProxyBody::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            ProxyBody::Stream { .. } => SizeHint::default(),
        }
    }
}
