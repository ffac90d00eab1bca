//! Timers: deadlines ordered in a `BTreeMap`, feeding the poll timeout.
//!
//! Arm, re-arm and cancel are O(log n); the earliest deadline is O(log n); firing
//! splits off every entry due at `now` in one step. A timer never fires early:
//! an entry is due only when `now >= deadline`, and [`Sleep`] completes only
//! when the clock says so, whatever woke it.
//!
//! Not here: intervals and timeouts (built on [`Sleep`] by the facade).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::context::{self, Current};
use crate::reactor::Handle;

/// Identifies an armed timer: its deadline, then a sequence number so equal
/// deadlines stay distinct (and fire in the order they were armed).
pub(crate) type Key = (Instant, u64);

#[derive(Default)]
pub(crate) struct Timers {
    entries: BTreeMap<Key, Waker>,
    next_seq: u64,
    /// `Some(until)` while the reactor sleeps in `poll` (`until == None`: with no
    /// timeout). An earlier timer armed meanwhile must interrupt it.
    pub(crate) sleeping_until: Option<Option<Instant>>,
    /// Timers armed and fired since the reactor was made (metrics).
    pub(crate) armed: u64,
    pub(crate) fired: u64,
}

impl Timers {
    /// Arms a timer; returns its key and whether the sleeping poller must be woken.
    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> (Key, bool) {
        let key = (deadline, self.next_seq);
        self.next_seq += 1;
        self.armed += 1;
        self.entries.insert(key, waker);
        let interrupt = match self.sleeping_until {
            Some(None) => true,
            Some(Some(until)) => deadline < until,
            None => false,
        };
        (key, interrupt)
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.entries.first_key_value().map(|(key, _)| key.0)
    }

