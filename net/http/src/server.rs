//! A small HTTP/1.1 server: serves an async handler over a [`TcpListener`].
//!
//! It is what ferrio's embedded jsonplaceholder and the HTTP client's tests run
//! on, and it is meant to be trusted with a hostile client: it has keep-alive,
//! `Content-Length` request bodies (with `Expect: 100-continue`), limits on
//! header and body bytes (answered with 431 and 413), a timeout on every wait
//! (reading a request head, reading a body, writing a response, an idle
//! keep-alive connection), 400 and a close for bytes that are not HTTP, and a
//! graceful [`shutdown`](Handle::shutdown) that stops accepting, lets
//! in-flight requests finish within a bound, then closes what is left.
//!
//! It is not a framework: no routing, no chunked request bodies (answered with
//! 501), no TLS, no HTTP/2. A handler is any
//! `Fn(Request) -> impl Future<Output = Response>`, with the `http` crate's
//! types and the whole body in a `Vec<u8>` both ways.
//!
//! Parsing and encoding are kept free of I/O ([`parse_head`] and the response
//! encoder work on byte slices), so every path through them is unit-tested with
//! plain bytes.
//!
//! ```
//! use ferrio::http::server::{self, Request, Response};
//! use futures_util::{AsyncReadExt, AsyncWriteExt};
//!
//! async fn hello(req: Request) -> Response {
//!     Response::new(format!("hello from {}", req.uri().path()).into_bytes())
//! }
//!
//! ferrio::run(async {
//!     let server = server::bind("127.0.0.1:0").await.unwrap().spawn(hello);
//!     let mut conn = ferrio::net::TcpStream::connect(server.local_addr()).await.unwrap();
//!     conn.write_all(b"GET /world HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
//!     let mut reply = String::new();
//!     conn.read_to_string(&mut reply).await.unwrap();
//!     assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
//!     assert!(reply.ends_with("\r\n\r\nhello from /world"));
//!     server.shutdown().await;
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use event_listener::Event;
use ferrio_reactor::time::{timeout, timeout_at, Instant};
use futures_util::future::{select, Either};
use futures_util::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, FutureExt};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode, Version};

use super::headers::{self, ContentLengthError};
use ferrio_net::{TcpListener, TcpStream};

/// A request as handlers see it: the `http` crate's type, with the whole body.
pub type Request = http::Request<Vec<u8>>;

/// A response as handlers return it: the `http` crate's type, with the whole
/// body. The server sets `Content-Length`, `Date` and `Connection` itself.
pub type Response = http::Response<Vec<u8>>;

/// The address of the client, in every [`Request`]'s extensions.
///
/// ```
/// use ferrio::http::server::{RemoteAddr, Request, Response};
///
/// async fn whoami(req: Request) -> Response {
///     let peer = req.extensions().get::<RemoteAddr>().map(|a| a.0.to_string());
///     Response::new(peer.unwrap_or_default().into_bytes())
/// }
/// # let _ = whoami;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

/// Headers a request may carry at most (more is answered with 431).
const MAX_HEADERS: usize = 100;

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 16 * 1024;

/// How long a closing connection keeps reading (and discarding) what the client
/// still sends, so that the kernel does not answer it with a reset that would
/// destroy the error response before the client reads it.
const LINGER: Duration = Duration::from_secs(1);

/// Bytes a closing connection discards at most while it lingers.
const LINGER_BYTES: usize = 1 << 20;

/// After the grace period of a shutdown, how long the forcibly closed
/// connections get to drop their sockets.
const FORCED_CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The default [`Builder::keep_alive_timeout`]: longer than the idle timeout
/// of the pools of ferrio's client and aiohttp (15 s each), so that such a
/// client closes an idle connection first. Were the server first, a client
/// could send its next request on the connection just as the server closes
/// it, and see it fail.
const DEFAULT_KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Limits and timeouts of a server; see each method for its default.
///
/// ```
/// use std::time::Duration;
/// use ferrio::http::server::Builder;
///
/// ferrio::run(async {
///     let server = Builder::new()
///         .max_header_bytes(8 * 1024)
///         .keep_alive_timeout(Duration::from_secs(5))
///         .bind("127.0.0.1:0")
///         .await
///         .unwrap();
///     assert!(server.local_addr().port() != 0);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    config: Config,
}

