//! Protobuf wire bytes to the master's JSON.

use super::schema::*;
use super::wire::*;
use super::*;

pub(super) fn encode(root: &str, wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire.len() * 2 + 16);
    match schema().ok().and_then(|s| s.messages.get(root).map(|d| (s, d))) {
        Some((schema, desc)) => schema.write_message(desc, wire, &mut out),
        None => out.extend_from_slice(b"{}"),
    }
    out
}

impl Schema {
    pub(super) fn write_message(&self, desc: &MessageDesc, bytes: &[u8], out: &mut Vec<u8>) {
        let (entries, _complete) = read_fields(bytes);
        out.push(b'{');
        let mut first = true;
        for field in &desc.fields {
            let values: Vec<WireValue<'_>> =
                entries.iter().filter(|(n, _)| *n == field.number).map(|(_, v)| *v).collect();
            if field.label == Label::Repeated {
                if values.is_empty() {
                    if field.write_empty {
                        write_key(out, &mut first, &field.name);
                        out.extend_from_slice(b"[]");
                    }
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

    pub(super) fn write_array(&self, field: &FieldDesc, values: &[WireValue<'_>], out: &mut Vec<u8>) {
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

    pub(super) fn write_map(&self, entry: &MessageDesc, values: &[WireValue<'_>], out: &mut Vec<u8>) {
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
    pub(super) fn scalar_json(&self, field: &FieldDesc, value: WireValue<'_>) -> Option<Value> {
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
pub(super) fn unpack(kind: Kind, mut buf: &[u8]) -> Vec<WireValue<'_>> {
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

pub(super) fn float_json(f: f64) -> Value {
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
pub(super) fn default_json(kind: Kind, text: &str) -> Option<Value> {
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

pub(super) fn write_key(out: &mut Vec<u8>, first: &mut bool, name: &str) {
    if !*first {
        out.push(b',');
    }
    *first = false;
    write_json(out, &Value::String(name.to_owned()));
    out.push(b':');
}

pub(super) fn write_json(out: &mut Vec<u8>, value: &Value) {
    // Writing a `Value` into a `Vec` cannot fail (no I/O, string keys only).
    let _ = serde_json::to_writer(&mut *out, value);
}
