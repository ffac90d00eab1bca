//! loom models of the several-worker scheduler (executor/src/workers/): a
//! wake during a poll while another worker could run the task, a spawn racing
//! the other worker's park (no lost wakeup), a wake from a third thread while
//! both workers park, the driver handed between the workers while a third
//! thread arms a timer in it, and shutdown against a spawn from another
//! thread (each future dropped exactly once). Each model runs the real `MultiExecutor`
//! with two workers through its public API, parked on a `ThreadParker` as
//! the shared driver; under `--cfg loom` the worker thread is a loom thread
//! and the queues, idle set, parkers and state word use loom's primitives, so
//! a lost wakeup is a deadlock loom reports.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p
//! ferrio-executor --release --test loom_workers -- --nocapture`.
#![cfg(loom)]

use std::future::poll_fn;
use std::task::{Poll, Waker};

use ferrio_executor::{spawn, Config, MultiExecutor, ThreadParker};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

#[path = "../../reactor/src/testing/loom_check.rs"]
mod loom_check;

/// Runs `model` at the bound `LOOM_MAX_PREEMPTIONS` gives, 1 without it
/// (three threads and their locks: bound 1 explores about 13,000
/// interleavings in seconds, bound 2 runs for tens of minutes; see `loom_check`).
fn check(name: &str, model: impl Fn() + Sync + Send + 'static) {
    let bound = std::env::var("LOOM_MAX_PREEMPTIONS").map_or(1, |_| 0);
    loom_check::check(name, bound, model);
}

fn executor() -> MultiExecutor {
    MultiExecutor::new(ThreadParker::new(), 2, Config::default(), None).unwrap()
}

#[test]

fn a_wake_during_the_poll_is_kept_and_the_task_is_never_polled_by_two_workers() {
    check("wake during the poll, two workers", || {
        let mut executor = executor();
        let polls = Arc::new(AtomicUsize::new(0));
        let in_poll = Arc::new(AtomicBool::new(false));
        let task = spawn_on(&executor, {
            let (polls, in_poll) = (polls.clone(), in_poll.clone());
            let mut waker_thread = None;
            poll_fn(move |cx| {
                assert!(
                    !in_poll.swap(true, Ordering::SeqCst),
                    "polled by two threads at once"
                );
                let n = polls.fetch_add(1, Ordering::SeqCst);
                let out = if n == 0 {
                    // Woken from another thread while this poll goes on.
                    let waker: Waker = cx.waker().clone();
                    waker_thread = Some(thread::spawn(move || waker.wake()));
                    Poll::Pending
                } else {
                    Poll::Ready(())
                };
                in_poll.store(false, Ordering::SeqCst);
                if let (Poll::Ready(()), Some(t)) = (&out, waker_thread.take()) {
                    t.join().unwrap();
                }
                out
            })
        });
        executor.block_on(async move { task.await.unwrap() });
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    });
}

#[test]

fn a_spawn_while_the_other_worker_parks_is_run() {
    check("spawn against the other worker's park", || {
        let mut executor = executor();
        let out = executor.block_on(async {
            let task = spawn(async { 7 });
            task.await.unwrap()
        });
        assert_eq!(out, 7);
    });
}

#[test]

fn a_wake_from_a_third_thread_while_both_workers_park_is_not_lost() {
    check("wake from a third thread, both workers parked", || {
        let mut executor = executor();
        let slot: Arc<Mutex<(bool, Option<Waker>)>> = Arc::new(Mutex::new((false, None)));
        let waiter = spawn_on(&executor, {
            let slot = slot.clone();
            poll_fn(move |cx| {
                let mut s = slot.lock().unwrap();
                if s.0 {
                    Poll::Ready(())
                } else {
                    s.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
        });
        let setter = thread::spawn({
            let slot = slot.clone();
            move || {
                let waker = {
                    let mut s = slot.lock().unwrap();
                    s.0 = true;
                    s.1.take()
                };
                if let Some(w) = waker {
                    w.wake();
                }
            }
        });
        executor.block_on(async move { waiter.await.unwrap() });
        setter.join().unwrap();
    });
}

/// Counts its drops.
struct Probe(Arc<AtomicUsize>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]

fn shutdown_against_a_spawn_from_another_thread_drops_each_future_once() {
    check("shutdown against a remote spawn", || {
        let executor = executor();
        let drops = Arc::new(AtomicUsize::new(0));
        let spawner = executor.spawner();
        let remote = thread::spawn({
            let drops = drops.clone();
            move || {
                let probe = Probe(drops);
                drop(spawner.spawn(async move {
                    let _probe = probe;
                    std::future::pending::<()>().await
                }));
            }
        });
        drop(executor);
        remote.join().unwrap();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the future was dropped exactly once"
        );
    });
}

fn spawn_on<F>(executor: &MultiExecutor, future: F) -> ferrio_executor::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    executor.spawn(future)
}

/// Remembers the thread that dropped it.
struct ThreadProbe {
    drops: Arc<AtomicUsize>,
    on: Arc<Mutex<Option<thread::ThreadId>>>,
}

impl Drop for ThreadProbe {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        *self.on.lock().unwrap() = Some(thread::current().id());
    }
}

