//! Tests of the definitions as a whole: clap's own checks, each command's help, the global
//! flag, the completions.

use clap::error::ErrorKind;
use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

use super::{command, completions, log_format_of, parse, Cli};
use crate::cli::args::Command;
use crate::cli::logs::LogFormat;

fn args(line: &str) -> Vec<&str> {
    std::iter::once("offerpack").chain(line.split_whitespace()).collect()
}

/// The long help of one subcommand, as `offerpack NAME --help` prints it.
fn help_of(name: &str) -> String {
    match parse(args(&format!("{name} --help"))) {
        Err(e) if e.kind() == ErrorKind::DisplayHelp => e.render().to_string(),
        other => panic!("{name} --help: {other:?}"),
    }
}

/// Whether `text` names the flag `--long` (not merely a longer flag that starts with it).
fn names_flag(text: &str, long: &str) -> bool {
    let flag = format!("--{long}");
    text.match_indices(&flag).any(|(at, _)| {
        let next = text[at + flag.len()..].chars().next();
        !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

#[test]
fn flags_definitions_pass_clap_debug_asserts() {
    Cli::command().debug_assert();
    command().debug_assert();
}

#[test]
fn flags_negative_numbers_are_values_rejected_by_name() {
    for (line, wanted) in [
        ("master --agents 1 --mem -1", "invalid value '-1' for '--mem <M>': must be a number from 0"),
        ("gen --agents 1 --tasks 1 --big-every -1", "invalid value '-1' for '--big-every <N>'"),
        ("run --master m --tasks 1 --retry-backoff -1", "invalid value '-1' for '--retry-backoff <MS>'"),
        ("gen --stream --agents 3 --rate -1", "invalid value '-1' for '--rate <A>': must be a finite number"),
    ] {
        let err = parse(args(line)).expect_err(line);
        assert!(err.to_string().contains(wanted), "{line}: {err}");
    }
    assert!(parse(args("solve -1")).is_err(), "a positional is not an option's value");
}

#[test]
fn flags_each_command_help_names_its_own_flags_only() {
    let cli = command();
    // Each command's flags: the names its help must show (long and visible aliases) and every
    // name it accepts (hidden aliases too).
    let names = |sub: &clap::Command, hidden: bool| -> Vec<String> {
        let mut names = Vec::new();
        for arg in sub.get_arguments().filter(|a| !a.is_global_set()) {
            let aliases = if hidden { arg.get_all_aliases() } else { arg.get_visible_aliases() };
            names.extend(arg.get_long().into_iter().chain(aliases.unwrap_or_default()).map(str::to_owned));
        }
        names
    };
    let all: Vec<(String, Vec<String>, Vec<String>)> =
        cli.get_subcommands().map(|sub| (sub.get_name().to_owned(), names(sub, false), names(sub, true))).collect();
    assert!(all.len() >= 10, "{all:?}");
    for (name, shown, accepted) in &all {
        let help = help_of(name);
        for long in shown {
            assert!(names_flag(&help, long), "`{name} --help` does not name its --{long}:\n{help}");
        }
        for (other, theirs, _) in &all {
            for long in theirs.iter().filter(|l| !accepted.contains(l)) {
                assert!(!names_flag(&help, long), "`{name} --help` names --{long} of `{other}`:\n{help}");
            }
        }
        assert!(names_flag(&help, "log-format"), "the global flag is in every command's help");
    }
    let solve = help_of("solve");
    assert!(names_flag(&solve, "repeat") && !names_flag(&solve, "agent-timeout"), "{solve}");
    let run = help_of("run");
    assert!(names_flag(&run, "ha-session-timeout") && !names_flag(&run, "repeat"), "{run}");
}

#[test]
fn flags_top_help_lists_every_command() {
    let help = match parse(args("--help")) {
        Err(e) if e.kind() == ErrorKind::DisplayHelp => e.render().to_string(),
        other => panic!("--help: {other:?}"),
    };
    for name in ["solve", "gen", "replay", "master", "demo", "run", "artifacts", "agent", "executor", "completions"] {
        assert!(help.lines().any(|l| l.trim_start().starts_with(name)), "{name} missing:\n{help}");
    }
    assert!(!names_flag(&help, "repeat"), "the top help lists commands, not their flags:\n{help}");
}

#[test]
fn flags_log_format_is_global_and_the_last_one_wins() {
    let (format, command) = parse(args("demo --log-format json --agents 3")).unwrap();
    assert_eq!(format, LogFormat::Json);
    assert!(matches!(command, Command::Demo(d) if d.agents == 3));
    assert_eq!(parse(args("--log-format=json solve w.json")).unwrap().0, LogFormat::Json);
    assert_eq!(parse(args("--log-format json demo --log-format text")).unwrap().0, LogFormat::Text);
    assert_eq!(parse(args("demo")).unwrap().0, LogFormat::Text);
    let err = parse(args("demo --log-format xml")).unwrap_err();
    assert!(err.to_string().contains("'--log-format <FORMAT>'"), "{err}");
    assert_eq!(err.exit_code(), 2);
}

#[test]
fn flags_log_format_is_found_in_a_line_that_does_not_parse() {
    assert_eq!(log_format_of(args("demo --log-format json --fast")), LogFormat::Json);
    assert_eq!(log_format_of(args("--log-format json")), LogFormat::Json);
    assert_eq!(log_format_of(args("solve --bogus")), LogFormat::Text);
}

#[test]
fn flags_rules_across_flags_name_the_flags() {
    for (line, wanted) in [
        ("demo --rate 10", "--soak <SECS>"),
        ("demo --soak 5 --multinode", "--multinode"),
        ("demo --multinode --agents 201", "--multinode runs at most 200 agent processes"),
        ("gen --agents 3 --tasks 1 --seconds 4", "--seconds applies to --stream"),
        ("gen --stream --agents 3 --tasks 4", "--tasks"),
        ("run --master m --tasks 1 --instance a", "--ha <URL>"),
        ("run --master m --tasks 1 --principal p", "--secret-file <FILE>"),
        ("run --master m --tasks 1 --executor-cpus 1", "--executor <PATH>"),
        ("run --master m --tasks 1 --ha file:///tmp/x --executor e --artifact-bind 127.0.0.1:0", "--ha"),
        ("master --agents 1 --tls-key k.pem", "--tls-cert <FILE>"),
    ] {
        let err = parse(args(line)).expect_err(line);
        assert!(err.to_string().contains(wanted), "{line}: {err}");
        assert_eq!(err.exit_code(), 2, "{line}");
    }
}

#[test]
fn flags_complete_every_shell_from_the_definitions() {
    for shell in Shell::value_variants() {
        let mut script = Vec::new();
        completions(*shell, &mut script);
        let text = String::from_utf8(script).expect("a script is text");
        assert!(text.contains("offerpack") && text.contains("repeat"), "{shell}:\n{text}");
    }
    assert!(matches!(parse(args("completions zsh")), Ok((_, Command::Completions(Shell::Zsh)))));
    assert!(parse(args("completions tcsh")).is_err());
}
