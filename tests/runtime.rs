//! The runtime core through the facade, as a user sees it: tasks, gather,
//! timers, timeouts, cancellation, panics, cross-thread wakes, shutdown.

use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use ferrio::time::Instant;

use ferrio::time::{sleep, sleep_until, timeout};

#[test]
fn one_million_spawned_tasks_all_complete() {
    let done = Arc::new(AtomicUsize::new(0));
    let sum = ferrio::run({
        let done = done.clone();
        async move {
            let handles: Vec<_> = (0..1_000_000u64)
                .map(|i| {
                    let done = done.clone();
                    ferrio::spawn(async move {
                        done.fetch_add(1, Ordering::Relaxed);
                        i
                    })
                })
                .collect();
            let mut sum = 0u64;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        }
    });
    assert_eq!(done.load(Ordering::Relaxed), 1_000_000);
    assert_eq!(sum, (0..1_000_000u64).sum::<u64>());
}

#[test]
fn hundred_thousand_concurrent_sleeps_never_fire_early() {
    let early = ferrio::run(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..100_000u64)
            .map(|i| {
                let deadline = start + Duration::from_micros(1_000 + (i * 7919) % 100_000);
                ferrio::spawn(async move {
                    sleep_until(deadline).await;
                    Instant::now() < deadline
                })
            })
            .collect();
        let mut early = 0;
        for handle in handles {
            early += handle.await.unwrap() as usize;
        }
        early
    });
    assert_eq!(early, 0, "timers fired before their deadline");
}

#[test]
fn three_one_second_sleeps_gathered_finish_in_under_two_seconds() {
    let start = Instant::now();
    let out = ferrio::run(ferrio::gather((0..3).map(|i| async move {
        sleep(Duration::from_secs(1)).await;
        i
    })));
    let elapsed = start.elapsed();
    assert_eq!(out, [0, 1, 2]);
    assert!(
        elapsed >= Duration::from_secs(1),
        "finished early: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "sleeps did not overlap: {elapsed:?}"
    );
}

#[test]
fn gather_keeps_input_order_when_futures_finish_in_reverse() {
    let finished = Arc::new(std::sync::Mutex::new(Vec::new()));
    let out = ferrio::run({
        let finished = finished.clone();
        ferrio::gather((0..5u64).map(move |i| {
            let finished = finished.clone();
            async move {
                // 150 ms apart: a loaded machine that wakes the loop late
                // must not find two of them due in one turn.
                sleep(Duration::from_millis((5 - i) * 150)).await;
                finished.lock().unwrap().push(i);
                i * 10
            }
        }))
    });
    assert_eq!(*finished.lock().unwrap(), [4, 3, 2, 1, 0]);
    assert_eq!(out, [0, 10, 20, 30, 40]);
}

#[test]
fn join_macro_awaits_mixed_types() {
    let (a, b, c) = ferrio::run(async {
        ferrio::join!(
            async {
                sleep(Duration::from_millis(5)).await;
                1u8
            },
            async { "two" },
            ferrio::spawn(async { 3.0f64 }),
        )
    });
    assert_eq!((a, b, c.unwrap()), (1, "two", 3.0));
}

#[test]
fn select_returns_the_first_to_finish() {
    ferrio::run(async {
        let slow = Box::pin(sleep(Duration::from_secs(30)));
        let fast = Box::pin(async {
            sleep(Duration::from_millis(5)).await;
            "fast"
        });
        match ferrio::select(fast, slow).await {
            ferrio::Either::Left((v, _)) => assert_eq!(v, "fast"),
            ferrio::Either::Right(_) => panic!("the 30 s sleep won"),
        }
    });
}

struct SetOnDrop(Arc<AtomicUsize>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn timeout_returns_elapsed_and_drops_the_inner_future() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let result = ferrio::run({
        let dropped = dropped.clone();
        async move {
            let guard = SetOnDrop(dropped.clone());
            let inner = async move {
                let _guard = guard;
                sleep(Duration::from_secs(30)).await;
                "never"
            };
            let out = timeout(Duration::from_millis(20), inner).await;
            // Dropped by the time `timeout` returned, not at runtime shutdown.
            assert_eq!(dropped.load(Ordering::SeqCst), 1);
            out
        }
    });
    let elapsed = result.unwrap_err();
    assert_eq!(elapsed.duration(), Duration::from_millis(20));
    assert!(elapsed.to_string().contains("elapsed"));
}

#[test]
fn timeout_passes_through_a_ready_output() {
    // The deadline is checked before the inner future is polled: give the
    // runtime's start-up on a loaded machine room to spare.
    let out = ferrio::run(timeout(Duration::from_secs(10), async { 7 }));
    assert_eq!(out, Ok(7));
}

