// Over 800 lines on purpose: the heads both ways (parse and encode, request and response), about 490 lines of code; the rest are tests of the edge cases of each.
//! Heads: the request head the client encodes and the server parses, the
//! response head the server encodes and the client parses.
//!
//! Not here: bodies and their framing (`body.rs`).

use std::fmt;
use std::mem::MaybeUninit;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue, HOST};
use http::{Method, StatusCode, Version};
use url::Url;

use super::ProtoError;
use crate::headers::{self, ContentLengthError};

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
    /// Which of the fields the framing and decoding look up the head has,
    /// noted as it is parsed: most responses have neither `Connection`,
    /// `Transfer-Encoding` nor `Content-Encoding`, and a note saves a lookup
    /// in the map for each (issue 20: a hashed lookup per field per response).
    pub(crate) present: Present,
}

/// The fields of a response head that decide its framing and decoding, as
/// bits; see [`ResponseHead::present`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Present(u8);

impl Present {
    pub(crate) const CONTENT_LENGTH: Present = Present(1);
    pub(crate) const TRANSFER_ENCODING: Present = Present(2);
    pub(crate) const CONNECTION: Present = Present(4);
    pub(crate) const CONTENT_ENCODING: Present = Present(8);

    /// Whether `field` (one of the constants) is present.
    pub(crate) fn has(self, field: Present) -> bool {
        self.0 & field.0 != 0
    }

    /// The bit of `name`, if it is one of the fields noted.
    fn of(name: &HeaderName) -> Present {
        use http::header::{CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, TRANSFER_ENCODING};
        if name == CONTENT_LENGTH {
            Present::CONTENT_LENGTH
        } else if name == TRANSFER_ENCODING {
            Present::TRANSFER_ENCODING
        } else if name == CONNECTION {
            Present::CONNECTION
        } else if name == CONTENT_ENCODING {
            Present::CONTENT_ENCODING
        } else {
            Present(0)
        }
    }
}

/// Room for this many header fields on the stack covers nearly every
/// response; only a head with more allocates room for them.
pub(super) const STACK_FIELDS: usize = 32;

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
    let mut present = Present::default();
    for h in response.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| ProtoError::Head(format!("invalid header name {:?}", h.name)))?;
        present.0 |= Present::of(&name).0;
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
        present,
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

/// Headers a request may carry at most (more is answered with 431).
const MAX_HEADERS: usize = 100;

/// The search for the end of a request head, one byte at a time across
/// reads: each byte is looked at once, however the head is split.
#[derive(Debug, Default)]
pub(crate) struct HeadScan {
    /// Bytes of the buffer already looked at.
    scanned: usize,
    state: ScanState,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    /// Only empty lines so far: they come before the request line (and
    /// httparse skips them), so they do not end the head.
    #[default]
    Start,
    /// Inside a line with something in it.
    Line,
    /// Right after the LF that ended such a line.
    Lf,
    /// After that LF, a CR.
    LfCr,
}

impl HeadScan {
    /// Looks at the bytes of `buf` (which only ever grows between calls)
    /// that it has not seen, up to the end of the first empty line after
    /// some content (LF LF or LF CR LF, as httparse accepts either ending):
    /// whether it found one, the earliest point at which the head can be
    /// complete. Calling it again resumes after that point.
    pub(crate) fn advance(&mut self, buf: &[u8]) -> bool {
        while let Some(&byte) = buf.get(self.scanned) {
            self.scanned += 1;
            self.state = match (self.state, byte) {
                (ScanState::Start, b'\r' | b'\n') => ScanState::Start,
                (ScanState::Lf | ScanState::LfCr, b'\n') => {
                    self.state = ScanState::Line;
                    return true;
                }
                (ScanState::Lf, b'\r') => ScanState::LfCr,
                (_, b'\n') => ScanState::Lf,
                _ => ScanState::Line,
            };
        }
        false
    }
}

/// A request that is answered with an error status and a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reject {
    /// The status to answer with (400, 408, 413, 431, 501, ...).
    pub(crate) status: StatusCode,
    /// What was wrong, for the logs and the response body.
    pub(crate) reason: &'static str,
}

