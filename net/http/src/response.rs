//! A response: its head, and its body read from the connection on demand,
//! de-framed (`codec/`), decompressed (`decompress.rs`), and turned into bytes,
//! text or JSON.
//!
//! The connection goes back to the pool only once the body was read to its
//! end; a response dropped before that closes its connection (the unread
//! rest of the body would otherwise be taken for the next response).

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{StatusCode, Version};
use serde::de::DeserializeOwned;
use url::Url;

use super::codec::{BodyDecoder, Present, ProtoError, ResponseHead};
use super::conn::Conn;
use super::deadline::Deadline;
use super::decompress::Decompressor;
use super::error::{Error, ErrorKind, TimeoutKind};
use super::headers;
use super::pool::Permit;

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
    /// `Content-Length`, parsed once (`None` when the body is decoded).
    content_length: Option<u64>,
    url: Url,
    body: Incoming,
}

/// Where a response's body is read from, and what is done with it (the
/// incoming body; a request's outgoing one is `upload.rs`'s [`Body`](crate::Body)).
pub(crate) struct Incoming {
    /// The connection and its pool slot, until the body is done with them.
    conn: Option<(Conn, Permit<Conn>)>,
    decoder: BodyDecoder,
    /// Whether the connection may carry another request once the body is read.
    keep_alive: bool,
    /// Present when the body has a Content-Encoding the client decodes.
    /// Boxed: the decoder's state is a few hundred bytes that most responses
    /// do not need, and a `Response` is moved several times on its way to
    /// the caller.
    decoding: Option<Box<Decompressor>>,
    read_timeout: Option<Duration>,
    /// The request's total deadline: it covers the body too.
    deadline: Deadline,
    max_body_bytes: u64,
    trailers: Option<HeaderMap>,
    /// The body was read to its end (and decoded to its end).
    done: bool,
}

