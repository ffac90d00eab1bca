//! The task: one allocation that holds a future, its state word, and the slot
//! its output waits in for the [`JoinHandle`].
//!
//! Not here: queues and the loop that runs tasks (`scheduler.rs`).
//!
//! # State
//!
//! One atomic word, each bit documented below. Transitions:
//! - wake: set `NOTIFIED`; the waker that flipped it from 0 enqueues the task,
//!   so a task sits in a run queue at most once and is polled once per wake.
//! - run: clear `NOTIFIED`, then poll (or drop the future if `CANCELLED`).
//! - complete: store the output, then set `COMPLETE`; a task with `COMPLETE`
//!   set is never polled again.
//! - `JOIN_INTEREST` is held by the live `JoinHandle`. Whoever sees the other
//!   side gone (handle dropped, or task completed) drops the output.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use crate::scheduler::Shared;

/// The task is in a run queue (or about to be pushed to one).
const NOTIFIED: usize = 1 << 0;
/// The output (or the error) is stored; the future is gone.
const COMPLETE: usize = 1 << 1;
/// `abort` was called: the next run drops the future instead of polling it.
const CANCELLED: usize = 1 << 2;
/// A `JoinHandle` exists and may still take the output.
const JOIN_INTEREST: usize = 1 << 3;

/// Where a task's slot in the scheduler's registry is not assigned yet.
pub(crate) const NO_SLOT: usize = usize::MAX;

/// The completion side of a task, shared with its [`JoinHandle`].
pub(crate) struct JoinState<T> {
    state: AtomicUsize,
    output: Mutex<Option<Result<T, JoinError>>>,
    join_waker: Mutex<Option<Waker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Poisoning cannot happen: no user code runs while these locks are held
    // except inside `catch_unwind`.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> JoinState<T> {
    pub(crate) fn new() -> Self {
        JoinState {
            // A new task is queued by whoever creates it, hence NOTIFIED.
            state: AtomicUsize::new(JOIN_INTEREST | NOTIFIED),
            output: Mutex::new(None),
            join_waker: Mutex::new(None),
        }
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.state.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// Stores `result` and wakes the joiner. Called once, by the side that ran the task.
    pub(crate) fn complete(&self, result: Result<T, JoinError>) {
        if let Err(JoinError { repr: Repr::Panicked(_), id }) = &result {
            if self.state.load(Ordering::Relaxed) & JOIN_INTEREST == 0 {
                log::warn!("task {id} panicked and nobody holds its JoinHandle");
            }
        }
        *lock(&self.output) = Some(result);
        let prev = self.state.fetch_or(COMPLETE, Ordering::AcqRel);
        debug_assert!(prev & COMPLETE == 0, "a task completed twice");
        if prev & JOIN_INTEREST == 0 {
            // The handle is gone: nobody will read the output, drop it here.
            drop(lock(&self.output).take());
            return;
        }
        let waker = lock(&self.join_waker).take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        if !self.is_complete() {
            {
                let mut slot = lock(&self.join_waker);
                match &*slot {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *slot = Some(cx.waker().clone()),
                }
            }
            // `complete` sets COMPLETE before taking the waker; look again so a
            // completion between the first check and storing the waker is seen.
            if !self.is_complete() {
                return Poll::Pending;
            }
        }
        match lock(&self.output).take() {
            Some(result) => Poll::Ready(result),
            None => panic!("JoinHandle polled after it returned the task's output"),
        }
    }

    pub(crate) fn drop_join_interest(&self) {
        let prev = self.state.fetch_and(!JOIN_INTEREST, Ordering::AcqRel);
        if prev & COMPLETE != 0 {
            drop(lock(&self.output).take());
        }
    }

    /// Whether `abort` was called.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.state.load(Ordering::Acquire) & CANCELLED != 0
    }

    /// Sets `CANCELLED`; true if the task was not complete yet.
    pub(crate) fn cancel(&self) -> bool {
        self.state.fetch_or(CANCELLED, Ordering::AcqRel) & COMPLETE == 0
    }

    /// Sets `NOTIFIED`; true if this call flipped it (the caller must enqueue).
    fn notify(&self) -> bool {
        let prev = self.state.fetch_or(NOTIFIED, Ordering::AcqRel);
        prev & (NOTIFIED | COMPLETE) == 0
    }
}

