//! Wire encodings of calls and events.

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
    format!("Basic {}", base64(format!("{principal}:{secret}").as_bytes()))
}

/// Standard padded base64.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesos::v1::scheduler::event;

    #[test]
    fn base64_matches_known_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
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
