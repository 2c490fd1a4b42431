//! The binary's logs: the format the global `--log-format text|json` flag picks (see
//! [`flags`](super::flags)) and the `tracing` subscriber.
//!
//! Logs go to standard error, filtered by `RUST_LOG` (default `warn`, so that a run prints what
//! it always printed; `RUST_LOG=offerpack=debug` shows the driver's work). With `--log-format
//! json` every line on standard error is one JSON object: the log events, and the command's own
//! lines (progress, warnings, errors) as events of target [`OUTPUT_TARGET`] at `info` (or
//! `error`), which `RUST_LOG` never hides. Standard output is never touched.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::filter::{Directive, EnvFilter, LevelFilter};

/// The target of the command's own standard-error lines in JSON mode.
pub const OUTPUT_TARGET: &str = "offerpack::output";

/// Whether standard error carries JSON lines.
static JSON: AtomicBool = AtomicBool::new(false);

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
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