#[derive(Debug, Clone)]
struct Config {
    max_header_bytes: usize,
    max_body_bytes: usize,
    header_read_timeout: Duration,
    body_read_timeout: Duration,
    write_timeout: Duration,
    keep_alive_timeout: Duration,
    shutdown_grace: Duration,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder with the default limits.
    pub fn new() -> Builder {
        Builder {
            config: Config {
                max_header_bytes: 64 * 1024,
                max_body_bytes: 1024 * 1024,
                header_read_timeout: Duration::from_secs(10),
                body_read_timeout: Duration::from_secs(30),
                write_timeout: Duration::from_secs(30),
                keep_alive_timeout: DEFAULT_KEEP_ALIVE_TIMEOUT,
                shutdown_grace: Duration::from_secs(5),
            },
        }
    }

    /// Bytes a request line plus headers may take; more is answered with
    /// `431 Request Header Fields Too Large`. Default 64 KiB.
    pub fn max_header_bytes(mut self, n: usize) -> Self {
        self.config.max_header_bytes = n;
        self
    }

    /// Bytes a request body may take; a larger `Content-Length` is answered
    /// with `413 Content Too Large` before any of the body is read. Default 1 MiB.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.config.max_body_bytes = n;
        self
    }

    /// How long a client has to send a whole request head, from its first byte
    /// (from the accept, for a connection's first request). A client that
    /// stalls gets `408 Request Timeout` and the connection is closed; one
    /// that connects and sends nothing is closed silently. Default 10 s.
    pub fn header_read_timeout(mut self, d: Duration) -> Self {
        self.config.header_read_timeout = d;
        self
    }

    /// How long a client has to send a whole request body once its head was
    /// read (408 and a close otherwise). Default 30 s.
    pub fn body_read_timeout(mut self, d: Duration) -> Self {
        self.config.body_read_timeout = d;
        self
    }

    /// How long writing one response may take before the connection is
    /// dropped (a client that does not read). Default 30 s.
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.config.write_timeout = d;
        self
    }

    /// How long a keep-alive connection may sit idle between requests before
    /// the server closes it. Default 20 s: longer than common clients' pool
    /// idle timeout (15 s for ferrio's client), so that the client closes an
    /// idle connection first and never sends a request on one the server is
    /// closing.
    pub fn keep_alive_timeout(mut self, d: Duration) -> Self {
        self.config.keep_alive_timeout = d;
        self
    }

    /// How long [`Handle::shutdown`] lets in-flight requests finish before it
    /// closes their connections. Default 5 s.
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.config.shutdown_grace = d;
        self
    }

    /// Binds a listener to `addr` (the first address it resolves to that
    /// binds; a port of 0 picks a free one).
    pub async fn bind<A: ferrio_net::ToSocketAddrs>(self, addr: A) -> io::Result<Server> {
        Server::from_listener(TcpListener::bind(addr).await?, self)
    }

    /// A server on a listener that is already bound.
    pub fn listener(self, listener: TcpListener) -> io::Result<Server> {
        Server::from_listener(listener, self)
    }
}

/// Binds a server with the default limits to `addr`; see [`Builder`].
///
/// ```
/// ferrio::run(async {
///     let server = ferrio::http::server::bind("127.0.0.1:0").await.unwrap();
///     assert!(server.local_addr().ip().is_loopback());
/// });
/// ```
pub async fn bind<A: ferrio_net::ToSocketAddrs>(addr: A) -> io::Result<Server> {
    Builder::new().bind(addr).await
}

/// A bound server that does not accept yet; [`spawn`](Server::spawn) starts it.
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    config: Config,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .finish()
    }
}

impl Server {
    fn from_listener(listener: TcpListener, builder: Builder) -> io::Result<Server> {
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            local_addr,
            config: builder.config,
        })
    }

    /// The address the server is bound to (with the port picked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Starts accepting connections in a task of the current runtime, each
    /// connection in a task of its own, and answers every request with
    /// `handler`. Returns at once; the server runs until
    /// [`Handle::shutdown`] (or until its runtime is dropped). Dropping the
    /// [`Handle`] does not stop it.
    ///
    /// A handler that panics answers `500 Internal Server Error` and its
    /// connection is closed; the server lives on.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    pub fn spawn<H, F>(self, handler: H) -> Handle
    where
        H: Fn(Request) -> F + Send + Sync + 'static,
        F: Future<Output = Response> + Send + 'static,
    {
        let shared = Arc::new(Shared::new(self.config));
        let handler = Arc::new(handler);
        ferrio_executor::spawn(accept_loop(self.listener, handler, shared.clone()));
        log::debug!("http server listening on {}", self.local_addr);
        Handle {
            shared,
            local_addr: self.local_addr,
        }
    }
}

