//! A TCP connection: [`TcpStream`], connecting, options, reads and writes.
//!
//! Not here: the split halves and `split`/`into_split` (`split.rs`), the
//! listener (`listener.rs`).

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use ferrio_executor::coop::poll_budgeted;
use ferrio_reactor::{Direction, PollIo};
use socket2::{SockRef, TcpKeepalive, Type};

use crate::attempt::{first_that_works, try_each};
use crate::ready::LastReady;
use crate::socket::{connect_in_progress, new_socket, poll_connected};
use crate::stream_io::{impl_async_read, impl_async_write};
use crate::ToSocketAddrs;

/// A TCP connection (asyncio's `StreamReader` and `StreamWriter` in one).
///
/// It implements [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`] (so
/// does `&TcpStream`), so the helpers of `ferrio::io` (`read_exact`,
/// `write_all`, `copy`, `BufReader`, `lines`, ...) work on it. To read and
/// write from two tasks at once, [`into_split`](TcpStream::into_split) it.
///
/// Dropping the stream deregisters it from the reactor and closes it.
///
/// ```
/// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
/// use ferrio::net::{TcpListener, TcpStream};
///
/// ferrio::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = ferrio::spawn(async move {
///         let (mut conn, _peer) = listener.accept().await?;
///         let mut buf = [0; 5];
///         conn.read_exact(&mut buf).await?;
///         conn.write_all(&buf).await?;
///         std::io::Result::Ok(())
///     });
///
///     let mut stream = TcpStream::connect(addr).await?;
///     stream.write_all(b"hello").await?;
///     let mut echo = [0; 5];
///     stream.read_exact(&mut echo).await?;
///     assert_eq!(&echo, b"hello");
///     server.await.unwrap()
/// })
/// .unwrap();
/// ```
pub struct TcpStream {
    io: PollIo<mio::net::TcpStream>,
    /// The readiness [`readable`](TcpStream::readable) and
    /// [`writable`](TcpStream::writable) last returned, which
    /// [`try_read`](TcpStream::try_read) and `try_write` clear on `WouldBlock`.
    last_ready: LastReady,
}

