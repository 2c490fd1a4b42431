//! A minimal hand-rolled v1 scheduler client for the simulated master's tests (reqwest,
//! RecordIO decoding, protobuf or JSON), and builders for the calls the tests send.
#![allow(dead_code)]

use std::time::Duration;

use offerpack::master::{AgentConfig, MasterConfig, MasterHandle, SimMaster};
use offerpack::mesos::v1::scheduler::{call, event, Call, Event};
use offerpack::mesos::v1::{self, framework_info::capability};
use offerpack::mesos::{json, RecordIoDecoder};
use prost::Message;

/// Longest (virtual, with paused time) wait for one expected event.
pub const PATIENCE: Duration = Duration::from_secs(600);

pub const PROTOBUF: &str = "application/x-protobuf";
pub const JSON: &str = "application/json";

/// A master with `n` agents of 4 cpus / 4096 MB, no jitter, seed 1.
pub async fn master(n: usize, tweak: impl FnOnce(&mut MasterConfig)) -> MasterHandle {
    let mut config = MasterConfig::default().with_seed(1).with_uniform_agents(n, &AgentConfig::new("", 4.0, 4096.0));
    config.tasks.jitter = 0.0;
    tweak(&mut config);
    SimMaster::start(config).await.expect("master starts")
}

#[derive(Clone, Debug)]
pub struct Client {
    pub http: reqwest::Client,
    pub url: String,
    pub json: bool,
}

impl Client {
    /// A client that opens a new connection per request: under tokio's paused clock a
    /// pooled keep-alive connection reused for a SUBSCRIBE stalls in the client (the same
    /// exchange over raw TCP, or in real time, streams fine).
    pub fn new(url: String, json: bool) -> Client {
        offerpack::tls::install_default_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        Client { http, url, json }
    }

    pub fn content_type(&self) -> &'static str {
        if self.json {
            JSON
        } else {
            PROTOBUF
        }
    }

    pub fn encode(&self, c: &Call) -> Vec<u8> {
        if self.json {
            json::encode_call(c)
        } else {
            c.encode_to_vec()
        }
    }

    /// POSTs raw bytes with the given headers.
    pub async fn raw(&self, content_type: Option<&str>, headers: &[(&str, &str)], body: Vec<u8>) -> reqwest::Response {
        let mut request = self.http.post(&self.url).body(body);
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request sent")
    }

    /// POSTs a call in this client's encoding.
    pub async fn post(&self, c: &Call, stream_id: Option<&str>) -> reqwest::Response {
        let headers: Vec<(&str, &str)> = stream_id.map(|s| ("Mesos-Stream-Id", s)).into_iter().collect();
        self.raw(Some(self.content_type()), &headers, self.encode(c)).await
    }

    /// POSTs a call and expects `202 Accepted`.
    pub async fn send(&self, c: &Call, stream_id: &str) {
        let response = self.post(c, Some(stream_id)).await;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 202, "{body}");
    }

    /// SUBSCRIBEs and returns the open stream (200 expected).
    pub async fn subscribe(&self, c: &Call) -> Stream {
        let response = self.raw(Some(self.content_type()), &[("Accept", self.content_type())], self.encode(c)).await;
        assert_eq!(response.status(), 200, "SUBSCRIBE answered {}", response.status());
        Stream::new(response, self.json)
    }
}

/// The event stream of a SUBSCRIBE response.
pub struct Stream {
    pub response: reqwest::Response,
    pub stream_id: String,
    pub json: bool,
    decoder: RecordIoDecoder,
    pub ended: bool,
}

/// How a stream stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The body ended with its final chunk.
    Clean,
    /// The connection broke (no final chunk).
    Broken,
}

impl Stream {
    pub fn new(response: reqwest::Response, json: bool) -> Stream {
        let stream_id = response.headers()["mesos-stream-id"].to_str().unwrap().to_owned();
        let expected = if json { JSON } else { PROTOBUF };
        assert_eq!(response.headers()["content-type"], expected);
        Stream { response, stream_id, json, decoder: RecordIoDecoder::new(), ended: false }
    }

    fn decode(&self, record: &[u8]) -> Event {
        if self.json {
            assert!(!record.contains(&b'\n'), "JSON records hold no raw newline");
            json::decode_event(record).expect("valid JSON event")
        } else {
            Event::decode(record).expect("valid protobuf event")
        }
    }

    /// The next event, or how the stream ended (with any partial record left over).
    pub async fn next(&mut self) -> Result<Event, (End, bool)> {
        loop {
            if let Some(frame) = self.decoder.next_frame().expect("valid RecordIO") {
                return Ok(self.decode(&frame));
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk()).await.expect("an event in time");
            match chunk {
                Ok(Some(bytes)) => self.decoder.push(&bytes),
                Ok(None) => {
                    self.ended = true;
                    return Err((End::Clean, self.decoder.finish().is_err()));
                }
                Err(_) => {
                    self.ended = true;
                    return Err((End::Broken, self.decoder.finish().is_err()));
                }
            }
        }
    }

