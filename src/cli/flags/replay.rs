//! The flags of `offerpack replay`.

use std::path::PathBuf;

use clap::Args;

use crate::cli::args::{Command, ReplayArgs};

/// Drive the incremental scheduler through a timed stream on a virtual clock
///
/// Drives the incremental scheduler through a stream (JSON lines from `gen`) on a virtual clock,
/// without sleeping: a pass every --pass-every milliseconds of stream time. Writes a JSON
/// summary and prints one line: placements, placement latency in stream time, engine time per
/// pass (measured), placements per engine second, offers. A stream with buckets or tiers is
/// planned in queue order (weighted DRF between buckets).
#[derive(Debug, Args)]
pub struct ReplayFlags {
    /// The stream file (JSON lines), or - for standard input
    #[arg(value_name = "STREAM")]
    input: PathBuf,
    /// Stream milliseconds between two scheduling passes
    #[arg(long, value_name = "MS", default_value = "50", value_parser = clap::value_parser!(u64).range(1..))]
    pass_every: u64,
    /// Plan each pass with a whole engine pass over every running task instead, as Fenzo does
    #[arg(long)]
    full_replan: bool,
    /// Ignore the stream's buckets and tiers (plan as without a queue), to compare
    #[arg(long)]
    no_queue: bool,
    /// Write the JSON summary to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also write an HTML page of latency, engine time, queue depth and bucket shares over
    /// stream time to FILE
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
}

impl ReplayFlags {
    /// The `replay` command these flags ask for.
    pub fn into_command(self) -> Command {
        Command::Replay(ReplayArgs {
            input: self.input,
            out: self.out,
            pass_every_ms: self.pass_every,
            full_replan: self.full_replan,
            report: self.report,
            no_queue: self.no_queue,
        })
    }
}
