//! TCP on the reactor (asyncio's `open_connection` and `start_server`):
//! [`TcpStream`] (`stream.rs`), its read and write halves (`split.rs`), and
//! [`TcpListener`] (`listener.rs`).
//!
//! Every operation goes through [`PollIo::poll_io`](ferrio_reactor::PollIo::poll_io)
//! (reads and writes of a buffer through
//! [`PollIo::poll_stream_io`](ferrio_reactor::PollIo::poll_stream_io)): it runs the syscall when the
//! socket may be ready and, on `WouldBlock` (or, for a read or write, a
//! transfer shorter than the buffer, which on a stream socket means the same),
//! clears that readiness and waits for the next event. A read future dropped
//! before it completed took nothing from the socket, so the next read gets
//! every byte.
//!
//! Not here: name resolution ([`crate::dns`]) or socket creation details
//! ([`crate::socket`]).

mod listener;
mod split;
mod stream;

pub use listener::{Incoming, TcpListener, DEFAULT_BACKLOG};
pub use split::{TcpOwnedReadHalf, TcpOwnedWriteHalf, TcpReadHalf, TcpReuniteError, TcpWriteHalf};
pub use stream::TcpStream;
