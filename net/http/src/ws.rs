//! WebSocket client (aiohttp's `session.ws_connect`): the upgrade over a new
//! connection of the client's (its resolver, TLS settings, timeouts and
//! connection limits), then messages framed by tungstenite's codec through
//! `async-tungstenite` on ferrio's sockets.
//!
//! Not here: a WebSocket server (the test kit has an echo server), or
//! extensions such as per-message compression.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_tungstenite::tungstenite;
use async_tungstenite::WebSocketStream;
use bytes::Bytes;
use ferrio_reactor::time::{Instant, Sleep};
use futures_util::{Sink, StreamExt};
use http::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, ACCEPT_ENCODING};
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame as RawCloseFrame, WebSocketConfig};
use url::Url;

use super::client::Client;
use super::conn::{Conn, Stream};
use super::deadline::Deadline;
use super::error::{Error, ErrorKind, TimeoutKind};
use super::pool::Permit;

/// The largest message accepted by default (64 MiB, as tungstenite; aiohttp's
/// `max_msg_size` is 4 MiB): see [`WsConnect::max_message_size`].
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// How long [`WebSocket::close`] waits for the server's close frame at most
/// (less with a shorter read timeout).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// A WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// A ping: the pong is sent by itself.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer is closing, with a code and reason if it gave them.
    Close(Option<CloseFrame>),
}

/// The code and reason of a close (RFC 6455, 7.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code: 1000 is a normal close.
    pub code: u16,
    /// Why, in words.
    pub reason: String,
}

impl Message {
    pub(crate) fn from_raw(raw: tungstenite::Message) -> Option<Message> {
        Some(match raw {
            tungstenite::Message::Text(text) => Message::Text(text.as_str().to_owned()),
            tungstenite::Message::Binary(data) => Message::Binary(data),
            tungstenite::Message::Ping(data) => Message::Ping(data),
            tungstenite::Message::Pong(data) => Message::Pong(data),
            tungstenite::Message::Close(frame) => Message::Close(frame.map(|f| CloseFrame {
                code: f.code.into(),
                reason: f.reason.as_str().to_owned(),
            })),
            // Only produced when writing raw frames, never when reading.
            tungstenite::Message::Frame(_) => return None,
        })
    }

    pub(crate) fn into_raw(self) -> tungstenite::Message {
        match self {
            Message::Text(text) => tungstenite::Message::text(text),
            Message::Binary(data) => tungstenite::Message::Binary(data),
            Message::Ping(data) => tungstenite::Message::Ping(data),
            Message::Pong(data) => tungstenite::Message::Pong(data),
            Message::Close(frame) => tungstenite::Message::Close(frame.map(raw_close)),
        }
    }
}

fn raw_close(frame: CloseFrame) -> RawCloseFrame {
    RawCloseFrame {
        code: CloseCode::from(frame.code),
        reason: frame.reason.into(),
    }
}

/// A WebSocket connection being opened; from [`Client::ws_connect`]. Await
/// it (or call [`connect`](WsConnect::connect)) to connect.
#[must_use = "a WebSocket connects when awaited"]
pub struct WsConnect {
    client: Client,
    url: Result<Url, Error>,
    headers: HeaderMap,
    max_message_size: usize,
}

impl Client {
    /// Opens a WebSocket to `url` (`ws://`, `wss://`, or `http(s)://`; aiohttp's
    /// `session.ws_connect`): a new connection of this client (its resolver,
    /// TLS roots, connect timeout and connection limits: the socket holds a
    /// slot until it is dropped), the upgrade handshake under the connect
    /// timeout, with the client's `User-Agent` and default headers.
    ///
    /// ```
    /// use ferrio::http::{ws::Message, Client};
    /// ferrio::run(async {
    ///     # let server = ferrio_testkit::ws::EchoServer::bind("127.0.0.1:0").await.unwrap();
    ///     # let addr = server.local_addr();
    ///     let client = Client::new();
    ///     let mut ws = client.ws_connect(format!("ws://{addr}/echo")).await.unwrap();
    ///     ws.send_text("hello").await.unwrap();
    ///     assert_eq!(ws.receive().await.unwrap(), Some(Message::Text("hello".into())));
    ///     ws.close().await.unwrap();
    /// });
    /// ```
    pub fn ws_connect(&self, url: impl AsRef<str>) -> WsConnect {
        let url = url.as_ref();
        let url = Url::parse(url)
            .map_err(|e| Error::with_source(ErrorKind::InvalidUrl, format!("{url:?}"), e));
        WsConnect {
            client: self.clone(),
            url,
            headers: HeaderMap::new(),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }
}

impl WsConnect {
    /// Adds a header field to the upgrade request (replacing the client's
    /// default of that name).
    ///
    /// # Errors
    ///
    /// The connect fails with [`ErrorKind::InvalidRequest`] for an invalid
    /// name or value.
    pub fn header(mut self, name: &str, value: &str) -> WsConnect {
        let field = HeaderName::try_from(name)
            .map_err(|e| Error::with_source(ErrorKind::InvalidRequest, "invalid header name", e))
            .and_then(|name| {
                HeaderValue::try_from(value)
                    .map(|value| (name, value))
                    .map_err(|e| Error::with_source(ErrorKind::InvalidRequest, "invalid value", e))
            });
        match field {
            Ok((name, value)) => {
                self.headers.insert(name, value);
            }
            Err(e) => {
                if self.url.is_ok() {
                    self.url = Err(e);
                }
            }
        }
        self
    }

