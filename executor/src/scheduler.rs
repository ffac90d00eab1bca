// Whole on purpose (about 1,000 lines): the one-worker core, its waker and its loops (FIFO, and seeded) are one protocol with the `Executor` that drives it; `dump`, `metrics` and the spawn functions read that core directly.
//! The single-threaded scheduler: run queues, the registry of live tasks, and
//! the loop that polls tasks and parks when there is nothing to do.
//!
//! Like asyncio's event loop, every task runs on the thread that drives the
//! executor. Other threads reach it through a [`Spawner`] or a task's waker:
//! both push to the remote queue and unpark the loop.
//!
//! Not here: what parks the loop (a [`Park`] implementation: the reactor in the
//! runtime, a condvar in tests) or the task type (`raw.rs`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::blocking::BlockingPool;
use crate::budget::Budget;
pub use crate::config::{Config, EVENT_INTERVAL};
use crate::context::{self, RunContext};
use crate::join::JoinHandle;
use crate::observer::{Dump, Metrics, Observer, TaskInfo, TaskState, WorkerMetrics};
pub use crate::park::{Park, Unpark};
use crate::raw::{Registry, Runnable, Schedule, Task};
use crate::seed::SeedRng;
use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::sync::{lock, Mutex};
use crate::workers::{self, Worker};

// Process-wide, so std's (loom's atomics cannot live in a static).
static NEXT_TASK_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A new task's id, name and spawn site.
pub(crate) fn new_task_info(
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
) -> TaskInfo {
    TaskInfo {
        id: NEXT_TASK_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        name,
        location,
    }
}

/// The part of the executor other threads can reach.
struct Shared {
    /// Tasks woken or spawned from other threads, and whether the executor is closed.
    remote: Mutex<Remote>,
    /// Fast check that avoids locking `remote` when it is empty.
    has_remote: AtomicBool,
    /// The future passed to `block_on` was woken.
    main_woken: AtomicBool,
    /// Mirrors `Remote::closed` for the spawn path, which must not lock.
    closed: AtomicBool,
    unpark: Arc<dyn Unpark>,
    pool: BlockingPool,
    /// Wakes and spawns that came through `remote` (metrics; Relaxed, per runtime).
    remote_wakes: AtomicU64,
    /// Tasks spawned from other threads (metrics; Relaxed, per runtime).
    remote_spawns: AtomicU64,
}

struct Remote {
    queue: Vec<Arc<dyn Runnable>>,
    /// Set at shutdown, under the same lock as pushes, so nothing is queued after
    /// the last drain (a queued task would keep `Shared` alive in a cycle).
    closed: bool,
}

/// The part of the executor only its own thread touches.
pub(crate) struct Core {
    shared: Arc<Shared>,
    /// Tasks ready to run, in wake order.
    local: RefCell<VecDeque<Arc<dyn Runnable>>>,
    /// Every task that has run and not completed, so shutdown can drop the futures
    /// of tasks that wait on something that will never come.
    registry: RefCell<Slab<Arc<dyn Runnable>>>,
    /// A seeded run's generator (`Config::seed`); `None`, the default, and
    /// the FIFO loop never looks at it (docs/architecture.md, "A seeded run").
    seeded: Option<SeedRng>,
    /// The observer and the budget, which the code being polled reaches
    /// through `context.rs` without knowing the core.
    pub(crate) cx: RunContext,
}

// SAFETY: `Core` is the only owner of kind `One`.
unsafe impl context::Owner for Core {
    const KIND: context::Kind = context::Kind::One;
    fn context(&self) -> &RunContext {
        &self.cx
    }
}

/// This thread's executor core, if it is inside one.
///
/// # Safety
///
/// The reference must not be kept past the current call into the executor
/// (a poll, a spawn, a wake): see [`with_current`], which scopes it.
#[inline]
unsafe fn current<'a>() -> Option<&'a Core> {
    // SAFETY: the caller keeps the reference no longer (see above).
    unsafe { context::current_owner::<Core>() }
}

/// Calls `f` with this thread's executor core, if it is inside one.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    // SAFETY: the reference lives only as long as `f`'s argument, and `f`
    // runs below the frame that owns the guard (`block_on`, or the executor's
    // drop), which cannot return while `f` runs.
    f(unsafe { current() })
}

impl Shared {
    fn is_current(self: &Shared, core: &Core) -> bool {
        std::ptr::eq(Arc::as_ptr(&core.shared), self)
    }

