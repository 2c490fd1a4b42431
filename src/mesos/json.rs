//! The JSON encoding of the scheduler API (`Content-Type: application/json`), as the Mesos
//! master speaks it (stout's `protobuf.hpp`), which is *not* proto3 canonical JSON:
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
//! - after parsing, every `required` field must be present ("Missing required fields: …").
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
    let schema = schema()?;
    let mut missing = Vec::new();
    let mut path = String::new();
    if let Some(desc) = schema.messages.get(CALL) {
        schema.check_required(desc, protobuf, &mut path, &mut missing);
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(JsonError::MissingRequired { fields: missing })
    }
}

// ---------------------------------------------------------------------------------------------
// Descriptors.

/// A prost mirror of the parts of `google/protobuf/descriptor.proto` this module reads.
mod descriptor {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FileDescriptorSet {
        #[prost(message, repeated, tag = "1")]
        pub file: Vec<FileDescriptorProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FileDescriptorProto {
        #[prost(string, optional, tag = "2")]
        pub package: Option<String>,
        #[prost(message, repeated, tag = "4")]
        pub message_type: Vec<DescriptorProto>,
        #[prost(message, repeated, tag = "5")]
        pub enum_type: Vec<EnumDescriptorProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct DescriptorProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "2")]
        pub field: Vec<FieldDescriptorProto>,
        #[prost(message, repeated, tag = "3")]
        pub nested_type: Vec<DescriptorProto>,
        #[prost(message, repeated, tag = "4")]
        pub enum_type: Vec<EnumDescriptorProto>,
        #[prost(message, optional, tag = "7")]
        pub options: Option<MessageOptions>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct MessageOptions {
        #[prost(bool, optional, tag = "7")]
        pub map_entry: Option<bool>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FieldDescriptorProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(int32, optional, tag = "3")]
        pub number: Option<i32>,
        #[prost(int32, optional, tag = "4")]
        pub label: Option<i32>,
        #[prost(int32, optional, tag = "5")]
        pub r#type: Option<i32>,
        #[prost(string, optional, tag = "6")]
        pub type_name: Option<String>,
        #[prost(string, optional, tag = "7")]
        pub default_value: Option<String>,
        #[prost(message, optional, tag = "8")]
        pub options: Option<FieldOptions>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct FieldOptions {
        #[prost(bool, optional, tag = "3")]
        pub deprecated: Option<bool>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct EnumDescriptorProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(message, repeated, tag = "2")]
        pub value: Vec<EnumValueDescriptorProto>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct EnumValueDescriptorProto {
        #[prost(string, optional, tag = "1")]
        pub name: Option<String>,
        #[prost(int32, optional, tag = "2")]
        pub number: Option<i32>,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Label {
    Optional,
    Required,
    Repeated,
}

/// A field's type (`FieldDescriptorProto.Type`); groups are `Unsupported` and skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Double,
    Float,
    Int64,
    UInt64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Message,
    Bytes,
    UInt32,
    Enum,
    SFixed32,
    SFixed64,
    SInt32,
    SInt64,
    Unsupported,
}

impl Kind {
    fn from_descriptor(n: i32) -> Kind {
        const KINDS: [Kind; 18] = [
            Kind::Double,
            Kind::Float,
            Kind::Int64,
            Kind::UInt64,
            Kind::Int32,
            Kind::Fixed64,
            Kind::Fixed32,
            Kind::Bool,
            Kind::String,
            Kind::Unsupported, // TYPE_GROUP = 10
            Kind::Message,
            Kind::Bytes,
            Kind::UInt32,
            Kind::Enum,
            Kind::SFixed32,
            Kind::SFixed64,
            Kind::SInt32,
            Kind::SInt64,
        ];
        usize::try_from(n - 1).ok().and_then(|i| KINDS.get(i).copied()).unwrap_or(Kind::Unsupported)
    }

