//! SIGINT and SIGTERM for the long-running commands: the first one asks for a graceful stop,
//! the second exits at once.
//!
//! Without this, Ctrl-C killed `offerpack run` on the spot: no teardown, no word, its tasks left
//! on the cluster for the failover timeout. Commands select on [`Signals::first`] beside their
//! work, say what they do, stop gracefully, and spawn [`exit_on_second`] so that a second signal
//! during that stop ends the process at once (exit status 128 + the signal's number, as shells
//! report a process killed by it).

use tokio::signal::unix::{signal, Signal, SignalKind};

/// Listens for SIGINT and SIGTERM from its creation on.
pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

/// One of the signals listened for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caught {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Caught {
    /// The signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Caught::Interrupt => "SIGINT",
            Caught::Terminate => "SIGTERM",
        }
    }

    /// The exit status of a process that ends because of this signal.
    pub fn exit_status(self) -> i32 {
        match self {
            Caught::Interrupt => 130,
            Caught::Terminate => 143,
        }
    }
}

impl Signals {
    /// Starts listening; must be called inside a tokio runtime. `None` when the handlers cannot
    /// be installed (the command then runs without graceful stops).
    pub fn new() -> Option<Signals> {
        Some(Signals {
            interrupt: signal(SignalKind::interrupt()).ok()?,
            terminate: signal(SignalKind::terminate()).ok()?,
        })
    }

    /// The next signal.
    pub async fn first(&mut self) -> Caught {
        tokio::select! {
            _ = self.interrupt.recv() => Caught::Interrupt,
            _ = self.terminate.recv() => Caught::Terminate,
        }
    }
}

/// Waits for a further signal on `signals`, then exits the process at once; abort the task
/// returned once the graceful stop is over.
pub fn exit_on_second(mut signals: Signals) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let caught = signals.first().await;
        note!("{}: a second signal: exiting at once", caught.name());
        std::process::exit(caught.exit_status());
    })
}

/// Waits for the first signal, or for ever when none can be listened for.
pub async fn first_or_never(signals: &mut Option<Signals>) -> Caught {
    match signals {
        Some(signals) => signals.first().await,
        None => std::future::pending().await,
    }
}
