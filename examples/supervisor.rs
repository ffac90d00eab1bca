//! A supervisor: a `TaskGroup` of workers fed by a channel, a producer, and a
//! child process whose output it watches; on SIGINT (Ctrl-C) or SIGTERM it
//! shuts everything down within a deadline and prints what it had to cancel.
//!
//! The shutdown: one `Event` tells every task to stop. The producer stops at
//! once, each worker finishes the job it is on, the child is sent SIGTERM and
//! its watcher waits for it to exit. The group is joined until the deadline;
//! then dropping the join cancels the tasks still running (the group's
//! promise: no orphans), a child still running is killed on drop, and the
//! report says which. A task that fails (an error or a panic) cancels the
//! whole group at once, as in asyncio.
//!
//! ```text
//! $ cargo run --example supervisor
//! supervisor: 4 workers, child pid 12345; Ctrl-C or SIGTERM to stop
//! ^C
//! supervisor: SIGINT; shutting down within 2s
//! ...
//! ```
//!
//! `tests/supervisor.rs` runs this very code in a child process and sends
//! it the signals.
//!
//! Not here: restarting workers that fail (a panic is reported, not retried).

// This file is also a module of tests/supervisor.rs (through `#[path]`), which
// reads the `pub` items and fields that this binary does not.
#![allow(unreachable_pub)]

use std::io::{self, Write};
use std::pin::pin;
use std::process::{ExitCode, ExitStatus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::io::AsyncBufReadExt;
use ferrio::process::{Child, Command, Stdio};
use ferrio::signal::{signal, SignalKind};
use ferrio::sync::{mpsc, Event};
use ferrio::{Either, TaskGroup};
use futures_util::TryStreamExt;

/// What the supervisor runs. `main` uses the defaults; the test changes them.
#[derive(Clone, Debug)]
pub struct Options {
    /// How many workers take jobs from the channel.
    pub workers: usize,
    /// How long one job takes.
    pub job: Duration,
    /// How often the producer sends a job.
    pub every: Duration,
    /// How long the shutdown may take, from the signal on.
    pub deadline: Duration,
    /// Whether the child ignores SIGTERM (so the deadline must kill it).
    pub stubborn_child: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            workers: 4,
            job: Duration::from_millis(300),
            every: Duration::from_millis(50),
            deadline: Duration::from_secs(2),
            stubborn_child: false,
        }
    }
}

/// What happened, for the caller (and the test) to check.
#[derive(Debug, Default)]
pub struct Report {
    /// The signal that started the shutdown.
    pub signal: Option<SignalKind>,
    /// Jobs finished by the workers that stopped by themselves.
    pub jobs_done: u64,
    /// Workers that stopped by themselves within the deadline.
    pub workers_stopped: usize,
    /// Workers cancelled at the deadline, with the job each was on.
    pub workers_cancelled: Vec<(usize, Option<u64>)>,
    /// How the child ended, if it did by itself (after SIGTERM).
    pub child_status: Option<ExitStatus>,
    /// Whether the child was still running at the deadline, and killed.
    pub child_killed: bool,
    /// How long the shutdown took.
    pub shutdown: Duration,
}

