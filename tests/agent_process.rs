//! Integration test of `offerpack agent` against a fake master.
