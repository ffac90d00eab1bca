//! The blocking pool: a capped set of threads for functions that block
//! (asyncio's `run_in_executor` / `to_thread`).
//!
//! Threads are started on demand up to `max_threads` and exit after
//! `keep_alive` without work. Jobs beyond the cap wait in a FIFO queue.
//!
//! Not here: async tasks (they never run on these threads).

use std::collections::VecDeque;
use std::panic::Location;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::observer::{TraceSink, WaitKind};
use crate::park::Unpark;
// `Quiet`'s atomics are loom's under `--cfg loom` (its model is below).
use crate::join::{JoinError, JoinHandle, JoinSource, FIRST_BLOCKING_ID};
use crate::raw::Header;
use crate::sync::atomic::{fence, AtomicBool, AtomicUsize};

/// Settings of the blocking pool.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// At most this many threads run blocking functions at once.
    pub max_threads: usize,
    /// An idle thread exits after this long without a job.
    pub keep_alive: Duration,
    /// Prefix of the threads' names.
    pub thread_name: String,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_threads: 64,
            keep_alive: Duration::from_secs(10),
            thread_name: "ferrio-blocking".into(),
        }
    }
}

/// A queued job: called with `true` to run it, `false` to cancel it unrun.
type Job = Box<dyn FnOnce(bool) + Send>;

pub(crate) struct BlockingPool {
    inner: Arc<PoolInner>,
    /// Where jobs record their slices when the runtime traces.
    trace: Option<Arc<TraceSink>>,
    /// Jobs not finished yet, for the paused clock (see [`Quiet`]).
    quiet: Arc<Quiet>,
}

/// Whether any job is in flight, for the loop deciding if it is idle: a
/// paused clock may jump to the next timer only when no job runs (its
/// result would wake a task; docs/architecture.md, "The clock").
///
/// The protocol, a SeqCst fence on each side (as the workers' idle set,
/// docs/architecture.md): the loop sets `watching`, fences, then reads
/// `in_flight`; a job decrements `in_flight`, fences, then reads `watching`
/// and, if it took the count to zero, unparks the loop. Either the loop sees zero
/// (and may jump), or the last job sees the loop watching and wakes it to
/// look again; the loop never blocks for good on a job that is done.
struct Quiet {
    in_flight: AtomicUsize,
    watching: AtomicBool,
    unpark: OnceLock<Arc<dyn Unpark>>,
}

impl Quiet {
    fn new() -> Quiet {
        Quiet {
            in_flight: AtomicUsize::new(0),
            watching: AtomicBool::new(false),
            unpark: OnceLock::new(),
        }
    }

    /// The loop's half: whether no job is in flight; if some are, the last
    /// one to finish unparks `unpark` (until `stop_watching`).
    fn is_quiet(&self, unpark: &Arc<dyn Unpark>) -> bool {
        self.unpark.get_or_init(|| unpark.clone());
        self.watching.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        self.in_flight.load(Ordering::Relaxed) == 0
    }

    fn stop_watching(&self) {
        self.watching.store(false, Ordering::Relaxed);
    }

    /// A job's half, once its result is out.
    fn job_done(&self) {
        let left = self.in_flight.fetch_sub(1, Ordering::Relaxed) - 1;
        fence(Ordering::SeqCst);
        if left == 0 && self.watching.load(Ordering::Relaxed) {
            if let Some(unpark) = self.unpark.get() {
                unpark.unpark();
            }
        }
    }
}

struct PoolInner {
    state: Mutex<PoolState>,
    /// Signalled when a job is queued or the pool shuts down.
    work: Condvar,
    config: PoolConfig,
}

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
}

static NEXT_BLOCKING_ID: AtomicU64 = AtomicU64::new(FIRST_BLOCKING_ID);

impl BlockingPool {
    pub(crate) fn new(config: PoolConfig, trace: Option<Arc<TraceSink>>) -> Self {
        let config = PoolConfig {
            max_threads: config.max_threads.max(1),
            ..config
        };
        BlockingPool {
            inner: Arc::new(PoolInner {
                state: Mutex::new(PoolState::default()),
                work: Condvar::new(),
                config,
            }),
            trace,
            quiet: Arc::new(Quiet::new()),
        }
    }

    /// Whether no job is in flight. When some are, the last one to finish
    /// unparks `unpark` until [`stop_watching`](Self::stop_watching) (the
    /// loop calls this just before it parks with nothing ready).
    pub(crate) fn is_quiet(&self, unpark: &Arc<dyn Unpark>) -> bool {
        self.quiet.is_quiet(unpark)
    }

    /// The loop is awake again: jobs finishing need not unpark it.
    pub(crate) fn stop_watching(&self) {
        self.quiet.stop_watching();
    }

