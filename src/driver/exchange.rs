//! One request's life: SUBSCRIBE (until the stream opens) and calls (until a definite answer),
//! following 307 redirects by hand and retrying 503s and connection failures for calls.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::endpoint::Endpoint;
use super::operator::{encode_call, read_response};
use super::transport::{read_text, Body, HttpRequest, HttpResponse, Transport, TransportError};
use super::Encoding;
use crate::session::{CallOutcome, OperatorQuery, QueryAnswer};

/// Redirects followed in a row before giving up (a redirect loop between confused masters).
const MAX_REDIRECTS: u32 = 5;
/// Bytes of an error body kept as its message.
const ERROR_TEXT_LIMIT: usize = 4096;

/// What every request needs.
pub(crate) struct Exchange {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) encoding: Encoding,
    pub(crate) authorization: Option<String>,
    pub(crate) call_timeout: Duration,
    /// Retries of a call after 503 or a connection failure.
    pub(crate) call_retries: u32,
    /// First retry delay; doubles each time.
    pub(crate) retry_delay: Duration,
}

/// The end of a SUBSCRIBE request.
pub(crate) enum Subscription {
    /// `200`: the event stream is open at `endpoint`.
    Open { stream_id: String, body: Box<dyn Body>, endpoint: Endpoint },
    /// No stream; `outcome` says why.
    Failed(CallOutcome),
}

impl Exchange {
    fn request(
        &self,
        endpoint: &Endpoint,
        stream_id: Option<&str>,
        body: &Bytes,
        timeout: Option<Duration>,
    ) -> HttpRequest {
        HttpRequest {
            url: endpoint.url(),
            content_type: self.encoding.content_type(),
            accept: self.encoding.content_type(),
            stream_id: stream_id.map(str::to_owned),
            authorization: self.authorization.clone(),
            body: body.clone(),
            timeout,
        }
    }

    /// POSTs, following redirects; the final answer and the endpoint that gave it.
    async fn post(
        &self,
        mut endpoint: Endpoint,
        stream_id: Option<&str>,
        body: &Bytes,
        timeout: Option<Duration>,
    ) -> (Result<HttpResponse, TransportError>, Endpoint) {
        let mut redirects = 0;
        loop {
            let answer = self.transport.post(self.request(&endpoint, stream_id, body, timeout)).await;
            let next = match &answer {
                Ok(response) if response.status == 307 && redirects < MAX_REDIRECTS => {
                    response.location.as_deref().and_then(|location| endpoint.redirect(location))
                }
                _ => None,
            };
            match next {
                Some(next) => {
                    endpoint = next;
                    redirects += 1;
                }
                None => return (answer, endpoint),
            }
        }
    }

    /// Opens the event stream at `endpoint` (or wherever it redirects).
    pub(crate) async fn subscribe(self: Arc<Self>, endpoint: Endpoint, body: Bytes) -> Subscription {
        let (answer, endpoint) = self.post(endpoint, None, &body, None).await;
        let mut response = match answer {
            Ok(response) => response,
            Err(error) => return Subscription::Failed(CallOutcome::Unavailable(error.to_string())),
        };
        match (response.status, response.stream_id.take()) {
            (200, Some(stream_id)) => Subscription::Open { stream_id, body: response.body, endpoint },
            (200, None) => Subscription::Failed(CallOutcome::Unavailable("200 without Mesos-Stream-Id".into())),
            (status, _) => {
                let text = read_text(response.body.as_mut(), ERROR_TEXT_LIMIT).await;
                Subscription::Failed(outcome(status, text, true))
            }
        }
    }

    /// Sends one call; retries 503s and connection failures. Returns the outcome and the
    /// endpoint that answered (a new leader when redirected).
    pub(crate) async fn call(
        self: Arc<Self>,
        endpoint: Endpoint,
        stream_id: String,
        body: Bytes,
    ) -> (CallOutcome, Endpoint) {
        let mut attempt = 0;
        let mut endpoint = endpoint;
        loop {
            let (answer, answered) = self.post(endpoint, Some(&stream_id), &body, Some(self.call_timeout)).await;
            endpoint = answered;
            let result = match answer {
                Ok(mut response) if retryable(response.status) => {
                    let text = read_text(response.body.as_mut(), ERROR_TEXT_LIMIT).await;
                    CallOutcome::Unavailable(format!("{}: {text}", response.status))
                }
                Ok(mut response) => {
                    let text = if is_success(response.status) {
                        String::new()
                    } else {
                        read_text(response.body.as_mut(), ERROR_TEXT_LIMIT).await
                    };
                    return (outcome(response.status, text, false), endpoint);
                }
                Err(error) => CallOutcome::Unavailable(error.to_string()),
            };
            if attempt >= self.call_retries {
                return (result, endpoint);
            }
            tokio::time::sleep(self.retry_delay.saturating_mul(1 << attempt.min(16))).await;
            attempt += 1;
        }
    }
}

impl Exchange {
    /// Reads the operator API beside the scheduler `endpoint` (following redirects to the
    /// leader), retrying 503s and connection failures as calls are. An answer that does not
    /// decode is [`CallOutcome::Rejected`]: asking again would not help.
    pub(crate) async fn query(
        self: Arc<Self>,
        endpoint: Endpoint,
        query: OperatorQuery,
    ) -> Result<QueryAnswer, CallOutcome> {
        let body = encode_call(self.encoding, &query.call());
        let endpoint = endpoint.operator();
        let mut attempt = 0;
        loop {
            let (answer, _) = self.post(endpoint.clone(), None, &body, Some(self.call_timeout)).await;
            let result = match answer {
                Ok(mut response) if response.status == 200 => {
                    let decoded = read_response(self.encoding, response.body.as_mut()).await;
                    let answer = decoded.map_err(|e| e.to_string()).and_then(|r| QueryAnswer::from_response(query, &r));
                    return answer.map_err(|message| CallOutcome::Rejected { status: 200, message });
                }
                Ok(mut response) => {
                    let text = read_text(response.body.as_mut(), ERROR_TEXT_LIMIT).await;
                    if !retryable(response.status) {
                        return Err(outcome(response.status, text, false));
                    }
                    CallOutcome::Unavailable(format!("{}: {text}", response.status))
                }
                Err(error) => CallOutcome::Unavailable(error.to_string()),
            };
            if attempt >= self.call_retries {
                return Err(result);
            }
            tokio::time::sleep(self.retry_delay.saturating_mul(1 << attempt.min(16))).await;
            attempt += 1;
        }
    }
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Statuses worth retrying: no leader / recovering (503), rate limited (429), routes not yet
/// installed at master start-up (404), other transient server errors.
fn retryable(status: u16) -> bool {
    matches!(status, 404 | 429 | 500 | 502 | 503 | 504)
}

/// The session's view of a final HTTP answer.
fn outcome(status: u16, text: String, subscribe: bool) -> CallOutcome {
    match status {
        s if is_success(s) => CallOutcome::Accepted,
        s if retryable(s) || s == 307 => CallOutcome::Unavailable(format!("{s}: {text}")),
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
