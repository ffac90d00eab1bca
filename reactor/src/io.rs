//! A source's registration with a reactor, and the ways to wait on it:
//! [`Registration`] (waits for readiness and clears it; frees its slot when
//! dropped), its [`Readiness`] future, [`PollIo`] (a mio source that owns
//! its registration) and [`Handle::register`], which makes registrations.
//! With them the errors of a source that can never be woken.
//!
//! Not here: the readiness word and waiter lists a registration waits on
//! (`scheduled_io.rs`), the slab of registrations and their tokens
//! (`reactor.rs`), the sockets themselves (ferrio-net) or what a wake means
//! (the executor).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use mio::Interest;

use crate::context::{self, Current};
use crate::observe;
use crate::reactor::Handle;
use crate::scheduled_io::{Direction, FutureWait, ReadyEvent, ScheduledIo};

/// The error of an operation on a source whose reactor was dropped.
fn shut_down_error() -> io::Error {
    io::Error::other(
        "the ferrio runtime this socket was registered with has shut down; \
         create sockets inside the runtime that uses them",
    )
}

/// The error of an operation that would wait on a source registered with
/// another runtime than the one running on this thread.
fn foreign_error() -> io::Error {
    io::Error::other(
        "this socket is registered with another ferrio runtime than the one running \
         on this thread, which cannot wake it; create sockets inside the runtime that uses them",
    )
}

impl Handle {
    /// Registers `source` for `interest` and returns the registration that
    /// tracks its readiness. The source must be deregistered with
    /// [`Registration::deregister`] before it is closed.
    ///
    /// # Errors
    ///
    /// When the reactor was dropped (kind `Other`, saying so), when it holds
    /// too many registrations, or when the OS refuses the registration.
    pub fn register<S: mio::event::Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
    ) -> io::Result<Registration> {
        if self.is_shut_down() {
            return Err(shut_down_error());
        }
        let sched = self.add_source(source, interest)?;
        Ok(Registration {
            handle: self.clone(),
            sched,
        })
    }
}

/// A source's place in the reactor: waits for readiness and clears it.
///
/// Dropping a registration without [`deregister`](Registration::deregister)
/// frees its slot; events the OS still delivers for it are recognised as stale
/// by their generation and ignored.
pub struct Registration {
    handle: Handle,
    /// Its slot in the reactor is `sched.index`.
    sched: Arc<ScheduledIo>,
}

impl Registration {
    /// Says what the source is (its addresses, say) for task dumps: the
    /// label comes with every wait on it reported to the
    /// [`crate::observe`] hook. Only the first label sticks.
    ///
    /// ```
    /// let reactor = ferrio_reactor::Reactor::new().unwrap();
    /// let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// socket.set_nonblocking(true).unwrap();
    /// let io = ferrio_reactor::PollIo::new(&reactor.handle(), mio::net::UdpSocket::from_std(socket)).unwrap();
    /// io.registration().set_label("udp 127.0.0.1");
    /// ```
    pub fn set_label(&self, label: impl Into<Box<str>>) {
        self.sched.set_label(label.into());
    }

