//! Command-line parsing with lexopt: subcommand first, then its flags. The flags of the
//! commands that speak the Mesos protocol (`master`, `demo`, `run`) are in
//! [`live_args`](super::live_args).

use std::path::PathBuf;

use lexopt::{Arg, Parser, ValueExt};
use offerpack::workload::{ConstraintMix, GenOptions, GroupShapes, Shapes, StreamOptions, MAX_SHAPE_COUNT};
use offerpack::{Packing, Strategy};

use super::live_args::{self, DemoArgs, MasterArgs, RunArgs};

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
    /// `offerpack help`, `--help`, `-h`.
    Help,
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

/// Parses arguments that do not include the program name (the global flags taken out).
pub fn parse_from(args: Vec<std::ffi::OsString>) -> Result<Command, lexopt::Error> {
    parse(Parser::from_args(args))
}

/// Parses arguments that do not include the program name.
#[cfg(test)]
pub fn parse_args(args: &[&str]) -> Result<Command, lexopt::Error> {
    parse(Parser::from_args(args.iter().map(std::ffi::OsString::from)))
}

fn parse(mut p: Parser) -> Result<Command, lexopt::Error> {
    let command = match p.next()? {
        None => return Err("no command given".into()),
        Some(Arg::Short('h') | Arg::Long("help")) => return Ok(Command::Help),
        Some(Arg::Value(v)) => v.string()?,
        Some(other) => return Err(other.unexpected()),
    };
    match command.as_str() {
        "solve" => solve(p),
        "gen" => gen(p),
        "replay" => replay(p),
        "master" => live_args::master(p),
        "demo" => live_args::demo(p),
        "run" => live_args::run(p),
        "artifacts" => super::artifacts::parse(p),
        "executor" => super::executor::parse(p),
        "agent" => super::agent::parse(p),
        "help" => Ok(Command::Help),
        other => Err(format!(
            "unknown command {other:?} (expected solve, gen, replay, master, demo, run, artifacts, agent, executor or help)"
        )
        .into()),
    }
}

fn solve(mut p: Parser) -> Result<Command, lexopt::Error> {
    let (mut input, mut out, mut repeat, mut strategy) = (None, None, 1u32, Strategy::Indexed);
    let (mut packing, mut threads, mut patterns, mut bound) = (Packing::FillAgents, 1usize, true, false);
    let mut report = None;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Short('o') | Arg::Long("out") => out = Some(PathBuf::from(p.value()?)),
            Arg::Short('n') | Arg::Long("repeat") => {
                repeat = p.value()?.parse()?;
                if repeat == 0 {
                    return Err("--repeat must be at least 1".into());
                }
            }
            Arg::Long("strategy") => {
                strategy = match p.value()?.string()?.as_str() {
                    "indexed" => Strategy::Indexed,
                    "scan" => Strategy::Scan,
                    "keyed" => Strategy::Keyed,
                    other => return Err(format!("unknown strategy {other:?} (expected indexed, keyed or scan)").into()),
                }
            }
            Arg::Long("packing") => {
                let value = p.value()?.string()?;
                patterns = value != "greedy-fill";
                packing = match value.as_str() {
                    "fill" | "greedy-fill" => Packing::FillAgents,
                    "task-by-task" => Packing::TaskByTask,
                    other => {
                        return Err(
                            format!("unknown packing {other:?} (expected fill, greedy-fill or task-by-task)").into()
                        )
                    }
                }
            }
            Arg::Long("threads") => threads = positive(p.value()?.parse()?, "--threads")? as usize,
            Arg::Long("bound") => bound = true,
            Arg::Long("report") => report = Some(PathBuf::from(p.value()?)),
            Arg::Value(v) if input.is_none() => input = Some(PathBuf::from(v)),
            other => return Err(other.unexpected()),
        }
    }
    let input = input.ok_or("solve needs an input file (INPUT.json, or - for standard input)")?;
    Ok(Command::Solve(SolveArgs { input, out, repeat, strategy, packing, threads, patterns, bound, report }))
}

/// Shapes per `random` family unless `--shape-count` says otherwise.
const DEFAULT_SHAPE_COUNT: u32 = 8;