    /// Queues `task` from another thread and unparks the loop; false if the
    /// executor is closed (then the task was not queued, and nobody else has
    /// it from here).
    fn schedule_remote(&self, task: Arc<dyn Runnable>) -> bool {
        let rejected = {
            let mut remote = lock(&self.remote);
            if remote.closed {
                Some(task)
            } else {
                remote.queue.push(task);
                self.has_remote.store(true, Ordering::Release);
                self.remote_wakes.fetch_add(1, Ordering::Relaxed);
                None
            }
        };
        match rejected {
            // Shut down: the task's future is gone already. Drop our reference
            // outside the lock, since a drop may re-enter the scheduler.
            Some(task) => {
                drop(task);
                false
            }
            None => {
                self.unpark.unpark();
                true
            }
        }
    }

    fn notify_main(&self) {
        self.main_woken.store(true, Ordering::Release);
        if !with_current(|core| core.is_some_and(|c| self.is_current(c))) {
            self.unpark.unpark();
        }
    }
}

/// Wakes the future given to `block_on`, which is not a task.
struct MainWaker {
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.shared.notify_main();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.notify_main();
    }
}

impl Schedule for Shared {
    /// Queues a woken task: on the local queue from the executor's own thread,
    /// otherwise on the remote queue, unparking the executor.
    fn schedule(&self, task: Arc<dyn Runnable>) {
        let task = with_current(|core| match core {
            Some(core) if self.is_current(core) => {
                core.local.borrow_mut().push_back(task);
                core.cx
                    .observer
                    .woken(|| core.local.borrow().back().map_or(0, |t| t.id()));
                None
            }
            _ => Some(task),
        });
        if let Some(task) = task {
            self.schedule_remote(task);
        }
    }
}

impl Registry for Core {
    fn register(&self, task: Arc<dyn Runnable>) -> usize {
        self.registry.borrow_mut().insert(task)
    }

    fn release(&self, slot: usize) {
        // During shutdown the registry was drained already.
        if let Ok(mut registry) = self.registry.try_borrow_mut() {
            registry.try_remove(slot);
        }
    }
}

impl Core {
    /// Pops the next ready task, refilling the local queue from the remote one
    /// when it runs dry.
    fn next_task(&self) -> Option<Arc<dyn Runnable>> {
        if let Some(task) = self.local.borrow_mut().pop_front() {
            return Some(task);
        }
        self.drain_remote();
        self.local.borrow_mut().pop_front()
    }

    fn drain_remote(&self) {
        if !self.shared.has_remote.load(Ordering::Acquire) {
            return;
        }
        let drained = {
            let mut remote = lock(&self.shared.remote);
            self.shared.has_remote.store(false, Ordering::Release);
            std::mem::take(&mut remote.queue)
        };
        let ids: Vec<u64> = if self.cx.observer.timing() {
            drained.iter().map(|t| t.id()).collect()
        } else {
            Vec::new()
        };
        self.local.borrow_mut().extend(drained);
        self.cx.observer.woken_remotely(ids.into_iter());
    }

    /// Runs up to `budget` tasks; returns true if more are ready.
    fn run_batch(&self, budget: usize) -> bool {
        // Wakes from other threads join the queue once a batch, not only when
        // it runs dry: tasks that stay ready (yielding in a loop) must not
        // keep a `spawn_blocking` result or a cross-thread wake waiting
        // forever (docs/architecture.md, "One turn of the loop").
        self.drain_remote();
        // The queue's high-water mark and the log level, sampled once a batch.
        self.cx.observer.counters.queued(self.local.borrow().len());
        self.cx.observer.sample_log_level();
        // Debug mode or tracing times each run whole; the switch is read once
        // a batch, so the untimed loop tests nothing per poll.
        let ran = if self.cx.observer.timing() {
            self.run_tasks(budget, |task| {
                let info = task.info();
                self.cx.observer.poll_begin_timed(&info);
                task.run(self, &self.cx.observer);
                self.cx.observer.poll_end_timed(&info);
            })
        } else {
            self.run_tasks(budget, |task| task.run(self, &self.cx.observer))
        };
        let more = ran == budget;
        self.cx.budget.unlimited();
        more
    }

