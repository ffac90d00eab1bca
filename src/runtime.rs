//! The runtime: ferrio's executor parked on ferrio's reactor, and the
//! thread-local context that `spawn`, `sleep` and sockets look up.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferrio_executor::{Config, Executor, MultiExecutor, Park, Spawner, Unpark};
use ferrio_reactor::{context, Handle as ReactorHandle, Reactor};

use crate::JoinHandle;

/// Parks the executor by turning the reactor: waiting for I/O events or the
/// next timer is what "nothing to do" means in a runtime.
struct ReactorPark {
    reactor: Reactor,
}

struct ReactorUnpark(ReactorHandle);

impl Unpark for ReactorUnpark {
    fn unpark(&self) {
        self.0.unpark();
    }
}

impl Park for ReactorPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let turned = self.reactor.turn(timeout);
        turn_failed(turned);
    }

    /// With a paused clock, the reactor jumps to the next timer here if no
    /// I/O is ready (docs/architecture.md, "The clock").
    fn park_idle(&mut self) {
        let turned = self.reactor.turn_idle();
        turn_failed(turned);
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        Arc::new(ReactorUnpark(self.reactor.handle()))
    }
}

fn turn_failed(turned: io::Result<usize>) {
    if let Err(e) = turned {
        // Only EINTR is retried inside `turn`; anything else is an OS-level
        // failure. Back off briefly instead of spinning on it.
        log::error!("reactor turn failed: {e}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// An event loop: a reactor and an executor on the current thread.
///
/// Most programs call [`crate::run`]; build a `Runtime` to keep one across
/// several `block_on` calls or to tune it.
///
/// ```
/// let mut rt = ferrio::Runtime::new().unwrap();
/// let handle = rt.spawn(async { 1 + 1 });
/// assert_eq!(rt.block_on(handle).unwrap(), 2);
/// ```
pub struct Runtime {
    /// Always `Some` until dropped; taken in `drop` so it can be dropped
    /// while the reactor is still the current one.
    executor: Option<Exec>,
    reactor: ReactorHandle,
    /// The seed of a seeded run ([`Builder::seed`], `FERRIO_SEED`).
    seed: Option<u64>,
}

/// One worker (asyncio's loop: the scheduler `ferrio::run` has always had)
/// or several (docs/architecture.md, "Several workers").
enum Exec {
    One(Executor<ReactorPark>),
    Many(MultiExecutor),
}

impl Exec {
    fn spawner(&self) -> Spawner {
        match self {
            Exec::One(e) => e.spawner(),
            Exec::Many(e) => e.spawner(),
        }
    }

    fn task_count(&self) -> usize {
        match self {
            Exec::One(e) => e.task_count(),
            Exec::Many(e) => e.task_count(),
        }
    }
}

impl std::fmt::Debug for Exec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exec::One(e) => e.fmt(f),
            Exec::Many(e) => e.fmt(f),
        }
    }
}

