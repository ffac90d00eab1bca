//! asyncio's `wait` (with `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
//! `ALL_COMPLETED` and a timeout) and `shield`.
//!
//! Not here: racing two futures of different types ([`crate::select()`]),
//! groups of tasks ([`crate::TaskGroup`], [`crate::JoinSet`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::JoinHandle;

/// When [`wait`] returns (asyncio's `return_when`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnWhen {
    /// As soon as any future finishes.
    FirstCompleted,
    /// As soon as any future finishes with `Err`, or when all have finished.
    FirstException,
    /// When every future has finished.
    #[default]
    AllCompleted,
}

/// A future with its position in the input of [`wait`].
struct Indexed<F> {
    index: usize,
    future: F,
}

impl<F: Future + Unpin> Future for Indexed<F> {
    type Output = (usize, F::Output);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let index = self.index;
        Pin::new(&mut self.future).poll(cx).map(|out| (index, out))
    }
}

/// Waits on `futures` until `return_when` says to stop, or `timeout` passes
/// (asyncio's `asyncio.wait`), and returns `(done, pending)`.
///
/// `done` holds `(index, output)` of each future that finished, in the order
/// they finished; `pending` gives back `(index, future)` of the others, not
/// cancelled, to await again or drop; `index` is the position in `futures`.
/// A future "fails" for [`ReturnWhen::FirstException`] when its output is
/// `Err`: for a [`JoinHandle`], when its task panicked or was cancelled (map a
/// task's own `Result` with `async { handle.await? }` if its `Err` should count).
/// A timeout is no error: it returns whatever finished by then. The futures
/// run inside the caller's task; they must be `Unpin` (a `JoinHandle` is;
/// `Box::pin` others).
///
/// ```
/// use std::time::Duration;
/// use ferrio::{time::sleep, wait, ReturnWhen};
/// ferrio::run(async {
///     let tasks: Vec<_> = [10u64, 5000].into_iter().map(|ms| ferrio::spawn(async move {
///         sleep(Duration::from_millis(ms)).await;
///         ms
///     })).collect();
///     let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted, Some(Duration::from_secs(5))).await;
///     assert_eq!(done.len(), 1);
///     assert_eq!(done[0].0, 0); // the first input finished
///     assert_eq!(*done[0].1.as_ref().unwrap(), 10);
///     assert_eq!(pending.len(), 1);
///     for (_, task) in pending {
///         task.abort(); // not cancelled by wait: our choice
///     }
/// });
/// ```
#[allow(clippy::type_complexity)]
pub async fn wait<I, F, T, E>(
    futures: I,
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> (Vec<(usize, Result<T, E>)>, Vec<(usize, F)>)
where
    I: IntoIterator<Item = F>,
    F: Future<Output = Result<T, E>> + Unpin,
{
    let mut running: FuturesUnordered<Indexed<F>> = futures
        .into_iter()
        .enumerate()
        .map(|(index, future)| Indexed { index, future })
        .collect();
    let mut done = Vec::new();
    let collect = async {
        while let Some((index, output)) = running.next().await {
            let failed = output.is_err();
            done.push((index, output));
            match return_when {
                ReturnWhen::FirstCompleted => break,
                ReturnWhen::FirstException if failed => break,
                _ => {}
            }
        }
    };
    match timeout {
        Some(limit) => {
            let _ = crate::time::timeout(limit, collect).await;
        }
        None => collect.await,
    }
    let pending = running.into_iter().map(|f| (f.index, f.future)).collect();
    (done, pending)
}

/// Runs `future` as a task of its own that the caller's cancellation does not
/// reach (asyncio's `shield`), and returns the task's [`JoinHandle`].
///
/// Dropping the returned handle, or a future that awaits it (because a
/// `timeout` around it elapsed, a `select` chose another branch, or the
/// awaiting task was aborted), does **not** cancel the shielded work: it runs
/// on as a detached task to its end (or until its runtime shuts down). Only
/// [`JoinHandle::abort`] on the handle cancels it.
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use ferrio::time::{sleep, timeout};
/// ferrio::run(async {
///     let saved = Arc::new(AtomicBool::new(false));
///     let save = {
///         let saved = saved.clone();
///         async move {
///             sleep(Duration::from_millis(30)).await;
///             saved.store(true, Ordering::SeqCst);
///         }
///     };
///     // The caller gives up after 5 ms, but the save is not interrupted.
///     assert!(timeout(Duration::from_millis(5), ferrio::shield(save)).await.is_err());
///     sleep(Duration::from_millis(100)).await;
///     assert!(saved.load(Ordering::SeqCst));
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime, with a message that says so.
#[track_caller]
pub fn shield<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    crate::spawn(future)
}
