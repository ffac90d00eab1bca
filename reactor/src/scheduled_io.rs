// Over 800 lines on purpose: one protocol (a source's readiness word and its waiters), about 530 lines of code; the rest are its unit tests and loom models, which reach its private state.
//! The waiter state of one registered source, [`ScheduledIo`]: its readiness
//! word (what the OS said, stamped with the tick of the turn that said it)
//! and, per [`Direction`], the lists of who waits for it. With it the
//! readiness bits and the [`ReadyEvent`] a waiter acts on.
//!
//! It knows nothing of the reactor: the reactor's turn sets readiness here and
//! takes the wakers (`dispatch`), a `Registration` stores wakers here and
//! clears readiness. The loom model of the waiter lists is at the end.
//!
//! Not here: the registration that waits on this state and the futures that
//! do (`io.rs`), the slab of registrations and their tokens (`reactor.rs`),
//! the sockets themselves (ferrio-net) or what a wake means (the executor).

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
use std::task::Waker;

use slab::Slab;

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
///
/// [`Registration::poll_ready`]: crate::Registration::poll_ready
/// [`Registration::clear_readiness`]: crate::Registration::clear_readiness
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

/// A place for one direction's last [`ReadyEvent`], kept by whoever waited
/// for it until an operation that says `WouldBlock` takes it to clear it
/// with [`Registration::clear_readiness`](crate::Registration::clear_readiness)
/// (the sockets' `readable()` then `try_read()`). One word, no lock: a socket
/// keeps one per direction for its whole life, so its size is part of every
/// idle connection's.
#[derive(Debug, Default)]
pub struct ReadySlot {
    /// The event as a readiness word (tick above the low byte, bits below),
    /// or 0 for none: an event kept always has a bit set.
    word: AtomicU64,
}

impl ReadySlot {
    /// Keeps `event`, replacing what was kept.
    #[inline]
    pub fn keep(&self, event: ReadyEvent) {
        // An event has a bit set (it says the direction is ready), so its word is never 0.
        debug_assert!(event.bits != 0);
        self.word.store(
            (event.tick << 8) | (event.bits & Ready::MASK),
            Ordering::Release,
        );
    }

    /// Takes the event kept, if any, as an event in `direction` (the one it
    /// was kept for).
    #[inline]
    pub fn take(&self, direction: Direction) -> Option<ReadyEvent> {
        let word = self.word.swap(0, Ordering::AcqRel);
        (word != 0).then_some(ReadyEvent {
            tick: word >> 8,
            direction,
            bits: word & Ready::MASK,
        })
    }
}