impl Runtime {
    /// A runtime with default settings.
    ///
    /// # Errors
    ///
    /// As [`Builder::build`].
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder to tune the runtime.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion, running spawned tasks, I/O and timers
    /// meanwhile, and returns its output. Tasks still pending afterwards stay
    /// in the runtime (they run again at the next `block_on`, or are dropped
    /// with the runtime).
    ///
    /// # Panics
    ///
    /// If called from within a runtime: `.await` the future instead.
    #[track_caller]
    pub fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        let _reactor = context::enter(self.reactor.clone());
        match self.executor() {
            Exec::One(e) => e.block_on(future),
            Exec::Many(e) => e.block_on(future),
        }
    }

    /// How many workers run this runtime's tasks: 1 unless the builder
    /// (or `FERRIO_WORKERS`) asked for more.
    ///
    /// ```
    /// let rt = ferrio::Runtime::builder().workers(2).build().unwrap();
    /// assert_eq!(rt.workers(), 2);
    /// ```
    pub fn workers(&self) -> usize {
        match self.executor_ref() {
            Exec::One(_) => 1,
            Exec::Many(e) => e.workers(),
        }
    }

    /// The seed this runtime's scheduler runs with, if it is a seeded run
    /// ([`Builder::seed`], or `FERRIO_SEED` in the environment): print it
    /// when a test fails, and build with it again to replay the same order.
    ///
    /// ```
    /// let rt = ferrio::Runtime::builder().seed(42).build().unwrap();
    /// assert_eq!(rt.seed(), Some(42));
    /// ```
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Spawns a task; it runs during `block_on` (on several workers, at once,
    /// on one of the other workers).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor_ref().spawner().spawn(future)
    }

    /// A handle that spawns onto this runtime from any thread.
    pub fn spawner(&self) -> Spawner {
        self.executor_ref().spawner()
    }

    /// A [`Handle`](crate::Handle) on this runtime: spawn and schedule
    /// callbacks onto it from any thread.
    pub fn handle(&self) -> crate::Handle {
        crate::Handle::from_parts(self.spawner(), Some(self.reactor.clone()))
    }

    /// How many threads the blocking pool has now, busy or idle. Idle ones
    /// exit after [`Builder::blocking_keep_alive`]. For diagnostics.
    pub fn blocking_thread_count(&self) -> usize {
        match self.executor_ref() {
            Exec::One(e) => e.blocking_thread_count(),
            Exec::Many(e) => e.blocking_thread_count(),
        }
    }

    /// How many tasks are alive. For diagnostics.
    pub fn task_count(&self) -> usize {
        self.executor_ref().task_count()
    }

    /// How many I/O sources (sockets) are registered with this runtime's
    /// reactor right now: one per live `TcpStream`, `TcpListener` or
    /// `UdpSocket` of this runtime. Dropping a socket deregisters it, so with
    /// [`task_count`](Runtime::task_count) this tells whether a program (or a
    /// test) leaked nothing. Cheap: one lock, no allocation. For diagnostics.
    ///
    /// ```
    /// let mut rt = ferrio::Runtime::new().unwrap();
    /// let listener = rt.block_on(ferrio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    /// assert_eq!(rt.io_source_count(), 1);
    /// drop(listener);
    /// assert_eq!(rt.io_source_count(), 0);
    /// ```
    pub fn io_source_count(&self) -> usize {
        self.reactor.registration_count()
    }

    /// Every live task and what each waits on, from outside the loop (inside
    /// it, [`crate::task::dump`]). The figures and waits are filled in debug
    /// mode or when tracing.
    ///
    /// ```
    /// let mut rt = ferrio::Runtime::builder().debug(true).build().unwrap();
    /// let task = ferrio::task::Builder::new().name("napper").spawn_on(&rt.spawner(), async {
    ///     ferrio::time::sleep(std::time::Duration::from_secs(60)).await;
    /// });
    /// rt.block_on(ferrio::yield_now()); // the task starts and waits
    /// let dump = rt.dump();
    /// let napper = dump.task(task.id()).unwrap();
    /// assert_eq!(napper.waits()[0].kind(), ferrio::task::WaitKind::Timer);
    /// print!("{dump}");
    /// ```
    pub fn dump(&self) -> crate::task::Dump {
        match self.executor_ref() {
            Exec::One(e) => e.dump(),
            Exec::Many(e) => e.dump(),
        }
    }

    /// The runtime's counters, from outside the loop (inside it,
    /// [`crate::metrics()`]).
    ///
    /// ```
    /// let mut rt = ferrio::Runtime::new().unwrap();
    /// rt.block_on(async { ferrio::spawn(async {}).await.unwrap() });
    /// assert_eq!(rt.metrics().executor.tasks_spawned, 1);
    /// ```
    pub fn metrics(&self) -> crate::Metrics {
        crate::Metrics {
            executor: match self.executor_ref() {
                Exec::One(e) => e.metrics(),
                Exec::Many(e) => e.metrics(),
            },
            reactor: self.reactor.metrics(),
        }
    }

    fn executor(&mut self) -> &mut Exec {
        self.executor.as_mut().expect("runtime used during drop")
    }

    fn executor_ref(&self) -> &Exec {
        self.executor.as_ref().expect("runtime used during drop")
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Dropping the executor drops every pending task's future. Their
        // destructors (sockets deregistering, timers cancelling) may look up
        // the current reactor, so it stays entered meanwhile.
        let _reactor = context::enter(self.reactor.clone());
        if let Some(executor) = self.executor.take() {
            log::debug!("runtime shutting down with {} tasks", executor.task_count());
            drop(executor);
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("executor", &self.executor)
            .field("reactor", &self.reactor)
            .finish()
    }
}

