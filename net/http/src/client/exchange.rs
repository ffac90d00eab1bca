//! One exchange on one connection: the request written, the response head read.

use bytes::Bytes;
use http::{Method, StatusCode};

use super::send::Upload;
use super::Inner;
use crate::codec::{self, BodyDecoder, ResponseHead};
use crate::conn::{Conn, Sent};
use crate::deadline::Deadline;
use crate::error::{Error, ErrorKind, TimeoutKind};

/// Request bodies up to this size are written with the head in one write.
pub(super) const COALESCE_BODY: usize = 16 * 1024;

/// A failed exchange, and whether the server may never have seen the request.
pub(super) struct Failed {
    pub(super) error: Error,
    /// The connection failed before any byte of a response arrived.
    pub(super) before_response: bool,
}

impl Inner {
    /// Writes the request and reads the response head; skips 1xx heads.
    pub(super) async fn exchange(
        &self,
        conn: &mut Conn,
        head: &[u8],
        body: Option<&Bytes>,
        upload: Option<&mut Upload>,
        method: &Method,
        deadline: Deadline,
    ) -> Result<(ResponseHead, BodyDecoder, bool), Failed> {
        let early = |error: Error| Failed {
            before_response: error_is_connection(&error),
            error,
        };
        // `send` bounds this whole exchange by the total deadline, but its
        // timer fires only while the exchange waits: each write and read
        // checks the deadline first (without a timer of its own), so a server
        // that is always ready cannot carry the exchange past it.
        let past_deadline = || Failed {
            error: Error::timeout(TimeoutKind::Total),
            before_response: false,
        };
        if deadline.is_past() {
            return Err(past_deadline());
        }
        conn.write_all(head, Deadline::none())
            .await
            .map_err(early)?;
        // Whether every byte of the request went out: a connection whose
        // request was cut short by an early answer cannot carry another.
        let mut sent_all = true;
        // The failed write of a body the server may have answered early.
        let mut write_failed = None;
        if let Some(body) = body.filter(|b| b.len() > COALESCE_BODY) {
            let watched = conn
                .write_watching(body, deadline, self.max_header_bytes, has_final_head)
                .await
                .map_err(early)?;
            match watched {
                Sent::All => {}
                Sent::Answered => sent_all = false,
                Sent::Failed(error) => {
                    sent_all = false;
                    write_failed = Some(error);
                }
            }
        }
        if let Some(upload) = upload {
            // Streamed bodies are written here, and only here (`upload.rs`).
            let (chunked, length) = (upload.chunked, upload.length);
            upload
                .body
                .write_to(conn, chunked, length, deadline)
                .await
                .map_err(|error| Failed {
                    error,
                    before_response: false,
                })?;
        }
        let mut received = false;
        loop {
            match codec::parse_response_head(conn.buffered(), self.max_header_bytes) {
                Ok(Some((head, len))) => {
                    conn.consume(len);
                    if head.status.is_informational()
                        && head.status != StatusCode::SWITCHING_PROTOCOLS
                    {
                        continue;
                    }
                    let framing = codec::framing(method, &head).map_err(|e| Failed {
                        error: Error::with_source(ErrorKind::MalformedResponse, "", e),
                        before_response: false,
                    })?;
                    let decoder = BodyDecoder::new(framing.kind, self.max_header_bytes);
                    return Ok((head, decoder, framing.keep_alive && sent_all));
                }
                Ok(None) => {}
                Err(e) => {
                    let kind = if e.is_too_large() {
                        ErrorKind::TooLarge
                    } else {
                        ErrorKind::MalformedResponse
                    };
                    return Err(Failed {
                        error: Error::with_source(kind, "", e),
                        before_response: false,
                    });
                }
            }
            if let Some(error) = write_failed.take().filter(|_| conn.buffered().is_empty()) {
                // Nothing from the server before the write failed: a
                // response may still be on its way (its reset may have
                // overtaken it), but most likely there is none.
                if deadline.is_past() {
                    return Err(past_deadline());
                }
                let read = Deadline::after(self.read_timeout, TimeoutKind::Read);
                if !matches!(conn.fill(read).await, Ok(n) if n > 0) {
                    return Err(early(error));
                }
                received = true;
                continue;
            }
            if deadline.is_past() {
                return Err(past_deadline());
            }
            let read = Deadline::after(self.read_timeout, TimeoutKind::Read);
            match conn.fill(read).await {
                Ok(0) => {
                    return Err(Failed {
                        error: Error::new(
                            ErrorKind::Io,
                            "connection closed before a complete response head",
                        ),
                        before_response: !received,
                    })
                }
                Ok(_) => received = true,
                Err(error) => {
                    let before_response = !received && error_is_connection(&error);
                    return Err(Failed {
                        error,
                        before_response,
                    });
                }
            }
        }
    }
}

/// Whether `buf` starts with a final response head (or with bytes that can
/// never be one), after any number of 1xx heads: while a body is being sent,
/// the point at which the server has answered.
fn has_final_head(mut buf: &[u8]) -> bool {
    loop {
        match codec::parse_response_head(buf, usize::MAX) {
            Ok(Some((head, len)))
                if head.status.is_informational()
                    && head.status != StatusCode::SWITCHING_PROTOCOLS =>
            {
                buf = &buf[len..];
            }
            Ok(Some(_)) => return true,
            Ok(None) => return false,
            Err(_) => return true,
        }
    }
}

/// Whether `e` is the connection failing (not a timeout or a bad response).
fn error_is_connection(e: &Error) -> bool {
    e.kind() == ErrorKind::Io
}
