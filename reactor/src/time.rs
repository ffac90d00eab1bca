//! Time: sleeping, intervals and timeouts (asyncio's `sleep`, `wait_for` and
//! `timeout`), re-exported by the facade as `ferrio::time`.
//!
//! Every timer lives on the reactor of the runtime it was first polled in; a
//! timer never completes before its deadline.
//!
//! Here: `sleep`, the one-shot `timeout`, `interval`, [`Instant::now`] and
//! the paused clock's [`pause`], [`advance`], [`resume`]. Defined elsewhere
//! and re-exported here: [`Sleep`] (`sleep.rs`), the deadline scope
//! [`timeout_scope`] (`scope.rs`), the error [`Elapsed`] (`elapsed.rs`),
//! [`Instant`] (`instant.rs`) and [`ClockError`] (`clock.rs`).
//! Not here: the timer map (`timer.rs`), the clock (`clock.rs`) and its
//! jump (`reactor.rs`).
//!
//! # The paused clock
//!
//! Each runtime reads deadlines against its own clock. [`pause`] (or
//! `Builder::start_paused(true)`, `#[ferrio::test(start_paused = 1)]`)
//! stops it: from then on [`Instant::now`] stands still, except that
//! [`advance`] moves it, and that whenever the runtime would otherwise block
//! with no task ready, having polled the OS without blocking and found
//! nothing (no I/O event, no wake from another thread) and with no
//! `spawn_blocking` job running, it jumps to the earliest timer's deadline
//! and fires it. So a test of a one-hour sleep finishes at once, sockets
//! still work (real I/O wakes the loop first), and timeouts fire at exact
//! virtual instants. [`resume`] lets the clock run again from where it
//! stands. `std::time::Instant::now()` never follows the paused clock.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

pub use crate::clock::ClockError;
use crate::context;
pub use crate::elapsed::Elapsed;
pub use crate::instant::Instant;
pub use crate::scope::{timeout_scope, timeout_scope_at, TimeoutHandle, TimeoutScope};
// `Sleep` is public at the crate root too: the docs show this as a
// re-export of that one, not as a second page.
#[doc(no_inline)]
pub use crate::sleep::Sleep;

/// Waits for `duration` (asyncio's `await asyncio.sleep(seconds)`).
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::Instant;
/// ferrio::run(async {
///     let start = Instant::now();
///     ferrio::time::sleep(Duration::from_millis(20)).await;
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
///
/// # Panics
///
/// When the `Sleep` is first polled outside a runtime (making one is fine
/// anywhere), with a message that says so.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// Waits until `deadline`.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::Instant;
/// ferrio::run(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     ferrio::time::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::until(deadline)
}

/// `now + duration`, saturating far in the future instead of overflowing.
fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 30))
}

impl Instant {
    /// Now, on the clock of the runtime current on this thread (see
    /// [the paused clock](self#the-paused-clock)); outside any runtime,
    /// std's `Instant::now()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrio::time::Instant;
    /// # #[ferrio::main]
    /// # async fn main() {
    /// ferrio::time::pause();
    /// let start = Instant::now();
    /// ferrio::time::sleep(Duration::from_secs(3600)).await; // at once
    /// assert_eq!(Instant::now() - start, Duration::from_secs(3600));
    /// # }
    /// ```
    pub fn now() -> Instant {
        Instant::from_std(context::now())
    }

    /// Time since `self`, on the current runtime's clock (`now() - self`).
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }
}

