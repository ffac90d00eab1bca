//! The reactor itself: the [`Reactor`] that owns the OS poller and turns, and
//! the [`Handle`] through which everything else reaches it. It holds the slab
//! of registrations (and their tokens) and the timer map.
//!
//! Not here: the waiter state of one source (`scheduled_io.rs`), the
//! `Registration` that waits on it and `Handle::register`, which makes one
//! (`io.rs`), the timer map itself (`timer.rs`) and `Sleep`, which arms
//! timers in it (`sleep.rs`), the thread-local current reactor (`context.rs`).

use std::io as stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::{Duration, Instant};

use mio::Interest;
use slab::Slab;

use crate::clock::{Clock, ClockError};
use crate::observe;
#[cfg(target_os = "linux")]
use crate::precise;
use crate::scheduled_io::{self, ScheduledIo};
use crate::shuffle::Shuffle;
use crate::timer::{self, Timers};

/// The token of the `mio::Waker` that interrupts a sleeping [`Reactor::turn`].
const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);

/// Bits of a token that hold the slab index; the bits above hold the generation.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Generations wrap within the bits a token has left (never reaching `WAKER_TOKEN`).
const GENERATION_MASK: u32 = ((usize::MAX >> INDEX_BITS) >> 1) as u32;

/// Capacity of the event buffer handed to `mio::Poll::poll`.
const EVENTS_CAPACITY: usize = 1024;

/// The OS poller, its registrations and the timers. Owned by one thread, which
/// calls [`turn`](Reactor::turn); everything else goes through a [`Handle`].
pub struct Reactor {
    /// The mio poller: epoll or kqueue.
    poll: mio::Poll,
    /// Reused event buffer, so a turn allocates nothing.
    events: mio::Events,
    /// Reused buffer of wakers collected under locks and woken after they are released.
    wake_buf: Vec<Waker>,
    /// Wakes a poll that sleeps on a timer at the exact deadline, not up to
    /// 1 ms later (Linux: timerfd). `None` where unavailable.
    #[cfg(target_os = "linux")]
    precise: Option<precise::PreciseTimer>,
    /// A seeded run's shuffle of each turn's wakes ([`Reactor::shuffle_wakes`]);
    /// `None`, the default, costs one test per turn.
    shuffle: Option<Shuffle>,
    /// Shared with every handle.
    handle: Handle,
}

/// A cheap, cloneable, thread-safe reference to a [`Reactor`].
///
/// ```
/// let reactor = ferrio_reactor::Reactor::new().unwrap();
/// let handle = reactor.handle();
/// std::thread::spawn(move || handle.unpark()).join().unwrap();
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// Registers sources from any thread without touching `Poll`.
    pub(crate) registry: mio::Registry,
    /// Registrations, indexed by the low bits of their token.
    io: Mutex<Slab<Arc<ScheduledIo>>>,
    /// Generation stamped into each new token, so an event for a freed slot that
    /// was reused is recognised as stale and dropped (mio rule: tokens are hints).
    next_generation: AtomicU32,
    /// Armed timers and what the poller is sleeping on.
    timers: Mutex<Timers>,
    /// What every deadline on this reactor is read against: std's clock,
    /// or a paused one (docs/architecture.md, "The clock").
    pub(crate) clock: Clock,
    /// Interrupts a sleeping `poll` from another thread.
    waker: mio::Waker,
    /// Bumped once per turn, *before* events are dispatched, so readiness set by
    /// this turn carries a tick newer than any `ReadyEvent` a task already holds.
    tick: AtomicU64,
    /// OS events received (metrics; Relaxed, one add per turn).
    io_events: AtomicU64,
    /// Set when the [`Reactor`] is dropped: nothing will turn this poller
    /// again, so a source registered here can never be woken (docs/architecture.md, rule R7).
    /// Set *before* the waiters are taken and woken, so that a waiter that
    /// stores its waker after that sees the flag when it checks again.
    shut_down: AtomicBool,
}

