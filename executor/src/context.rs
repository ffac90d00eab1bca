//! What code running on an executor's thread reaches without knowing the
//! executor: the context of the poll running now, that is the executor's
//! [`Observer`] (who is being polled, what it waits on) and its cooperative
//! [`Budget`], found through the executor's one thread-local. The public functions
//! that read it are here: `task::current`, `waiting_on`, `is_timing` and
//! `tagged` (re-exported as `ferrio_executor::observe`), and `poll_budgeted`
//! (as `ferrio_executor::coop`).
//!
//! The same thread-local holds the current executor (the one-worker core or
//! a worker, each an [`Owner`] of its context): `scheduler.rs` and
//! `workers/` find themselves through [`current_owner`], and one guard
//! ([`enter`]) makes an executor current (one thread-local, one name, as
//! tokio's `CONTEXT`).
//!
//! Why a module of its own: the task's handle (`join.rs`) tags what its
//! `JoinHandle` waits on, and the schedulers own the context. With the
//! pointer here, below them, none imports another for it.
//!
//! Not here: the executors' cores (`scheduler.rs`, `workers/`); `dump` and
//! `metrics`, which need the core (`scheduler.rs`).

use std::cell::Cell;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use crate::budget::{Budget, UNLIMITED};
use crate::observer::{Observer, TaskInfo, WaitKind};

/// What an executor shares with the code it polls.
pub(crate) struct RunContext {
    /// Names, counters, and (when switched on) timing, tags and the trace.
    pub(crate) observer: Observer,
    /// The cooperative budget of the poll running now (`budget.rs`).
    pub(crate) budget: Budget,
}

impl RunContext {
    /// One poll of the future given to `block_on` (not a task), called from
    /// `caller`: with a fresh budget, watched and timed like a task's poll.
    pub(crate) fn poll_main<F: Future>(
        &self,
        future: Pin<&mut F>,
        cx: &mut TaskContext<'_>,
        caller: &'static Location<'static>,
    ) -> Poll<F::Output> {
        self.budget.reset();
        self.observer.sample_log_level();
        let began = self.observer.main_begin(caller);
        let polled = future.poll(cx);
        self.observer.main_end(began, caller);
        self.budget.unlimited();
        polled
    }
}

/// Which kind of executor a thread entered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The one-worker executor's core (`scheduler.rs`).
    One,
    /// A worker of the several-worker executor (`workers/`).
    Many,
}

/// What owns a [`RunContext`] and enters a thread with it.
///
/// # Safety
///
/// No other implementor shares the implementor's `KIND`: the pointer kept
/// for a kind is then always one to the implementor of that kind.
pub(crate) unsafe trait Owner {
    const KIND: Kind;
    fn context(&self) -> &RunContext;
}

/// The thread's current executor: its context, and the executor itself in
/// the field of its kind (the other field is null). Three pointers rather
/// than one and a tag, so that each reader (the context, the core, the
/// worker) is one load and a null check, as with a thread-local of its own.
#[derive(Clone, Copy)]
struct Current {
    context: *const RunContext,
    one: *const (),
    many: *const (),
}

const NONE: Current = Current {
    context: std::ptr::null(),
    one: std::ptr::null(),
    many: std::ptr::null(),
};

// The one thread-local of the executor: pointers with no destructor and no
// borrow flag, so finding the context or the executor (every spawn, wake,
// wait tag and budget check) is one thread-local load. Loom runs its threads
// on one OS thread, so the models need loom's thread-locals.
#[cfg(not(loom))]
thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(NONE) };
}
#[cfg(loom)]
loom::thread_local! {
    static CURRENT: Cell<Current> = Cell::new(NONE);
}

/// Makes `owner` (and its context) this thread's current executor while
/// the guard lives; the guard holds the owner, so the pointers stay valid.
pub(crate) fn enter<T: Owner>(owner: Rc<T>) -> EnterGuard<T> {
    let at = Rc::as_ptr(&owner).cast::<()>();
    let entered = Current {
        context: owner.context(),
        one: if T::KIND == Kind::One {
            at
        } else {
            std::ptr::null()
        },
        many: if T::KIND == Kind::Many {
            at
        } else {
            std::ptr::null()
        },
    };
    let previous = CURRENT.with(|c| c.replace(entered));
    EnterGuard {
        _owner: owner,
        previous,
    }
}

/// Keeps the executor `enter` made current alive, and puts the previous one
/// back when dropped.
pub(crate) struct EnterGuard<T> {
    _owner: Rc<T>,
    previous: Current,
}

impl<T> Drop for EnterGuard<T> {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.previous));
    }
}

/// This thread's current executor, if it is a `T`.
///
/// # Safety
///
/// The reference must not be kept past the current call into the executor
/// (a poll, a spawn, a wake): the owner is alive only while the guard that
/// entered it is.
#[inline]
pub(crate) unsafe fn current_owner<'a, T: Owner>() -> Option<&'a T> {
    let current = CURRENT.with(Cell::get);
    let at = match T::KIND {
        Kind::One => current.one,
        Kind::Many => current.many,
    };
    // SAFETY: the field of `T::KIND` is set only by `enter::<T>` (no other
    // owner has that kind), to a `T` it holds an `Rc` of until the guard
    // drops, and the caller keeps the reference no longer. Shared access
    // only: owners mutate through cells.
    unsafe { at.cast::<T>().as_ref() }
}

