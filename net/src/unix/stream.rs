//! [`UnixStream`]: a connected Unix stream socket, and its read and write
//! halves.
//!
//! Not here: the listener (`listener.rs`) or datagrams (`datagram.rs`).

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::sync::Arc;
use std::task::{Context, Poll};

use ferrio_executor::coop::poll_budgeted;
use ferrio_reactor::{Direction, PollIo};

use super::{with_path, SocketAddr};
use crate::ready::LastReady;
use crate::socket::poll_connected;
use crate::stream_io::{impl_async_read, impl_async_write};

/// A Unix stream connection (asyncio's `open_unix_connection` reader and
/// writer in one).
///
/// It implements [`AsyncRead`](futures_io::AsyncRead) and [`AsyncWrite`](futures_io::AsyncWrite) (so does `&UnixStream`);
/// the helpers of `ferrio::io` work on it. To read and write from two tasks
/// at once, [`into_split`](UnixStream::into_split) it.
///
/// ```
/// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
/// use ferrio::net::{UnixListener, UnixStream};
///
/// ferrio::run(async {
///     let path = std::env::temp_dir().join(format!("ferrio-doc-stream-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hello").await?;
///     let mut buf = [0; 5];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     std::fs::remove_file(&path)
/// })
/// .unwrap();
/// ```
pub struct UnixStream {
    io: PollIo<mio::net::UnixStream>,
    /// The readiness [`readable`](UnixStream::readable) and
    /// [`writable`](UnixStream::writable) last returned, which
    /// [`try_read`](UnixStream::try_read) and `try_write` clear on `WouldBlock`.
    last_ready: LastReady,
}

