//! The crate's sans-IO parsers, opened to the fuzz targets in `fuzz/` (and
//! to nothing else): compiled only with the `fuzzing` feature, hidden from
//! the docs, and no part of the API. Each function is a thin wrapper that
//! takes and returns plain bytes, strings and numbers, so that the parsers'
//! own types stay private.
//!
//! Not here: any invariant the targets check; they live in `fuzz/`.
//!
//! The async paths (the WebSocket reader, the proxy's `CONNECT`) run against a
//! scripted [`Peer`] under [`drive`], a poll loop with a waker that does
//! nothing: a future may only wait when the peer made it wait.

use http::{HeaderValue, Method};
use url::Url;

use super::codec;

/// Parses a response head with a header cap of `max_bytes`, then decides its
/// framing for a GET: `Ok(Some(n))` for a head of `n` bytes with a usable
/// framing, `Ok(None)` when more bytes are needed, `Err` with the reason.
pub fn response_head(buf: &[u8], max_bytes: usize) -> Result<Option<usize>, String> {
    match codec::parse_response_head(buf, max_bytes) {
        Ok(Some((head, len))) => codec::framing(&Method::GET, &head)
            .map(|_| Some(len))
            .map_err(|e| e.to_string()),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// How a body is delimited, for [`BodyDecoder::new`].
#[derive(Debug, Clone, Copy)]
pub enum Framing {
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes.
    Close,
}

/// The response body decoder.
#[derive(Debug)]
pub struct BodyDecoder(codec::BodyDecoder);

impl BodyDecoder {
    /// A decoder for a body framed as `framing`, accepting up to
    /// `max_trailer_bytes` of chunked trailers.
    pub fn new(framing: Framing, max_trailer_bytes: usize) -> BodyDecoder {
        let kind = match framing {
            Framing::Length(n) => codec::BodyKind::Length(n),
            Framing::Chunked => codec::BodyKind::Chunked,
            Framing::Close => codec::BodyKind::CloseDelimited,
        };
        BodyDecoder(codec::BodyDecoder::new(kind, max_trailer_bytes))
    }

    /// Decodes from `input`: how many bytes it used up, and the body data
    /// (a part of those bytes).
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<(usize, &'a [u8]), String> {
        self.0
            .decode(input)
            .map(|d| (d.consumed, d.data))
            .map_err(|e| e.to_string())
    }

    /// Whether the whole body was decoded.
    pub fn is_done(&self) -> bool {
        self.0.is_done()
    }

    /// The input ended: fine only for a body that is done or ends at a close.
    pub fn end_of_input(&mut self) -> Result<(), String> {
        self.0.end_of_input().map_err(|e| e.to_string())
    }

    /// How many trailer fields a chunked body ended with.
    pub fn trailer_count(&mut self) -> Option<usize> {
        self.0.take_trailers().map(|t| t.len())
    }
}

/// Parses a request head as the server does: `Ok(Some(n))` for a head of
/// `n` bytes, `Ok(None)` when more are needed, `Err` with the status it
/// would be answered with.
pub fn request_head(buf: &[u8], max_bytes: usize) -> Result<Option<usize>, u16> {
    match codec::parse_request_head(buf, max_bytes) {
        Ok(Some(head)) => Ok(Some(head.len)),
        Ok(None) => Ok(None),
        Err(reject) => Err(reject.status.as_u16()),
    }
}

/// Where a redirect from `base` with `Location: location` goes, as the
/// client decides it; `None` for a redirect the client refuses (or a
/// `location` that is no header value, or a `base` that is no URL).
pub fn redirect(base: &str, location: &[u8]) -> Option<String> {
    let base = Url::parse(base).ok()?;
    let location = HeaderValue::from_bytes(location).ok()?;
    super::client::redirect_target(&base, &location)
        .ok()
        .map(String::from)
}

/// The request head the client would send for a GET of `url` (which must
/// parse) with no header fields of its own.
pub fn get_request_head(url: &str) -> Option<Vec<u8>> {
    let url = Url::parse(url).ok()?;
    let mut out = Vec::new();
    codec::encode_request_head(&Method::GET, &url, &http::HeaderMap::new(), &mut out);
    Some(out)
}

/// A scripted peer: reads take `input` in the piece sizes `pieces` gives
/// (cycled; a 0 makes that read wait once, as a socket with nothing yet
/// would), and return end-of-stream after it; writes are kept.
#[derive(Debug)]
pub struct Peer {
    input: Vec<u8>,
    at: usize,
    pieces: Vec<u8>,
    turn: usize,
    /// Whether the last read waited (the next one does not).
    waited: bool,
    shared: std::rc::Rc<std::cell::RefCell<PeerLog>>,
}

/// What a [`Peer`] saw, readable while the code under test owns the peer.
#[derive(Debug, Default, Clone)]
pub struct PeerLog {
    /// Everything written to the peer.
    pub written: Vec<u8>,
    /// How many of `input`'s bytes were read.
    pub read: usize,
    /// How many times a read or write was made to wait.
    pub waits: u64,
}

impl Peer {
    /// A peer that sends `input` in pieces of the sizes in `pieces`.
    pub fn new(input: &[u8], pieces: &[u8]) -> (Peer, std::rc::Rc<std::cell::RefCell<PeerLog>>) {
        let shared = std::rc::Rc::default();
        let peer = Peer {
            input: input.to_vec(),
            at: 0,
            pieces: if pieces.is_empty() {
                vec![255]
            } else {
                pieces.to_vec()
            },
            turn: 0,
            waited: false,
            shared: std::rc::Rc::clone(&shared),
        };
        (peer, shared)
    }
}

impl futures_io::AsyncRead for Peer {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let piece = this.pieces[this.turn % this.pieces.len()];
        this.turn += 1;
        if piece == 0 && !this.waited && !buf.is_empty() {
            this.waited = true;
            this.shared.borrow_mut().waits += 1;
            return std::task::Poll::Pending;
        }
        this.waited = false;
        let n = usize::from(piece.max(1))
            .min(buf.len())
            .min(this.input.len() - this.at);
        buf[..n].copy_from_slice(&this.input[this.at..this.at + n]);
        this.at += n;
        this.shared.borrow_mut().read = this.at;
        std::task::Poll::Ready(Ok(n))
    }
}

impl futures_io::AsyncWrite for Peer {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.shared.borrow_mut().written.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_close(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// Polls `future` to its end with a waker that does nothing; panics if it
/// waits when the peer did not make it wait (a wait nothing would end).
pub fn drive<F: std::future::Future>(future: F, log: &std::cell::RefCell<PeerLog>) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(futures_util::task::noop_waker_ref());
    loop {
        let waits = log.borrow().waits;
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        assert!(
            log.borrow().waits > waits,
            "the future waits, but its peer did not make it"
        );
    }
}

/// What the client's WebSocket reader made of the bytes a server sent.
#[cfg(feature = "ws")]
#[derive(Debug)]
pub struct WsRun {
    /// The messages, in order, as [`WebSocket::receive`](crate::ws::WebSocket::receive) returns them.
    pub messages: Vec<crate::ws::Message>,
    /// The error that ended the reading, if one did (else the stream ended).
    pub error: Option<crate::Error>,
    /// What the client wrote back (pongs, the close reply, the echoes).
    pub written: Vec<u8>,
}

/// Reads messages from `input` (a server's bytes after the upgrade, in the
/// piece sizes `pieces` gives) as an open [`WebSocket`](crate::ws::WebSocket)
/// does, with a `max_message_size` cap, until the stream ends or fails;
/// with `echo`, sends each text or binary message back, as an echo client.
#[cfg(feature = "ws")]
pub fn ws_client_read(input: &[u8], pieces: &[u8], max_message_size: usize, echo: bool) -> WsRun {
    use async_tungstenite::tungstenite::{protocol::Role, Error as WsError};
    use futures_util::StreamExt;
    let (peer, log) = Peer::new(input, pieces);
    let config = super::ws::client_config(max_message_size);
    let run = async {
        let mut stream =
            async_tungstenite::WebSocketStream::from_raw_socket(peer, Role::Client, Some(config))
                .await;
        let mut messages = Vec::new();
        let error = loop {
            match stream.next().await {
                None | Some(Err(WsError::ConnectionClosed)) => break None,
                Some(Err(e)) => break Some(super::ws::ws_error(e)),
                Some(Ok(raw)) => {
                    let Some(message) = crate::ws::Message::from_raw(raw) else {
                        continue;
                    };
                    let reply = match &message {
                        crate::ws::Message::Text(_) | crate::ws::Message::Binary(_) if echo => {
                            Some(message.clone().into_raw())
                        }
                        _ => None,
                    };
                    messages.push(message);
                    if let Some(reply) = reply {
                        match stream.send(reply).await {
                            Ok(()) => {}
                            Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => break None,
                            Err(e) => break Some(super::ws::ws_error(e)),
                        }
                    }
                }
            }
        };
        (messages, error)
    };
    let (messages, error) = drive(run, &log);
    let written = std::mem::take(&mut log.borrow_mut().written);
    WsRun {
        messages,
        error,
        written,
    }
}

/// What the proxy's `CONNECT` exchange came to.
#[derive(Debug)]
pub struct ConnectRun {
    /// Whether the tunnel is up, or the error.
    pub result: Result<(), crate::Error>,
    /// The request the client sent.
    pub request: Vec<u8>,
    /// How many of the proxy's bytes the client read.
    pub read: usize,
}

/// Asks a proxy at `proxy_url` (which must parse) for a tunnel to
/// `host:port`, the proxy answering `reply` in the piece sizes `pieces`
/// gives, as the client does before TLS goes through the tunnel.
pub fn proxy_connect(
    proxy_url: &str,
    host: &str,
    port: u16,
    reply: &[u8],
    pieces: &[u8],
) -> Option<ConnectRun> {
    let proxy = super::proxy::Proxy::parse(proxy_url).ok()?;
    let url = Url::parse(&format!("https://{host}:{port}/")).ok()?;
    let host = match url.host()? {
        url::Host::Domain(d) => super::pool::Host::Domain(d.into()),
        url::Host::Ipv4(ip) => super::pool::Host::Ipv4(ip),
        url::Host::Ipv6(ip) => super::pool::Host::Ipv6(ip),
    };
    let key = super::pool::Key {
        https: true,
        host,
        port: url.port_or_known_default()?,
    };
    let (mut peer, log) = Peer::new(reply, pieces);
    let result = drive(super::proxy::tunnel(&mut peer, &proxy, &key), &log);
    let log = log.borrow();
    Some(ConnectRun {
        result,
        request: log.written.clone(),
        read: log.read,
    })
}

/// A cookie jar, fed `Set-Cookie` fields as responses do and asked for the
/// `Cookie` field as requests do.
#[cfg(feature = "cookies")]
#[derive(Debug, Default)]
pub struct CookieJar(pub crate::Jar);

#[cfg(feature = "cookies")]
impl CookieJar {
    /// Keeps what a response from `url` with these `Set-Cookie` values sets
    /// (values that are no header value are left out, as `http` would).
    pub fn store(&self, url: &Url, set_cookies: &[&[u8]]) {
        let mut headers = http::HeaderMap::new();
        for value in set_cookies {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                headers.append(http::header::SET_COOKIE, value);
            }
        }
        self.0.store_from(&headers, url);
    }

    /// The `Cookie` field a request to `url` carries, if any.
    pub fn header_for(&self, url: &Url) -> Option<Vec<u8>> {
        self.0.header_for(url).map(|v| v.as_bytes().to_vec())
    }
}

/// The largest output one decoder step can give for `coding`: a gzip or
/// deflate step may overshoot the step by one write of flate2's 32 KiB
/// buffer (decode.rs, `STEP`).
pub fn decoder_step_bound(coding: &str) -> usize {
    match coding {
        "gzip" | "deflate" => 2 * super::decompress::STEP,
        _ => super::decompress::STEP,
    }
}

/// What decoding a body came to, as [`Response::bytes`](crate::Response::bytes)
/// takes it with a cap of `max_body_bytes`.
#[derive(Debug)]
pub struct DecodeRun {
    /// Each step's output size, in order.
    pub steps: Vec<usize>,
    /// The decoded bytes, up to where decoding stopped.
    pub data: Vec<u8>,
    /// Stopped because the data went over the cap.
    pub over_cap: bool,
    /// The decode error, if one ended it.
    pub error: Option<crate::Error>,
}

/// Decodes `pieces` of a body sent with `Content-Encoding: coding` through
/// the client's decoder, feeding a piece and stepping until it gives
/// nothing, as the response's reader does; stops at the first error or once
/// the data passes `max_body_bytes`. `None` for a coding the client does not
/// decode.
pub fn decode_body(coding: &str, pieces: &[&[u8]], max_body_bytes: usize) -> Option<DecodeRun> {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_ENCODING,
        HeaderValue::from_str(coding).ok()?,
    );
    let mut decoder = super::decompress::Decompressor::for_headers(&headers)?;
    let mut run = DecodeRun {
        steps: Vec::new(),
        data: Vec::new(),
        over_cap: false,
        error: None,
    };
    let take = |out: bytes::Bytes, run: &mut DecodeRun| {
        run.steps.push(out.len());
        run.data.extend_from_slice(&out);
        run.over_cap = run.data.len() > max_body_bytes;
        run.over_cap
    };
    for piece in pieces {
        decoder.feed(bytes::Bytes::copy_from_slice(piece));
        loop {
            match decoder.step() {
                Ok(Some(out)) => {
                    if take(out, &mut run) {
                        return Some(run);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    run.error = Some(e);
                    return Some(run);
                }
            }
        }
    }
    match decoder.finish() {
        Ok(Some(out)) => {
            take(out, &mut run);
        }
        Ok(None) => {}
        Err(e) => run.error = Some(e),
    }
    Some(run)
}

/// The body and `Content-Type` that `form` is sent as.
#[cfg(feature = "multipart")]
pub fn multipart_body(form: &crate::multipart::Form) -> Result<(Vec<u8>, String), crate::Error> {
    let (body, content_type) = form.encode()?;
    let content_type = content_type
        .to_str()
        .expect("the content type is ASCII")
        .to_owned();
    Ok((body.to_vec(), content_type))
}
