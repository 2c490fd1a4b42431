//! Reading protobuf wire bytes field by field, and field paths for error messages.

use super::*;

/// Appends `.name` (or `name` at the root) to `path`; returns the length to truncate back to.
pub(super) fn push_field(path: &mut String, name: &str) -> usize {
    let mark = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(name);
    mark
}

#[derive(Clone, Copy, Debug)]
pub(super) enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Bytes(&'a [u8]),
}

/// Splits a message into `(field number, value)` pairs; stops at the first malformed byte and
/// says whether the whole input was read.
pub(super) fn read_fields(mut buf: &[u8]) -> (Vec<(u32, WireValue<'_>)>, bool) {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let Some(entry) = read_field(&mut buf) else { return (out, false) };
        out.push(entry);
    }
    (out, true)
}

pub(super) fn read_field<'a>(buf: &mut &'a [u8]) -> Option<(u32, WireValue<'a>)> {
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
