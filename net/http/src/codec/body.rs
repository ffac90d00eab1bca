//! Bodies: how a response body is framed (RFC 9112, section 6), and the
//! decoder of Content-Length, chunked and close-delimited bodies.
//!
//! Not here: heads (`head.rs`), gzip (`response.rs`).

use std::io::Write;

use http::header::{HeaderMap, HeaderName, HeaderValue, TRANSFER_ENCODING};
use http::{Method, StatusCode, Version};

use super::{Present, ProtoError, ResponseHead};
use crate::headers;

/// The longest chunk-size line (size plus extensions) a chunked body may carry.
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

/// Appends `data` as one chunk of a chunked body (RFC 9112, 7.1): its size
/// in hex, CRLF, the data, CRLF. Empty data is no chunk (a zero size would
/// end the body): nothing is appended.
pub(crate) fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The end of a chunked body without trailers: the last chunk and the
/// empty line.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// How a response body is delimited on the wire (RFC 9112, section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// No body: HEAD, 1xx, 204, 304.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    CloseDelimited,
}

/// How to read a response's body, and whether its connection can be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Framing {
    pub(crate) kind: BodyKind,
    /// The connection may carry another request once the body was read.
    pub(crate) keep_alive: bool,
}

/// Decides the framing of the response to a `method` request with `head`.
pub(crate) fn framing(method: &Method, head: &ResponseHead) -> Result<Framing, ProtoError> {
    let mut keep_alive = if head.present.has(Present::CONNECTION) {
        headers::keep_alive(head.version, &head.headers)
    } else {
        // What `keep_alive` says when no `Connection` field is there.
        head.version == Version::HTTP_11
    };
    let status = head.status;
    if *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        if status == StatusCode::SWITCHING_PROTOCOLS {
            // The connection now speaks something else; it is not ours to reuse.
            keep_alive = false;
        }
        return Ok(Framing {
            kind: BodyKind::Empty,
            keep_alive,
        });
    }
    let has_length = head.present.has(Present::CONTENT_LENGTH);
    if head.present.has(Present::TRANSFER_ENCODING) {
        let chunked_last = last_token(&head.headers, &TRANSFER_ENCODING)
            .is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
        // Both framings at once is how request smuggling starts: honour
        // Transfer-Encoding as the RFC says, but never reuse the connection.
        if !chunked_last || has_length {
            keep_alive = false;
        }
        let kind = if chunked_last {
            BodyKind::Chunked
        } else {
            BodyKind::CloseDelimited
        };
        return Ok(Framing { kind, keep_alive });
    }
    if has_length {
        return Ok(Framing {
            kind: BodyKind::Length(
                headers::content_length(&head.headers)
                    .ok()
                    .flatten()
                    .ok_or(ProtoError::ContentLength)?,
            ),
            keep_alive,
        });
    }
    Ok(Framing {
        kind: BodyKind::CloseDelimited,
        keep_alive: false,
    })
}

/// The last comma-separated token over every value of `name`.
fn last_token<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    let last = headers.get_all(name).iter().next_back()?;
    let text = last.to_str().ok()?;
    text.rsplit(',').map(str::trim).find(|t| !t.is_empty())
}

/// What one [`BodyDecoder::decode`] call did with its input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Decoded<'a> {
    /// How many bytes of the input were used up; drop them before the next call.
    pub(crate) consumed: usize,
    /// Body data: a part of the used-up input. Empty with `consumed == 0` and
    /// the decoder not done means more input is needed.
    pub(crate) data: &'a [u8],
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunked {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, with this many bytes to go.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length(u64),
    Chunked(Chunked),
    Close,
    Done,
}

/// Turns the bytes after a response head into body data, for one
/// [`BodyKind`]. It never buffers: what it cannot use yet (half a chunk-size
/// line) it leaves unconsumed for the caller to offer again with more.
#[derive(Debug)]
pub(crate) struct BodyDecoder {
    state: State,
    /// The most trailer bytes accepted (the head limit).
    max_trailer_bytes: usize,
    /// Trailer bytes seen so far.
    trailer_bytes: usize,
    trailers: Option<HeaderMap>,
    /// The length the framing declared (`Content-Length`), if it did.
    declared: Option<u64>,
}

impl BodyDecoder {
    pub(crate) fn new(kind: BodyKind, max_trailer_bytes: usize) -> BodyDecoder {
        let state = match kind {
            BodyKind::Empty | BodyKind::Length(0) => State::Done,
            BodyKind::Length(n) => State::Length(n),
            BodyKind::Chunked => State::Chunked(Chunked::Size),
            BodyKind::CloseDelimited => State::Close,
        };
        BodyDecoder {
            state,
            max_trailer_bytes,
            trailer_bytes: 0,
            trailers: None,
            declared: match kind {
                BodyKind::Length(n) => Some(n),
                _ => None,
            },
        }
    }

    /// The body length the framing took from `Content-Length`, if the body
    /// is framed by one (already parsed: no need to read the header again).
    pub(crate) fn declared_length(&self) -> Option<u64> {
        self.declared
    }

    /// Whether the whole body was decoded.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The trailer fields of a chunked body, once it is done.
    pub(crate) fn take_trailers(&mut self) -> Option<HeaderMap> {
        self.trailers.take()
    }