impl TcpStream {
    /// Opens a connection to `addr` (asyncio's `open_connection`).
    ///
    /// A host name is resolved first (see [`crate::lookup_host`]); each address
    /// is then tried in order until one connects. If none does, the error of
    /// the last attempt is returned.
    ///
    /// ```
    /// use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let port = listener.local_addr().unwrap().port();
    ///     let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap().port(), port);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens, the resolver's errors for a
    /// host name (see [`Resolver::lookup`](crate::Resolver::lookup)), or any other OS error.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        first_that_works(addr, "connect", TcpStream::connect_addr).await
    }

    /// Opens a connection to the first of `addrs` that accepts one, trying
    /// them in order (what [`connect`](TcpStream::connect) does after
    /// resolving a name), for callers that resolved the addresses themselves.
    ///
    /// ```
    /// use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    ///     let open = listener.local_addr().unwrap();
    ///     // (the second listener is dropped: nothing listens on `closed` any more)
    ///     let stream = TcpStream::connect_any([closed, open]).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), open);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// When none accepts, the last address's error, with the address in its
    /// message and the OS error's kind; `InvalidInput` when `addrs` is empty.
    pub async fn connect_any(addrs: impl IntoIterator<Item = SocketAddr>) -> io::Result<TcpStream> {
        try_each(addrs, "connect", TcpStream::connect_addr)
            .await
            .map_err(|failed| failed.into_io_error("connect"))
    }

    /// Opens a connection to `addr`, giving up after `timeout` with
    /// `ErrorKind::TimedOut`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect_timeout(addr, Duration::from_secs(5)).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `TimedOut` when no connection is made within `timeout`;
    /// `ConnectionRefused` when nothing listens at `addr`; any other OS error of
    /// the connect.
    pub async fn connect_timeout(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        match ferrio_reactor::time::timeout(timeout, TcpStream::connect_addr(addr)).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("connect to {addr} timed out after {timeout:?}"),
            )),
        }
    }

    /// One non-blocking connect: start it, then wait until the socket is
    /// writable and says it is connected (or why not).
    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = new_socket(&addr, Type::STREAM)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if connect_in_progress(&e) => {}
            Err(e) => return Err(e),
        }
        let stream = TcpStream::from_mio(mio::net::TcpStream::from_std(socket.into()))?;
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        log::debug!("connected {} -> {addr}", stream.local_addr()?);
        stream.label();
        Ok(stream)
    }

    /// Ready once a connect in progress has finished (`socket::poll_connected`).
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_connected(&self.io, cx, |e| {
            e.kind() == io::ErrorKind::NotConnected || connect_in_progress(e)
        })
    }

    fn from_mio(io: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::from_poll_io(PollIo::new_current(io)?))
    }

    /// Names the socket by its addresses in task dumps, when the runtime
    /// observes tasks (two syscalls; skipped otherwise).
    pub(super) fn label(&self) {
        if ferrio_executor::observe::is_timing() {
            let io = self.io.get_ref();
            if let (Ok(local), Ok(peer)) = (io.local_addr(), io.peer_addr()) {
                self.io
                    .registration()
                    .set_label(format!("tcp {local} -> {peer}"));
            }
        }
    }

    pub(super) fn from_poll_io(io: PollIo<mio::net::TcpStream>) -> TcpStream {
        TcpStream {
            io,
            last_ready: LastReady::default(),
        }
    }

    /// The address of the other end.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` once the connection is gone (reset, or closed in both
    /// directions); other OS errors of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The address of this end.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (accepted, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(stream.local_addr().unwrap(), peer);
    ///     assert_eq!(accepted.peer_addr().unwrap(), peer);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `getsockname`; in practice none.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of batching them
    /// (Nagle's algorithm).
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `setsockopt`; in practice none.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(!stream.nodelay().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `getsockopt`; in practice none.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Turns TCP keepalive probes on after `idle` without traffic (`Some`), or
    /// off (`None`).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_keepalive(Some(Duration::from_secs(60))).unwrap();
    ///     assert!(stream.keepalive().unwrap());
    ///     stream.set_keepalive(None).unwrap();
    ///     assert!(!stream.keepalive().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` when `idle` is under a second or over what the OS allows
    /// (32767 s on Linux); keepalive is on then, with the OS's default idle time.
    /// Other OS errors of `setsockopt`.
    pub fn set_keepalive(&self, idle: Option<Duration>) -> io::Result<()> {
        let socket = SockRef::from(self.io.get_ref());
        match idle {
            Some(idle) => socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle)),
            None => socket.set_keepalive(false),
        }
    }

    /// Whether TCP keepalive probes are on.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(!stream.keepalive().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `getsockopt`; in practice none.
    pub fn keepalive(&self) -> io::Result<bool> {
        SockRef::from(self.io.get_ref()).keepalive()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes dropping the stream reset
    /// the connection (RST) instead of closing it gracefully (FIN).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_linger(Some(Duration::ZERO)).unwrap();
    ///     assert_eq!(stream.linger().unwrap(), Some(Duration::ZERO));
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `setsockopt`; in practice none.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// The `SO_LINGER` setting.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(stream.linger().unwrap(), None);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `getsockopt`; in practice none.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets the IP time-to-live of outgoing packets.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_ttl(42).unwrap();
    ///     assert_eq!(stream.ttl().unwrap(), 42);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a `ttl` of 0 or over 255; other OS errors of
    /// `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.ttl().unwrap() > 0);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `getsockopt`; in practice none.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Shuts down the read side, the write side, or both. `Shutdown::Write`
    /// half-closes: the peer reads end-of-stream, and this side can still read
    /// what the peer sends back.
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"last words").await.unwrap();
    ///     client.shutdown(Shutdown::Write).unwrap();
    ///     let mut got = Vec::new();
    ///     server.read_to_end(&mut got).await.unwrap();
    ///     assert_eq!(got, b"last words");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` when the connection is already gone (reset, or closed in
    /// both directions); other OS errors of `shutdown`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        log::debug!("shutdown({how:?}) of {:?}", self.local_addr());
        self.io.get_ref().shutdown(how)
    }

    /// Reads into `buf` without taking the bytes off the socket: the next read
    /// gets them again. Waits until at least one byte (or end-of-stream) is there.
    ///
    /// ```
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"x").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     assert_eq!(server.peek(&mut buf).await.unwrap(), 1);
    ///     assert_eq!(server.read(&mut buf).await.unwrap(), 1);
    ///     assert_eq!(&buf, b"x");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of the read, such as `ConnectionReset`; kind `Other`,
    /// instead of waiting, when no wake could ever come: the runtime the
    /// stream was made in has shut down, or another runtime runs on this thread.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            poll_budgeted(cx, |cx| {
                self.io.poll_io(cx, Direction::Read, |s| s.peek(buf))
            })
        })
        .await
    }

    /// Waits until the socket may be readable. A following
    /// [`try_read`](TcpStream::try_read) can still say `WouldBlock` (readiness
    /// is a hint); that clears the readiness, so the next `readable` waits. A
    /// `readable` that was waiting when bytes arrived completes, even if
    /// another task sharing the stream read them first.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use ferrio::io::AsyncWriteExt;
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     client.write_all(b"ping").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     let n = loop {
    ///         server.readable().await.unwrap();
    ///         match server.try_read(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             other => break other.unwrap(),
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], &b"ping"[..n]);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// Only kind `Other`, instead of waiting, when no wake could ever come: the
    /// runtime the stream was made in has shut down, or another runtime runs
    /// on this thread. An error on the socket itself makes it readable: the
    /// next read reports it.
    pub async fn readable(&self) -> io::Result<()> {
        self.last_ready.wait(&self.io, Direction::Read).await
    }

    /// Waits until the socket may be writable (see [`readable`](TcpStream::readable)).
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     client.writable().await.unwrap();
    ///     assert_eq!(client.try_write(b"hi").unwrap(), 2);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// As [`readable`](TcpStream::readable): only kind `Other`, when the
    /// stream's runtime has shut down or another runtime runs on this thread.
    pub async fn writable(&self) -> io::Result<()> {
        self.last_ready.wait(&self.io, Direction::Write).await
    }

    /// Reads what is there now, without waiting: `ErrorKind::WouldBlock` if
    /// nothing is, `Ok(0)` at end-of-stream. See [`readable`](TcpStream::readable).
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     assert_eq!(client.try_read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing is there to read (which clears the readiness
    /// `readable` returned); any other OS error of the read, such as
    /// `ConnectionReset`.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Read, |mut s| s.read(buf))
    }

    /// Writes what fits now, without waiting: `ErrorKind::WouldBlock` if
    /// nothing does. See [`writable`](TcpStream::writable).
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     // A fresh connection has room in its send buffer.
    ///     assert_eq!(client.try_write(b"now").unwrap(), 3);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the send buffer is full (which clears the readiness
    /// `writable` returned); `BrokenPipe` after this side shut down writing,
    /// or after the peer closed or reset the connection; any other OS error of
    /// the write, such as `ConnectionReset`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Write, |mut s| s.write(buf))
    }

    pub(super) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // A short read drains the socket: no extra read just to see WouldBlock.
        let len = buf.len();
        let n = ready!(poll_budgeted(cx, |cx| self.io.poll_stream_io(
            cx,
            Direction::Read,
            len,
            |mut s| s.read(&mut *buf)
        )));
        log::trace!("read {n:?}");
        Poll::Ready(n)
    }

    pub(super) fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        poll_budgeted(cx, |cx| {
            self.io
                .poll_io(cx, Direction::Read, |mut s| s.read_vectored(&mut *bufs))
        })
    }

    pub(super) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // A short write fills the send buffer: wait for the next writable event.
        let n = ready!(poll_budgeted(cx, |cx| self.io.poll_stream_io(
            cx,
            Direction::Write,
            buf.len(),
            |mut s| s.write(buf)
        )));
        log::trace!("wrote {n:?}");
        Poll::Ready(n)
    }

    pub(super) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        poll_budgeted(cx, |cx| {
            self.io
                .poll_io(cx, Direction::Write, |mut s| s.write_vectored(bufs))
        })
    }

    /// `poll_close`: half-close. A peer that is already gone is no error here.
    pub(super) fn shutdown_write(&self) -> io::Result<()> {
        match self.io.get_ref().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for TcpStream {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl_async_read!(TcpStream, |this| this);
impl_async_write!(TcpStream, |this| this);
impl_async_read!(&TcpStream, |this| *this);
impl_async_write!(&TcpStream, |this| *this);