    /// The wire type of one (unpacked) value.
    fn wire_type(self) -> WireType {
        match self {
            Kind::Double | Kind::Fixed64 | Kind::SFixed64 => WireType::SixtyFourBit,
            Kind::Float | Kind::Fixed32 | Kind::SFixed32 => WireType::ThirtyTwoBit,
            Kind::String | Kind::Bytes | Kind::Message | Kind::Unsupported => WireType::LengthDelimited,
            _ => WireType::Varint,
        }
    }
}

#[derive(Debug)]
struct FieldDesc {
    name: String,
    number: u32,
    label: Label,
    kind: Kind,
    /// Fully qualified message or enum type name (`.mesos.v1.Offer`).
    type_name: String,
    /// The explicit `[default = …]`, if any, as descriptor text.
    default: Option<String>,
    deprecated: bool,
}

#[derive(Debug, Default)]
struct MessageDesc {
    fields: Vec<FieldDesc>,
    map_entry: bool,
}

#[derive(Debug, Default)]
struct Schema {
    messages: HashMap<String, MessageDesc>,
    enums: HashMap<String, Vec<(String, i32)>>,
}

fn schema() -> Result<&'static Schema, JsonError> {
    static SCHEMA: OnceLock<Result<Schema, String>> = OnceLock::new();
    SCHEMA
        .get_or_init(|| Schema::load(DESCRIPTORS))
        .as_ref()
        .map_err(|message| JsonError::Internal { message: message.clone() })
}

impl Schema {
    fn load(bytes: &[u8]) -> Result<Schema, String> {
        let set = descriptor::FileDescriptorSet::decode(bytes).map_err(|e| format!("bad descriptors: {e}"))?;
        let mut schema = Schema::default();
        for file in &set.file {
            let prefix = match file.package.as_deref() {
                Some(p) if !p.is_empty() => format!(".{p}"),
                _ => String::new(),
            };
            for e in &file.enum_type {
                schema.add_enum(&prefix, e);
            }
            for m in &file.message_type {
                schema.add_message(&prefix, m);
            }
        }
        Ok(schema)
    }

    fn add_enum(&mut self, prefix: &str, e: &descriptor::EnumDescriptorProto) {
        let values = e.value.iter().map(|v| (v.name.clone().unwrap_or_default(), v.number.unwrap_or(0))).collect();
        self.enums.insert(format!("{prefix}.{}", e.name.as_deref().unwrap_or_default()), values);
    }

    fn add_message(&mut self, prefix: &str, m: &descriptor::DescriptorProto) {
        let full = format!("{prefix}.{}", m.name.as_deref().unwrap_or_default());
        for e in &m.enum_type {
            self.add_enum(&full, e);
        }
        for nested in &m.nested_type {
            self.add_message(&full, nested);
        }
        let fields = m
            .field
            .iter()
            .map(|f| FieldDesc {
                name: f.name.clone().unwrap_or_default(),
                number: f.number.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
                label: match f.label {
                    Some(2) => Label::Required,
                    Some(3) => Label::Repeated,
                    _ => Label::Optional,
                },
                kind: Kind::from_descriptor(f.r#type.unwrap_or(0)),
                type_name: f.type_name.clone().unwrap_or_default(),
                default: f.default_value.clone(),
                deprecated: f.options.as_ref().and_then(|o| o.deprecated).unwrap_or(false),
            })
            .collect();
        let map_entry = m.options.as_ref().and_then(|o| o.map_entry).unwrap_or(false);
        self.messages.insert(full, MessageDesc { fields, map_entry });
    }

    fn map_entry(&self, field: &FieldDesc) -> Option<&MessageDesc> {
        if field.kind != Kind::Message || field.label != Label::Repeated {
            return None;
        }
        self.messages.get(&field.type_name).filter(|m| m.map_entry)
    }

    fn check_required(&self, desc: &MessageDesc, bytes: &[u8], path: &mut String, missing: &mut Vec<String>) {
        let (entries, _complete) = read_fields(bytes);
        for field in &desc.fields {
            let mark = push_field(path, &field.name);
            let mut values = entries.iter().filter(|(n, _)| *n == field.number).map(|(_, v)| v).peekable();
            if field.label == Label::Required && values.peek().is_none() {
                missing.push(path.clone());
            }
            if field.kind == Kind::Message {
                if let Some(sub) = self.messages.get(&field.type_name) {
                    for (i, value) in values.enumerate() {
                        if let WireValue::Bytes(b) = value {
                            let inner = path.len();
                            if field.label == Label::Repeated {
                                path.push_str(&format!("[{i}]"));
                            }
                            self.check_required(sub, b, path, missing);
                            path.truncate(inner);
                        }
                    }
                }
            }
            path.truncate(mark);
        }
    }
}

/// Appends `.name` (or `name` at the root) to `path`; returns the length to truncate back to.
fn push_field(path: &mut String, name: &str) -> usize {
    let mark = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
    mark
}

// ---------------------------------------------------------------------------------------------
// Protobuf wire format → JSON.

#[derive(Clone, Copy, Debug)]
enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

/// Splits a message into `(field number, value)` pairs; stops at the first malformed byte and
/// says whether the whole input was read.
fn read_fields(mut buf: &[u8]) -> (Vec<(u32, WireValue<'_>)>, bool) {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let Some(entry) = read_field(&mut buf) else { return (out, false) };
        out.push(entry);
    }
    (out, true)
}

fn read_field<'a>(buf: &mut &'a [u8]) -> Option<(u32, WireValue<'a>)> {
    let key = decode_varint(buf).ok()?;
    let number = u32::try_from(key >> 3).ok()?;
    let value = match key & 7 {
        0 => WireValue::Varint(decode_varint(buf).ok()?),
        1 => {
            let (head, rest) = buf.split_first_chunk::<8>()?;
            *buf = rest;
            WireValue::Fixed64(u64::from_le_bytes(*head))
        }
        2 => {
            let len = usize::try_from(decode_varint(buf).ok()?).ok()?;
            if len > buf.len() {
                return None;
            }
            let (head, rest) = buf.split_at(len);
            *buf = rest;
            WireValue::Bytes(head)
        }
        5 => {
            let (head, rest) = buf.split_first_chunk::<4>()?;
            *buf = rest;
            WireValue::Fixed32(u32::from_le_bytes(*head))
        }
        _ => return None,
    };
    Some((number, value))
}

