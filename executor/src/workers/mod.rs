// Whole on purpose (about 1,000 lines): the worker loop, stealing, parking and the driver's hand-over share one protocol (docs/architecture.md, "Several workers") whose steps cite each other; idle.rs and queue.rs hold the parts that stand alone.
//! The several-worker scheduler (`Runtime::builder().workers(n)` with n > 1):
//! n threads run tasks, idle ones steal from busy ones, and whichever worker
//! parks first waits in the shared driver (the reactor) for everyone.
//!
//! The one-worker runtime does not use any of this: it keeps its own
//! scheduler (`scheduler.rs`), so `ferrio::run` pays nothing for several
//! workers (docs/architecture.md, "Several workers", says why and what was
//! measured).
//!
//! - Each worker owns a run queue (`queue.rs`): a spawn or a wake on a worker
//!   goes to the back of that worker's queue; a wake from any other thread
//!   goes to the injection queue, which every worker looks at once per batch
//!   of `event_interval` polls and whenever its own queue is empty.
//! - A task pinned by `spawn_local` is queued only on its owner (a wake from
//!   elsewhere pushes it into the owner's queue and unparks the owner), is
//!   never stolen, and is dropped on its owner's thread at shutdown.
//! - A task is polled by one thread at a time: the `RUNNING` bit of its state
//!   word (state.rs) makes a wake during a poll the poller's to queue.
//! - Parking (`idle.rs`): a worker with nothing to do tries the driver's lock;
//!   if it gets it, it blocks in the driver (I/O and timers for all), else on
//!   its condvar. A worker that returns from the driver with work releases it
//!   and, if another worker is idle, wakes it, so some idle worker is always
//!   watching I/O while the others poll (one worker stuck in a long poll does
//!   not stall the sockets and timers of the rest).
//!
//! Not here: the task (`raw.rs`, `join.rs`), the blocking pool, the free functions
//! (`spawn`, ...) that find the current worker (`scheduler.rs`).

mod idle;
mod queue;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

use slab::Slab;

use crate::blocking::BlockingPool;
use crate::budget::Budget;
use crate::config::Config;
use crate::context::{self, RunContext};
use crate::join::JoinHandle;
use crate::observer::{
    shared_stats, Dump, Metrics, ObserveConfig, Observer, StatsMap, TaskInfo, TaskState, TraceSink,
    WorkerMetrics,
};
use crate::park::{Park, Unpark};
use crate::raw::{Registry, Runnable, Schedule, Task};
use crate::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::sync::{lock, Mutex, ThreadBuilder, ThreadHandle};

use idle::{Idle, Parker};
use queue::RunQueue;

/// What a worker thread runs first, and keeps until it exits (the runtime
/// enters its reactor there): a guard, dropped when the thread ends.
pub type OnThreadStart = Arc<dyn Fn() -> Box<dyn Any> + Send + Sync>;

/// The driver the workers share: one of them at a time blocks in it.
type Driver = Box<dyn Park + Send>;

/// The part of the runtime every thread can reach.
pub(crate) struct Shared {
    workers: Box<[Remote]>,
    /// `Send` tasks spawned or woken from outside the workers.
    inject: Mutex<Inject>,
    /// `inject.tasks.len()`, read without the lock.
    inject_len: AtomicUsize,
    idle: Idle,
    /// Held by the worker that blocks in it; others `try_lock` it. Taken out
    /// and dropped by the runtime's owner at shutdown: wakers keep `Shared`
    /// alive, and the last one may be dropped inside the reactor's own locks
    /// (a timer moving to another runtime), where dropping the reactor would
    /// deadlock.
    driver: Mutex<Option<Driver>>,
    /// Who may lock `driver`: taken by a compare-exchange, so a worker that
    /// finds it taken never waits on the mutex (see `try_driver`).
    driver_taken: AtomicBool,
    driver_unpark: Arc<dyn Unpark>,
    /// The future given to `block_on` (polled on worker 0 only) was woken.
    main_woken: AtomicBool,
    closed: AtomicBool,
    pub(crate) pool: BlockingPool,
    /// `Send` tasks that have waited, so shutdown can drop them.
    registry: Mutex<Slab<Arc<dyn Runnable>>>,
    remote_wakes: AtomicU64,
    remote_spawns: AtomicU64,
    event_interval: usize,
    /// Timing on: the per-task figures every worker's observer shares.
    task_stats: Option<Arc<std::sync::Mutex<StatsMap>>>,
}

