//! The flags of `offerpack gen`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use offerpack::workload::{
    ConstraintMix, GenOptions, GroupShapes, Shapes, StreamOptions, DEFAULT_BIG_EVERY, MAX_SHAPE_COUNT,
};

use super::values;
use crate::cli::args::{Command, GenArgs};

/// Shapes per `random` family unless `--shape-count` says otherwise.
pub const DEFAULT_SHAPE_COUNT: u32 = 8;
/// Tasks per `unique-host` group unless `--group-size` says otherwise.
const DEFAULT_GROUP_SIZE: u32 = 10;

/// Generate a synthetic workload as JSON, or a timed stream for `replay`
///
/// Generates a synthetic workload as JSON (the input of `solve`, whose tasks `run` runs too): N
/// agents spread over zones and racks, M tasks in groups.
///
/// With --stream, generates a timed stream (JSON lines) for `replay` instead: N agents with
/// --running tasks running, tasks arriving at --rate per second for --seconds seconds, each
/// running --mean-duration seconds on average (default running/rate, a steady state),
/// --agent-churn agents replaced per minute, --rescinds offer rescinds per second, arriving
/// groups taking turns in --buckets queue buckets b1..bB of weights 1..B.
#[derive(Debug, Args)]
pub struct GenFlags {
    /// Generate a timed stream for `replay` instead of a workload
    #[arg(long)]
    stream: bool,
    /// Number of agents
    #[arg(long, value_name = "N")]
    agents: u32,
    /// Number of tasks (a workload only: a stream's arrivals come from --rate)
    #[arg(long, value_name = "M", required_unless_present = "stream", conflicts_with = "stream")]
    tasks: Option<u32>,
    /// Seed of every random choice
    #[arg(long, value_name = "S", default_value = "0")]
    seed: u64,
    /// Zones the agents are spread over (attribute `zone`)
    #[arg(long, value_name = "Z", default_value = "3", value_parser = values::at_least_one)]
    zones: u32,
    /// Racks in each zone (attribute `rack`)
    #[arg(long, value_name = "R", default_value = "20", value_parser = values::at_least_one)]
    racks_per_zone: u32,
    /// The constraints the tasks carry
    ///
    /// none; unique-host: every task hard `hostname:UNIQUE` and soft `zone:GROUP_BY`, in groups
    /// of --group-size; mixed: a mix of constraint kinds over the groups
    #[arg(long, value_enum, value_name = "MIX", default_value_t = ConstraintsArg::None)]
    constraints: ConstraintsArg,
    /// Tasks per group with --constraints unique-host [default: 10]
    #[arg(long, value_name = "G", value_parser = values::at_least_one)]
    group_size: Option<u32>,
    /// The tasks' shapes
    ///
    /// uniform; irregular; random: a family of --shape-count shapes drawn from the seed, picked
    /// with skewed frequencies (a few common, others rare), each cpu- or memory-heavy and at
    /// most a quarter of a small agent, on steps of 0.25 cpus and 128 MiB
    #[arg(long, value_enum, value_name = "SHAPES", default_value_t = ShapesArg::Uniform)]
    shapes: ShapesArg,
    /// Shapes in a --shapes random family [default: 8]
    #[arg(long, value_name = "K", value_parser = values::count(MAX_SHAPE_COUNT))]
    shape_count: Option<u32>,
    /// same: one shape per group; mixed: one per task
    #[arg(long, value_enum, value_name = "HOW", default_value_t = GroupShapesArg::Same)]
    group_shapes: GroupShapesArg,
    /// Every Nth agent has 32 cpus / 131072 MB instead of 16 / 65536 (0 for none)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BIG_EVERY)]
    big_every: u32,
    /// Write to FILE instead of standard output
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    timing: StreamFlags,
}

/// The flags of `gen --stream`; without a value, the library's default
/// ([`StreamOptions::default`]).
#[derive(Debug, Args)]
#[command(next_help_heading = "Stream options (with --stream)")]
struct StreamFlags {
    /// Seconds of arrivals [default: 10]
    #[arg(long, value_name = "S", value_parser = values::non_negative)]
    seconds: Option<f64>,
    /// Tasks running at the start [default: 200]
    #[arg(long, value_name = "R")]
    running: Option<u32>,
    /// Tasks arriving per second [default: 20]
    #[arg(long, value_name = "A", value_parser = values::non_negative)]
    rate: Option<f64>,
    /// Mean seconds a task runs [default: running/rate, a steady state]
    #[arg(long, value_name = "D", value_parser = values::non_negative)]
    mean_duration: Option<f64>,
    /// Agents replaced per minute [default: 1]
    #[arg(long, value_name = "C", value_parser = values::non_negative)]
    agent_churn: Option<f64>,
    /// Offer rescinds per second [default: 0.5]
    #[arg(long, value_name = "X", value_parser = values::non_negative)]
    rescinds: Option<f64>,
    /// Queue buckets b1..bB of weights 1..B that arriving groups take turns in [default: 0,
    /// none]
    #[arg(long, value_name = "B")]
    buckets: Option<u32>,
}

