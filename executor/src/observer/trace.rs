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
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::{TaskInfo, WaitKind};

/// The loop's own track: parks, and the wakes that come out of them.
const LOOP_TID: u64 = 0;
/// The future given to `block_on`.
const MAIN_TID: u64 = 1 << 40;
/// Wakes and spawns from other threads.
const REMOTE_TID: u64 = (1 << 40) + 1;
/// Blocking-pool threads get tids from here up.
const BLOCKING_TID: u64 = 2 << 40;
/// The process (track group) of a runtime of one worker, of worker 0 of
/// several, and of the blocking pool; worker `w` of several is `PID + w`.
const PID: u64 = 1;
/// Flow ids of worker `w` start at `w << FLOW_SHIFT`, so workers that record
/// at the same time never give two arrows one id.
const FLOW_SHIFT: u32 = 40;

/// What woke a task (or spawned it), for the flow arrow's tail.
pub(crate) enum Source {
    Task(u64),
    Main,
    /// The reactor, while the loop was parked: the woken task's wait says which kind.
    Reactor(Option<WaitKind>),
    Remote,
}

/// One trace event, as recorded: plain fields, turned into JSON only when
/// the file is written, so that recording one costs a push.
enum Event {
    /// A slice of time on a track (`"ph": "X"`), with at most one argument.
    Slice {
        tid: u64,
        name: &'static str,
        began: Instant,
        ended: Instant,
        arg: Option<(&'static str, u64)>,
    },
    /// The tail of a wake arrow (`"ph": "s"`).
    FlowStart {
        tid: u64,
        id: u64,
        name: &'static str,
        at: Instant,
    },
    /// The head of a wake arrow, bound to the slice it points into (`"ph": "f"`).
    FlowEnd { tid: u64, id: u64, at: Instant },
    /// A track's name and place (two `"ph": "M"` records).
    Track { tid: u64, name: String, sort: u64 },
}

/// Events from the blocking pool's threads.
pub(crate) struct TraceSink {
    epoch: Instant,
    events: Mutex<Vec<Event>>,
    next_thread: AtomicU64,
    /// The events of the other workers of a runtime of several, each under
    /// its track group, handed over when each stops.
    workers: Mutex<Vec<(u64, Vec<Event>)>>,
    /// Whether the runtime has several workers (the track groups are named
    /// "worker N" then).
    several: std::sync::atomic::AtomicBool,
}

thread_local! {
    /// This blocking thread's track, once it ran a traced job.
    static BLOCKING_TRACK: Cell<Option<u64>> = const { Cell::new(None) };
}

impl TraceSink {
    fn push(&self, event: Event) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
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
                self.push(Event::Track {
                    tid,
                    name,
                    sort: tid,
                });
                track.set(Some(tid));
                tid
            }
        });
        self.push(Event::Slice {
            tid,
            name: "spawn_blocking",
            began,
            ended,
            arg: Some(("job", job)),
        });
    }
}

/// The executor's side of the trace: its own events (no lock: one thread
/// records them), and the sink the blocking pool shares.
pub(crate) struct Trace {
    path: PathBuf,
    /// This recorder's track group: `PID + worker`.
    pid: u64,
    /// Worker 0 (or the one worker) writes the file; the others hand their
    /// events to the sink.
    writer: bool,
    sink: Arc<TraceSink>,
    events: RefCell<Vec<Event>>,
    next_flow: Cell<u64>,
    /// Tasks whose track is named already.
    tracks: RefCell<HashSet<u64>>,
}

impl Trace {
    /// The recorder of worker `worker`: with `sink`, the one worker 0's
    /// recorder made (whose file it joins), else a new one that writes.
    pub(crate) fn for_worker(path: PathBuf, worker: usize, sink: Option<Arc<TraceSink>>) -> Self {
        let writer = sink.is_none();
        let sink = sink.unwrap_or_else(|| {
            log::debug!(target: "ferrio::trace", "tracing to {}", path.display());
            Arc::new(TraceSink {
                epoch: Instant::now(),
                events: Mutex::new(Vec::new()),
                next_thread: AtomicU64::new(0),
                workers: Mutex::new(Vec::new()),
                several: std::sync::atomic::AtomicBool::new(false),
            })
        });
        if worker > 0 {
            sink.several.store(true, Ordering::Relaxed);
        }
        let trace = Trace {
            path,
            pid: PID + worker as u64,
            writer,
            sink,
            events: RefCell::new(Vec::new()),
            next_flow: Cell::new(((worker as u64) << FLOW_SHIFT) + 1),
            tracks: RefCell::new(HashSet::new()),
        };
        for (tid, name, sort) in [
            (LOOP_TID, "event loop (parks)", 0),
            (MAIN_TID, "block_on (main future)", 1),
            (REMOTE_TID, "other threads (remote wakes)", 2),
        ] {
            trace.push(Event::Track {
                tid,
                name: name.to_owned(),
                sort,
            });
        }
        trace
    }