struct Inject {
    tasks: VecDeque<Arc<dyn Runnable>>,
    /// Set at shutdown under this lock: nothing is queued after the last drain.
    closed: bool,
}

/// The part of one worker that other threads reach.
struct Remote {
    queue: RunQueue,
    parker: Parker,
    /// Pinned tasks of this worker that have waited (touched by other
    /// threads only for the dump).
    pinned: Mutex<Slab<Arc<dyn Runnable>>>,
    /// The worker's counters, published once a batch (Relaxed).
    stats: PublishedStats,
}

#[derive(Default)]
struct PublishedStats {
    polls: AtomicU64,
    steals: AtomicU64,
    parks: AtomicU64,
    parked_ns: AtomicU64,
    busy_ns: AtomicU64,
    spawned: AtomicU64,
    finished: AtomicU64,
    local_wakes: AtomicU64,
    queue_max: AtomicU64,
}

/// A `Send` future as the several-worker scheduler's tasks hold it: boxed,
/// polled through its vtable. Not for speed here (it costs an allocation per
/// spawn) but for the one-worker scheduler: a future type that both
/// schedulers' `Task::run` polled directly would have two callers of its
/// `poll`, and the compiler would stop inlining a small one into the
/// one-worker loop (7.7% more instructions per poll of yield_many's tasks;
/// with the box, 1.003x: docs/performance.md).
type BoxedFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The same for a pinned (`spawn_local`) future, which need not be `Send`.
type BoxedLocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

fn boxed<F: Future + Send + 'static>(future: F) -> BoxedFuture<F::Output> {
    Box::pin(future)
}

fn boxed_local<F: Future + 'static>(future: F) -> BoxedLocalFuture<F::Output> {
    Box::pin(future)
}

/// The driver, held by one worker. Fields drop in order: the mutex is
/// unlocked before the flag is given back, so whoever takes the flag next
/// finds the mutex free.
struct DriverGuard<'a> {
    driver: crate::sync::MutexGuard<'a, Option<Driver>>,
    _taken: TakenFlag<'a>,
}

/// Clears `driver_taken` when dropped.
struct TakenFlag<'a>(&'a AtomicBool);

impl Drop for TakenFlag<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl DriverGuard<'_> {
    fn park(&mut self, timeout: Option<Duration>) {
        if let Some(driver) = self.driver.as_mut() {
            driver.park(timeout);
        }
    }
}

/// What a pinned task is scheduled through: its owner's queue.
pub(crate) struct Pinned {
    shared: Arc<Shared>,
    owner: usize,
}

/// One worker, owned by its thread.
pub(crate) struct Worker {
    index: usize,
    shared: Arc<Shared>,
    pinned: Arc<Pinned>,
    pub(crate) cx: RunContext,
    steals: Cell<u64>,
    /// Reused buffer for stolen tasks.
    stolen: RefCell<Vec<Arc<dyn Runnable>>>,
    /// xorshift state for the first victim to try.
    rng: Cell<u32>,
    /// Polls since this worker last turned the driver.
    since_driver: Cell<usize>,
}

// SAFETY: `Worker` is the only owner of kind `Many`.
unsafe impl context::Owner for Worker {
    const KIND: context::Kind = context::Kind::Many;
    fn context(&self) -> &RunContext {
        &self.cx
    }
}

/// The worker this thread is, if it is one.
///
/// # Safety
///
/// The reference must not be kept past the current call into the executor
/// (a poll, a spawn, a wake): see [`with_current`], which scopes it.
#[inline]
pub(crate) unsafe fn current<'a>() -> Option<&'a Worker> {
    // SAFETY: the caller keeps the reference no longer (see above).
    unsafe { context::current_owner::<Worker>() }
}

/// Calls `f` with the worker this thread is, if it is one.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Worker>) -> R) -> R {
    // SAFETY: the reference is only `f`'s argument, and `f` runs below the
    // frame that owns the guard, which cannot return meanwhile.
    f(unsafe { current() })
}

