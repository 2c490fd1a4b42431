//! The records a highly available framework reads back from ZooKeeper or its directory (a
//! task, the run, the finished marker): any bytes decode or fail with an error, never a panic,
//! and what decodes encodes to bytes that decode to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use offerpack::ha::{Finished, RunMeta, TaskRecord};

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = TaskRecord::decode(data) {
        assert_eq!(TaskRecord::decode(&record.encode()).expect("an encoded record decodes"), record);
    }
    if let Ok(run) = RunMeta::decode(data) {
        assert_eq!(RunMeta::decode(&run.encode()).expect("an encoded run decodes"), run);
    }
    if let Ok(finished) = Finished::decode(data) {
        assert_eq!(Finished::decode(&finished.encode()).expect("an encoded marker decodes"), finished);
    }
});
