//! A supervisor: a group of workers fed by a queue, a producer, and a child
//! process whose output it watches; on SIGINT (Ctrl-C) or SIGTERM it shuts
//! everything down within a deadline and prints what it had to cancel.
//!
//! The shutdown, in order: stop the producer, ask the workers to stop (each
//! finishes the job it is on), send the child SIGTERM; then wait for all of
//! them until the deadline. A worker still busy at the deadline is cancelled,
//! a child still running is killed, and the report says so.
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
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrio::io::AsyncBufReadExt;
use ferrio::process::{Child, Command, Stdio};
use ferrio::signal::{signal, SignalKind};
use ferrio::sync::{Event, Queue};
use ferrio::{Either, JoinHandle};
use futures_util::TryStreamExt;

/// What the supervisor runs. `main` uses the defaults; the test changes them.
#[derive(Clone, Debug)]
pub struct Options {
    /// How many workers take jobs from the queue.
    pub workers: usize,
    /// How long one job takes.
    pub job: Duration,
    /// How often the producer queues a job.
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
    /// Jobs finished by all workers.
    pub jobs_done: u64,
    /// Workers that stopped by themselves within the deadline.
    pub workers_stopped: usize,
    /// Workers cancelled at the deadline, with the job each was on.
    pub workers_cancelled: Vec<(usize, Option<u64>)>,
    /// Lines the child printed.
    pub child_lines: usize,
    /// How the child ended: terminated by SIGTERM, or killed at the deadline.
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

/// One worker: takes jobs until asked to stop, finishing the job it is on.
/// `current` says which job that is (0: none), for the report.
async fn worker(
    queue: Queue<u64>,
    stop: Arc<Event>,
    job: Duration,
    current: Arc<AtomicU64>,
) -> u64 {
    let mut done = 0;
    loop {
        let next = match ferrio::select(pin!(queue.get()), pin!(stop.wait())).await {
            Either::Left((next, _)) => next,
            Either::Right(((), _)) => return done,
        };
        current.store(next, Ordering::SeqCst);
        ferrio::time::sleep(job).await;
        current.store(0, Ordering::SeqCst);
        let _ = queue.task_done();
        done += 1;
    }
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

    let queue: Queue<u64> = Queue::bounded(options.workers * 2);
    let stop = Arc::new(Event::new());
    let producer = ferrio::spawn({
        let (queue, every) = (queue.clone(), options.every);
        async move {
            for job in 1.. {
                queue.put(job).await;
                ferrio::time::sleep(every).await;
            }
        }
    });
    let workers: Vec<(Arc<AtomicU64>, JoinHandle<u64>)> = (0..options.workers)
        .map(|_| {
            let current = Arc::new(AtomicU64::new(0));
            let task = worker(queue.clone(), stop.clone(), options.job, current.clone());
            (current, ferrio::spawn(task))
        })
        .collect();

    let mut child = start_child(options.stubborn_child)?;
    let stdout = child.stdout.take().expect("the child's stdout is piped");
    let watcher = ferrio::spawn(async move {
        let mut lines = ferrio::io::BufReader::new(stdout).lines();
        let mut count = 0;
        while let Ok(Some(_)) = lines.try_next().await {
            count += 1;
        }
        count
    });
    writeln!(
        out,
        "supervisor: {} workers, child pid {}; Ctrl-C or SIGTERM to stop",
        options.workers,
        child.id()
    )?;
    out.flush()?;

    let received = match ferrio::select(pin!(interrupt.recv()), pin!(terminate.recv())).await {
        Either::Left(_) => SignalKind::interrupt(),
        Either::Right(_) => SignalKind::terminate(),
    };
    let started = Instant::now();
    let deadline = started + options.deadline;
    writeln!(
        out,
        "supervisor: {received}; shutting down within {:?}",
        options.deadline
    )?;

    producer.abort();
    stop.set();
    if let Err(e) = child.terminate() {
        log::warn!("cannot send SIGTERM to the child: {e}");
    }

    let mut report = Report {
        signal: Some(received),
        ..Report::default()
    };
    for (id, (current, mut task)) in workers.into_iter().enumerate() {
        match ferrio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(done)) => {
                report.jobs_done += done;
                report.workers_stopped += 1;
            }
            Ok(Err(e)) => writeln!(out, "supervisor: worker {id} failed: {e}")?,
            Err(_) => {
                task.abort();
                let job = current.load(Ordering::SeqCst);
                let job = (job != 0).then_some(job);
                report.workers_cancelled.push((id, job));
                match job {
                    Some(job) => writeln!(out, "cancelled: worker {id} (in job {job})")?,
                    None => writeln!(out, "cancelled: worker {id}")?,
                }
            }
        }
    }
    let pid = child.id();
    match ferrio::time::timeout_at(deadline, child.wait()).await {
        Ok(status) => writeln!(out, "child {pid} ended: {}", status?)?,
        Err(_) => {
            let status = child.kill().await?;
            report.child_killed = true;
            writeln!(out, "cancelled: child {pid} (killed: {status})")?;
        }
    }
    // The child's pipe closed when it exited: the watcher ends by itself.
    report.child_lines = watcher.await.unwrap_or(0);
    report.shutdown = started.elapsed();
    writeln!(
        out,
        "supervisor: stopped in {:?}: {} jobs done, {} workers stopped, {} cancelled, {} heartbeats",
        report.shutdown,
        report.jobs_done,
        report.workers_stopped,
        report.workers_cancelled.len(),
        report.child_lines
    )?;
    Ok(report)
}