    fn push(&self, event: Event) {
        self.events.borrow_mut().push(event);
    }

    fn slice(&self, tid: u64, name: &'static str, began: Instant, ended: Instant) {
        self.push(Event::Slice {
            tid,
            name,
            began,
            ended,
            arg: None,
        });
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
            self.push(Event::Track {
                tid: info.id,
                name,
                sort: 10 + info.id,
            });
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
                self.slice(REMOTE_TID, "remote wake", now, now);
                (REMOTE_TID, "wake by other thread")
            }
        };
        self.push(Event::FlowStart {
            tid,
            id,
            name,
            at: now,
        });
        id
    }

    /// Ends flow `id` at the poll of `task` that begins `now`.
    pub(crate) fn flow_end(&self, id: u64, task: u64, now: Instant) {
        self.push(Event::FlowEnd {
            tid: task,
            id,
            at: now,
        });
    }

    /// One poll of a task.
    pub(crate) fn poll(&self, info: &TaskInfo, began: Instant, ended: Instant) {
        self.push(Event::Slice {
            tid: info.id,
            name: "poll",
            began,
            ended,
            arg: Some(("task", info.id)),
        });
    }

    /// One poll of `block_on`'s future.
    pub(crate) fn main_poll(&self, began: Instant, ended: Instant) {
        self.slice(MAIN_TID, "poll main", began, ended);
    }

    /// The loop parked from `began` to `ended`.
    pub(crate) fn park(&self, began: Instant, ended: Instant) {
        self.slice(LOOP_TID, "park", began, ended);
    }

    /// The recording ends (the executor, or this worker, stops): the writer
    /// writes the file, another worker hands its events to the writer's.
    pub(crate) fn finish(&self) {
        let events = std::mem::take(&mut *self.events.borrow_mut());
        if self.writer {
            self.write(events);
        } else {
            self.sink
                .workers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((self.pid, events));
        }
    }

    /// Writes the file; a failure is logged, not raised (the program's own
    /// result matters more than its trace).
    fn write(&self, mut events: Vec<Event>) {
        events.append(&mut self.sink.events.lock().unwrap_or_else(|e| e.into_inner()));
        let mut groups = vec![(self.pid, events)];
        groups.append(&mut self.sink.workers.lock().unwrap_or_else(|e| e.into_inner()));
        let several = self.sink.several.load(Ordering::Relaxed);
        let count: usize = groups.iter().map(|(_, e)| e.len()).sum();
        let written = std::fs::File::create(&self.path).and_then(|file| {
            let mut out = io::BufWriter::new(file);
            write_json(&mut out, self.sink.epoch, &groups, several)?;
            out.flush()
        });
        match written {
            Ok(()) => {
                log::info!(target: "ferrio::trace", "wrote {count} trace events to {} (open it in ui.perfetto.dev)",
                self.path.display())
            }
            Err(e) => super::warn(
                "ferrio::trace",
                format_args!("could not write the trace to {}: {e}", self.path.display()),
            ),
        }
    }
}

/// Nanoseconds from `epoch`.
fn nanos(epoch: Instant, t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX)
}

/// `nanos` as the format's microseconds, `123.456`: integer formatting,
/// several times cheaper than a float's for the millions a trace may hold.
struct Micros(u64);

