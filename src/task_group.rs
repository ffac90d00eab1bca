//! asyncio 3.11's `TaskGroup`: structured concurrency. Tasks spawned into a
//! group; [`TaskGroup::join`] waits for all of them; the first failure (an
//! `Err` returned by a task, or a panic) cancels the rest, and the group
//! returns every failure in a [`TaskGroupError`] (asyncio's `ExceptionGroup`).
//! Dropping a group cancels its tasks: none is orphaned. Tasks of the group
//! (or anyone) add more through a [`TaskGroupSpawner`].
//!
//! Not here: taking results one at a time as they finish, which is
//! [`crate::JoinSet`] (the group is built on it).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::pin;

use futures_util::future::{select, Either};

use crate::{JoinError, JoinHandle, JoinSet};

/// A group of tasks that succeed or fail together (asyncio's `TaskGroup`).
///
/// Each task returns `Result<T, E>`. [`join`](Self::join) waits for every
/// task and gives their `T`s in the order they were spawned. As soon as one
/// task fails (returns `Err` or panics), the group cancels all the others,
/// waits for them to stop, and returns a [`TaskGroupError`] holding every
/// failure that happened (several tasks can fail before the cancellation
/// reaches them). Tasks cancelled by the group are not failures.
///
/// Dropping the group, or the future of `join` before it completes (for
/// example when a `timeout` around it elapses), cancels every task still
/// running: their futures are dropped at the loop's next turn, so their
/// destructors run. `TaskGroup<T, E>` is `Send` when `T` and `E` are.
///
/// Tasks spawned through a [`spawner`](Self::spawner) (asyncio's
/// `tg.create_task` from inside a task of the group) join the group while it
/// runs; once it has failed, finished or been dropped, such a spawn is
/// refused with [`TaskGroupClosed`] and its future never runs.
///
/// ```
/// use std::time::Duration;
/// use ferrio::{time::sleep, TaskGroup, TaskFailure};
/// ferrio::run(async {
///     let mut group = TaskGroup::new();
///     for ms in [20u64, 10] {
///         group.spawn(async move {
///             sleep(Duration::from_millis(ms)).await;
///             Ok::<_, String>(ms)
///         });
///     }
///     assert_eq!(group.join().await.unwrap(), [20, 10]); // spawn order
///
///     let mut group = TaskGroup::new();
///     group.spawn(async { sleep(Duration::from_secs(60)).await; Ok(0u64) });
///     group.spawn(async { Err("bad input".to_string()) });
///     let err = group.join().await.unwrap_err(); // the 60 s task was cancelled
///     assert!(matches!(err.failures(), [TaskFailure::Error(e)] if e == "bad input"));
/// });
/// ```
pub struct TaskGroup<T, E> {
    set: JoinSet<Result<T, E>>,
    /// Spawn index of each task id, so that outputs come back in spawn order.
    order: HashMap<u64, usize>,
    /// Tasks spawned through a [`TaskGroupSpawner`], waiting to join `set`.
    /// Closed when the group stops taking tasks.
    incoming: async_channel::Receiver<JoinHandle<Result<T, E>>>,
    /// Kept to hand out spawners; the channel stays open while the group lives.
    sender: async_channel::Sender<JoinHandle<Result<T, E>>>,
}

/// Adds tasks to a [`TaskGroup`] from anywhere, including its own tasks
/// (asyncio's `tg.create_task` inside the group). `Clone + Send + Sync`.
///
/// ```
/// use ferrio::TaskGroup;
/// ferrio::run(async {
///     let mut group = TaskGroup::new();
///     let spawner = group.spawner();
///     group.spawn(async move {
///         // A task of the group starts another one in the same group.
///         spawner.spawn(async { Ok::<_, String>(2) }).unwrap();
///         Ok(1)
///     });
///     assert_eq!(group.join().await.unwrap(), [1, 2]);
/// });
/// ```
pub struct TaskGroupSpawner<T, E> {
    sender: async_channel::Sender<JoinHandle<Result<T, E>>>,
}

/// [`TaskGroupSpawner::spawn`] on a group that has failed, finished or been
/// dropped (asyncio's `RuntimeError`): the future was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskGroupClosed;