/// Shared between the reactor (which sets readiness) and the registration (which
/// waits on and clears it).
pub(crate) struct ScheduledIo {
    /// Stamped into the token; an event whose token carries another generation
    /// belongs to a registration that no longer exists.
    pub(crate) generation: u32,
    /// The reactor's slot for this source (below 2^24: `INDEX_BITS`), kept
    /// here rather than in each [`Registration`](crate::Registration), where
    /// it would take a word of every socket.
    pub(crate) index: u32,
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

/// Everyone waiting for one direction of one source (docs/architecture.md, rule R6: every
/// waiter registered when readiness arrives is woken).
///
/// The first waiter is kept inline, and the lists for more are boxed on
/// first use: an idle connection has one task waiting in one direction, and
/// a registration lives as long as its socket, so what every one of them
/// carries is what the runtime's memory per idle connection is made of
/// (issue 20: the lists inline cost 112 bytes per registration, and the
/// futures' list a 128-byte allocation at the first `readable()`).
#[derive(Default)]
struct DirectionWaiters {
    /// The first waiter, of either kind (see [`First`]).
    first: First,
    /// Everyone else; allocated when a second waiter comes, kept (empty)
    /// after.
    more: Option<Box<MoreWaiters>>,
}

/// The waiter a direction keeps inline.
#[derive(Default)]
enum First {
    #[default]
    Empty,
    /// The waker of the `poll_*` path
    /// ([`Registration::poll_ready`](crate::Registration::poll_ready): reads,
    /// writes, accepts). The callers of `poll_read` and the like have nowhere
    /// to keep a ticket, so a waker is kept until the next event in its
    /// direction. This is the fast path: one task per direction, no
    /// allocation.
    Poller(Waker),
    /// A [`Readiness`](crate::Readiness) future (`readable()`/`writable()`),
    /// at key 0: its waker while it waits, then the event that woke it
    /// (docs/architecture.md, rule R6: an event completes every future waiting
    /// when it arrives, even if another task clears the readiness before the
    /// future polls again). Removed when its future completes or is dropped,
    /// so a cancelled waiter leaves nothing behind.
    Future(FutureEntry),
}

/// The waiters of a direction past the first.
#[derive(Default)]
struct MoreWaiters {
    /// The wakers of tasks on the `poll_*` path besides the one kept inline
    /// (two tasks reading one `&TcpStream`), each kept once (`will_wake`) and
    /// woken with it. Not a replace-and-wake hand-over, which would have the
    /// tasks wake each other in turn for as long as nothing arrives. At most
    /// [`MAX_OTHER_POLLERS`]: past that the oldest is woken to make room (it
    /// polls again and comes back), so a task whose waker changes at every
    /// poll cannot grow the list.
    other_pollers: Vec<Waker>,
    /// The [`Readiness`](crate::Readiness) futures not kept inline, the entry
    /// at slab key `k` being the future's key `k + 1`.
    futures: Slab<FutureEntry>,
}

/// One [`Readiness`](crate::Readiness) future's entry in a direction's list.
enum FutureEntry {
    /// Waiting, with the waker of the future's last poll.
    Waiting(Waker),
    /// Woken without an event (the reactor shut down): the future looks again
    /// when it polls.
    Woken,
    /// Woken by an event: the future completes with it when it polls. The
    /// event as a readiness word (its tick above the low byte, its bits in
    /// the list's direction below), one word to keep the entry small.
    Notified(u64),
}

/// What [`ScheduledIo::wait_future`] found in a future's entry.
pub(crate) enum FutureWait {
    /// The future waits, at this key.
    Waiting(usize),
    /// An event woke the future since it last polled (its entry is removed):
    /// it completes with that event.
    Notified(ReadyEvent),
}

/// How many wakers of the `poll_*` path beside the first one a direction
/// keeps (see [`MoreWaiters::other_pollers`]).
const MAX_OTHER_POLLERS: usize = 32;

impl DirectionWaiters {
    /// Keeps `waker` to be woken by the next event, unless it is kept
    /// already. Returns a waker to wake now, outside the lock, when the list
    /// was full.
    fn add_poller(&mut self, waker: &Waker) -> Option<Waker> {
        match &self.first {
            First::Empty => {
                self.first = First::Poller(waker.clone());
                return None;
            }
            First::Poller(first) if first.will_wake(waker) => return None,
            _ => {}
        }
        let others = &mut self.more.get_or_insert_with(Box::default).other_pollers;
        if others.iter().any(|w| w.will_wake(waker)) {
            return None;
        }
        let evicted = (others.len() == MAX_OTHER_POLLERS).then(|| others.remove(0));
        others.push(waker.clone());
        evicted
    }

    /// The entry of the future at `key`, if it has one.
    fn future_mut(&mut self, key: usize) -> Option<&mut FutureEntry> {
        match (key, &mut self.first) {
            (0, First::Future(entry)) => Some(entry),
            (0, _) => None,
            (k, _) => self.more.as_mut()?.futures.get_mut(k - 1),
        }
    }

    /// Adds a future's entry; returns its key.
    fn insert_future(&mut self, entry: FutureEntry) -> usize {
        if let First::Empty = self.first {
            self.first = First::Future(entry);
            return 0;
        }
        1 + self
            .more
            .get_or_insert_with(Box::default)
            .futures
            .insert(entry)
    }

    /// Removes the entry at `key`, if there is one.
    fn remove_future(&mut self, key: usize) -> Option<FutureEntry> {
        match key {
            0 => match std::mem::take(&mut self.first) {
                First::Future(entry) => Some(entry),
                other => {
                    self.first = other;
                    None
                }
            },
            k => self.more.as_mut()?.futures.try_remove(k - 1),
        }
    }

    /// Every future's entry.
    fn futures_mut(&mut self) -> impl Iterator<Item = &mut FutureEntry> {
        let first = match &mut self.first {
            First::Future(entry) => Some(entry),
            _ => None,
        };
        let more = self.more.as_deref_mut().into_iter();
        first
            .into_iter()
            .chain(more.flat_map(|m| m.futures.iter_mut().map(|(_, entry)| entry)))
    }

    /// How many futures have an entry.
    fn future_count(&self) -> usize {
        usize::from(matches!(self.first, First::Future(_)))
            + self.more.as_ref().map_or(0, |m| m.futures.len())
    }