/// What a server's tasks share: its configuration, its counters and the
/// signals of a shutdown.
struct Shared {
    config: Config,
    /// Set by a shutdown: stop accepting, close idle connections, finish the
    /// requests in flight with `Connection: close`.
    stopping: AtomicBool,
    /// Notified when `stopping` is set.
    stop: Event,
    /// Set when the grace period of a shutdown ran out: connections drop now.
    forced: AtomicBool,
    /// Notified when `forced` is set.
    force: Event,
    /// Cleared when the accept loop has dropped the listener.
    accepting: AtomicBool,
    /// Connections open right now (accepted and not yet dropped).
    open: AtomicUsize,
    /// The most connections that were open at once.
    max_open: AtomicUsize,
    /// Connections accepted so far.
    accepted: AtomicU64,
    /// Requests answered so far (any status).
    requests: AtomicU64,
    /// Notified when a connection closes or the accept loop ends, so a
    /// shutdown can wait for the server to drain.
    changed: Event,
}

impl Shared {
    fn new(config: Config) -> Shared {
        Shared {
            config,
            stopping: AtomicBool::new(false),
            stop: Event::new(),
            forced: AtomicBool::new(false),
            force: Event::new(),
            accepting: AtomicBool::new(true),
            open: AtomicUsize::new(0),
            max_open: AtomicUsize::new(0),
            accepted: AtomicU64::new(0),
            requests: AtomicU64::new(0),
            changed: Event::new(),
        }
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    fn is_drained(&self) -> bool {
        !self.accepting.load(Ordering::Acquire) && self.open.load(Ordering::Acquire) == 0
    }

    /// Waits until the accept loop ended and every connection closed.
    async fn drained(&self) {
        loop {
            // Listen before checking, so a change in between is not missed.
            let listener = self.changed.listen();
            if self.is_drained() {
                return;
            }
            listener.await;
        }
    }
}

/// Counts a connection as open from its accept until its task drops it
/// (completed, forcibly closed or dropped with the runtime).
struct OpenConnection(Arc<Shared>);

impl OpenConnection {
    fn new(shared: Arc<Shared>) -> OpenConnection {
        let open = shared.open.fetch_add(1, Ordering::AcqRel) + 1;
        shared.max_open.fetch_max(open, Ordering::AcqRel);
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        OpenConnection(shared)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify(usize::MAX);
    }
}

/// A running server: its address, its counters, and the way to stop it.
/// Cloning it gives another handle to the same server.
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("local_addr", &self.local_addr)
            .field("open_connections", &self.open_connections())
            .field("stopping", &self.shared.is_stopping())
            .finish()
    }
}

impl Handle {
    /// The address the server accepts on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }

    /// The most connections that were open at once, since the start or the
    /// last [`reset_max_open_connections`](Handle::reset_max_open_connections).
    ///
    /// ```
    /// use ferrio::net::TcpStream;
    ///
    /// ferrio::run(async {
    ///     let server = ferrio::http::server::bind("127.0.0.1:0").await.unwrap()
    ///         .spawn(|_req| async { ferrio::http::server::Response::new(Vec::new()) });
    ///     let a = TcpStream::connect(server.local_addr()).await.unwrap();
    ///     let b = TcpStream::connect(server.local_addr()).await.unwrap();
    ///     for _ in 0..1000 {
    ///         if server.connections_accepted() == 2 {
    ///             break;
    ///         }
    ///         ferrio::time::sleep(std::time::Duration::from_millis(1)).await;
    ///     }
    ///     assert_eq!(server.max_open_connections(), 2);
    ///     drop((a, b));
    ///     server.shutdown().await;
    /// });
    /// ```
    pub fn max_open_connections(&self) -> usize {
        self.shared.max_open.load(Ordering::Acquire)
    }

    /// Starts a new measurement of [`max_open_connections`](Handle::max_open_connections)
    /// from the connections open now.
    pub fn reset_max_open_connections(&self) {
        self.shared
            .max_open
            .store(self.open_connections(), Ordering::Release);
    }

