//! The JSON encoding of the scheduler API and of the operator API (`Content-Type:
//! application/json`), as the Mesos master speaks it (stout's `protobuf.hpp`), which is *not*
//! proto3 canonical JSON:
//!
//! - keys are the proto field names (snake_case); any other key, camelCase ones included, is
//!   ignored, so `{"frameworkInfo": …}` ends in "Missing required fields";
//! - enums are value-name strings (a number is an error); an unknown name is an error in a
//!   required field and dropped elsewhere (proto2 semantics);
//! - bytes are base64 (standard alphabet; padding optional on input, written on output);
//! - `null` means unset, anywhere (also inside arrays); unknown keys are ignored;
//! - integers are JSON numbers or strings holding a number; doubles also accept `"Infinity"`,
//!   `"-Infinity"`, `"NaN"` and numeric strings;
//! - the proto nesting is kept: `{"type":"OFFERS","offers":{"offers":[…]}}`,
//!   `{"type":"ERROR","error":{"message":…}}` (the upstream docs' examples are wrong there);
//! - output holds the fields that are set, plus every non-deprecated optional field with an
//!   explicit `[default = …]` (e.g. `"refuse_seconds":5.0`, `"shell":true`), in declaration
//!   order; 64-bit integers are written as numbers, non-finite doubles as `"Infinity"`-style
//!   strings, and strings are escaped so that a record never holds a raw newline;
//! - after parsing, every `required` field must be present ("Missing required fields: …");
//! - the operator API's GET_AGENTS, GET_FRAMEWORKS and GET_TASKS answers always carry their
//!   top-level arrays, empty ones included (`{"agents":[],"recovered_agents":[]}`), as the
//!   master's hand-written serialisers do.
//!
//! # How
//!
//! A transcoder between JSON and the protobuf wire format, driven by the descriptors of the
//! hand-written protos: `build.rs` writes the `FileDescriptorSet` that protox compiled to
//! `OUT_DIR`, it is embedded here and decoded once (through a small prost mirror of the few
//! `descriptor.proto` fields needed). Decoding walks the `serde_json::Value` by the
//! descriptor's field names and writes protobuf bytes, which prost then decodes into the
//! generated type; encoding serialises with prost and walks the wire bytes back into JSON.
//! One generic code path serves every message, and the proto stays the single source of truth.
//!
//! Why not `pbjson`/`pbjson-build`: it implements the proto3 JSON mapping. Its deserializers
//! accept both the camelCase and the proto names (a camelCase key the master would ignore
//! is silently taken), accept enum numbers, and never emit the explicit proto2 defaults the
//! master writes; it also adds a generated serde impl per message and a runtime crate. Why not
//! `prost-reflect`'s serde support: the same proto3 mapping rules, and a bigger dependency.
//! The cost of this approach is one extra protobuf encode/decode per message, which is small
//! next to the JSON work itself.
//!
//! Map fields (none in the current subset) are read and written as JSON objects.
//!
//! ```
//! use offerpack::mesos::json;
//! use offerpack::mesos::v1::scheduler::{call, Call};
//!
//! let body = br#"{"type":"DECLINE","framework_id":{"value":"fw-1"},"frameworkId":"ignored",
//!                 "decline":{"offer_ids":[{"value":"o-1"}],"filters":{"refuse_seconds":"30"}}}"#;
//! let call = json::decode_call(body).unwrap();
//! assert_eq!(call.r#type(), call::Type::Decline);
//! assert_eq!(call.decline.as_ref().unwrap().filters.as_ref().unwrap().refuse_seconds(), 30.0);
//!
//! let err = json::decode_call(br#"{"type":"SUBSCRIBE","subscribe":{"frameworkInfo":{}}}"#).unwrap_err();
//! assert_eq!(err.to_string(), "Missing required fields: subscribe.framework_info");
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use prost::encoding::{decode_varint, encode_key, encode_varint, WireType};
use prost::Message as _;
use serde_json::{Map, Value};

use super::v1;

/// The encoded `FileDescriptorSet` of `proto/mesos/v1/*.proto`, written by `build.rs`.
const DESCRIPTORS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mesos_v1_descriptors.bin"));
const CALL: &str = ".mesos.v1.scheduler.Call";
const EVENT: &str = ".mesos.v1.scheduler.Event";

