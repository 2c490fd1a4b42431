//! `offerpack replay`: drive the scheduler through a timed stream on a virtual clock.

use std::time::{Duration, Instant};

use offerpack::replay::{replay, ReplayOptions, Stopwatch};
use offerpack::workload::Stream;

use super::args::ReplayArgs;
use super::solve::read_input;
use super::{write_output, CliError};

/// Measures each pass with the process's monotonic clock.
struct WallClock(Option<Instant>);

impl Stopwatch for WallClock {
    fn start(&mut self) {
        self.0 = Some(Instant::now());
    }

    fn stop(&mut self) -> Duration {
        self.0.take().map_or(Duration::ZERO, |t| t.elapsed())
    }
}

/// Reads the stream, replays it, writes the JSON summary and prints the one-line summary.
pub fn run(args: &ReplayArgs) -> Result<(), CliError> {
    let text = read_input(&args.input)?;
    let stream =
        Stream::from_json_lines(&text).map_err(|e| CliError::Failed(format!("{}: {e}", args.input.display())))?;
    drop(text);
    let opts = ReplayOptions {
        pass_every: Duration::from_millis(args.pass_every_ms),
        full_replan: args.full_replan,
        queue: !args.no_queue,
        ..ReplayOptions::default()
    };
    let summary = replay(&stream, &opts, &mut WallClock(None)).map_err(|e| CliError::Failed(e.to_string()))?;
    write_output(args.out.as_deref(), |out| serde_json::to_writer_pretty(out, &summary).map_err(std::io::Error::from))?;
    if let Some(path) = &args.report {
        let html = offerpack::report::replay_page(&summary);
        write_output(Some(path), |out| out.write_all(html.as_bytes()))?;
    }
    note!("{}", summary.line());
    Ok(())
}