impl Reject {
    pub(crate) fn new(status: StatusCode, reason: &'static str) -> Reject {
        Reject { status, reason }
    }

    fn bad(reason: &'static str) -> Reject {
        Reject::new(StatusCode::BAD_REQUEST, reason)
    }
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.reason)
    }
}

impl std::error::Error for Reject {}

/// A parsed request head.
#[derive(Debug)]
pub(crate) struct RequestHead {
    /// Method, URI, version and headers, with no body yet.
    pub(crate) request: http::Request<()>,
    /// Bytes the head took, up to and including the blank line.
    pub(crate) len: usize,
    /// The body's length from `Content-Length` (0 without one).
    pub(crate) content_length: u64,
    /// The client sent `Expect: 100-continue`.
    pub(crate) expect_continue: bool,
}

/// Parses a request head from the start of `buf`, sans I/O.
///
/// `Ok(None)`: the head is not complete yet (read more and call again).
/// `Err`: the request must be answered with the [`Reject`]'s status and the
/// connection closed: 400 for bytes that are not HTTP/1.x or contradict
/// themselves (two different `Content-Length`s, HTTP/1.1 without `Host`),
/// 431 for a head over `max_header_bytes` or with more than 100 headers,
/// 501 for a `Transfer-Encoding` body (not supported), 505 for HTTP/2+.
pub(crate) fn parse_request_head(
    buf: &[u8],
    max_header_bytes: usize,
) -> Result<Option<RequestHead>, Reject> {
    let too_large = || {
        Reject::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request head over the limit",
        )
    };
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() > max_header_bytes => return Err(too_large()),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Reject::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "too many headers",
            ))
        }
        Err(httparse::Error::Version) => return Err(Reject::bad("not an HTTP/1.x request")),
        Err(_) => return Err(Reject::bad("malformed request head")),
    };
    if len > max_header_bytes {
        return Err(too_large());
    }

    let version = match parsed.version {
        Some(0) => Version::HTTP_10,
        Some(1) => Version::HTTP_11,
        _ => {
            return Err(Reject::new(
                StatusCode::HTTP_VERSION_NOT_SUPPORTED,
                "unsupported HTTP version",
            ))
        }
    };
    let method = parsed
        .method
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .ok_or_else(|| Reject::bad("invalid method"))?;
    let uri: http::Uri = parsed
        .path
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| Reject::bad("invalid request target"))?;

    // `MAX_HEADERS` keeps this far below what a `HeaderMap` holds; the
    // fallible calls say so to the compiler rather than to a reader.
    let too_many = |_| {
        Reject::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "too many headers",
        )
    };
    let mut map = HeaderMap::try_with_capacity(parsed.headers.len()).map_err(too_many)?;
    for h in parsed.headers.iter() {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| Reject::bad("invalid header name"))?;
        let value =
            HeaderValue::from_bytes(h.value).map_err(|_| Reject::bad("invalid header value"))?;
        map.try_append(name, value).map_err(too_many)?;
    }

    if version == Version::HTTP_11 && !map.contains_key(header::HOST) {
        return Err(Reject::bad("HTTP/1.1 request without Host"));
    }
    if map.contains_key(header::TRANSFER_ENCODING) {
        return Err(if version == Version::HTTP_11 {
            Reject::new(
                StatusCode::NOT_IMPLEMENTED,
                "Transfer-Encoding request bodies are not supported",
            )
        } else {
            Reject::bad("Transfer-Encoding in an HTTP/1.0 request")
        });
    }
    let content_length = content_length(&map)?;
    let expect_continue = match map.get(header::EXPECT) {
        None => false,
        Some(v) if v.as_bytes().eq_ignore_ascii_case(b"100-continue") => true,
        Some(_) => {
            return Err(Reject::new(
                StatusCode::EXPECTATION_FAILED,
                "unsupported expectation",
            ))
        }
    };

    let mut request = http::Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.version_mut() = version;
    *request.headers_mut() = map;
    Ok(Some(RequestHead {
        request,
        len,
        content_length,
        expect_continue,
    }))
}