    /// How many wakers of the `poll_*` path are kept.
    fn poller_count(&self) -> usize {
        usize::from(matches!(self.first, First::Poller(_)))
            + self.more.as_ref().map_or(0, |m| m.other_pollers.len())
    }

    /// Moves the wakers of the `poll_*` path into `wake`.
    #[inline(always)]
    fn take_pollers(&mut self, wake: &mut Vec<Waker>) {
        if let First::Poller(_) = self.first {
            if let First::Poller(waker) = std::mem::take(&mut self.first) {
                wake.push(waker);
            }
        }
        if let Some(more) = &mut self.more {
            if !more.other_pollers.is_empty() {
                wake.append(&mut more.other_pollers);
            }
        }
    }

    /// Moves every waker into `wake` for the event `word` (a readiness word
    /// masked to this direction), leaving the futures' entries in place,
    /// each marked with the event (docs/architecture.md, rule R6). An entry woken already
    /// (its future has yet to poll) takes the newer event without a second
    /// wake.
    // Always inlined: `dispatch` is the reactor's hot path (one call per event).
    #[inline(always)]
    fn take_all(&mut self, wake: &mut Vec<Waker>, word: u64) {
        self.take_pollers(wake);
        for entry in self.futures_mut() {
            if let FutureEntry::Waiting(waker) =
                std::mem::replace(entry, FutureEntry::Notified(word))
            {
                wake.push(waker);
            }
        }
    }

    /// Moves every waker into `wake` without an event (the reactor shuts
    /// down): the futures' entries are only marked woken, so their futures
    /// look again and find the reactor gone.
    fn wake_all(&mut self, wake: &mut Vec<Waker>) {
        self.take_pollers(wake);
        for entry in self.futures_mut() {
            if let FutureEntry::Waiting(_) = entry {
                if let FutureEntry::Waiting(waker) = std::mem::replace(entry, FutureEntry::Woken) {
                    wake.push(waker);
                }
            }
        }
    }
}

impl ScheduledIo {
    pub(crate) fn new(generation: u32, index: u32) -> ScheduledIo {
        ScheduledIo {
            generation,
            index,
            readiness: AtomicU64::new(0),
            waiters: Mutex::new(Waiters::default()),
            label: std::sync::OnceLock::new(),
        }
    }

    fn waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Says what the source is (addresses), for task dumps. Only the first
    /// label sticks.
    pub(crate) fn set_label(&self, label: Box<str>) {
        let _ = self.label.set(label);
    }

    /// What the source's owner said it is, if it said.
    pub(crate) fn label(&self) -> Option<&str> {
        self.label.get().map(|l| &**l)
    }

    /// Keeps `waker` of the `poll_*` path to be woken by the next event in
    /// `direction` (see [`DirectionWaiters::add_poller`]). Returns a waker
    /// to wake now, once the lock is released, when the list was full.
    pub(crate) fn add_poller(&self, direction: Direction, waker: &Waker) -> Option<Waker> {
        self.waiters().of(direction).add_poller(waker)
    }

    /// The waiting step of a `Readiness` future: if an event woke it since it
    /// last polled (its entry at `key` is marked), removes the entry and
    /// returns that event; otherwise stores `waker` in its entry (a new one if
    /// it has none yet) and returns the entry's key. The future's own earlier
    /// waker is replaced without a wake: it belongs to no other waiter.
    pub(crate) fn wait_future(
        &self,
        direction: Direction,
        key: Option<usize>,
        waker: &Waker,
    ) -> FutureWait {
        let mut waiters = self.waiters();
        let list = waiters.of(direction);
        let Some((key, entry)) = key.and_then(|key| list.future_mut(key).map(|entry| (key, entry)))
        else {
            return FutureWait::Waiting(list.insert_future(FutureEntry::Waiting(waker.clone())));
        };
        match entry {
            &mut FutureEntry::Notified(word) => {
                list.remove_future(key);
                FutureWait::Notified(ReadyEvent {
                    tick: word >> 8,
                    direction,
                    bits: word & Ready::MASK,
                })
            }
            FutureEntry::Waiting(w) if w.will_wake(waker) => FutureWait::Waiting(key),
            entry => {
                *entry = FutureEntry::Waiting(waker.clone());
                FutureWait::Waiting(key)
            }
        }
    }

