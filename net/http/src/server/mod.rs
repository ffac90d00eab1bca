//! A small HTTP/1.1 server: serves an async handler over a [`TcpListener`].
//!
//! It is what ferrio's embedded jsonplaceholder and the HTTP client's tests run
//! on, and it is meant to be trusted with a hostile client: it has keep-alive,
//! `Content-Length` request bodies (with `Expect: 100-continue`), limits on
//! header and body bytes (answered with 431 and 413), a timeout on every wait
//! (reading a request head, reading a body, writing a response, an idle
//! keep-alive connection), 400 and a close for bytes that are not HTTP, and a
//! graceful [`shutdown`](ServerHandle::shutdown) that stops accepting, lets
//! in-flight requests finish within a bound, then closes what is left.
//!
//! It is not a framework: no routing, no chunked request bodies (answered with
//! 501), no TLS, no HTTP/2. A handler is any
//! `Fn(ServerRequest) -> impl Future<Output = ServerResponse>`, with the `http` crate's
//! types and the whole body in a `Vec<u8>` both ways.
//!
//! Parsing and encoding are the crate's sans-IO codec (`codec/`), shared with
//! the client: this module keeps the lifecycle and the shutdown (`mod.rs`),
//! and one connection's life (`connection.rs`).
//!
//! ```
//! use ferrio::http::server::{self, ServerRequest, ServerResponse};
//! use futures_util::{AsyncReadExt, AsyncWriteExt};
//!
//! async fn hello(req: ServerRequest) -> ServerResponse {
//!     ServerResponse::new(format!("hello from {}", req.uri().path()).into_bytes())
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

mod connection;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_listener::Event;

use super::deadline::Deadline;
use connection::accept_loop;
use ferrio_net::TcpListener;

/// A request as handlers see it: the `http` crate's type, with the whole body.
pub type ServerRequest = http::Request<Vec<u8>>;

/// A response as handlers return it: the `http` crate's type, with the whole
/// body. The server sets `Content-Length`, `Date` and `Connection` itself.
pub type ServerResponse = http::Response<Vec<u8>>;

/// The address of the client, in every [`ServerRequest`]'s extensions.
///
/// ```
/// use ferrio::http::server::{RemoteAddr, ServerRequest, ServerResponse};
///
/// async fn whoami(req: ServerRequest) -> ServerResponse {
///     let peer = req.extensions().get::<RemoteAddr>().map(|a| a.0.to_string());
///     ServerResponse::new(peer.unwrap_or_default().into_bytes())
/// }
/// # let _ = whoami;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

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

    /// How long [`ServerHandle::shutdown`] lets in-flight requests finish before it
    /// closes their connections. Default 5 s.
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.config.shutdown_grace = d;
        self
    }

    /// Binds a listener to `addr` (the first address it resolves to that
    /// binds; a port of 0 picks a free one).
    ///
    /// # Errors
    ///
    /// Those of [`TcpListener::bind`].
    pub async fn bind<A: ferrio_net::ToSocketAddrs>(self, addr: A) -> io::Result<Server> {
        Server::from_listener(TcpListener::bind(addr).await?, self)
    }

    /// A server on a listener that is already bound.
    ///
    /// # Errors
    ///
    /// The error of the listener's [`local_addr`](TcpListener::local_addr); in
    /// practice none.
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
///
/// # Errors
///
/// Those of [`TcpListener::bind`].
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
    /// [`ServerHandle::shutdown`] (or until its runtime is dropped). Dropping the
    /// [`ServerHandle`] does not stop it.
    ///
    /// A handler that panics answers `500 Internal Server Error` and its
    /// connection is closed; the server lives on.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    #[track_caller]
    pub fn spawn<H, F>(self, handler: H) -> ServerHandle
    where
        H: Fn(ServerRequest) -> F + Send + Sync + 'static,
        F: Future<Output = ServerResponse> + Send + 'static,
    {
        let shared = Arc::new(Shared::new(self.config));
        let handler = Arc::new(handler);
        ferrio_executor::spawn(accept_loop(self.listener, handler, shared.clone()));
        log::debug!("http server listening on {}", self.local_addr);
        ServerHandle {
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
pub struct ServerHandle {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local_addr", &self.local_addr)
            .field("open_connections", &self.open_connections())
            .field("stopping", &self.shared.is_stopping())
            .finish()
    }
}

impl ServerHandle {
    /// The address the server accepts on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Connections open right now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }

    /// The most connections that were open at once, since the start or the
    /// last [`reset_max_open_connections`](ServerHandle::reset_max_open_connections).
    ///
    /// ```
    /// use ferrio::net::TcpStream;
    ///
    /// ferrio::run(async {
    ///     let server = ferrio::http::server::bind("127.0.0.1:0").await.unwrap()
    ///         .spawn(|_req| async { ferrio::http::server::ServerResponse::new(Vec::new()) });
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

    /// Starts a new measurement of [`max_open_connections`](ServerHandle::max_open_connections)
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

        if Deadline::after(shared.config.shutdown_grace, ())
            .run(shared.drained())
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
        let closed = Deadline::after(FORCED_CLOSE_WAIT, ()).run(shared.drained());
        if closed.await.is_err() {
            log::warn!(
                "http server {}: connections did not close after a forced shutdown",
                self.local_addr
            );
        }
        forced
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keep_alive_outlasts_the_clients_default_pool_idle_timeout() {
        assert!(DEFAULT_KEEP_ALIVE_TIMEOUT > crate::client::DEFAULT_POOL_IDLE_TIMEOUT);
    }
}