/// Makes a worker this thread's current one while the guard lives.
pub(crate) fn enter(worker: Rc<Worker>) -> context::EnterGuard<Worker> {
    context::enter(worker)
}

impl Shared {
    fn is(&self, worker: &Worker) -> bool {
        std::ptr::eq(Arc::as_ptr(&worker.shared), self)
    }

    /// After work was published: wakes one idle worker (not `except`), if any.
    #[inline]
    fn notify_idle(&self, except: Option<usize>) {
        fence(Ordering::SeqCst);
        if self.idle.any() {
            self.notify_idle_slow(except);
        }
    }

    #[cold]
    fn notify_idle_slow(&self, except: Option<usize>) {
        let in_driver = |w: usize| self.workers[w].parker.is_in_driver();
        let taken = self.idle.take(except, in_driver);
        if let Some(w) = taken {
            self.workers[w].parker.unpark(&self.driver_unpark);
        }
    }

    fn unpark_worker(&self, w: usize) {
        self.workers[w].parker.unpark(&self.driver_unpark);
    }

    /// The driver, if no other worker holds it (and the runtime has not
    /// dropped it). The flag, not the mutex, decides: a worker that loses the
    /// race never blocks, and the mutex it then locks is never contended.
    fn try_driver(&self) -> Option<DriverGuard<'_>> {
        if self
            .driver_taken
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        let guard = DriverGuard {
            driver: lock(&self.driver),
            _taken: TakenFlag(&self.driver_taken),
        };
        if guard.driver.is_none() {
            return None; // dropping the guard gives the flag back
        }
        Some(guard)
    }

    /// Queues a `Send` task from outside the workers; false if the runtime
    /// is closed (then the task was not queued, and nobody else has it).
    fn push_inject(&self, task: Arc<dyn Runnable>) -> bool {
        let rejected = {
            let mut inject = lock(&self.inject);
            if inject.closed {
                Some(task)
            } else {
                inject.tasks.push_back(task);
                self.inject_len.store(inject.tasks.len(), Ordering::SeqCst);
                None
            }
        };
        match rejected {
            // Shut down: the task's future is gone already; drop our
            // reference outside the lock (a drop may re-enter).
            Some(task) => {
                drop(task);
                false
            }
            None => {
                self.remote_wakes.fetch_add(1, Ordering::Relaxed);
                self.notify_idle(None);
                true
            }
        }
    }

    /// Takes up to `max` injected tasks.
    fn take_injected(&self, max: usize) -> Vec<Arc<dyn Runnable>> {
        if self.inject_len.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let mut inject = lock(&self.inject);
        let n = max.min(inject.tasks.len());
        let taken: Vec<_> = inject.tasks.drain(..n).collect();
        self.inject_len.store(inject.tasks.len(), Ordering::SeqCst);
        taken
    }

    fn notify_main(&self) {
        // A swap, not a store: the flag is also swapped back by worker 0, and
        // an RMW always follows the newest value (a plain store may be
        // ordered before worker 0's last swap in loom's model of it).
        self.main_woken.swap(true, Ordering::SeqCst);
        let on_worker_0 = with_current(|w| w.is_some_and(|w| self.is(w) && w.index == 0));
        if !on_worker_0 {
            self.unpark_worker(0);
        }
    }

    /// Spawns a `Send` task from any thread.
    pub(crate) fn spawn_remote<F>(
        self: &Arc<Self>,
        future: F,
        info: TaskInfo,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        with_current(move |w| match w {
            Some(w) if self.is(w) => w.spawn(future, info),
            _ => {
                self.remote_spawns.fetch_add(1, Ordering::Relaxed);
                let task = Task::new(boxed(future), self.clone(), info);
                let handle = task.join_handle();
                // Refused only if the runtime closed first: then no worker
                // has the task, and its future is dropped here. A task that
                // was queued is the workers' to run or shut down.
                if !self.push_inject(task.clone()) {
                    Runnable::shutdown(&*task);
                }
                handle
            }
        })
    }

    fn all_tasks(&self) -> Vec<(Arc<dyn Runnable>, Option<usize>)> {
        let mut tasks: Vec<(Arc<dyn Runnable>, Option<usize>)> = lock(&self.registry)
            .iter()
            .map(|(_, t)| (t.clone(), None))
            .collect();
        for (i, remote) in self.workers.iter().enumerate() {
            tasks.extend(
                lock(&remote.pinned)
                    .iter()
                    .map(|(_, t)| (t.clone(), Some(i))),
            );
            tasks.extend(remote.queue.snapshot().into_iter().map(|t| (t, Some(i))));
        }
        tasks.extend(lock(&self.inject).tasks.iter().map(|t| (t.clone(), None)));
        tasks
    }

    /// The counters, totals and per worker, with `current`'s (the caller's
    /// worker) published first so they are up to date.
    fn metrics(&self, current: &Worker) -> Metrics {
        current.publish();
        let mut m = Metrics::default();
        let mut finished = 0;
        for remote in self.workers.iter() {
            let s = &remote.stats;
            let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
            let worker = WorkerMetrics {
                polls: get(&s.polls),
                steals: get(&s.steals),
                parks: get(&s.parks),
                parked: Duration::from_nanos(get(&s.parked_ns)),
                busy: Duration::from_nanos(get(&s.busy_ns)),
                local_wakes: get(&s.local_wakes),
                queue_depth: remote.queue.len(),
            };
            m.tasks_spawned += get(&s.spawned);
            finished += get(&s.finished);
            m.polls += worker.polls;
            m.local_wakes += worker.local_wakes;
            m.parks += worker.parks;
            m.parked += worker.parked;
            m.busy += worker.busy;
            m.queue_depth += worker.queue_depth;
            m.queue_max = m.queue_max.max(get(&s.queue_max) as usize);
            m.workers.push(worker);
        }
        m.tasks_spawned += self.remote_spawns.load(Ordering::Relaxed);
        m.tasks_alive = m.tasks_spawned.saturating_sub(finished);
        m.remote_wakes = self.remote_wakes.load(Ordering::Relaxed);
        m.queue_depth += self.inject_len.load(Ordering::Relaxed);
        (m.blocking_threads, m.blocking_queue) = self.pool.load();
        m
    }
}

