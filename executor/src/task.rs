//! The task: one allocation that holds a future, its state word, and the slot
//! its output waits in for the [`JoinHandle`].
//!
//! Not here: queues and the loop that runs tasks (`scheduler.rs`). A task
//! reaches its scheduler only through the [`Schedule`] and [`Registry`]
//! traits below, which the scheduler implements, so this file never imports it.
//!
//! The state word and its transitions are in `state.rs`.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_task::{waker_ref, ArcWake};

use crate::context::waiting_on;
use crate::observer::{warn, write_repr, Observer, TaskInfo, TaskMeta, WaitKind, TASK_TARGET};
use crate::state::{State, TransitionToRunning};
use crate::sync::{lock, Mutex, UnsafeCell};

/// The state word and the joiner's waker: the completion protocol shared by
/// tasks and blocking jobs. Where the output lives is up to the owner.
pub(crate) struct Header {
    state: State,
    join_waker: Mutex<Option<Waker>>,
}

impl Header {
    pub(crate) fn new() -> Self {
        Header {
            state: State::new(),
            join_waker: Mutex::new(None),
        }
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.state.load().is_complete()
    }

    /// Whether `abort` was called.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.state.load().is_cancelled()
    }

    /// Sets `CANCELLED`; true if the task was not complete yet.
    pub(crate) fn cancel(&self) -> bool {
        self.state.transition_to_cancelled()
    }

    /// Sets `NOTIFIED`; true if this call flipped it (the caller must enqueue).
    fn notify(&self) -> bool {
        self.state.transition_to_notified()
    }

    /// Publishes the output the caller just stored (Release) and wakes the
    /// joiner. Returns true if no `JoinHandle` is left: the caller must drop
    /// the output itself.
    pub(crate) fn complete(&self) -> bool {
        let prev = self.state.transition_to_complete();
        if !prev.is_join_interested() {
            return true;
        }
        if prev.is_join_waker_set() {
            let waker = lock(&self.join_waker).take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        false
    }

    /// True once complete (the output may then be taken, Acquire); otherwise
    /// stores the context's waker to be woken at completion.
    pub(crate) fn poll_complete(&self, cx: &mut Context<'_>) -> bool {
        if self.is_complete() {
            return true;
        }
        {
            let mut slot = lock(&self.join_waker);
            match &*slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
        }
        // Either `complete` sees JOIN_WAKER and wakes us, or we see COMPLETE here.
        self.state.set_join_waker().is_complete()
    }

    /// Gives up the join interest; true if the task already completed, in
    /// which case the caller must drop the output.
    pub(crate) fn drop_join_interest(&self) -> bool {
        self.state.unset_join_interest().is_complete()
    }

    /// Whether the task is in a run queue (woken, or new).
    fn is_notified(&self) -> bool {
        self.state.load().is_notified()
    }
}

/// What a task needs from the scheduler it belongs to (tokio's `Schedule`):
/// a way to be queued again when woken, from any thread.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Whether the task may be woken on one thread while another polls it
    /// (the several-worker scheduler): then its runs use the `RUNNING` bit
    /// (state.rs), and a wake during a poll is queued when the poll ends, by
    /// the thread that polled. The one-worker scheduler queues such a wake at
    /// once, as it always did, which keeps asyncio's order.
    const CONCURRENT: bool = false;
    /// Whether the task must stay on the worker that spawned it
    /// (`spawn_local` on several workers): no other worker steals it.
    const PINNED: bool = false;

    /// Queues a task whose `NOTIFIED` bit the caller just flipped.
    fn schedule(&self, task: Arc<dyn Runnable>);

    /// Queues a task again after its poll, on the thread that polled it,
    /// because it was woken during that poll (a yield, mostly): that thread
    /// runs it again soon, so other workers need not be woken for it.
    fn reschedule(&self, task: Arc<dyn Runnable>) {
        self.schedule(task);
    }
}

/// The executor thread's record of live tasks: a task that waits enters it
/// once, so shutdown can drop its future; a task that completes leaves it.
pub(crate) trait Registry {
    /// Enters a waiting task; returns its slot.
    fn register(&self, task: Arc<dyn Runnable>) -> usize;
    /// Removes the task entered at `slot`.
    fn release(&self, slot: usize);
}

