//! The executor's async shell: reqwest for the calls and the event stream, tokio processes for
//! the tasks, rustix for signals to process groups. The only place that reads the clock.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::mesos::v1::executor::{Call, Event};
use crate::mesos::RecordIoDecoder;

use super::core::{Action, CallOutcome, ExecutorCore, ExitReason, Note, ProcessExit, Signal};
use super::env::{EnvError, ExecutorEnv};
use super::process::ProcessSpec;
use super::updates::CallId;

/// The content type of every call and of the event stream.
const PROTOBUF: &str = "application/x-protobuf";

/// How long connecting to the agent may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a non-streaming call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the executor could not run.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExecutorError {
    /// The environment does not describe an executor.
    Env(EnvError),
    /// The runtime, the HTTP client or a signal handler could not be set up.
    Setup(String),
}

impl fmt::Display for ExecutorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecutorError::Env(e) => e.fmt(f),
            ExecutorError::Setup(why) => write!(f, "cannot start the executor: {why}"),
        }
    }
}

impl std::error::Error for ExecutorError {}

/// Reads the executor environment of this process and runs the executor until it exits,
/// logging to standard error. Builds its own single-threaded tokio runtime.
pub fn run_from_env() -> Result<ExitReason, ExecutorError> {
    let env = ExecutorEnv::from_process().map_err(ExecutorError::Env)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ExecutorError::Setup(e.to_string()))?;
    let seed = seed_from_clock();
    runtime.block_on(run(env, seed, |note| eprintln!("offerpack executor: {note}")))
}

/// A seed for the core's uuids and waits: the wall clock and the process id.
fn seed_from_clock() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    (nanos as u64) ^ (u64::from(std::process::id()) << 32)
}

/// What the shell's helper tasks report to its loop.
enum Input {
    /// The SUBSCRIBE of attempt `epoch` was answered (200 and the open stream) or failed.
    Subscribe { epoch: u64, result: Result<reqwest::Response, String> },
    /// An UPDATE call was answered.
    Answer { id: CallId, outcome: CallOutcome },
    /// A task's process ended.
    Exited { task_id: String, exit: ProcessExit },
}

/// The open event stream.
struct Stream {
    response: reqwest::Response,
    decoder: RecordIoDecoder,
}