/// Settings of a [`Runtime`].
///
/// ```
/// use std::time::Duration;
/// let mut rt = ferrio::Runtime::builder()
///     .event_interval(32)
///     .max_blocking_threads(4)
///     .blocking_keep_alive(Duration::from_secs(1))
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 7 }), 7);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    config: Config,
    /// Set by [`Builder::debug`]; else `FERRIO_DEBUG` decides at build time.
    debug: Option<bool>,
    /// Set by [`Builder::workers`]; else `FERRIO_WORKERS` decides at build time.
    workers: Option<usize>,
    /// Set by [`Builder::start_paused`].
    start_paused: bool,
    /// Set by [`Builder::seed`]; else `FERRIO_SEED` decides at build time.
    seed: Option<u64>,
}

impl Builder {
    /// Default settings: see each method.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Tasks polled between two reactor turns (default
    /// [`ferrio_executor::EVENT_INTERVAL`], 61). Lower favours I/O latency,
    /// higher favours throughput of ready tasks.
    pub fn event_interval(mut self, n: usize) -> Self {
        self.config.event_interval = n.max(1);
        self
    }

    /// At most this many threads run `spawn_blocking` functions (default 64).
    pub fn max_blocking_threads(mut self, n: usize) -> Self {
        self.config.blocking.max_threads = n.max(1);
        self
    }

    /// An idle blocking thread exits after this long (default 10 s).
    pub fn blocking_keep_alive(mut self, d: Duration) -> Self {
        self.config.blocking.keep_alive = d;
        self
    }