fn gen(mut p: Parser) -> Result<Command, lexopt::Error> {
    let mut options = GenOptions::default();
    let (mut agents, mut tasks, mut out) = (None, None, None);
    let (mut mix, mut group_size) = ("none".to_owned(), None);
    let (mut shapes, mut shape_count) = ("uniform".to_owned(), None);
    let mut stream: Option<StreamOptions> = None;
    while let Some(arg) = p.next()? {
        if let (Some(s), Arg::Long(flag)) = (stream.as_mut(), &arg) {
            if STREAM_FLAGS.contains(flag) {
                let flag = (*flag).to_owned();
                stream_flag(&flag, &mut p, s)?;
                continue;
            }
        }
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Long("stream") => stream = Some(StreamOptions::default()),
            Arg::Long("agents") => agents = Some(p.value()?.parse()?),
            Arg::Long("tasks") => tasks = Some(p.value()?.parse()?),
            Arg::Long("seed") => options.seed = p.value()?.parse()?,
            Arg::Long("zones") => options.zones = positive(p.value()?.parse()?, "--zones")?,
            Arg::Long("racks-per-zone") => options.racks_per_zone = positive(p.value()?.parse()?, "--racks-per-zone")?,
            Arg::Long("group-size") => group_size = Some(positive(p.value()?.parse()?, "--group-size")?),
            Arg::Long("constraints") => mix = p.value()?.string()?,
            Arg::Long("shapes") => shapes = p.value()?.string()?,
            Arg::Long("shape-count") => {
                let count = positive(p.value()?.parse()?, "--shape-count")?;
                if count > MAX_SHAPE_COUNT {
                    return Err(format!("--shape-count must be at most {MAX_SHAPE_COUNT}").into());
                }
                shape_count = Some(count);
            }
            Arg::Long("group-shapes") => {
                options.group_shapes = match p.value()?.string()?.as_str() {
                    "same" => GroupShapes::Same,
                    "mixed" => GroupShapes::Mixed,
                    other => return Err(format!("unknown group shapes {other:?} (expected same or mixed)").into()),
                }
            }
            Arg::Long("big-every") => options.big_every = p.value()?.parse()?,
            Arg::Short('o') | Arg::Long("out") => out = Some(PathBuf::from(p.value()?)),
            other => return Err(other.unexpected()),
        }
    }
    options.constraints = match (mix.as_str(), group_size) {
        ("unique-host", size) => ConstraintMix::UniqueHostPerGroup { group_size: size.unwrap_or(10) },
        ("none" | "mixed", Some(_)) => return Err("--group-size applies to --constraints unique-host".into()),
        ("none", None) => ConstraintMix::None,
        ("mixed", None) => ConstraintMix::Mixed,
        (other, _) => return Err(format!("unknown constraints {other:?} (expected none, unique-host or mixed)").into()),
    };
    options.shapes = match (shapes.as_str(), shape_count) {
        ("random", count) => Shapes::Random { count: count.unwrap_or(DEFAULT_SHAPE_COUNT) },
        ("uniform" | "irregular", Some(_)) => return Err("--shape-count applies to --shapes random".into()),
        ("uniform", None) => Shapes::Uniform,
        ("irregular", None) => Shapes::Irregular,
        (other, _) => return Err(format!("unknown shapes {other:?} (expected uniform, irregular or random)").into()),
    };
    options.agents = agents.ok_or("gen needs --agents N")?;
    if let Some(s) = stream.as_mut() {
        if tasks.is_some() {
            return Err("--tasks does not apply to --stream (arrivals come from --rate)".into());
        }
        s.cluster = options.clone();
    } else {
        options.tasks = tasks.ok_or("gen needs --tasks M")?;
    }
    Ok(Command::Gen(GenArgs { options, stream, out }))
}

/// The flags of `gen --stream` (they must follow `--stream`).
const STREAM_FLAGS: [&str; 7] = ["seconds", "running", "rate", "mean-duration", "agent-churn", "rescinds", "buckets"];

/// Takes the value of one of [`STREAM_FLAGS`].
fn stream_flag(flag: &str, p: &mut Parser, s: &mut StreamOptions) -> Result<(), lexopt::Error> {
    let number = |p: &mut Parser, flag: &str| -> Result<f64, lexopt::Error> {
        let v: f64 = p.value()?.parse()?;
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!("{flag} must be a finite number, not negative").into());
        }
        Ok(v)
    };
    match flag {
        "seconds" => s.seconds = number(p, "--seconds")?,
        "running" => s.running = p.value()?.parse()?,
        "rate" => s.rate = number(p, "--rate")?,
        "mean-duration" => s.mean_duration = Some(number(p, "--mean-duration")?),
        "agent-churn" => s.agent_churn = number(p, "--agent-churn")?,
        "buckets" => s.buckets = p.value()?.parse()?,
        _ => s.rescinds = number(p, "--rescinds")?,
    }
    Ok(())
}

fn replay(mut p: Parser) -> Result<Command, lexopt::Error> {
    let (mut input, mut out, mut pass_every_ms, mut full_replan, mut report) = (None, None, 50u64, false, None);
    let mut no_queue = false;
    while let Some(arg) = p.next()? {
        match arg {
            Arg::Short('h') | Arg::Long("help") => return Ok(Command::Help),
            Arg::Long("pass-every") => {
                pass_every_ms = p.value()?.parse()?;
                if pass_every_ms == 0 {
                    return Err("--pass-every must be at least 1 (milliseconds)".into());
                }
            }
            Arg::Long("full-replan") => full_replan = true,
            Arg::Long("report") => report = Some(PathBuf::from(p.value()?)),
            Arg::Long("no-queue") => no_queue = true,
            Arg::Short('o') | Arg::Long("out") => out = Some(PathBuf::from(p.value()?)),
            Arg::Value(v) if input.is_none() => input = Some(PathBuf::from(v)),
            other => return Err(other.unexpected()),
        }
    }
    let input = input.ok_or("replay needs a stream file (or - for standard input)")?;
    Ok(Command::Replay(ReplayArgs { input, out, pass_every_ms, full_replan, report, no_queue }))
}

fn positive(n: u32, flag: &str) -> Result<u32, lexopt::Error> {
    if n == 0 {
        return Err(format!("{flag} must be at least 1").into());
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
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
            (&["--shapes", "random", "--shape-count", "0"][..], "--shape-count must be at least 1"),
            (&["--shapes", "random", "--shape-count", "x"], "x"),
            (&["--shapes", "random", "--shape-count", "70000"], "--shape-count must be at most 65536"),
            (&["--shape-count", "4"], "--shape-count applies to --shapes random"),
            (&["--shapes", "spiky"], "unknown shapes \"spiky\""),
            (&["--group-shapes", "foo"], "unknown group shapes \"foo\" (expected same or mixed)"),
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
        assert_eq!(parse_args(&["--help"]).unwrap(), Command::Help);
        assert!(parse_args(&[]).is_err());
    }
}
