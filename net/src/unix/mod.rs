//! Unix domain sockets on the reactor (asyncio's `open_unix_connection` and
//! `start_unix_server`): [`UnixStream`] and its halves, [`UnixListener`],
//! [`UnixDatagram`]. Linux and macOS (and the other Unix systems mio runs on).
//!
//! They follow the TCP types (`crate::tcp`): non-blocking sockets registered
//! with the current reactor, every operation retried until `WouldBlock`
//! before it waits for the next readiness event, futures that took nothing
//! when dropped unfinished.
//!
//! Not here: passing descriptors (`SCM_RIGHTS`) or abstract-namespace
//! addresses; a listener does not unlink its socket file when dropped (as
//! with std and tokio, remove it yourself).

mod datagram;
mod listener;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::{UnixIncoming, UnixListener};
pub use std::os::unix::net::SocketAddr;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub use stream::UCred;
pub use stream::{UnixOwnedReadHalf, UnixOwnedWriteHalf, UnixReadHalf, UnixStream, UnixWriteHalf};

use std::io;
use std::path::Path;

/// An error of `what` on `path`, with the path in its message and the OS
/// error's kind.
fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}