    /// Ready if the source is (possibly) ready in `direction`; otherwise stores
    /// the context's waker, to be woken by the next event in that direction.
    ///
    /// This is the path of operations (`poll_read`, `poll_write`, ...): the
    /// waker is kept until the next event in `direction`, beside those of
    /// other tasks polling the same direction, and all are woken by it.
    ///
    /// # Errors
    ///
    /// Instead of waiting, when no wake could ever come (docs/architecture.md, rule R7): the
    /// reactor was dropped, or another runtime's reactor is current on this
    /// thread (kind `Other`, with a message that says which).
    pub fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        if let Some(event) = self.sched.ready_event(direction) {
            return Poll::Ready(Ok(event));
        }
        // Only on the way to waiting: an operation that can run costs nothing more.
        self.check_can_wait()?;
        observe::waiting(observe::WaitOn::Socket {
            direction,
            label: self.sched.label(),
        });
        let evicted = self.sched.add_poller(direction, cx.waker());
        // Outside the lock: the evicted waker's task may poll this socket at once.
        if let Some(waker) = evicted {
            waker.wake();
        }
        self.recheck(direction)
    }

    /// Whether a waiter here can ever be woken: the reactor lives, and it is
    /// the one running on this thread (or none is, e.g. a test polling by hand).
    fn check_can_wait(&self) -> io::Result<()> {
        if self.handle.is_shut_down() {
            return Err(shut_down_error());
        }
        match context::relative_to(&self.handle) {
            Current::Other => Err(foreign_error()),
            Current::This | Current::None => Ok(()),
        }
    }

    /// After storing a waker: the reactor may have set readiness (or shut
    /// down) between the first check and the store, and took no waker then,
    /// so look again.
    fn recheck(&self, direction: Direction) -> Poll<io::Result<ReadyEvent>> {
        match self.sched.ready_event(direction) {
            Some(event) => Poll::Ready(Ok(event)),
            None if self.handle.is_shut_down() => Poll::Ready(Err(shut_down_error())),
            None => Poll::Pending,
        }
    }

    /// Waits until the source is (possibly) ready in `direction`. Any number
    /// of these futures may wait at once, beside an operation on the `poll_*`
    /// path: an event wakes them all. A future waiting when an event arrives
    /// completes with that event, even if another task's operation drains the
    /// source and clears the readiness before the future runs again (design
    /// rule 6). Dropping one removes its waker.
    ///
    /// It fails instead of waiting when no wake could ever come, as
    /// [`poll_ready`](Registration::poll_ready) does.
    pub fn ready(&self, direction: Direction) -> Readiness<'_> {
        Readiness {
            registration: self,
            direction,
            key: None,
        }
    }

    /// How many wakers wait in `direction`: those of the `poll_*` path, and
    /// one per pending [`Readiness`] future. For tests and diagnostics.
    ///
    /// ```
    /// use ferrio_reactor::{Direction, Reactor};
    /// let reactor = Reactor::new().unwrap();
    /// let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
    /// let registration = reactor.handle().register(&mut a, mio::Interest::READABLE).unwrap();
    /// assert_eq!(registration.waiter_count(Direction::Read), 0);
    /// ```
    pub fn waiter_count(&self, direction: Direction) -> usize {
        self.sched.waiter_count(direction)
    }

    /// Clears the readiness `event` reported, after the operation it allowed
    /// returned `WouldBlock`. A newer event (another tick) is kept; closed and
    /// error bits are final and never cleared.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.sched.clear(event);
    }

    /// Runs `op` once the source is ready in `direction`, retrying after each
    /// `WouldBlock` (which clears the readiness it acted on) until `op` returns
    /// anything else. This is the one loop every socket operation goes through.
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until_drained(cx, direction, op, |_| false)
    }

    /// Like [`poll_io`](Registration::poll_io), for a transfer of `len` bytes on
    /// a *stream* socket: a transfer shorter than `len` (but not zero) also
    /// clears the readiness it acted on, because for stream-oriented files a
    /// partial read or write means the buffer was drained or filled (epoll(7)).
    /// That saves the syscall that would only return `WouldBlock`; a newer
    /// event still wins, as with `WouldBlock`. Not for datagram sockets.
    pub fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        op: impl FnMut() -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io_until_drained(cx, direction, op, |&n| n > 0 && n < len)
    }

    /// The loop behind `poll_io` and `poll_stream_io`: `drained` says whether a
    /// successful result also proves the source drained in `direction`.
    fn poll_io_until_drained<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready(cx, direction) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_readiness(event),
                Ok(r) => {
                    if drained(&r) {
                        self.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(r));
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Removes `source` from the OS poller and frees this registration's slot.
    /// Call it before the source is closed.
    ///
    /// # Errors
    ///
    /// The OS poller's error when it does not hold `source` (`NotFound` on
    /// Linux): a source other than the one registered, say. The slot is freed
    /// either way.
    pub fn deregister<S: mio::event::Source + ?Sized>(self, source: &mut S) -> io::Result<()> {
        let result = self.handle.inner.registry.deregister(source);
        log::trace!("deregistered slot {}", self.sched.index);
        result
    }

    /// The reactor this registration belongs to.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Wakers still waiting are dropped with the ScheduledIo.
        self.handle.remove_source(&self.sched);
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("index", &self.sched.index)
            .field("generation", &self.sched.generation)
            .finish()
    }
}

/// The future of [`Registration::ready`]: the source's next readiness in one
/// direction, with a waiter entry of its own, removed when it completes or is
/// dropped.
#[must_use = "futures do nothing unless awaited"]
pub struct Readiness<'a> {
    registration: &'a Registration,
    direction: Direction,
    /// This future's entry in the direction's waiter list, once it waited.
    key: Option<usize>,
}

impl Readiness<'_> {
    /// Removes this future's waiter entry, if it has one.
    fn leave(&mut self) {
        if let Some(key) = self.key.take() {
            self.registration
                .sched
                .remove_future_waker(self.direction, key);
        }
    }
}

