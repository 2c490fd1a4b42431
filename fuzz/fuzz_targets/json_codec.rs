//! The master's JSON codec: arbitrary bytes as a JSON `Call` and `Event` decode or fail
//! cleanly; what decodes encodes to JSON that decodes again and encodes to the same text (the
//! encoder writes proto2 defaults out, as Mesos does, so the first round may add fields).
#![no_main]

use libfuzzer_sys::fuzz_target;
use offerpack::mesos::json;

fuzz_target!(|data: &[u8]| {
    if let Ok(call) = json::decode_call(data) {
        let once = json::encode_call(&call);
        let again = json::decode_call(&once).expect("an encoded call decodes");
        assert_eq!(json::encode_call(&again), once);
    }
    if let Ok(event) = json::decode_event(data) {
        let once = json::encode_event(&event);
        let again = json::decode_event(&once).expect("an encoded event decodes");
        assert_eq!(json::encode_event(&again), once);
    }
});
