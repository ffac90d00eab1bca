//! The executor alone, parked on a condvar: no reactor, no mio. Small enough
//! to run under Miri (`cargo +nightly miri test -p ferrio-executor`).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ferrio_executor::{
    spawn, spawn_blocking, spawn_local, yield_now, Config, Executor, Park, ThreadParker, Unpark,
    EVENT_INTERVAL,
};

/// Scales counts down under Miri, which is ~1000x slower.
fn n(full: usize) -> usize {
    if cfg!(miri) {
        (full / 100).max(3)
    } else {
        full
    }
}

#[test]
fn block_on_runs_spawned_tasks_and_returns_main_output() {
    let mut ex = Executor::new(ThreadParker::new());
    let count = n(1000);
    let sum = ex.block_on(async move {
        let handles: Vec<_> = (0..count).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..count).sum::<usize>());
}

/// A future that completes once another thread set a flag and woke it.
struct ThreadWoken {
    flag: Arc<Mutex<bool>>,
    started: bool,
}

impl Future for ThreadWoken {
    type Output = &'static str;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if *self.flag.lock().unwrap() {
            return Poll::Ready("woken");
        }
        if !self.started {
            self.started = true;
            let (flag, waker) = (self.flag.clone(), cx.waker().clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                *flag.lock().unwrap() = true;
                waker.wake();
            });
        }
        Poll::Pending
    }
}

#[test]
fn a_wake_from_another_thread_unparks_the_executor() {
    let mut ex = Executor::new(ThreadParker::new());
    let out = ex.block_on(async {
        let task = spawn(ThreadWoken {
            flag: Arc::default(),
            started: false,
        });
        task.await.unwrap()
    });
    assert_eq!(out, "woken");
}

#[test]
fn the_main_future_can_be_woken_from_another_thread() {
    let mut ex = Executor::new(ThreadParker::new());
    assert_eq!(
        ex.block_on(ThreadWoken {
            flag: Arc::default(),
            started: false
        }),
        "woken"
    );
}

/// Counts its polls; pending until `ready` is set.
struct Counted {
    polls: Arc<AtomicUsize>,
    waker: Arc<Mutex<Option<Waker>>>,
    ready: Arc<AtomicUsize>,
}

