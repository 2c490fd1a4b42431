//! `offerpack gen`: write a synthetic workload.

use offerpack::workload::write_generated;

use super::args::GenArgs;
use super::{write_output, CliError};

/// Generates the workload and writes it as JSON.
pub fn run(args: &GenArgs) -> Result<(), CliError> {
    write_output(args.out.as_deref(), |out| write_generated(out, &args.options))
}
