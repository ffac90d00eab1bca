//! ferrio: Python's asyncio, done in Rust.
//!
//! An event loop you can embed as a crate: tasks you spawn and await, timers,
//! queues, timeouts, TCP/UDP sockets and an HTTP client with a connection
//! limit, on a real readiness reactor (mio: epoll on Linux, kqueue on
//! macOS/BSD).
//!
//! ```
//! use std::time::Duration;
//!
//! async fn count() -> &'static str {
//!     println!("One");
//!     ferrio::time::sleep(Duration::from_millis(10)).await;
//!     println!("Two");
//!     "done"
//! }
//!
//! let results = ferrio::run(ferrio::gather([count(), count(), count()]));
//! assert_eq!(results, ["done"; 3]);
//! ```
//!
//! | asyncio | ferrio |
//! |---|---|
//! | `asyncio.run(main())` | [`run`] |
//! | `asyncio.create_task(c)` | [`spawn`], [`spawn_local`] -> [`JoinHandle`] |
//! | `task.cancel()` | [`JoinHandle::abort`] |
//! | `asyncio.gather(*aws)` | [`gather`], [`join!`] |
//! | `asyncio.wait(..., FIRST_COMPLETED)` | [`select`], [`select_all`] |
//! | `asyncio.sleep(s)`, `sleep(0)` | [`time::sleep`], [`yield_now`] |
//! | `asyncio.wait_for(aw, t)` | [`time::timeout`] |
//! | `asyncio.Queue`, `Event`, `Lock`, `Semaphore` | [`sync`] |
//! | `asyncio.to_thread(f)` | [`spawn_blocking`] |
//! | `create_task(c, name=)`, `current_task()`, `all_tasks()` | [`task::Builder`], [`task::current`], [`task::dump`] |
//! | `PYTHONASYNCIODEBUG=1` | `FERRIO_DEBUG=1`, [`Builder::debug`] |
//! | `open_connection`, `start_server` | [`net`] |
//!
//! # Contents
//!
//! - [`run`], [`Runtime`], [`Builder`]: the event loop.
//! - [`spawn`], [`spawn_local`], [`spawn_blocking`], [`yield_now`], [`JoinHandle`], [`JoinError`]: tasks.
//! - [`gather`], [`join!`], [`select`], [`select_all`]: awaiting several things.
//! - [`time`], [`sync`], [`io`], [`net`]: timers, task synchronisation, I/O helpers, sockets.
//! - [`task`], [`metrics`]: task names, the current task, the task dump, counters
//!   (debug mode and the trace are [`Builder`] switches; see docs/observability.md).

mod observe;
mod runtime;

pub mod sync;
pub mod task;

pub use ferrio_reactor::time;

pub use ferrio_executor::{
    spawn, spawn_blocking, spawn_local, yield_now, JoinError, JoinHandle, Spawner,
};
pub use observe::{metrics, Metrics};
pub use runtime::{in_runtime, run, Builder, Runtime};

pub use futures_util::future::Either;
/// Awaits several futures of different types concurrently and returns all
/// their outputs as a tuple (the mixed-type form of [`gather`]).
///
/// ```
/// ferrio::run(async {
///     let (a, b) = ferrio::join!(async { 1 }, async { "two" });
///     assert_eq!((a, b), (1, "two"));
/// });
/// ```
pub use futures_util::join;

use std::future::Future;

/// Awaits every future concurrently and returns their outputs in input order,
/// whatever order they finish in (asyncio's `gather`).
///
/// ```
/// use std::time::Duration;
/// use ferrio::time::sleep;
/// let out = ferrio::run(ferrio::gather((1..=3u64).rev().map(|i| async move {
///     sleep(Duration::from_millis(i * 5)).await;
///     i
/// })));
/// assert_eq!(out, [3, 2, 1]);
/// ```
pub async fn gather<I>(futures: I) -> Vec<<I::Item as Future>::Output>
where
    I: IntoIterator,
    I::Item: Future,
{
    futures_util::future::join_all(futures).await
}

/// Awaits two futures and returns the output of the first to finish, with the
/// other one (still pending, to await or drop) (asyncio's `wait` with
/// `FIRST_COMPLETED`).
///
/// ```
/// use std::time::Duration;
/// use ferrio::{time::sleep, Either};
/// ferrio::run(async {
///     let fast = Box::pin(async { sleep(Duration::from_millis(1)).await; "fast" });
///     let slow = Box::pin(async { sleep(Duration::from_secs(10)).await; "slow" });
///     match ferrio::select(fast, slow).await {
///         Either::Left((winner, _slow)) => assert_eq!(winner, "fast"),
///         Either::Right(_) => unreachable!(),
///     }
/// });
/// ```
pub async fn select<A, B>(a: A, b: B) -> Either<(A::Output, B), (B::Output, A)>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    futures_util::future::select(a, b).await
}

/// Awaits the first of many futures of one type to finish: returns its
/// output, its index, and the rest.
///
/// ```
/// use std::time::Duration;
/// ferrio::run(async {
///     let racers = (1..=3u64).rev().map(|i| Box::pin(async move {
///         ferrio::time::sleep(Duration::from_millis(i * 5)).await;
///         i
///     }));
///     let (first, index, rest) = ferrio::select_all(racers).await;
///     assert_eq!((first, index, rest.len()), (1, 2, 2));
/// });
/// ```
///
/// # Panics
///
/// If `futures` is empty.
pub async fn select_all<I>(futures: I) -> (<I::Item as Future>::Output, usize, Vec<I::Item>)
where
    I: IntoIterator,
    I::Item: Future + Unpin,
{
    futures_util::future::select_all(futures).await
}

/// Async I/O traits and helpers (`read_exact`, `write_all`, `copy`,
/// `BufReader`, `lines`, ...), from futures-util, for ferrio's sockets.
pub use ferrio_net::io;

/// Sockets: TCP, UDP and name resolution (asyncio's `open_connection`,
/// `start_server`, `create_datagram_endpoint`, `getaddrinfo`).
pub use ferrio_net as net;

/// The HTTP/1.1 client (aiohttp's `ClientSession` with `TCPConnector` limits)
/// and a small server.
pub use ferrio_http as http;