    /// Runs up to `budget` ready tasks through `run`, each with a fresh
    /// cooperative budget; returns how many ran.
    #[inline(always)]
    fn run_tasks(&self, budget: usize, mut run: impl FnMut(Arc<dyn Runnable>)) -> usize {
        for ran in 0..budget {
            let Some(task) = self.next_task() else {
                return ran;
            };
            self.cx.budget.reset();
            run(task);
        }
        budget
    }

    /// A seeded run's next step: a ready task, or `block_on`'s future if
    /// `main_ready` says it was woken, chosen by the generator among all of
    /// them (the remote queue is drained first if nothing local is ready).
    /// `None` when nothing is ready. Only the seeded loop calls this.
    fn pick_seeded(&self, main_ready: bool) -> Option<Pick> {
        let rng = self.seeded.as_ref()?;
        if self.local.borrow().is_empty() {
            self.drain_remote();
        }
        let mut local = self.local.borrow_mut();
        let candidates = local.len() + usize::from(main_ready);
        if candidates == 0 {
            return None;
        }
        let pick = rng.below(candidates);
        // O(1): the back task takes the picked one's place, which is as
        // good as any place when the next pick is drawn anyway.
        Some(match local.swap_remove_back(pick) {
            Some(task) => Pick::Task(task),
            None => Pick::Main,
        })
    }

    /// Polls one task the seeded loop picked, as the FIFO loop's batch would.
    fn run_one(&self, task: Arc<dyn Runnable>) {
        self.cx.budget.reset();
        if self.cx.observer.timing() {
            let info = task.info();
            self.cx.observer.poll_begin_timed(&info);
            task.run(self, &self.cx.observer);
            self.cx.observer.poll_end_timed(&info);
        } else {
            task.run(self, &self.cx.observer);
        }
        self.cx.budget.unlimited();
    }

    fn has_ready(&self) -> bool {
        !self.local.borrow().is_empty()
            || self.shared.has_remote.load(Ordering::Acquire)
            || self.shared.main_woken.load(Ordering::Acquire)
    }

    pub(crate) fn spawn_task<F>(&self, future: F, info: TaskInfo) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let task = Task::new(future, self.shared.clone(), info);
        let handle = task.join_handle();
        if self.shared.closed.load(Ordering::Acquire) {
            // Spawned while the runtime shuts down: cancelled at once.
            Runnable::shutdown(&*task);
        } else {
            self.cx.observer.spawned(|| task.info());
            // A new task starts NOTIFIED: it is queued exactly once here.
            self.local.borrow_mut().push_back(task);
        }
        handle
    }

    /// Every live task: registered ones (they have waited), then new ones
    /// still in a queue.
    pub(crate) fn dump(&self) -> Dump {
        let now = Instant::now();
        let running = self.cx.observer.current_id();
        let mut tasks: Vec<Arc<dyn Runnable>> = self
            .registry
            .borrow()
            .iter()
            .map(|(_, t)| t.clone())
            .collect();
        tasks.extend(self.local.borrow().iter().cloned());
        tasks.extend(lock(&self.shared.remote).queue.iter().cloned());
        let mut seen = std::collections::HashSet::new();
        let mut dump: Vec<_> = tasks
            .iter()
            .filter(|t| seen.insert(t.id()))
            .map(|t| {
                let state = if Some(t.id()) == running {
                    TaskState::Running
                } else if t.is_notified() {
                    TaskState::Scheduled
                } else {
                    TaskState::Idle
                };
                self.cx
                    .observer
                    .task_dump(t.info(), t.last_wait(), state, now)
            })
            .collect();
        dump.sort_by_key(|t| t.info.id);
        Dump { tasks: dump }
    }

    /// The counters, now.
    pub(crate) fn metrics(&self) -> Metrics {
        let c = &self.cx.observer.counters;
        let spawned = c.spawned.get() + self.shared.remote_spawns.load(Ordering::Relaxed);
        let (blocking_threads, blocking_queue) = self.shared.pool.load();
        let parked = c.parked.get();
        let busy = self.cx.observer.created().elapsed().saturating_sub(parked);
        Metrics {
            tasks_spawned: spawned,
            tasks_alive: spawned.saturating_sub(c.finished.get()),
            polls: c.polls.get(),
            local_wakes: c.local_wakes.get(),
            remote_wakes: self.shared.remote_wakes.load(Ordering::Relaxed),
            parks: c.parks.get(),
            busy,
            parked,
            queue_depth: self.local.borrow().len() + lock(&self.shared.remote).queue.len(),
            queue_max: c.queue_max.get(),
            blocking_threads,
            blocking_queue,
            workers: vec![WorkerMetrics {
                polls: c.polls.get(),
                steals: 0,
                parks: c.parks.get(),
                parked,
                busy,
                local_wakes: c.local_wakes.get(),
                queue_depth: self.local.borrow().len(),
            }],
        }
    }

    /// Drops every task's future (their destructors run) and empties the queues.
    /// Destructors may spawn or wake; repeat until nothing is left.
    fn shutdown(&self) {
        {
            let mut remote = lock(&self.shared.remote);
            remote.closed = true;
            self.shared.closed.store(true, Ordering::Release);
        }
        loop {
            let mut tasks: Vec<Arc<dyn Runnable>> = self.registry.borrow_mut().drain().collect();
            tasks.extend(self.local.borrow_mut().drain(..));
            tasks.extend(std::mem::take(&mut lock(&self.shared.remote).queue));
            if tasks.is_empty() {
                break;
            }
            log::debug!("shutdown: dropping {} tasks", tasks.len());
            for task in tasks {
                task.shutdown();
            }
        }
        self.shared.pool.shutdown();
    }
}

