//! A broadcast channel: every receiver gets every message (tokio's
//! `broadcast`), smol's well-kept `async-broadcast` re-exported under
//! ferrio's name [`channel`]. Messages are cloned for each receiver
//! (`T: Clone`); usable across threads and runtimes.
//!
//! Capacity and overflow: the channel holds `capacity` messages not yet seen
//! by every receiver. By default a `broadcast` waits while it is full
//! (back-pressure, no message lost). With [`Sender::set_overflow`]`(true)`
//! the oldest message is dropped instead and a receiver that missed messages
//! gets [`RecvError::Overflowed`]`(n)` once, then the next message it can
//! still read (tokio's `Lagged`). A new receiver from
//! [`Sender::new_receiver`] or `Receiver::clone` starts at the next message.
//! Broadcasting while every receiver is inactive (see
//! [`Receiver::deactivate`]) waits for one to become active, unless
//! [`Sender::set_await_active`]`(false)`.
//!
//! Close semantics: the channel closes when every [`Sender`] or every
//! [`Receiver`] is dropped, or on `close()`. A broadcast then fails with
//! [`SendError`] (message given back); receivers drain what is queued, then
//! get [`RecvError::Closed`].
//!
//! Not here: "only the latest value matters" ([`crate::sync::watch`]).
//!
//! ```
//! use ferrio::sync::broadcast::{self, RecvError};
//! ferrio::run(async {
//!     let (tx, mut rx1) = broadcast::channel(8);
//!     let mut rx2 = rx1.clone();
//!     tx.broadcast("hello").await.unwrap();
//!     drop(tx);
//!     assert_eq!(rx1.recv().await, Ok("hello"));
//!     assert_eq!(rx2.recv().await, Ok("hello"));
//!     assert_eq!(rx1.recv().await, Err(RecvError::Closed));
//! });
//! ```

pub use async_broadcast::{
    InactiveReceiver, Receiver, Recv, RecvError, Send, SendError, Sender, TryRecvError,
    TrySendError,
};

/// A broadcast channel holding up to `capacity` messages.
///
/// ```
/// use ferrio::sync::broadcast::{self, RecvError};
/// ferrio::run(async {
///     let (mut tx, mut rx) = broadcast::channel(2);
///     tx.set_overflow(true); // drop the oldest instead of waiting
///     for n in 1..=3 {
///         tx.broadcast(n).await.unwrap();
///     }
///     assert_eq!(rx.recv().await, Err(RecvError::Overflowed(1)));
///     assert_eq!(rx.recv().await, Ok(2));
/// });
/// ```
///
/// # Panics
///
/// If `capacity` is zero.
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast::channel needs a capacity above zero"
    );
    async_broadcast::broadcast(capacity)
}