    /// How many worker threads run tasks: `1` (the default) is asyncio's
    /// one loop on the thread that calls `block_on`; `n > 1` adds `n - 1`
    /// threads, and `Send` tasks (`spawn`) run on whichever worker is free,
    /// idle workers taking work from busy ones, while `spawn_local` tasks
    /// stay on the worker that spawned them; `0` means one per core. The
    /// thread that calls `block_on` is always one of the workers, so `main`
    /// need not be `Send`. Without a call here, `FERRIO_WORKERS=n` in the
    /// environment sets it at [`build`](Builder::build); a call here wins.
    ///
    /// ```
    /// let mut rt = ferrio::Runtime::builder().workers(2).build().unwrap();
    /// let threads = rt.block_on(async {
    ///     let tasks: Vec<_> = (0..8)
    ///         .map(|_| ferrio::spawn(async {
    ///             std::thread::sleep(std::time::Duration::from_millis(20));
    ///             std::thread::current().id()
    ///         }))
    ///         .collect();
    ///     let mut ids = Vec::new();
    ///     for t in tasks {
    ///         ids.push(t.await.unwrap());
    ///     }
    ///     ids.sort_by_key(|id| format!("{id:?}"));
    ///     ids.dedup();
    ///     ids.len()
    /// });
    /// assert!(threads >= 1 && threads <= 2);
    /// ```
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = Some(n);
        self
    }

    /// Starts the runtime with its clock paused (tokio's `start_paused`), as
    /// if [`ferrio::time::pause()`](crate::time::pause) were its first call:
    /// for tests of timeouts and timers that should not take their real time.
    /// While paused, the clock moves by `time::advance` and, whenever every
    /// task is idle and no I/O is ready, jumps to the next timer's deadline
    /// (the rule: [`time`](crate::time#the-paused-clock), docs/testing.md).
    /// One worker only: [`build`](Builder::build) refuses several asked for
    /// with [`workers`](Builder::workers), and a paused builder that sets no
    /// count takes one worker whatever `FERRIO_WORKERS` says (so a test suite
    /// run with `FERRIO_WORKERS=2` keeps its paused-clock tests).
    ///
    /// ```
    /// use std::time::Duration;
    /// use ferrio::time::{sleep, Instant};
    /// let mut rt = ferrio::Runtime::builder().start_paused(true).build().unwrap();
    /// let wall = std::time::Instant::now();
    /// let slept = rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(3600)).await;
    ///     Instant::now() - start
    /// });
    /// assert_eq!(slept, Duration::from_secs(3600));
    /// assert!(wall.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn start_paused(mut self, paused: bool) -> Self {
        self.start_paused = paused;
        self
    }

    /// A seeded run, for tests that look for ordering bugs: the order in
    /// which ready tasks (and `block_on`'s future) are polled, and the order
    /// in which wakes that arrive together (I/O events of one reactor turn,
    /// timers that expire together) are delivered, are drawn from a random
    /// generator seeded with `seed`, instead of first-in first-out. The same
    /// seed gives the same order every time, so a failure found under a seed
    /// replays (as far as the loop's own thread decides: see
    /// docs/testing.md). `ferrio::run` and `#[ferrio::test]` print the seed
    /// when the program or test panics.
    ///
    /// A seeded runtime has one worker: [`build`](Builder::build) refuses
    /// a seed with several [`workers`](Builder::workers), and
    /// `FERRIO_WORKERS` does not apply to it. Without a call here,
    /// `FERRIO_SEED=n` in the environment seeds every runtime that is not
    /// built with several workers (those ignore it, with a warning in the
    /// log); a call here wins over the environment.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// let order = |seed| {
    ///     let log = Arc::new(Mutex::new(Vec::new()));
    ///     let mut rt = ferrio::Runtime::builder().seed(seed).build().unwrap();
    ///     rt.block_on(async {
    ///         let tasks: Vec<_> = (0..4)
    ///             .map(|i| {
    ///                 let log = log.clone();
    ///                 ferrio::spawn(async move { log.lock().unwrap().push(i) })
    ///             })
    ///             .collect();
    ///         for t in tasks {
    ///             t.await.unwrap();
    ///         }
    ///     });
    ///     let order = log.lock().unwrap().clone();
    ///     order
    /// };
    /// assert_eq!(order(3), order(3)); // a replay
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Debug mode, asyncio's `PYTHONASYNCIODEBUG=1`: polls longer than
    /// [`slow_poll_threshold`](Builder::slow_poll_threshold) are logged at
    /// warn with the task's name and spawn site; a watchdog thread logs a
    /// poll that is still running after
    /// [`watchdog_threshold`](Builder::watchdog_threshold), while it blocks;
    /// tasks are timed and tagged with what they wait on (see
    /// [`Runtime::dump`]). Off by default; without a call here,
    /// `FERRIO_DEBUG=1` (or `true`) in the environment switches it on at
    /// [`build`](Builder::build). A call here wins over the environment.
    ///
    /// ```
    /// let mut rt = ferrio::Runtime::builder().debug(true).build().unwrap();
    /// rt.block_on(async { std::thread::sleep(std::time::Duration::from_millis(150)) });
    /// // logged: "... took 150ms in one poll (threshold 100ms): it blocked the event loop"
    /// ```
    pub fn debug(mut self, on: bool) -> Self {
        self.debug = Some(on);
        self
    }

    /// In debug mode, a poll at least this long is logged (default 100 ms,
    /// asyncio's `slow_callback_duration`).
    pub fn slow_poll_threshold(mut self, d: Duration) -> Self {
        self.config.observe.slow_poll_threshold = d;
        self
    }

    /// In debug mode, the watchdog reports a poll still running after this
    /// long (default 1 s).
    pub fn watchdog_threshold(mut self, d: Duration) -> Self {
        self.config.observe.watchdog_threshold = d;
        self
    }

    /// Writes a Chrome trace-event JSON file to `path` when the runtime
    /// drops: open it in <https://ui.perfetto.dev> or chrome://tracing. One
    /// track per task, a slice per poll, arrows from what woke a task. Without
    /// a call here, `FERRIO_TRACE=path.json` in the environment sets it at
    /// [`build`](Builder::build). Tracing also times and tags tasks, as debug
    /// mode does, without its warnings.
    ///
    /// ```
    /// let path = std::env::temp_dir().join("ferrio-doc-trace.json");
    /// let mut rt = ferrio::Runtime::builder().trace(&path).build().unwrap();
    /// rt.block_on(async { ferrio::spawn(async {}).await.unwrap() });
    /// drop(rt);
    /// assert!(std::fs::read_to_string(&path).unwrap().contains("traceEvents"));
    /// ```
    pub fn trace(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.observe.trace = Some(path.into());
        self
    }

    /// Builds the runtime: creates the OS poller and starts the worker
    /// threads. Reads `FERRIO_DEBUG`, `FERRIO_TRACE`, `FERRIO_WORKERS` and
    /// `FERRIO_SEED` for the settings not made on the builder (a
    /// `FERRIO_WORKERS` or `FERRIO_SEED` that is not a number is ignored, with
    /// a warning in the log).
    ///
    /// # Errors
    ///
    /// The OS's error when the reactor's poller or its waker cannot be made
    /// (typically, the process is out of file descriptors), or a worker
    /// thread cannot be started. `InvalidInput` for
    /// [`start_paused`](Builder::start_paused) or [`seed`](Builder::seed)
    /// with several workers.
    pub fn build(mut self) -> io::Result<Runtime> {
        let observe = &mut self.config.observe;
        observe.debug = self.debug.unwrap_or_else(|| {
            std::env::var("FERRIO_DEBUG").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
        });
        if observe.trace.is_none() {
            observe.trace = std::env::var_os("FERRIO_TRACE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from);
        }
        // Process-wide and once: the running task is tagged with the socket or
        // timer it parks on, so a dump says what idle tasks wait on in every
        // mode (the details, addresses and deadlines, only when timing).
        ferrio_reactor::observe::set_wait_hook(crate::observe::reactor_wait);
        let count = |n: usize| match n {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        // The builder's seed wins; `FERRIO_SEED` seeds a runtime that was
        // not asked for several workers (docs/testing.md, "Seeds").
        let seed = match self.seed {
            Some(seed) => Some(seed),
            None => seed_from_env().filter(|seed| {
                let many = self.workers.is_some_and(|n| count(n) > 1);
                if many {
                    log::warn!("FERRIO_SEED={seed} ignored: this runtime was built with several workers, and a seeded run has one");
                }
                !many
            }),
        };
        self.config.seed = seed;
        // A paused clock and a seeded run need the one worker:
        // `FERRIO_WORKERS` does not apply to a builder that pauses or is
        // seeded and sets no count.
        let from_env = if self.start_paused || seed.is_some() {
            None
        } else {
            workers_from_env()
        };
        let workers = self.workers.or(from_env).map_or(1, count);
        if let Some(seed) = seed.filter(|_| workers > 1) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("seed({seed}) requires a one-worker runtime, not {workers} workers: on several threads the OS decides the order, and no seed replays it"),
            ));
        }
        if self.start_paused && workers > 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("start_paused requires a one-worker runtime, not {workers} workers: the clock jumps only when the one worker is idle"),
            ));
        }
        let mut reactor = Reactor::new()?;
        if let Some(seed) = seed {
            // Its own stream, so the reactor's draws do not shift the executor's.
            reactor.shuffle_wakes(seed ^ 0x5EED_0FFE_4410_u64);
        }
        let handle = reactor.handle();
        if workers > 1 {
            // No one worker knows that every task is idle (docs/architecture.md, "The clock").
            handle.set_pausable(false);
        } else if self.start_paused {
            handle
                .pause_clock()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
        let park = ReactorPark { reactor };
        let executor = if workers <= 1 {
            Exec::One(Executor::with_config(park, self.config))
        } else {
            // Each worker thread makes this reactor its current one, so
            // sockets and timers made in its tasks register here.
            let reactor = handle.clone();
            let on_start: ferrio_executor::OnThreadStart =
                Arc::new(move || Box::new(context::enter(reactor.clone())));
            Exec::Many(MultiExecutor::new(
                park,
                workers,
                self.config,
                Some(on_start),
            )?)
        };
        Ok(Runtime {
            executor: Some(executor),
            reactor: handle,
            seed,
        })
    }
}

