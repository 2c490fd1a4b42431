//! RecordIO, the framing of the scheduler API event stream: every record is its length in
//! decimal ASCII, a line feed, then exactly that many bytes (`21\n<21 bytes>`), with nothing
//! between records. HTTP chunk boundaries are unrelated to record boundaries, so the
//! [`Decoder`] takes bytes in any chunking and hands out whole records.
//!
//! The decoder is strict where the master is: a header must be one or more ASCII digits and
//! a line feed. It bounds memory by a maximum record size: a declared length above it is an
//! error before any byte of the record is stored, and a record's buffer grows with the bytes
//! that actually arrive, never beyond the declared length.
//!
//! ```
//! use offerpack::mesos::recordio::{self, Decoder};
//!
//! let mut wire = bytes::BytesMut::new();
//! recordio::encode(b"{\"type\":\"HEARTBEAT\"}", &mut wire);
//! assert_eq!(&wire[..], b"20\n{\"type\":\"HEARTBEAT\"}");
//!
//! let mut decoder = Decoder::new();
//! for chunk in wire.chunks(3) {
//!     decoder.push(chunk);
//! }
//! assert_eq!(&decoder.next_frame().unwrap().unwrap()[..], b"{\"type\":\"HEARTBEAT\"}");
//! assert_eq!(decoder.next_frame().unwrap(), None);
//! decoder.finish().unwrap();
//! ```

use std::collections::VecDeque;
use std::fmt;

use bytes::{Bytes, BytesMut};

/// The default largest record accepted by [`Decoder::new`]: 64 MiB.
///
/// A large cluster's OFFERS event in JSON runs to a few MiB; this leaves ample room while
/// still refusing absurd lengths.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 64 << 20;

/// The most digits a header may have: `u64::MAX` has 20.
const MAX_HEADER_DIGITS: usize = 20;

/// The first allocation for a record's body; it then doubles up to the declared length.
const INITIAL_FRAME_CAPACITY: usize = 64 << 10;

/// Why a RecordIO stream cannot be decoded. Offsets count bytes from the start of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordIoError {
    /// A header byte that is neither an ASCII digit nor the line feed ending the header.
    InvalidHeader {
        /// Stream offset of the offending byte.
        offset: u64,
        /// The offending byte.
        byte: u8,
    },
    /// A line feed with no digits before it.
    EmptyHeader {
        /// Stream offset of the line feed.
        offset: u64,
    },
    /// More header digits than any 64-bit length needs.
    HeaderTooLong {
        /// Stream offset of the first digit too many.
        offset: u64,
    },
    /// A declared record length above the decoder's maximum.
    FrameTooLarge {
        /// Stream offset of the line feed ending the header.
        offset: u64,
        /// The declared length (saturated at `u64::MAX`).
        length: u64,
        /// The decoder's maximum record size.
        max: usize,
    },
    /// The stream ended inside a header.
    TruncatedHeader {
        /// Header digits read before the end.
        digits: usize,
    },
    /// The stream ended inside a record.
    TruncatedFrame {
        /// The record's declared length.
        expected: usize,
        /// Bytes of it that arrived.
        received: usize,
    },
}

impl fmt::Display for RecordIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidHeader { offset, byte } => {
                write!(f, "RecordIO header has byte {byte:#04x} at offset {offset}, expected a digit")
            }
            Self::EmptyHeader { offset } => {
                write!(f, "RecordIO header at offset {offset} has no digits")
            }
            Self::HeaderTooLong { offset } => {
                write!(f, "RecordIO header longer than {MAX_HEADER_DIGITS} digits at offset {offset}")
            }
            Self::FrameTooLarge { offset, length, max } => write!(
                f,
                "RecordIO record of {length} bytes (header ending at offset {offset}) exceeds the \
                 maximum of {max} bytes"
            ),
            Self::TruncatedHeader { digits } => {
                write!(f, "RecordIO stream ended inside a header after {digits} digits")
            }
            Self::TruncatedFrame { expected, received } => {
                write!(f, "RecordIO stream ended inside a record: {received} of {expected} bytes arrived")
            }
        }
    }
}

impl std::error::Error for RecordIoError {}

/// Where the decoder is in the stream.
#[derive(Debug)]
enum State {
    /// Reading a header: the digits so far (saturating) and their count.
    Header { length: u64, digits: usize },
    /// Reading a record of `expected` bytes.
    Body { frame: Vec<u8>, expected: usize },
    /// A bad header or a truncated stream; nothing more is decoded.
    Failed(RecordIoError),
}