impl UnixStream {
    /// Connects to the socket at `path` (asyncio's `open_unix_connection`).
    ///
    /// # Errors
    ///
    /// `NotFound` when no socket file is there, `ConnectionRefused` when
    /// nothing listens on it, with the path in the message.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let err = ferrio::net::UnixStream::connect("/nonexistent/ferrio.sock").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let stream =
            mio::net::UnixStream::connect(path).map_err(|e| with_path(e, "connect to", path))?;
        let stream = UnixStream::from_mio(stream)?;
        poll_fn(|cx| stream.poll_connected(cx))
            .await
            .map_err(|e| with_path(e, "connect to", path))?;
        log::debug!("connected to {}", path.display());
        Ok(stream)
    }

    /// Ready once a connect in progress has finished (Linux finishes a Unix
    /// connect at once; other systems may not): `socket::poll_connected`.
    fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        poll_connected(&self.io, cx, |e| e.kind() == io::ErrorKind::NotConnected)
    }

    /// A pair of connected sockets (`socketpair(2)`), for talking between
    /// tasks or to a child process.
    ///
    /// # Errors
    ///
    /// The OS's errors (out of descriptors).
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    ///
    /// ```
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// ferrio::run(async {
    ///     let (mut a, mut b) = ferrio::net::UnixStream::pair().unwrap();
    ///     a.write_all(b"ping").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     b.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"ping");
    /// });
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    /// Takes over a connected std socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The OS's errors of making it non-blocking or registering it.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    ///     let a = ferrio::net::UnixStream::from_std(a).unwrap();
    ///     assert!(a.peer_addr().unwrap().is_unnamed());
    /// });
    /// ```
    #[track_caller]
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    #[track_caller]
    pub(super) fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollIo::new_current(stream)?,
            last_ready: LastReady::default(),
        })
    }

    /// Waits until the socket may be readable. A following
    /// [`try_read`](UnixStream::try_read) can still say `WouldBlock`
    /// (readiness is a hint; another task may have read the bytes); that
    /// clears the readiness, so the next `readable` waits. A `readable` that
    /// was waiting when bytes arrived completes, even if another task sharing
    /// the stream read them first.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use ferrio::io::AsyncWriteExt;
    /// ferrio::run(async {
    ///     let (mut a, b) = ferrio::net::UnixStream::pair().unwrap();
    ///     a.write_all(b"ping").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     let n = loop {
    ///         b.readable().await.unwrap();
    ///         match b.try_read(&mut buf) {
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
    /// on this thread.
    pub async fn readable(&self) -> io::Result<()> {
        self.last_ready.wait(&self.io, Direction::Read).await
    }

    /// Waits until the socket may be writable (see [`readable`](UnixStream::readable)).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let (a, _b) = ferrio::net::UnixStream::pair().unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.try_write(b"hi").unwrap(), 2);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// As [`readable`](UnixStream::readable).
    pub async fn writable(&self) -> io::Result<()> {
        self.last_ready.wait(&self.io, Direction::Write).await
    }

    /// Reads what is there now, without waiting: `ErrorKind::WouldBlock` if
    /// nothing is (which clears the readiness
    /// [`readable`](UnixStream::readable) returned), `Ok(0)` at end-of-stream.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when nothing is there to read; the OS's errors of the read.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Read, |mut s| s.read(buf))
    }

    /// Writes what fits now, without waiting: `ErrorKind::WouldBlock` if
    /// nothing does (which clears the readiness
    /// [`writable`](UnixStream::writable) returned).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the send buffer is full; `BrokenPipe` once the peer
    /// closed; the OS's other errors of the write.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Write, |mut s| s.write(buf))
    }

    /// The address of this end (unnamed for a client or a pair).
    ///
    /// # Errors
    ///
    /// The OS's errors; in practice none.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the other end (the listener's path for a client).
    ///
    /// # Errors
    ///
    /// The OS's errors; in practice none.
    ///
    /// ```
    /// # use ferrio::net::{UnixListener, UnixStream};
    /// ferrio::run(async {
    ///     let path = std::env::temp_dir().join(format!("ferrio-doc-peer-{}.sock", std::process::id()));
    ///     let _ = std::fs::remove_file(&path);
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let client = UnixStream::connect(&path).await.unwrap();
    ///     assert_eq!(client.peer_addr().unwrap().as_pathname(), Some(path.as_path()));
    ///     std::fs::remove_file(&path).unwrap();
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The process id, user id and group id of the peer process, as of
    /// when it connected (`SO_PEERCRED`). Linux and Android only.
    ///
    /// # Errors
    ///
    /// The OS's errors; in practice none.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let (a, _b) = ferrio::net::UnixStream::pair().unwrap();
    ///     let cred = a.peer_cred().unwrap();
    ///     assert_eq!(cred.pid, Some(std::process::id()));
    /// });
    /// ```
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn peer_cred(&self) -> io::Result<UCred> {
        let cred = rustix::net::sockopt::socket_peercred(self.io.get_ref())?;
        Ok(UCred {
            pid: u32::try_from(cred.pid.as_raw_nonzero().get()).ok(),
            uid: cred.uid.as_raw(),
            gid: cred.gid.as_raw(),
        })
    }

    /// The pending error of the socket (`SO_ERROR`), cleared by this call.
    ///
    /// # Errors
    ///
    /// The OS's errors of reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read side, the write side, or both. `Shutdown::Write`
    /// half-closes: the peer reads end-of-stream and can still answer.
    ///
    /// # Errors
    ///
    /// `NotConnected` when the peer is gone.
    ///
    /// ```
    /// use std::net::Shutdown;
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// ferrio::run(async {
    ///     let (mut a, mut b) = ferrio::net::UnixStream::pair().unwrap();
    ///     a.write_all(b"bye").await.unwrap();
    ///     a.shutdown(Shutdown::Write).unwrap();
    ///     let mut got = Vec::new();
    ///     b.read_to_end(&mut got).await.unwrap();
    ///     assert_eq!(got, b"bye");
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Splits the stream into halves that borrow it: the read half only
    /// reads, the write half only writes. Both can be used at once (in
    /// `join!`, or `ferrio::io::copy`'s two ends).
    ///
    /// # Which `split` you get
    ///
    /// With `AsyncReadExt` in scope, `stream.split()` is the trait's
    /// by-value `split`, not this method (Rust prefers it), and it compiles
    /// without a word: call this one as `UnixStream::split(&stream)`, or use
    /// [`into_split`](UnixStream::into_split) for owned halves.
    ///
    /// ```
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// ferrio::run(async {
    ///     use ferrio::net::UnixStream;
    ///     let (mut client, server) = UnixStream::pair().unwrap();
    ///     // (`AsyncReadExt::split` would take the stream by value: name this one.)
    ///     let (mut rd, mut wr) = UnixStream::split(&server);
    ///     client.write_all(b"echo me").await.unwrap();
    ///     client.shutdown(std::net::Shutdown::Write).unwrap();
    ///     ferrio::io::copy(&mut rd, &mut wr).await.unwrap();
    ///     let mut got = [0; 7];
    ///     client.read_exact(&mut got).await.unwrap();
    ///     assert_eq!(&got, b"echo me");
    /// });
    /// ```
    pub fn split(&self) -> (UnixReadHalf<'_>, UnixWriteHalf<'_>) {
        (UnixReadHalf(self), UnixWriteHalf(self))
    }

    /// Splits the stream into owned halves, to read in one task and write in
    /// another. Dropping the write half shuts the write side down (the peer
    /// reads end-of-stream).
    ///
    /// ```
    /// use ferrio::io::{AsyncReadExt, AsyncWriteExt};
    /// ferrio::run(async {
    ///     let (client, mut server) = ferrio::net::UnixStream::pair().unwrap();
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
    pub fn into_split(self) -> (UnixOwnedReadHalf, UnixOwnedWriteHalf) {
        let stream = Arc::new(self);
        (
            UnixOwnedReadHalf {
                stream: stream.clone(),
            },
            UnixOwnedWriteHalf { stream },
        )
    }

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let len = buf.len();
        poll_budgeted(cx, |cx| {
            self.io
                .poll_stream_io(cx, Direction::Read, len, |mut s| s.read(&mut *buf))
        })
    }

    fn poll_read_vectored_priv(
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

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        poll_budgeted(cx, |cx| {
            self.io
                .poll_stream_io(cx, Direction::Write, buf.len(), |mut s| s.write(buf))
        })
    }

    fn poll_write_vectored_priv(
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
    fn shutdown_write(&self) -> io::Result<()> {
        match self.io.get_ref().shutdown(Shutdown::Write) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        }
    }
}

