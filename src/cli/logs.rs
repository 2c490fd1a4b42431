//! The binary's logs: the global `--log-format text|json` flag and the `tracing` subscriber.
//!
//! Logs go to standard error, filtered by `RUST_LOG` (default `warn`, so that a run prints what
//! it always printed; `RUST_LOG=offerpack=debug` shows the driver's work). With `--log-format
//! json` every line on standard error is one JSON object: the log events, and the command's own
//! lines (progress, warnings, errors) as events of target [`OUTPUT_TARGET`] at `info` (or
//! `error`), which `RUST_LOG` never hides. Standard output is never touched.

use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::filter::{Directive, EnvFilter, LevelFilter};

use super::CliError;

/// The target of the command's own standard-error lines in JSON mode.
pub const OUTPUT_TARGET: &str = "offerpack::output";

/// Whether standard error carries JSON lines.
static JSON: AtomicBool = AtomicBool::new(false);

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Whether the command's standard-error lines are to be written as JSON log events.
pub fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// Takes `--log-format FORMAT` (or `--log-format=FORMAT`) out of `args`, wherever it stands
/// before a `--`; the last one given wins.
pub fn take_log_format(args: Vec<OsString>) -> Result<(LogFormat, Vec<OsString>), CliError> {
    let mut format = LogFormat::Text;
    let mut rest = Vec::with_capacity(args.len());
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--" {
            rest.push(arg);
            rest.extend(args.by_ref());
            break;
        }
        let value = match arg.to_str() {
            Some("--log-format") => {
                args.next().ok_or_else(|| CliError::Usage("--log-format needs a value: text or json".into()))?
            }
            Some(text) if text.starts_with("--log-format=") => OsString::from(&text["--log-format=".len()..]),
            _ => {
                rest.push(arg);
                continue;
            }
        };
        format = match value.to_str() {
            Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            _ => return Err(CliError::Usage(format!("--log-format {value:?}: expected text or json"))),
        };
    }
    Ok((format, rest))
}

/// Installs the subscriber: `RUST_LOG` (default `warn`) to standard error in `format`.
pub fn init(format: LogFormat) {
    let builder = EnvFilter::builder().with_default_directive(LevelFilter::WARN.into());
    let mut filter = builder.from_env().unwrap_or_else(|error| {
        note!("warning: RUST_LOG: {error}; logging at warn");
        EnvFilter::new("warn")
    });
    let stderr = std::io::stderr;
    let installed = match format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter).with_writer(stderr).try_init(),
        LogFormat::Json => {
            if let Ok(output) = format!("{OUTPUT_TARGET}=info").parse::<Directive>() {
                filter = filter.add_directive(output);
            }
            let installed = tracing_subscriber::fmt().json().with_env_filter(filter).with_writer(stderr).try_init();
            JSON.store(installed.is_ok(), Ordering::Relaxed);
            installed
        }
    };
    // Only a subscriber installed earlier makes this fail, and the binary installs none.
    let _ = installed;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn take_log_format_finds_the_flag_anywhere_before_a_double_dash() {
        let (format, rest) = take_log_format(strings(&["run", "--log-format", "json", "--tasks", "2"])).unwrap();
        assert_eq!((format, rest), (LogFormat::Json, strings(&["run", "--tasks", "2"])));
        let (format, rest) = take_log_format(strings(&["--log-format=json", "demo", "--log-format=text"])).unwrap();
        assert_eq!((format, rest), (LogFormat::Text, strings(&["demo"])));
        let (format, rest) = take_log_format(strings(&["solve", "--", "--log-format", "json"])).unwrap();
        assert_eq!((format, rest), (LogFormat::Text, strings(&["solve", "--", "--log-format", "json"])));
    }

    #[test]
    fn take_log_format_rejects_unknown_and_missing_values() {
        assert!(matches!(take_log_format(strings(&["demo", "--log-format", "xml"])), Err(CliError::Usage(_))));
        assert!(matches!(take_log_format(strings(&["demo", "--log-format"])), Err(CliError::Usage(_))));
    }
}
