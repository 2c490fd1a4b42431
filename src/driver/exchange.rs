//! One request each: a SUBSCRIBE (until the stream opens), a call or an operator API read, sent
//! once to the endpoint the session's action names. The answer is reported as it came: a `307`
//! is [`CallOutcome::Redirect`], a `503` or a connection failure [`CallOutcome::Unavailable`],
//! a permanent one (an untrusted TLS certificate) [`CallOutcome::Fatal`].
//! Following redirects and retrying are the session's decisions (`session/resend.rs`).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::operator::{encode_call, read_response};
use super::transport::{read_text, Body, HttpRequest, HttpResponse, Transport};
use super::Encoding;
use crate::session::{CallOutcome, Endpoint, OperatorQuery, QueryAnswer};

/// Bytes of an error body kept as its message.
const ERROR_TEXT_LIMIT: usize = 4096;

/// What every request needs.
pub(crate) struct Exchange {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) encoding: Encoding,
    pub(crate) authorization: Option<String>,
    pub(crate) call_timeout: Duration,
}

/// The end of a SUBSCRIBE request.
pub(crate) enum Subscription {
    /// `200`: the event stream is open.
    Open { stream_id: String, body: Box<dyn Body> },
    /// No stream; `outcome` says why (a redirect included).
    Failed(CallOutcome),
}

impl Exchange {
    /// POSTs once to `endpoint`.
    async fn post(
        &self,
        endpoint: &Endpoint,
        stream_id: Option<&str>,
        body: Bytes,
        timeout: Option<Duration>,
    ) -> Result<HttpResponse, CallOutcome> {
        let request = HttpRequest {
            url: endpoint.url(),
            content_type: self.encoding.content_type(),
            accept: self.encoding.content_type(),
            stream_id: stream_id.map(str::to_owned),
            authorization: self.authorization.clone(),
            body,
            timeout,
        };
        match self.transport.post(request).await {
            Ok(response) if response.status == 307 => Err(match response.location {
                Some(location) => CallOutcome::Redirect { location },
                None => CallOutcome::Unavailable("307 without Location".into()),
            }),
            Ok(response) => Ok(response),
            // An untrusted certificate is as untrusted on the next attempt: not retried.
            Err(error) if error.is_permanent() => Err(CallOutcome::Fatal(error.to_string())),
            Err(error) => Err(CallOutcome::Unavailable(error.to_string())),
        }
    }

    /// Opens the event stream at `endpoint`.
    pub(crate) async fn subscribe(self: Arc<Self>, endpoint: Endpoint, body: Bytes) -> Subscription {
        let mut response = match self.post(&endpoint, None, body, None).await {
            Ok(response) => response,
            Err(outcome) => return Subscription::Failed(outcome),
        };
        match (response.status, response.stream_id.take()) {
            (200, Some(stream_id)) => Subscription::Open { stream_id, body: response.body },
            (200, None) => Subscription::Failed(CallOutcome::Unavailable("200 without Mesos-Stream-Id".into())),
            (status, _) => {
                let text = read_text(response.body.as_mut(), ERROR_TEXT_LIMIT).await;
                Subscription::Failed(outcome(status, text, true))
            }
        }
    }

    /// Sends one call to `endpoint`, once.
    pub(crate) async fn call(self: Arc<Self>, endpoint: Endpoint, stream_id: String, body: Bytes) -> CallOutcome {
        match self.post(&endpoint, Some(&stream_id), body, Some(self.call_timeout)).await {
            Ok(mut response) => {
                let text = if is_success(response.status) {
                    String::new()
                } else {
                    read_text(response.body.as_mut(), ERROR_TEXT_LIMIT).await
                };
                outcome(response.status, text, false)
            }
            Err(outcome) => outcome,
        }
    }

    /// Reads the operator API at `endpoint` (the session names the operator endpoint), once. An
    /// answer that does not decode is [`CallOutcome::Rejected`]: asking again would not help.
    pub(crate) async fn query(
        self: Arc<Self>,
        endpoint: Endpoint,
        query: OperatorQuery,
    ) -> Result<QueryAnswer, CallOutcome> {
        let body = encode_call(self.encoding, &query.call());
        let mut response = self.post(&endpoint, None, body, Some(self.call_timeout)).await?;
        if response.status == 200 {
            let decoded = read_response(self.encoding, response.body.as_mut()).await;
            let answer = decoded.map_err(|e| e.to_string()).and_then(|r| QueryAnswer::from_response(query, &r));
            return answer.map_err(|message| CallOutcome::Rejected { status: 200, message });
        }
        let text = read_text(response.body.as_mut(), ERROR_TEXT_LIMIT).await;
        Err(outcome(response.status, text, false))
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Statuses reported as [`CallOutcome::Unavailable`] (the session retries them): no leader /
/// recovering (503), rate limited (429), routes not yet installed at master start-up (404),
/// other transient server errors.
fn retryable(status: u16) -> bool {
    matches!(status, 404 | 429 | 500 | 502 | 503 | 504)
}

/// The session's view of a final HTTP answer.
fn outcome(status: u16, text: String, subscribe: bool) -> CallOutcome {
    match status {
        s if is_success(s) => CallOutcome::Accepted,
        s if retryable(s) => CallOutcome::Unavailable(format!("{s}: {text}")),
        403 if !subscribe => CallOutcome::NotSubscribed,
        401 => CallOutcome::Rejected {
            status,
            message: format!(
                "unauthorized: the master requires HTTP framework authentication; check the principal and \
                 secret ({text})"
            ),
        },
        status => CallOutcome::Rejected { status, message: text },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_classifies_statuses() {
        assert_eq!(outcome(202, String::new(), false), CallOutcome::Accepted);
        assert_eq!(outcome(403, "x".into(), false), CallOutcome::NotSubscribed);
        assert!(matches!(outcome(403, "x".into(), true), CallOutcome::Rejected { status: 403, .. }));
        assert!(
            matches!(outcome(503, "No leader".into(), true), CallOutcome::Unavailable(m) if m.contains("No leader"))
        );
        assert!(
            matches!(outcome(401, String::new(), true), CallOutcome::Rejected { status: 401, message } if message.contains("principal"))
        );
        assert!(
            matches!(outcome(400, "bad".into(), false), CallOutcome::Rejected { status: 400, message } if message == "bad")
        );
    }
}
