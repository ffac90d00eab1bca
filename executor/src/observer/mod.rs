//! The executor's observer and the types it reports in: who each task is
//! ([`TaskInfo`]), what a task waits on ([`Wait`]), the counters
//! ([`Metrics`]), the task dump ([`Dump`]), debug mode's slow-poll check and
//! watchdog, and the trace file. Public as `ferrio_executor::observe` (the
//! façade in lib.rs), with the functions that find the running executor.
//!
//! Always on, and cheap: ids, names, spawn sites and counters. Behind a
//! switch ([`ObserveConfig`]): per-poll timing, wait tags, slow-poll
//! warnings, the watchdog and the trace.
//!
//! Not here: `current`, `waiting_on`, `is_timing` and `tagged`, which reach
//! the running executor's observer (`context.rs`); `dump` and `metrics`,
//! which need the executor's core (`scheduler.rs`); `Builder` (`builder.rs`);
//! how the facade reads the environment (`FERRIO_DEBUG`, `FERRIO_TRACE`).

mod dump;
mod metrics;
mod origin;
mod trace;
mod wait;
mod warn;
mod watchdog;

pub use dump::{Dump, TaskDump, TaskState};
pub use metrics::{Metrics, WorkerMetrics};
pub use wait::{OtherKind, Wait, WaitKind};

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustc_hash::FxHashMap;

use origin::Origin;

pub(crate) use trace::TraceSink;
use trace::{Source, Trace};
pub(crate) use warn::warn;
use watchdog::Watchdog;

/// The id `block_on`'s own future goes by in warnings (tasks start at 1).
const MAIN_ID: u64 = 0;

/// `block_on`'s future, as warnings name it.
fn main_info(location: &'static Location<'static>) -> TaskInfo {
    TaskInfo {
        id: MAIN_ID,
        name: None,
        location,
    }
}

/// Log target of task lifecycle messages.
pub(crate) const TASK_TARGET: &str = "ferrio::task";

/// Whether task lifecycle messages (spawned, finished) are logged.
fn task_logging() -> bool {
    log::log_enabled!(target: TASK_TARGET, log::Level::Debug)
}

/// Who a task is: id, name and spawn site. What [`current`](crate::observe::current) returns, and what
/// a [`crate::JoinHandle`] knows of its task.
///
/// ```
/// ferrio::run(async {
///     let task = ferrio::task::Builder::new().name("greeter").spawn(async {
///         let me = ferrio::task::current().unwrap();
///         (me.id(), me.name().map(str::to_owned))
///     });
///     let id = task.id();
///     assert_eq!(task.await.unwrap(), (id, Some("greeter".to_owned())));
/// });
/// ```
#[derive(Clone)]
pub struct TaskInfo {
    pub(crate) id: u64,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) location: &'static Location<'static>,
}

impl TaskInfo {
    /// The task's id, unique within the process.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The name given with [`Builder::name`](crate::task::Builder::name), if any.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned (the caller of `spawn`).
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// `'name' (task ID)` if the task has one, else `task ID`.
    pub(crate) fn label(&self) -> String {
        if self.id == MAIN_ID {
            return "the main future (block_on's)".to_owned();
        }
        match &self.name {
            Some(name) => format!("'{name}' (task {})", self.id),
            None => format!("task {}", self.id),
        }
    }
}

impl fmt::Debug for TaskInfo {
    /// Like asyncio's task repr: `<Task name='fetch 3' id=9 spawned at src/main.rs:12:5>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_repr(f, None, self)
    }
}

/// What a task stores of who it is: the fields of a [`TaskInfo`], kept
/// inside the task so that the observer can point at them while it is
/// polled, instead of copying them.
pub(crate) struct TaskMeta {
    pub(crate) id: u64,
    /// Where `spawn` was called (for the dump, logs and `Debug`), and the
    /// name given with `task::Builder::name`, if any: one word.
    pub(crate) origin: Origin,
    /// The `tracing` feature's span of the task: made at spawn (a child of
    /// the span current there), entered around each poll, closed when the
    /// task's allocation is freed. `None` when no subscriber wanted it: a
    /// `Span`, disabled or not, is 40 bytes, which every task would carry
    /// (and move, and free from a bigger size class) for nothing.
    #[cfg(feature = "tracing")]
    pub(crate) span: Option<Box<tracing::Span>>,
}