/// What the scheduler holds of a task, whatever its future's type.
pub(crate) trait Runnable: Send + Sync {
    /// Polls the future once (or drops it if cancelled); completes the task if it finished.
    fn run(self: Arc<Self>);
    /// Drops the future without polling it and completes the task as cancelled.
    fn shutdown(&self);
    /// The task's index in the scheduler's registry, or `NO_SLOT`.
    fn slot(&self) -> &AtomicUsize;
    fn is_complete(&self) -> bool;
}

/// The task itself. `F` is stored inline, so spawning allocates once.
pub(crate) struct Task<F: Future> {
    join: JoinState<F::Output>,
    future: Mutex<Option<F>>,
    scheduler: Arc<Shared>,
    slot: AtomicUsize,
    id: u64,
}

// SAFETY: `Task<F>` must be `Send + Sync` to live in `Arc<dyn Runnable>` and to
// be a `Waker`. For `F: Send` with `F::Output: Send` (every task made by
// `spawn`) the auto traits would hold anyway. A task made by `spawn_local` may
// hold a `!Send` future or output; it is sound because:
// - the future is polled only by `run` and dropped only by `run` or `shutdown`,
//   and the scheduler calls those only on the thread that owns it (local tasks
//   are never handed to another thread: remote wakes only re-enqueue them on
//   their owner, see `Shared::schedule`);
// - the scheduler's registry holds a reference until the future is gone, so the
//   last `Arc` dropped on another thread (by a waker) never drops the future;
// - the output is taken by the `JoinHandle`, which is `!Send` when the output is
//   (`PhantomData<T>`), or dropped by `complete` on the owner thread.
// Miri runs the executor's tests, `spawn_local` ones included.
unsafe impl<F: Future> Send for Task<F> {}
// SAFETY: see `Send` above; every field is behind an atomic or a mutex.
unsafe impl<F: Future> Sync for Task<F> {}

impl<F: Future + 'static> Task<F> {
    pub(crate) fn new(future: F, scheduler: Arc<Shared>, id: u64) -> Arc<Self> {
        Arc::new(Task {
            join: JoinState::new(),
            future: Mutex::new(Some(future)),
            scheduler,
            slot: AtomicUsize::new(NO_SLOT),
            id,
        })
    }

    pub(crate) fn join_handle(self: &Arc<Self>) -> JoinHandle<F::Output> {
        JoinHandle { raw: self.clone(), id: self.id, _output: PhantomData }
    }

    fn finish(&self, result: Result<F::Output, JoinError>) {
        self.join.complete(result);
        self.scheduler.release(self.slot.load(Ordering::Relaxed));
    }
}

impl<F: Future + 'static> Runnable for Task<F> {
    fn run(self: Arc<Self>) {
        let prev = self.join.state.fetch_and(!NOTIFIED, Ordering::AcqRel);
        if prev & COMPLETE != 0 {
            return;
        }
        let mut slot = lock(&self.future);
        let Some(future) = slot.as_mut() else { return };
        if prev & CANCELLED != 0 {
            let dropped = catch_unwind(AssertUnwindSafe(|| *slot = None));
            drop(slot);
            if dropped.is_err() {
                log::warn!("task {}'s future panicked while being dropped on abort", self.id);
            }
            self.finish(Err(JoinError::cancelled(self.id)));
            return;
        }
        let waker = Waker::from(self.clone());
        let mut cx = Context::from_waker(&waker);
        let polled = catch_unwind(AssertUnwindSafe(|| pin_in_place(future).poll(&mut cx)));
        let result = match polled {
            Ok(Poll::Pending) => return,
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::panicked(self.id, payload)),
        };
        if catch_unwind(AssertUnwindSafe(|| *slot = None)).is_err() {
            log::warn!("task {}'s future panicked while being dropped", self.id);
        }
        drop(slot);
        self.finish(result);
    }

    fn shutdown(&self) {
        let mut slot = lock(&self.future);
        if slot.is_none() {
            return;
        }
        if catch_unwind(AssertUnwindSafe(|| *slot = None)).is_err() {
            log::warn!("task {}'s future panicked while being dropped at shutdown", self.id);
        }
        drop(slot);
        self.join.complete(Err(JoinError::cancelled(self.id)));
    }

    fn slot(&self) -> &AtomicUsize {
        &self.slot
    }

    fn is_complete(&self) -> bool {
        self.join.is_complete()
    }
}