impl std::fmt::Display for Micros {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// Writes `{"traceEvents": [...], "displayTimeUnit": "ms"}`: each group of
/// events under its track group (`pid`), named "ferrio runtime" for one
/// worker, "worker N" for several.
fn write_json(
    out: &mut impl Write,
    epoch: Instant,
    groups: &[(u64, Vec<Event>)],
    several: bool,
) -> io::Result<()> {
    out.write_all(br#"{"displayTimeUnit":"ms","traceEvents":["#)?;
    let mut first = true;
    for (pid, events) in groups {
        if !first {
            out.write_all(b",\n")?;
        }
        first = false;
        if several {
            write!(
                out,
                r#"{{"ph":"M","pid":{pid},"name":"process_name","args":{{"name":"ferrio worker {}"}}}},{{"ph":"M","pid":{pid},"name":"process_sort_index","args":{{"sort_index":{pid}}}}}"#,
                pid - PID
            )?;
        } else {
            write!(
                out,
                r#"{{"ph":"M","pid":{pid},"name":"process_name","args":{{"name":"ferrio runtime"}}}}"#
            )?;
        }
        write_events(out, epoch, *pid, events)?;
    }
    out.write_all(b"]}\n")
}

fn write_events(
    out: &mut impl Write,
    epoch: Instant,
    pid: u64,
    events: &[Event],
) -> io::Result<()> {
    for event in events {
        out.write_all(b",\n")?;
        match event {
            Event::Slice {
                tid,
                name,
                began,
                ended,
                arg,
            } => {
                let (ts, end) = (nanos(epoch, *began), nanos(epoch, *ended));
                write!(
                    out,
                    r#"{{"ph":"X","pid":{pid},"tid":{tid},"name":"{name}","ts":{},"dur":{},"args":{{"#,
                    Micros(ts),
                    Micros(end.saturating_sub(ts))
                )?;
                if let Some((key, value)) = arg {
                    write!(out, r#""{key}":{value}"#)?;
                }
                out.write_all(b"}}")?;
            }
            Event::FlowStart { tid, id, name, at } => write!(
                out,
                r#"{{"ph":"s","pid":{pid},"tid":{tid},"id":{id},"cat":"wake","name":"{name}","ts":{}}}"#,
                Micros(nanos(epoch, *at))
            )?,
            Event::FlowEnd { tid, id, at } => write!(
                out,
                r#"{{"ph":"f","bp":"e","pid":{pid},"tid":{tid},"id":{id},"cat":"wake","name":"wake","ts":{}}}"#,
                Micros(nanos(epoch, *at))
            )?,
            Event::Track { tid, name, sort } => {
                // Task names are the user's: escaped as JSON strings.
                let name = serde_json::to_string(name).map_err(io::Error::from)?;
                write!(
                    out,
                    r#"{{"ph":"M","pid":{pid},"tid":{tid},"name":"thread_name","args":{{"name":{name}}}}},"#
                )?;
                write!(
                    out,
                    r#"{{"ph":"M","pid":{pid},"tid":{tid},"name":"thread_sort_index","args":{{"sort_index":{sort}}}}}"#
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_event_stays_small() {
        // docs/observability.md promises under 100 bytes per event in memory.
        assert!(
            std::mem::size_of::<Event>() < 100,
            "{}",
            std::mem::size_of::<Event>()
        );
    }

    #[test]
    fn the_file_is_json_with_every_event_and_escaped_names() {
        let epoch = Instant::now();
        let later = epoch + Duration::from_micros(1500);
        let events = [
            Event::Track {
                tid: 7,
                name: "say \"hi\"\n (task 7)".to_owned(),
                sort: 17,
            },
            Event::Slice {
                tid: 7,
                name: "poll",
                began: epoch,
                ended: later,
                arg: Some(("task", 7)),
            },
            Event::Slice {
                tid: LOOP_TID,
                name: "park",
                began: later,
                ended: later,
                arg: None,
            },
            Event::FlowStart {
                tid: LOOP_TID,
                id: 1,
                name: "wake by timer",
                at: later,
            },
            Event::FlowEnd {
                tid: 7,
                id: 1,
                at: later,
            },
        ];
        let mut out = Vec::new();
        write_json(&mut out, epoch, &[(PID, Vec::from(events))], false).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let all = doc["traceEvents"].as_array().unwrap();
        // The process name, two records per track, then one per event.
        assert_eq!(all.len(), 1 + 2 + 4);
        assert_eq!(all[1]["args"]["name"], "say \"hi\"\n (task 7)");
        assert_eq!(all[2]["args"]["sort_index"], 17);
        assert_eq!(all[3]["ph"], "X");
        assert_eq!(all[3]["dur"], 1500.0);
        assert_eq!(all[3]["args"]["task"], 7);
        assert_eq!(all[4]["args"], serde_json::json!({}));
        assert_eq!((&all[5]["ph"], &all[5]["id"]), (&"s".into(), &1.into()));
        assert_eq!((&all[6]["ph"], &all[6]["bp"]), (&"f".into(), &"e".into()));
    }
}