    /// The largest message (and frame) accepted from the server; one larger
    /// is an [`ErrorKind::TooLarge`] error as soon as its header says so.
    /// Default [`DEFAULT_MAX_MESSAGE_SIZE`].
    pub fn max_message_size(mut self, n: usize) -> WsConnect {
        self.max_message_size = n;
        self
    }

    /// Connects: the same as awaiting this.
    ///
    /// # Errors
    ///
    /// The connect errors of a request ([`ErrorKind::Dns`],
    /// [`ErrorKind::Connect`], [`ErrorKind::Tls`], connect timeout, ...);
    /// [`ErrorKind::WebSocket`] when the server does not agree to the upgrade
    /// ([`Error::status`] has its status).
    pub async fn connect(self) -> Result<WebSocket, Error> {
        let url = self.url?;
        let result = connect(&self.client, &url, self.headers, self.max_message_size).await;
        result.map_err(|e| e.at(&url))
    }
}

impl IntoFuture for WsConnect {
    type Output = Result<WebSocket, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<WebSocket, Error>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.connect())
    }
}

impl fmt::Debug for WsConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConnect")
            .field("url", &self.url.as_ref().map(Url::as_str))
            .field("max_message_size", &self.max_message_size)
            .finish_non_exhaustive()
    }
}

async fn connect(
    client: &Client,
    url: &Url,
    own_headers: HeaderMap,
    max_message_size: usize,
) -> Result<WebSocket, Error> {
    // The connection is made for the HTTP URL; the handshake names the ws one.
    let (mut http_url, mut ws_url) = (url.clone(), url.clone());
    let schemes = match url.scheme() {
        "ws" | "http" => ("http", "ws"),
        "wss" | "https" => ("https", "wss"),
        other => {
            return Err(Error::new(
                ErrorKind::InvalidUrl,
                format!("unsupported scheme {other:?} for a WebSocket"),
            ))
        }
    };
    // Both are special schemes, so the change cannot fail.
    let _ = http_url.set_scheme(schemes.0);
    let _ = ws_url.set_scheme(schemes.1);
    let mut request = ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::with_source(ErrorKind::InvalidUrl, "", e))?;
    for (name, value) in client.default_headers() {
        // What to accept describes HTTP bodies, not WebSocket messages.
        if name != ACCEPT && name != ACCEPT_ENCODING && !own_headers.contains_key(name) {
            request.headers_mut().insert(name.clone(), value.clone());
        }
    }
    for (name, value) in &own_headers {
        request.headers_mut().insert(name.clone(), value.clone());
    }
    let (connect_timeout, read_timeout) = client.timeouts();
    let deadline = Deadline::after(connect_timeout, TimeoutKind::Connect);
    let (conn, permit) = client.open_connection(&http_url).await?;
    let config = client_config(max_message_size);
    let handshake =
        async_tungstenite::client_async_with_config(request, Conn::into_stream(conn), Some(config));
    // The connection and the handshake share the connect timeout.
    let (stream, response) = deadline
        .run(handshake)
        .await
        .map_err(Error::timeout)?
        .map_err(ws_error)?;
    log::debug!("WebSocket to {ws_url} open ({})", response.status());
    Ok(WebSocket {
        stream,
        _permit: permit,
        url: url.clone(),
        read_timeout,
        read_timer: None,
    })
}

/// The codec's settings for a client socket: messages and frames from the
/// server of at most `max_message_size` bytes.
pub(crate) fn client_config(max_message_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size))
}

