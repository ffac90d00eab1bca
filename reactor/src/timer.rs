//! The timer map, [`Timers`]: armed deadlines ordered in a `BTreeMap`, each
//! with the waker to wake, and whether the poller sleeps past them.
//!
//! Arm, re-arm and cancel are O(log n); the earliest deadline is O(log n); firing
//! splits off every entry due at `now` in one step. An entry is due only when
//! `now >= deadline`, so a timer never fires early.
//!
//! It knows nothing of the reactor: the reactor's turn reads the next
//! deadline and fires the due entries, a `Sleep` arms and cancels its entry.
//! The loom models of that protocol and the unit tests are at the end.
//!
//! Not here: `Sleep`, the future that completes at a deadline (`sleep.rs`);
//! intervals and timeouts, built on it (`time.rs`, `scope.rs`).

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::Instant;

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

    /// Disarms the timer at `key`, if it is armed.
    pub(crate) fn remove(&mut self, key: &Key) {
        self.entries.remove(key);
    }

    /// The waker of the timer at `key`, if it is armed.
    pub(crate) fn waker_mut(&mut self, key: &Key) -> Option<&mut Waker> {
        self.entries.get_mut(key)
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
    /// reactor shuts down; each `Sleep` re-arms where it is polled next).
    pub(crate) fn take_all(&mut self, wake: &mut Vec<Waker>) {
        wake.extend(std::mem::take(&mut self.entries).into_values());
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The `Timers` bookkeeping alone: no reactor, no syscalls (so Miri runs it).
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use crate::testing::check;
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
            self.timers.lock().unwrap().remove(&key);
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
        check("timer armed from another thread", 3, || {
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
        check("timer arm + cancel from another thread", 3, || {
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
