//! Proptest settings shared by the property-test files.

use offerpack::testkit::proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};
use offerpack::testkit::Profile;

/// `cases` cases in the quick profile, more in the deep one (`OFFERPACK_PROPTEST=deep`, see
/// [`Profile`]), or `PROPTEST_CASES` when set; failing inputs persisted in `regressions` (a file
/// under `proptest-regressions/`, committed).
pub fn config(cases: u32, regressions: &'static str) -> ProptestConfig {
    let cases = Profile::from_env().cases(cases);
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..ProptestConfig::default()
    }
}
