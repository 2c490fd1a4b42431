//! The ordered log of calls, events and stream ends, and the checks that read it.

use super::*;

/// One thing the proxies saw, in causal order.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // a test log: simplicity over size
pub enum Entry {
    /// A scheduler API request (logged on arrival; `status` once the master answered).
    Request {
        proxy: String,
        at: Instant,
        /// The decoded call (`None`: the body did not decode).
        call: Option<Call>,
        status: Option<u16>,
        location: Option<String>,
    },
    /// A SUBSCRIBE was answered 200: its event stream.
    StreamOpen { proxy: String, stream: u64, stream_id: String, at: Instant },
    /// An event handed to the driver.
    Event { proxy: String, stream: u64, event: Event, at: Instant },
    /// A stream ended: `broken` = the master's connection broke (no final chunk), `partial` = it
    /// stopped inside a record, `by_client` = the driver hung up.
    StreamEnd { proxy: String, stream: u64, broken: bool, partial: bool, by_client: bool, at: Instant },
}

/// The shared log of every proxy of a test, with a wake-up for waiters.
#[derive(Debug, Default)]
pub struct Recorder {
    pub(crate) entries: Mutex<Vec<Entry>>,
    pub(crate) changed: Notify,
    pub(crate) next_stream: AtomicU64,
}

impl Recorder {
    pub fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    pub(crate) fn push(&self, entry: Entry) -> usize {
        let mut entries = self.entries.lock().unwrap();
        entries.push(entry);
        self.changed.notify_waiters();
        entries.len() - 1
    }

    pub(crate) fn answered(&self, index: usize, code: u16, where_to: Option<String>) {
        let mut entries = self.entries.lock().unwrap();
        if let Some(Entry::Request { status, location, .. }) = entries.get_mut(index) {
            *status = Some(code);
            *location = where_to;
        }
        self.changed.notify_waiters();
    }

    /// A copy of the log.
    pub fn snapshot(&self) -> Vec<Entry> {
        self.entries.lock().unwrap().clone()
    }

    /// Evaluates `f` on the log.
    pub fn with<R>(&self, f: impl FnOnce(&[Entry]) -> R) -> R {
        f(&self.entries.lock().unwrap())
    }

    /// Waits until `pred` holds on the log; panics with the log after [`PATIENCE`].
    pub async fn wait_until(&self, what: &str, mut pred: impl FnMut(&[Entry]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let notified = self.changed.notified();
            if self.with(&mut pred) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out waiting for {what}\n{}", self.dump());
            }
        }
    }

    /// The log, one line per entry (for failure messages).
    pub fn dump(&self) -> String {
        let entries = self.snapshot();
        let start = entries.first().map(entry_time);
        let mut out = String::new();
        for entry in &entries {
            let ms = start.map_or(0, |s| entry_time(entry).duration_since(s).as_millis());
            let _ = writeln!(out, "{ms:>6}ms {}", describe(entry));
        }
        out
    }
}

pub(crate) fn entry_time(entry: &Entry) -> Instant {
    match entry {
        Entry::Request { at, .. }
        | Entry::StreamOpen { at, .. }
        | Entry::Event { at, .. }
        | Entry::StreamEnd { at, .. } => *at,
    }
}