fn encode(root: &str, wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire.len() * 2 + 16);
    match schema().ok().and_then(|s| s.messages.get(root).map(|d| (s, d))) {
        Some((schema, desc)) => schema.write_message(desc, wire, &mut out),
        None => out.extend_from_slice(b"{}"),
    }
    out
}

impl Schema {
    fn write_message(&self, desc: &MessageDesc, bytes: &[u8], out: &mut Vec<u8>) {
        let (entries, _complete) = read_fields(bytes);
        out.push(b'{');
        let mut first = true;
        for field in &desc.fields {
            let values: Vec<WireValue<'_>> =
                entries.iter().filter(|(n, _)| *n == field.number).map(|(_, v)| *v).collect();
            if field.label == Label::Repeated {
                if values.is_empty() {
                    continue;
                }
                write_key(out, &mut first, &field.name);
                match self.map_entry(field) {
                    Some(entry) => self.write_map(entry, &values, out),
                    None => self.write_array(field, &values, out),
                }
            } else if let Some(value) = values.last() {
                if field.kind == Kind::Message {
                    if let (WireValue::Bytes(b), Some(sub)) = (value, self.messages.get(&field.type_name)) {
                        write_key(out, &mut first, &field.name);
                        self.write_message(sub, b, out);
                    }
                } else if let Some(v) = self.scalar_json(field, *value) {
                    write_key(out, &mut first, &field.name);
                    write_json(out, &v);
                }
            } else if field.label == Label::Optional && !field.deprecated {
                if let Some(v) = field.default.as_deref().and_then(|d| default_json(field.kind, d)) {
                    write_key(out, &mut first, &field.name);
                    write_json(out, &v);
                }
            }
        }
        out.push(b'}');
    }

