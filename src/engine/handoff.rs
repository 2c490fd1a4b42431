//! Handing work between the threads of one pass.

use std::sync::mpsc::{Receiver, TryRecvError};

/// Polls of the channel before the receiver sleeps (a few microseconds).
const SPINS: u32 = 200;

/// The next message, or `None` once every sender is gone.
///
/// A message that is about to arrive is taken without sleeping: the receiver polls for a few
/// microseconds first. Then it sleeps rather than spins, so that a waiting thread leaves its
/// core to whatever else runs there (on a virtual machine, possibly the placing thread's own
/// core); the sender pays one wake-up per message, which is why messages are batches.
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
