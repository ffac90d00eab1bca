//! What the sockets' `readable()`/`writable()` and `try_*` methods share:
//! [`LastReady`], the readiness event each direction last waited for, which
//! a `try_*` that says `WouldBlock` clears.
//!
//! Not here: the waiting itself (`Registration::ready` in ferrio-reactor),
//! or the operations that wait on their own (`poll_io`).

use std::io;

use ferrio_reactor::{Direction, ReadyEvent, ReadySlot, Registration};

/// The readiness event that `readable()` and `writable()` last returned on
/// one socket, per direction: the `try_*` methods clear it when the socket
/// says `WouldBlock`, so a `readable`/`try_read` loop waits instead of
/// spinning.
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

    /// Keeps `event`, which `readable()` or `writable()` just returned, for
    /// the next `try_io` in its direction. (The sockets await
    /// `Registration::ready` themselves: one future, not two nested.)
    #[inline]
    pub(crate) fn keep(&self, direction: Direction, event: ReadyEvent) {
        self.of(direction).keep(event);
    }

    /// Runs `op` now; when it says `WouldBlock`, clears the readiness the last
    /// `wait` in `direction` returned (unless a newer event set it since).
    #[inline]
    pub(crate) fn try_io<R>(
        &self,
        registration: &Registration,
        direction: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let result = op();
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            if let Some(event) = self.of(direction).take(direction) {
                registration.clear_readiness(event);
            }
        }
        result
    }
}
