//! Synchronisation between tasks: asyncio's `Queue` (and `LifoQueue`,
//! `PriorityQueue`), `Event`, `Lock`, `Condition`, `Semaphore`,
//! `BoundedSemaphore`, `Barrier`, and channels: [`mpsc`], [`oneshot`],
//! [`broadcast`], [`watch`].
//!
//! The queues, `Event`, `Condition` and `BoundedSemaphore` are ferrio's own
//! (they follow asyncio's semantics exactly); `Mutex`, `RwLock`, `Semaphore`
//! and `Barrier` are the well-kept runtime-neutral ones from `async-lock`
//! (the first three behind a thin layer that tells the task dump a task
//! waits on them);
//! `oneshot` is `futures-channel`'s, `mpsc` smol's `async-channel`,
//! `broadcast` smol's `async-broadcast`, `watch` ferrio's own. All of them
//! work across tasks and threads.
//!
//! **Sharing, one rule**: the endpoints tasks talk through ([`Event`], the
//! queues, channel halves) are handles, and `clone()` gives another handle
//! to the same one; what guards or counts ([`Mutex`], [`RwLock`],
//! [`Condition`], [`Semaphore`], [`BoundedSemaphore`], [`Barrier`]) is a
//! value that is not `Clone`: share it with an `Arc`, as with std's and
//! tokio's.

mod bounded_semaphore;
mod condition;
mod event;
mod lock;
mod queue;

pub mod broadcast;
pub mod mpsc;
pub mod watch;

pub use bounded_semaphore::{BoundedSemaphore, TooManyReleases};
pub use condition::Condition;
pub use event::Event;
pub use queue::{
    LifoQueue, PriorityQueue, Queue, QueueShutDown, TaskDoneError, TryGetError, TryPutError,
};

pub use async_lock::{Barrier, BarrierWaitResult};
pub use lock::{
    Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, Semaphore, SemaphoreGuard,
    SemaphoreGuardArc,
};

/// A channel for a single value: the sender completes the receiver once.
/// Awaiting the receiver gives `Err(Canceled)` if the sender was dropped;
/// `send` gives the value back (`Err(value)`) if the receiver was dropped.
///
/// ```
/// ferrio::run(async {
///     let (tx, rx) = ferrio::sync::oneshot::channel();
///     ferrio::spawn(async move { tx.send("done").unwrap() });
///     assert_eq!(rx.await, Ok("done"));
/// });
/// ```
pub mod oneshot {
    pub use futures_channel::oneshot::{channel, Canceled, Receiver, Sender};
}
