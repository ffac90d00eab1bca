//! HTTP/1.1 on byte slices, free of I/O ("sans-IO", as httparse and ureq-proto
//! do it): encoding a request head, parsing a response head, deciding how the
//! body is framed, and decoding Content-Length, chunked and close-delimited
//! bodies. Every path here is tested with plain byte slices.
//!
//! Not here: sockets, buffers that grow, timeouts, gzip (see `conn.rs` for the
//! I/O side and `response.rs` for reading bodies and content decoding).

use std::fmt;
use std::mem::MaybeUninit;

use bytes::Bytes;
use http::header::TRANSFER_ENCODING;
use http::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, HOST};
use http::{Method, StatusCode, Version};
use url::Url;

use super::headers;

/// The longest chunk-size line (size plus extensions) a chunked body may carry.
pub(crate) const MAX_CHUNK_LINE: usize = 4096;

/// A way in which the bytes from the server broke HTTP/1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProtoError {
    /// The status line or a header line did not parse.
    Head(String),
    /// The head was not complete within `limit` bytes.
    HeadTooLarge { limit: usize },
    /// More header (or trailer) fields than a `HeaderMap` can hold
    /// (24,576), however few bytes they took.
    TooManyFields,
    /// A `Content-Length` that is not a number, or several that disagree.
    ContentLength,
    /// A chunk-size line that is not hex digits (plus extensions), or too long.
    ChunkSize,
    /// Chunk data not followed by CRLF.
    ChunkTerminator,
    /// Trailer fields that did not parse, or were over the header limit.
    Trailers,
    /// The trailers were over the header limit.
    TrailersTooLarge { limit: usize },
    /// The connection ended before the body did.
    Truncated,
}

impl ProtoError {
    /// Whether this is a size limit (rather than a syntax error).
    pub(crate) fn is_too_large(&self) -> bool {
        matches!(
            self,
            ProtoError::HeadTooLarge { .. }
                | ProtoError::TrailersTooLarge { .. }
                | ProtoError::TooManyFields
        )
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoError::Head(e) => write!(f, "invalid response head: {e}"),
            ProtoError::HeadTooLarge { limit } => {
                write!(f, "response head over the {limit}-byte limit")
            }
            ProtoError::TooManyFields => f.write_str("more header fields than a HeaderMap holds"),
            ProtoError::ContentLength => f.write_str("invalid Content-Length"),
            ProtoError::ChunkSize => f.write_str("invalid chunk size line"),
            ProtoError::ChunkTerminator => f.write_str("chunk data not followed by CRLF"),
            ProtoError::Trailers => f.write_str("invalid chunked trailers"),
            ProtoError::TrailersTooLarge { limit } => {
                write!(f, "chunked trailers over the {limit}-byte limit")
            }
            ProtoError::Truncated => f.write_str("connection closed before the end of the body"),
        }
    }
}

impl std::error::Error for ProtoError {}

