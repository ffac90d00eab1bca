//! A response: its head, and its body read from the connection on demand,
//! de-framed (`codec/`), un-gzipped, and turned into bytes, text or JSON.
//!
//! The connection goes back to the pool only once the body was read to its
//! end; a response dropped before that closes its connection (the unread
//! rest of the body would otherwise be taken for the next response).

use std::fmt;
use std::io::Write;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use flate2::write::GzDecoder;
use http::header::{HeaderMap, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{StatusCode, Version};
use serde::de::DeserializeOwned;
use url::Url;

use super::codec::{BodyDecoder, ProtoError, ResponseHead};
use super::conn::Conn;
use super::error::{Error, ErrorKind};
use super::headers;
use super::pool::Permit;

/// How many decoded bytes one gzip step may produce before the client looks
/// at them. [`Response::chunk`] returns one step's output, and
/// [`Response::bytes`] checks `max_body_bytes` after each, so a small
/// compressed body that inflates to gigabytes (a "gzip bomb") is stopped
/// having decoded at most one step past the limit. A step can overshoot this
/// by one write's output: flate2 inflates into its own 32 KiB buffer, which
/// reaches ours at the next write, so a step is under 64 KiB.
const GZIP_STEP: usize = 32 * 1024;

/// A response to a request sent with [`RequestBuilder::send`](super::RequestBuilder::send).
///
/// The head is here as soon as `send` returns; the body is read on demand,
/// all at once ([`bytes`](Response::bytes), [`text`](Response::text),
/// [`json`](Response::json)) or piece by piece ([`chunk`](Response::chunk)).
///
/// ```
/// use ferrio::http::{Client, StatusCode};
/// # use ferrio::io::{AsyncReadExt, AsyncWriteExt};
/// ferrio::run(async {
///     # let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
///     # let addr = listener.local_addr().unwrap();
///     # ferrio::spawn(async move {
///     #     let (mut s, _) = listener.accept().await.unwrap();
///     #     let mut buf = [0; 1024];
///     #     let _ = s.read(&mut buf).await;
///     #     s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello").await.unwrap();
///     # });
///     let url = format!("http://{addr}/greeting");
///     let response = Client::new().get(&url).send().await.unwrap();
///     assert_eq!(response.status(), StatusCode::OK);
///     assert_eq!(response.headers()["content-type"], "text/plain");
///     assert_eq!(response.url().path(), "/greeting");
///     assert_eq!(response.text().await.unwrap(), "hello");
/// });
/// ```
pub struct Response {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    url: Url,
    body: Body,
}

/// Where a response's body is read from, and what is done with it.
pub(crate) struct Body {
    /// The connection and its pool slot, until the body is done with them.
    conn: Option<(Conn, Permit<Conn>)>,
    decoder: BodyDecoder,
    /// Whether the connection may carry another request once the body is read.
    keep_alive: bool,
    /// Present when the body is gzip and the client decodes it. Boxed: the
    /// decoder's state is a few hundred bytes that most responses do not
    /// need, and a `Response` is moved several times on its way to the caller.
    gzip: Option<Box<Gzip>>,
    read_timeout: Option<Duration>,
    /// The request's total deadline: it covers the body too.
    deadline: Option<Instant>,
    max_body_bytes: u64,
    trailers: Option<HeaderMap>,
    /// The body was read to its end (and decoded to its end).
    done: bool,
}

/// A gzip body being decoded, one bounded step at a time.
struct Gzip {
    decoder: GzDecoder<Vec<u8>>,
    /// Compressed bytes not yet given to the decoder: a piece is decoded over
    /// several steps when it inflates to more than one step's worth.
    pending: Bytes,
    /// Compressed bytes seen: an empty body is empty, not broken gzip.
    seen: u64,
}

impl Gzip {
    fn new() -> Gzip {
        Gzip {
            decoder: GzDecoder::new(Vec::new()),
            pending: Bytes::new(),
            seen: 0,
        }
    }

    /// Takes a piece of the compressed body; [`step`](Gzip::step) decodes it.
    fn feed(&mut self, data: Bytes) {
        debug_assert!(
            self.pending.is_empty(),
            "fed before the last piece was decoded"
        );
        self.seen += data.len() as u64;
        self.pending = data;
    }

    /// Decodes pending input until it is used up or about [`GZIP_STEP`]
    /// bytes came out; returns them, or `None` once the input is used up
    /// without output.
    fn step(&mut self) -> Result<Option<Bytes>, Error> {
        while !self.pending.is_empty() && self.decoder.get_ref().len() < GZIP_STEP {
            // One write inflates into the decoder's own buffer (32 KiB),
            // which reaches our Vec at the next write.
            let n = self.decoder.write(&self.pending).map_err(gzip_error)?;
            if n == 0 {
                // Input past the end of the gzip stream.
                return Err(gzip_error(std::io::ErrorKind::WriteZero.into()));
            }
            self.pending.advance(n);
        }
        let out = std::mem::take(self.decoder.get_mut());
        Ok((!out.is_empty()).then(|| Bytes::from(out)))
    }

    /// The end of the body: the decoder's last output, after checking the
    /// gzip trailer (CRC and length).
    fn finish(mut self) -> Result<Option<Bytes>, Error> {
        if self.seen == 0 {
            return Ok(None);
        }
        self.decoder.try_finish().map_err(gzip_error)?;
        let rest = std::mem::take(self.decoder.get_mut());
        Ok((!rest.is_empty()).then(|| Bytes::from(rest)))
    }
}

/// What [`Response::new`] needs besides the head and the connection.
pub(crate) struct BodyOptions {
    pub(crate) keep_alive: bool,
    pub(crate) gunzip: bool,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) max_body_bytes: u64,
}

