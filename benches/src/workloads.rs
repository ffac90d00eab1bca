//! The in-process workloads (1-5 and 9 of docs/performance.md), generic over
//! the runtime. Each returns a [`Report`] with its measurements.

use std::sync::atomic::Ordering;
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