/// What a seeded run polls next.
enum Pick {
    Task(Arc<dyn Runnable>),
    /// `block_on`'s future.
    Main,
}

/// Makes `core` the current executor of this thread (and its context the
/// current context) while the guard lives.
fn enter(core: Rc<Core>) -> context::EnterGuard<Core> {
    context::enter(core)
}

/// Whether this thread is inside a running executor's `block_on`.
///
/// ```
/// assert!(!ferrio::in_runtime());
/// ferrio::run(async { assert!(ferrio::in_runtime()) });
/// ```
pub fn in_runtime() -> bool {
    // One load: a context is current exactly while an executor is.
    context::with_context(|cx| cx.is_some())
}

/// A single-threaded executor that parks on `P` when no task is ready.
///
/// ```
/// use ferrio_executor::{Executor, ThreadParker};
/// let mut executor = Executor::new(ThreadParker::new());
/// let out = executor.block_on(async {
///     let task = ferrio_executor::spawn(async { 40 + 2 });
///     task.await.unwrap()
/// });
/// assert_eq!(out, 42);
/// ```
pub struct Executor<P: Park> {
    core: Rc<Core>,
    park: P,
    event_interval: usize,
    seed: Option<u64>,
}

impl<P: Park> Executor<P> {
    /// An executor that parks on `park`, with default settings.
    pub fn new(park: P) -> Self {
        Self::with_config(park, Config::default())
    }

    /// An executor that parks on `park`.
    pub fn with_config(park: P, config: Config) -> Self {
        let observer = Observer::new(config.observe);
        let shared = Arc::new(Shared {
            remote: Mutex::new(Remote {
                queue: Vec::new(),
                closed: false,
            }),
            has_remote: AtomicBool::new(false),
            main_woken: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            unpark: park.unparker(),
            pool: BlockingPool::new(config.blocking, observer.trace_sink()),
            remote_wakes: AtomicU64::new(0),
            remote_spawns: AtomicU64::new(0),
        });
        let core = Rc::new(Core {
            shared,
            local: RefCell::new(VecDeque::new()),
            registry: RefCell::new(Slab::new()),
            seeded: config.seed.map(SeedRng::new),
            cx: RunContext {
                observer,
                budget: Budget::new(),
            },
        });
        Executor {
            core,
            park,
            event_interval: config.event_interval.max(1),
            seed: config.seed,
        }
    }

    /// A handle that spawns onto this executor from any thread.
    pub fn spawner(&self) -> Spawner {
        Spawner {
            inner: SpawnTo::One(self.core.shared.clone()),
        }
    }

