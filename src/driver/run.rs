//! The driver task: one `select!` over the SUBSCRIBE request, the event stream, the calls in
//! flight, the command channel and the session's deadline; after each wake-up the session's
//! actions and updates are drained, and the calls allowed to start (see `calls.rs`) start.
//!
//! The driver decides no protocol policy: each request goes once to the endpoint its action
//! names, and its answer (a `307`, a `503` or a lost connection included) goes back to the
//! session, which chooses the master, follows redirects and retries with jittered backoff.
//! What the driver still decides is transport: how many calls are on the wire at once and in
//! which order they may start (`calls.rs`), timeouts, and the clock.

use std::collections::HashMap;
use std::future::{pending, poll_fn};
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::calls::{CallQueue, Lane};
use super::codec::basic_auth;
use super::exchange::{Exchange, Subscription};
use super::framework::{Command, FrameworkConfig, FrameworkHandle, StartError, Updates};
use super::observe::Observer;
use super::transport::{Body, BoxFuture, Transport, TransportError};
use crate::mesos::RecordIoDecoder;
use crate::session::{
    Action, CallId, CallKind, CallOutcome, Endpoint, OperatorQuery, QueryAnswer, Session, StopMode, Update, Warning,
    ZkUrl,
};

type CallFuture = BoxFuture<'static, CallOutcome>;
type QueryFuture = BoxFuture<'static, Result<QueryAnswer, CallOutcome>>;

/// The open event stream.
struct EventStream {
    body: Box<dyn Body>,
    decoder: RecordIoDecoder,
}

/// What woke the loop.
enum Wake {
    Subscription(Subscription),
    Chunk(Result<Option<Bytes>, TransportError>),
    CallDone(CallId, CallOutcome),
    QueryDone(Result<QueryAnswer, CallOutcome>),
    Command(Option<Command>),
    Leader(Option<Endpoint>),
    Timer,
}

/// Runs a [`Session`] against masters over a [`Transport`]. The only place that reads the clock:
/// `now` is the time since the driver was created (tokio's clock, so paused time works).
pub struct Driver {
    session: Session,
    exchange: Arc<Exchange>,
    commands: mpsc::UnboundedReceiver<Command>,
    commands_open: bool,
    updates: mpsc::UnboundedSender<Update>,
    start: Instant,
    subscribing: Option<BoxFuture<'static, Subscription>>,
    stream: Option<EventStream>,
    /// Calls queued and in flight, and which may start.
    calls: CallQueue,
    /// Where each queued call goes (the session's choice).
    targets: HashMap<CallId, Endpoint>,
    /// The requests of the calls in flight.
    requests: Vec<(CallId, CallFuture)>,
    /// The operator API read in flight (on its own request, beside the calls).
    query: Option<(CallId, QueryFuture)>,
    stopped: bool,
    /// The ZooKeeper group to detect the leader in, until `run` starts the detector.
    zookeeper: Option<ZkUrl>,
    /// The detector's reports (see `zk.rs`).
    leaders: Option<watch::Receiver<Option<Endpoint>>>,
    /// Logs and metrics of what happens (see `observe.rs`).
    observer: Observer,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("session", &self.session).finish_non_exhaustive()
    }
}

impl Driver {
    /// A driver for `config` over `transport`, with the handle and the update channel.
    pub fn new(
        config: FrameworkConfig,
        transport: Box<dyn Transport>,
    ) -> Result<(Driver, FrameworkHandle, Updates), StartError> {
        let authorization = match (&config.session.principal, &config.secret) {
            (Some(principal), Some(secret)) => Some(basic_auth(principal, secret.expose())),
            _ => None,
        };
        let exchange = Arc::new(Exchange {
            transport,
            encoding: config.encoding,
            authorization,
            call_timeout: config.call_timeout,
        });
        let mut session = Session::new(config.session_config()?).map_err(StartError::Config)?;
        let zookeeper = config.zookeeper()?;
        if zookeeper.is_some() {
            // No master is known to lead until the detector names one.
            session.handle_leader(None, std::time::Duration::ZERO);
        }
        let observer = Observer::new(
            config.session.framework_id.clone(),
            #[cfg(feature = "metrics")]
            config.metrics.clone(),
        );
        let (command_tx, commands) = mpsc::unbounded_channel();
        let (updates, update_rx) = mpsc::unbounded_channel();
        let driver = Driver {
            session,
            exchange,
            commands,
            commands_open: true,
            updates,
            start: Instant::now(),
            subscribing: None,
            stream: None,
            calls: CallQueue::new(config.calls_in_flight),
            targets: HashMap::new(),
            requests: Vec::new(),
            query: None,
            stopped: false,
            zookeeper,
            leaders: None,
            observer,
        };
        Ok((driver, FrameworkHandle { commands: command_tx }, update_rx))
    }