    /// Removes the entry at `key` from the futures' list of `direction`
    /// (its future completed or was dropped).
    pub(crate) fn remove_future_waker(&self, direction: Direction, key: usize) {
        self.waiters().of(direction).remove_future(key);
    }

    /// How many wakers wait in `direction`: those of the `poll_*` path and
    /// one per entry of the futures' list.
    pub(crate) fn waiter_count(&self, direction: Direction) -> usize {
        let mut waiters = self.waiters();
        let waiters = waiters.of(direction);
        waiters.poller_count() + waiters.future_count()
    }

    /// Records `ready` as of `tick` and moves the wakers it satisfies into `wake`.
    pub(crate) fn dispatch(&self, tick: u64, ready: Ready, wake: &mut Vec<Waker>) {
        // Set readiness *before* taking the wakers: a poller that registers its
        // waker after this point re-checks readiness and sees the new bits.
        let word = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                Some((tick << 8) | (cur & Ready::MASK) | ready.0)
            })
            .map_or_else(|cur| cur, |cur| (tick << 8) | (cur & Ready::MASK) | ready.0);
        // What a future waiting in a direction completes with: the word as
        // this event left it, masked to that direction.
        let masked = |direction| word & ((u64::MAX << 8) | Ready::mask(direction));
        let mut waiters = self.waiters();
        if ready.0 & Ready::mask(Direction::Read) != 0 {
            waiters.reader.take_all(wake, masked(Direction::Read));
        }
        if ready.0 & Ready::mask(Direction::Write) != 0 {
            waiters.writer.take_all(wake, masked(Direction::Write));
        }
    }

    /// Moves every waker of both directions into `wake` (the reactor shuts down).
    pub(crate) fn take_all_waiters(&self, wake: &mut Vec<Waker>) {
        let mut waiters = self.waiters();
        waiters.reader.wake_all(wake);
        waiters.writer.wake_all(wake);
    }

    /// Clears what `event` reported, unless a newer tick set readiness since.
    pub(crate) fn clear(&self, event: ReadyEvent) {
        let clear = Ready::clearable(event.direction);
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |cur| {
                (cur >> 8 == event.tick).then_some(cur & !clear)
            });
    }

    pub(crate) fn ready_event(&self, direction: Direction) -> Option<ReadyEvent> {
        let cur = self.readiness.load(Ordering::Acquire);
        let bits = cur & Ready::mask(direction);
        (bits != 0).then_some(ReadyEvent {
            tick: cur >> 8,
            direction,
            bits,
        })
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
        let sched = ScheduledIo::new(0, 0);
        let (reader, writer) = (Arc::new(Count::default()), Arc::new(Count::default()));
        {
            let mut waiters = sched.waiters();
            waiters.reader.first = First::Poller(Waker::from(reader.clone()));
            for _ in 0..3 {
                waiters
                    .reader
                    .insert_future(FutureEntry::Waiting(Waker::from(reader.clone())));
            }
            waiters.writer.first = First::Poller(Waker::from(writer.clone()));
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
            waiters.reader.future_count(),
            3,
            "listed entries stay (marked with the event) until their futures poll or drop"
        );
        assert_eq!(waiters.of(Direction::Write).poller_count(), 1);
    }

    #[test]
    fn futures_past_the_first_get_their_own_keys_and_a_freed_first_key_is_reused() {
        let sched = ScheduledIo::new(0, 0);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let keys: Vec<usize> = (0..3)
            .map(|_| match wait(&sched, None, &waker) {
                FutureWait::Waiting(key) => key,
                FutureWait::Notified(_) => panic!("no event yet"),
            })
            .collect();
        assert_eq!(keys, [0, 1, 2], "the first inline, the others in the list");
        sched.remove_future_waker(Direction::Read, 0);
        assert_eq!(sched.waiter_count(Direction::Read), 2);
        let FutureWait::Waiting(again) = wait(&sched, None, &waker) else {
            panic!("no event yet")
        };
        assert_eq!(again, 0, "the inline entry is used again once free");
        let mut wake = Vec::new();
        sched.dispatch(3, readable(), &mut wake);
        assert_eq!(wake.len(), 3, "every future's waker, inline or listed");
        for key in [0, 1, 2] {
            match wait(&sched, Some(key), &waker) {
                FutureWait::Notified(event) => assert_eq!(event.tick, 3),
                FutureWait::Waiting(_) => panic!("future {key} missed the event"),
            }
        }
        assert_eq!(sched.waiter_count(Direction::Read), 0);
    }

    #[test]
    fn a_ready_slot_gives_back_the_event_it_kept_once() {
        let sched = ScheduledIo::new(0, 0);
        sched.dispatch(9, readable(), &mut Vec::new());
        let event = sched.ready_event(Direction::Read).expect("readable");
        let slot = ReadySlot::default();
        assert!(slot.take(Direction::Read).is_none(), "empty at first");
        slot.keep(event);
        let taken = slot.take(Direction::Read).expect("kept");
        assert_eq!((taken.tick, taken.bits), (event.tick, event.bits));
        assert!(slot.take(Direction::Read).is_none(), "taken once");
        sched.clear(taken);
        assert!(
            sched.ready_event(Direction::Read).is_none(),
            "the event taken clears what it reported"
        );
    }

    #[test]
    fn readiness_is_stamped_with_its_tick_and_cleared_only_by_that_tick() {
        let sched = ScheduledIo::new(0, 0);
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

    /// The waiting step of a `Readiness` future, as `Readiness::poll` does
    /// it after finding the word empty.
    fn wait(sched: &ScheduledIo, key: Option<usize>, waker: &Waker) -> FutureWait {
        sched.wait_future(Direction::Read, key, waker)
    }

    #[test]
    fn a_future_waiting_when_an_event_arrives_completes_with_it_after_the_readiness_is_cleared() {
        let sched = ScheduledIo::new(0, 0);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let FutureWait::Waiting(key) = wait(&sched, None, &waker) else {
            panic!("nothing arrived yet: the future waits");
        };
        let mut wake = Vec::new();
        sched.dispatch(3, readable(), &mut wake);
        assert_eq!(wake.len(), 1, "the event wakes the future");
        // Another task reads the source dry before the future polls again.
        sched.clear(sched.ready_event(Direction::Read).expect("readable"));
        assert!(sched.ready_event(Direction::Read).is_none());
        let FutureWait::Notified(event) = wait(&sched, Some(key), &waker) else {
            panic!("the event that woke the future completes it");
        };
        assert_eq!((event.tick, event.direction), (3, Direction::Read));
        assert!(!event.is_closed() && !event.is_error());
        assert_eq!(sched.waiter_count(Direction::Read), 0, "its entry is gone");
        // The mark is spent: the next wait waits for the next event.
        assert!(matches!(
            wait(&sched, Some(key), &waker),
            FutureWait::Waiting(_)
        ));
    }

    #[test]
    fn a_second_event_before_the_poll_wakes_once_and_leaves_the_newer_event() {
        let sched = ScheduledIo::new(0, 0);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let FutureWait::Waiting(key) = wait(&sched, None, &waker) else {
            panic!("the future waits");
        };
        let mut wake = Vec::new();
        sched.dispatch(3, readable(), &mut wake);
        sched.dispatch(4, Ready(Ready::READ_CLOSED), &mut wake);
        assert_eq!(wake.len(), 1, "one wake for the two events");
        let FutureWait::Notified(event) = wait(&sched, Some(key), &waker) else {
            panic!("notified");
        };
        assert_eq!(event.tick, 4);
        assert!(
            event.is_closed(),
            "the newer event's bits, with the older ones"
        );
    }

    #[test]
    fn a_write_event_leaves_read_futures_waiting_and_shutdown_wakes_without_an_event() {
        let sched = ScheduledIo::new(0, 0);
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let FutureWait::Waiting(key) = wait(&sched, None, &waker) else {
            panic!("the future waits");
        };
        let mut wake = Vec::new();
        sched.dispatch(1, Ready(Ready::WRITABLE), &mut wake);
        assert!(wake.is_empty());
        assert!(matches!(wait(&sched, Some(key), &waker), FutureWait::Waiting(k) if k == key));
        sched.take_all_waiters(&mut wake);
        assert_eq!(wake.len(), 1, "shutdown wakes the future");
        assert!(
            matches!(wait(&sched, Some(key), &waker), FutureWait::Waiting(k) if k == key),
            "without an event to complete with: it looks again (and finds the reactor gone)"
        );
    }

    #[test]
    fn closed_and_error_bits_make_both_directions_ready() {
        let sched = ScheduledIo::new(0, 0);
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

/// The loom models of the per-direction waiter lists: two tasks on the
/// `poll_*` path (the first slot and the other pollers) and a task awaiting
/// `readable()` (the futures' list), against the reactor dispatching one
/// readable event; and a `readable()` future against a reader that clears
/// the readiness of the event that woke them both. The `ScheduledIo` here is the real one (readiness word,
/// waiter lists, the stores `add_poller` and `wait_future`,
/// dispatch) on loom's atomics and lock; the waiting steps of
/// `Registration::poll_ready` and `Readiness::poll` around it (check, store
/// the waker, check again) are copied, because a `Registration` needs a live
/// mio reactor, which cannot run under loom.
/// Run with `RUSTFLAGS="--cfg loom" cargo test -p ferrio-reactor --lib --release`.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use crate::testing::check;
    use loom::sync::atomic::AtomicBool;
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
        /// An entry of the `readable()` futures' list (`wait_future`).
        List,
    }

    /// The waiting steps of `poll_ready` (`Poller`) or `Readiness::poll`
    /// (`List`): until the source is readable (or, on `List`, an event
    /// marked the entry), store the waker, check again, park. Returns the
    /// event it completed with. `registered` is set once the waker is stored
    /// the first time.
    fn wait(sched: &ScheduledIo, path: Path, registered: &AtomicBool) -> ReadyEvent {
        let waker = Waker::from(std::sync::Arc::new(Unpark(thread::current())));
        let mut key = None;
        let event = loop {
            if let Some(event) = sched.ready_event(Direction::Read) {
                break event;
            }
            let evicted = match path {
                Path::Poller => sched.add_poller(Direction::Read, &waker),
                Path::List => match sched.wait_future(Direction::Read, key, &waker) {
                    FutureWait::Notified(event) => {
                        key = None;
                        break event;
                    }
                    FutureWait::Waiting(k) => {
                        key = Some(k);
                        None
                    }
                },
            };
            registered.store(true, Ordering::Release);
            // Outside the lock, as `poll_ready` does.
            if let Some(evicted) = evicted {
                evicted.wake();
            }
            if let Some(event) = sched.ready_event(Direction::Read) {
                break event;
            }
            thread::park();
        };
        if let Some(key) = key {
            sched.remove_future_waker(Direction::Read, key);
        }
        event
    }

    #[test]
    fn one_readable_event_wakes_every_poller_and_every_readable_future() {
        check("waiter list", 3, || {
            let sched = Arc::new(ScheduledIo::new(0, 0));
            let waiters: Vec<_> = [Path::Poller, Path::Poller, Path::List]
                .into_iter()
                .map(|path| {
                    let sched = sched.clone();
                    thread::spawn(move || {
                        wait(&sched, path, &AtomicBool::new(false));
                    })
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
                waiters.of(Direction::Read).future_count() == 0,
                "every readable() future removed its entry"
            );
        });
    }
    /// Design rule 6 for `readable()`: a future waiting when the event
    /// arrives completes with it, even when a reader woken by the same event
    /// drains the source and clears the readiness first (a short read, or a
    /// read until `WouldBlock`). The event is dispatched only once the future
    /// stored its waker. Without the mark on the future's entry (an entry
    /// only woken), the future finds the word cleared, parks again, and loom
    /// reports the deadlock.
    #[test]
    fn an_event_completes_the_readable_future_waiting_for_it_even_if_a_reader_clears_it_first() {
        check("seen wake stays seen", 3, || {
            let sched = Arc::new(ScheduledIo::new(0, 0));
            let registered = Arc::new(AtomicBool::new(false));
            let future = {
                let (sched, registered) = (sched.clone(), registered.clone());
                thread::spawn(move || wait(&sched, Path::List, &registered))
            };
            let reader = {
                let sched = sched.clone();
                thread::spawn(move || {
                    let event = wait(&sched, Path::Poller, &AtomicBool::new(false));
                    // The read drained the source: clear what it acted on.
                    sched.clear(event);
                })
            };
            // The reactor's turn, once the future waits: dispatch, then wake
            // outside the lock.
            while !registered.load(Ordering::Acquire) {
                thread::yield_now();
            }
            let mut wake = Vec::new();
            sched.dispatch(1, Ready(Ready::READABLE), &mut wake);
            for waker in wake {
                waker.wake();
            }
            let event = future.join().unwrap();
            reader.join().unwrap();
            assert_eq!(event.tick, 1, "the future completed with the event");
            assert!(
                sched.waiters().of(Direction::Read).future_count() == 0,
                "the future removed its entry"
            );
        });
    }
}
