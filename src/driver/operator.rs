//! A client of the master's v1 operator API: [`OperatorClient`] (see its docs).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use prost::Message as _;

use super::codec::basic_auth;
use super::transport::{read_text, Body, HttpRequest, Transport, TransportError};
use super::{Encoding, HttpTransport};
use crate::mesos::v1::master::{call, response, Call, Response};
use crate::mesos::{agent_host, json, task_placement, ConvertError, TaskPlacement};
use crate::model::{AgentId, Attributes};
use crate::session::holds_resources;
use crate::session::{Endpoint, EndpointError};

pub use crate::session::OPERATOR_PATH;

/// Redirects followed in a row before giving up (a loop between confused masters).
const MAX_REDIRECTS: u32 = 5;
/// Bytes of an error body kept as its message.
const ERROR_TEXT_LIMIT: usize = 4096;
/// Largest response body read (GET_TASKS of a big cluster runs to tens of MiB).
const MAX_RESPONSE: usize = 1 << 30;
/// Default time for one whole request, body included.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time to establish a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an operator call gave no usable answer.
#[derive(Debug)]
#[non_exhaustive]
pub enum OperatorError {
    /// The master address cannot be used.
    Endpoint(EndpointError),
    /// No HTTP answer: connection refused or reset, timeout (or the HTTP client could not be
    /// built).
    Transport(TransportError),
    /// An answer other than `200 OK` (a `307` only when redirects ran out or named no host).
    Status {
        /// The HTTP status code.
        status: u16,
        /// The body text (the master's reason), at most 4 KiB.
        message: String,
    },
    /// A `200 OK` whose body is not the expected `Response`.
    Malformed(String),
    /// An agent or task in the answer does not convert (see [`agent_host`], [`task_placement`]).
    Convert(ConvertError),
}

impl fmt::Display for OperatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Endpoint(e) => write!(f, "operator API: {e}"),
            Self::Transport(e) => write!(f, "operator API: no answer: {e}"),
            Self::Status { status, message } => write!(f, "operator API answered {status}: {message}"),
            Self::Malformed(why) => write!(f, "operator API: malformed response: {why}"),
            Self::Convert(e) => write!(f, "operator API: {e}"),
        }
    }
}

impl std::error::Error for OperatorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Endpoint(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::Convert(e) => Some(e),
            Self::Status { .. } | Self::Malformed(_) => None,
        }
    }
}

/// One registered agent as GET_AGENTS reports it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct AgentSummary {
    /// The agent id.
    pub id: AgentId,
    /// Its hostname (what its offers carry as `hostname`).
    pub hostname: Arc<str>,
    /// Its attributes, converted exactly as its offers' are.
    pub attributes: Attributes,
    /// Whether the master counts it as active.
    pub active: bool,
}