    /// Runs `f` on a pool thread; `site` is where `spawn_blocking` was
    /// called (taken there: a closure between would hide it).
    pub(crate) fn spawn<F, T>(&self, f: F, site: &'static Location<'static>) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let id = NEXT_BLOCKING_ID.fetch_add(1, Ordering::Relaxed);
        let cell = Arc::new(BlockingCell {
            header: Header::new(),
            output: Mutex::new(None),
            site,
        });
        let job_cell = cell.clone();
        let trace = self.trace.clone();
        let quiet = self.quiet.clone();
        quiet.in_flight.fetch_add(1, Ordering::SeqCst);
        let job: Job = Box::new(move |run| {
            let result = if !run || job_cell.header.is_cancelled() {
                Err(JoinError::cancelled(id))
            } else {
                let began = trace.as_ref().map(|_| Instant::now());
                let site = job_cell.site;
                let result = catch_unwind(AssertUnwindSafe(f))
                    .map_err(|p| JoinError::job_panicked(id, site, p));
                if let (Some(trace), Some(began)) = (&trace, began) {
                    trace.blocking_job(id, began, Instant::now());
                }
                result
            };
            job_cell.complete(result);
            // After the result is out (and its task woken): see `Quiet`.
            quiet.job_done();
        });
        self.submit(job);
        JoinHandle::from_source(cell, id)
    }

    fn submit(&self, job: Job) {
        let mut state = self.inner.lock();
        if state.shutdown {
            drop(state);
            job(false);
            return;
        }
        state.queue.push_back(job);
        if state.idle > 0 {
            drop(state);
            self.inner.work.notify_one();
        } else if state.threads < self.inner.config.max_threads {
            state.threads += 1;
            let n = state.threads;
            drop(state);
            let inner = self.inner.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-{n}", self.inner.config.thread_name))
                .spawn(move || inner.worker());
            if let Err(e) = spawned {
                log::warn!("could not start a blocking thread: {e}");
                let mut state = self.inner.lock();
                state.threads -= 1;
                if state.threads == 0 {
                    // No thread will ever run the queue: fail its jobs rather than hang.
                    let jobs: Vec<Job> = state.queue.drain(..).collect();
                    drop(state);
                    jobs.into_iter().for_each(|job| job(false));
                }
            }
        }
    }

    /// Threads alive now (running a job or idle).
    pub(crate) fn thread_count(&self) -> usize {
        self.inner.lock().threads
    }

    /// Threads alive and jobs queued now.
    pub(crate) fn load(&self) -> (usize, usize) {
        let state = self.inner.lock();
        (state.threads, state.queue.len())
    }

    /// Cancels queued jobs and lets every thread exit once its current job is done.
    pub(crate) fn shutdown(&self) {
        let jobs: Vec<Job> = {
            let mut state = self.inner.lock();
            state.shutdown = true;
            state.queue.drain(..).collect()
        };
        self.inner.work.notify_all();
        jobs.into_iter().for_each(|job| job(false));
    }
}

impl PoolInner {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn worker(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                job(true);
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, self.config.keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.threads -= 1;
        log::trace!("blocking thread exits ({} left)", state.threads);
    }
}

/// The completion side of one blocking job. The output crosses threads, so
/// it sits behind a mutex (a blocking job is not a hot path).
struct BlockingCell<T> {
    header: Header,
    output: Mutex<Option<Result<T, JoinError>>>,
    /// Where `spawn_blocking` was called.
    site: &'static Location<'static>,
}

impl<T> BlockingCell<T> {
    fn output(&self) -> MutexGuard<'_, Option<Result<T, JoinError>>> {
        self.output.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn complete(&self, result: Result<T, JoinError>) {
        *self.output() = Some(result);
        if self.header.complete() {
            drop(self.output().take());
        }
    }
}

impl<T: Send> JoinSource<T> for BlockingCell<T> {
    fn poll_join(&self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        if !self.header.poll_complete(cx) {
            return Poll::Pending;
        }
        match self.output().take() {
            Some(result) => Poll::Ready(result),
            None => panic!("JoinHandle polled after it returned the job's output"),
        }
    }

    fn abort(self: Arc<Self>) {
        // A job that has not started will complete as cancelled; a running one runs on.
        self.header.cancel();
    }

    fn is_finished(&self) -> bool {
        self.header.is_complete()
    }

    fn drop_join_interest(&self) {
        if self.header.drop_join_interest() {
            drop(self.output().take());
        }
    }

    fn name(&self) -> Option<&str> {
        // Its `Debug` then reads `<Task pending name='spawn_blocking' ...>`.
        Some("spawn_blocking")
    }

    fn location(&self) -> &'static Location<'static> {
        self.site
    }

    fn wait_kind(&self) -> WaitKind {
        WaitKind::Blocking
    }
}

impl std::fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .finish()
    }
}

/// The `Quiet` protocol under loom: a job finishing on another thread while
/// the loop decides whether it is idle. The loop must either see the job
/// done or be unparked by it; a lost unpark parks it forever, which loom
/// reports as a deadlock. Fails with the job's unpark removed.
#[cfg(all(test, loom))]
mod loom_model {
    use super::*;
    use loom::sync::{Condvar, Mutex};

    /// What the reactor's `turn(None)` is to the loop: blocks until unparked.
    #[derive(Default)]
    struct Poller {
        woken: Mutex<bool>,
        condvar: Condvar,
    }

    impl Unpark for Poller {
        fn unpark(&self) {
            *self.woken.lock().unwrap() = true;
            self.condvar.notify_one();
        }
    }

    impl Poller {
        fn park(&self) {
            let mut woken = self.woken.lock().unwrap();
            while !*woken {
                woken = self.condvar.wait(woken).unwrap();
            }
            *woken = false;
        }
    }

    #[test]
    fn the_loop_sees_the_last_job_done_or_is_unparked_by_it() {
        loom::model(|| {
            let poller = Arc::new(Poller::default());
            let unpark: Arc<dyn Unpark> = poller.clone();
            let quiet = Arc::new(Quiet::new());
            quiet.in_flight.fetch_add(1, Ordering::SeqCst); // `spawn`
            let job = loom::thread::spawn({
                let quiet = quiet.clone();
                move || quiet.job_done()
            });
            // The loop: idle only once no job is in flight; until then it
            // blocks, and only the job's unpark can end that.
            while !quiet.is_quiet(&unpark) {
                poller.park();
                quiet.stop_watching();
            }
            job.join().unwrap();
        });
    }
}