impl State {
    const START: State = State::Header { length: 0, digits: 0 };
}

/// An incremental RecordIO decoder: [`push`](Decoder::push) bytes as they arrive, in chunks
/// of any size, and pull whole records out with [`next_frame`](Decoder::next_frame).
///
/// Records complete before an error are still handed out; the error follows them and then
/// stays (the stream cannot be resynchronised after a bad header). Call
/// [`finish`](Decoder::finish) when the stream ends to learn whether it ended mid-record.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    ready: VecDeque<Bytes>,
    max_frame_size: usize,
    offset: u64,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder accepting records up to [`DEFAULT_MAX_FRAME_SIZE`] bytes.
    pub fn new() -> Decoder {
        Decoder::with_max_frame_size(DEFAULT_MAX_FRAME_SIZE)
    }

    /// A decoder accepting records up to `max_frame_size` bytes.
    pub fn with_max_frame_size(max_frame_size: usize) -> Decoder {
        Decoder { state: State::START, ready: VecDeque::new(), max_frame_size, offset: 0 }
    }

    /// The largest record this decoder accepts.
    pub fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// Feeds the next bytes of the stream. Bytes after an error are ignored.
    pub fn push(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            let used = match &mut self.state {
                State::Failed(_) => return,
                State::Header { length, digits } => {
                    let (length, digits) = (*length, *digits);
                    self.state = self.after_header_byte(length, digits, input[0]);
                    1
                }
                State::Body { frame, expected } => {
                    let used = (*expected - frame.len()).min(input.len());
                    let (take, _) = input.split_at(used);
                    grow_within(frame, used, *expected);
                    frame.extend_from_slice(take);
                    if frame.len() == *expected {
                        let frame = std::mem::take(frame);
                        self.ready.push_back(Bytes::from(frame));
                        self.state = State::START;
                    }
                    used
                }
            };
            input = &input[used..];
            self.offset += used as u64;
        }
    }

    /// The state after one more header byte, given the header so far.
    fn after_header_byte(&mut self, length: u64, digits: usize, byte: u8) -> State {
        let offset = self.offset;
        match byte {
            b'0'..=b'9' if digits == MAX_HEADER_DIGITS => State::Failed(RecordIoError::HeaderTooLong { offset }),
            b'0'..=b'9' => State::Header {
                length: length.saturating_mul(10).saturating_add(u64::from(byte - b'0')),
                digits: digits + 1,
            },
            b'\n' if digits == 0 => State::Failed(RecordIoError::EmptyHeader { offset }),
            b'\n' => match usize::try_from(length) {
                Ok(0) => {
                    self.ready.push_back(Bytes::new());
                    State::START
                }
                Ok(expected) if expected <= self.max_frame_size => {
                    let frame = Vec::with_capacity(expected.min(INITIAL_FRAME_CAPACITY));
                    State::Body { frame, expected }
                }
                _ => State::Failed(RecordIoError::FrameTooLarge { offset, length, max: self.max_frame_size }),
            },
            _ => State::Failed(RecordIoError::InvalidHeader { offset, byte }),
        }
    }

    /// The next complete record, `Ok(None)` when more bytes are needed, or the stream's error
    /// once the records before it have been taken.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, RecordIoError> {
        if let Some(frame) = self.ready.pop_front() {
            return Ok(Some(frame));
        }
        match &self.state {
            State::Failed(error) => Err(error.clone()),
            _ => Ok(None),
        }
    }

    /// Marks the end of the stream: an error if it ended inside a header or a record (or had
    /// failed before). Records already complete can still be taken with `next_frame`.
    pub fn finish(&mut self) -> Result<(), RecordIoError> {
        let error = match &self.state {
            State::Header { digits: 0, .. } => return Ok(()),
            State::Header { digits, .. } => RecordIoError::TruncatedHeader { digits: *digits },
            State::Body { frame, expected } => {
                RecordIoError::TruncatedFrame { expected: *expected, received: frame.len() }
            }
            State::Failed(error) => error.clone(),
        };
        self.state = State::Failed(error.clone());
        Err(error)
    }

    /// Whether the decoder sits between records with nothing pending or buffered.
    pub fn is_idle(&self) -> bool {
        self.ready.is_empty() && matches!(self.state, State::Header { digits: 0, .. })
    }
}