    /// Connections accepted since the start.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// Requests answered since the start (whatever their status).
    pub fn requests_served(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Stops the server gracefully: stops accepting (the listener is closed),
    /// closes idle keep-alive connections, and lets requests in flight finish
    /// (their responses say `Connection: close`) for at most the
    /// [grace period](Builder::shutdown_grace); the connections still open
    /// then are closed. Returns how many connections had to be closed that
    /// way (0 when everything finished in time).
    ///
    /// Calling it again, or from another handle, waits for the same shutdown.
    /// It may be awaited on any ferrio runtime, not only the server's.
    pub async fn shutdown(&self) -> usize {
        let shared = &self.shared;
        if !shared.stopping.swap(true, Ordering::AcqRel) {
            log::debug!("http server {}: shutting down", self.local_addr);
        }
        shared.stop.notify(usize::MAX);

        if timeout(shared.config.shutdown_grace, shared.drained())
            .await
            .is_ok()
        {
            return 0;
        }
        let forced = shared.open.load(Ordering::Acquire);
        log::warn!(
            "http server {}: {forced} connection(s) still busy after the {:?} grace period; closing them",
            self.local_addr,
            shared.config.shutdown_grace
        );
        shared.forced.store(true, Ordering::Release);
        shared.force.notify(usize::MAX);
        if timeout(FORCED_CLOSE_WAIT, shared.drained()).await.is_err() {
            log::warn!(
                "http server {}: connections did not close after a forced shutdown",
                self.local_addr
            );
        }
        forced
    }
}

async fn accept_loop<H, F>(listener: TcpListener, handler: Arc<H>, shared: Arc<Shared>)
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    loop {
        let stop = shared.stop.listen();
        if shared.is_stopping() {
            break;
        }
        let accepted = match select(pin!(listener.accept()), stop).await {
            Either::Left((accepted, _)) => accepted,
            Either::Right(((), _)) => break,
        };
        match accepted {
            Ok((stream, peer)) => {
                log::trace!("accepted {peer}");
                // Responses go out in one write; don't let Nagle hold back its tail.
                if let Err(e) = stream.set_nodelay(true) {
                    log::debug!("{peer}: TCP_NODELAY: {e}");
                }
                let open = OpenConnection::new(shared.clone());
                let task = connection_task(stream, peer, handler.clone(), shared.clone(), open);
                drop(ferrio_executor::spawn(task));
            }
            // `accept` itself pauses while the process is out of
            // descriptors and skips connections that failed in the backlog:
            // what it returns is the listener failing, which retrying
            // would not mend.
            Err(e) => {
                log::warn!("http server: accept failed: {e}; no longer accepting");
                break;
            }
        }
    }
    drop(listener);
    shared.accepting.store(false, Ordering::Release);
    shared.changed.notify(usize::MAX);
    log::debug!("http server: stopped accepting");
}

/// `start + timeout`, or (for a timeout such as `Duration::MAX`, meaning
/// "never") a deadline decades away instead of an overflow.
fn deadline(start: Instant, timeout: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(60 * 60 * 24 * 365 * 30);
    start.checked_add(timeout).unwrap_or_else(|| start + FAR)
}

async fn connection_task<H, F>(
    stream: TcpStream,
    peer: SocketAddr,
    handler: Arc<H>,
    shared: Arc<Shared>,
    open: OpenConnection,
) where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let force = shared.force.listen();
    if !shared.forced.load(Ordering::Acquire) {
        let conn = Connection::new(stream, peer, &shared);
        if let Either::Right(_) = select(pin!(conn.run(&*handler)), force).await {
            log::debug!("{peer}: closed by a forced shutdown");
        }
    }
    drop(open);
}

/// The search for the end of a request head, one byte at a time across
/// reads: each byte is looked at once, however the head is split.
#[derive(Debug, Default)]
struct HeadScan {
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
    fn advance(&mut self, buf: &[u8]) -> bool {
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

/// Why a connection stops waiting for a request.
enum Wait {
    /// Bytes arrived.
    Data,
    /// The client closed, the connection failed, the wait timed out or the
    /// server is shutting down: close without a word.
    Close,
}

/// One client connection: the socket and the bytes read but not yet used
/// (a pipelined request may follow the current one in the same read).
struct Connection<'a, S> {
    io: S,
    peer: SocketAddr,
    buf: Vec<u8>,
    shared: &'a Shared,
    accepted_at: Instant,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin> Connection<'a, S> {
    fn new(io: S, peer: SocketAddr, shared: &'a Shared) -> Self {
        Connection {
            io,
            peer,
            buf: Vec::new(),
            shared,
            accepted_at: Instant::now(),
        }
    }

    fn config(&self) -> &'a Config {
        &self.shared.config
    }

