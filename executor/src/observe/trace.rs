//! The trace file: Chrome trace-event JSON, which Perfetto (ui.perfetto.dev)
//! and chrome://tracing open. One track per task with a slice per poll, the
//! loop's parks on track 0, `block_on`'s own future on its track, blocking
//! jobs on one track per pool thread, and flow arrows from whatever woke a
//! task (another task, a timer or socket through the reactor, another thread)
//! to the poll that wake led to.
//!
//! Events are kept in memory and written once, when the executor drops.
//!
//! Not here: deciding what woke a task (the observer knows; this file only
//! draws it).

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::{json, Value};

use super::{TaskInfo, WaitKind};

/// The loop's own track: parks, and the wakes that come out of them.
const LOOP_TID: u64 = 0;
/// The future given to `block_on`.
const MAIN_TID: u64 = 1 << 40;
/// Wakes and spawns from other threads.
const REMOTE_TID: u64 = (1 << 40) + 1;
/// Blocking-pool threads get tids from here up.
const BLOCKING_TID: u64 = 2 << 40;
/// All events belong to one process.
const PID: u64 = 1;

/// What woke a task (or spawned it), for the flow arrow's tail.
pub(crate) enum Source {
    Task(u64),
    Main,
    /// The reactor, while the loop was parked: the woken task's wait says which kind.
    Reactor(Option<WaitKind>),
    Remote,
}

/// Events from any thread: the executor's, and the blocking pool's.
pub(crate) struct TraceSink {
    epoch: Instant,
    events: Mutex<Vec<Value>>,
    next_thread: AtomicU64,
}

thread_local! {
    /// This blocking thread's track, once it ran a traced job.
    static BLOCKING_TRACK: Cell<Option<u64>> = const { Cell::new(None) };
}

impl TraceSink {
    fn ts(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.epoch).as_nanos() as f64 / 1000.0
    }

    fn push(&self, event: Value) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }

    fn slice(&self, tid: u64, name: &str, began: Instant, ended: Instant, args: Value) {
        let dur = self.ts(ended) - self.ts(began);
        self.push(json!({"ph": "X", "pid": PID, "tid": tid, "name": name,
            "ts": self.ts(began), "dur": dur, "args": args}));
    }

    fn track_name(&self, tid: u64, name: &str, sort: u64) {
        self.push(
            json!({"ph": "M", "pid": PID, "tid": tid, "name": "thread_name",
            "args": {"name": name}}),
        );
        self.push(
            json!({"ph": "M", "pid": PID, "tid": tid, "name": "thread_sort_index",
            "args": {"sort_index": sort}}),
        );
    }

    /// A blocking job ran on this thread from `began` to `ended`.
    pub(crate) fn blocking_job(&self, job: u64, began: Instant, ended: Instant) {
        let tid = BLOCKING_TRACK.with(|track| match track.get() {
            Some(tid) => tid,
            None => {
                let tid = BLOCKING_TID + self.next_thread.fetch_add(1, Ordering::Relaxed);
                let name = std::thread::current()
                    .name()
                    .unwrap_or("blocking")
                    .to_owned();
                self.track_name(tid, &name, tid);
                track.set(Some(tid));
                tid
            }
        });
        self.slice(tid, "spawn_blocking", began, ended, json!({"job": job}));
    }
}

/// The executor's side of the trace.
pub(crate) struct Trace {
    path: PathBuf,
    sink: Arc<TraceSink>,
    next_flow: Cell<u64>,
    /// Tasks whose track is named already.
    tracks: RefCell<HashSet<u64>>,
}

impl Trace {
    pub(crate) fn new(path: PathBuf) -> Self {
        let sink = Arc::new(TraceSink {
            epoch: Instant::now(),
            events: Mutex::new(Vec::new()),
            next_thread: AtomicU64::new(0),
        });
        sink.push(json!({"ph": "M", "pid": PID, "name": "process_name",
            "args": {"name": "ferrio runtime"}}));
        sink.track_name(LOOP_TID, "event loop (parks)", 0);
        sink.track_name(MAIN_TID, "block_on (main future)", 1);
        sink.track_name(REMOTE_TID, "other threads (remote wakes)", 2);
        log::debug!(target: "ferrio::trace", "tracing to {}", path.display());
        Trace {
            path,
            sink,
            next_flow: Cell::new(1),
            tracks: RefCell::new(HashSet::new()),
        }
    }

