//! One exchange on one connection: the request written, the response head
//! read. Its progress is a [`State`] (as hyper's `Writing`/`Reading` and
//! ureq-proto's states), which each step of [`Inner::exchange`] moves on; a
//! failure says how far it got ([`Phase`]), which is what
//! `retry::may_retry` decides on.

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

/// How far an exchange got when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Writing the request: its head, or a body held in memory (and, after
    /// such a write failed, the read that found no answer to it).
    Writing,
    /// Writing a streamed body.
    Streaming,
    /// Reading the response head; `received` says whether any byte of a
    /// response came.
    Reading { received: bool },
}

/// A failed exchange, and how far it got.
pub(super) struct Failed {
    pub(super) error: Error,
    pub(super) phase: Phase,
}

impl Failed {
    fn at(phase: Phase, error: Error) -> Failed {
        Failed { error, phase }
    }
}

/// Where an exchange is.
enum State<'a> {
    /// Writing the head, with a body of up to [`COALESCE_BODY`] bytes.
    WritingHead,
    /// Writing a longer body, watching for an early answer.
    WritingBody(&'a Bytes),
    /// Writing a streamed body; `sent` says how any body before it went.
    WritingStream { upload: &'a mut Upload, sent: Sent },
    /// Reading the response head. `sent` says how the request went: one cut
    /// short by an early answer leaves a connection that cannot carry
    /// another, and after a failed write with nothing from the server yet,
    /// one read decides whether an answer came. `received`: whether any
    /// byte of a response came.
    ReadingHead { sent: Sent, received: bool },
}

impl<'a> State<'a> {
    /// After the request's body in memory (if any) went as `sent`: its
    /// streamed body, if it has one, else the response.
    fn after_body(upload: Option<&'a mut Upload>, sent: Sent) -> State<'a> {
        match upload {
            Some(upload) => State::WritingStream { upload, sent },
            None => State::ReadingHead {
                sent,
                received: false,
            },
        }
    }
}

impl Inner {
    /// Writes the request and reads the response head; skips 1xx heads.
    /// Returns the head, its body's decoder, and whether the connection can
    /// carry another request.
    pub(super) async fn exchange(
        &self,
        conn: &mut Conn,
        head: &[u8],
        body: Option<&Bytes>,
        mut upload: Option<&mut Upload>,
        method: &Method,
        deadline: Deadline,
    ) -> Result<(ResponseHead, BodyDecoder, bool), Failed> {
        // `send` bounds this whole exchange by the total deadline, but its
        // timer fires only while the exchange waits: each write and read
        // checks the deadline first (without a timer of its own), so a server
        // that is always ready cannot carry the exchange past it.
        let past_deadline = |phase| Failed::at(phase, Error::timeout(TimeoutKind::Total));
        let mut state = State::WritingHead;
        loop {
            state = match state {
                State::WritingHead => {
                    if deadline.is_past() {
                        return Err(past_deadline(Phase::Writing));
                    }
                    conn.write_all(head, Deadline::none())
                        .await
                        .map_err(|e| Failed::at(Phase::Writing, e))?;
                    match body.filter(|b| b.len() > COALESCE_BODY) {
                        Some(body) => State::WritingBody(body),
                        None => State::after_body(upload.take(), Sent::All),
                    }
                }
                State::WritingBody(body) => {
                    let sent = conn
                        .write_watching(body, deadline, self.max_header_bytes, has_final_head)
                        .await
                        .map_err(|e| Failed::at(Phase::Writing, e))?;
                    State::after_body(upload.take(), sent)
                }
                State::WritingStream { upload, sent } => {
                    // Streamed bodies are written here, and only here (`upload.rs`).
                    let (chunked, length) = (upload.chunked, upload.length);
                    upload
                        .body
                        .write_to(conn, chunked, length, deadline)
                        .await
                        .map_err(|e| Failed::at(Phase::Streaming, e))?;
                    State::ReadingHead {
                        sent,
                        received: false,
                    }
                }
                State::ReadingHead { sent, received } => {
                    let phase = Phase::Reading { received };
                    match codec::parse_response_head(conn.buffered(), self.max_header_bytes) {
                        Ok(Some((head, len))) => {
                            conn.consume(len);
                            if head.status.is_informational()
                                && head.status != StatusCode::SWITCHING_PROTOCOLS
                            {
                                State::ReadingHead { sent, received }
                            } else {
                                let framing = codec::framing(method, &head).map_err(|e| {
                                    let error =
                                        Error::with_source(ErrorKind::MalformedResponse, "", e);
                                    Failed::at(phase, error)
                                })?;
                                let decoder = BodyDecoder::new(framing.kind, self.max_header_bytes);
                                let whole = matches!(sent, Sent::All);
                                return Ok((head, decoder, framing.keep_alive && whole));
                            }
                        }
                        Ok(None) => match sent {
                            Sent::Failed(error) if conn.buffered().is_empty() => {
                                // Nothing from the server before the write
                                // failed: a response may still be on its way
                                // (its reset may have overtaken it), but most
                                // likely there is none.
                                if deadline.is_past() {
                                    return Err(past_deadline(phase));
                                }
                                let read = Deadline::after(self.read_timeout, TimeoutKind::Read);
                                if !matches!(conn.fill(read).await, Ok(n) if n > 0) {
                                    return Err(Failed::at(Phase::Writing, error));
                                }
                                State::ReadingHead {
                                    sent: Sent::Answered,
                                    received: true,
                                }
                            }
                            sent => {
                                // After a failed write, what the server sent
                                // before it may be the start of an answer.
                                let sent = match sent {
                                    Sent::Failed(_) => Sent::Answered,
                                    sent => sent,
                                };
                                if deadline.is_past() {
                                    return Err(past_deadline(phase));
                                }
                                let read = Deadline::after(self.read_timeout, TimeoutKind::Read);
                                match conn.fill(read).await {
                                    Ok(0) => {
                                        let error = Error::new(
                                            ErrorKind::Io,
                                            "connection closed before a complete response head",
                                        );
                                        return Err(Failed::at(phase, error));
                                    }
                                    Ok(_) => State::ReadingHead {
                                        sent,
                                        received: true,
                                    },
                                    Err(error) => return Err(Failed::at(phase, error)),
                                }
                            }
                        },
                        Err(e) => {
                            let kind = if e.is_too_large() {
                                ErrorKind::TooLarge
                            } else {
                                ErrorKind::MalformedResponse
                            };
                            return Err(Failed::at(phase, Error::with_source(kind, "", e)));
                        }
                    }
                }
            };
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