/// Calls `f` with the context of the executor running on this thread, if any.
#[inline]
pub(crate) fn with_context<R>(f: impl FnOnce(Option<&RunContext>) -> R) -> R {
    let context = CURRENT.with(Cell::get).context;
    // SAFETY: the pointer is non-null only between `enter` and the drop of
    // the guard it returned, which owns an `Rc` of the owner the context is
    // a field of, so the context outlives this call. The reference is
    // only `f`'s argument, and `f` runs below the frame that owns the guard
    // (`block_on`, or the executor's drop), which cannot return meanwhile.
    // Shared access only: the context mutates through cells.
    f(unsafe { context.as_ref() })
}

/// The task that is running now on this thread, if any (asyncio's
/// `current_task()`). `None` outside a runtime and in the future given to
/// `block_on`/`run` itself, which is not a task.
///
/// ```
/// ferrio::run(async {
///     assert!(ferrio::task::current().is_none()); // main is not a task
///     let id = ferrio::spawn(async { ferrio::task::current().unwrap().id() });
///     let expected = id.id();
///     assert_eq!(id.await.unwrap(), expected);
/// });
/// ```
pub fn current() -> Option<TaskInfo> {
    with_context(|cx| cx.and_then(|cx| cx.observer.current()))
}

/// Tags the running task as waiting on `kind`: primitives call it where they
/// store the task's waker. `detail` runs only when the runtime observes
/// tasks (debug mode or tracing); otherwise this is a thread-local look-up
/// and a branch.
///
/// ```
/// use std::future::Future;
/// use ferrio_executor::observe::{waiting_on, WaitKind};
/// // A primitive of your own says what it waits on when it stores a waker:
/// let wait = std::future::poll_fn(|_cx| {
///     waiting_on(WaitKind::Event, None, || "my-flag".to_owned());
///     std::task::Poll::Ready(())
/// });
/// ferrio::run(wait);
/// ```
pub fn waiting_on(kind: WaitKind, deadline: Option<Instant>, detail: impl FnOnce() -> String) {
    with_context(|cx| {
        if let Some(cx) = cx {
            cx.observer.tag(kind, deadline, detail);
        }
    })
}

/// Whether the current runtime times tasks and records what they wait on
/// (debug mode or tracing). Primitives check it before they spend anything
/// on a description (a socket's addresses, say).
///
/// ```
/// assert!(!ferrio_executor::observe::is_timing()); // outside a runtime
/// let mut rt = ferrio::Runtime::builder().debug(true).build().unwrap();
/// assert!(rt.block_on(async { ferrio_executor::observe::is_timing() }));
/// ```
pub fn is_timing() -> bool {
    with_context(|cx| cx.is_some_and(|cx| cx.observer.timing()))
}

/// Awaits `future`, tagging the running task as waiting on `kind` at every
/// poll that leaves it pending: for primitives whose waker is stored by
/// code they do not own (an `event_listener` listener, say).
///
/// ```
/// use ferrio_executor::observe::{tagged, WaitKind};
/// ferrio::run(async {
///     let (tx, rx) = ferrio::sync::oneshot::channel::<u8>();
///     ferrio::spawn(async move { tx.send(1).unwrap() });
///     let got = tagged(WaitKind::Event, || "reply".to_owned(), rx).await;
///     assert_eq!(got, Ok(1));
/// });
/// ```
pub async fn tagged<F: std::future::Future>(
    kind: WaitKind,
    detail: impl Fn() -> String,
    future: F,
) -> F::Output {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        let polled = future.as_mut().poll(cx);
        if polled.is_pending() {
            waiting_on(kind, None, &detail);
        }
        polled
    })
    .await
}

/// Runs the I/O operation `op` under the budget of the current task poll.
///
/// When the budget is spent, `op` does not run: the task is woken (so it
/// runs again soon, after others had their turn and the reactor its turn)
/// and `Pending` is returned. Otherwise `op` runs, and spends one unit if it
/// completed.
///
/// ```
/// use std::task::Poll;
/// use ferrio_executor::coop;
/// // Outside a task poll the budget is unlimited.
/// let waker = std::task::Waker::noop();
/// let mut cx = std::task::Context::from_waker(&waker);
/// for _ in 0..1000 {
///     assert_eq!(coop::poll_budgeted(&mut cx, |_| Poll::Ready(1)), Poll::Ready(1));
/// }
/// ```
pub fn poll_budgeted<T>(
    cx: &mut TaskContext<'_>,
    op: impl FnOnce(&mut TaskContext<'_>) -> Poll<T>,
) -> Poll<T> {
    with_context(|context| {
        let Some(budget) = context.map(|context| &context.budget.0) else {
            return op(cx);
        };
        let left = budget.get();
        if left == 0 {
            log::trace!("cooperative budget spent: the task yields");
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let polled = op(cx);
        if polled.is_ready() && left != UNLIMITED {
            // Read again: `op` may itself have spent some (a nested operation).
            budget.set(budget.get().saturating_sub(1));
        }
        polled
    })
}
