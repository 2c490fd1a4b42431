//! What the command line asks for: the [`Command`] and the arguments of `solve`, `gen` and
//! `replay` (those of the commands that speak the Mesos protocol are in
//! [`live_args`](super::live_args)). The command line itself is defined in
//! [`flags`](super::flags), which turns it into a [`Command`].

use std::ffi::OsString;
use std::path::PathBuf;

use offerpack::workload::{GenOptions, StreamOptions};
use offerpack::{Packing, Strategy};

use super::live_args::{DemoArgs, MasterArgs, RunArgs};
use super::logs::LogFormat;

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// `offerpack solve`.
    Solve(SolveArgs),
    /// `offerpack gen`.
    Gen(GenArgs),
    /// `offerpack replay`.
    Replay(ReplayArgs),
    /// `offerpack master`.
    Master(MasterArgs),
    /// `offerpack demo`.
    Demo(DemoArgs),
    /// `offerpack run`.
    Run(Box<RunArgs>),
    /// `offerpack demo --soak`.
    Soak(super::soak::SoakArgs),
    /// `offerpack artifacts`.
    Artifacts(super::artifacts::ArtifactsArgs),
    /// `offerpack executor`.
    Executor,
    /// `offerpack agent`.
    Agent(super::agent::AgentArgs),
    /// `offerpack completions SHELL`.
    Completions(clap_complete::Shell),
}

/// Arguments of `solve`.
#[derive(Debug, PartialEq)]
pub struct SolveArgs {
    /// The workload file (`-` for standard input).
    pub input: PathBuf,
    /// Where to write the plan; standard output when `None`.
    pub out: Option<PathBuf>,
    /// How many passes to time (at least 1).
    pub repeat: u32,
    /// How the engine finds candidates.
    pub strategy: Strategy,
    /// How tasks without constraints are packed.
    pub packing: Packing,
    /// Most threads a pass may use (at least 1).
    pub threads: usize,
    /// Whether filling may use the packing LP's patterns (`--packing greedy-fill` turns it off).
    pub patterns: bool,
    /// Whether to compute the packing lower bound and print the capacity used against it.
    pub bound: bool,
    /// Where to write the HTML report of the plan, if anywhere.
    pub report: Option<PathBuf>,
}

/// Arguments of `gen`.
#[derive(Debug, PartialEq)]
pub struct GenArgs {
    /// What to generate.
    pub options: GenOptions,
    /// With `--stream`: a timed stream of this cluster instead of a workload.
    pub stream: Option<StreamOptions>,
    /// Where to write the workload; standard output when `None`.
    pub out: Option<PathBuf>,
}

/// Arguments of `replay`.
#[derive(Debug, PartialEq)]
pub struct ReplayArgs {
    /// The stream file (`-` for standard input).
    pub input: PathBuf,
    /// Where to write the JSON summary; standard output when `None`.
    pub out: Option<PathBuf>,
    /// Stream milliseconds between passes (at least 1).
    pub pass_every_ms: u64,
    /// A whole engine pass over everything each time instead of the incremental scheduler.
    pub full_replan: bool,
    /// Where to write the HTML report, if anywhere.
    pub report: Option<PathBuf>,
    /// Ignore the stream's buckets and tiers (plan as without a queue), to compare.
    pub no_queue: bool,
}

/// Parses a whole command line, the program's name first: the log format and the command, or
/// clap's error (help and version included, as errors that print to standard output).
pub fn parse_from<I, T>(args: I) -> Result<(LogFormat, Command), clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    super::flags::parse(args)
}

