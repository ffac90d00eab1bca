//! Streaming request bodies: a [`Body`] made from a `Stream` of byte pieces
//! or from an `AsyncRead`, written piece by piece after the request head,
//! chunked unless the request gives a `Content-Length`.
//!
//! Not here: bodies in memory (`RequestBuilder::body`), or replaying a
//! stream: it is read once, so a request with one is not retried on a stale
//! connection and does not follow 307/308 redirects.

use std::fmt;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{AsyncRead, Stream, StreamExt, TryStreamExt};

use super::codec;
use super::conn::Conn;
use super::deadline::Deadline;
use super::error::{Error, ErrorKind};

type Pieces = Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>;

/// How much of a reader one piece of an [`Body::from_async_read`] body takes.
const READ_PIECE: usize = 16 * 1024;

/// A request body read as it is sent; give it to
/// [`RequestBuilder::body_stream`](super::RequestBuilder::body_stream).
///
/// ```
/// use ferrio::http::{Body, Bytes};
/// let pieces = futures_util::stream::iter(["a", "b"].map(|s| Ok::<_, std::io::Error>(Bytes::from(s))));
/// let body = Body::wrap_stream(pieces);
/// let from_reader = Body::from_async_read(&b"bytes from a file"[..]);
/// # drop((body, from_reader));
/// ```
pub struct Body {
    pieces: Pieces,
}

impl Body {
    /// A body of the pieces `stream` yields. An error from the stream fails
    /// the request with [`ErrorKind::InvalidRequest`] (and closes its
    /// connection: the server saw part of a body).
    pub fn wrap_stream<S, B, E>(stream: S) -> Body
    where
        S: Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes> + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        let pieces = stream.map_ok(Into::into).map_err(|e| {
            Error::with_source(ErrorKind::InvalidRequest, "the body stream failed", e)
        });
        Body {
            pieces: Box::pin(pieces),
        }
    }

    /// A body read from `reader` to its end.
    pub fn from_async_read<R: AsyncRead + Send + 'static>(reader: R) -> Body {
        let reader = Box::pin(reader);
        let pieces = futures_util::stream::try_unfold(reader, |mut reader| async move {
            use futures_util::AsyncReadExt;
            let mut piece = vec![0; READ_PIECE];
            let n = reader.read(&mut piece).await.map_err(|e| {
                Error::with_source(ErrorKind::InvalidRequest, "reading the body failed", e)
            })?;
            piece.truncate(n);
            Ok((n > 0).then(|| (Bytes::from(piece), reader)))
        });
        Body {
            pieces: Box::pin(pieces),
        }
    }

    /// Writes the body to `conn`: each piece as a chunk if `chunked`, else
    /// as it is, exactly `length` bytes in all. Each write checks the
    /// request's `deadline` first, so a body that never ends, sent to a peer
    /// that always takes it, still stops at the total timeout.
    pub(crate) async fn write_to(
        &mut self,
        conn: &mut Conn,
        chunked: bool,
        length: Option<u64>,
        deadline: Deadline,
    ) -> Result<(), Error> {
        let mut sent = 0u64;
        while let Some(piece) = self.pieces.next().await {
            let piece = piece?;
            if piece.is_empty() {
                continue;
            }
            sent += piece.len() as u64;
            if let Some(length) = length.filter(|&l| sent > l) {
                return Err(length_mismatch(length, sent));
            }
            if chunked {
                let mut framed = Vec::with_capacity(piece.len() + 20);
                codec::encode_chunk(&piece, &mut framed);
                conn.write_all(&framed, deadline).await?;
            } else {
                conn.write_all(&piece, deadline).await?;
            }
        }
        if let Some(length) = length.filter(|&l| sent != l) {
            return Err(length_mismatch(length, sent));
        }
        if chunked {
            conn.write_all(codec::LAST_CHUNK, deadline).await?;
        }
        Ok(())
    }
}

fn length_mismatch(length: u64, sent: u64) -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        format!("the body stream gave {sent} bytes or more for a Content-Length of {length}"),
    )
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body").finish_non_exhaustive()
    }
}
