//! loom models of the executor's cross-thread protocols: the task state word
//! (wake during poll, abort during poll, the join waker set and cleared, the
//! last reference dropped on another thread) and the remote queue + unpark.
//! Each model runs the real executor through its public API; under
//! `--cfg loom` its atomics, locks, condvar and task cell are loom's (see
//! `src/sync.rs`), so loom explores every interleaving up to the preemption
//! bound and fails a model on a deadlock (a lost wakeup parks the executor
//! forever), a data race on a task's cell, or a failed assertion.
//!
//! Run: `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p
//! ferrio-executor --release --test loom -- --nocapture` (each model prints how
//! many interleavings it explored). Not here: the reactor's timer protocol
//! and waiter list (models in `reactor/src/timer.rs` and
//! `reactor/src/scheduled_io.rs`).
#![cfg(loom)]

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use ferrio_executor::{spawn, Executor, ThreadParker};
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;

#[path = "../../reactor/src/testing/loom_check.rs"]
mod loom_check;

/// Runs `model` at a preemption bound of at least 3 (see `loom_check`).
fn check(name: &str, model: impl Fn() + Sync + Send + 'static) {
    loom_check::check(name, 3, model);
}

/// A one-shot signal from a task to the `block_on` future, with a waker slot.
#[derive(Default)]
struct Signal {
    set: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    fn set(&self) {
        self.set.store(true, Ordering::Release);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    async fn wait(&self) {
        poll_fn(|cx| {
            if self.set.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.set.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}

/// Counts its drops and remembers the thread that dropped it.
struct DropProbe {
    drops: Arc<AtomicUsize>,
    on: Arc<Mutex<Option<thread::ThreadId>>>,
    signal: Option<Arc<Signal>>,
}

impl Drop for DropProbe {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::AcqRel);
        *self.on.lock().unwrap() = Some(thread::current().id());
        if let Some(signal) = &self.signal {
            signal.set();
        }
    }
}

/// On its first poll, hands its waker to a new thread that sets `ready` and
/// wakes it; completes once `ready` is seen.
struct WokenByThread {
    ready: Arc<AtomicBool>,
    waker_thread: Arc<Mutex<Option<thread::JoinHandle<()>>>>,
    polls: Arc<AtomicUsize>,
}

impl Future for WokenByThread {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let first = self.polls.fetch_add(1, Ordering::AcqRel) == 0;
        if self.ready.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if first {
            let (ready, waker) = (self.ready.clone(), cx.waker().clone());
            let t = thread::spawn(move || {
                ready.store(true, Ordering::Release);
                waker.wake();
            });
            *self.waker_thread.lock().unwrap() = Some(t);
        }
        Poll::Pending
    }
}

#[test]
fn a_wake_from_another_thread_during_the_poll_is_not_lost() {
    check("wake during poll", || {
        let ready = Arc::new(AtomicBool::new(false));
        let waker_thread = Arc::new(Mutex::new(None));
        let polls = Arc::new(AtomicUsize::new(0));
        let mut ex = Executor::new(ThreadParker::new());
        let future = WokenByThread {
            ready: ready.clone(),
            waker_thread: waker_thread.clone(),
            polls: polls.clone(),
        };
        // A lost wake parks the executor forever: loom reports the deadlock.
        ex.block_on(async move { spawn(future).await.unwrap() });
        waker_thread.lock().unwrap().take().unwrap().join().unwrap();
        let polls = polls.load(Ordering::Acquire);
        assert!(
            (2..=3).contains(&polls),
            "polled once, then once per wake that found the task idle: {polls}"
        );
    });
}

/// Yields twice, then completes; holds a probe that records its drop.
async fn yield_twice(probe: DropProbe) {
    for _ in 0..2 {
        ferrio_executor::yield_now().await;
    }
    drop(probe);
}

#[test]
fn an_abort_from_another_thread_while_the_task_runs_drops_it_once_on_its_thread() {
    check("abort during poll", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let on = Arc::new(Mutex::new(None));
        let gone = Arc::new(Signal::default());
        let mut ex = Executor::new(ThreadParker::new());
        let probe = DropProbe {
            drops: drops.clone(),
            on: on.clone(),
            signal: Some(gone.clone()),
        };
        let aborter = ex.block_on(async {
            let task = spawn(yield_twice(probe));
            let aborter = thread::spawn(move || {
                task.abort();
                // The JoinHandle is awaited on this thread: the join waker is
                // set here and woken from the executor thread.
                loom::future::block_on(task)
            });
            gone.wait().await;
            aborter
        });
        let result = aborter.join().unwrap();
        assert!(
            result.is_ok() || result.as_ref().unwrap_err().is_cancelled(),
            "an aborted task either finished first or reports cancelled"
        );
        assert_eq!(
            drops.load(Ordering::Acquire),
            1,
            "the future's state is dropped once"
        );
        assert_eq!(
            *on.lock().unwrap(),
            Some(thread::current().id()),
            "the future is dropped on the executor's thread"
        );
    });
}

