//! Readiness of one registered source: what the OS said, and who waits for it.
//!
//! Not here: the sockets themselves (ferrio-net) or what a wake means (the executor).

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use mio::Interest;

use crate::Handle;

/// One direction of a duplex source. Readers and writers wait independently, so
/// a task reading and another writing the same socket never steal each other's wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Readable, read-closed, error.
    Read,
    /// Writable, write-closed, error.
    Write,
}

/// Readiness bits, as stored in the low byte of [`ScheduledIo::readiness`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) struct Ready(u64);

impl Ready {
    const READABLE: u64 = 0b0001;
    const WRITABLE: u64 = 0b0010;
    const READ_CLOSED: u64 = 0b0100;
    const WRITE_CLOSED: u64 = 0b1000;
    const ERROR: u64 = 0b1_0000;
    const MASK: u64 = 0xff;

    pub(crate) fn from_mio(event: &mio::event::Event) -> Ready {
        let mut bits = 0;
        if event.is_readable() {
            bits |= Ready::READABLE;
        }
        if event.is_writable() {
            bits |= Ready::WRITABLE;
        }
        if event.is_read_closed() {
            bits |= Ready::READ_CLOSED;
        }
        if event.is_write_closed() {
            bits |= Ready::WRITE_CLOSED;
        }
        if event.is_error() {
            bits |= Ready::ERROR;
        }
        Ready(bits)
    }

    /// The bits that make `direction` ready.
    fn mask(direction: Direction) -> u64 {
        match direction {
            Direction::Read => Ready::READABLE | Ready::READ_CLOSED | Ready::ERROR,
            Direction::Write => Ready::WRITABLE | Ready::WRITE_CLOSED | Ready::ERROR,
        }
    }

    /// The bits an operation may clear after `WouldBlock`: closed and error are final.
    fn clearable(direction: Direction) -> u64 {
        match direction {
            Direction::Read => Ready::READABLE,
            Direction::Write => Ready::WRITABLE,
        }
    }
}

/// Readiness observed by [`Registration::poll_ready`]: which tick set it, so that
/// [`Registration::clear_readiness`] never erases readiness from a newer event.
#[derive(Clone, Copy, Debug)]
pub struct ReadyEvent {
    tick: u64,
    direction: Direction,
    bits: u64,
}

impl ReadyEvent {
    /// The peer closed its side (read) or ours can no longer send (write).
    pub fn is_closed(&self) -> bool {
        self.bits & (Ready::READ_CLOSED | Ready::WRITE_CLOSED) != 0
    }

    /// The OS reported an error condition on the source.
    pub fn is_error(&self) -> bool {
        self.bits & Ready::ERROR != 0
    }
}

/// Shared between the reactor (which sets readiness) and the registration (which
/// waits on and clears it).
pub(crate) struct ScheduledIo {
    /// Stamped into the token; an event whose token carries another generation
    /// belongs to a registration that no longer exists.
    pub(crate) generation: u32,
    /// Low byte: [`Ready`] bits. Upper bits: the tick of the turn that last set them.
    readiness: AtomicU64,
    /// The newest waker of each direction (mio rule 6: each poll may bring a new one).
    waiters: Mutex<Waiters>,
    /// What the source is (addresses), for task dumps; set by its owner.
    label: std::sync::OnceLock<Box<str>>,
}

#[derive(Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl ScheduledIo {
    pub(crate) fn new(generation: u32) -> ScheduledIo {
        ScheduledIo {
            generation,
            readiness: AtomicU64::new(0),
            waiters: Mutex::new(Waiters::default()),
            label: std::sync::OnceLock::new(),
        }
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records `ready` as of `tick` and moves the wakers it satisfies into `wake`.
    pub(crate) fn dispatch(&self, tick: u64, ready: Ready, wake: &mut Vec<Waker>) {
        // Set readiness *before* taking the wakers: a poller that registers its
        // waker after this point re-checks readiness and sees the new bits.
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                Some((tick << 8) | (cur & Ready::MASK) | ready.0)
            });
        let mut waiters = self.waiters();
        if ready.0 & Ready::mask(Direction::Read) != 0 {
            wake.extend(waiters.reader.take());
        }
        if ready.0 & Ready::mask(Direction::Write) != 0 {
            wake.extend(waiters.writer.take());
        }
    }

    fn ready_event(&self, direction: Direction) -> Option<ReadyEvent> {
        let cur = self.readiness.load(Ordering::Acquire);
        let bits = cur & Ready::mask(direction);
        (bits != 0).then_some(ReadyEvent {
            tick: cur >> 8,
            direction,
            bits,
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
    index: usize,
    sched: std::sync::Arc<ScheduledIo>,
}

impl Registration {
    pub(crate) fn new(handle: Handle, index: usize, sched: std::sync::Arc<ScheduledIo>) -> Self {
        Registration {
            handle,
            index,
            sched,
        }
    }

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
        let _ = self.sched.label.set(label.into());
    }

    /// Ready if the source is (possibly) ready in `direction`; otherwise stores
    /// the context's waker, to be woken by the next event in that direction.
    pub fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        if let Some(event) = self.sched.ready_event(direction) {
            return Poll::Ready(event);
        }
        crate::observe::waiting(crate::observe::WaitOn::Socket {
            direction,
            label: self.sched.label.get().map(|l| &**l),
        });
        {
            let mut waiters = self.sched.waiters();
            let slot = match direction {
                Direction::Read => &mut waiters.reader,
                Direction::Write => &mut waiters.writer,
            };
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        // The reactor may have set readiness between the first check and storing
        // the waker; it took no waker then, so look again.
        match self.sched.ready_event(direction) {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }

    /// Waits until the source is (possibly) ready in `direction`.
    pub async fn ready(&self, direction: Direction) -> ReadyEvent {
        std::future::poll_fn(|cx| self.poll_ready(cx, direction)).await
    }

    /// Clears the readiness `event` reported, after the operation it allowed
    /// returned `WouldBlock`. A newer event (another tick) is kept; closed and
    /// error bits are final and never cleared.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        let clear = Ready::clearable(event.direction);
        let _ = self
            .sched
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (cur >> 8 == event.tick).then_some(cur & !clear)
            });
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
                Poll::Ready(event) => event,
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
    pub fn deregister<S: mio::event::Source + ?Sized>(self, source: &mut S) -> io::Result<()> {
        let result = self.handle.inner.registry.deregister(source);
        log::trace!("deregistered slot {}", self.index);
        result
    }

    /// The reactor this registration belongs to.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut io = self.handle.inner.io();
        // Only free the slot if it is still ours (it always is: slots are freed
        // only here). Wakers still waiting are dropped with the ScheduledIo.
        if io
            .get(self.index)
            .is_some_and(|s| std::sync::Arc::ptr_eq(s, &self.sched))
        {
            io.remove(self.index);
        }
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("index", &self.index)
            .field("generation", &self.sched.generation)
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
    pub fn new(handle: &Handle, mut io: S) -> io::Result<Self> {
        let registration = handle.register(&mut io, Interest::READABLE | Interest::WRITABLE)?;
        Ok(PollIo {
            io: Some(io),
            registration: Some(registration),
        })
    }

    /// Registers `io` with the current thread's reactor (see [`crate::context`]).
    pub fn new_current(io: S) -> io::Result<Self> {
        Self::new(&crate::context::current(), io)
    }

    /// The source.
    pub fn get_ref(&self) -> &S {
        self.io.as_ref().expect("PollIo used after into_inner")
    }

    /// The source, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        self.io.as_mut().expect("PollIo used after into_inner")
    }

    /// The registration.
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
