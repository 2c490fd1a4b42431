//! Workload JSON (the input of `solve`) and timed streams (the input of `replay`): any text is
//! read or refused with an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offerpack::workload::{Stream, Workload};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Workload::from_json(text);
    let _ = Stream::from_json_lines(text);
});