/// What the scheduler holds of a task, whatever its future's type.
pub(crate) trait Runnable: Send + Sync {
    /// Polls the future once (or drops it if cancelled); completes the task if
    /// it finished. A task still pending afterwards is entered in `core`'s
    /// registry (once), a completed one leaves it. `observer` (the
    /// executor's) sees the poll and the completion.
    fn run(self: Arc<Self>, registry: &dyn Registry, observer: &Observer);
    /// Drops the future without polling it and completes the task as cancelled.
    fn shutdown(&self);
    /// Id, name and spawn site.
    fn info(&self) -> TaskInfo;
    /// The id alone (no clone of the name).
    fn id(&self) -> u64;
    /// What its last poll that left it pending waited on, as tagged.
    fn last_wait(&self) -> Option<crate::observer::WaitKind>;
    /// Whether it is in a run queue.
    fn is_notified(&self) -> bool;
    /// Whether it stays on the worker that spawned it (`Schedule::PINNED`).
    fn is_pinned(&self) -> bool;
    /// Whether its output (or error) is stored: it is no longer alive, though
    /// the worker that completed it may not have removed it from its lists yet.
    fn is_complete(&self) -> bool;
    /// Whether a worker of a runtime of several is polling it now (its
    /// `RUNNING` bit; never set on one worker).
    fn is_running(&self) -> bool;
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

/// The task itself. `F` and then its output are stored inline, so spawning
/// allocates once. `S` is the scheduler that queues it when woken.
pub(crate) struct Task<F: Future, S> {
    header: Header,
    /// Who may touch it, and when (the protocol that makes the `unsafe` sound):
    /// - while `COMPLETE` is clear: only inside `run` or `shutdown`, which
    ///   never overlap for one task. On one worker both happen on the
    ///   executor's thread. On several, `run` happens on whichever worker
    ///   popped the task (it sits in one queue at most once, and the `RUNNING`
    ///   bit keeps a wake during the poll from queueing it again, so one
    ///   thread at a time; the queue's mutex and the state word's AcqRel
    ///   transitions order one run after the previous), a pinned task's only
    ///   on its owner; `shutdown` runs after every worker stopped polling
    ///   (a pinned task's on its owner's thread, the others on worker 0's);
    /// - once `COMPLETE` is set (Release, after the output was written): only
    ///   the side that owns the output, i.e. the `JoinHandle` (it observed
    ///   `COMPLETE` with Acquire), or, if the handle is gone, whichever of
    ///   `complete` / `drop_join_interest` saw the other side gone. Exactly one
    ///   of them does.
    stage: UnsafeCell<Stage<F>>,
    scheduler: Arc<S>,
    /// Id, spawn site and name: what the observer points at while the task
    /// is polled.
    meta: TaskMeta,
}

// SAFETY: `Task<F, S>` must be `Send + Sync` to live in `Arc<dyn Runnable>` and be
// a `Waker`. `stage` is accessed only under the protocol documented on the
// field, which gives one accessor at a time with Release/Acquire ordering on
// `COMPLETE` between them; every other field is atomic or a mutex. A task made
// by `spawn_local` may hold a `!Send` future or output; that is sound because:
// - the future is polled only by `run` and dropped only by `run` or `shutdown`,
//   which the scheduler calls only on the thread that owns the task (the one
//   worker's; on several workers, the worker that spawned a pinned task:
//   remote wakes just re-enqueue it on its owner, see `Schedule` and
//   workers/mod.rs). `Send` futures, and only they, are polled by any worker
//   of a runtime of several, one thread at a time (see `stage`);
// - the scheduler holds a reference (registry or run queue) until the future
//   is gone, so a last `Arc` dropped on another thread by a waker never drops
//   the future;
// - the output is taken by the `JoinHandle`, which is `!Send` when the output
//   is (`PhantomData<T>`), or dropped by `complete` on the owner thread.
// Miri runs the executor's tests, `spawn_local` ones included.
unsafe impl<F: Future, S: Schedule> Send for Task<F, S> {}
// SAFETY: see `Send` above.
unsafe impl<F: Future, S: Schedule> Sync for Task<F, S> {}

impl<F: Future + 'static, S: Schedule> Task<F, S> {
    #[inline]
    pub(crate) fn new(future: F, scheduler: Arc<S>, info: TaskInfo) -> Arc<Self> {
        Arc::new(Task {
            header: Header::new(),
            stage: UnsafeCell::new(Stage::Running(future)),
            scheduler,
            meta: TaskMeta::new(info),
        })
    }

