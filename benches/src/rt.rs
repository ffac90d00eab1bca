//! The runtimes under test, behind one trait: run a future to completion,
//! spawn (joined or detached), yield, sleep until a deadline.
//!
//! The first three are single-threaded, as ferrio's default is: ferrio with
//! one worker, tokio's current-thread runtime and smol's `LocalExecutor`
//! (driven by `async_io::block_on`, which is `smol::block_on`). The `-mt`
//! ones run tasks on [`workers()`] threads: ferrio's `workers(n)`, tokio's
//! multi-thread runtime with `n` workers, and smol's `Executor` run on `n`
//! threads (the calling one and `n - 1` scoped ones).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::Unwrap;

pub trait Rt: 'static {
    /// The handle `spawn` returns; awaiting it gives the task's output.
    type Handle<T: Send + 'static>: Future<Output = T> + Send + Unpin + 'static;

    const NAME: &'static str;

    /// Builds a runtime and runs `f` on it to completion.
    fn block_on<F: Future>(f: F) -> F::Output;

    fn spawn<F>(f: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns a task nobody joins (it runs to completion on its own).
    fn detach<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static;

    fn yield_now() -> impl Future<Output = ()> + Send;

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send;

    /// How many threads run this runtime's tasks.
    fn workers() -> usize {
        1
    }
}

/// The worker count of the `-mt` runtimes (`bench ... workers=N`; default 2).
static WORKERS: AtomicUsize = AtomicUsize::new(2);

pub fn set_workers(n: usize) {
    WORKERS.store(n.max(1), Ordering::Relaxed);
}

pub fn workers() -> usize {
    WORKERS.load(Ordering::Relaxed)
}

pub struct Ferrio;

impl Rt for Ferrio {
    type Handle<T: Send + 'static> = Unwrap<ferrio::JoinHandle<T>>;
    const NAME: &'static str = "ferrio";

    fn block_on<F: Future>(f: F) -> F::Output {
        // One worker whatever FERRIO_WORKERS says: the single-thread peer.
        ferrio::Runtime::builder().workers(1).build().expect("ferrio runtime").block_on(f)
    }

    fn spawn<F>(f: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(ferrio::spawn(f))
    }

    fn detach<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Dropping a ferrio JoinHandle detaches the task.
        drop(ferrio::spawn(f));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        ferrio::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        ferrio::time::sleep_until(deadline.into())
    }
}

pub struct Tokio;

impl Rt for Tokio {
    type Handle<T: Send + 'static> = Unwrap<tokio::task::JoinHandle<T>>;
    const NAME: &'static str = "tokio";

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(f)
    }

    fn spawn<F>(f: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Unwrap(tokio::spawn(f))
    }

    fn detach<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(tokio::spawn(f));
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(deadline.into())
    }
}

pub struct Smol;

thread_local! {
    static SMOL: async_executor::LocalExecutor<'static> = const { async_executor::LocalExecutor::new() };
}

impl Rt for Smol {
    type Handle<T: Send + 'static> = async_executor::Task<T>;
    const NAME: &'static str = "smol";

    fn block_on<F: Future>(f: F) -> F::Output {
        SMOL.with(|ex| async_io::block_on(ex.run(f)))
    }

    fn spawn<F>(f: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL.with(|ex| ex.spawn(f))
    }

    fn detach<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // A smol task is cancelled when its handle drops: detach explicitly.
        SMOL.with(|ex| ex.spawn(f).detach());
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        async move {
            async_io::Timer::at(deadline).await;
        }
    }
}

pub struct FerrioMt;

impl Rt for FerrioMt {
    type Handle<T: Send + 'static> = <Ferrio as Rt>::Handle<T>;
    const NAME: &'static str = "ferrio-mt";

    fn block_on<F: Future>(f: F) -> F::Output {
        let mut rt = ferrio::Runtime::builder().workers(workers()).build().expect("ferrio runtime");
        assert_eq!(rt.workers(), workers(), "ferrio did not start the workers asked for");
        rt.block_on(f)
    }

    fn spawn<F>(f: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Ferrio::spawn(f)
    }

    fn detach<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Ferrio::detach(f)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        Ferrio::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        Ferrio::sleep_until(deadline)
    }

    fn workers() -> usize {
        workers()
    }
}

pub struct TokioMt;

impl Rt for TokioMt {
    type Handle<T: Send + 'static> = <Tokio as Rt>::Handle<T>;
    const NAME: &'static str = "tokio-mt";

    /// `block_on` polls `f` on the calling thread, beside the `n` workers.
    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers())
            .enable_all()
            .build()
            .expect("tokio runtime")
            .block_on(f)
    }

    fn spawn<F>(f: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Tokio::spawn(f)
    }

    fn detach<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Tokio::detach(f)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        Tokio::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        Tokio::sleep_until(deadline)
    }

    fn workers() -> usize {
        workers()
    }
}

pub struct SmolMt;

static SMOL_MT: async_executor::Executor<'static> = async_executor::Executor::new();

impl Rt for SmolMt {
    type Handle<T: Send + 'static> = async_executor::Task<T>;
    const NAME: &'static str = "smol-mt";

    /// `n` threads run the one `Executor`: the calling one (which also polls
    /// `f`) and `n - 1` scoped ones, which stop when `f` is done.
    fn block_on<F: Future>(f: F) -> F::Output {
        let (stop, stopped) = async_channel::bounded::<()>(1);
        std::thread::scope(|scope| {
            for _ in 1..workers() {
                let stopped = stopped.clone();
                scope.spawn(move || async_io::block_on(SMOL_MT.run(stopped.recv())));
            }
            let out = async_io::block_on(SMOL_MT.run(f));
            drop(stop);
            out
        })
    }

    fn spawn<F>(f: F) -> Self::Handle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL_MT.spawn(f)
    }

    fn detach<F>(f: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        SMOL_MT.spawn(f).detach();
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        Smol::sleep_until(deadline)
    }

    fn workers() -> usize {
        workers()
    }
}