/// An open WebSocket; from [`Client::ws_connect`]. Send with
/// [`send`](WebSocket::send) and friends, read with
/// [`receive`](WebSocket::receive), end with [`close`](WebSocket::close).
/// Pings are answered by themselves. Dropping it closes the connection
/// without a close handshake, and frees its slot in the client's limits.
///
/// It is also a [`Stream`](futures_util::Stream) of `Result<Message, Error>`
/// (as `receive`, ending after the close, under the same read timeout) and a
/// [`Sink`] of [`Message`]s, as tokio-tungstenite's `WebSocketStream`: so
/// `StreamExt::split` gives a writer and a reader that two tasks can own.
///
/// ```
/// use ferrio::http::{ws::Message, Client};
/// use futures_util::{SinkExt, StreamExt};
/// ferrio::run(async {
///     # let server = ferrio_testkit::ws::EchoServer::bind("127.0.0.1:0").await.unwrap();
///     # let addr = server.local_addr();
///     let ws = Client::new().ws_connect(format!("ws://{addr}/echo")).await.unwrap();
///     let (mut write, mut read) = ws.split();
///     let writer = ferrio::spawn(async move {
///         write.send(Message::Text("hello".into())).await.unwrap();
///         write.close().await.unwrap();
///     });
///     assert_eq!(read.next().await.unwrap().unwrap(), Message::Text("hello".into()));
///     writer.await.unwrap();
/// });
/// ```
pub struct WebSocket {
    stream: WebSocketStream<Box<dyn Stream>>,
    /// The connection's slot in the client's limits.
    _permit: Permit<Conn>,
    url: Url,
    read_timeout: Option<Duration>,
    /// The read timeout of a [`Stream`](futures_util::Stream) read under
    /// way: armed when `poll_next` first waits, dropped when it returns.
    read_timer: Option<Sleep>,
}

impl WebSocket {
    /// The URL this socket was opened to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Sends a message.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if the connection failed; [`ErrorKind::WebSocket`]
    /// after a close.
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        let result = self.stream.send(message.into_raw()).await;
        result.map_err(|e| ws_error(e).at(&self.url))
    }

    /// Sends a text message (aiohttp's `send_str`).
    ///
    /// # Errors
    ///
    /// As [`send`](WebSocket::send).
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), Error> {
        self.send(Message::Text(text.into())).await
    }

    /// Sends a binary message (aiohttp's `send_bytes`).
    ///
    /// # Errors
    ///
    /// As [`send`](WebSocket::send).
    pub async fn send_binary(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send(Message::Binary(data.into())).await
    }

    /// Sends a ping; the pong comes back through [`receive`](WebSocket::receive).
    ///
    /// # Errors
    ///
    /// As [`send`](WebSocket::send).
    pub async fn ping(&mut self, payload: impl Into<Bytes>) -> Result<(), Error> {
        self.send(Message::Ping(payload.into())).await
    }

    /// The next message, or `None` once the socket is closed (after the
    /// peer's close frame, which is returned first as [`Message::Close`]).
    /// Waits at most the client's read timeout, if it has one; wrap it in
    /// `ferrio::time::timeout` for a deadline of your own.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TooLarge`] for a message over the
    /// [`max_message_size`](WsConnect::max_message_size);
    /// [`ErrorKind::WebSocket`] for a frame that breaks the protocol;
    /// [`ErrorKind::Io`] when the connection fails;
    /// [`TimeoutKind::Read`] when the read timeout fires.
    pub async fn receive(&mut self) -> Result<Option<Message>, Error> {
        loop {
            let next = Deadline::after(self.read_timeout, TimeoutKind::Read)
                .run(self.stream.next())
                .await
                .map_err(|kind| Error::timeout(kind).at(&self.url))?;
            match next {
                None => return Ok(None),
                Some(Err(tungstenite::Error::ConnectionClosed)) => return Ok(None),
                Some(Err(e)) => return Err(ws_error(e).at(&self.url)),
                Some(Ok(raw)) => {
                    if let Some(message) = Message::from_raw(raw) {
                        return Ok(Some(message));
                    }
                }
            }
        }
    }

    /// Closes with code 1000 (normal): sends the close frame and waits for
    /// the server's, dropping any message that comes before it, for up to the
    /// client's [`read_timeout`](super::ClientBuilder::read_timeout) or 10 s,
    /// whichever is shorter.
    ///
    /// # Errors
    ///
    /// As [`close_with`](WebSocket::close_with).
    pub async fn close(&mut self) -> Result<(), Error> {
        self.close_with(1000, "").await
    }

    /// Closes with a `code` and `reason` (see [`close`](WebSocket::close)).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`] if the connection failed; a
    /// [`TimeoutKind::Read`] timeout if the server does not answer the close
    /// within the read timeout or 10 s.
    pub async fn close_with(&mut self, code: u16, reason: &str) -> Result<(), Error> {
        let frame = CloseFrame {
            code,
            reason: reason.to_owned(),
        };
        match self.stream.close(Some(raw_close(frame))).await {
            Ok(()) | Err(tungstenite::Error::ConnectionClosed) => {}
            Err(e) => return Err(ws_error(e).at(&self.url)),
        }
        let drain = async {
            loop {
                match self.stream.next().await {
                    None | Some(Err(tungstenite::Error::ConnectionClosed)) => return Ok(()),
                    Some(Err(e)) => return Err(ws_error(e)),
                    Some(Ok(_)) => {}
                }
            }
        };
        // A peer that keeps talking and never closes costs no more than the
        // read timeout a silent one would.
        let wait = self
            .read_timeout
            .map_or(CLOSE_TIMEOUT, |t| t.min(CLOSE_TIMEOUT));
        let result = Deadline::after(wait, TimeoutKind::Read)
            .run(drain)
            .await
            .map_err(Error::timeout)
            .and_then(|r| r);
        result.map_err(|e| e.at(&self.url))
    }
}

