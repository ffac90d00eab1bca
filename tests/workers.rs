//! Several workers (`Runtime::builder().workers(n)`), used as a user would:
//! `Send` tasks spread over the workers, `spawn_local` tasks stay where they
//! were spawned, sockets, timers and the HTTP client's limits work from every
//! worker, one worker stuck in a long poll does not stall the others' timers
//! and sockets, and shutdown drops every future once (pinned ones on their
//! own thread). Also the one-worker loop's fairness to wakes from other
//! threads. Every wait has its own deadline.

#[path = "../net/http/tests/http_client_support/mod.rs"]
mod http_client_support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use ferrio::io::{AsyncReadExt, AsyncWriteExt};
use ferrio::net::{TcpListener, TcpStream};
use ferrio::time::{sleep, timeout};
use ferrio::Runtime;
use http_client_support::{ok, serve, Action};

/// What every test allows its own work before it fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(20);

fn runtime(workers: usize) -> Runtime {
    Runtime::builder().workers(workers).build().unwrap()
}

fn block_on<T>(rt: &mut Runtime, f: impl std::future::Future<Output = T>) -> T {
    rt.block_on(timeout(LIMIT, f))
        .expect("the test's own work finished within its limit")
}

#[test]
fn the_worker_count_comes_from_the_builder_then_ferrio_workers_then_one() {
    assert_eq!(runtime(3).workers(), 3);
    assert_eq!(runtime(1).workers(), 1);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(
        runtime(0).workers(),
        cores.max(1).max(if cores > 1 { 2 } else { 1 })
    );
    // This suite runs twice in CI, without FERRIO_WORKERS and with it set to 2.
    let expected = match std::env::var("FERRIO_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(0) => cores,
        Some(n) => n,
        None => 1,
    };
    assert_eq!(Runtime::new().unwrap().workers(), expected);
}

#[test]
fn send_tasks_run_on_several_threads_at_once() {
    let mut rt = runtime(2);
    let started = Instant::now();
    let threads = block_on(&mut rt, async {
        // Blocking sleeps: one worker would need 8 x 100 ms.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                ferrio::spawn(async {
                    std::thread::sleep(Duration::from_millis(100));
                    std::thread::current().id()
                })
            })
            .collect();
        let mut threads = HashSet::new();
        for t in tasks {
            threads.insert(t.await.unwrap());
        }
        threads
    });
    assert_eq!(threads.len(), 2, "both workers ran tasks");
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "two workers take about 400 ms, one 800 ms: took {:?}",
        started.elapsed()
    );
    // A worker publishes its figures when its batch ends: the other worker
    // may still be finishing the batch whose last task woke `main`. The
    // workers run on between `block_on` calls; wait for it, bounded.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut m = rt.metrics().executor;
    while !m.workers.iter().all(|w| w.polls > 0) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
        m = rt.metrics().executor;
    }
    assert_eq!(m.workers.len(), 2);
    assert_eq!(m.workers.iter().map(|w| w.polls).sum::<u64>(), m.polls);
    assert!(m.workers.iter().all(|w| w.polls > 0), "{m:?}");
}

#[test]
fn spawn_local_tasks_never_leave_the_worker_that_spawned_them() {
    let mut rt = runtime(2);
    block_on(&mut rt, async {
        let main_thread = std::thread::current().id();
        // !Send state, from main (worker 0)...
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let locals: Vec<_> = (0..10)
            .map(|_| {
                let seen = seen.clone();
                ferrio::spawn_local(async move {
                    for i in 0..20 {
                        seen.borrow_mut().push(std::thread::current().id());
                        if i % 2 == 0 {
                            ferrio::yield_now().await;
                        } else {
                            sleep(Duration::from_millis(1)).await;
                        }
                    }
                })
            })
            .collect();
        // ...while Send tasks keep the other worker busy and ready to steal.
        let busy: Vec<_> = (0..20)
            .map(|_| {
                ferrio::spawn(async {
                    for _ in 0..50 {
                        ferrio::yield_now().await;
                    }
                })
            })
            .collect();
        for t in locals.into_iter().chain(busy) {
            t.await.unwrap();
        }
        assert_eq!(seen.borrow().len(), 200);
        assert!(seen.borrow().iter().all(|t| *t == main_thread));
        // From a task on any worker: its pinned children stay on its thread.
        let from_tasks: Vec<_> = (0..4)
            .map(|_| {
                ferrio::spawn(async {
                    let home = std::thread::current().id();
                    let child = ferrio::spawn_local(async move {
                        let mut threads = Vec::new();
                        for _ in 0..10 {
                            threads.push(std::thread::current().id());
                            sleep(Duration::from_millis(1)).await;
                        }
                        threads
                    });
                    let threads = child.await.unwrap();
                    threads.iter().all(|t| *t == home)
                })
            })
            .collect();
        for t in from_tasks {
            assert!(t.await.unwrap(), "a pinned task moved");
        }
        let dump = ferrio::task::dump();
        assert!(dump.tasks().iter().all(|t| !t.is_pinned()), "all finished");
    });
}