    /// Runs `future` to completion on this thread, running spawned tasks
    /// meanwhile, and returns its output. Tasks still pending when it returns
    /// stay queued: they run in the next `block_on`, or are dropped with the executor.
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
        let _enter = enter(self.core.clone());
        let shared = self.core.shared.clone();
        let waker = Waker::from(Arc::new(MainWaker {
            shared: shared.clone(),
        }));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        shared.main_woken.store(true, Ordering::Release);
        if self.core.seeded.is_some() {
            // Decided once per `block_on`: the FIFO loop below tests nothing
            // per poll or per batch for a seed.
            return self.block_on_seeded(future, &mut cx, caller);
        }
        loop {
            if shared.main_woken.swap(false, Ordering::AcqRel) {
                let polled = self.core.cx.poll_main(future.as_mut(), &mut cx, caller);
                if let Poll::Ready(output) = polled {
                    return output;
                }
            }
            self.core.run_batch(self.event_interval);
            self.park_turn(&shared);
        }
    }

    /// Turns the parker once, at the end of a batch: without blocking when
    /// work is left (fairness: I/O and timers are collected at least every
    /// `event_interval` polls), else until something happens.
    #[inline(always)]
    fn park_turn(&mut self, shared: &Shared) {
        let began = self.core.cx.observer.park_begin();
        if self.core.has_ready() {
            self.park.park(Some(Duration::ZERO));
        } else if shared.pool.is_quiet(&shared.unpark) {
            // Nothing ready, no blocking job: idle (a paused clock may jump).
            self.park.park_idle();
            shared.pool.stop_watching();
        } else {
            self.park.park(None);
            shared.pool.stop_watching();
        }
        self.core.cx.observer.park_end(began);
    }

    /// `block_on`'s loop in a seeded run (docs/architecture.md, "A seeded
    /// run"): each step polls one of the ready tasks or the woken main future,
    /// chosen by the seeded generator, instead of main first and then the
    /// queue in order. Batches, remote drains and parks are as in the FIFO
    /// loop, so fairness (rule E4) holds as before.
    #[cold]
    #[inline(never)]
    fn block_on_seeded<F: Future>(
        &mut self,
        mut future: std::pin::Pin<&mut F>,
        cx: &mut Context<'_>,
        caller: &'static Location<'static>,
    ) -> F::Output {
        let shared = self.core.shared.clone();
        loop {
            self.core.drain_remote();
            self.core
                .cx
                .observer
                .counters
                .queued(self.core.local.borrow().len());
            self.core.cx.observer.sample_log_level();
            for _ in 0..self.event_interval {
                let main_ready = shared.main_woken.load(Ordering::Acquire);
                match self.core.pick_seeded(main_ready) {
                    Some(Pick::Task(task)) => self.core.run_one(task),
                    Some(Pick::Main) => {
                        shared.main_woken.swap(false, Ordering::AcqRel);
                        let polled = self.core.cx.poll_main(future.as_mut(), cx, caller);
                        if let Poll::Ready(output) = polled {
                            return output;
                        }
                        // The FIFO loop samples after main's poll (its batch
                        // starts there): what main spawned counts here too.
                        let queued = self.core.local.borrow().len();
                        self.core.cx.observer.counters.queued(queued);
                    }
                    None => break,
                }
            }
            self.park_turn(&shared);
        }
    }

    /// Runs each task that is ready right now once, then returns: the end of
    /// the current loop iteration. asyncio's loop finishes its iteration the
    /// same way when it is stopped, which is why a task that `main` created
    /// just before returning still takes its first step under `asyncio.run`.
    ///
    /// # Panics
    ///
    /// If this thread is already inside a runtime.
    #[track_caller]
    pub fn run_ready_once(&mut self) {
        if in_runtime() {
            panic!("cannot run a ferrio executor from within a runtime");
        }
        let _enter = enter(self.core.clone());
        self.core.drain_remote();
        let ready = self.core.local.borrow().len();
        match &self.core.seeded {
            None => {
                self.core.run_batch(ready);
            }
            // Each of the `ready` tasks once, in the generator's order; a
            // task woken meanwhile joins the queue behind them and waits, as
            // in FIFO.
            Some(rng) => {
                let mut batch: Vec<_> = self.core.local.borrow_mut().drain(..ready).collect();
                rng.shuffle(&mut batch);
                for task in batch {
                    self.core.run_one(task);
                }
            }
        }
    }

    /// The seed of a seeded run ([`Config::seed`]), or `None`.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Spawns a `Send` task; it starts running at the next `block_on`.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawner().spawn(future)
    }

    /// How many threads the blocking pool has now (busy or idle). For diagnostics.
    pub fn blocking_thread_count(&self) -> usize {
        self.core.shared.pool.thread_count()
    }

    /// Every live task, with what each waits on (see [`Dump`]).
    pub fn dump(&self) -> Dump {
        self.core.dump()
    }

    /// The executor's counters (see [`Metrics`]).
    pub fn metrics(&self) -> Metrics {
        self.core.metrics()
    }

    /// How many tasks are alive (queued, running or waiting). For diagnostics.
    pub fn task_count(&self) -> usize {
        self.core.registry.borrow().len() + self.core.local.borrow().len()
    }
}

