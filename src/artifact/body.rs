//! Response bodies: a whole body in memory, or a file's range streamed in chunks by a
//! blocking reader through a small channel (one chunk in flight per connection, never the
//! whole file in memory).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

/// Bytes read from disk per chunk.
const CHUNK: usize = 64 * 1024;
/// Chunks buffered between the reader and the connection.
const IN_FLIGHT: usize = 2;

/// A response body.
#[derive(Debug)]
pub(crate) enum ArtifactBody {
    /// A complete body (possibly empty).
    Full(Option<Bytes>),
    /// Chunks of a file, `remaining` bytes still to come.
    Stream { rx: mpsc::Receiver<io::Result<Bytes>>, remaining: u64 },
}

impl ArtifactBody {
    /// A body of `bytes` (empty when they are).
    pub(crate) fn full(bytes: Bytes) -> ArtifactBody {
        ArtifactBody::Full((!bytes.is_empty()).then_some(bytes))
    }

    /// Streams `len` bytes of `file` from `start`, read on tokio's blocking pool. The reader
    /// stops when the body is dropped (the client went away); a file shorter than expected
    /// ends the body with an error, so the connection is cut rather than a short body sent.
    pub(crate) fn stream(file: File, start: u64, len: u64) -> ArtifactBody {
        let (tx, rx) = mpsc::channel(IN_FLIGHT);
        tokio::task::spawn_blocking(move || pump(file, start, len, &tx));
        ArtifactBody::Stream { rx, remaining: len }
    }
}

/// Reads `len` bytes of `file` from `start` into `tx`, chunk by chunk.
fn pump(mut file: File, start: u64, len: u64, tx: &mpsc::Sender<io::Result<Bytes>>) {
    if let Err(e) = file.seek(SeekFrom::Start(start)) {
        let _ = tx.blocking_send(Err(e));
        return;
    }
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).map_or(CHUNK, |left| left.min(CHUNK));
        let mut buf = vec![0u8; want];
        let chunk = match file.read(&mut buf) {
            Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "artifact file shrank while being served")),
            Ok(n) => {
                buf.truncate(n);
                left -= n as u64;
                Ok(Bytes::from(buf))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let failed = chunk.is_err();
        if tx.blocking_send(chunk).is_err() || failed {
            return;
        }
    }
}

impl Body for ArtifactBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.get_mut() {
            ArtifactBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ArtifactBody::Stream { rx, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                match rx.poll_recv(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        *remaining = remaining.saturating_sub(chunk.len() as u64);
                        Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(None) => Poll::Ready(Some(Err(io::Error::other("artifact reader stopped early")))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, ArtifactBody::Full(None) | ArtifactBody::Stream { remaining: 0, .. })
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ArtifactBody::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            ArtifactBody::Stream { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
