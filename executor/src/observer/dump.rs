//! The task dump: every live task of a runtime, what it is, how it has run,
//! and what it waits on. Printed as a table by `Display`.
//!
//! Not here: collecting it (the scheduler walks its registry and queues) or
//! the tags themselves (`waiting_on`, called by the primitives).

use std::fmt;
use std::time::Duration;

use super::{write_repr, TaskInfo, Wait};

/// Where a task is in its life, as of the dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// Being polled now (the task that took the dump).
    Running,
    /// Woken (or new), waiting in a run queue for its turn.
    Scheduled,
    /// Waiting for something to wake it.
    Idle,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Running => "running",
            TaskState::Scheduled => "scheduled",
            TaskState::Idle => "idle",
        })
    }
}

/// One task in a [`Dump`]. The figures (`age`, `polls`, ...) and the waits
/// are there when the runtime times tasks (debug mode or tracing), `None`
/// (empty) otherwise.
#[derive(Clone, Debug)]
pub struct TaskDump {
    pub(crate) info: TaskInfo,
    pub(crate) state: TaskState,
    pub(crate) age: Option<Duration>,
    pub(crate) polls: Option<u64>,
    pub(crate) busy: Option<Duration>,
    pub(crate) slowest_poll: Option<Duration>,
    pub(crate) max_scheduled_delay: Option<Duration>,
    pub(crate) since_last_poll: Option<Duration>,
    pub(crate) waits: Vec<Wait>,
    /// Several workers: the worker whose queue holds it, that polls it now,
    /// or that owns it (pinned); `None` for an idle task that may run anywhere.
    pub(crate) worker: Option<usize>,
    /// Spawned by `spawn_local` on a runtime of several workers: it never
    /// leaves its worker.
    pub(crate) pinned: bool,
}

impl TaskDump {
    /// Id, name and spawn site.
    pub fn info(&self) -> &TaskInfo {
        &self.info
    }
    /// Running, scheduled or idle.
    pub fn state(&self) -> TaskState {
        self.state
    }
    /// Time since it was spawned.
    pub fn age(&self) -> Option<Duration> {
        self.age
    }
    /// How many times it was polled.
    pub fn polls(&self) -> Option<u64> {
        self.polls
    }
    /// Time spent inside its polls.
    pub fn busy(&self) -> Option<Duration> {
        self.busy
    }
    /// Its longest poll.
    pub fn slowest_poll(&self) -> Option<Duration> {
        self.slowest_poll
    }
    /// The longest it waited in the run queue between a wake and its poll.
    pub fn max_scheduled_delay(&self) -> Option<Duration> {
        self.max_scheduled_delay
    }
    /// Time since its last poll ended (`None` if never polled).
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_last_poll
    }
    /// What it waits on, as the primitives it awaits said in its last poll.
    pub fn waits(&self) -> &[Wait] {
        &self.waits
    }
    /// On a runtime of several workers: the worker that polls it now, whose
    /// queue holds it, or that it is pinned to. `None` on one worker, and
    /// for an idle task that any worker may run next.
    pub fn worker(&self) -> Option<usize> {
        self.worker
    }
    /// Whether it is pinned to its worker (`spawn_local` on several workers).
    pub fn is_pinned(&self) -> bool {
        self.pinned
    }
}

/// Every live task of a runtime: `ferrio::task::dump()` from a task,
/// `Runtime::dump()` from outside. `Display` prints a table, one task a line:
///
/// ```text
///  id  state      age      polls  busy     last poll  slowest  task                                   waiting on
///   3  idle       1.502s       2  41.0µs   1.501s     39.1µs   'sleeper' at examples/dump.rs:7:22    timer in 58.498s
/// ```
#[derive(Clone, Debug)]
pub struct Dump {
    pub(crate) tasks: Vec<TaskDump>,
}

impl Dump {
    /// The tasks, by id.
    pub fn tasks(&self) -> &[TaskDump] {
        &self.tasks
    }

    /// The task with this id, if it is alive.
    pub fn task(&self, id: u64) -> Option<&TaskDump> {
        self.tasks.iter().find(|t| t.info.id == id)
    }
}

fn dur(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| format!("{d:.3?}"))
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The worker column only for a runtime of several workers.
        let workers = self.tasks.iter().any(|t| t.worker.is_some() || t.pinned);
        let rows: Vec<[String; 10]> = self
            .tasks
            .iter()
            .map(|t| {
                let waits: Vec<String> = t.waits.iter().map(ToString::to_string).collect();
                [
                    t.info.id.to_string(),
                    t.state.to_string(),
                    dur(t.age),
                    t.polls.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                    dur(t.busy),
                    dur(t.since_last_poll),
                    dur(t.slowest_poll),
                    match (t.worker, t.pinned) {
                        (Some(w), true) => format!("{w} pinned"),
                        (Some(w), false) => w.to_string(),
                        (None, _) => "-".to_owned(),
                    },
                    match &t.info.name {
                        Some(name) => format!("'{name}' at {}", t.info.location),
                        None => format!("at {}", t.info.location),
                    },
                    if waits.is_empty() {
                        "-".to_owned()
                    } else {
                        waits.join(", ")
                    },
                ]
            })
            .collect();
        let header = [
            "id",
            "state",
            "age",
            "polls",
            "busy",
            "last poll",
            "slowest",
            "worker",
            "task",
            "waiting on",
        ];
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        writeln!(f, "{} tasks", rows.len())?;
        let line = |f: &mut fmt::Formatter<'_>, cells: &[&str]| -> fmt::Result {
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w.saturating_sub(cell.chars().count());
                match i {
                    7 if !workers => {}
                    // Numbers to the right, text to the left; the last column unpadded.
                    0 | 3 => write!(f, "{}{cell}  ", " ".repeat(pad))?,
                    9 => write!(f, "{cell}")?,
                    _ => write!(f, "{cell}{}  ", " ".repeat(pad))?,
                }
            }
            writeln!(f)
        };
        line(f, &header)?;
        for row in &rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            line(f, &cells)?;
        }
        Ok(())
    }
}

impl fmt::Display for TaskDump {
    /// asyncio's task repr with the state: `<Task idle name='x' id=3 spawned at src/main.rs:4:5>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_repr(f, Some(&self.state.to_string()), &self.info)
    }
}