impl Response {
    pub(crate) fn new(
        mut head: ResponseHead,
        url: Url,
        conn: Conn,
        permit: Permit<Conn>,
        decoder: BodyDecoder,
        options: BodyOptions,
    ) -> Response {
        let gzip = (options.gunzip && !decoder.is_done() && is_gzip(&head.headers)).then(|| {
            // The body the user sees is the decoded one; these described the other.
            head.headers.remove(CONTENT_ENCODING);
            head.headers.remove(CONTENT_LENGTH);
            Box::new(Gzip::new())
        });
        let mut body = Body {
            conn: Some((conn, permit)),
            decoder,
            keep_alive: options.keep_alive,
            gzip,
            read_timeout: options.read_timeout,
            deadline: options.deadline,
            max_body_bytes: options.max_body_bytes,
            trailers: None,
            done: false,
        };
        if body.decoder.is_done() {
            body.wire_done();
            body.done = true;
        }
        Response {
            status: head.status,
            version: head.version,
            headers: head.headers,
            url,
            body,
        }
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The HTTP version the server answered with.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields. When the client decoded a gzip body, its
    /// `Content-Encoding` and `Content-Length` are removed.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The URL of this response: the request's, or the last redirect's.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body's length from `Content-Length`, if the server sent one (and
    /// the body is not being un-gzipped).
    pub fn content_length(&self) -> Option<u64> {
        headers::content_length(&self.headers).ok().flatten()
    }

    /// The trailer fields of a chunked body, once the body was read to its end.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.body.trailers.as_ref()
    }