/// Parses arguments that do not include the program name.
#[cfg(test)]
pub fn parse_args(args: &[&str]) -> Result<Command, clap::Error> {
    parse_from(std::iter::once("offerpack").chain(args.iter().copied())).map(|(_, command)| command)
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;
    use offerpack::workload::{ConstraintMix, GroupShapes, Shapes};

    use super::super::flags::DEFAULT_SHAPE_COUNT;
    use super::*;

    #[test]
    fn args_parse_solve_flags() {
        let cmd = parse_args(&[
            "solve",
            "w.json",
            "--repeat",
            "3",
            "--strategy",
            "scan",
            "--out",
            "p.json",
            "--threads",
            "2",
            "--report",
            "r.html",
        ])
        .unwrap();
        let expected = SolveArgs {
            input: "w.json".into(),
            out: Some("p.json".into()),
            repeat: 3,
            strategy: Strategy::Scan,
            packing: Packing::FillAgents,
            threads: 2,
            patterns: true,
            bound: false,
            report: Some("r.html".into()),
        };
        assert_eq!(cmd, Command::Solve(expected));
    }

    #[test]
    fn args_parse_gen_flags() {
        let cmd =
            parse_args(&["gen", "--agents", "5", "--tasks", "7", "--constraints", "unique-host", "--group-size", "4"]);
        let Command::Gen(gen) = cmd.unwrap() else { panic!("not gen") };
        assert_eq!((gen.options.agents, gen.options.tasks), (5, 7));
        assert_eq!(gen.options.constraints, ConstraintMix::UniqueHostPerGroup { group_size: 4 });
        assert_eq!((gen.options.shapes, gen.options.group_shapes), (Shapes::Uniform, GroupShapes::Same));
        assert_eq!(gen.options.big_every, offerpack::workload::DEFAULT_BIG_EVERY);
        // The flags' defaults are the library's.
        let defaults = GenOptions::default();
        assert_eq!((gen.options.seed, gen.options.zones), (defaults.seed, defaults.zones));
        assert_eq!(gen.options.racks_per_zone, defaults.racks_per_zone);
    }

    #[test]
    fn args_parse_gen_shape_family_flags() {
        let base = ["gen", "--agents", "5", "--tasks", "7"];
        let gen = |extra: &[&str]| match parse_args(&[&base[..], extra].concat()).unwrap() {
            Command::Gen(gen) => gen.options,
            other => panic!("not gen: {other:?}"),
        };
        let o = gen(&["--shapes", "random", "--shape-count", "3", "--group-shapes", "mixed", "--big-every", "0"]);
        assert_eq!((o.shapes, o.group_shapes, o.big_every), (Shapes::Random { count: 3 }, GroupShapes::Mixed, 0));
        assert_eq!(gen(&["--shape-count", "5", "--shapes", "random"]).shapes, Shapes::Random { count: 5 });
        assert_eq!(gen(&["--shapes", "random"]).shapes, Shapes::Random { count: DEFAULT_SHAPE_COUNT });
        assert_eq!(gen(&["--shapes", "irregular", "--group-shapes", "same"]).shapes, Shapes::Irregular);
        assert_eq!(gen(&["--big-every", "3"]).big_every, 3);
    }

    #[test]
    fn args_reject_bad_gen_shape_flags_clearly() {
        let base = ["gen", "--agents", "5", "--tasks", "7"];
        for (extra, wanted) in [
            (&["--shapes", "random", "--shape-count", "0"][..], "'--shape-count <K>': must be at least 1"),
            (&["--shapes", "random", "--shape-count", "x"], "invalid value 'x' for '--shape-count <K>'"),
            (&["--shapes", "random", "--shape-count", "70000"], "'--shape-count <K>': must be at most 65536"),
            (&["--shape-count", "4"], "--shape-count applies to --shapes random"),
            (&["--shapes", "spiky"], "invalid value 'spiky' for '--shapes <SHAPES>'"),
            (&["--group-shapes", "foo"], "[possible values: same, mixed]"),
            (&["--big-every", "-1"], "-1"),
        ] {
            let err = parse_args(&[&base[..], extra].concat()).unwrap_err().to_string();
            assert!(err.contains(wanted), "{extra:?}: {err}");
        }
    }

    #[test]
    fn args_parse_stream_and_replay_flags() {
        let cmd = parse_args(&[
            "gen",
            "--stream",
            "--agents",
            "7",
            "--seconds",
            "2.5",
            "--running",
            "30",
            "--rate",
            "12",
            "--mean-duration",
            "4",
            "--agent-churn",
            "0",
            "--rescinds",
            "3",
            "--seed",
            "9",
            "--out",
            "s.jsonl",
        ]);
        let Command::Gen(gen) = cmd.unwrap() else { panic!("not gen") };
        let stream = gen.stream.expect("a stream");
        assert_eq!((stream.cluster.agents, stream.cluster.seed), (7, 9));
        assert_eq!((stream.seconds, stream.running, stream.rate), (2.5, 30, 12.0));
        assert_eq!((stream.mean_duration, stream.agent_churn, stream.rescinds), (Some(4.0), 0.0, 3.0));
        let cmd = parse_args(&["replay", "s.jsonl", "--pass-every", "20", "--full-replan", "--report", "r.html"]);
        let expected = ReplayArgs {
            input: PathBuf::from("s.jsonl"),
            out: None,
            pass_every_ms: 20,
            full_replan: true,
            report: Some(PathBuf::from("r.html")),
            no_queue: false,
        };
        assert_eq!(cmd.unwrap(), Command::Replay(expected));
    }

    #[test]
    fn args_reject_bad_input() {
        for bad in [
            &["solve"][..],
            &["solve", "a", "b"],
            &["solve", "a", "--repeat", "0"],
            &["solve", "a", "--repeat", "x"],
            &["solve", "a", "--strategy", "fast"],
            &["solve", "a", "--packing", "tight"],
            &["gen", "--agents", "3"],
            &["gen", "--agents", "3", "--tasks", "1", "--constraints", "all"],
            &["gen", "--agents", "3", "--tasks", "1", "--group-size", "2"],
            &["frobnicate"],
            &["demo", "--fast"],
            &["gen", "--stream", "--agents", "3", "--tasks", "4"],
            &["gen", "--stream", "--agents", "3", "--rate", "-1"],
            &["gen", "--agents", "3", "--tasks", "1", "--seconds", "4"],
            &["replay"],
            &["replay", "s", "--pass-every", "0"],
        ] {
            assert!(parse_args(bad).is_err(), "{bad:?}");
        }
        for help in [&["--help"][..], &["-h"], &["help"], &["help", "solve"], &["solve", "--help"]] {
            assert_eq!(parse_args(help).unwrap_err().kind(), ErrorKind::DisplayHelp, "{help:?}");
        }
        assert_eq!(parse_args(&["--version"]).unwrap_err().kind(), ErrorKind::DisplayVersion);
        let none = parse_args(&[]).unwrap_err();
        assert!(none.use_stderr() && none.exit_code() == 2, "{none}");
    }
}