impl TaskMeta {
    #[inline]
    pub(crate) fn new(info: TaskInfo) -> Self {
        TaskMeta {
            id: info.id,
            #[cfg(feature = "tracing")]
            span: task_span(&info),
            origin: Origin::new(info.location, info.name),
        }
    }

    pub(crate) fn info(&self) -> TaskInfo {
        TaskInfo {
            id: self.id,
            name: self.origin.name().cloned(),
            location: self.origin.site(),
        }
    }
}

/// The span of a task (the `tracing` feature): `task`, at debug level, target
/// `ferrio::task`, with the task's id, its name if it has one, and its spawn
/// site in OpenTelemetry's `code.*` fields. `None` when no subscriber wants
/// it, which costs a load and a compare per spawn (the most verbose level
/// any subscriber enables, below debug: no span is made at all) and a
/// branch per poll.
#[cfg(feature = "tracing")]
#[inline]
fn task_span(info: &TaskInfo) -> Option<Box<tracing::Span>> {
    if tracing::level_filters::LevelFilter::current() < tracing::Level::DEBUG {
        return None;
    }
    new_task_span(info)
}

/// [`task_span`] once some subscriber enables debug (it may still filter
/// this target out: then the span is disabled, and dropped).
#[cfg(feature = "tracing")]
#[inline(never)]
fn new_task_span(info: &TaskInfo) -> Option<Box<tracing::Span>> {
    let span = tracing::debug_span!(
        target: "ferrio::task",
        "task",
        task.id = info.id,
        task.name = info.name.as_deref(),
        code.filepath = info.location.file(),
        code.lineno = info.location.line(),
        code.column = info.location.column(),
    );
    (!span.is_disabled()).then(|| Box::new(span))
}

/// Writes `<Task STATE name='N' id=I spawned at FILE:LINE:COL>`.
pub(crate) fn write_repr(
    f: &mut fmt::Formatter<'_>,
    state: Option<&str>,
    info: &TaskInfo,
) -> fmt::Result {
    f.write_str("<Task")?;
    if let Some(state) = state {
        write!(f, " {state}")?;
    }
    if let Some(name) = &info.name {
        write!(f, " name='{name}'")?;
    }
    write!(f, " id={} spawned at {}>", info.id, info.location)
}

/// Settings of what the executor observes beyond its counters.
///
/// ```
/// use std::time::Duration;
/// let config = ferrio_executor::observe::ObserveConfig {
///     debug: true,
///     slow_poll_threshold: Duration::from_millis(50),
///     ..Default::default()
/// };
/// assert!(config.timing());
/// ```
#[derive(Clone, Debug)]
pub struct ObserveConfig {
    /// Debug mode: slow polls are logged, the watchdog runs, tasks are timed
    /// and tagged with what they wait on.
    pub debug: bool,
    /// A poll longer than this is logged at warn (debug mode).
    pub slow_poll_threshold: Duration,
    /// The watchdog logs a poll still running after this long (debug mode).
    pub watchdog_threshold: Duration,
    /// Write a Chrome trace-event JSON file here when the executor drops.
    pub trace: Option<PathBuf>,
}

impl Default for ObserveConfig {
    fn default() -> Self {
        ObserveConfig {
            debug: false,
            slow_poll_threshold: Duration::from_millis(100),
            watchdog_threshold: Duration::from_secs(1),
            trace: None,
        }
    }
}

impl ObserveConfig {
    /// Whether tasks are timed and tagged (debug mode or tracing).
    pub fn timing(&self) -> bool {
        self.debug || self.trace.is_some()
    }
}

/// Per-task figures by task id, timing on only: an observer's own on one
/// worker, or one map every worker of a runtime of several shares, so that a
/// dump taken on any worker sees every task's figures and waits, and a wake
/// arrow may start on one worker and end on another.
pub(crate) type StatsMap = FxHashMap<u64, TaskStats>;