#[test]
fn the_dump_shows_pinned_tasks_with_their_worker() {
    let mut rt = runtime(2);
    let pinned = block_on(&mut rt, async {
        let pinned = ferrio::spawn_local(std::future::pending::<()>());
        let free = ferrio::spawn(std::future::pending::<()>());
        ferrio::yield_now().await;
        sleep(Duration::from_millis(5)).await;
        let dump = ferrio::task::dump();
        let p = dump
            .task(pinned.id())
            .expect("the pinned task is in the dump");
        assert!(p.is_pinned());
        assert_eq!(p.worker(), Some(0));
        assert!(!dump.task(free.id()).unwrap().is_pinned());
        assert!(format!("{dump}").contains("0 pinned"), "{dump}");
        pinned.id()
    });
    assert!(rt.dump().task(pinned).unwrap().is_pinned());
}

#[test]
fn handle_spawn_call_soon_and_spawn_blocking_work_from_every_thread() {
    let mut rt = runtime(2);
    let handle = rt.handle();
    let from_thread = std::thread::spawn(move || handle.spawn(async { 6 * 7 }))
        .join()
        .unwrap();
    let (workers, ran_on) = block_on(&mut rt, async move {
        assert_eq!(from_thread.await.unwrap(), 42);
        let blocking: Vec<_> = (0..8)
            .map(|i| {
                ferrio::spawn(async move { ferrio::spawn_blocking(move || i * 2).await.unwrap() })
            })
            .collect();
        let mut sum = 0;
        for t in blocking {
            sum += t.await.unwrap();
        }
        assert_eq!(sum, 56);
        let handle = ferrio::Handle::current();
        let (tx, rx) = ferrio::sync::oneshot::channel();
        std::thread::spawn(move || {
            handle.call_soon(move || {
                tx.send(std::thread::current().name().map(str::to_owned))
                    .unwrap()
            });
        });
        let ran_on = rx.await.unwrap();
        (ferrio::metrics().executor.workers.len(), ran_on)
    });
    assert_eq!(workers, 2);
    let ran_on = ran_on.unwrap_or_default();
    assert!(
        ran_on.starts_with("ferrio-worker-") || ran_on.contains("handle_spawn"),
        "call_soon ran on a worker, not on {ran_on:?}"
    );
}

#[test]
fn a_worker_stuck_in_a_long_poll_does_not_stall_the_others_timers_and_sockets() {
    let mut rt = runtime(2);
    block_on(&mut rt, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = ferrio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 64];
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                s.write_all(&buf[..n]).await.unwrap();
            }
        });
        let blocking = Arc::new(AtomicBool::new(false));
        let blocker = ferrio::spawn({
            let blocking = blocking.clone();
            async move {
                sleep(Duration::from_millis(30)).await;
                blocking.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(400)); // stuck in one poll
                blocking.store(false, Ordering::SeqCst);
            }
        });
        let timers = ferrio::spawn({
            let blocking = blocking.clone();
            async move {
                let mut worst = Duration::ZERO;
                let mut during = 0;
                let end = Instant::now() + Duration::from_millis(350);
                while Instant::now() < end {
                    let t = Instant::now();
                    sleep(Duration::from_millis(10)).await;
                    if blocking.load(Ordering::SeqCst) {
                        during += 1;
                        worst = worst.max(t.elapsed());
                    }
                }
                (worst, during)
            }
        });
        let echo = ferrio::spawn({
            let blocking = blocking.clone();
            async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                let mut worst = Duration::ZERO;
                let mut during = 0;
                let end = Instant::now() + Duration::from_millis(350);
                while Instant::now() < end {
                    let t = Instant::now();
                    s.write_all(b"ping").await.unwrap();
                    let mut b = [0u8; 4];
                    s.read_exact(&mut b).await.unwrap();
                    if blocking.load(Ordering::SeqCst) {
                        during += 1;
                        worst = worst.max(t.elapsed());
                    }
                    sleep(Duration::from_millis(2)).await;
                }
                (worst, during)
            }
        });
        let (timer_worst, timer_n) = timers.await.unwrap();
        let (echo_worst, echo_n) = echo.await.unwrap();
        blocker.await.unwrap();
        server.await.unwrap();
        assert!(
            timer_n >= 5 && echo_n >= 5,
            "measured while blocked: {timer_n} sleeps, {echo_n} echoes"
        );
        // A stalled reactor would show about 400 ms here.
        assert!(
            timer_worst < Duration::from_millis(150),
            "a 10 ms sleep took {timer_worst:?}"
        );
        assert!(
            echo_worst < Duration::from_millis(150),
            "an echo took {echo_worst:?}"
        );
    });
}