    /// The next piece of the body, or `None` at its end. Pieces come as the
    /// server sends them; gzip is already decoded, a piece of it at most
    /// 64 KiB however well it compresses. `max_body_bytes` does not apply
    /// here: the caller decides what to keep.
    ///
    /// ```
    /// use ferrio::http::Client;
    /// # use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// ferrio::run(async {
    ///     # let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     # let addr = listener.local_addr().unwrap();
    ///     # ferrio::spawn(async move {
    ///     #     let (mut s, _) = listener.accept().await.unwrap();
    ///     #     let mut buf = [0; 1024];
    ///     #     let _ = s.read(&mut buf).await;
    ///     #     s.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").await.unwrap();
    ///     # });
    ///     let mut response = Client::new().get(format!("http://{addr}/")).send().await.unwrap();
    ///     let mut body = Vec::new();
    ///     while let Some(piece) = response.chunk().await.unwrap() {
    ///         body.extend_from_slice(&piece);
    ///     }
    ///     assert_eq!(body, b"abcde");
    /// });
    /// ```
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        self.body.next_chunk().await.map_err(|e| e.at(&self.url))
    }

    /// The whole body, at most
    /// [`max_body_bytes`](super::ClientBuilder::max_body_bytes) of it (64 MiB
    /// unless the client set another cap).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLarge`] over the limit; the errors of [`chunk`](Response::chunk).
    pub async fn bytes(mut self) -> Result<Bytes, Error> {
        let limit = self.body.max_body_bytes;
        let too_large = |limit: u64| {
            Error::new(
                ErrorKind::TooLarge,
                format!("body over the {limit}-byte limit"),
            )
        };
        let length = self.content_length();
        if length.is_some_and(|length| length > limit) {
            return Err(too_large(limit).at(&self.url));
        }
        let mut piece = match self.chunk().await? {
            None => return Ok(Bytes::new()),
            Some(first) => first,
        };
        // The pieces before `piece`; a body that comes in one piece is
        // returned as it is, without copying it into here.
        let mut all = Vec::new();
        loop {
            if (all.len() + piece.len()) as u64 > limit {
                return Err(too_large(limit).at(&self.url));
            }
            let next = self.chunk().await?;
            if all.is_empty() && next.is_none() {
                return Ok(piece);
            }
            if all.is_empty() {
                all.reserve(length.map_or(piece.len(), |n| n.min(1 << 24) as usize));
            }
            all.extend_from_slice(&piece);
            match next {
                Some(next) => piece = next,
                None => return Ok(Bytes::from(all)),
            }
        }
    }

    /// The body as text, decoded with the `charset` of `Content-Type` (UTF-8
    /// when there is none).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BodyDecode`] for bytes that are not valid in the charset
    /// (UTF-8 is checked strictly) or a charset nobody knows; the errors of
    /// [`bytes`](Response::bytes).
    pub async fn text(self) -> Result<String, Error> {
        let charset = charset(&self.headers).map(str::to_owned);
        let url = self.url.clone();
        let bytes = self.bytes().await?;
        decode_text(&bytes, charset.as_deref()).map_err(|e| e.at(&url))
    }

    /// The body parsed as JSON into `T`.
    ///
    /// ```
    /// use ferrio::http::Client;
    /// # use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// ferrio::run(async {
    ///     # let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     # let addr = listener.local_addr().unwrap();
    ///     # ferrio::spawn(async move {
    ///     #     let (mut s, _) = listener.accept().await.unwrap();
    ///     #     let mut buf = [0; 1024];
    ///     #     let _ = s.read(&mut buf).await;
    ///     #     s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 23\r\n\r\n{\"id\": 1, \"title\": \"a\"}").await.unwrap();
    ///     # });
    ///     let post: serde_json::Value =
    ///         Client::new().get(format!("http://{addr}/posts/1")).send().await.unwrap().json().await.unwrap();
    ///     assert_eq!(post["title"], "a");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Json`] when the body is not JSON of that shape; the errors
    /// of [`bytes`](Response::bytes).
    pub async fn json<T: DeserializeOwned>(self) -> Result<T, Error> {
        let url = self.url.clone();
        let bytes = self.bytes().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::with_source(ErrorKind::Json, "", e).at(&url))
    }

    /// Reads and drops what is left of a small body, so that the connection
    /// can be reused; gives up (closing it) past `max` bytes, after `patience`,
    /// or on any error.
    pub(crate) async fn discard(mut self, max: usize, patience: Duration) {
        let drain = async {
            let mut seen = 0;
            while let Ok(Some(piece)) = self.body.next_chunk().await {
                seen += piece.len();
                if seen > max {
                    return;
                }
            }
        };
        let _ = ferrio_reactor::time::timeout(patience, drain).await;
    }
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("url", &self.url.as_str())
            .field("status", &self.status)
            .field("version", &self.version)
            .field("headers", &self.headers)
            .finish()
    }
}