pub(crate) fn describe(entry: &Entry) -> String {
    match entry {
        Entry::Request { proxy, call, status, location, .. } => {
            let what = call.as_ref().map_or("<undecodable>".to_owned(), |c| {
                let mut text = format!("{:?}", c.r#type());
                if let Some(ack) = &c.acknowledge {
                    let _ = write!(text, " {} uuid {}", ack.task_id.value, hex(&ack.uuid));
                }
                for task in launched_tasks(c) {
                    let _ = write!(text, " {task}");
                }
                text
            });
            format!("[{proxy}] call {what} -> {status:?} {}", location.as_deref().unwrap_or(""))
        }
        Entry::StreamOpen { proxy, stream, .. } => format!("[{proxy}] stream #{stream} open"),
        Entry::Event { proxy, stream, event, .. } => {
            let mut text = format!("[{proxy}] #{stream} {:?}", event.r#type());
            if let Some(u) = &event.update {
                let s = &u.status;
                let uuid = s.uuid.as_deref().map_or("-".to_owned(), hex);
                let reason = s.reason.map(|_| s.reason());
                let _ = write!(text, " {} {:?} {reason:?} uuid {uuid}", s.task_id.value, s.state());
            }
            if let Some(o) = &event.offers {
                let _ = write!(text, " {}", o.offers.iter().map(|o| o.id.value.as_str()).collect::<Vec<_>>().join(","));
            }
            if let Some(r) = &event.rescind {
                let _ = write!(text, " {}", r.offer_id.value);
            }
            if let Some(e) = &event.error {
                let _ = write!(text, " {}", e.message);
            }
            text
        }
        Entry::StreamEnd { proxy, stream, broken, partial, by_client, .. } => {
            format!("[{proxy}] stream #{stream} end broken={broken} partial={partial} by_client={by_client}")
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// The task ids of every LAUNCH operation of an ACCEPT.
pub fn launched_tasks(c: &Call) -> Vec<String> {
    let Some(accept) = &c.accept else { return Vec::new() };
    accept
        .operations
        .iter()
        .flat_map(|o| &o.launch)
        .flat_map(|l| &l.task_infos)
        .map(|t| t.task_id.value.clone())
        .collect()
}

/// Calls of `kind` with their proxy and status.
pub fn calls(log: &[Entry], kind: CallKind) -> Vec<(String, Call, Option<u16>, Option<String>)> {
    log.iter()
        .filter_map(|e| match e {
            Entry::Request { proxy, call: Some(c), status, location, .. } if CallKind::of(c) == kind => {
                Some((proxy.clone(), c.clone(), *status, location.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Every status update handed to the driver.
pub fn statuses(log: &[Entry]) -> Vec<v1::TaskStatus> {
    log.iter()
        .filter_map(|e| match e {
            Entry::Event { event, .. } => event.update.as_ref().map(|u| u.status.clone()),
            _ => None,
        })
        .collect()
}

/// The events of `kind` handed to the driver.
pub fn events(log: &[Entry], kind: event::Type) -> Vec<Event> {
    log.iter()
        .filter_map(|e| match e {
            Entry::Event { event, .. } if event.r#type() == kind => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// Framework ids of the SUBSCRIBED events, in order.
pub fn subscribed_ids(log: &[Entry]) -> Vec<String> {
    events(log, event::Type::Subscribed)
        .into_iter()
        .filter_map(|e| e.subscribed)
        .map(|s| s.framework_id.value)
        .collect()
}

/// How many copies of each `(task, uuid)` update reached the driver.
pub fn uuid_copies(log: &[Entry]) -> BTreeMap<(String, Vec<u8>), usize> {
    let mut copies = BTreeMap::new();
    for s in statuses(log) {
        if let Some(uuid) = s.uuid {
            *copies.entry((s.task_id.value, uuid)).or_default() += 1;
        }
    }
    copies
}

/// How many ACKNOWLEDGEs of each `(task, uuid)` the master answered 202.
pub fn acks(log: &[Entry]) -> BTreeMap<(String, Vec<u8>), usize> {
    let mut acks = BTreeMap::new();
    for (_, c, status, _) in calls(log, CallKind::Acknowledge) {
        if status == Some(202) {
            let ack = c.acknowledge.expect("ACKNOWLEDGE body");
            *acks.entry((ack.task_id.value, ack.uuid)).or_default() += 1;
        }
    }
    acks
}

/// Whether every copy of every update with a uuid has been acknowledged (at least `copies`
/// ACKNOWLEDGEs answered 202 per `(task, uuid)`; `at_least_once` relaxes that to one).
pub fn all_acked(log: &[Entry], at_least_once: bool) -> bool {
    let acks = acks(log);
    uuid_copies(log).iter().all(|(key, copies)| {
        let got = acks.get(key).copied().unwrap_or(0);
        if at_least_once {
            got >= 1
        } else {
            got >= *copies
        }
    })
}

/// Tasks with a TASK_FINISHED update handed to the driver.
pub fn finished_in_log(log: &[Entry]) -> BTreeSet<String> {
    statuses(log).into_iter().filter(|s| s.state() == P::TaskFinished).map(|s| s.task_id.value).collect()
}

/// Checks the launch and acknowledgement invariants on the log:
/// - a task is never in two accepted LAUNCHes at once: between two LAUNCHes of a task the master
///   answered 202, a terminal update of that task reached the driver (the first launch failed);
/// - each task's accepted LAUNCHes = 1 + its launches that ended other than FINISHED;
/// - every ACKNOWLEDGE names a `(task, uuid)` delivered with that uuid before it;
/// - no update without a uuid is acknowledged (follows: an ack needs a delivered uuid).
///
/// Returns the accepted LAUNCH count per task.
pub fn check_log(log: &[Entry], tasks: &[String]) -> BTreeMap<String, usize> {
    let mut launches: BTreeMap<String, usize> = BTreeMap::new();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    let mut in_flight: BTreeSet<String> = BTreeSet::new();
    let mut delivered: BTreeSet<(String, Vec<u8>)> = BTreeSet::new();
    for (i, entry) in log.iter().enumerate() {
        match entry {
            Entry::Request { call: Some(c), status, .. } if CallKind::of(c) == CallKind::Accept => {
                if *status != Some(202) {
                    continue; // not processed by the master (503, 403, …)
                }
                for task in launched_tasks(c) {
                    assert!(in_flight.insert(task.clone()), "entry {i}: task {task} launched twice while in flight");
                    *launches.entry(task).or_default() += 1;
                }
            }
            Entry::Request { call: Some(c), .. } if CallKind::of(c) == CallKind::Acknowledge => {
                let ack = c.acknowledge.as_ref().expect("ACKNOWLEDGE body");
                let key = (ack.task_id.value.clone(), ack.uuid.clone());
                assert!(delivered.contains(&key), "entry {i}: ACKNOWLEDGE of {key:?} which no update carried");
            }
            Entry::Event { event, .. } => {
                let Some(update) = &event.update else { continue };
                let s = &update.status;
                let task = s.task_id.value.clone();
                if let Some(uuid) = &s.uuid {
                    delivered.insert((task.clone(), uuid.clone()));
                }
                let state = TaskState::from_proto(s.state).expect("known state");
                if state.is_terminal() && in_flight.remove(&task) && state != TaskState::Finished {
                    *failed.entry(task).or_default() += 1;
                }
            }
            _ => {}
        }
    }
    for task in tasks {
        let launched = launches.get(task).copied().unwrap_or(0);
        let failed = failed.get(task).copied().unwrap_or(0);
        assert_eq!(launched, 1 + failed, "task {task}: {launched} accepted LAUNCHes, {failed} of them failed");
    }
    launches
}