/// Stops the clock of the current runtime (tokio's `time::pause`): from
/// now on [`Instant::now`] moves only by [`advance`] and by the jump to
/// the next timer when the runtime is idle (see
/// [the paused clock](self#the-paused-clock)). For tests.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::{timeout, sleep, Instant};
/// ferrio::run(async {
///     ferrio::time::pause();
///     let start = Instant::now();
///     // A 30 s timeout, over in no wall time: the clock jumps to it.
///     let slow = timeout(Duration::from_secs(30), sleep(Duration::from_secs(60))).await;
///     assert!(slow.is_err());
///     assert_eq!(Instant::now() - start, Duration::from_secs(30));
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime; on a runtime with several workers ("time::pause()
/// requires a one-worker runtime", as tokio's requires its current-thread
/// runtime); if the clock is already paused.
#[track_caller]
pub fn pause() {
    if let Err(e) = context::current().pause_clock() {
        panic!("ferrio::time::pause(): {e}");
    }
}

/// Lets the paused clock of the current runtime run again, at std's rate,
/// from the instant it reads now (it does not catch up with std's time).
///
/// # Panics
///
/// Outside a runtime, or if the clock is not paused.
#[track_caller]
pub fn resume() {
    if let Err(e) = context::current().resume_clock() {
        panic!("ferrio::time::resume(): {e}");
    }
}

/// Moves the paused clock of the current runtime `duration` forward, fires
/// every timer due by then, and yields once, so the tasks those timers woke
/// have taken a step when it returns (tokio's `time::advance`).
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::{advance, Instant};
/// ferrio::run(async {
///     ferrio::time::pause();
///     let start = Instant::now();
///     let sleeper = ferrio::spawn(ferrio::time::sleep(Duration::from_secs(10)));
///     advance(Duration::from_secs(10)).await;
///     assert!(sleeper.is_finished());
///     assert_eq!(Instant::now() - start, Duration::from_secs(10));
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime, or if the clock is not paused.
pub async fn advance(duration: Duration) {
    if let Err(e) = context::current().advance_clock(duration) {
        panic!("ferrio::time::advance(): {e}");
    }
    // One yield: the tasks the due timers woke are queued before this one.
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`].
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        #[pin]
        delay: Sleep,
        after: Duration,
    }
}

/// Runs `future` for at most `duration` (asyncio's `wait_for`): its output, or
/// [`Elapsed`] if the deadline passed first, in which case `future` is dropped
/// (cancelled) with the `Timeout`.
///
/// The deadline is checked before each poll of `future`: once it has passed,
/// the result is [`Elapsed`] even if `future` would be ready at once (a
/// stream that always has data cannot carry a task past its timeout). So a
/// zero `duration` always elapses. Before the deadline, a `future` that is
/// ready wins.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::{sleep, timeout};
/// ferrio::run(async {
///     let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(10))).await;
///     assert!(slow.is_err());
///     let fast = timeout(Duration::from_secs(10), async { 5 }).await;
///     assert_eq!(fast, Ok(5));
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: sleep(duration),
        after: duration,
    }
}

/// Like [`timeout`], with a deadline instead of a duration. A deadline
/// already past gives [`Elapsed`] without polling `future`.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::{timeout_at, Instant};
/// ferrio::run(async {
///     let passed = Instant::now();
///     ferrio::time::sleep(Duration::from_millis(1)).await;
///     assert!(timeout_at(passed, async { "ready" }).await.is_err());
///     let later = Instant::now() + Duration::from_secs(10);
///     assert_eq!(timeout_at(later, async { "ready" }).await, Ok("ready"));
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    let after = deadline.saturating_duration_since(Instant::now());
    Timeout {
        future,
        delay: sleep_until(deadline),
        after,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The deadline before the work (docs/architecture.md, rule E7): once it has passed, the
        // inner future is not polled again, even if it would be ready at
        // once. Otherwise a source that is always ready (a body streaming
        // without pause) would carry the task past its timeout forever.
        // (tokio polls the inner future first; asyncio checks only when the
        // awaited thing suspends. ferrio honours a deadline that passed.)
        // One clock read serves both checks: a deadline passing while the
        // inner future polls is the armed timer's to report.
        let now = this.delay.now();
        if this.delay.is_elapsed_at(now) {
            return Poll::Ready(Err(Elapsed { after: *this.after }));
        }
        if let Poll::Ready(v) = this.future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match this.delay.get_mut().poll_at(cx, now) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed { after: *this.after })),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// What an [`Interval`] does when ticks were missed because the task was busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, then keep the original schedule.
    #[default]
    Burst,
    /// Fire one tick now and schedule the next a full period later.
    Delay,
    /// Fire one tick now and skip to the next tick of the original schedule.
    Skip,
}

/// Ticks every `period`; see [`interval`].
#[derive(Debug)]
pub struct Interval {
    delay: Pin<Box<Sleep>>,
    period: Duration,
    missed: MissedTickBehavior,
}

/// A stream of ticks `period` apart; the first tick completes at once.
///
/// ```
/// use std::time::Duration;
/// ferrio::run(async {
///     let mut ticks = ferrio::time::interval(Duration::from_millis(5));
///     let first = ticks.tick().await;
///     let second = ticks.tick().await;
///     assert!(second - first >= Duration::from_millis(5));
/// });
/// ```
///
/// # Panics
///
/// If `period` is zero, or when it is polled outside a runtime.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero, or when it is polled outside a runtime.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "interval period must be non-zero");
    Interval {
        delay: Box::pin(sleep_until(start)),
        period,
        missed: MissedTickBehavior::Burst,
    }
}

impl Interval {
    /// Waits for the next tick; returns the instant it was scheduled for.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.delay.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = match self.missed {
            MissedTickBehavior::Burst => scheduled + self.period,
            MissedTickBehavior::Delay if now > scheduled + self.period => now + self.period,
            MissedTickBehavior::Skip if now > scheduled + self.period => {
                let behind = (now - scheduled).as_nanos() / self.period.as_nanos().max(1);
                scheduled + self.period * (behind as u32 + 1)
            }
            _ => scheduled + self.period,
        };
        self.delay.as_mut().reset(next);
        Poll::Ready(scheduled)
    }

    /// Sets what happens to missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        let next = Instant::now() + self.period;
        self.delay.as_mut().reset(next);
    }
}
