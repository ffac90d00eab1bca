//! asyncio's `Event`: a flag tasks can wait for.
//!
//! Not here: the other primitives (`queue.rs`, and async-lock's in `mod.rs`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use ferrio_executor::observe::{tagged, WaitKind};

/// A flag that tasks wait on until another sets it (asyncio's `Event`).
/// A handle: cloning gives another handle to the same flag (see [the
/// sharing rule](crate::sync)).
///
/// As in asyncio, `set()` releases every task waiting at that moment, even
/// if `clear()` follows before they run; a wait that starts after the
/// `clear()` waits for the next `set()`.
///
/// ```
/// use ferrio::sync::Event;
/// ferrio::run(async {
///     let ready = Event::new();
///     let waiter = ferrio::spawn({
///         let ready = ready.clone();
///         async move { ready.wait().await; "woke" }
///     });
///     ready.set();
///     assert_eq!(waiter.await.unwrap(), "woke");
/// });
/// ```
#[derive(Clone, Default)]
pub struct Event {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    flag: AtomicBool,
    /// Bumped by each `set()`: a waiter that saw another value when it began
    /// was released by a `set()`, whatever the flag says by the time it runs.
    sets: AtomicU64,
    waiters: event_listener::Event,
}

impl Event {
    /// A new, unset event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag and wakes every waiter; later waits return at once.
    pub fn set(&self) {
        self.inner.flag.store(true, Ordering::Release);
        self.inner.sets.fetch_add(1, Ordering::AcqRel);
        self.inner.waiters.notify(usize::MAX);
    }

    /// Unsets the flag: later waits block until the next `set`. Tasks that
    /// were waiting at the last `set` are released all the same.
    ///
    /// ```
    /// use ferrio::sync::Event;
    /// ferrio::run(async {
    ///     let event = Event::new();
    ///     let waiter = ferrio::spawn({
    ///         let event = event.clone();
    ///         async move { event.wait().await }
    ///     });
    ///     ferrio::yield_now().await; // the waiter starts waiting
    ///     event.set();
    ///     event.clear();
    ///     waiter.await.unwrap(); // released by the set
    ///     assert!(!event.is_set());
    /// });
    /// ```
    pub fn clear(&self) {
        self.inner.flag.store(false, Ordering::Release);
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.inner.flag.load(Ordering::Acquire)
    }

    /// Waits until the flag is set, or until a `set()` after this wait began.
    pub async fn wait(&self) {
        let began = self.inner.sets.load(Ordering::Acquire);
        let released = || self.is_set() || self.inner.sets.load(Ordering::Acquire) != began;
        loop {
            if released() {
                return;
            }
            let listener = self.inner.waiters.listen();
            // Set between the check and listening: the notification was missed.
            if released() {
                return;
            }
            tagged(WaitKind::Event, || "wait".to_owned(), listener).await;
        }
    }
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}
