//! The synchronization primitives the executor's shared state is built on,
//! from `std` normally and from `loom` under `--cfg loom`, so that the loom
//! models (`tests/loom.rs`) explore every interleaving of the real code.
//!
//! Not here: `Arc`. A task is its own waker through `futures_task::ArcWake`,
//! which needs `std::sync::Arc` (and loom's `Arc` becomes a trait object only
//! by conversion from std's), so the models check the state word, the locks
//! and the cells, not the reference counts.

#[cfg(loom)]
pub(crate) use loom::sync::{atomic, Condvar, Mutex, MutexGuard};
/// The several-worker runtime's worker threads: loom's in the models, so
/// they are explored like any other thread.
#[cfg(loom)]
pub(crate) use loom::thread::{Builder as ThreadBuilder, JoinHandle as ThreadHandle};
#[cfg(not(loom))]
pub(crate) use std::sync::{atomic, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
pub(crate) use std::thread::{Builder as ThreadBuilder, JoinHandle as ThreadHandle};

/// Locks `m`, ignoring poisoning: no user code runs while the executor's own
/// locks are held, so a poisoned lock still guards consistent data.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An `UnsafeCell` whose accesses go through closures, as loom's does: under
/// loom each access is checked against every other access to the same cell,
/// so a read racing a write fails the model.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(data: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(data))
    }

    /// Calls `f` with a pointer the caller may read through, under the
    /// caller's own proof that nobody writes meanwhile.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a pointer the caller may write through, under the
    /// caller's own proof that nobody else accesses the cell meanwhile.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