#[test]
fn a_client_shared_by_tasks_on_every_worker_keeps_its_connection_limit() {
    let mut rt = runtime(2);
    block_on(&mut rt, async {
        let server = serve(|r| {
            Action::Delay(
                Duration::from_millis(10),
                Box::new(Action::Reply(ok(&r.target))),
            )
        })
        .await;
        let client = ferrio::http::Client::builder().limit(5).build().unwrap();
        let threads = Arc::new(Mutex::new(HashSet::<ThreadId>::new()));
        let tasks: Vec<_> = (0..60)
            .map(|i| {
                let (client, url, threads) = (
                    client.clone(),
                    server.url(&format!("/p/{i}")),
                    threads.clone(),
                );
                ferrio::spawn(async move {
                    let body = client.get(url).send().await?.text().await;
                    threads.lock().unwrap().insert(std::thread::current().id());
                    body
                })
            })
            .collect();
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap().unwrap(), format!("/p/{i}"));
        }
        assert_eq!(server.stats.max_open(), 5, "the limit holds across workers");
        assert_eq!(server.stats.accepted(), 5, "and connections are reused");
        assert_eq!(
            threads.lock().unwrap().len(),
            2,
            "both workers sent requests"
        );
    });
}

/// Counts its drops and remembers the thread of each.
struct Guard {
    drops: Arc<Mutex<Vec<ThreadId>>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.drops.lock().unwrap().push(std::thread::current().id());
    }
}

#[test]
fn dropping_the_runtime_drops_every_future_once_and_pinned_ones_on_their_thread() {
    let send_drops = Arc::new(Mutex::new(Vec::new()));
    let pinned_drops = Arc::new(Mutex::new(Vec::new()));
    let homes = Arc::new(Mutex::new(Vec::new()));
    let mut rt = runtime(2);
    block_on(&mut rt, async {
        for _ in 0..100 {
            let guard = Guard {
                drops: send_drops.clone(),
            };
            ferrio::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
        }
        // Tasks that each pin a child to the worker they run on.
        let parents: Vec<_> = (0..8)
            .map(|_| {
                let (pinned_drops, homes) = (pinned_drops.clone(), homes.clone());
                ferrio::spawn(async move {
                    homes.lock().unwrap().push(std::thread::current().id());
                    let guard = Guard {
                        drops: pinned_drops,
                    };
                    let not_send = std::rc::Rc::new(guard);
                    drop(ferrio::spawn_local(async move {
                        let _keep = not_send;
                        std::future::pending::<()>().await
                    }));
                })
            })
            .collect();
        for p in parents {
            p.await.unwrap();
        }
        sleep(Duration::from_millis(10)).await;
        assert_eq!(rt_tasks(), 108);
    });
    assert_eq!(rt.task_count(), 108);
    drop(rt);
    assert_eq!(
        send_drops.lock().unwrap().len(),
        100,
        "each Send future dropped once"
    );
    let pinned = pinned_drops.lock().unwrap().clone();
    let mut homes = homes.lock().unwrap().clone();
    assert_eq!(pinned.len(), 8, "each pinned future dropped once");
    let mut pinned = pinned;
    pinned.sort_by_key(|t| format!("{t:?}"));
    homes.sort_by_key(|t| format!("{t:?}"));
    assert_eq!(
        pinned, homes,
        "each pinned future dropped on its own worker's thread"
    );
}

fn rt_tasks() -> u64 {
    ferrio::metrics().executor.tasks_alive
}

