//! Small helpers shared by the engine's tools.

mod rng;
mod text;

pub use rng::SeededRng;
pub use text::same_text;

/// An error followed by its chain of causes, `: `-separated (reqwest's errors say little
/// without their sources).
#[cfg(any(feature = "driver", feature = "executor"))]
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
