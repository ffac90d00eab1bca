//! asyncio's `Lock` and `Semaphore` (and a read-write lock), as async-lock's
//! well-kept types behind a thin layer that tells the task dump what a task
//! waits on: a task queued for one of them shows `lock mutex`, `lock rwlock
//! read` or `lock semaphore` in `ferrio::task::dump()`.
//!
//! The guards are async-lock's own. An acquisition first tries async-lock's
//! `try_` form; only one that has to wait goes through the tag.
//!
//! Not here: `BoundedSemaphore` and `Condition` (`bounded_semaphore.rs`,
//! `condition.rs`), which are ferrio's own.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use ferrio_executor::observe::{tagged, WaitKind};

pub use async_lock::{
    MutexGuard, RwLockReadGuard, RwLockWriteGuard, SemaphoreGuard, SemaphoreGuardArc,
};

/// The guard `fast` already got, or else waits for `slow`, tagging the task
/// as waiting on the lock `what` meanwhile: the one shape of every
/// acquisition below. `slow` is only built, not polled, when `fast` won.
async fn acquire<G>(fast: Option<G>, what: &'static str, slow: impl Future<Output = G>) -> G {
    match fast {
        Some(guard) => guard,
        None => tagged(WaitKind::Lock, || what.to_owned(), slow).await,
    }
}

/// A mutual-exclusion lock whose guard may be held across `.await`
/// (asyncio's `Lock`, with the data inside as Rust prefers). A value, not a
/// handle: share it with an `Arc` (see [the sharing rule](crate::sync)).
///
/// ```
/// use std::sync::Arc;
/// use ferrio::sync::Mutex;
/// ferrio::run(async {
///     let total = Arc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let total = total.clone();
///             ferrio::spawn(async move { *total.lock().await += 1 })
///         })
///         .collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
///     assert_eq!(*total.lock().await, 10);
/// });
/// ```
#[derive(Default)]
pub struct Mutex<T: ?Sized> {
    inner: async_lock::Mutex<T>,
}

impl<T> Mutex<T> {
    /// A new, unlocked mutex holding `value` (usable in a `static`).
    pub const fn new(value: T) -> Self {
        Mutex {
            inner: async_lock::Mutex::new(value),
        }
    }

    /// The value, taking the mutex apart.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits until the lock is free, then holds it until the guard drops.
    /// Waiters are served fairly, in about the order they came.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        acquire(self.inner.try_lock(), "mutex", self.inner.lock()).await
    }

    /// The lock if it is free now, without waiting.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.inner.try_lock()
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: fmt::Debug + ?Sized> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A lock that many readers or one writer may hold, across `.await`. A
/// value, not a handle: share it with an `Arc` (see [the sharing
/// rule](crate::sync)).
///
/// ```
/// use ferrio::sync::RwLock;
/// ferrio::run(async {
///     let config = RwLock::new(String::from("v1"));
///     {
///         let (a, b) = (config.read().await, config.read().await);
///         assert_eq!((a.as_str(), b.as_str()), ("v1", "v1"));
///     }
///     config.write().await.push_str(".1");
///     assert_eq!(*config.read().await, "v1.1");
/// });
/// ```
#[derive(Default)]
pub struct RwLock<T: ?Sized> {
    inner: async_lock::RwLock<T>,
}

impl<T> RwLock<T> {
    /// A new, unlocked lock holding `value` (usable in a `static`).
    pub const fn new(value: T) -> Self {
        RwLock {
            inner: async_lock::RwLock::new(value),
        }
    }

    /// The value, taking the lock apart.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits until no writer holds or waits for the lock, then holds it for
    /// reading until the guard drops.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        acquire(self.inner.try_read(), "rwlock read", self.inner.read()).await
    }

    /// Waits until nobody holds the lock, then holds it alone until the guard drops.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        acquire(self.inner.try_write(), "rwlock write", self.inner.write()).await
    }

    /// A read guard if one can be had now.
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.inner.try_read()
    }

    /// A write guard if one can be had now.
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.inner.try_write()
    }

    /// The value, through exclusive access (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: fmt::Debug + ?Sized> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

/// A counter of permits (asyncio's `Semaphore`): `acquire` waits while none
/// is left, and a permit goes back when its guard drops. For a cap that
/// `release` may not exceed, see [`BoundedSemaphore`](crate::sync::BoundedSemaphore).
/// A value, not a handle: share it with an `Arc` (see [the sharing
/// rule](crate::sync)).
///
/// ```
/// use std::sync::Arc;
/// use ferrio::sync::Semaphore;
/// ferrio::run(async {
///     let slots = Arc::new(Semaphore::new(2));
///     let a = slots.acquire().await;
///     let _b = slots.acquire().await;
///     assert!(slots.try_acquire().is_none());
///     drop(a);
///     assert!(slots.try_acquire().is_some());
///     // A guard that owns its semaphore, to move into a task:
///     let owned = slots.acquire_arc().await;
///     ferrio::spawn(async move { drop(owned) }).await.unwrap();
/// });
/// ```
pub struct Semaphore {
    /// In an `Arc` of its own, so that `acquire_arc` can give out
    /// async-lock's owned guard.
    inner: Arc<async_lock::Semaphore>,
}

impl Semaphore {
    /// A semaphore with `permits` permits.
    pub fn new(permits: usize) -> Self {
        Semaphore {
            inner: Arc::new(async_lock::Semaphore::new(permits)),
        }
    }

    /// Waits for a permit; it goes back when the guard drops.
    pub async fn acquire(&self) -> SemaphoreGuard<'_> {
        acquire(self.inner.try_acquire(), "semaphore", self.inner.acquire()).await
    }

    /// Waits for a permit held by a guard that owns the semaphore (`'static`,
    /// so it can move into a spawned task).
    pub async fn acquire_arc(&self) -> SemaphoreGuardArc {
        acquire(
            self.inner.try_acquire_arc(),
            "semaphore",
            self.inner.acquire_arc(),
        )
        .await
    }

    /// A permit if one is free now.
    pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
        self.inner.try_acquire()
    }

    /// Adds `n` permits (asyncio's `release()`, `n` times).
    pub fn add_permits(&self, n: usize) {
        self.inner.add_permits(n);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").finish_non_exhaustive()
    }
}
