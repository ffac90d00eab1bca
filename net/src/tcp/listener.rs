//! A TCP server socket: [`TcpListener`], accepting with a back-off when the
//! process runs out of descriptors, and [`Incoming`].
//!
//! Not here: the accepted connections themselves (`stream.rs`).

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use ferrio_executor::coop::poll_budgeted;
use ferrio_reactor::{Direction, PollIo, Sleep};
use socket2::Type;

use super::stream::TcpStream;
use crate::attempt::first_that_works;
use crate::socket::{is_connection_error, is_resource_exhaustion, new_socket};
use crate::ToSocketAddrs;

/// How many connections the kernel queues for a listener before `accept`
/// takes them, unless [`TcpListener::bind_with_backlog`] says otherwise.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// First pause of the accept loop after the process ran out of descriptors
/// (or buffers, or memory); doubled at each failure up to [`MAX_ACCEPT_BACKOFF`].
const MIN_ACCEPT_BACKOFF: Duration = Duration::from_millis(5);
/// Longest pause of the accept loop: how late, at worst, a freed descriptor is used.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// A TCP server socket (asyncio's `start_server`, without the callback: call
/// [`accept`](TcpListener::accept) in a loop and spawn a task per connection).
///
/// Made with `SO_REUSEADDR` (so a restarted server can bind at once) and a
/// backlog of [`DEFAULT_BACKLOG`]. When the process runs out of descriptors
/// (`EMFILE`, `ENFILE`) or the system out of buffers or memory, `accept` logs
/// a warning and tries again after a pause (5 ms, doubling up to 1 s) instead
/// of failing or spinning; connections aborted before they were accepted are
/// skipped.
///
/// ```
/// use ferrio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
/// use ferrio::net::{TcpListener, TcpStream};
///
/// ferrio::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     ferrio::spawn(async move {
///         loop {
///             let (mut conn, peer) = listener.accept().await?;
///             ferrio::spawn(async move {
///                 let _ = conn.write_all(format!("hello {peer}\n").as_bytes()).await;
///             });
///         }
///         #[allow(unreachable_code)]
///         std::io::Result::Ok(())
///     });
///
///     let stream = TcpStream::connect(addr).await?;
///     let mut line = String::new();
///     BufReader::new(stream).read_line(&mut line).await?;
///     assert!(line.starts_with("hello 127.0.0.1:"));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct TcpListener {
    io: PollIo<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` with [`DEFAULT_BACKLOG`] and starts listening. A host
    /// name is resolved first; the first address that binds wins. Port 0 picks
    /// a free port: see [`local_addr`](TcpListener::local_addr).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `AddrInUse`, `AddrNotAvailable`, `PermissionDenied`, the resolver's
    /// errors, ...: the last one if no address binds.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        TcpListener::bind_with_backlog(addr, DEFAULT_BACKLOG).await
    }

    /// [`bind`](TcpListener::bind) with a backlog of `backlog` pending
    /// connections (the kernel may cap it, e.g. at `net.core.somaxconn`).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let listener = ferrio::net::TcpListener::bind_with_backlog("127.0.0.1:0", 16).await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// As [`bind`](TcpListener::bind).
    pub async fn bind_with_backlog(
        addr: impl ToSocketAddrs,
        backlog: u32,
    ) -> io::Result<TcpListener> {
        first_that_works(addr, "bind", |addr| {
            std::future::ready(TcpListener::bind_addr(addr, backlog))
        })
        .await
    }

    fn bind_addr(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
        let socket = new_socket(&addr, Type::STREAM)?;
        #[cfg(unix)]
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        log::debug!(
            "listening on {:?} (backlog {backlog})",
            socket.local_addr().ok().and_then(|a| a.as_socket())
        );
        TcpListener::register(socket.into())
    }

    /// Takes over a listening socket made elsewhere: by `socket2` with
    /// options `bind` does not set (`SO_REUSEPORT`, say, for one listener per
    /// thread on the same port), or inherited from a parent process. It is
    /// switched to non-blocking mode and registered with the current
    /// runtime's reactor (tokio's `TcpListener::from_std`).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    ///     let listener = ferrio::net::TcpListener::from_std(std_listener)?;
    ///     let addr = listener.local_addr()?;
    ///     let _client = ferrio::net::TcpStream::connect(addr).await?;
    ///     let (_conn, _peer) = listener.accept().await?;
    ///     std::io::Result::Ok(())
    /// })
    /// .unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of switching to non-blocking mode or registering it.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime (no current reactor on this thread), as
    /// tokio's does, with a message that says so.
    #[track_caller]
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::register(listener)
    }

    #[track_caller]
    fn register(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        let io = PollIo::new_current(mio::net::TcpListener::from_std(listener))?;
        if ferrio_executor::observe::is_timing() {
            if let Ok(local) = io.get_ref().local_addr() {
                io.registration().set_label(format!("tcp listener {local}"));
            }
        }
        Ok(TcpListener { io })
    }

    /// The address the listener is bound to (with the port picked by the OS
    /// if it was bound to port 0).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let listener = ferrio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `getsockname`; in practice none.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Waits for the next connection and returns it with the peer's address.
    ///
    /// Out of descriptors, buffers or memory, it logs a warning and retries
    /// after a growing pause (never spinning, never failing); connections that
    /// failed before they were accepted are skipped. Other errors are returned.
    ///
    /// ```
    /// use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (conn, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(peer, client.local_addr().unwrap());
    ///     assert_eq!(conn.local_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// An OS error of `accept` other than those retried or skipped above
    /// (`PermissionDenied` when a firewall rule forbids the connection, say);
    /// kind `Other`, instead of waiting, when the listener's runtime has shut
    /// down or another runtime runs on this thread.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let mut backoff = AcceptBackoff::default();
        poll_fn(|cx| self.poll_accept(cx, &mut backoff)).await
    }

    /// A stream of incoming connections: `accept` in a loop. It never ends.
    ///
    /// ```
    /// use ferrio::net::{TcpListener, TcpStream};
    /// use futures_util::StreamExt;
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let _a = TcpStream::connect(addr).await.unwrap();
    ///     let _b = TcpStream::connect(addr).await.unwrap();
    ///     let accepted: Vec<_> = listener.incoming().take(2).collect().await;
    ///     assert!(accepted.iter().all(|c| c.is_ok()));
    /// });
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming {
            listener: self,
            backoff: AcceptBackoff::default(),
        }
    }

    fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        backoff: &mut AcceptBackoff,
    ) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let handle = self.io.registration().handle();
        loop {
            if let Some(pause) = &mut backoff.pause {
                ready!(Pin::new(pause).poll(cx));
                backoff.pause = None;
            }
            let accepted = ready!(poll_budgeted(cx, |cx| self.io.poll_io(
                cx,
                Direction::Read,
                |l| l.accept()
            )));
            match accepted {
                Ok((io, peer)) => match PollIo::new(handle, io) {
                    Ok(io) => {
                        backoff.delay = Duration::ZERO;
                        log::debug!("accepted a connection from {peer}");
                        let stream = TcpStream::from_poll_io(io);
                        stream.label();
                        return Poll::Ready(Ok((stream, peer)));
                    }
                    // The listener's runtime is gone: so is every wait on it.
                    Err(e) if handle.is_shut_down() => return Poll::Ready(Err(e)),
                    Err(e) => {
                        // The connection closes here; the listener lives on.
                        log::warn!("could not register the connection from {peer}: {e}");
                        backoff.start(handle);
                    }
                },
                Err(e) if is_resource_exhaustion(&e) => {
                    backoff.start(handle);
                    log::warn!(
                        "accept on {:?} failed: {e}; out of descriptors or memory, retrying in {:?}",
                        self.local_addr(),
                        backoff.delay
                    );
                }
                Err(e) if is_connection_error(&e) => {
                    log::debug!("skipping a connection that failed before accept: {e}")
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// The pause of the accept loop while the process is out of resources.
#[derive(Default)]
struct AcceptBackoff {
    /// The last pause; zero once an accept succeeded.
    delay: Duration,
    /// The pause in progress, if any.
    pause: Option<Sleep>,
}

impl AcceptBackoff {
    /// Starts the next, longer pause.
    fn start(&mut self, handle: &ferrio_reactor::Handle) {
        self.delay = (self.delay * 2).clamp(MIN_ACCEPT_BACKOFF, MAX_ACCEPT_BACKOFF);
        self.pause = Some(Sleep::new(handle.clone(), handle.now() + self.delay));
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local", &self.local_addr().ok())
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpListener {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

/// The connections of a [`TcpListener`], as a `Stream` (see
/// [`TcpListener::incoming`]).
pub struct Incoming<'a> {
    listener: &'a TcpListener,
    backoff: AcceptBackoff,
}

impl futures_util::Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let accepted = ready!(this.listener.poll_accept(cx, &mut this.backoff));
        Poll::Ready(Some(accepted.map(|(stream, _)| stream)))
    }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish()
    }
}