/// Where an observer keeps its [`StatsMap`].
enum Stats {
    Own(RefCell<StatsMap>),
    Shared(Arc<std::sync::Mutex<StatsMap>>),
}

/// A borrow of the map, either kind.
enum StatsGuard<'a> {
    Own(std::cell::RefMut<'a, StatsMap>),
    Shared(std::sync::MutexGuard<'a, StatsMap>),
}

impl std::ops::Deref for StatsGuard<'_> {
    type Target = StatsMap;
    fn deref(&self) -> &StatsMap {
        match self {
            StatsGuard::Own(m) => m,
            StatsGuard::Shared(m) => m,
        }
    }
}

impl std::ops::DerefMut for StatsGuard<'_> {
    fn deref_mut(&mut self) -> &mut StatsMap {
        match self {
            StatsGuard::Own(m) => m,
            StatsGuard::Shared(m) => m,
        }
    }
}

/// A new map for the workers of one runtime to share.
pub(crate) fn shared_stats() -> Arc<std::sync::Mutex<StatsMap>> {
    Arc::new(std::sync::Mutex::new(FxHashMap::default()))
}

/// Per-task figures, kept only while timing is on.
pub(crate) struct TaskStats {
    spawned_at: Instant,
    polls: u64,
    busy: Duration,
    slowest: Duration,
    last_poll: Option<Instant>,
    /// When the task was last woken and not polled since.
    woken_at: Option<Instant>,
    /// Longest wait from a wake to the poll it led to.
    max_delay: Duration,
    waits: Vec<Wait>,
    /// The trace flow that the next poll ends (who woke the task, or spawned it).
    flow: Option<u64>,
}

impl TaskStats {
    fn new(now: Instant) -> Self {
        TaskStats {
            spawned_at: now,
            polls: 0,
            busy: Duration::ZERO,
            slowest: Duration::ZERO,
            last_poll: None,
            woken_at: Some(now),
            max_delay: Duration::ZERO,
            waits: Vec::new(),
            flow: None,
        }
    }
}

/// How many waits one task keeps (a `select` over many sources).
const MAX_WAITS: usize = 8;

/// The executor's observer: one per executor, touched only on its thread
/// (the watchdog and trace parts it shares are behind their own locks).
pub(crate) struct Observer {
    config: ObserveConfig,
    /// `config.timing()`, read on every poll.
    timing: bool,
    /// Timing, or task lifecycle logging enabled: whether a spawn or a
    /// finish has more to do than count. The log level is sampled once a
    /// batch of polls (`sample_log_level`), not at every spawn.
    verbose: Cell<bool>,
    /// Who the task being polled now is (null between polls): a pointer into
    /// the task, so a poll pays one store to announce itself and one to end.
    current: Cell<*const TaskMeta>,
    /// The `WaitKind` code the poll running now tagged last (0: none), which
    /// the task keeps in its state word when the poll returns `Pending`.
    wait_code: Cell<u8>,
    /// When the executor was made.
    created: Instant,
    pub(crate) counters: metrics::Counters,
    /// Per-task figures by id (timing on only).
    /// Keyed by task id with a fast non-DoS-resistant hash: the ids are ours.
    stats: Stats,
    /// When the running poll began (timing on only).
    poll_started: Cell<Option<Instant>>,
    /// Inside a park: a wake now comes from the reactor.
    parking: Cell<bool>,
    watchdog: Option<Watchdog>,
    trace: Option<Trace>,
    /// Which worker this observer belongs to, on a runtime of several.
    worker: Option<usize>,
}

impl Observer {
    pub(crate) fn new(config: ObserveConfig) -> Self {
        Self::for_worker(config, None, None, None)
    }