impl<P: Park> Drop for Executor<P> {
    fn drop(&mut self) {
        // Destructors of dropped futures may call `spawn`: keep the executor
        // current while they run (unless this thread is inside another one).
        let _enter = (!in_runtime()).then(|| enter(self.core.clone()));
        self.core.shutdown();
        self.core.cx.observer.finish();
    }
}

impl<P: Park> std::fmt::Debug for Executor<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("tasks", &self.task_count())
            .finish()
    }
}

/// Spawns onto an executor from any thread. `Clone + Send + Sync` (asyncio's
/// `run_coroutine_threadsafe`).
///
/// ```
/// let mut rt = ferrio::Runtime::new().unwrap();
/// let spawner = rt.spawner();
/// let handle = std::thread::spawn(move || spawner.spawn(async { 6 * 7 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(handle).unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Spawner {
    inner: SpawnTo,
}

#[derive(Clone)]
enum SpawnTo {
    One(Arc<Shared>),
    Many(Arc<workers::Shared>),
}

impl Spawner {
    pub(crate) fn from_workers(shared: Arc<workers::Shared>) -> Spawner {
        Spawner {
            inner: SpawnTo::Many(shared),
        }
    }

    /// Spawns a `Send` task onto the executor this spawner belongs to.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with(future, new_task_info(None, Location::caller()))
    }

    pub(crate) fn spawn_with<F>(&self, future: F, info: TaskInfo) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let shared = match &self.inner {
            SpawnTo::One(shared) => shared,
            SpawnTo::Many(shared) => return shared.spawn_remote(future, info),
        };
        with_current(move |core| match core {
            Some(core) if shared.is_current(core) => core.spawn_task(future, info),
            _ => {
                shared.remote_spawns.fetch_add(1, Ordering::Relaxed);
                let task = Task::new(future, shared.clone(), info);
                let handle = task.join_handle();
                // Refused only if the executor closed first: then no other
                // thread has the task, and its future is dropped here. A task
                // that was queued is the executor's to run or shut down.
                if !shared.schedule_remote(task.clone()) {
                    Runnable::shutdown(&*task);
                }
                handle
            }
        })
    }

    /// Runs `f` on the blocking pool of this spawner's executor.
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let site = Location::caller();
        match &self.inner {
            SpawnTo::One(shared) => shared.pool.spawn(f, site),
            SpawnTo::Many(shared) => shared.pool.spawn(f, site),
        }
    }
}

impl std::fmt::Debug for Spawner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawner").finish_non_exhaustive()
    }
}

