//! asyncio's `async with asyncio.timeout(delay) as cm:`: a deadline around a
//! block of async code that the code itself (or anyone holding the handle, on
//! any thread) can move, query and test, re-exported as part of `time`.
//!
//! Not here: the one-shot `timeout(d, future)` (asyncio's `wait_for`), which
//! is [`crate::time::timeout`]; [`Elapsed`], the error both give
//! (`elapsed.rs`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::elapsed::Elapsed;
use crate::instant::Instant;
use crate::lock::lock;
use crate::sleep::Sleep;

/// What the scope's future and its handles share.
#[derive(Debug)]
struct State {
    /// `None`: no deadline (asyncio's `timeout(None)`), the block runs unbounded.
    deadline: Option<Instant>,
    /// Set once the deadline passed and the block was cancelled.
    expired: bool,
    /// The task awaiting the scope, woken by `reschedule` so that it re-arms
    /// its timer; one slot suffices since one future owns the scope.
    waker: Option<Waker>,
}

/// The handle of a [`timeout_scope`] (asyncio's `Timeout` context manager):
/// `Clone + Send + Sync`, to move the deadline from inside the block it guards
/// or from anywhere else.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::{sleep, timeout_scope, Instant};
/// ferrio::run(async {
///     let out = timeout_scope(Duration::from_millis(20), |cm| async move {
///         // More work than planned: push the deadline back.
///         cm.reschedule(Some(Instant::now() + Duration::from_secs(5)));
///         sleep(Duration::from_millis(40)).await;
///         "finished"
///     })
///     .await;
///     assert_eq!(out, Ok("finished"));
/// });
/// ```
#[derive(Clone)]
pub struct TimeoutHandle {
    state: Arc<Mutex<State>>,
}

impl TimeoutHandle {
    /// The current deadline (`None`: none).
    pub fn deadline(&self) -> Option<Instant> {
        lock(&self.state).deadline
    }

    /// Moves the deadline (earlier or later; `None` removes it). The scope's
    /// timer is re-armed at once. Has no effect once the scope expired.
    pub fn reschedule(&self, deadline: Option<Instant>) {
        let waker = {
            let mut state = lock(&self.state);
            if state.expired {
                return;
            }
            state.deadline = deadline;
            state.waker.take()
        };
        // Woken outside the lock: the scope's poll takes it again.
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the deadline passed and the block was cancelled.
    pub fn expired(&self) -> bool {
        lock(&self.state).expired
    }
}

impl fmt::Debug for TimeoutHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("TimeoutHandle")
            .field("deadline", &state.deadline)
            .field("expired", &state.expired)
            .finish()
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout_scope`] and [`timeout_scope_at`].
    /// `Send` when the block is.
    #[must_use = "futures do nothing unless awaited"]
    #[derive(Debug)]
    pub struct TimeoutScope<F> {
        #[pin]
        future: F,
        // Armed for the handle's deadline at each poll; `None` while there is none.
        delay: Option<Sleep>,
        handle: TimeoutHandle,
        started: Instant,
    }
}

/// Runs the block that `f` makes, giving it a [`TimeoutHandle`], for at most
/// `duration` unless the handle moves the deadline (asyncio's
/// `async with asyncio.timeout(delay) as cm:`).
///
/// Gives the block's output, or [`Elapsed`] if the deadline passed first; the
/// block is then dropped (cancelled) and [`TimeoutHandle::expired`] is true.
/// A block that is ready at the deadline still wins.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::{sleep, timeout_scope};
/// ferrio::run(async {
///     let mut handle = None;
///     let out = timeout_scope(Duration::from_millis(10), |cm| {
///         handle = Some(cm);
///         sleep(Duration::from_secs(10))
///     })
///     .await;
///     assert!(out.is_err());
///     assert!(handle.unwrap().expired());
/// });
/// ```
pub fn timeout_scope<F, Fut>(duration: Duration, f: F) -> TimeoutScope<Fut>
where
    F: FnOnce(TimeoutHandle) -> Fut,
    Fut: Future,
{
    let now = Instant::now();
    timeout_scope_at(now.checked_add(duration), f)
}

/// Like [`timeout_scope`], with a deadline (`None`: none until the handle
/// sets one) instead of a duration.
pub fn timeout_scope_at<F, Fut>(deadline: Option<Instant>, f: F) -> TimeoutScope<Fut>
where
    F: FnOnce(TimeoutHandle) -> Fut,
    Fut: Future,
{
    let handle = TimeoutHandle {
        state: Arc::new(Mutex::new(State {
            deadline,
            expired: false,
            waker: None,
        })),
    };
    TimeoutScope {
        future: f(handle.clone()),
        delay: None,
        handle,
        started: Instant::now(),
    }
}

impl<F> TimeoutScope<F> {
    /// Another handle on this scope's deadline.
    pub fn handle(&self) -> TimeoutHandle {
        self.handle.clone()
    }
}

impl<F: Future> Future for TimeoutScope<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.future.poll(cx) {
            // A later reschedule has nobody to wake.
            lock(&this.handle.state).waker = None;
            return Poll::Ready(Ok(v));
        }
        // Store the waker before reading the deadline: a reschedule after the
        // read finds the waker and wakes us to re-arm.
        let deadline = {
            let mut state = lock(&this.handle.state);
            match &state.waker {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => state.waker = Some(cx.waker().clone()),
            }
            state.deadline
        };
        let Some(deadline) = deadline else {
            *this.delay = None;
            return Poll::Pending;
        };
        let delay = this.delay.get_or_insert_with(|| Sleep::until(deadline));
        if delay.deadline() != deadline {
            delay.reset(deadline);
        }
        match Pin::new(delay).poll(cx) {
            Poll::Ready(()) => {
                let mut state = lock(&this.handle.state);
                state.expired = true;
                state.waker = None;
                Poll::Ready(Err(Elapsed {
                    after: deadline.saturating_duration_since(*this.started),
                }))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