    /// Sets `NOTIFIED`; true if the caller must queue the task (the protocol
    /// of the task's scheduler: see `Schedule::CONCURRENT`).
    #[inline]
    fn notify(&self) -> bool {
        if S::CONCURRENT {
            self.header.state.transition_to_notified_exclusive()
        } else {
            self.header.notify()
        }
    }

    pub(crate) fn join_handle(self: &Arc<Self>) -> JoinHandle<F::Output> {
        JoinHandle {
            raw: self.clone(),
            id: self.meta.id,
            _output: PhantomData,
        }
    }

    /// Replaces the future with the result and completes the task.
    ///
    /// Executor thread only, while `COMPLETE` is clear (see `stage`).
    fn finish(&self, result: Result<F::Output, JoinError>) {
        self.stage.with_mut(|stage| {
            // SAFETY: executor thread, COMPLETE clear: we are the only accessor.
            let stage = unsafe { &mut *stage };
            let dropped = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Finished(result)));
            if let Err(payload) = dropped {
                warn(
                    TASK_TARGET,
                    format_args!(
                        "{}'s future panicked while being dropped",
                        self.info().label()
                    ),
                );
                *stage = Stage::Finished(Err(JoinError::panicked(self.meta.id, payload)));
            }
        });
        if self.header.complete() {
            // Nobody will read the output: drop it here, still on this thread.
            // SAFETY: the handle is gone (JOIN_INTEREST was clear when COMPLETE
            // was set), so nobody else accesses the stage any more.
            let stage = self
                .stage
                .with_mut(|stage| std::mem::replace(unsafe { &mut *stage }, Stage::Consumed));
            if let Stage::Finished(Err(e)) = stage {
                if e.is_panic() {
                    log_unobserved(&self.info(), &e);
                }
            }
        }
    }
}

