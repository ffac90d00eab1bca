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
//! | `asyncio.TaskGroup()` | [`TaskGroup`] |
//! | `asyncio.as_completed(aws)` | [`JoinSet`], [`as_completed`] |
//! | `asyncio.wait(aws, return_when, timeout)` | [`wait`], [`select()`], [`select_all`], [`select!`] |
//! | `asyncio.shield(aw)` | [`shield`] |
//! | `asyncio.sleep(s)`, `sleep(0)` | [`time::sleep`], [`yield_now`] |
//! | `asyncio.wait_for(aw, t)` | [`time::timeout`]; on a task, [`time::wait_for`] (cancels it) |
//! | `asyncio.Queue`, `Event`, `Lock`, `Semaphore` | [`sync`] |
//! | `asyncio.to_thread(f)` | [`spawn_blocking`] |
//! | `asyncio.get_running_loop()`, `call_soon_threadsafe`, `call_later` | [`Handle`] |
//! | `create_task(c, name=)`, `current_task()`, `all_tasks()` | [`task::Builder`], [`task::current`], [`task::dump`] |
//! | `PYTHONASYNCIODEBUG=1` | `FERRIO_DEBUG=1`, [`Builder::debug`] |
//! | `open_connection`, `start_server` | [`net`] |
//! | aiofiles' `open`, `os.listdir`, ... | [`fs`] |
//! | `loop.add_signal_handler` | [`signal`] |
//! | `create_subprocess_exec` | [`process`] |
//!
//! # `Send`
//!
//! Every public future and handle that a user stores ([`JoinHandle`],
//! [`time::Sleep`], [`time::Timeout`], [`JoinSet`], [`TaskGroup`], the
//! futures of the `sync` types' and sockets' `async fn`s, ...) is `Send`
//! whenever what it holds (its output, the futures it wraps) is, so it can be
//! spawned or moved to another thread; the crate's `tests/send.rs` checks
//! each at compile time. Not `Send`: `sync::watch::Ref`, a read lock to drop
//! before the next `.await`.
//!
//! # Contents
//!
//! - [`run`], [`Runtime`], [`Builder`], [`Handle`], [`main`], [`test`]: the event loop.
//! - [`spawn`], [`spawn_local`], [`spawn_blocking`], [`yield_now`], [`JoinHandle`], [`JoinError`]: tasks.
//! - [`TaskGroup`], [`JoinSet`], [`as_completed`]: structured concurrency.
//! - [`gather`], [`join!`], [`wait`], [`select()`], [`select_all`], [`select!`], [`shield`]: awaiting several things.
//! - [`time`], [`sync`], [`io`], [`net`]: timers, task synchronisation, I/O helpers, sockets.
//! - [`signal`], [`process`]: Unix signals and child processes.
//! - [`fs`]: files and directories, on the blocking pool.
//! - [`task`], [`metrics`]: task names, the current task, the task dump, counters
//!   (debug mode and the trace are [`Builder`] switches; see docs/observability.md).
//! - [`testing`]: run a test body under many scheduler seeds to find an
//!   ordering bug ([`Builder::seed`], `#[ferrio::test(seed = N)]`,
//!   `#[ferrio::test(shuffle = N)]`; see docs/testing.md).

#![forbid(unsafe_code)]

mod handle;
mod join_set;
mod observe;
mod runtime;
mod task_group;
mod wait;

pub mod fs;
pub mod sync;
pub mod task;
pub mod testing;
pub mod time;

#[doc(hidden)]
#[path = "macro_support.rs"]
pub mod __private;

pub use ferrio_executor::{
    in_runtime, spawn, spawn_blocking, spawn_local, yield_now, AbortOnDrop, JoinError, JoinHandle,
    Spawner,
};
pub use ferrio_macros::{main, test};
pub use handle::{Handle, TimerHandle};
pub use join_set::{as_completed, AsCompleted, JoinSet};
pub use observe::{metrics, Metrics};
pub use runtime::{run, Builder, Runtime};
pub use task_group::{TaskFailure, TaskGroup, TaskGroupClosed, TaskGroupError, TaskGroupSpawner};
pub use wait::{shield, wait, ReturnWhen};

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

/// Waits on several futures at once and runs the branch of the first to
/// finish, polling the branches in random order each time (futures-util's
/// `select!`; [`select_biased!`] polls them in the order written).
///
/// Each branch is `pattern = future => expression`; the futures must be
/// fused ([`FutureExt::fuse`]): a fused future that already finished is not
/// polled again, so the macro can run in a loop over the same futures
/// (declared outside the loop and pinned with `std::pin::pin!`). Futures
/// written inline in the macro need not be `Unpin`. An optional
/// `complete => expression` branch runs when every future has finished, and
/// `default => expression` runs if none is ready right away.
///
/// Cancellation: when one branch is taken, the futures written inline in the
/// macro for the other branches are dropped, which cancels them (a ferrio
/// sleep disarms its timer, a `Queue::get` or a channel `recv` takes no
/// item, a task behind a `JoinHandle` runs on detached). Futures
/// declared outside the macro and passed by `&mut` are not dropped: they keep
/// their progress for the next `select!`.
///
/// ```
/// use std::time::Duration;
/// use ferrio::{time::sleep, FutureExt};
/// ferrio::run(async {
///     let (tx, rx) = ferrio::sync::oneshot::channel::<u32>();
///     ferrio::spawn(async move { tx.send(7) });
///     let got = ferrio::select! {
///         v = rx.fuse() => v.ok(),
///         _ = sleep(Duration::from_secs(5)).fuse() => None,
///     };
///     assert_eq!(got, Some(7)); // the sleep was dropped, its timer disarmed
/// });
/// ```
pub use futures_util::select;