impl Schedule for Shared {
    const CONCURRENT: bool = true;

    /// A woken `Send` task: to the back of this worker's queue on a worker,
    /// else to the injection queue.
    fn schedule(&self, task: Arc<dyn Runnable>) {
        let task = with_current(|w| match w {
            Some(w) if self.is(w) => {
                w.push_local(task);
                None
            }
            _ => Some(task),
        });
        if let Some(task) = task {
            self.push_inject(task);
        }
    }

    /// Woken during its own poll: back to this worker's queue, without
    /// waking another worker (this one runs it again in its turn, and an
    /// idle one may still steal it).
    fn reschedule(&self, task: Arc<dyn Runnable>) {
        let task = with_current(|w| match w {
            Some(w) if self.is(w) => {
                let id = task.id();
                w.remote().queue.push(task);
                w.cx.observer.woken(|| id);
                None
            }
            _ => Some(task),
        });
        if let Some(task) = task {
            self.push_inject(task);
        }
    }
}

impl Schedule for Pinned {
    const CONCURRENT: bool = true;
    const PINNED: bool = true;

    /// A woken pinned task: to its owner's queue, whoever wakes it.
    fn schedule(&self, task: Arc<dyn Runnable>) {
        let task = with_current(|w| match w {
            Some(w) if self.shared.is(w) && w.index == self.owner => {
                w.push_local(task);
                None
            }
            _ => Some(task),
        });
        if let Some(task) = task {
            // Woken on another thread (or worker): into the owner's queue,
            // and the owner is unparked. Never dropped here, which could drop
            // a `!Send` future on the wrong thread; after shutdown the owner
            // has completed it already, so a wake cannot get here then.
            self.shared.workers[self.owner].queue.push(task);
            self.shared.remote_wakes.fetch_add(1, Ordering::Relaxed);
            self.shared.unpark_worker(self.owner);
        }
    }
}

impl Registry for Worker {
    /// Slots are tagged: odd for a pinned task (in its owner's list), even
    /// for a `Send` one (in the shared list).
    fn register(&self, task: Arc<dyn Runnable>) -> usize {
        if task.is_pinned() {
            lock(&self.remote().pinned).insert(task) * 2 + 1
        } else {
            lock(&self.shared.registry).insert(task) * 2
        }
    }