    /// The next event that is not a HEARTBEAT.
    pub async fn next_event(&mut self) -> Event {
        loop {
            let event = self.next().await.expect("stream open");
            if event.r#type() != event::Type::Heartbeat {
                return event;
            }
        }
    }

    /// Skips events until one satisfies `pred`.
    pub async fn wait_for(&mut self, what: &str, mut pred: impl FnMut(&Event) -> bool) -> Event {
        loop {
            match self.next().await {
                Ok(event) if pred(&event) => return event,
                Ok(_) => {}
                Err(end) => panic!("stream ended ({end:?}) while waiting for {what}"),
            }
        }
    }

    pub async fn offers(&mut self) -> Vec<v1::Offer> {
        self.wait_for("OFFERS", |e| e.r#type() == event::Type::Offers).await.offers.unwrap().offers
    }

    pub async fn update(&mut self) -> v1::TaskStatus {
        self.wait_for("UPDATE", |e| e.r#type() == event::Type::Update).await.update.unwrap().status
    }
}

/// A subscribed framework: its id and stream.
pub struct Framework {
    pub client: Client,
    pub id: String,
    pub stream: Stream,
}

impl Framework {
    /// Subscribes a new framework and checks SUBSCRIBED then an immediate HEARTBEAT.
    pub async fn subscribe(client: &Client, call: Call) -> Framework {
        let mut stream = client.subscribe(&call).await;
        let subscribed = stream.next().await.expect("SUBSCRIBED");
        assert_eq!(subscribed.r#type(), event::Type::Subscribed);
        let info = subscribed.subscribed.unwrap();
        assert_eq!(stream.next().await.expect("HEARTBEAT").r#type(), event::Type::Heartbeat);
        Framework { client: client.clone(), id: info.framework_id.value, stream }
    }

    pub fn call(&self, kind: call::Type) -> Call {
        Call {
            framework_id: Some(v1::FrameworkId { value: self.id.clone() }),
            r#type: Some(kind as i32),
            ..Default::default()
        }
    }

    pub async fn send(&self, c: &Call) {
        self.client.send(c, &self.stream.stream_id).await;
    }

    pub async fn ack(&self, status: &v1::TaskStatus) {
        let mut c = self.call(call::Type::Acknowledge);
        c.acknowledge = Some(call::Acknowledge {
            agent_id: status.agent_id.clone().expect("agent id"),
            task_id: status.task_id.clone(),
            uuid: status.uuid.clone().expect("uuid"),
        });
        self.send(&c).await;
    }

    pub async fn launch(&self, offer: &v1::Offer, task: &str, cpus: f64, labels: &[(&str, &str)]) {
        self.send(&accept(&self.id, &[offer], vec![task_info(offer, task, cpus, labels)], None)).await;
    }

    pub async fn reconcile(&self, tasks: &[&str]) {
        let mut c = self.call(call::Type::Reconcile);
        let tasks = tasks
            .iter()
            .map(|t| call::reconcile::Task { task_id: v1::TaskId { value: (*t).into() }, agent_id: None })
            .collect();
        c.reconcile = Some(call::Reconcile { tasks });
        self.send(&c).await;
    }
}

pub fn subscribe_call(id: Option<&str>, failover_timeout: f64, capabilities: &[capability::Type]) -> Call {
    let fid = id.map(|v| v1::FrameworkId { value: v.into() });
    Call {
        framework_id: fid.clone(),
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: v1::FrameworkInfo {
                user: "root".into(),
                name: "offerpack-test".into(),
                id: fid,
                failover_timeout: Some(failover_timeout),
                capabilities: capabilities
                    .iter()
                    .map(|c| v1::framework_info::Capability { r#type: Some(*c as i32) })
                    .collect(),
                ..Default::default()
            },
            suppressed_roles: vec![],
        }),
        ..Default::default()
    }
}

pub fn task_info(offer: &v1::Offer, task: &str, cpus: f64, labels: &[(&str, &str)]) -> v1::TaskInfo {
    v1::TaskInfo {
        name: task.into(),
        task_id: v1::TaskId { value: task.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![v1::Resource {
            name: "cpus".into(),
            r#type: v1::value::Type::Scalar as i32,
            scalar: Some(v1::value::Scalar { value: cpus }),
            ..Default::default()
        }],
        command: Some(v1::CommandInfo { value: Some("sleep 1".into()), ..Default::default() }),
        labels: (!labels.is_empty()).then(|| v1::Labels {
            labels: labels.iter().map(|(k, v)| v1::Label { key: (*k).into(), value: Some((*v).into()) }).collect(),
        }),
        ..Default::default()
    }
}

pub fn accept(fw: &str, offers: &[&v1::Offer], tasks: Vec<v1::TaskInfo>, refuse_seconds: Option<f64>) -> Call {
    Call {
        framework_id: Some(v1::FrameworkId { value: fw.into() }),
        r#type: Some(call::Type::Accept as i32),
        accept: Some(call::Accept {
            offer_ids: offers.iter().map(|o| o.id.clone()).collect(),
            operations: vec![v1::offer::Operation {
                r#type: Some(v1::offer::operation::Type::Launch as i32),
                launch: Some(v1::offer::operation::Launch { task_infos: tasks }),
                ..Default::default()
            }],
            filters: refuse_seconds.map(|s| v1::Filters { refuse_seconds: Some(s) }),
        }),
        ..Default::default()
    }
}
