//! [`Sleep`], the future that completes at a deadline on a reactor's timers,
//! and [`Handle::sleep_until`], which makes one on a given reactor.
//!
//! A sleep arms its timer at its first poll, on the reactor current then if it
//! was made without one, and completes only when the clock says its deadline
//! passed, whatever woke it.
//!
//! Not here: the timer map (`timer.rs`), whose due entries the reactor's turn
//! fires; `sleep`, `timeout` and `interval` (`time.rs`) and `timeout_scope`
//! (`scope.rs`), built on `Sleep`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::context::{self, Current};
use crate::instant::Instant;
use crate::observe;
use crate::reactor::Handle;
use crate::timer::Key;

/// A future that completes at a deadline. The reactor-level building block of
/// `ferrio::time::sleep`.
///
/// Dropping it before the deadline cancels its timer; nothing is left behind.
///
/// ```
/// use std::time::Duration;
/// let mut reactor = ferrio_reactor::Reactor::new().unwrap();
/// let deadline = reactor.handle().now() + Duration::from_millis(5);
/// let mut sleep = Box::pin(ferrio_reactor::Sleep::new(reactor.handle(), deadline));
/// let waker = std::task::Waker::noop();
/// let mut cx = std::task::Context::from_waker(&waker);
/// while sleep.as_mut().poll(&mut cx).is_pending() {
///     reactor.turn(None).unwrap();
/// }
/// assert!(reactor.handle().now() >= deadline);
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

    /// Whether the deadline has passed, on the clock of this sleep's
    /// runtime (the current one before its first poll).
    pub fn is_elapsed(&self) -> bool {
        self.now() >= self.deadline.into_std()
    }

    /// Whether the deadline is at or before `now` (a reading of [`Sleep::now`]).
    pub(crate) fn is_elapsed_at(&self, now: std::time::Instant) -> bool {
        now >= self.deadline.into_std()
    }

    /// The clock this sleep is measured against.
    #[inline]
    pub(crate) fn now(&self) -> std::time::Instant {
        if !crate::clock::any_shifted() {
            return std::time::Instant::now();
        }
        match &self.handle {
            Some(handle) => handle.inner.clock.now(),
            None => context::now(),
        }
    }

    /// Moves the deadline; the timer is re-armed on the next poll.
    pub fn reset(&mut self, deadline: Instant) {
        self.cancel();
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let (Some(key), Some(handle)) = (self.key.take(), &self.handle) {
            handle.inner.timers().remove(&key);
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let now = this.now();
        this.poll_at(cx, now)
    }
}

impl Sleep {
    /// [`Future::poll`] with the clock read by the caller, `now`, which the
    /// caller took no earlier than its own check of the deadline: a
    /// [`Timeout`](crate::time::Timeout) reads it once per poll for both.
    /// A deadline that passes after `now` is the armed timer's to fire.
    pub(crate) fn poll_at(&mut self, cx: &mut Context<'_>, now: std::time::Instant) -> Poll<()> {
        let this = self;
        if now >= this.deadline.into_std() {
            this.cancel();
            return Poll::Ready(());
        }
        let seen_from = this.handle.as_ref().map(|h| (context::relative_to(h), h));
        match seen_from {
            // Polled in another runtime than the one it was armed on, or
            // after that one shut down: move to the runtime polling it
            // (docs/architecture.md, rule R7). The deadline is absolute, so it holds.
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
        observe::waiting(observe::WaitOn::Timer {
            deadline: this.deadline.into_std(),
        });
        if let Some(key) = this.key {
            let mut timers = handle.inner.timers();
            if let Some(waker) = timers.waker_mut(&key) {
                if !waker.will_wake(cx.waker()) {
                    *waker = cx.waker().clone();
                }
                return Poll::Pending;
            }
            // The entry is gone although the deadline has not passed: the
            // reactor only fires due timers, so this cannot happen; arming
            // again below keeps the sleep correct regardless.
        }
        this.key = Some(handle.insert_timer(this.deadline.into_std(), cx.waker().clone()));
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