    fn release(&self, slot: usize) {
        if slot & 1 == 1 {
            lock(&self.remote().pinned).try_remove(slot >> 1);
        } else {
            lock(&self.shared.registry).try_remove(slot >> 1);
        }
    }
}

impl Worker {
    /// Worker `index`, observed by `observer` (made for that worker).
    fn new(index: usize, shared: Arc<Shared>, observer: Observer) -> Worker {
        Worker {
            index,
            pinned: Arc::new(Pinned {
                shared: shared.clone(),
                owner: index,
            }),
            shared,
            cx: RunContext {
                observer,
                budget: Budget::new(),
            },
            steals: Cell::new(0),
            stolen: RefCell::new(Vec::new()),
            rng: Cell::new(0x9E37_79B9 ^ (index as u32 + 1).wrapping_mul(0x85EB_CA6B)),
            since_driver: Cell::new(0),
        }
    }

    fn remote(&self) -> &Remote {
        &self.shared.workers[self.index]
    }

    /// A task woken on this worker: to the back of its queue. Another worker
    /// is woken only if there is more here than this one: a single woken task
    /// is this worker's next (moving it would cost a wake-up and its cache),
    /// and it stays stealable meanwhile (tokio wakes none for its LIFO slot,
    /// which cannot be stolen at all).
    fn push_local(&self, task: Arc<dyn Runnable>) {
        let id = task.id();
        let movable = self.remote().queue.push(task);
        self.cx.observer.woken(|| id);
        if movable > 1 {
            self.shared.notify_idle(Some(self.index));
        }
    }