/// Pins a future that is stored in place and never moved until dropped.
fn pin_in_place<F: Future>(future: &mut F) -> Pin<&mut F> {
    // SAFETY: `future` lives in `Task::future` inside an `Arc` allocation; it is
    // only ever accessed through this function or dropped in place by assigning
    // `None` to its slot, never moved out, so the pinning guarantee holds.
    unsafe { Pin::new_unchecked(future) }
}

impl<F: Future + 'static> Wake for Task<F> {
    fn wake(self: Arc<Self>) {
        if self.join.notify() {
            let scheduler = self.scheduler.clone();
            scheduler.schedule(self);
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.join.notify() {
            self.scheduler.schedule(self.clone());
        }
    }
}

/// The operations a [`JoinHandle`] needs, whatever produces the output (a task
/// or the blocking pool).
pub(crate) trait JoinSource<T>: Send + Sync {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>>;
    fn abort(self: Arc<Self>);
    fn is_finished(&self) -> bool;
    fn drop_join_interest(&self);
}

impl<F: Future + 'static> JoinSource<F::Output> for Task<F> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        self.join.poll_join(cx)
    }

    fn abort(self: Arc<Self>) {
        // If NOTIFIED was already set the task is queued and its run sees CANCELLED.
        if self.join.cancel() && self.join.notify() {
            let scheduler = self.scheduler.clone();
            scheduler.schedule(self);
        }
    }

    fn is_finished(&self) -> bool {
        self.join.is_complete()
    }

    fn drop_join_interest(&self) {
        self.join.drop_join_interest()
    }
}

/// An owned permission to await a spawned task's output: asyncio's `Task`
/// object, as a future.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task was aborted
/// or panicked. Dropping it *detaches* the task, which runs on to completion
/// (as an asyncio task does when nobody awaits it).
pub struct JoinHandle<T> {
    raw: Arc<dyn JoinSource<T>>,
    id: u64,
    /// `JoinHandle<T>` is `Send` only if `T` is: it may carry the output across threads.
    _output: PhantomData<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn from_source(raw: Arc<dyn JoinSource<T>>, id: u64) -> Self {
        JoinHandle { raw, id, _output: PhantomData }
    }

    /// Cancels the task (asyncio's `task.cancel()`): its future is dropped at
    /// the next opportunity and awaiting this handle gives a cancelled
    /// [`JoinError`]. Does nothing if the task already finished. A blocking
    /// closure that is already running cannot be stopped.
    pub fn abort(&self) {
        self.raw.clone().abort();
    }

    /// Whether the task has finished (completed, panicked or been cancelled).
    pub fn is_finished(&self) -> bool {
        self.raw.is_finished()
    }

    /// The task's id, unique within the process.
    pub fn id(&self) -> u64 {
        self.id
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.raw.poll_join(cx)
    }
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_interest();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_finished() { "finished" } else { "pending" };
        write!(f, "<Task {state} id={}>", self.id)
    }
}

/// Why a task produced no output.
pub struct JoinError {
    repr: Repr,
    id: u64,
}

enum Repr {
    Cancelled,
    Panicked(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled(id: u64) -> Self {
        JoinError { repr: Repr::Cancelled, id }
    }

    pub(crate) fn panicked(id: u64, payload: Box<dyn Any + Send + 'static>) -> Self {
        JoinError { repr: Repr::Panicked(payload), id }
    }

    /// The task was aborted, or dropped when its runtime shut down.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panicked(_))
    }

    /// The panic payload, if the task panicked; resume it with
    /// `std::panic::resume_unwind` to propagate the panic.
    pub fn into_panic(self) -> Option<Box<dyn Any + Send + 'static>> {
        match self.repr {
            Repr::Panicked(payload) => Some(payload),
            Repr::Cancelled => None,
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> u64 {
        self.id
    }

    fn panic_message(&self) -> Option<&str> {
        match &self.repr {
            Repr::Panicked(p) => p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            Repr::Cancelled => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "task {} was cancelled", self.id),
            Repr::Panicked(_) => match self.panic_message() {
                Some(msg) => write!(f, "task {} panicked: {msg}", self.id),
                None => write!(f, "task {} panicked", self.id),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panicked(_) => write!(f, "JoinError::Panicked({}, {:?})", self.id, self.panic_message()),
        }
    }
}

impl std::error::Error for JoinError {}
