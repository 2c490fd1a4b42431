//! RecordIO framing: any bytes, pushed in any pieces, give frames or an error, never a panic,
//! and no frame above the decoder's limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offerpack::mesos::RecordIoDecoder;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let mut decoder = RecordIoDecoder::with_max_frame_size(1 << 16);
    for piece in rest.chunks(usize::from(split).max(1)) {
        decoder.push(piece);
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => assert!(frame.len() <= 1 << 16),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = decoder.finish();
});
