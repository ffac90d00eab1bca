//! UDP on the reactor (asyncio's `create_datagram_endpoint`): [`UdpSocket`].
//!
//! Each datagram is sent or received whole by one syscall; like TCP, every
//! operation retries until `WouldBlock` before it waits for readiness, and a
//! receive future dropped before it completed took no datagram.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use ferrio_executor::coop::poll_budgeted;
use ferrio_reactor::{Direction, PollIo};
use socket2::Type;

use crate::attempt::first_that_works;
use crate::dns::Resolver;
use crate::ready::LastReady;
use crate::socket::{new_socket, not_connected_hint};
use crate::ToSocketAddrs;

/// A UDP socket.
///
/// ```
/// use ferrio::net::UdpSocket;
/// ferrio::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     std::io::Result::Ok(())
/// })
/// .unwrap();
/// ```
pub struct UdpSocket {
    io: PollIo<mio::net::UdpSocket>,
    /// The readiness [`readable`](UdpSocket::readable) and
    /// [`writable`](UdpSocket::writable) last returned, which the `try_*`
    /// methods clear on `WouldBlock`.
    last_ready: LastReady,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0 picks a free port). A host name is
    /// resolved first; the first address that binds wins.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let socket = ferrio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(socket.local_addr().unwrap().port(), 0);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The last bind error if no address binds, or the resolver's errors.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        first_that_works(addr, "bind", |addr| {
            std::future::ready(UdpSocket::bind_addr(addr))
        })
        .await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = new_socket(&addr, Type::DGRAM)?;
        socket.bind(&addr.into())?;
        let io = PollIo::new_current(mio::net::UdpSocket::from_std(socket.into()))?;
        log::debug!("UDP socket bound to {:?}", io.get_ref().local_addr());
        if ferrio_executor::observe::is_timing() {
            if let Ok(local) = io.get_ref().local_addr() {
                io.registration().set_label(format!("udp {local}"));
            }
        }
        Ok(UdpSocket {
            io,
            last_ready: LastReady::default(),
        })
    }

    /// Connects the socket to `addr`: [`send`](UdpSocket::send) goes there,
    /// and only datagrams from there are received. A host name is resolved
    /// first; the first address that connects wins.
    ///
    /// ```
    /// use ferrio::net::UdpSocket;
    /// ferrio::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The resolver's errors for a host name (see
    /// [`Resolver::lookup`](crate::Resolver::lookup)); `InvalidInput` when `addr`
    /// names no address; when no address connects, the last one's OS error with
    /// the address in its message (an address of the other IP family, say).
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        first_that_works(addr, "connect", |addr| {
            std::future::ready(self.io.get_ref().connect(addr))
        })
        .await
    }

    /// Sends one datagram to `target` and returns how many bytes were sent.
    /// A host name is resolved first, and the datagram goes to its first address.
    ///
    /// ```
    /// use ferrio::net::UdpSocket;
    /// ferrio::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let n = a.send_to(b"hello", a.local_addr().unwrap()).await.unwrap();
    ///     assert_eq!(n, 5);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The resolver's errors for a host name; `InvalidInput` when `target` names
    /// no address; the OS's error of `sendto` (a datagram too long for UDP, an
    /// address of the other IP family, ...); kind `Other`, instead of waiting,
    /// when the socket's runtime has shut down or another runtime runs on this
    /// thread.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let addrs = Resolver::system().lookup(target).await?;
        let target = *addrs
            .first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no address to send to"))?;
        poll_fn(|cx| {
            poll_budgeted(cx, |cx| {
                self.io
                    .poll_io(cx, Direction::Write, |s| s.send_to(buf, target))
            })
        })
        .await
    }

    /// Receives one datagram into `buf`, returning its length and sender. A
    /// datagram longer than `buf` is cut to fit (the rest is lost).
    ///
    /// ```
    /// use ferrio::net::UdpSocket;
    /// ferrio::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"to myself", a.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 64];
    ///     let (n, from) = a.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!((&buf[..n], from), (&b"to myself"[..], a.local_addr().unwrap()));
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `recvfrom` (on a connected socket, `ConnectionRefused`
    /// if an earlier datagram found no one listening); kind `Other`, instead of
    /// waiting, when the socket's runtime has shut down or another runtime runs
    /// on this thread.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            poll_budgeted(cx, |cx| {
                self.io.poll_io(cx, Direction::Read, |s| s.recv_from(buf))
            })
        })
        .await
    }

    /// Sends one datagram to the connected peer.
    ///
    /// ```
    /// use ferrio::net::UdpSocket;
    /// ferrio::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.connect(b.local_addr().unwrap()).await.unwrap();
    ///     a.send(b"hi").await.unwrap();
    ///     let mut buf = [0; 2];
    ///     assert_eq!(b.recv_from(&mut buf).await.unwrap().0, 2);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` if [`connect`](UdpSocket::connect) was not called;
    /// `ConnectionRefused` if an earlier datagram found no one listening.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            poll_budgeted(cx, |cx| {
                self.io.poll_io(cx, Direction::Write, |s| s.send(buf))
            })
        })
        .await
        .map_err(not_connected_hint)
    }

    /// Receives one datagram. On a connected socket the kernel delivers only
    /// the peer's; on one that is not connected, anyone's (`recv_from` tells
    /// who sent it).
    ///
    /// ```
    /// use ferrio::net::UdpSocket;
    /// ferrio::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     b.connect(a.local_addr().unwrap()).await.unwrap();
    ///     a.send_to(b"yo", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let n = b.recv(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"yo");
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` if an earlier datagram to the connected peer found no
    /// one listening; other OS errors of `recv`; kind `Other`, instead of waiting,
    /// when the socket's runtime has shut down or another runtime runs on this
    /// thread.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            poll_budgeted(cx, |cx| {
                self.io.poll_io(cx, Direction::Read, |s| s.recv(buf))
            })
        })
        .await
    }

    /// Waits until the socket may be readable: a datagram (or an error) is
    /// there. A following [`try_recv`](UdpSocket::try_recv) can still say
    /// `WouldBlock` (readiness is a hint; another task may have taken the
    /// datagram); that clears the readiness, so the next `readable` waits. A
    /// `readable` that was waiting when a datagram arrived completes, even if
    /// another task sharing the socket received it first.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use ferrio::net::UdpSocket;
    /// ferrio::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
    ///     let mut buf = [0; 16];
    ///     let (n, from) = loop {
    ///         b.readable().await.unwrap();
    ///         match b.try_recv_from(&mut buf) {
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             other => break other.unwrap(),
    ///         }
    ///     };
    ///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
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

    /// Waits until the socket may be writable (see [`readable`](UdpSocket::readable)).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let a = ferrio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     a.writable().await.unwrap();
    ///     assert_eq!(a.try_send_to(b"hi", a.local_addr().unwrap()).unwrap(), 2);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// As [`readable`](UdpSocket::readable).
    pub async fn writable(&self) -> io::Result<()> {
        self.last_ready.wait(&self.io, Direction::Write).await
    }

    /// Receives one datagram from the connected peer if one is there now,
    /// without waiting: `ErrorKind::WouldBlock` if none is (which clears the
    /// readiness [`readable`](UdpSocket::readable) returned). A datagram
    /// longer than `buf` is cut to fit.
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is there; the OS's errors of `recv`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Read, |s| s.recv(buf))
    }

    /// Receives one datagram and its sender's address if one is there now,
    /// without waiting (see [`try_recv`](UdpSocket::try_recv)).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when no datagram is there; the OS's errors of `recvfrom`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.last_ready
            .try_io(&self.io, Direction::Read, |s| s.recv_from(buf))
    }

    /// Sends one datagram to the connected peer if it fits now, without
    /// waiting: `ErrorKind::WouldBlock` if it does not (which clears the
    /// readiness [`writable`](UdpSocket::writable) returned).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the send buffer is full; `NotConnected` if
    /// [`connect`](UdpSocket::connect) was not called; the OS's errors of `send`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Write, |s| s.send(buf))
            .map_err(not_connected_hint)
    }

    /// Sends one datagram to `target` if it fits now, without waiting (see
    /// [`try_send`](UdpSocket::try_send)).
    ///
    /// # Errors
    ///
    /// `WouldBlock` when the send buffer is full; the OS's errors of `sendto`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.last_ready
            .try_io(&self.io, Direction::Write, |s| s.send_to(buf, target))
    }

    /// The address the socket is bound to.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let socket = ferrio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `getsockname`; in practice none.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address the socket is connected to (`NotConnected` if none).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let socket = ferrio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert_eq!(socket.peer_addr().unwrap_err().kind(), std::io::ErrorKind::NotConnected);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// `NotConnected` if [`connect`](UdpSocket::connect) was not called.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Allows sending to broadcast addresses (`SO_BROADCAST`).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let socket = ferrio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     socket.set_broadcast(true).unwrap();
    ///     assert!(socket.broadcast().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `setsockopt`; in practice none.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let socket = ferrio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(!socket.broadcast().unwrap());
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// The OS's error of `getsockopt`; in practice none.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}