/// The body length from every `Content-Length` value (which must agree, as
/// comma lists too), or 0 without one.
fn content_length(headers: &HeaderMap) -> Result<u64, Reject> {
    match headers::content_length(headers) {
        Ok(length) => Ok(length.unwrap_or(0)),
        Err(ContentLengthError::Invalid) => Err(Reject::bad("invalid Content-Length")),
        Err(ContentLengthError::Conflicting) => {
            Err(Reject::bad("conflicting Content-Length values"))
        }
        Err(ContentLengthError::TooLarge) => Err(Reject::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body over the limit",
        )),
    }
}

/// Encodes a response for a request of `version`, sans I/O: status line,
/// `Date`, `Content-Length` from the body, the handler's headers (less the
/// framing ones the server owns), `Connection`, and the body unless
/// `head_only` or the status has none.
pub(crate) fn encode_response(
    response: &http::Response<Vec<u8>>,
    version: Version,
    head_only: bool,
    close: bool,
) -> Vec<u8> {
    let mut status = response.status();
    if status.is_informational() {
        log::warn!("a handler answered {status}, which is not a final status; sending 500");
        status = StatusCode::INTERNAL_SERVER_ERROR;
    }
    let body = response.body();
    let bodyless = status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED;

    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(status.canonical_reason().unwrap_or("Unknown").as_bytes());
    out.extend_from_slice(b"\r\n");
    if !response.headers().contains_key(header::DATE) {
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(httpdate::fmt_http_date(SystemTime::now()).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !bodyless {
        out.extend_from_slice(b"content-length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    for (name, value) in response.headers() {
        if name == header::CONTENT_LENGTH
            || name == header::TRANSFER_ENCODING
            || name == header::CONNECTION
        {
            continue;
        }
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    } else if version == Version::HTTP_10 {
        out.extend_from_slice(b"connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only && !bodyless {
        out.extend_from_slice(body);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Where `HeadScan` first says "may be complete" when `head` arrives
    /// in reads of the given sizes (the rest in one last read).
    fn scan_end(head: &[u8], reads: &[usize]) -> Option<usize> {
        let mut scan = HeadScan::default();
        let mut buf = Vec::new();
        let mut rest = head;
        for &n in reads.iter().chain([&usize::MAX]) {
            let (read, after) = rest.split_at(n.min(rest.len()));
            buf.extend_from_slice(read);
            rest = after;
            if scan.advance(&buf) {
                return Some(scan.scanned);
            }
        }
        None
    }

    #[test]
    fn end_of_head_is_found_however_the_reads_split_it() {
        for head in [
            &b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"[..],
            b"GET / HTTP/1.1\nHost: t\n\n",
            b"GET / HTTP/1.1\r\nHost: t\n\r\n",
            b"\r\n\r\n\nGET / HTTP/1.0\r\n\r\n",
        ] {
            for split in 0..=head.len() {
                assert_eq!(
                    scan_end(head, &[split]),
                    Some(head.len()),
                    "{head:?} split at {split}"
                );
            }
            let one_byte_reads = vec![1; head.len()];
            assert_eq!(scan_end(head, &one_byte_reads), Some(head.len()));
        }
    }

    #[test]
    fn end_of_head_is_not_found_before_it_arrived() {
        for partial in [
            &b"GET / HTTP/1.1\r\nHost: t\r\n"[..],
            b"GET / HTTP/1.1\r\nHost: t\r\n\r",
            b"GET / HTTP/1.1\r\nHost: t\r\r\n",
            b"\r\n\r\n\n\n",
            b"",
        ] {
            assert_eq!(scan_end(partial, &[3, 1, 4]), None, "{partial:?}");
        }
    }

    #[test]
    fn end_of_head_search_looks_at_each_byte_once() {
        let mut head = b"GET / HTTP/1.1\r\nHost: t\r\n".to_vec();
        head.extend_from_slice(format!("Cookie: {}\r\n\r\n", "c".repeat(60_000)).as_bytes());
        let mut scan = HeadScan::default();
        let mut looked_at = 0;
        for end in 1..=head.len() {
            let before = scan.scanned;
            let found = scan.advance(&head[..end]);
            looked_at += scan.scanned - before;
            assert_eq!(found, end == head.len());
        }
        assert_eq!(looked_at, head.len());
    }

    fn head(buf: &[u8]) -> Result<Option<RequestHead>, Reject> {
        parse_request_head(buf, 1024)
    }

    #[test]
    fn parses_a_complete_get() {
        let h = head(b"GET /posts/1?x=y HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.request.method(), Method::GET);
        assert_eq!(h.request.uri().path(), "/posts/1");
        assert_eq!(h.request.uri().query(), Some("x=y"));
        assert_eq!(h.request.version(), Version::HTTP_11);
        assert_eq!(h.request.headers()["accept"], "*/*");
        assert_eq!(h.content_length, 0);
        assert!(!h.expect_continue);
    }

    #[test]
    fn an_incomplete_head_asks_for_more() {
        for cut in 1..40 {
            let full = b"GET / HTTP/1.1\r\nHost: example\r\n\r\n";
            let cut = cut.min(full.len() - 1);
            assert!(head(&full[..cut]).unwrap().is_none(), "cut at {cut}");
        }
    }

    #[test]
    fn the_head_length_excludes_the_body_and_the_next_request() {
        let buf = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\n";
        let h = head(buf).unwrap().unwrap();
        assert_eq!(&buf[h.len..h.len + 3], b"abc");
    }

    #[test]
    fn garbage_is_a_bad_request() {
        for garbage in [
            &b"\x00\x01\x02\x03\r\n\r\n"[..],
            b"hello world\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
            b"G\x7fT / HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(
                head(garbage).unwrap_err().status,
                StatusCode::BAD_REQUEST,
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn random_bytes_never_panic_the_parser() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = b"GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
        for _ in 0..20_000 {
            // Random bytes, and valid requests with random bytes flipped or cut.
            let mut buf: Vec<u8> = if next() % 2 == 0 {
                (0..next() % 200).map(|_| next() as u8).collect()
            } else {
                valid.to_vec()
            };
            for _ in 0..next() % 4 {
                if !buf.is_empty() {
                    let i = (next() % buf.len() as u64) as usize;
                    buf[i] = next() as u8;
                }
            }
            buf.truncate((next() % (buf.len() as u64 + 1)) as usize);
            if let Ok(Some(h)) = parse_request_head(&buf, 1024) {
                assert!(h.len <= buf.len());
            }
        }
    }

    #[test]
    fn http_1_1_without_host_is_a_bad_request() {
        assert_eq!(head(b"GET / HTTP/1.1\r\n\r\n").unwrap_err().status, 400);
        assert!(head(b"GET / HTTP/1.0\r\n\r\n").unwrap().is_some());
    }

    #[test]
    fn too_many_header_bytes_is_431_complete_or_not() {
        let long = format!(
            "GET / HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\n",
            "a".repeat(2000)
        );
        assert_eq!(head(long.as_bytes()).unwrap_err().status, 431);
        let complete = format!("{long}\r\n");
        assert_eq!(head(complete.as_bytes()).unwrap_err().status, 431);
    }

    #[test]
    fn too_many_headers_is_431() {
        let mut req = String::from("GET / HTTP/1.1\r\nHost: h\r\n");
        for i in 0..MAX_HEADERS {
            req.push_str(&format!("X-{i}: 1\r\n"));
        }
        req.push_str("\r\n");
        assert_eq!(
            parse_request_head(req.as_bytes(), 1 << 20)
                .unwrap_err()
                .status,
            431
        );
    }

    #[test]
    fn content_length_must_be_digits_and_agree() {
        let with =
            |cl: &str| head(format!("POST / HTTP/1.1\r\nHost: h\r\n{cl}\r\n\r\n").as_bytes());
        assert_eq!(
            with("Content-Length: 12").unwrap().unwrap().content_length,
            12
        );
        assert_eq!(
            with("Content-Length: 5, 5")
                .unwrap()
                .unwrap()
                .content_length,
            5
        );
        assert_eq!(
            with("Content-Length: 5\r\nContent-Length: 5")
                .unwrap()
                .unwrap()
                .content_length,
            5
        );
        for bad in [
            "Content-Length: -1",
            "Content-Length: +3",
            "Content-Length: 1 2",
            "Content-Length: 5, 6",
            "Content-Length: 5\r\nContent-Length: 6",
            "Content-Length:",
        ] {
            assert_eq!(with(bad).unwrap_err().status, 400, "{bad}");
        }
        assert_eq!(
            with("Content-Length: 99999999999999999999999")
                .unwrap_err()
                .status,
            413
        );
    }

    #[test]
    fn transfer_encoding_is_not_implemented() {
        let r = head(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(r.unwrap_err().status, 501);
    }

    #[test]
    fn expect_continue_is_recognised_and_others_refused() {
        let ok =
            head(b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-Continue\r\n\r\n");
        assert!(ok.unwrap().unwrap().expect_continue);
        let other = head(b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n");
        assert_eq!(other.unwrap_err().status, 417);
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection_header() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            if !v.is_empty() {
                m.insert(header::CONNECTION, HeaderValue::from_str(v).unwrap());
            }
            m
        };
        assert!(headers::keep_alive(Version::HTTP_11, &h("")));
        assert!(!headers::keep_alive(Version::HTTP_11, &h("Close")));
        assert!(!headers::keep_alive(Version::HTTP_11, &h("upgrade, close")));
        assert!(!headers::keep_alive(Version::HTTP_10, &h("")));
        assert!(headers::keep_alive(Version::HTTP_10, &h("Keep-Alive")));
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn responses_carry_length_date_and_the_handlers_headers() {
        let mut r = http::Response::new(b"hi".to_vec());
        r.headers_mut().insert("x-a", HeaderValue::from_static("1"));
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("999"));
        let out = text(encode_response(&r, Version::HTTP_11, false, false));
        assert!(out.starts_with("HTTP/1.1 200 OK\r\ndate: "), "{out}");
        assert!(
            out.contains("\r\ncontent-length: 2\r\nx-a: 1\r\n\r\nhi"),
            "{out}"
        );
        assert!(!out.contains("999") && !out.contains("connection"), "{out}");
    }

    #[test]
    fn head_responses_and_204_have_no_body() {
        let r = http::Response::new(b"hello".to_vec());
        let out = text(encode_response(&r, Version::HTTP_11, true, false));
        assert!(out.ends_with("content-length: 5\r\n\r\n"), "{out}");
        let mut r = http::Response::new(b"ignored".to_vec());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let out = text(encode_response(&r, Version::HTTP_11, false, false));
        assert!(
            out.starts_with("HTTP/1.1 204 No Content\r\n") && out.ends_with("\r\n\r\n"),
            "{out}"
        );
        assert!(
            !out.contains("content-length") && !out.contains("ignored"),
            "{out}"
        );
    }

    #[test]
    fn connection_header_says_close_or_keep_alive_for_http_1_0() {
        let r = http::Response::new(Vec::new());
        assert!(text(encode_response(&r, Version::HTTP_11, false, true))
            .contains("\r\nconnection: close\r\n"));
        assert!(text(encode_response(&r, Version::HTTP_10, false, false))
            .contains("\r\nconnection: keep-alive\r\n"));
    }

    #[test]
    fn a_final_response_never_has_an_informational_status() {
        let mut r = http::Response::new(Vec::new());
        *r.status_mut() = StatusCode::CONTINUE;
        assert!(
            text(encode_response(&r, Version::HTTP_11, false, false)).starts_with("HTTP/1.1 500 ")
        );
    }

    #[test]
    fn responses_carry_the_date_as_an_imf_fixdate() {
        let out = encode_response(
            &http::Response::new(Vec::new()),
            Version::HTTP_11,
            false,
            false,
        );
        let text = String::from_utf8(out).unwrap();
        let date = text
            .lines()
            .find_map(|l| l.strip_prefix("date: "))
            .expect("a date field");
        let at = httpdate::parse_http_date(date).expect("an HTTP date");
        let skew = SystemTime::now().duration_since(at).unwrap_or_default();
        assert!(skew < Duration::from_secs(5), "{date} is {skew:?} old");
        assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    }
}
