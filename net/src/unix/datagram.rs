//! [`UnixDatagram`]: Unix datagram sockets, bound to a path, unbound, or in
//! a connected pair.
//!
//! Each datagram is sent or received whole by one syscall, and a receive
//! future dropped before it completed took no datagram.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

use ferrio_executor::coop::poll_budgeted;
use ferrio_reactor::{Direction, PollIo};

use super::{with_path, SocketAddr};
use crate::ready::LastReady;

/// A Unix datagram socket.
///
/// ```
/// use ferrio::net::UnixDatagram;
/// ferrio::run(async {
///     let dir = std::env::temp_dir();
///     let path = dir.join(format!("ferrio-doc-dgram-{}.sock", std::process::id()));
///     let _ = std::fs::remove_file(&path);
///     let server = UnixDatagram::bind(&path)?;
///     let client = UnixDatagram::unbound()?;
///     client.send_to(b"ping", &path).await?;
///     let mut buf = [0; 16];
///     let (n, _from) = server.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     std::fs::remove_file(&path)
/// })
/// .unwrap();
/// ```
pub struct UnixDatagram {
    io: PollIo<mio::net::UnixDatagram>,
    /// The readiness [`readable`](UnixDatagram::readable) and
    /// [`writable`](UnixDatagram::writable) last returned, which
    /// [`try_recv`](UnixDatagram::try_recv) and `try_send` clear on `WouldBlock`.
    last_ready: LastReady,
}

impl UnixDatagram {
    /// A socket bound to `path` (the file is created).
    ///
    /// # Errors
    ///
    /// `AddrInUse` when a file is already there, `NotFound` when the
    /// directory does not exist; with the path in the message.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = mio::net::UnixDatagram::bind(path).map_err(|e| with_path(e, "bind", path))?;
        UnixDatagram::from_mio(socket)
    }

    /// A socket bound to no path: it can send, and receive answers only from
    /// peers it is [`connect`](UnixDatagram::connect)ed or paired to.
    ///
    /// # Errors
    ///
    /// The OS's errors (out of descriptors).
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected sockets.
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
    /// ferrio::run(async {
    ///     let (a, b) = ferrio::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"one").await.unwrap();
    ///     a.send(b"two").await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let n = b.recv(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"one", "datagrams keep their boundaries");
    /// });
    /// ```
    #[track_caller]
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    /// Takes over a std socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The OS's errors of making it non-blocking or registering it.
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime.
    #[track_caller]
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    #[track_caller]
    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            io: PollIo::new_current(socket)?,
            last_ready: LastReady::default(),
        })
    }

    /// Waits until the socket may be readable: a datagram (or an error) is
    /// there. A following [`try_recv`](UnixDatagram::try_recv) can still say
    /// `WouldBlock` (readiness is a hint; another task may have taken the
    /// datagram); that clears the readiness, so the next `readable` waits. A
    /// `readable` that was waiting when a datagram arrived completes, even if
    /// another task sharing the socket received it first.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// ferrio::run(async {
    ///     let (a, b) = ferrio::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"ping").await.unwrap();
    ///     let mut buf = [0; 16];
    ///     let n = loop {
    ///         b.readable().await.unwrap();
    ///         match b.try_recv(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             other => break other.unwrap(),
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"ping");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// Only kind `Other`, instead of waiting, when no wake could ever come: the
    /// runtime the socket was made in has shut down, or another runtime runs
    /// on this thread.
    pub async fn readable(&self) -> io::Result<()> {
        self.last_ready.wait(&self.io, Direction::Read).await
    }

    /// Waits until the socket may be writable (see [`readable`](UnixDatagram::readable)).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let (a, _b) = ferrio::net::UnixDatagram::pair().unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.try_send(b"hi").unwrap(), 2);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// As [`readable`](UnixDatagram::readable).
    pub async fn writable(&self) -> io::Result<()> {
        self.last_ready.wait(&self.io, Direction::Write).await
    }

    /// Receives one datagram if one is there now, without waiting:
    /// `ErrorKind::WouldBlock` if none is (which clears the readiness
    /// [`readable`](UnixDatagram::readable) returned). A datagram longer than
    /// `buf` is cut to fit.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is there; the OS's errors of `recv`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Read, |s| s.recv(buf))
    }

    /// Sends one datagram to the connected peer if it fits now, without
    /// waiting: `ErrorKind::WouldBlock` if it does not (which clears the
    /// readiness [`writable`](UnixDatagram::writable) returned).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the peer's queue is full; `NotConnected` without a
    /// peer; the OS's other errors of `send`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Write, |s| s.send(buf))
    }

    /// Sets the default peer: [`send`](UnixDatagram::send) goes there, and
    /// only its datagrams are received.
    ///
    /// # Errors
    ///
    /// `NotFound` or `ConnectionRefused` when no socket is bound at `path`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.io
            .get_ref()
            .connect(path)
            .map_err(|e| with_path(e, "connect to", path))
    }

    /// Sends one datagram to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// `NotConnected` without a peer; the OS's errors (a datagram larger
    /// than the socket's buffer, a peer that is gone).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            poll_budgeted(cx, |cx| {
                self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
            })
        })
        .await
    }

    /// Receives one datagram (only the peer's, if the socket is connected;
    /// `recv_from` tells who sent it); the part that does not fit in `buf` is
    /// dropped.
    ///
    /// # Errors
    ///
    /// The OS's errors.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            poll_budgeted(cx, |cx| {
                self.io.poll_io(cx, Direction::Read, |s| s.recv(&mut *buf))
            })
        })
        .await
    }

    /// Sends one datagram to the socket bound at `path`.
    ///
    /// # Errors
    ///
    /// `NotFound` or `ConnectionRefused` when nothing is bound there, with
    /// the path in the message; the OS's other errors.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, |s| s.send_to(buf, path))
        })
        .await
        .map_err(|e| with_path(e, "send to", path))
    }

    /// Receives one datagram and the address it came from (unnamed for an
    /// unbound sender).
    ///
    /// # Errors
    ///
    /// The OS's errors.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            poll_budgeted(cx, |cx| {
                self.io
                    .poll_io(cx, Direction::Read, |s| s.recv_from(&mut *buf))
            })
        })
        .await
    }

    /// The address it is bound to (unnamed if unbound).
    ///
    /// # Errors
    ///
    /// The OS's errors; in practice none.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` without a peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The pending error of the socket (`SO_ERROR`), cleared by this call.
    ///
    /// # Errors
    ///
    /// The OS's errors of reading it.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}
