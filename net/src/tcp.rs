//! TCP on the reactor (asyncio's `open_connection` and `start_server`):
//! [`TcpStream`], its read and write halves, and [`TcpListener`].
//!
//! Every operation goes through [`PollIo::poll_io`] (reads and writes of a
//! buffer through [`PollIo::poll_stream_io`]): it runs the syscall when the
//! socket may be ready and, on `WouldBlock` (or, for a read or write, a
//! transfer shorter than the buffer, which on a stream socket means the same),
//! clears that readiness and waits for the next event. A read future dropped
//! before it completed took nothing from the socket, so the next read gets
//! every byte.
//!
//! Not here: name resolution ([`crate::dns`]) or socket creation details
//! ([`crate::socket`]).

use std::fmt;
use std::future::{poll_fn, Future};
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use ferrio_reactor::{Direction, PollIo, ReadyEvent, Sleep};
use futures_io::{AsyncRead, AsyncWrite};
use socket2::{SockRef, TcpKeepalive, Type};

use crate::addr::{first_that_works, try_each};
use crate::socket::{connect_in_progress, is_connection_error, is_resource_exhaustion, new_socket};
use crate::ToSocketAddrs;

/// How many connections the kernel queues for a listener before `accept`
/// takes them, unless [`TcpListener::bind_with_backlog`] says otherwise.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// First pause of the accept loop after the process ran out of descriptors
/// (or buffers, or memory); doubled at each failure up to [`MAX_ACCEPT_BACKOFF`].
const MIN_ACCEPT_BACKOFF: Duration = Duration::from_millis(5);
/// Longest pause of the accept loop: how late, at worst, a freed descriptor is used.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// A TCP connection (asyncio's `StreamReader` and `StreamWriter` in one).
///
/// It implements [`futures_io::AsyncRead`] and [`futures_io::AsyncWrite`] (so
/// does `&TcpStream`), so the helpers of [`crate::io`] (`read_exact`,
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
    /// The read readiness that [`readable`](TcpStream::readable) last returned:
    /// [`try_read`](TcpStream::try_read) clears it when the socket says
    /// `WouldBlock`, so a `readable`/`try_read` loop waits instead of spinning.
    read_event: Mutex<Option<ReadyEvent>>,
    /// The same for [`writable`](TcpStream::writable) and `try_write`.
    write_event: Mutex<Option<ReadyEvent>>,
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

    /// Ready once a connect in progress has finished: writable, no pending
    /// error, and a peer address (mio's recipe; a writable event alone may be
    /// spurious).
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let registration = self.io.registration();
        loop {
            let event = ready!(registration.poll_ready(cx, Direction::Write));
            let io = self.io.get_ref();
            if let Some(e) = io.take_error()? {
                return Poll::Ready(Err(e));
            }
            match io.peer_addr() {
                Ok(_) => return Poll::Ready(Ok(())),
                Err(e) if e.kind() == io::ErrorKind::NotConnected || connect_in_progress(&e) => {
                    registration.clear_readiness(event)
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    fn from_mio(io: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream::from_poll_io(PollIo::new_current(io)?))
    }

    /// Names the socket by its addresses in task dumps, when the runtime
    /// observes tasks (two syscalls; skipped otherwise).
    fn label(&self) {
        if ferrio_executor::observe::is_timing() {
            let io = self.io.get_ref();
            if let (Ok(local), Ok(peer)) = (io.local_addr(), io.peer_addr()) {
                self.io
                    .registration()
                    .set_label(format!("tcp {local} -> {peer}"));
            }
        }
    }

    fn from_poll_io(io: PollIo<mio::net::TcpStream>) -> TcpStream {
        TcpStream {
            io,
            read_event: Mutex::new(None),
            write_event: Mutex::new(None),
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
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.peek(buf))).await
    }

    /// Waits until the socket may be readable. A following
    /// [`try_read`](TcpStream::try_read) can still say `WouldBlock` (readiness
    /// is a hint); that clears the readiness, so the next `readable` waits.
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
    pub async fn readable(&self) -> io::Result<()> {
        let event = self.io.registration().ready(Direction::Read).await;
        *lock(&self.read_event) = Some(event);
        Ok(())
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
    pub async fn writable(&self) -> io::Result<()> {
        let event = self.io.registration().ready(Direction::Write).await;
        *lock(&self.write_event) = Some(event);
        Ok(())
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
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_io(Direction::Read, || self.io.get_ref().read(buf))
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
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io(Direction::Write, || self.io.get_ref().write(buf))
    }

    fn try_io<R>(&self, direction: Direction, op: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        let result = op();
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            let slot = match direction {
                Direction::Read => &self.read_event,
                Direction::Write => &self.write_event,
            };
            if let Some(event) = lock(slot).take() {
                self.io.registration().clear_readiness(event);
            }
        }
        result
    }

    /// Splits the stream into a read half and a write half that borrow it;
    /// both can be used at once (for example in [`crate::io::copy`]'s two
    /// ends, or in `join!`), but not moved into spawned tasks: for that, see
    /// [`into_split`](TcpStream::into_split).
    ///
    /// ```
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (server, _) = listener.accept().await.unwrap();
    ///     let (mut rd, mut wr) = server.split();
    ///     client.write_all(b"echo me").await.unwrap();
    ///     client.shutdown(std::net::Shutdown::Write).unwrap();
    ///     ferrio::io::copy(&mut rd, &mut wr).await.unwrap();
    ///     let mut got = [0; 7];
    ///     client.read_exact(&mut got).await.unwrap();
    ///     assert_eq!(&got, b"echo me");
    /// });
    /// ```
    pub fn split(&self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf(self), WriteHalf(self))
    }

    /// Splits the stream into owned halves, to read in one task and write in
    /// another. Dropping the write half shuts the write side down (the peer
    /// reads end-of-stream); [`reunite`](OwnedReadHalf::reunite) puts the
    /// halves back together.
    ///
    /// ```
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///
    ///     let (mut rd, mut wr) = client.into_split();
    ///     let writer = ferrio::spawn(async move { wr.write_all(b"from a task").await });
    ///     let mut got = [0; 11];
    ///     server.read_exact(&mut got).await.unwrap();
    ///     server.write_all(b"back").await.unwrap();
    ///     let mut back = [0; 4];
    ///     rd.read_exact(&mut back).await.unwrap();
    ///     writer.await.unwrap().unwrap();
    ///     assert_eq!((&got[..], &back[..]), (&b"from a task"[..], &b"back"[..]));
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Arc::new(self);
        (
            OwnedReadHalf {
                stream: stream.clone(),
            },
            OwnedWriteHalf {
                stream,
                shutdown_on_drop: true,
            },
        )
    }

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // A short read drains the socket: no extra read just to see WouldBlock.
        let len = buf.len();
        let n = ready!(self
            .io
            .poll_stream_io(cx, Direction::Read, len, |mut s| s.read(buf)));
        log::trace!("read {n:?}");
        Poll::Ready(n)
    }

    fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        self.io
            .poll_io(cx, Direction::Read, |mut s| s.read_vectored(bufs))
    }

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        // A short write fills the send buffer: wait for the next writable event.
        let n = ready!(self
            .io
            .poll_stream_io(cx, Direction::Write, buf.len(), |mut s| s.write(buf)));
        log::trace!("wrote {n:?}");
        Poll::Ready(n)
    }

    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        self.io
            .poll_io(cx, Direction::Write, |mut s| s.write_vectored(bufs))
    }

    /// `poll_close`: half-close. A peer that is already gone is no error here.
    fn shutdown_write(&self) -> io::Result<()> {
        match self.io.get_ref().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
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

/// Implements `AsyncRead` + `AsyncWrite` for a type that derefs (through
/// `$get`) to a `TcpStream`.
macro_rules! impl_async_io {
    ($ty:ty, |$this:ident| $get:expr) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $get.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $get.poll_read_vectored_priv(cx, bufs)
            }
        }

        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $get.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                let $this = &*self;
                $get.poll_write_vectored_priv(cx, bufs)
            }

            /// Writes go straight to the socket: there is nothing to flush.
            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Shuts the write side down (the peer reads end-of-stream).
            fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                let $this = &*self;
                Poll::Ready($get.shutdown_write())
            }
        }
    };
}