    /// Spawns a `Send` task on this worker's queue; idle workers may take it.
    pub(crate) fn spawn<F>(&self, future: F, info: TaskInfo) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = Task::new(boxed(future), self.shared.clone(), info);
        self.start(task)
    }

    /// Spawns a task that stays on this worker.
    pub(crate) fn spawn_local<F>(&self, future: F, info: TaskInfo) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
    {
        let task = Task::new(boxed_local(future), self.pinned.clone(), info);
        self.start(task)
    }

    fn start<F: Future + 'static, S: Schedule>(
        &self,
        task: Arc<Task<F, S>>,
    ) -> JoinHandle<F::Output> {
        let handle = task.join_handle();
        if self.shared.closed.load(Ordering::Acquire) {
            Runnable::shutdown(&*task);
        } else {
            self.cx.observer.spawned(|| task.info());
            // A new task starts NOTIFIED: it is queued exactly once here.
            self.remote().queue.push(task);
            if !S::PINNED {
                self.shared.notify_idle(Some(self.index));
            }
        }
        handle
    }

    /// Publishes this worker's counters for `metrics()` on other threads.
    fn publish(&self) {
        let c = &self.cx.observer.counters;
        let s = &self.remote().stats;
        let parked = c.parked.get();
        s.polls.store(c.polls.get(), Ordering::Relaxed);
        s.steals.store(self.steals.get(), Ordering::Relaxed);
        s.parks.store(c.parks.get(), Ordering::Relaxed);
        s.parked_ns
            .store(parked.as_nanos() as u64, Ordering::Relaxed);
        let busy = self.cx.observer.created().elapsed().saturating_sub(parked);
        s.busy_ns.store(busy.as_nanos() as u64, Ordering::Relaxed);
        s.spawned.store(c.spawned.get(), Ordering::Relaxed);
        s.finished.store(c.finished.get(), Ordering::Relaxed);
        s.local_wakes.store(c.local_wakes.get(), Ordering::Relaxed);
        s.queue_max
            .store(c.queue_max.get() as u64, Ordering::Relaxed);
    }

    /// Runs up to `budget` tasks from this worker's queue, having first
    /// moved a share of the injection queue to it (so a wake from another
    /// thread waits at most one batch). Returns how many ran.
    fn run_batch(&self, budget: usize) -> usize {
        let injected = self
            .shared
            .take_injected(budget.div_ceil(self.shared.workers.len()).max(1));
        if !injected.is_empty() {
            self.remote().queue.push_batch(injected.into_iter());
        }
        let observer = &self.cx.observer;
        observer.counters.queued(self.remote().queue.len());
        observer.sample_log_level();
        let timing = observer.timing();
        let mut ran = 0;
        while ran < budget {
            let Some(task) = self.remote().queue.pop() else {
                break;
            };
            self.cx.budget.reset();
            if timing {
                let info = task.info();
                observer.poll_begin_timed(&info);
                task.run(self, observer);
                observer.poll_end_timed(&info);
            } else {
                task.run(self, observer);
            }
            ran += 1;
        }
        self.cx.budget.unlimited();
        self.publish();
        ran
    }

    /// Looks for work elsewhere: the injection queue, then the other
    /// workers' queues (half of what each has that may move).
    fn find_work(&self) -> bool {
        let injected = self.shared.take_injected(self.shared.event_interval);
        if !injected.is_empty() {
            self.remote().queue.push_batch(injected.into_iter());
            return true;
        }
        let n = self.shared.workers.len();
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng.set(x);
        let start = x as usize % n;
        let mut stolen = self.stolen.borrow_mut();
        for k in 0..n {
            let victim = (start + k) % n;
            if victim == self.index {
                continue;
            }
            if self.shared.workers[victim].queue.steal_half(&mut stolen) > 0 {
                self.steals.set(self.steals.get() + 1);
                let moved = stolen.len();
                self.remote().queue.push_batch(stolen.drain(..));
                // More than one: another idle worker may help.
                if moved > 1 {
                    self.shared.notify_idle(Some(self.index));
                }
                return true;
            }
        }
        false
    }

    fn has_visible_work(&self, main: bool) -> bool {
        let shared = &*self.shared;
        self.remote().queue.len() > 0
            || shared.inject_len.load(Ordering::SeqCst) > 0
            || shared.closed.load(Ordering::SeqCst)
            || (main && shared.main_woken.load(Ordering::SeqCst))
            || shared
                .workers
                .iter()
                .enumerate()
                .any(|(i, r)| i != self.index && r.queue.stealable() > 0)
    }

    /// Nothing to do: sleeps in the driver if it is free, else on the condvar.
    fn park(&self, main: bool) {
        let shared = &*self.shared;
        let remote = self.remote();
        shared.idle.enter(self.index);
        fence(Ordering::SeqCst);
        if self.has_visible_work(main) {
            shared.idle.leave(self.index);
            remote.parker.clear();
            return;
        }
        let observer = &self.cx.observer;
        let began = observer.park_begin();
        let driver = shared.try_driver();
        match driver {
            Some(mut driver) => {
                if remote.parker.enter_driver() {
                    driver.park(None);
                }
                remote.parker.leave_driver();
                drop(driver);
                self.since_driver.set(0);
                shared.idle.leave(self.index);
                // Hand-over: this worker leaves the driver with work to do
                // (its own, injected, another's, or main's); an idle one
                // takes the driver's watch (or some of the work). With
                // nothing to do, this worker parks in the driver again.
                fence(Ordering::SeqCst);
                if self.has_visible_work(main) {
                    shared.notify_idle(Some(self.index));
                }
            }
            None => {
                remote.parker.park();
                shared.idle.leave(self.index);
            }
        }
        observer.park_end(began);
    }

    /// After a batch that ran `ran` tasks: turns the driver without
    /// blocking once `event_interval` polls have passed since the last turn
    /// (if no other worker holds it, an idle one is watching I/O already), so
    /// busy workers still collect I/O and timers. True if the batch was full.
    fn after_batch(&self, ran: usize) -> bool {
        let interval = self.shared.event_interval;
        let since = self.since_driver.get() + ran;
        if since >= interval {
            self.since_driver.set(0);
            if let Some(mut driver) = self.shared.try_driver() {
                driver.park(Some(Duration::ZERO));
                drop(driver);
                // A worker that went idle while this one held the driver for
                // that turn sleeps on its condvar: wake it to take the watch.
                self.shared.notify_idle(Some(self.index));
            }
        } else {
            self.since_driver.set(since);
        }
        ran == interval
    }

    /// The loop of a worker thread, until shutdown.
    fn run(&self) {
        let interval = self.shared.event_interval;
        while !self.shared.closed.load(Ordering::Acquire) {
            if self.after_batch(self.run_batch(interval)) {
                continue;
            }
            if !self.find_work() {
                self.park(false);
            }
        }
    }

    /// At shutdown, on this worker's thread: drops the futures of its pinned
    /// tasks, until none is left (a destructor may spawn or wake).
    fn drop_pinned(&self) {
        loop {
            let mut tasks: Vec<Arc<dyn Runnable>> = lock(&self.remote().pinned).drain().collect();
            tasks.extend(self.remote().queue.drain(true));
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                task.shutdown();
            }
        }
    }
}

