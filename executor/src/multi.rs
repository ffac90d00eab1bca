//! The several-worker runtime's public face, [`MultiExecutor`]: starting the
//! worker threads, `block_on` on worker 0 (the calling thread), and shutdown.
//!
//! Not here: the workers themselves, their queues and parking (`workers/`),
//! or the one-worker executor (`scheduler.rs`), which `ferrio::run` uses
//! unless asked for more workers.

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::config::Config;
use crate::join::JoinHandle;
use crate::observer::{Dump, Metrics};
use crate::park::Park;
use crate::scheduler::{in_runtime, Spawner};
use crate::sync::ThreadHandle;
use crate::workers::{self, enter, MainWaker, OnThreadStart, Shared, Worker};

/// The several-worker executor: `workers - 1` threads of its own, plus the
/// thread that calls [`block_on`](MultiExecutor::block_on), which is worker 0
/// (so `block_on`'s future need not be `Send`, and `spawn_local` from it
/// pins to that thread). The driver it parks on (the reactor, in the
/// runtime) is shared: one idle worker at a time blocks in it.
///
/// ```
/// use ferrio_executor::{Config, MultiExecutor, ThreadParker};
/// let mut executor =
///     MultiExecutor::new(ThreadParker::new(), 2, Config::default(), None).unwrap();
/// let out = executor.block_on(async {
///     let tasks: Vec<_> = (0..4u64)
///         .map(|i| ferrio_executor::spawn(async move { i * i }))
///         .collect();
///     let mut sum = 0;
///     for t in tasks {
///         sum += t.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(out, 14);
/// ```
pub struct MultiExecutor {
    worker: Rc<Worker>,
    shared: Arc<Shared>,
    threads: Vec<ThreadHandle<()>>,
}

impl MultiExecutor {
    /// Starts `workers - 1` worker threads (`workers` is at least 2); each
    /// first calls `on_thread_start` and keeps what it returns until it exits.
    ///
    /// # Errors
    ///
    /// The OS's error if a worker thread cannot be started. `InvalidInput`
    /// for a config with a [`seed`](Config::seed): a seeded run is the
    /// one-worker [`Executor`](crate::Executor)'s (on several threads, the
    /// OS decides the order, and no seed can replay it).
    pub fn new<P: Park + Send + 'static>(
        park: P,
        workers: usize,
        config: Config,
        on_thread_start: Option<OnThreadStart>,
    ) -> std::io::Result<MultiExecutor> {
        if config.seed.is_some() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a seeded run needs the one-worker executor, not several workers",
            ));
        }
        let (shared, observer) = Shared::new(park, workers, &config);
        let mut executor = MultiExecutor {
            worker: Rc::new(Worker::first(shared.clone(), observer)),
            shared: shared.clone(),
            threads: Vec::new(),
        };
        // Worker 0's observer writes the trace; the others record their own
        // track group and hand it over when they stop.
        let sink = executor.worker.cx.observer.trace_sink();
        for index in 1..shared.worker_count() {
            let thread = shared.start_worker(
                index,
                config.observe.clone(),
                sink.clone(),
                on_thread_start.clone(),
            )?;
            executor.threads.push(thread);
        }
        Ok(executor)
    }

    /// Runs `future` to completion on this thread (worker 0) while the other
    /// workers run tasks too, and returns its output. Tasks still pending
    /// afterwards go on running on the other workers (and on this one at the
    /// next `block_on`) until the executor is dropped.
    ///
    /// # Panics
    ///
    /// If this thread is already inside a runtime (`block_on` cannot nest).
    #[track_caller]
    pub fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        let caller = Location::caller();
        if in_runtime() {
            panic!("cannot start a ferrio runtime from within a runtime: `.await` the future, or `spawn` it, instead");
        }
        let _enter = enter(self.worker.clone());
        let waker = MainWaker::waker(self.shared.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        let mut output = None;
        self.worker.run_main(|worker| {
            match worker.cx.poll_main(future.as_mut(), &mut cx, caller) {
                Poll::Ready(out) => {
                    output = Some(out);
                    true
                }
                Poll::Pending => false,
            }
        });
        output.expect("block_on's loop ends only when its future is ready")
    }

    /// Runs each task that is ready right now on this thread's queue (and
    /// the injection queue) once; see [`crate::Executor::run_ready_once`].
    ///
    /// # Panics
    ///
    /// If this thread is already inside a runtime.
    #[track_caller]
    pub fn run_ready_once(&mut self) {
        if in_runtime() {
            panic!("cannot run a ferrio executor from within a runtime");
        }
        let _enter = enter(self.worker.clone());
        self.worker.run_ready_once();
    }

    /// How many workers run tasks (this thread included).
    pub fn workers(&self) -> usize {
        self.shared.worker_count()
    }

    /// A handle that spawns onto this executor from any thread.
    pub fn spawner(&self) -> Spawner {
        Spawner::from_workers(self.shared.clone())
    }

    /// Spawns a `Send` task; any worker may run it.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawner().spawn(future)
    }

    /// How many threads the blocking pool has now.
    pub fn blocking_thread_count(&self) -> usize {
        self.shared.pool.thread_count()
    }

    /// Every live task, with its worker and what it waits on (see [`Dump`]).
    pub fn dump(&self) -> Dump {
        workers::dump(&self.shared, &self.worker)
    }

    /// The executor's counters, totals and per worker (see [`Metrics`]).
    pub fn metrics(&self) -> Metrics {
        workers::metrics(&self.shared, &self.worker)
    }

    /// How many tasks are alive (queued, running or waiting). For diagnostics.
    pub fn task_count(&self) -> usize {
        self.shared.task_count()
    }
}

impl Drop for MultiExecutor {
    fn drop(&mut self) {
        self.shared.close();
        // Every other worker stops polling and drops its pinned tasks on its
        // own thread; only then are the `Send` tasks dropped, here, so no
        // future is dropped while another thread polls it.
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                log::error!("a ferrio worker thread panicked outside a task");
            }
        }
        let _enter = (!in_runtime()).then(|| enter(self.worker.clone()));
        self.shared.drop_tasks(&self.worker);
        self.worker.finish();
    }
}

impl std::fmt::Debug for MultiExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiExecutor")
            .field("workers", &self.workers())
            .field("tasks", &self.task_count())
            .finish()
    }
}
