//! Wire encodings of calls and events.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use prost::Message;

use crate::mesos::json;
use crate::mesos::v1::scheduler::{Call, Event};

/// How calls and events are encoded on the wire.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `application/x-protobuf` (the default: compact, and what the proto subset is tested on).
    #[default]
    Protobuf,
    /// `application/json` with proto field names, as the master speaks it.
    Json,
}

impl Encoding {
    /// The `Content-Type` and `Accept` value (exact: the master compares strings).
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Protobuf => "application/x-protobuf",
            Self::Json => "application/json",
        }
    }

    /// Encodes a call.
    pub fn encode_call(self, call: &Call) -> Bytes {
        match self {
            Self::Protobuf => Bytes::from(call.encode_to_vec()),
            Self::Json => Bytes::from(json::encode_call(call)),
        }
    }

    /// Decodes one event record; the error text says what is wrong.
    pub fn decode_event(self, record: &[u8]) -> Result<Event, String> {
        match self {
            Self::Protobuf => Event::decode(record).map_err(|e| e.to_string()),
            Self::Json => json::decode_event(record).map_err(|e| e.to_string()),
        }
    }
}

/// `Authorization: Basic …` for a principal and secret.
pub(crate) fn basic_auth(principal: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{principal}:{secret}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::v1::scheduler::event;

    #[test]
    fn basic_auth_matches_the_rfc_example() {
        assert_eq!(basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn encoding_round_trips_events_and_rejects_garbage() {
        let heartbeat = Event { r#type: Some(event::Type::Heartbeat as i32), ..Default::default() };
        assert_eq!(Encoding::Protobuf.decode_event(&[0x08, 0x08]).unwrap(), heartbeat);
        assert!(Encoding::Protobuf.decode_event(&[0x0a, 0xff]).is_err());
        assert_eq!(Encoding::Json.decode_event(br#"{"type":"HEARTBEAT"}"#).unwrap(), heartbeat);
        assert!(Encoding::Json.decode_event(b"{").is_err());
    }
}
