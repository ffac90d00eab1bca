//! The benchmark workloads, written once against a small [`Rt`] trait and run
//! on ferrio, tokio (current-thread) and smol (`LocalExecutor`), and on their
//! several-thread forms (ferrio `workers(n)`, tokio multi-thread, smol's
//! `Executor` on `n` threads).
//!
//! Each workload runs in its own process (`src/bin/bench.rs`) and prints one
//! `RESULT {...}` line of JSON that `benches/harness.py` collects; the harness
//! runs every workload several times per runtime and reports medians and
//! ratios (see docs/performance.md).
//!
//! Not here: the network workloads' servers and clients (their own binaries)
//! and the Python peers (`benches/py/`).

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub mod rt;
pub mod workloads;

pub use rt::{Ferrio, FerrioMt, Rt, Smol, SmolMt, Tokio, TokioMt};

/// Resident set size of this process, in bytes (`VmRSS` of /proc/self/status).
pub fn rss_bytes() -> u64 {
    rss_of("self")
}

/// Resident set size of process `pid` (`"self"` for this one), in bytes.
pub fn rss_of(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// CPU time (user + system) this process has used so far.
pub fn cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant
    // every Linux kernel supports.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// A result line: `RESULT {"k": v, ...}`, numbers and strings only.
#[derive(Default)]
pub struct Report {
    fields: Vec<(String, String)>,
}

impl Report {
    pub fn new() -> Report {
        Report::default()
    }

    pub fn num(mut self, key: &str, value: impl Into<f64>) -> Report {
        let v: f64 = value.into();
        let text = if v.is_finite() { format!("{v}") } else { "null".into() };
        self.fields.push((key.into(), text));
        self
    }

    pub fn text(mut self, key: &str, value: &str) -> Report {
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        self.fields.push((key.into(), format!("\"{escaped}\"")));
        self
    }

    pub fn print(self) {
        let mut line = String::from("RESULT {");
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if i > 0 {
                line.push_str(", ");
            }
            let _ = write!(line, "\"{k}\": {v}");
        }
        line.push('}');
        println!("{line}");
    }
}

/// Maps a join handle's `Result<T, E>` to `T`, panicking on a join error, so
/// that every runtime's handle awaits to the task's output.
pub struct Unwrap<H>(pub H);

impl<H, T, E> Future for Unwrap<H>
where
    H: Future<Output = Result<T, E>> + Unpin,
    E: std::fmt::Debug,
{
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.0).poll(cx).map(|r| r.expect("a benchmark task failed"))
    }
}

/// Counts tasks that have been polled once (the pending-task workload waits
/// until every task has taken its first step before measuring).
pub static STARTED: AtomicUsize = AtomicUsize::new(0);

pub fn started() -> usize {
    STARTED.load(Ordering::Relaxed)
}

/// Seconds since `start`, as f64.
pub fn secs(start: Instant) -> f64 {
    start.elapsed().as_secs_f64()
}
