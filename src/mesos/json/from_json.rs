//! The master's JSON to protobuf wire bytes.

use super::schema::*;
use super::wire::*;
use super::*;

pub(super) fn to_wire(root: &str, json: &[u8]) -> Result<Vec<u8>, JsonError> {
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

pub(super) struct Transcoder<'s> {
    pub(super) schema: &'s Schema,
    pub(super) path: String,
    pub(super) missing: Vec<String>,
}

impl Transcoder<'_> {
    pub(super) fn message(
        &mut self,
        desc: &MessageDesc,
        object: &Map<String, Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
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

    pub(super) fn repeated(&mut self, field: &FieldDesc, value: &Value, out: &mut Vec<u8>) -> Result<(), JsonError> {
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
    pub(super) fn value(&mut self, field: &FieldDesc, value: &Value, out: &mut Vec<u8>) -> Result<bool, JsonError> {
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

    pub(super) fn integer(&self, kind: Kind, n: u32, value: &Value, out: &mut Vec<u8>) -> Result<(), JsonError> {
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

    pub(super) fn float(&self, value: &Value) -> Result<f64, JsonError> {
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

    pub(super) fn wrong_type(&self, expected: &'static str) -> JsonError {
        JsonError::WrongType { path: self.path.clone(), expected }
    }

    pub(super) fn bad_value(&self, message: String) -> JsonError {
        JsonError::BadValue { path: self.path.clone(), message }
    }
}

pub(super) fn put_len_delimited(number: u32, body: &[u8], out: &mut Vec<u8>) {
    encode_key(number, WireType::LengthDelimited, out);
    encode_varint(body.len() as u64, out);
    out.extend_from_slice(body);
}