    fn write_array(&self, field: &FieldDesc, values: &[WireValue<'_>], out: &mut Vec<u8>) {
        out.push(b'[');
        let mut first = true;
        let mut item = |out: &mut Vec<u8>, write: &dyn Fn(&mut Vec<u8>)| {
            if !first {
                out.push(b',');
            }
            first = false;
            write(out);
        };
        for value in values {
            match (field.kind, value) {
                (Kind::Message, WireValue::Bytes(b)) => {
                    if let Some(sub) = self.messages.get(&field.type_name) {
                        item(out, &|out| self.write_message(sub, b, out));
                    }
                }
                (Kind::String | Kind::Bytes, _) => {
                    if let Some(v) = self.scalar_json(field, *value) {
                        item(out, &|out| write_json(out, &v));
                    }
                }
                (kind, WireValue::Bytes(packed)) if kind != Kind::Unsupported => {
                    for v in unpack(kind, packed).into_iter().filter_map(|v| self.scalar_json(field, v)) {
                        item(out, &|out| write_json(out, &v));
                    }
                }
                _ => {
                    if let Some(v) = self.scalar_json(field, *value) {
                        item(out, &|out| write_json(out, &v));
                    }
                }
            }
        }
        out.push(b']');
    }

    fn write_map(&self, entry: &MessageDesc, values: &[WireValue<'_>], out: &mut Vec<u8>) {
        let key_field = entry.fields.iter().find(|f| f.number == 1);
        let value_field = entry.fields.iter().find(|f| f.number == 2);
        out.push(b'{');
        let mut first = true;
        for value in values {
            let (WireValue::Bytes(b), Some(kf), Some(vf)) = (value, key_field, value_field) else { continue };
            let (fields, _) = read_fields(b);
            let key = fields.iter().rev().find(|(n, _)| *n == 1).and_then(|(_, v)| self.scalar_json(kf, *v));
            let key = match key {
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
                None => default_json(kf.kind, "").map(|v| v.to_string()).unwrap_or_default(),
            };
            write_key(out, &mut first, &key);
            match fields.iter().rev().find(|(n, _)| *n == 2) {
                Some((_, WireValue::Bytes(vb))) if vf.kind == Kind::Message => match self.messages.get(&vf.type_name) {
                    Some(sub) => self.write_message(sub, vb, out),
                    None => out.extend_from_slice(b"{}"),
                },
                Some((_, v)) => match self.scalar_json(vf, *v) {
                    Some(json) => write_json(out, &json),
                    None => out.extend_from_slice(b"null"),
                },
                None if vf.kind == Kind::Message => out.extend_from_slice(b"{}"),
                None => write_json(out, &default_json(vf.kind, "").unwrap_or(Value::Null)),
            }
        }
        out.push(b'}');
    }

    /// One non-message value as JSON; `None` when the wire type does not fit the field.
    fn scalar_json(&self, field: &FieldDesc, value: WireValue<'_>) -> Option<Value> {
        use WireValue::{Bytes, Fixed32, Fixed64, Varint};
        Some(match (field.kind, value) {
            (Kind::Double, Fixed64(v)) => float_json(f64::from_bits(v)),
            (Kind::Float, Fixed32(v)) => {
                let f = f32::from_bits(v);
                if f.is_finite() {
                    Value::from(f)
                } else {
                    float_json(f64::from(f))
                }
            }
            (Kind::Int64, Varint(v)) => Value::from(v as i64),
            (Kind::UInt64, Varint(v)) => Value::from(v),
            (Kind::Int32, Varint(v)) => Value::from(v as i32),
            (Kind::UInt32, Varint(v)) => Value::from(v as u32),
            (Kind::SInt32, Varint(v)) => Value::from(((v as u32) >> 1) as i32 ^ -((v & 1) as i32)),
            (Kind::SInt64, Varint(v)) => Value::from((v >> 1) as i64 ^ -((v & 1) as i64)),
            (Kind::Fixed64, Fixed64(v)) => Value::from(v),
            (Kind::SFixed64, Fixed64(v)) => Value::from(v as i64),
            (Kind::Fixed32, Fixed32(v)) => Value::from(v),
            (Kind::SFixed32, Fixed32(v)) => Value::from(v as i32),
            (Kind::Bool, Varint(v)) => Value::Bool(v != 0),
            (Kind::Enum, Varint(v)) => {
                let n = v as i32;
                match self.enums.get(&field.type_name).and_then(|vals| vals.iter().find(|(_, x)| *x == n)) {
                    Some((name, _)) => Value::String(name.clone()),
                    None => Value::from(n),
                }
            }
            (Kind::String, Bytes(b)) => Value::String(String::from_utf8_lossy(b).into_owned()),
            (Kind::Bytes, Bytes(b)) => Value::String(STANDARD.encode(b)),
            _ => return None,
        })
    }
}

/// The values of a packed repeated scalar field.
fn unpack(kind: Kind, mut buf: &[u8]) -> Vec<WireValue<'_>> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let value = match kind.wire_type() {
            WireType::Varint => decode_varint(&mut buf).ok().map(WireValue::Varint),
            WireType::SixtyFourBit => buf.split_first_chunk::<8>().map(|(h, rest)| {
                buf = rest;
                WireValue::Fixed64(u64::from_le_bytes(*h))
            }),
            WireType::ThirtyTwoBit => buf.split_first_chunk::<4>().map(|(h, rest)| {
                buf = rest;
                WireValue::Fixed32(u32::from_le_bytes(*h))
            }),
            _ => None,
        };
        match value {
            Some(v) => out.push(v),
            None => break,
        }
    }
    out
}

fn float_json(f: f64) -> Value {
    if f.is_finite() {
        Value::from(f)
    } else if f.is_nan() {
        Value::String("NaN".into())
    } else if f > 0.0 {
        Value::String("Infinity".into())
    } else {
        Value::String("-Infinity".into())
    }
}

