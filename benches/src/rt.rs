//! The runtimes under test, behind one trait: run a future to completion,
//! spawn (joined or detached), yield, sleep until a deadline.
//!
//! Each is single-threaded, as ferrio is: tokio's current-thread runtime and
//! smol's `LocalExecutor` (driven by `async_io::block_on`, which is
//! `smol::block_on`).

use std::future::Future;
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
}

pub struct Ferrio;

impl Rt for Ferrio {
    type Handle<T: Send + 'static> = Unwrap<ferrio::JoinHandle<T>>;
    const NAME: &'static str = "ferrio";

    fn block_on<F: Future>(f: F) -> F::Output {
        ferrio::Runtime::new().expect("ferrio runtime").block_on(f)
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
        ferrio::time::sleep_until(deadline)
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