#[test]
fn abort_gives_a_cancelled_join_error_and_drops_the_future() {
    let dropped = Arc::new(AtomicUsize::new(0));
    ferrio::run({
        let dropped = dropped.clone();
        async move {
            let guard = SetOnDrop(dropped.clone());
            let task = ferrio::spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(30)).await;
            });
            sleep(Duration::from_millis(5)).await;
            assert!(!task.is_finished());
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_cancelled());
            assert!(!err.is_panic());
            assert_eq!(dropped.load(Ordering::SeqCst), 1);
        }
    });
}

#[test]
fn abort_before_the_task_first_runs_cancels_it() {
    ferrio::run(async {
        let ran = Arc::new(AtomicUsize::new(0));
        let task = ferrio::spawn({
            let ran = ran.clone();
            async move {
                ran.fetch_add(1, Ordering::SeqCst);
            }
        });
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn a_panicking_task_gives_a_panic_join_error_and_others_run_on() {
    ferrio::run(async {
        let bad = ferrio::spawn(async {
            sleep(Duration::from_millis(1)).await;
            panic!("boom {}", 42);
        });
        let good = ferrio::spawn(async {
            sleep(Duration::from_millis(20)).await;
            "still here"
        });
        let err = bad.await.unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("boom 42"), "{err}");
        let payload = err.into_panic().unwrap();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        assert_eq!(message, Some("boom 42"));
        assert_eq!(good.await.unwrap(), "still here");
    });
}

#[test]
fn a_waker_moved_to_a_std_thread_wakes_the_task() {
    let out = ferrio::run(async {
        let mut sent = false;
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let value = std::future::poll_fn(move |cx| {
            if rx.try_recv().is_ok() {
                return Poll::Ready("woken from a thread");
            }
            if !sent {
                sent = true;
                let waker = cx.waker().clone();
                let tx = tx.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    tx.send(()).unwrap();
                    waker.wake();
                });
            }
            Poll::Pending
        });
        timeout(Duration::from_secs(10), ferrio::spawn(value)).await
    });
    assert_eq!(out.unwrap().unwrap(), "woken from a thread");
}

#[test]
fn spawn_blocking_runs_on_another_thread() {
    let main_thread = std::thread::current().id();
    let (thread, value) = ferrio::run(async {
        ferrio::spawn_blocking(|| {
            std::thread::sleep(Duration::from_millis(10));
            (std::thread::current().id(), 5)
        })
        .await
        .unwrap()
    });
    assert_ne!(thread, main_thread);
    assert_eq!(value, 5);
}

#[test]
fn spawn_blocking_does_not_block_the_loop() {
    let start = Instant::now();
    ferrio::run(async {
        let blocking = ferrio::spawn_blocking(|| std::thread::sleep(Duration::from_millis(300)));
        // The loop keeps running timers while the blocking function sleeps.
        let ticker = ferrio::spawn(async {
            let mut ticks = 0;
            let mut interval = ferrio::time::interval(Duration::from_millis(10));
            while ticks < 5 {
                interval.tick().await;
                ticks += 1;
            }
            Instant::now()
        });
        let ticked_at = ticker.await.unwrap();
        assert!(
            !blocking.is_finished(),
            "ticks waited for the blocking call"
        );
        blocking.await.unwrap();
        assert!(ticked_at - start < Duration::from_millis(290));
    });
}

#[test]
fn a_panic_in_spawn_blocking_is_a_join_error() {
    let err = ferrio::run(async { ferrio::spawn_blocking(|| panic!("blocking boom")).await })
        .unwrap_err();
    assert!(err.is_panic());
    assert!(err.to_string().contains("blocking boom"));
}

#[test]
fn a_spawn_blocking_panic_names_the_job_and_its_call_site_not_a_huge_id() {
    let (err, debug, line) = ferrio::run(async {
        // Woken by the pool thread when the closure has panicked.
        let job = ferrio::spawn_blocking(|| -> u32 { panic!("disk on fire") });
        let line = line!() - 1;
        let debug = format!("{job:?}");
        let err = timeout(Duration::from_secs(20), job)
            .await
            .expect("the job panics at once")
            .unwrap_err();
        (err, debug, line)
    });
    let text = err.to_string();
    assert!(
        text.starts_with("spawn_blocking job ") && !text.contains("4611686018427387"),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            " (spawned at {}:{line}:19) panicked: disk on fire",
            file!()
        )),
        "{text}"
    );
    assert!(debug.contains("name='spawn_blocking'"), "{debug}");
    assert_eq!(err.panic_message(), Some("disk on fire"));
    // The payload is the closure's own, ready for resume_unwind.
    let payload = err.into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"disk on fire"));
}

