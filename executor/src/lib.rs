//! ferrio's executor: tasks, `JoinHandle`, the run queue and the blocking pool.
//!
//! It knows nothing of mio. When no task is ready it *parks* through the
//! [`Park`] trait and does not know what parks it: in the `ferrio` runtime the
//! reactor does (waiting for I/O and timers), in tests a [`ThreadParker`]
//! (a condvar) does.
//!
//! The rules it keeps:
//! - a woken task is polled once per wake, never concurrently, never after it completed;
//! - wakers are `Send + Sync`: a wake from another thread goes to a remote queue and unparks;
//! - a panic in a task is caught and handed to its [`JoinHandle`]; other tasks run on;
//! - fairness: the parker is turned at least every [`EVENT_INTERVAL`] polls;
//! - cooperation: each task poll gets a budget of I/O operations ([`coop`]);
//! - dropping the executor drops every pending task's future.
//!
//! # Contents
//!
//! - [`Executor`], [`Config`], [`Spawner`]: the loop and the ways into it.
//! - [`spawn`], [`spawn_local`], [`spawn_blocking`], [`yield_now`]: what tasks call.
//! - [`JoinHandle`], [`JoinError`]: a task's result.
//! - [`Park`], [`Unpark`], [`ThreadParker`]: what the executor sleeps on.
//! - [`PoolConfig`]: the blocking pool's settings.
//! - [`coop`]: the cooperative budget of one task poll, spent by I/O operations.
//! - [`observe`]: task names and spawn sites, the task dump, metrics, debug
//!   mode and the trace.

mod blocking;
mod park;
mod scheduler;
mod state;
mod sync;
mod task;

pub mod coop;
pub mod observe;

pub use blocking::PoolConfig;
pub use park::ThreadParker;
pub use scheduler::{
    in_runtime, spawn, spawn_blocking, spawn_local, try_current, yield_now, Config, Executor, Park,
    Spawner, Unpark, EVENT_INTERVAL,
};
pub use task::{JoinError, JoinHandle};
