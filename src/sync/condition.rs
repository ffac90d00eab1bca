//! asyncio's `Condition`: a mutex and a way to wait, with the mutex released,
//! until another task says the guarded state changed.
//!
//! Not here: the mutex itself (async-lock's [`Mutex`], re-exported) or a
//! one-bit flag to wait on ([`crate::sync::Event`]).

use std::fmt;

use async_lock::{Mutex, MutexGuard};
use event_listener::{Event, IntoNotification};

/// A condition variable bound to the data it guards (asyncio's `Condition`).
///
/// [`lock`](Self::lock) the data, check it, and if it is not what you need,
/// [`wait`](Self::wait) with the guard: the lock is released while waiting and
/// held again when `wait` returns. Whoever changes the data calls
/// [`notify`](Self::notify) or [`notify_all`](Self::notify_all) (usually
/// while holding the lock). A task that starts waiting after a notification
/// is not woken by it, as in asyncio; [`wait_for`](Self::wait_for) re-checks a
/// predicate so no wake-up is ever missed. A value, not a handle: share it
/// with an `Arc` (see [the sharing rule](crate::sync)); it works across
/// threads.
///
/// ```
/// use std::sync::Arc;
/// use ferrio::sync::Condition;
/// ferrio::run(async {
///     let stock = Arc::new(Condition::new(0u32));
///     let buyer = ferrio::spawn({
///         let stock = stock.clone();
///         async move {
///             let mut items = stock.wait_for(stock.lock().await, |n| *n >= 2).await;
///             *items -= 2;
///             *items
///         }
///     });
///     for _ in 0..3 {
///         *stock.lock().await += 1;
///         stock.notify_all();
///         ferrio::yield_now().await;
///     }
///     assert_eq!(buyer.await.unwrap(), 0);
///     assert_eq!(*stock.lock().await, 1);
/// });
/// ```
pub struct Condition<T> {
    mutex: Mutex<T>,
    changed: Event,
}

impl<T> Condition<T> {
    /// A condition guarding `value`.
    pub fn new(value: T) -> Self {
        Condition {
            mutex: Mutex::new(value),
            changed: Event::new(),
        }
    }

    /// Locks the guarded data (asyncio's `async with condition`).
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.mutex.lock().await
    }

    /// Locks the guarded data from a thread outside the loop, blocking it
    /// until the lock is free (for a plain thread that changes the data and
    /// notifies). Never call it inside a task: it would block the loop.
    pub fn lock_blocking(&self) -> MutexGuard<'_, T> {
        self.mutex.lock_blocking()
    }

    /// Releases `guard`, waits for a notification, and locks again.
    /// Cancel-safe: if the future is dropped, the lock is released.
    ///
    /// # Panics
    ///
    /// If `guard` is not a guard of this condition's lock.
    pub async fn wait<'a>(&'a self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        assert!(
            std::ptr::eq(MutexGuard::source(&guard), &self.mutex),
            "Condition::wait was given the guard of another lock"
        );
        // Listen before unlocking: a notify between the two is not lost.
        let listener = self.changed.listen();
        drop(guard);
        listener.await;
        self.mutex.lock().await
    }

    /// Waits (as [`wait`](Self::wait) does) until `predicate` holds for the
    /// guarded data, and returns the guard (asyncio's `wait_for`). Checks it
    /// first: returns at once if it already holds.
    ///
    /// # Panics
    ///
    /// If `guard` is not a guard of this condition's lock.
    pub async fn wait_for<'a, P>(
        &'a self,
        mut guard: MutexGuard<'a, T>,
        mut predicate: P,
    ) -> MutexGuard<'a, T>
    where
        P: FnMut(&mut T) -> bool,
    {
        while !predicate(&mut guard) {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` tasks waiting in [`wait`](Self::wait).
    pub fn notify(&self, n: usize) {
        // Additional, as asyncio's: n more waiters, whoever was woken before.
        self.changed.notify(n.additional());
    }

    /// Wakes every task waiting in [`wait`](Self::wait).
    pub fn notify_all(&self) {
        self.changed.notify(usize::MAX);
    }
}

impl<T: Default> Default for Condition<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for Condition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("mutex", &self.mutex)
            .finish_non_exhaustive()
    }
}