/// The dump as `worker` sees it: every task; the figures are those this
/// worker's observer kept (debug mode or tracing).
pub(crate) fn dump(shared: &Shared, worker: &Worker) -> Dump {
    let now = Instant::now();
    let running = worker.cx.observer.current_id();
    let mut seen = std::collections::HashSet::new();
    let mut tasks: Vec<_> = shared
        .all_tasks()
        .into_iter()
        .filter(|(t, _)| !t.is_complete() && seen.insert(t.id()))
        .map(|(t, queue)| {
            let state = if Some(t.id()) == running || t.is_running() {
                TaskState::Running
            } else if t.is_notified() {
                TaskState::Scheduled
            } else {
                TaskState::Idle
            };
            let mut dump = worker
                .cx
                .observer
                .task_dump(t.info(), t.last_wait(), state, now);
            dump.pinned = t.is_pinned();
            // The dumping worker's own task; another worker's running task
            // shows no worker (which one polls it is not recorded).
            dump.worker = if Some(t.id()) == running {
                Some(worker.index)
            } else if t.is_pinned() || state != TaskState::Running {
                queue
            } else {
                None
            };
            dump
        })
        .collect();
    tasks.sort_by_key(|t| t.info.id);
    Dump { tasks }
}

/// The counters as `worker` sees them.
pub(crate) fn metrics(shared: &Shared, worker: &Worker) -> Metrics {
    shared.metrics(worker)
}

impl Worker {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Shared {
    /// The shared half of a runtime of `workers` workers (at least 2) parked
    /// on `park`, and worker 0's observer (which owns the trace).
    pub(crate) fn new<P: Park + Send + 'static>(
        park: P,
        workers: usize,
        config: &Config,
    ) -> (Arc<Shared>, Observer) {
        let task_stats = config.observe.timing().then(shared_stats);
        let observer =
            Observer::for_worker(config.observe.clone(), Some(0), None, task_stats.clone());
        let driver_unpark = park.unparker();
        let shared = Arc::new(Shared {
            workers: (0..workers.max(2))
                .map(|_| Remote {
                    queue: RunQueue::new(),
                    parker: Parker::new(),
                    pinned: Mutex::new(Slab::new()),
                    stats: PublishedStats::default(),
                })
                .collect(),
            inject: Mutex::new(Inject {
                tasks: VecDeque::new(),
                closed: false,
            }),
            inject_len: AtomicUsize::new(0),
            idle: Idle::new(),
            driver: Mutex::new(Some(Box::new(park))),
            driver_taken: AtomicBool::new(false),
            driver_unpark,
            main_woken: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            pool: BlockingPool::new(config.blocking.clone(), observer.trace_sink()),
            registry: Mutex::new(Slab::new()),
            remote_wakes: AtomicU64::new(0),
            remote_spawns: AtomicU64::new(0),
            event_interval: config.event_interval.max(1),
            task_stats,
        });
        (shared, observer)
    }

    /// How many workers.
    pub(crate) fn worker_count(&self) -> usize {
        self.workers.len()
    }

    /// Every live task once (for counts). A task another worker completed
    /// a moment ago may still sit in a list: complete ones are not counted.
    pub(crate) fn task_count(&self) -> usize {
        let mut seen = std::collections::HashSet::new();
        self.all_tasks()
            .iter()
            .filter(|(t, _)| !t.is_complete() && seen.insert(t.id()))
            .count()
    }