impl<F: Future + 'static, S: Schedule> Runnable for Task<F, S> {
    fn run(self: Arc<Self>, registry: &dyn Registry, observer: &Observer) {
        let transition = if S::CONCURRENT {
            self.header.state.transition_to_running_exclusive()
        } else {
            self.header.state.transition_to_running()
        };
        match transition {
            TransitionToRunning::Done => return,
            TransitionToRunning::Cancel => {
                self.finish(Err(JoinError::cancelled(self.meta.id)));
            }
            TransitionToRunning::Poll => {
                let waker = waker_ref(&self);
                let mut cx = Context::from_waker(&waker);
                let polled = self.stage.with_mut(|stage| {
                    // SAFETY: executor thread, COMPLETE clear: we are the only accessor.
                    let Stage::Running(future) = (unsafe { &mut *stage }) else {
                        return None;
                    };
                    // SAFETY: the future lives in the task's `Arc` allocation and is
                    // never moved: it stays in `stage` until it is dropped in place by
                    // assigning another stage.
                    let future = unsafe { Pin::new_unchecked(future) };
                    // The observer's current task is set and reset around a
                    // `catch_unwind`, so no guard is needed: nothing unwinds between.
                    // The `tracing` feature: the task's span is entered for
                    // the poll (left when the guard drops, after the end).
                    #[cfg(feature = "tracing")]
                    let _entered = self.meta.span.as_deref().map(tracing::Span::enter);
                    observer.poll_begin(&self.meta);
                    let polled = catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)));
                    observer.poll_end();
                    Some(polled)
                });
                match polled {
                    None => return,
                    Some(Ok(Poll::Pending)) => {
                        // What it parked on, for the dump (cleared again
                        // when the next poll begins).
                        let wait = observer.take_wait_code();
                        if wait != 0 {
                            self.header.state.set_wait(wait);
                        }
                        // Only tasks that wait are registered: one that completes
                        // on its first poll never costs a registry entry.
                        if self.header.state.slot().is_none() {
                            let index = registry.register(self.clone());
                            self.header.state.set_slot(index);
                        }
                        // Several workers: a wake during the poll left the
                        // queueing to us (the registry entry is made first,
                        // so no other thread runs the task before it exists).
                        if S::CONCURRENT && self.header.state.transition_to_idle() {
                            let scheduler = self.scheduler.clone();
                            scheduler.reschedule(self);
                        }
                        return;
                    }
                    Some(Ok(Poll::Ready(output))) => self.finish(Ok(output)),
                    Some(Err(payload)) => {
                        self.finish(Err(JoinError::panicked(self.meta.id, payload)));
                    }
                }
            }
        }
        // Completed (or cancelled) in this run; shutdown's drops are not counted.
        observer.finished(self.meta.id, || self.info());
        if let Some(slot) = self.header.state.slot() {
            registry.release(slot);
        }
    }

    fn shutdown(&self) {
        if self.header.is_complete() {
            return;
        }
        // SAFETY: shutdown runs on the executor thread, never during `run`, and
        // COMPLETE is clear: we are the only accessor.
        let running = self
            .stage
            .with(|stage| matches!(unsafe { &*stage }, Stage::Running(_)));
        if running {
            self.finish(Err(JoinError::cancelled(self.meta.id)));
        }
    }

    fn info(&self) -> TaskInfo {
        self.meta.info()
    }

    fn id(&self) -> u64 {
        self.meta.id
    }

    fn last_wait(&self) -> Option<crate::observer::WaitKind> {
        crate::observer::WaitKind::from_code(self.header.state.wait_code())
    }

    fn is_notified(&self) -> bool {
        self.header.is_notified()
    }

    fn is_pinned(&self) -> bool {
        S::PINNED
    }

    fn is_complete(&self) -> bool {
        self.header.is_complete()
    }

    fn is_running(&self) -> bool {
        self.header.state.load().is_running()
    }
}

impl<F: Future + 'static, S: Schedule> ArcWake for Task<F, S> {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if arc_self.notify() {
            arc_self.scheduler.schedule(arc_self.clone());
        }
    }

    fn wake(self: Arc<Self>) {
        if self.notify() {
            let scheduler = self.scheduler.clone();
            scheduler.schedule(self);
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
    fn name(&self) -> Option<&str>;
    fn location(&self) -> &'static Location<'static>;
    /// What a joiner waits on: another task, or a blocking function.
    fn wait_kind(&self) -> WaitKind;
}

/// Logs a panic that no `JoinHandle` will ever report (asyncio's "Task
/// exception was never retrieved").
pub(crate) fn log_unobserved(info: &TaskInfo, e: &JoinError) {
    warn(
        TASK_TARGET,
        format_args!(
            "{} spawned at {} panicked and its JoinHandle was dropped without awaiting it: {e}",
            info.label(),
            info.location
        ),
    );
}

impl<F: Future + 'static, S: Schedule> JoinSource<F::Output> for Task<F, S> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        if !self.header.poll_complete(cx) {
            return Poll::Pending;
        }
        // SAFETY: COMPLETE observed with Acquire and the JoinHandle still holds
        // the join interest, so the stage is ours alone (see `stage`).
        let stage = self
            .stage
            .with_mut(|stage| std::mem::replace(unsafe { &mut *stage }, Stage::Consumed));
        match stage {
            Stage::Finished(result) => Poll::Ready(result),
            _ => panic!("JoinHandle polled after it returned the task's output"),
        }
    }

    fn abort(self: Arc<Self>) {
        // If NOTIFIED was already set the task is queued and its run sees CANCELLED.
        if self.header.cancel() && self.notify() {
            let scheduler = self.scheduler.clone();
            scheduler.schedule(self);
        }
    }

    fn is_finished(&self) -> bool {
        self.header.is_complete()
    }

    fn drop_join_interest(&self) {
        if self.header.drop_join_interest() {
            // SAFETY: the task completed and the handle is going away; the
            // executor no longer touches the stage (see `stage`).
            let output = self
                .stage
                .with_mut(|stage| std::mem::replace(unsafe { &mut *stage }, Stage::Consumed));
            if let Stage::Finished(Err(e)) = &output {
                if e.is_panic() {
                    log_unobserved(&self.info(), e);
                }
            }
        }
    }

    fn name(&self) -> Option<&str> {
        self.meta.origin.name().map(|name| &**name)
    }

    fn location(&self) -> &'static Location<'static> {
        self.meta.origin.site()
    }

    fn wait_kind(&self) -> WaitKind {
        WaitKind::Join
    }
}

