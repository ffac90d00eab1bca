//! The executor's counters: plain cells on its own thread (one add each),
//! and the snapshot [`Metrics`] that reports them.
//!
//! Not here: the reactor's counters (I/O events, timers), which the facade
//! reports beside these, or per-task figures (the dump's).

use std::cell::Cell;
use std::fmt;
use std::time::Duration;

/// Counters the executor keeps on its own thread; never shared, never atomic.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) spawned: Cell<u64>,
    pub(crate) finished: Cell<u64>,
    pub(crate) polls: Cell<u64>,
    pub(crate) local_wakes: Cell<u64>,
    pub(crate) parks: Cell<u64>,
    pub(crate) parked: Cell<Duration>,
    pub(crate) queue_max: Cell<usize>,
}

impl Counters {
    /// The local queue is now `len` long.
    pub(crate) fn queued(&self, len: usize) {
        if len > self.queue_max.get() {
            self.queue_max.set(len);
        }
    }
}

/// A snapshot of an executor's counters since it was made (tokio-metrics'
/// runtime figures, always on). `Runtime::metrics()` or `ferrio::metrics()`.
///
/// ```
/// ferrio::run(async {
///     ferrio::spawn(async {}).await.unwrap();
///     let m = ferrio::metrics().executor;
///     assert!(m.tasks_spawned >= 1 && m.polls >= 1);
///     println!("{m}");
/// });
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Tasks spawned (blocking jobs not included).
    pub tasks_spawned: u64,
    /// Tasks alive now: spawned and not finished.
    pub tasks_alive: u64,
    /// Task polls.
    pub polls: u64,
    /// Wakes of a task from the executor's own thread.
    pub local_wakes: u64,
    /// Wakes (and spawns) from other threads, through the remote queue.
    pub remote_wakes: u64,
    /// Times the loop parked (turned the reactor).
    pub parks: u64,
    /// Time since the executor was made, outside parks: running tasks (and
    /// the caller's own time between two `block_on` calls).
    pub busy: Duration,
    /// Time spent parked: waiting for I/O, timers or wakes.
    pub parked: Duration,
    /// Tasks in the run queues now.
    pub queue_depth: usize,
    /// The most tasks the local run queue held, as sampled at the start of
    /// each batch of polls.
    pub queue_max: usize,
    /// Blocking-pool threads alive now (running or idle).
    pub blocking_threads: usize,
    /// Blocking jobs waiting for a thread now.
    pub blocking_queue: usize,
    /// Per worker, in worker order: one entry on the one-worker runtime.
    pub workers: Vec<WorkerMetrics>,
}

/// One worker's counters (see [`Metrics::workers`]). On a runtime of several
/// workers they are published by each worker once per batch of polls, so
/// they can lag by one batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls on this worker.
    pub polls: u64,
    /// Times it took tasks from another worker's queue.
    pub steals: u64,
    /// Times it parked (in the driver or on its condvar).
    pub parks: u64,
    /// Time spent parked.
    pub parked: Duration,
    /// Time since it started, outside parks.
    pub busy: Duration,
    /// Wakes of tasks on this worker's thread.
    pub local_wakes: u64,
    /// Tasks in its run queue now.
    pub queue_depth: usize,
}

impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tasks: {} spawned, {} alive; polls: {}; wakes: {} local, {} remote; \
             parks: {}; busy {:.3?}, parked {:.3?}; run queue: {} now, {} max; \
             blocking: {} threads, {} queued",
            self.tasks_spawned,
            self.tasks_alive,
            self.polls,
            self.local_wakes,
            self.remote_wakes,
            self.parks,
            self.busy,
            self.parked,
            self.queue_depth,
            self.queue_max,
            self.blocking_threads,
            self.blocking_queue
        )
    }
}