    /// The observer of worker `worker` of a runtime of several (named in
    /// the watchdog's and the slow-poll warnings, and a track group of the
    /// trace of its own). Worker 0's makes the trace's sink; the others get
    /// it as `trace_sink`, and hand their events to it when they stop.
    pub(crate) fn for_worker(
        config: ObserveConfig,
        worker: Option<usize>,
        trace_sink: Option<Arc<TraceSink>>,
        shared: Option<Arc<std::sync::Mutex<StatsMap>>>,
    ) -> Self {
        let watchdog = config
            .debug
            .then(|| Watchdog::start(config.watchdog_threshold, worker))
            .flatten();
        let trace = config
            .trace
            .clone()
            .map(|path| Trace::for_worker(path, worker.unwrap_or(0), trace_sink));
        if config.debug {
            log::debug!(target: TASK_TARGET, "debug mode: slow polls over {:?} are logged, watchdog at {:?}",
                config.slow_poll_threshold, config.watchdog_threshold);
        }
        Observer {
            timing: config.timing(),
            verbose: Cell::new(config.timing() || task_logging()),
            config,
            current: Cell::new(std::ptr::null()),
            wait_code: Cell::new(0),
            created: Instant::now(),
            counters: metrics::Counters::default(),
            stats: match shared {
                Some(map) => Stats::Shared(map),
                None => Stats::Own(RefCell::new(FxHashMap::default())),
            },
            poll_started: Cell::new(None),
            parking: Cell::new(false),
            watchdog,
            trace,
            worker,
        }
    }

    pub(crate) fn timing(&self) -> bool {
        self.timing
    }

