//! asyncio's `get_running_loop()`: a [`Handle`] on the running event loop
//! that spawns tasks and schedules callbacks (`call_soon_threadsafe`,
//! `call_later`, `call_at`) from the loop or from any other thread.
//!
//! Not here: building or driving a loop ([`crate::Runtime`], [`crate::run`]).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::time::Instant;
use crate::{JoinHandle, Spawner};

/// A handle on a running event loop (asyncio's `loop` from
/// `get_running_loop()`): `Clone + Send + Sync`, it spawns onto that loop
/// from any thread.
///
/// Tasks and callbacks scheduled through it run while the loop runs (inside
/// its `run` or `block_on`); once the runtime is dropped they are cancelled
/// at once.
///
/// ```
/// use std::time::Duration;
/// ferrio::run(async {
///     let handle = ferrio::Handle::current();
///     let (tx, rx) = ferrio::sync::oneshot::channel();
///     std::thread::spawn(move || {
///         // asyncio's loop.call_soon_threadsafe / run_coroutine_threadsafe
///         handle.spawn(async move { tx.send("from a thread").unwrap() });
///     });
///     assert_eq!(rx.await, Ok("from a thread"));
/// });
/// ```
#[derive(Clone)]
pub struct Handle {
    spawner: Spawner,
    /// The loop's reactor, whose clock `call_later` and `now` read; `None`
    /// for a bare executor (`Spawner` made outside a `Runtime`).
    reactor: Option<ferrio_reactor::Handle>,
}

/// A callback scheduled with [`Handle::call_soon`], [`Handle::call_later`] or
/// [`Handle::call_at`] (asyncio's `TimerHandle`). Dropping it does not cancel
/// the call; [`cancel`](Self::cancel) does.
pub struct TimerHandle {
    task: JoinHandle<()>,
    when: Instant,
}

impl Handle {
    /// The handle of the loop running on this thread.
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message that says so (as asyncio's
    /// `get_running_loop()` raises `RuntimeError`).
    #[track_caller]
    pub fn current() -> Handle {
        // A `match`, not `unwrap_or_else`: a closure would lose `#[track_caller]`.
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!("ferrio::Handle::current() called outside a ferrio runtime: call it from within ferrio::run or Runtime::block_on, and pass the handle to other threads"),
        }
    }

    /// The handle of the loop running on this thread, if any.
    pub fn try_current() -> Option<Handle> {
        ferrio_executor::try_current().map(|spawner| Handle {
            spawner,
            reactor: ferrio_reactor::context::try_current(),
        })
    }

    pub(crate) fn from_parts(spawner: Spawner, reactor: Option<ferrio_reactor::Handle>) -> Handle {
        Handle { spawner, reactor }
    }

    /// The loop's clock (asyncio's `loop.time()`), from any thread: what
    /// [`ferrio::time::Instant::now()`](crate::time::Instant::now) reads on
    /// the loop, paused or not (see [`crate::time::pause`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut rt = ferrio::Runtime::builder().start_paused(true).build().unwrap();
    /// let handle = rt.handle();
    /// let start = handle.now();
    /// // The sleep is made inside the runtime: its deadline is on its clock.
    /// rt.block_on(async { ferrio::time::sleep(Duration::from_secs(60)).await });
    /// assert_eq!(handle.now() - start, Duration::from_secs(60));
    /// ```
    pub fn now(&self) -> Instant {
        match &self.reactor {
            Some(reactor) => reactor.now(),
            None => Instant::now(),
        }
    }

    /// Spawns a `Send` task onto the loop, from any thread.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawner.spawn(future)
    }

    /// Runs `f` on the loop's blocking pool (asyncio's `run_in_executor`).
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawner.spawn_blocking(f)
    }

    /// Calls `f` on the loop's thread at its next turn, from any thread
    /// (asyncio's `call_soon_threadsafe`).
    pub fn call_soon<F>(&self, f: F) -> TimerHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let when = self.now();
        TimerHandle {
            task: self.spawner.spawn(async move { f() }),
            when,
        }
    }

    /// Calls `f` on the loop's thread once `delay` has passed (asyncio's
    /// `call_later`) on the loop's clock ([`now`](Handle::now), which a
    /// paused clock moves); never earlier.
    pub fn call_later<F>(&self, delay: Duration, f: F) -> TimerHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let now = self.now();
        let when = now
            .checked_add(delay)
            .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 30));
        self.call_at(when, f)
    }

    /// Calls `f` on the loop's thread at `when` (asyncio's `call_at`); never
    /// earlier.
    pub fn call_at<F>(&self, when: Instant, f: F) -> TimerHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let task = self.spawner.spawn(async move {
            crate::time::sleep_until(when).await;
            f();
        });
        TimerHandle { task, when }
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle").finish_non_exhaustive()
    }
}

impl TimerHandle {
    /// Cancels the call if it has not run yet (asyncio's `cancel()`).
    pub fn cancel(&self) {
        self.task.abort();
    }

    /// When the call is (or was) due.
    pub fn when(&self) -> Instant {
        self.when
    }

    /// Whether the call ran, or was cancelled.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits until the call ran (`true`) or was cancelled (`false`).
    ///
    /// # Panics
    ///
    /// If the callback panicked: the panic is resumed here.
    pub async fn finished(self) -> bool {
        match self.task.await {
            Ok(()) => true,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic().expect("is_panic")),
            Err(_) => false,
        }
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("when", &self.when)
            .field("finished", &self.is_finished())
            .finish()
    }
}