impl Future for Counted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.ready.load(Ordering::SeqCst) == 1 {
            return Poll::Ready(());
        }
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn a_task_woken_many_times_before_it_runs_is_polled_once() {
    let mut ex = Executor::new(ThreadParker::new());
    let polls = Arc::new(AtomicUsize::new(0));
    let waker: Arc<Mutex<Option<Waker>>> = Arc::default();
    let ready = Arc::new(AtomicUsize::new(0));
    ex.block_on({
        let (polls, waker, ready) = (Arc::clone(&polls), Arc::clone(&waker), Arc::clone(&ready));
        async move {
            let task = spawn(Counted {
                polls: polls.clone(),
                waker: waker.clone(),
                ready,
            });
            yield_now().await;
            assert_eq!(polls.load(Ordering::SeqCst), 1);
            let w: Waker = waker.lock().unwrap().take().unwrap();
            for _ in 0..5 {
                w.wake_by_ref();
            }
            yield_now().await;
            assert_eq!(polls.load(Ordering::SeqCst), 2, "five wakes, one poll");
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(polls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_completed_task_is_never_polled_again_even_if_woken() {
    let mut ex = Executor::new(ThreadParker::new());
    let polls = Arc::new(AtomicUsize::new(0));
    let waker = Arc::new(Mutex::new(None));
    let ready = Arc::new(AtomicUsize::new(1));
    ex.block_on({
        let (polls, waker) = (polls.clone(), waker.clone());
        async move {
            let task = spawn(async move {
                std::future::poll_fn(|cx| {
                    *waker.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Ready(())
                })
                .await;
                Counted {
                    polls,
                    waker: Arc::default(),
                    ready,
                }
                .await
            });
            task.await.unwrap();
        }
    });
    let stale: Waker = waker.lock().unwrap().take().unwrap();
    ex.block_on(async move {
        stale.wake();
        yield_now().await;
        yield_now().await;
    });
    assert_eq!(polls.load(Ordering::SeqCst), 1);
}

#[test]
fn spawn_local_runs_a_future_that_is_not_send() {
    let mut ex = Executor::new(ThreadParker::new());
    let out = ex.block_on(async {
        let cell = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (0..3)
            .map(|i| {
                let cell = cell.clone();
                spawn_local(async move {
                    yield_now().await;
                    cell.set(cell.get() + i);
                    Rc::new(i)
                })
            })
            .collect();
        let mut outs = Vec::new();
        for t in tasks {
            outs.push(*t.await.unwrap());
        }
        (outs, cell.get())
    });
    assert_eq!(out, (vec![0, 1, 2], 3));
}

#[test]
fn a_local_task_woken_from_another_thread_runs_on_its_owner() {
    let mut ex = Executor::new(ThreadParker::new());
    let owner = std::thread::current().id();
    let ran_on = ex.block_on(async {
        let marker = Rc::new(());
        spawn_local(async move {
            ThreadWoken {
                flag: Arc::default(),
                started: false,
            }
            .await;
            let _still_here = &marker;
            std::thread::current().id()
        })
        .await
        .unwrap()
    });
    assert_eq!(ran_on, owner);
}

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_the_executor_drops_pending_tasks_local_ones_included() {
    let dropped = Arc::new(AtomicUsize::new(0));
    let mut ex = Executor::new(ThreadParker::new());
    ex.block_on({
        let dropped = dropped.clone();
        async move {
            let guard = DropCounter(dropped.clone());
            spawn(async move {
                let _g = guard;
                std::future::pending::<()>().await
            });
            let guard = DropCounter(dropped.clone());
            let _not_send = Rc::new(());
            spawn_local(async move {
                let _g = guard;
                let _rc = _not_send;
                std::future::pending::<()>().await
            });
            // Never polled before shutdown.
            let guard = DropCounter(dropped.clone());
            spawn(async move {
                let _g = guard;
            });
            yield_now().await;
        }
    });
    let guard = DropCounter(dropped.clone());
    let queued = ex.spawn(async move {
        let _g = guard;
    });
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "only the task that completed"
    );
    drop(ex);
    assert_eq!(dropped.load(Ordering::SeqCst), 4);
    // The handle of a task dropped at shutdown reports cancellation.
    let mut ex = Executor::new(ThreadParker::new());
    assert!(ex.block_on(queued).unwrap_err().is_cancelled());
}

#[test]
fn a_panic_is_caught_and_other_tasks_run_on() {
    let mut ex = Executor::new(ThreadParker::new());
    ex.block_on(async {
        let bad = spawn(async { panic!("task panic") });
        let good = spawn(async {
            yield_now().await;
            1
        });
        assert!(bad.await.unwrap_err().is_panic());
        assert_eq!(good.await.unwrap(), 1);
    });
}

#[test]
fn spawn_blocking_runs_off_the_executor_thread() {
    let mut ex = Executor::new(ThreadParker::new());
    let main = std::thread::current().id();
    let id = ex.block_on(async {
        spawn_blocking(|| std::thread::current().id())
            .await
            .unwrap()
    });
    assert_ne!(id, main);
}

/// A parker that records how many task polls happened between parks.
struct CountingPark {
    inner: ThreadParker,
    polls: Arc<AtomicUsize>,
    max_between_parks: Arc<AtomicUsize>,
}

impl Park for CountingPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let polls = self.polls.swap(0, Ordering::SeqCst);
        self.max_between_parks.fetch_max(polls, Ordering::SeqCst);
        self.inner.park(timeout);
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.inner.unparker()
    }
}

#[test]
fn an_always_ready_task_cannot_starve_the_parker() {
    let polls = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let park = CountingPark {
        inner: ThreadParker::new(),
        polls: polls.clone(),
        max_between_parks: max.clone(),
    };
    let mut ex = Executor::with_config(park, Config::default());
    let rounds = n(2000);
    ex.block_on({
        let polls = polls.clone();
        async move {
            let busy: Vec<_> = (0..2)
                .map(|_| {
                    let polls = polls.clone();
                    spawn(async move {
                        for _ in 0..rounds {
                            polls.fetch_add(1, Ordering::SeqCst);
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for b in busy {
                b.await.unwrap();
            }
        }
    });
    let max = max.load(Ordering::SeqCst);
    assert!(max > 0);
    assert!(max <= EVENT_INTERVAL, "{max} polls between two parks");
}

#[test]
fn a_detached_task_runs_to_completion() {
    let mut ex = Executor::new(ThreadParker::new());
    let done = Arc::new(AtomicUsize::new(0));
    ex.block_on({
        let done = done.clone();
        async move {
            drop(spawn({
                let done = done.clone();
                async move {
                    yield_now().await;
                    done.fetch_add(1, Ordering::SeqCst);
                }
            }));
            while done.load(Ordering::SeqCst) == 0 {
                yield_now().await;
            }
        }
    });
    assert_eq!(done.load(Ordering::SeqCst), 1);
}

#[test]
fn spawner_works_from_another_thread_while_the_executor_is_parked() {
    let mut ex = Executor::new(ThreadParker::new());
    let spawner = ex.spawner();
    let out = ex.block_on(async move {
        let handle = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            spawner.spawn(async { 11 })
        })
        .join()
        .unwrap();
        handle.await.unwrap()
    });
    assert_eq!(out, 11);
}

// ---- several workers (MultiExecutor), parked on a condvar: the paths Miri
// checks for the scheduler of several workers, pinned tasks included.

fn multi() -> ferrio_executor::MultiExecutor {
    ferrio_executor::MultiExecutor::new(ThreadParker::new(), 2, Config::default(), None).unwrap()
}

#[test]
fn several_workers_run_send_tasks_and_return_main_output() {
    let mut ex = multi();
    let count = n(200);
    let sum = ex.block_on(async move {
        let handles: Vec<_> = (0..count)
            .map(|i| {
                spawn(async move {
                    yield_now().await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..count).sum::<usize>());
    assert_eq!(ex.task_count(), 0);
}

#[test]
fn pinned_tasks_run_and_drop_on_their_worker_and_shutdown_drops_the_rest_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    struct CountDrop(Arc<AtomicUsize>, std::thread::ThreadId);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            assert_eq!(
                std::thread::current().id(),
                self.1,
                "a pinned future left its thread"
            );
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let mut ex = multi();
    let here = std::thread::current().id();
    let count = n(20);
    ex.block_on({
        let drops = drops.clone();
        async move {
            // Rc: !Send, pinned to this thread (worker 0).
            let seen = Rc::new(Cell::new(0));
            let mut done = Vec::new();
            for _ in 0..count {
                let seen = seen.clone();
                done.push(spawn_local(async move {
                    yield_now().await;
                    assert_eq!(std::thread::current().id(), here);
                    seen.set(seen.get() + 1);
                }));
            }
            for d in done {
                d.await.unwrap();
            }
            assert_eq!(seen.get(), count);
            // Left pending for shutdown: pinned ones hold a !Send guard.
            for _ in 0..count {
                let guard = Rc::new(CountDrop(drops.clone(), here));
                drop(spawn_local(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await
                }));
                let guard = CountDrop(drops.clone(), std::thread::current().id());
                drop(spawn(async move {
                    let _keep = Arc::new(Mutex::new(0));
                    std::future::pending::<()>().await;
                    drop(guard);
                }));
            }
            yield_now().await;
        }
    });
    drop(ex);
    // Only the pinned guards count (the Send futures' guards are dropped
    // on this thread too, at shutdown, after the other worker stopped).
    assert_eq!(drops.load(Ordering::SeqCst), 2 * count);
}
