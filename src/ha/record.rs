//! What a leader persists, as values: the run ([`RunMeta`]), one record per task
//! ([`TaskRecord`]) and the marker of a finished run ([`Finished`]), with their JSON encoding
//! and the pure steps on them (a task update folded into a record, a record turned into the
//! [`Resume`] a successor submits with). No I/O here; the stores write these bytes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use super::StoreError;
use crate::session::{Resume, TaskState, TaskUpdate, UnknownTaskState};

/// The run a leader persists before it acts on it: enough for a successor to subscribe as the
/// same framework and to rebuild its tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunMeta {
    /// The framework id, once `SUBSCRIBED` gave one (persisted before anything is launched).
    pub framework_id: Option<String>,
    /// The framework's name.
    pub framework_name: String,
    /// The failover timeout the framework subscribed with: a successor must subscribe within
    /// it, and subscribes with it again.
    pub failover_timeout: Duration,
    /// What identifies the run's task source (the application's choice, e.g. a digest of
    /// its task definitions), compared with [`Finished::fingerprint`].
    pub fingerprint: String,
    /// The application's own run-level settings (opaque text, e.g. JSON).
    pub app: String,
}

/// One task as a leader last persisted it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskRecord {
    /// The task id.
    pub id: String,
    /// The task's definition in the application's encoding (opaque text, e.g. JSON): a
    /// successor rebuilds the `TaskRequest` from it.
    pub definition: String,
    /// Its latest state.
    pub state: TaskState,
    /// Its current attempt, from 1.
    pub attempt: u32,
    /// While it waits out a retry backoff: when (wall clock, milliseconds since the Unix epoch)
    /// the current attempt may be placed. Wall clock because instances differ.
    pub retry_at_ms: Option<u64>,
    /// The agent of its current attempt, when known.
    pub agent: Option<String>,
}

/// The marker a leader leaves when every task of its run has ended (the rest of the store is
/// cleared): a later leader of the same run learns that there is nothing left to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finished {
    /// The framework that ran the tasks.
    pub framework_id: Option<String>,
    /// The run's [`RunMeta::fingerprint`].
    pub fingerprint: String,
    /// The instance that finished it.
    pub instance: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// Everything a store holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The run, if one was stored (and not finished).
    pub meta: Option<RunMeta>,
    /// Its tasks, in id order.
    pub tasks: Vec<TaskRecord>,
    /// The marker of a finished run; then `meta` is `None` and `tasks` empty.
    pub finished: Option<Finished>,
}