#[test]
fn wait_for_cancels_the_task_on_timeout_as_asyncio_does_and_timeout_detaches_it() {
    use ferrio::sync::oneshot;
    use ferrio::time::wait_for;
    ferrio::run(async {
        // asyncio's `await wait_for(task, 0.02)`: the task is cancelled.
        let (tx, cancelled) = oneshot::channel::<()>();
        let slow = ferrio::spawn(async move {
            let _tx = tx; // dropped with the task's future
            sleep(Duration::from_secs(60)).await;
        });
        let elapsed = wait_for(Duration::from_millis(20), slow).await;
        assert!(elapsed.is_err());
        // Woken when the aborted task's future drops `tx`.
        let gone = timeout(Duration::from_secs(20), cancelled)
            .await
            .expect("the task is cancelled at the loop's next turn");
        assert!(gone.is_err(), "the task was dropped, not run to the end");

        // In time: the task's output.
        let fast = ferrio::spawn(async { 7 });
        let done = wait_for(Duration::from_secs(20), fast).await;
        assert_eq!(done.expect("a ready task is in time").unwrap(), 7);

        // `timeout` on the handle only drops the handle: the task runs on.
        let (tx, finished) = oneshot::channel::<()>();
        let detached = ferrio::spawn(async move {
            sleep(Duration::from_millis(60)).await;
            let _ = tx.send(());
        });
        assert!(timeout(Duration::from_millis(10), detached).await.is_err());
        // Woken by the detached task's send, 50 ms later.
        let ran = timeout(Duration::from_secs(20), finished)
            .await
            .expect("the detached task finishes");
        assert_eq!(ran, Ok(()), "timeout detached the task, which ran on");
    });
}

#[test]
fn spawn_local_runs_futures_that_are_not_send() {
    let out = ferrio::run(async {
        let shared = Rc::new(std::cell::Cell::new(1));
        let task = ferrio::spawn_local({
            let shared = shared.clone();
            async move {
                sleep(Duration::from_millis(1)).await;
                shared.set(shared.get() + 1);
                Rc::new(shared.get())
            }
        });
        let rc = task.await.unwrap();
        (*rc, shared.get())
    });
    assert_eq!(out, (2, 2));
}

#[test]
fn dropping_a_runtime_runs_destructors_of_pending_tasks() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let mut rt = ferrio::Runtime::new().unwrap();
    rt.block_on({
        let dropped = dropped.clone();
        async move {
            for _ in 0..10 {
                let guard = SetOnDrop(dropped.clone());
                // Detached: the handle is dropped, the task lives on.
                ferrio::spawn(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                });
            }
            let guard = SetOnDrop(dropped.clone());
            ferrio::spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await;
            });
            ferrio::yield_now().await;
        }
    });
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        0,
        "pending tasks dropped before shutdown"
    );
    let start = Instant::now();
    drop(rt);
    assert_eq!(dropped.load(Ordering::SeqCst), 11);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "shutdown waited for the hour-long sleep"
    );
}