/// Makes room for `more` bytes in `frame` without ever reserving past `limit` in total:
/// capacity doubles (amortised linear copying) but is capped at the declared record length.
fn grow_within(frame: &mut Vec<u8>, more: usize, limit: usize) {
    let needed = frame.len() + more;
    if needed <= frame.capacity() {
        return;
    }
    let target = needed.max(frame.capacity().saturating_mul(2)).min(limit);
    frame.reserve_exact(target - frame.len());
}

/// Appends one record to `dst`: its length in decimal, a line feed, then `record`.
pub fn encode(record: &[u8], dst: &mut BytesMut) {
    put_header(record.len(), dst);
    dst.extend_from_slice(record);
}

/// One record as a new buffer (see [`encode`]).
pub fn encode_to_bytes(record: &[u8]) -> Bytes {
    let mut dst = BytesMut::with_capacity(record.len() + MAX_HEADER_DIGITS + 1);
    encode(record, &mut dst);
    dst.freeze()
}

/// Appends a protobuf message to `dst` as one record, serialising it in place.
pub fn encode_message<M: prost::Message>(message: &M, dst: &mut BytesMut) {
    let len = message.encoded_len();
    put_header(len, dst);
    dst.reserve(len);
    // `BytesMut` grows on demand, so prost's "buffer too small" error cannot happen here.
    let encoded = message.encode(dst);
    debug_assert!(encoded.is_ok(), "prost encode into BytesMut failed");
}