/// Writes the request line, `Host` (unless `headers` has one) and `headers`,
/// then the blank line, to `out`.
pub(crate) fn encode_request_head(
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(url.path().as_bytes());
    if let Some(query) = url.query() {
        out.push(b'?');
        out.extend_from_slice(query.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !headers.contains_key(HOST) {
        out.extend_from_slice(b"host: ");
        out.extend_from_slice(url.host_str().unwrap_or_default().as_bytes());
        if let Some(port) = url.port() {
            out.push(b':');
            push_decimal(out, port);
        }
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends `n` in decimal digits (without a `String` on the way).
fn push_decimal(out: &mut Vec<u8>, mut n: u16) {
    let mut digits = [0; 5];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

/// A parsed response head.
#[derive(Debug, Clone)]
pub(crate) struct ResponseHead {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
}

/// Room for this many header fields on the stack covers nearly every
/// response; only a head with more allocates room for them.
const STACK_FIELDS: usize = 32;

/// Parses one response head from the start of `buf`.
///
/// `Ok(None)`: more bytes are needed (and fewer than `max_bytes` were seen).
/// `Ok(Some((head, n)))`: the head took the first `n` bytes of `buf`.
pub(crate) fn parse_response_head(
    buf: &[u8],
    max_bytes: usize,
) -> Result<Option<(ResponseHead, usize)>, ProtoError> {
    // Only the first `max_bytes` count: a head that needs more is too large
    // whatever follows.
    let window = &buf[..buf.len().min(max_bytes)];
    let mut parsed = parse_with_room(
        window,
        max_bytes,
        &mut [const { MaybeUninit::uninit() }; STACK_FIELDS],
    );
    // Every header line takes at least three bytes ("a:\n"), so this grows
    // at most a handful of times before the window is covered.
    let mut room = STACK_FIELDS;
    while matches!(parsed, Err(httparse::Error::TooManyHeaders)) && room < window.len() / 3 + 1 {
        room *= 4;
        parsed = parse_with_room(window, max_bytes, &mut vec![MaybeUninit::uninit(); room]);
    }
    parsed.unwrap_or_else(|e| Err(ProtoError::Head(e.to_string())))
}

/// [`parse_response_head`] of the first `max_bytes` (`window`), with room
/// for `fields.len()` header fields: `Err(TooManyHeaders)` when that is not
/// enough.
fn parse_with_room<'b>(
    window: &'b [u8],
    max_bytes: usize,
    fields: &mut [MaybeUninit<httparse::Header<'b>>],
) -> Result<Result<Option<(ResponseHead, usize)>, ProtoError>, httparse::Error> {
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default()
        .allow_spaces_after_header_name_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .parse_response_with_uninit_headers(&mut response, window, fields)?;
    Ok(match parsed {
        httparse::Status::Complete(len) => {
            head_from(&response, &window[..len]).map(|head| Some((head, len)))
        }
        httparse::Status::Partial if window.len() >= max_bytes => {
            Err(ProtoError::HeadTooLarge { limit: max_bytes })
        }
        httparse::Status::Partial => Ok(None),
    })
}

/// The head that `response` parsed from the bytes `raw`.
fn head_from(
    response: &httparse::Response<'_, '_>,
    raw: &[u8],
) -> Result<ResponseHead, ProtoError> {
    let version = match response.version {
        Some(0) => Version::HTTP_10,
        _ => Version::HTTP_11,
    };
    let code = response.code.unwrap_or_default();
    let status = StatusCode::from_u16(code)
        .map_err(|_| ProtoError::Head(format!("invalid status code {code}")))?;
    // The values are slices of one copy of the head: one allocation for all
    // of them rather than one each.
    let shared = Bytes::copy_from_slice(raw);
    let mut headers = HeaderMap::try_with_capacity(response.headers.len())
        .map_err(|_| ProtoError::TooManyFields)?;
    for h in response.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| ProtoError::Head(format!("invalid header name {:?}", h.name)))?;
        let value = HeaderValue::from_maybe_shared(slice_of(&shared, raw, h.value))
            .map_err(|_| ProtoError::Head(format!("invalid value for header {:?}", h.name)))?;
        headers
            .try_append(name, value)
            .map_err(|_| ProtoError::TooManyFields)?;
    }
    Ok(ResponseHead {
        status,
        version,
        headers,
    })
}

/// `part`, which lies inside `raw`, as the same range of `shared` (a copy
/// of `raw`); a copy of its own should it lie elsewhere.
fn slice_of(shared: &Bytes, raw: &[u8], part: &[u8]) -> Bytes {
    let at = (part.as_ptr() as usize).wrapping_sub(raw.as_ptr() as usize);
    match at.checked_add(part.len()) {
        Some(end) if end <= raw.len() => shared.slice(at..end),
        _ => Bytes::copy_from_slice(part),
    }
}

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
    let mut keep_alive = headers::keep_alive(head.version, &head.headers);
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
    let has_length = head.headers.contains_key(CONTENT_LENGTH);
    if head.headers.contains_key(TRANSFER_ENCODING) {
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
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> ResponseHead {
        parse_response_head(bytes, 64 * 1024).unwrap().unwrap().0
    }

    /// Decodes all of `input`, offered `step` bytes more at a time, as a socket would.
    fn decode_all(kind: BodyKind, input: &[u8], step: usize) -> Result<Vec<u8>, ProtoError> {
        let mut decoder = BodyDecoder::new(kind, 1024);
        let mut out = Vec::new();
        let mut buffered: Vec<u8> = Vec::new();
        let mut offered = 0;
        loop {
            let d = decoder.decode(&buffered)?;
            out.extend_from_slice(d.data);
            let (consumed, progress) = (d.consumed, d.consumed > 0 || !d.data.is_empty());
            buffered.drain(..consumed);
            if decoder.is_done() {
                return Ok(out);
            }
            if !progress {
                if offered == input.len() {
                    decoder.end_of_input()?;
                    return Ok(out);
                }
                let end = (offered + step).min(input.len());
                buffered.extend_from_slice(&input[offered..end]);
                offered = end;
            }
        }
    }

    #[test]
    fn request_head_has_target_host_and_headers() {
        let url = Url::parse("http://example.com:8080/a/b?x=1&y=2").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("*/*"));
        let mut out = Vec::new();
        encode_request_head(&Method::GET, &url, &headers, &mut out);
        assert_eq!(
            out,
            b"GET /a/b?x=1&y=2 HTTP/1.1\r\nhost: example.com:8080\r\naccept: */*\r\n\r\n"
        );
    }

    #[test]
    fn host_field_has_any_port_that_is_not_the_default() {
        for port in [1, 9, 10, 80, 443, 8080, 65535] {
            let url = Url::parse(&format!("http://h:{port}/")).unwrap();
            let mut out = Vec::new();
            encode_request_head(&Method::GET, &url, &HeaderMap::new(), &mut out);
            let host = match port {
                80 => "h".to_owned(),
                _ => format!("h:{port}"),
            };
            let expected = format!("GET / HTTP/1.1\r\nhost: {host}\r\n\r\n");
            assert_eq!(String::from_utf8(out).unwrap(), expected);
        }
    }

    #[test]
    fn request_head_omits_default_port_and_brackets_ipv6() {
        let mut out = Vec::new();
        let url = Url::parse("https://[::1]:443/").unwrap();
        encode_request_head(&Method::HEAD, &url, &HeaderMap::new(), &mut out);
        assert_eq!(out, b"HEAD / HTTP/1.1\r\nhost: [::1]\r\n\r\n");
    }

    #[test]
    fn response_head_parses_status_version_and_headers() {
        let bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nX-A: 2\r\n\r\nhello";
        let (head, len) = parse_response_head(bytes, 1024).unwrap().unwrap();
        assert_eq!(len, bytes.len() - 5);
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.version, Version::HTTP_11);
        assert_eq!(head.headers.get_all("x-a").iter().count(), 2);
    }

    #[test]
    fn response_head_with_more_fields_than_the_stack_room_keeps_them_all_in_order() {
        let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..3 * STACK_FIELDS {
            bytes.extend_from_slice(format!("x-f: {i}\r\nx-{i}:\r\n").as_bytes());
        }
        bytes.extend_from_slice(b"\r\nbody");
        let (head, len) = parse_response_head(&bytes, 64 * 1024).unwrap().unwrap();
        assert_eq!(len, bytes.len() - 4);
        let values: Vec<_> = head.headers.get_all("x-f").iter().collect();
        assert_eq!(values.len(), 3 * STACK_FIELDS);
        assert!(values
            .iter()
            .enumerate()
            .all(|(i, v)| v.as_bytes() == i.to_string().as_bytes()));
        assert_eq!(head.headers["x-95"], "");
        assert_eq!(head.headers.len(), 6 * STACK_FIELDS);
    }

    #[test]
    fn partial_head_asks_for_more() {
        assert!(parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Le", 1024)
            .unwrap()
            .is_none());
        assert!(parse_response_head(b"", 1024).unwrap().is_none());
    }

    #[test]
    fn bad_status_lines_are_errors() {
        for bad in [
            &b"HTTP/1.1 OK\r\n\r\n"[..],
            b"HTTP/2.0 200 OK\r\n\r\n",
            b"garbage\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 099 Low\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n",
        ] {
            let err = parse_response_head(bad, 1024).unwrap_err();
            assert!(matches!(err, ProtoError::Head(_)), "{bad:?} gave {err:?}");
        }
    }

    #[test]
    fn head_over_the_limit_is_too_large() {
        let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
        bytes.extend(std::iter::repeat_n(b"X-Filler: aaaaaaaaaa\r\n", 100).flatten());
        let err = parse_response_head(&bytes, 1000).unwrap_err();
        assert_eq!(err, ProtoError::HeadTooLarge { limit: 1000 });
        assert!(err.is_too_large());
        // The same head within its limit, with more fields than the first guess.
        bytes.extend_from_slice(b"\r\n");
        assert_eq!(head(&bytes).headers.len(), 100);
    }

    /// One past what a `HeaderMap` holds, each field as short as can be.
    const TOO_MANY_FIELDS: usize = 24_577;

    #[test]
    fn more_fields_than_a_header_map_holds_are_too_large_not_a_panic() {
        let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
        bytes.extend(std::iter::repeat_n(b"a:\r\n", TOO_MANY_FIELDS).flatten());
        bytes.extend_from_slice(b"\r\n");
        let err = parse_response_head(&bytes, bytes.len()).unwrap_err();
        assert_eq!(err, ProtoError::TooManyFields);
        assert!(err.is_too_large());

        // Repeats of one name share an entry: these need names of their own.
        let mut wire = b"0\r\n".to_vec();
        for i in 0..TOO_MANY_FIELDS {
            wire.extend_from_slice(format!("{i:x}:\r\n").as_bytes());
        }
        wire.extend_from_slice(b"\r\n");
        let mut decoder = BodyDecoder::new(BodyKind::Chunked, wire.len());
        let mut rest = &wire[..];
        let err = loop {
            match decoder.decode(rest) {
                Ok(d) if d.consumed > 0 => rest = &rest[d.consumed..],
                Ok(d) => panic!("stalled with {} bytes left: {d:?}", rest.len()),
                Err(e) => break e,
            }
        };
        assert_eq!(err, ProtoError::TooManyFields);
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let get = Method::GET;
        let f = |bytes: &[u8], method: &Method| framing(method, &head(bytes));
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", &get).unwrap(),
            Framing {
                kind: BodyKind::Length(10),
                keep_alive: true
            }
        );
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
                &Method::HEAD
            )
            .unwrap()
            .kind,
            BodyKind::Empty
        );
        for status in ["204 No Content", "304 Not Modified", "100 Continue"] {
            let bytes = format!("HTTP/1.1 {status}\r\nContent-Length: 10\r\n\r\n");
            assert_eq!(f(bytes.as_bytes(), &get).unwrap().kind, BodyKind::Empty);
        }
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                &get
            )
            .unwrap(),
            Framing {
                kind: BodyKind::Chunked,
                keep_alive: true
            }
        );
        assert_eq!(
            f(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
                &get
            )
            .unwrap(),
            Framing {
                kind: BodyKind::Chunked,
                keep_alive: false
            }
        );
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", &get).unwrap(),
            Framing {
                kind: BodyKind::CloseDelimited,
                keep_alive: false
            }
        );
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\n\r\n", &get).unwrap(),
            Framing {
                kind: BodyKind::CloseDelimited,
                keep_alive: false
            }
        );
        assert!(
            !f(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n",
                &get
            )
            .unwrap()
            .keep_alive
        );
        assert!(
            !f(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", &get)
                .unwrap()
                .keep_alive
        );
        assert!(
            f(
                b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n",
                &get
            )
            .unwrap()
            .keep_alive
        );
    }

    #[test]
    fn content_length_must_be_one_number() {
        let f = |bytes: &[u8]| framing(&Method::GET, &head(bytes));
        assert_eq!(
            f(b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\n")
                .unwrap()
                .kind,
            BodyKind::Length(3)
        );
        for bad in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        ] {
            assert_eq!(f(bad).unwrap_err(), ProtoError::ContentLength, "{bad:?}");
        }
    }

    #[test]
    fn content_length_body_stops_at_its_length() {
        for step in [1, 3, 100] {
            let out = decode_all(BodyKind::Length(5), b"helloEXTRA", step).unwrap();
            assert_eq!(out, b"hello");
        }
    }

    #[test]
    fn content_length_body_cut_short_is_truncated() {
        assert_eq!(
            decode_all(BodyKind::Length(10), b"hello", 2),
            Err(ProtoError::Truncated)
        );
    }

    #[test]
    fn close_delimited_body_ends_at_eof() {
        assert_eq!(
            decode_all(BodyKind::CloseDelimited, b"all of it", 4).unwrap(),
            b"all of it"
        );
    }

    #[test]
    fn chunked_body_with_extensions_and_trailers() {
        let wire = b"5;name=value\r\nhello\r\n7 \r\n, world\r\n0\r\nX-Sum: 12\r\nX-B: 2\r\n\r\n";
        for step in [1, 2, 5, 1000] {
            let mut decoder = BodyDecoder::new(BodyKind::Chunked, 1024);
            let out = decode_all(BodyKind::Chunked, wire, step).unwrap();
            assert_eq!(out, b"hello, world", "step {step}");
            let d = decoder.decode(wire).unwrap();
            assert_eq!(d.data, b"hello");
            let mut rest = &wire[d.consumed..];
            while !decoder.is_done() {
                let d = decoder.decode(rest).unwrap();
                rest = &rest[d.consumed..];
            }
            assert!(rest.is_empty());
            let trailers = decoder.take_trailers().unwrap();
            assert_eq!(trailers.get("x-sum").unwrap(), "12");
            assert_eq!(trailers.len(), 2);
        }
    }

    #[test]
    fn chunked_body_accepts_bare_lf() {
        assert_eq!(
            decode_all(BodyKind::Chunked, b"3\nabc\n0\n\n", 1).unwrap(),
            b"abc"
        );
    }

    #[test]
    fn invalid_chunk_sizes_are_errors() {
        for bad in [
            &b"zz\r\nabc\r\n0\r\n\r\n"[..],
            b"\r\nabc\r\n0\r\n\r\n",
            b"-3\r\nabc\r\n0\r\n\r\n",
            b"3x\r\nabc\r\n0\r\n\r\n",
            b"11111111111111111\r\n",
            b"3\r\r\nabc\r\n0\r\n\r\n",
        ] {
            assert_eq!(
                decode_all(BodyKind::Chunked, bad, 3),
                Err(ProtoError::ChunkSize),
                "{bad:?}"
            );
        }
        let endless = vec![b'1'; MAX_CHUNK_LINE + 1];
        assert_eq!(
            decode_all(BodyKind::Chunked, &endless, 512),
            Err(ProtoError::ChunkSize)
        );
    }

    #[test]
    fn chunk_without_crlf_after_data_is_an_error() {
        assert_eq!(
            decode_all(BodyKind::Chunked, b"3\r\nabcd\r\n0\r\n\r\n", 100),
            Err(ProtoError::ChunkTerminator)
        );
    }

    #[test]
    fn unfinished_chunked_body_is_truncated() {
        assert_eq!(
            decode_all(BodyKind::Chunked, b"5\r\nhel", 2),
            Err(ProtoError::Truncated)
        );
        assert_eq!(
            decode_all(BodyKind::Chunked, b"5\r\nhello\r\n0\r\n", 2),
            Err(ProtoError::Truncated)
        );
    }

    #[test]
    fn trailers_over_the_limit_or_invalid_are_errors() {
        let mut wire = b"0\r\n".to_vec();
        wire.extend(std::iter::repeat_n(b"X-T: 0123456789\r\n", 100).flatten());
        wire.extend_from_slice(b"\r\n");
        assert_eq!(
            decode_all(BodyKind::Chunked, &wire, 50),
            Err(ProtoError::TrailersTooLarge { limit: 1024 })
        );
        assert_eq!(
            decode_all(BodyKind::Chunked, b"0\r\nnot a field\r\n\r\n", 50),
            Err(ProtoError::Trailers)
        );
    }

    /// Random bytes, and random mutations of valid responses, through every
    /// parser: errors are fine, panics and endless loops are not.
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let valid: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.0 404 Not Found\r\nConnection: keep-alive\r\n\r\nrest",
        ];
        for round in 0..20_000 {
            let mut input: Vec<u8> = if round % 2 == 0 {
                (0..next() % 200).map(|_| next() as u8).collect()
            } else {
                valid[round % valid.len()].to_vec()
            };
            for _ in 0..next() % 4 {
                if !input.is_empty() {
                    let i = (next() as usize) % input.len();
                    input[i] = next() as u8;
                }
            }
            let framing = match parse_response_head(&input, 256) {
                Ok(Some((head, len))) => framing(&Method::GET, &head).ok().map(|f| (f, len)),
                _ => None,
            };
            let (kind, body) = match framing {
                Some((f, len)) => (f.kind, &input[len..]),
                None => (BodyKind::Chunked, &input[..]),
            };
            let _ = decode_all(kind, body, 1 + (next() % 7) as usize);
        }
    }

    #[test]
    fn empty_body_is_done_at_once() {
        let mut decoder = BodyDecoder::new(BodyKind::Empty, 10);
        assert!(decoder.is_done());
        assert_eq!(
            decoder.decode(b"next response").unwrap(),
            Decoded {
                consumed: 0,
                data: b""
            }
        );
    }
}
