//! The v1 executor API decisions of [`AgentCore`] (`POST /api/v1/executor`, MESOS-PROTOCOL-2
//! §1.1–§1.4, §1.7, §1.8): status codes, SUBSCRIBE streams (SUBSCRIBED first, then queued
//! launches; a new SUBSCRIBE replaces the old stream and re-injects unacknowledged updates),
//! UPDATE → 202, ACKNOWLEDGED on the stream and forwarding to the master.

use std::time::Duration;

use prost::Message as _;

use super::containers::Container;
use super::core::{Action, AgentCore};
use crate::mesos::json;
use crate::mesos::v1::executor::{call, event, Call, Event};
use crate::mesos::v1::{task_status, AgentId, AgentInfo, ContainerId, TaskState, TaskStatus};

/// `application/json`.
pub const APPLICATION_JSON: &str = "application/json";
/// `application/x-protobuf`.
pub const APPLICATION_PROTOBUF: &str = "application/x-protobuf";

/// An executor API request as the shell read it.
#[derive(Clone, Debug, Default)]
pub struct ExecutorRequest {
    /// Whether the method was POST.
    pub is_post: bool,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The `Accept` header, if any.
    pub accept: Option<String>,
    /// The body.
    pub body: Vec<u8>,
}

/// The encoding of a SUBSCRIBE stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `application/json` records.
    Json,
    /// `application/x-protobuf` records.
    Protobuf,
}

impl Format {
    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => APPLICATION_JSON,
            Format::Protobuf => APPLICATION_PROTOBUF,
        }
    }

    /// One event in this encoding (a RecordIO record's payload).
    pub fn encode(self, event: &Event) -> Vec<u8> {
        match self {
            Format::Json => json::encode_executor_event(event),
            Format::Protobuf => event.encode_to_vec(),
        }
    }
}

/// The answer to an executor API request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecutorReply {
    /// A plain answer: status code and text body.
    Plain(u16, String),
    /// 200 with a RecordIO stream: events for `stream` come as [`Action::ExecutorEvent`].
    Stream {
        /// The stream id.
        stream: u64,
        /// The encoding.
        format: Format,
    },
}

fn plain(status: u16, text: impl Into<String>) -> ExecutorReply {
    ExecutorReply::Plain(status, text.into())
}

