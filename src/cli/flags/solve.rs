//! The flags of `offerpack solve`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use offerpack::{Packing, Strategy};

use super::values;
use crate::cli::args::{Command, SolveArgs};

/// Plan one scheduling pass over a workload
///
/// Plans one scheduling pass over a workload (INPUT.json, or - for standard input). Writes the
/// plan as JSON to standard output (or --out FILE) and a one-line summary to standard error;
/// `stats.schedule_ms` in the plan is the median time of the pass alone over --repeat runs.
/// Bad input exits non-zero with an error naming the place in the file.
#[derive(Debug, Args)]
pub struct SolveFlags {
    /// The workload file (the JSON workload format), or - for standard input
    #[arg(value_name = "INPUT.json")]
    input: PathBuf,
    /// Write the plan to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Time N passes, each on a fresh pool, and report the median
    #[arg(short = 'n', long, value_name = "N", default_value = "1", value_parser = values::at_least_one)]
    repeat: u32,
    /// How the engine finds candidate agents; every strategy gives the same plan
    ///
    /// indexed: priority queues per task shape; keyed: one keyed index for every task shape;
    /// scan: the reference selector, every agent for every task (slower)
    #[arg(long, value_enum, value_name = "STRATEGY", default_value_t = StrategyArg::Indexed)]
    strategy: StrategyArg,
    /// How tasks without constraints are packed
    ///
    /// fill: unconstrained tasks fill agents, empty ones by the patterns of the packing LP when
    /// they come in few shapes; greedy-fill: the same without the LP; task-by-task: each task
    /// to its best agent alone, as Fenzo does
    #[arg(long, value_enum, value_name = "PACKING", default_value_t = PackingArg::Fill)]
    packing: PackingArg,
    /// Most threads a pass may use; the plan is the same for any T
    #[arg(long, value_name = "T", default_value = "1", value_parser = values::at_least_one)]
    threads: u32,
    /// Also print the capacity used against the packing lower bound (pattern LP)
    #[arg(long)]
    bound: bool,
    /// Also write a self-contained HTML page of pictures of the plan to FILE
    ///
    /// Agents' cpu against memory use, capacity against the bound, unplaced tasks by reason.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

/// `--strategy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StrategyArg {
    /// Priority queues of candidate agents per task shape (the default).
    Indexed,
    /// One keyed index for every task shape.
    Keyed,
    /// Every agent for every task: the reference.
    Scan,
}

/// `--packing`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum PackingArg {
    /// Fill agents, with the packing LP's patterns.
    Fill,
    /// Fill agents without the LP.
    GreedyFill,
    /// Each task to its best agent alone.
    TaskByTask,
}

impl SolveFlags {
    /// The `solve` command these flags ask for.
    pub fn into_command(self) -> Command {
        let strategy = match self.strategy {
            StrategyArg::Indexed => Strategy::Indexed,
            StrategyArg::Keyed => Strategy::Keyed,
            StrategyArg::Scan => Strategy::Scan,
        };
        let packing = match self.packing {
            PackingArg::Fill | PackingArg::GreedyFill => Packing::FillAgents,
            PackingArg::TaskByTask => Packing::TaskByTask,
        };
        Command::Solve(SolveArgs {
            input: self.input,
            out: self.out,
            repeat: self.repeat,
            strategy,
            packing,
            threads: self.threads as usize,
            patterns: self.packing != PackingArg::GreedyFill,
            bound: self.bound,
            report: self.report,
        })
    }
}
