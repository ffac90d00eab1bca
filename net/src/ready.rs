//! What the sockets' `readable()`/`writable()` and `try_*` methods share (TCP
//! and Unix streams, UDP and Unix datagram sockets): [`LastReady`], the
//! readiness event each direction last waited for, which `readable()` and
//! `writable()` keep ([`LastReady::wait`]) and a `try_*` that says
//! `WouldBlock` clears ([`LastReady::try_io`]).
//!
//! Not here: the waiting itself (`Registration::ready` in ferrio-reactor),
//! or the operations that wait on their own (`poll_io`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ferrio_reactor::{Direction, PollIo, Readiness, ReadySlot};
use mio::event::Source;

/// The readiness event that `readable()` and `writable()` last returned on
/// one socket, per direction: the `try_*` methods clear it when the socket
/// says `WouldBlock`, so a `readable`/`try_read` loop waits instead of
/// spinning. One word per direction, no lock (a socket keeps them for its
/// whole life).
#[derive(Default)]
pub(crate) struct LastReady {
    read: ReadySlot,
    write: ReadySlot,
}

impl LastReady {
    #[inline]
    fn of(&self, direction: Direction) -> &ReadySlot {
        match direction {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        }
    }

    /// What a socket's `readable()` (`Direction::Read`) or `writable()`
    /// awaits: `registration`'s readiness in `direction`, whose event it
    /// keeps for the next `try_io` in that direction. A plain future around
    /// `Registration::ready`'s, so the socket's method awaits one future, not
    /// an async block nested in another.
    #[inline]
    pub(crate) fn wait<'a, T: Source>(
        &'a self,
        io: &'a PollIo<T>,
        direction: Direction,
    ) -> Wait<'a> {
        Wait {
            ready: io.registration().ready(direction),
            last: self,
            direction,
        }
    }

    /// A socket's `try_*`: runs `op` on `io`'s socket now; when it says
    /// `WouldBlock`, clears the readiness the last `wait` in `direction`
    /// returned (unless a newer event set it since).
    #[inline]
    pub(crate) fn try_io<T: Source, R>(
        &self,
        io: &PollIo<T>,
        direction: Direction,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let result = op(io.get_ref());
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            if let Some(event) = self.of(direction).take(direction) {
                io.registration().clear_readiness(event);
            }
        }
        result
    }
}

/// The future of [`LastReady::wait`].
pub(crate) struct Wait<'a> {
    ready: Readiness<'a>,
    last: &'a LastReady,
    direction: Direction,
}

impl Future for Wait<'_> {
    type Output = io::Result<()>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let event = ready!(Pin::new(&mut self.ready).poll(cx))?;
        self.last.of(self.direction).keep(event);
        Poll::Ready(Ok(()))
    }
}