/// The media type an `Accept` header prefers: JSON if acceptable (absent header: JSON), else
/// protobuf, else `None`.
pub fn preferred_format(accept: Option<&str>) -> Option<Format> {
    let Some(accept) = accept else { return Some(Format::Json) };
    let allowed: Vec<String> = accept
        .split(',')
        .filter(|range| !range.split(';').skip(1).any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000")))
        .map(|range| range.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .collect();
    let ok = |t: &str| allowed.iter().any(|a| a == t || a == "*/*" || a == "application/*");
    if ok(APPLICATION_JSON) {
        Some(Format::Json)
    } else if ok(APPLICATION_PROTOBUF) {
        Some(Format::Protobuf)
    } else {
        None
    }
}

fn parse(content_type: Option<&str>, body: &[u8]) -> Result<Call, ExecutorReply> {
    let bad = |e: String| plain(400, format!("Failed to parse body into Call: {e}"));
    match content_type {
        None => Err(plain(400, "Expecting 'Content-Type' to be present")),
        Some(APPLICATION_JSON) => json::decode_executor_call(body).map_err(|e| bad(e.to_string())),
        Some(APPLICATION_PROTOBUF) => {
            let call = Call::decode(body).map_err(|e| bad(e.to_string()))?;
            json::check_executor_call_required_fields(body).map_err(|e| bad(e.to_string()))?;
            Ok(call)
        }
        Some(other) => Err(plain(
            415,
            format!("Expecting 'Content-Type' of {APPLICATION_JSON} or {APPLICATION_PROTOBUF}, not '{other}'"),
        )),
    }
}

/// Whether 16 bytes with a version nibble 1..=5 (`id::UUID::fromBytes`).
fn valid_uuid(uuid: &[u8]) -> bool {
    uuid.len() == 16 && (1..=5).contains(&(uuid[6] >> 4))
}

/// `validateExecutorCall`.
fn validate(call: &Call) -> Result<(), String> {
    let Some(kind) = call.r#type else { return Err("Expecting 'type' to be present".into()) };
    if kind == call::Type::Subscribe as i32 && call.subscribe.is_none() {
        return Err("Expecting 'subscribe' to be present".into());
    }
    if kind != call::Type::Update as i32 {
        return Ok(());
    }
    let status = &call.update.as_ref().ok_or("Expecting 'update' to be present")?.status;
    match &status.uuid {
        None => return Err("Expecting 'uuid' to be present".into()),
        Some(u) if !valid_uuid(u) => return Err("Not a valid UUID".into()),
        Some(_) => {}
    }
    if status.source != Some(task_status::Source::Executor as i32) {
        return Err("Received Call from executor with invalid source".into());
    }
    if status.state == TaskState::TaskStaging as i32 {
        return Err("Received TASK_STAGING from executor which is not allowed".into());
    }
    if status.executor_id.as_ref().is_some_and(|e| e.value != call.executor_id.value) {
        return Err("ExecutorID in Call does not match ExecutorID in TaskStatus".into());
    }
    Ok(())
}

impl AgentCore {
    /// Answers one executor API request (checks in the order of the agent's `Http::executor`).
    pub fn handle_executor_call(&mut self, now: Duration, request: &ExecutorRequest) -> ExecutorReply {
        if !request.is_post {
            return plain(405, "Expecting 'POST'");
        }
        let call = match parse(request.content_type.as_deref(), &request.body) {
            Ok(c) => c,
            Err(reply) => return reply,
        };
        if let Err(e) = validate(&call) {
            return plain(400, format!("Failed to validate Executor::Call: {e}"));
        }
        match call.r#type() {
            call::Type::Unknown => plain(501, "Received 'UNKNOWN' call"),
            call::Type::Heartbeat => plain(202, ""),
            call::Type::Subscribe => self.subscribe(now, request.accept.as_deref(), call),
            call::Type::Update | call::Type::Message => self.update_or_message(call),
        }
    }

    /// Finds the executor's container: 400 texts when the framework or executor is unknown.
    fn find_executor(&self, call: &Call) -> Result<String, ExecutorReply> {
        let fw = &call.framework_id.value;
        let mut of_framework = self.containers.iter().filter(|(_, c)| c.framework_id() == fw).peekable();
        if of_framework.peek().is_none() {
            return Err(plain(400, "Framework cannot be found"));
        }
        of_framework
            .find(|(_, c)| c.executor.is_some() && c.executor_id == call.executor_id.value)
            .map(|(id, _)| id.clone())
            .ok_or_else(|| plain(400, "Executor cannot be found"))
    }

    fn subscribe(&mut self, _now: Duration, accept: Option<&str>, call: Call) -> ExecutorReply {
        let Some(format) = preferred_format(accept) else {
            return plain(406, format!("Expecting 'Accept' to allow '{APPLICATION_JSON}' or '{APPLICATION_PROTOBUF}'"));
        };
        let id = match self.find_executor(&call) {
            Ok(id) => id,
            Err(reply) => return reply,
        };
        self.next_stream += 1;
        let stream = self.next_stream;
        let agent_info = self.agent_info();
        let Some(c) = self.containers.get_mut(&id) else { return plain(400, "Executor cannot be found") };
        if let Some(old) = c.stream.replace(stream) {
            self.push(Action::CloseStream { stream: old });
        }
        let Some(c) = self.containers.get_mut(&id) else { return plain(400, "Executor cannot be found") };
        if c.silent {
            let shutdown = Event { r#type: Some(event::Type::Shutdown as i32), ..Default::default() };
            self.push(Action::ExecutorEvent { stream, event: shutdown });
            return ExecutorReply::Stream { stream, format };
        }
        c.subscribed_once = true;
        c.registration_deadline = None;
        let event = subscribed(c, agent_info, &id);
        let framework = c.framework_id().to_owned();
        self.push(Action::ExecutorEvent { stream, event });
        for update in call.subscribe.map(|s| s.unacknowledged_updates).unwrap_or_default() {
            if validate_update_status(&update.status) {
                self.take_update(&id, &framework, stream, update.status);
            }
        }
        self.deliver(&id);
        ExecutorReply::Stream { stream, format }
    }

    fn update_or_message(&mut self, call: Call) -> ExecutorReply {
        let id = match self.find_executor(&call) {
            Ok(id) => id,
            Err(reply) => return reply,
        };
        let Some(stream) = self.containers.get(&id).and_then(|c| c.stream) else {
            return plain(403, "Executor is not subscribed");
        };
        if let Some(update) = call.update {
            let framework = call.framework_id.value;
            self.take_update(&id, &framework, stream, update.status);
        }
        plain(202, "")
    }

    /// An executor's update: ACKNOWLEDGED on its stream, state kept, forwarded to the master.
    fn take_update(&mut self, id: &str, framework: &str, stream: u64, mut status: TaskStatus) {
        let Some(c) = self.containers.get_mut(id) else { return };
        let fresh = c.seen_uuids.insert(status.uuid.clone().unwrap_or_default());
        if status.executor_id.is_none() {
            status.executor_id = Some(crate::mesos::v1::ExecutorId { value: c.executor_id.clone() });
        }
        if let Some(entry) = c.tasks.get_mut(&status.task_id.value).filter(|_| fresh) {
            entry.state = status.state();
        }
        let acknowledged =
            event::Acknowledged { task_id: status.task_id.clone(), uuid: status.uuid.clone().unwrap_or_default() };
        let ack = Event {
            r#type: Some(event::Type::Acknowledged as i32),
            acknowledged: Some(acknowledged),
            ..Default::default()
        };
        self.push(Action::ExecutorEvent { stream, event: ack });
        if fresh {
            self.forward(framework, status);
        }
    }

    /// An executor's SUBSCRIBE stream went away (connection closed).
    pub fn handle_executor_stream_gone(&mut self, _now: Duration, stream: u64) {
        for c in self.containers.values_mut() {
            if c.stream == Some(stream) {
                c.stream = None;
            }
        }
    }

    fn agent_info(&self) -> AgentInfo {
        AgentInfo {
            hostname: self.config.hostname.clone(),
            port: Some(i32::from(self.config.port)),
            resources: self.config.resources.clone(),
            attributes: self.config.attributes.clone(),
            id: self.agent_id().map(|v| AgentId { value: v.to_owned() }),
            domain: None,
        }
    }
}

fn validate_update_status(status: &TaskStatus) -> bool {
    status.uuid.as_deref().is_some_and(valid_uuid) && status.state != TaskState::TaskStaging as i32
}

fn subscribed(c: &Container, agent_info: AgentInfo, container: &str) -> Event {
    let executor_info = c.executor.clone().unwrap_or_default();
    let subscribed = event::Subscribed {
        executor_info,
        framework_info: c.framework.clone(),
        agent_info,
        container_id: Some(ContainerId { value: container.to_owned(), parent: None }),
    };
    Event { r#type: Some(event::Type::Subscribed as i32), subscribed: Some(subscribed), ..Default::default() }
}
