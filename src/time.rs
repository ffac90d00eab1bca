//! Time: sleeping, intervals and timeouts (asyncio's `sleep`, `wait_for` and
//! `timeout`). Everything of `ferrio_reactor::time`, plus [`wait_for`], which
//! needs the executor's tasks.
//!
//! Every timer lives on the reactor of the runtime it was first polled in; a
//! timer never completes before its deadline.

use std::time::Duration;

pub use ferrio_reactor::time::*;

use crate::{AbortOnDrop, JoinHandle};

/// Waits at most `duration` for a spawned task, and **cancels it** if the
/// time runs out: asyncio's `await asyncio.wait_for(task, t)`.
///
/// [`timeout`] drops the future it was given when the deadline passes. For
/// a plain future that is a cancel, but a [`JoinHandle`] is only a handle:
/// dropping it detaches the task, which runs on. `wait_for` aborts it
/// instead (its future is dropped at its loop's next turn; a
/// `spawn_blocking` closure that already runs cannot be stopped). It is
/// `timeout(duration, task.abort_on_drop())`.
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::{sleep, wait_for};
/// ferrio::run(async {
///     let (tx, rx) = ferrio::sync::oneshot::channel::<()>();
///     let slow = ferrio::spawn(async move {
///         let _tx = tx; // dropped with the task's future
///         sleep(Duration::from_secs(60)).await;
///     });
///     assert!(wait_for(Duration::from_millis(10), slow).await.is_err());
///     assert!(rx.await.is_err(), "the task was cancelled, not left running");
///
///     let fast = ferrio::spawn(async { 5 });
///     assert_eq!(wait_for(Duration::from_secs(5), fast).await.unwrap().unwrap(), 5);
/// });
/// ```
pub fn wait_for<T>(duration: Duration, task: JoinHandle<T>) -> Timeout<AbortOnDrop<T>> {
    timeout(duration, task.abort_on_drop())
}