/// `FERRIO_WORKERS`, if set: a count of workers (0: one per core).
fn workers_from_env() -> Option<usize> {
    let value = std::env::var("FERRIO_WORKERS").ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            log::warn!("FERRIO_WORKERS={value:?} is not a number of workers; using one worker");
            None
        }
    }
}

/// `FERRIO_SEED`, if set: the seed of a seeded run.
fn seed_from_env() -> Option<u64> {
    let value = std::env::var("FERRIO_SEED").ok()?;
    match value.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => {
            log::warn!("FERRIO_SEED={value:?} is not a number; the run is not seeded");
            None
        }
    }
}

/// Prints the seed of a seeded run that panics, so the failure can be
/// replayed (`FERRIO_SEED=n`, `Builder::seed(n)`, `#[ferrio::test(seed = n)]`).
struct SeedReport(u64);

impl Drop for SeedReport {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "ferrio: test failed with FERRIO_SEED={0} (replay it with FERRIO_SEED={0} or #[ferrio::test(seed = {0})])",
                self.0
            );
        }
    }
}

/// Runs `main` on a new runtime and returns its output: asyncio's `asyncio.run`.
///
/// When `main` completes, tasks that are ready at that moment take one more
/// step (as asyncio's loop finishes its iteration), then every task left is
/// cancelled: its future is dropped, so its destructors run, before `run` returns.
///
/// ```
/// let answer = ferrio::run(async {
///     ferrio::time::sleep(std::time::Duration::from_millis(1)).await;
///     42
/// });
/// assert_eq!(answer, 42);
/// ```
///
/// # Panics
///
/// If called from within a runtime (like `asyncio.run` from a running loop),
/// or if the OS poller cannot be created.
#[track_caller]
pub fn run<F: Future>(main: F) -> F::Output {
    run_on(Builder::new(), main)
}

