//! `offerpack gen`: write a synthetic workload, or with `--stream` a timed stream.

use offerpack::workload::{write_generated, write_stream};

use super::args::GenArgs;
use super::{write_output, CliError};

/// Generates the workload (or stream) and writes it.
pub fn run(args: &GenArgs) -> Result<(), CliError> {
    match &args.stream {
        Some(stream) => write_output(args.out.as_deref(), |out| write_stream(out, stream)),
        None => write_output(args.out.as_deref(), |out| write_generated(out, &args.options)),
    }
}