/// A client of a master's v1 operator API (`POST /api/v1`, `mesos.v1.master.Call` in,
/// `mesos.v1.master.Response` out): what a framework reads after a failover to learn every
/// agent's hostname and attributes, and the tasks the master knows.
///
/// It goes through the same [`Transport`] as the scheduler driver (reqwest by default,
/// redirects off) and follows a non-leading master's `307` to the leader by hand, remembering
/// it for the next call, as the scheduler driver does. Every call is one request: a `503` (no
/// leader elected, recovering) comes back as an error for the caller to retry.
///
/// ```no_run
/// use offerpack::driver::OperatorClient;
///
/// # async fn run() -> Result<(), offerpack::driver::OperatorError> {
/// let mut operator = OperatorClient::new("10.0.0.1:5050")?;
/// for agent in operator.get_agents().await? {
///     println!("{} {} rack={:?}", agent.id, agent.hostname, agent.attributes.get("rack").map(|v| v.as_str()));
/// }
/// # Ok(())
/// # }
/// ```
pub struct OperatorClient {
    transport: Box<dyn Transport>,
    master: Endpoint,
    encoding: Encoding,
    authorization: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for OperatorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorClient")
            .field("url", &self.url())
            .field("encoding", &self.encoding)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl OperatorClient {
    /// A client of the master at `master` (`host:port`, `http://host:port` or
    /// `https://host:port`; any path is ignored, the operator API lives at [`OPERATOR_PATH`])
    /// over reqwest, protobuf-encoded, with a 10 s connect timeout and a 60 s timeout per call.
    /// `https` masters are checked against the system's roots; for other CAs, build the client
    /// with [`with_transport`](Self::with_transport) and [`HttpTransport::with_tls`].
    ///
    /// # Errors
    /// [`OperatorError::Endpoint`] for an unusable address, [`OperatorError::Transport`] when
    /// the HTTP client cannot be built.
    pub fn new(master: &str) -> Result<OperatorClient, OperatorError> {
        let transport = HttpTransport::new(CONNECT_TIMEOUT).map_err(OperatorError::Transport)?;
        OperatorClient::with_transport(master, transport)
    }

    /// A client sending through `transport` (e.g. one shared with tests or a custom stack).
    ///
    /// # Errors
    /// [`OperatorError::Endpoint`] for an unusable address.
    pub fn with_transport(master: &str, transport: impl Transport) -> Result<OperatorClient, OperatorError> {
        let master = Endpoint::parse(master).map_err(OperatorError::Endpoint)?;
        Ok(OperatorClient {
            transport: Box::new(transport),
            master,
            encoding: Encoding::Protobuf,
            authorization: None,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Speaks `encoding` (`Content-Type` and `Accept`); protobuf by default.
    pub fn encoding(mut self, encoding: Encoding) -> OperatorClient {
        self.encoding = encoding;
        self
    }

    /// Sends `Authorization: Basic …` with every call (for `--authenticate_http_readwrite`).
    pub fn credentials(mut self, principal: &str, secret: &str) -> OperatorClient {
        self.authorization = Some(basic_auth(principal, secret));
        self
    }

    /// The time one call may take, answer body included.
    pub fn timeout(mut self, timeout: Duration) -> OperatorClient {
        self.timeout = timeout;
        self
    }

    /// The URL calls go to: the configured master's, or the leader a redirect named.
    pub fn url(&self) -> String {
        operator_url(&self.master)
    }

    /// Sends one call and decodes the `200 OK` answer, following `307` redirects (up to 5 in a
    /// row) to the leader, which later calls then go to.
    ///
    /// # Errors
    /// [`OperatorError::Transport`] without an answer, [`OperatorError::Status`] for any other
    /// status (with the master's text), [`OperatorError::Malformed`] for a body that does not
    /// decode.
    pub async fn call(&mut self, c: &Call) -> Result<Response, OperatorError> {
        let body = encode_call(self.encoding, c);
        let mut redirects = 0;
        loop {
            let request = HttpRequest {
                url: self.url(),
                content_type: self.encoding.content_type(),
                accept: self.encoding.content_type(),
                stream_id: None,
                authorization: self.authorization.clone(),
                body: body.clone(),
                timeout: Some(self.timeout),
            };
            let mut answer = self.transport.post(request).await.map_err(OperatorError::Transport)?;
            if answer.status == 307 && redirects < MAX_REDIRECTS {
                if let Some(leader) = answer.location.as_deref().and_then(|l| self.master.redirect(l)) {
                    self.master = leader;
                    redirects += 1;
                    continue;
                }
            }
            if answer.status != 200 {
                let message = read_text(answer.body.as_mut(), ERROR_TEXT_LIMIT).await;
                return Err(OperatorError::Status { status: answer.status, message });
            }
            return read_response(self.encoding, answer.body.as_mut()).await;
        }
    }

    /// GET_AGENTS: every registered agent with its id, hostname and attributes (converted as
    /// offers' are, see [`agent_host`]).
    ///
    /// # Errors
    /// Those of [`OperatorClient::call`]; [`OperatorError::Malformed`] when the answer is not a
    /// GET_AGENTS response; [`OperatorError::Convert`] for an agent that does not convert.
    pub async fn get_agents(&mut self) -> Result<Vec<AgentSummary>, OperatorError> {
        let answer = self.call(&typed(call::Type::GetAgents)).await?;
        let agents = expect(answer.get_agents, answer.r#type, response::Type::GetAgents)?.agents;
        agents
            .iter()
            .map(|agent| {
                let (id, hostname, attributes) = agent_host(&agent.agent_info).map_err(OperatorError::Convert)?;
                Ok(AgentSummary { id, hostname, attributes, active: agent.active })
            })
            .collect()
    }

    /// GET_TASKS: the tasks the master holds as live (its `tasks` whose state is neither
    /// terminal nor unreachable), converted with [`task_placement`].
    ///
    /// # Errors
    /// As [`OperatorClient::get_agents`], for tasks.
    pub async fn get_tasks(&mut self) -> Result<Vec<TaskPlacement>, OperatorError> {
        let answer = self.call(&typed(call::Type::GetTasks)).await?;
        let tasks = expect(answer.get_tasks, answer.r#type, response::Type::GetTasks)?.tasks;
        tasks
            .iter()
            .filter(|t| crate::session::TaskState::from_proto(t.state).is_some_and(holds_resources))
            .map(|t| task_placement(t).map_err(OperatorError::Convert))
            .collect()
    }
}

/// An operator `Call` in `encoding`.
pub(crate) fn encode_call(encoding: Encoding, c: &Call) -> Bytes {
    match encoding {
        Encoding::Protobuf => Bytes::from(c.encode_to_vec()),
        Encoding::Json => Bytes::from(json::encode_operator_call(c)),
    }
}

/// Reads and decodes the body of a `200 OK` operator answer (at most [`MAX_RESPONSE`] bytes).
pub(crate) async fn read_response(encoding: Encoding, body: &mut dyn Body) -> Result<Response, OperatorError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = body.chunk().await.map_err(OperatorError::Transport)? {
        if bytes.len() + chunk.len() > MAX_RESPONSE {
            return Err(OperatorError::Malformed(format!("response larger than {MAX_RESPONSE} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    match encoding {
        Encoding::Protobuf => Response::decode(bytes.as_slice()).map_err(|e| e.to_string()),
        Encoding::Json => json::decode_operator_response(&bytes).map_err(|e| e.to_string()),
    }
    .map_err(OperatorError::Malformed)
}

/// `http://<host:port>/api/v1` (or `https://`) for a master endpoint.
fn operator_url(master: &Endpoint) -> String {
    format!("{}://{}{OPERATOR_PATH}", master.scheme(), master.authority())
}

fn typed(kind: call::Type) -> Call {
    Call { r#type: Some(kind as i32) }
}

/// The payload of a response of type `kind`.
fn expect<T>(payload: Option<T>, got: Option<i32>, kind: response::Type) -> Result<T, OperatorError> {
    match payload {
        Some(payload) if got == Some(kind as i32) => Ok(payload),
        _ => {
            let got = got.and_then(|t| response::Type::try_from(t).ok()).map_or("no type", |t| t.as_str_name());
            Err(OperatorError::Malformed(format!("expected a {} response, got {got}", kind.as_str_name())))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::driver::transport::{Body, BoxFuture, HttpResponse};
    use crate::mesos::v1;
    use crate::mesos::v1::TaskState;

    /// A scripted answer: status, `Location`, body.
    type Answer = (u16, Option<&'static str>, Vec<u8>);

    /// Answers from a script, recording the URLs asked.
    struct Scripted {
        answers: Mutex<Vec<Answer>>,
        urls: Arc<Mutex<Vec<String>>>,
    }

    struct Once(Option<Bytes>);

    impl Body for Once {
        fn chunk(&mut self) -> BoxFuture<'_, Result<Option<Bytes>, TransportError>> {
            let next = self.0.take();
            Box::pin(async move { Ok(next) })
        }
    }

    impl Transport for Scripted {
        fn post(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, TransportError>> {
            self.urls.lock().unwrap().push(request.url);
            let next = self.answers.lock().unwrap().pop();
            Box::pin(async move {
                let (status, location, body) = next.ok_or_else(|| TransportError::new("connection refused"))?;
                Ok(HttpResponse {
                    status,
                    location: location.map(str::to_owned),
                    stream_id: None,
                    body: Box::new(Once(Some(Bytes::from(body)))),
                })
            })
        }
    }

    /// A client whose transport gives `answers` in order.
    fn client(answers: Vec<Answer>) -> (OperatorClient, Arc<Mutex<Vec<String>>>) {
        let urls = Arc::new(Mutex::new(Vec::new()));
        let transport = Scripted { answers: Mutex::new(answers.into_iter().rev().collect()), urls: urls.clone() };
        (OperatorClient::with_transport("http://m1:5050/api/v1/scheduler", transport).unwrap(), urls)
    }

    fn agents_response(hostname: &str) -> Vec<u8> {
        let agent = response::get_agents::Agent {
            agent_info: v1::AgentInfo {
                hostname: hostname.into(),
                id: Some(v1::AgentId { value: "S0".into() }),
                ..Default::default()
            },
            active: true,
            version: "1.11.0".into(),
            ..Default::default()
        };
        let get_agents = response::GetAgents { agents: vec![agent], recovered_agents: vec![] };
        Response { r#type: Some(response::Type::GetAgents as i32), get_agents: Some(get_agents), ..Default::default() }
            .encode_to_vec()
    }

    #[tokio::test]
    async fn operator_client_follows_redirects_and_keeps_the_leader() {
        let (mut client, urls) = client(vec![
            (307, Some("//m2:5050/api/v1"), vec![]),
            (200, None, agents_response("h1")),
            (200, None, agents_response("h2")),
        ]);
        let agents = client.get_agents().await.unwrap();
        assert_eq!((agents[0].id.as_str(), &*agents[0].hostname), ("S0", "h1"));
        assert_eq!(client.url(), "http://m2:5050/api/v1");
        assert_eq!(&*client.get_agents().await.unwrap()[0].hostname, "h2");
        assert_eq!(*urls.lock().unwrap(), ["http://m1:5050/api/v1", "http://m2:5050/api/v1", "http://m2:5050/api/v1"]);
    }

    #[tokio::test]
    async fn operator_client_reports_statuses_bodies_and_failures() {
        let (mut client, _) = client(vec![
            (503, None, b"No leader elected".to_vec()),
            (200, None, vec![0x0a, 0xff]),
            (
                200,
                None,
                Response { r#type: Some(response::Type::GetTasks as i32), ..Default::default() }.encode_to_vec(),
            ),
            (307, None, vec![]),
        ]);
        let error = client.get_agents().await.unwrap_err();
        assert!(matches!(&error, OperatorError::Status { status: 503, message } if message == "No leader elected"));
        assert!(matches!(client.get_agents().await.unwrap_err(), OperatorError::Malformed(_)));
        let error = client.get_agents().await.unwrap_err();
        assert!(error.to_string().contains("expected a GET_AGENTS response, got GET_TASKS"), "{error}");
        // A 307 without a usable Location is an answer like any other.
        assert!(matches!(client.get_agents().await.unwrap_err(), OperatorError::Status { status: 307, .. }));
        assert!(matches!(client.get_agents().await.unwrap_err(), OperatorError::Transport(_)));
        assert_eq!(OperatorClient::new("https://m1:5050").unwrap().url(), "https://m1:5050/api/v1");
        assert!(matches!(OperatorClient::new("ftp://m1:5050"), Err(OperatorError::Endpoint(_))));
    }

    #[tokio::test]
    async fn operator_client_get_tasks_keeps_live_tasks_only() {
        let task = |id: &str, state: TaskState| v1::Task {
            name: id.into(),
            task_id: v1::TaskId { value: id.into() },
            agent_id: v1::AgentId { value: "S0".into() },
            state: state as i32,
            ..Default::default()
        };
        let get_tasks = response::GetTasks {
            tasks: vec![task("run", TaskState::TaskRunning), task("done", TaskState::TaskFinished)],
            completed_tasks: vec![task("old", TaskState::TaskFinished)],
            ..Default::default()
        };
        let answer = Response {
            r#type: Some(response::Type::GetTasks as i32),
            get_tasks: Some(get_tasks),
            ..Default::default()
        };
        let (mut client, _) = client(vec![(200, None, answer.encode_to_vec())]);
        let tasks = client.get_tasks().await.unwrap();
        let ids: Vec<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
        assert_eq!(ids, ["run"]);
    }
}
