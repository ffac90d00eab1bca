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

use crate::Handle;

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
        let handle = this.handle.get_or_insert_with(crate::context::current);
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