/// Milliseconds since the Unix epoch of `at` (0 before it).
pub fn wall_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl TaskRecord {
    /// A task just submitted: pending, first attempt.
    pub fn new(id: impl Into<String>, definition: impl Into<String>) -> TaskRecord {
        TaskRecord {
            id: id.into(),
            definition: definition.into(),
            state: TaskState::Pending,
            attempt: 1,
            retry_at_ms: None,
            agent: None,
        }
    }

    /// Whether the task has ended for good (a retried attempt is reported `Pending`, never
    /// terminal).
    pub fn is_over(&self) -> bool {
        self.state.is_terminal()
    }

    /// Folds in an update about this task received at `now_ms` (wall clock); whether the
    /// record changed (and must be persisted). Updates about tasks the session was never
    /// given (`attempt` 0) change nothing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use offerpack::ha::TaskRecord;
    /// use offerpack::session::{TaskState, TaskUpdate, UpdateSource};
    /// let mut record = TaskRecord::new("t1", "{}");
    /// let update = TaskUpdate { task_id: "t1".into(), state: TaskState::Pending, agent_id: None, message: None,
    ///     reason: None, source: UpdateSource::Agent, known: true, attempt: 2, retry_in: Some(Duration::from_secs(3)) };
    /// assert!(record.observe(&update, 1_000));
    /// assert_eq!((record.attempt, record.retry_at_ms), (2, Some(4_000)));
    /// assert!(!record.observe(&update, 1_000), "nothing new");
    /// ```
    pub fn observe(&mut self, update: &TaskUpdate, now_ms: u64) -> bool {
        if update.attempt == 0 || self.is_over() {
            return false;
        }
        let retry_at = match (update.state, update.retry_in) {
            (TaskState::Pending, Some(delay)) => {
                Some(now_ms.saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)))
            }
            (TaskState::Pending, None) => self.retry_at_ms.filter(|_| update.attempt == self.attempt),
            _ => None,
        };
        let agent = update.agent_id.as_ref().map(|a| a.as_str().to_owned()).or_else(|| self.agent.clone());
        let agent = if update.state == TaskState::Pending { None } else { agent };
        let changed = (self.state, self.attempt, self.retry_at_ms, &self.agent)
            != (update.state, update.attempt, retry_at, &agent);
        self.state = update.state;
        self.attempt = update.attempt;
        self.retry_at_ms = retry_at;
        self.agent = agent;
        changed
    }

    /// How a successor submits this task at `now_ms` (wall clock): the attempts already
    /// ended and what is left of a retry backoff.
    ///
    /// ```
    /// use std::time::Duration;
    /// use offerpack::ha::TaskRecord;
    /// let mut record = TaskRecord::new("t1", "{}");
    /// record.attempt = 3;
    /// record.retry_at_ms = Some(10_500);
    /// let resume = record.resume(10_000);
    /// assert_eq!((resume.attempts_ended, resume.ready_in), (2, Duration::from_millis(500)));
    /// assert!(record.resume(11_000).ready_in.is_zero());
    /// ```
    pub fn resume(&self, now_ms: u64) -> Resume {
        let ready_in = self.retry_at_ms.map_or(0, |at| at.saturating_sub(now_ms));
        Resume { attempts_ended: self.attempt.saturating_sub(1), ready_in: Duration::from_millis(ready_in) }
    }

    /// The record as JSON bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut object = Map::new();
        object.insert("id".into(), json!(self.id));
        object.insert("state".into(), json!(state_name(self.state)));
        object.insert("attempt".into(), json!(self.attempt));
        if let Some(at) = self.retry_at_ms {
            object.insert("retry_at_ms".into(), json!(at));
        }
        if let Some(agent) = &self.agent {
            object.insert("agent".into(), json!(agent));
        }
        object.insert("definition".into(), json!(self.definition));
        Value::Object(object).to_string().into_bytes()
    }

    /// A record from [`TaskRecord::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<TaskRecord, StoreError> {
        let value = object(bytes, "task record")?;
        let state = text(&value, "state")?;
        Ok(TaskRecord {
            id: text(&value, "id")?,
            definition: text(&value, "definition")?,
            state: state.parse().map_err(|e: UnknownTaskState| StoreError::Corrupt(e.to_string()))?,
            attempt: number(&value, "attempt")?
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| StoreError::Corrupt("task record: attempt must be a number from 1".to_owned()))?,
            retry_at_ms: number(&value, "retry_at_ms")?,
            agent: optional_text(&value, "agent")?,
        })
    }
}

impl RunMeta {
    /// The run as JSON bytes.
    pub fn encode(&self) -> Vec<u8> {
        let timeout = u64::try_from(self.failover_timeout.as_millis()).unwrap_or(u64::MAX);
        json!({
            "framework_id": self.framework_id,
            "framework_name": self.framework_name,
            "failover_timeout_ms": timeout,
            "fingerprint": self.fingerprint,
            "app": self.app,
        })
        .to_string()
        .into_bytes()
    }

    /// The run from [`RunMeta::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<RunMeta, StoreError> {
        let value = object(bytes, "run")?;
        let timeout = number(&value, "failover_timeout_ms")?
            .ok_or_else(|| StoreError::Corrupt("run: no failover_timeout_ms".to_owned()))?;
        Ok(RunMeta {
            framework_id: optional_text(&value, "framework_id")?,
            framework_name: text(&value, "framework_name")?,
            failover_timeout: Duration::from_millis(timeout),
            fingerprint: text(&value, "fingerprint")?,
            app: text(&value, "app")?,
        })
    }
}

impl Finished {
    /// The marker as JSON bytes.
    pub fn encode(&self) -> Vec<u8> {
        json!({
            "framework_id": self.framework_id,
            "fingerprint": self.fingerprint,
            "instance": self.instance,
            "at_ms": self.at_ms,
        })
        .to_string()
        .into_bytes()
    }

    /// The marker from [`Finished::encode`]'s bytes.
    pub fn decode(bytes: &[u8]) -> Result<Finished, StoreError> {
        let value = object(bytes, "finished marker")?;
        Ok(Finished {
            framework_id: optional_text(&value, "framework_id")?,
            fingerprint: text(&value, "fingerprint")?,
            instance: text(&value, "instance")?,
            at_ms: number(&value, "at_ms")?.unwrap_or(0),
        })
    }
}

