//! Taking results as they finish: [`JoinSet`] (a set of spawned tasks that
//! owns them: dropping it cancels them) and [`as_completed`] (asyncio's
//! `as_completed` over plain futures, run concurrently in the caller's task).
//!
//! Not here: the all-or-nothing group with failure semantics, which is
//! [`crate::TaskGroup`] in `task_group.rs`, built on `JoinSet`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesUnordered, Stream, StreamExt};

use crate::{JoinError, JoinHandle};

/// A set of spawned tasks whose results are taken as they finish (tokio's
/// `JoinSet`; asyncio's `as_completed` over tasks).
///
/// The set owns its tasks: dropping it (or calling [`abort_all`](Self::abort_all))
/// cancels every task still running, so none outlives it by accident.
/// `JoinSet<T>` is `Send` when `T` is.
///
/// ```
/// use std::time::Duration;
/// use ferrio::{time::sleep, JoinSet};
/// ferrio::run(async {
///     let mut set = JoinSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(result) = set.join_next().await {
///         order.push(result.unwrap());
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub struct JoinSet<T> {
    tasks: FuturesUnordered<IdJoin<T>>,
}

/// A [`JoinHandle`] whose output carries the task id, so that a result taken
/// from the set says which task it came from.
struct IdJoin<T> {
    handle: JoinHandle<T>,
}

impl<T> Future for IdJoin<T> {
    type Output = (u64, Result<T, JoinError>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.handle.id();
        Pin::new(&mut self.handle).poll(cx).map(|out| (id, out))
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        JoinSet {
            tasks: FuturesUnordered::new(),
        }
    }

    /// How many tasks are in the set (running, or finished and not yet taken).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Spawns `future` on the current runtime into the set and returns the
    /// task's id (the one [`join_next_with_id`](Self::join_next_with_id) and
    /// [`JoinError::id`] report).
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message that says so.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> u64
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(crate::spawn(future))
    }

    /// Spawns a future that need not be `Send` into the set; it runs on this
    /// thread. Returns the task's id.
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message that says so.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> u64
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(crate::spawn_local(future))
    }

    /// Adds an already spawned task to the set, which then owns it (dropping
    /// the set cancels it). Returns its id.
    pub fn insert(&mut self, handle: JoinHandle<T>) -> u64 {
        let id = handle.id();
        self.tasks.push(IdJoin { handle });
        id
    }

    /// Waits for the next task to finish and returns its result, or `None`
    /// when the set is empty. Cancel-safe: if this future is dropped, no
    /// result is lost (it stays in the set).
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.join_next_with_id().await.map(|(_, result)| result)
    }

    /// Like [`join_next`](Self::join_next), with the id of the task that finished.
    pub async fn join_next_with_id(&mut self) -> Option<(u64, Result<T, JoinError>)> {
        self.tasks.next().await
    }

    /// Waits for every task and returns their results in the order they finished.
    pub async fn join_all(mut self) -> Vec<Result<T, JoinError>> {
        let mut results = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            results.push(result);
        }
        results
    }

    /// Cancels every task in the set. Their results (cancelled
    /// [`JoinError`]s, or outputs of tasks that had already finished) can
    /// still be taken with [`join_next`](Self::join_next).
    pub fn abort_all(&self) {
        for task in self.tasks.iter() {
            task.handle.abort();
        }
    }

    /// Cancels every task and waits until all of them have stopped, so that
    /// their destructors have run when it returns.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        if !self.tasks.is_empty() {
            log::debug!("JoinSet dropped: cancelling its {} tasks", self.tasks.len());
        }
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

/// Runs `futures` concurrently (in the caller's task, nothing is spawned) and
/// yields their outputs in the order they finish (asyncio's `as_completed`).
///
/// The returned [`AsCompleted`] is a [`Stream`]; its inherent
/// [`next`](AsCompleted::next) needs no trait import. Dropping it drops the
/// futures not yet finished. To run them as tasks (on their own, even while the
/// caller waits on something else), spawn them into a [`JoinSet`] instead.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::sleep;
/// ferrio::run(async {
///     let mut done = ferrio::as_completed([30u64, 10, 20].map(|ms| async move {
///         sleep(Duration::from_millis(ms)).await;
///         ms
///     }));
///     assert_eq!(done.next().await, Some(10));
///     assert_eq!(done.next().await, Some(20));
///     assert_eq!(done.next().await, Some(30));
///     assert_eq!(done.next().await, None);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted {
        futures: futures.into_iter().collect(),
    }
}

/// The stream returned by [`as_completed`]. `Send` when the futures are.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    futures: FuturesUnordered<F>,
}

impl<F: Future> AsCompleted<F> {
    /// The next output to be ready, or `None` once every future has finished.
    pub async fn next(&mut self) -> Option<F::Output> {
        self.futures.next().await
    }

    /// How many futures have not finished yet.
    pub fn len(&self) -> usize {
        self.futures.len()
    }

    /// Whether every future has finished.
    pub fn is_empty(&self) -> bool {
        self.futures.is_empty()
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.futures.poll_next_unpin(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.futures.size_hint()
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("pending", &self.futures.len())
            .finish()
    }
}
