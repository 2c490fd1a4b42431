//! HTTP response bodies of the shell: a whole body, or the RecordIO event stream of a
//! SUBSCRIBE fed through a channel by the actor.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tokio::sync::mpsc;

use super::state::StreamKey;

/// What the actor sends down a stream.
#[derive(Debug)]
pub(crate) enum Chunk {
    /// Bytes to write (whole RecordIO records, or half of one before a cut).
    Data(Bytes),
    /// Abort the connection (no terminating chunk) once what was written is flushed.
    Abort,
}

/// Tells the actor that a stream's body was dropped (the connection is gone).
pub(crate) type GoneSender = mpsc::UnboundedSender<StreamKey>;

/// A response body.
#[derive(Debug)]
pub(crate) enum ApiBody {
    /// A complete body (possibly empty).
    Full(Option<Bytes>),
    /// An event stream.
    Events(EventBody),
}

impl ApiBody {
    pub(crate) fn text(text: impl Into<String>) -> ApiBody {
        let text = text.into();
        ApiBody::Full((!text.is_empty()).then(|| Bytes::from(text)))
    }
}

/// The body of a SUBSCRIBE response: whatever the actor sends, until it closes the channel
/// (clean end) or sends [`Chunk::Abort`]. Dropping it reports the stream as gone.
#[derive(Debug)]
pub(crate) struct EventBody {
    rx: mpsc::UnboundedReceiver<Chunk>,
    key: StreamKey,
    gone: GoneSender,
    aborting: bool,
}

impl EventBody {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<Chunk>, key: StreamKey, gone: GoneSender) -> EventBody {
        EventBody { rx, key, gone, aborting: false }
    }
}

impl Drop for EventBody {
    fn drop(&mut self) {
        // The actor may be gone already (shutdown); nothing to tell then.
        let _ = self.gone.send(self.key);
    }
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ApiBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ApiBody::Events(events) => events.poll_chunk(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ApiBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ApiBody::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            ApiBody::Events(_) => SizeHint::default(),
        }
    }
}

impl EventBody {
    fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if self.aborting {
            return Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::ConnectionAborted, "event stream cut"))));
        }
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(Chunk::Data(bytes))) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
            Poll::Ready(Some(Chunk::Abort)) => {
                // Yield once so that hyper flushes what it has buffered, then fail the body,
                // which makes hyper drop the connection without the final chunk.
                self.aborting = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
