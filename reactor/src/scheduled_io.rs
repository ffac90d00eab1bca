//! Readiness of one registered source: what the OS said, and who waits for it.
//!
//! Not here: the sockets themselves (ferrio-net) or what a wake means (the executor).

use std::future::Future;
use std::io;
use std::pin::Pin;
// The readiness word and the waiter lists are loom's under `--cfg loom`, for
// the model at the end of this file.
#[cfg(loom)]
use loom::sync::{
    atomic::{AtomicU64, Ordering},
    Mutex, MutexGuard,
};
#[cfg(not(loom))]
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Mutex, MutexGuard,
};
use std::task::{Context, Poll, Waker};

use mio::Interest;
use slab::Slab;

use crate::context::{self, Current};
use crate::reactor::{foreign_error, shut_down_error, Handle};

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
    /// Who waits in each direction. Behind a lock that is never held while a
    /// waker runs: wakers are taken out under it and woken after it is released.
    waiters: Mutex<Waiters>,
    /// What the source is (addresses), for task dumps; set by its owner.
    label: std::sync::OnceLock<Box<str>>,
}

#[derive(Default)]
struct Waiters {
    reader: DirectionWaiters,
    writer: DirectionWaiters,
}

impl Waiters {
    fn of(&mut self, direction: Direction) -> &mut DirectionWaiters {
        match direction {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }
}

/// Everyone waiting for one direction of one source (design rule 6: every
/// waiter registered when readiness arrives is woken).
#[derive(Default)]
struct DirectionWaiters {
    /// The waker of the `poll_*` path ([`Registration::poll_ready`]: reads,
    /// writes, accepts). The callers of `poll_read` and the like have nowhere
    /// to keep a ticket, so a waker is kept until the next event in its
    /// direction. This is the fast path: one task per direction, no
    /// allocation.
    poller: Option<Waker>,
    /// The wakers of other tasks on the `poll_*` path at the same time (two
    /// tasks reading one `&TcpStream`), each kept once (`will_wake`) and woken
    /// with `poller`. Not a replace-and-wake hand-over, which would have the
    /// tasks wake each other in turn for as long as nothing arrives. At most
    /// [`MAX_OTHER_POLLERS`]: past that the oldest is woken to make room (it
    /// polls again and comes back), so a task whose waker changes at every
    /// poll cannot grow the list.
    other_pollers: Vec<Waker>,
    /// The wakers of [`Readiness`] futures (`readable()`/`writable()`), each
    /// at the key its future holds. An entry is `None` once woken and until
    /// its future polls again; it is removed when the future completes or is
    /// dropped, so a cancelled waiter leaves nothing behind. Empty (and
    /// unallocated) unless someone awaits readiness.
    ready: Slab<Option<Waker>>,
}

/// How many wakers of the `poll_*` path beside the first one a direction
/// keeps (see [`DirectionWaiters::other_pollers`]).
const MAX_OTHER_POLLERS: usize = 32;

impl DirectionWaiters {
    /// Keeps `waker` to be woken by the next event, unless it is kept
    /// already. Returns a waker to wake now, outside the lock, when the list
    /// was full.
    fn add_poller(&mut self, waker: &Waker) -> Option<Waker> {
        let Some(first) = &self.poller else {
            self.poller = Some(waker.clone());
            return None;
        };
        if first.will_wake(waker) || self.other_pollers.iter().any(|w| w.will_wake(waker)) {
            return None;
        }
        let evicted =
            (self.other_pollers.len() == MAX_OTHER_POLLERS).then(|| self.other_pollers.remove(0));
        self.other_pollers.push(waker.clone());
        evicted
    }

