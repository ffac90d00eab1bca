//! The in-process workloads (1-5 and 9 of docs/performance.md, and the
//! several-worker `cpu_fanout` of benches/results/multicore.md), generic over
//! the runtime. Each returns a [`Report`] with its measurements.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Barrier};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::{cpu_time, rss_bytes, secs, started, Report, Rt, STARTED};

/// 1. Spawn `n` no-op tasks, then join them all, in spawn order.
pub fn spawn_many<R: Rt>(n: usize) -> Report {
    let elapsed = R::block_on(async move {
        let start = Instant::now();
        let mut handles = Vec::with_capacity(n);
        for _ in 0..n {
            handles.push(R::spawn(async {}));
        }
        for handle in handles {
            handle.await;
        }
        secs(start)
    });
    Report::new().num("secs", elapsed).num("ns_per_op", elapsed * 1e9 / n as f64)
}

/// 2. `tasks` tasks each yield `yields` times; all joined.
pub fn yield_many<R: Rt>(tasks: usize, yields: usize) -> Report {
    let elapsed = R::block_on(async move {
        let start = Instant::now();
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                R::spawn(async move {
                    for _ in 0..yields {
                        R::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await;
        }
        secs(start)
    });
    let ops = (tasks * yields) as f64;
    Report::new().num("secs", elapsed).num("ns_per_op", elapsed * 1e9 / ops)
}

/// 3. Two tasks bounce a counter back and forth `round_trips` times through
/// two `async_channel::bounded(1)` channels (runtime-neutral: the same
/// channel type on every runtime, so this measures wake + schedule + poll).
pub fn ping_pong<R: Rt>(round_trips: usize) -> Report {
    let elapsed = R::block_on(async move {
        let (to_pong, from_ping) = async_channel::bounded::<usize>(1);
        let (to_ping, from_pong) = async_channel::bounded::<usize>(1);
        let start = Instant::now();
        let pong = R::spawn(async move {
            while let Ok(v) = from_ping.recv().await {
                if to_ping.send(v + 1).await.is_err() {
                    break;
                }
            }
        });
        let ping = R::spawn(async move {
            let mut v = 0;
            for _ in 0..round_trips {
                to_pong.send(v).await.expect("pong alive");
                v = from_pong.recv().await.expect("pong alive");
            }
            drop(to_pong);
            v
        });
        let v = ping.await;
        pong.await;
        assert_eq!(v, round_trips);
        secs(start)
    });
    Report::new().num("secs", elapsed).num("ns_per_op", elapsed * 1e9 / round_trips as f64)
}

/// 4. Each task spawns the next, `depth` deep; the last one signals the end
/// through an `async_channel` (runtime-neutral, as in `ping_pong`).
pub fn chained_spawn<R: Rt>(depth: usize) -> Report {
    fn link<R: Rt>(left: usize, done: async_channel::Sender<()>) {
        if left == 0 {
            done.try_send(()).expect("the receiver waits");
        } else {
            R::detach(async move { link::<R>(left - 1, done) });
        }
    }
    let elapsed = R::block_on(async move {
        let (done, finished) = async_channel::bounded(1);
        let start = Instant::now();
        link::<R>(depth, done);
        finished.recv().await.expect("the chain finishes");
        secs(start)
    });
    Report::new().num("secs", elapsed).num("ns_per_op", elapsed * 1e9 / depth as f64)
}

/// 5. `n` tasks each sleep for 1..=100 ms (spread evenly, interleaved), each
/// measuring how late its wake-up came against its deadline.
///
/// With `offset_ms == 0` each task's deadline is 1..=100 ms after its own
/// first poll: the timers are armed while the others are still being spawned
/// and polled, so lateness includes that queueing. With `offset_ms > 0` every
/// deadline is `start + offset + 1..=100 ms` (start: before the first spawn),
/// so all timers are armed before the first one is due and lateness measures
/// how precisely the timers fire under a load of 1,000 expiries per ms.
pub fn timers<R: Rt>(n: usize, offset_ms: u64) -> Report {
    let (wall, cpu, mut late_ns, early) = R::block_on(async move {
        let start = Instant::now();
        let cpu0 = cpu_time();
        let handles: Vec<_> = (0..n)
            .map(|i| {
                // A multiplicative stride spreads consecutive tasks over the range.
                let ms = 1 + (i * 37) % 100;
                let offset = Duration::from_millis(offset_ms);
                R::spawn(async move {
                    let base = if offset_ms == 0 { Instant::now() } else { start + offset };
                    let deadline = base + Duration::from_millis(ms as u64);
                    R::sleep_until(deadline).await;
                    let now = Instant::now();
                    match now.checked_duration_since(deadline) {
                        Some(late) => (late.as_nanos() as u64, false),
                        None => (0, true),
                    }
                })
            })
            .collect();
        let mut late = Vec::with_capacity(n);
        let mut early = 0u64;
        for handle in handles {
            let (ns, was_early) = handle.await;
            late.push(ns);
            early += was_early as u64;
        }
        (secs(start), (cpu_time() - cpu0).as_secs_f64(), late, early)
    });
    late_ns.sort_unstable();
    let pct = |p: f64| {
        let rank = ((late_ns.len() as f64 * p / 100.0).ceil() as usize).clamp(1, late_ns.len());
        late_ns[rank - 1] as f64 / 1e6
    };
    Report::new()
        .num("secs", wall)
        .num("cpu_secs", cpu)
        .num("late_p50_ms", pct(50.0))
        .num("late_p99_ms", pct(99.0))
        .num("late_max_ms", *late_ns.last().unwrap_or(&0) as f64 / 1e6)
        .num("early", early as f64)
}

/// 9. RSS growth for `n` tasks each awaiting a future that never completes,
/// measured once every task has been polled once.
pub fn pending_tasks<R: Rt>(n: usize) -> Report {
    R::block_on(async move {
        // Let the runtime finish setting itself up before the baseline.
        R::yield_now().await;
        let before = rss_bytes();
        let start = Instant::now();
        for _ in 0..n {
            R::detach(async {
                STARTED.fetch_add(1, Ordering::Relaxed);
                std::future::pending::<()>().await;
            });
        }
        while started() < n {
            R::yield_now().await;
        }
        let elapsed = secs(start);
        let after = rss_bytes();
        let per_task = (after.saturating_sub(before)) as f64 / n as f64;
        Report::new()
            .num("secs", elapsed)
            .num("rss_before_mb", before as f64 / 1048576.0)
            .num("rss_after_mb", after as f64 / 1048576.0)
            .num("bytes_per_task", per_task)
    })
}

/// The CPU work of `cpu_fanout`: a dependent chain of multiply, add and
/// xor-shift, `iters` long, the same on every thread and every run (its
/// result checks that each task ran whole).
pub fn spin(iters: u64) -> u64 {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..black_box(iters) {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        x ^= x >> 29;
    }
    black_box(x)
}

/// Seconds per iteration of [`spin`] on this thread: the fastest of 7
/// timings of 2 M iterations (measured before any runtime starts).
pub fn spin_secs_per_iter() -> f64 {
    const PROBE: u64 = 2_000_000;
    let best = (0..7)
        .map(|_| {
            let t = Instant::now();
            spin(PROBE);
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    best / PROBE as f64
}

/// The iterations of a `cpu_fanout` unit: `iters` if given (so that a series
/// of runs does the same work), else those that take [`TASK_US`] here; and
/// the seconds per iteration measured here.
fn unit_iters(iters: Option<u64>) -> (u64, f64) {
    let per_iter = spin_secs_per_iter();
    let iters = iters.unwrap_or(((TASK_US * 1e-6) / per_iter).round().max(1.0) as u64);
    (iters, per_iter)
}

/// How many units of work task `i` does: 1, or 100 for about 1% of the tasks
/// when `skewed` (chosen by a hash of `i`, so they fall on no pattern of the
/// round-robin assignment of `cpu_fanout_nxct`).
fn units(i: usize, skewed: bool) -> u64 {
    if !skewed {
        return 1;
    }
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    if z % 100 == 0 {
        100
    } else {
        1
    }
}

/// What one `cpu_fanout` task returns: its units, its result, its thread.
type Done = (u64, u64, ThreadId);

/// The checks and the report of `cpu_fanout` and `cpu_fanout_nxct`.
fn fanout_report(
    n: usize,
    skewed: bool,
    (iters, per_iter): (u64, f64),
    workers: usize,
    wall: f64,
    cpu: f64,
    done: Vec<Done>,
) -> Report {
    assert_eq!(done.len(), n, "cpu_fanout: {} of {n} tasks returned", done.len());
    let (one, hundred) = (spin(iters), spin(iters * 100));
    let mut per_thread: HashMap<ThreadId, u64> = HashMap::new();
    let mut total = 0;
    let mut long = 0;
    for (i, &(u, v, thread)) in done.iter().enumerate() {
        assert_eq!(u, units(i, skewed), "cpu_fanout: task {i} did the wrong work");
        assert_eq!(v, if u == 1 { one } else { hundred }, "cpu_fanout: task {i}: wrong result");
        *per_thread.entry(thread).or_default() += u;
        total += u;
        long += (u > 1) as u64;
    }
    // At the speed measured before the run: the busy time of one thread.
    let work = total as f64 * iters as f64 * per_iter;
    let max_share = *per_thread.values().max().unwrap_or(&0) as f64 / total as f64;
    Report::new()
        .num("secs", wall)
        .num("cpu_secs", cpu)
        .num("ideal_secs", work / workers as f64)
        .num("efficiency", work / workers as f64 / wall)
        .num("workers", workers as f64)
        .num("threads_used", per_thread.len() as f64)
        .num("max_thread_share", max_share)
        .num("long_tasks", long as f64)
        .num("iters_per_task", iters as f64)
        .num("us_per_task", iters as f64 * per_iter * 1e6)
}

/// The CPU time of one unit of `cpu_fanout` work, in µs.
const TASK_US: f64 = 50.0;

/// `n` tasks each spin for about 50 µs of CPU (`iters` iterations, or as many
/// as take 50 µs, calibrated before the runtime starts), spawned from the
/// main future and joined in order; with `skewed`, about 1% of them spin 100
/// times longer.
pub fn cpu_fanout<R: Rt>(n: usize, skewed: bool, iters: Option<u64>) -> Report {
    let unit = unit_iters(iters);
    let iters = unit.0;
    let (wall, cpu, done) = R::block_on(async move {
        let start = Instant::now();
        let cpu0 = cpu_time();
        let handles: Vec<_> = (0..n)
            .map(|i| {
                R::spawn(async move {
                    let u = units(i, skewed);
                    (u, spin(iters * u), std::thread::current().id())
                })
            })
            .collect();
        let mut done = Vec::with_capacity(n);
        for handle in handles {
            done.push(handle.await);
        }
        (secs(start), (cpu_time() - cpu0).as_secs_f64(), done)
    });
    fanout_report(n, skewed, unit, R::workers(), wall, cpu, done)
}

/// [`cpu_fanout`] on `workers` tokio current-thread runtimes, one per thread, with no
/// stealing: task `i` goes to runtime `i % workers`, which spawns its share
/// and joins it. Timed from a barrier that every runtime has reached (built)
/// to the last thread's end.
pub fn cpu_fanout_nxct(n: usize, skewed: bool, iters: Option<u64>, workers: usize) -> Report {
    let unit = unit_iters(iters);
    let iters = unit.0;
    let barrier = Arc::new(Barrier::new(workers + 1));
    let threads: Vec<_> = (0..workers)
        .map(|w| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime");
                barrier.wait();
                rt.block_on(async move {
                    let handles: Vec<_> = (w..n)
                        .step_by(workers)
                        .map(|i| {
                            tokio::spawn(async move {
                                let u = units(i, skewed);
                                (i, (u, spin(iters * u), std::thread::current().id()))
                            })
                        })
                        .collect();
                    let mut done = Vec::with_capacity(handles.len());
                    for handle in handles {
                        done.push(handle.await.expect("a benchmark task failed"));
                    }
                    done
                })
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let cpu0 = cpu_time();
    let mut done: Vec<(usize, Done)> = Vec::with_capacity(n);
    for t in threads {
        done.extend(t.join().expect("a runtime thread panicked"));
    }
    let (wall, cpu) = (secs(start), (cpu_time() - cpu0).as_secs_f64());
    done.sort_unstable_by_key(|&(i, _)| i);
    let done = done.into_iter().map(|(_, d)| d).collect();
    fanout_report(n, skewed, unit, workers, wall, cpu, done)
}
