//! Scenario tests of the agent core on a virtual clock.