    /// Serves requests until one of the sides closes.
    async fn run<H, F>(mut self, handler: &H)
    where
        H: Fn(Request) -> F,
        F: Future<Output = Response>,
    {
        let mut first = true;
        loop {
            let request = match self.read_request(first).await {
                Ok(Some(request)) => request,
                Ok(None) => break,
                Err(reject) => {
                    log::debug!("{}: {} ({})", self.peer, reject.status, reject.reason);
                    self.shared.requests.fetch_add(1, Ordering::Relaxed);
                    let response = reject.response();
                    let out = encode_response(&response, Version::HTTP_11, false, true);
                    if self.write(&out).await {
                        self.close(true).await;
                    }
                    break;
                }
            };
            first = false;

            let method = request.method().clone();
            let version = request.version();
            let client_keep_alive = headers::keep_alive(version, request.headers());
            let (response, panicked) = match AssertUnwindSafe(handler(request)).catch_unwind().await
            {
                Ok(response) => (response, false),
                Err(_) => {
                    log::warn!("{}: the request handler panicked; answering 500", self.peer);
                    (
                        Reject::new(StatusCode::INTERNAL_SERVER_ERROR, "handler panicked")
                            .response(),
                        true,
                    )
                }
            };
            let close = panicked
                || !client_keep_alive
                || self.shared.is_stopping()
                || headers::has_connection_token(response.headers(), "close");
            let out = encode_response(&response, version, method == Method::HEAD, close);
            self.shared.requests.fetch_add(1, Ordering::Relaxed);
            if !self.write(&out).await {
                break;
            }
            if close {
                self.close(false).await;
                break;
            }
        }
    }

    /// Reads the next request: `Ok(None)` when the connection should close
    /// without a response (the client left, idled out, or the server stops).
    async fn read_request(&mut self, first: bool) -> Result<Option<Request>, Reject> {
        let config = self.config();
        if self.buf.is_empty() {
            let wait = if first {
                timeout_at(
                    deadline(self.accepted_at, config.header_read_timeout),
                    self.wait_for_data(),
                )
                .await
            } else {
                timeout(config.keep_alive_timeout, self.wait_for_data()).await
            };
            match wait {
                Ok(Wait::Data) => {}
                Ok(Wait::Close) => return Ok(None),
                Err(_) => {
                    log::debug!("{}: idle timeout", self.peer);
                    return Ok(None);
                }
            }
        }

        let head_from = if first {
            self.accepted_at
        } else {
            Instant::now()
        };
        let head_deadline = deadline(head_from, config.header_read_timeout);
        // Parsed only when it may be complete (or over its limit), not after
        // every read: re-parsing a head that trickles in costs O(n²).
        let mut scan = HeadScan::default();
        // The first look parses anyway, so bytes that are not HTTP (a TLS
        // handshake) get their 400 at once.
        let mut first_look = true;
        let head = loop {
            let may_be_complete = scan.advance(&self.buf);
            if first_look || may_be_complete || self.buf.len() > config.max_header_bytes {
                if let Some(head) = parse_head(&self.buf, config.max_header_bytes)? {
                    break head;
                }
            }
            first_look = false;
            if may_be_complete {
                // Not the end after all: search the rest of what was read.
                continue;
            }
            match self.read_more_by(head_deadline).await {
                Some(Ok(0) | Err(_)) => return Ok(None),
                Some(Ok(_)) => {}
                None => {
                    return Err(Reject::new(
                        StatusCode::REQUEST_TIMEOUT,
                        "request head too slow",
                    ))
                }
            }
        };

        let too_large = || Reject::new(StatusCode::PAYLOAD_TOO_LARGE, "body over the limit");
        if head.content_length > config.max_body_bytes as u64 {
            return Err(too_large());
        }
        // Fits in usize: it is at most `max_body_bytes`. The head and body
        // together may not (with `max_body_bytes(usize::MAX)`).
        let body_len = head.content_length as usize;
        let end = head.len.checked_add(body_len).ok_or_else(too_large)?;
        if self.buf.len() < end {
            if head.expect_continue && !self.write(b"HTTP/1.1 100 Continue\r\n\r\n").await {
                return Ok(None);
            }
            let body_deadline = deadline(Instant::now(), config.body_read_timeout);
            while self.buf.len() < end {
                match self.read_more_by(body_deadline).await {
                    Some(Ok(0) | Err(_)) => return Ok(None),
                    Some(Ok(_)) => {}
                    None => {
                        return Err(Reject::new(
                            StatusCode::REQUEST_TIMEOUT,
                            "request body too slow",
                        ))
                    }
                }
            }
        }
        let body = self.buf[head.len..end].to_vec();
        self.buf.drain(..end);
        let mut request = head.request.map(|()| body);
        request.extensions_mut().insert(RemoteAddr(self.peer));
        Ok(Some(request))
    }