    /// Moves every waker into `wake`, leaving the futures' entries in place.
    fn take_all(&mut self, wake: &mut Vec<Waker>) {
        wake.extend(self.poller.take());
        wake.append(&mut self.other_pollers);
        wake.extend(self.ready.iter_mut().filter_map(|(_, w)| w.take()));
    }
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
            waiters.reader.take_all(wake);
        }
        if ready.0 & Ready::mask(Direction::Write) != 0 {
            waiters.writer.take_all(wake);
        }
    }

    /// Moves every waker of both directions into `wake` (the reactor shuts down).
    pub(crate) fn take_all_waiters(&self, wake: &mut Vec<Waker>) {
        let mut waiters = self.waiters();
        waiters.reader.take_all(wake);
        waiters.writer.take_all(wake);
    }

    /// Clears what `event` reported, unless a newer tick set readiness since.
    fn clear(&self, event: ReadyEvent) {
        let clear = Ready::clearable(event.direction);
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (cur >> 8 == event.tick).then_some(cur & !clear)
            });
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
    ///
    /// This is the path of operations (`poll_read`, `poll_write`, ...): the
    /// waker is kept until the next event in `direction`, beside those of
    /// other tasks polling the same direction, and all are woken by it.
    ///
    /// # Errors
    ///
    /// Instead of waiting, when no wake could ever come (design rule 7): the
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
        crate::observe::waiting(crate::observe::WaitOn::Socket {
            direction,
            label: self.sched.label.get().map(|l| &**l),
        });
        let evicted = self.sched.waiters().of(direction).add_poller(cx.waker());
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
    /// path: an event wakes them all. Dropping one removes its waker.
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
        let mut waiters = self.sched.waiters();
        let waiters = waiters.of(direction);
        usize::from(waiters.poller.is_some()) + waiters.other_pollers.len() + waiters.ready.len()
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
            let mut waiters = self.registration.sched.waiters();
            waiters.of(self.direction).ready.try_remove(key);
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
        if let Err(e) = registration.check_can_wait() {
            this.leave();
            return Poll::Ready(Err(e));
        }
        crate::observe::waiting(crate::observe::WaitOn::Socket {
            direction: this.direction,
            label: registration.sched.label.get().map(|l| &**l),
        });
        {
            let mut waiters = registration.sched.waiters();
            let list = &mut waiters.of(this.direction).ready;
            match this.key.and_then(|key| list.get_mut(key)) {
                // Our own entry: a waker this future stored earlier is
                // replaced without a wake, it belongs to no other waiter.
                Some(entry) => match entry {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *entry = Some(cx.waker().clone()),
                },
                None => this.key = Some(list.insert(Some(cx.waker().clone()))),
            }
        }
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
        Self::new(&crate::context::current(), io)
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

// Plain unit tests: under `--cfg loom` the atomics are loom's, which only
// run inside a model (see `loom_model` below).
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::testing::Count;
    use std::sync::Arc;

    fn readable() -> Ready {
        Ready(Ready::READABLE)
    }

    #[test]
    fn dispatch_takes_the_slot_and_every_listed_waker_of_the_ready_direction_only() {
        let sched = ScheduledIo::new(0);
        let (reader, writer) = (Arc::new(Count::default()), Arc::new(Count::default()));
        {
            let mut waiters = sched.waiters();
            waiters.reader.poller = Some(Waker::from(reader.clone()));
            for _ in 0..3 {
                waiters
                    .reader
                    .ready
                    .insert(Some(Waker::from(reader.clone())));
            }
            waiters.writer.poller = Some(Waker::from(writer.clone()));
        }
        let mut wake = Vec::new();
        sched.dispatch(1, readable(), &mut wake);
        assert_eq!(wake.len(), 4, "the slot and three listed wakers");
        wake.into_iter().for_each(Waker::wake);
        assert_eq!(reader.0.load(Ordering::SeqCst), 4);
        assert_eq!(
            writer.0.load(Ordering::SeqCst),
            0,
            "a read event leaves writers waiting"
        );
        let mut waiters = sched.waiters();
        assert_eq!(
            waiters.reader.ready.len(),
            3,
            "listed entries stay (emptied) until their futures poll or drop"
        );
        assert!(waiters.of(Direction::Write).poller.is_some());
    }

    #[test]
    fn readiness_is_stamped_with_its_tick_and_cleared_only_by_that_tick() {
        let sched = ScheduledIo::new(0);
        let mut wake = Vec::new();
        sched.dispatch(7, readable(), &mut wake);
        let event = sched.ready_event(Direction::Read).expect("readable");
        assert_eq!(event.tick, 7);
        assert!(sched.ready_event(Direction::Write).is_none());
        sched.dispatch(8, readable(), &mut wake);
        sched.clear(event);
        let newer = sched
            .ready_event(Direction::Read)
            .expect("clearing with the old event keeps the newer readiness");
        sched.clear(newer);
        assert!(sched.ready_event(Direction::Read).is_none());
    }

    #[test]
    fn closed_and_error_bits_make_both_directions_ready() {
        let sched = ScheduledIo::new(0);
        let mut wake = Vec::new();
        sched.dispatch(1, Ready(Ready::ERROR), &mut wake);
        let read = sched
            .ready_event(Direction::Read)
            .expect("error wakes readers");
        let write = sched.ready_event(Direction::Write).expect("and writers");
        assert!(read.is_error() && write.is_error());
        assert!(!read.is_closed());
    }
}