/// Credentials of the process at the other end of a [`UnixStream`]
/// ([`UnixStream::peer_cred`]).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UCred {
    /// The peer's process id, if the OS knows it.
    pub pid: Option<u32>,
    /// The peer's effective user id.
    pub uid: u32,
    /// The peer's effective group id.
    pub gid: u32,
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl_async_read!(UnixStream, |this| this);
impl_async_write!(UnixStream, |this| this);
impl_async_read!(&UnixStream, |this| *this);
impl_async_write!(&UnixStream, |this| *this);
impl_async_read!(UnixReadHalf<'_>, |this| this.0);
impl_async_write!(UnixWriteHalf<'_>, |this| this.0);
impl_async_read!(UnixOwnedReadHalf, |this| this.stream);
impl_async_write!(UnixOwnedWriteHalf, |this| this.stream);

/// The read half of a borrowed [`UnixStream::split`]: it only reads.
#[derive(Debug)]
pub struct UnixReadHalf<'a>(&'a UnixStream);

/// The write half of a borrowed [`UnixStream::split`]: it only writes.
#[derive(Debug)]
pub struct UnixWriteHalf<'a>(&'a UnixStream);

/// The read half of [`UnixStream::into_split`]: it only reads.
#[derive(Debug)]
pub struct UnixOwnedReadHalf {
    stream: Arc<UnixStream>,
}

/// The write half of [`UnixStream::into_split`]: it only writes. Dropping it
/// shuts the write side down.
#[derive(Debug)]
pub struct UnixOwnedWriteHalf {
    stream: Arc<UnixStream>,
}

impl Drop for UnixOwnedWriteHalf {
    fn drop(&mut self) {
        if let Err(e) = self.stream.shutdown_write() {
            log::debug!("shutdown of a dropped write half failed: {e}");
        }
    }
}