    /// Waits for the first bytes of a request, or for a shutdown.
    async fn wait_for_data(&mut self) -> Wait {
        let (shared, peer) = (self.shared, self.peer);
        let stop = shared.stop.listen();
        if shared.is_stopping() {
            return Wait::Close;
        }
        match select(pin!(self.read_more()), stop).await {
            Either::Left((Ok(n), _)) if n > 0 => Wait::Data,
            Either::Left((Ok(_), _)) => Wait::Close,
            Either::Left((Err(e), _)) => {
                log::debug!("{peer}: read failed: {e}");
                Wait::Close
            }
            Either::Right(_) => Wait::Close,
        }
    }

    /// Reads once from the socket into the buffer. Cancel-safe: bytes land
    /// in the buffer only when the read completed.
    async fn read_more(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; READ_CHUNK];
        let n = self.io.read(&mut chunk).await?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// [`read_more`](Self::read_more) by `deadline`: `None` once it passed.
    /// Checked before the read too, since a timeout looks at its timer only
    /// while the read waits: a client that always has bytes ready would
    /// otherwise keep the connection reading past the deadline.
    async fn read_more_by(&mut self, deadline: Instant) -> Option<io::Result<usize>> {
        if Instant::now() >= deadline {
            return None;
        }
        timeout_at(deadline, self.read_more()).await.ok()
    }

    /// Writes `bytes` within the write timeout; false if the connection is
    /// gone (failed or timed out), in which case it is dropped.
    async fn write(&mut self, bytes: &[u8]) -> bool {
        let io = &mut self.io;
        let written = timeout(self.shared.config.write_timeout, async {
            io.write_all(bytes).await?;
            io.flush().await
        })
        .await;
        match written {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                log::debug!("{}: write failed: {e}", self.peer);
                false
            }
            Err(_) => {
                log::debug!("{}: write timed out", self.peer);
                false
            }
        }
    }

    /// Closes the write side, then (if `linger`) reads and discards what the
    /// client still sends for a moment, so that our last response is not
    /// destroyed by a reset. A shutdown cuts the lingering short.
    async fn close(mut self, linger: bool) {
        let _ = timeout(LINGER, self.io.close()).await;
        if !linger {
            return;
        }
        let stop = self.shared.stop.listen();
        if self.shared.is_stopping() {
            return;
        }
        let io = &mut self.io;
        let drain = timeout(LINGER, async {
            let mut chunk = [0u8; READ_CHUNK];
            let mut discarded = 0;
            while discarded < LINGER_BYTES {
                match io.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => discarded += n,
                }
            }
        });
        select(pin!(drain), stop).await;
    }
}

/// A request that is answered with an error status and a close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The status to answer with (400, 408, 413, 431, 501, ...).
    pub status: StatusCode,
    /// What was wrong, for the logs and the response body.
    pub reason: &'static str,
}

impl Reject {
    fn new(status: StatusCode, reason: &'static str) -> Reject {
        Reject { status, reason }
    }

    fn bad(reason: &'static str) -> Reject {
        Reject::new(StatusCode::BAD_REQUEST, reason)
    }

