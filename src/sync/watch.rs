//! A watch channel: one sender publishes a value, any number of receivers
//! see the latest one and can wait until it changes (tokio's `watch`; in
//! asyncio, an attribute plus an `Event` or a `Condition`).
//!
//! ferrio's own, on `event-listener` (no well-kept runtime-neutral crate
//! does this: `async-watch` is unmaintained). Usable across threads.
//! Intermediate values may be skipped: a receiver sees the latest, never a
//! queue of them (use [`crate::sync::broadcast`] for every message).
//!
//! Close semantics: when the [`Sender`] is dropped, receivers can still read
//! the last value, and [`Receiver::changed`] gives [`RecvError`] once they
//! have seen it. When every [`Receiver`] is dropped, [`Sender::send`] fails
//! with [`SendError`] (the value given back) and [`Sender::closed`] returns.

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use event_listener::Event;

/// The value and how many times it was set.
#[derive(Debug)]
struct Versioned<T> {
    value: T,
    /// Bumped by every send; a receiver compares it with the one it saw.
    version: u64,
}

/// What the sender and every receiver share.
struct Shared<T> {
    current: RwLock<Versioned<T>>,
    /// Set when the sender is dropped.
    sender_gone: AtomicBool,
    /// Live receivers, for `send` to fail when there are none.
    receivers: AtomicUsize,
    /// Notified on every send and when the sender is dropped.
    changed: Event,
    /// Notified when the last receiver is dropped.
    no_receivers: Event,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, Versioned<T>> {
        self.current.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Versioned<T>> {
        self.current.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// Creates a watch channel holding `initial`. The receiver starts having
/// seen it: its first [`changed`](Receiver::changed) waits for a send.
///
/// ```
/// use ferrio::sync::watch;
/// ferrio::run(async {
///     let (tx, mut rx) = watch::channel("starting");
///     let observer = ferrio::spawn(async move {
///         rx.changed().await.unwrap();
///         *rx.borrow_and_update()
///     });
///     ferrio::yield_now().await;
///     tx.send("running").unwrap();
///     assert_eq!(observer.await.unwrap(), "running");
/// });
/// ```
pub fn channel<T>(initial: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        current: RwLock::new(Versioned {
            value: initial,
            version: 0,
        }),
        sender_gone: AtomicBool::new(false),
        receivers: AtomicUsize::new(1),
        changed: Event::new(),
        no_receivers: Event::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, seen: 0 },
    )
}

/// The sending half of a [`watch`](self) channel; dropping it closes the
/// channel. `Send + Sync` when `T` is.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half of a [`watch`](self) channel; clone it for another
/// receiver (which starts having seen what this one saw).
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver last marked seen.
    seen: u64,
}

/// A read lock on the channel's value, from `borrow`. Sends wait while it
/// lives: drop it soon, and never hold it across an `.await`.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, Versioned<T>>,
}

/// [`Sender::send`] with no receiver left; gives the value back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// [`Receiver::changed`] after the sender was dropped and the last value seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl<T> Sender<T> {
    /// Publishes `value` and wakes every receiver waiting in `changed`.
    ///
    /// # Errors
    ///
    /// [`SendError`] with `value` if every receiver was dropped (the stored
    /// value is then left as it was).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.receivers.load(Ordering::Acquire) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Publishes `value` even if no receiver is left (a later
    /// [`subscribe`](Self::subscribe) sees it) and returns the old value.
    pub fn send_replace(&self, value: T) -> T {
        let old = {
            let mut current = self.shared.write();
            current.version += 1;
            std::mem::replace(&mut current.value, value)
        };
        // Woken outside the lock: receivers read the value at once.
        self.shared.changed.notify(usize::MAX);
        old
    }

    /// Changes the value in place and wakes the receivers.
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        {
            let mut current = self.shared.write();
            modify(&mut current.value);
            current.version += 1;
        }
        self.shared.changed.notify(usize::MAX);
    }

    /// Reads the current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// A new receiver, which has seen the current value.
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        Receiver {
            seen: self.shared.read().version,
            shared: self.shared.clone(),
        }
    }

    /// How many receivers are alive.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Acquire)
    }

    /// Whether every receiver was dropped.
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is dropped (for a producer to stop).
    pub async fn closed(&self) {
        loop {
            if self.is_closed() {
                return;
            }
            let listener = self.shared.no_receivers.listen();
            if self.is_closed() {
                return;
            }
            listener.await;
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.sender_gone.store(true, Ordering::Release);
        self.shared.changed.notify(usize::MAX);
    }
}

impl<T> Receiver<T> {
    /// Reads the current value without marking it seen.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
        }
    }

    /// Reads the current value and marks it seen.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.read();
        self.seen = guard.version;
        Ref { guard }
    }

    /// Whether a value this receiver has not seen was sent.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped and nothing new is left.
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        has_changed(&self.shared, self.seen)
    }

    /// Waits until a value this receiver has not seen is sent, and marks it
    /// seen (read it with [`borrow`](Self::borrow)). Returns at once if one
    /// already was. Cancel-safe.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the sender is dropped and the last value was seen.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        changed(&self.shared, &mut self.seen).await
    }

    /// Waits until `predicate` holds for the value (checking the current one
    /// first), marks it seen and returns it, still read-locked so it is the
    /// value that matched.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is dropped before the predicate holds.
    pub async fn wait_for<P>(&mut self, mut predicate: P) -> Result<Ref<'_, T>, RecvError>
    where
        P: FnMut(&T) -> bool,
    {
        // Split borrows: the returned guard borrows `shared`, `changed` only `seen`.
        let shared = &*self.shared;
        let seen = &mut self.seen;
        loop {
            {
                let guard = shared.read();
                if predicate(&guard.value) {
                    *seen = guard.version;
                    return Ok(Ref { guard });
                }
            }
            changed(shared, seen).await?;
        }
    }
}

/// Whether `shared` holds a version other than `seen`; `RecvError` if not
/// and the sender is gone.
fn has_changed<T>(shared: &Shared<T>, seen: u64) -> Result<bool, RecvError> {
    // Read the flag first: a send that happened before the drop is then
    // visible in the version read after it.
    let gone = shared.sender_gone.load(Ordering::Acquire);
    let changed = shared.read().version != seen;
    if !changed && gone {
        return Err(RecvError);
    }
    Ok(changed)
}

/// Waits until `shared` holds a version other than `seen`, and records it.
async fn changed<T>(shared: &Shared<T>, seen: &mut u64) -> Result<(), RecvError> {
    loop {
        if has_changed(shared, *seen)? {
            *seen = shared.read().version;
            return Ok(());
        }
        let listener = shared.changed.listen();
        if has_changed(shared, *seen)? {
            *seen = shared.read().version;
            return Ok(());
        }
        listener.await;
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.receivers.fetch_add(1, Ordering::AcqRel);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.no_receivers.notify(usize::MAX);
        }
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender")
            .field("value", &self.shared.read().value)
            .field("receivers", &self.receiver_count())
            .finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("value", &self.shared.read().value)
            .field("seen", &self.seen)
            .finish()
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel has no receiver left")
    }
}

impl<T> std::error::Error for SendError<T> {}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel's sender was dropped")
    }
}

impl std::error::Error for RecvError {}