impl Body {
    /// The wire body ended: the connection goes back to the pool if it can
    /// carry another request and nothing unasked follows the body.
    fn wire_done(&mut self) {
        self.trailers = self.decoder.take_trailers();
        if let Some((mut conn, permit)) = self.conn.take() {
            conn.mark_served();
            if self.keep_alive && conn.buffered().is_empty() {
                permit.put_idle(conn);
            }
        }
    }

    async fn next_chunk(&mut self) -> Result<Option<Bytes>, Error> {
        loop {
            if self.done {
                return Ok(None);
            }
            let gzip = self.gzip.as_deref_mut();
            if let Some(out) = gzip.map(Gzip::step).transpose()?.flatten() {
                return Ok(Some(out));
            }
            let Some((conn, _)) = self.conn.as_mut() else {
                // The wire body ended without `done`: only a gzip tail is left.
                self.done = true;
                return self.finish_gzip();
            };
            let decoded = self.decoder.decode(conn.buffered()).map_err(malformed)?;
            let progress = decoded.consumed > 0 || !decoded.data.is_empty();
            let data = (!decoded.data.is_empty()).then(|| Bytes::copy_from_slice(decoded.data));
            conn.consume(decoded.consumed);
            if self.decoder.is_done() {
                self.wire_done();
            }
            if let Some(data) = data {
                match self.gzip.as_mut() {
                    None => return Ok(Some(data)),
                    // Decoded a step at a time at the top of the loop.
                    Some(gzip) => {
                        gzip.feed(data);
                        continue;
                    }
                }
            }
            if self.decoder.is_done() {
                continue;
            }
            if !progress {
                let (read_timeout, deadline) = (self.read_timeout, self.deadline);
                let Some((conn, _)) = self.conn.as_mut() else {
                    continue;
                };
                if conn.fill(read_timeout, deadline).await? == 0 {
                    self.decoder.end_of_input().map_err(malformed)?;
                    // A close-delimited body: the connection is spent.
                    self.keep_alive = false;
                    self.wire_done();
                }
            }
        }
    }

    /// The end of a gzip body: checks its trailer (CRC and length).
    fn finish_gzip(&mut self) -> Result<Option<Bytes>, Error> {
        self.gzip.take().map_or(Ok(None), |gzip| gzip.finish())
    }
}

fn malformed(e: ProtoError) -> Error {
    let kind = if e.is_too_large() {
        ErrorKind::TooLarge
    } else {
        ErrorKind::MalformedResponse
    };
    Error::with_source(kind, "", e)
}

fn gzip_error(e: std::io::Error) -> Error {
    Error::with_source(ErrorKind::BodyDecode, "invalid gzip", e)
}

/// Whether the body is gzip and nothing else.
fn is_gzip(headers: &HeaderMap) -> bool {
    let mut codings = headers
        .get_all(CONTENT_ENCODING)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"));
    matches!(
        (codings.next(), codings.next()),
        (Some(c), None) if c.eq_ignore_ascii_case("gzip") || c.eq_ignore_ascii_case("x-gzip")
    )
}

