//! A bare protobuf client to read the master's view from outside.

use super::*;

/// A bare protobuf client (reqwest, no driver) to look at the master from outside.
pub struct RawClient {
    pub(crate) http: reqwest::Client,
    pub(crate) url: String,
    pub(crate) framework_id: v1::FrameworkId,
    pub(crate) stream_id: String,
    pub(crate) response: reqwest::Response,
    pub(crate) decoder: RecordIoDecoder,
}

impl RawClient {
    /// SUBSCRIBEs to `master_url` as framework `framework_id` (a failover of that framework);
    /// returns the client and the first event (SUBSCRIBED, or ERROR if refused).
    pub async fn subscribe_as(master_url: &str, framework_id: &str) -> (RawClient, Event) {
        let url = format!("{master_url}/api/v1/scheduler");
        offerpack::tls::install_default_provider();
        let http = reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let fid = v1::FrameworkId { value: framework_id.to_owned() };
        let subscribe = Call {
            framework_id: Some(fid.clone()),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: v1::FrameworkInfo {
                    user: "root".into(),
                    name: "e2e-inspector".into(),
                    id: Some(fid.clone()),
                    failover_timeout: Some(3600.0),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        };
        let response = http
            .post(&url)
            .header("Content-Type", "application/x-protobuf")
            .header("Accept", "application/x-protobuf")
            .body(subscribe.encode_to_vec())
            .send()
            .await
            .expect("inspector subscribes");
        assert_eq!(response.status(), 200, "inspector SUBSCRIBE");
        let stream_id = response.headers()["mesos-stream-id"].to_str().unwrap().to_owned();
        let mut client =
            RawClient { http, url, framework_id: fid, stream_id, response, decoder: RecordIoDecoder::new() };
        let first = client.next_event().await;
        (client, first)
    }

    /// The next event of the stream.
    pub async fn next_event(&mut self) -> Event {
        loop {
            if let Some(record) = self.decoder.next_frame().expect("RecordIO") {
                return Event::decode(record.as_ref()).expect("event");
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk()).await.expect("an event in time");
            self.decoder.push(&chunk.expect("stream open").expect("stream not ended"));
        }
    }

    /// Reconciles `tasks` explicitly; the master's answer for each.
    pub async fn reconcile(&mut self, tasks: &[String]) -> BTreeMap<String, v1::TaskStatus> {
        let reconcile = Call {
            framework_id: Some(self.framework_id.clone()),
            r#type: Some(call::Type::Reconcile as i32),
            reconcile: Some(call::Reconcile {
                tasks: tasks
                    .iter()
                    .map(|t| call::reconcile::Task { task_id: v1::TaskId { value: t.clone() }, agent_id: None })
                    .collect(),
            }),
            ..Default::default()
        };
        let answer = self
            .http
            .post(&self.url)
            .header("Content-Type", "application/x-protobuf")
            .header("Mesos-Stream-Id", &self.stream_id)
            .body(reconcile.encode_to_vec())
            .send()
            .await
            .expect("RECONCILE sent");
        assert_eq!(answer.status(), 202);
        let mut answers = BTreeMap::new();
        while answers.len() < tasks.len() {
            if let Some(update) = self.next_event().await.update {
                let status = update.status;
                if status.reason() == Reason::Reconciliation {
                    answers.insert(status.task_id.value.clone(), status);
                }
            }
        }
        answers
    }
}

/// Subscribes to `master_url` as framework `framework_id` (a failover, protobuf), reconciles
/// `tasks` explicitly, and returns the master's answer for each.
pub async fn reconcile_as(master_url: &str, framework_id: &str, tasks: &[String]) -> BTreeMap<String, v1::TaskStatus> {
    let (mut client, first) = RawClient::subscribe_as(master_url, framework_id).await;
    assert_eq!(first.r#type(), event::Type::Subscribed, "{first:?}");
    client.reconcile(tasks).await
}
