//! ferrio's reactor: OS readiness (mio: epoll on Linux, kqueue on macOS/BSD) and timers.
//!
//! The reactor knows nothing of tasks. It turns OS readiness events and expired
//! deadlines into calls to [`std::task::Waker::wake`]; whoever polls futures
//! (ferrio's executor, or a test) decides what a wake means.
//!
//! # The model
//!
//! Readiness is *edge-triggered*: an event says "this socket may have become
//! readable". An I/O operation is then retried until the OS says `WouldBlock`,
//! and only then is readiness cleared, and only if no newer event arrived in the
//! meantime (each event carries the reactor's tick, see [`ReadyEvent`]). Events
//! are hints: a wake followed by `WouldBlock` is normal.
//!
//! The one verb is [`Reactor::turn`]: wait for OS events or the next timer
//! deadline, whichever is first, then wake what was waiting. A [`Handle`] is
//! `Clone + Send + Sync`: it registers sources, arms timers and interrupts a
//! sleeping `turn` from any thread.
//!
//! # Contents
//!
//! - [`Reactor`], [`Handle`]: the poller and the way to reach it.
//! - [`Registration`], [`PollIo`], [`Direction`], [`ReadyEvent`], [`Readiness`]:
//!   readiness of one source and who waits for it.
//! - [`Sleep`]: a future that completes at a deadline, on the reactor's timers.
//! - [`context`]: the thread-local "current reactor" that sockets and timers look up.
//! - [`time`]: `sleep`, `timeout`, `timeout_scope`, `interval` on the current
//!   reactor, its `Instant`, and the paused clock (`pause`, `advance`, `resume`).
//! - [`observe`]: what a waker waits on (for task dumps), and the reactor's counters.

#![forbid(unsafe_code)]

// The modules, lowest first: each one uses only modules listed above it
// (unit tests aside, which share `testing`).

// Leaves, which know nothing of the reactor: the clock, the error of a
// passed deadline, the instant type, the timerfd, one source's waiter state,
// a seeded run's shuffle, the timer map.
mod clock;
mod elapsed;
mod instant;
mod lock;
#[cfg(target_os = "linux")]
mod precise;
mod scheduled_io;
mod shuffle;
mod timer;

// What a waker waits on (for task dumps), the reactor's counters.
pub mod observe;

// The reactor and its handle.
mod reactor;

// The thread's current reactor.
pub mod context;

// Sources and timers on a reactor.
mod io;
mod sleep;

// The time API, on sleeps.
mod scope;
pub mod time;

#[cfg(test)]
mod testing;

pub use io::{PollIo, Readiness, Registration};
/// The poison-tolerant lock helper the workspace's crates share.
#[doc(hidden)]
pub use lock::lock;
pub use mio::Interest;
pub use reactor::{Handle, Reactor};
pub use scheduled_io::{Direction, ReadyEvent, ReadySlot};
pub use sleep::Sleep;