impl_async_io!(TcpStream, |this| this);
impl_async_io!(&TcpStream, |this| *this);
impl_async_io!(ReadHalf<'_>, |this| this.0);
impl_async_io!(WriteHalf<'_>, |this| this.0);
impl_async_io!(OwnedReadHalf, |this| this.stream);
impl_async_io!(OwnedWriteHalf, |this| this.stream);

/// The read half of a borrowed [`TcpStream::split`]. It implements
/// `AsyncWrite` too (it is the same socket), but use it to read.
#[derive(Debug)]
pub struct ReadHalf<'a>(&'a TcpStream);

/// The write half of a borrowed [`TcpStream::split`]. It implements
/// `AsyncRead` too (it is the same socket), but use it to write.
#[derive(Debug)]
pub struct WriteHalf<'a>(&'a TcpStream);

impl AsRef<TcpStream> for ReadHalf<'_> {
    /// The stream this half belongs to.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rd, _wr) = stream.split();
    ///     assert_eq!(rd.as_ref().peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

impl AsRef<TcpStream> for WriteHalf<'_> {
    /// The stream this half belongs to.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_rd, wr) = stream.split();
    ///     assert_eq!(wr.as_ref().peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    fn as_ref(&self) -> &TcpStream {
        self.0
    }
}

