//! What a spawned task's awaiter holds: the [`JoinHandle`] (and its
//! aborting form, [`AbortOnDrop`]), the [`JoinError`] it may report, and the
//! [`JoinSource`] trait it reaches its task or blocking job through.
//!
//! Not here: the task itself (`raw.rs`) and the blocking pool's job
//! (`blocking.rs`), the two sources.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::context::waiting_on;
use crate::observer::{warn, write_repr, TaskInfo, WaitKind, TASK_TARGET};

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

    /// The task's name, if it was spawned with one ([`crate::task::Builder::name`]).
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