    /// Moves the wakers of every timer due at `now` into `wake`.
    pub(crate) fn expire(&mut self, now: Instant, wake: &mut Vec<Waker>) {
        if self.next_deadline().is_none_or(|d| d > now) {
            return;
        }
        // Careful to split just *after* `now`: a timer set for exactly `now` is due.
        let later = self.entries.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.entries, later);
        self.fired += due.len() as u64;
        wake.extend(due.into_values());
    }

    /// Moves the wakers of every timer into `wake`, disarming them all (the
    /// reactor shuts down; each [`Sleep`] re-arms where it is polled next).
    pub(crate) fn take_all(&mut self, wake: &mut Vec<Waker>) {
        wake.extend(std::mem::take(&mut self.entries).into_values());
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A future that completes at a deadline. The reactor-level building block of
/// `ferrio::time::sleep`.
///
/// Dropping it before the deadline cancels its timer; nothing is left behind.
///
/// ```
/// use std::time::{Duration, Instant};
/// let mut reactor = ferrio_reactor::Reactor::new().unwrap();
/// let deadline = Instant::now() + Duration::from_millis(5);
/// let mut sleep = Box::pin(ferrio_reactor::Sleep::new(reactor.handle(), deadline));
/// let waker = std::task::Waker::noop();
/// let mut cx = std::task::Context::from_waker(&waker);
/// while sleep.as_mut().poll(&mut cx).is_pending() {
///     reactor.turn(None).unwrap();
/// }
/// assert!(Instant::now() >= deadline);
/// # use std::future::Future;
/// ```
#[derive(Debug)]
pub struct Sleep {
    /// The reactor whose timers hold this sleep; looked up at the first poll
    /// when the sleep was made without one, so a sleep (or a timeout) can be
    /// built before the runtime that will drive it starts.
    handle: Option<Handle>,
    deadline: Instant,
    /// The armed timer, if any. `None` before the first poll and after it fired.
    key: Option<Key>,
}

impl Sleep {
    /// A sleep on `handle`'s timers until `deadline`.
    pub fn new(handle: Handle, deadline: Instant) -> Sleep {
        Sleep {
            handle: Some(handle),
            deadline,
            key: None,
        }
    }

    /// A sleep on the reactor that is current on the thread that first polls
    /// it (see [`crate::context`]).
    ///
    /// A sleep polled later inside another runtime (or after its runtime was
    /// dropped) moves to the reactor of the runtime that polls it: it still
    /// completes at its deadline.
    ///
    /// # Panics
    ///
    /// When polled on a thread with no current reactor, with a message that says so.
    pub fn until(deadline: Instant) -> Sleep {
        Sleep {
            handle: None,
            deadline,
            key: None,
        }
    }

    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// Moves the deadline; the timer is re-armed on the next poll.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let (Some(key), Some(handle)) = (self.key.take(), &self.handle) {
            handle.inner.timers().entries.remove(&key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            this.cancel();
            return Poll::Ready(());
        }
        let seen_from = this.handle.as_ref().map(|h| (context::relative_to(h), h));
        match seen_from {
            // Polled in another runtime than the one it was armed on, or
            // after that one shut down: move to the runtime polling it
            // (design rule 7). The deadline is absolute, so it holds.
            Some((Current::Other, _)) => {
                this.cancel();
                log::debug!("a timer moves to the reactor of the runtime polling it");
                this.handle = None;
            }
            Some((Current::None, handle)) if handle.is_shut_down() => panic!(
                "a ferrio timer was polled after its runtime shut down, outside any runtime: \
                 poll it inside a ferrio runtime (ferrio::run or Runtime::block_on)"
            ),
            // Its own reactor, or polled by hand while its reactor lives.
            _ => {}
        }
        let handle = this.handle.get_or_insert_with(context::current);
        crate::observe::waiting(crate::observe::WaitOn::Timer {
            deadline: this.deadline,
        });
        if let Some(key) = this.key {
            let mut timers = handle.inner.timers();
            if let Some(waker) = timers.entries.get_mut(&key) {
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
                return Poll::Pending;
            }
            // The entry is gone although the deadline has not passed: the
            // reactor only fires due timers, so this cannot happen; arming
            // again below keeps the sleep correct regardless.
        }
        this.key = Some(handle.insert_timer(this.deadline, cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl Handle {
    /// A [`Sleep`] on this reactor until `deadline`.
    pub fn sleep_until(&self, deadline: Instant) -> Sleep {
        Sleep::new(self.clone(), deadline)
    }
}

/// The `Timers` bookkeeping alone: no reactor, no syscalls (so Miri runs it).
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use crate::testing::check_model as check;
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::sync::{Arc, Condvar, Mutex};
    use std::task::Wake;
    use std::time::Duration;

    /// What `mio::Poll` + `mio::Waker` do for `turn`: block until woken.
    #[derive(Default)]
    struct Poller {
        woken: Mutex<bool>,
        condvar: Condvar,
    }

    impl Poller {
        fn unpark(&self) {
            *self.woken.lock().unwrap() = true;
            self.condvar.notify_one();
        }

        /// `poll(timeout)`: returns at once for a zero timeout, otherwise
        /// once woken. Every sleep in the model ends in a deadline far beyond
        /// it (or has none), so a sleep nobody interrupts never returns: loom
        /// reports that as a deadlock, i.e. a timer that would fire late.
        fn poll(&self, timeout: Option<Duration>) {
            let mut woken = self.woken.lock().unwrap();
            if timeout != Some(Duration::ZERO) {
                while !*woken {
                    woken = self.condvar.wait(woken).unwrap();
                }
            }
            *woken = false;
        }
    }

    struct Fired(AtomicUsize);

    impl Wake for Fired {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::AcqRel);
        }
    }

    struct Reactor {
        timers: Mutex<Timers>,
        poller: Poller,
    }

    impl Reactor {
        /// `Handle::insert_timer`.
        fn arm(&self, deadline: Instant, waker: Waker) -> Key {
            let (key, interrupt) = self.timers.lock().unwrap().insert(deadline, waker);
            if interrupt {
                self.poller.unpark();
            }
            key
        }

        /// `Sleep::cancel`.
        fn cancel(&self, key: Key) {
            self.timers.lock().unwrap().entries.remove(&key);
        }

        /// One `Reactor::turn` with no timeout of its own.
        fn turn(&self) {
            let timeout = {
                let mut timers = self.timers.lock().unwrap();
                let now = Instant::now();
                let timeout = timers
                    .next_deadline()
                    .map(|d| d.saturating_duration_since(now));
                timers.sleeping_until = Some(timeout.map(|t| now + t));
                timeout
            };
            self.poller.poll(timeout);
            let mut wake = Vec::new();
            {
                let mut timers = self.timers.lock().unwrap();
                timers.sleeping_until = None;
                timers.expire(Instant::now(), &mut wake);
            }
            for waker in wake {
                waker.wake();
            }
        }
    }

    fn reactor_with_a_late_timer() -> (Arc<Reactor>, Instant) {
        let reactor = Arc::new(Reactor {
            timers: Mutex::new(Timers::default()),
            poller: Poller::default(),
        });
        let late = Instant::now() + Duration::from_secs(3600);
        reactor.arm(late, Waker::noop().clone());
        (reactor, late)
    }

    #[test]
    fn a_due_timer_armed_from_another_thread_interrupts_a_sleeping_turn() {
        check("timer armed from another thread", || {
            let (reactor, _late) = reactor_with_a_late_timer();
            let fired = std::sync::Arc::new(Fired(AtomicUsize::new(0)));
            let armer = loom::thread::spawn({
                let (reactor, fired) = (reactor.clone(), fired.clone());
                move || {
                    // Due at once: it must fire in the turn that is sleeping
                    // (or the next), not at the late timer an hour away.
                    reactor.arm(Instant::now(), Waker::from(fired));
                }
            });
            // Each turn either sleeps (and must be interrupted) or finds the
            // timer due; two turns are always enough.
            for _ in 0..2 {
                if fired.0.load(Ordering::Acquire) == 1 {
                    break;
                }
                reactor.turn();
            }
            armer.join().unwrap();
            assert_eq!(
                fired.0.load(Ordering::Acquire),
                1,
                "the due timer fired once"
            );
        });
    }

    #[test]
    fn a_timer_cancelled_from_another_thread_fires_at_most_once_and_leaves_nothing() {
        check("timer arm + cancel from another thread", || {
            let (reactor, late) = reactor_with_a_late_timer();
            let fired = std::sync::Arc::new(Fired(AtomicUsize::new(0)));
            let done = std::sync::Arc::new(AtomicBool::new(false));
            let armer = loom::thread::spawn({
                let (reactor, fired, done) = (reactor.clone(), fired.clone(), done.clone());
                move || {
                    let key = reactor.arm(Instant::now(), Waker::from(fired));
                    reactor.cancel(key);
                    done.store(true, Ordering::Release);
                    // The reactor thread stops once it sees `done`: end its sleep.
                    reactor.poller.unpark();
                }
            });
            while !done.load(Ordering::Acquire) {
                reactor.turn();
            }
            armer.join().unwrap();
            assert!(fired.0.load(Ordering::Acquire) <= 1, "fired at most once");
            let timers = reactor.timers.lock().unwrap();
            assert_eq!(timers.len(), 1, "only the late timer is left");
            assert_eq!(timers.next_deadline(), Some(late));
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::testing::Count;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn expire_takes_exactly_the_timers_due_at_now_including_one_due_exactly_now() {
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        let mut timers = Timers::default();
        let now = Instant::now();
        timers.insert(
            now.checked_sub(Duration::from_millis(1)).unwrap_or(now),
            waker.clone(),
        );
        timers.insert(now, waker.clone());
        timers.insert(now + Duration::from_secs(60), waker.clone());
        let mut wake = Vec::new();
        timers.expire(now, &mut wake);
        assert_eq!(wake.len(), 2, "the past one and the one due exactly now");
        assert_eq!(timers.len(), 1);
        assert_eq!(timers.next_deadline(), Some(now + Duration::from_secs(60)));
        wake.into_iter().for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn equal_deadlines_stay_distinct_and_fire_together() {
        let mut timers = Timers::default();
        let at = Instant::now();
        let (a, _) = timers.insert(at, Waker::noop().clone());
        let (b, _) = timers.insert(at, Waker::noop().clone());
        assert_ne!(a, b);
        let mut wake = Vec::new();
        timers.expire(at, &mut wake);
        assert_eq!((wake.len(), timers.len()), (2, 0));
    }

    #[test]
    fn an_earlier_timer_interrupts_a_sleeping_poller_and_a_later_one_does_not() {
        let waker = Waker::noop().clone();
        let mut timers = Timers::default();
        let now = Instant::now();
        assert!(
            !timers.insert(now, waker.clone()).1,
            "not sleeping: no interrupt"
        );
        timers.sleeping_until = Some(Some(now + Duration::from_secs(1)));
        assert!(
            timers
                .insert(now + Duration::from_millis(10), waker.clone())
                .1
        );
        assert!(!timers.insert(now + Duration::from_secs(2), waker.clone()).1);
        timers.sleeping_until = Some(None);
        assert!(
            timers.insert(now + Duration::from_secs(3), waker).1,
            "sleeping with no timeout"
        );
    }

    #[test]
    fn take_all_disarms_every_timer() {
        let waker = Waker::noop().clone();
        let mut timers = Timers::default();
        let now = Instant::now();
        for i in 0..5 {
            timers.insert(now + Duration::from_secs(i), waker.clone());
        }
        let mut wake = Vec::new();
        timers.take_all(&mut wake);
        assert_eq!((wake.len(), timers.len()), (5, 0));
        assert_eq!(timers.next_deadline(), None);
    }
}