#[test]
fn run_cancels_tasks_left_running_like_asyncio_run() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let out = ferrio::run({
        let dropped = dropped.clone();
        async move {
            let guard = SetOnDrop(dropped);
            ferrio::spawn(async move {
                let _guard = guard;
                sleep(Duration::from_secs(3600)).await;
            });
            "main done"
        }
    });
    assert_eq!(out, "main done");
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[test]
fn run_gives_tasks_ready_when_main_returns_their_first_step_like_asyncio() {
    let stepped = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    ferrio::run({
        let (stepped, dropped) = (stepped.clone(), dropped.clone());
        async move {
            let guard = SetOnDrop(dropped);
            ferrio::spawn(async move {
                let _guard = guard;
                stepped.fetch_add(1, Ordering::SeqCst);
                sleep(Duration::from_secs(3600)).await;
                stepped.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    assert_eq!(
        stepped.load(Ordering::SeqCst),
        1,
        "one step, then cancelled at its await"
    );
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}

#[test]
fn a_busy_task_that_only_yields_does_not_delay_a_timer_much() {
    let lateness = ferrio::run(async {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let busy = ferrio::spawn({
            let stop = stop.clone();
            async move {
                let mut spins = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    spins += 1;
                    ferrio::yield_now().await;
                }
                spins
            }
        });
        let deadline = Instant::now() + Duration::from_millis(10);
        sleep_until(deadline).await;
        let lateness = Instant::now() - deadline;
        stop.store(true, Ordering::Relaxed);
        assert!(busy.await.unwrap() > 0);
        lateness
    });
    // Generous: the point is that the busy task cannot starve the reactor.
    assert!(
        lateness < Duration::from_millis(100),
        "timer was {lateness:?} late"
    );
}

#[test]
fn a_spawned_task_starts_only_when_the_spawner_yields() {
    let order = ferrio::run(async {
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let task = ferrio::spawn({
            let order = order.clone();
            async move { order.lock().unwrap().push("task") }
        });
        order.lock().unwrap().push("main before await");
        task.await.unwrap();
        order.lock().unwrap().push("main after await");
        Arc::try_unwrap(order).unwrap().into_inner().unwrap()
    });
    assert_eq!(order, ["main before await", "task", "main after await"]);
}

#[test]
fn a_detached_task_runs_to_completion() {
    ferrio::run(async {
        let (tx, rx) = ferrio::sync::oneshot::channel();
        drop(ferrio::spawn(async move {
            sleep(Duration::from_millis(5)).await;
            tx.send(9).unwrap();
        }));
        assert_eq!(timeout(Duration::from_secs(5), rx).await.unwrap(), Ok(9));
    });
}

#[test]
fn runtime_spawn_from_another_thread_runs_on_the_loop() {
    // One worker: the loop is this thread (tests/workers.rs covers several).
    let mut rt = ferrio::Runtime::builder().workers(1).build().unwrap();
    let spawner = rt.spawner();
    let loop_thread = std::thread::current().id();
    let handle = std::thread::spawn(move || spawner.spawn(async { std::thread::current().id() }))
        .join()
        .unwrap();
    let ran_on = rt.block_on(async { timeout(Duration::from_secs(5), handle).await });
    assert_eq!(ran_on.unwrap().unwrap(), loop_thread);
}

#[test]
fn runtime_builder_settings_take_effect() {
    let mut rt = ferrio::Runtime::builder()
        .event_interval(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let threads = rt.block_on(async {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                ferrio::spawn_blocking(|| {
                    std::thread::sleep(Duration::from_millis(5));
                    std::thread::current().id()
                })
            })
            .collect();
        let mut ids = Vec::new();
        for h in handles {
            ids.push(h.await.unwrap());
        }
        ids
    });
    assert!(
        threads.iter().all(|t| *t == threads[0]),
        "more than one blocking thread"
    );
}

#[test]
fn idle_blocking_threads_exit_after_their_keep_alive() {
    let mut rt = ferrio::Runtime::builder()
        .max_blocking_threads(3)
        .blocking_keep_alive(Duration::from_millis(50))
        .build()
        .unwrap();
    assert_eq!(rt.blocking_thread_count(), 0, "threads start on demand");
    rt.block_on(async {
        let jobs: Vec<_> = (0..6)
            .map(|_| ferrio::spawn_blocking(|| std::thread::sleep(Duration::from_millis(20))))
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
    });
    let started = rt.blocking_thread_count();
    assert!(
        (1..=3).contains(&started),
        "{started} threads for a cap of 3"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while rt.blocking_thread_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        rt.blocking_thread_count(),
        0,
        "idle threads outlived their keep-alive"
    );
}

#[test]
#[should_panic(expected = "called outside a ferrio runtime")]
fn spawn_outside_a_runtime_panics_with_a_clear_message() {
    drop(ferrio::spawn(async {}));
}

#[test]
#[should_panic(expected = "within a ferrio runtime")]
fn polling_a_sleep_outside_a_runtime_panics_with_a_clear_message() {
    let mut sleep = std::pin::pin!(sleep(Duration::from_millis(1)));
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let _ = std::future::Future::poll(sleep.as_mut(), &mut cx);
}

#[test]
fn timers_made_before_the_runtime_starts_work_inside_it() {
    let out = ferrio::run(timeout(
        Duration::from_millis(5),
        sleep(Duration::from_secs(30)),
    ));
    assert!(out.is_err());
    ferrio::run(sleep(Duration::from_millis(1)));
}

#[test]
#[should_panic(expected = "cannot be called from within a running runtime")]
fn run_inside_a_runtime_is_a_clear_error() {
    ferrio::run(async {
        ferrio::run(async {});
    });
}

#[test]
fn interval_ticks_a_period_apart() {
    ferrio::run(async {
        let mut interval = ferrio::time::interval(Duration::from_millis(10));
        let first = interval.tick().await;
        let start = Instant::now();
        let mut last = first;
        for _ in 0..3 {
            let tick = interval.tick().await;
            assert_eq!(tick - last, Duration::from_millis(10));
            assert!(Instant::now() >= tick);
            last = tick;
        }
        assert!(start.elapsed() >= Duration::from_millis(25));
    });
}

#[test]
fn join_handle_debug_shows_pending_then_finished() {
    ferrio::run(async {
        let task = ferrio::spawn(async { sleep(Duration::from_millis(5)).await });
        assert!(format!("{task:?}").starts_with("<Task pending id="));
        sleep(Duration::from_millis(30)).await;
        assert!(format!("{task:?}").starts_with("<Task finished id="));
        task.await.unwrap();
    });
}