    /// Runs until the session stops.
    pub async fn run(mut self) {
        if let Some(url) = self.zookeeper.take() {
            self.leaders = Some(super::zk::spawn(url));
        }
        loop {
            {
                let span = self.observer.span();
                let _entered = span.enter();
                loop {
                    self.drain();
                    if self.stopped {
                        return;
                    }
                    if !self.start_calls() {
                        break;
                    }
                }
            }
            let wake = self.wait().await;
            let now = self.start.elapsed();
            self.observer.input();
            let span = self.observer.span();
            let _entered = span.enter();
            match wake {
                Wake::Subscription(result) => self.on_subscription(result),
                Wake::Chunk(chunk) => self.on_chunk(chunk),
                Wake::CallDone(id, outcome) => self.on_call_done(id, outcome),
                Wake::QueryDone(result) => {
                    if let Some((id, _)) = self.query.take() {
                        self.session.handle_query_result(id, result, now);
                    }
                }
                Wake::Command(Some(command)) => self.on_command(command),
                Wake::Command(None) => {
                    // Every handle is gone: nobody can stop us later, so stop now.
                    self.commands_open = false;
                    self.session.stop(StopMode::Failover);
                }
                Wake::Leader(leader) => {
                    self.observer.leader(leader.as_ref());
                    self.session.handle_leader(leader, now);
                }
                Wake::Timer => self.session.handle_timeout(now),
            }
        }
    }

    async fn wait(&mut self) -> Wake {
        let deadline = self.session.poll_timeout().and_then(|at| self.start.checked_add(at));
        let timer = async move {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => pending().await,
            }
        };
        // Biased: answers and timers before the stream, so a flood of events starves nothing,
        // and an answer that is in is never mistaken for one cut off by a disconnection.
        tokio::select! {
            biased;
            result = poll_slot(&mut self.subscribing) => {
                self.subscribing = None;
                Wake::Subscription(result)
            }
            (id, outcome) = poll_calls(&mut self.requests) => Wake::CallDone(id, outcome),
            result = poll_query(&mut self.query) => Wake::QueryDone(result),
            () = timer => Wake::Timer,
            leader = next_leader(&mut self.leaders) => Wake::Leader(leader),
            command = self.commands.recv(), if self.commands_open => Wake::Command(command),
            chunk = read_chunk(&mut self.stream) => Wake::Chunk(chunk),
        }
    }

    /// Carries out the session's actions, then forwards its updates.
    fn drain(&mut self) {
        while let Some(action) = self.session.poll_action() {
            match action {
                Action::Subscribe(call, endpoint) => {
                    self.observer.subscribing(&endpoint);
                    self.stream = None;
                    let body = self.exchange.encoding.encode_call(&call);
                    let exchange = Arc::clone(&self.exchange);
                    self.subscribing = Some(Box::pin(exchange.subscribe(endpoint, body)));
                }
                Action::Send(id, call, endpoint) => {
                    self.observer.call_out(id, CallKind::of(&call), &endpoint);
                    self.targets.insert(id, endpoint);
                    self.calls.push(id, Lane::of(&call), self.exchange.encoding.encode_call(&call));
                }
                Action::Query(id, query, endpoint) => self.start_query(id, query, endpoint),
                Action::Disconnect => self.disconnect(),
                Action::Stopped => self.stopped = true,
            }
        }
        while let Some(update) = self.session.poll_update() {
            let retry_in = match update {
                Update::Disconnected { .. } => {
                    let now = self.start.elapsed();
                    self.session.poll_timeout().map(|at| at.saturating_sub(now))
                }
                _ => None,
            };
            self.observer.update(&update, retry_in);
            // A user who dropped the receiver does not want updates; keep running regardless.
            let _ = self.updates.send(update);
        }
        self.observer.drained(self.session.offers_held());
    }

    /// Closes the stream and settles every call not answered yet.
    fn disconnect(&mut self) {
        self.stream = None;
        self.subscribing = None;
        let now = self.start.elapsed();
        self.requests.clear();
        self.targets.clear();
        let (in_flight, queued) = self.calls.clear();
        for id in in_flight {
            let outcome = CallOutcome::Unavailable("connection closed before the answer".into());
            self.observer.call_done(id, &outcome);
            self.session.handle_call_result(id, outcome, now);
        }
        for id in queued {
            self.observer.call_done(id, &CallOutcome::NotSent);
            self.session.handle_call_result(id, CallOutcome::NotSent, now);
        }
        if let Some((id, _)) = self.query.take() {
            self.session.handle_query_result(id, Err(CallOutcome::NotSent), now);
        }
    }

    /// Starts an operator API read at the endpoint the session named.
    fn start_query(&mut self, id: CallId, query: OperatorQuery, endpoint: Endpoint) {
        self.observer.query(id, &endpoint);
        let exchange = Arc::clone(&self.exchange);
        self.query = Some((id, Box::pin(exchange.query(endpoint, query))));
    }

    /// Starts every queued call allowed to start (see `calls.rs`): up to the configured number
    /// at once, a task's acknowledgements in order, barriers alone. True when some could not be
    /// sent (no stream): the session heard of it and may have more to do.
    fn start_calls(&mut self) -> bool {
        let mut settled = false;
        while let Some((id, body)) = self.calls.next_ready() {
            let endpoint = self.targets.remove(&id);
            let target = self.session.stream_id().map(str::to_owned).zip(endpoint);
            match target {
                Some((stream_id, endpoint)) => {
                    let exchange = Arc::clone(&self.exchange);
                    self.requests.push((id, Box::pin(exchange.call(endpoint, stream_id, body))));
                }
                None => {
                    self.calls.finished(id);
                    self.observer.call_done(id, &CallOutcome::NotSent);
                    self.session.handle_call_result(id, CallOutcome::NotSent, self.start.elapsed());
                    settled = true;
                }
            }
        }
        settled
    }

    fn on_subscription(&mut self, result: Subscription) {
        let now = self.start.elapsed();
        match result {
            Subscription::Open { stream_id, body } => {
                self.observer.stream_open(&stream_id);
                self.stream = Some(EventStream { body, decoder: RecordIoDecoder::new() });
                self.session.handle_subscribed(stream_id, now);
            }
            Subscription::Failed(outcome) => {
                self.observer.subscribe_failed(&outcome);
                self.session.handle_subscribe_failed(outcome, now);
            }
        }
    }

    fn on_chunk(&mut self, chunk: Result<Option<Bytes>, TransportError>) {
        let now = self.start.elapsed();
        let Some(stream) = self.stream.as_mut() else {
            return;
        };
        let bytes = match chunk {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return self.stream_lost(None),
            Err(error) => return self.stream_lost(Some(error.to_string())),
        };
        stream.decoder.push(&bytes);
        let mut records = Vec::new();
        let broken = loop {
            match stream.decoder.next_frame() {
                Ok(Some(record)) => records.push(record),
                Ok(None) => break None,
                Err(error) => break Some(error.to_string()),
            }
        };
        for record in records {
            if self.stream.is_none() {
                return;
            }
            self.observer.record_in(record.len());
            match self.exchange.encoding.decode_event(&record) {
                Ok(event) => {
                    self.observer.event(&event);
                    self.observer.input();
                    self.session.handle_event(event, now);
                }
                Err(error) => {
                    let _ = self.updates.send(Update::Warning(Warning::MalformedEvent(error)));
                }
            }
            self.drain();
        }
        if broken.is_some() && self.stream.is_some() {
            self.stream_lost(broken);
        }
    }

    /// The stream ended or broke: the session learns first (so nothing new is planned on it),
    /// then every pending call is settled.
    fn stream_lost(&mut self, error: Option<String>) {
        self.observer.stream_lost(error.as_deref());
        if let Some(error) = error {
            let _ = self.updates.send(Update::Warning(Warning::MalformedEvent(format!("event stream: {error}"))));
        }
        self.session.handle_disconnected(self.start.elapsed());
        self.disconnect();
    }

    fn on_call_done(&mut self, id: CallId, outcome: CallOutcome) {
        if !self.calls.finished(id) {
            return;
        }
        self.observer.call_done(id, &outcome);
        self.session.handle_call_result(id, outcome, self.start.elapsed());
    }

    fn on_command(&mut self, command: Command) {
        let now = self.start.elapsed();
        match command {
            Command::Submit(request, reply) => {
                let _ = reply.send(self.session.submit(*request, now));
            }
            Command::Kill(task, reply) => {
                let _ = reply.send(self.session.kill(&task, now));
            }
            Command::WhatIf(tasks, reply) => {
                let _ = reply.send(self.session.what_if(&tasks, now));
            }
            Command::Stop(mode) => self.session.stop(mode),
        }
    }
}