/// The runtime this thread is in: the one-worker scheduler's core, or one
/// worker of the several-worker scheduler.
pub(crate) enum Current<'a> {
    One(&'a Core),
    Many(&'a Worker),
}

/// Calls `f` with the current runtime; `what` names the caller in the panic.
///
/// # Panics
///
/// Outside a runtime, at the caller's caller (`#[track_caller]` all the way).
#[track_caller]
#[inline]
pub(crate) fn with_runtime<R>(what: &str, f: impl FnOnce(Current<'_>) -> R) -> R {
    // SAFETY: as in `with_current`: the references are only `f`'s argument.
    if let Some(core) = unsafe { current() } {
        return f(Current::One(core));
    }
    // SAFETY: likewise, for the worker.
    match unsafe { workers::current() } {
        Some(worker) => f(Current::Many(worker)),
        None => panic!("`{what}` called outside a ferrio runtime: call it from within ferrio::run or Runtime::block_on"),
    }
}

/// Every live task of the current runtime, with what each waits on
/// (asyncio's `all_tasks()`, with more to say). See [`Dump`].
///
/// ```
/// ferrio::run(async {
///     let _t = ferrio::task::Builder::new().name("sleeper").spawn(async {
///         ferrio::time::sleep(std::time::Duration::from_secs(60)).await;
///     });
///     ferrio::yield_now().await; // let it start and wait
///     let dump = ferrio::task::dump();
///     assert_eq!(dump.tasks()[0].info().name(), Some("sleeper"));
///     println!("{dump}");
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime, with a message that says so.
#[track_caller]
pub fn dump() -> Dump {
    with_runtime("ferrio::task::dump", |rt| match rt {
        Current::One(core) => core.dump(),
        Current::Many(worker) => workers::dump(worker.shared(), worker),
    })
}

/// The current runtime's executor counters (see [`Metrics`]).
///
/// ```
/// ferrio::run(async {
///     assert_eq!(ferrio_executor::observe::metrics().tasks_alive, 0);
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime, with a message that says so.
#[track_caller]
pub fn metrics() -> Metrics {
    with_runtime("metrics", |rt| match rt {
        Current::One(core) => core.metrics(),
        Current::Many(worker) => workers::metrics(worker.shared(), worker),
    })
}

/// Spawns a `Send` task on the current runtime (asyncio's `create_task`).
///
/// The task starts running when the caller next yields to the loop (awaits
/// something pending), as in asyncio. Dropping the [`JoinHandle`] detaches it.
///
/// ```
/// use std::time::Duration;
/// ferrio::run(async {
///     let task = ferrio::spawn(async {
///         ferrio::time::sleep(Duration::from_millis(5)).await;
///         "fetched"
///     });
///     // Runs concurrently with whatever main does until it awaits the task.
///     assert_eq!(task.await.unwrap(), "fetched");
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime, with a message that says so.
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let info = new_task_info(None, Location::caller());
    with_runtime("spawn", |rt| match rt {
        Current::One(core) => core.spawn_task(future, info),
        Current::Many(worker) => worker.spawn(future, info),
    })
}

/// Spawns a task that need not be `Send` on the current runtime; it always runs
/// on this thread.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// ferrio::run(async {
///     let counter = Rc::new(Cell::new(0)); // not Send
///     let task = ferrio::spawn_local({
///         let counter = counter.clone();
///         async move { counter.set(counter.get() + 1) }
///     });
///     task.await.unwrap();
///     assert_eq!(counter.get(), 1);
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime, with a message that says so.
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let info = new_task_info(None, Location::caller());
    with_runtime("spawn_local", |rt| match rt {
        Current::One(core) => core.spawn_task(future, info),
        Current::Many(worker) => worker.spawn_local(future, info),
    })
}

/// Runs the blocking function `f` on the current runtime's blocking pool
/// (asyncio's `to_thread` / `run_in_executor`) and returns a handle to await
/// its result. The pool starts threads on demand, up to a cap
/// (`Builder::max_blocking_threads`, 64 by default); idle ones exit after
/// `Builder::blocking_keep_alive` (10 s).
///
/// ```
/// ferrio::run(async {
///     let digest = ferrio::spawn_blocking(|| {
///         // Heavy or blocking work here does not stall the loop.
///         (1..=20u64).product::<u64>()
///     });
///     assert_eq!(digest.await.unwrap(), 2_432_902_008_176_640_000);
/// });
/// ```
///
/// # Panics
///
/// Outside a runtime, with a message that says so.
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // Taken here: the closure below would hide the caller.
    let site = Location::caller();
    with_runtime("spawn_blocking", |rt| match rt {
        Current::One(core) => core.shared.pool.spawn(f, site),
        Current::Many(worker) => worker.shared().pool.spawn(f, site),
    })
}

/// A [`Spawner`] for the current runtime, if this thread is inside one.
///
/// ```
/// assert!(ferrio_executor::try_current().is_none());
/// ferrio::run(async { assert!(ferrio_executor::try_current().is_some()) });
/// ```
pub fn try_current() -> Option<Spawner> {
    if let Some(spawner) = with_current(|core| {
        core.map(|c| Spawner {
            inner: SpawnTo::One(c.shared.clone()),
        })
    }) {
        return Some(spawner);
    }
    workers::with_current(|w| w.map(|w| Spawner::from_workers(w.shared().clone())))
}

/// Yields to the loop once, letting every other ready task run first
/// (asyncio's `await asyncio.sleep(0)`).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// ferrio::run(async {
///     let log = Arc::new(Mutex::new(Vec::new()));
///     let other = ferrio::spawn({
///         let log = log.clone();
///         async move { log.lock().unwrap().push("other") }
///     });
///     ferrio::yield_now().await; // the spawned task runs here
///     log.lock().unwrap().push("main");
///     other.await.unwrap();
///     assert_eq!(*log.lock().unwrap(), ["other", "main"]);
/// });
/// ```
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}
