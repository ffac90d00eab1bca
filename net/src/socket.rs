//! Making OS sockets with socket2: non-blocking and close-on-exec from the
//! start, ready to hand to mio. Also the errno checks the socket types share.
//!
//! Not here: registering with the reactor (each socket type does that).

use std::io;
use std::net::SocketAddr;

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