/// Awaits the future in `slot`, or never when it is empty. The caller empties the slot after.
async fn poll_slot<T>(slot: &mut Option<BoxFuture<'static, T>>) -> T {
    match slot {
        Some(future) => future.await,
        None => pending().await,
    }
}

/// The first call in flight to be answered, taken out of `requests`; never when none is in
/// flight. Cancel-safe: an answer is taken out only when it is returned.
async fn poll_calls(requests: &mut Vec<(CallId, CallFuture)>) -> (CallId, CallOutcome) {
    poll_fn(|cx| {
        let done = requests.iter_mut().enumerate().find_map(|(index, (id, future))| match future.as_mut().poll(cx) {
            Poll::Ready(outcome) => Some((index, *id, outcome)),
            Poll::Pending => None,
        });
        match done {
            Some((index, id, outcome)) => {
                drop(requests.swap_remove(index));
                Poll::Ready((id, outcome))
            }
            None => Poll::Pending,
        }
    })
    .await
}

async fn poll_query(slot: &mut Option<(CallId, QueryFuture)>) -> Result<QueryAnswer, CallOutcome> {
    match slot {
        Some((_, future)) => future.await,
        None => pending().await,
    }
}

/// The detector's next report; never without a detector or once it is gone.
async fn next_leader(leaders: &mut Option<watch::Receiver<Option<Endpoint>>>) -> Option<Endpoint> {
    let Some(receiver) = leaders else {
        return pending().await;
    };
    match receiver.changed().await {
        Ok(()) => receiver.borrow_and_update().clone(),
        Err(_) => pending().await,
    }
}

async fn read_chunk(stream: &mut Option<EventStream>) -> Result<Option<Bytes>, TransportError> {
    match stream {
        Some(stream) => stream.body.chunk().await,
        None => pending().await,
    }
}