/// [`run`] on a runtime built by `builder`; what `#[ferrio::main]` and
/// `#[ferrio::test]` call. `#[track_caller]`, so that panics and traces
/// name the caller of [`run`], not this function.
#[track_caller]
pub(crate) fn run_on<F: Future>(builder: Builder, main: F) -> F::Output {
    run_seeded_on(builder, main).0
}

/// [`run_on`], also returning the seed the runtime ran with; a panic under
/// a seed prints it.
#[track_caller]
pub(crate) fn run_seeded_on<F: Future>(builder: Builder, main: F) -> (F::Output, Option<u64>) {
    if ferrio_executor::in_runtime() {
        panic!("ferrio::run cannot be called from within a running runtime: `.await` the future, or `spawn` it, instead");
    }
    let mut rt = builder
        .build()
        .unwrap_or_else(|e| panic!("ferrio::run could not create the event loop: {e}"));
    let seed = rt.seed;
    let _report = seed.map(SeedReport);
    let output = rt.block_on(main);
    // Like asyncio's loop when it stops: tasks already ready take their step,
    // then everything left is cancelled as the runtime drops.
    let _reactor = context::enter(rt.reactor.clone());
    match rt.executor() {
        Exec::One(e) => e.run_ready_once(),
        Exec::Many(e) => e.run_ready_once(),
    }
    (output, seed)
}
