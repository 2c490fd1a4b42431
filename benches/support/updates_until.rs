//! Shared by the benches that run a framework against the simulated master: waiting for updates
//! with a bound.

use std::time::Duration;

use offerpack::driver::Updates;
use offerpack::session::Update;

/// Longest a bench waits for the framework.
pub const LIMIT: Duration = Duration::from_secs(120);

/// Receives updates until `done` says so; panics after [`LIMIT`].
pub async fn until(updates: &mut Updates, mut done: impl FnMut(&Update) -> bool) {
    tokio::time::timeout(LIMIT, async {
        while let Some(update) = updates.recv().await {
            if done(&update) {
                return;
            }
        }
        panic!("the framework stopped early");
    })
    .await
    .expect("the run ends within the limit");
}