impl futures_util::Stream for WebSocket {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            let raw = match Pin::new(&mut this.stream).poll_next(cx) {
                Poll::Ready(raw) => raw,
                Poll::Pending => {
                    if this.read_timer.is_none() {
                        // A timeout too long for an `Instant` is none.
                        let at = this
                            .read_timeout
                            .and_then(|d| Instant::now().checked_add(d));
                        this.read_timer = at.map(Sleep::until);
                    }
                    let Some(timer) = &mut this.read_timer else {
                        return Poll::Pending;
                    };
                    if Pin::new(timer).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.read_timer = None;
                    let err = Error::timeout(TimeoutKind::Read).at(&this.url);
                    return Poll::Ready(Some(Err(err)));
                }
            };
            this.read_timer = None;
            match raw {
                None | Some(Err(tungstenite::Error::ConnectionClosed)) => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(ws_error(e).at(&this.url)))),
                Some(Ok(raw)) => {
                    if let Some(message) = Message::from_raw(raw) {
                        return Poll::Ready(Some(Ok(message)));
                    }
                }
            }
        }
    }
}

impl Sink<Message> for WebSocket {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        let ready = Pin::new(&mut this.stream).poll_ready(cx);
        ready.map_err(|e| ws_error(e).at(&this.url))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        let this = self.get_mut();
        let sent = Pin::new(&mut this.stream).start_send(message.into_raw());
        sent.map_err(|e| ws_error(e).at(&this.url))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.stream).poll_flush(cx);
        flushed.map_err(|e| ws_error(e).at(&this.url))
    }

    /// Sends a close frame (no code) and flushes it; as tokio-tungstenite's,
    /// it does not wait for the server's close frame, which the reading
    /// half sees as its last message ([`WebSocket::close`] waits for it).
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        let closed = Pin::new(&mut this.stream).poll_close(cx);
        closed.map_err(|e| ws_error(e).at(&this.url))
    }
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

/// tungstenite's error as ours.
pub(crate) fn ws_error(e: tungstenite::Error) -> Error {
    use tungstenite::Error as E;
    match e {
        E::Io(io) => Error::io(io),
        E::Capacity(e) => Error::with_source(ErrorKind::TooLarge, "WebSocket message", e),
        // tungstenite's bound on the upgrade answer: a head over 64 KiB, or
        // one that took over 512 reads; too large, as an HTTP head over
        // max_header_bytes is.
        E::AttackAttempt => Error::new(
            ErrorKind::TooLarge,
            "the upgrade answer's head is over 64 KiB (or 512 reads)",
        ),
        E::Http(response) => {
            let status = response.status();
            Error::new(
                ErrorKind::WebSocket,
                format!("the server refused the upgrade with {status}"),
            )
            .with_status(status)
        }
        E::Url(e) => Error::with_source(ErrorKind::InvalidUrl, "", e),
        E::HttpFormat(e) => Error::with_source(ErrorKind::InvalidRequest, "", e),
        other => Error::with_source(ErrorKind::WebSocket, "", other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_websocket_can_move_between_tasks() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<WebSocket>();
        assert_send::<WsConnect>();
    }

    #[test]
    fn messages_convert_both_ways() {
        let messages = [
            Message::Text("t".into()),
            Message::Binary(Bytes::from_static(b"b")),
            Message::Ping(Bytes::from_static(b"p")),
            Message::Pong(Bytes::new()),
            Message::Close(Some(CloseFrame {
                code: 4000,
                reason: "r".into(),
            })),
            Message::Close(None),
        ];
        for message in messages {
            assert_eq!(Message::from_raw(message.clone().into_raw()), Some(message));
        }
    }
}