    /// What the blocking pool records into.
    pub(crate) fn sink(&self) -> Arc<TraceSink> {
        self.sink.clone()
    }

    /// Names the task's track, once.
    pub(crate) fn task_track(&self, info: &TaskInfo) {
        if self.tracks.borrow_mut().insert(info.id) {
            let name = match &info.name {
                Some(name) => format!("{name} (task {}, {})", info.id, info.location),
                None => format!("task {} ({})", info.id, info.location),
            };
            self.sink.track_name(info.id, &name, 10 + info.id);
        }
    }

    /// Starts a flow arrow at `source`, now; returns its id for `flow_end`.
    pub(crate) fn flow_start(&self, source: Source, now: Instant) -> u64 {
        let id = self.next_flow.get();
        self.next_flow.set(id + 1);
        let (tid, name) = match source {
            Source::Task(task) => (task, "wake by task"),
            Source::Main => (MAIN_TID, "wake by main"),
            Source::Reactor(Some(WaitKind::Timer)) => (LOOP_TID, "wake by timer"),
            Source::Reactor(Some(WaitKind::Socket)) => (LOOP_TID, "wake by socket"),
            Source::Reactor(_) => (LOOP_TID, "wake by reactor"),
            Source::Remote => {
                // Arrows need a slice to start from: a mark where the loop took it in.
                self.sink
                    .slice(REMOTE_TID, "remote wake", now, now, json!({}));
                (REMOTE_TID, "wake by other thread")
            }
        };
        self.sink.push(
            json!({"ph": "s", "pid": PID, "tid": tid, "id": id, "cat": "wake",
            "name": name, "ts": self.sink.ts(now)}),
        );
        id
    }

    /// Ends flow `id` at the poll of `task` that begins `now`.
    pub(crate) fn flow_end(&self, id: u64, task: u64, now: Instant) {
        self.sink.push(
            json!({"ph": "f", "bp": "e", "pid": PID, "tid": task, "id": id,
            "cat": "wake", "name": "wake", "ts": self.sink.ts(now)}),
        );
    }

    /// One poll of a task.
    pub(crate) fn poll(&self, info: &TaskInfo, began: Instant, ended: Instant) {
        self.sink
            .slice(info.id, "poll", began, ended, json!({"task": info.id}));
    }

    /// One poll of `block_on`'s future.
    pub(crate) fn main_poll(&self, began: Instant, ended: Instant) {
        self.sink
            .slice(MAIN_TID, "poll main", began, ended, json!({}));
    }

    /// The loop parked from `began` to `ended`.
    pub(crate) fn park(&self, began: Instant, ended: Instant) {
        self.sink.slice(LOOP_TID, "park", began, ended, json!({}));
    }

    /// Writes the file; a failure is logged, not raised (the program's own
    /// result matters more than its trace).
    pub(crate) fn write(&self) {
        let events =
            std::mem::take(&mut *self.sink.events.lock().unwrap_or_else(|e| e.into_inner()));
        let count = events.len();
        let doc = json!({"traceEvents": events, "displayTimeUnit": "ms"});
        let written = std::fs::File::create(&self.path).and_then(|file| {
            serde_json::to_writer(std::io::BufWriter::new(file), &doc).map_err(std::io::Error::from)
        });
        match written {
            Ok(()) => {
                log::info!(target: "ferrio::trace", "wrote {count} trace events to {} (open it in ui.perfetto.dev)",
                self.path.display())
            }
            Err(e) => {
                log::warn!(target: "ferrio::trace", "could not write the trace to {}: {e}", self.path.display())
            }
        }
    }
}