/// One failure inside a [`TaskGroupError`]: an error a task returned, or a
/// panic, with its message ([`panic_message`](TaskFailure::panic_message)).
pub enum TaskFailure<E> {
    /// The task returned this error.
    Error(E),
    /// The task panicked; [`JoinError::panic_message`] gives its message,
    /// [`JoinError::into_panic`] the payload.
    Panicked(JoinError),
}

impl<E> TaskFailure<E> {
    /// The error the task returned, if it returned one.
    pub fn error(&self) -> Option<&E> {
        match self {
            TaskFailure::Error(e) => Some(e),
            TaskFailure::Panicked(_) => None,
        }
    }

    /// The panic's message, if the task panicked with one.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            TaskFailure::Error(_) => None,
            TaskFailure::Panicked(e) => e.panic_message(),
        }
    }
}

/// Every failure of a [`TaskGroup`] (asyncio's `ExceptionGroup`), in the order
/// they were seen; never empty.
pub struct TaskGroupError<E> {
    failures: Vec<TaskFailure<E>>,
}

impl<T, E> TaskGroup<T, E> {
    /// An empty group.
    pub fn new() -> Self {
        let (sender, incoming) = async_channel::unbounded();
        TaskGroup {
            set: JoinSet::new(),
            order: HashMap::new(),
            incoming,
            sender,
        }
    }

    /// A handle that spawns tasks into this group, from its own tasks or
    /// anywhere else, while the group runs.
    pub fn spawner(&self) -> TaskGroupSpawner<T, E> {
        TaskGroupSpawner {
            sender: self.sender.clone(),
        }
    }

    /// Moves a task spawned through a spawner into the group.
    fn register(&mut self, handle: JoinHandle<Result<T, E>>) {
        let id = self.set.insert(handle);
        self.order.insert(id, self.order.len());
    }

    /// Stops taking tasks from spawners; the ones already sent join the group.
    fn close(&mut self) {
        self.incoming.close();
        while let Ok(handle) = self.incoming.try_recv() {
            self.register(handle);
        }
    }

    /// How many tasks were spawned into the group (through a spawner: that
    /// the group has taken in so far).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether no task was spawned into the group.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty() && self.incoming.is_empty()
    }

    /// Spawns `future` on the current runtime as a task of the group and
    /// returns its task id. It starts running as any spawned task does, at
    /// the caller's next await.
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message that says so.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> u64
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let id = self.set.spawn(future);
        self.order.insert(id, self.order.len());
        id
    }

    /// Spawns a future that need not be `Send` as a task of the group; it
    /// runs on this thread. Returns its task id.
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message that says so.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> u64
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
        E: 'static,
    {
        let id = self.set.spawn_local(future);
        self.order.insert(id, self.order.len());
        id
    }

    /// Waits for every task (asyncio's leaving `async with TaskGroup()`).
    ///
    /// # Errors
    ///
    /// If a task returned `Err` or panicked: the other tasks are cancelled
    /// and, once all have stopped, every failure is returned.
    pub async fn join(mut self) -> Result<Vec<T>, TaskGroupError<E>> {
        let mut outputs: Vec<Option<T>> = Vec::new();
        let mut failures = Vec::new();
        loop {
            while let Ok(handle) = self.incoming.try_recv() {
                self.register(handle);
            }
            if self.set.is_empty() {
                // Nothing runs that could still spawn from inside the group.
                self.close();
                if self.set.is_empty() {
                    break;
                }
            }
            // Wait for a task to finish, or for a spawner to send one in.
            let next = if self.incoming.is_closed() {
                // Failing: nothing more comes in; wait for the cancellations.
                Either::Left(self.set.join_next_with_id().await)
            } else {
                let finished = pin!(self.set.join_next_with_id());
                let arrived = pin!(self.incoming.recv());
                match select(finished, arrived).await {
                    Either::Left((finished, _)) => Either::Left(finished),
                    Either::Right((arrived, _)) => Either::Right(arrived),
                }
            };
            let (id, result) = match next {
                Either::Left(Some(finished)) => finished,
                Either::Left(None) | Either::Right(Err(_)) => continue,
                Either::Right(Ok(handle)) => {
                    self.register(handle);
                    continue;
                }
            };
            let failure = match result {
                Ok(Ok(value)) => {
                    let index = self.order[&id];
                    if outputs.len() <= index {
                        outputs.resize_with(index + 1, || None);
                    }
                    outputs[index] = Some(value);
                    continue;
                }
                Ok(Err(e)) => TaskFailure::Error(e),
                Err(e) if e.is_panic() => TaskFailure::Panicked(e),
                // Cancelled by us after a failure, or by the runtime shutting down.
                Err(_) => continue,
            };
            if failures.is_empty() {
                self.close();
                log::debug!(
                    "task group: task {id} failed, cancelling {} others",
                    self.set.len()
                );
                self.set.abort_all();
            }
            failures.push(failure);
        }
        if failures.is_empty() {
            Ok(outputs.into_iter().flatten().collect())
        } else {
            Err(TaskGroupError { failures })
        }
    }
}

