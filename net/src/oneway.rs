//! A source that is read *or* written, never both (a pipe end, a pidfd, a
//! signal pipe), registered for that one interest, and moved to the reactor
//! of the runtime that uses it (docs/architecture.md, rule R7).
//!
//! Not here: sockets, which are duplex and keep their reactor (`PollIo`).

use std::io;
use std::task::{Context, Poll};

use ferrio_executor::coop::poll_budgeted;
use ferrio_reactor::{Direction, Handle, Interest, Registration};

/// A one-way source and its registration. `PollIo` asks for reading and
/// writing, which kqueue may refuse for a pipe end; this asks only for
/// `interest`. Deregisters before the source closes (mio rule 3).
pub(crate) struct Oneway<S: mio::event::Source> {
    io: S,
    interest: Interest,
    /// `None` only while [`home`](Oneway::home) failed to register again,
    /// and in `drop`.
    registration: Option<Registration>,
}

impl<S: mio::event::Source> Oneway<S> {
    pub(crate) fn new(handle: &Handle, mut io: S, interest: Interest) -> io::Result<Oneway<S>> {
        let registration = handle.register(&mut io, interest)?;
        Ok(Oneway {
            io,
            interest,
            registration: Some(registration),
        })
    }

    /// Registers `io` with the current thread's reactor.
    ///
    /// Panics outside a ferrio runtime.
    #[track_caller]
    pub(crate) fn new_current(io: S, interest: Interest) -> io::Result<Oneway<S>> {
        Oneway::new(&ferrio_reactor::context::current(), io, interest)
    }

    pub(crate) fn get_ref(&self) -> &S {
        &self.io
    }

    pub(crate) fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// Makes sure the source is registered with this thread's reactor: one
    /// made in another runtime (perhaps gone by now, whose reactor nobody
    /// turns) moves here, so that it is woken at all. The OS reports
    /// readiness that is already there when a source is registered, so
    /// nothing is lost in the move.
    ///
    /// # Errors
    ///
    /// Outside a ferrio runtime, or if registering fails.
    pub(crate) fn home(&mut self) -> io::Result<&Registration> {
        let current = ferrio_reactor::context::try_current().ok_or_else(|| {
            io::Error::other("polled outside a ferrio runtime (ferrio::run or Runtime::block_on)")
        })?;
        if let Some(registration) = &self.registration {
            if registration.handle().is_current() {
                return Ok(self.registration.as_ref().expect("checked above"));
            }
        }
        if let Some(old) = self.registration.take() {
            log::debug!("moving a source to the current runtime's reactor");
            if let Err(e) = old.deregister(&mut self.io) {
                log::debug!("deregister from the old reactor failed: {e}");
            }
        }
        let registration = current.register(&mut self.io, self.interest)?;
        Ok(self.registration.insert(registration))
    }

    /// Runs a transfer of `len` bytes once the stream source is ready (see
    /// `Registration::poll_stream_io`), on this thread's reactor, spending
    /// the task's cooperative budget as sockets do.
    pub(crate) fn poll_transfer(
        &mut self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let registration = match self.home() {
            Ok(_) => self.registration.as_ref().expect("home registered it"),
            Err(e) => return Poll::Ready(Err(e)),
        };
        let io = &self.io;
        poll_budgeted(cx, |cx| {
            registration.poll_stream_io(cx, direction, len, || op(io))
        })
    }
}

impl<S: mio::event::Source> Drop for Oneway<S> {
    fn drop(&mut self) {
        if let Some(registration) = self.registration.take() {
            if let Err(e) = registration.deregister(&mut self.io) {
                log::debug!("deregister on drop failed: {e}");
            }
        }
    }
}