/// An explicit default (descriptor text) as JSON; `None` for kinds it is not written for.
fn default_json(kind: Kind, text: &str) -> Option<Value> {
    match kind {
        Kind::Double | Kind::Float => match text {
            "inf" => Some(float_json(f64::INFINITY)),
            "-inf" => Some(float_json(f64::NEG_INFINITY)),
            "nan" => Some(float_json(f64::NAN)),
            "" => Some(Value::from(0.0)),
            t => t.parse::<f64>().ok().map(float_json),
        },
        Kind::Int64 | Kind::Int32 | Kind::SInt32 | Kind::SInt64 | Kind::SFixed32 | Kind::SFixed64 => {
            if text.is_empty() {
                Some(Value::from(0))
            } else {
                text.parse::<i64>().ok().map(Value::from)
            }
        }
        Kind::UInt64 | Kind::UInt32 | Kind::Fixed32 | Kind::Fixed64 => {
            if text.is_empty() {
                Some(Value::from(0))
            } else {
                text.parse::<u64>().ok().map(Value::from)
            }
        }
        Kind::Bool => Some(Value::Bool(text == "true")),
        Kind::String | Kind::Enum => Some(Value::String(text.to_owned())),
        Kind::Bytes | Kind::Message | Kind::Unsupported => None,
    }
}

fn write_key(out: &mut Vec<u8>, first: &mut bool, name: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    write_json(out, &Value::String(name.to_owned()));
    out.push(b':');
}

fn write_json(out: &mut Vec<u8>, value: &Value) {
    // Writing a `Value` into a `Vec` cannot fail (no I/O, string keys only).
    let _ = serde_json::to_writer(&mut *out, value);
}

// ---------------------------------------------------------------------------------------------
// JSON → protobuf wire format.

fn to_wire(root: &str, json: &[u8]) -> Result<Vec<u8>, JsonError> {
    let value: Value = serde_json::from_slice(json).map_err(|e| JsonError::Syntax { message: e.to_string() })?;
    let schema = schema()?;
    let desc = schema.messages.get(root).ok_or_else(|| JsonError::Internal { message: format!("no {root}") })?;
    let Value::Object(object) = value else {
        return Err(JsonError::WrongType { path: String::new(), expected: "an object" });
    };
    let mut transcoder = Transcoder { schema, path: String::new(), missing: Vec::new() };
    let mut out = Vec::new();
    transcoder.message(desc, &object, &mut out)?;
    if transcoder.missing.is_empty() {
        Ok(out)
    } else {
        Err(JsonError::MissingRequired { fields: transcoder.missing })
    }
}

struct Transcoder<'s> {
    schema: &'s Schema,
    path: String,
    missing: Vec<String>,
}

