//! `--retries` and `--retry-backoff`, shared by `demo` and `run`.

use std::time::Duration;

use clap::Args;
use offerpack::session::RetryPolicy;

use super::values;

/// How failed or lost tasks are launched again.
#[derive(Debug, Args)]
pub struct RetryFlags {
    /// Launches per task in all, from 1 (no retry) to 1000 [default: 1]
    ///
    /// A task that fails or is lost is launched again until it runs out, then given up (named
    /// in the summary; the run exits non-zero).
    #[arg(long, value_name = "N", value_parser = values::attempts)]
    retries: Option<u32>,
    /// Milliseconds before the first retry [default: 1000]
    ///
    /// The delay doubles after each retry, capped at 60 s (or at MS if longer), with ±20 %
    /// jitter.
    #[arg(long, value_name = "MS", value_parser = values::backoff)]
    retry_backoff: Option<Duration>,
}

impl RetryFlags {
    /// The retry policy: the default one with what was given; a first delay above the default
    /// cap raises the cap with it.
    pub fn policy(&self) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(attempts) = self.retries {
            policy.attempts = attempts;
        }
        if let Some(backoff) = self.retry_backoff {
            policy.backoff = backoff;
            policy.max_backoff = policy.max_backoff.max(backoff);
        }
        policy
    }
}