/// Writes `len` in decimal and a line feed.
fn put_header(len: usize, dst: &mut BytesMut) {
    let mut digits = [0u8; MAX_HEADER_DIGITS + 1];
    let mut at = digits.len() - 1;
    digits[at] = b'\n';
    let mut rest = len;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    dst.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(decoder: &mut Decoder) -> Vec<Bytes> {
        std::iter::from_fn(|| decoder.next_frame().ok().flatten()).collect()
    }

    #[test]
    fn decoder_reads_golden_subscribed_frame() {
        let record = b"\x08\x01\x12\x11\x0a\x06\x0a\x04fw-1\x11\x00\x00\x00\x00\x00\x00\x2e\x40";
        let mut wire = b"21\n".to_vec();
        wire.extend_from_slice(record);
        let mut decoder = Decoder::new();
        decoder.push(&wire);
        assert_eq!(decoder.next_frame().unwrap().as_deref(), Some(&record[..]));
        assert_eq!(decoder.next_frame().unwrap(), None);
        assert!(decoder.is_idle());
        decoder.finish().unwrap();
    }

    #[test]
    fn decoder_reads_byte_by_byte_and_zero_length_records() {
        let wire = b"3\nabc0\n10\n0123456789";
        let mut decoder = Decoder::new();
        for byte in wire {
            decoder.push(std::slice::from_ref(byte));
        }
        let frames = decode_all(&mut decoder);
        assert_eq!(frames, [&b"abc"[..], b"", b"0123456789"]);
        decoder.finish().unwrap();
    }

    #[test]
    fn decoder_accepts_leading_zeros() {
        let mut decoder = Decoder::new();
        decoder.push(b"003\nabc");
        assert_eq!(decoder.next_frame().unwrap().as_deref(), Some(&b"abc"[..]));
    }

    #[test]
    fn decoder_rejects_non_digit_header_after_good_frames() {
        let mut decoder = Decoder::new();
        decoder.push(b"2\nok 5\nhello");
        assert_eq!(decoder.next_frame().unwrap().as_deref(), Some(&b"ok"[..]));
        let error = RecordIoError::InvalidHeader { offset: 4, byte: b' ' };
        assert_eq!(decoder.next_frame(), Err(error.clone()));
        decoder.push(b"2\nok");
        assert_eq!(decoder.next_frame(), Err(error.clone()));
        assert_eq!(decoder.finish(), Err(error));
    }

    #[test]
    fn decoder_rejects_carriage_return_and_sign() {
        for wire in [&b"2\r\nok"[..], b"-2\nok", b"+2\nok", b" 2\nok"] {
            let mut decoder = Decoder::new();
            decoder.push(wire);
            assert!(matches!(decoder.next_frame(), Err(RecordIoError::InvalidHeader { .. })), "{wire:?}");
        }
    }

    #[test]
    fn decoder_rejects_empty_header() {
        let mut decoder = Decoder::new();
        decoder.push(b"\n");
        assert_eq!(decoder.next_frame(), Err(RecordIoError::EmptyHeader { offset: 0 }));
    }

    #[test]
    fn decoder_rejects_header_too_long() {
        let mut decoder = Decoder::new();
        decoder.push(&[b'0'; MAX_HEADER_DIGITS + 1]);
        let error = RecordIoError::HeaderTooLong { offset: MAX_HEADER_DIGITS as u64 };
        assert_eq!(decoder.next_frame(), Err(error));
    }

    #[test]
    fn decoder_rejects_length_over_max_without_reading_it() {
        let mut decoder = Decoder::with_max_frame_size(16);
        decoder.push(b"16\n0123456789abcdef17\n");
        assert_eq!(decoder.next_frame().unwrap().map(|f| f.len()), Some(16));
        let error = RecordIoError::FrameTooLarge { offset: 21, length: 17, max: 16 };
        assert_eq!(decoder.next_frame(), Err(error));
    }

    #[test]
    fn decoder_saturates_huge_lengths() {
        let mut decoder = Decoder::with_max_frame_size(16);
        decoder.push(b"99999999999999999999\n");
        let error = RecordIoError::FrameTooLarge { offset: 20, length: u64::MAX, max: 16 };
        assert_eq!(decoder.next_frame(), Err(error));
    }

    #[test]
    fn decoder_finish_reports_truncation() {
        let mut decoder = Decoder::new();
        decoder.push(b"12");
        assert_eq!(decoder.finish(), Err(RecordIoError::TruncatedHeader { digits: 2 }));

        let mut decoder = Decoder::new();
        decoder.push(b"2\nok5\nhel");
        let error = RecordIoError::TruncatedFrame { expected: 5, received: 3 };
        assert_eq!(decoder.finish(), Err(error.clone()));
        assert_eq!(decoder.next_frame().unwrap().as_deref(), Some(&b"ok"[..]));
        assert_eq!(decoder.next_frame(), Err(error));
    }

    #[test]
    fn decoder_errors_display_their_position() {
        let error = RecordIoError::InvalidHeader { offset: 7, byte: b'x' };
        assert_eq!(error.to_string(), "RecordIO header has byte 0x78 at offset 7, expected a digit");
        let error = RecordIoError::TruncatedFrame { expected: 5, received: 3 };
        assert!(error.to_string().contains("3 of 5 bytes"));
    }

    #[test]
    fn grow_within_never_exceeds_limit() {
        let mut frame = Vec::with_capacity(4);
        for _ in 0..10 {
            grow_within(&mut frame, 10, 100);
            frame.extend_from_slice(&[0; 10]);
        }
        assert_eq!(frame.len(), 100);
        assert!(frame.capacity() <= 100, "capacity {}", frame.capacity());
    }

    #[test]
    fn encode_writes_length_line_feed_and_bytes() {
        assert_eq!(&encode_to_bytes(b"")[..], b"0\n");
        assert_eq!(&encode_to_bytes(&[7; 1234])[..5], b"1234\n");
        let mut dst = BytesMut::new();
        encode(b"ab", &mut dst);
        encode(b"c", &mut dst);
        assert_eq!(&dst[..], b"2\nab1\nc");
    }

    #[test]
    fn encode_message_matches_encode_of_serialised_bytes() {
        let id = crate::mesos::v1::FrameworkId { value: "fw-1".into() };
        let mut direct = BytesMut::new();
        encode_message(&id, &mut direct);
        assert_eq!(direct.freeze(), encode_to_bytes(&prost::Message::encode_to_vec(&id)));
    }

    proptest! {
        #[test]
        fn decoder_any_chunking_yields_the_same_frames(
            frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
        ) {
            let mut wire = BytesMut::new();
            for frame in &frames {
                encode(frame, &mut wire);
            }
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
            cuts.push(0);
            cuts.push(wire.len());
            cuts.sort_unstable();
            let mut decoder = Decoder::with_max_frame_size(300);
            let mut decoded = Vec::new();
            for pair in cuts.windows(2) {
                decoder.push(&wire[pair[0]..pair[1]]);
                while let Some(frame) = decoder.next_frame().unwrap() {
                    decoded.push(frame.to_vec());
                }
            }
            prop_assert_eq!(decoded, frames);
            prop_assert!(decoder.finish().is_ok());
        }

        #[test]
        fn decoder_never_panics_or_exceeds_max_on_garbage(
            chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..10),
        ) {
            let mut decoder = Decoder::with_max_frame_size(32);
            for chunk in &chunks {
                decoder.push(chunk);
                while let Ok(Some(frame)) = decoder.next_frame() {
                    prop_assert!(frame.len() <= 32);
                }
            }
            let _ = decoder.finish();
        }
    }
}
