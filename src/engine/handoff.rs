//! Handing work between the threads of one pass.

use std::sync::mpsc::{Receiver, TryRecvError};

/// Polls of the channel before the receiver sleeps (a few hundred microseconds).
const SPINS: u32 = 20_000;

/// The next message, or `None` once every sender is gone.
///
/// The threads of a pass hand over work every few tens of microseconds. Waking a sleeping
/// thread costs the sender a system call each time, and on a virtual machine the sleeper may
/// take longer still to run again; so the receiver polls a while before it sleeps.
pub(crate) fn receive_soon<T>(receiver: &Receiver<T>) -> Option<T> {
    for _ in 0..SPINS {
        match receiver.try_recv() {
            Ok(message) => return Some(message),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    receiver.recv().ok()
}
