//! What the sockets' `readable()`/`writable()` and `try_*` methods share:
//! [`LastReady`], the readiness event each direction last waited for, which
//! a `try_*` that says `WouldBlock` clears.
//!
//! Not here: the waiting itself (`Registration::ready` in ferrio-reactor),
//! or the operations that wait on their own (`poll_io`).

use std::io;
use std::sync::Mutex;

use ferrio_reactor::{Direction, ReadyEvent, Registration};

use crate::lock::lock;

/// The readiness event that `readable()` and `writable()` last returned on
/// one socket, per direction: the `try_*` methods clear it when the socket
/// says `WouldBlock`, so a `readable`/`try_read` loop waits instead of
/// spinning.
#[derive(Default)]
pub(crate) struct LastReady {
    read: Mutex<Option<ReadyEvent>>,
    write: Mutex<Option<ReadyEvent>>,
}

impl LastReady {
    fn of(&self, direction: Direction) -> &Mutex<Option<ReadyEvent>> {
        match direction {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        }
    }

    /// Waits until `registration` is (possibly) ready in `direction`, and
    /// keeps the event for the next `try_io`. A wait that was under way when
    /// the event arrived completes with it, even if another task drained
    /// the socket first (docs/architecture.md, design rule 6).
    pub(crate) async fn wait(
        &self,
        registration: &Registration,
        direction: Direction,
    ) -> io::Result<()> {
        let event = registration.ready(direction).await?;
        *lock(self.of(direction)) = Some(event);
        Ok(())
    }

    /// Runs `op` now; when it says `WouldBlock`, clears the readiness the last
    /// `wait` in `direction` returned (unless a newer event set it since).
    pub(crate) fn try_io<R>(
        &self,
        registration: &Registration,
        direction: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let result = op();
        if matches!(&result, Err(e) if e.kind() == io::ErrorKind::WouldBlock) {
            if let Some(event) = lock(self.of(direction)).take() {
                registration.clear_readiness(event);
            }
        }
        result
    }
}