/// What [`Response::new`] needs besides the head and the connection.
pub(crate) struct BodyOptions {
    pub(crate) keep_alive: bool,
    /// Whether the client asked for its own list of codings (so it decodes
    /// the one the server chose).
    pub(crate) decompress: bool,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) deadline: Deadline,
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
        let decoding = (options.decompress
            && !decoder.is_done()
            && head.present.has(Present::CONTENT_ENCODING))
        .then(|| Decompressor::for_headers(&head.headers))
        .flatten()
        .map(|decoding| {
            // The body the user sees is the decoded one; these described the other.
            head.headers.remove(CONTENT_ENCODING);
            head.headers.remove(CONTENT_LENGTH);
            Box::new(decoding)
        });
        let mut body = Incoming {
            conn: Some((conn, permit)),
            decoder,
            keep_alive: options.keep_alive,
            decoding,
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
        // The framing parsed `Content-Length` already when it frames the
        // body; without a body (HEAD, 204, 304) the header still tells.
        let content_length = match (&body.decoding, body.decoder.declared_length()) {
            (Some(_), _) => None,
            (None, Some(length)) => Some(length),
            (None, None) => headers::content_length(&head.headers).ok().flatten(),
        };
        Response {
            status: head.status,
            version: head.version,
            headers: head.headers,
            content_length,
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

    /// The header fields. When the client decoded a compressed body, its
    /// `Content-Encoding` and `Content-Length` are removed.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The URL of this response: the request's, or the last redirect's.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The body's length from `Content-Length`, if the server sent one (and
    /// the body is not being decompressed).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The trailer fields of a chunked body, once the body was read to its end.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.body.trailers.as_ref()
    }

    /// The response itself if its status is not 4xx or 5xx, else an
    /// [`ErrorKind::Status`] error with the code and the URL (aiohttp's
    /// `raise_for_status()`). The body of an error response is not read: its
    /// connection is closed.
    ///
    /// ```
    /// use ferrio::http::{Client, ErrorKind, StatusCode};
    /// # use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// ferrio::run(async {
    ///     # let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     # let addr = listener.local_addr().unwrap();
    ///     # ferrio::spawn(async move {
    ///     #     let (mut s, _) = listener.accept().await.unwrap();
    ///     #     let mut buf = [0; 1024];
    ///     #     let _ = s.read(&mut buf).await;
    ///     #     s.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n").await.unwrap();
    ///     # });
    ///     let response = Client::new().get(format!("http://{addr}/")).send().await.unwrap();
    ///     let err = response.error_for_status().unwrap_err();
    ///     assert_eq!(err.kind(), ErrorKind::Status);
    ///     assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Status`] for a 4xx or 5xx status.
    pub fn error_for_status(self) -> Result<Response, Error> {
        if self.status.is_client_error() || self.status.is_server_error() {
            log::debug!("{} from {}: an error by request", self.status, self.url);
            return Err(Error::status_code(self.status).at(&self.url));
        }
        Ok(self)
    }

    /// The next piece of the body, or `None` at its end. Pieces come as the
    /// server sends them; a compressed body is already decoded, a piece of it at most
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
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Timeout`] when the read timeout or the request's total
    /// timeout passes while waiting for the body; [`ErrorKind::Io`] when the
    /// connection fails; [`ErrorKind::MalformedResponse`] for a body that breaks
    /// HTTP/1.1 (a bad chunk, fewer bytes than its `Content-Length`);
    /// [`ErrorKind::TooLarge`] for trailers over `max_header_bytes`;
    /// [`ErrorKind::BodyDecode`] for a compressed body that does not decode.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, Error> {
        self.body.next_chunk().await.map_err(|e| e.at(&self.url))
    }

    /// The body as a [`Stream`](futures_util::Stream) of pieces, as
    /// [`chunk`](Response::chunk) returns them (aiohttp's
    /// `resp.content.iter_any()`), for code written against streams. As with
    /// `chunk`, `max_body_bytes` does not apply. The connection goes back to
    /// the pool once the stream ends.
    ///
    /// The stream is `Unpin`, as reqwest's is: `stream.next().await` works
    /// on it as it is, without `pin!` or `Box::pin`.
    ///
    /// ```
    /// use ferrio::http::Client;
    /// use futures_util::StreamExt;
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
    ///     let response = Client::new().get(format!("http://{addr}/")).send().await.unwrap();
    ///     let mut pieces = response.bytes_stream();
    ///     let mut body = Vec::new();
    ///     while let Some(piece) = pieces.next().await {
    ///         body.extend_from_slice(&piece.unwrap());
    ///     }
    ///     assert_eq!(body, b"abcde");
    /// });
    /// ```
    pub fn bytes_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<Bytes, Error>> + Send + Unpin {
        // Boxed (once per body, not per chunk) so that callers need not pin:
        // the future in flight borrows the response it is kept with.
        Box::pin(futures_util::stream::try_unfold(
            self,
            |mut response| async move { Ok(response.chunk().await?.map(|piece| (piece, response))) },
        ))
    }

    /// The body as an [`AsyncRead`](futures_io::AsyncRead) (aiohttp's
    /// `resp.content` as a stream reader), to copy into a file or hand to a
    /// parser that reads. Errors come as `io::Error`s that wrap this crate's
    /// [`Error`] (timeouts as `TimedOut`, bad bodies as `InvalidData`).
    ///
    /// ```
    /// use ferrio::http::Client;
    /// use ferrio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    /// ferrio::run(async {
    ///     # let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     # let addr = listener.local_addr().unwrap();
    ///     # ferrio::spawn(async move {
    ///     #     let (mut s, _) = listener.accept().await.unwrap();
    ///     #     let mut buf = [0; 1024];
    ///     #     let _ = s.read(&mut buf).await;
    ///     #     s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 13\r\n\r\none\ntwo\nthree").await.unwrap();
    ///     # });
    ///     let response = Client::new().get(format!("http://{addr}/log")).send().await.unwrap();
    ///     let mut lines = BufReader::new(response.into_async_read()).lines();
    ///     let mut seen = Vec::new();
    ///     while let Some(line) = futures_util::StreamExt::next(&mut lines).await {
    ///         seen.push(line.unwrap());
    ///     }
    ///     assert_eq!(seen, ["one", "two", "three"]);
    /// });
    /// ```
    pub fn into_async_read(self) -> impl futures_io::AsyncRead + Send + Unpin {
        use futures_util::TryStreamExt;
        self.bytes_stream()
            .map_err(std::io::Error::from)
            .into_async_read()
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
    /// when there is none). Charsets other than UTF-8 and US-ASCII need the
    /// cargo feature `charset`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::BodyDecode`] for bytes that are not valid in the charset
    /// (UTF-8 is checked strictly), a charset nobody knows, or one other than
    /// UTF-8 without the `charset` feature; the errors of
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
        let _ = Deadline::after(patience, ()).run(drain).await;
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

impl Incoming {
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
            let decoding = self.decoding.as_deref_mut();
            if let Some(out) = decoding.map(Decompressor::step).transpose()?.flatten() {
                return Ok(Some(out));
            }
            let Some((conn, _)) = self.conn.as_mut() else {
                // The wire body ended without `done`: only a decoder's tail is left.
                self.done = true;
                return self.finish_decoding();
            };
            let decoded = self.decoder.decode(conn.buffered()).map_err(malformed)?;
            let progress = decoded.consumed > 0 || !decoded.data.is_empty();
            let data = (!decoded.data.is_empty()).then(|| Bytes::copy_from_slice(decoded.data));
            conn.consume(decoded.consumed);
            if self.decoder.is_done() {
                self.wire_done();
            }
            if let Some(data) = data {
                match self.decoding.as_mut() {
                    None => return Ok(Some(data)),
                    // Decoded a step at a time at the top of the loop.
                    Some(decoding) => {
                        decoding.feed(data);
                        continue;
                    }
                }
            }
            if self.decoder.is_done() {
                continue;
            }
            if !progress {
                // The read timeout from now, unless the total deadline is sooner.
                let read = Deadline::after(self.read_timeout, TimeoutKind::Read);
                let deadline = self.deadline.earliest(read);
                let Some((conn, _)) = self.conn.as_mut() else {
                    continue;
                };
                if conn.fill(deadline).await? == 0 {
                    self.decoder.end_of_input().map_err(malformed)?;
                    // A close-delimited body: the connection is spent.
                    self.keep_alive = false;
                    self.wire_done();
                }
            }
        }
    }

    /// The end of an encoded body: checks that its stream was complete.
    fn finish_decoding(&mut self) -> Result<Option<Bytes>, Error> {
        self.decoding.take().map_or(Ok(None), |d| d.finish())
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
#[cfg(feature = "charset")]
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

/// `bytes` as text in `charset` (UTF-8 if `None`), without the `charset`
/// feature: see [`decode_utf8_only`].
#[cfg(not(feature = "charset"))]
fn decode_text(bytes: &[u8], charset: Option<&str>) -> Result<String, Error> {
    decode_utf8_only(bytes, charset)
}

/// `bytes` as text in `charset` (UTF-8 if `None`) when UTF-8 (or its subset
/// US-ASCII) is the only charset built in: any other is an error that names
/// the `charset` feature. Compiled (and tested) with the feature on too.
#[cfg_attr(feature = "charset", allow(dead_code))]
fn decode_utf8_only(bytes: &[u8], charset: Option<&str>) -> Result<String, Error> {
    let label = charset.unwrap_or("utf-8");
    let is = |name: &str| label.eq_ignore_ascii_case(name);
    let utf8 = is("utf-8") || is("utf8");
    if !(utf8 || is("us-ascii") || is("ascii")) {
        return Err(Error::new(
            ErrorKind::BodyDecode,
            format!("charset {label:?} needs the `charset` cargo feature (UTF-8 is built in)"),
        ));
    }
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|e| Error::with_source(ErrorKind::BodyDecode, "invalid UTF-8", e))?;
    if !utf8 && !text.is_ascii() {
        return Err(Error::new(
            ErrorKind::BodyDecode,
            "bytes not valid in US-ASCII",
        ));
    }
    Ok(text)
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

    #[cfg(feature = "charset")]
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
    fn text_without_the_charset_feature_is_utf8_and_names_the_feature_otherwise() {
        let decode_text = decode_utf8_only;
        assert_eq!(decode_text("café".as_bytes(), None).unwrap(), "café");
        assert_eq!(decode_text(b"plain", Some("US-ASCII")).unwrap(), "plain");
        assert_eq!(
            decode_text("café".as_bytes(), Some("us-ascii"))
                .unwrap_err()
                .kind(),
            ErrorKind::BodyDecode
        );
        assert_eq!(
            decode_text(b"caf\xe9", None).unwrap_err().kind(),
            ErrorKind::BodyDecode
        );
        let err = decode_text(b"caf\xe9", Some("latin1")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BodyDecode);
        assert!(err.to_string().contains("`charset` cargo feature"), "{err}");
    }
}