/// Tasks that yield in a loop keep the local queue non-empty; a result from
/// another thread must still reach its waiter within a bounded number of
/// polls, on one worker and on several.
fn a_blocking_result_reaches_its_waiter_while_tasks_stay_ready(workers: usize) {
    let mut rt = runtime(workers);
    let done = Arc::new(AtomicBool::new(false));
    let gave_up = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    block_on(&mut rt, async {
        let spinners: Vec<_> = (0..4)
            .map(|_| {
                let (done, gave_up) = (done.clone(), gave_up.clone());
                ferrio::spawn(async move {
                    let deadline = Instant::now() + Duration::from_secs(5);
                    while !done.load(Ordering::SeqCst) {
                        if Instant::now() > deadline {
                            gave_up.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        ferrio::yield_now().await;
                    }
                })
            })
            .collect();
        let waiter = ferrio::spawn({
            let done = done.clone();
            async move {
                let v = ferrio::spawn_blocking(|| {
                    std::thread::sleep(Duration::from_millis(20));
                    42
                })
                .await
                .unwrap();
                done.store(true, Ordering::SeqCst);
                v
            }
        });
        assert_eq!(waiter.await.unwrap(), 42);
        for s in spinners {
            s.await.unwrap();
        }
    });
    assert_eq!(
        gave_up.load(Ordering::SeqCst),
        0,
        "the result waited behind ready tasks"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn one_worker_delivers_a_blocking_result_while_other_tasks_stay_ready() {
    a_blocking_result_reaches_its_waiter_while_tasks_stay_ready(1);
}

#[test]
fn two_workers_deliver_a_blocking_result_while_other_tasks_stay_ready() {
    a_blocking_result_reaches_its_waiter_while_tasks_stay_ready(2);
}

#[ferrio::test(workers = 2, timeout_ms = 20000)]
async fn the_test_macro_takes_a_worker_count() {
    assert_eq!(ferrio::metrics().executor.workers.len(), 2);
    let a = ferrio::spawn(async { std::thread::current().id() });
    a.await.unwrap();
}

#[test]
fn a_runtime_of_several_workers_is_reused_across_block_on_calls() {
    let mut rt = runtime(2);
    let counter = Arc::new(AtomicUsize::new(0));
    for round in 1..=3 {
        let counter = counter.clone();
        let n = block_on(&mut rt, async move {
            let tasks: Vec<_> = (0..50)
                .map(|_| {
                    let counter = counter.clone();
                    ferrio::spawn(async move {
                        sleep(Duration::from_millis(1)).await;
                        counter.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            counter.load(Ordering::SeqCst)
        });
        assert_eq!(n, 50 * round);
    }
    assert_eq!(rt.task_count(), 0);
    assert_eq!(rt.io_source_count(), 0);
}

#[test]
fn tasks_go_on_running_on_the_other_workers_between_block_on_calls() {
    let mut rt = runtime(2);
    let done = Arc::new(AtomicBool::new(false));
    block_on(&mut rt, {
        let done = done.clone();
        async move {
            let (tx, rx) = ferrio::sync::oneshot::channel::<()>();
            ferrio::spawn(async move {
                rx.await.unwrap();
                sleep(Duration::from_millis(10)).await;
                done.store(true, Ordering::SeqCst);
            });
            // It starts and waits on the channel; the other worker parks.
            sleep(Duration::from_millis(50)).await;
            tx.send(()).unwrap(); // woken here, on worker 0, as main returns
        }
    });
    // No block_on runs now: worker 1 finishes the task.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        done.load(Ordering::SeqCst),
        "the task ran while no block_on was running"
    );
    // It completes just after it set the flag.
    let deadline = Instant::now() + Duration::from_secs(5);
    while rt.task_count() != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(rt.task_count(), 0);
}

#[test]
fn another_workers_timer_fires_after_block_on_returns_from_the_driver() {
    // Worker 0 sleeps in the driver for main; the other worker, busy when
    // worker 0 parked, then waits on a timer on its condvar. When main's
    // timer wakes worker 0 and block_on returns, the driver's watch must pass
    // to the other worker, or its timer never fires.
    let mut rt = runtime(2);
    let done = Arc::new(AtomicBool::new(false));
    block_on(&mut rt, {
        let done = done.clone();
        async move {
            ferrio::spawn(async move {
                let spin = Instant::now() + Duration::from_millis(30);
                while Instant::now() < spin {
                    std::hint::spin_loop();
                }
                sleep(Duration::from_millis(100)).await;
                done.store(true, Ordering::SeqCst);
            });
            // Hold worker 0 in this poll, so the other worker takes the task.
            std::thread::sleep(Duration::from_millis(5));
            sleep(Duration::from_millis(50)).await;
        }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        done.load(Ordering::SeqCst),
        "the other worker's 100 ms timer fired while no block_on ran"
    );
}