/// An owned permission to await a spawned task's output: asyncio's `Task`
/// object, as a future.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task was aborted
/// or panicked. Dropping it *detaches* the task, which runs on to completion
/// (as an asyncio task does when nobody awaits it). Its `Debug` prints like
/// asyncio's task repr: `<Task pending name='fetch 3' id=9 spawned at src/main.rs:12:5>`.
///
/// ```
/// use std::time::Duration;
/// ferrio::run(async {
///     let task = ferrio::spawn(async {
///         ferrio::time::sleep(Duration::from_secs(60)).await;
///     });
///     assert!(format!("{task:?}").starts_with("<Task pending"));
///     task.abort(); // asyncio's task.cancel()
///     assert!(task.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct JoinHandle<T> {
    raw: Arc<dyn JoinSource<T>>,
    id: u64,
    /// `JoinHandle<T>` is `Send` only if `T` is: it may carry the output across threads.
    _output: PhantomData<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn from_source(raw: Arc<dyn JoinSource<T>>, id: u64) -> Self {
        JoinHandle {
            raw,
            id,
            _output: PhantomData,
        }
    }

    /// This handle as one that aborts the task when it is dropped before the
    /// task finished, instead of detaching it: for a task whose result is
    /// no use to anyone once its awaiter has given up, as with
    /// `timeout(d, handle.abort_on_drop())` (which is
    /// `ferrio::time::wait_for`, asyncio's `wait_for` on a task).
    ///
    /// ```
    /// use std::time::Duration;
    /// ferrio::run(async {
    ///     let (tx, rx) = ferrio::sync::oneshot::channel::<()>();
    ///     let task = ferrio::spawn(async move {
    ///         let _tx = tx; // dropped with the task's future
    ///         ferrio::time::sleep(Duration::from_secs(60)).await;
    ///     });
    ///     drop(task.abort_on_drop());
    ///     assert!(rx.await.is_err(), "the task was cancelled, not detached");
    /// });
    /// ```
    pub fn abort_on_drop(self) -> AbortOnDrop<T> {
        AbortOnDrop(self)
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

    /// The task's name, if it was spawned with one ([`crate::observe::Builder::name`]).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let named = ferrio::task::Builder::new().name("fetch 3").spawn(async {});
    ///     assert_eq!(named.name(), Some("fetch 3"));
    ///     assert_eq!(ferrio::spawn(async {}).name(), None);
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.raw.name()
    }

    /// Where the task was spawned (the caller of `spawn`).
    ///
    /// ```
    /// ferrio::run(async {
    ///     let task = ferrio::spawn(async {});
    ///     assert_eq!(task.location().line(), line!() - 1);
    /// });
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.raw.location()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = self.raw.poll_join(cx);
        if polled.is_pending() {
            waiting_on(self.raw.wait_kind(), None, || format!("{self:?}"));
        }
        polled
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
        let state = if self.is_finished() {
            "finished"
        } else {
            "pending"
        };
        let info = TaskInfo {
            id: self.id,
            name: self.raw.name().map(Arc::from),
            location: self.raw.location(),
        };
        write_repr(f, Some(state), &info)
    }
}

/// A [`JoinHandle`] that aborts its task when dropped before the task
/// finished; from [`JoinHandle::abort_on_drop`]. Awaiting it is awaiting
/// the handle.
#[must_use = "dropping it aborts the task"]
pub struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        if !self.0.is_finished() {
            self.0.abort();
        }
    }
}