/// Runs the executor described by `env` until it exits, handing every [`Note`] to `log`.
/// Returns why it exited; SIGTERM to this process acts as a SHUTDOWN.
pub async fn run(env: ExecutorEnv, seed: u64, mut log: impl FnMut(&Note)) -> Result<ExitReason, ExecutorError> {
    let client = client_builder()
        .http1_only()
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| ExecutorError::Setup(e.to_string()))?;
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| ExecutorError::Setup(format!("SIGTERM handler: {e}")))?;
    let url = env.api_url();
    let mut core = ExecutorCore::new(env, seed);
    let start = Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut shell = Shell { client, url, tx, epoch: 0, stream: None, start };
    loop {
        if let Some(reason) = shell.carry_out(&mut core) {
            while let Some(note) = core.poll_note() {
                log(&note);
            }
            return Ok(reason);
        }
        while let Some(note) = core.poll_note() {
            tracing::debug!(%note, "executor");
            log(&note);
        }
        let deadline = core.poll_timeout().map(|at| start + at);
        tokio::select! {
            Some(input) = rx.recv() => shell.input(&mut core, input),
            chunk = next_chunk(&mut shell.stream), if shell.stream.is_some() => shell.chunk(&mut core, chunk),
            () = sleep_until(deadline), if deadline.is_some() => core.handle_timeout(shell.now()),
            _ = sigterm.recv() => core.handle_stop(shell.now()),
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The next piece of the event stream (cancel-safe: `chunk` polls the next frame).
async fn next_chunk(stream: &mut Option<Stream>) -> Result<Option<Bytes>, String> {
    match stream {
        Some(stream) => stream.response.chunk().await.map_err(|e| crate::util::error_chain(&e)),
        None => std::future::pending().await,
    }
}

struct Shell {
    client: reqwest::Client,
    url: String,
    tx: mpsc::UnboundedSender<Input>,
    /// The current SUBSCRIBE attempt; answers to older ones are dropped.
    epoch: u64,
    stream: Option<Stream>,
    start: Instant,
}

impl Shell {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    /// Carries out the core's actions in order; `Some` when the executor is to exit.
    fn carry_out(&mut self, core: &mut ExecutorCore) -> Option<ExitReason> {
        while let Some(action) = core.poll_action() {
            match action {
                Action::Subscribe(call) => {
                    tracing::debug!(url = self.url.as_str(), "executor: subscribing to the agent");
                    self.subscribe(&call);
                }
                Action::Send { id, call } => self.send(id, &call),
                Action::Start { task_id, spec } => self.start_process(core, task_id, &spec),
                Action::Signal { pgid, signal, .. } => send_signal(pgid, signal),
                Action::Exit(reason) => return Some(reason),
            }
        }
        None
    }

    fn post(&self, call: &Call) -> reqwest::RequestBuilder {
        self.client.post(&self.url).header(CONTENT_TYPE, PROTOBUF).header(ACCEPT, PROTOBUF).body(call.encode_to_vec())
    }

    fn subscribe(&mut self, call: &Call) {
        self.stream = None;
        self.epoch += 1;
        let (epoch, request, tx) = (self.epoch, self.post(call), self.tx.clone());
        tokio::spawn(async move {
            let result = match request.send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    Err(format!("SUBSCRIBE answered {status}: {}", body.trim()))
                }
                Err(e) => Err(crate::util::error_chain(&e)),
            };
            let _ = tx.send(Input::Subscribe { epoch, result });
        });
    }

    fn send(&self, id: CallId, call: &Call) {
        let (request, tx) = (self.post(call).timeout(CALL_TIMEOUT), self.tx.clone());
        tokio::spawn(async move {
            let outcome = match request.send().await {
                Ok(response) if response.status().is_success() => CallOutcome::Accepted,
                Ok(response) => CallOutcome::Status(response.status().as_u16()),
                Err(e) => CallOutcome::Failed(crate::util::error_chain(&e)),
            };
            let _ = tx.send(Input::Answer { id, outcome });
        });
    }

    fn start_process(&self, core: &mut ExecutorCore, task_id: String, spec: &ProcessSpec) {
        let mut command = tokio::process::Command::new(&spec.program);
        if let Some(arg0) = &spec.arg0 {
            command.arg0(arg0);
        }
        command
            .args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&spec.cwd)
            .stdin(Stdio::null())
            .process_group(0);
        let child = command.spawn().and_then(|child| match child.id() {
            Some(pid) => Ok((child, pid)),
            None => Err(std::io::Error::other("the process ended before its id was read")),
        });
        match child {
            Err(e) => core.handle_spawn_failed(self.now(), &task_id, &e.to_string()),
            Ok((mut child, pid)) => {
                core.handle_process_started(self.now(), &task_id, pid);
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let exit = match child.wait().await {
                        Ok(status) => match (status.code(), status.signal()) {
                            (Some(code), _) => ProcessExit::Code(code),
                            (None, Some(signal)) => ProcessExit::Signal(signal),
                            (None, None) => ProcessExit::Code(-1),
                        },
                        // The child cannot be waited for: report it as failed.
                        Err(_) => ProcessExit::Code(-1),
                    };
                    let _ = tx.send(Input::Exited { task_id, exit });
                });
            }
        }
    }

    fn input(&mut self, core: &mut ExecutorCore, input: Input) {
        let now = self.now();
        match input {
            Input::Subscribe { epoch, .. } if epoch != self.epoch => {}
            Input::Subscribe { result: Ok(response), .. } => {
                self.stream = Some(Stream { response, decoder: RecordIoDecoder::new() });
                core.handle_stream_opened(now);
            }
            Input::Subscribe { result: Err(why), .. } => core.handle_subscribe_failed(now, why),
            Input::Answer { id, outcome } => core.handle_call_answered(now, id, outcome),
            Input::Exited { task_id, exit } => core.handle_process_exited(now, &task_id, exit),
        }
    }

    /// Feeds a piece of the stream to the decoder and its whole events to the core; a broken,
    /// ended or undecodable stream is a disconnection.
    fn chunk(&mut self, core: &mut ExecutorCore, chunk: Result<Option<Bytes>, String>) {
        let now = self.now();
        let Some(stream) = self.stream.as_mut() else { return };
        let bytes = match chunk {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return self.lose(core, "the event stream ended".to_owned()),
            Err(why) => return self.lose(core, why),
        };
        stream.decoder.push(&bytes);
        loop {
            let Some(stream) = self.stream.as_mut() else { return };
            let event = match stream.decoder.next_frame() {
                Ok(Some(frame)) => Event::decode(frame).map_err(|e| format!("undecodable event: {e}")),
                Ok(None) => return,
                Err(e) => Err(e.to_string()),
            };
            match event {
                Ok(event) => core.handle_event(now, event),
                Err(why) => return self.lose(core, why),
            }
        }
    }

    fn lose(&mut self, core: &mut ExecutorCore, why: String) {
        self.stream = None;
        core.handle_disconnected(self.now(), why);
    }
}

/// Sends `signal` to process group `pgid`; a group that is gone already is no error.
fn send_signal(pgid: u32, signal: Signal) {
    let signal = match signal {
        Signal::Term => rustix::process::Signal::TERM,
        Signal::Kill => rustix::process::Signal::KILL,
    };
    if let Some(pid) = i32::try_from(pgid).ok().and_then(rustix::process::Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pid, signal);
    }
}

/// The builder of the client for the agent's executor API (plain HTTP on the agent's host).
/// With TLS in the build, reqwest has no crypto provider of its own: the client gets one that
/// trusts no root (no certificate store is read for a plain HTTP client).
fn client_builder() -> reqwest::ClientBuilder {
    #[cfg(feature = "tls")]
    return crate::tls::plain_client_builder();
    #[cfg(not(feature = "tls"))]
    return reqwest::Client::builder();
}