impl Transcoder<'_> {
    fn message(&mut self, desc: &MessageDesc, object: &Map<String, Value>, out: &mut Vec<u8>) -> Result<(), JsonError> {
        for field in &desc.fields {
            let mark = push_field(&mut self.path, &field.name);
            match object.get(&field.name) {
                None | Some(Value::Null) => {
                    if field.label == Label::Required {
                        self.missing.push(self.path.clone());
                    }
                }
                Some(value) if field.label == Label::Repeated => self.repeated(field, value, out)?,
                Some(value) => {
                    let written = self.value(field, value, out)?;
                    if !written && field.label == Label::Required {
                        self.missing.push(self.path.clone());
                    }
                }
            }
            self.path.truncate(mark);
        }
        Ok(())
    }

    fn repeated(&mut self, field: &FieldDesc, value: &Value, out: &mut Vec<u8>) -> Result<(), JsonError> {
        if let Some(entry) = self.schema.map_entry(field) {
            let Value::Object(map) = value else { return Err(self.wrong_type("an object (map)")) };
            let named: Vec<&str> = entry.fields.iter().map(|f| f.name.as_str()).collect();
            if named != ["key", "value"] {
                return Err(JsonError::Internal { message: format!("map entry of {} is not key/value", field.name) });
            }
            for (key, item) in map {
                if item.is_null() {
                    continue;
                }
                let mark = self.path.len();
                self.path.push_str(&format!("[{key:?}]"));
                let mut pair = Map::new();
                pair.insert("key".into(), Value::String(key.clone()));
                pair.insert("value".into(), item.clone());
                let mut body = Vec::new();
                self.message(entry, &pair, &mut body)?;
                put_len_delimited(field.number, &body, out);
                self.path.truncate(mark);
            }
            return Ok(());
        }
        let Value::Array(items) = value else { return Err(self.wrong_type("an array")) };
        for (i, item) in items.iter().enumerate() {
            if item.is_null() {
                continue;
            }
            let mark = self.path.len();
            self.path.push_str(&format!("[{i}]"));
            self.value(field, item, out)?;
            self.path.truncate(mark);
        }
        Ok(())
    }

    /// Writes one value of `field`; `Ok(false)` when it is dropped (an unknown enum name).
    fn value(&mut self, field: &FieldDesc, value: &Value, out: &mut Vec<u8>) -> Result<bool, JsonError> {
        let n = field.number;
        match field.kind {
            Kind::Message => {
                let Value::Object(object) = value else { return Err(self.wrong_type("an object")) };
                let desc = self.schema.messages.get(&field.type_name).ok_or_else(|| JsonError::Internal {
                    message: format!("unknown message type {}", field.type_name),
                })?;
                let mut body = Vec::new();
                self.message(desc, object, &mut body)?;
                put_len_delimited(n, &body, out);
            }
            Kind::Enum => {
                let Value::String(name) = value else { return Err(self.wrong_type("a string (an enum value name)")) };
                let number = self
                    .schema
                    .enums
                    .get(&field.type_name)
                    .and_then(|values| values.iter().find(|(v, _)| v == name))
                    .map(|(_, number)| *number);
                match number {
                    Some(number) => {
                        encode_key(n, WireType::Varint, out);
                        encode_varint(number as i64 as u64, out);
                    }
                    None if field.label == Label::Required => {
                        return Err(self.bad_value(format!("unknown enum value name {name:?}")));
                    }
                    None => return Ok(false),
                }
            }
            Kind::String => {
                let Value::String(s) = value else { return Err(self.wrong_type("a string")) };
                put_len_delimited(n, s.as_bytes(), out);
            }
            Kind::Bytes => {
                let Value::String(s) = value else { return Err(self.wrong_type("a base64 string")) };
                let bytes =
                    BASE64_LENIENT.decode(s).map_err(|e| self.bad_value(format!("failed to base64 decode: {e}")))?;
                put_len_delimited(n, &bytes, out);
            }
            Kind::Bool => {
                let b = match value {
                    Value::Bool(b) => *b,
                    Value::String(s) if s == "true" => true,
                    Value::String(s) if s == "false" => false,
                    _ => return Err(self.wrong_type("a boolean")),
                };
                encode_key(n, WireType::Varint, out);
                encode_varint(u64::from(b), out);
            }
            Kind::Double | Kind::Float => {
                let f = self.float(value)?;
                if field.kind == Kind::Double {
                    encode_key(n, WireType::SixtyFourBit, out);
                    out.extend_from_slice(&f.to_le_bytes());
                } else {
                    encode_key(n, WireType::ThirtyTwoBit, out);
                    out.extend_from_slice(&(f as f32).to_le_bytes());
                }
            }
            Kind::Unsupported => return Ok(false),
            kind => self.integer(kind, n, value, out)?,
        }
        Ok(true)
    }

    fn integer(&self, kind: Kind, n: u32, value: &Value, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let (min, max): (i128, i128) = match kind {
            Kind::Int32 | Kind::SInt32 | Kind::SFixed32 => (i32::MIN.into(), i32::MAX.into()),
            Kind::UInt32 | Kind::Fixed32 => (0, u32::MAX.into()),
            Kind::UInt64 | Kind::Fixed64 => (0, u64::MAX.into()),
            _ => (i64::MIN.into(), i64::MAX.into()),
        };
        let v = match value {
            Value::Number(num) => {
                if let Some(i) = num.as_i64() {
                    i128::from(i)
                } else if let Some(u) = num.as_u64() {
                    i128::from(u)
                } else {
                    let f = num.as_f64().unwrap_or(f64::NAN);
                    if f.fract() != 0.0 || !f.is_finite() || f.abs() > 1.8e19 {
                        return Err(self.bad_value(format!("{num} is not an integer")));
                    }
                    f as i128
                }
            }
            Value::String(s) => {
                s.trim().parse::<i128>().map_err(|_| self.bad_value(format!("{s:?} is not an integer")))?
            }
            _ => return Err(self.wrong_type("an integer (number or numeric string)")),
        };
        if v < min || v > max {
            return Err(self.bad_value(format!("{v} is out of range")));
        }
        match kind {
            Kind::Fixed32 | Kind::SFixed32 => {
                encode_key(n, WireType::ThirtyTwoBit, out);
                out.extend_from_slice(&(v as u32).to_le_bytes());
            }
            Kind::Fixed64 | Kind::SFixed64 => {
                encode_key(n, WireType::SixtyFourBit, out);
                out.extend_from_slice(&(v as u64).to_le_bytes());
            }
            Kind::SInt32 => {
                encode_key(n, WireType::Varint, out);
                let i = v as i32;
                encode_varint(u64::from(((i << 1) ^ (i >> 31)) as u32), out);
            }
            Kind::SInt64 => {
                encode_key(n, WireType::Varint, out);
                let i = v as i64;
                encode_varint(((i << 1) ^ (i >> 63)) as u64, out);
            }
            _ => {
                // int32/int64 negatives are sign-extended to 64 bits, as protobuf does.
                encode_key(n, WireType::Varint, out);
                encode_varint(v as i64 as u64, out);
            }
        }
        Ok(())
    }

    fn float(&self, value: &Value) -> Result<f64, JsonError> {
        match value {
            Value::Number(num) => num.as_f64().ok_or_else(|| self.bad_value(format!("{num} is not a number"))),
            Value::String(s) => match s.trim() {
                "Infinity" | "inf" => Ok(f64::INFINITY),
                "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
                "NaN" | "nan" => Ok(f64::NAN),
                t => t.parse::<f64>().map_err(|_| self.bad_value(format!("{s:?} is not a number"))),
            },
            _ => Err(self.wrong_type("a number (or numeric string)")),
        }
    }

    fn wrong_type(&self, expected: &'static str) -> JsonError {
        JsonError::WrongType { path: self.path.clone(), expected }
    }

    fn bad_value(&self, message: String) -> JsonError {
        JsonError::BadValue { path: self.path.clone(), message }
    }
}