    fn response(&self) -> Response {
        let mut response = Response::new(format!("{}\n", self.reason).into_bytes());
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
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
pub struct Head {
    /// Method, URI, version and headers, with no body yet.
    pub request: http::Request<()>,
    /// Bytes the head took, up to and including the blank line.
    pub len: usize,
    /// The body's length from `Content-Length` (0 without one).
    pub content_length: u64,
    /// The client sent `Expect: 100-continue`.
    pub expect_continue: bool,
}

/// Parses a request head from the start of `buf`, sans I/O.
///
/// `Ok(None)`: the head is not complete yet (read more and call again).
/// `Err`: the request must be answered with the [`Reject`]'s status and the
/// connection closed: 400 for bytes that are not HTTP/1.x or contradict
/// themselves (two different `Content-Length`s, HTTP/1.1 without `Host`),
/// 431 for a head over `max_header_bytes` or with more than 100 headers,
/// 501 for a `Transfer-Encoding` body (not supported), 505 for HTTP/2+.
///
/// ```
/// use ferrio::http::server::parse_head;
///
/// let buf = b"POST /posts HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}";
/// let head = parse_head(buf, 1024).unwrap().unwrap();
/// assert_eq!(head.request.uri().path(), "/posts");
/// assert_eq!((head.len, head.content_length), (buf.len() - 2, 2));
/// assert!(parse_head(b"GET / HTTP/1.1\r\nHo", 1024).unwrap().is_none());
/// assert_eq!(parse_head(b"\x16\x03\x01 hello\r\n\r\n", 1024).unwrap_err().status, 400);
/// ```
pub fn parse_head(buf: &[u8], max_header_bytes: usize) -> Result<Option<Head>, Reject> {
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
    Ok(Some(Head {
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
fn encode_response(response: &Response, version: Version, head_only: bool, close: bool) -> Vec<u8> {
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
    use std::task::{Context, Poll};

    /// A client that sends `head`, then `x` bytes without end, each read
    /// ready at once; what the server writes goes nowhere.
    struct Flood {
        head: Vec<u8>,
        sent: usize,
    }

    impl AsyncRead for Flood {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let from_head = self.head.len().saturating_sub(self.sent).min(buf.len());
            let at = self.sent.min(self.head.len());
            buf[..from_head].copy_from_slice(&self.head[at..at + from_head]);
            buf[from_head..].fill(b'x');
            self.sent += buf.len();
            Poll::Ready(Ok(buf.len()))
        }
    }

    impl AsyncWrite for Flood {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn body_read_timeout_holds_against_a_client_that_is_always_ready() {
        let config = Builder::new()
            .body_read_timeout(Duration::from_millis(20))
            .max_body_bytes(256 << 20)
            .config;
        let shared = Shared::new(config);
        let head = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {}\r\n\r\n",
            256 << 20
        );
        let flood = Flood {
            head: head.into_bytes(),
            sent: 0,
        };
        let started = std::time::Instant::now();
        let read = ferrio::run(async {
            let mut conn = Connection::new(flood, "127.0.0.1:1".parse().unwrap(), &shared);
            conn.read_request(true)
                .await
                .map(|r| r.map(|r| r.body().len()))
        });
        assert_eq!(
            read.map_err(|r| r.status),
            Err(StatusCode::REQUEST_TIMEOUT),
            "the 20 ms body timeout should end the read (after {:?})",
            started.elapsed()
        );
    }

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

    #[test]
    fn default_keep_alive_outlasts_the_clients_default_pool_idle_timeout() {
        assert!(DEFAULT_KEEP_ALIVE_TIMEOUT > crate::client::DEFAULT_POOL_IDLE_TIMEOUT);
    }

    fn head(buf: &[u8]) -> Result<Option<Head>, Reject> {
        parse_head(buf, 1024)
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
            if let Ok(Some(h)) = parse_head(&buf, 1024) {
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
        assert_eq!(parse_head(req.as_bytes(), 1 << 20).unwrap_err().status, 431);
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
        let mut r = Response::new(b"hi".to_vec());
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
        let r = Response::new(b"hello".to_vec());
        let out = text(encode_response(&r, Version::HTTP_11, true, false));
        assert!(out.ends_with("content-length: 5\r\n\r\n"), "{out}");
        let mut r = Response::new(b"ignored".to_vec());
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
        let r = Response::new(Vec::new());
        assert!(text(encode_response(&r, Version::HTTP_11, false, true))
            .contains("\r\nconnection: close\r\n"));
        assert!(text(encode_response(&r, Version::HTTP_10, false, false))
            .contains("\r\nconnection: keep-alive\r\n"));
    }

    #[test]
    fn a_final_response_never_has_an_informational_status() {
        let mut r = Response::new(Vec::new());
        *r.status_mut() = StatusCode::CONTINUE;
        assert!(
            text(encode_response(&r, Version::HTTP_11, false, false)).starts_with("HTTP/1.1 500 ")
        );
    }

    #[test]
    fn responses_carry_the_date_as_an_imf_fixdate() {
        let out = encode_response(&Response::new(Vec::new()), Version::HTTP_11, false, false);
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