impl<T, E> TaskGroupSpawner<T, E> {
    /// Spawns `future` on the current runtime as a task of the group and
    /// returns its task id.
    ///
    /// # Errors
    ///
    /// [`TaskGroupClosed`] if the group has failed, finished or been
    /// dropped; `future` is then dropped without running.
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message that says so.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<u64, TaskGroupClosed>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        if self.sender.is_closed() {
            return Err(TaskGroupClosed);
        }
        let handle = crate::spawn(future);
        let id = handle.id();
        match self.sender.try_send(handle) {
            Ok(()) => Ok(id),
            Err(refused) => {
                // Closed in between: aborted before its first poll, it never runs.
                refused.into_inner().abort();
                Err(TaskGroupClosed)
            }
        }
    }
}

impl<T, E> Clone for TaskGroupSpawner<T, E> {
    fn clone(&self) -> Self {
        TaskGroupSpawner {
            sender: self.sender.clone(),
        }
    }
}

impl<T, E> fmt::Debug for TaskGroupSpawner<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupSpawner")
            .field("closed", &self.sender.is_closed())
            .finish()
    }
}

impl fmt::Display for TaskGroupClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task group no longer takes tasks: it has failed, finished or been dropped")
    }
}

impl std::error::Error for TaskGroupClosed {}

impl<T, E> Drop for TaskGroup<T, E> {
    fn drop(&mut self) {
        // Tasks sent by spawners but not yet taken in are cancelled too; the
        // JoinSet cancels the rest as it drops.
        self.close();
    }
}

impl<T, E> Default for TaskGroup<T, E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, E> fmt::Debug for TaskGroup<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("spawned", &self.order.len())
            .field("unfinished", &self.set.len())
            .finish()
    }
}

impl<E> TaskGroupError<E> {
    /// Every failure, in the order the group saw them.
    pub fn failures(&self) -> &[TaskFailure<E>] {
        &self.failures
    }

    /// Takes the failures out.
    pub fn into_failures(self) -> Vec<TaskFailure<E>> {
        self.failures
    }

    /// Every failure, the panics included (asyncio's `eg.exceptions`):
    /// never empty, so a group that failed by a panic reports it here. Each
    /// is a [`TaskFailure`]: `Error(e)` for an error a task returned,
    /// `Panicked(_)` with the panic's message for a panic.
    ///
    /// ```
    /// use ferrio::{TaskFailure, TaskGroup};
    /// ferrio::run(async {
    ///     let mut group: TaskGroup<(), String> = TaskGroup::new();
    ///     group.spawn(async { panic!("out of cheese") });
    ///     let err = group.join().await.unwrap_err();
    ///     let failure = err.errors().next().unwrap();
    ///     assert!(matches!(failure, TaskFailure::Panicked(_)));
    ///     assert_eq!(failure.panic_message(), Some("out of cheese"));
    /// });
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = &TaskFailure<E>> {
        self.failures.iter()
    }

    /// Only the errors tasks returned, without the panics (which
    /// [`errors`](Self::errors) has too).
    pub fn returned_errors(&self) -> impl Iterator<Item = &E> {
        self.failures.iter().filter_map(TaskFailure::error)
    }
}

impl<E: fmt::Display> fmt::Display for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Error(e) => e.fmt(f),
            TaskFailure::Panicked(e) => e.fmt(f),
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Error(e) => f.debug_tuple("Error").field(e).finish(),
            TaskFailure::Panicked(e) => f.debug_tuple("Panicked").field(e).finish(),
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        write!(
            f,
            "{n} task{} of the group failed",
            if n == 1 { "" } else { "s" }
        )?;
        for (i, failure) in self.failures.iter().enumerate() {
            write!(f, "{} {failure}", if i == 0 { ":" } else { ";" })?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupError")
            .field("failures", &self.failures)
            .finish()
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskFailure<E> {}