#[test]
fn a_pinned_task_woken_from_another_thread_during_shutdown_is_dropped_once_on_its_worker() {
    check("pinned task: remote wake against shutdown", || {
        let mut executor = executor();
        let drops = Arc::new(AtomicUsize::new(0));
        let on = Arc::new(Mutex::new(None));
        let slot: Arc<Mutex<Option<Waker>>> = Arc::new(Mutex::new(None));
        let home = thread::current().id();
        executor.block_on({
            let (drops, on, slot) = (drops.clone(), on.clone(), slot.clone());
            async move {
                let probe = std::rc::Rc::new(ThreadProbe { drops, on }); // !Send: pinned
                let task = ferrio_executor::spawn_local(poll_fn(move |cx| {
                    let _keep = &probe;
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::<()>::Pending
                }));
                // Let it run once and store its waker.
                ferrio_executor::yield_now().await;
                drop(task);
            }
        });
        let waker = thread::spawn({
            let slot = slot.clone();
            move || {
                if let Some(w) = slot.lock().unwrap().take() {
                    w.wake();
                }
            }
        });
        drop(executor);
        waker.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped exactly once");
        assert_eq!(
            *on.lock().unwrap(),
            Some(home),
            "dropped on its own worker's thread"
        );
    });
}

/// The reactor's timer protocol as the driver the workers share (the model of
/// `reactor/src/timer.rs`, on loom's lock): a timer armed from another thread
/// interrupts a `park` sleeping in it, and otherwise waits for the next
/// `park`, which fires it. Every armed timer is due at once (loom has no
/// clock), so a timer that fires only if some worker turns the driver again.
#[derive(Clone, Default)]
struct TimerDriver(Arc<TimerShared>);

#[derive(Default)]
struct TimerShared {
    state: Mutex<TimerState>,
    condvar: loom::sync::Condvar,
}

#[derive(Default)]
struct TimerState {
    due: Vec<Waker>,
    /// A worker sleeps in `park` (`Timers::sleeping_until` is `Some`).
    sleeping: bool,
    /// An unpark not yet consumed.
    woken: bool,
}

impl TimerDriver {
    /// `Handle::insert_timer` from another thread: arm, and interrupt the
    /// sleeping turn.
    fn arm(&self, waker: Waker) {
        let mut state = self.0.state.lock().unwrap();
        state.due.push(waker);
        if state.sleeping {
            state.woken = true;
            self.0.condvar.notify_one();
        }
    }
}

impl ferrio_executor::Park for TimerDriver {
    fn park(&mut self, timeout: Option<std::time::Duration>) {
        let due = {
            let mut state = self.0.state.lock().unwrap();
            if timeout != Some(std::time::Duration::ZERO) {
                state.sleeping = true;
                while !state.woken && state.due.is_empty() {
                    state = self.0.condvar.wait(state).unwrap();
                }
                state.sleeping = false;
            }
            state.woken = false;
            std::mem::take(&mut state.due)
        };
        for waker in due {
            waker.wake();
        }
    }

    fn unparker(&self) -> std::sync::Arc<dyn ferrio_executor::Unpark> {
        std::sync::Arc::new(self.clone())
    }
}

impl ferrio_executor::Unpark for TimerDriver {
    fn unpark(&self) {
        let mut state = self.0.state.lock().unwrap();
        state.woken = true;
        self.0.condvar.notify_one();
    }
}

#[test]
fn a_timer_armed_while_the_driver_changes_hands_fires() {
    check("timer armed during the driver's hand-over", || {
        let driver = TimerDriver::default();
        let mut executor = MultiExecutor::new(driver.clone(), 2, Config::default(), None).unwrap();
        executor.block_on(async move {
            // A task that yields moves the driver between the workers: the
            // one that runs it leaves the driver, the other may take it.
            let busy = spawn(async {
                ferrio_executor::yield_now().await;
            });
            // `main` waits for a timer that only the driver's turn fires.
            let mut armer = None;
            poll_fn(|cx| {
                if armer.is_none() {
                    let (driver, waker) = (driver.clone(), cx.waker().clone());
                    armer = Some(thread::spawn(move || driver.arm(waker)));
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
            .await;
            armer.unwrap().join().unwrap();
            busy.await.unwrap();
        });
    });
}
