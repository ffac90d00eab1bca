//! Making OS sockets with socket2: non-blocking and close-on-exec from the
//! start, ready to hand to mio. Also the errno checks the socket types share,
//! and the wait for a connect in progress to finish ([`poll_connected`]),
//! which the TCP and Unix streams share.
//!
//! Not here: registering with the reactor (each socket type does that).

use std::io;
use std::net::SocketAddr;
use std::task::{ready, Context, Poll};

use ferrio_reactor::{Direction, PollIo};

use socket2::{Domain, Protocol, Socket, Type};

/// A non-blocking, close-on-exec socket of `ty` for `addr`'s family.
/// (socket2 sets close-on-exec on every socket it creates on Unix.)
pub(crate) fn new_socket(addr: &SocketAddr, ty: Type) -> io::Result<Socket> {
    let protocol = if ty == Type::STREAM {
        Protocol::TCP
    } else {
        Protocol::UDP
    };
    let socket = Socket::new(Domain::for_address(*addr), ty, Some(protocol))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Whether a non-blocking `connect` was started rather than refused.
pub(crate) fn connect_in_progress(e: &io::Error) -> bool {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    e.kind() == io::ErrorKind::WouldBlock
}

/// Whether an `accept` error means the process or the system is out of a
/// resource (descriptors, buffers, memory) that frees up later: the accept
/// loop backs off and tries again rather than failing.
pub(crate) fn is_resource_exhaustion(e: &io::Error) -> bool {
    #[cfg(unix)]
    if let Some(code) = e.raw_os_error() {
        return matches!(
            code,
            libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
        );
    }
    e.kind() == io::ErrorKind::OutOfMemory
}

/// Whether an `accept` error concerns only the connection being accepted
/// (it was reset or aborted before we took it): skip it and accept the next.
pub(crate) fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) || matches!(e.raw_os_error(), Some(code) if is_protocol_errno(code))
}

#[cfg(target_os = "linux")]
fn is_protocol_errno(code: i32) -> bool {
    // accept(2) on Linux passes on these errors of the pending connection.
    matches!(
        code,
        libc::EPROTO
            | libc::ENETDOWN
            | libc::ENOPROTOOPT
            | libc::EHOSTDOWN
            | libc::ENONET
            | libc::EHOSTUNREACH
            | libc::EOPNOTSUPP
            | libc::ENETUNREACH
    )
}

#[cfg(not(target_os = "linux"))]
fn is_protocol_errno(code: i32) -> bool {
    #[cfg(unix)]
    if code == libc::EPROTO {
        return true;
    }
    let _ = code;
    false
}

/// `send` on an unconnected datagram socket: `EDESTADDRREQ` on Unix, which std
/// does not classify, reported as `NotConnected` with a hint.
pub(crate) fn not_connected_hint(e: io::Error) -> io::Error {
    #[cfg(unix)]
    if e.raw_os_error() == Some(libc::EDESTADDRREQ) {
        return io::Error::new(
            io::ErrorKind::NotConnected,
            "the UDP socket is not connected: call connect first, or use send_to",
        );
    }
    e
}

/// A stream socket whose connect may still be in progress.
pub(crate) trait Connecting: mio::event::Source {
    /// The socket's pending error (`SO_ERROR`), taking it.
    fn take_error(&self) -> io::Result<Option<io::Error>>;
    /// Whether it has a peer: the OS's error of `getpeername` otherwise.
    fn has_peer(&self) -> io::Result<()>;
}

impl Connecting for mio::net::TcpStream {
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        mio::net::TcpStream::take_error(self)
    }
    fn has_peer(&self) -> io::Result<()> {
        self.peer_addr().map(drop)
    }
}

#[cfg(unix)]
impl Connecting for mio::net::UnixStream {
    fn take_error(&self) -> io::Result<Option<io::Error>> {
        mio::net::UnixStream::take_error(self)
    }
    fn has_peer(&self) -> io::Result<()> {
        self.peer_addr().map(drop)
    }
}

/// Ready once a connect in progress on `io` has finished: writable, no
/// pending error, and a peer address (mio's recipe; a writable event alone
/// may be spurious, and then its readiness is cleared and the wait goes on).
/// A `getpeername` error for which `still_connecting` is true means "not
/// yet".
pub(crate) fn poll_connected<T: Connecting>(
    io: &PollIo<T>,
    cx: &mut Context<'_>,
    still_connecting: fn(&io::Error) -> bool,
) -> Poll<io::Result<()>> {
    let registration = io.registration();
    loop {
        let event = ready!(registration.poll_ready(cx, Direction::Write))?;
        let socket = io.get_ref();
        if let Some(e) = socket.take_error()? {
            return Poll::Ready(Err(e));
        }
        match socket.has_peer() {
            Ok(()) => return Poll::Ready(Ok(())),
            Err(e) if still_connecting(&e) => registration.clear_readiness(event),
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}