    /// Starts worker `index` on a thread of its own; it runs until shutdown,
    /// then drops its pinned tasks there.
    pub(crate) fn start_worker(
        self: &Arc<Self>,
        index: usize,
        observe: ObserveConfig,
        trace_sink: Option<Arc<TraceSink>>,
        on_start: Option<OnThreadStart>,
    ) -> std::io::Result<ThreadHandle<()>> {
        let shared = self.clone();
        ThreadBuilder::new()
            .name(format!("ferrio-worker-{index}"))
            .spawn(move || {
                let _started = on_start.map(|f| f());
                let observer = Observer::for_worker(
                    observe,
                    Some(index),
                    trace_sink,
                    shared.task_stats.clone(),
                );
                let worker = Rc::new(Worker::new(index, shared, observer));
                let _enter = enter(worker.clone());
                worker.run();
                worker.drop_pinned();
                worker.publish();
                // Its trace events join worker 0's file.
                worker.cx.observer.finish();
            })
    }

    /// Closes the runtime: nothing can be queued from now on, and every
    /// worker is woken to see it and stop.
    pub(crate) fn close(&self) {
        {
            let mut inject = lock(&self.inject);
            inject.closed = true;
            self.closed.store(true, Ordering::SeqCst);
        }
        for w in 0..self.workers.len() {
            self.unpark_worker(w);
        }
    }

    /// After every other worker stopped: drops every task left, `worker`'s
    /// pinned ones included (this is its thread), until none is left.
    pub(crate) fn drop_tasks(&self, worker: &Worker) {
        loop {
            let mut tasks: Vec<Arc<dyn Runnable>> = lock(&self.registry).drain().collect();
            tasks.extend(lock(&worker.remote().pinned).drain());
            for remote in self.workers.iter() {
                tasks.extend(remote.queue.drain(false));
            }
            tasks.extend(std::mem::take(&mut lock(&self.inject).tasks));
            self.inject_len.store(0, Ordering::SeqCst);
            if tasks.is_empty() {
                break;
            }
            log::debug!("shutdown: dropping {} tasks", tasks.len());
            for task in tasks {
                task.shutdown();
            }
        }
        self.pool.shutdown();
        let driver = lock(&self.driver).take();
        drop(driver);
    }
}

impl Worker {
    /// Worker 0, for the thread that calls `block_on`, with `observer`.
    pub(crate) fn first(shared: Arc<Shared>, observer: Observer) -> Worker {
        Worker::new(0, shared, observer)
    }

    /// Worker 0's loop under `block_on`: polls the main future through
    /// `poll_main` whenever it was woken (true: done), runs tasks meanwhile.
    pub(crate) fn run_main(&self, mut poll_main: impl FnMut(&Worker) -> bool) {
        let shared = &*self.shared;
        let interval = shared.event_interval;
        shared.main_woken.store(true, Ordering::SeqCst);
        loop {
            if shared.main_woken.swap(false, Ordering::AcqRel) && poll_main(self) {
                self.leave();
                return;
            }
            if self.after_batch(self.run_batch(interval)) {
                continue;
            }
            if shared.main_woken.load(Ordering::Acquire) || self.find_work() {
                continue;
            }
            self.park(true);
        }
    }

    /// Runs what is ready now in this worker's queue and the injection
    /// queue, once.
    pub(crate) fn run_ready_once(&self) {
        let ready = self.remote().queue.len() + self.shared.inject_len.load(Ordering::SeqCst);
        self.run_batch(ready);
        self.leave();
    }

    /// Worker 0 stops taking part (`block_on` returns): an idle worker is
    /// woken, if any, to take the driver's watch, run what worker 0 still
    /// has queued and may move, and any work whose wake-up worker 0 took.
    fn leave(&self) {
        self.shared.notify_idle(Some(self.index));
    }

    /// Writes the trace, if tracing.
    pub(crate) fn finish(&self) {
        self.cx.observer.finish();
    }
}

/// Wakes the future given to `block_on`, which is not a task.
pub(crate) struct MainWaker {
    shared: Arc<Shared>,
}

impl MainWaker {
    pub(crate) fn waker(shared: Arc<Shared>) -> Waker {
        Waker::from(Arc::new(MainWaker { shared }))
    }
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.shared.notify_main();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.notify_main();
    }
}
