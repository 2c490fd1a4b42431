//! A [`Transport`] that counts what the framework's calls did with offers.
//!
//! The session reports task updates but not what happened to offers, so the CLI wraps the
//! HTTP transport and reads every call the master took (answered 2xx): offers named in ACCEPT
//! and DECLINE calls. This decodes the calls a second time, which costs a few microseconds per
//! call; it is a workaround for a missing statistic, not a second protocol edge.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use offerpack::driver::{BoxFuture, Encoding, HttpRequest, HttpResponse, HttpTransport, Transport, TransportError};
use offerpack::mesos::json;
use offerpack::mesos::v1::scheduler::{call, Call};
use prost::Message;

/// Counters of the calls the master accepted.
#[derive(Debug, Default)]
pub struct CallStats {
    accept_calls: AtomicU64,
    offers_accepted: AtomicU64,
    offers_declined: AtomicU64,
}

impl CallStats {
    /// ACCEPT calls the master took.
    pub fn accept_calls(&self) -> u64 {
        self.accept_calls.load(Ordering::Relaxed)
    }

    /// Offers named in those ACCEPT calls.
    pub fn offers_accepted(&self) -> u64 {
        self.offers_accepted.load(Ordering::Relaxed)
    }

    /// Offers named in DECLINE calls the master took.
    pub fn offers_declined(&self) -> u64 {
        self.offers_declined.load(Ordering::Relaxed)
    }

    fn add(&self, tally: Tally) {
        match tally {
            Tally::Accept(offers) => {
                self.accept_calls.fetch_add(1, Ordering::Relaxed);
                self.offers_accepted.fetch_add(offers, Ordering::Relaxed);
            }
            Tally::Decline(offers) => {
                self.offers_declined.fetch_add(offers, Ordering::Relaxed);
            }
        }
    }
}

/// What one call did with offers.
#[derive(Clone, Copy, Debug)]
enum Tally {
    Accept(u64),
    Decline(u64),
}

/// [`HttpTransport`] plus [`CallStats`].
#[derive(Debug)]
pub struct Tap {
    inner: HttpTransport,
    encoding: Encoding,
    stats: Arc<CallStats>,
}

impl Tap {
    /// Wraps `inner`, which speaks `encoding`, counting into `stats`.
    pub fn new(inner: HttpTransport, encoding: Encoding, stats: Arc<CallStats>) -> Tap {
        Tap { inner, encoding, stats }
    }
}

impl Transport for Tap {
    fn post(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpResponse, TransportError>> {
        // SUBSCRIBE is the only request without a stream id; it carries no offers.
        let tally = request.stream_id.as_ref().and_then(|_| tally(self.encoding, &request.body));
        let stats = Arc::clone(&self.stats);
        let answer = self.inner.post(request);
        Box::pin(async move {
            let response = answer.await?;
            if let (Some(tally), true) = (tally, (200..300).contains(&response.status)) {
                stats.add(tally);
            }
            Ok(response)
        })
    }
}

/// The offers an encoded call accepts or declines; `None` for other calls and for bodies that
/// do not decode (the master will say what is wrong with those).
fn tally(encoding: Encoding, body: &[u8]) -> Option<Tally> {
    let call = match encoding {
        Encoding::Protobuf => Call::decode(body).ok()?,
        Encoding::Json => json::decode_call(body).ok()?,
    };
    let count = |ids: usize| u64::try_from(ids).unwrap_or(u64::MAX);
    match call.r#type.and_then(|t| call::Type::try_from(t).ok())? {
        call::Type::Accept => call.accept.map(|a| Tally::Accept(count(a.offer_ids.len()))),
        call::Type::Decline => call.decline.map(|d| Tally::Decline(count(d.offer_ids.len()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use offerpack::mesos::v1;

    fn decline(ids: &[&str]) -> Call {
        Call {
            r#type: Some(call::Type::Decline as i32),
            framework_id: Some(v1::FrameworkId { value: "fw".into() }),
            decline: Some(call::Decline {
                offer_ids: ids.iter().map(|id| v1::OfferId { value: (*id).to_owned() }).collect(),
                filters: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn tap_counts_declined_offers_in_both_encodings() {
        let call = decline(&["o1", "o2"]);
        for encoding in [Encoding::Protobuf, Encoding::Json] {
            let body = encoding.encode_call(&call);
            assert!(matches!(tally(encoding, &body), Some(Tally::Decline(2))), "{encoding:?}");
        }
        assert!(tally(Encoding::Protobuf, b"\xff\xff").is_none());
        let heartbeat_like = Call { r#type: Some(call::Type::Revive as i32), ..Default::default() };
        assert!(tally(Encoding::Protobuf, &Encoding::Protobuf.encode_call(&heartbeat_like)).is_none());
    }
}