/// The read half of [`TcpStream::into_split`], to move into its own task.
#[derive(Debug)]
pub struct OwnedReadHalf {
    stream: Arc<TcpStream>,
}

/// The write half of [`TcpStream::into_split`], to move into its own task.
/// Dropping it shuts the write side down, so the peer reads end-of-stream.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Arc<TcpStream>,
    /// Cleared by [`OwnedReadHalf::reunite`], which keeps the stream whole.
    shutdown_on_drop: bool,
}

/// The error of [`OwnedReadHalf::reunite`]: the halves came from two
/// different streams. Both are handed back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of two different TCP streams")
    }
}

impl std::error::Error for ReuniteError {}

impl OwnedReadHalf {
    /// Puts the two halves of one stream back together.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rd, wr) = stream.into_split();
    ///     let stream = rd.reunite(wr).unwrap();
    ///     assert!(stream.peer_addr().is_ok());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (with both halves) if they belong to different streams.
    pub fn reunite(self, mut write: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.stream, &write.stream) {
            return Err(ReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        drop(write);
        // The two halves held the only references, and the write half is gone.
        Arc::try_unwrap(self.stream)
            .map_err(|_| unreachable!("a split stream has exactly two owners"))
    }
}

impl AsRef<TcpStream> for OwnedReadHalf {
    /// The stream this half belongs to.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (rd, _wr) = stream.into_split();
    ///     assert!(rd.as_ref().local_addr().is_ok());
    /// });
    /// ```
    fn as_ref(&self) -> &TcpStream {
        &self.stream
    }
}

impl AsRef<TcpStream> for OwnedWriteHalf {
    /// The stream this half belongs to.
    ///
    /// ```
    /// # use ferrio::net::{TcpListener, TcpStream};
    /// ferrio::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_rd, wr) = stream.into_split();
    ///     wr.as_ref().set_nodelay(true).unwrap();
    /// });
    /// ```
    fn as_ref(&self) -> &TcpStream {
        &self.stream
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            if let Err(e) = self.stream.shutdown_write() {
                log::debug!("shutdown of a dropped write half failed: {e}");
            }
        }
    }
}

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
        let listener = mio::net::TcpListener::from_std(socket.into());
        let io = PollIo::new_current(listener)?;
        log::debug!(
            "listening on {:?} (backlog {backlog})",
            io.get_ref().local_addr()
        );
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
            let accepted = ready!(self.io.poll_io(cx, Direction::Read, |l| l.accept()));
            match accepted {
                Ok((io, peer)) => match PollIo::new(handle, io) {
                    Ok(io) => {
                        backoff.delay = Duration::ZERO;
                        log::debug!("accepted a connection from {peer}");
                        let stream = TcpStream::from_poll_io(io);
                        stream.label();
                        return Poll::Ready(Ok((stream, peer)));
                    }
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
        self.pause = Some(Sleep::new(handle.clone(), Instant::now() + self.delay));
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
