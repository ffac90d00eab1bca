//! `task::Builder`: spawning a task with a name.
//!
//! Not here: what a name is used for (the dump, logs, the trace and
//! `JoinHandle`'s `Debug` read it from the task).

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::join::JoinHandle;
use crate::scheduler::Spawner;
use crate::scheduler::{new_task_info, with_runtime, Current};

/// Spawns a task with a name (asyncio's `create_task(coro, name=...)`). The
/// name shows in [`crate::JoinHandle`]'s `Debug`, the task dump, debug-mode
/// warnings and the trace.
///
/// ```
/// ferrio::run(async {
///     let task = ferrio::task::Builder::new()
///         .name("fetch 3")
///         .spawn(async { 3 });
///     assert!(format!("{task:?}").starts_with("<Task pending name='fetch 3' id="));
///     assert_eq!(task.await.unwrap(), 3);
/// });
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    name: Option<Arc<str>>,
}

impl Builder {
    /// A builder for an unnamed task.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task. Any string does: `"fetch"`, a `String`,
    /// `&format!("fetch {id}")` (as with tokio's `Builder::name`), an
    /// `Arc<str>`.
    ///
    /// ```
    /// ferrio::run(async {
    ///     let id = 7;
    ///     let task = ferrio::task::Builder::new()
    ///         .name(&format!("fetch {id}"))
    ///         .spawn(async {});
    ///     assert_eq!(task.name(), Some("fetch 7"));
    /// });
    /// ```
    pub fn name(mut self, name: impl AsRef<str>) -> Builder {
        self.name = Some(Arc::from(name.as_ref()));
        self
    }

    /// Spawns a `Send` task on the current runtime, as [`crate::spawn`].
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message that says so.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let info = new_task_info(self.name, Location::caller());
        with_runtime("task::Builder::spawn", |rt| match rt {
            Current::One(core) => core.spawn_task(future, info),
            Current::Many(worker) => worker.spawn(future, info),
        })
    }

    /// Spawns a task that need not be `Send` on the current runtime, as
    /// [`crate::spawn_local`].
    ///
    /// ```
    /// ferrio::run(async {
    ///     let local = std::rc::Rc::new(5); // not Send
    ///     let task = ferrio::task::Builder::new()
    ///         .name("local")
    ///         .spawn_local(async move { *local });
    ///     assert_eq!(task.name(), Some("local"));
    ///     assert_eq!(task.await.unwrap(), 5);
    /// });
    /// ```
    ///
    /// # Panics
    ///
    /// Outside a runtime, with a message that says so.
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let info = new_task_info(self.name, Location::caller());
        with_runtime("task::Builder::spawn_local", |rt| match rt {
            Current::One(core) => core.spawn_task(future, info),
            Current::Many(worker) => worker.spawn_local(future, info),
        })
    }

    /// Spawns a `Send` task through `spawner`, from any thread.
    ///
    /// ```
    /// let mut rt = ferrio::Runtime::new().unwrap();
    /// let spawner = rt.spawner();
    /// let task = std::thread::spawn(move || {
    ///     ferrio::task::Builder::new().name("from a thread").spawn_on(&spawner, async { 1 })
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(task.name(), Some("from a thread"));
    /// assert_eq!(rt.block_on(task).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, spawner: &Spawner, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawner.spawn_with(future, new_task_info(self.name, Location::caller()))
    }
}