impl StreamFlags {
    /// The first flag given, by name: they apply to `--stream` only.
    fn first_given(&self) -> Option<&'static str> {
        let given = [
            ("--seconds", self.seconds.is_some()),
            ("--running", self.running.is_some()),
            ("--rate", self.rate.is_some()),
            ("--mean-duration", self.mean_duration.is_some()),
            ("--agent-churn", self.agent_churn.is_some()),
            ("--rescinds", self.rescinds.is_some()),
            ("--buckets", self.buckets.is_some()),
        ];
        given.into_iter().find_map(|(flag, given)| given.then_some(flag))
    }

    /// The stream of `cluster` these flags ask for.
    fn options(self, cluster: GenOptions) -> StreamOptions {
        let d = StreamOptions::default();
        StreamOptions {
            cluster,
            seconds: self.seconds.unwrap_or(d.seconds),
            running: self.running.unwrap_or(d.running),
            rate: self.rate.unwrap_or(d.rate),
            mean_duration: self.mean_duration.or(d.mean_duration),
            agent_churn: self.agent_churn.unwrap_or(d.agent_churn),
            rescinds: self.rescinds.unwrap_or(d.rescinds),
            buckets: self.buckets.unwrap_or(d.buckets),
        }
    }
}

/// `--constraints`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ConstraintsArg {
    /// No constraints.
    None,
    /// Hard `hostname:UNIQUE` per group.
    UniqueHost,
    /// A mix of constraint kinds.
    Mixed,
}

/// `--shapes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ShapesArg {
    /// One shape.
    Uniform,
    /// A fixed set of irregular shapes.
    Irregular,
    /// A seeded family of shapes.
    Random,
}

/// `--group-shapes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum GroupShapesArg {
    /// One shape per group.
    Same,
    /// One shape per task.
    Mixed,
}

impl GenFlags {
    /// The `gen` command these flags ask for; `Err` names a flag given without the one it
    /// applies to.
    pub fn into_command(self) -> Result<Command, String> {
        let constraints = match (self.constraints, self.group_size) {
            (ConstraintsArg::UniqueHost, size) => {
                ConstraintMix::UniqueHostPerGroup { group_size: size.unwrap_or(DEFAULT_GROUP_SIZE) }
            }
            (_, Some(_)) => return Err("--group-size applies to --constraints unique-host".to_owned()),
            (ConstraintsArg::None, None) => ConstraintMix::None,
            (ConstraintsArg::Mixed, None) => ConstraintMix::Mixed,
        };
        let shapes = match (self.shapes, self.shape_count) {
            (ShapesArg::Random, count) => Shapes::Random { count: count.unwrap_or(DEFAULT_SHAPE_COUNT) },
            (_, Some(_)) => return Err("--shape-count applies to --shapes random".to_owned()),
            (ShapesArg::Uniform, None) => Shapes::Uniform,
            (ShapesArg::Irregular, None) => Shapes::Irregular,
        };
        let group_shapes = match self.group_shapes {
            GroupShapesArg::Same => GroupShapes::Same,
            GroupShapesArg::Mixed => GroupShapes::Mixed,
        };
        let options = GenOptions {
            agents: self.agents,
            tasks: self.tasks.unwrap_or(GenOptions::default().tasks),
            seed: self.seed,
            zones: self.zones,
            racks_per_zone: self.racks_per_zone,
            constraints,
            shapes,
            group_shapes,
            big_every: self.big_every,
        };
        let stream = match (self.stream, self.timing.first_given()) {
            (true, _) => Some(self.timing.options(options.clone())),
            (false, Some(flag)) => return Err(format!("{flag} applies to --stream")),
            (false, None) => None,
        };
        Ok(Command::Gen(GenArgs { options, stream, out: self.out }))
    }
}
