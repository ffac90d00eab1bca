//! asyncio's `Event`: a flag tasks can wait for.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ferrio_executor::observe::{tagged, WaitKind};

/// A flag that tasks wait on until another sets it (asyncio's `Event`).
/// Cloning gives another handle to the same flag.
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
        self.inner.waiters.notify(usize::MAX);
    }

    /// Unsets the flag: later waits block until the next `set`.
    pub fn clear(&self) {
        self.inner.flag.store(false, Ordering::Release);
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.inner.flag.load(Ordering::Acquire)
    }

    /// Waits until the flag is set.
    pub async fn wait(&self) {
        loop {
            if self.is_set() {
                return;
            }
            let listener = self.inner.waiters.listen();
            // Set between the check and listening: the notification was missed.
            if self.is_set() {
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