/// Base64 for input: standard alphabet, padding optional.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a JSON document is not a valid message. Display names the field path (e.g.
/// `accept.operations[0].launch.task_infos[1].resources[0].type`); the text is not API.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum JsonError {
    /// The bytes are not JSON at all (the master's "Failed to parse body into JSON").
    Syntax {
        /// What the JSON parser said.
        message: String,
    },
    /// A value of the wrong JSON type, e.g. a number for an enum or an array for a message.
    WrongType {
        /// The field path (empty for the document itself).
        path: String,
        /// What was expected there, e.g. `"an object"`.
        expected: &'static str,
    },
    /// A value of the right JSON type that cannot be converted: bad base64, an integer out of
    /// range, a non-integral number for an integer field, an unknown name in a required enum.
    BadValue {
        /// The field path.
        path: String,
        /// What is wrong with it.
        message: String,
    },
    /// Required fields are absent (or `null`): proto2's `IsInitialized` failed.
    MissingRequired {
        /// The paths of the missing fields, in document order.
        fields: Vec<String>,
    },
    /// The transcoded bytes or the embedded descriptors could not be decoded (a bug).
    Internal {
        /// What failed.
        message: String,
    },
}

impl JsonError {
    /// The path of the offending field: the first missing one for
    /// [`JsonError::MissingRequired`], empty when no field is involved.
    pub fn path(&self) -> &str {
        match self {
            Self::WrongType { path, .. } | Self::BadValue { path, .. } => path,
            Self::MissingRequired { fields } => fields.first().map_or("", String::as_str),
            Self::Syntax { .. } | Self::Internal { .. } => "",
        }
    }

    /// Whether the input was not JSON at all (as opposed to JSON that is not a valid message).
    pub fn is_syntax(&self) -> bool {
        matches!(self, Self::Syntax { .. })
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax { message } => write!(f, "not valid JSON: {message}"),
            Self::WrongType { path, expected } if path.is_empty() => write!(f, "expected {expected}"),
            Self::WrongType { path, expected } => write!(f, "field '{path}': expected {expected}"),
            Self::BadValue { path, message } => write!(f, "field '{path}': {message}"),
            Self::MissingRequired { fields } => write!(f, "Missing required fields: {}", fields.join(", ")),
            Self::Internal { message } => write!(f, "internal JSON transcoding error: {message}"),
        }
    }
}

impl std::error::Error for JsonError {}

/// A scheduler `Call` as the master's JSON (what a driver posts with `application/json`).
pub fn encode_call(call: &v1::scheduler::Call) -> Vec<u8> {
    encode(CALL, &call.encode_to_vec())
}

/// Parses a scheduler `Call` from JSON by the master's rules (see the module docs).
pub fn decode_call(json: &[u8]) -> Result<v1::scheduler::Call, JsonError> {
    let wire = to_wire(CALL, json)?;
    v1::scheduler::Call::decode(wire.as_slice()).map_err(|e| JsonError::Internal { message: e.to_string() })
}

/// A scheduler `Event` as the master's JSON (one RecordIO record of a JSON event stream).
pub fn encode_event(event: &v1::scheduler::Event) -> Vec<u8> {
    encode(EVENT, &event.encode_to_vec())
}

/// Parses a scheduler `Event` from JSON by the master's rules (see the module docs).
pub fn decode_event(json: &[u8]) -> Result<v1::scheduler::Event, JsonError> {
    let wire = to_wire(EVENT, json)?;
    v1::scheduler::Event::decode(wire.as_slice()).map_err(|e| JsonError::Internal { message: e.to_string() })
}

/// proto2's `IsInitialized` for a serialized `Call`: prost decodes a message whose required
/// fields are missing (they read as defaults), the master's `ParseFromString` does not. An
/// error lists the missing fields. Bytes that are not protobuf at all are not checked here.
pub fn check_call_required_fields(protobuf: &[u8]) -> Result<(), JsonError> {
    check_required_fields(CALL, protobuf)
}

/// proto2's `IsInitialized` for serialized bytes of the message named `root`.
fn check_required_fields(root: &str, protobuf: &[u8]) -> Result<(), JsonError> {
    let schema = schema()?;
    let mut missing = Vec::new();
    let mut path = String::new();
    if let Some(desc) = schema.messages.get(root) {
        schema.check_required(desc, protobuf, &mut path, &mut missing);
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(JsonError::MissingRequired { fields: missing })
    }
}

mod executor_api;
mod from_json;
mod operator;
mod schema;
#[cfg(test)]
mod tests;
mod to_json;
mod wire;

pub use executor_api::{
    check_executor_call_required_fields, decode_executor_call, decode_executor_event, encode_executor_call,
    encode_executor_event,
};
use from_json::*;
pub use operator::{
    check_operator_call_required_fields, decode_operator_call, decode_operator_response, encode_operator_call,
    encode_operator_response,
};
use schema::*;
use to_json::*;