    /// The per-task figures (timing on only; never held across a poll).
    fn stats(&self) -> StatsGuard<'_> {
        match &self.stats {
            Stats::Own(map) => StatsGuard::Own(map.borrow_mut()),
            Stats::Shared(map) => StatsGuard::Shared(map.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }

    /// Where blocking jobs record their slices, if tracing.
    pub(crate) fn trace_sink(&self) -> Option<Arc<TraceSink>> {
        self.trace.as_ref().map(Trace::sink)
    }

    /// A task was made and is being queued; `info`
    /// is asked for only if it is logged or timed.
    #[inline]
    pub(crate) fn spawned(&self, info: impl FnOnce() -> TaskInfo) {
        self.counters.spawned.set(self.counters.spawned.get() + 1);
        if self.verbose.get() {
            self.spawned_slow(&info());
        }
    }

    #[cold]
    fn spawned_slow(&self, info: &TaskInfo) {
        log::debug!(target: TASK_TARGET, "spawned {} at {}", info.label(), info.location);
        if self.timing {
            let now = Instant::now();
            let mut stats = TaskStats::new(now);
            if let Some(trace) = &self.trace {
                trace.task_track(info);
                stats.flow = Some(trace.flow_start(self.source(None), now));
            }
            self.stats().insert(info.id, stats);
        }
    }

    /// What is waking (or spawning) a task now, for the trace.
    fn source(&self, woken_wait: Option<WaitKind>) -> Source {
        match self.current_id() {
            Some(id) => Source::Task(id),
            None if self.parking.get() => Source::Reactor(woken_wait),
            None => Source::Main,
        }
    }

    /// Who the task being polled is, if a task is being polled.
    fn current_meta(&self) -> Option<&TaskMeta> {
        // SAFETY: `current` is non-null only between `poll_begin` and
        // `poll_end`, which the task's `run` calls around its poll while it
        // holds an `Arc` of the task, so the `TaskMeta` inside it is alive and
        // never mutated. Everything that reads it runs on the executor's thread
        // inside that poll (the observer is not `Sync`), and the reference
        // does not outlive `&self`'s use at the call sites below (each one
        // copies what it needs before the poll can end).
        unsafe { self.current.get().as_ref() }
    }

    /// The id of the task being polled, if any.
    pub(crate) fn current_id(&self) -> Option<u64> {
        self.current_meta().map(|meta| meta.id)
    }

    /// The task being polled, if any.
    pub(crate) fn current(&self) -> Option<TaskInfo> {
        self.current_meta().map(TaskMeta::info)
    }

    /// A task is about to be polled: the hot path, a count and a store.
    /// (Timing, when on, wraps the task's whole run: `poll_begin_timed`.)
    #[inline]
    pub(crate) fn poll_begin(&self, meta: &TaskMeta) {
        self.counters.polls.set(self.counters.polls.get() + 1);
        self.current.set(meta);
    }

    /// What the poll that just returned `Pending` tagged last (0: nothing),
    /// forgotten here.
    #[inline]
    pub(crate) fn take_wait_code(&self) -> u8 {
        self.wait_code.replace(0)
    }

    /// The poll that `poll_begin` announced returned (or panicked).
    #[inline]
    pub(crate) fn poll_end(&self) {
        self.current.set(std::ptr::null());
    }

    /// Timing on: the task `info` is about to run (be polled, or dropped if
    /// it was aborted).
    pub(crate) fn poll_begin_timed(&self, info: &TaskInfo) {
        let now = Instant::now();
        {
            let mut stats = self.stats();
            // Spawned from another thread: first seen here.
            let s = stats.entry(info.id).or_insert_with(|| {
                if let Some(trace) = &self.trace {
                    trace.task_track(info);
                }
                TaskStats::new(now)
            });
            s.waits.clear();
            if let Some(woken) = s.woken_at.take() {
                s.max_delay = s.max_delay.max(now - woken);
            }
            if let (Some(trace), Some(flow)) = (&self.trace, s.flow.take()) {
                trace.flow_end(flow, info.id, now);
            }
        }
        if let Some(watchdog) = &self.watchdog {
            watchdog.poll_begin(info, now);
        }
        self.poll_started.set(Some(now));
    }

    /// Timing on: the run `poll_begin_timed` announced is over.
    pub(crate) fn poll_end_timed(&self, info: &TaskInfo) {
        let Some(started) = self.poll_started.take() else {
            return;
        };
        let now = Instant::now();
        let took = now - started;
        if let Some(watchdog) = &self.watchdog {
            watchdog.poll_end();
        }
        if let Some(s) = self.stats().get_mut(&info.id) {
            s.polls += 1;
            s.busy += took;
            s.slowest = s.slowest.max(took);
            s.last_poll = Some(now);
        }
        if let Some(trace) = &self.trace {
            trace.poll(info, started, now);
        }
        self.check_slow(info, took);
    }

    /// A task finished (completed, panicked or was cancelled); `info` is
    /// asked for only if it is logged or timed.
    #[inline]
    pub(crate) fn finished(&self, id: u64, info: impl FnOnce() -> TaskInfo) {
        self.counters.finished.set(self.counters.finished.get() + 1);
        if self.verbose.get() {
            self.finished_slow(id, &info());
        }
    }

    #[cold]
    fn finished_slow(&self, id: u64, info: &TaskInfo) {
        log::debug!(target: TASK_TARGET, "finished {} spawned at {}", info.label(), info.location);
        if self.timing {
            self.stats().remove(&id);
        }
    }

    /// Reads the log level again (a batch of polls is starting): spawns and
    /// finishes are logged from the next one on after `RUST_LOG` or
    /// `log::set_max_level` changes.
    #[inline]
    pub(crate) fn sample_log_level(&self) {
        self.verbose.set(self.timing || task_logging());
    }

    /// A task was woken on this thread; `id` is asked for only when timing.
    #[inline]
    pub(crate) fn woken(&self, id: impl FnOnce() -> u64) {
        self.counters
            .local_wakes
            .set(self.counters.local_wakes.get() + 1);
        if self.timing {
            self.note_wake(id(), false);
        }
    }

    /// Tasks woken from other threads reached the local queue.
    pub(crate) fn woken_remotely(&self, ids: impl Iterator<Item = u64>) {
        if self.timing() {
            for id in ids {
                self.note_wake(id, true);
            }
        }
    }

    fn note_wake(&self, id: u64, remote: bool) {
        let now = Instant::now();
        let mut stats = self.stats();
        let Some(s) = stats.get_mut(&id) else { return };
        s.woken_at.get_or_insert(now);
        if let (Some(trace), None) = (&self.trace, s.flow) {
            let source = if remote {
                Source::Remote
            } else {
                self.source(s.waits.first().map(|w| w.kind))
            };
            s.flow = Some(trace.flow_start(source, now));
        }
    }

    pub(crate) fn tag(
        &self,
        kind: WaitKind,
        deadline: Option<Instant>,
        detail: impl FnOnce() -> String,
    ) {
        let Some(meta) = self.current_meta() else {
            return;
        };
        self.wait_code.set(kind.code());
        if !self.timing() {
            return;
        }
        let id = meta.id;
        let mut stats = self.stats();
        let Some(s) = stats.get_mut(&id) else { return };
        if s.waits.len() < MAX_WAITS {
            let wait = Wait {
                kind,
                detail: detail(),
                deadline,
            };
            if !s.waits.contains(&wait) {
                s.waits.push(wait);
            }
        }
    }

    /// The loop is about to park; returns when, for `park_end`.
    pub(crate) fn park_begin(&self) -> Instant {
        self.parking.set(true);
        Instant::now()
    }

    /// The loop returned from the park that began at `began`.
    pub(crate) fn park_end(&self, began: Instant) {
        let now = Instant::now();
        self.parking.set(false);
        self.counters.parks.set(self.counters.parks.get() + 1);
        self.counters
            .parked
            .set(self.counters.parked.get() + (now - began));
        if let Some(trace) = &self.trace {
            trace.park(began, now);
        }
    }

    /// `block_on`'s future, called from `location`, is about to be polled:
    /// when, if timing. Debug mode watches it as it watches tasks.
    pub(crate) fn main_begin(&self, location: &'static Location<'static>) -> Option<Instant> {
        if !self.timing() {
            return None;
        }
        let now = Instant::now();
        if let Some(watchdog) = &self.watchdog {
            watchdog.poll_begin(&main_info(location), now);
        }
        Some(now)
    }

    /// `block_on`'s future returned from the poll begun at `began`.
    pub(crate) fn main_end(&self, began: Option<Instant>, location: &'static Location<'static>) {
        let Some(began) = began else { return };
        let now = Instant::now();
        if let Some(watchdog) = &self.watchdog {
            watchdog.poll_end();
        }
        if let Some(trace) = &self.trace {
            trace.main_poll(began, now);
        }
        self.check_slow(&main_info(location), now - began);
    }

    /// Debug mode: warns of a poll that took `took`.
    fn check_slow(&self, info: &TaskInfo, took: Duration) {
        if self.config.debug && took >= self.config.slow_poll_threshold {
            let blocked = match self.worker {
                Some(w) => format!("worker {w} of the event loop"),
                None => "the event loop".to_owned(),
            };
            warn("ferrio::slow_poll", format_args!(
                "{} spawned at {} took {took:.3?} in one poll (threshold {:?}): it blocked {blocked}",
                info.label(), info.location, self.config.slow_poll_threshold));
        }
    }

    /// What `dump` reports of one task.
    /// `last_wait`: what the task's last poll tagged, shown when the
    /// observer has no details of its own (not timing).
    pub(crate) fn task_dump(
        &self,
        info: TaskInfo,
        last_wait: Option<WaitKind>,
        state: TaskState,
        now: Instant,
    ) -> TaskDump {
        let stats = self.stats();
        let s = stats.get(&info.id);
        let waits = match (s, last_wait) {
            (Some(s), _) => s.waits.clone(),
            (None, Some(kind)) if state == TaskState::Idle => vec![Wait {
                kind,
                detail: String::new(),
                deadline: None,
            }],
            (None, _) => Vec::new(),
        };
        TaskDump {
            state,
            age: s.map(|s| now - s.spawned_at),
            polls: s.map(|s| s.polls),
            busy: s.map(|s| s.busy),
            slowest_poll: s.map(|s| s.slowest),
            max_scheduled_delay: s.map(|s| s.max_delay),
            since_last_poll: s.and_then(|s| s.last_poll).map(|t| now - t),
            waits,
            worker: None,
            pinned: false,
            info,
        }
    }

    pub(crate) fn created(&self) -> Instant {
        self.created
    }

    /// Ends the trace, if tracing: the writer writes the file (when the
    /// executor drops); another worker hands its events over (when it stops).
    pub(crate) fn finish(&self) {
        if let Some(trace) = &self.trace {
            trace.finish();
        }
    }
}