/// The `charset` parameter of `Content-Type`, unquoted.
fn charset(headers: &HeaderMap) -> Option<&str> {
    let content_type = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// `bytes` as text in `charset` (UTF-8 if `None`).
fn decode_text(bytes: &[u8], charset: Option<&str>) -> Result<String, Error> {
    let label = charset.unwrap_or("utf-8");
    let Some(encoding) = encoding_rs::Encoding::for_label(label.as_bytes()) else {
        return Err(Error::new(
            ErrorKind::BodyDecode,
            format!("unknown charset {label:?}"),
        ));
    };
    if encoding == encoding_rs::UTF_8 {
        return String::from_utf8(bytes.to_vec())
            .map_err(|e| Error::with_source(ErrorKind::BodyDecode, "invalid UTF-8", e));
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(Error::new(
            ErrorKind::BodyDecode,
            format!("bytes not valid in {}", encoding.name()),
        ));
    }
    Ok(text.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn charset_is_read_from_content_type() {
        assert_eq!(
            charset(&headers(&[(
                "content-type",
                "text/html; charset=\"ISO-8859-1\""
            )])),
            Some("ISO-8859-1")
        );
        assert_eq!(
            charset(&headers(&[("content-type", "text/plain;Charset=utf-8")])),
            Some("utf-8")
        );
        assert_eq!(
            charset(&headers(&[("content-type", "application/json")])),
            None
        );
        assert_eq!(charset(&HeaderMap::new()), None);
    }

    #[test]
    fn text_decodes_in_its_charset() {
        assert_eq!(decode_text(b"caf\xe9", Some("latin1")).unwrap(), "café");
        assert_eq!(decode_text("café".as_bytes(), None).unwrap(), "café");
        assert_eq!(
            decode_text(b"caf\xe9", None).unwrap_err().kind(),
            ErrorKind::BodyDecode
        );
        assert_eq!(
            decode_text(b"x", Some("klingon")).unwrap_err().kind(),
            ErrorKind::BodyDecode
        );
    }

    #[test]
    fn gzip_is_recognised_alone_only() {
        assert!(is_gzip(&headers(&[("content-encoding", "gzip")])));
        assert!(is_gzip(&headers(&[("content-encoding", "X-GZIP")])));
        assert!(is_gzip(&headers(&[("content-encoding", "identity, gzip")])));
        assert!(!is_gzip(&headers(&[("content-encoding", "gzip, br")])));
        assert!(!is_gzip(&headers(&[("content-encoding", "br")])));
        assert!(!is_gzip(&HeaderMap::new()));
    }

    /// The most one gzip step can produce: see [`GZIP_STEP`].
    const GZIP_STEP_MAX: usize = GZIP_STEP + 32 * 1024;

    /// `len` zeros, gzip-compressed (about a thousandth of `len`).
    fn bomb(len: usize) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..len / zeros.len() {
            encoder.write_all(&zeros).unwrap();
        }
        encoder.finish().unwrap()
    }

    /// Decodes `gzip` fed as one piece, a step at a time, until more than
    /// `cap` bytes came out (as `Response::bytes` does); returns the largest
    /// step and the total decoded.
    fn decode_up_to(gzip: &[u8], cap: usize) -> (usize, usize) {
        let mut decoder = Gzip::new();
        decoder.feed(Bytes::copy_from_slice(gzip));
        let (mut largest, mut total) = (0, 0);
        while let Some(out) = decoder.step().unwrap() {
            largest = largest.max(out.len());
            total += out.len();
            if total > cap {
                break;
            }
        }
        (largest, total)
    }

    #[test]
    fn gzip_bomb_in_one_piece_is_decoded_a_bounded_step_at_a_time() {
        let cap = 1 << 20;
        let bomb = bomb(16 << 20);
        assert!(bomb.len() < 64 * 1024, "one piece as read off the wire");
        let (largest, total) = decode_up_to(&bomb, cap);
        assert!(largest <= GZIP_STEP_MAX, "a step of {largest} bytes");
        assert!(total > cap);
        assert!(
            total <= cap + GZIP_STEP_MAX,
            "decoded {total} bytes for a cap of {cap}"
        );
    }

    #[test]
    fn gzip_decoded_in_steps_is_the_whole_body() {
        let text: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&text).unwrap();
        let compressed = encoder.finish().unwrap();
        let mut decoder = Gzip::new();
        let mut out = Vec::new();
        for piece in compressed.chunks(10_000) {
            decoder.feed(Bytes::copy_from_slice(piece));
            while let Some(step) = decoder.step().unwrap() {
                out.extend_from_slice(&step);
            }
        }
        out.extend_from_slice(&decoder.finish().unwrap().unwrap_or_default());
        assert_eq!(out, text);
    }

    #[test]
    fn bytes_after_the_end_of_the_gzip_stream_are_an_error() {
        let mut body = bomb(1 << 20);
        body.extend_from_slice(b"trailing garbage");
        let mut decoder = Gzip::new();
        decoder.feed(Bytes::from(body));
        let err = loop {
            match decoder.step() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("trailing bytes were accepted"),
                Err(e) => break e,
            }
        };
        assert_eq!(err.kind(), ErrorKind::BodyDecode);
    }
}
