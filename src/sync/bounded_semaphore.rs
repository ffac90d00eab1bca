//! asyncio's `BoundedSemaphore`: a semaphore with asyncio's unpaired
//! `acquire()` / `release()`, where releasing more than was acquired is an
//! error instead of a silent extra permit.
//!
//! Not here: the guard-based semaphore, async-lock's
//! [`Semaphore`](crate::sync::Semaphore) (re-exported), whose permits cannot
//! be over-released at all.

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use event_listener::{Event, IntoNotification};

/// A semaphore whose count never goes past its initial value (asyncio's
/// `BoundedSemaphore`). A value, not a handle: share it with an `Arc` (see
/// [the sharing rule](crate::sync)); it works across threads.
///
/// ```
/// use ferrio::sync::{BoundedSemaphore, TooManyReleases};
/// ferrio::run(async {
///     let slots = BoundedSemaphore::new(2);
///     slots.acquire().await;
///     assert_eq!(slots.available(), 1);
///     slots.release().unwrap();
///     assert_eq!(slots.release(), Err(TooManyReleases { limit: 2 }));
/// });
/// ```
pub struct BoundedSemaphore {
    available: Mutex<usize>,
    limit: usize,
    released: Event,
}

/// [`BoundedSemaphore::release`] past the initial value (asyncio's `ValueError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyReleases {
    /// The semaphore's initial value.
    pub limit: usize,
}

impl BoundedSemaphore {
    /// A semaphore with `value` permits, which is also its bound.
    pub fn new(value: usize) -> Self {
        BoundedSemaphore {
            available: Mutex::new(value),
            limit: value,
            released: Event::new(),
        }
    }

    fn count(&self) -> MutexGuard<'_, usize> {
        ferrio_reactor::lock(&self.available)
    }

    /// Takes a permit if one is free.
    pub fn try_acquire(&self) -> bool {
        let mut available = self.count();
        if *available == 0 {
            return false;
        }
        *available -= 1;
        true
    }

    /// Takes a permit, waiting until one is free. Cancel-safe: a dropped
    /// `acquire` took no permit.
    pub async fn acquire(&self) {
        loop {
            if self.try_acquire() {
                return;
            }
            let listener = self.released.listen();
            if self.try_acquire() {
                return;
            }
            listener.await;
        }
    }

    /// Gives a permit back and wakes one waiter.
    ///
    /// # Errors
    ///
    /// [`TooManyReleases`] if every permit is already free: the release is
    /// refused, the count stays at its bound.
    pub fn release(&self) -> Result<(), TooManyReleases> {
        {
            let mut available = self.count();
            if *available >= self.limit {
                log::warn!("BoundedSemaphore released too many times");
                return Err(TooManyReleases { limit: self.limit });
            }
            *available += 1;
        }
        // Additional: two releases wake two waiters even if the first has
        // not run yet.
        self.released.notify(1.additional());
        Ok(())
    }

    /// How many permits are free.
    pub fn available(&self) -> usize {
        *self.count()
    }

    /// Whether `acquire` would wait (asyncio's `locked()`).
    pub fn locked(&self) -> bool {
        self.available() == 0
    }

    /// The bound: the initial number of permits.
    pub fn limit(&self) -> usize {
        self.limit
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available", &self.available())
            .field("limit", &self.limit)
            .finish()
    }
}

impl fmt::Display for TooManyReleases {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released too many times (its bound is {})",
            self.limit
        )
    }
}

impl std::error::Error for TooManyReleases {}