    /// Decodes from `input`: see [`Decoded`].
    pub(crate) fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, ProtoError> {
        let mut consumed = 0;
        loop {
            let rest = &input[consumed..];
            match self.state {
                State::Done => {
                    return Ok(Decoded {
                        consumed,
                        data: &[],
                    })
                }
                State::Close => {
                    return Ok(Decoded {
                        consumed: input.len(),
                        data: rest,
                    });
                }
                State::Length(left) => {
                    let n = clamp(left, rest.len());
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::Done
                    } else {
                        State::Length(left)
                    };
                    return Ok(Decoded {
                        consumed: consumed + n,
                        data: &rest[..n],
                    });
                }
                State::Chunked(Chunked::Data(left)) => {
                    let n = clamp(left, rest.len());
                    if n == 0 {
                        return Ok(Decoded {
                            consumed,
                            data: &[],
                        });
                    }
                    let left = left - n as u64;
                    self.state = State::Chunked(if left == 0 {
                        Chunked::DataEnd
                    } else {
                        Chunked::Data(left)
                    });
                    return Ok(Decoded {
                        consumed: consumed + n,
                        data: &rest[..n],
                    });
                }
                State::Chunked(Chunked::Size) => {
                    let Some(line_len) = line_length(rest, MAX_CHUNK_LINE)? else {
                        return Ok(Decoded {
                            consumed,
                            data: &[],
                        });
                    };
                    let size = parse_chunk_size(&rest[..line_len])?;
                    consumed += line_len;
                    self.state = State::Chunked(if size == 0 {
                        Chunked::Trailers
                    } else {
                        Chunked::Data(size)
                    });
                }
                State::Chunked(Chunked::DataEnd) => match rest {
                    [] | [b'\r'] => {
                        return Ok(Decoded {
                            consumed,
                            data: &[],
                        })
                    }
                    [b'\n', ..] => {
                        consumed += 1;
                        self.state = State::Chunked(Chunked::Size);
                    }
                    [b'\r', b'\n', ..] => {
                        consumed += 2;
                        self.state = State::Chunked(Chunked::Size);
                    }
                    _ => return Err(ProtoError::ChunkTerminator),
                },
                State::Chunked(Chunked::Trailers) => {
                    let room = self.max_trailer_bytes.saturating_sub(self.trailer_bytes);
                    let line_len = match line_length(rest, room) {
                        Ok(Some(n)) => n,
                        Ok(None) => {
                            return Ok(Decoded {
                                consumed,
                                data: &[],
                            })
                        }
                        Err(_) => {
                            return Err(ProtoError::TrailersTooLarge {
                                limit: self.max_trailer_bytes,
                            })
                        }
                    };
                    let line = &rest[..line_len];
                    consumed += line_len;
                    self.trailer_bytes += line_len;
                    if line == b"\r\n" || line == b"\n" {
                        self.trailers.get_or_insert_with(HeaderMap::new);
                        self.state = State::Done;
                    } else {
                        self.add_trailer(line)?;
                    }
                }
            }
        }
    }

    /// Parses one trailer field line (with its line ending).
    fn add_trailer(&mut self, line: &[u8]) -> Result<(), ProtoError> {
        // httparse wants the blank line that ends a field block.
        let mut block = Vec::with_capacity(line.len() + 2);
        block.extend_from_slice(line);
        block.extend_from_slice(b"\r\n");
        let mut fields = [httparse::EMPTY_HEADER; 1];
        match httparse::parse_headers(&block, &mut fields) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => return Err(ProtoError::Trailers),
        }
        let name =
            HeaderName::from_bytes(fields[0].name.as_bytes()).map_err(|_| ProtoError::Trailers)?;
        let value = HeaderValue::from_bytes(fields[0].value).map_err(|_| ProtoError::Trailers)?;
        self.trailers
            .get_or_insert_with(HeaderMap::new)
            .try_append(name, value)
            .map_err(|_| ProtoError::TooManyFields)?;
        Ok(())
    }

    /// The connection ended (read returned 0 bytes): fine for a close-delimited
    /// body, which is now done, and an error for any body not yet complete.
    pub(crate) fn end_of_input(&mut self) -> Result<(), ProtoError> {
        match self.state {
            State::Close | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(ProtoError::Truncated),
        }
    }
}

/// `min(left, available)` as a `usize`.
fn clamp(left: u64, available: usize) -> usize {
    usize::try_from(left).map_or(available, |left| left.min(available))
}

/// The length of the first line of `input`, line ending included; `None` if
/// it has no line ending yet. A line longer than `max` is an error.
fn line_length(input: &[u8], max: usize) -> Result<Option<usize>, ProtoError> {
    let window = &input[..input.len().min(max)];
    match window.iter().position(|&b| b == b'\n') {
        Some(i) => Ok(Some(i + 1)),
        None if input.len() >= max => Err(ProtoError::ChunkSize),
        None => Ok(None),
    }
}

/// Parses one chunk-size line, line ending included (`1a;ext=1\r\n`: hex
/// digits, optional whitespace, optional extensions) with httparse's parser.
/// A bare LF ends the line too, as it does every other line here.
fn parse_chunk_size(line: &[u8]) -> Result<u64, ProtoError> {
    // httparse reads a line with no digits at all as size 0.
    if !line.first().is_some_and(u8::is_ascii_hexdigit) {
        return Err(ProtoError::ChunkSize);
    }
    let with_crlf;
    let line = match line {
        [.., b'\r', b'\n'] => line,
        [rest @ .., b'\n'] => {
            with_crlf = [rest, b"\r\n"].concat();
            &with_crlf
        }
        _ => line,
    };
    match httparse::parse_chunk_size(line) {
        Ok(httparse::Status::Complete((used, size))) if used == line.len() => Ok(size),
        _ => Err(ProtoError::ChunkSize),
    }
}
