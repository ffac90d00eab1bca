//! The raw task: one allocation that holds a future, its state word, and the
//! slot its output waits in for the [`JoinHandle`].
//!
//! Not here: the handle and the error it reports (`join.rs`); queues and the
//! loop that runs tasks (`scheduler.rs`). A task
//! reaches its scheduler only through the [`Schedule`] and [`Registry`]
//! traits below, which the scheduler implements, so this file never imports it.
//!
//! The state word and its transitions are in `state.rs`.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_task::{waker_ref, ArcWake};

use crate::join::{log_unobserved, JoinError, JoinHandle, JoinSource};
use crate::observer::{warn, Observer, TaskInfo, TaskMeta, WaitKind, TASK_TARGET};
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
        JoinHandle::from_source(self.clone(), self.meta.id)
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