fn main() -> ExitCode {
    env_logger::init();
    let mut out = io::stdout();
    match ferrio::run(run(&Options::default(), &mut out)) {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("supervisor: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a task of the group returns when it stops by itself.
enum Done {
    Producer,
    Worker { id: usize, jobs: u64 },
    Child { status: ExitStatus, lines: u64 },
}

/// What each worker is doing, for the report if it must be cancelled.
#[derive(Default)]
struct WorkerState {
    /// The job it is on (0: none).
    job: AtomicU64,
    /// It stopped by itself.
    stopped: AtomicBool,
}

/// Sends a job every `every` until `stop` is set or nobody receives.
async fn producer(tx: mpsc::Sender<u64>, stop: Arc<Event>, every: Duration) -> io::Result<Done> {
    for job in 1.. {
        let sent = match ferrio::select(pin!(tx.send(job)), pin!(stop.wait())).await {
            Either::Left((sent, _)) => sent,
            Either::Right(((), _)) => break,
        };
        if sent.is_err() || ferrio::time::timeout(every, stop.wait()).await.is_ok() {
            break;
        }
    }
    Ok(Done::Producer)
}

/// Takes jobs until `stop` is set (finishing the job it is on) or the
/// channel closes.
async fn worker(
    id: usize,
    rx: mpsc::Receiver<u64>,
    stop: Arc<Event>,
    job_time: Duration,
    state: Arc<WorkerState>,
) -> io::Result<Done> {
    let mut jobs = 0;
    loop {
        let job = match ferrio::select(pin!(rx.recv()), pin!(stop.wait())).await {
            Either::Left((Ok(job), _)) => job,
            // The channel closed, or the supervisor says stop.
            Either::Left((Err(_), _)) | Either::Right(((), _)) => break,
        };
        state.job.store(job, Ordering::SeqCst);
        ferrio::time::sleep(job_time).await;
        state.job.store(0, Ordering::SeqCst);
        jobs += 1;
    }
    state.stopped.store(true, Ordering::SeqCst);
    Ok(Done::Worker { id, jobs })
}

/// Counts the child's lines; once `stop` is set, sends it SIGTERM and waits
/// for it to exit. Dropped before that (the deadline), it kills the child.
async fn watch_child(
    mut child: Child,
    stop: Arc<Event>,
    exited: Arc<AtomicBool>,
) -> io::Result<Done> {
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let mut lines = ferrio::io::BufReader::new(stdout).lines();
    let mut count = 0;
    let mut stopping = false;
    loop {
        if !stopping {
            match ferrio::select(pin!(lines.try_next()), pin!(stop.wait())).await {
                Either::Left((Ok(Some(_)), _)) => count += 1,
                Either::Left((Ok(None) | Err(_), _)) => break,
                Either::Right(((), _)) => {
                    stopping = true;
                    child.terminate()?;
                }
            }
        } else if !matches!(lines.try_next().await, Ok(Some(_))) {
            break;
        }
    }
    let status = child.wait().await?;
    exited.store(true, Ordering::SeqCst);
    Ok(Done::Child {
        status,
        lines: count,
    })
}

/// The child: prints a heartbeat until it is stopped.
fn start_child(stubborn: bool) -> io::Result<Child> {
    let trap = if stubborn { "trap '' TERM; " } else { "" };
    Command::new("sh")
        .arg("-c")
        .arg(format!("{trap}while :; do echo heartbeat; sleep 0.1; done"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
}

/// Runs the supervisor until SIGINT or SIGTERM, then shuts down and writes
/// what it did to `out`.
///
/// # Errors
///
/// Failing to listen for the signals or to start the child.
pub async fn run(options: &Options, out: &mut impl Write) -> io::Result<Report> {
    // Listen first: a signal sent once we say we run must be seen.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;

    let (tx, rx) = mpsc::channel(options.workers * 2);
    let stop = Arc::new(Event::new());
    let mut group: TaskGroup<Done, io::Error> = TaskGroup::new();
    group.spawn(producer(tx, stop.clone(), options.every));
    let states: Vec<Arc<WorkerState>> = (0..options.workers)
        .map(|id| {
            let state = Arc::new(WorkerState::default());
            group.spawn(worker(
                id,
                rx.clone(),
                stop.clone(),
                options.job,
                state.clone(),
            ));
            state
        })
        .collect();
    drop(rx);
    let child = start_child(options.stubborn_child)?;
    let pid = child.id();
    let child_exited = Arc::new(AtomicBool::new(false));
    group.spawn(watch_child(child, stop.clone(), child_exited.clone()));
    writeln!(
        out,
        "supervisor: {} workers, child pid {pid}; Ctrl-C or SIGTERM to stop",
        options.workers
    )?;
    out.flush()?;

    let received = match ferrio::select(pin!(interrupt.recv()), pin!(terminate.recv())).await {
        Either::Left(_) => SignalKind::interrupt(),
        Either::Right(_) => SignalKind::terminate(),
    };
    let started = Instant::now();
    writeln!(
        out,
        "supervisor: {received}; shutting down within {:?}",
        options.deadline
    )?;
    stop.set();

    let mut report = Report {
        signal: Some(received),
        ..Report::default()
    };
    match ferrio::time::timeout(options.deadline, group.join()).await {
        Ok(Ok(done)) => {
            for task in done {
                match task {
                    Done::Producer => {}
                    Done::Worker { id, jobs } => {
                        log::debug!("worker {id} stopped after {jobs} jobs");
                        report.jobs_done += jobs;
                        report.workers_stopped += 1;
                    }
                    Done::Child { status, lines } => {
                        writeln!(out, "child {pid} ended: {status} after {lines} heartbeats")?;
                        report.child_status = Some(status);
                    }
                }
            }
        }
        Ok(Err(failed)) => writeln!(out, "supervisor: the group failed: {failed}")?,
        Err(_) => {
            // Dropping the join cancelled every task still running.
            for (id, state) in states.iter().enumerate() {
                if state.stopped.load(Ordering::SeqCst) {
                    report.workers_stopped += 1;
                    continue;
                }
                let job = state.job.load(Ordering::SeqCst);
                let job = (job != 0).then_some(job);
                report.workers_cancelled.push((id, job));
                match job {
                    Some(job) => writeln!(out, "cancelled: worker {id} (in job {job})")?,
                    None => writeln!(out, "cancelled: worker {id}")?,
                }
            }
            if !child_exited.load(Ordering::SeqCst) {
                report.child_killed = true;
                writeln!(out, "cancelled: child {pid} (killed)")?;
            }
        }
    }
    report.shutdown = started.elapsed();
    writeln!(
        out,
        "supervisor: stopped in {:?}: {} jobs done, {} workers stopped, {} cancelled",
        report.shutdown,
        report.jobs_done,
        report.workers_stopped,
        report.workers_cancelled.len(),
    )?;
    Ok(report)
}