/// A loom model of the per-direction waiter lists: two tasks on the `poll_*`
/// path (the first slot and the other pollers) and a task awaiting
/// `readable()` (the futures' list), against the reactor dispatching one
/// readable event. The `ScheduledIo` here is the real one (readiness word,
/// waiter lists, `add_poller`, dispatch) on loom's atomics and lock; the
/// waiting steps of `Registration::poll_ready` and `Readiness::poll` around
/// it (check, store the waker, check again) are copied, because a
/// `Registration` needs a live mio reactor, which cannot run under loom.
/// Run with `RUSTFLAGS="--cfg loom" cargo test -p ferrio-reactor --lib --release`.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use crate::testing::check_model;
    use loom::sync::Arc;
    use loom::thread;
    use std::task::Wake;

    /// A waker that unparks the loom thread that made it.
    struct Unpark(thread::Thread);

    impl Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }

    /// Where a waiter keeps its waker.
    #[derive(Clone, Copy)]
    enum Path {
        /// The `poll_*` path (`add_poller`).
        Poller,
        /// An entry of the `readable()` futures' list.
        List,
    }

    /// The waiting steps of `poll_ready` (`Poller`) or `Readiness::poll`
    /// (`List`): until the source is readable, store the waker, check again,
    /// park.
    fn wait(sched: &ScheduledIo, path: Path) {
        let waker = Waker::from(std::sync::Arc::new(Unpark(thread::current())));
        let mut key = None;
        while sched.ready_event(Direction::Read).is_none() {
            let evicted = {
                let mut waiters = sched.waiters();
                let waiters = waiters.of(Direction::Read);
                match path {
                    Path::Poller => waiters.add_poller(&waker),
                    Path::List => {
                        match key.and_then(|k| waiters.ready.get_mut(k)) {
                            Some(entry) => *entry = Some(waker.clone()),
                            None => key = Some(waiters.ready.insert(Some(waker.clone()))),
                        }
                        None
                    }
                }
            };
            // Outside the lock, as `poll_ready` does.
            if let Some(evicted) = evicted {
                evicted.wake();
            }
            if sched.ready_event(Direction::Read).is_some() {
                break;
            }
            thread::park();
        }
        if let Some(key) = key {
            sched.waiters().of(Direction::Read).ready.try_remove(key);
        }
    }

    #[test]
    fn one_readable_event_wakes_every_poller_and_every_readable_future() {
        check_model("waiter list", || {
            let sched = Arc::new(ScheduledIo::new(0));
            let waiters: Vec<_> = [Path::Poller, Path::Poller, Path::List]
                .into_iter()
                .map(|path| {
                    let sched = sched.clone();
                    thread::spawn(move || wait(&sched, path))
                })
                .collect();
            // The reactor's turn: dispatch, then wake outside the lock.
            let mut wake = Vec::new();
            sched.dispatch(1, Ready(Ready::mask(Direction::Read)), &mut wake);
            for waker in wake {
                waker.wake();
            }
            // A lost wakeup leaves a waiter parked forever: loom reports it.
            for waiter in waiters {
                waiter.join().unwrap();
            }
            let mut waiters = sched.waiters();
            assert!(
                waiters.of(Direction::Read).ready.is_empty(),
                "every readable() future removed its entry"
            );
        });
    }
}