/// [`select!`] that polls its branches in the order they are written, so the
/// first branch wins when several are ready.
///
/// ```
/// use ferrio::FutureExt;
/// ferrio::run(async {
///     let first = ferrio::select_biased! {
///         a = async { 1 }.fuse() => a,
///         b = async { 2 }.fuse() => b,
///     };
///     assert_eq!(first, 1);
/// });
/// ```
pub use futures_util::select_biased;

/// Future adapters used with [`select!`]: [`fuse`](FutureExt::fuse),
/// [`boxed`](FutureExt::boxed), [`catch_unwind`](FutureExt::catch_unwind), ...
pub use futures_util::FutureExt;

use std::future::Future;
use std::pin::Pin;

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
/// The futures need not be `Unpin`: `select` pins them on the heap and gives
/// the loser back as a `Pin<Box<_>>`, which is itself a future. If the future
/// returned by `select` is dropped before either finishes, both are dropped
/// (cancelled). For more than two branches, or to run code per branch, see
/// [`select!`].
///
/// ```
/// use std::time::Duration;
/// use ferrio::{time::sleep, Either};
/// ferrio::run(async {
///     let fast = async { sleep(Duration::from_millis(1)).await; "fast" };
///     let slow = async { sleep(Duration::from_secs(10)).await; "slow" };
///     match ferrio::select(fast, slow).await {
///         Either::Left((winner, _slow)) => assert_eq!(winner, "fast"),
///         Either::Right(_) => unreachable!(),
///     }
/// });
/// ```
#[allow(clippy::type_complexity)]
pub async fn select<A, B>(a: A, b: B) -> Either<(A::Output, Pin<Box<B>>), (B::Output, Pin<Box<A>>)>
where
    A: Future,
    B: Future,
{
    futures_util::future::select(Box::pin(a), Box::pin(b)).await
}

/// Awaits the first of many futures of one type to finish: returns its
/// output, its index, and the rest.
///
/// ```
/// use std::time::Duration;
/// ferrio::run(async {
///     let racers = [60_000u64, 60_000, 1].map(|ms| Box::pin(async move {
///         ferrio::time::sleep(Duration::from_millis(ms)).await;
///         ms
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

pub mod io;

/// Sockets: TCP, UDP, Unix domain sockets and name resolution (asyncio's
/// `open_connection`, `start_server`, `create_datagram_endpoint`,
/// `getaddrinfo`): ferrio-net's types. Its signals and child processes are
/// [`crate::signal`] and [`crate::process`], its I/O helpers [`crate::io`].
pub mod net {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub use ferrio_net::UCred;
    pub use ferrio_net::{
        lookup_host, lookup_host_timeout, Incoming, Resolve, Resolver, SystemResolver, TcpListener,
        TcpOwnedReadHalf, TcpOwnedWriteHalf, TcpReadHalf, TcpReuniteError, TcpStream, TcpWriteHalf,
        ToSocketAddrs, UdpSocket, DEFAULT_BACKLOG, DEFAULT_RESOLVE_TIMEOUT,
    };
    #[cfg(unix)]
    pub use ferrio_net::{
        UnixDatagram, UnixIncoming, UnixListener, UnixOwnedReadHalf, UnixOwnedWriteHalf,
        UnixReadHalf, UnixSocketAddr, UnixStream, UnixWriteHalf,
    };
}

/// Unix signals: [`signal::ctrl_c`], [`signal::signal`] streams and
/// [`signal::add_handler`] (asyncio's `loop.add_signal_handler`).
#[cfg(unix)]
pub use ferrio_net::signal;

/// Child processes: [`process::Command`], [`process::Child`] with its pipes
/// as async streams (asyncio's `create_subprocess_exec`).
#[cfg(unix)]
pub use ferrio_net::process;

/// The HTTP/1.1 client (aiohttp's `ClientSession` with `TCPConnector` limits)
/// and a small server.
pub use ferrio_http as http;

// The docs' code blocks are doctests, so that they cannot drift from the code
// (issue 17): `cargo test --doc` compiles every ```rust block of these pages
// and runs each one that is a complete program; `.ci/run` runs them as part
// of `cargo test --workspace`. The structs exist only while rustdoc collects
// doctests. A page that gains Rust blocks gets a line here (`.ci/run` checks).
// docs/observability.md is ferrio-http's (net/http/src/lib.rs): its tracing
// example needs tracing-subscriber, a dev-dependency there, so that this
// crate's examples do not build it.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

// The guide's HTTP example uploads a file (feature `multipart`, which the
// workspace's tests turn on, as `full`).
#[cfg(all(doctest, feature = "multipart"))]
#[doc = include_str!("../docs/asyncio.md")]
pub struct AsyncioGuideDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/testing.md")]
pub struct TestingGuideDoctests;
