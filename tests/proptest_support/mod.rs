//! Proptest settings shared by the property-test files.

use offerpack::testkit::proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};

/// `cases` cases, or `PROPTEST_CASES` when set (for a deeper run); failing inputs persisted in
/// `regressions` (a file under `proptest-regressions/`, committed).
pub fn config(cases: u32, regressions: &'static str) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..ProptestConfig::default()
    }
}
