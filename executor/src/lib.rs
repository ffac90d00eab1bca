//! ferrio's executor: tasks, `JoinHandle`, the run queue and the blocking pool.
//!
//! It knows nothing of mio. When no task is ready it *parks* through the
//! [`Park`] trait and does not know what parks it: in the `ferrio` runtime the
//! reactor does (waiting for I/O and timers), in tests a [`ThreadParker`]
//! (a condvar) does.
//!
//! The rules it keeps:
//! - a woken task is polled once per wake, never concurrently, never after it completed;
//! - wakers are `Send + Sync`: a wake from a thread outside the runtime goes to a
//!   remote (injection) queue and unparks; on several workers a wake on a
//!   worker goes to that worker's own queue;
//! - a panic in a task is caught and handed to its [`JoinHandle`]; other tasks run on;
//! - fairness: the parker is turned at least every [`EVENT_INTERVAL`] polls
//!   (on several workers, by the busy worker when no idle one is in it), and
//!   every queue a worker shares is looked at within one batch of that many;
//! - cooperation: each task poll gets a budget of I/O operations ([`coop`]);
//! - dropping the executor drops every pending task's future.
//!
//! # Contents
//!
//! - [`Executor`], [`Config`], [`Spawner`]: the loop and the ways into it.
//! - [`MultiExecutor`], [`OnThreadStart`]: several workers (threads) with
//!   work stealing, `block_on`'s thread being one of them.
//! - [`spawn`], [`spawn_local`], [`spawn_blocking`], [`yield_now`]: what tasks call.
//! - [`JoinHandle`], [`JoinError`]: a task's result; [`task`]: those and
//!   the task [`Builder`](task::Builder), which spawns a task with a name.
//! - [`Park`], [`Unpark`], [`ThreadParker`]: what the executor sleeps on.
//! - [`PoolConfig`]: the blocking pool's settings.
//! - [`coop`]: the cooperative budget of one task poll, spent by I/O operations.
//! - [`observe`]: task names and spawn sites, the task dump, metrics, debug
//!   mode and the trace.

// Alphabetical; docs/architecture.md says how they layer (tests/layering.rs
// keeps them free of circles).
mod blocking;
mod budget;
mod builder;
mod config;
mod context;
mod join;
mod multi;
mod observer;
mod park;
mod raw;
mod scheduler;
mod seed;
mod state;
mod sync;
mod workers;

/// The cooperative budget: how many I/O operations one poll of a task may
/// complete before the task has to yield, so that a task whose socket is
/// always ready cannot keep the loop to itself (docs/architecture.md, rule E7: the
/// cooperative budget forces a yield).
///
/// The executor gives each poll of a task (and of `block_on`'s future) a
/// fresh budget of [`BUDGET_PER_POLL`](coop::BUDGET_PER_POLL); I/O types
/// spend it through [`poll_budgeted`](coop::poll_budgeted). Only operations
/// that complete spend it: one that waits costs nothing. On a thread that runs
/// no executor the budget is unlimited.
pub mod coop {
    pub use crate::budget::BUDGET_PER_POLL;
    pub use crate::context::poll_budgeted;
}

/// Tasks: the [`Builder`](task::Builder) that spawns one with a name, and
/// what its awaiter holds (also at the crate root).
pub mod task {
    pub use crate::builder::Builder;
    pub use crate::join::{AbortOnDrop, JoinError, JoinHandle};
}

/// Observability: what each task is, what the loop is doing, and what a
/// stuck task waits on.
///
/// Always on, and cheap: every task's id, name and spawn site
/// ([`TaskInfo`](observe::TaskInfo), [`current`](observe::current)), the
/// runtime's counters ([`Metrics`](observe::Metrics): plain cells, one add
/// each) and the task list of [`dump`](observe::dump). Behind a switch
/// ([`ObserveConfig`](observe::ObserveConfig), set by the runtime builder's
/// `debug` and `trace`): per-poll timing, what each task waits on
/// ([`Wait`](observe::Wait)), slow-poll warnings, the watchdog thread and the
/// trace file.
///
/// Primitives say what they wait on by calling
/// [`waiting_on`](observe::waiting_on) where they store a waker, or by
/// wrapping a wait in [`tagged`](observe::tagged).
///
/// Log targets are `ferrio::task` (spawned, finished, unobserved panics),
/// `ferrio::slow_poll`, `ferrio::watchdog` and `ferrio::trace`, so
/// `RUST_LOG=ferrio=debug` selects them all.
pub mod observe {
    pub use crate::context::{current, is_timing, tagged, waiting_on};
    pub use crate::observer::{
        Dump, Metrics, ObserveConfig, OtherKind, TaskDump, TaskInfo, TaskState, Wait, WaitKind,
        WorkerMetrics,
    };
    pub use crate::scheduler::{dump, metrics};
}

pub use blocking::PoolConfig;
pub use join::{AbortOnDrop, JoinError, JoinHandle};
pub use multi::MultiExecutor;
pub use park::ThreadParker;
pub use scheduler::{
    in_runtime, spawn, spawn_blocking, spawn_local, try_current, yield_now, Config, Executor, Park,
    Spawner, Unpark, EVENT_INTERVAL,
};
pub use workers::OnThreadStart;