impl<T> fmt::Debug for AbortOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AbortOnDrop").field(&self.0).finish()
    }
}

/// Why a task produced no output: it was cancelled, or it panicked.
///
/// ```
/// ferrio::run(async {
///     let err = ferrio::spawn(async { panic!("boom") }).await.unwrap_err();
///     assert!(err.is_panic());
///     assert_eq!(err.to_string(), format!("task {} panicked: boom", err.id()));
///     // Re-raise it in this task with std::panic::resume_unwind(err.into_panic().unwrap()).
/// });
/// ```
pub struct JoinError {
    repr: Repr,
    id: u64,
}

/// Blocking jobs take their ids from here up (tasks count up from 1), so a
/// [`JoinError`] can say which it was about.
pub(crate) const FIRST_BLOCKING_ID: u64 = 1 << 62;

/// A blocking job's panic payload as a [`JoinError`] keeps it: with where the
/// job was spawned, for the error's message. (In the payload's box, not in
/// `JoinError`, so that every task's output slot stays as small as it was.)
struct JobPanic {
    site: &'static Location<'static>,
    payload: Box<dyn Any + Send + 'static>,
}

enum Repr {
    Cancelled,
    Panicked(Box<dyn Any + Send + 'static>),
}

impl JoinError {
    pub(crate) fn cancelled(id: u64) -> Self {
        JoinError {
            repr: Repr::Cancelled,
            id,
        }
    }

    pub(crate) fn panicked(id: u64, payload: Box<dyn Any + Send + 'static>) -> Self {
        JoinError {
            repr: Repr::Panicked(payload),
            id,
        }
    }

    /// A blocking job spawned at `site` panicked.
    pub(crate) fn job_panicked(
        id: u64,
        site: &'static Location<'static>,
        payload: Box<dyn Any + Send + 'static>,
    ) -> Self {
        JoinError::panicked(id, Box::new(JobPanic { site, payload }))
    }

    /// The panic payload as the code panicked with it, and the blocking
    /// job's spawn site if a job panicked.
    fn payload(&self) -> Option<(&(dyn Any + Send), Option<&'static Location<'static>>)> {
        match &self.repr {
            Repr::Panicked(p) => Some(match p.downcast_ref::<JobPanic>() {
                Some(job) => (&*job.payload, Some(job.site)),
                None => (&**p, None),
            }),
            Repr::Cancelled => None,
        }
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
            Repr::Panicked(payload) => Some(match payload.downcast::<JobPanic>() {
                Ok(job) => job.payload,
                Err(payload) => payload,
            }),
            Repr::Cancelled => None,
        }
    }

    /// The id of the task that failed.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The panic's message, if the task panicked with one (a `&str` or a
    /// `String`, as `panic!` gives); `None` for a cancel or another payload.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let id = 7;
    ///     let err = ferrio::spawn(async move { panic!("no row {id}") }).await.unwrap_err();
    ///     assert_eq!(err.panic_message(), Some("no row 7"));
    /// });
    /// ```
    pub fn panic_message(&self) -> Option<&str> {
        let (p, _) = self.payload()?;
        p.downcast_ref::<&str>()
            .copied()
            .or_else(|| p.downcast_ref::<String>().map(String::as_str))
    }

    /// What failed, in words: `task 9`, or for a blocking job (whose id is
    /// a large number of no interest) `spawn_blocking job 3` and, if it
    /// panicked, where it was spawned.
    fn subject(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.id < FIRST_BLOCKING_ID {
            return write!(f, "task {}", self.id);
        }
        write!(f, "spawn_blocking job {}", self.id - FIRST_BLOCKING_ID)?;
        match self.payload() {
            Some((_, Some(site))) => write!(f, " (spawned at {site})"),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.subject(f)?;
        match &self.repr {
            Repr::Cancelled => write!(f, " was cancelled"),
            Repr::Panicked(_) => match self.panic_message() {
                Some(msg) => write!(f, " panicked: {msg}"),
                None => write!(f, " panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panicked(_) => write!(
                f,
                "JoinError::Panicked({}, {:?})",
                self.id,
                self.panic_message()
            ),
        }
    }
}

impl std::error::Error for JoinError {}