#[test]
fn a_join_handle_polled_and_dropped_on_another_thread_drops_the_output_once() {
    check("join waker set/clear, handle dropped", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let on = Arc::new(Mutex::new(None));
        let mut ex = Executor::new(ThreadParker::new());
        let output = DropProbe {
            drops: drops.clone(),
            on,
            signal: None,
        };
        let joiner = ex.block_on(async {
            let task = spawn(async move { output });
            let joiner = thread::spawn(move || {
                let mut task = task;
                // One poll stores this thread's waker (or takes the output),
                // then the handle is dropped, racing the task's completion.
                let waker = futures_task::noop_waker();
                let polled = Pin::new(&mut task).poll(&mut Context::from_waker(&waker));
                drop(task);
                polled.is_ready()
            });
            ferrio_executor::yield_now().await;
            joiner
        });
        joiner.join().unwrap();
        drop(ex);
        assert_eq!(
            drops.load(Ordering::Acquire),
            1,
            "the output is dropped exactly once"
        );
    });
}

#[test]
fn a_waker_that_outlives_its_task_neither_requeues_nor_repolls_it() {
    check("last reference dropped on another thread", || {
        let polls = Arc::new(AtomicUsize::new(0));
        let keeper = Arc::new(Mutex::new(None));
        let mut ex = Executor::new(ThreadParker::new());
        let out = ex.block_on({
            let (polls, keeper) = (polls.clone(), keeper.clone());
            async move {
                let task = spawn(poll_fn(move |cx| {
                    polls.fetch_add(1, Ordering::AcqRel);
                    // Another thread wakes (and then drops) a clone of this
                    // task's waker, while or after the task completes.
                    let waker = cx.waker().clone();
                    *keeper.lock().unwrap() = Some(thread::spawn(move || waker.wake()));
                    Poll::Ready(5)
                }));
                task.await.unwrap()
            }
        });
        assert_eq!(out, 5);
        drop(ex);
        keeper.lock().unwrap().take().unwrap().join().unwrap();
        assert_eq!(
            polls.load(Ordering::Acquire),
            1,
            "a complete task is never polled again"
        );
    });
}

#[test]
fn a_spawn_from_another_thread_unparks_a_parked_executor() {
    check("remote queue + unpark", || {
        let ran = Arc::new(Signal::default());
        let mut ex = Executor::new(ThreadParker::new());
        let spawner = ex.spawner();
        let remote = thread::spawn({
            let ran = ran.clone();
            move || {
                let task = spawner.spawn(async move {
                    ran.set();
                    7
                });
                loom::future::block_on(task).unwrap()
            }
        });
        // Nothing is ready on this thread: the executor parks until the
        // remote spawn pushes to the remote queue and unparks it.
        ex.block_on(ran.wait());
        assert_eq!(
            remote.join().unwrap(),
            7,
            "the remotely spawned task's output"
        );
    });
}
