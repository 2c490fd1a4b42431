//! Cross-pass soundness of the live path: the sans-IO `Session` against the sans-IO simulated
//! master core, in one process on a virtual clock, over many passes.
//!
//! Random clusters (agents that tasks fill exactly and agents with room, 1–5 zones and racks),
//! tasks arriving in groups with random hard constraints of every built-in kind, tasks ending,
//! offers rescinded (short offer timeouts), agents lost, and a framework failover midway.
//! Every launch the session sends is checked, in order, by an independent [`Ledger`] against
//! the tasks launched and not ended as the framework knows them; after every step the tasks
//! the master holds live must satisfy every order-free rule (`check_state`), and no task is
//! launched while it is live.

mod cross_pass_support;
mod proptest_support;

use cross_pass_support::{Scenario, World};
use offerpack::testkit::proptest::prelude::*;

proptest! {
    #![proptest_config(proptest_support::config(96, "proptest-regressions/cross_pass.txt"))]

    /// The bug class of issue 9: tasks of a group filling their agents fall out of the
    /// per-value counts of later passes.
    #[test]
    fn live_path_keeps_hard_constraints_across_passes(scenario in cross_pass_support::scenarios()) {
        let mut world = World::new(&scenario);
        if let Err(failure) = world.play(&scenario) {
            prop_assert!(false, "{failure}\n{}", world.trace_tail());
        }
    }
}

/// The first reproduction, as one fixed scenario: six agents in three zones, each task
/// filling one agent, `zone:UNIQUE`: exactly three launch, over as many passes as it takes.
#[test]
fn cross_pass_zone_unique_on_full_agents_launches_one_per_zone() {
    let scenario = Scenario::zone_unique_full_agents();
    let mut world = World::new(&scenario);
    world.play(&scenario).unwrap_or_else(|f| panic!("{f}\n{}", world.trace_tail()));
    assert_eq!(world.master_live_tasks(), 3);
    assert_eq!(world.launches(), 3, "no task was launched and lost on the way");
}