fn put_len_delimited(number: u32, body: &[u8], out: &mut Vec<u8>) {
    encode_key(number, WireType::LengthDelimited, out);
    encode_varint(body.len() as u64, out);
    out.extend_from_slice(body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use v1::scheduler::{call, event, Call, Event};

    fn call(json: &str) -> Result<Call, JsonError> {
        decode_call(json.as_bytes())
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn schema_loads_call_and_event() {
        let s = schema().unwrap();
        assert!(s.messages.contains_key(CALL) && s.messages.contains_key(EVENT));
        assert!(s.enums.contains_key(".mesos.v1.TaskState"));
    }

    #[test]
    fn json_encode_subscribed_keeps_field_names_and_order() {
        let event = Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                framework_id: v1::FrameworkId { value: "fw-1".into() },
                heartbeat_interval_seconds: Some(15.0),
                master_info: None,
            }),
            ..Default::default()
        };
        assert_eq!(
            text(encode_event(&event)),
            r#"{"type":"SUBSCRIBED","subscribed":{"framework_id":{"value":"fw-1"},"heartbeat_interval_seconds":15.0}}"#
        );
        assert_eq!(decode_event(&encode_event(&event)).unwrap(), event);
    }

    #[test]
    fn json_error_event_is_nested() {
        let event = Event {
            r#type: Some(event::Type::Error as i32),
            error: Some(event::Error { message: "Framework failed over".into() }),
            ..Default::default()
        };
        assert_eq!(text(encode_event(&event)), r#"{"type":"ERROR","error":{"message":"Framework failed over"}}"#);
        // The docs' top-level `message` is the MESSAGE event's field, a message: an error.
        let err = decode_event(br#"{"type":"ERROR","message":"x"}"#).unwrap_err();
        assert_eq!(err.to_string(), "field 'message': expected an object");
    }

    #[test]
    fn json_decode_null_unknown_keys_and_camel_case() {
        let c = call(
            r#"{"type":"SUBSCRIBE","framework_id":null,"stray":[1,2],"subscribe":{"framework_info":
               {"user":"u","name":"n","capabilities":null,"roles":["a",null,"b"],"failoverTimeout":9}}}"#,
        )
        .unwrap();
        let info = &c.subscribe.unwrap().framework_info;
        assert_eq!(info.roles, ["a", "b"]);
        assert_eq!(info.failover_timeout, None);
        let err = call(r#"{"type":"SUBSCRIBE","subscribe":{"frameworkInfo":{"user":"u","name":"n"}}}"#).unwrap_err();
        assert_eq!(err.path(), "subscribe.framework_info");
    }

    #[test]
    fn json_decode_numbers_from_strings_and_infinity() {
        let c = call(
            r#"{"type":"DECLINE","framework_id":{"value":"f"},"decline":{"filters":{"refuse_seconds":"Infinity"}}}"#,
        )
        .unwrap();
        assert_eq!(c.decline.unwrap().filters.unwrap().refuse_seconds(), f64::INFINITY);
        let c = call(
            r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","failover_timeout":"7.5"}}}"#,
        )
        .unwrap();
        assert_eq!(c.subscribe.unwrap().framework_info.failover_timeout, Some(7.5));
    }

    #[test]
    fn json_decode_rejects_enum_numbers_and_bad_integers() {
        let err = call(r#"{"type":3}"#).unwrap_err();
        assert!(matches!(err, JsonError::WrongType { ref path, .. } if path == "type"), "{err}");
        // An unknown name in an optional enum is dropped.
        assert_eq!(call(r#"{"type":"NOPE"}"#).unwrap().r#type, None);
        let status = r#"{"type":"UPDATE","update":{"status":{"task_id":{"value":"t"},"state":"TASK_NOPE"}}}"#;
        let err = decode_event(status.as_bytes()).unwrap_err();
        assert_eq!(err.path(), "update.status.state");
        let err = decode_event(br#"{"type":"FAILURE","failure":{"status":1.5}}"#).unwrap_err();
        assert_eq!(err.path(), "failure.status");
        let err = decode_event(br#"{"type":"FAILURE","failure":{"status":"4294967296"}}"#).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
        assert_eq!(decode_event(br#"{"failure":{"status":-3}}"#).unwrap().failure.unwrap().status, Some(-3));
    }

    #[test]
    fn json_bytes_are_base64() {
        let body = r#"{"type":"ACKNOWLEDGE","framework_id":{"value":"f"},"acknowledge":{"agent_id":{"value":"a"},
                      "task_id":{"value":"t"},"uuid":"AAECAwQFBgcICQoLDA0ODw=="}}"#;
        let c = call(body).unwrap();
        assert_eq!(c.acknowledge.as_ref().unwrap().uuid, (0u8..16).collect::<Vec<_>>());
        assert!(text(encode_call(&c)).contains(r#""uuid":"AAECAwQFBgcICQoLDA0ODw==""#));
        let err = call(&body.replace("AAECAwQFBgcICQoLDA0ODw==", "not base64!")).unwrap_err();
        assert_eq!(err.path(), "acknowledge.uuid");
    }

    #[test]
    fn json_encode_writes_explicit_defaults_but_not_deprecated_ones() {
        let c = Call {
            framework_id: Some(v1::FrameworkId { value: "f".into() }),
            r#type: Some(call::Type::Decline as i32),
            decline: Some(call::Decline { offer_ids: vec![], filters: Some(v1::Filters::default()) }),
            ..Default::default()
        };
        assert!(text(encode_call(&c)).ends_with(r#""decline":{"filters":{"refuse_seconds":5.0}}}"#));
        let r = v1::Resource { name: "cpus".into(), r#type: v1::value::Type::Scalar as i32, ..Default::default() };
        let offer = v1::Offer { resources: vec![r], ..Default::default() };
        let e = Event {
            r#type: Some(event::Type::Offers as i32),
            offers: Some(event::Offers { offers: vec![offer] }),
            ..Default::default()
        };
        let json = text(encode_event(&e));
        assert!(json.contains(r#""resources":[{"name":"cpus","type":"SCALAR"}]"#), "{json}");
        assert!(json.starts_with(r#"{"type":"OFFERS","offers":{"offers":[{"id":{"value":""}"#), "{json}");
    }

    #[test]
    fn json_check_call_required_fields_finds_nested_gaps() {
        let c = Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe::default()),
            ..Default::default()
        };
        // prost writes required strings even when empty, so the bytes are complete.
        check_call_required_fields(&c.encode_to_vec()).unwrap();
        // SUBSCRIBE with an empty `subscribe` message: framework_info is missing.
        let err = check_call_required_fields(&[0x10, 0x01, 0x1a, 0x00]).unwrap_err();
        assert_eq!(err.to_string(), "Missing required fields: subscribe.framework_info");
    }

    #[test]
    fn json_errors_for_non_objects_and_syntax() {
        assert!(call("[1]").unwrap_err().to_string().contains("expected an object"));
        assert!(call("{").unwrap_err().is_syntax());
        let err =
            call(r#"{"type":"ACCEPT","framework_id":{"value":"f"},"accept":{"offer_ids":{"value":"o"}}}"#).unwrap_err();
        assert_eq!(err.to_string(), "field 'accept.offer_ids': expected an array");
    }
}