impl Future for Readiness<'_> {
    type Output = io::Result<ReadyEvent>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        let this = self.get_mut();
        let registration = this.registration;
        if let Some(event) = registration.sched.ready_event(this.direction) {
            this.leave();
            return Poll::Ready(Ok(event));
        }
        // An event that woke this future since its last poll completes it,
        // even if another task cleared the readiness since (docs/architecture.md, rule R6).
        match registration
            .sched
            .wait_future(this.direction, this.key, cx.waker())
        {
            FutureWait::Notified(event) => {
                this.key = None;
                return Poll::Ready(Ok(event));
            }
            FutureWait::Waiting(key) => this.key = Some(key),
        }
        if let Err(e) = registration.check_can_wait() {
            this.leave();
            return Poll::Ready(Err(e));
        }
        observe::waiting(observe::WaitOn::Socket {
            direction: this.direction,
            label: registration.sched.label(),
        });
        let polled = registration.recheck(this.direction);
        if polled.is_ready() {
            this.leave();
        }
        polled
    }
}

impl Drop for Readiness<'_> {
    fn drop(&mut self) {
        self.leave();
    }
}

impl std::fmt::Debug for Readiness<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("registration", self.registration)
            .field("direction", &self.direction)
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

/// A mio source bound to a [`Registration`]: the owner of a socket. Deregisters
/// the source before closing it when dropped (mio rule 3).
pub struct PollIo<S: mio::event::Source> {
    io: Option<S>,
    registration: Option<Registration>,
}

impl<S: mio::event::Source> PollIo<S> {
    /// Registers `io` with `handle` for reading and writing.
    ///
    /// # Errors
    ///
    /// Those of [`Handle::register`].
    pub fn new(handle: &Handle, mut io: S) -> io::Result<Self> {
        let registration = handle.register(&mut io, Interest::READABLE | Interest::WRITABLE)?;
        Ok(PollIo {
            io: Some(io),
            registration: Some(registration),
        })
    }

    /// Registers `io` with the current thread's reactor (see [`crate::context`]).
    ///
    /// # Errors
    ///
    /// Those of [`Handle::register`].
    ///
    /// # Panics
    ///
    /// Outside a ferrio runtime (no current reactor on this thread), with a
    /// message that says so.
    #[track_caller]
    pub fn new_current(io: S) -> io::Result<Self> {
        Self::new(&context::current(), io)
    }

    /// The source.
    // Cannot panic: only `into_inner` and `drop` empty the fields, and both consume `self`.
    #[allow(clippy::missing_panics_doc)]
    pub fn get_ref(&self) -> &S {
        self.io.as_ref().expect("PollIo used after into_inner")
    }

    /// The source, mutably.
    // Cannot panic: only `into_inner` and `drop` empty the fields, and both consume `self`.
    #[allow(clippy::missing_panics_doc)]
    pub fn get_mut(&mut self) -> &mut S {
        self.io.as_mut().expect("PollIo used after into_inner")
    }

    /// The registration.
    // Cannot panic: only `into_inner` and `drop` empty the fields, and both consume `self`.
    #[allow(clippy::missing_panics_doc)]
    pub fn registration(&self) -> &Registration {
        self.registration
            .as_ref()
            .expect("PollIo used after into_inner")
    }

    /// Runs `op` on the source once it is ready, retrying until it stops
    /// returning `WouldBlock` (see [`Registration::poll_io`]).
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.registration().poll_io(cx, direction, || op(io))
    }

    /// Runs a transfer of `len` bytes on a stream source once it is ready (see
    /// [`Registration::poll_stream_io`]).
    pub fn poll_stream_io(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let io = self.get_ref();
        self.registration()
            .poll_stream_io(cx, direction, len, || op(io))
    }

    /// Deregisters and returns the source.
    ///
    /// # Errors
    ///
    /// Those of [`Registration::deregister`]; the source is closed then.
    // Cannot panic: only `into_inner` and `drop` empty the fields, and both consume `self`.
    #[allow(clippy::missing_panics_doc)]
    pub fn into_inner(mut self) -> io::Result<S> {
        let mut io = self.io.take().expect("PollIo used after into_inner");
        let registration = self
            .registration
            .take()
            .expect("PollIo used after into_inner");
        registration.deregister(&mut io)?;
        Ok(io)
    }
}

impl<S: mio::event::Source> Drop for PollIo<S> {
    fn drop(&mut self) {
        if let (Some(mut io), Some(registration)) = (self.io.take(), self.registration.take()) {
            if let Err(e) = registration.deregister(&mut io) {
                log::debug!("deregister on drop failed: {e}");
            }
            // `io` closes here, after it left the poller.
        }
    }
}

impl<S: mio::event::Source + std::fmt::Debug> std::fmt::Debug for PollIo<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollIo").field("io", &self.io).finish()
    }
}
