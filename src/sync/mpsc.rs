//! Multi-producer channels (tokio's `mpsc`; asyncio has none, it uses a
//! `Queue`): smol's well-kept `async-channel`, re-exported with ferrio's
//! names. Bounded or unbounded; any number of senders and receivers (it is
//! multi-consumer too: each message goes to one receiver); usable across
//! threads and runtimes.
//!
//! Close semantics: the channel closes when every [`Sender`] or every
//! [`Receiver`] is dropped, or when either side calls `close()`. After that a
//! send fails with [`SendError`] (which gives the message back); receivers
//! still get the messages already queued, then [`RecvError`].
//!
//! Not here: `task_done` / `join` bookkeeping ([`crate::sync::Queue`]), one
//! value to many receivers ([`crate::sync::broadcast`], [`crate::sync::watch`]).
//!
//! ```
//! use ferrio::sync::mpsc;
//! ferrio::run(async {
//!     let (tx, rx) = mpsc::channel(16);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         ferrio::spawn(async move { tx.send(id).await.unwrap() });
//!     }
//!     drop(tx); // the channel closes when the three producers are done
//!     let mut got = Vec::new();
//!     while let Ok(id) = rx.recv().await {
//!         got.push(id);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

pub use async_channel::{
    Receiver, Recv, RecvError, Send, SendError, Sender, TryRecvError, TrySendError,
};

/// A channel that holds at most `capacity` messages: `send` waits while it is
/// full (back-pressure), `try_send` fails with [`TrySendError::Full`].
///
/// ```
/// use ferrio::sync::mpsc::{self, TrySendError};
/// ferrio::run(async {
///     let (tx, rx) = mpsc::channel(1);
///     tx.send("a").await.unwrap();
///     assert_eq!(tx.try_send("b"), Err(TrySendError::Full("b")));
///     assert_eq!(rx.recv().await, Ok("a"));
///     drop(rx);
///     assert!(tx.send("c").await.is_err(), "no receiver left: closed");
/// });
/// ```
///
/// # Panics
///
/// If `capacity` is zero.
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc::channel needs a capacity above zero");
    async_channel::bounded(capacity)
}

/// A channel with no limit: `send` never waits (memory is the limit).
///
/// ```
/// ferrio::run(async {
///     let (tx, rx) = ferrio::sync::mpsc::unbounded_channel();
///     std::thread::spawn(move || tx.send_blocking(5).unwrap());
///     assert_eq!(rx.recv().await, Ok(5));
/// });
/// ```
pub fn unbounded_channel<T>() -> (Sender<T>, Receiver<T>) {
    async_channel::unbounded()
}