/// A task id as a node or file name: ASCII letters, digits, `_`, `-` and `.` (not leading)
/// are kept, every other byte becomes `%XX`, so any id maps to a distinct, valid name.
///
/// ```
/// use offerpack::ha::{escape_id, unescape_id};
/// assert_eq!(escape_id("web-1.retry"), "web-1.retry");
/// assert_eq!(escape_id("a/b %c"), "a%2Fb%20%25c");
/// assert_eq!(escape_id(".."), "%2E.");
/// assert_eq!(unescape_id("a%2Fb%20%25c").as_deref(), Some("a/b %c"));
/// ```
pub fn escape_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for (i, byte) in id.bytes().enumerate() {
        let keep = byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' || (byte == b'.' && i > 0);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The task id of an [`escape_id`] name; `None` for a name it never makes.
pub fn unescape_id(name: &str) -> Option<String> {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The name of a state in records.
fn state_name(state: TaskState) -> String {
    state.to_string()
}

fn object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, StoreError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(StoreError::Corrupt(format!("{what}: not a JSON object"))),
        Err(e) => Err(StoreError::Corrupt(format!("{what}: {e}"))),
    }
}

fn text(value: &Map<String, Value>, key: &str) -> Result<String, StoreError> {
    optional_text(value, key)?.ok_or_else(|| StoreError::Corrupt(format!("no text {key:?}")))
}

fn optional_text(value: &Map<String, Value>, key: &str) -> Result<Option<String>, StoreError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(StoreError::Corrupt(format!("{key:?} is not text"))),
    }
}

fn number(value: &Map<String, Value>, key: &str) -> Result<Option<u64>, StoreError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| StoreError::Corrupt(format!("{key:?} is not a count"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> TaskRecord {
        TaskRecord {
            id: "web/1".into(),
            definition: "{\"cmd\":\"sleep 1\"}".into(),
            state: TaskState::Running,
            attempt: 2,
            retry_at_ms: Some(12),
            agent: Some("a-1".into()),
        }
    }

    #[test]
    fn record_round_trips_through_json() {
        let r = record();
        assert_eq!(TaskRecord::decode(&r.encode()).unwrap(), r);
        let plain = TaskRecord::new("t", "x");
        assert_eq!(TaskRecord::decode(&plain.encode()).unwrap(), plain);
        let meta = RunMeta {
            framework_id: Some("fw-1".into()),
            framework_name: "offerpack".into(),
            failover_timeout: Duration::from_secs(3600),
            fingerprint: "abc".into(),
            app: "{}".into(),
        };
        assert_eq!(RunMeta::decode(&meta.encode()).unwrap(), meta);
        let finished = Finished { framework_id: None, fingerprint: "abc".into(), instance: "i-1".into(), at_ms: 5 };
        assert_eq!(Finished::decode(&finished.encode()).unwrap(), finished);
    }

    #[test]
    fn record_decode_rejects_damage() {
        for bad in [
            &b"not json"[..],
            b"[]",
            b"{\"id\":\"t\"}",
            b"{\"id\":\"t\",\"definition\":\"\",\"state\":\"Nope\",\"attempt\":1}",
        ] {
            assert!(
                matches!(TaskRecord::decode(bad), Err(StoreError::Corrupt(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let zero = b"{\"id\":\"t\",\"definition\":\"\",\"state\":\"Pending\",\"attempt\":0}";
        assert!(TaskRecord::decode(zero).is_err());
    }

    #[test]
    fn record_state_names_cover_every_state() {
        for state in TaskState::ALL {
            assert_eq!(state_name(state).parse::<TaskState>(), Ok(state));
        }
    }

    #[test]
    fn record_ends_stay_ended() {
        let mut r = TaskRecord::new("t", "x");
        let mut update = TaskUpdate {
            task_id: "t".into(),
            state: TaskState::Finished,
            agent_id: None,
            message: None,
            reason: None,
            source: crate::session::UpdateSource::Agent,
            known: true,
            attempt: 1,
            retry_in: None,
        };
        assert!(r.observe(&update, 0));
        update.state = TaskState::Running;
        assert!(!r.observe(&update, 0), "a late update does not revive an ended task");
        assert_eq!(r.state, TaskState::Finished);
    }

    #[test]
    fn escape_id_is_reversible_and_distinct() {
        for id in ["plain", "a/b", "%41", ".", "..", "x.y", "ü", "a%2Fb"] {
            let name = escape_id(id);
            assert!(!name.contains('/') && name != "." && name != "..", "{name}");
            assert_eq!(unescape_id(&name).as_deref(), Some(id));
        }
        assert_ne!(escape_id("a/b"), escape_id("a%2Fb"));
        assert_eq!(unescape_id("%zz"), None);
    }
}