impl Reactor {
    /// Creates a reactor with its own OS poller.
    ///
    /// # Errors
    ///
    /// The OS's error when it cannot make the poller (epoll, kqueue), its waker
    /// or a second descriptor of the poller: typically, the process is out of
    /// file descriptors.
    pub fn new() -> stdio::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let registry = poll.registry().try_clone()?;
        let inner = Arc::new(Inner {
            registry,
            io: Mutex::new(Slab::new()),
            next_generation: AtomicU32::new(0),
            timers: Mutex::new(Timers::default()),
            clock: Clock::default(),
            waker,
            tick: AtomicU64::new(0),
            io_events: AtomicU64::new(0),
            shut_down: AtomicBool::new(false),
        });
        #[cfg(target_os = "linux")]
        let precise = precise::PreciseTimer::new(poll.registry())
            .map_err(|e| log::warn!("no timerfd, timers fall back to 1 ms precision: {e}"))
            .ok();
        Ok(Reactor {
            poll,
            events: mio::Events::with_capacity(EVENTS_CAPACITY),
            wake_buf: Vec::new(),
            #[cfg(target_os = "linux")]
            precise,
            shuffle: None,
            handle: Handle { inner },
        })
    }

    /// A handle to this reactor.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// For a seeded run (tests): from now on, the wakers one turn collects
    /// (the ready events' and the expired timers') are woken in an order drawn
    /// from a generator seeded with `seed`, not in the poller's and the timer
    /// map's order. The same seed and the same events give the same order.
    ///
    /// ```
    /// let mut reactor = ferrio_reactor::Reactor::new().unwrap();
    /// reactor.shuffle_wakes(7);
    /// assert_eq!(reactor.turn(Some(std::time::Duration::ZERO)).unwrap(), 0);
    /// ```
    pub fn shuffle_wakes(&mut self, seed: u64) {
        self.shuffle = Some(Shuffle::new(seed));
    }

    /// Wakes what the turn collected, every lock released (a woken waker may
    /// re-enter the reactor); returns how many. Inlined into the turn, so an
    /// unseeded reactor pays one test of `shuffle` per turn and no call.
    #[inline(always)]
    fn wake_collected(&mut self) -> usize {
        if self.shuffle.is_some() {
            self.shuffle_collected();
        }
        let woken = self.wake_buf.len();
        for waker in self.wake_buf.drain(..) {
            waker.wake();
        }
        woken
    }

    #[cold]
    #[inline(never)]
    fn shuffle_collected(&mut self) {
        if let Some(shuffle) = self.shuffle.as_mut() {
            shuffle.shuffle(&mut self.wake_buf);
        }
    }

    /// Waits for I/O events or the next timer deadline, at most `timeout`
    /// (`None`: as long as it takes), then wakes every waker whose event or
    /// deadline arrived. Returns how many wakers were woken.
    ///
    /// `Interrupted` is retried; any other poll error is returned.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut reactor = ferrio_reactor::Reactor::new().unwrap();
    /// assert_eq!(reactor.turn(Some(Duration::ZERO)).unwrap(), 0);
    /// ```
    ///
    /// # Errors
    ///
    /// An error of the OS's poll (`epoll_wait`, `kevent`) other than
    /// `Interrupted`, which is retried; nothing is woken then.
    pub fn turn(&mut self, timeout: Option<Duration>) -> stdio::Result<usize> {
        if self.handle.inner.clock.is_paused() {
            return self.turn_paused(timeout, false);
        }
        let inner = &*self.handle.inner;
        let timeout = {
            let mut timers = inner.timers();
            let now = inner.clock.now();
            let next_deadline = timers.next_deadline();
            let until_timer = next_deadline.map(|d| d.saturating_duration_since(now));
            let timeout = match (timeout, until_timer) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // About to block on a timer: have the timerfd end the poll at the
            // deadline itself, not at the next whole millisecond.
            #[cfg(target_os = "linux")]
            if let (Some(deadline), Some(precise)) = (next_deadline, self.precise.as_mut()) {
                if until_timer == timeout && timeout.is_some_and(|t| !t.is_zero()) {
                    precise.arm(deadline, now);
                }
            }
            // Published under the timers lock: a timer armed from another thread
            // after this point sees it and interrupts the poll if it is earlier.
            timers.sleeping_until = Some(timeout.map(|t| now + t));
            timeout
        };
        self.poll_and_wake(timeout).map(|(woken, _)| woken)
    }

    /// [`turn`](Reactor::turn) for a caller with nothing else to do: no task
    /// is ready and nothing but this reactor (I/O, timers, an
    /// [`unpark`](Handle::unpark)) can make work. The same as `turn(None)`,
    /// except on a paused clock: there it first polls the OS without
    /// blocking, and if nothing at all arrived (no event, no unpark) and a
    /// timer is armed, the clock jumps to the earliest deadline and that
    /// timer fires, instead of blocking for a time that will never pass
    /// (docs/architecture.md, "The clock").
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut reactor = ferrio_reactor::Reactor::new().unwrap();
    /// let handle = reactor.handle();
    /// handle.pause_clock().unwrap();
    /// let start = handle.now();
    /// let deadline = start + Duration::from_secs(3600);
    /// let mut sleep = Box::pin(handle.sleep_until(deadline));
    /// let waker = std::task::Waker::noop();
    /// let mut cx = std::task::Context::from_waker(&waker);
    /// while sleep.as_mut().poll(&mut cx).is_pending() {
    ///     reactor.turn_idle().unwrap(); // jumps: an hour passes at once
    /// }
    /// assert_eq!(handle.now() - start, Duration::from_secs(3600));
    /// # use std::future::Future;
    /// ```
    ///
    /// # Errors
    ///
    /// As [`turn`](Reactor::turn).
    pub fn turn_idle(&mut self) -> stdio::Result<usize> {
        if self.handle.inner.clock.is_paused() {
            return self.turn_paused(None, true);
        }
        self.turn(None)
    }

    /// A turn while the clock is paused: time stands still, so a timer in
    /// the future ends no wait; only an idle turn jumps to it.
    #[cold]
    fn turn_paused(&mut self, timeout: Option<Duration>, idle: bool) -> stdio::Result<usize> {
        let inner = self.handle.inner.clone();
        let due = {
            let mut timers = inner.timers();
            let now = inner.clock.now();
            let due = timers.next_deadline().is_some_and(|d| d <= now);
            // Any timer armed meanwhile interrupts a blocking poll: an idle
            // loop may have to jump to it.
            timers.sleeping_until = Some((due || idle).then_some(now));
            due
        };
        if due || idle || timeout == Some(Duration::ZERO) {
            // Look without blocking first.
            let (woken, arrived) = self.poll_and_wake(Some(Duration::ZERO))?;
            if !idle || due || woken > 0 || arrived {
                return Ok(woken);
            }
            // Nothing arrived and nobody has work: jump to the next timer.
            let next = {
                let mut timers = inner.timers();
                let next = timers.next_deadline();
                if next.is_none() {
                    // No timer: wait for I/O or an unpark, as long as it
                    // takes. Published under the same lock as the look, so
                    // a timer armed from another thread from now on
                    // interrupts the poll.
                    timers.sleeping_until = Some(None);
                }
                next
            };
            if let Some(next) = next {
                let now = inner.clock.jump_to(next);
                inner.timers().expire(now, &mut self.wake_buf);
                let woken = self.wake_collected();
                log::trace!("paused clock jumped to the next timer; {woken} woken");
                return Ok(woken);
            }
        }
        // Not idle (or idle with no timer): time stands still, so only I/O
        // or an unpark ends the wait; `sleeping_until` was published above
        // (`Some(None)`: any timer armed meanwhile interrupts it).
        self.poll_and_wake(timeout).map(|(woken, _)| woken)
    }

    /// Polls the OS for at most `timeout`, then wakes what the events and
    /// the due timers were waiting for. The caller published
    /// `sleeping_until`. Returns how many wakers were woken and whether the
    /// poll returned any event at all (an unpark included).
    fn poll_and_wake(&mut self, timeout: Option<Duration>) -> stdio::Result<(usize, bool)> {
        let inner = &*self.handle.inner;
        // Readiness set by events of this turn must not be erased by a task that
        // acts on an event of an earlier turn (rule 1 of mio: clear by tick).
        let tick = inner.tick.fetch_add(1, Ordering::AcqRel) + 1;
        let polled = loop {
            match self.poll.poll(&mut self.events, timeout) {
                Err(e) if e.kind() == stdio::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        {
            // One lock after the poll: stop inviting interrupts, and collect
            // the timers. Careful: collect them *after* the poll, against a
            // fresh `now`, so a timer whose deadline passed during the poll
            // fires in this turn.
            let mut timers = inner.timers();
            timers.sleeping_until = None;
            if polled.is_ok() {
                timers.expire(inner.clock.now(), &mut self.wake_buf);
            }
        }
        polled?;

        let arrived = !self.events.is_empty();
        if arrived {
            let mut dispatched = 0;
            let io = inner.io();
            for event in self.events.iter() {
                let token = event.token();
                if token == WAKER_TOKEN {
                    continue;
                }
                #[cfg(target_os = "linux")]
                if token == precise::TIMER_TOKEN {
                    if let Some(precise) = self.precise.as_mut() {
                        precise.expired();
                    }
                    continue;
                }
                let index = token.0 & INDEX_MASK;
                let generation = (token.0 >> INDEX_BITS) as u32;
                match io.get(index) {
                    Some(sched) if sched.generation == generation => {
                        dispatched += 1;
                        sched.dispatch(
                            tick,
                            scheduled_io::Ready::from_mio(event),
                            &mut self.wake_buf,
                        );
                    }
                    // The registration is gone, or its slot now belongs to a newer one.
                    _ => log::trace!("dropping stale event for token {token:?}"),
                }
            }
            inner.io_events.fetch_add(dispatched, Ordering::Relaxed);
        }

        // Every lock is released here.
        Ok((self.wake_collected(), arrived))
    }
}

impl Drop for Reactor {
    /// Marks the reactor shut down and wakes everyone still waiting on it:
    /// every socket waiter and every timer. They poll again and find the
    /// reactor gone (a socket fails with `shut_down_error`, a timer moves
    /// to the reactor current where it is polled), instead of waiting forever.
    fn drop(&mut self) {
        let inner = &*self.handle.inner;
        inner.shut_down.store(true, Ordering::Release);
        {
            let io = inner.io();
            for (_, sched) in io.iter() {
                sched.take_all_waiters(&mut self.wake_buf);
            }
        }
        inner.timers().take_all(&mut self.wake_buf);
        log::debug!(
            "reactor shut down; waking {} waiters so they see it",
            self.wake_buf.len()
        );
        // Every lock is released here.
        for waker in self.wake_buf.drain(..) {
            waker.wake();
        }
    }
}

impl Handle {
    /// Whether the [`Reactor`] of this handle was dropped. Sources registered
    /// with it can no longer wait for readiness, and nothing can be
    /// registered with it.
    ///
    /// ```
    /// let reactor = ferrio_reactor::Reactor::new().unwrap();
    /// let handle = reactor.handle();
    /// assert!(!handle.is_shut_down());
    /// drop(reactor);
    /// assert!(handle.is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        self.inner.shut_down.load(Ordering::Acquire)
    }

    /// Interrupts a sleeping [`Reactor::turn`] (or makes the next one return at
    /// once). Safe to call from any thread.
    pub fn unpark(&self) {
        if let Err(e) = self.inner.waker.wake() {
            log::warn!("failed to wake the reactor: {e}");
        }
    }

    /// The reactor's half of [`Handle::register`]: gives `source` a slot and
    /// a token that carries the slot's generation, and registers it with the
    /// OS poller for `interest`. Returns its waiter state, which holds the slot.
    pub(crate) fn add_source<S: mio::event::Source + ?Sized>(
        &self,
        source: &mut S,
        interest: Interest,
    ) -> stdio::Result<Arc<ScheduledIo>> {
        let generation =
            self.inner.next_generation.fetch_add(1, Ordering::Relaxed) & GENERATION_MASK;
        let (index, sched) = {
            let mut io = self.inner.io();
            let entry = io.vacant_entry();
            let index = entry.key();
            if index > INDEX_MASK {
                return Err(stdio::Error::other(
                    "too many registrations with the reactor",
                ));
            }
            // Below 2^24 (`INDEX_MASK`), so it fits.
            let sched = Arc::new(ScheduledIo::new(generation, index as u32));
            entry.insert(sched.clone());
            (index, sched)
        };
        let token = mio::Token(index | ((generation as usize) << INDEX_BITS));
        if let Err(e) = self.inner.registry.register(source, token, interest) {
            self.inner.io().remove(index);
            return Err(e);
        }
        log::trace!("registered {token:?} for {interest:?}");
        Ok(sched)
    }

    /// Frees `sched`'s slot, when a registration that holds it drops.
    pub(crate) fn remove_source(&self, sched: &Arc<ScheduledIo>) {
        let index = sched.index as usize;
        let mut io = self.inner.io();
        // Only free the slot if it is still ours (it always is: slots are freed
        // only here).
        if io.get(index).is_some_and(|s| Arc::ptr_eq(s, sched)) {
            io.remove(index);
        }
    }

    /// This reactor's clock: std's time, unless it was paused (then what
    /// [`pause_clock`](Handle::pause_clock), advances and jumps made it).
    /// Readable from any thread.
    pub fn now(&self) -> crate::instant::Instant {
        crate::instant::Instant::from_std(self.inner.clock.now())
    }

    /// Whether this reactor's clock is paused now.
    pub fn is_clock_paused(&self) -> bool {
        self.inner.clock.is_paused()
    }

    /// Stops this reactor's clock (`ferrio::time::pause` on the current
    /// runtime): it reads the same until [`advance_clock`](Handle::advance_clock)
    /// moves it or an idle [`Reactor::turn_idle`] jumps it to the next timer.
    ///
    /// # Errors
    ///
    /// [`ClockError::AlreadyPaused`]; [`ClockError::SeveralWorkers`] if
    /// [`set_pausable(false)`](Handle::set_pausable) was called.
    pub fn pause_clock(&self) -> Result<(), ClockError> {
        self.inner.clock.pause()
    }

    /// Lets a paused clock run again, at std's rate, from where it stands.
    ///
    /// # Errors
    ///
    /// [`ClockError::NotPaused`].
    pub fn resume_clock(&self) -> Result<(), ClockError> {
        self.inner.clock.resume()?;
        // A turn sleeping with no timeout must now sleep until the next timer.
        self.unpark();
        Ok(())
    }

    /// Moves a paused clock `by` forward and wakes every timer due then.
    ///
    /// # Errors
    ///
    /// [`ClockError::NotPaused`].
    pub fn advance_clock(&self, by: Duration) -> Result<(), ClockError> {
        let now = self.inner.clock.advance(by)?;
        let mut due = Vec::new();
        self.inner.timers().expire(now, &mut due);
        // Woken outside the lock: a waker may re-enter the reactor.
        for waker in due {
            waker.wake();
        }
        Ok(())
    }

    /// Whether [`pause_clock`](Handle::pause_clock) may stop this reactor's
    /// clock (default: yes). A runtime whose reactor several worker threads
    /// turn says no: none of them alone knows that every task is idle, which
    /// the jump to the next timer requires.
    pub fn set_pausable(&self, pausable: bool) {
        self.inner.clock.set_pausable(pausable);
    }

    /// Arms a timer at `deadline` that wakes `waker`; returns its key.
    pub(crate) fn insert_timer(&self, deadline: Instant, waker: Waker) -> timer::Key {
        let (key, interrupt) = self.inner.timers().insert(deadline, waker);
        if interrupt {
            // The poller sleeps past this deadline: wake it so it recomputes (rule 5).
            self.unpark();
        }
        key
    }

    /// How many registrations are live. For tests and diagnostics.
    pub fn registration_count(&self) -> usize {
        self.inner.io().len()
    }

    /// How many timers are armed. For tests and diagnostics.
    pub fn timer_count(&self) -> usize {
        self.inner.timers().len()
    }

    /// The reactor's counters (see [`observe::Metrics`]).
    ///
    /// ```
    /// let reactor = ferrio_reactor::Reactor::new().unwrap();
    /// let m = reactor.handle().metrics();
    /// assert_eq!((m.io_events, m.registrations), (0, 0));
    /// ```
    pub fn metrics(&self) -> observe::Metrics {
        let (timers_armed, timers_fired, timers_pending) = {
            let timers = self.inner.timers();
            (timers.armed, timers.fired, timers.len())
        };
        observe::Metrics {
            io_events: self.inner.io_events.load(Ordering::Relaxed),
            timers_armed,
            timers_fired,
            timers_pending,
            registrations: self.inner.io().len(),
        }
    }

    pub(crate) fn ptr_eq(&self, other: &Handle) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("registrations", &self.registration_count())
            .field("timers", &self.timer_count())
            .finish()
    }
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reactor")
            .field("handle", &self.handle)
            .finish()
    }
}

impl Inner {
    fn io(&self) -> MutexGuard<'_, Slab<Arc<ScheduledIo>>> {
        crate::lock::lock(&self.io)
    }

    pub(crate) fn timers(&self) -> MutexGuard<'_, Timers> {
        crate::lock::lock(&self.timers)
    }
}
